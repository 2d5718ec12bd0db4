//! Multi-card flows (genesis, issuance, mint, transfer, resume), written against [`crate::card`].
pub mod bench;
pub mod genesis;
pub mod issue;
pub mod mint;
pub mod resume;
pub mod transfer;
