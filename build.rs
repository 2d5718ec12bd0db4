//! Build script: the git revision for `purse --version` (env PURSE_GIT_REV). From a tarball
//! without `.git` (or without git installed) it is `unknown`; packagers may set PURSE_GIT_REV.
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let o = Command::new("git").args(args).output().ok()?;
    if !o.status.success() {
        return None;
    }
    let s = String::from_utf8(o.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-env-changed=PURSE_GIT_REV");
    let rev = match std::env::var("PURSE_GIT_REV") {
        Ok(v) if !v.is_empty() => v,
        _ => match git(&["rev-parse", "--short=12", "HEAD"]) {
            Some(r) => {
                // rebuild when HEAD moves (a worktree's HEAD and the branch ref it names)
                if let Some(d) = git(&["rev-parse", "--git-dir"]) {
                    println!("cargo:rerun-if-changed={d}/HEAD");
                }
                if let (Some(c), Some(name)) = (
                    git(&["rev-parse", "--git-common-dir"]),
                    git(&["symbolic-ref", "-q", "HEAD"]),
                ) {
                    println!("cargo:rerun-if-changed={c}/{name}");
                    println!("cargo:rerun-if-changed={c}/packed-refs");
                }
                let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some();
                if dirty {
                    format!("{r}-dirty")
                } else {
                    r
                }
            }
            None => "unknown".to_string(),
        },
    };
    println!("cargo:rustc-env=PURSE_GIT_REV={rev}");
}
