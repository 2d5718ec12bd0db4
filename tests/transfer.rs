//! Card-to-card transfers through pcscd against virtual cards running the real applet
//! (protocol.md 6; MISSION F2, F4, F5, F7, F8, F10, F12-F14). One desk, one bank, cases in order.
use purse_testkit as kit;

use kit::*;
use purse::card::transfer::PacketHeader;
use purse::flows::sync::{self as fsync, SyncOptions};
use purse::flows::transfer::{self as xfer, RunOptions, Secrets};
use purse::proto::consts::{EntryType, Role, SecretRef, SlotState};

#[test]
fn transfers() {
    let mut bank = Bank::standard(12, 49);
    run_cases(
        &mut bank,
        &[
            ("user_to_user_with_pin", user_to_user_with_pin),
            ("small_payment_needs_no_pin", small_payment_needs_no_pin),
            ("pin_and_txkey_required", pin_and_txkey_required),
            ("one_pin_entry_one_payment", one_pin_entry_one_payment),
            (
                "deposit_and_withdrawal_with_branch",
                deposit_and_withdrawal_with_branch,
            ),
            ("amount_mismatch_refused", amount_mismatch_refused),
            (
                "keys_49_52_vs_51_54_ok_51_54_vs_54_57_refused",
                keys_patent_examples,
            ),
            (
                "every_disallowed_pair_refused",
                every_disallowed_pair_refused,
            ),
            (
                "stolen_card_bound_and_passbook_full",
                stolen_card_bound_and_passbook_full,
            ),
            ("bad_key_lockout", bad_key_lockout),
            ("cli_transfer_confirmations", cli_transfer_confirmations),
            (
                "failure_after_step_3_recovers_automatically",
                failure_after_step_3_recovers_automatically,
            ),
        ],
    );
}

fn user_to_user_with_pin(b: &mut Bank) {
    let (a0, b0) = (b.balance("alice"), b.balance("bob"));
    let pa0 = b.status("alice").passbook_count;
    let pb0 = b.status("bob").passbook_count;
    let r = b.pay_ok("alice", "bob", 1250);
    assert_eq!(r.payer_balance, a0 - 1250);
    assert_eq!(r.payee_balance, b0 + 1250);
    assert_eq!(b.balance("alice"), a0 - 1250);
    assert_eq!(b.balance("bob"), b0 + 1250);
    // one passbook entry each: DEBIT on the payer, CREDIT on the payee, same TID
    let sa = b.status("alice");
    let sb = b.status("bob");
    assert_eq!(sa.passbook_count, pa0 + 1);
    assert_eq!(sb.passbook_count, pb0 + 1);
    let mut ca = b.open("alice");
    ca.verify(purse::proto::consts::SecretRef::Pin, PIN)
        .unwrap();
    let ea = ca.read_passbook(sa.passbook_count - 1, 1).unwrap();
    assert_eq!(ea[0].kind, EntryType::Debit);
    assert_eq!(ea[0].amount, 1250);
    assert_eq!(ea[0].tid, r.tid);
    assert_eq!(ea[0].account, sb.account);
    assert_eq!(ea[0].new_balance, a0 - 1250);
    let mut cb = b.open("bob");
    cb.verify(purse::proto::consts::SecretRef::Pin, PIN)
        .unwrap();
    let eb = cb.read_passbook(sb.passbook_count - 1, 1).unwrap();
    assert_eq!(eb[0].kind, EntryType::Credit);
    assert_eq!(eb[0].tid, r.tid);
    assert_eq!(eb[0].account, sa.account);
    b.assert_clear(&["alice", "bob"], "after transfer");
    b.assert_conserved("after transfer");
}

