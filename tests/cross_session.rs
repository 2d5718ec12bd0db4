//! Sessions of different flows interleaved on the same card, and wrong passbook digests, through
//! pcscd against desk cards (protocol.md 8: T21, and the transient sessions of 6.2 / 12.1:
//! "any error, any INIT, XFER_ABORT 00 and reset end them"). A transfer step sent in the middle
//! of a sync or an admin session, and a sync or admin step in the middle of a transfer: refused
//! cleanly or ending the other session, nothing persisted by the interrupted flow, value
//! conserved, and both flows then finish (directly or through `purse resume`).
use purse_testkit as kit;

use kit::*;
use purse::card::bank::AdminHello;
use purse::flows::admin::{self, AdminOp};
use purse::proto::consts::{self, Role, SecretRef, SlotState, Suite};

#[test]
fn cross_session() {
    let mut bank = Bank::standard(2, 0);
    let o = CardOpts::bank(false);
    bank.issue("admin", Role::Admin, "ADMIN-1", &o);
    run_cases(
        &mut bank,
        &[
            ("transfer_step_mid_sync", transfer_step_mid_sync),
            ("sync_step_mid_transfer", sync_step_mid_transfer),
            ("admin_step_mid_transfer", admin_step_mid_transfer),
            ("transfer_step_mid_admin", transfer_step_mid_admin),
            ("wrong_digests_never_clear", wrong_digests_never_clear),
        ],
    );
}

fn transfer_step_mid_sync(b: &mut Bank) {
    b.pay_ok("branch", "alice", 100);
    b.ensure(&["branch", "alice"]);
    let (sb, sa) = (b.status("branch"), b.status("alice"));
    let d = sb.key_date; // (reading it later would reselect the bank card and end its PIN)
    let mut bk = b.open("branch");
    let mut cd = b.open("alice");
    // FIG. 5: the holder's PIN and the bank operator's PIN
    cd.verify(SecretRef::Pin, PIN).expect("card PIN");
    bk.verify(SecretRef::Pin, PIN).expect("bank PIN");
    let hello = cd.sync_card_init(d, false).expect("70");
    let s1 = bk.sync_bank_init(false, hello, d).expect("72");
    let p5 = cd.sync_card_s1(&s1).expect("74"); // alice: IN = SYNC
                                                // transfer steps on the card in the middle of its sync: refused, nothing changes
    let e = kit::payee_row_e(&mut cd, 100).expect_err("44 on a card in a sync");
    assert_eq!(sw(&e), Some(0x9D0A), "{e}");
    cd.verify(SecretRef::Pin, PIN).expect("PIN");
    // a payee's answer, as the payer's 42 takes it
    let peer = purse::card::transfer::PayeeHello {
        suite: Suite::Aes128,
        oldest: sb.current_key.wrapping_sub(3),
        rp: [0; 8],
    };
    let e = cd
        .xfer_payer_init(100, DATE, peer)
        .expect_err("42 on a card in a sync");
    assert_eq!(sw(&e), Some(0x9D0A), "{e}");
    // a transfer INIT on the bank card ends its sync session (accepted or refused: either ends
    // it): P5 is then refused, no debit
    let _ = bk.xfer_payer_init(100, DATE, peer);
    let e = bk
        .sync_bank_p5(p5.bytes(), &[0; 8])
        .expect_err("76 after the bank's session ended");
    assert_eq!(sw(&e), Some(0x6985), "{e}");
    drop((bk, cd));
    assert_eq!(
        b.status("branch").balance,
        sb.balance,
        "the bank paid nothing"
    );
    assert_eq!(b.status("alice").balance, sa.balance);
    assert_conserved_sync(
        b,
        &["branch", "alice"],
        "sync interrupted by a transfer step",
    );
    // resume cancels the card's half of the sync; then both flows work again
    let rep = b.resume("branch", "alice");
    assert!(rep.finished(), "{}", rep.summary());
    b.assert_clear(&["branch", "alice"], "after resume");
    let r = sync_ok(b, "branch", "alice", branch_day(b));
    assert!(r.cleared, "{}", r.summary());
    b.pay_ok("alice", "branch", 100);
    assert_conserved_sync(b, &[], "after both flows");
}

