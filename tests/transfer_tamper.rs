//! A hostile relay (protocol.md 8, T4/T5): a CardIo wrapper flips bits of the relayed packets
//! (P1 → payee, P2 → payer, P4 → payee, ACK → payer). Every flip must end in a clean refusal
//! (a status word the CLI explains, never 6F00), no value created or lost, and:
//! - a flip in P1 or P2: both balances unchanged (after the automatic abort of the payee's
//!   expectation);
//! - a flip in P4 or the ACK: the payer has debited (value held in its pending slot); `resume`
//!   then finishes the transfer exactly once.
//!
//! Default: every byte of every packet, with the flipped bit rotating (bit = byte index mod 8)
//! — 240 flips, within one pair of cards' BAD_KEY limit (255). PURSE_TAMPER_ALL=1 flips every
//! bit of every packet (1,920 flips, fresh cards every 240 refusals; several minutes).
use purse_testkit as kit;

use std::cell::Cell;
use std::rc::Rc;

use kit::*;
use purse::flows::transfer::{self as xfer, Secrets};
use purse::proto::consts::{self as c, Role, SlotState};

#[test]
fn tamper() {
    let mut bank = Bank::standard(8, 0);
    run_cases(
        &mut bank,
        &[
            ("flip_every_bit", flip_every_bit),
            ("random_packets_lock_card", random_packets_lock_card),
            (
                "reflect_reorder_splice_refused",
                reflect_reorder_splice_refused,
            ),
        ],
    );
}

/// (INS carrying the packet, packet length, which card receives it: true = payee).
const PACKETS: [(u8, usize, bool); 4] = [
    (0x44, 64, true),
    (0x46, c::PKT_P2_TX_AES as usize, false),
    (0x48, 48, true),
    (0x4A, 48, false),
];

fn new_pair(b: &mut Bank, n: &mut u32) -> (String, String) {
    *n += 1;
    let o = CardOpts {
        bad_key_limit: 255,
        ..CardOpts::default()
    };
    let (p, q) = (format!("tp{n}"), format!("tq{n}"));
    b.issue(&p, Role::User, &format!("PAYER{n}"), &o);
    b.issue(&q, Role::User, &format!("PAYEE{n}"), &o);
    b.pay_ok("branch", &p, 5_000); // 50.00: one pair makes at most ~45 payments of 1.00
    (p, q)
}

