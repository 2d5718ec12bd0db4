//! The bank's ledger (MISSION B5, docs/ledger.md): passbooks and exception logs collected at
//! sync, stored in one SQLite file. Every collection is stored in one SQLite transaction and
//! each entry exactly once, however often a sync is retried; the host may ask the card to clear
//! its passbook only after `Ledger::store_collection` returned Ok.
//!
//! Queries (`queries.rs`): entries by account and date, per-account balance rebuild (refund a
//! dead card), reconciliation of debits with credits across cards, simple fraud flags.
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;

mod check;
mod entry;
mod facts;
mod queries;
mod readonly;
pub mod report;
pub mod schema;
pub mod summary;
pub mod units;

pub use crate::proto::consts::EntryType;
pub use entry::{
    account_text, encode_entry, encode_exception, format_day, is_account_number, parse_account,
    parse_day, split_entries, split_exceptions, Account, ExceptionEntry, PassbookEntry, RawEntry,
    RawException, ENTRY_LEN, EXCEPTION_LEN,
};
pub use check::{CheckProblem, CheckReport};
pub use facts::CardStatus;
pub use queries::{
    Adjustment, ChainBreak, EntryFilter, ExceptionStatus, FraudFlag, Rebuild, Reconciliation,
    StoredEntry, StoredException, SyncRecord, Unmatched,
};

/// Errors of the ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    // no #[source]: the text is in the message, so anyhow's `{:#}` prints it once
    #[error("ledger database: {0}")]
    Sqlite(rusqlite::Error),
    #[error("ledger {path}: {err}")]
    Open { path: PathBuf, err: rusqlite::Error },
    #[error("no ledger at {path}: check the path (only `purse sync` creates a ledger)")]
    NotFound { path: PathBuf },
    #[error("ledger {path}: {what}")]
    NotALedger { path: PathBuf, what: String },
    #[error("ledger {path}: cannot create its directory: {err}")]
    Dir { path: PathBuf, err: std::io::Error },
    #[error("ledger {path}: schema version {found} is newer than this purse knows ({known}); update purse")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("bad passbook data: {0}")]
    BadEntry(String),
    #[error("bad account {0:?}: expected 16 digits or sig:<16 hex digits>")]
    BadAccount(String),
    #[error("bad account {0:?}: wrong check digit (the last digit does not match the other 15: a typo?)")]
    BadCheckDigit(String),
    #[error("bad date {0:?}: expected YYYY-MM-DD (2000-01-01 or later) or a day number")]
    BadDate(String),
    #[error("invalid collection: {0}")]
    Invalid(String),
    #[error("no sync with id {0}")]
    NoSuchSync(i64),
}

impl From<rusqlite::Error> for LedgerError {
    fn from(e: rusqlite::Error) -> Self {
        LedgerError::Sqlite(e)
    }
}

pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

/// Default ledger path: `$PURSE_LEDGER`, else `~/.purse/ledger.sqlite`.
pub fn default_path() -> PathBuf {
    if let Some(p) = std::env::var_os("PURSE_LEDGER") {
        if !p.is_empty() {
            return PathBuf::from(p);
        }
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".purse").join("ledger.sqlite")
}

/// What a sync knows besides the entries (all optional).
#[derive(Clone, Debug, Default)]
pub struct SyncExtras<'a> {
    /// The card's exception log exactly as READ_EXCEPTIONS returned it (protocol.md 4.5).
    pub exceptions: &'a [RawException],
    /// Interest the bank card paid in this sync (minor units).
    pub interest_paid: u32,
    /// The synced card's ROLE (protocol.md 1) and NAME, from GET_STATUS.
    pub card_role: Option<u8>,
    pub card_name: Option<String>,
    /// The bank card's ROLE and NAME.
    pub bank_role: Option<u8>,
    pub bank_name: Option<String>,
    /// Time of the sync (unix seconds); None = now.
    pub at: Option<i64>,
}

