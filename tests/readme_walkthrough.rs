//! The README's walkthrough (the fenced block marked `sh walkthrough`) runs as written, through
//! pcscd on a fresh default desk in a fresh HOME: a new user following the README gets from a
//! blank desk to a user-to-user payment, a passbook and a sync.
use purse_testkit as kit;

use std::path::Path;
use std::process::Command;

/// The commands of the README block whose info string is `sh walkthrough`.
fn walkthrough() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme
        .find("```sh walkthrough\n")
        .expect("README.md has a ```sh walkthrough block");
    let body = &readme[start + "```sh walkthrough\n".len()..];
    let end = body.find("\n```").expect("walkthrough block closed");
    body[..end].to_string()
}

#[test]
fn readme_walkthrough_runs_from_blank_desk_to_payment_passbook_and_sync() {
    kit::require_jar();
    let script = walkthrough();
    for cmd in [
        "purse genesis",
        "purse issue",
        "purse transfer",
        "purse passbook",
        "purse sync",
    ] {
        assert!(script.contains(cmd), "the walkthrough lacks {cmd}");
    }
    let home = tempfile::Builder::new()
        .prefix("purse-readme-")
        .tempdir()
        .unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_purse"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.arg("-euo")
        .arg("pipefail")
        .arg("-c")
        .arg(&script)
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("PATH", &path);
    for (k, _) in std::env::vars() {
        if k.starts_with("PURSE_") && k != "PURSE_DESK_JAR" && k != "PURSE_JAVA"
            || k == "PCSCLITE_CSOCK_NAME"
        {
            cmd.env_remove(k);
        }
    }
    let out = cmd.output().expect("run bash");
    let so = String::from_utf8_lossy(&out.stdout).into_owned();
    let se = String::from_utf8_lossy(&out.stderr).into_owned();
    // whatever happened, stop the walkthrough's desk
    let _ = Command::new(env!("CARGO_BIN_EXE_purse"))
        .env("HOME", home.path())
        .env_remove("PURSE_DESK")
        .args(["desk", "stop"])
        .output();
    assert!(
        out.status.success(),
        "the README walkthrough failed:\n{so}\n{se}"
    );
    for want in [
        "center \"CENTER\" 1000000000000008",
        "user \"bob\" 1000000000000040",
        "transferred 12.50 EUR from alice (1000000000000032) to bob (1000000000000040)",
        "balances: alice 37.50 EUR, bob 12.50 EUR",
        "passbook of alice (1000000000000032), 2/50 entries",
        "synced alice (1000000000000032) with BRANCH (1000000000000024)",
        "cleared on the card",
        "2 entries (amounts in EUR)",
        "desk stopped",
    ] {
        assert!(
            so.contains(want),
            "walkthrough output lacks {want:?}:\n{so}\n{se}"
        );
    }
    assert!(
        home.path().join(".purse/ledger.sqlite").is_file(),
        "the sync stored the passbook in the default ledger"
    );
}