fn small_payment_needs_no_pin(b: &mut Bank) {
    let a0 = b.balance("alice");
    let mut pa = b.open("alice");
    let mut pb = b.open("bob");
    // 5.00 = MIN_TRANS: no PIN
    let r = transfer_open(&mut pa, &mut pb, USER_MIN, &Secrets::default());
    assert!(r.is_ok(), "{:?}", r.err().map(|e| e.to_string()));
    // protocol.md 6.1: both statuses and the payee hello come with the SELECTs that opened the
    // cards, so the wire carries SELECT 42 46 4A (payer) and SELECT 44 48 (payee): 7 APDUs
    assert_eq!((pa.apdus(), pb.apdus()), (4, 3), "APDUs per card");
    // again on the same open cards: the payer's status is a GET_STATUS, the payee's comes with a
    // new SELECT, which also arms the new payee session
    transfer_open(&mut pa, &mut pb, 1, &Secrets::default()).expect("second payment");
    assert_eq!((pa.apdus(), pb.apdus()), (8, 6), "APDUs per card after two");
    assert_eq!(b.balance("alice"), a0 - USER_MIN - 1);
    b.assert_conserved("small payment");
}

fn pin_and_txkey_required(b: &mut Bank) {
    // a PIN verified earlier stays validated until the card is reset: start from power-up
    b.power_cycle("alice");
    let (a0, b0) = (b.balance("alice"), b.balance("bob"));
    let mut pa = b.open("alice");
    let mut pb = b.open("bob");
    // 5.01 without the PIN: 9D13 at step 2, nothing moves
    let e =
        transfer_open(&mut pa, &mut pb, USER_MIN + 1, &Secrets::default()).expect_err("needs PIN");
    assert_eq!(sw(&e), Some(0x9D13), "{e}");
    assert!(e.to_string().contains("PIN"), "{e}");
    assert!(e.to_string().contains("no money moved"), "{e}");
    // 50.01 with the PIN but no transaction key: 9D14
    let only_pin = Secrets {
        pin: Some(PIN.to_vec()),
        ..Default::default()
    };
    let e = transfer_open(&mut pa, &mut pb, USER_MAX + 1, &only_pin).expect_err("needs TXKEY");
    assert_eq!(sw(&e), Some(0x9D14), "{e}");
    // wrong PIN: 63C2, then the right one works (tries reset)
    let bad = Secrets {
        pin: Some(b"9999".to_vec()),
        ..Default::default()
    };
    let e = transfer_open(&mut pa, &mut pb, 600, &bad).expect_err("wrong PIN");
    assert_eq!(sw(&e), Some(0x63C2), "{e}");
    assert!(e.to_string().contains("wrong PIN, 2 tries left"), "{e}");
    drop((pa, pb));
    assert_eq!(b.balance("alice"), a0);
    assert_eq!(b.balance("bob"), b0);
    b.assert_clear(&["alice", "bob"], "refused");
    // with both: ok
    b.pay_ok("alice", "bob", USER_MAX + 1);
    assert_eq!(b.balance("bob"), b0 + USER_MAX + 1);
    assert_eq!(b.status("alice").pin_tries, 3);
    b.assert_conserved("txkey payment");
}

/// F12: one PIN entry authorises one payment above MIN_TRANS (and one transaction key entry one
/// payment above MAX_TRANS): a second payment on the same card connection without a new VERIFY
/// is refused (9D13 / 9D14) and moves nothing.
fn one_pin_entry_one_payment(b: &mut Bank) {
    let mut p = b.open("alice");
    let mut q = b.open("bob");
    let none = Secrets::default();
    transfer_open(&mut p, &mut q, USER_MAX + 1, &secrets())
        .expect("genuine payment, PIN and transaction key entered");
    let (a0, b0) = (
        p.get_status().unwrap().balance,
        q.get_status().unwrap().balance,
    );
    let e = transfer_open(&mut p, &mut q, USER_MIN + 1, &none)
        .expect_err("second payment on the same PIN entry");
    assert_eq!(sw(&e), Some(0x9D13), "{e}");
    p.verify(SecretRef::Pin, PIN).unwrap();
    let e = transfer_open(&mut p, &mut q, USER_MAX + 1, &none)
        .expect_err("second payment on the same transaction key entry");
    assert_eq!(sw(&e), Some(0x9D14), "{e}");
    assert_eq!(p.get_status().unwrap().balance, a0, "nothing moved");
    assert_eq!(q.get_status().unwrap().balance, b0, "nothing moved");
    assert_eq!(p.get_pending().unwrap().out.state, SlotState::None);
    // at MIN_TRANS no PIN is needed; the validation from the VERIFY above then pays once more
    transfer_open(&mut p, &mut q, USER_MIN, &none).expect("small");
    transfer_open(&mut p, &mut q, USER_MIN + 1, &none).expect("one");
    let e = transfer_open(&mut p, &mut q, USER_MIN + 1, &none).expect_err("used up");
    assert_eq!(sw(&e), Some(0x9D13), "{e}");
    drop((p, q));
    b.assert_conserved("one PIN one payment");
}

