//! Opening a ledger to read it (docs/ledger.md "Reading"): never creates a file, a directory, a
//! journal or a schema, and works on read-only media (an archived ledger on a DVD or a
//! read-only mount). Only the writer (`Ledger::open`, used by `purse sync`) creates the file.
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::db::Db;
use super::schema::SCHEMA_VERSION;
use super::{connect_postgres, is_postgres_url, Ledger, LedgerError, Result};

/// `file:` URI of `path` (percent-encoding what a URI would misread), `immutable=1` when asked.
fn uri(path: &Path, immutable: bool) -> String {
    let mut u = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        match *b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                u.push(*b as char)
            }
            x => u.push_str(&format!("%{x:02X}")),
        }
    }
    u.push_str("?mode=ro");
    if immutable {
        // Tells SQLite the file cannot change: no lock files, no journal lookups. Right for
        // archive media, where no writer can exist.
        u.push_str("&immutable=1");
    }
    u
}

/// No write permission bit at all (`chmod a-w`): read-only media or an archive. Root ignores
/// permission bits, so `access(2)` would say "writable"; the bits are what the owner meant.
fn no_write_bits(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.permissions().readonly())
}

fn is_ro_error(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly | ErrorCode::DatabaseBusy)
    )
}

impl Ledger {
    /// Open an existing ledger read-only (every `purse ledger` read command). Fails with
    /// `NotFound` when there is no file (a typo must not create an empty ledger), and with
    /// `NotALedger` when the file is not a ledger. On a read-only file or directory, or when a
    /// plain read-only open fails because nothing can be written there (no lock possible), the
    /// file is opened `immutable` (SQLite reads it as a plain file).
    ///
    /// A PostgreSQL URL has no file to check: it is a normal connection whose transactions
    /// are all read-only (`default_transaction_read_only`), so nothing can be written through
    /// it; the schema must be there already (`NotALedger` otherwise).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Ledger> {
        let path = path.as_ref().to_path_buf();
        if let Some(url) = path.to_str().filter(|u| is_postgres_url(u)) {
            return open_postgres_read_only(url.trim());
        }
        let md = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(LedgerError::NotFound { path })
            }
            Err(e) => {
                return Err(LedgerError::NotALedger {
                    path,
                    what: e.to_string(),
                })
            }
        };
        if !md.is_file() {
            return Err(LedgerError::NotALedger {
                path,
                what: "not a file".into(),
            });
        }
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let archive = no_write_bits(&path) || no_write_bits(&dir);
        // A crashed writer's rollback journal: SQLite must roll it back before the file is
        // read, which needs write access. Reading `immutable` would show the half-written
        // state, so refuse instead.
        let mut journal = path.clone().into_os_string();
        journal.push("-journal");
        let hot = std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0);
        let unfinished = || {
            LedgerError::NotALedger {
            path: path.clone(),
            what: format!(
                "a write was interrupted ({} is next to it) and must be rolled back first: on writable storage, the next `purse sync` with this ledger does it",
                Path::new(&journal).display()
            ),
        }
        };
        if archive && hot {
            return Err(unfinished());
        }
        let conn = match open_conn(&path, archive) {
            Err(e) if !archive && is_ro_error(&e) => {
                if hot {
                    return Err(unfinished());
                }
                open_conn(&path, true)
            }
            r => r,
        }
        .map_err(|err| match err.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => LedgerError::NotALedger {
                path: path.clone(),
                what: "not a ledger (not an SQLite database)".into(),
            },
            _ => LedgerError::Open {
                path: path.clone(),
                err,
            },
        })?;
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if v > SCHEMA_VERSION {
            return Err(LedgerError::TooNew {
                path,
                found: v,
                known: SCHEMA_VERSION,
            });
        }
        if v < 1 {
            return Err(LedgerError::NotALedger {
                path,
                what: "not a ledger (an SQLite file without the ledger's tables)".into(),
            });
        }
        Ok(Ledger {
            db: Db::sqlite(conn),
            shown: path,
        })
    }

    /// SQLite's `PRAGMA quick_check` (b-tree structure of every page, O(file size)): the list
    /// of problems, empty when the file is sound. Read commands run it at open so a damaged
    /// file never lists entries without a warning.
    /// On PostgreSQL there is no such pragma (the server checks its pages itself): `None`.
    pub fn quick_check(&self) -> Result<Option<Vec<String>>> {
        self.with_sqlite(|c| pragma_check(c, "quick_check"))
            .transpose()
    }
}

/// Run an integrity pragma; an error while running it is itself a problem found.
pub(super) fn pragma_check(conn: &Connection, pragma: &str) -> Result<Vec<String>> {
    let run = || -> rusqlite::Result<Vec<String>> {
        let mut st = conn.prepare(&format!("PRAGMA {pragma}"))?;
        let v = st
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    };
    match run() {
        Ok(v) => Ok(v.into_iter().filter(|s| s != "ok").collect()),
        Err(e) => Ok(vec![e.to_string()]),
    }
}

fn open_conn(path: &Path, immutable: bool) -> rusqlite::Result<Connection> {
    let c = Connection::open_with_flags(
        uri(path, immutable),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    c.busy_timeout(Duration::from_secs(10))?;
    // Reading the header now turns "cannot lock / not a database" into an open error.
    c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?;
    Ok(c)
}

fn open_postgres_read_only(url: &str) -> Result<Ledger> {
    // Every transaction of this session is read-only, the reads' own included: a bug in a
    // read command cannot write the ledger.
    let (mut client, shown) = connect_postgres(
        url,
        "purse (read-only)",
        "SET default_transaction_read_only TO on",
    )?;
    let has_schema = client
        .query_one(
            "SELECT COUNT(*) FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_name = 'purse_schema'",
            &[],
        )?
        .try_get::<_, i64>(0)?
        > 0;
    let not_a_ledger = || LedgerError::NotALedger {
        path: PathBuf::from(&shown),
        what:
            "not a ledger (a database without the ledger's tables; only `purse sync` creates them)"
                .into(),
    };
    if !has_schema {
        return Err(not_a_ledger());
    }
    let v = client
        .query_opt("SELECT version FROM purse_schema", &[])?
        .map(|r| r.try_get::<_, i64>(0))
        .transpose()?
        .unwrap_or(0);
    if v > SCHEMA_VERSION {
        return Err(LedgerError::TooNew {
            path: PathBuf::from(&shown),
            found: v,
            known: SCHEMA_VERSION,
        });
    }
    if v < 1 {
        return Err(not_a_ledger());
    }
    Ok(Ledger {
        db: Db::postgres(client),
        shown: PathBuf::from(&shown),
    })
}
