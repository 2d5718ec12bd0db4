//! Privacy (F15, protocol.md 12.9; threat row T28) through pcscd against virtual cards running
//! the real applet: switching needs the PIN and an empty passbook; a private card's counterparties
//! see a per-transfer signature, never its account; its passbook is not handed to the bank (the
//! ledger gets nothing) and it earns no interest; value is conserved. One desk, cases in order.
use purse_testkit as kit;

use kit::*;
use purse::flows::admin::AdminOp;
use purse::flows::privacy::{is_private, is_private_sig};
use purse::proto::consts::{EntryType, SecretRef};
use purse::proto::rate::parse_rate;

#[test]
fn privacy() {
    let mut bank = Bank::standard(2, 30);
    issue_admin(&mut bank, "admin", "ADMIN-1");
    run_cases(
        &mut bank,
        &[
            (
                "set_privacy_needs_empty_passbook",
                set_privacy_needs_empty_passbook,
            ),
            ("private_sends_sig", private_sends_sig),
            (
                "private_no_interest_passbook_not_handed_over",
                private_no_interest,
            ),
            ("privacy_off_again", privacy_off_again),
            ("issued_private_from_the_cli", issued_private),
        ],
    );
}

fn privacy_cli(b: &Bank, who: &str, mode: &str) -> kit::Run {
    let r = b.reader(who);
    let out = b
        .desk
        .cmd()
        .env("PURSE_PIN", "1234")
        .args(["--json", "privacy", mode, "-r", &r])
        .output()
        .expect("run purse");
    kit::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn set_privacy_needs_empty_passbook(b: &mut Bank) {
    assert!(b.status("alice").passbook_count > 0);
    // CLI: refused before the card is asked, with the advice
    let r = privacy_cli(b, "alice", "on");
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("sync the card with its bank first"),
        "{}",
        r.stderr
    );
    // card: PIN needed, then 6985 with a non-empty passbook
    {
        let mut c = b.open("alice");
        let e = c.set_privacy(true).unwrap_err();
        assert_eq!(sw(&e), Some(0x9D13), "{e}");
        c.verify(SecretRef::Pin, PIN).unwrap();
        let e = c.set_privacy(true).unwrap_err();
        assert_eq!(sw(&e), Some(0x6985), "{e}");
    }
    // a bank card cannot be private
    {
        let mut k = b.open("branch");
        k.verify(SecretRef::Pin, PIN).unwrap();
        let e = k.set_privacy(true).unwrap_err();
        assert_eq!(sw(&e), Some(0x9D12), "{e}");
    }
    // after a sync the passbook is empty: allowed
    let s = sync_ok(b, "branch", "alice", DATE);
    assert!(s.cleared, "{s:?}");
    assert_eq!(b.status("alice").passbook_count, 0);
    let r = privacy_cli(b, "alice", "on");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["private"], true);
    let st = b.status("alice");
    assert!(is_private(&st));
    let r = b.desk.purse(&["status", "-r", &b.reader("alice")]);
    assert!(r.stdout.contains("(private"), "{}", r.stdout);
    b.assert_conserved("after switching");
}

fn private_sends_sig(b: &mut Bank) {
    let alice = b.status("alice").account;
    let bob = b.status("bob").account;
    b.pay_ok("alice", "bob", 300);
    b.pay_ok("alice", "bob", 400);
    b.pay_ok("bob", "alice", 200);
    // bob's passbook: the private payer/payee is a signature (F nibble), different every time
    let bob_pb = {
        let mut c = b.open("bob");
        c.verify(SecretRef::Pin, PIN).unwrap();
        let n = c.get_status().unwrap().passbook_count;
        c.read_passbook_all(n).unwrap()
    };
    let last3 = &bob_pb[bob_pb.len() - 3..];
    assert_eq!(
        last3.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![EntryType::Credit, EntryType::Credit, EntryType::Debit]
    );
    for e in last3 {
        assert!(is_private_sig(&e.account), "bob sees {}", e.account);
        assert_ne!(e.account, alice);
        assert_eq!(e.name, "ALICE", "the public name still shows");
    }
    assert_ne!(
        last3[0].account, last3[1].account,
        "a new pseudonym per transfer"
    );
    assert_ne!(last3[1].account, last3[2].account);
    // alice's own passbook shows bob's real account
    let mut c = b.open("alice");
    c.verify(SecretRef::Pin, PIN).unwrap();
    let apb = c.read_passbook_all(3).unwrap();
    assert!(apb.iter().all(|e| e.account == bob), "{apb:?}");
    drop(c);
    // `purse passbook` on bob shows "private", never alice's account
    let r = b
        .desk
        .cmd()
        .env("PURSE_PIN", "1234")
        .args(["passbook", "-r", &b.reader("bob")])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success(), "{out}");
    assert_eq!(out.matches("private ").count(), 3, "{out}");
    assert!(!out.contains(&alice.to_string()), "{out}");
    let r = b
        .desk
        .cmd()
        .env("PURSE_PIN", "1234")
        .args(["--json", "passbook", "-r", &b.reader("bob")])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let privates = j["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["account"] == "private" && e["signature"].as_str().is_some_and(|s| s.starts_with('F'))
        })
        .count();
    assert_eq!(privates, 3, "{j}");
    b.assert_conserved("after private payments");
}

