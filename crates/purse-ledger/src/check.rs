//! `purse ledger check`: is the file sound, and does its content hold together?
//!
//! 1. SQLite's own check (`PRAGMA integrity_check`: every page, every index against its table);
//!    not on PostgreSQL (no such check from a client), which the report says (`skipped`).
//! 2. The ledger's consistency, computed in Rust from the public read functions (so it works
//!    on any engine): each entry's decoded columns agree with its 42 card bytes (`raw`, the
//!    evidence); every entry and exception belongs to a recorded sync of the same card, and each
//!    sync's `entries_new` / `exceptions_new` equal the rows it stored; `superseded_by` points
//!    at a rewrite of the same passbook place.
//!
//! Balance chain breaks and index conflicts are content findings, listed by `purse ledger
//! flags`; the check counts them by kind next to its own findings.
use std::collections::HashMap;

use serde::Serialize;

use super::db::Row;
use super::readonly::pragma_check;
use super::{account_text, EntryType, Ledger, PassbookEntry, Result};

/// One problem found.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CheckProblem {
    /// `sqlite` (the file's structure), `unreadable` (a table could not be read),
    /// `raw_mismatch`, `orphan_entry`, `orphan_exception`, `sync_count_mismatch`,
    /// `bad_supersede`.
    pub kind: &'static str,
    pub detail: String,
    /// Row ids concerned (entries, or syncs for `sync_count_mismatch`).
    pub ids: Vec<i64>,
}

/// Result of `Ledger::check`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CheckReport {
    /// No problem found.
    pub ok: bool,
    pub entries: usize,
    pub exceptions: usize,
    pub syncs: usize,
    pub problems: Vec<CheckProblem>,
    /// Content flags of `purse ledger flags` (not file damage), by kind.
    pub flags: Vec<(String, usize)>,
    /// A check that does not apply to this engine, and why (PostgreSQL: the SQLite page
    /// check); `null` when every check ran.
    pub skipped: Option<String>,
}

fn p(kind: &'static str, detail: String, ids: Vec<i64>) -> CheckProblem {
    CheckProblem { kind, detail, ids }
}

impl Ledger {
    /// Check the file and its content (see the module docs). Problems are reported, not
    /// returned as errors: a damaged table is itself a finding.
    pub fn check(&self) -> Result<CheckReport> {
        self.check_with("integrity_check", true)
    }

    /// The check the read commands run at open: SQLite's `quick_check` (every page's
    /// structure, not indexes against tables) and the ledger's own consistency checks
    /// (without counting the content flags).
    pub fn check_quick(&self) -> Result<CheckReport> {
        self.check_with("quick_check", false)
    }

