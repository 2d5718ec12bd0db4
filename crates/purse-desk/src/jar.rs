//! Finding the desk jar and the JVM that runs it.
use std::path::PathBuf;
use std::process::Command;

use purse_card::error::{Error, Result};

/// Where the desk jar is looked for, in order: `$PURSE_DESK_JAR`, the build tree this binary was
/// compiled from (`applet/build/purse-desk.jar`), then next to the executable.
pub fn jar_candidates() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(p) = std::env::var_os("PURSE_DESK_JAR") {
        v.push(PathBuf::from(p));
        return v;
    }
    // this crate is crates/purse-desk in the source tree
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = root.parent().and_then(|p| p.parent()).unwrap_or(root);
    v.push(root.join("applet/build/purse-desk.jar"));
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            v.push(dir.join("purse-desk.jar"));
        }
    }
    v
}

pub fn find_jar() -> Result<PathBuf> {
    let c = jar_candidates();
    c.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        Error::JarMissing(
            c.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        )
    })
}

/// The `java` to run: `$PURSE_JAVA`, else `$JAVA_HOME/bin/java`, else `java` from PATH.
pub fn java_program() -> PathBuf {
    if let Some(p) = std::env::var_os("PURSE_JAVA") {
        return PathBuf::from(p);
    }
    if let Some(h) = std::env::var_os("JAVA_HOME") {
        let p = PathBuf::from(h).join("bin/java");
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from("java")
}

/// JVM options for virtual cards: small, quick to start (insert must take < 1 s).
/// Overridable with `$PURSE_JAVA_OPTS` (whitespace separated).
pub fn java_opts() -> Vec<String> {
    match std::env::var("PURSE_JAVA_OPTS") {
        Ok(s) => s.split_whitespace().map(String::from).collect(),
        Err(_) => [
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Xshare:auto",
            "-Xss1m",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    }
}

/// `java OPTS -jar JAR` ready for the desk subcommand's arguments.
pub fn java_jar() -> Result<Command> {
    let jar = find_jar()?;
    let mut c = Command::new(java_program());
    c.args(java_opts()).arg("-jar").arg(jar);
    Ok(c)
}
