//! Interrupted transfers (B1, protocol.md 6.4, threat T11): pull either card before every step,
//! and inject power loss at every persistent write of every command of the flow on the card
//! that receives it (`purse desk tear NAME K`). After each interruption, `resume` with the two
//! cards must leave both clear with: value conserved (Σ balances + in-flight + exceptions =
//! minted) at every point, the transfer done exactly once or not at all (never credited twice),
//! and the old P4 / ACK replayed afterwards refused with no state change.
use purse_testkit as kit;

use std::cell::RefCell;
use std::rc::Rc;

use kit::*;
use purse::card::CardError;
use purse::flows::transfer::{self as xfer, Secrets, TransferError};
use purse::proto::consts::{EntryType, Role, SecretRef};

#[test]
fn tearing() {
    let mut bank = Bank::standard(8, 0);
    run_cases(
        &mut bank,
        &[
            ("pull_every_step_then_resume", pull_every_step_then_resume),
            ("tear_every_write_both_cards", tear_every_write_both_cards),
            ("tear_every_write_of_resume", tear_every_write_of_resume),
        ],
    );
}

const AMOUNT: u32 = 100;
/// Steps 2-6 of protocol.md 6.1: (INS, the card it goes to: true = payee). Step 1 is the payee's
/// SELECT, sent when the card is opened: it writes nothing, and a card pulled before it is a card
/// that does not open.
const STEPS: [(u8, bool); 5] = [
    (0x42, false),
    (0x44, true),
    (0x46, false),
    (0x48, true),
    (0x4A, false),
];

struct Pair {
    p: String,
    q: String,
    n: u32,
    prefix: &'static str,
}

impl Pair {
    fn new(b: &mut Bank, prefix: &'static str) -> Pair {
        let mut x = Pair {
            p: String::new(),
            q: String::new(),
            n: 0,
            prefix,
        };
        x.fresh(b);
        x
    }
    fn fresh(&mut self, b: &mut Bank) {
        if !self.p.is_empty() {
            b.retire(&self.p.clone());
            b.retire(&self.q.clone());
        }
        self.n += 1;
        let o = CardOpts {
            bad_key_limit: 255,
            ..CardOpts::default()
        };
        self.p = format!("{}p{}", self.prefix, self.n);
        self.q = format!("{}q{}", self.prefix, self.n);
        b.issue(&self.p.clone(), Role::User, &format!("PAYER{}", self.n), &o);
        b.issue(&self.q.clone(), Role::User, &format!("PAYEE{}", self.n), &o);
        b.pay_ok("branch", &self.p.clone(), 20_000);
    }
    /// Fresh cards before a passbook fills up.
    fn ensure_room(&mut self, b: &mut Bank) {
        let (sp, sq) = (b.status(&self.p), b.status(&self.q));
        if sp.passbook_count >= 44 || sq.passbook_count >= 44 || sp.exception_count >= 3 {
            self.fresh(b);
        }
    }
}

/// Number of CREDIT entries for `tid` in the card's passbook.
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

/// Packets seen on the wire during the interrupted attempt (for the replay checks).
#[derive(Default)]
struct Seen {
    p4: Option<Vec<u8>>,
    ack: Option<Vec<u8>>,
    tid: Option<[u8; 6]>,
}

/// After an interruption: resume, then check everything. `before` = balances before the attempt.
fn check_after(b: &Bank, pair: &Pair, before: (u32, u32), seen: &Seen, what: &str) {
    b.assert_conserved(&format!("{what}: before resume"));
    let rep = b.resume(&pair.p, &pair.q);
    assert!(rep.finished(), "{what}: resume: {}", rep.summary());
    // exactly once: a second resume has nothing to do
    let again = b.resume(&pair.p, &pair.q);
    assert!(
        again.actions.is_empty(),
        "{what}: second resume acted: {}",
        again.summary()
    );
    b.assert_clear(&[&pair.p, &pair.q], what);
    b.assert_conserved(&format!("{what}: after resume"));
    let (p1, q1) = (b.balance(&pair.p), b.balance(&pair.q));
    let moved = (p1, q1) == (before.0 - AMOUNT, before.1 + AMOUNT);
    let unmoved = (p1, q1) == before;
    assert!(
        moved || unmoved,
        "{what}: balances {before:?} -> ({p1}, {q1})"
    );
    if let Some(t) = &seen.tid {
        let c = credits_for(b, &pair.q, t);
        assert_eq!(
            c, moved as usize,
            "{what}: {c} CREDIT entries for the transfer"
        );
    }
    // replays: no state change, no BAD_KEY
    let st = (b.status(&pair.p), b.status(&pair.q));
    if let Some(p4) = &seen.p4 {
        let e = b
            .open(&pair.q)
            .xfer_payee_p4(p4)
            .expect_err("replayed P4 accepted");
        let sw = sw(&e).expect("refusal");
        assert!(
            matches!(sw, 0x9D0C | 0x9D0B),
            "{what}: replayed P4 -> {sw:04X}"
        );
    }
    if let Some(ack) = &seen.ack {
        let e = b
            .open(&pair.p)
            .xfer_payer_ack(ack)
            .expect_err("replayed ACK accepted");
        assert_eq!(sw(&e), Some(0x9D0B), "{what}: replayed ACK: {e}");
    }
    let st2 = (b.status(&pair.p), b.status(&pair.q));
    assert_eq!(st, st2, "{what}: a replay changed a card");
}

