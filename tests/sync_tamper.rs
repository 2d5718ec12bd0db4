//! A hostile relay during sync (protocol.md 8, T21-T23): tampered P5 and P6 are refused
//! with no change of value, keys or passbook; a wrong passbook digest gets no CLEAR; a replayed
//! P6 is refused (9D0C); a forged INVALIDATE is refused and the card stays alive. The
//! wrong-digest case (what the ledger holds after a sync that did not clear) runs on both ledger
//! engines.
use purse_testkit as kit;
mod pgtest;

use std::cell::RefCell;
use std::rc::Rc;

use kit::*;
use purse::flows::resume::ResumeOptions;
use purse::proto::consts::{self, Life, SlotState};

#[test]
fn sync_tamper() {
    let mut bank = Bank::standard(8, 0);
    let d = bank.status("center").key_date + 5;
    advance(&bank, d, Some(RATE));
    sync_ok(&bank, "center", "region", d);
    ensure_admin(&mut bank);
    set_rate(&mut bank, "branch", RATE, d);
    sync_ok(&bank, "region", "branch", d);
    run_cases(
        &mut bank,
        &[
            ("wrong_digest_no_clear", wrong_digest_no_clear),
            ("only_the_exact_digest_clears", only_the_exact_digest_clears),
            ("postgres: wrong_digest_no_clear", |b| {
                pgtest::on_postgres(b, use_ledger, wrong_digest_no_clear)
            }),
            ("flip_bits_p5_refused", flip_bits_p5_refused),
            ("replay_p6_refused", replay_p6_refused),
            ("forged_invalidate_refused", forged_invalidate_refused),
            // last: it runs ten epochs without syncing bob
            (
                "flip_bits_p6_refused_then_resume",
                flip_bits_p6_refused_then_resume,
            ),
        ],
    );
}

fn data_of(cmd: &[u8]) -> Vec<u8> {
    if cmd.len() > 5 {
        cmd[5..5 + cmd[4] as usize].to_vec()
    } else {
        Vec::new()
    }
}

/// A relay that alters the host's digest on its way to the bank card (76's last 8 bytes): the
/// sync completes without CLEAR, the ledger keeps what it stored, the honest retry clears.
fn wrong_digest_no_clear(b: &mut Bank) {
    b.pay_ok("alice", "bob", 111);
    b.pay_ok("alice", "bob", 222);
    let n = b.status("alice").passbook_count;
    b.ensure(&["branch", "alice"]);
    let mut bk = open_hooked(b, "branch", |ins, cmd: &mut Vec<u8>| {
        if ins == 0x76 && cmd.len() >= 5 + consts::PKT_P5 as usize + 8 {
            cmd[5 + consts::PKT_P5 as usize + 3] ^= 0x01; // a byte of D'
        }
    });
    let mut cd = b.open("alice");
    let mut lg = ledger(b);
    let r = sync_cards(
        &mut bk,
        &mut cd,
        Some(&mut lg),
        &sync_options(branch_day(b)),
    )
    .expect("sync");
    drop((bk, cd));
    assert!(
        r.collected && !r.cleared,
        "cleared after a wrong digest: {}",
        r.summary()
    );
    assert!(r.summary().contains("NOT cleared"), "{}", r.summary());
    assert_eq!(b.status("alice").passbook_count, n + (r.interest > 0) as u8);
    assert_conserved_sync(b, &[], "wrong digest");
    // the honest retry clears, and the ledger holds each entry once
    let r = sync_ok(b, "branch", "alice", branch_day(b));
    assert!(r.cleared);
    assert_eq!(
        r.ledger.unwrap().entries_new,
        (r.passbook_entries - n) as usize
    );
}

/// One sync of alice with her branch in which the host sends the bank card the digest of
/// `plan(the entries it read)` (under another session's SID if `other_sid`): whether the card
/// cleared.
fn sync_digested_as(
    b: &mut Bank,
    plan: &dyn Fn(Vec<Vec<u8>>) -> Vec<Vec<u8>>,
    other_sid: bool,
) -> bool {
    use purse::proto::consts::SecretRef;
    let d = branch_day(b); // before the PINs: a status read re-selects the card
    b.ensure(&["branch", "alice"]);
    let mut k = b.open("branch");
    let mut c = b.open("alice");
    let st = c.get_status().unwrap();
    k.verify(SecretRef::Pin, PIN).unwrap();
    c.verify(SecretRef::Pin, PIN).unwrap();
    let hello = c.sync_card_init(d, false).unwrap();
    let s1 = k.sync_bank_init(false, hello, d).unwrap();
    let p5 = c.sync_card_s1(&s1).unwrap();
    let raw = c.read_passbook_raw_all(st.passbook_count).unwrap();
    let stored = plan(raw.chunks(42).map(|e| e.to_vec()).collect()).concat();
    let exc = if st.exception_count > 0 {
        c.read_exceptions_raw().unwrap()
    } else {
        Vec::new()
    };
    let mut sid = p5.sid();
    if other_sid {
        sid[5] ^= 1;
    }
    let digest = purse::proto::sync::digest_of(&sid, &stored, &exc, false);
    let ans = k.sync_bank_p5(p5.bytes(), &digest).unwrap();
    let applied = c.sync_card_p6(ans.bytes()).unwrap().expect("SACK");
    k.sync_bank_ack(&applied.sack).unwrap();
    applied.status.expect("78's status").passbook_count < st.passbook_count
}

