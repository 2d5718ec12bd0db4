//! Interrupted syncs (protocol.md 12.11, T27): power loss at every persistent write of every
//! sync command on the card that receives it (`purse desk tear NAME K`), and a pull before every
//! step. After each interruption `purse resume` (flows::resume with the two cards) must leave
//! both cards clear, the interest moved exactly once or not at all, the keys installed or not,
//! and Σ value (balances + interest in flight) constant at every point. One looping test.
use purse_testkit as kit;

use std::cell::RefCell;
use std::rc::Rc;

use kit::*;
use purse::card::CardError;
use purse::flows::sync::SyncError;
use purse::proto::consts::SlotState;

/// The sync steps that write: (INS, goes to the bank card?).
const STEPS: [(u8, bool); 4] = [(0x74, false), (0x76, true), (0x78, false), (0x7A, true)];
const BANK: &str = "branch";
const CARD: &str = "alice";

#[test]
fn sync_tearing() {
    let mut bank = Bank::standard(8, 0);
    ensure_admin(&mut bank);
    let d = bank.status("center").key_date;
    set_rate(&mut bank, "region", RATE, d);
    set_rate(&mut bank, "branch", RATE, d);
    run_cases(
        &mut bank,
        &[
            ("tear_every_write_sync", tear_every_write_sync),
            ("pull_every_step_then_resume", pull_every_step_then_resume),
        ],
    );
}

fn is_lost(e: &SyncError) -> bool {
    matches!(
        e,
        SyncError::Card {
            err: CardError::Transport(_),
            ..
        }
    )
}

/// A new epoch (rate 0.01 %/day) when the card is up to date, so each sync carries a key and
/// interest; and a payment so there is a passbook to collect.
fn prepare(b: &Bank, day: &mut u16) {
    if b.status(CARD).current_key == b.status(BANK).current_key {
        *day += 1;
        advance(b, *day, Some(RATE));
        sync_ok(b, "center", "region", *day);
        sync_ok(b, "region", BANK, *day);
    }
    b.pay_ok(CARD, BANK, 1); // a deposit: a passbook entry to collect
}

/// After an interruption: resume and check (exactly once or not at all).
fn check_after(b: &Bank, before: (u32, u32, u8), what: &str) {
    assert_conserved_sync(b, &[BANK, CARD], &format!("{what}: before resume"));
    let rep = b.resume(BANK, CARD);
    assert!(rep.finished(), "{what}: resume: {}", rep.summary());
    let again = b.resume(BANK, CARD);
    assert!(
        again.actions.is_empty(),
        "{what}: second resume acted: {}",
        again.summary()
    );
    let (pb, pc) = (b.pending(BANK), b.pending(CARD));
    assert_eq!(
        (pb.out.state, pc.r#in.state),
        (SlotState::None, SlotState::None),
        "{what}: left pending"
    );
    assert_conserved_sync(b, &[], &format!("{what}: after resume"));
    let (sb, sc) = (b.status(BANK), b.status(CARD));
    let paid = sc.balance - before.1;
    assert_eq!(
        before.0 - sb.balance,
        paid,
        "{what}: interest moved once or not at all"
    );
    if paid > 0 {
        assert_eq!(
            sc.current_key, sb.current_key,
            "{what}: credited but keys not installed"
        );
    }
    // keys are not value: installed before a tear they stay (12.11); never beyond the bank's
    let got = sc.current_key.wrapping_sub(before.2);
    assert!(
        got <= sb.current_key.wrapping_sub(before.2),
        "{what}: keys beyond the bank's"
    );
}

fn run_one(
    b: &Bank,
    victim: &str,
    ins: u8,
    action: Rc<dyn Fn()>,
) -> Result<purse::flows::sync::SyncReport, SyncError> {
    let fired = Rc::new(RefCell::new(false));
    let f = fired.clone();
    let hook = move |i: u8, _cmd: &mut Vec<u8>| {
        if i == ins && !*f.borrow() {
            *f.borrow_mut() = true;
            action();
        }
    };
    let _ = (b.reader(BANK), b.reader(CARD));
    let mut lg = ledger(b);
    let mut o = sync_options(b.status(BANK).key_date);
    o.auto_finish = false;
    let r = if victim == BANK {
        let mut bk = open_hooked(b, BANK, hook);
        let mut cd = b.open(CARD);
        sync_cards(&mut bk, &mut cd, Some(&mut lg), &o)
    } else {
        let mut bk = b.open(BANK);
        let mut cd = open_hooked(b, CARD, hook);
        sync_cards(&mut bk, &mut cd, Some(&mut lg), &o)
    };
    if !*fired.borrow() {
        panic!("INS {ins:02X} was never sent to {victim}");
    }
    r
}

fn tear_every_write_sync(b: &mut Bank) {
    let mut day = b.status("center").key_date;
    let mut tears = 0;
    for (ins, to_bank) in STEPS {
        let victim = if to_bank { BANK } else { CARD };
        let mut k = 1u32;
        loop {
            prepare(b, &mut day);
            let what = format!("tear {victim} at write {k} of INS {ins:02X}");
            let (sb, sc) = (b.status(BANK), b.status(CARD));
            let before = (sb.balance, sc.balance, sc.current_key);
            let (dir, v) = (b.desk.path().to_path_buf(), victim.to_string());
            let act: Rc<dyn Fn()> =
                Rc::new(move || desk_ok(&dir, &["desk", "tear", &v, &k.to_string()]));
            let r = run_one(b, victim, ins, act);
            match &r {
                Err(e) if is_lost(e) => {
                    tears += 1;
                    check_after(b, before, &what);
                    k += 1;
                }
                _ => {
                    let _ = std::fs::remove_file(
                        b.desk.path().join(format!("cards/{victim}.img.tear")),
                    );
                    let rep = r.unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert!(rep.cleared, "{what}: {}", rep.summary());
                    assert_conserved_sync(b, &[], &what);
                    eprintln!("  INS {ins:02X} on {victim}: {} tear points", k - 1);
                    break;
                }
            }
            assert!(k < 100, "{what}: more than 100 writes in one command?");
        }
    }
    eprintln!("  {tears} power losses injected during syncs");
}

fn pull_every_step_then_resume(b: &mut Bank) {
    let mut day = b.status("center").key_date;
    for (ins, to_bank) in STEPS {
        let victim = if to_bank { BANK } else { CARD };
        prepare(b, &mut day);
        let what = format!("pull {victim} before INS {ins:02X}");
        let (sb, sc) = (b.status(BANK), b.status(CARD));
        let before = (sb.balance, sc.balance, sc.current_key);
        let slot = b.slot_of(victim).expect("inserted");
        let (dir, v) = (b.desk.path().to_path_buf(), victim.to_string());
        let act: Rc<dyn Fn()> = Rc::new(move || desk_ok(&dir, &["desk", "pull", &v]));
        let r = run_one(b, victim, ins, act);
        let e = match r {
            Ok(_) => panic!("{what}: the sync finished with a pulled card"),
            Err(e) => e,
        };
        assert!(is_lost(&e), "{what}: {e}");
        b.desk.insert(victim, Some(slot), false);
        check_after(b, before, &what);
    }
}