type HookedCard<F> = purse::card::PurseCard<Hooked<purse::transport::Connection, F>>;

#[allow(clippy::type_complexity)]
fn hooked_pair(
    b: &Bank,
    pair: &Pair,
    seen: Rc<RefCell<Seen>>,
    before_send: Rc<dyn Fn(u8)>,
) -> (
    HookedCard<impl FnMut(u8, &mut Vec<u8>)>,
    HookedCard<impl FnMut(u8, &mut Vec<u8>)>,
) {
    let mk = |seen: Rc<RefCell<Seen>>, bs: Rc<dyn Fn(u8)>| {
        move |ins: u8, cmd: &mut Vec<u8>| {
            let data = if cmd.len() > 5 {
                cmd[5..5 + cmd[4] as usize].to_vec()
            } else {
                Vec::new()
            };
            match ins {
                // AMOUNT | DATE | P1: the TID is P1's SID
                0x44 => seen.borrow_mut().tid = Some(data[8..14].try_into().unwrap()),
                0x48 => seen.borrow_mut().p4 = Some(data),
                0x4A => seen.borrow_mut().ack = Some(data),
                _ => {}
            }
            bs(ins);
        }
    };
    let cp = open_hooked(b, &pair.p, mk(seen.clone(), before_send.clone()));
    let cq = open_hooked(b, &pair.q, mk(seen, before_send));
    (cp, cq)
}

fn is_lost(e: &TransferError) -> bool {
    matches!(
        e,
        TransferError::Card {
            err: CardError::Transport(_),
            ..
        }
    )
}

fn pull_every_step_then_resume(b: &mut Bank) {
    let mut pair = Pair::new(b, "pull");
    for (step, (ins, _)) in STEPS.iter().enumerate() {
        for victim_is_payee in [false, true] {
            pair.ensure_room(b);
            let victim = if victim_is_payee {
                pair.q.clone()
            } else {
                pair.p.clone()
            };
            let what = format!("pull {victim} before step {}", step + 2);
            let before = (b.balance(&pair.p), b.balance(&pair.q));
            let seen = Rc::new(RefCell::new(Seen::default()));
            let pulled = Rc::new(RefCell::new(false));
            let (dir, v, pl, target) = (
                b.desk.path().to_path_buf(),
                victim.clone(),
                pulled.clone(),
                *ins,
            );
            let hook: Rc<dyn Fn(u8)> = Rc::new(move |i: u8| {
                if i == target && !*pl.borrow() {
                    *pl.borrow_mut() = true;
                    desk_ok(&dir, &["desk", "pull", &v]);
                }
            });
            b.ensure(&[&pair.p, &pair.q]);
            let (mut cp, mut cq) = hooked_pair(b, &pair, seen.clone(), hook);
            let r = xfer::transfer(
                &mut cp,
                &mut cq,
                AMOUNT,
                DATE,
                &Secrets::default(),
                true,
                &xfer::RunOptions::default(),
            );
            drop((cp, cq));
            assert!(*pulled.borrow(), "{what}: never pulled");
            // the payee gets no command after step 5: pulled before step 6, the transfer completes
            if victim_is_payee && step == 4 {
                assert!(r.is_ok(), "{what}: {}", r.err().unwrap());
            } else {
                let e = match r {
                    Ok(_) => panic!("{what}: the transfer finished with a pulled card"),
                    Err(e) => e,
                };
                assert!(is_lost(&e), "{what}: {e}");
                let msg = e.to_string();
                assert!(
                    msg.contains("purse resume") || msg.contains("no money moved"),
                    "{what}: {msg}"
                );
            }
            // put the card back (same slot)
            let slot = b.slot_of(&victim).expect("slot");
            b.desk.insert(&victim, Some(slot), false);
            check_after(b, &pair, before, &seen.borrow(), &what);
        }
    }
}