fn sync_step_mid_transfer(b: &mut Bank) {
    b.ensure(&["alice", "bob"]);
    let (a0, b0) = (b.balance("alice"), b.balance("bob"));
    let mut pa = b.open("alice");
    let mut pb = b.open("bob");
    let hello = pb.payee_hello().expect("payee hello");
    let p1 = pa.xfer_payer_init(100, DATE, hello).expect("42");
    let p2p3 = pb.xfer_payee_p1(100, DATE, &p1).expect("44"); // bob: IN = EXPECTING
                                                              // a sync step on the payee that expects: refused
    let e = pb
        .sync_card_init(DATE, false)
        .expect_err("70 on an expecting payee");
    assert_eq!(sw(&e), Some(0x9D0A), "{e}");
    // a sync INIT on the payer ends its transfer session: step 4 is refused, no debit
    let _ = pa.sync_card_init(DATE, false);
    let e = pa
        .xfer_payer_p2p3(&p2p3)
        .expect_err("46 after the payer's session ended");
    assert_eq!(sw(&e), Some(0x6985), "{e}");
    drop((pa, pb));
    assert_eq!((b.balance("alice"), b.balance("bob")), (a0, b0));
    b.assert_conserved("transfer interrupted by a sync step");
    let rep = b.resume("alice", "bob");
    assert!(rep.finished(), "{}", rep.summary());
    b.assert_clear(&["alice", "bob"], "after resume");
    b.pay_ok("alice", "bob", 100);
    let r = sync_ok(b, "branch", "bob", branch_day(b));
    assert!(r.cleared, "{}", r.summary());
    assert_conserved_sync(b, &[], "after both flows");
}

fn admin_step_mid_transfer(b: &mut Bank) {
    b.ensure(&["alice", "branch"]);
    let (a0, k0) = (b.balance("alice"), b.balance("branch"));
    let mut pa = b.open("alice");
    let mut bk = b.open("branch");
    let oldest = bk.get_status().expect("status").current_key.wrapping_sub(3);
    let hello = bk
        .payee_hello()
        .expect("payee hello (the bank card is the payee)");
    pa.verify(SecretRef::Pin, PIN).expect("PIN");
    let p1 = pa.xfer_payer_init(100, DATE, hello).expect("42");
    // an admin INIT on the bank card ends its payee session: P1 is refused, nothing persisted
    let _a1 = bk
        .admin_init_bank(AdminHello {
            suite: Suite::Aes128,
            oldest,
            rp: [0; 8],
        })
        .expect("82 on the bank");
    let e = bk
        .xfer_payee_p1(100, DATE, &p1)
        .expect_err("44 after the session ended");
    assert_eq!(sw(&e), Some(0x6985), "{e}");
    assert_eq!(
        bk.get_pending().expect("pending").r#in.state,
        SlotState::None
    );
    drop((pa, bk));
    assert_eq!((b.balance("alice"), b.balance("branch")), (a0, k0));
    b.assert_conserved("transfer interrupted by an admin step");
    let rep = b.resume("alice", "branch");
    assert!(rep.finished(), "{}", rep.summary());
    b.pay_ok("alice", "branch", 100);
    b.assert_conserved("after the transfer");
}

fn transfer_step_mid_admin(b: &mut Bank) {
    let c = b.status("center");
    if b.status("admin").current_key != c.current_key {
        sync_ok(b, "center", "admin", c.key_date);
    }
    b.ensure(&["admin", "branch"]);
    let files0 = admin::read_bank_files(&mut b.open("branch")).expect("bank files");
    let op = AdminOp::SetRate {
        rate: files0.rate.wrapping_add(1),
    };
    let mut ad = b.open("admin");
    let mut bk = b.open("branch");
    ad.verify(SecretRef::Pin, PIN).expect("admin PIN");
    let hello = ad.admin_init_admin(&op.request(DATE)).expect("82 admin");
    let a1 = bk.admin_init_bank(hello).expect("82 bank");
    let a2 = ad.admin_op(&a1).expect("84");
    // a transfer step on the bank card ends its admin session: the op is not applied
    let e = bk
        .xfer_payee_p1(100, DATE, &[0x41; 64])
        .expect_err("44 on the bank in an admin session");
    assert_eq!(sw(&e), Some(0x6985), "{e}");
    let e = bk
        .admin_apply(&a2)
        .expect_err("86 after the bank's session ended");
    assert_eq!(sw(&e), Some(0x6985), "{e}");
    // a transfer step on the admin card: admin cards never transfer
    let e = kit::payee_row_e(&mut ad, 100).expect_err("44 on an admin card");
    assert_eq!(sw(&e), Some(0x9D04), "{e}");
    drop((ad, bk));
    let files1 = admin::read_bank_files(&mut b.open("branch")).expect("bank files");
    assert_eq!(
        files1.rate, files0.rate,
        "the interrupted op changed the rate"
    );
    // the op then runs to the end
    let mut ad = b.open("admin");
    let mut bk = b.open("branch");
    let out = admin::run_op(&mut ad, &mut bk, PIN, &op, DATE).expect("admin op");
    assert!(out.changed, "{out:?}");
    let back = AdminOp::SetRate { rate: files0.rate };
    admin::run_op(&mut ad, &mut bk, PIN, &back, DATE).expect("admin op back");
    drop((ad, bk));
    b.assert_conserved("after the admin ops");
}

