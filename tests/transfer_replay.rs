//! Replayed packets of a finished transfer (protocol.md 6.4, 6.5, threat T1-T3, B1, B3) through
//! pcscd against desk cards. A hostile relay drops the ACK, then replays every packet it recorded
//! (P1, P2, P4, ACK, and the abort of the TID) into fresh sessions of both cards; `resume`
//! with the two cards must then finish the transfer exactly once, with the first outcome, and
//! resume itself must never make a card count a BAD_KEY. The same after a power loss at every
//! persistent write of steps 3-5 (`purse desk tear NAME K`).
use purse_testkit as kit;

use kit::*;
use purse::card::transfer::PacketHeader;
use purse::proto::consts::{EntryType, Role, SecretRef, SlotState};

#[test]
fn replay() {
    let mut bank = Bank::standard(6, 0);
    run_cases(
        &mut bank,
        &[
            (
                "replay_every_packet_then_resume",
                replay_every_packet_then_resume,
            ),
            (
                "replay_after_power_loss_at_every_write",
                replay_after_power_loss_at_every_write,
            ),
        ],
    );
}

const A: u32 = 100; // at MIN_TRANS or below: no PIN, so the flow needs no VERIFY

/// What the relay recorded.
#[derive(Default, Debug)]
struct Wire {
    tid: Option<[u8; 6]>,
    p1: Option<Vec<u8>>,
    p2p3: Option<Vec<u8>>,
    p4: Option<Vec<u8>>,
    ack: Option<Vec<u8>>,
}

/// Steps 1-5 of 6.1 relayed by hand from `p` to `q`; the ACK is never delivered. `tear`: power
/// loss at write k of step s (0-based) on the card that receives it. Returns the wire and whether
/// the armed write was reached (false: the command had fewer writes; the tear is disarmed).
fn relay_drop_ack(b: &Bank, p: &str, q: &str, tear: Option<(usize, u32)>) -> (Wire, bool) {
    let mut w = Wire::default();
    let mut cp = b.open(p);
    let mut cq = b.open(q);
    let arm = |step: usize| -> Option<String> {
        let (s, k) = tear?;
        if s != step {
            return None;
        }
        let victim = if step % 2 == 0 { q } else { p };
        desk_ok(b.desk.path(), &["desk", "tear", victim, &k.to_string()]);
        Some(victim.to_string())
    };
    // the result of an armed step: Err = the card lost power (the relay stops there)
    let done = |victim: Option<String>, ok: bool| -> Option<bool> {
        let v = victim?;
        if ok {
            let _ = std::fs::remove_file(b.desk.path().join(format!("cards/{v}.img.tear")));
            Some(false)
        } else {
            Some(true)
        }
    };
    let v = arm(0);
    let hello = cq.payee_hello();
    if let Some(t) = done(v, hello.is_ok()) {
        if t {
            return (w, true);
        }
    }
    let hello = hello.expect("payee hello");
    let v = arm(1);
    let p1 = cp.xfer_payer_init(A, DATE, hello);
    let torn = done(v, p1.is_ok());
    let p1 = match p1 {
        Ok(p1) => p1,
        Err(_) => return (w, torn == Some(true)),
    };
    w.tid = Some(PacketHeader::parse(&p1).expect("P1").sid);
    w.p1 = Some(p1.clone());
    let v = arm(2);
    let r = cq.xfer_payee_p1(A, DATE, &p1);
    let torn = done(v, r.is_ok());
    let p2p3 = match r {
        Ok(x) => x,
        Err(_) => return (w, torn == Some(true)),
    };
    w.p2p3 = Some(p2p3.clone());
    let v = arm(3);
    let r = cp.xfer_payer_p2p3(&p2p3);
    let torn = done(v, r.is_ok());
    let p4 = match r {
        Ok(x) => x,
        Err(_) => return (w, torn == Some(true)),
    };
    w.p4 = Some(p4.clone());
    let v = arm(4);
    let r = cq.xfer_payee_p4(&p4);
    let torn = done(v, r.is_ok());
    match r {
        Ok(ack) => w.ack = Some(ack),
        Err(_) => return (w, torn == Some(true)),
    }
    (w, tear.is_some() && torn == Some(true))
}

