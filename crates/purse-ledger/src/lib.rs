//! The bank's ledger (MISSION B5, docs/ledger.md): passbooks and exception logs collected at
//! sync, stored in one SQLite file (the default) or one PostgreSQL database (several hosts
//! writing one ledger). Every collection is stored in one transaction and each entry exactly
//! once, however often a sync is retried and however many purses write at once; the host may
//! ask the card to clear its passbook only after `Ledger::store_collection` returned Ok.
//!
//! Queries (`queries.rs`): entries by account and date, per-account balance rebuild (refund a
//! dead card), reconciliation of debits with credits across cards, simple fraud flags.
//! Engines (`db.rs`), schema (`schema.rs`), benchmark and its realistic data (`bench.rs`).
#![forbid(unsafe_code)]
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use purse_proto as proto;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

pub mod bench;
mod check;
mod db;
mod entry;
mod facts;
mod queries;
mod readonly;
pub mod report;
pub mod schema;
pub mod summary;
pub mod units;

pub use db::Engine;
use db::{vals, Db, Ex, Val};
pub use purse_card::flows::store::{is_rewrite, OpenCollection, StoreReport};

pub use crate::proto::consts::EntryType;
pub use check::{CheckProblem, CheckReport};
pub use entry::{
    account_text, encode_entry, encode_exception, format_day, is_account_number, parse_account,
    parse_day, split_entries, split_exceptions, Account, ExceptionEntry, PassbookEntry, RawEntry,
    RawException, ENTRY_LEN, EXCEPTION_LEN,
};
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
    #[error("ledger database: {}", pg_text(.0))]
    Postgres(#[from] postgres::Error),
    #[error("ledger {path}: {err}")]
    Open { path: PathBuf, err: rusqlite::Error },
    #[error("no ledger at {path}: check the path (only `purse sync` creates a ledger)")]
    NotFound { path: PathBuf },
    #[error("ledger {path}: {what}")]
    NotALedger { path: PathBuf, what: String },
    #[error("ledger {url}: {}", pg_text(.err))]
    Connect { url: String, err: postgres::Error },
    #[error("ledger data: {0}")]
    Column(String),
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

/// A PostgreSQL error with the server's message and detail (its Display says only "db error").
fn pg_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => match d.detail() {
            Some(x) => format!("{} ({x})", d.message()),
            None => d.message().to_owned(),
        },
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(x) = src {
                s += &format!(": {x}");
                src = x.source();
            }
            s
        }
    }
}

/// A PostgreSQL session for the ledger: a 10 s connect timeout and an application name unless
/// the URL sets them, then `session_sql` (the session's guarantees). Returns the client and the
/// URL as shown to users (no password).
pub(crate) fn connect_postgres(
    url: &str,
    app: &str,
    session_sql: &str,
) -> Result<(postgres::Client, String)> {
    let shown = redact_url(url);
    let connect_err = |err| LedgerError::Connect {
        url: shown.clone(),
        err,
    };
    let mut cfg: postgres::Config = url.parse().map_err(connect_err)?;
    if cfg.get_connect_timeout().is_none() {
        cfg.connect_timeout(Duration::from_secs(10));
    }
    if cfg.get_application_name().is_none() {
        cfg.application_name(app);
    }
    let mut client = cfg.connect(postgres::NoTls).map_err(connect_err)?;
    client.batch_execute(session_sql).map_err(connect_err)?;
    Ok((client, shown))
}

/// Default ledger: `$PURSE_LEDGER` (a file, or a `postgres://` URL), else
/// `~/.purse/ledger.sqlite`.
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

/// The bank's ledger: one SQLite file, or one PostgreSQL database.
pub struct Ledger {
    db: Db,
    /// What `path()` shows: the file, or the URL without its password.
    shown: PathBuf,
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

/// True when `location` names a PostgreSQL database (`postgres://…` or `postgresql://…`)
/// rather than a SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    let l = location.trim_start();
    l.starts_with("postgres://") || l.starts_with("postgresql://")
}

