//! Multi-card flows (genesis, issuance, mint, transfer, resume), written against [`crate::card`].
pub mod admin;
pub mod bench;
pub mod epoch;
pub mod genesis;
pub mod issue;
pub mod mint;
pub mod privacy;
pub mod resume;
pub mod store;
pub mod sync;
pub mod transfer;
