//! The purse process killed (SIGKILL) at every APDU of a private payer's transfer and of a sync,
//! then `purse resume` through the CLI (protocol.md 6.4, 12.11; docs/ledger.md "A host crash
//! after the clear"). The desk cards keep their state on disk, as real cards keep theirs in
//! EEPROM. After every kill and resume: value conserved, nothing left pending (the payee accepts
//! payments and syncs again), the ledger's flags clean and `purse ledger --account` one passbook
//! per epoch (indexes 0, 1, 2, … once each).
//!
//! The kill point is the k-th APDU the CLI's `-d` trace announces (`>>`): the process dies with
//! that command just handed to pcscd, so the card has processed k − 1 or k of its commands.
//! The sync's kill points run on both ledger engines (SQLite, then PostgreSQL: tests/pgtest).
use purse_testkit as kit;
mod pgtest;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use kit::*;
use purse::flows::privacy;
use purse::proto::consts::{Role, SlotState};

const AMOUNT: &str = "6.00"; // above MIN_TRANS (5.00): the payer's PIN is part of the flow

#[test]
fn kill_resume() {
    let mut bank = Bank::standard(2, 0);
    bank.issue("pat", Role::User, "PAT", &CardOpts::default());
    {
        let mut c = bank.open("pat");
        privacy::set_privacy(&mut c, PIN, true).expect("pat private");
    }
    bank.pay_ok("branch", "pat", 40_000);
    run_cases(
        &mut bank,
        &[
            (
                "kill_private_payer_every_apdu",
                kill_private_payer_every_apdu,
            ),
            ("kill_sync_every_apdu", kill_sync_every_apdu),
            ("postgres: kill_sync_every_apdu", |b| {
                pgtest::on_postgres(b, kit::use_ledger, kill_sync_every_apdu)
            }),
        ],
    );
}

/// The desk's SQLite file, or the PostgreSQL database a case moved the ledger to.
fn ledger_path(b: &Bank) -> String {
    kit::ledger_location(b)
}

/// `purse` with the secrets and the ledger of this desk in the environment.
fn cmd(b: &Bank) -> std::process::Command {
    let mut c = b.desk.cmd();
    c.env("PURSE_PIN", "1234")
        .env("PURSE_BANK_PIN", "1234")
        .env("PURSE_TXKEY", "tx-key-1")
        .env("PURSE_LEDGER", ledger_path(b));
    c
}

/// Run `purse -d ARGS` and SIGKILL it when its trace announces APDU number `k` (1-based).
/// Returns false if the command ended by itself first (k is past its last APDU).
fn run_killed(b: &Bank, args: &[&str], k: usize) -> bool {
    let mut child = cmd(b)
        .arg("-d")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn purse");
    let err = child.stderr.take().expect("stderr");
    let mut seen = 0;
    let mut killed = false;
    for line in BufReader::new(err).lines() {
        let Ok(line) = line else { break };
        if line.contains(">> ") {
            seen += 1;
            if seen == k {
                child.kill().expect("SIGKILL purse");
                killed = true;
                break;
            }
        }
    }
    let st = child.wait().expect("wait purse");
    if !killed {
        assert!(st.success(), "{args:?} (not killed, k = {k}) failed: {st}");
    }
    killed
}

/// A CLI run that retries while pcscd still holds the killed process's connection.
fn cli_retry(b: &Bank, args: &[&str]) -> kit::Run {
    let mut last = None;
    for _ in 0..40 {
        let o = cmd(b).args(args).output().expect("run purse");
        let r = kit::Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        };
        if r.code != 3 {
            return r;
        }
        last = Some(r);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    last.expect("a run")
}

/// `purse resume R1 R2 --json`: must finish everything.
fn resume_cli(b: &Bank, x: &str, y: &str, ctx: &str) -> serde_json::Value {
    let (rx, ry) = (b.reader(x), b.reader(y));
    let r = cli_retry(b, &["--json", "resume", &rx, &ry]);
    assert_eq!(r.code, 0, "{ctx}: resume failed:\n{}{}", r.stdout, r.stderr);
    let v = r.json();
    assert_eq!(v["finished"], true, "{ctx}: {v}");
    v
}

/// Flags clean and `ledger --account ACC`: per epoch, indexes 0..n exactly once.
fn assert_ledger_clean(b: &Bank, card: &str, ctx: &str) {
    let r = cli_retry(b, &["--json", "ledger", "flags"]);
    assert_eq!(r.code, 0, "{ctx}: ledger flags: {}", r.stderr);
    let f = r.json();
    assert_eq!(f["count"], 0, "{ctx}: ledger flags: {f}");
    let acc = b.status(card).account.to_string();
    let r = cli_retry(b, &["--json", "ledger", "--account", &acc]);
    assert_eq!(r.code, 0, "{ctx}: ledger --account: {}", r.stderr);
    let v = r.json();
    let mut epochs: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for e in v["entries"].as_array().expect("entries") {
        epochs
            .entry(e["passbook_epoch"].as_i64().expect("epoch"))
            .or_default()
            .push(e["index"].as_i64().expect("index"));
    }
    for (ep, idx) in &epochs {
        let want: Vec<i64> = (0..idx.len() as i64).collect();
        assert_eq!(
            idx, &want,
            "{ctx}: {card}'s passbook epoch {ep} is not one passbook (indexes {idx:?})"
        );
    }
}