fn deposit_and_withdrawal_with_branch(b: &mut Bank) {
    let (a0, br0) = (b.balance("alice"), b.balance("branch"));
    b.pay_ok("alice", "branch", 2000); // deposit
    assert_eq!(b.balance("branch"), br0 + 2000);
    b.pay_ok("branch", "alice", 3000); // withdrawal
    assert_eq!(b.balance("alice"), a0 - 2000 + 3000);
    assert_eq!(b.balance("branch"), br0 - 1000);
    b.assert_clear(&["alice", "branch"], "deposit/withdrawal");
    b.assert_conserved("deposit/withdrawal");
}

fn amount_mismatch_refused(b: &mut Bank) {
    let (a0, b0) = (b.balance("alice"), b.balance("bob"));
    let bk_a = b.status("alice").bad_key;
    {
        let mut pa = b.open("alice");
        let mut pb = b.open("bob");
        // the payee's holder asks 1.50, the payer's holder confirmed 1.00
        let hello = pb.payee_hello().unwrap();
        let p1 = pa.xfer_payer_init(100, DATE, hello).unwrap();
        let p2p3 = pb.xfer_payee_p1(150, DATE, &p1).unwrap();
        let e = pa.xfer_payer_p2p3(&p2p3).expect_err("mismatch");
        assert_eq!(sw(&e), Some(0x9D07), "{e}");
        assert!(e.to_string().contains("did not agree on the amount"), "{e}");
        // the payee still expects T: resume aborts it (the payer never debited)
        assert_eq!(pb.get_pending().unwrap().r#in.state, SlotState::Transfer);
    }
    let rep = b.resume("alice", "bob");
    assert!(rep.finished(), "{}", rep.summary());
    assert!(rep.summary().contains("never paid"), "{}", rep.summary());
    assert_eq!(b.balance("alice"), a0);
    assert_eq!(b.balance("bob"), b0);
    assert_eq!(
        b.status("alice").bad_key,
        bk_a,
        "amount mismatch is a holder error, no BAD_KEY"
    );
    b.assert_clear(&["alice", "bob"], "mismatch");
    // through the library flow: the payee request equals the payer's by construction, and a
    // payer refusal at step 4 aborts the payee's expectation automatically
    b.assert_conserved("mismatch");
}

fn keys_patent_examples(b: &mut Bank) {
    // Every card of this system holds keys 49-52 (genesis first key 49; issuance copies them).
    let sa = b.status("alice");
    assert_eq!(sa.key_numbers(), [49, 50, 51, 52]);
    let bk0 = sa.bad_key;
    let mut pa = b.open("alice");
    let mut pb = b.open("bob");
    let hello = pb.payee_hello().unwrap();
    assert_eq!(hello.oldest, 49);
    // payer 49-52 with a payee holding 51-54 (announces 51): k = 51
    let p1 = pa
        .xfer_payer_init(
            100,
            DATE,
            purse::card::transfer::PayeeHello {
                oldest: 51,
                ..hello
            },
        )
        .expect("49-52 vs 51-54 must transact");
    assert_eq!(PacketHeader::parse(&p1).unwrap().keynum, 51);
    // payee side: a P1 announcing k = 51 from a 49-52 payer is accepted as far as keys go
    // (payee 49-52 holds 51 and 52); k = 54 is refused before the MAC (9D02)
    let mut forged = p1.clone();
    forged[1] = 54;
    let e = pb
        .xfer_payee_p1(100, DATE, &forged)
        .expect_err("payee lacks 54/55");
    assert_eq!(sw(&e), Some(0x9D02), "{e}");
    // payer 51-54 vs payee 54-57 is the same as payer 49-52 vs payee 52-55: one common key
    let e = pa
        .xfer_payer_init(
            100,
            DATE,
            purse::card::transfer::PayeeHello {
                oldest: 52,
                ..hello
            },
        )
        .expect_err("one common key");
    assert_eq!(sw(&e), Some(0x9D02), "{e}");
    assert!(e.to_string().contains("fewer than two keys"), "{e}");
    pa.xfer_abort_session().ok();
    pb.xfer_abort_session().ok();
    drop((pa, pb));
    // negotiation failures count BAD_KEY (protocol.md 3.3)
    assert_eq!(b.status("alice").bad_key, bk0 + 1);
    // a normal transfer between two 49-52 cards uses the newest pair: k = 51
    let r = b.pay_ok("alice", "bob", 100);
    assert_eq!(r.keynum, 51);
    b.assert_clear(&["alice", "bob"], "keys");
}

fn every_disallowed_pair_refused(b: &mut Bank) {
    let bank = CardOpts::bank(true);
    if !b.cards.contains_key("admin") {
        b.issue("region2", Role::Region, "SOUTH", &bank);
        b.issue("branch2", Role::Branch, "BR-2", &bank);
        b.issue("admin", Role::Admin, "ADMIN1", &bank);
        b.issue("admin2", Role::Admin, "ADMIN2", &bank);
        // give region2/branch2 some money so funds are never the reason
        b.pay_ok("center", "region2", 1000);
        b.pay_ok("region2", "branch2", 500);
    }
    let by_role = [
        (Role::Center, vec!["center"]),
        (Role::Region, vec!["region", "region2"]),
        (Role::Branch, vec!["branch", "branch2"]),
        (Role::User, vec!["alice", "bob"]),
        (Role::Admin, vec!["admin", "admin2"]),
    ];
    let mut checked = 0;
    for (pr, payers) in &by_role {
        for (qr, payees) in &by_role {
            if pr.may_pay(*qr) {
                continue;
            }
            let payer = payers[0];
            let payee = if pr == qr {
                match payees.get(1) {
                    Some(p) => *p,
                    None => {
                        eprintln!("  (center -> center: only one center card per system)");
                        continue;
                    }
                }
            } else {
                payees[0]
            };
            let before: Vec<u32> = [payer, payee].iter().map(|n| b.balance(n)).collect();
            // the host refuses early, saying why
            let e = b.pay(payer, payee, 100).expect_err("host precheck");
            assert!(
                e.to_string().contains("cannot pay"),
                "{payer}->{payee}: {e}"
            );
            // and the cards refuse on their own (host checks off)
            let mut ca = b.open(payer);
            let mut cb = b.open(payee);
            let e = xfer::transfer(
                &mut ca,
                &mut cb,
                100,
                DATE,
                &secrets(),
                false,
                &RunOptions::default(),
            )
            .expect_err("card refusal");
            assert_eq!(sw(&e), Some(0x9D04), "{payer} -> {payee}: {e}");
            drop((ca, cb));
            let after: Vec<u32> = [payer, payee].iter().map(|n| b.balance(n)).collect();
            assert_eq!(before, after, "{payer} -> {payee}: balances changed");
            b.assert_clear(&[payer, payee], &format!("{payer} -> {payee}"));
            checked += 1;
        }
    }
    // 25 ordered role pairs, 7 allowed, center->center impossible: 17 checked
    assert_eq!(checked, 17);
    b.assert_conserved("pairs");
}

fn stolen_card_bound_and_passbook_full(b: &mut Bank) {
    b.issue("thief", Role::User, "LOST", &CardOpts::default());
    b.issue("fence", Role::User, "FENCE", &CardOpts::default());
    b.pay_ok("branch", "thief", 40_000); // 400.00 on the stolen card, 1 passbook entry
    let none = Secrets::default();
    // above MIN_TRANS without the PIN: refused
    {
        let mut t = b.open("thief");
        let mut f = b.open("fence");
        let e = transfer_open(&mut t, &mut f, USER_MIN + 1, &none).expect_err("needs PIN");
        assert_eq!(sw(&e), Some(0x9D13));
    }
    // at MIN_TRANS without the PIN, until the card refuses
    let start = b.balance("thief");
    let mut paid = 0u64;
    let mut refusal = None;
    {
        let mut t = b.open("thief");
        let mut f = b.open("fence");
        for _ in 0..60 {
            match xfer::transfer(
                &mut t,
                &mut f,
                USER_MIN,
                DATE,
                &none,
                false,
                &RunOptions::default(),
            ) {
                Ok(_) => paid += USER_MIN as u64,
                Err(e) => {
                    refusal = Some(e);
                    break;
                }
            }
        }
    }
    let e = refusal.expect("the card must stop paying");
    assert_eq!(sw(&e), Some(0x9D08), "{e}");
    assert!(e.to_string().contains("passbook full"), "{e}");
    assert!(paid <= 50 * USER_MIN as u64, "paid {paid}");
    assert_eq!(
        paid,
        49 * USER_MIN as u64,
        "49 payments after the funding credit"
    );
    assert_eq!(b.balance("thief") as u64, start as u64 - paid);
    assert_eq!(b.status("thief").passbook_count, 50);
    // a full passbook also refuses to receive
    let mut br = b.open("branch");
    let mut t = b.open("thief");
    let e = xfer::transfer(
        &mut br,
        &mut t,
        100,
        DATE,
        &secrets(),
        false,
        &RunOptions::default(),
    )
    .expect_err("payee passbook full");
    assert_eq!(sw(&e), Some(0x9D08), "{e}");
    drop((br, t));
    // the host precheck says it too
    let e = b.pay("thief", "fence", 100).expect_err("precheck");
    assert!(e.to_string().contains("passbook is full"), "{e}");
    // FIG. 5 block 502: the thief walks into the branch to have the passbook cleared
    let before = (b.status("thief"), b.balance("branch"));
    let bank_pin_only = SyncOptions {
        date: DATE,
        store: false,
        bank_pin: Some(PIN.to_vec()),
        card_pin: None,
        ..SyncOptions::default()
    };
    {
        let mut k = b.open("branch");
        let mut t = b.open("thief");
        let e = fsync::sync(&mut k, &mut t, None, &bank_pin_only, &mut |_| {})
            .expect_err("sync without the holder's PIN");
        assert_eq!(e.sw().map(|s| s.code()), Some(0x9D13), "{e}");
        // a hostile host skips the card's own check (70 P1 01, as for an unblock) with a plain
        // 72: the bank reads the card's authenticated "holder not proven" in P5 and refuses
        k.verify(SecretRef::Pin, PIN).unwrap();
        let hello = t.sync_card_init(DATE, true).unwrap();
        let s1 = k.sync_bank_init(false, hello, DATE).unwrap();
        let p5 = t.sync_card_s1(&s1).unwrap();
        let raw = t.read_passbook_raw_all(50).unwrap();
        let digest = purse::proto::sync::digest_of(&p5.sid(), &raw, &[], false);
        let e = k
            .sync_bank_p5(p5.bytes(), &digest)
            .expect_err("bank cleared an unproven card");
        assert_eq!(sw(&e), Some(0x9D13), "{e}");
        t.xfer_abort_expected(&p5.sid())
            .expect("abort the dead sync (value-neutral)");
    }
    // without the bank operator's PIN: refused too (a genuine holder here)
    b.power_cycle("branch");
    {
        let mut k = b.open("branch");
        let mut f = b.open("fence");
        let o = SyncOptions {
            bank_pin: None,
            card_pin: Some(PIN.to_vec()),
            ..bank_pin_only.clone()
        };
        let f0 = f.get_status().unwrap();
        let e = fsync::sync(&mut k, &mut f, None, &o, &mut |_| {})
            .expect_err("sync without the bank PIN");
        assert_eq!(e.sw().map(|s| s.code()), Some(0x9D13), "{e}");
        let f1 = f.get_status().unwrap();
        assert_eq!(
            (f1.balance, f1.passbook_count),
            (f0.balance, f0.passbook_count)
        );
        assert_eq!(
            f.get_pending().unwrap().r#in.state,
            SlotState::None,
            "nothing persisted"
        );
    }
    let after = b.status("thief");
    assert_eq!(after.passbook_count, 50, "passbook not cleared");
    assert_eq!(
        (after.balance, b.balance("branch")),
        (before.0.balance, before.1)
    );
    let mut t = b.open("thief");
    let mut f = b.open("fence");
    let e = xfer::transfer(
        &mut t,
        &mut f,
        USER_MIN,
        DATE,
        &none,
        false,
        &RunOptions::default(),
    )
    .expect_err("still full");
    assert_eq!(sw(&e), Some(0x9D08), "{e}");
    drop((t, f));
    assert_eq!(
        start as u64 - b.balance("thief") as u64,
        49 * USER_MIN as u64,
        "49 x MIN_TRANS in total, sync attempts included"
    );
    b.assert_clear(&["thief", "fence", "branch"], "stolen");
    b.assert_conserved("stolen");
}

fn bad_key_lockout(b: &mut Bank) {
    let o = CardOpts {
        bad_key_limit: 3,
        ..CardOpts::default()
    };
    b.issue("mallory", Role::User, "MALLORY", &o);
    b.pay_ok("branch", "mallory", 1000);
    let m0 = b.balance("mallory");
    for i in 1..=3u8 {
        let mut pa = b.open("alice");
        let mut pm = b.open("mallory");
        let hello = pm.payee_hello().unwrap();
        let mut p1 = pa.xfer_payer_init(100, DATE, hello).unwrap();
        let n = p1.len();
        p1[n - 1] ^= 0x01; // corrupt the MAC
        let e = pm.xfer_payee_p1(100, DATE, &p1).expect_err("bad MAC");
        assert_eq!(sw(&e), Some(0x9D03), "{e}");
        pa.xfer_abort_session().ok();
        drop((pa, pm));
        assert_eq!(b.status("mallory").bad_key, i);
    }
    let st = b.status("mallory");
    assert!(st.locked());
    // every money command now answers 9D01; reads still work
    let mut pm = b.open("mallory");
    let e = kit::payee_row_e(&mut pm, 100).expect_err("locked");
    assert_eq!(sw(&e), Some(0x9D01), "{e}");
    assert!(e.to_string().contains("locked"), "{e}");
    pm.get_pending().expect("reads work when locked");
    drop(pm);
    let e = b.pay("mallory", "alice", 100).expect_err("locked payer");
    assert!(e.to_string().contains("locked"), "{e}");
    assert_eq!(b.balance("mallory"), m0);
    b.assert_conserved("lockout");
}

fn cli_transfer_confirmations(b: &mut Bank) {
    let (ra, rb) = (b.reader("alice"), b.reader("bob"));
    let (a0, b0) = (b.balance("alice"), b.balance("bob"));
    let run = |args: &[&str], stdin: &str, pin: bool| {
        use std::io::Write;
        let mut c = b.desk.cmd();
        c.env_remove("PURSE_PIN").env_remove("PURSE_TXKEY");
        if pin {
            c.env("PURSE_PIN", "1234");
        }
        let mut child = c
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // --yes, PIN from the environment
    let (code, out, err) = run(
        &["transfer", "--from", &ra, "--to", &rb, "12.50", "--yes"],
        "",
        true,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("transferred 12.50 EUR from ALICE"), "{out}");
    // both holders type the amount
    let (code, out, err) = run(
        &["transfer", "--from", &ra, "--to", &rb, "1.00"],
        "1.00\n1\n",
        false,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("PAYER ALICE") && err.contains("PAYEE BOB"),
        "{err}"
    );
    // the payee's holder states another amount: nothing is asked of the cards
    let (code, out, err) = run(
        &["transfer", "--from", &ra, "--to", &rb, "1.00"],
        "1.00\n2.00\n",
        false,
    );
    // a person's "no" is not a card's refusal: exit 1 (4 is for status words)
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("did not confirm"), "{err}");
    // no input, no --yes
    let (code, _, err) = run(&["transfer", "--from", &ra, "--to", &rb, "1.00"], "", false);
    assert_ne!(code, 0);
    assert!(err.contains("--yes"), "{err}");
    // above MIN_TRANS, no PIN and no terminal: names the variable
    let (code, _, err) = run(
        &["transfer", "--from", &ra, "--to", &rb, "6.00", "--yes"],
        "",
        false,
    );
    assert_ne!(code, 0);
    assert!(err.contains("PURSE_PIN"), "{err}");
    // JSON
    let (code, out, err) = run(
        &[
            "--json", "transfer", "--from", &ra, "--to", &rb, "0.50", "--yes",
        ],
        "",
        false,
    );
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["transfer"]["amount"], "0.50");
    assert_eq!(v["transfer"]["amount_minor"], 50);
    // a refusal is explained, not a bare status word
    let (code, out, err) = run(
        &["transfer", "--from", &ra, "--to", &ra, "1.00", "--yes"],
        "",
        false,
    );
    assert_ne!(code, 0, "{out}{err}");
    assert_eq!(b.balance("alice"), a0 - 1250 - 100 - 50);
    assert_eq!(b.balance("bob"), b0 + 1250 + 100 + 50);
    b.assert_conserved("cli");
}