fn tear_every_write_both_cards(b: &mut Bank) {
    let mut pair = Pair::new(b, "tear");
    let mut tears = 0;
    for (step, (ins, to_payee)) in STEPS.iter().enumerate() {
        let mut k = 1u32;
        loop {
            pair.ensure_room(b);
            let victim = if *to_payee {
                pair.q.clone()
            } else {
                pair.p.clone()
            };
            let what = format!(
                "tear {victim} at write {k} of step {} (INS {ins:02X})",
                step + 2
            );
            let before = (b.balance(&pair.p), b.balance(&pair.q));
            let bk_before = (b.status(&pair.p).bad_key, b.status(&pair.q).bad_key);
            let seen = Rc::new(RefCell::new(Seen::default()));
            let (dir, v, target) = (b.desk.path().to_path_buf(), victim.clone(), *ins);
            let armed = Rc::new(RefCell::new(false));
            let ar = armed.clone();
            let hook: Rc<dyn Fn(u8)> = Rc::new(move |i: u8| {
                if i == target && !*ar.borrow() {
                    *ar.borrow_mut() = true;
                    desk_ok(&dir, &["desk", "tear", &v, &k.to_string()]);
                }
            });
            b.ensure(&[&pair.p, &pair.q]);
            let (mut cp, mut cq) = hooked_pair(b, &pair, seen.clone(), hook);
            let r = xfer::transfer(
                &mut cp,
                &mut cq,
                AMOUNT,
                DATE,
                &Secrets::default(),
                true,
                &xfer::RunOptions {
                    auto_resume: false,
                    expect_payee: None,
                },
            );
            drop((cp, cq));
            assert!(*armed.borrow(), "{what}: the command was never sent");
            match &r {
                Err(e) if is_lost(e) => {
                    tears += 1;
                    // the card re-inserts itself after the power loss; resume and check
                    check_after(b, &pair, before, &seen.borrow(), &what);
                    k += 1;
                }
                _ => {
                    // fewer than k writes: the command completed untorn; the transfer must
                    // have completed too (or the tear file is left armed: clean it)
                    let tear_file = b.desk.path().join(format!("cards/{victim}.img.tear"));
                    let _ = std::fs::remove_file(tear_file);
                    assert!(r.is_ok(), "{what}: {}", r.err().unwrap());
                    assert_eq!(
                        (b.status(&pair.p).bad_key, b.status(&pair.q).bad_key),
                        bk_before,
                        "{what}: BAD_KEY changed"
                    );
                    eprintln!("  step {} (INS {ins:02X}): {} tear points", step + 2, k - 1);
                    break;
                }
            }
            assert!(k < 200, "{what}: more than 200 writes in one command?");
        }
    }
    eprintln!("  {tears} power losses injected");
    b.assert_conserved("after all tears");
}

/// Which interrupted state the resume case starts from.
#[derive(Clone, Copy, Debug)]
enum Start {
    /// payee expects T, payer never debited: resume aborts the expectation (4C 01 on the payee)
    PayeeExpecting,
    /// payer pending, payee expecting: resume delivers P4 (48 payee) then the ACK (4A payer)
    BothHalves,
    /// payer pending, payee NACKed: resume refunds (4A with NACK on the payer)
    PayerPendingNacked,
    /// payer pending, payee lost: --give-up (54 on the payer)
    GiveUp,
}

fn make_start(b: &Bank, pair: &Pair, start: Start) {
    let mut p = b.open(&pair.p);
    let mut q = b.open(&pair.q);
    let hello = q.payee_hello().unwrap();
    let p1 = p.xfer_payer_init(AMOUNT, DATE, hello).unwrap();
    let tid = purse::card::transfer::PacketHeader::parse(&p1).unwrap().sid;
    let p2p3 = q.xfer_payee_p1(AMOUNT, DATE, &p1).unwrap();
    if let Start::PayeeExpecting = start {
        return;
    }
    p.xfer_payer_p2p3(&p2p3).unwrap();
    if let Start::PayerPendingNacked = start {
        q.xfer_abort_expected(&tid).unwrap();
    }
}