    fn check_with(&self, pragma: &str, with_flags: bool) -> Result<CheckReport> {
        // SQLite's page check; PostgreSQL has no equivalent to run from a client (the server
        // checks its pages itself): skipped there, and the report says so.
        let (mut problems, skipped): (Vec<CheckProblem>, Option<String>) =
            match self.with_sqlite(|c| pragma_check(c, pragma)) {
                Some(found) => (
                    found?
                        .into_iter()
                        .map(|m| p("sqlite", m, vec![]))
                        .collect(),
                    None,
                ),
                None => (
                    Vec::new(),
                    Some(format!(
                        "the file check (SQLite {pragma}) does not apply to PostgreSQL: only the ledger's consistency was checked"
                    )),
                ),
            };
        let mut unreadable = |what: &str, e: super::LedgerError| {
            problems.push(p("unreadable", format!("{what}: {e}"), vec![]));
        };
        let exceptions = self.exceptions(None).unwrap_or_else(|e| {
            unreadable("exception log", e);
            Vec::new()
        });
        let syncs = self.syncs(None).unwrap_or_else(|e| {
            unreadable("syncs", e);
            Vec::new()
        });
        // content flags (one pass per card): only for the full check
        let flags = if with_flags {
            self.fraud_flags().unwrap_or_else(|e| {
                unreadable("flags", e);
                Vec::new()
            })
        } else {
            Vec::new()
        };

        let by_sync: HashMap<i64, &super::SyncRecord> = syncs.iter().map(|s| (s.id, s)).collect();
        let mut stored_in: HashMap<i64, (i64, i64)> = HashMap::new();
        // Every entry, streamed in storage order (no ORDER BY: sorting 10^6 rows by card would
        // fetch them at random; the read commands run this check at every open), each row
        // checked on its own; what needs another row (a rewrite's target) is kept aside.
        // Problems about entries are sorted by card, epoch, index at the end, as a listing.
        let mut found: Vec<((String, i64, i64, i64), CheckProblem)> = Vec::new();
        let mut rewritten: Vec<Rewritten> = Vec::new();
        let mut entries = 0usize;
        let scan = self.db.read(|ex| {
            ex.query_each(
                "SELECT id, card_account, passbook_epoch, entry_index, day, type, counterparty,
                        counterparty_name, counterparty_random, amount, new_balance, tid, keynum,
                        sync_id, superseded_by, raw
                 FROM passbook_entries",
                &[],
                |r| {
                    let e = ScannedEntry::from_row(r)?;
                    entries += 1;
                    stored_in.entry(e.sync_id).or_default().0 += 1;
                    let key = (e.card_account.clone(), e.passbook_epoch, e.index, e.id);
                    if let Some(m) = e.mismatch() {
                        found.push((
                            key.clone(),
                            p(
                                "raw_mismatch",
                                format!(
                                    "entry {} of card {} (index {}): {m}",
                                    e.id, e.card_account, e.index
                                ),
                                vec![e.id],
                            ),
                        ));
                    }
                    match by_sync.get(&e.sync_id) {
                        Some(s) if s.card_account == e.card_account => {}
                        Some(s) => found.push((
                            key.clone(),
                            p(
                                "orphan_entry",
                                format!(
                                    "entry {} of card {} says it was stored by sync {}, which collected card {}",
                                    e.id, e.card_account, s.id, s.card_account
                                ),
                                vec![e.id],
                            ),
                        )),
                        None => found.push((
                            key.clone(),
                            p(
                                "orphan_entry",
                                format!(
                                    "entry {} refers to sync {}, which is not recorded",
                                    e.id, e.sync_id
                                ),
                                vec![e.id],
                            ),
                        )),
                    }
                    if let Some(n) = e.superseded_by {
                        rewritten.push(Rewritten {
                            key,
                            by: n,
                            debit: e.kind == super::EntryType::Debit,
                        });
                    }
                    Ok(())
                },
            )
        });
        if let Err(e) = scan {
            unreadable("passbook entries", e);
        }
        // The rewrites' targets: the refund or exception at the same passbook place.
        let targets: HashMap<i64, (String, i64, i64, super::EntryType)> = self
            .db
            .read(|ex| {
                ex.query(
                    "SELECT id, card_account, passbook_epoch, entry_index, type
                     FROM passbook_entries WHERE id IN
                       (SELECT superseded_by FROM passbook_entries WHERE superseded_by IS NOT NULL)",
                    &[],
                )?
                .iter()
                .map(|r| {
                    Ok((
                        r.int(0)?,
                        (
                            r.text(1)?,
                            r.int(2)?,
                            r.int(3)?,
                            super::EntryType::from_code(r.int(4)? as u8),
                        ),
                    ))
                })
                .collect()
            })
            .unwrap_or_else(|e| {
                unreadable("passbook entries", e);
                HashMap::new()
            });
        for w in rewritten {
            let (card, epoch, index, id) = &w.key;
            let ok = w.debit
                && targets.get(&w.by).is_some_and(|(c, ep, ix, kind)| {
                    c == card
                        && ep == epoch
                        && ix == index
                        && matches!(
                            kind,
                            super::EntryType::DebitRefunded | super::EntryType::Exception
                        )
                });
            if !ok {
                let n = w.by;
                found.push((
                    w.key.clone(),
                    p(
                        "bad_supersede",
                        format!(
                            "entry {id} is marked rewritten by entry {n}, which is not its refund or exception"
                        ),
                        vec![*id, n],
                    ),
                ));
            }
        }
        // stable: an entry's own problems keep their order
        found.sort_by(|a, b| a.0.cmp(&b.0));
        problems.extend(found.into_iter().map(|(_, x)| x));
        for x in &exceptions {
            stored_in.entry(x.sync_id).or_default().1 += 1;
            match by_sync.get(&x.sync_id) {
                Some(s) if s.card_account == x.card_account => {}
                _ => problems.push(p(
                    "orphan_exception",
                    format!(
                        "exception {} of payer {} does not belong to a recorded sync of that card",
                        x.id, x.card_account
                    ),
                    vec![x.id],
                )),
            }
        }
        for s in &syncs {
            let (ne, nx) = stored_in.get(&s.id).copied().unwrap_or_default();
            if ne != s.entries_new || nx != s.exceptions_new {
                problems.push(p(
                    "sync_count_mismatch",
                    format!(
                        "sync {} of card {} recorded {} new entries and {} new exceptions; the ledger holds {} and {}",
                        s.id, s.card_account, s.entries_new, s.exceptions_new, ne, nx
                    ),
                    vec![s.id],
                ));
            }
        }
        let mut fk: Vec<(String, usize)> = Vec::new();
        for f in &flags {
            match fk.iter_mut().find(|(k, _)| k == f.kind) {
                Some(x) => x.1 += 1,
                None => fk.push((f.kind.to_string(), 1)),
            }
        }
        Ok(CheckReport {
            ok: problems.is_empty(),
            entries,
            exceptions: exceptions.len(),
            syncs: syncs.len(),
            problems,
            flags: fk,
            skipped,
        })
    }
}