/// A PostgreSQL URL as it may be shown: the password (in the user part or a `password=`
/// parameter) replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some(p) = url.find("://") else {
        return url.to_owned();
    };
    let (scheme, rest) = url.split_at(p + 3);
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (auth, tail) = rest.split_at(auth_end);
    let auth = match auth.rfind('@') {
        Some(at) => {
            let (user, host) = auth.split_at(at);
            match user.find(':') {
                Some(c) => format!("{}:***{host}", &user[..c]),
                None => auth.to_owned(),
            }
        }
        None => auth.to_owned(),
    };
    let tail: Vec<String> = tail
        .split('&')
        .map(|kv| {
            let (k, _) = kv.split_once('=').unwrap_or((kv, ""));
            if k.rsplit('?').next() == Some("password") {
                format!("{k}=***")
            } else {
                kv.to_owned()
            }
        })
        .collect();
    format!("{scheme}{auth}{}", tail.join("&"))
}

impl Ledger {
    /// Open the ledger at `location`, creating what is missing (directory, file, tables):
    /// a SQLite file path, or a PostgreSQL URL (`postgres://user:pass@host:port/dbname`,
    /// `postgres://user@/dbname?host=/run/postgresql` for a unix socket; see
    /// docs/ledger.md). The database of a URL must exist; its tables are created on first use.
    pub fn open(location: impl AsRef<Path>) -> Result<Ledger> {
        let path = location.as_ref();
        match path.to_str() {
            Some(url) if is_postgres_url(url) => Self::open_postgres(url.trim()),
            _ => Self::open_sqlite(path),
        }
    }

    fn open_sqlite(path: &Path) -> Result<Ledger> {
        let path = path.to_path_buf();
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
        let conn = Connection::open(&path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(open_err)?;
        // Rollback journal (one file at rest), fsync at every commit: a stored passbook must
        // survive a crash before the card is told to clear it.
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        let lg = Ledger {
            db: Db::sqlite(conn),
            shown: path,
        };
        schema::ensure(&lg.db, &lg.shown.display().to_string())?;
        Ok(lg)
    }

    fn open_postgres(url: &str) -> Result<Ledger> {
        // A commit returns only once it is on disk (and on synchronous standbys), whatever the
        // server's default: the card clears its passbook after our commit returned.
        let (client, shown) = connect_postgres(url, "purse", "SET synchronous_commit TO on")?;
        let lg = Ledger {
            db: Db::postgres(client),
            shown: PathBuf::from(&shown),
        };
        schema::ensure(&lg.db, &shown)?;
        Ok(lg)
    }

    /// Open the default ledger (`default_path`).
    pub fn open_default() -> Result<Ledger> {
        Self::open(default_path())
    }

    /// Where the ledger is: the SQLite file, or the PostgreSQL URL without its password.
    pub fn path(&self) -> &Path {
        &self.shown
    }

    /// Which engine holds this ledger.
    pub fn engine(&self) -> Engine {
        self.db.engine()
    }

    /// Schema version of the open ledger (`schema::SCHEMA_VERSION` once opened).
    pub fn schema_version(&self) -> Result<i64> {
        schema::version(&self.db)
    }

    /// Run `f` on the SQLite connection (tools and tests); None on PostgreSQL.
    pub fn with_sqlite<T>(&self, f: impl FnOnce(&Connection) -> T) -> Option<T> {
        self.db.with_sqlite(f)
    }

    /// Number of rows in one of the ledger's tables (tools and tests).
    pub fn count_rows(&self, table: &str) -> Result<i64> {
        if ![
            "cards",
            "syncs",
            "passbook_entries",
            "exceptions",
            "card_status",
        ]
        .contains(&table)
        {
            return Err(LedgerError::Invalid(format!("no ledger table {table:?}")));
        }
        self.db.read(|ex| {
            ex.query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])?
                .int(0)
        })
    }

    /// Store what a sync collected from `card_account` (its whole passbook exactly as
    /// READ_PASSBOOK returned it, oldest first = index 0.., and its exception log) in ONE
    /// transaction: all or nothing. Entries already stored
    /// (same card, passbook epoch, index and bytes) are skipped, so a retried sync stores each
    /// entry once, also when several purses store the same card at once. Only after this
    /// returned Ok may the host let the bank card clear the passbook (the commit is durable
    /// then, on either engine); once the card confirmed the clear, call
    /// `confirm_cleared(report.sync_id)`.
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
        let rep = self.db.write(|ex| {
            store_tx(
                ex,
                bank_account,
                card_account,
                entries,
                &decoded,
                &exceptions,
                extras,
                at,
            )
        })?;
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
    /// start again at index 0, in the next passbook epoch. Idempotent, also when several
    /// purses confirm the same sync at once (only the one that flips `cleared` moves the epoch).
    pub fn confirm_cleared(&mut self, sync_id: i64) -> Result<()> {
        self.db.write(|ex| {
            let Some(row) = ex.query_opt(
                "SELECT card_account, passbook_epoch FROM syncs WHERE id = ?1",
                &vals![sync_id],
            )?
            else {
                return Err(LedgerError::NoSuchSync(sync_id));
            };
            let (card, epoch) = (row.text(0)?, row.int(1)?);
            if ex.execute(
                "UPDATE syncs SET cleared = 1 WHERE id = ?1 AND cleared = 0",
                &vals![sync_id],
            )? == 1
            {
                ex.execute(
                    "UPDATE cards SET passbook_epoch = ?1 + 1
                     WHERE account = ?2 AND passbook_epoch = ?1",
                    &vals![epoch, card],
                )?;
            }
            Ok(())
        })
    }
}