fn tear_every_write_of_resume(b: &mut Bank) {
    use purse::flows::resume::{resume, ResumeOptions};
    let mut pair = Pair::new(b, "res");
    let cases: [(Start, u8, bool); 5] = [
        (Start::PayeeExpecting, 0x4C, true),
        (Start::BothHalves, 0x48, true),
        (Start::BothHalves, 0x4A, false),
        (Start::PayerPendingNacked, 0x4A, false),
        (Start::GiveUp, 0x54, false),
    ];
    let mut tears = 0;
    for (start, ins, on_payee) in cases {
        let mut k = 1u32;
        loop {
            pair.ensure_room(b);
            b.ensure(&[&pair.p, &pair.q]);
            let before = (b.balance(&pair.p), b.balance(&pair.q));
            make_start(b, &pair, start);
            b.assert_conserved("interrupted state");
            let victim = if on_payee {
                pair.q.clone()
            } else {
                pair.p.clone()
            };
            let what = format!("{start:?}: tear {victim} at write {k} of INS {ins:02X}");
            let opts = ResumeOptions {
                give_up: matches!(start, Start::GiveUp),
                pin: Some(PIN.to_vec()),
                ..Default::default()
            };
            let (dir, v) = (b.desk.path().to_path_buf(), victim.clone());
            let armed = Rc::new(RefCell::new(false));
            let ar = armed.clone();
            let hook = move |i: u8, _cmd: &mut Vec<u8>| {
                if i == ins && !*ar.borrow() {
                    *ar.borrow_mut() = true;
                    desk_ok(&dir, &["desk", "tear", &v, &k.to_string()]);
                }
            };
            let noop = |_: u8, _: &mut Vec<u8>| {};
            let rep = if matches!(start, Start::GiveUp) {
                let mut cp = open_hooked(b, &pair.p, hook);
                resume(
                    &mut cp,
                    None::<&mut purse::card::PurseCard<purse::transport::Connection>>,
                    &opts,
                )
            } else if on_payee {
                let mut cp = open_hooked(b, &pair.p, noop);
                let mut cq = open_hooked(b, &pair.q, hook);
                resume(&mut cp, Some(&mut cq), &opts)
            } else {
                let mut cp = open_hooked(b, &pair.p, hook);
                let mut cq = open_hooked(b, &pair.q, noop);
                resume(&mut cp, Some(&mut cq), &opts)
            };
            assert!(*armed.borrow(), "{what}: never sent ({})", rep.summary());
            let torn = !rep.finished();
            let tear_file = b.desk.path().join(format!("cards/{victim}.img.tear"));
            let _ = std::fs::remove_file(tear_file);
            b.assert_conserved(&format!("{what}: after the torn resume"));
            // resume again (give-up again for the give-up case) until nothing is left
            let mut cp = b.open(&pair.p);
            let mut cq = b.open(&pair.q);
            let rep2 = resume(&mut cp, Some(&mut cq), &opts);
            drop((cp, cq));
            assert!(rep2.finished(), "{what}: second resume: {}", rep2.summary());
            assert!(
                b.resume(&pair.p, &pair.q).actions.is_empty(),
                "{what}: third resume acted"
            );
            b.assert_clear(&[&pair.p, &pair.q], &what);
            b.assert_conserved(&format!("{what}: after resume"));
            let after = (b.balance(&pair.p), b.balance(&pair.q));
            let moved = after == (before.0 - AMOUNT, before.1 + AMOUNT);
            let unmoved = after == before;
            let gave_up = after == (before.0 - AMOUNT, before.1);
            match start {
                Start::BothHalves => assert!(moved, "{what}: {before:?} -> {after:?}"),
                // torn before the commit: the payer is still pending and the payee (back) still
                // expects T, so the next resume delivers; torn after it: given up
                Start::GiveUp if torn => {
                    assert!(moved || gave_up, "{what}: {before:?} -> {after:?}")
                }
                Start::GiveUp => assert!(gave_up, "{what}: {before:?} -> {after:?}"),
                _ => assert!(unmoved, "{what}: {before:?} -> {after:?}"),
            }
            if !torn {
                eprintln!("  {start:?} INS {ins:02X}: {} tear points", k - 1);
                break;
            }
            tears += 1;
            k += 1;
            assert!(k < 100, "{what}: too many writes");
        }
    }
    eprintln!("  {tears} power losses injected during resume");
}
