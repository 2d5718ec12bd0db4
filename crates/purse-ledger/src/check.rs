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

use super::readonly::pragma_check;
use super::{account_text, EntryFilter, Ledger, PassbookEntry, Result};

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
        let entries = self
            .entries(&EntryFilter {
                include_superseded: true,
                ..Default::default()
            })
            .unwrap_or_else(|e| {
                unreadable("passbook entries", e);
                Vec::new()
            });
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
        let by_id: HashMap<i64, &super::StoredEntry> = entries.iter().map(|e| (e.id, e)).collect();
        let mut stored_in: HashMap<i64, (i64, i64)> = HashMap::new();

        for e in &entries {
            stored_in.entry(e.sync_id).or_default().0 += 1;
            let mismatch = match hex::decode(&e.raw)
                .ok()
                .and_then(|b| PassbookEntry::parse(&b).ok())
            {
                None => Some("its card bytes do not decode".to_string()),
                Some(d) => {
                    let mut diff = Vec::new();
                    if account_text(&d.account) != e.counterparty {
                        diff.push("counterparty");
                    }
                    if d.name != e.counterparty_name {
                        diff.push("counterparty name");
                    }
                    if hex::encode_upper(d.random) != e.counterparty_random {
                        diff.push("random");
                    }
                    if d.date != e.day {
                        diff.push("date");
                    }
                    if d.kind != e.kind {
                        diff.push("type");
                    }
                    if d.amount != e.amount {
                        diff.push("amount");
                    }
                    if d.new_balance != e.new_balance {
                        diff.push("new balance");
                    }
                    let tid = (d.tid != [0; 6]).then(|| hex::encode_upper(d.tid));
                    if tid != e.tid {
                        diff.push("transfer id");
                    }
                    if d.keynum != e.keynum {
                        diff.push("key number");
                    }
                    (!diff.is_empty())
                        .then(|| format!("{} differ from the card's bytes", diff.join(", ")))
                }
            };
            if let Some(m) = mismatch {
                problems.push(p(
                    "raw_mismatch",
                    format!(
                        "entry {} of card {} (index {}): {m}",
                        e.id, e.card_account, e.index
                    ),
                    vec![e.id],
                ));
            }
            match by_sync.get(&e.sync_id) {
                Some(s) if s.card_account == e.card_account => {}
                Some(s) => problems.push(p(
                    "orphan_entry",
                    format!(
                        "entry {} of card {} says it was stored by sync {}, which collected card {}",
                        e.id, e.card_account, s.id, s.card_account
                    ),
                    vec![e.id],
                )),
                None => problems.push(p(
                    "orphan_entry",
                    format!("entry {} refers to sync {}, which is not recorded", e.id, e.sync_id),
                    vec![e.id],
                )),
            }
            if let Some(n) = e.superseded_by {
                let ok = by_id.get(&n).is_some_and(|r| {
                    r.card_account == e.card_account
                        && r.passbook_epoch == e.passbook_epoch
                        && r.index == e.index
                        && e.kind == super::EntryType::Debit
                        && matches!(
                            r.kind,
                            super::EntryType::DebitRefunded | super::EntryType::Exception
                        )
                });
                if !ok {
                    problems.push(p(
                        "bad_supersede",
                        format!(
                            "entry {} is marked rewritten by entry {n}, which is not its refund or exception",
                            e.id
                        ),
                        vec![e.id, n],
                    ));
                }
            }
        }
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
            entries: entries.len(),
            exceptions: exceptions.len(),
            syncs: syncs.len(),
            problems,
            flags: fk,
            skipped,
        })
    }
}
