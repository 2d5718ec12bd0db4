//! purse: cash on JavaCard smart cards. See docs/architecture.md.
pub mod apdu;
pub mod card;
pub mod desk;
pub mod error;
pub mod flows;
pub mod ledger;
pub mod link;
pub mod proto;
pub mod transport;

pub use error::{Error, Result};
