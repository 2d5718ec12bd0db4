//! `purse ledger summary`: the auditor's conservation check from the ledger alone.
//!
//! Every card's balance is rebuilt (`Ledger::rebuild`: its last collected balance plus the
//! later movements its counterparties' passbooks show). Value is conserved when
//!
//! ```text
//!   Σ rebuilt balances of the cards below the center + open exceptions
//!     == issued by the center = MINTs collected − the center's rebuilt balance
//! ```
//!
//! (the center's passbook is never collected, protocol.md 12: its rebuilt balance is minus
//! what its counterparties received from it), and no card below the center is negative. A
//! difference means value created or lost in the ledger's view: a credit of a refunded debit,
//! a broken balance chain, a mint off the center; a negative card received a credit nobody
//! paid.
//! A transfer still in flight (payer debited, payee not yet credited) is counted on the payee
//! (as `rebuild` does, "likely"), so it does not break the sum; it is listed as in flight.
//!
//! Next to it, each card's balance as the card itself reported it at its last sync
//! (`card_status`), and the center's: minted ≈ center's last reported balance + issued +
//! interest the center paid that no collected passbook shows yet.
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::units::{rfc3339, Amount, Units};
use super::{parse_account, EntryFilter, EntryType, FraudFlag, Ledger, Result};
use crate::proto::consts::Role;

/// One card in the summary.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CardSummary {
    pub account: String,
    /// center, region, branch, user, admin; None when only seen as a counterparty.
    pub role: Option<String>,
    pub name: Option<String>,
    /// Entries of its own collected passbooks.
    pub own_entries: usize,
    /// Date of its last own collected entry.
    pub last_entry_date: Option<String>,
    /// Rebuilt from the ledger (what `purse ledger rebuild` says).
    pub balance: Amount,
    /// The part of it that is certain (docs/ledger.md "Rebuild").
    pub balance_certain: Amount,
    /// As the card reported it (GET_STATUS) at its last sync, and when.
    pub reported_balance: Option<Amount>,
    pub reported_at: Option<String>,
    pub chain_breaks: usize,
}

/// Unmatched debits or credits, summed.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct UnmatchedSum {
    pub count: usize,
    pub amount: Amount,
    /// Of these, how many have a counterparty whose passbook was never collected (normal
    /// until it syncs; always so for the center, which never syncs).
    pub counterparty_not_collected: usize,
}

/// The conservation equation.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Conservation {
    pub issued_by_center: Amount,
    pub held_by_cards: Amount,
    pub open_exceptions: Amount,
    /// held + open exceptions − issued: zero when value is conserved.
    pub difference: Amount,
    /// Cards below the center whose rebuilt balance is negative (paid out what nobody gave
    /// them: the payee's credit has no debit behind it).
    pub negative_balances: Vec<String>,
    /// difference is zero and no card below the center is negative.
    pub holds: bool,
}

/// Result of `Ledger::summary`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub units: Units,
    pub cards: Vec<CardSummary>,
    /// MINT entries on the center's collected passbooks (the center's passbook is never
    /// collected, so this is normally zero; the center's reported balance tells the minted
    /// total). A MINT on another card is not counted: it breaks conservation.
    pub mints_collected: Amount,
    pub conservation: Conservation,
    /// The center's balance at its last recorded sync, and when.
    pub center_reported_balance: Option<Amount>,
    pub center_reported_at: Option<String>,
    /// Interest the center paid at syncs that no collected passbook shows yet.
    pub center_interest_not_collected: Amount,
    /// center reported + issued + that interest (exact when the center moved no money after
    /// its last recorded sync).
    pub minted_estimate: Option<Amount>,
    /// Debits whose credit is not (yet) in the ledger: value in flight.
    pub unmatched_debits: UnmatchedSum,
    /// Credits whose debit is not in the ledger.
    pub unmatched_credits: UnmatchedSum,
    /// Exception-log entries: not credited on the payee (the bank may owe a refund) / credited.
    pub exceptions_open: usize,
    pub exceptions_credited: usize,
    pub flags: Vec<FraudFlag>,
    /// Syncs recorded, and the time of the last one.
    pub syncs: usize,
    pub last_sync_at: Option<String>,
}

pub(super) fn role_name(r: u8) -> String {
    Role::from_code(r).name()
}

