//! `purse resume` (protocol.md 6.4): each row of the resume table, exactly once, through the
//! library and the CLI; replays of P4 / ACK / NACK refused with no state change (T1, T2);
//! `--give-up` and `--abandon-expected`.
use purse_testkit as kit;

use kit::*;
use purse::card::transfer::PacketHeader;
use purse::flows::resume::{self as res, Action, ResumeOptions};
use purse::proto::consts::{EntryType, Role, SecretRef, SlotState};

#[test]
fn resume() {
    let mut bank = Bank::standard(8, 0);
    bank.issue("carol", Role::User, "CAROL", &CardOpts::default());
    bank.pay_ok("branch", "carol", 10_000);
    run_cases(
        &mut bank,
        &[
            ("nothing_to_do", nothing_to_do),
            ("drop_each_packet_then_resume", drop_each_packet_then_resume),
            ("replay_p4_and_ack_refused", replay_p4_and_ack_refused),
            ("nack_refunds_once", nack_refunds_once),
            (
                "abandon_expected_from_third_card",
                abandon_expected_from_third_card,
            ),
            ("give_up_records_exception", give_up_records_exception),
            ("cli_resume", cli_resume),
        ],
    );
}

/// Relay a transfer alice -> bob of `a` by hand, stopping after step `upto` (1..=6).
/// Returns (TID, P4, ACK) as far as they exist.
fn relay(
    b: &Bank,
    from: &str,
    to: &str,
    a: u32,
    upto: u8,
) -> ([u8; 6], Option<Vec<u8>>, Option<Vec<u8>>) {
    let mut p = b.open(from);
    let mut q = b.open(to);
    let hello = q.payee_hello().unwrap();
    let p1 = p.xfer_payer_init(a, DATE, hello).unwrap();
    let tid = PacketHeader::parse(&p1).unwrap().sid;
    if upto < 3 {
        return (tid, None, None);
    }
    let p2p3 = q.xfer_payee_p1(a, DATE, &p1).unwrap();
    if upto < 4 {
        return (tid, None, None);
    }
    let p4 = p.xfer_payer_p2p3(&p2p3).unwrap();
    if upto < 5 {
        return (tid, Some(p4), None);
    }
    let ack = q.xfer_payee_p4(&p4).unwrap();
    if upto < 6 {
        return (tid, Some(p4), Some(ack));
    }
    p.xfer_payer_ack(&ack).unwrap();
    (tid, Some(p4), Some(ack))
}

fn nothing_to_do(b: &mut Bank) {
    let r = b.resume("alice", "bob");
    assert!(r.finished());
    assert!(r.actions.is_empty(), "{}", r.summary());
}

fn drop_each_packet_then_resume(b: &mut Bank) {
    // (stop after step, expected action, moved)
    for upto in 2..=6u8 {
        let (a0, b0) = (b.balance("alice"), b.balance("bob"));
        let (_tid, _, _) = relay(b, "alice", "bob", 100, upto);
        b.assert_conserved(&format!("after step {upto}"));
        let rep = b.resume("alice", "bob");
        assert!(rep.finished(), "step {upto}: {}", rep.summary());
        let kinds: Vec<&str> = rep
            .actions
            .iter()
            .map(|a| match a {
                Action::Completed { .. } => "completed",
                Action::AckForwarded { .. } => "ack",
                Action::ExpectationAborted { .. } => "aborted",
                _ => "other",
            })
            .collect();
        let (want, moved): (&[&str], bool) = match upto {
            2 => (&[], false),
            3 => (&["aborted"], false),
            4 => (&["completed"], true),
            5 => (&["ack"], true),
            _ => (&[], true),
        };
        assert_eq!(kinds, want, "step {upto}: {}", rep.summary());
        let delta = if moved { 100 } else { 0 };
        assert_eq!(
            (b.balance("alice"), b.balance("bob")),
            (a0 - delta, b0 + delta),
            "step {upto}"
        );
        b.assert_clear(&["alice", "bob"], &format!("step {upto}"));
        // exactly once
        assert!(b.resume("alice", "bob").actions.is_empty());
    }
    b.assert_conserved("drop");
}