/// protocol.md 12.5.3: the card clears only when the host's digest is of exactly its entries, in
/// order, in this session: an entry dropped, added, swapped or altered, or the right entries
/// under another session's SID (a digest seen in an earlier sync), never clears.
fn only_the_exact_digest_clears(b: &mut Bank) {
    type Plan = fn(Vec<Vec<u8>>) -> Vec<Vec<u8>>;
    let cases: [(&str, Plan, bool, bool); 7] = [
        ("the entries as read", |e| e, false, true),
        (
            "the entries as read, another session's SID",
            |e| e,
            true,
            false,
        ),
        (
            "the newest entry dropped",
            |mut e| {
                e.pop();
                e
            },
            false,
            false,
        ),
        (
            "the newest entry twice",
            |mut e| {
                let last = e[e.len() - 1].clone();
                e.push(last);
                e
            },
            false,
            false,
        ),
        (
            "two entries swapped",
            |mut e| {
                e.swap(0, 1);
                e
            },
            false,
            false,
        ),
        (
            "entry 8 altered",
            |mut e| {
                e[7][30] ^= 0x01;
                e
            },
            false,
            false,
        ),
        ("nothing stored (00 x 8)", |_| Vec::new(), false, false),
    ];
    for (what, plan, other_sid, clears) in cases {
        while b.status("alice").passbook_count < 9 {
            b.pay_ok("alice", "bob", 7);
        }
        assert_eq!(sync_digested_as(b, &plan, other_sid), clears, "{what}");
        assert_conserved_sync(b, &[], what);
    }
}

/// Byte positions to flip in a packet of `len` bytes: header (TYPE, KEYNUM, SID), the first and
/// last ciphertext bytes, the MAC.
fn positions(len: usize) -> Vec<usize> {
    vec![0, 1, 2, 7, 8, 9, len / 2, len - 9, len - 8, len - 1]
}

fn flip_bits_p5_refused(b: &mut Bank) {
    let d = branch_day(b);
    b.pay_ok("bob", "alice", 50);
    let total = consts::PKT_P5 as usize; // one packet: the identity and the commitment
    let pos: Vec<usize> = positions(total);
    for p in pos {
        assert!(p < total);
        b.ensure(&["branch", "bob"]);
        let (sb, sc) = (b.status("branch"), b.status("bob"));
        let mut bk = open_hooked(b, "branch", move |ins, cmd: &mut Vec<u8>| {
            if ins == 0x76 {
                cmd[5 + p] ^= 0x80;
            }
        });
        let mut cd = b.open("bob");
        let mut lg = ledger(b);
        let e = sync_cards(&mut bk, &mut cd, Some(&mut lg), &sync_options(d))
            .expect_err("tampered P5 accepted");
        drop((bk, cd));
        assert_eq!(sw(&e), Some(0x9D03), "byte {p}: {e}");
        let (sb2, sc2) = (b.status("branch"), b.status("bob"));
        assert_eq!(money_view(&sb2), money_view(&sb), "byte {p}: bank changed");
        assert_eq!(money_view(&sc2), money_view(&sc), "byte {p}: card changed");
        assert_eq!(sb2.bad_key, sb.bad_key + 1, "byte {p}: bank BAD_KEY");
        assert_eq!(
            b.pending("bob").r#in.state,
            SlotState::None,
            "byte {p}: expectation aborted"
        );
        assert_eq!(b.pending("branch").out.state, SlotState::None);
    }
    assert_conserved_sync(b, &[], "after tampered P5s");
    // the bank card's BAD_KEY is reset by its own sync upwards
    let r = sync_ok(b, "region", "branch", d);
    assert_eq!(b.status("branch").bad_key, 0, "{}", r.summary());
}