/// Sweeps of the private payer's kill points run until one has left the payee expecting an
/// undebited payer (at most this many). That state lasts one card command (between the payee's
/// and the payer's commit), and which side of a command a SIGKILL lands on is a race with pcscd
/// (the card has processed k − 1 or k commands), so one sweep can miss it on a loaded machine.
const PAYER_SWEEPS: usize = 4;

fn kill_private_payer_every_apdu(b: &mut Bank) {
    let mut defect_state = 0;
    let mut sweeps = 0;
    let mut points = 0;
    while defect_state == 0 && sweeps < PAYER_SWEEPS {
        let (p, d) = sweep_private_payer(b);
        points = p;
        defect_state += d;
        sweeps += 1;
    }
    eprintln!(
        "  private payer: {points} kill points per sweep, {sweeps} sweep(s), {defect_state} left the payee expecting an undebited payer"
    );
    assert!(points > 8, "the transfer took only {points} APDUs?");
    assert!(
        defect_state > 0,
        "in {sweeps} sweeps no kill point reached the expecting-payee state"
    );
    // the payee takes payments again (from the private payer and from another card)
    b.pay_ok("pat", "bob", 100);
    b.assert_conserved("after the kills, a payment");
}

/// One sweep: the transfer killed at APDU 1, 2, … until it ends by itself; each kill resumed
/// and checked. Returns the number of kill points and how many left the expecting-payee state.
fn sweep_private_payer(b: &mut Bank) -> (usize, usize) {
    let (rp, rb) = (b.reader("pat"), b.reader("bob"));
    let mut defect_state = 0;
    let mut k = 1;
    loop {
        let ctx = format!("pat -> bob killed at APDU {k}");
        let killed = run_killed(
            b,
            &["transfer", "--from", &rp, "--to", &rb, AMOUNT, "--yes"],
            k,
        );
        let (pp, bp) = (b.pending("pat"), b.pending("bob"));
        // the state of issue 7 section 4: payee expects, the private payer never debited
        if bp.r#in.state == SlotState::Transfer && pp.out.state == SlotState::None {
            defect_state += 1;
        }
        b.assert_conserved(&format!("{ctx}, before resume"));
        let v = resume_cli(b, "pat", "bob", &ctx);
        // a second resume finds nothing: each action was taken exactly once
        let again = resume_cli(b, "pat", "bob", &ctx);
        assert!(
            again["report"]["actions"]
                .as_array()
                .is_some_and(|a| a.is_empty()),
            "{ctx}: second resume acted again: {again} (first: {v})"
        );
        b.assert_conserved(&format!("{ctx}, after resume"));
        b.assert_clear(&["pat", "bob"], &ctx);
        if !killed {
            break;
        }
        k += 1;
    }
    (k, defect_state)
}

fn kill_sync_every_apdu(b: &mut Bank) {
    let date = b.status("branch").key_date;
    let ds = purse::proto::types::format_date(date);
    let mut cleared_unconfirmed = 0;
    let mut closed_by_resume = 0;
    let mut k = 1;
    loop {
        let ctx = format!("sync branch -> bob killed at APDU {k}");
        // the same passbook size every time (the APDU count depends on it): a cleared
        // passbook, then two entries to collect
        if b.status("bob").passbook_count > 0 {
            kit::sync_ok(b, "branch", "bob", date);
            assert_ledger_clean(b, "bob", &format!("{ctx}: sync before"));
        }
        b.pay_ok("branch", "bob", 100);
        b.pay_ok("branch", "bob", 100);
        let (rk, rb) = (b.reader("branch"), b.reader("bob"));
        let before = b.status("bob").passbook_count;
        let killed = run_killed(b, &["sync", "--bank", &rk, "--card", &rb, "--date", &ds], k);
        let after = b.status("bob").passbook_count;
        if killed && after < before {
            cleared_unconfirmed += 1;
        }
        kit::assert_conserved_sync(b, &["branch", "bob"], &format!("{ctx}, before resume"));
        let v = resume_cli(b, "branch", "bob", &ctx);
        closed_by_resume += v["report"]["actions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|x| x["action"] == "ledger_epoch_closed")
                    .count()
            })
            .unwrap_or(0);
        kit::assert_conserved_sync(b, &["branch", "bob"], &format!("{ctx}, after resume"));
        b.assert_clear(&["branch", "bob"], &ctx);
        assert_ledger_clean(b, "bob", &ctx);
        if !killed {
            break;
        }
        k += 1;
    }
    eprintln!("  sync: {k} kill points, {cleared_unconfirmed} after the card cleared its passbook, {closed_by_resume} ledger epochs closed by resume");
    assert!(closed_by_resume > 0, "resume never closed a ledger epoch");
    assert!(k > 8, "the sync took only {k} APDUs?");
    assert!(
        cleared_unconfirmed > 0,
        "no kill point came after the card's clear"
    );
    // a last complete sync collects the passbooks written since, in their own epoch
    b.pay_ok("branch", "bob", 100);
    let (rk, rb) = (b.reader("branch"), b.reader("bob"));
    let r = cli_retry(b, &["sync", "--bank", &rk, "--card", &rb, "--date", &ds]);
    assert_eq!(r.code, 0, "final sync: {}{}", r.stdout, r.stderr);
    assert_ledger_clean(b, "bob", "after the final sync");
    kit::assert_conserved_sync(b, &["branch", "bob"], "after the final sync");
}