fn flip_every_bit(b: &mut Bank) {
    let all = std::env::var_os("PURSE_TAMPER_ALL").is_some();
    let mut n = 0;
    let (mut p, mut q) = new_pair(b, &mut n);
    let amount = 100; // 1.00 <= MIN_TRANS: no PIN, so every APDU of the flow is relayed as is
    let mut flips = 0;
    let mut completed_by_resume = 0;
    for (ins, len, to_payee) in PACKETS {
        for byte in 0..len {
            let bits: Vec<u8> = if all {
                (0..8).collect()
            } else {
                vec![(byte % 8) as u8]
            };
            for bit in bits {
                // fresh cards before a BAD_KEY limit or a passbook fills up
                let (sp, sq) = (b.status(&p), b.status(&q));
                if sp.bad_key >= 240
                    || sq.bad_key >= 240
                    || sp.passbook_count >= 45
                    || sq.passbook_count >= 45
                {
                    b.retire(&p);
                    b.retire(&q);
                    (p, q) = new_pair(b, &mut n);
                }
                let (p0, q0) = (b.balance(&p), b.balance(&q));
                let armed = Rc::new(Cell::new(true));
                // 44 carries AMOUNT | DATE before P1 (clear, like the old 40's: an altered amount
                // is T12's 9D07 at step 4, the date is informative, T20); the packet follows
                let at = if ins == 0x44 { 5 + 6 } else { 5 };
                let flip = |armed: Rc<Cell<bool>>| {
                    move |i: u8, cmd: &mut Vec<u8>| {
                        if i == ins && armed.get() {
                            armed.set(false);
                            assert!(cmd.len() >= at + len, "packet APDU too short");
                            cmd[at + byte] ^= 1 << bit;
                        }
                    }
                };
                let mut cp = open_hooked(b, &p, flip(armed.clone()));
                let mut cq = open_hooked(b, &q, flip(armed.clone()));
                let r = xfer::transfer(
                    &mut cp,
                    &mut cq,
                    amount,
                    DATE,
                    &Secrets::default(),
                    true,
                    &no_resume(),
                );
                let what = format!("INS {ins:02X} byte {byte} bit {bit}");
                assert!(!armed.get(), "{what}: the packet was never relayed ({r:?})");
                let e = match r {
                    Ok(_) => panic!("{what}: a tampered packet was accepted"),
                    Err(e) => e,
                };
                let sw = sw(&e).unwrap_or_else(|| panic!("{what}: not a card refusal: {e}"));
                assert!(
                    matches!(sw, 0x9D03 | 0x9D02 | 0x9D0B),
                    "{what}: unexpected status {sw:04X}: {e}"
                );
                let (_, side) = e.at().unwrap();
                assert_eq!(
                    side == xfer::Side::Payee,
                    to_payee,
                    "{what}: refused by the wrong card"
                );
                drop((cp, cq));
                let (p1, q1) = (b.balance(&p), b.balance(&q));
                let pend = (b.pending(&p), b.pending(&q));
                if ins == 0x44 || ins == 0x46 {
                    assert_eq!((p1, q1), (p0, q0), "{what}: balances changed");
                    assert_eq!(pend.0.out.state, SlotState::None, "{what}: payer pending");
                } else {
                    // the payer debited; the value is held in its pending slot
                    assert_eq!(p1, p0 - amount, "{what}");
                    assert_eq!(pend.0.out.state, SlotState::Transfer, "{what}");
                    assert_eq!(pend.0.out.amount, amount, "{what}");
                    let credited = q1 == q0 + amount;
                    assert_eq!(credited, ins == 0x4A, "{what}: payee credited {q0} -> {q1}");
                }
                // resume: abort (P1/P2) or finish exactly once (P4/ACK)
                let rep = b.resume(&p, &q);
                assert!(rep.finished(), "{what}: resume: {}", rep.summary());
                b.assert_clear(&[&p, &q], &what);
                let (p2, q2) = (b.balance(&p), b.balance(&q));
                if ins == 0x44 || ins == 0x46 {
                    assert_eq!((p2, q2), (p0, q0), "{what}: after resume");
                } else {
                    assert_eq!((p2, q2), (p0 - amount, q0 + amount), "{what}: after resume");
                    completed_by_resume += 1;
                }
                flips += 1;
            }
        }
    }
    b.assert_conserved("after all flips");
    eprintln!("  {flips} flips, {completed_by_resume} finished by resume, {n} card pair(s)");
}

fn random_packets_lock_card(b: &mut Bank) {
    let o = CardOpts {
        bad_key_limit: 5,
        ..CardOpts::default()
    };
    b.issue("victim", Role::User, "VICTIM", &o);
    let mut seed: u64 = 0x9E3779B97F4A7C15;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed & 0xFF) as u8
    };
    let mut v = b.open("victim");
    let mut refusals = 0;
    for i in 0..5 {
        let hello = v.payee_hello().expect("init");
        let mut p1: Vec<u8> = (0..64).map(|_| rnd()).collect();
        p1[0] = 0x41; // right type and key number, random rest: the MAC fails
        p1[1] = hello.oldest.wrapping_add(2);
        let e = v
            .xfer_payee_p1(100, DATE, &p1)
            .expect_err("random packet accepted");
        assert_eq!(sw(&e), Some(0x9D03), "packet {i}: {e}");
        refusals += 1;
    }
    assert_eq!(refusals, 5);
    let st = v.get_status().unwrap();
    assert_eq!(st.bad_key, 5);
    assert!(st.locked());
    let e = kit::payee_row_e(&mut v, 100).expect_err("locked");
    assert_eq!(sw(&e), Some(0x9D01));
    assert_eq!(st.balance, 0);
}