fn failure_after_step_3_recovers_automatically(b: &mut Bank) {
    // a relay corrupts P2 (payer refuses at step 4) and then P4 (payee refuses at step 5):
    // with both cards in, the flow runs the resume logic itself
    for target in [0x46u8, 0x48] {
        let (a0, b0) = (b.balance("alice"), b.balance("bob"));
        b.ensure(&["alice", "bob"]);
        let flip = move || {
            let mut done = false;
            move |ins: u8, cmd: &mut Vec<u8>| {
                if ins == target && !done {
                    done = true;
                    let n = cmd.len();
                    cmd[n - 2] ^= 0x10; // inside the MAC (the APDU ends with Le)
                }
            }
        };
        let mut pa = open_hooked(b, "alice", flip());
        let mut pb = open_hooked(b, "bob", flip());
        let e = transfer_open(&mut pa, &mut pb, 100, &Secrets::default()).expect_err("corrupted");
        let _ = &mut pb;
        drop((pa, pb));
        let msg = e.to_string();
        assert_eq!(sw(&e), Some(0x9D03), "{msg}");
        assert!(msg.contains("recovered while both cards were in"), "{msg}");
        b.assert_clear(&["alice", "bob"], "auto resume");
        let moved = if target == 0x46 { 0 } else { 100 };
        assert_eq!(
            (b.balance("alice"), b.balance("bob")),
            (a0 - moved, b0 + moved),
            "INS {target:02X}: {msg}"
        );
        eprintln!("  INS {target:02X}: {msg}");
    }
    b.assert_conserved("auto resume");
}
