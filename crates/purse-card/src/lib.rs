//! purse's card library: APDUs and status words, one function per applet command (`card`), and
//! the multi-card flows (`flows`) that relay the cards' sealed packets. It talks to cards only
//! through [`transport::CardIo`], so it runs over PC/SC (crate purse-pcsc), a network link, or a
//! scripted fake in tests. See docs/architecture.md.
#![forbid(unsafe_code)]
pub use purse_proto as proto;

pub mod apdu;
pub mod card;
pub mod error;
pub mod flows;
pub mod transport;

pub use error::{Error, Result};