/// A rewrite of the entries the host digests (as a host that stored them wrongly would).
type Rewrite = Box<dyn Fn(Vec<u8>) -> Vec<u8>>;

/// T21: the bank card clears a passbook only if the host's digest is of exactly the entries the
/// card committed to in P5: reordered, one missing, or another card's entry: no clear, nothing
/// lost.
fn wrong_digests_never_clear(b: &mut Bank) {
    let el = 42usize;
    // bob's entries, to digest as if they were alice's
    b.pay_ok("bob", "alice", 10);
    let bob_entries = {
        let mut c = b.open("bob");
        c.verify(SecretRef::Pin, PIN).expect("PIN");
        let n = c.get_status().expect("status").passbook_count;
        let v = c.read_passbook_raw_all(n).expect("bob's passbook");
        assert!(v.len() >= el, "bob has no entry");
        v
    };
    let modes: [(&str, Rewrite); 3] = [
        (
            "reordered",
            Box::new(move |mut e: Vec<u8>| {
                let (x, y) = e[..2 * el].split_at_mut(el);
                x.swap_with_slice(y);
                e
            }),
        ),
        (
            "one missing",
            Box::new(move |mut e: Vec<u8>| {
                e.truncate(e.len() - el);
                e
            }),
        ),
        (
            "another card's",
            Box::new(move |mut e: Vec<u8>| {
                // the oldest entry replaced by one of bob's
                e[..el].copy_from_slice(&bob_entries[..el]);
                e
            }),
        ),
    ];
    for (what, f) in modes.iter() {
        b.pay_ok("alice", "bob", 11);
        b.pay_ok("alice", "bob", 12);
        b.ensure(&["branch", "alice"]);
        let n = b.status("alice").passbook_count;
        assert!(n >= 2);
        // the entries as the card holds them; the hook replaces the host's D' at 76 with the
        // digest of the rewritten ones, in this sync's session (SID from P5's header)
        let wrong = {
            let mut c = b.open("alice");
            c.verify(SecretRef::Pin, PIN).expect("PIN");
            f(c.read_passbook_raw_all(n).expect("alice's passbook"))
        };
        let p5 = consts::PKT_P5 as usize;
        let mut bk = open_hooked(b, "branch", |ins, cmd: &mut Vec<u8>| {
            if ins == 0x76 && cmd.len() >= 5 + p5 + 8 {
                let mut sid = [0u8; 6];
                sid.copy_from_slice(&cmd[5 + 2..5 + 8]);
                let d = purse::proto::sync::digest_of(&sid, &wrong, &[], false);
                cmd[5 + p5..5 + p5 + 8].copy_from_slice(&d);
            }
        });
        let mut cd = b.open("alice");
        let mut lg = ledger(b);
        let r = sync_cards(
            &mut bk,
            &mut cd,
            Some(&mut lg),
            &sync_options(branch_day(b)),
        );
        drop((bk, cd));
        let cleared = r.as_ref().map(|r| r.cleared).unwrap_or(false);
        assert!(!cleared, "{what} entries digested: passbook cleared");
        assert!(
            b.status("alice").passbook_count >= n,
            "{what}: the card lost entries"
        );
        let rep = b.resume("branch", "alice");
        assert!(rep.finished(), "{what}: {}", rep.summary());
        assert_conserved_sync(b, &[], &format!("{what} digest"));
        // the honest sync clears, each entry stored once
        let r = sync_ok(b, "branch", "alice", branch_day(b));
        assert!(
            r.cleared,
            "{what}: honest sync did not clear: {}",
            r.summary()
        );
    }
    let f = ledger(b).fraud_flags().expect("flags");
    assert!(f.is_empty(), "ledger flags after wrong digests: {f:?}");
}