/// A refusal with one of `sws`; an Ok is a failure of the test unless `ok_allowed`.
fn refused(r: Result<Vec<u8>, purse::card::CardError>, sws: &[u16], ok_allowed: bool, what: &str) {
    match r {
        Ok(_) => assert!(ok_allowed, "{what}: accepted"),
        Err(e) => {
            let sw = sw(&e).unwrap_or_else(|| panic!("{what}: {e}"));
            assert!(sws.contains(&sw), "{what}: {sw:04X}");
        }
    }
}

/// Every recorded packet into fresh sessions of both cards (the ACK into the payee only: into the
/// payer it is simply its delivery, which resume does).
fn replay_all(b: &Bank, p: &str, q: &str, w: &Wire, what: &str) {
    let pending_p = b.pending(p);
    let tid = match w.tid {
        Some(t) => t,
        None => return,
    };
    let p_pending_t = pending_p.out.state == SlotState::Transfer && pending_p.out.tid == tid;
    if let Some(p1) = &w.p1 {
        // payee: a fresh session (SELECT) then the old P1. Settled TID: 9D0C / 9D0B; otherwise the P1 was made
        // for another RP: 9D03. Never 9000 (a second expectation).
        let mut cq = b.open(q);
        let in_before = cq.get_pending().unwrap().r#in.state;
        if in_before == SlotState::None {
            cq.payee_hello().expect("fresh payee session");
            refused(
                cq.xfer_payee_p1(A, DATE, p1),
                &[0x9D0C, 0x9D0B, 0x9D03],
                false,
                &format!("{what}: P1 into the payee"),
            );
        }
        // the payer: its SELECT armed a payee session; 4C 00 ends it, so the P1 is refused by
        // state (into an armed session it would fail its MAC: the RP differs)
        let mut cp = b.open(p);
        cp.xfer_abort_session().expect("4C 00");
        refused(
            cp.xfer_payee_p1(A, DATE, p1),
            &[0x6985],
            false,
            &format!("{what}: P1 into the payer"),
        );
    }
    if let Some(p2p3) = &w.p2p3 {
        refused(
            b.open(p).xfer_payer_p2p3(p2p3),
            &[0x6985],
            false,
            &format!("{what}: P2 into the payer"),
        );
        refused(
            b.open(q).xfer_payer_p2p3(p2p3),
            &[0x6985],
            false,
            &format!("{what}: P2 into the payee"),
        );
    }
    if let Some(p4) = &w.p4 {
        // into the payee: a delivery if it still expects T (then it is the transfer's one credit)
        refused(
            b.open(q).xfer_payee_p4(p4),
            &[0x9D0C, 0x9D0B],
            true,
            &format!("{what}: P4 into the payee"),
        );
        refused(
            b.open(p).xfer_payee_p4(p4),
            &[0x9D0B],
            false,
            &format!("{what}: P4 into the payer"),
        );
    }
    if let Some(ack) = &w.ack {
        let r = b.open(q).xfer_payer_ack(ack).map(|_| Vec::new());
        refused(r, &[0x9D0B], false, &format!("{what}: ACK into the payee"));
    }
    // the abort of T on the payee: never a second outcome; it may abort a live expectation only
    // while the payer never debited (value-neutral NACK)
    let r = b.open(q).xfer_abort_expected(&tid);
    refused(
        r,
        &[0x9D0C, 0x9D0B],
        !p_pending_t,
        &format!("{what}: abort of T"),
    );
    let pq = b.pending(q);
    let n = pq.outcomes.iter().filter(|o| o.tid == tid).count();
    assert!(n <= 1, "{what}: {n} outcomes for one TID");
    assert!(
        pq.r#in.state == SlotState::None || pq.r#in.tid != tid || p_pending_t,
        "{what}: a second expectation"
    );
}

fn credits_for(b: &Bank, name: &str, tid: &[u8; 6]) -> usize {
    let mut c = b.open(name);
    c.verify(SecretRef::Pin, PIN).expect("PIN");
    let n = c.get_status().unwrap().passbook_count;
    c.read_passbook_all(n)
        .expect("passbook")
        .iter()
        .filter(|e| &e.tid == tid && e.kind == EntryType::Credit)
        .count()
}