fn flip_bits_p6_refused_then_resume(b: &mut Bank) {
    let mut d = branch_day(b);
    for p in positions(80) {
        // a new epoch each time so every P6 carries a key and interest
        d += 1;
        advance(b, d, None);
        sync_ok(b, "center", "region", d);
        sync_ok(b, "region", "branch", d);
        b.ensure(&["branch", "alice"]);
        let (sb, sc) = (b.status("branch"), b.status("alice"));
        let mut bk = b.open("branch");
        let mut cd = open_hooked(b, "alice", move |ins, cmd: &mut Vec<u8>| {
            if ins == 0x78 {
                cmd[5 + p] ^= 0x01;
            }
        });
        let mut lg = ledger(b);
        let mut o = sync_options(d);
        o.auto_finish = false;
        let e = sync_cards(&mut bk, &mut cd, Some(&mut lg), &o).expect_err("tampered P6 accepted");
        drop((bk, cd));
        // SID bytes: not this card's sync (a state check: 9D0B, nothing counted); else 9D03 +BK
        let sid = (2..8).contains(&p);
        assert_eq!(
            sw(&e),
            Some(if sid { 0x9D0B } else { 0x9D03 }),
            "byte {p}: {e}"
        );
        let sc2 = b.status("alice");
        assert_eq!(money_view(&sc2), money_view(&sc), "byte {p}: card changed");
        assert_eq!(sc2.bad_key, sc.bad_key + (!sid) as u8, "byte {p}: BAD_KEY");
        assert_eq!(b.pending("alice").r#in.state, SlotState::Sync);
        // the bank has debited; the value is held in its OUT = SYNC
        assert_conserved_sync(b, &["branch", "alice"], &format!("byte {p}: in flight"));
        let rep = b.resume("branch", "alice");
        assert!(rep.finished(), "byte {p}: {}", rep.summary());
        let again = b.resume("branch", "alice");
        assert!(
            again.actions.is_empty(),
            "byte {p}: second resume: {}",
            again.summary()
        );
        let (sb3, sc3) = (b.status("branch"), b.status("alice"));
        let i = sc3.balance - sc.balance;
        assert_eq!(sb.balance - sb3.balance, i, "byte {p}: interest moved once");
        assert_eq!(sc3.current_key, sb.current_key, "byte {p}: key installed");
        assert_eq!(sc3.bad_key, 0, "byte {p}: BAD_KEY reset by the P6");
        assert_conserved_sync(b, &["branch", "alice"], &format!("byte {p}: after resume"));
    }
}

fn replay_p6_refused(b: &mut Bank) {
    let d = branch_day(b);
    let seen: Rc<RefCell<Option<Vec<u8>>>> = Rc::default();
    let sack: Rc<RefCell<Option<Vec<u8>>>> = Rc::default();
    b.ensure(&["branch", "bob"]);
    let (s1, s2) = (seen.clone(), sack.clone());
    let mut bk = open_hooked(b, "branch", move |ins, cmd: &mut Vec<u8>| {
        if ins == 0x7A {
            *s2.borrow_mut() = Some(data_of(cmd));
        }
    });
    let mut cd = open_hooked(b, "bob", move |ins, cmd: &mut Vec<u8>| {
        if ins == 0x78 {
            *s1.borrow_mut() = Some(data_of(cmd));
        }
    });
    let mut lg = ledger(b);
    sync_cards(&mut bk, &mut cd, Some(&mut lg), &sync_options(d)).expect("sync");
    drop((bk, cd));
    let p6 = seen.borrow().clone().expect("P6 seen");
    let sk = sack.borrow().clone().expect("SACK seen");
    let (sb, sc) = (b.status("branch"), b.status("bob"));
    let e = b
        .open("bob")
        .sync_card_p6(&p6)
        .expect_err("replayed P6 accepted");
    assert_eq!(sw(&e), Some(0x9D0C), "{e}");
    let e = b
        .open("branch")
        .sync_bank_ack(&sk)
        .expect_err("replayed SACK accepted");
    assert_eq!(sw(&e), Some(0x9D0B), "{e}");
    assert_eq!(b.status("bob"), sc, "replay changed the card");
    assert_eq!(b.status("branch"), sb, "replay changed the bank");
}

fn forged_invalidate_refused(b: &mut Bank) {
    let d = branch_day(b);
    b.ensure(&["branch", "bob"]);
    let sc = b.status("bob");
    let mut bk = b.open("branch");
    // replace the P6 by an INVALIDATE-shaped packet with the right header but no valid MAC
    let mut cd = open_hooked(b, "bob", |ins, cmd: &mut Vec<u8>| {
        if ins == 0x78 {
            let mut d = data_of(cmd);
            d.truncate(64);
            d[0] = 0x59;
            for x in d[8..].iter_mut() {
                *x ^= 0x5A;
            }
            let mut c = cmd[..4].to_vec();
            c.push(d.len() as u8);
            c.extend_from_slice(&d);
            c.push(0);
            *cmd = c;
        }
    });
    let mut lg = ledger(b);
    let mut o = sync_options(d);
    o.auto_finish = false;
    let e =
        sync_cards(&mut bk, &mut cd, Some(&mut lg), &o).expect_err("forged INVALIDATE accepted");
    drop((bk, cd));
    assert_eq!(sw(&e), Some(0x9D03), "{e}");
    let sc2 = b.status("bob");
    assert_eq!(sc2.life, Life::Active, "forged INVALIDATE obeyed");
    assert_eq!(money_view(&sc2), money_view(&sc));
    let rep = b.resume("branch", "bob");
    assert!(rep.finished(), "{}", rep.summary());
    assert_eq!(b.status("bob").life, Life::Active);
    let _ = ResumeOptions::default();
    assert_conserved_sync(b, &["branch", "bob"], "after forged INVALIDATE");
}
