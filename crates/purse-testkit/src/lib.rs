//! purse-testkit: the one set of helpers of every integration test (a dev-dependency of the root
//! package: `use purse_testkit as kit;`), one name per behaviour.
//!
//! - [`desk`]: a private virtual desk per test and the `purse` binary run against it (`TestDesk`,
//!   `Run`, free ports).
//! - [`bank`]: the bank fixture of the money tests (genesis, issue, mint through the library),
//!   payments (`pay`, `pay_ok`, `pay_card` without host prechecks), the conservation invariant,
//!   named ordered cases (`run_cases`), `sw(&error)` for any refusal, hooked card I/O.
//! - [`sync`]: epochs (`advance`, `advance_card`), syncs (`sync`, `sync_ok`, `sync_cards`,
//!   `sync_raw`, `sync_chain`, `epoch_down`), the ledger, the invariant with syncs in flight.
//! - [`admin`]: admin ops card to card, bank files, accounts of a range.
//! - [`link`]: the remote-link tests' processes, namespaces and frame proxy (not re-exported:
//!   `use kit::link::*` where needed).
//!
//! The `purse` binary under test is found at run time ([`desk::purse_bin`]): the kit is a library
//! of its own, so cargo's `CARGO_BIN_EXE_purse` is not set when it is compiled.
#![forbid(unsafe_code)]

pub mod admin;
pub mod bank;
pub mod desk;
pub mod link;
pub mod sync;

pub use admin::*;
pub use bank::*;
pub use desk::*;
pub use sync::*;
