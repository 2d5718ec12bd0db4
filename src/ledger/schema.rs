//! The ledger's SQLite schema (docs/ledger.md). Versioned with `PRAGMA user_version`: a new file
//! is created at the newest version; an older file is migrated step by step inside one
//! transaction; a newer file is refused (this purse does not know its tables).
use rusqlite::{Connection, TransactionBehavior};

use super::LedgerError;

/// Schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = 1;

/// Version 1. Accounts are TEXT (16 digits, or `sig:` + hex for a private card's signature),
/// randoms and TIDs upper-case hex TEXT, dates day numbers (protocol.md 10), times unix seconds.
const V1: &str = r#"
CREATE TABLE cards (
    account        TEXT PRIMARY KEY,
    role           INTEGER,            -- protocol.md ROLE, NULL when only seen as a counterparty
    name           TEXT,
    issuer         TEXT,               -- first 6 digits of the account
    first_seen     INTEGER NOT NULL,
    last_seen      INTEGER NOT NULL,
    passbook_epoch INTEGER NOT NULL DEFAULT 0   -- +1 each time a sync cleared the passbook
);

CREATE TABLE syncs (
    id                   INTEGER PRIMARY KEY,
    at                   INTEGER NOT NULL,
    bank_account         TEXT NOT NULL,
    card_account         TEXT NOT NULL,
    passbook_epoch       INTEGER NOT NULL,
    entries_collected    INTEGER NOT NULL,
    entries_new          INTEGER NOT NULL,
    exceptions_collected INTEGER NOT NULL,
    exceptions_new       INTEGER NOT NULL,
    interest_paid        INTEGER NOT NULL DEFAULT 0,
    cleared              INTEGER NOT NULL DEFAULT 0  -- the card confirmed it cleared its passbook
);
CREATE INDEX syncs_card ON syncs(card_account, at);

CREATE TABLE passbook_entries (
    id                      INTEGER PRIMARY KEY,
    bank_account            TEXT NOT NULL,     -- bank card that first collected it
    card_account            TEXT NOT NULL,     -- card whose passbook held it
    passbook_epoch          INTEGER NOT NULL,
    entry_index             INTEGER NOT NULL,  -- 0 = oldest entry of that passbook
    raw                     BLOB NOT NULL CHECK (length(raw) = 42),
    counterparty            TEXT NOT NULL,
    counterparty_is_account INTEGER NOT NULL,
    counterparty_name       TEXT NOT NULL,
    counterparty_random     TEXT NOT NULL,
    day                     INTEGER NOT NULL,
    type                    INTEGER NOT NULL,
    amount                  INTEGER NOT NULL,
    new_balance             INTEGER NOT NULL,
    tid                     TEXT,              -- NULL when the entry has none (all zero)
    keynum                  INTEGER NOT NULL,
    sync_id                 INTEGER NOT NULL REFERENCES syncs(id),
    superseded_by           INTEGER REFERENCES passbook_entries(id),
    UNIQUE (card_account, passbook_epoch, entry_index, raw)
);
CREATE INDEX pe_card_day ON passbook_entries(card_account, day);
CREATE INDEX pe_counterparty ON passbook_entries(counterparty);
CREATE INDEX pe_tid ON passbook_entries(tid);
CREATE INDEX pe_random ON passbook_entries(counterparty_random);

CREATE TABLE exceptions (
    id             INTEGER PRIMARY KEY,
    bank_account   TEXT NOT NULL,
    card_account   TEXT NOT NULL,      -- the payer
    raw            BLOB NOT NULL CHECK (length(raw) = 24),
    tid            TEXT NOT NULL,
    amount         INTEGER NOT NULL,
    counterparty   TEXT NOT NULL,      -- the payee that may or may not have been credited
    day            INTEGER NOT NULL,
    reason         INTEGER NOT NULL,
    passbook_index INTEGER NOT NULL,
    sync_id        INTEGER NOT NULL REFERENCES syncs(id),
    UNIQUE (card_account, raw)
);
CREATE INDEX exc_tid ON exceptions(tid);
"#;

/// Create or migrate the schema of an open connection.
pub fn ensure(conn: &mut Connection, path: &std::path::Path) -> Result<(), LedgerError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let v: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v > SCHEMA_VERSION {
        return Err(LedgerError::TooNew {
            path: path.to_path_buf(),
            found: v,
            known: SCHEMA_VERSION,
        });
    }
    if v < 1 {
        tx.execute_batch(V1)?;
    }
    // Later versions: `if v < 2 { tx.execute_batch(V2)?; }` and so on.
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}