fn replay_p4_and_ack_refused(b: &mut Bank) {
    let (tid, p4, ack) = relay(b, "alice", "bob", 100, 6);
    let (p4, ack) = (p4.unwrap(), ack.unwrap());
    let st = (b.status("alice"), b.status("bob"));
    // T1: P4 of a credited transfer
    let e = b.open("bob").xfer_payee_p4(&p4).expect_err("P4 replay");
    assert_eq!(sw(&e), Some(0x9D0C), "{e}");
    // T2: ACK after the payer cleared
    let e = b
        .open("alice")
        .xfer_payer_ack(&ack)
        .expect_err("ACK replay");
    assert_eq!(sw(&e), Some(0x9D0B), "{e}");
    // resume fetches stored outcomes only for pending transfers
    let e = b
        .open("alice")
        .resume_get_p4(&tid)
        .expect_err("nothing pending");
    assert_eq!(sw(&e), Some(0x9D0B), "{e}");
    assert_eq!(
        st,
        (b.status("alice"), b.status("bob")),
        "a replay changed state (or BAD_KEY)"
    );
    // the stored ACK can be fetched again (idempotent), no state change
    let again = b.open("bob").resume_get_outcome(&tid).expect("stored ACK");
    assert_eq!(again, ack);
}

fn nack_refunds_once(b: &mut Bank) {
    let (a0, b0) = (b.balance("alice"), b.balance("bob"));
    // payee expects T, payer debits, P4 lost; the payee gives up on T (NACK) first
    let (tid, p4, _) = relay(b, "alice", "bob", 200, 4);
    let nack = b
        .open("bob")
        .xfer_abort_expected(&tid)
        .expect("abort expected");
    assert_eq!(b.balance("alice"), a0 - 200);
    b.assert_conserved("payer pending, payee NACKed");
    // now P4 is refused (abandoned) with no state change
    let e = b
        .open("bob")
        .xfer_payee_p4(&p4.unwrap())
        .expect_err("P4 after NACK");
    assert_eq!(sw(&e), Some(0x9D0B), "{e}");
    let rep = b.resume("alice", "bob");
    assert!(
        matches!(rep.actions.as_slice(), [Action::Refunded { .. }]),
        "{}",
        rep.summary()
    );
    assert_eq!((b.balance("alice"), b.balance("bob")), (a0, b0));
    // the NACK again: refused, no second refund
    let e = b
        .open("alice")
        .xfer_payer_ack(&nack)
        .expect_err("NACK replay");
    assert_eq!(sw(&e), Some(0x9D0B), "{e}");
    assert_eq!(b.balance("alice"), a0);
    // the DEBIT entry became DEBIT_REFUNDED
    let mut c = b.open("alice");
    c.verify(SecretRef::Pin, PIN).unwrap();
    let n = c.get_status().unwrap().passbook_count;
    let e = c.read_passbook(n - 1, 1).unwrap();
    assert_eq!(e[0].tid, tid);
    assert_eq!(e[0].kind, EntryType::DebitRefunded);
    b.assert_conserved("nack");
}

