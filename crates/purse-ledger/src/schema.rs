//! The ledger's schema (docs/ledger.md), one definition for both engines: the statements below
//! are written once, and four tokens are spelled per engine ({ID} the row id, {INT} a 64-bit
//! integer, {TEXT} text compared byte by byte, {BLOB} bytes). Versioned: SQLite keeps the
//! version in `PRAGMA user_version`, PostgreSQL in the table `purse_schema`. A new ledger is
//! created at the newest version; an older one is migrated step by step inside one transaction
//! (PostgreSQL: under an advisory lock, so purses opening one new database at once create it
//! once); a newer one is refused (this purse does not know its tables).
use super::db::{Db, Engine, Ex};
use super::LedgerError;

/// Schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = 4;

/// Version 1. Accounts are TEXT (16 digits, or `sig:` + hex for a private card's signature),
/// randoms and TIDs upper-case hex TEXT, dates day numbers (protocol.md 10), times unix seconds.
const V1: &str = r#"
CREATE TABLE cards (
    account        {TEXT} PRIMARY KEY,
    role           {INT},              -- protocol.md ROLE, NULL when only seen as a counterparty
    name           {TEXT},
    issuer         {TEXT},             -- first 6 digits of the account
    first_seen     {INT} NOT NULL,
    last_seen      {INT} NOT NULL,
    passbook_epoch {INT} NOT NULL DEFAULT 0   -- +1 each time a sync cleared the passbook
);

CREATE TABLE syncs (
    id                   {ID},
    at                   {INT} NOT NULL,
    bank_account         {TEXT} NOT NULL,
    card_account         {TEXT} NOT NULL,
    passbook_epoch       {INT} NOT NULL,
    entries_collected    {INT} NOT NULL,
    entries_new          {INT} NOT NULL,
    exceptions_collected {INT} NOT NULL,
    exceptions_new       {INT} NOT NULL,
    interest_paid        {INT} NOT NULL DEFAULT 0,
    cleared              {INT} NOT NULL DEFAULT 0  -- the card confirmed it cleared its passbook
);
CREATE INDEX syncs_card ON syncs(card_account, at);

CREATE TABLE passbook_entries (
    id                      {ID},
    bank_account            {TEXT} NOT NULL,   -- bank card that first collected it
    card_account            {TEXT} NOT NULL,   -- card whose passbook held it
    passbook_epoch          {INT} NOT NULL,
    entry_index             {INT} NOT NULL,    -- 0 = oldest entry of that passbook
    raw                     {BLOB} NOT NULL CHECK (length(raw) = 42),
    counterparty            {TEXT} NOT NULL,
    counterparty_is_account {INT} NOT NULL,
    counterparty_name       {TEXT} NOT NULL,
    counterparty_random     {TEXT} NOT NULL,
    day                     {INT} NOT NULL,
    type                    {INT} NOT NULL,
    amount                  {INT} NOT NULL,
    new_balance             {INT} NOT NULL,
    tid                     {TEXT},            -- NULL when the entry has none (all zero)
    keynum                  {INT} NOT NULL,
    sync_id                 {INT} NOT NULL REFERENCES syncs(id),
    superseded_by           {INT} REFERENCES passbook_entries(id),
    UNIQUE (card_account, passbook_epoch, entry_index, raw)
);
CREATE INDEX pe_card_day ON passbook_entries(card_account, day);
CREATE INDEX pe_counterparty ON passbook_entries(counterparty);
CREATE INDEX pe_tid ON passbook_entries(tid);
CREATE INDEX pe_random ON passbook_entries(counterparty_random);

CREATE TABLE exceptions (
    id             {ID},
    bank_account   {TEXT} NOT NULL,
    card_account   {TEXT} NOT NULL,    -- the payer
    raw            {BLOB} NOT NULL CHECK (length(raw) = 24),
    tid            {TEXT} NOT NULL,
    amount         {INT} NOT NULL,
    counterparty   {TEXT} NOT NULL,    -- the payee that may or may not have been credited
    day            {INT} NOT NULL,
    reason         {INT} NOT NULL,
    passbook_index {INT} NOT NULL,
    sync_id        {INT} NOT NULL REFERENCES syncs(id),
    UNIQUE (card_account, raw)
);
CREATE INDEX exc_tid ON exceptions(tid);
"#;

/// Version 2: the index reconcile matches on. A debit is paired with its credit by TID, then
/// the two accounts and the amount; with `pe_tid` alone SQLite's planner could walk the
/// card_account index instead (cost rows x rows per card). `pe_match` has every equality of
/// the match, TID first (nearly unique), and makes `pe_tid` redundant.
const V2: &str = r#"
CREATE INDEX pe_match ON passbook_entries(tid, card_account, counterparty, amount);
DROP INDEX pe_tid;
"#;