/// T9/T10 with two readers: packets reflected to their sender, sent out of order, or spliced from
/// another (older) transfer are refused; nothing moves; resume cleans up.
fn reflect_reorder_splice_refused(b: &mut Bank) {
    use purse::card::transfer::PacketHeader;
    let (a0, b0) = (b.balance("alice"), b.balance("bob"));
    // an old, completed transfer alice -> bob: its packets, for splicing
    let (old_p4, old_ack) = {
        let mut p = b.open("alice");
        let mut q = b.open("bob");
        let h = q.payee_hello().unwrap();
        let p1 = p.xfer_payer_init(100, DATE, h).unwrap();
        let p2 = q.xfer_payee_p1(100, DATE, &p1).unwrap();
        let p4 = p.xfer_payer_p2p3(&p2).unwrap();
        let ack = q.xfer_payee_p4(&p4).unwrap();
        p.xfer_payer_ack(&ack).unwrap();
        (p4, ack)
    };
    let mut p = b.open("alice");
    let mut q = b.open("bob");
    // reflect P1 back to the payer as if it were P2 (padded to its 80 bytes): type 41 != 42
    let h = q.payee_hello().unwrap();
    let p1 = p.xfer_payer_init(100, DATE, h).unwrap();
    let mut refl = p1.clone();
    refl.resize(c::PKT_P2_TX_AES as usize, 0);
    let e = p.xfer_payer_p2p3(&refl).expect_err("reflected P1");
    assert_eq!(sw(&e), Some(0x9D03), "reflected P1: {e}");
    // out of order: P2 now comes from a session the payer no longer has (its error ended it)
    let p2 = q.xfer_payee_p1(100, DATE, &p1).unwrap();
    let e = p.xfer_payer_p2p3(&p2).expect_err("payer session gone");
    assert_eq!(sw(&e), Some(0x6985), "{e}");
    // P2 reflected to the payee as a P1 of a new session: its TID is settled (aborted: NACK), so
    // the payee refuses it by state before any key (9D0B, protocol.md 6.2 row P1)
    q.xfer_abort_expected(&PacketHeader::parse(&p1).unwrap().sid)
        .unwrap();
    q.payee_hello().unwrap();
    let e = q
        .xfer_payee_p1(100, DATE, &p2[..64])
        .expect_err("reflected P2");
    assert_eq!(sw(&e), Some(0x9D0B), "reflected P2: {e}");
    // a fresh transfer up to the debit; then splice the OLD transfer's P4 into the payee and
    // the old ACK into the payer: refused by TID (no BAD_KEY, no change)
    let h = q.payee_hello().unwrap();
    let p1 = p.xfer_payer_init(100, DATE, h).unwrap();
    let p2 = q.xfer_payee_p1(100, DATE, &p1).unwrap();
    let p4 = p.xfer_payer_p2p3(&p2).unwrap();
    let bk = (
        p.get_status().unwrap().bad_key,
        q.get_status().unwrap().bad_key,
    );
    let e = q.xfer_payee_p4(&old_p4).expect_err("old P4");
    assert_eq!(sw(&e), Some(0x9D0C), "old P4: {e}");
    let e = p.xfer_payer_ack(&old_ack).expect_err("old ACK");
    assert_eq!(sw(&e), Some(0x9D0B), "old ACK: {e}");
    // the ACK reflected to the payee as a P4: type 45 != 44
    let ack_like = old_ack.clone();
    let e = q.xfer_payee_p4(&ack_like).expect_err("ACK as P4");
    assert!(
        matches!(sw(&e), Some(0x9D03) | Some(0x9D0C) | Some(0x9D0B)),
        "ACK as P4: {e}"
    );
    // P4 reflected back to the payer as an ACK: type 44 not 45/46
    let e = p.xfer_payer_ack(&p4).expect_err("P4 as ACK");
    assert_eq!(sw(&e), Some(0x9D03), "P4 as ACK: {e}");
    let bk2 = (
        p.get_status().unwrap().bad_key,
        q.get_status().unwrap().bad_key,
    );
    assert!(bk2.0 >= bk.0 && bk2.1 >= bk.1);
    drop((p, q));
    // the real P4 is still deliverable: resume finishes exactly once
    let rep = b.resume("alice", "bob");
    assert!(rep.finished(), "{}", rep.summary());
    assert_eq!((b.balance("alice"), b.balance("bob")), (a0 - 200, b0 + 200));
    b.assert_clear(&["alice", "bob"], "relay");
    b.assert_conserved("relay");
}
