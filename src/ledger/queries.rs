//! Read side of the ledger: entries by account and date, balance rebuild, reconciliation,
//! fraud flags (docs/ledger.md).
use std::collections::HashSet;

use rusqlite::{params_from_iter, types::Value, Row};
use serde::Serialize;

use super::entry::sign;
use super::{account_text, format_day, Account, EntryType, Ledger, Result};

/// One stored passbook entry, decoded.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoredEntry {
    pub id: i64,
    /// Card whose passbook held the entry.
    pub card_account: String,
    /// Bank card that collected it.
    pub bank_account: String,
    pub passbook_epoch: i64,
    pub index: i64,
    pub day: u16,
    /// `day` as YYYY-MM-DD.
    pub date: String,
    /// protocol.md 3.1 TYPE name (DEBIT, CREDIT, ...).
    #[serde(rename = "type", serialize_with = "ser_type")]
    pub kind: EntryType,
    pub counterparty: String,
    pub counterparty_name: String,
    pub counterparty_random: String,
    pub amount: u32,
    pub new_balance: u32,
    pub tid: Option<String>,
    pub keynum: u8,
    pub sync_id: i64,
    /// Set when the card later rewrote this DEBIT in place (06/07): id of the rewritten entry.
    pub superseded_by: Option<i64>,
    /// The 42 bytes, hex.
    pub raw: String,
}

fn ser_type<S: serde::Serializer>(t: &EntryType, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&t.name())
}

const COLS: &str = "id, card_account, bank_account, passbook_epoch, entry_index, day, type, \
    counterparty, counterparty_name, counterparty_random, amount, new_balance, tid, keynum, \
    sync_id, superseded_by, raw";

fn entry_from_row(r: &Row<'_>) -> rusqlite::Result<StoredEntry> {
    let day: i64 = r.get(5)?;
    let day = day as u16;
    let raw: Vec<u8> = r.get(16)?;
    Ok(StoredEntry {
        id: r.get(0)?,
        card_account: r.get(1)?,
        bank_account: r.get(2)?,
        passbook_epoch: r.get(3)?,
        index: r.get(4)?,
        day,
        date: format_day(day),
        kind: EntryType::from_code(r.get::<_, i64>(6)? as u8),
        counterparty: r.get(7)?,
        counterparty_name: r.get(8)?,
        counterparty_random: r.get(9)?,
        amount: r.get::<_, i64>(10)? as u32,
        new_balance: r.get::<_, i64>(11)? as u32,
        tid: r.get(12)?,
        keynum: r.get::<_, i64>(13)? as u8,
        sync_id: r.get(14)?,
        superseded_by: r.get(15)?,
        raw: hex::encode_upper(raw),
    })
}

/// One stored exception-log entry.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoredException {
    pub id: i64,
    /// The payer.
    pub card_account: String,
    pub bank_account: String,
    pub tid: String,
    pub amount: u32,
    /// The payee.
    pub counterparty: String,
    pub day: u16,
    pub date: String,
    pub reason: u8,
    pub passbook_index: u8,
    pub sync_id: i64,
}

/// One row of the `syncs` table.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SyncRecord {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub bank_account: String,
    pub card_account: String,
    pub passbook_epoch: i64,
    pub entries_collected: i64,
    pub entries_new: i64,
    pub exceptions_collected: i64,
    pub exceptions_new: i64,
    pub interest_paid: i64,
    /// The card confirmed it cleared its passbook (`Ledger::confirm_cleared`).
    pub cleared: bool,
}

/// Which entries `Ledger::entries` returns. Dates are day numbers, both ends inclusive.
#[derive(Clone, Debug, Default)]
pub struct EntryFilter {
    /// Entries of this card's own passbook (None: every card).
    pub account: Option<Account>,
    pub from: Option<u16>,
    pub to: Option<u16>,
    /// Also DEBITs the card later rewrote in place (06/07).
    pub include_superseded: bool,
}

/// A place where a card's own balance chain does not follow (entry i's NEW BALANCE is not
/// entry i-1's plus or minus entry i's amount): entries missing from the ledger, or tampering.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ChainBreak {
    pub card_account: String,
    pub entry_id: i64,
    pub expected: i64,
    pub found: i64,
}

