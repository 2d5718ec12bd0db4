//! Issue 4 helpers shared by tests/admin.rs, privacy.rs, passbook_50.rs, patent_figures.rs, on
//! top of tests/money (one desk, one bank per binary): admin ops card to card, center epochs,
//! syncs down the hierarchy, accounts in a bank card's range, the conservation check.
#![allow(dead_code)]

use purse::card::CardError;
use purse::flows::admin::{self, AdminError, AdminOp, AdminOutcome, BankFiles};
use purse::flows::sync::{self as flows_sync, SyncError, SyncOptions};
use purse::ledger::{EntryFilter, Ledger};
use purse::proto::consts::{Role, SecretRef};
use purse::proto::types::Account;

use crate::money::*;

/// A relayed sync's outcome, as the tests need it.
#[derive(Clone, Debug)]
pub struct Synced {
    /// interest credited to the card (0 on INVALIDATE)
    pub interest: u32,
    pub invalidated: bool,
    /// keys delivered in P6
    pub keys: u8,
    /// passbook entries the card committed to, when collected (read, stored, fed)
    pub fed: usize,
    /// the card cleared its passbook
    pub cleared: bool,
    pub apdus: u32,
    pub millis: u128,
}

/// Both cards inserted (two slots: the second goes to the slot the first is not in).
pub fn ensure_pair(b: &Bank, x: &str, y: &str) {
    b.reader(x);
    b.reader(y);
}

/// Issue an admin card `name` from the center.
pub fn issue_admin(b: &mut Bank, name: &str, pname: &str) {
    let o = CardOpts {
        min: 0,
        max: u32::MAX,
        bad_key_limit: 255,
        txkey: false,
    };
    b.issue(name, Role::Admin, pname, &o);
}

/// One admin op, admin card `adm` on bank card `bank_card`, PIN = PIN.
pub fn admin_op(
    b: &Bank,
    adm: &str,
    bank_card: &str,
    op: AdminOp,
) -> Result<AdminOutcome, AdminError> {
    ensure_pair(b, adm, bank_card);
    let mut a = b.open(adm);
    let mut k = b.open(bank_card);
    admin::precheck(&mut a, &mut k)?;
    admin::run_op(&mut a, &mut k, PIN, &op, DATE)
}

/// Many ops on the same two connections.
pub fn admin_ops(
    b: &Bank,
    adm: &str,
    bank_card: &str,
    ops: &[AdminOp],
) -> (Vec<AdminOutcome>, Option<AdminError>) {
    ensure_pair(b, adm, bank_card);
    let mut a = b.open(adm);
    let mut k = b.open(bank_card);
    admin::run_ops(&mut a, &mut k, PIN, ops, DATE, |_, _| {})
}

/// READ_BAD_CARDS, every page.
pub fn bank_files(b: &Bank, bank_card: &str) -> BankFiles {
    admin::read_bank_files(&mut b.open(bank_card)).expect("read bank files")
}

/// An account of the 8-digit block `prefix` (e.g. "10000000") with 7-digit serial `n` (Luhn added).
pub fn acct(prefix: &str, n: u32) -> Account {
    let d: Vec<u8> = format!("{prefix}{n:07}")
        .bytes()
        .map(|c| c - b'0')
        .collect();
    Account::from_digits15(&d).expect("15 digits")
}

/// The 8-digit block of a card's account.
pub fn prefix_of(b: &Bank, name: &str) -> String {
    b.status(name).account.to_string()[..8].to_string()
}

/// A new epoch on the center (approval secret), optionally with a new rate; returns CURRENT.
pub fn advance(b: &Bank, date: u16, rate: Option<u32>) -> u8 {
    let mut c = b.open("center");
    c.verify(SecretRef::Approval, APPROVAL).expect("approval");
    c.center_advance(date, rate)
        .expect("center advance")
        .current
}

/// Sync `card` with `bank_card` (the library flow `flows::sync`), panicking on failure.
pub fn sync_ok(b: &Bank, bank_card: &str, card: &str) -> Synced {
    sync(b, bank_card, card).unwrap_or_else(|e| panic!("sync {bank_card} -> {card}: {e}"))
}

/// The ledger of this test binary (one SQLite file in the desk's directory).
pub fn ledger(b: &Bank) -> Ledger {
    Ledger::open(b.desk.path().join("ledger.sqlite")).expect("ledger")
}

/// Entries of `account`'s own passbook in the ledger.
pub fn ledger_entries(b: &Bank, account: &Account) -> usize {
    let f = EntryFilter {
        account: Some(*account),
        ..Default::default()
    };
    ledger(b).entries(&f).expect("ledger entries").len()
}

