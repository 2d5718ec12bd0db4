//! Administration card to card (bank files, rates, ranges) on top of the bank fixture: one
//! admin op or many on two open cards (`admin_op`, `admin_ops`: results returned), or as the
//! sync tests need it (`admin_op_ok`: issues and updates the admin card first, panics on
//! failure); accounts in a bank card's range; what an invalidated card still answers.
use purse_card::flows::admin::{self, AdminError, AdminOp, AdminOutcome, BankFiles};
use purse_proto::consts::Role;
use purse_proto::types::Account;

use super::bank::*;
use super::sync::sync_ok;

/// Issue an admin card `name` from the center (no transaction key).
pub fn issue_admin(b: &mut Bank, name: &str, pname: &str) {
    let o = CardOpts::bank(false);
    b.issue(name, Role::Admin, pname, &o);
}

/// Issue the admin card "admin" (once), with a transaction key.
pub fn ensure_admin(b: &mut Bank) {
    if !b.cards.contains_key("admin") {
        let o = CardOpts::bank(true);
        b.issue("admin", Role::Admin, "ADMIN", &o);
    }
}

/// One admin op, admin card `adm` on bank card `bank_card`, PIN = PIN, at [`DATE`], after the
/// host's prechecks.
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

/// Run an admin op on `bank` with the card "admin" at `date`: the admin card is issued if
/// missing and first takes the center's keys if it is behind; panics on failure.
pub fn admin_op_ok(b: &mut Bank, bank: &str, op: &AdminOp, date: u16) {
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

/// Set a bank card's interest rate with the admin card ([`admin_op_ok`]).
pub fn set_rate(b: &mut Bank, bank: &str, rate: u32, date: u16) {
    admin_op_ok(b, bank, &AdminOp::SetRate { rate }, date);
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
