//! The user-card applet (purse-user.cap on a real card, `purse desk new --applet purse-user` on
//! the desk: the same AIDs, the bank-only classes stubbed) next to full-applet bank cards,
//! through pcscd and the real applets: user cards are issued by the center, get paid by a
//! branch, pay each other and sync with the branch; a blank user-applet card refuses genesis and
//! issuance as a bank role (6A81, exit 4, a message that names the two CAPs), stays blank, and
//! is then issued as a user.
use purse_testkit as kit;

use kit::sync::sync_ok;
use kit::*;
use purse::proto::consts::{Life, Role};
use serde_json::Value;

/// The center's secrets and the new card's, for the CLI (README "Secrets").
fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("PURSE_PIN", "1234"),
        ("PURSE_TXKEY", "tx-key-1"),
        ("PURSE_CREATION_SECRET", "create-money"),
        ("PURSE_APPROVAL_SECRET", "approve-it"),
        ("PURSE_NEW_PIN", "5678"),
        ("PURSE_NEW_TXKEY", ""),
    ]
}

fn cli_issue(b: &mut Bank, card: &str, role: &str, name: &str) -> Run {
    let r = b.ensure(&["center", card]);
    b.desk.run_env(
        &env(),
        &[
            "--json", "issue", "--issuer", &r[0], "--card", &r[1], "--role", role, "--name", name,
            "--dev",
        ],
    )
}

fn variant_of(b: &Bank, card: &str) -> Value {
    let v: Value = serde_json::from_str(&b.desk.ok(&["--json", "desk", "cards"])).unwrap();
    v["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == card)
        .unwrap_or_else(|| panic!("no card {card} in {v}"))["variant"]
        .clone()
}

#[test]
fn user_applet_cards_with_a_full_bank() {
    let mut b = Bank::start_on(2, 0);
    let bank = CardOpts::bank(true);
    b.issue("region", Role::Region, "NORTH", &bank);
    b.issue("branch", Role::Branch, "BR-1", &bank);
    for (n, p) in [("alice", "ALICE"), ("bob", "BOB")] {
        b.blank_user(n);
        b.issue_onto(n, Role::User, p, &CardOpts::default());
    }
    assert_eq!(variant_of(&b, "alice"), "user");
    assert_eq!(variant_of(&b, "branch"), Value::Null);
    let info: Value = serde_json::from_str(&b.desk.ok(&["desk", "info", "bob"])).unwrap();
    assert_eq!(info["variant"], "user", "{info}");
    let text = b.desk.ok(&["desk", "cards"]);
    assert!(
        text.lines()
            .any(|l| l.starts_with("alice") && l.contains("user-card applet")),
        "{text}"
    );

    // money: branch -> alice, alice <-> bob, bob -> branch; value conserved
    b.mint(1_000_000);
    b.pay_ok("center", "region", 500_000);
    b.pay_ok("region", "branch", 300_000);
    b.pay_ok("branch", "alice", 100_000);
    b.pay_ok("alice", "bob", 2_000);
    b.pay_ok("bob", "alice", 500);
    b.pay_ok("bob", "branch", 100);
    assert_eq!(b.balance("alice"), 100_000 - 2_000 + 500);
    assert_eq!(b.balance("bob"), 2_000 - 500 - 100);
    b.assert_conserved("after the payments");

    // sync of a user-applet card with the full-applet branch: its passbook goes to the ledger
    let before = b.status("alice").passbook_count;
    assert!(before > 0);
    let r = sync_ok(&b, "branch", "alice", DATE);
    assert_eq!(r.passbook_entries as u8, before);
    assert_eq!(b.status("alice").passbook_count, 0);
    b.assert_conserved("after the sync");

    // a bank role onto a user-applet blank: the card refuses at AUTH_FINISH (6A81), exit 4,
    // the message names the two CAPs; the card stays blank
    b.blank_user("carol");
    let r = cli_issue(&mut b, "carol", "branch", "BR-2");
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    let e = &r.json()["error"];
    assert_eq!(e["kind"], "refused", "{e}");
    assert_eq!(e["sw"], "6A81", "{e}");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("user-card applet") && msg.contains("purse.cap"),
        "{msg}"
    );
    assert!(r.stderr.contains("user-card applet"), "{}", r.stderr);
    let st = b.status("carol");
    assert_eq!(st.life, Life::Blank);
    let tries = b.open("carol").get_status().unwrap().tk_tries;
    // an admin card likewise
    let r = cli_issue(&mut b, "carol", "admin", "ADM-2");
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["error"]["sw"], "6A81");
    assert_eq!(
        b.open("carol").get_status().unwrap().tk_tries,
        tries,
        "the refusal gives the transport try back"
    );

    // genesis on a user-applet blank: refused the same way
    b.blank_user("dave");
    let rd = b.reader("dave");
    let r = b.desk.run_env(
        &env(),
        &[
            "--json",
            "--reader",
            &rd,
            "genesis",
            "--name",
            "BANK2",
            "--currency",
            "EUR",
        ],
    );
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["error"]["sw"], "6A81");
    assert_eq!(b.status("dave").life, Life::Blank);

    // carol is still usable: issued as a user, paid by the branch
    let r = cli_issue(&mut b, "carol", "user", "CAROL");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["card"]["role"], "user");
    b.system.push("carol".into());
    b.refresh("carol");
    b.pay_ok("branch", "carol", 1_000);
    assert_eq!(b.balance("carol"), 1_000);
    b.assert_conserved("at the end");
}
