//! purse: cash on JavaCard smart cards. See docs/architecture.md.
pub mod apdu;
pub mod desk;
pub mod error;
pub mod transport;

pub use error::{Error, Result};