/// An entry as the check reads it: the stored columns, and the card's bytes.
struct ScannedEntry {
    id: i64,
    card_account: String,
    passbook_epoch: i64,
    index: i64,
    day: u16,
    kind: EntryType,
    counterparty: String,
    counterparty_name: String,
    counterparty_random: String,
    amount: u32,
    new_balance: u32,
    tid: Option<String>,
    keynum: u8,
    sync_id: i64,
    superseded_by: Option<i64>,
    raw: Vec<u8>,
}

impl ScannedEntry {
    fn from_row(r: &Row) -> Result<ScannedEntry> {
        Ok(ScannedEntry {
            id: r.int(0)?,
            card_account: r.text(1)?,
            passbook_epoch: r.int(2)?,
            index: r.int(3)?,
            day: r.int(4)? as u16,
            kind: EntryType::from_code(r.int(5)? as u8),
            counterparty: r.text(6)?,
            counterparty_name: r.text(7)?,
            counterparty_random: r.text(8)?,
            amount: r.int(9)? as u32,
            new_balance: r.int(10)? as u32,
            tid: r.opt_text(11)?,
            keynum: r.int(12)? as u8,
            sync_id: r.int(13)?,
            superseded_by: r.opt_int(14)?,
            raw: r.blob(15)?,
        })
    }

    /// Which decoded columns disagree with the card's bytes, if any.
    fn mismatch(&self) -> Option<String> {
        let Ok(d) = PassbookEntry::parse(&self.raw) else {
            return Some("its card bytes do not decode".to_string());
        };
        let mut diff = Vec::new();
        if account_text(&d.account) != self.counterparty {
            diff.push("counterparty");
        }
        if d.name != self.counterparty_name {
            diff.push("counterparty name");
        }
        if hex::encode_upper(d.random) != self.counterparty_random {
            diff.push("random");
        }
        if d.date != self.day {
            diff.push("date");
        }
        if d.kind != self.kind {
            diff.push("type");
        }
        if d.amount != self.amount {
            diff.push("amount");
        }
        if d.new_balance != self.new_balance {
            diff.push("new balance");
        }
        let tid = (d.tid != [0; 6]).then(|| hex::encode_upper(d.tid));
        if tid != self.tid {
            diff.push("transfer id");
        }
        if d.keynum != self.keynum {
            diff.push("key number");
        }
        (!diff.is_empty()).then(|| format!("{} differ from the card's bytes", diff.join(", ")))
    }
}

/// An entry marked rewritten (`superseded_by`), checked once its target is read.
struct Rewritten {
    key: (String, i64, i64, i64),
    by: i64,
    debit: bool,
}
