//! Helpers of the sync tests (tests/sync*.rs, tests/epoch.rs), on top of tests/money (the bank
//! fixture): epochs, syncs through the library flow, admin rate, ledger, and the value invariant
//! extended to syncs (a bank's OUT = SYNC holds interest the card has not acknowledged yet).
#![allow(dead_code)]

use purse::card::{CardError, PurseCard};
use purse::flows::admin::{self, AdminOp};
use purse::flows::epoch;
use purse::flows::store::PassbookStore;
use purse::flows::sync::{self as fsync, SyncError, SyncOptions, SyncReport};
use purse::ledger::{EntryFilter, Ledger};
use purse::proto::consts::{OutcomeKind, Role, SecretRef, SlotState};
use purse::transport::CardIo;

use crate::money::*;

/// RATE 0.01 %/day (protocol.md 12.7 vectors).
pub const RATE: u32 = 0x0006_8DB9;

/// The ledger file of this desk.
pub fn ledger(b: &Bank) -> Ledger {
    Ledger::open(b.desk.path().join("ledger.sqlite")).expect("ledger")
}

pub fn opts(date: u16) -> SyncOptions {
    SyncOptions {
        date,
        store: true,
        feed: true,
        // FIG. 5: the operator's PIN and the holder's (every test card has PIN)
        bank_pin: Some(PIN.to_vec()),
        card_pin: Some(PIN.to_vec()),
        unblock: None,
        auto_finish: true,
    }
}

/// New epoch on the center.
pub fn advance(b: &Bank, date: u16, rate: Option<u32>) -> epoch::AdvanceReport {
    let mut c = b.open("center");
    epoch::advance(&mut c, APPROVAL, date, rate).expect("center advance")
}

/// Issue the admin card "admin" (once).
pub fn ensure_admin(b: &mut Bank) {
    if !b.cards.contains_key("admin") {
        let o = CardOpts {
            min: 0,
            max: u32::MAX,
            bad_key_limit: 255,
            txkey: true,
        };
        b.issue("admin", Role::Admin, "ADMIN", &o);
    }
}

/// Set a bank card's interest rate with the admin card.
pub fn set_rate(b: &mut Bank, bank: &str, rate: u32, date: u16) {
    admin_op(b, bank, &AdminOp::SetRate { rate }, date);
}

/// Run an admin op on `bank` (the admin card first takes the center's keys if it is behind).
pub fn admin_op(b: &mut Bank, bank: &str, op: &AdminOp, date: u16) {
    ensure_admin(b);
    let c = b.status("center");
    if b.status("admin").current_key != c.current_key {
        sync_ok(b, "center", "admin", c.key_date);
    }
    b.ensure(&["admin", bank]);
    let mut a = b.open("admin");
    let mut k = b.open(bank);
    admin::run_op(&mut a, &mut k, PIN, op, date).unwrap_or_else(|e| panic!("admin op {op:?}: {e}"));
}

/// Sync `card` with `bank` through the library flow, with any ledger and options.
pub fn sync_with<B: CardIo, C: CardIo>(
    bk: &mut PurseCard<B>,
    cd: &mut PurseCard<C>,
    lg: Option<&mut Ledger>,
    o: &SyncOptions,
) -> Result<SyncReport, SyncError> {
    fsync::sync(
        bk,
        cd,
        lg.map(|l| l as &mut dyn PassbookStore),
        o,
        &mut |_| {},
    )
}

pub fn sync(b: &Bank, bank: &str, card: &str, o: &SyncOptions) -> Result<SyncReport, SyncError> {
    let mut bk = b.open(bank);
    let mut cd = b.open(card);
    let mut lg = ledger(b);
    sync_with(&mut bk, &mut cd, Some(&mut lg), o)
}

/// Sync, panic on failure, check the value invariant afterwards.
pub fn sync_ok(b: &Bank, bank: &str, card: &str, date: u16) -> SyncReport {
    let r =
        sync(b, bank, card, &opts(date)).unwrap_or_else(|e| panic!("sync {bank} -> {card}: {e}"));
    assert_conserved_sync(b, &[bank, card], &format!("after sync {bank} -> {card}"));
    r
}

/// Interest held by `bank`'s OUT = SYNC that `card` has not acknowledged (SACK) yet.
pub fn sync_in_flight(b: &Bank, bank: &str, card: &str) -> u64 {
    let bp = b.pending(bank);
    if bp.out.state != SlotState::Sync {
        return 0;
    }
    let cp = b.pending(card);
    let acked = cp
        .outcomes
        .iter()
        .any(|o| o.tid == bp.out.tid && o.kind == OutcomeKind::Ack);
    if acked {
        0
    } else {
        bp.out.amount as u64
    }
}

/// Σ balances + in-flight transfers + exceptions + in-flight sync interest == minted.
pub fn assert_conserved_sync(b: &Bank, pair: &[&str], ctx: &str) {
    let mut a = b.accounted();
    if pair.len() == 2 {
        a += sync_in_flight(b, pair[0], pair[1]);
    }
    assert_eq!(
        a, b.minted,
        "{ctx}: value accounted {a} != minted {}",
        b.minted
    );
}

/// The synced chain for one epoch: region, then branch, then the listed users.
pub fn sync_chain(b: &Bank, users: &[&str], date: u16) -> Vec<SyncReport> {
    let mut v = vec![
        sync_ok(b, "center", "region", date),
        sync_ok(b, "region", "branch", date),
    ];
    for u in users {
        v.push(sync_ok(b, "branch", u, date));
    }
    v
}

/// Entries of `card`'s own passbook in the ledger.
pub fn ledger_entries(b: &Bank, card: &str) -> usize {
    let acc = b.status(card).account;
    ledger(b)
        .entries(&EntryFilter {
            account: Some(acc),
            ..EntryFilter::default()
        })
        .expect("ledger entries")
        .len()
}

pub fn sw_sync(e: &SyncError) -> Option<u16> {
    e.sw().map(|s| s.code())
}

pub fn sw_of_card(e: &CardError) -> Option<u16> {
    e.sw().map(|s| s.code())
}

/// Block a card's PIN with three wrong tries.
pub fn block_pin(b: &Bank, card: &str) {
    let mut c = b.open(card);
    for _ in 0..3 {
        let _ = c.verify(SecretRef::Pin, b"0000");
    }
}

/// Pay without the host's prechecks: the cards decide (to see their status words).
pub fn pay_raw(
    b: &Bank,
    from: &str,
    to: &str,
    amount: u32,
) -> Result<purse::flows::transfer::TransferReport, purse::flows::transfer::TransferError> {
    let _ = b.reader(from);
    let mut a = b.open(from);
    let mut c = b.open(to);
    purse::flows::transfer::transfer(
        &mut a,
        &mut c,
        amount,
        DATE,
        &secrets(),
        false,
        &Default::default(),
    )
}
