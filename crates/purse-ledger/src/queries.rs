//! Read side of the ledger: entries by account and date, balance rebuild, reconciliation,
//! fraud flags (docs/ledger.md).
use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::db::{vals, Engine, Ex, Row, Val};
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

/// `COLS` of the table aliased `e`.
const E_COLS: &str = "e.id, e.card_account, e.bank_account, e.passbook_epoch, e.entry_index, \
    e.day, e.type, e.counterparty, e.counterparty_name, e.counterparty_random, e.amount, \
    e.new_balance, e.tid, e.keynum, e.sync_id, e.superseded_by, e.raw";

/// The order of every entry listing: card, passbook epoch, index.
const ORDER: &str = "ORDER BY card_account, passbook_epoch, entry_index, id";

fn entry_from_row(r: &Row) -> Result<StoredEntry> {
    let day = r.int(5)? as u16;
    Ok(StoredEntry {
        id: r.int(0)?,
        card_account: r.text(1)?,
        bank_account: r.text(2)?,
        passbook_epoch: r.int(3)?,
        index: r.int(4)?,
        day,
        date: format_day(day),
        kind: EntryType::from_code(r.int(6)? as u8),
        counterparty: r.text(7)?,
        counterparty_name: r.text(8)?,
        counterparty_random: r.text(9)?,
        amount: r.int(10)? as u32,
        new_balance: r.int(11)? as u32,
        tid: r.opt_text(12)?,
        keynum: r.int(13)? as u8,
        sync_id: r.int(14)?,
        superseded_by: r.opt_int(15)?,
        raw: hex::encode_upper(r.blob(16)?),
    })
}

fn entries_where(ex: &mut Ex<'_, '_>, cond: &str, args: &[Val]) -> Result<Vec<StoredEntry>> {
    let sql = format!("SELECT {COLS} FROM passbook_entries WHERE {cond} {ORDER}");
    ex.query(&sql, args)?.iter().map(entry_from_row).collect()
}

fn collected(ex: &mut Ex<'_, '_>, account: &str) -> Result<bool> {
    ex.query_one(
        "SELECT EXISTS (SELECT 1 FROM passbook_entries WHERE card_account = ?1)",
        &vals![account],
    )?
    .boolean(0)
}

/// Whether the payee's collected passbooks show the credit of an exception-log entry.
fn exception_credited(ex: &mut Ex<'_, '_>, x: &StoredException) -> Result<bool> {
    ex.query_one(
        "SELECT EXISTS (SELECT 1 FROM passbook_entries WHERE card_account = ?1
            AND counterparty = ?2 AND tid = ?3 AND amount = ?4 AND type = 2)",
        &vals![&x.counterparty, &x.card_account, &x.tid, x.amount as i64],
    )?
    .boolean(0)
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
    let mut v: Vec<i64> = s
        .unwrap_or_default()
        .split(',')
        .filter_map(|x| x.parse().ok())
        .collect();
    v.sort_unstable();
    v
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

fn exceptions_of(ex: &mut Ex<'_, '_>, account: Option<&Account>) -> Result<Vec<StoredException>> {
    let (cond, args) = match account {
        Some(a) => ("card_account = ?1", vals![account_text(a)].to_vec()),
        None => ("1 = 1", vec![]),
    };
    let sql = format!(
        "SELECT id, card_account, bank_account, tid, amount, counterparty, day, reason,
                passbook_index, sync_id
         FROM exceptions WHERE {cond} ORDER BY id"
    );
    ex.query(&sql, &args)?
        .iter()
        .map(|r| {
            let day = r.int(6)? as u16;
            Ok(StoredException {
                id: r.int(0)?,
                card_account: r.text(1)?,
                bank_account: r.text(2)?,
                tid: r.text(3)?,
                amount: r.int(4)? as u32,
                counterparty: r.text(5)?,
                day,
                date: format_day(day),
                reason: r.int(7)? as u8,
                passbook_index: r.int(8)? as u8,
                sync_id: r.int(9)?,
            })
        })
        .collect()
}

impl Ledger {
    /// Entries matching `f`, ordered by card, passbook epoch, index.
    pub fn entries(&self, f: &EntryFilter) -> Result<Vec<StoredEntry>> {
        let mut cond = String::from("1 = 1");
        let mut args: Vec<Val> = Vec::new();
        if let Some(a) = &f.account {
            args.push(account_text(a).into());
            cond += &format!(" AND card_account = ?{}", args.len());
        }
        if let Some(d) = f.from {
            args.push((d as i64).into());
            cond += &format!(" AND day >= ?{}", args.len());
        }
        if let Some(d) = f.to {
            args.push((d as i64).into());
            cond += &format!(" AND day <= ?{}", args.len());
        }
        if !f.include_superseded {
            cond += " AND superseded_by IS NULL";
        }
        self.db.read(|ex| entries_where(ex, &cond, &args))
    }

