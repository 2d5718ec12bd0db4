//! What the ledger knows of a card besides its passbook: its GET_STATUS as the sync read it
//! after P6 (role, name, currency and decimals, balance, key date). One row per card and sync,
//! in the table `card_status`, created by the writer on first use (`CREATE TABLE IF NOT
//! EXISTS`; plain SQL that PostgreSQL accepts too). Read commands use it to print amounts in the
//! currency's units and to show each card's balance as the card itself reported it; a ledger
//! written before this table existed simply has none (amounts are then minor units, labelled).
use rusqlite::{params, TransactionBehavior};
use serde::Serialize;

use super::{account_text, Ledger, Result};
use crate::proto::types::Status;

const TABLE: &str = "CREATE TABLE IF NOT EXISTS card_status (
    sync_id  BIGINT NOT NULL,
    account  TEXT NOT NULL,
    at       BIGINT NOT NULL,
    role     INTEGER NOT NULL,
    name     TEXT NOT NULL,
    currency INTEGER NOT NULL,
    decimals INTEGER NOT NULL,
    balance  BIGINT NOT NULL,
    key_date INTEGER NOT NULL,
    PRIMARY KEY (sync_id, account)
)";

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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(TABLE, [])?;
        for s in statuses {
            tx.execute(
                "INSERT INTO card_status (sync_id, account, at, role, name, currency, decimals,
                     balance, key_date)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (sync_id, account) DO NOTHING",
                params![
                    sync_id,
                    account_text(&s.account),
                    at,
                    s.role.code() as i64,
                    s.name,
                    s.currency.numeric as i64,
                    s.currency.decimals as i64,
                    s.balance as i64,
                    s.key_date as i64
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every recorded status, oldest first (empty for a ledger without the table).
    pub fn card_statuses(&self) -> Result<Vec<CardStatus>> {
        let st = self.conn.prepare(
            "SELECT sync_id, account, at, role, name, currency, decimals, balance, key_date
             FROM card_status ORDER BY at, sync_id, account",
        );
        let mut st = match st {
            Ok(s) => s,
            // the table is created by the first sync that records a status
            Err(e) if is_no_table(&e) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let v = st
            .query_map([], |r| {
                Ok(CardStatus {
                    sync_id: r.get(0)?,
                    account: r.get(1)?,
                    at: r.get(2)?,
                    role: r.get::<_, i64>(3)? as u8,
                    name: r.get(4)?,
                    currency: r.get::<_, i64>(5)? as u16,
                    decimals: r.get::<_, i64>(6)? as u8,
                    balance: r.get::<_, i64>(7)? as u32,
                    key_date: r.get::<_, i64>(8)? as u16,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(v)
    }

    /// Cards the ledger knows (synced, bank cards, counterparties): (account, role, name).
    pub fn known_cards(&self) -> Result<Vec<KnownCard>> {
        let mut st = self
            .conn
            .prepare("SELECT account, role, name FROM cards ORDER BY account")?;
        let v = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?.map(|x| x as u8),
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(v)
    }
}

fn is_no_table(e: &rusqlite::Error) -> bool {
    e.to_string().contains("no such table")
}