impl Ledger {
    /// The newest collection of `card` stored in its current passbook epoch and not confirmed
    /// cleared, if any: the one whose `confirm_cleared` a host that crashed after the card
    /// cleared never called (docs/ledger.md, "A host crash after the clear").
    pub fn open_collection(&self, card: &Account) -> Result<Option<OpenCollection>> {
        let card = account_text(card);
        self.db.read(|ex| {
            let Some(r) = ex.query_opt(
                "SELECT s.id, s.bank_account, s.passbook_epoch, s.entries_collected,
                        s.exceptions_collected
                 FROM syncs s JOIN cards c ON c.account = s.card_account
                 WHERE s.card_account = ?1 AND s.passbook_epoch = c.passbook_epoch
                       AND s.cleared = 0
                 ORDER BY s.id DESC LIMIT 1",
                &vals![&card],
            )?
            else {
                return Ok(None);
            };
            let (sync_id, bank_account, epoch) = (r.int(0)?, r.text(1)?, r.int(2)?);
            let (n, x) = (r.int(3)?, r.int(4)?);
            let first_entry = ex
                .query_opt(
                    "SELECT raw FROM passbook_entries
                     WHERE card_account = ?1 AND passbook_epoch = ?2 AND entry_index = 0
                     ORDER BY id LIMIT 1",
                    &vals![&card, epoch],
                )?
                .map(|r| r.blob(0))
                .transpose()?;
            Ok(Some(OpenCollection {
                sync_id,
                bank_account,
                passbook_epoch: epoch,
                entries_collected: n.max(0) as usize,
                exceptions_collected: x.max(0) as usize,
                first_entry,
            }))
        })
    }
}

/// The columns of `passbook_entries` that `entry_vals` fills, in order.
pub(crate) const ENTRY_COLS: &str = "bank_account, card_account, passbook_epoch, entry_index, \
    raw, counterparty, counterparty_is_account, counterparty_name, counterparty_random, day, \
    type, amount, new_balance, tid, keynum, sync_id";

/// The row of one entry (the decoded columns come from the card's bytes, nowhere else).
pub(crate) fn entry_vals(
    bank: &str,
    card: &str,
    epoch: i64,
    index: usize,
    raw: &RawEntry,
    e: &PassbookEntry,
    sync_id: i64,
) -> [Val; 16] {
    vals![
        bank,
        card,
        epoch,
        index as i64,
        &raw[..],
        account_text(&e.account),
        is_account_number(&e.account),
        e.name.as_str(),
        hexu(&e.random),
        e.date as i64,
        e.kind.code() as i64,
        e.amount as i64,
        e.new_balance as i64,
        (e.tid != [0; 6]).then(|| hexu(&e.tid)),
        e.keynum as i64,
        sync_id
    ]
}

/// The columns of `exceptions` that `exception_vals` fills, in order.
pub(crate) const EXCEPTION_COLS: &str = "bank_account, card_account, raw, tid, amount, \
    counterparty, day, reason, passbook_index, sync_id";

/// The row of one exception-log entry (decoded columns from the card's bytes).
pub(crate) fn exception_vals(
    bank: &str,
    card: &str,
    raw: &RawException,
    x: &ExceptionEntry,
    sync_id: i64,
) -> [Val; 10] {
    vals![
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
    ]
}

