//! Epochs, syncs through the library flow, the ledger, and the value invariant extended to syncs
//! (a bank's OUT = SYNC holds interest the card has not acknowledged yet), on top of the bank
//! fixture ([`super::bank`]). One name per behaviour: `sync` (any options, may fail), `sync_ok`
//! (standard options, must succeed, value checked), `sync_cards` (two open cards, any ledger),
//! `sync_raw` (command by command, no host prechecks); `advance` (the library flow with its
//! prechecks) and `advance_card` (the bare CENTER_ADVANCE command).
use purse_card::card::{CardError, PurseCard};
use purse_card::flows::epoch;
use purse_card::flows::store::PassbookStore;
use purse_card::flows::sync::{self as fsync, SyncError, SyncOptions, SyncReport};
use purse_card::transport::CardIo;
use purse_ledger::{EntryFilter, Ledger};
use purse_proto::consts::{Life, OutcomeKind, SecretRef, SlotState};
use purse_proto::types::{Account, Status};

use super::bank::*;

/// RATE 0.01 %/day (protocol.md 12.7 vectors).
pub const RATE: u32 = 0x0006_8DB9;

/// Where the cases' ledger is while a case moved it (`use_ledger`), e.g. to a PostgreSQL
/// database (tests/pgtest `on_postgres`); else the desk's SQLite file.
static LEDGER_AT: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Keep the ledger at `location` (a file or a postgres:// URL) until `use_ledger(None)`.
pub fn use_ledger(location: Option<String>) {
    *LEDGER_AT.lock().unwrap_or_else(|e| e.into_inner()) = location;
}

/// The ledger's location: what `use_ledger` set, else the desk's SQLite file.
pub fn ledger_location(b: &Bank) -> String {
    LEDGER_AT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(|| b.desk.path().join("ledger.sqlite").display().to_string())
}

/// The ledger of this desk (see `ledger_location`).
pub fn ledger(b: &Bank) -> Ledger {
    Ledger::open(ledger_location(b)).expect("ledger")
}

/// Entries of `account`'s own passbook in the ledger.
pub fn ledger_entries(b: &Bank, account: &Account) -> usize {
    let f = EntryFilter {
        account: Some(*account),
        ..Default::default()
    };
    ledger(b).entries(&f).expect("ledger entries").len()
}

/// The options every test sync uses unless it says otherwise: store and send the digest, finish on its own,
/// both PINs given (FIG. 5: the operator's and the holder's; every test card has PIN).
/// The branch's key date: the day the sync tests sync at.
pub fn branch_day(b: &Bank) -> u16 {
    b.status("branch").key_date
}

/// Balance, key, passbook and exception counts, interest date, serial, life: what a refused
/// packet or step must leave as it was on a card (BAD_KEY aside: a tampered packet counts one).
pub type MoneyView = (u32, u8, u8, u16, u32, Life, u8);

/// The [`MoneyView`] of a card's status.
pub fn money_view(s: &Status) -> MoneyView {
    (
        s.balance,
        s.current_key,
        s.passbook_count,
        s.interest_date,
        s.serial,
        s.life,
        s.exception_count,
    )
}

pub fn sync_options(date: u16) -> SyncOptions {
    SyncOptions {
        date,
        store: true,
        send_digest: true,
        bank_pin: Some(PIN.to_vec()),
        card_pin: Some(PIN.to_vec()),
        unblock: None,
        auto_finish: true,
        s1: fsync::S1Form::Auto,
    }
}

/// A new epoch on the center through the library flow (`flows::epoch::advance`: prechecks,
/// approval secret), optionally with a new rate.
pub fn advance(b: &Bank, date: u16, rate: Option<u32>) -> epoch::AdvanceReport {
    let mut c = b.open("center");
    epoch::advance(&mut c, APPROVAL, date, rate).expect("center advance")
}

/// The bare CENTER_ADVANCE command (approval verified first, no host prechecks); returns CURRENT.
pub fn advance_card(b: &Bank, date: u16, rate: Option<u32>) -> u8 {
    let mut c = b.open("center");
    c.verify(SecretRef::Approval, APPROVAL).expect("approval");
    c.center_advance(date, rate)
        .expect("center advance")
        .current
}

/// Sync two open cards through the library flow, with any ledger and options.
pub fn sync_cards<B: CardIo, C: CardIo>(
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

/// Sync `card` with `bank` through the library flow, storing in the test ledger.
pub fn sync(b: &Bank, bank: &str, card: &str, o: &SyncOptions) -> Result<SyncReport, SyncError> {
    ensure_pair(b, bank, card);
    let mut bk = b.open(bank);
    let mut cd = b.open(card);
    let mut lg = ledger(b);
    sync_cards(&mut bk, &mut cd, Some(&mut lg), o)
}

/// Sync with [`sync_options`], panic on failure, check the value invariant afterwards.
pub fn sync_ok(b: &Bank, bank: &str, card: &str, date: u16) -> SyncReport {
    let r = sync(b, bank, card, &sync_options(date))
        .unwrap_or_else(|e| panic!("sync {bank} -> {card}: {e}"));
    assert_conserved_sync(b, &[bank, card], &format!("after sync {bank} -> {card}"));
    r
}

/// Passbook entries the card committed to in a sync, when they were collected (read, stored, digested).
pub fn fed(r: &SyncReport) -> usize {
    if r.collected {
        r.passbook_entries as usize
    } else {
        0
    }
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

/// A new epoch at `date` ([`advance_card`]) and syncs down the chain center -> region -> branch
/// -> `users` at [`DATE`], checking conservation after each sync.
pub fn epoch_down(b: &Bank, date: u16, rate: Option<u32>, users: &[&str]) -> Vec<SyncReport> {
    advance_card(b, date, rate);
    let mut out = vec![sync_ok(b, "center", "region", DATE)];
    b.assert_conserved("after center -> region");
    out.push(sync_ok(b, "region", "branch", DATE));
    b.assert_conserved("after region -> branch");
    for u in users {
        out.push(sync_ok(b, "branch", u, DATE));
        b.assert_conserved(&format!("after branch -> {u}"));
    }
    out
}

/// floor(amount × rate × days / 2^32) (protocol.md 12.7).
pub fn expected_interest(amount: u32, rate: u32, days: u32) -> u32 {
    ((amount as u128 * rate as u128 * days as u128) >> 32) as u32
}

/// Block a card's PIN with three wrong tries.
pub fn block_pin(b: &Bank, card: &str) {
    let mut c = b.open(card);
    for _ in 0..3 {
        let _ = c.verify(SecretRef::Pin, b"0000");
    }
}

/// Sync relayed command by command (protocol.md 12.4 steps 1-9, no ledger, no host prechecks),
/// to see the cards' own refusals (e.g. 9D21 at SYNC_BANK_P5). Returns (interest, invalidated).
pub fn sync_raw(b: &Bank, bank_card: &str, card: &str) -> Result<(u32, bool), CardError> {
    ensure_pair(b, bank_card, card);
    let mut k = b.open(bank_card);
    let mut c = b.open(card);
    let st = c.get_status()?;
    k.verify(SecretRef::Pin, PIN)?;
    c.verify(SecretRef::Pin, PIN)?;
    let hello = c.sync_card_init(DATE, false)?;
    let s1 = k.sync_bank_init(false, hello, DATE)?;
    let p5 = c.sync_card_s1(&s1)?;
    let r = (|| {
        let private = st.flags & purse_proto::consts::FLAG_PRIVATE != 0;
        let raw = if !private && st.passbook_count > 0 {
            c.read_passbook_raw_all(st.passbook_count)?
        } else {
            Vec::new()
        };
        let ex = if st.exception_count > 0 {
            c.read_exceptions_raw()?
        } else {
            Vec::new()
        };
        let d = purse_proto::sync::digest_of(&p5.sid(), &raw, &ex, private);
        k.sync_bank_p5(p5.bytes(), &d)
    })();
    let ans = match r {
        Ok(a) => a,
        Err(e) => {
            // the card persisted IN = SYNC at S1: drop it (SNACK stored, value-neutral)
            let _ = c.xfer_abort_expected(&p5.sid());
            return Err(e);
        }
    };
    match c.sync_card_p6(ans.bytes())? {
        None => Ok((0, true)),
        Some(a) => {
            k.sync_bank_ack(&a.sack)?;
            // 78's status after the SACK is the card's: the same as a GET_STATUS now
            let now = c.get_status()?;
            assert_eq!(
                a.status.as_ref(),
                Some(&now),
                "78's status = GET_STATUS after it"
            );
            Ok((now.balance - st.balance, false))
        }
    }
}
