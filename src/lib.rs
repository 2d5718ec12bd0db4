//! purse: cash on JavaCard smart cards. See docs/architecture.md.
//!
//! The work is in the workspace's library crates; this crate is the CLI (with the demo) and the remote
//! link, and re-exports the libraries under their historical paths (`purse::proto`,
//! `purse::flows`, `purse::transport`, ...).
#![forbid(unsafe_code)]
pub use purse_card::{apdu, card, error};
pub use purse_desk as desk;
pub use purse_ledger as ledger;
pub use purse_proto as proto;

pub mod link;

/// The card flows (crate purse-card), plus the real-card cost model of the desk.
pub mod flows {
    pub use purse_card::flows::*;
    pub use purse_desk::cost;
}

/// `CardIo` (crate purse-card) and its PC/SC backend (crate purse-pcsc).
pub mod transport {
    pub use purse_card::transport::*;
    pub use purse_pcsc::*;
}

pub use error::{Error, Result};
