//! `purse demo` runs to completion on a fresh desk (issue 4 item 7), and `--keep` leaves the
//! desk with its ledger.
use purse_testkit as kit;

use std::process::Command;

#[test]
fn demo_runs_to_completion() {
    kit::require_jar();
    // beside another running desk, on ports we choose (`--port`)
    let _other = kit::TestDesk::start(2);
    let port = kit::free_ports(2);
    let dir = tempfile::Builder::new()
        .prefix("purse-demo-test-")
        .tempdir()
        .unwrap();
    let desk = dir.path().join("desk");
    let out = Command::new(env!("CARGO_BIN_EXE_purse"))
        .env_remove("PCSCLITE_CSOCK_NAME")
        .env_remove("PURSE_DESK")
        .arg("--desk")
        .arg(&desk)
        .args(["demo", "--keep", "--port", &port.to_string()])
        .output()
        .expect("run purse demo");
    let so = String::from_utf8_lossy(&out.stdout);
    let se = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "purse demo failed:\n{so}\n{se}");
    assert!(
        so.contains(&format!("(vpcd ports {port}..{})", port + 1)),
        "demo desk not on --port {port}:\n{so}"
    );
    for want in [
        "Genesis",
        "Mint",
        "down the pyramid",
        "alice pays bob",
        "new key epoch",
        "Syncs down the hierarchy",
        "interest:",
        "new key",
        "passbook",
        "ledger",
        "demo done",
    ] {
        assert!(so.contains(want), "demo output lacks {want:?}:\n{so}");
    }
    // every user sync paid interest and cleared the passbook
    assert!(so.contains("cleared on the card"), "{so}");
    assert!(!so.contains("NOT cleared"), "{so}");
    assert!(
        desk.join("ledger.sqlite").is_file(),
        "--keep left no ledger"
    );
    // the kept desk is stopped
    let st = Command::new(env!("CARGO_BIN_EXE_purse"))
        .env_remove("PCSCLITE_CSOCK_NAME")
        .arg("--desk")
        .arg(&desk)
        .args(["--json", "desk", "status"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(v["running"], false);
    // a non-empty directory is refused
    let again = Command::new(env!("CARGO_BIN_EXE_purse"))
        .env_remove("PCSCLITE_CSOCK_NAME")
        .arg("--desk")
        .arg(&desk)
        .arg("demo")
        .output()
        .unwrap();
    assert!(!again.status.success());
}