/// Version 3: `card_status`, each card's GET_STATUS as a sync read it (crates/purse-ledger/src/facts.rs):
/// currency, decimals, balance as the card reported it. `IF NOT EXISTS`: ledgers written by
/// an earlier purse may already hold the table (it was created by the first sync then).
pub(crate) const V3: &str = r#"
CREATE TABLE IF NOT EXISTS card_status (
    sync_id  {INT} NOT NULL,
    account  {TEXT} NOT NULL,
    at       {INT} NOT NULL,
    role     {INT} NOT NULL,
    name     {TEXT} NOT NULL,
    currency {INT} NOT NULL,
    decimals {INT} NOT NULL,
    balance  {INT} NOT NULL,
    key_date {INT} NOT NULL,
    PRIMARY KEY (sync_id, account)
);
"#;

/// Version 4: `pe_match` also holds `type` and `superseded_by`, every column reconcile reads of
/// an entry and of its partner: reconcile then walks this index in TID order (a debit's credit
/// sits next to it) and never touches the table for matched entries. With the four-column
/// index SQLite fetched every entry's row and probed the index at random: 10^6 entries took
/// 7 s, 15 times the time of 10^5 (the file no longer fits the caches); now about 2 s, linear.
const V4: &str = r#"
DROP INDEX pe_match;
CREATE INDEX pe_match ON passbook_entries(tid, card_account, counterparty, amount, type, superseded_by);
"#;

fn spell(engine: Engine, sql: &str) -> String {
    let (id, int, text, blob) = match engine {
        // INTEGER PRIMARY KEY is SQLite's rowid; INTEGER is 64-bit there.
        Engine::Sqlite => ("INTEGER PRIMARY KEY", "INTEGER", "TEXT", "BLOB"),
        // Byte-wise text order ("C") keeps listings and reports in the same order as SQLite's.
        Engine::Postgres => (
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "BIGINT",
            "TEXT COLLATE \"C\"",
            "BYTEA",
        ),
    };
    sql.replace("{ID}", id)
        .replace("{INT}", int)
        .replace("{TEXT}", text)
        .replace("{BLOB}", blob)
}

/// The statements that bring a ledger from version `from` to `SCHEMA_VERSION`.
pub fn migration(engine: Engine, from: i64) -> String {
    let mut s = String::new();
    for (v, sql) in [(1, V1), (2, V2), (3, V3), (4, V4)] {
        if from < v {
            s += &spell(engine, sql);
        }
    }
    s
}

fn too_new(location: &str, found: i64) -> LedgerError {
    LedgerError::TooNew {
        path: location.into(),
        found,
        known: SCHEMA_VERSION,
    }
}

/// Create or migrate the schema of an open ledger.
pub(crate) fn ensure(db: &Db, location: &str) -> Result<(), LedgerError> {
    let engine = db.engine();
    db.write(|ex: &mut Ex<'_, '_>| {
        let v = match engine {
            Engine::Sqlite => ex.query_one("PRAGMA user_version", &[])?.int(0)?,
            Engine::Postgres => {
                // One creator at a time; the others wait, then find the schema made.
                ex.batch(
                    "SELECT pg_advisory_xact_lock(7419586253);
                     CREATE TABLE IF NOT EXISTS purse_schema (version BIGINT NOT NULL);",
                )?;
                ex.query_opt("SELECT version FROM purse_schema", &[])?
                    .map(|r| r.int(0))
                    .transpose()?
                    .unwrap_or(0)
            }
        };
        if v > SCHEMA_VERSION {
            return Err(too_new(location, v));
        }
        if v == SCHEMA_VERSION {
            return Ok(());
        }
        ex.batch(&migration(engine, v))?;
        match engine {
            Engine::Sqlite => ex.batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))?,
            Engine::Postgres => {
                ex.execute("DELETE FROM purse_schema", &[])?;
                ex.execute(
                    "INSERT INTO purse_schema (version) VALUES (?1)",
                    &[SCHEMA_VERSION.into()],
                )?;
            }
        }
        Ok(())
    })
}

/// The schema version of an open ledger.
pub(crate) fn version(db: &Db) -> Result<i64, LedgerError> {
    let engine = db.engine();
    db.read(|ex| match engine {
        Engine::Sqlite => ex.query_one("PRAGMA user_version", &[])?.int(0),
        Engine::Postgres => ex
            .query_one("SELECT version FROM purse_schema", &[])?
            .int(0),
    })
}