fn private_no_interest(b: &mut Bank) {
    let rate = parse_rate("36.5").unwrap(); // 0.1 %/day: visible interest
    admin_op(b, "admin", "branch", AdminOp::SetRate { rate }).unwrap();
    let alice = b.status("alice").account;
    let stored_before = ledger_entries(b, &alice);
    let a0 = b.status("alice");
    let b0 = b.status("bob");
    assert!(a0.passbook_count > 0);
    let date = b.status("center").key_date + 30;
    let s = epoch_down(b, date, None, &["alice", "bob"]);
    let (sa, sb) = (&s[2], &s[3]);
    // alice: no interest, date advanced, passbook wiped, nothing handed to the ledger
    assert_eq!(sa.interest, 0, "{sa:?}");
    let a1 = b.status("alice");
    assert_eq!(a1.balance, a0.balance);
    assert_eq!(a1.interest_date, date);
    assert_eq!(a1.passbook_count, 0, "wiped, not handed over");
    assert_eq!(
        ledger_entries(b, &alice),
        stored_before,
        "no entry of alice stored"
    );
    // bob (public): interest at the branch's rate, passbook collected
    let days = (date - b0.interest_date) as u32;
    assert_eq!(sb.interest, expected_interest(b0.balance, rate, days));
    assert!(sb.interest > 0);
    assert!(sb.cleared && fed(sb) > 0, "{sb:?}");
    assert!(ledger_entries(b, &b0.account) >= fed(sb));
    b.assert_conserved("after the epoch");
}

fn privacy_off_again(b: &mut Bank) {
    let r = privacy_cli(b, "alice", "off");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["private"], false);
    let alice = b.status("alice").account;
    b.pay_ok("alice", "bob", 100);
    let mut c = b.open("bob");
    c.verify(SecretRef::Pin, PIN).unwrap();
    let n = c.get_status().unwrap().passbook_count;
    let pb = c.read_passbook_all(n).unwrap();
    assert_eq!(
        pb.last().unwrap().account,
        alice,
        "public again: the account shows"
    );
    drop(c);
    b.assert_conserved("end");
}

fn issued_private(b: &mut Bank) {
    b.blank("carol");
    ensure_pair(b, "center", "carol");
    let (rc, rn) = (b.reader("center"), b.reader("carol"));
    let out = b
        .desk
        .cmd()
        .env("PURSE_PIN", "1234")
        .env(
            "PURSE_APPROVAL_SECRET",
            std::str::from_utf8(APPROVAL).unwrap(),
        )
        .env("PURSE_NEW_PIN", "1234")
        .env("PURSE_NEW_TXKEY", "")
        .args([
            "--json",
            "issue",
            "--issuer",
            &rc,
            "--card",
            &rn,
            "--role",
            "user",
            "--name",
            "CAROL",
            "--dev",
            "--private",
            "--min",
            "5.00",
            "--date",
            "2026-01-04",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    b.system.push("carol".into());
    assert!(is_private(&b.status("carol")));
    // only user cards can be private
    let out = b
        .desk
        .cmd()
        .args([
            "issue",
            "--issuer",
            &rc,
            "--card",
            &rn,
            "--role",
            "branch",
            "--name",
            "X",
            "--dev",
            "--private",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("only user cards can be private"));
    // the branch pays carol: the branch's passbook records a signature
    let carol = b.status("carol").account;
    b.pay_ok("branch", "carol", 1000);
    let mut k = b.open("branch");
    k.verify(SecretRef::Pin, PIN).unwrap();
    let n = k.get_status().unwrap().passbook_count;
    let last = k.read_passbook(n - 1, 1).unwrap().remove(0);
    assert!(
        is_private_sig(&last.account) && last.account != carol,
        "{last:?}"
    );
    drop(k);
    b.assert_conserved("issued private");
}
