//! Glue between the protocol types and the ledger. The records themselves are decoded by
//! `crate::proto::types::{PassbookEntry, ExceptionEntry}` (protocol.md 3.1, 4.5): the ledger
//! reuses them and only adds what it needs on top — the exact card bytes as evidence, an account
//! text that keeps a private card's signature (F15) distinct, and day-number parsing for queries.
use crate::proto::consts::EntryType;
pub use crate::proto::types::{
    account_text, is_account_number, Account, ExceptionEntry, PassbookEntry,
};
use crate::proto::types::{format_date, parse_date};

use super::LedgerError;

/// Length of one passbook entry (protocol.md 3.1).
pub const ENTRY_LEN: usize = 42;
/// Length of one exception-log entry (protocol.md 4.5).
pub const EXCEPTION_LEN: usize = 24;

/// One passbook entry exactly as READ_PASSBOOK returned it.
pub type RawEntry = [u8; ENTRY_LEN];
/// One exception-log entry exactly as READ_EXCEPTIONS returned it.
pub type RawException = [u8; EXCEPTION_LEN];

/// Split a READ_PASSBOOK answer (n × 42 bytes) into entries.
pub fn split_entries(data: &[u8]) -> Result<Vec<RawEntry>, LedgerError> {
    split(data)
}

/// Split a READ_EXCEPTIONS answer (n × 24 bytes) into entries.
pub fn split_exceptions(data: &[u8]) -> Result<Vec<RawException>, LedgerError> {
    split(data)
}

fn split<const N: usize>(data: &[u8]) -> Result<Vec<[u8; N]>, LedgerError> {
    if data.len() % N != 0 {
        return Err(LedgerError::BadEntry(format!(
            "{} bytes is not a whole number of {N}-byte entries",
            data.len()
        )));
    }
    Ok(data.chunks(N).map(|c| c.try_into().unwrap()).collect())
}

/// Encode a decoded passbook entry back into its 42 bytes (exact for every entry a card writes:
/// names are printable ASCII, space padded). For tests and synthetic data; the sync flow stores
/// the card's own bytes.
pub fn encode_entry(e: &PassbookEntry) -> RawEntry {
    let mut o = [0u8; ENTRY_LEN];
    o[0..8].copy_from_slice(&e.account.0);
    let mut name = [0x20u8; 8];
    for (d, s) in name.iter_mut().zip(e.name.bytes()) {
        *d = s;
    }
    o[8..16].copy_from_slice(&name);
    o[16..24].copy_from_slice(&e.random);
    o[24..26].copy_from_slice(&e.date.to_be_bytes());
    o[26] = e.kind.code();
    o[27..31].copy_from_slice(&e.amount.to_be_bytes());
    o[31..35].copy_from_slice(&e.new_balance.to_be_bytes());
    o[35..41].copy_from_slice(&e.tid);
    o[41] = e.keynum;
    o
}

/// Encode a decoded exception entry back into its 24 bytes (trailing bytes 00 00).
pub fn encode_exception(x: &ExceptionEntry) -> RawException {
    let mut o = [0u8; EXCEPTION_LEN];
    o[0..6].copy_from_slice(&x.tid);
    o[6..10].copy_from_slice(&x.amount.to_be_bytes());
    o[10..18].copy_from_slice(&x.account.0);
    o[18..20].copy_from_slice(&x.date.to_be_bytes());
    o[20] = x.reason;
    o[21] = x.passbook_index;
    o
}

/// Parse an account for a query: 16 digits (check digit verified) or `sig:` + 16 hex digits.
pub fn parse_account(s: &str) -> Result<Account, LedgerError> {
    let t = s.trim();
    if let Some(h) = t.strip_prefix("sig:") {
        let v = hex::decode(h).map_err(|_| LedgerError::BadAccount(s.into()))?;
        return Ok(Account(
            v.try_into()
                .map_err(|_| LedgerError::BadAccount(s.into()))?,
        ));
    }
    Account::parse(t).map_err(|_| {
        let digits: Vec<u8> = t.bytes().filter(|c| !b" -".contains(c)).collect();
        if digits.len() == 16 && digits.iter().all(u8::is_ascii_digit) {
            LedgerError::BadCheckDigit(s.into())
        } else {
            LedgerError::BadAccount(s.into())
        }
    })
}

/// `YYYY-MM-DD` or a plain day number (days since 2000-01-01, protocol.md 1).
pub fn parse_day(s: &str) -> Result<u16, LedgerError> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()) {
        return t.parse().map_err(|_| LedgerError::BadDate(s.into()));
    }
    parse_date(t).map_err(|_| LedgerError::BadDate(s.into()))
}

/// Day number as `YYYY-MM-DD`.
pub fn format_day(day: u16) -> String {
    format_date(day)
}

/// Effect of an entry on its own card's balance when it was written: +1 credit-like, -1
/// debit-like (06/07 record a debit that happened; 06's refund comes later), 0 unknown.
pub fn sign(t: EntryType) -> i64 {
    match t {
        EntryType::Credit | EntryType::Mint | EntryType::InterestIn => 1,
        EntryType::Debit
        | EntryType::InterestOut
        | EntryType::DebitRefunded
        | EntryType::Exception => -1,
        EntryType::Other(_) => 0,
    }
}