/// What `store_collection` did.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoreReport {
    /// Row id in `syncs`; pass it to `Ledger::confirm_cleared` once the card cleared its passbook.
    pub sync_id: i64,
    pub bank_account: Account,
    pub card_account: Account,
    pub passbook_epoch: i64,
    pub entries_collected: usize,
    /// Entries stored for the first time.
    pub entries_new: usize,
    /// Entries that were already in the ledger (a retried sync).
    pub entries_already_stored: usize,
    /// Entries that replace an earlier DEBIT at the same index (rewritten in place to 06/07).
    pub entries_rewritten: usize,
    /// New entries at an index that already held a different entry that is not a rewrite
    /// (a passbook cleared without `confirm_cleared`, or tampering): kept, and flagged.
    pub index_conflicts: usize,
    pub exceptions_collected: usize,
    pub exceptions_new: usize,
}

/// The bank's ledger: one SQLite file.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub(crate) fn hexu(b: &[u8]) -> String {
    hex::encode_upper(b)
}

impl Ledger {
    /// Open (creating file, directory and schema when missing) the ledger at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Ledger> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|err| LedgerError::Dir {
                path: path.clone(),
                err,
            })?;
        }
        let open_err = |err| LedgerError::Open {
            path: path.clone(),
            err,
        };
        let mut conn = Connection::open(&path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(open_err)?;
        // Rollback journal (one file at rest), fsync at every commit: a stored passbook must
        // survive a crash before the card is told to clear it.
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        schema::ensure(&mut conn, &path)?;
        Ok(Ledger { conn, path })
    }

    /// Open the default ledger (`default_path`).
    pub fn open_default() -> Result<Ledger> {
        Self::open(default_path())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying connection (read-only use by tools and tests).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Store what a sync collected from `card_account` (its whole passbook exactly as
    /// READ_PASSBOOK returned it, oldest first = index 0.., and its exception log) in ONE
    /// transaction: all or nothing. Entries already stored
    /// (same card, passbook epoch, index and bytes) are skipped, so a retried sync stores each
    /// entry once. Only after this returned Ok may the host let the bank card clear the passbook;
    /// once the card confirmed the clear, call `confirm_cleared(report.sync_id)`.
    pub fn store_collection(
        &mut self,
        bank_account: &Account,
        card_account: &Account,
        entries: &[RawEntry],
        extras: &SyncExtras<'_>,
    ) -> Result<StoreReport> {
        // Decode everything first: a malformed record stores nothing.
        let decoded: Vec<PassbookEntry> = entries
            .iter()
            .map(|r| PassbookEntry::parse(r).map_err(|e| LedgerError::BadEntry(e.0)))
            .collect::<Result<_>>()?;
        let exceptions: Vec<ExceptionEntry> = extras
            .exceptions
            .iter()
            .map(|r| ExceptionEntry::parse(r).map_err(|e| LedgerError::BadEntry(e.0)))
            .collect::<Result<_>>()?;
        if bank_account == card_account {
            return Err(LedgerError::Invalid(format!(
                "bank card and synced card are the same account {card_account}"
            )));
        }
        if entries.len() > 255 {
            return Err(LedgerError::Invalid(format!(
                "{} passbook entries (a passbook holds at most 50)",
                entries.len()
            )));
        }
        let at = extras.at.unwrap_or_else(now);
        let bank = account_text(bank_account);
        let card = account_text(card_account);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;

        upsert_card(
            &tx,
            bank_account,
            extras.bank_role,
            extras.bank_name.as_deref(),
            at,
        )?;
        upsert_card(
            &tx,
            card_account,
            extras.card_role,
            extras.card_name.as_deref(),
            at,
        )?;
        let epoch: i64 = tx.query_row(
            "SELECT passbook_epoch FROM cards WHERE account = ?1",
            [&card],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO syncs (at, bank_account, card_account, passbook_epoch, entries_collected,
                 entries_new, exceptions_collected, exceptions_new, interest_paid)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, 0, ?7)",
            params![
                at,
                bank,
                card,
                epoch,
                entries.len() as i64,
                extras.exceptions.len() as i64,
                extras.interest_paid as i64
            ],
        )?;
        let sync_id = tx.last_insert_rowid();

        let mut rep = StoreReport {
            sync_id,
            bank_account: *bank_account,
            card_account: *card_account,
            passbook_epoch: epoch,
            entries_collected: entries.len(),
            entries_new: 0,
            entries_already_stored: 0,
            entries_rewritten: 0,
            index_conflicts: 0,
            exceptions_collected: extras.exceptions.len(),
            exceptions_new: 0,
        };

        for (index, (raw, e)) in entries.iter().zip(&decoded).enumerate() {
            let n = tx.execute(
                "INSERT INTO passbook_entries (bank_account, card_account, passbook_epoch,
                     entry_index, raw, counterparty, counterparty_is_account, counterparty_name,
                     counterparty_random, day, type, amount, new_balance, tid, keynum, sync_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                 ON CONFLICT DO NOTHING",
                params![
                    bank,
                    card,
                    epoch,
                    index as i64,
                    &raw[..],
                    account_text(&e.account),
                    is_account_number(&e.account),
                    e.name,
                    hexu(&e.random),
                    e.date as i64,
                    e.kind.code() as i64,
                    e.amount as i64,
                    e.new_balance as i64,
                    (e.tid != [0; 6]).then(|| hexu(&e.tid)),
                    e.keynum as i64,
                    sync_id
                ],
            )?;
            if n == 0 {
                rep.entries_already_stored += 1;
                continue;
            }
            rep.entries_new += 1;
            let new_id = tx.last_insert_rowid();
            if is_account_number(&e.account) && e.account != *card_account {
                upsert_card(&tx, &e.account, None, Some(&e.name), at)?;
            }
            // An earlier, different entry at the same place?
            let mut st = tx.prepare(
                "SELECT id, raw FROM passbook_entries
                 WHERE card_account = ?1 AND passbook_epoch = ?2 AND entry_index = ?3
                   AND id <> ?4 AND superseded_by IS NULL",
            )?;
            let olds: Vec<(i64, Vec<u8>)> = st
                .query_map(params![card, epoch, index as i64, new_id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            drop(st);
            for (old_id, old_raw) in olds {
                if is_rewrite(&old_raw, raw) {
                    tx.execute(
                        "UPDATE passbook_entries SET superseded_by = ?1 WHERE id = ?2",
                        params![new_id, old_id],
                    )?;
                    rep.entries_rewritten += 1;
                } else {
                    rep.index_conflicts += 1;
                }
            }
        }

        for (raw, x) in extras.exceptions.iter().zip(&exceptions) {
            let n = tx.execute(
                "INSERT INTO exceptions (bank_account, card_account, raw, tid, amount,
                     counterparty, day, reason, passbook_index, sync_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT DO NOTHING",
                params![
                    bank,
                    card,
                    &raw[..],
                    hexu(&x.tid),
                    x.amount as i64,
                    account_text(&x.account),
                    x.date as i64,
                    x.reason as i64,
                    x.passbook_index as i64,
                    sync_id
                ],
            )?;
            rep.exceptions_new += n;
        }

        tx.execute(
            "UPDATE syncs SET entries_new = ?1, exceptions_new = ?2 WHERE id = ?3",
            params![rep.entries_new as i64, rep.exceptions_new as i64, sync_id],
        )?;
        tx.commit()?;
        tracing::debug!(?rep, "ledger: stored collection");
        Ok(rep)
    }

    /// `store_collection` for records already decoded (as `card::PurseCard::read_passbook_all`
    /// returns them): they are re-encoded with `encode_entry` / `encode_exception`, which gives
    /// the card's bytes back for every entry a card writes (printable, space-padded names).
    /// `extras.exceptions` is ignored; `exceptions` is used instead.
    pub fn store_decoded(
        &mut self,
        bank_account: &Account,
        card_account: &Account,
        entries: &[PassbookEntry],
        exceptions: &[ExceptionEntry],
        extras: &SyncExtras<'_>,
    ) -> Result<StoreReport> {
        let raw: Vec<RawEntry> = entries.iter().map(encode_entry).collect();
        let exc: Vec<RawException> = exceptions.iter().map(encode_exception).collect();
        let extras = SyncExtras {
            exceptions: &exc,
            ..extras.clone()
        };
        self.store_collection(bank_account, card_account, &raw, &extras)
    }

    /// The card confirmed (SACK) that it cleared its passbook in sync `sync_id`: later entries
    /// start again at index 0, in the next passbook epoch. Idempotent.
    pub fn confirm_cleared(&mut self, sync_id: i64) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(String, i64, bool)> = tx
            .query_row(
                "SELECT card_account, passbook_epoch, cleared FROM syncs WHERE id = ?1",
                [sync_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((card, epoch, cleared)) = row else {
            return Err(LedgerError::NoSuchSync(sync_id));
        };
        if !cleared {
            tx.execute("UPDATE syncs SET cleared = 1 WHERE id = ?1", [sync_id])?;
            tx.execute(
                "UPDATE cards SET passbook_epoch = ?1 + 1
                 WHERE account = ?2 AND passbook_epoch = ?1",
                params![epoch, card],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// The newest collection of a card that `confirm_cleared` has not closed, in the card's current
/// passbook epoch (see [`Ledger::open_collection`]).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct OpenCollection {
    pub sync_id: i64,
    /// The bank card that collected it (`sig:` text never occurs here: banks sync real accounts).
    pub bank_account: String,
    pub passbook_epoch: i64,
    pub entries_collected: usize,
    pub exceptions_collected: usize,
    /// The bytes stored at index 0 of that epoch (the oldest entry of the passbook), if any.
    pub first_entry: Option<Vec<u8>>,
}

impl OpenCollection {
    /// `entry` (a passbook's index 0 as the card shows it now) is the same entry as the stored
    /// index 0, or that DEBIT rewritten in place (06/07): the card has not cleared since.
    pub fn same_first_entry(&self, entry: &[u8]) -> bool {
        match &self.first_entry {
            Some(old) => old.as_slice() == entry || is_rewrite(old, entry),
            None => true,
        }
    }
}

impl Ledger {
    /// The newest collection of `card` stored in its current passbook epoch and not confirmed
    /// cleared, if any: the one whose `confirm_cleared` a host that crashed after the card
    /// cleared never called (docs/ledger.md, "A host crash after the clear").
    pub fn open_collection(&self, card: &Account) -> Result<Option<OpenCollection>> {
        let card = account_text(card);
        let row: Option<(i64, String, i64, i64, i64)> = self
            .conn
            .query_row(
                "SELECT s.id, s.bank_account, s.passbook_epoch, s.entries_collected,
                        s.exceptions_collected
                 FROM syncs s JOIN cards c ON c.account = s.card_account
                 WHERE s.card_account = ?1 AND s.passbook_epoch = c.passbook_epoch
                       AND s.cleared = 0
                 ORDER BY s.id DESC LIMIT 1",
                [&card],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((sync_id, bank_account, epoch, n, x)) = row else {
            return Ok(None);
        };
        let first_entry: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT raw FROM passbook_entries
                 WHERE card_account = ?1 AND passbook_epoch = ?2 AND entry_index = 0
                 ORDER BY id LIMIT 1",
                params![card, epoch],
                |r| r.get(0),
            )
            .optional()?;
        Ok(Some(OpenCollection {
            sync_id,
            bank_account,
            passbook_epoch: epoch,
            entries_collected: n.max(0) as usize,
            exceptions_collected: x.max(0) as usize,
            first_entry,
        }))
    }
}

/// `new` is `old` rewritten in place by the card: a DEBIT turned into DEBIT_REFUNDED (06) or
/// EXCEPTION (07), every other byte unchanged (protocol.md 3.1).
fn is_rewrite(old: &[u8], new: &[u8]) -> bool {
    old.len() == ENTRY_LEN
        && new.len() == ENTRY_LEN
        && old[26] == 0x01
        && (new[26] == 0x06 || new[26] == 0x07)
        && old[..26] == new[..26]
        && old[27..] == new[27..]
}

fn upsert_card(
    tx: &rusqlite::Transaction<'_>,
    account: &Account,
    role: Option<u8>,
    name: Option<&str>,
    at: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO cards (account, role, name, issuer, first_seen, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (account) DO UPDATE SET
             role = COALESCE(excluded.role, role),
             name = COALESCE(excluded.name, name),
             first_seen = MIN(first_seen, excluded.first_seen),
             last_seen = MAX(last_seen, excluded.last_seen)",
        params![
            account_text(account),
            role.map(|r| r as i64),
            name,
            is_account_number(account).then(|| account.issuer_id()),
            at
        ],
    )?;
    Ok(())
}
