//! What the ledger knows of a card besides its passbook: its GET_STATUS as the sync read it
//! after P6 (role, name, currency and decimals, balance, key date). One row per card and sync,
//! in the table `card_status` (schema version 3, both engines; crates/purse-ledger/src/schema.rs). Read commands use it to print amounts in the
//! currency's units and to show each card's balance as the card itself reported it; a ledger
//! written before this table existed simply has none (amounts are then minor units, labelled).
use serde::Serialize;

use super::db::{vals, Engine, Ex};
use super::{account_text, Ledger, Result};
use crate::proto::types::Status;

/// Does the ledger hold the `card_status` table? Schema version 3 creates it; an older
/// ledger opened read-only (never migrated) may not have it.
fn has_table(ex: &mut Ex<'_, '_>) -> Result<bool> {
    let sql = match ex.engine() {
        Engine::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'card_status'"
        }
        Engine::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_name = 'card_status'"
        }
    };
    Ok(ex.query_one(sql, &[])?.int(0)? > 0)
}

/// One card's status as read by a sync.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CardStatus {
    pub sync_id: i64,
    pub account: String,
    /// Unix seconds.
    pub at: i64,
    pub role: u8,
    pub name: String,
    /// ISO 4217 numeric code.
    pub currency: u16,
    pub decimals: u8,
    pub balance: u32,
    /// The card's newest key date (day number).
    pub key_date: u16,
}

/// (account, role, name) of a card in the `cards` table.
pub type KnownCard = (String, Option<u8>, Option<String>);

impl Ledger {
    /// Record the statuses a sync read (the bank card's and the synced card's, after P6) with
    /// the sync's id. Idempotent per (sync, card). Called by the sync flow after the store.
    pub fn record_card_status(
        &mut self,
        sync_id: i64,
        at: i64,
        statuses: &[&Status],
    ) -> Result<()> {
        self.db.write(|ex| {
            for s in statuses {
                ex.execute(
                    "INSERT INTO card_status (sync_id, account, at, role, name, currency,
                         decimals, balance, key_date)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (sync_id, account) DO NOTHING",
                    &vals![
                        sync_id,
                        account_text(&s.account),
                        at,
                        s.role.code() as i64,
                        s.name.as_str(),
                        s.currency.numeric as i64,
                        s.currency.decimals as i64,
                        s.balance as i64,
                        s.key_date as i64
                    ],
                )?;
            }
            Ok(())
        })
    }

    /// Every recorded status, oldest first (empty for a ledger without the table).
    pub fn card_statuses(&self) -> Result<Vec<CardStatus>> {
        self.db.read(|ex| {
            if !has_table(ex)? {
                return Ok(Vec::new());
            }
            ex.query(
                "SELECT sync_id, account, at, role, name, currency, decimals, balance, key_date
                 FROM card_status ORDER BY at, sync_id, account",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(CardStatus {
                    sync_id: r.int(0)?,
                    account: r.text(1)?,
                    at: r.int(2)?,
                    role: r.int(3)? as u8,
                    name: r.text(4)?,
                    currency: r.int(5)? as u16,
                    decimals: r.int(6)? as u8,
                    balance: r.int(7)? as u32,
                    key_date: r.int(8)? as u16,
                })
            })
            .collect()
        })
    }

    /// Cards the ledger knows (synced, bank cards, counterparties): (account, role, name).
    pub fn known_cards(&self) -> Result<Vec<KnownCard>> {
        self.db.read(|ex| {
            ex.query(
                "SELECT account, role, name FROM cards ORDER BY account",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.text(0)?, r.opt_int(1)?.map(|x| x as u8), r.opt_text(2)?)))
            .collect()
        })
    }
}
