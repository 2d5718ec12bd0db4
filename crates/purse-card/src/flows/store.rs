//! Where a sync puts the passbook it collected before the bank card may clear it: a
//! [`PassbookStore`] (the bank's ledger, crate purse-ledger, implements it). The flows only need
//! "store this collection durably", "what is the newest open collection of this card", and
//! "that collection's passbook was cleared" (docs/ledger.md).
use serde::Serialize;

use crate::proto::types::Account;

/// A store's own error, kept whole for the caller (the CLI shows or downcasts it).
pub type StoreError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One sync's collection, exactly as the card answered.
#[derive(Clone, Debug)]
pub struct Collection<'a> {
    pub bank_account: &'a Account,
    pub card_account: &'a Account,
    /// READ_PASSBOOK's answer (n × 42 bytes, protocol.md 3.1).
    pub passbook: &'a [u8],
    /// READ_EXCEPTIONS's answer (n × 24 bytes, protocol.md 4.5).
    pub exceptions: &'a [u8],
    /// Interest the bank card pays in this sync (minor units).
    pub interest_paid: u32,
    /// The synced card's ROLE (protocol.md 1) and NAME, from GET_STATUS.
    pub card_role: Option<u8>,
    pub card_name: Option<String>,
    /// The bank card's ROLE and NAME.
    pub bank_role: Option<u8>,
    pub bank_name: Option<String>,
}

/// The bank's durable record of collected passbooks, as the sync and resume flows use it.
pub trait PassbookStore {
    /// Store one collection in one durable transaction, each entry exactly once however often
    /// it is retried. The card is cleared only after this returned Ok.
    fn store_passbook(&mut self, c: &Collection<'_>) -> Result<StoreReport, StoreError>;
    /// The newest collection of `card` in its current passbook epoch not yet confirmed cleared.
    fn open_collection_of(&self, card: &Account) -> Result<Option<OpenCollection>, StoreError>;
    /// The card cleared the passbook of collection `sync_id`: close its epoch.
    fn mark_cleared(&mut self, sync_id: i64) -> Result<(), StoreError>;
    /// What the sync read of both cards after it (balances, currency), for the store's views.
    fn record_statuses(
        &mut self,
        sync_id: i64,
        at: i64,
        statuses: &[&crate::proto::types::Status],
    ) -> Result<(), StoreError>;
}

/// What `store_collection` did.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoreReport {
    /// Row id in `syncs`; pass it to `PassbookStore::mark_cleared` once the card cleared its passbook.
    pub sync_id: i64,
    pub bank_account: Account,
    pub card_account: Account,
    pub passbook_epoch: i64,
    pub entries_collected: usize,
    /// Entries stored for the first time.
    pub entries_new: usize,
    /// Entries that were already in the ledger (a retried sync).
    pub entries_already_stored: usize,
    /// Entries that replace an earlier DEBIT at the same index (rewritten in place to 06/07).
    pub entries_rewritten: usize,
    /// New entries at an index that already held a different entry that is not a rewrite
    /// (a passbook cleared without `confirm_cleared`, or tampering): kept, and flagged.
    pub index_conflicts: usize,
    pub exceptions_collected: usize,
    pub exceptions_new: usize,
}

/// The newest collection of a card that `confirm_cleared` has not closed, in the card's current
/// passbook epoch (`PassbookStore::open_collection_of`).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct OpenCollection {
    pub sync_id: i64,
    /// The bank card that collected it (`sig:` text never occurs here: banks sync real accounts).
    pub bank_account: String,
    pub passbook_epoch: i64,
    pub entries_collected: usize,
    pub exceptions_collected: usize,
    /// The bytes stored at index 0 of that epoch (the oldest entry of the passbook), if any.
    pub first_entry: Option<Vec<u8>>,
}

impl OpenCollection {
    /// `entry` (a passbook's index 0 as the card shows it now) is the same entry as the stored
    /// index 0, or that DEBIT rewritten in place (06/07): the card has not cleared since.
    pub fn same_first_entry(&self, entry: &[u8]) -> bool {
        match &self.first_entry {
            Some(old) => old.as_slice() == entry || is_rewrite(old, entry),
            None => true,
        }
    }
}

/// `new` is `old` rewritten in place by the card: a DEBIT turned into DEBIT_REFUNDED (06) or
/// EXCEPTION (07), every other byte unchanged (protocol.md 3.1).
pub fn is_rewrite(old: &[u8], new: &[u8]) -> bool {
    old.len() == crate::proto::consts::PB_ENTRY_LEN as usize
        && new.len() == crate::proto::consts::PB_ENTRY_LEN as usize
        && old[26] == 0x01
        && (new[26] == 0x06 || new[26] == 0x07)
        && old[..26] == new[..26]
        && old[27..] == new[27..]
}