/// Sync `card` with `bank_card` through `flows::sync` (storing in the test ledger).
pub fn sync(b: &Bank, bank_card: &str, card: &str) -> Result<Synced, SyncError> {
    sync_with(
        b,
        bank_card,
        card,
        &SyncOptions {
            date: DATE,
            bank_pin: Some(PIN.to_vec()),
            card_pin: Some(PIN.to_vec()),
            ..Default::default()
        },
    )
}

pub fn sync_with(
    b: &Bank,
    bank_card: &str,
    card: &str,
    o: &SyncOptions,
) -> Result<Synced, SyncError> {
    ensure_pair(b, bank_card, card);
    let mut k = b.open(bank_card);
    let mut c = b.open(card);
    let mut l = ledger(b);
    let r = flows_sync::sync(&mut k, &mut c, Some(&mut l), o, &mut |_| {})?;
    Ok(Synced {
        interest: r.interest,
        invalidated: r.invalidated,
        keys: r.keys_received,
        fed: if r.collected {
            r.passbook_entries as usize
        } else {
            0
        },
        cleared: r.cleared,
        apdus: r.apdus,
        millis: r.millis,
    })
}

/// A new epoch at `date` and syncs down the chain center -> region -> branch -> `users`,
/// checking conservation after each sync.
pub fn epoch_down(b: &Bank, date: u16, rate: Option<u32>, users: &[&str]) -> Vec<Synced> {
    advance(b, date, rate);
    let mut out = vec![sync_ok(b, "center", "region")];
    b.assert_conserved("after center -> region");
    out.push(sync_ok(b, "region", "branch"));
    b.assert_conserved("after region -> branch");
    for u in users {
        out.push(sync_ok(b, "branch", u));
        b.assert_conserved(&format!("after branch -> {u}"));
    }
    out
}

/// floor(amount × rate × days / 2^32) (protocol.md 12.7).
pub fn expected_interest(amount: u32, rate: u32, days: u32) -> u32 {
    ((amount as u128 * rate as u128 * days as u128) >> 32) as u32
}

/// Status word of an admin error.
pub fn sw_admin(e: &AdminError) -> Option<u16> {
    e.sw().map(|s| s.code())
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
    let s2p5 = c.sync_card_s1(&s1)?;
    let r = (|| {
        if st.flags & purse::proto::consts::FLAG_PRIVATE == 0 && st.passbook_count > 0 {
            let raw = c.read_passbook_raw_all(st.passbook_count)?;
            for (i, chunk) in raw.chunks(5 * 42).enumerate() {
                k.passbook_feed_entries((i * 5) as u8, chunk)?;
            }
        }
        if st.exception_count > 0 {
            let ex = c.read_exceptions_raw()?;
            k.passbook_feed_exceptions(&ex)?;
        }
        k.sync_bank_p5(&s2p5.joined())
    })();
    let ans = match r {
        Ok(a) => a,
        Err(e) => {
            // the card persisted IN = SYNC at S1: drop it (SNACK stored, value-neutral)
            let _ = c.xfer_abort_expected(&s2p5.sid());
            return Err(e);
        }
    };
    match c.sync_card_p6(ans.bytes())? {
        None => Ok((0, true)),
        Some(sack) => {
            k.sync_bank_ack(&sack)?;
            Ok((c.get_status()?.balance - st.balance, false))
        }
    }
}

/// What an invalidated card still answers (protocol.md 12.6: SELECT, GET_STATUS, GET_PENDING,
/// READ_EXCEPTIONS, READ_PASSBOOK with PIN). The card is swapped out of its reader afterwards
/// (the conservation helper reads every inserted card).
pub fn invalidated_reads(b: &Bank, name: &str, others: [&str; 2]) -> Result<u32, String> {
    let r = (|| {
        let mut c = b.open(name);
        let st = c.get_status().map_err(|e| format!("GET_STATUS: {e}"))?;
        c.get_pending()
            .map_err(|e| format!("GET_PENDING on an invalidated card: {e}"))?;
        c.read_exceptions()
            .map_err(|e| format!("READ_EXCEPTIONS on an invalidated card: {e}"))?;
        Ok(st.balance)
    })();
    b.reader(others[0]);
    b.reader(others[1]);
    r
}

/// Pay without the host's prechecks: the cards refuse by themselves (status words).
pub fn pay_card(
    b: &Bank,
    from: &str,
    to: &str,
    amount: u32,
) -> Result<purse::flows::transfer::TransferReport, purse::flows::transfer::TransferError> {
    ensure_pair(b, from, to);
    let mut x = b.open(from);
    let mut y = b.open(to);
    purse::flows::transfer::transfer(
        &mut x,
        &mut y,
        amount,
        DATE,
        &secrets(),
        false,
        &Default::default(),
    )
}