/// Resume after the replays: finished, exactly once, no BAD_KEY counted by resume.
fn resume_exactly_once(
    b: &Bank,
    p: &str,
    q: &str,
    w: &Wire,
    before: (u32, u32),
    what: &str,
) -> bool {
    b.assert_conserved(&format!("{what}: before resume"));
    let bk = (b.status(p).bad_key, b.status(q).bad_key);
    let rep = b.resume(p, q);
    assert!(rep.finished(), "{what}: resume: {}", rep.summary());
    assert!(
        b.resume(p, q).actions.is_empty(),
        "{what}: second resume acted"
    );
    assert_eq!(
        (b.status(p).bad_key, b.status(q).bad_key),
        bk,
        "{what}: resume counted a BAD_KEY"
    );
    b.assert_clear(&[p, q], what);
    b.assert_conserved(&format!("{what}: after resume"));
    let after = (b.balance(p), b.balance(q));
    let moved = after == (before.0 - A, before.1 + A);
    assert!(moved || after == before, "{what}: {before:?} -> {after:?}");
    if let Some(t) = &w.tid {
        assert_eq!(
            credits_for(b, q, t),
            moved as usize,
            "{what}: CREDIT entries"
        );
        let n = b.pending(q).outcomes.iter().filter(|o| &o.tid == t).count();
        assert!(n <= 1, "{what}: {n} outcomes");
    }
    moved
}

fn replay_every_packet_then_resume(b: &mut Bank) {
    let before = (b.balance("alice"), b.balance("bob"));
    let (w, _) = relay_drop_ack(b, "alice", "bob", None);
    assert!(w.ack.is_some());
    assert_eq!(
        b.pending("alice").out.state,
        SlotState::Transfer,
        "ACK dropped: payer pending"
    );
    replay_all(b, "alice", "bob", &w, "no tear");
    // with both genuine cards present nothing of this costs a BAD_KEY
    assert_eq!((b.status("alice").bad_key, b.status("bob").bad_key), (0, 0));
    let moved = resume_exactly_once(b, "alice", "bob", &w, before, "no tear");
    assert!(moved, "the credited transfer is finished by its ACK");
    assert_eq!((b.status("alice").bad_key, b.status("bob").bad_key), (0, 0));
}

fn replay_after_power_loss_at_every_write(b: &mut Bank) {
    let o = CardOpts {
        bad_key_limit: 255,
        ..CardOpts::default()
    };
    let mut n = 0;
    let fresh = |b: &mut Bank, n: &mut u32| {
        *n += 1;
        let (p, q) = (format!("rp{n}"), format!("rq{n}"));
        b.issue(&p, Role::User, &format!("RPAY{n}"), &o);
        b.issue(&q, Role::User, &format!("RGET{n}"), &o);
        b.pay_ok("branch", &p, 20_000);
        (p, q)
    };
    let (mut p, mut q) = fresh(b, &mut n);
    let mut tears = 0;
    for step in 2..=4usize {
        let mut k = 1u32;
        loop {
            if b.status(&p).passbook_count >= 44 || b.status(&q).passbook_count >= 44 {
                b.retire(&p.clone());
                b.retire(&q.clone());
                (p, q) = fresh(b, &mut n);
            }
            b.ensure(&[&p, &q]);
            let what = format!("tear at write {k} of step {}", step + 1);
            let before = (b.balance(&p), b.balance(&q));
            let (w, torn) = relay_drop_ack(b, &p, &q, Some((step, k)));
            replay_all(b, &p, &q, &w, &what);
            resume_exactly_once(b, &p, &q, &w, before, &what);
            if !torn {
                eprintln!("  step {}: {} tear points", step + 1, k - 1);
                break;
            }
            tears += 1;
            k += 1;
            assert!(k < 60, "{what}: too many writes");
        }
    }
    eprintln!("  {tears} power losses injected");
    b.assert_conserved("after all tears");
}