fn abandon_expected_from_third_card(b: &mut Bank) {
    // carol pays bob, but the P4 is lost and carol is "elsewhere"
    let (c0, b0) = (b.balance("carol"), b.balance("bob"));
    let (tid, _, _) = relay(b, "carol", "bob", 300, 4);
    // bob + alice: bob's expectation is from carol: left alone, explained
    let rep = b.resume("bob", "alice");
    assert!(!rep.finished());
    assert!(
        matches!(rep.actions.as_slice(), [Action::Stuck { .. }]),
        "{}",
        rep.summary()
    );
    assert!(
        rep.summary().contains("--abandon-expected"),
        "{}",
        rep.summary()
    );
    assert_eq!(b.pending("bob").r#in.state, SlotState::Transfer);
    // forced
    let mut cb = b.open("bob");
    let mut ca = b.open("alice");
    let rep = res::resume(
        &mut cb,
        Some(&mut ca),
        &ResumeOptions {
            abandon_expected: true,
            ..Default::default()
        },
    );
    drop((cb, ca));
    assert!(
        matches!(
            rep.actions.as_slice(),
            [Action::ExpectationAbandoned { .. }]
        ),
        "{}",
        rep.summary()
    );
    b.assert_conserved("abandoned");
    // carol comes back: she gets the NACK and her refund, exactly once
    let rep = b.resume("carol", "bob");
    assert!(
        matches!(rep.actions.as_slice(), [Action::Refunded { .. }]),
        "{}",
        rep.summary()
    );
    assert_eq!((b.balance("carol"), b.balance("bob")), (c0, b0));
    assert!(b.pending("bob").outcomes.iter().any(|o| o.tid == tid));
    b.assert_clear(&["carol", "bob"], "abandon");
}

fn give_up_records_exception(b: &mut Bank) {
    let (c0, b0) = (b.balance("carol"), b.balance("bob"));
    let (tid, p4, _) = relay(b, "carol", "bob", 400, 4);
    // bob is "lost": carol alone, no --give-up: stuck, explained
    let mut cc = b.open("carol");
    let rep = res::resume(
        &mut cc,
        None::<&mut purse::card::PurseCard<purse::transport::Connection>>,
        &ResumeOptions::default(),
    );
    assert!(rep.summary().contains("--give-up"), "{}", rep.summary());
    // give up without the PIN: refused by the card
    let rep = res::resume(
        &mut cc,
        None::<&mut purse::card::PurseCard<purse::transport::Connection>>,
        &ResumeOptions {
            give_up: true,
            ..Default::default()
        },
    );
    assert!(!rep.finished(), "{}", rep.summary());
    let rep = res::resume(
        &mut cc,
        None::<&mut purse::card::PurseCard<purse::transport::Connection>>,
        &ResumeOptions {
            give_up: true,
            pin: Some(PIN.to_vec()),
            ..Default::default()
        },
    );
    drop(cc);
    assert!(
        matches!(rep.actions.as_slice(), [Action::GaveUp { .. }]),
        "{}",
        rep.summary()
    );
    let ex = b.open("carol").read_exceptions().unwrap();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].tid, tid);
    assert_eq!(ex[0].amount, 400);
    assert_eq!(b.balance("carol"), c0 - 400);
    b.assert_conserved("gave up (exception counts)");
    // bob comes back still expecting T from carol: resume aborts it (carol no longer pending)
    let rep = b.resume("carol", "bob");
    assert!(
        matches!(rep.actions.as_slice(), [Action::ExpectationAborted { .. }]),
        "{}",
        rep.summary()
    );
    // and the old P4 can no longer be credited
    let e = b
        .open("bob")
        .xfer_payee_p4(&p4.unwrap())
        .expect_err("P4 after abort");
    assert_eq!(sw(&e), Some(0x9D0B));
    assert_eq!(b.balance("bob"), b0);
    b.assert_clear(&["carol", "bob"], "give up");
    b.assert_conserved("give up");
}

fn cli_resume(b: &mut Bank) {
    let (ra, rb) = (b.reader("alice"), b.reader("bob"));
    let (a0, b0) = (b.balance("alice"), b.balance("bob"));
    relay(b, "alice", "bob", 100, 4);
    let r = b.desk.purse(&["resume", &ra, &rb]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("delivered"), "{}", r.stdout);
    let r = b.desk.purse(&["resume", "--a", &ra, "--b", &rb]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("nothing to finish"), "{}", r.stdout);
    let r = b.desk.purse(&["--json", "resume", &ra, &rb]);
    assert_eq!(r.json()["finished"], true);
    // one reader without --give-up: refused with advice
    let r = b.desk.purse(&["resume", &ra]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("--give-up"), "{}", r.stderr);
    assert_eq!((b.balance("alice"), b.balance("bob")), (a0 - 100, b0 + 100));
}