impl Ledger {
    /// The summary (see the module docs).
    pub fn summary(&self) -> Result<Summary> {
        let units = self.units()?;
        let a = |v: i64| units.json(v);
        let entries = self.entries(&EntryFilter::default())?;
        let statuses = self.card_statuses()?;
        let syncs = self.syncs(None)?;

        // Every card: known ones, and every counterparty (private cards included).
        let mut role: BTreeMap<String, u8> = BTreeMap::new();
        let mut name: BTreeMap<String, String> = BTreeMap::new();
        let mut accounts: BTreeSet<String> = BTreeSet::new();
        for (acc, r, n) in self.known_cards()? {
            if let Some(r) = r {
                role.insert(acc.clone(), r);
            }
            if let Some(n) = n {
                name.insert(acc.clone(), n);
            }
            accounts.insert(acc);
        }
        for e in &entries {
            accounts.insert(e.card_account.clone());
            if e.counterparty != e.card_account && e.kind != EntryType::Mint {
                accounts.insert(e.counterparty.clone());
                name.entry(e.counterparty.clone())
                    .or_insert_with(|| e.counterparty_name.trim().to_string());
            }
        }
        let mut last_status: BTreeMap<String, &super::CardStatus> = BTreeMap::new();
        for s in &statuses {
            role.insert(s.account.clone(), s.role);
            name.insert(s.account.clone(), s.name.clone());
            accounts.insert(s.account.clone());
            last_status.insert(s.account.clone(), s); // oldest first: the last one wins
        }

        let is_center = |acc: &str| role.get(acc) == Some(&Role::Center.code());
        let mut cards = Vec::new();
        let (mut held, mut center_rebuilt) = (0i64, 0i64);
        for acc in &accounts {
            let Ok(account) = parse_account(acc) else {
                continue;
            };
            let r = self.rebuild(&account)?;
            if is_center(acc) {
                center_rebuilt += r.balance;
            } else {
                held += r.balance;
            }
            let st = last_status.get(acc);
            cards.push(CardSummary {
                account: acc.clone(),
                role: role.get(acc).map(|r| role_name(*r)),
                name: name.get(acc).cloned(),
                own_entries: r.own_entries,
                last_entry_date: r.last_own_entry.as_ref().map(|e| e.date.clone()),
                balance: a(r.balance),
                balance_certain: a(r.balance_certain),
                reported_balance: st.map(|s| a(s.balance as i64)),
                reported_at: st.map(|s| rfc3339(s.at)),
                chain_breaks: r.chain_breaks.len(),
            });
        }
        // Center first, then down the hierarchy.
        cards.sort_by_key(|c| {
            let r = role.get(&c.account).copied().unwrap_or(0xFF);
            let rank = match Role::from_code(r) {
                Role::Center => 0,
                Role::Region => 1,
                Role::Branch => 2,
                Role::User => 3,
                Role::Admin => 4,
                _ => 5,
            };
            (rank, c.account.clone())
        });

        // Only the center mints; a MINT elsewhere is value created (and a flag), not issued.
        let mints: i64 = entries
            .iter()
            .filter(|e| e.kind == EntryType::Mint && is_center(&e.card_account))
            .map(|e| e.amount as i64)
            .sum();
        let issued = mints - center_rebuilt;

        let rec = self.reconcile()?;
        let sum = |side: &str| {
            let v: Vec<_> = rec.unmatched.iter().filter(|u| u.side == side).collect();
            UnmatchedSum {
                count: v.len(),
                amount: a(v.iter().map(|u| u.entry.amount as i64).sum()),
                counterparty_not_collected: v.iter().filter(|u| !u.counterparty_collected).count(),
            }
        };
        let open: i64 = rec
            .exceptions
            .iter()
            .filter(|x| !x.credited)
            .map(|x| x.exception.amount as i64)
            .sum();
        let difference = held + open - issued;
        // A card below the center with a negative balance received value nobody paid: the sum
        // can still add up (its "payer" goes negative), so it breaks conservation too.
        let negative: Vec<String> = cards
            .iter()
            .filter(|k| k.balance.minor < 0 && k.role.as_deref() != Some("center"))
            .map(|k| k.account.clone())
            .collect();

        // Center's own view: its status when it last acted as the bank of a sync.
        let center_st = statuses.iter().rev().find(|s| is_center(&s.account));
        let interest_paid: i64 = syncs
            .iter()
            .filter(|s| is_center(&s.bank_account))
            .map(|s| s.interest_paid)
            .sum();
        let interest_seen: i64 = entries
            .iter()
            .filter(|e| e.kind == EntryType::InterestIn && is_center(&e.counterparty))
            .map(|e| e.amount as i64)
            .sum();
        let interest_not_collected = (interest_paid - interest_seen).max(0);

        Ok(Summary {
            cards,
            mints_collected: a(mints),
            conservation: Conservation {
                issued_by_center: a(issued),
                held_by_cards: a(held),
                open_exceptions: a(open),
                difference: a(difference),
                holds: difference == 0 && negative.is_empty(),
                negative_balances: negative,
            },
            center_reported_balance: center_st.map(|s| a(s.balance as i64)),
            center_reported_at: center_st.map(|s| rfc3339(s.at)),
            center_interest_not_collected: a(interest_not_collected),
            minted_estimate: center_st
                .map(|s| a(s.balance as i64 + issued + interest_not_collected)),
            unmatched_debits: sum("debit"),
            unmatched_credits: sum("credit"),
            exceptions_open: rec.exceptions.iter().filter(|x| !x.credited).count(),
            exceptions_credited: rec.exceptions.iter().filter(|x| x.credited).count(),
            flags: self.fraud_flags()?,
            syncs: syncs.len(),
            last_sync_at: syncs.iter().map(|s| s.at).max().map(rfc3339),
            units,
        })
    }
}