/// The body of `store_collection`'s transaction (re-run from the start if PostgreSQL asks).
#[allow(clippy::too_many_arguments)]
fn store_tx(
    tx: &mut Ex<'_, '_>,
    bank_account: &Account,
    card_account: &Account,
    entries: &[RawEntry],
    decoded: &[PassbookEntry],
    exceptions: &[ExceptionEntry],
    extras: &SyncExtras<'_>,
    at: i64,
) -> Result<StoreReport> {
    let bank = account_text(bank_account);
    let card = account_text(card_account);
    // Several purses may write at once (PostgreSQL). Everything this transaction decides from
    // what it reads (the card's epoch, entries already at an index) belongs to the synced
    // card, and it locks that card's row first thing, with the bank card's. Counterparties are
    // only inserted when new (`note_counterparty`), never locked: a busy merchant seen in
    // every user's passbook is no hot row making all branches wait. Both steps go through the
    // accounts in one sorted order, so two syncs never wait for each other in a circle (a new
    // row another transaction is inserting is waited for too). SQLite: BEGIN IMMEDIATE
    // serialises writers; the same order is kept, which changes nothing there.
    let mut touched: Vec<(String, &Account, Option<&str>)> = vec![
        (bank.clone(), bank_account, None),
        (card.clone(), card_account, None),
    ];
    for e in decoded {
        if is_account_number(&e.account) && e.account != *card_account {
            let t = account_text(&e.account);
            match touched.iter_mut().find(|(a, _, _)| *a == t) {
                Some((_, _, Some(n))) => *n = &e.name,
                Some(_) => {}
                None => touched.push((t, &e.account, Some(&e.name))),
            }
        }
    }
    touched.sort_by(|x, y| x.0.cmp(&y.0));
    for (text, a, counterparty) in &touched {
        match counterparty {
            Some(name) => note_counterparty(tx, a, name, at)?,
            None if tx.engine() == Engine::Postgres => {
                tx.execute(
                    "INSERT INTO cards (account, issuer, first_seen, last_seen)
                     VALUES (?1, ?2, ?3, ?3)
                     ON CONFLICT (account) DO UPDATE SET last_seen = cards.last_seen",
                    &vals![text, is_account_number(a).then(|| a.issuer_id()), at],
                )?;
            }
            None => {}
        }
    }
    upsert_card(
        tx,
        bank_account,
        extras.bank_role,
        extras.bank_name.as_deref(),
        at,
    )?;
    upsert_card(
        tx,
        card_account,
        extras.card_role,
        extras.card_name.as_deref(),
        at,
    )?;
    let epoch = tx
        .query_one(
            "SELECT passbook_epoch FROM cards WHERE account = ?1",
            &vals![&card],
        )?
        .int(0)?;
    let sync_id = tx
        .query_one(
            "INSERT INTO syncs (at, bank_account, card_account, passbook_epoch, entries_collected,
                 entries_new, exceptions_collected, exceptions_new, interest_paid)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, 0, ?7) RETURNING id",
            &vals![
                at,
                &bank,
                &card,
                epoch,
                entries.len() as i64,
                extras.exceptions.len() as i64,
                extras.interest_paid as i64
            ],
        )?
        .int(0)?;

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

    // What this card's passbook of this epoch already holds, by index (a retried sync, or a
    // DEBIT the card has since rewritten in place).
    let mut olds: HashMap<i64, Vec<(i64, Vec<u8>)>> = HashMap::new();
    for r in tx.query(
        "SELECT id, entry_index, raw FROM passbook_entries
         WHERE card_account = ?1 AND passbook_epoch = ?2 AND superseded_by IS NULL",
        &vals![&card, epoch],
    )? {
        olds.entry(r.int(1)?)
            .or_default()
            .push((r.int(0)?, r.blob(2)?));
    }
    // All entries in one statement; RETURNING names those that were not stored yet.
    let mut new_ids: HashMap<i64, i64> = HashMap::new();
    if !entries.is_empty() {
        let mut sql = format!("INSERT INTO passbook_entries ({ENTRY_COLS}) VALUES ");
        let mut args = Vec::with_capacity(entries.len() * 16);
        for (index, (raw, e)) in entries.iter().zip(decoded).enumerate() {
            if index > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..16 {
                if c > 0 {
                    sql.push(',');
                }
                sql += &format!("?{}", index * 16 + c + 1);
            }
            sql.push(')');
            args.extend(entry_vals(&bank, &card, epoch, index, raw, e, sync_id));
        }
        sql += " ON CONFLICT DO NOTHING RETURNING id, entry_index";
        for r in tx.query(&sql, &args)? {
            new_ids.insert(r.int(1)?, r.int(0)?);
        }
    }
    for (index, raw) in entries.iter().enumerate() {
        let Some(&new_id) = new_ids.get(&(index as i64)) else {
            rep.entries_already_stored += 1;
            continue;
        };
        rep.entries_new += 1;
        // An earlier, different entry at the same place?
        for (old_id, old_raw) in olds.get(&(index as i64)).into_iter().flatten() {
            if is_rewrite(old_raw, raw) {
                tx.execute(
                    "UPDATE passbook_entries SET superseded_by = ?1 WHERE id = ?2",
                    &vals![new_id, *old_id],
                )?;
                rep.entries_rewritten += 1;
            } else {
                rep.index_conflicts += 1;
            }
        }
    }

    for (raw, x) in extras.exceptions.iter().zip(exceptions) {
        let n = tx.execute(
            &format!(
                "INSERT INTO exceptions ({EXCEPTION_COLS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT DO NOTHING"
            ),
            &exception_vals(&bank, &card, raw, x, sync_id),
        )?;
        rep.exceptions_new += n as usize;
    }

    tx.execute(
        "UPDATE syncs SET entries_new = ?1, exceptions_new = ?2 WHERE id = ?3",
        &vals![rep.entries_new as i64, rep.exceptions_new as i64, sync_id],
    )?;
    Ok(rep)
}