/// A movement of the rebuilt account seen only on a counterparty's passbook.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Adjustment {
    pub entry: StoredEntry,
    /// Change to the rebuilt account's balance.
    pub delta: i64,
    /// `certain` (the counterparty's entry proves it) or `likely` (see docs/ledger.md).
    pub certainty: &'static str,
    /// The counterparty's entry is dated before the account's last own entry (suspicious: that
    /// movement should have been on the account's own passbook).
    pub before_last_own_entry: bool,
}

/// Rebuilt balance of one account (B5: refund a card that died).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Rebuild {
    pub account: String,
    /// Entries of the account's own collected passbooks.
    pub own_entries: usize,
    pub last_own_entry: Option<StoredEntry>,
    /// Balance after the last own entry (plus refunds of 06 entries not yet reflected).
    pub base_balance: i64,
    pub chain_breaks: Vec<ChainBreak>,
    /// Later movements seen on counterparties' passbooks.
    pub adjustments: Vec<Adjustment>,
    /// Counterparty entries that cannot be decided from passbooks (exceptions: the payer gave
    /// up; the account may or may not have been credited).
    pub unresolved: Vec<StoredEntry>,
    /// base + certain adjustments.
    pub balance_certain: i64,
    /// base + all adjustments: what the bank should refund.
    pub balance: i64,
}

/// A debit without its credit, or a credit without its debit.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Unmatched {
    /// `debit` or `credit`.
    pub side: &'static str,
    pub entry: StoredEntry,
    /// Whether any passbook of the counterparty is in the ledger (false: maybe it just has not
    /// synced yet).
    pub counterparty_collected: bool,
}

/// State of one exception-log entry against the payee's passbook.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ExceptionStatus {
    pub exception: StoredException,
    /// The payee's collected passbook shows the credit: the exception must NOT be refunded.
    pub credited: bool,
    pub counterparty_collected: bool,
}

/// Result of `Ledger::reconcile`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Reconciliation {
    pub debits_checked: usize,
    pub debits_matched: usize,
    pub credits_checked: usize,
    pub credits_matched: usize,
    pub unmatched: Vec<Unmatched>,
    pub exceptions: Vec<ExceptionStatus>,
}

/// A simple fraud or consistency flag.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FraudFlag {
    /// `random_reused`, `tid_reused`, `credit_of_refunded_debit`, `credited_exception`,
    /// `index_conflict`, `balance_chain_break`, `mint_off_center`.
    pub kind: &'static str,
    pub detail: String,
    pub entry_ids: Vec<i64>,
}

fn ids(s: Option<String>) -> Vec<i64> {
    s.unwrap_or_default()
        .split(',')
        .filter_map(|x| x.parse().ok())
        .collect()
}

/// The type on the other card that matches a value-moving type of this card.
fn pair_types(t: EntryType) -> Option<&'static str> {
    match t {
        EntryType::Debit => Some("2"),
        EntryType::InterestOut => Some("4"),
        EntryType::Credit => Some("1,6,7"),
        EntryType::InterestIn => Some("5"),
        _ => None,
    }
}