    /// Exception-log entries (of one payer, or all).
    pub fn exceptions(&self, account: Option<&Account>) -> Result<Vec<StoredException>> {
        self.db.read(|ex| exceptions_of(ex, account))
    }

    /// Syncs recorded (of one card, or all), oldest first.
    pub fn syncs(&self, account: Option<&Account>) -> Result<Vec<SyncRecord>> {
        let (cond, args) = match account {
            Some(a) => ("card_account = ?1", vals![account_text(a)].to_vec()),
            None => ("1 = 1", vec![]),
        };
        let sql = format!(
            "SELECT id, at, bank_account, card_account, passbook_epoch, entries_collected,
                    entries_new, exceptions_collected, exceptions_new, interest_paid, cleared
             FROM syncs WHERE {cond} ORDER BY id"
        );
        self.db.read(|ex| {
            ex.query(&sql, &args)?
                .iter()
                .map(|r| {
                    Ok(SyncRecord {
                        id: r.int(0)?,
                        at: r.int(1)?,
                        bank_account: r.text(2)?,
                        card_account: r.text(3)?,
                        passbook_epoch: r.int(4)?,
                        entries_collected: r.int(5)?,
                        entries_new: r.int(6)?,
                        exceptions_collected: r.int(7)?,
                        exceptions_new: r.int(8)?,
                        interest_paid: r.int(9)?,
                        cleared: r.boolean(10)?,
                    })
                })
                .collect()
        })
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
        let (own, theirs) = self.db.read(|ex| {
            let own = entries_where(
                ex,
                "card_account = ?1 AND superseded_by IS NULL",
                &vals![&acc],
            )?;
            let theirs = entries_where(
                ex,
                "counterparty = ?1 AND card_account <> ?1 AND superseded_by IS NULL",
                &vals![&acc],
            )?;
            Ok((own, theirs))
        })?;
        let (base, chain_breaks) = Self::walk_chain(&own);
        let own_tids: HashSet<&str> = own.iter().filter_map(|e| e.tid.as_deref()).collect();
        let last = own.last().cloned();
        let last_day = last.as_ref().map(|e| e.day);

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

    /// Match every debit (and interest paid out) on one card with the credit on the other card,
    /// by transfer id + amount + accounts, and every credit with its debit; list what is
    /// unmatched, and the state of every exception-log entry.
    ///
    /// One pass over the value-moving entries: the database finds those without a partner
    /// (an anti-join, `NOT EXISTS`, on the covering `pe_match` index: TID, accounts, amount,
    /// type; entries without a TID on `pe_card_day`), so the cost grows with the number of
    /// entries, not with entries x entries per card. Same result as the per-entry search it replaced
    /// (`reconcile_reference`, kept for the tests that compare the two).
    pub fn reconcile(&self) -> Result<Reconciliation> {
        let sql = reconcile_sql();
        self.db.read(|ex| {
            let mut checked: HashMap<bool, usize> = HashMap::new();
            for r in ex.query(
                "SELECT type IN (1, 5), COUNT(*) FROM passbook_entries
                 WHERE type IN (1, 2, 4, 5) AND superseded_by IS NULL GROUP BY type IN (1, 5)",
                &[],
            )? {
                checked.insert(r.boolean(0)?, r.int(1)? as usize);
            }
            let lonely: Vec<StoredEntry> = ex
                .query(&sql, &[])?
                .iter()
                .map(entry_from_row)
                .collect::<Result<_>>()?;
            let mut known: HashMap<String, bool> = HashMap::new();
            let mut unmatched = Vec::with_capacity(lonely.len());
            let (mut debits_lonely, mut credits_lonely) = (0, 0);
            for e in lonely {
                let debit = matches!(e.kind, EntryType::Debit | EntryType::InterestOut);
                if debit {
                    debits_lonely += 1
                } else {
                    credits_lonely += 1
                }
                let counterparty_collected = match known.get(&e.counterparty) {
                    Some(&c) => c,
                    None => {
                        let c = collected(ex, &e.counterparty)?;
                        known.insert(e.counterparty.clone(), c);
                        c
                    }
                };
                unmatched.push(Unmatched {
                    side: if debit { "debit" } else { "credit" },
                    entry: e,
                    counterparty_collected,
                });
            }
            let debits_checked = checked.get(&true).copied().unwrap_or(0);
            let credits_checked = checked.get(&false).copied().unwrap_or(0);
            Ok(Reconciliation {
                debits_checked,
                debits_matched: debits_checked - debits_lonely,
                credits_checked,
                credits_matched: credits_checked - credits_lonely,
                unmatched,
                exceptions: exception_states(ex)?,
            })
        })
    }

    /// The query plan of `reconcile`'s main query (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on
    /// PostgreSQL), one line per row: to check which indexes it uses.
    #[doc(hidden)]
    pub fn reconcile_plan(&self) -> Result<Vec<String>> {
        let engine = self.db.engine();
        self.db.read(|ex| {
            let rows = match engine {
                Engine::Sqlite => {
                    ex.query(&format!("EXPLAIN QUERY PLAN {}", reconcile_sql()), &[])?
                }
                Engine::Postgres => ex.query(&format!("EXPLAIN {}", reconcile_sql()), &[])?,
            };
            rows.iter()
                .map(|r| match engine {
                    Engine::Sqlite => Ok(format!("{} {}", r.int(1)?, r.text(3)?)),
                    Engine::Postgres => r.text(0),
                })
                .collect()
        })
    }

    /// `reconcile` as it was first written: one search per value-moving entry. Kept as the
    /// reference the tests compare `reconcile` with; slow on large ledgers (on SQLite the
    /// search's ORDER BY made the planner walk the card_account index).
    #[doc(hidden)]
    pub fn reconcile_reference(&self) -> Result<Reconciliation> {
        self.db.read(|ex| {
            let mut rec = Reconciliation {
                debits_checked: 0,
                debits_matched: 0,
                credits_checked: 0,
                credits_matched: 0,
                unmatched: Vec::new(),
                exceptions: Vec::new(),
            };
            let moving = entries_where(ex, "type IN (1, 2, 4, 5) AND superseded_by IS NULL", &[])?;
            for e in moving {
                let Some(types) = pair_types(e.kind) else {
                    continue;
                };
                let is_debit = matches!(e.kind, EntryType::Debit | EntryType::InterestOut);
                let cond = format!(
                    "card_account = ?1 AND counterparty = ?2 AND amount = ?3 AND type IN ({types}) \
                     AND superseded_by IS NULL AND {}",
                    if e.tid.is_some() {
                        "tid = ?4"
                    } else {
                        "tid IS NULL AND day = ?4"
                    }
                );
                let key: Val = match &e.tid {
                    Some(t) => t.into(),
                    None => (e.day as i64).into(),
                };
                let found = !entries_where(
                    ex,
                    &cond,
                    &[
                        (&e.counterparty).into(),
                        (&e.card_account).into(),
                        (e.amount as i64).into(),
                        key,
                    ],
                )?
                .is_empty();
                if is_debit {
                    rec.debits_checked += 1;
                    rec.debits_matched += found as usize;
                } else {
                    rec.credits_checked += 1;
                    rec.credits_matched += found as usize;
                }
                if !found {
                    let counterparty_collected = collected(ex, &e.counterparty)?;
                    rec.unmatched.push(Unmatched {
                        side: if is_debit { "debit" } else { "credit" },
                        entry: e,
                        counterparty_collected,
                    });
                }
            }
            rec.exceptions = exception_states(ex)?;
            Ok(rec)
        })
    }

    /// Simple fraud and consistency flags over the whole ledger (docs/ledger.md).
    pub fn fraud_flags(&self) -> Result<Vec<FraudFlag>> {
        let engine = self.db.engine();
        self.db.read(|ex| fraud_flags_in(ex, engine))
    }
}

/// The value-moving entries without a partner (see `Ledger::reconcile`). The inner query
/// finds their ids reading only the `pe_match` index (TID, accounts, amount, type,
/// superseded_by: all it needs), in TID order, so that each partner probe lands next to the
/// entry; only the rows of the unmatched entries are then read, and sorted. No ORDER BY on the
/// scan itself: it made SQLite walk the (card, epoch, index) key and fetch every row at random.
fn reconcile_sql() -> String {
    let pair = "(CASE e.type WHEN 1 THEN p.type = 2 WHEN 5 THEN p.type = 4 \
                WHEN 2 THEN p.type IN (1, 6, 7) WHEN 4 THEN p.type = 5 END)";
    let partner = "p.card_account = e.counterparty AND p.counterparty = e.card_account \
                   AND p.amount = e.amount AND p.superseded_by IS NULL";
    format!(
        "SELECT {E_COLS} FROM passbook_entries e WHERE e.id IN (
           SELECT e.id FROM passbook_entries e
           WHERE e.type IN (1, 2, 4, 5) AND e.superseded_by IS NULL AND e.tid IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM passbook_entries p
                             WHERE p.tid = e.tid AND {partner} AND {pair})
           UNION ALL
           SELECT e.id FROM passbook_entries e
           WHERE e.type IN (1, 2, 4, 5) AND e.superseded_by IS NULL AND e.tid IS NULL
             AND NOT EXISTS (SELECT 1 FROM passbook_entries p
                             WHERE p.tid IS NULL AND p.day = e.day AND {partner} AND {pair}))
         {ORDER}"
    )
}

