//! The protocol of docs/protocol.md in Rust: constants, data types, and a reference
//! implementation of the suite crypto (used by tests; the host never holds an application key).
pub mod consts;
pub mod crypto;
pub mod types;
