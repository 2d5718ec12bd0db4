//! Key epochs (protocol.md 12.3, F6): `purse center advance` needs the approval secret, dates
//! only move forward, the key number increments and the rate is set; and the CLI end to end:
//! `purse center advance` then `purse sync --json` with a ledger file, `purse ledger`.
use purse_testkit as kit;

use kit::*;
use purse::flows::epoch::{advance as advance_flow, AdvanceError};
use purse::proto::consts::SecretRef;

#[test]
fn epochs() {
    let mut bank = Bank::standard(8, 0);
    run_cases(
        &mut bank,
        &[
            ("advance_needs_approval", advance_needs_approval),
            ("date_only_forward", date_only_forward),
            ("advance_sets_key_date_rate", advance_sets_key_date_rate),
            ("cli_center_advance_and_sync", cli_center_advance_and_sync),
        ],
    );
}

fn advance_needs_approval(b: &mut Bank) {
    let st = b.status("center");
    let mut c = b.open("center");
    // no approval verified: 9D15
    let e = c
        .center_advance(st.key_date + 1, None)
        .expect_err("advanced without approval");
    assert_eq!(sw(&e), Some(0x9D15), "{e}");
    // wrong approval: a try is used, nothing changes
    let e =
        advance_flow(&mut c, b"wrong-secret", st.key_date + 1, None).expect_err("wrong approval");
    match e {
        AdvanceError::Card(ce) => {
            assert!(matches!(sw(&ce), Some(x) if x & 0xFFF0 == 0x63C0), "{ce}")
        }
        other => panic!("{other}"),
    }
    c.verify(SecretRef::Approval, APPROVAL).unwrap(); // resets the try counter
    drop(c);
    assert_eq!(b.status("center").current_key, st.current_key);
    // approval is reset after each advance: a second advance needs it again
    let mut c = b.open("center");
    c.verify(SecretRef::Approval, APPROVAL).unwrap();
    c.center_advance(st.key_date + 1, None).expect("advance");
    let e = c
        .center_advance(st.key_date + 2, None)
        .expect_err("approval not reset");
    assert_eq!(sw(&e), Some(0x9D15), "{e}");
}

fn date_only_forward(b: &mut Bank) {
    let st = b.status("center");
    let mut c = b.open("center");
    // the host refuses first (precheck)...
    let e = advance_flow(&mut c, APPROVAL, st.key_date, None).expect_err("same date");
    assert!(matches!(e, AdvanceError::Precheck(_)), "{e}");
    assert!(e.to_string().contains("forward"), "{e}");
    // ...and the card too: same date and earlier date are 9D22, nothing changes
    for d in [st.key_date, st.key_date - 1] {
        c.verify(SecretRef::Approval, APPROVAL).unwrap();
        let e = c.center_advance(d, None).expect_err("date backwards");
        assert_eq!(sw(&e), Some(0x9D22), "{e}");
        assert!(e.to_string().contains("forward"), "{e}");
    }
    drop(c);
    let st2 = b.status("center");
    assert_eq!(
        (st2.current_key, st2.key_date),
        (st.current_key, st.key_date)
    );
}

fn advance_sets_key_date_rate(b: &mut Bank) {
    let st = b.status("center");
    let r = advance(b, st.key_date + 10, Some(RATE));
    assert_eq!(r.key_after, st.current_key.wrapping_add(1));
    assert_eq!(r.date_after, st.key_date + 10);
    assert_eq!(r.rate_after, Some(RATE));
    let st2 = b.status("center");
    assert_eq!((st2.current_key, st2.key_date), (r.key_after, r.date_after));
    // no rate given: unchanged
    let r = advance(b, st.key_date + 11, None);
    assert_eq!(r.rate_after, Some(RATE));
    assert!(!r.rate_set);
    // value untouched by epochs
    assert_eq!(b.status("center").balance, st.balance);
}

fn cli_center_advance_and_sync(b: &mut Bank) {
    let st = b.status("center");
    let date = purse::proto::types::format_date(st.key_date + 30);
    let readers = b.ensure(&["center", "region"]);
    let ledger_file = b.desk.path().join("cli-ledger.sqlite");
    // center advance through the CLI (approval from the environment), rate as an annual %
    let out = b
        .desk
        .cmd()
        .env(
            "PURSE_APPROVAL_SECRET",
            std::str::from_utf8(APPROVAL).unwrap(),
        )
        .args([
            "--json",
            "-r",
            &readers[0],
            "center",
            "advance",
            "--date",
            &date,
            "--rate",
            "3.65",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["key_after"], st.current_key.wrapping_add(1) as u64);
    assert_eq!(v["rate_after"], RATE as u64);
    // sync through the CLI
    let rs = b.status("region");
    let out = b
        .desk
        .cmd()
        .env("PURSE_BANK_PIN", std::str::from_utf8(PIN).unwrap())
        .env("PURSE_PIN", std::str::from_utf8(PIN).unwrap())
        .args([
            "--json",
            "sync",
            "--bank",
            &readers[0],
            "--card",
            &readers[1],
            "--ledger",
        ])
        .arg(&ledger_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let days = (st.key_date + 30 - rs.interest_date) as u32;
    let want = purse::proto::sync::interest(rs.balance, RATE, days).unwrap();
    assert_eq!(v["interest_minor"], want as u64, "{v}");
    // every epoch the region missed (the cases above advanced too), in one P6
    assert_eq!(
        v["keys_received"],
        st.current_key.wrapping_add(1).wrapping_sub(rs.current_key) as u64
    );
    assert_eq!(v["cleared"], true);
    assert!(v["apdus"].as_u64().unwrap() <= 29 + 8, "{v}");
    // human output + the ledger through the CLI
    let l = b.desk.ok(&[
        "--json",
        "ledger",
        "--ledger",
        ledger_file.to_str().unwrap(),
    ]);
    let entries: serde_json::Value = serde_json::from_str(&l).unwrap();
    let n = entries
        .as_array()
        .map(|a| a.len())
        .or_else(|| entries["entries"].as_array().map(|a| a.len()))
        .unwrap_or(0);
    assert_eq!(
        n as u64,
        v["passbook_entries"].as_u64().unwrap(),
        "{entries}"
    );
    // engine-side counters of the sync (figures)
    let info = b.desk.ok(&["desk", "info", "region"]);
    eprintln!(
        "  region after sync: {}",
        info.trim().chars().take(400).collect::<String>()
    );
}