impl Ledger {
    /// Entries matching `f`, ordered by card, passbook epoch, index.
    pub fn entries(&self, f: &EntryFilter) -> Result<Vec<StoredEntry>> {
        let mut sql = format!("SELECT {COLS} FROM passbook_entries WHERE 1 = 1");
        let mut args: Vec<Value> = Vec::new();
        if let Some(a) = &f.account {
            args.push(Value::Text(account_text(a)));
            sql += &format!(" AND card_account = ?{}", args.len());
        }
        if let Some(d) = f.from {
            args.push(Value::Integer(d as i64));
            sql += &format!(" AND day >= ?{}", args.len());
        }
        if let Some(d) = f.to {
            args.push(Value::Integer(d as i64));
            sql += &format!(" AND day <= ?{}", args.len());
        }
        if !f.include_superseded {
            sql += " AND superseded_by IS NULL";
        }
        sql += " ORDER BY card_account, passbook_epoch, entry_index, id";
        let mut st = self.conn.prepare(&sql)?;
        let v = st
            .query_map(params_from_iter(args), entry_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(v)
    }

    fn entries_where(&self, cond: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<StoredEntry>> {
        let sql = format!(
            "SELECT {COLS} FROM passbook_entries WHERE {cond} \
             ORDER BY card_account, passbook_epoch, entry_index, id"
        );
        let mut st = self.conn.prepare(&sql)?;
        let v = st
            .query_map(args, entry_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(v)
    }

    /// Exception-log entries (of one payer, or all).
    pub fn exceptions(&self, account: Option<&Account>) -> Result<Vec<StoredException>> {
        let mut st = self.conn.prepare(
            "SELECT id, card_account, bank_account, tid, amount, counterparty, day, reason,
                    passbook_index, sync_id
             FROM exceptions WHERE ?1 IS NULL OR card_account = ?1 ORDER BY id",
        )?;
        let v = st
            .query_map([account.map(account_text)], |r| {
                let day = r.get::<_, i64>(6)? as u16;
                Ok(StoredException {
                    id: r.get(0)?,
                    card_account: r.get(1)?,
                    bank_account: r.get(2)?,
                    tid: r.get(3)?,
                    amount: r.get::<_, i64>(4)? as u32,
                    counterparty: r.get(5)?,
                    day,
                    date: format_day(day),
                    reason: r.get::<_, i64>(7)? as u8,
                    passbook_index: r.get::<_, i64>(8)? as u8,
                    sync_id: r.get(9)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(v)
    }

    /// Syncs recorded (of one card, or all), oldest first.
    pub fn syncs(&self, account: Option<&Account>) -> Result<Vec<SyncRecord>> {
        let mut st = self.conn.prepare(
            "SELECT id, at, bank_account, card_account, passbook_epoch, entries_collected,
                    entries_new, exceptions_collected, exceptions_new, interest_paid, cleared
             FROM syncs WHERE ?1 IS NULL OR card_account = ?1 ORDER BY id",
        )?;
        let v = st
            .query_map([account.map(account_text)], |r| {
                Ok(SyncRecord {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    bank_account: r.get(2)?,
                    card_account: r.get(3)?,
                    passbook_epoch: r.get(4)?,
                    entries_collected: r.get(5)?,
                    entries_new: r.get(6)?,
                    exceptions_collected: r.get(7)?,
                    exceptions_new: r.get(8)?,
                    interest_paid: r.get(9)?,
                    cleared: r.get(10)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(v)
    }

    fn collected(&self, account: &str) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM passbook_entries WHERE card_account = ?1)",
            [account],
            |r| r.get(0),
        )?)
    }

    /// Walk a card's own entries: balance after the last one, and breaks in the chain.
    fn walk_chain(own: &[StoredEntry]) -> (i64, Vec<ChainBreak>) {
        let mut running: Option<i64> = None;
        let mut pending_refund = 0i64;
        let mut breaks = Vec::new();
        for e in own {
            let nb = e.new_balance as i64;
            if let Some(r) = running {
                let expected = r + sign(e.kind) * e.amount as i64;
                if nb == expected {
                } else if pending_refund > 0 && nb == expected + pending_refund {
                    pending_refund = 0; // the refund happened before this entry
                } else {
                    breaks.push(ChainBreak {
                        card_account: e.card_account.clone(),
                        entry_id: e.id,
                        expected,
                        found: nb,
                    });
                    pending_refund = 0;
                }
            }
            running = Some(nb);
            if e.kind == EntryType::DebitRefunded {
                pending_refund += e.amount as i64;
            }
        }
        (running.unwrap_or(0) + pending_refund, breaks)
    }

    /// Rebuild the balance of `account` from the ledger alone (B5): the balance after its last
    /// collected entry, plus the movements that appear only on counterparties' passbooks
    /// (transfers it made after its last sync). See docs/ledger.md for the rules.
    pub fn rebuild(&self, account: &Account) -> Result<Rebuild> {
        let acc = account_text(account);
        let own = self.entries_where("card_account = ?1 AND superseded_by IS NULL", &[&acc])?;
        let (base, chain_breaks) = Self::walk_chain(&own);
        let own_tids: HashSet<&str> = own.iter().filter_map(|e| e.tid.as_deref()).collect();
        let last = own.last().cloned();
        let last_day = last.as_ref().map(|e| e.day);

        let theirs = self.entries_where(
            "counterparty = ?1 AND card_account <> ?1 AND superseded_by IS NULL",
            &[&acc],
        )?;
        let mut adjustments = Vec::new();
        let mut unresolved = Vec::new();
        for e in theirs {
            if e.tid.as_deref().is_some_and(|t| own_tids.contains(t)) {
                continue; // already in the account's own passbook
            }
            let (delta, certainty) = match e.kind {
                // They were credited: only a debited payer makes a P4. The account paid.
                EntryType::Credit => (-(e.amount as i64), "certain"),
                // They received interest from the account (a bank card, which debits first).
                EntryType::InterestIn => (-(e.amount as i64), "certain"),
                // They debited and were not refunded when collected: the account was
                // credited unless the transfer was still pending then.
                EntryType::Debit | EntryType::InterestOut => (e.amount as i64, "likely"),
                EntryType::Exception => {
                    unresolved.push(e);
                    continue;
                }
                // Refunded (NACK = never credited), mint, unknown: no effect on the account.
                _ => continue,
            };
            adjustments.push(Adjustment {
                before_last_own_entry: last_day.is_some_and(|d| e.day < d),
                entry: e,
                delta,
                certainty,
            });
        }
        let certain: i64 = adjustments
            .iter()
            .filter(|a| a.certainty == "certain")
            .map(|a| a.delta)
            .sum();
        let all: i64 = adjustments.iter().map(|a| a.delta).sum();
        Ok(Rebuild {
            account: acc,
            own_entries: own.len(),
            last_own_entry: last,
            base_balance: base,
            chain_breaks,
            adjustments,
            unresolved,
            balance_certain: base + certain,
            balance: base + all,
        })
    }

    /// Find the entry on the counterparty's passbook that matches `e` (same TID, amount and
    /// accounts, opposite type; without a TID: same day instead).
    fn find_pair(&self, e: &StoredEntry, types: &str) -> Result<Option<StoredEntry>> {
        let cond = format!(
            "card_account = ?1 AND counterparty = ?2 AND amount = ?3 AND type IN ({types}) \
             AND superseded_by IS NULL AND {}",
            if e.tid.is_some() {
                "tid = ?4"
            } else {
                "tid IS NULL AND day = ?4"
            }
        );
        let key: Box<dyn rusqlite::ToSql> = match &e.tid {
            Some(t) => Box::new(t.clone()),
            None => Box::new(e.day as i64),
        };
        let v = self.entries_where(
            &cond,
            &[
                &e.counterparty,
                &e.card_account,
                &(e.amount as i64),
                key.as_ref(),
            ],
        )?;
        Ok(v.into_iter().next())
    }

    /// Match every debit (and interest paid out) on one card with the credit on the other card,
    /// by transfer id + amount + accounts, and every credit with its debit; list what is
    /// unmatched, and the state of every exception-log entry.
    pub fn reconcile(&self) -> Result<Reconciliation> {
        let mut rec = Reconciliation {
            debits_checked: 0,
            debits_matched: 0,
            credits_checked: 0,
            credits_matched: 0,
            unmatched: Vec::new(),
            exceptions: Vec::new(),
        };
        let moving = self.entries_where("type IN (1, 2, 4, 5) AND superseded_by IS NULL", &[])?;
        for e in moving {
            let Some(types) = pair_types(e.kind) else {
                continue;
            };
            let is_debit = matches!(e.kind, EntryType::Debit | EntryType::InterestOut);
            let found = self.find_pair(&e, types)?.is_some();
            match (is_debit, found) {
                (true, true) => {
                    rec.debits_checked += 1;
                    rec.debits_matched += 1
                }
                (false, true) => {
                    rec.credits_checked += 1;
                    rec.credits_matched += 1
                }
                (d, false) => {
                    if d {
                        rec.debits_checked += 1
                    } else {
                        rec.credits_checked += 1
                    }
                    let counterparty_collected = self.collected(&e.counterparty)?;
                    rec.unmatched.push(Unmatched {
                        side: if d { "debit" } else { "credit" },
                        entry: e,
                        counterparty_collected,
                    });
                }
            }
        }
        for x in self.exceptions(None)? {
            let credited: bool = self.conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM passbook_entries WHERE card_account = ?1
                    AND counterparty = ?2 AND tid = ?3 AND amount = ?4 AND type = 2)",
                rusqlite::params![x.counterparty, x.card_account, x.tid, x.amount as i64],
                |r| r.get(0),
            )?;
            let counterparty_collected = self.collected(&x.counterparty)?;
            rec.exceptions.push(ExceptionStatus {
                exception: x,
                credited,
                counterparty_collected,
            });
        }
        Ok(rec)
    }

    /// Simple fraud and consistency flags over the whole ledger (docs/ledger.md).
    pub fn fraud_flags(&self) -> Result<Vec<FraudFlag>> {
        let mut flags = Vec::new();
        let mut grouped = |sql: &str, kind: &'static str, what: &str| -> Result<()> {
            let mut st = self.conn.prepare(sql)?;
            let rows: Vec<(String, i64, Option<String>)> = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (key, n, list) in rows {
                flags.push(FraudFlag {
                    kind,
                    detail: format!("{what} {key} appears in {n} entries"),
                    entry_ids: ids(list),
                });
            }
            Ok(())
        };
        grouped(
            "SELECT counterparty_random, COUNT(*), GROUP_CONCAT(id) FROM passbook_entries
             WHERE superseded_by IS NULL AND counterparty_random <> '0000000000000000'
             GROUP BY counterparty_random HAVING COUNT(*) > 1",
            "random_reused",
            "counterparty random",
        )?;
        grouped(
            "SELECT tid || CASE WHEN type IN (1, 5, 6, 7) THEN ' (paid out)' ELSE ' (received)' END,
                    COUNT(*), GROUP_CONCAT(id) FROM passbook_entries
             WHERE superseded_by IS NULL AND tid IS NOT NULL AND type IN (1, 2, 4, 5, 6, 7)
             GROUP BY tid, type IN (1, 5, 6, 7) HAVING COUNT(*) > 1",
            "tid_reused",
            "transfer id",
        )?;
        grouped(
            "SELECT card_account || ' epoch ' || passbook_epoch || ' index ' || entry_index,
                    COUNT(*), GROUP_CONCAT(id) FROM passbook_entries
             WHERE superseded_by IS NULL
             GROUP BY card_account, passbook_epoch, entry_index HAVING COUNT(*) > 1",
            "index_conflict",
            "passbook place",
        )?;
        // Credits whose debit was refunded (value created) or given up (exception).
        for (t, kind, what) in [
            (
                6,
                "credit_of_refunded_debit",
                "credited although the payer was refunded (NACK)",
            ),
            (
                7,
                "credited_exception",
                "credited although the payer logged an exception: do not refund it",
            ),
        ] {
            let mut st = self.conn.prepare(
                "SELECT c.id, d.id, c.tid FROM passbook_entries c JOIN passbook_entries d
                   ON d.card_account = c.counterparty AND d.counterparty = c.card_account
                  AND d.tid = c.tid AND d.amount = c.amount
                 WHERE c.type = 2 AND d.type = ?1
                   AND c.superseded_by IS NULL AND d.superseded_by IS NULL",
            )?;
            let rows: Vec<(i64, i64, String)> = st
                .query_map([t], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (c, d, tid) in rows {
                flags.push(FraudFlag {
                    kind,
                    detail: format!("transfer {tid}: {what}"),
                    entry_ids: vec![c, d],
                });
            }
        }
        {
            let mut st = self.conn.prepare(
                "SELECT e.id, e.card_account, c.role FROM passbook_entries e
                 JOIN cards c ON c.account = e.card_account
                 WHERE e.type = 3 AND c.role IS NOT NULL AND c.role <> 1",
            )?;
            let rows: Vec<(i64, String, i64)> = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, card, role) in rows {
                flags.push(FraudFlag {
                    kind: "mint_off_center",
                    detail: format!(
                        "MINT on card {card} of role {role:02X} (only the center mints)"
                    ),
                    entry_ids: vec![id],
                });
            }
        }
        let cards: Vec<String> = {
            let mut st = self
                .conn
                .prepare("SELECT DISTINCT card_account FROM passbook_entries")?;
            let v = st
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            v
        };
        for card in cards {
            let own =
                self.entries_where("card_account = ?1 AND superseded_by IS NULL", &[&card])?;
            for b in Self::walk_chain(&own).1 {
                flags.push(FraudFlag {
                    kind: "balance_chain_break",
                    detail: format!(
                        "card {}: new balance {} where {} was expected (entries missing or altered)",
                        b.card_account, b.found, b.expected
                    ),
                    entry_ids: vec![b.entry_id],
                });
            }
        }
        Ok(flags)
    }
}