/// A card seen as a counterparty: recorded with the name and time of its first sighting if the
/// ledger does not know it yet; a known row is left alone (its own syncs keep it up to date).
fn note_counterparty(tx: &mut Ex<'_, '_>, account: &Account, name: &str, at: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO cards (account, name, issuer, first_seen, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (account) DO NOTHING",
        &vals![
            account_text(account),
            name,
            is_account_number(account).then(|| account.issuer_id()),
            at
        ],
    )?;
    Ok(())
}

fn upsert_card(
    tx: &mut Ex<'_, '_>,
    account: &Account,
    role: Option<u8>,
    name: Option<&str>,
    at: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO cards (account, role, name, issuer, first_seen, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (account) DO UPDATE SET
             role = COALESCE(excluded.role, cards.role),
             name = COALESCE(excluded.name, cards.name),
             first_seen = CASE WHEN excluded.first_seen < cards.first_seen
                               THEN excluded.first_seen ELSE cards.first_seen END,
             last_seen = CASE WHEN excluded.last_seen > cards.last_seen
                              THEN excluded.last_seen ELSE cards.last_seen END",
        &vals![
            account_text(account),
            role.map(|r| r as i64),
            name,
            is_account_number(account).then(|| account.issuer_id()),
            at
        ],
    )?;
    Ok(())
}

/// The sync and resume flows store through this (crate purse-card knows no database).
impl purse_card::flows::store::PassbookStore for Ledger {
    fn store_passbook(
        &mut self,
        c: &purse_card::flows::store::Collection<'_>,
    ) -> std::result::Result<StoreReport, purse_card::flows::store::StoreError> {
        let entries = split_entries(c.passbook)?;
        let exceptions = split_exceptions(c.exceptions)?;
        let extras = SyncExtras {
            exceptions: &exceptions,
            interest_paid: c.interest_paid,
            card_role: c.card_role,
            card_name: c.card_name.clone(),
            bank_role: c.bank_role,
            bank_name: c.bank_name.clone(),
            at: None,
        };
        Ok(self.store_collection(c.bank_account, c.card_account, &entries, &extras)?)
    }

    fn open_collection_of(
        &self,
        card: &Account,
    ) -> std::result::Result<Option<OpenCollection>, purse_card::flows::store::StoreError> {
        Ok(self.open_collection(card)?)
    }

    fn mark_cleared(
        &mut self,
        sync_id: i64,
    ) -> std::result::Result<(), purse_card::flows::store::StoreError> {
        Ok(self.confirm_cleared(sync_id)?)
    }

    fn record_statuses(
        &mut self,
        sync_id: i64,
        at: i64,
        statuses: &[&crate::proto::types::Status],
    ) -> std::result::Result<(), purse_card::flows::store::StoreError> {
        Ok(self.record_card_status(sync_id, at, statuses)?)
    }
}
