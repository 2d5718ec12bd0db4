//! Key epochs (protocol.md 12.3, F6): `purse center advance`. The center card, with its approval
//! secret, generates a new key with its RNG, retires its oldest, increments CURRENT, moves its
//! epoch date forward (refused otherwise: 9D22) and optionally sets the system's interest rate.
use serde::Serialize;

use crate::card::sync::Advanced;
use crate::card::{CardError, PurseCard};
use crate::proto::consts::{Role, SecretRef};
use crate::proto::types::{format_date, Account};
use crate::transport::CardIo;

/// What [`advance`] did.
#[derive(Clone, Debug, Serialize)]
pub struct AdvanceReport {
    pub account: Account,
    pub name: String,
    pub key_before: u8,
    pub key_after: u8,
    pub date_before: u16,
    pub date_after: u16,
    pub rate_before: u32,
    /// The center's interest rate after (`None`: not readable; unchanged unless given).
    pub rate_after: Option<u32>,
    pub rate_set: bool,
}

impl AdvanceReport {
    pub fn summary(&self) -> String {
        let mut m = format!(
            "new epoch on {} ({}): key {} -> {}, date {} -> {}",
            self.name,
            self.account,
            self.key_before,
            self.key_after,
            format_date(self.date_before),
            format_date(self.date_after)
        );
        if self.rate_set {
            if let Some(r) = self.rate_after {
                m.push_str(&format!(
                    ", interest rate {}",
                    crate::proto::sync::describe_rate(r)
                ));
            }
        }
        m
    }
}

/// Errors of [`advance`]: refused before asking, or by the card.
#[derive(Debug, thiserror::Error)]
pub enum AdvanceError {
    #[error("{0}")]
    Precheck(String),
    #[error(transparent)]
    Card(#[from] CardError),
}

impl crate::error::Failure for AdvanceError {
    fn kind(&self) -> crate::error::Kind {
        match self {
            AdvanceError::Precheck(_) => crate::error::Kind::Precheck,
            AdvanceError::Card(e) => e.kind(),
        }
    }
    fn sw(&self) -> Option<u16> {
        match self {
            AdvanceError::Card(e) => e.sw_code(),
            _ => None,
        }
    }
}

/// VERIFY approval, CENTER_ADVANCE(date, rate).
pub fn advance<T: CardIo>(
    center: &mut PurseCard<T>,
    approval: &[u8],
    date: u16,
    rate: Option<u32>,
) -> Result<AdvanceReport, AdvanceError> {
    let st = center.get_status()?;
    if st.role != Role::Center {
        return Err(AdvanceError::Precheck(format!(
            "{} is a {} card: only the center card starts a new epoch",
            st.name,
            st.role.name()
        )));
    }
    if date <= st.key_date {
        return Err(AdvanceError::Precheck(format!(
            "dates only move forward: the center card {} is at epoch date {}; give a later date (one epoch per day at most)",
            st.name,
            format_date(st.key_date)
        )));
    }
    // from the SELECT answer (a bank card's ends with its files' header), else READ_BAD_CARDS;
    // the rate after is read back from the card
    let rate_before = center.bank_files().map(|p| p.rate).unwrap_or(0);
    center.verify(SecretRef::Approval, approval)?;
    let Advanced { current, date: d } = center.center_advance(date, rate)?;
    let rate_after = center.read_bad_cards(0).ok().map(|p| p.rate);
    Ok(AdvanceReport {
        account: st.account,
        name: st.name,
        key_before: st.current_key,
        key_after: current,
        date_before: st.key_date,
        date_after: d,
        rate_before,
        rate_after,
        rate_set: rate.is_some(),
    })
}
