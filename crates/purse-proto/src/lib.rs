//! The protocol of docs/protocol.md in Rust: constants, data types, and a reference
//! implementation of the suite crypto (used by tests; the host never holds an application key).
#![forbid(unsafe_code)]
pub mod consts;
pub mod crypto;
/// Interest rates: annual percentage (4 decimals) <-> card RATE (2^-32/day); shared by all commands.
pub mod rate;
pub mod sync;
pub mod types;
/// Byte helpers for the fixed layouts (one home for be16/be32, field reader/writer, hex serializers).
pub mod wire;