/// Every exception-log entry, checked against the payee's collected passbooks.
fn exception_states(ex: &mut Ex<'_, '_>) -> Result<Vec<ExceptionStatus>> {
    let mut v = Vec::new();
    for x in exceptions_of(ex, None)? {
        let credited = exception_credited(ex, &x)?;
        let counterparty_collected = collected(ex, &x.counterparty)?;
        v.push(ExceptionStatus {
            exception: x,
            credited,
            counterparty_collected,
        });
    }
    Ok(v)
}

fn fraud_flags_in(ex: &mut Ex<'_, '_>, engine: Engine) -> Result<Vec<FraudFlag>> {
    let mut flags = Vec::new();
    let id_list = engine.id_list();
    let grouped: [(String, &'static str, &str); 3] = [
        (
            format!(
                "SELECT counterparty_random, COUNT(*), {id_list} FROM passbook_entries
                 WHERE superseded_by IS NULL AND counterparty_random <> '0000000000000000'
                 GROUP BY counterparty_random HAVING COUNT(*) > 1 ORDER BY 1"
            ),
            "random_reused",
            "counterparty random",
        ),
        (
            format!(
                "SELECT tid || CASE WHEN type IN (1, 5, 6, 7) THEN ' (paid out)' ELSE ' (received)' END,
                        COUNT(*), {id_list} FROM passbook_entries
                 WHERE superseded_by IS NULL AND tid IS NOT NULL AND type IN (1, 2, 4, 5, 6, 7)
                 GROUP BY tid, type IN (1, 5, 6, 7) HAVING COUNT(*) > 1 ORDER BY 1"
            ),
            "tid_reused",
            "transfer id",
        ),
        (
            format!(
                "SELECT card_account || ' epoch ' || passbook_epoch || ' index ' || entry_index,
                        COUNT(*), {id_list} FROM passbook_entries
                 WHERE superseded_by IS NULL
                 GROUP BY card_account, passbook_epoch, entry_index HAVING COUNT(*) > 1
                 ORDER BY card_account, passbook_epoch, entry_index"
            ),
            "index_conflict",
            "passbook place",
        ),
    ];
    for (sql, kind, what) in &grouped {
        for r in ex.query(sql, &[])? {
            let (key, n, list) = (r.text(0)?, r.int(1)?, r.opt_text(2)?);
            flags.push(FraudFlag {
                kind,
                detail: format!("{what} {key} appears in {n} entries"),
                entry_ids: ids(list),
            });
        }
    }
    // Credits whose debit was refunded (value created) or given up (exception).
    for (t, kind, what) in [
        (
            6i64,
            "credit_of_refunded_debit",
            "credited although the payer was refunded (NACK)",
        ),
        (
            7,
            "credited_exception",
            "credited although the payer logged an exception: do not refund it",
        ),
    ] {
        let rows = ex.query(
            "SELECT c.id, d.id, c.tid FROM passbook_entries c JOIN passbook_entries d
               ON d.tid = c.tid AND d.card_account = c.counterparty
              AND d.counterparty = c.card_account AND d.amount = c.amount
             WHERE c.type = 2 AND d.type = ?1
               AND c.superseded_by IS NULL AND d.superseded_by IS NULL
             ORDER BY c.id, d.id",
            &vals![t],
        )?;
        for r in rows {
            let (c, d, tid) = (r.int(0)?, r.int(1)?, r.text(2)?);
            flags.push(FraudFlag {
                kind,
                detail: format!("transfer {tid}: {what}"),
                entry_ids: vec![c, d],
            });
        }
    }
    for r in ex.query(
        "SELECT e.id, e.card_account, c.role FROM passbook_entries e
         JOIN cards c ON c.account = e.card_account
         WHERE e.type = 3 AND c.role IS NOT NULL AND c.role <> 1 ORDER BY e.id",
        &[],
    )? {
        let (id, card, role) = (r.int(0)?, r.text(1)?, r.int(2)?);
        flags.push(FraudFlag {
            kind: "mint_off_center",
            detail: format!("MINT on card {card} of role {role:02X} (only the center mints)"),
            entry_ids: vec![id],
        });
    }
    // Balance chains, card by card (a card's entries at a time, not the whole ledger).
    let cards: Vec<String> = ex
        .query(
            "SELECT DISTINCT card_account FROM passbook_entries ORDER BY card_account",
            &[],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_>>()?;
    for card in cards {
        let own = entries_where(
            ex,
            "card_account = ?1 AND superseded_by IS NULL",
            &vals![&card],
        )?;
        for b in Ledger::walk_chain(&own).1 {
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
