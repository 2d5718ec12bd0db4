//! Sync (protocol.md 12.4, FIG. 5): a card and the bank card of the level above it. The host
//! relays S1, S2 | P5, P6 (or INVALIDATE) and the SACK; in between it reads the card's passbook
//! and exception log, stores them in the bank's ledger (`Ledger::store_collection`, one SQLite
//! transaction) and only then feeds them to the bank card, which recomputes the digest the card
//! committed to in P5 and says CLEAR in P6 only if they match. After the SACK the ledger is told
//! the card cleared (`confirm_cleared`). The host never holds a key: interest, keys and the clear
//! are decided by the cards; the report compares GET_STATUS before and after.
//!
//! Resume rows of sync (12.11) are [`resume_rows`], called by `flows::resume` and after a failure.
use std::time::Instant;

use serde::Serialize;

use super::store::{Collection, PassbookStore, StoreError, StoreReport};
use crate::card::sync::S2P5;
use crate::card::transfer::Tid;
use crate::card::{CardError, PurseCard};
use crate::proto::consts::{self, Life, OutcomeKind, Role, SecretRef, SlotState};
use crate::proto::sync::{self as ps, BankAnswer, InterestInputs};
use crate::proto::types::{format_amount, Account, Pending, Status};
use crate::transport::CardIo;

use super::resume::Action;

/// New secrets for `--unblock-pin` (typed by the holder at the branch terminal).
#[derive(Clone, Default)]
pub struct Unblock {
    pub pin: Vec<u8>,
    /// Also reset and unblock the transaction key.
    pub txkey: Option<Vec<u8>>,
}

impl std::fmt::Debug for Unblock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Unblock(..)")
    }
}

/// Options of [`sync`].
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// Host date sent in SYNC_CARD_INIT / SYNC_BANK_INIT (informative; interest uses the bank
    /// card's epoch date).
    pub date: u16,
    /// Read, store and feed the passbook (false = `--no-store`: the sync completes without CLEAR).
    pub store: bool,
    /// Feed the stored entries to the bank card (tests set false to check the card keeps its
    /// passbook when the host skips feeding).
    pub feed: bool,
    /// PIN of the bank card's operator (FIG. 5 block 501), verified before SYNC_BANK_INIT. None:
    /// not verified here (a bank terminal that verified it once for its card session).
    pub bank_pin: Option<Vec<u8>>,
    /// PIN of the synced card's holder (FIG. 5 block 502), verified on that card before
    /// SYNC_CARD_INIT. Without it only an `unblock` sync runs, and it only unblocks: no passbook
    /// clear, no interest (the bank card sees the card's own proof in P5).
    pub card_pin: Option<Vec<u8>>,
    /// Unblock the card's PIN (branch only, after an identity check).
    pub unblock: Option<Unblock>,
    /// After a failure past step 3, finish or abort the sync while both cards are in.
    pub auto_finish: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            date: crate::proto::types::today(),
            store: true,
            feed: true,
            bank_pin: None,
            card_pin: None,
            unblock: None,
            auto_finish: true,
        }
    }
}

/// Steps of 12.4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SyncStep {
    Setup,
    CardInit,
    BankInit,
    CardS1,
    ReadPassbook,
    Store,
    Feed,
    BankP5,
    CardP6,
    BankAck,
    Unblock,
}

/// Which card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Who {
    Bank,
    Card,
    Host,
}

/// Progress events (the CLI prints them; the demo narrates them).
#[derive(Clone, Debug)]
pub enum Progress {
    Step(SyncStep, String),
}

/// A card as the report shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Party {
    pub account: Account,
    pub name: String,
    pub role: Role,
    pub balance_before: u32,
    pub balance_after: u32,
}

/// A completed sync.
#[derive(Clone, Debug, Serialize)]
pub struct SyncReport {
    #[serde(serialize_with = "ser_hex6")]
    pub sid: Tid,
    pub bank: Party,
    pub card: Party,
    pub currency: String,
    pub decimals: u8,
    /// The bank answered INVALIDATE: the card was listed as lost/stolen and is now dead.
    pub invalidated: bool,
    /// Interest credited to the card (= debited from the bank card), minor units.
    pub interest: u32,
    /// Interest the host expected from the bank's rate (READ_BAD_CARDS), if it could read it.
    pub interest_expected: Option<u32>,
    /// Interest days counted (bank date − card's last interest date).
    pub days: u32,
    /// The bank's rate (2^-32/day) and the card's new LAST_INTEREST_DATE.
    pub rate: u32,
    pub interest_date_before: u16,
    pub interest_date_after: u16,
    /// Interest not paid this time (bank short, card full, ...): the days count next time.
    pub deferred: bool,
    pub keys_before: u8,
    pub keys_after: u8,
    /// Number of new keys installed.
    pub keys_received: u8,
    pub key_date: u16,
    /// Passbook entries / exception entries the card committed to in P5.
    pub passbook_entries: u8,
    pub exceptions: u8,
    /// Read, stored in the ledger and fed to the bank.
    pub collected: bool,
    pub ledger: Option<StoreReport>,
    /// The card cleared its passbook and exception log (the bank verified the feed).
    pub cleared: bool,
    pub bad_key_before: u8,
    /// The holder's PIN was verified on the card for this sync (else: unblock only).
    pub holder_proven: bool,
    pub pin_unblocked: bool,
    /// APDUs sent by the host in this sync (both cards, incl. status reads).
    pub apdus: u32,
    pub millis: u128,
}

fn ser_hex6<S: serde::Serializer>(v: &Tid, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode_upper(v))
}

impl SyncReport {
    pub fn amount(&self, v: u32) -> String {
        format!("{} {}", format_amount(v, self.decimals), self.currency)
    }

    /// Human summary, several lines.
    pub fn summary(&self) -> String {
        let mut m = Vec::new();
        if self.invalidated {
            m.push(format!(
                "CARD INVALIDATED: {} ({}) is on the bank card's list of lost/stolen cards; it can no longer pay or be paid. Its balance {} stays frozen on it; the bank refunds the holder from the ledger.",
                self.card.name,
                self.card.account,
                self.amount(self.card.balance_after)
            ));
            return m.join("\n");
        }
        m.push(format!(
            "synced {} ({}) with {} ({})",
            self.card.name, self.card.account, self.bank.name, self.bank.account
        ));
        if self.interest > 0 {
            m.push(format!(
                "interest: {} for {} days at {} (paid by {})",
                self.amount(self.interest),
                self.days,
                ps::describe_rate(self.rate),
                self.bank.name
            ));
        } else if self.deferred {
            m.push("interest: deferred (bank card short of funds, or the card could not take it now); the days count at the next sync".into());
        } else {
            m.push(format!(
                "interest: none ({} days at rate {})",
                self.days,
                ps::describe_rate(self.rate)
            ));
        }
        m.push(format!(
            "balance: {} -> {}",
            self.amount(self.card.balance_before),
            self.amount(self.card.balance_after)
        ));
        if self.keys_received > 0 {
            m.push(format!(
                "new key{}: {} (key numbers now {}..{}, epoch date {})",
                if self.keys_received > 1 { "s" } else { "" },
                self.keys_received,
                self.keys_after.wrapping_sub(3),
                self.keys_after,
                crate::proto::types::format_date(self.key_date)
            ));
        } else {
            m.push(format!("keys: up to date (newest {})", self.keys_after));
        }
        if !self.holder_proven {
            m.push(format!(
                "passbook and interest: not this time, the holder's PIN was not entered ({} entries stay on the card); sync again with the new PIN",
                self.passbook_entries
            ));
        } else if self.collected {
            let l = self.ledger.as_ref();
            m.push(format!(
                "passbook: {} entries and {} exception(s) stored in the ledger ({} new){}",
                self.passbook_entries,
                self.exceptions,
                l.map(|l| l.entries_new + l.exceptions_new).unwrap_or(0),
                if self.cleared {
                    ", cleared on the card"
                } else {
                    ", NOT cleared by the bank card (digest mismatch?): sync again"
                }
            ));
        } else {
            m.push(format!(
                "passbook: not collected ({} entries stay on the card)",
                self.passbook_entries
            ));
        }
        if self.bad_key_before > 0 {
            m.push(format!(
                "bad-packet counter reset (was {})",
                self.bad_key_before
            ));
        }
        if self.pin_unblocked {
            m.push("PIN unblocked and set to the new value".into());
        }
        m.join("\n")
    }
}

/// A sync that did not complete.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The host can tell the cards would refuse; nothing was asked.
    #[error("sync refused before any card was asked: {0}")]
    Precheck(String),
    /// A card refused or was lost.
    #[error("{}", describe_failure(*.step, *.who, .err, .finished.as_deref()))]
    Card {
        step: SyncStep,
        who: Who,
        err: CardError,
        /// What the automatic finish did (card in IN = SYNC), if it ran.
        finished: Option<String>,
    },
    /// The ledger could not store the passbook: nothing was fed; the sync was aborted.
    #[error("the ledger could not store the passbook ({err}); the sync was stopped before the bank card saw it, the card keeps its passbook{}", .finished.as_ref().map(|f| format!(" ({f})")).unwrap_or_default())]
    Ledger {
        err: StoreError,
        finished: Option<String>,
    },
}

impl SyncError {
    pub fn exit_code(&self) -> i32 {
        match self {
            SyncError::Precheck(_) => 4,
            SyncError::Card { err, .. } => err.exit_code(),
            SyncError::Ledger { .. } => 1,
        }
    }
    pub fn sw(&self) -> Option<consts::Sw> {
        match self {
            SyncError::Card { err, .. } => err.sw(),
            _ => None,
        }
    }
    pub fn step(&self) -> Option<SyncStep> {
        match self {
            SyncError::Card { step, .. } => Some(*step),
            _ => None,
        }
    }
}

fn describe_failure(step: SyncStep, who: Who, err: &CardError, finished: Option<&str>) -> String {
    let mut m = format!("sync failed at {step:?} on the {who:?} card: {err}")
        .replace("Bank card", "bank card")
        .replace("Card card", "synced card");
    match finished {
        Some(f) => m.push_str(&format!("\n{f}")),
        None if matches!(step, SyncStep::Setup | SyncStep::CardInit | SyncStep::BankInit | SyncStep::CardS1) => {
            m.push_str("\nno value moved")
        }
        None => m.push_str("\nthe sync may be half done: the value is held safely by the cards; put both cards in and run `purse resume` (or `purse sync` again)"),
    }
    m
}

struct Counter(u32);

/// Collected, stored, the bank's answer, the SACK.
type Relayed = (bool, Option<StoreReport>, BankAnswer, Option<Vec<u8>>);

/// Run the sync between `bank` and `card`. `ledger` is required when `opts.store`.
pub fn sync<B: CardIo, C: CardIo>(
    bank: &mut PurseCard<B>,
    card: &mut PurseCard<C>,
    mut ledger: Option<&mut dyn PassbookStore>,
    opts: &SyncOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<SyncReport, SyncError> {
    let t0 = Instant::now();
    let mut n = Counter(0);
    let ce = |step, who| {
        move |err| SyncError::Card {
            step,
            who,
            err,
            finished: None,
        }
    };
    let mut say = |s: SyncStep, m: String| progress(Progress::Step(s, m));

    // 0. both cards' status and pending slots
    n.0 += 4;
    let bs = bank.get_status().map_err(ce(SyncStep::Setup, Who::Bank))?;
    let cs = card.get_status().map_err(ce(SyncStep::Setup, Who::Card))?;
    if cs.life == Life::Invalidated {
        return Err(SyncError::Precheck(format!(
            "{} ({}) was invalidated by the bank: it cannot sync or transact any more; the bank refunds its holder from the ledger",
            cs.name, cs.account
        )));
    }
    if bs.life != Life::Active || cs.life != Life::Active {
        return Err(SyncError::Precheck(
            "both cards must be personalised purse cards".into(),
        ));
    }
    if !ps::sync_pair_allowed(bs.role, cs.role) {
        let want = ps::bank_role_for(cs.role)
            .map(|r| format!("a {} card syncs with a {} card", cs.role.name(), r.name()))
            .unwrap_or_else(|| {
                format!(
                    "a {} card is never synced (it has no bank above it)",
                    cs.role.name()
                )
            });
        return Err(SyncError::Precheck(format!(
            "{} ({}) cannot sync {} ({}): {want}",
            bs.name,
            bs.role.name(),
            cs.name,
            cs.role.name()
        )));
    }
    if bs.app_id != cs.app_id {
        return Err(SyncError::Precheck(
            "the two cards belong to different systems (APP_ID)".into(),
        ));
    }
    if opts.unblock.is_some() && bs.role != Role::Branch {
        return Err(SyncError::Precheck(
            "a PIN is unblocked only at a branch (bank card of role branch)".into(),
        ));
    }
    if opts.unblock.is_none() && cs.pin_tries == 0 {
        return Err(SyncError::Precheck(format!(
            "the PIN of {} is blocked: unblock it at a branch (`purse sync --unblock-pin`)",
            cs.name
        )));
    }
    if opts.store && ledger.is_none() {
        return Err(SyncError::Precheck(
            "no ledger to store the passbook in (give one, or --no-store)".into(),
        ));
    }
    let bp = bank.get_pending().map_err(ce(SyncStep::Setup, Who::Bank))?;
    let cp = card.get_pending().map_err(ce(SyncStep::Setup, Who::Card))?;
    if bp.out.state != SlotState::None
        || cp.r#in.state != SlotState::None
        || cp.out.state != SlotState::None
    {
        let sync_left = bp.out.state == SlotState::Sync || cp.r#in.state == SlotState::Sync;
        let transfer_left = cp.out.state == SlotState::Transfer
            || cp.r#in.state == SlotState::Transfer
            || bp.out.state == SlotState::Transfer;
        if sync_left && !transfer_left && opts.auto_finish {
            let acts = resume_rows(bank, &bs, &bp, card, &cs, &cp);
            let ok = acts
                .iter()
                .all(|a| !matches!(a, Action::Stuck { .. } | Action::Failed { .. }));
            say(
                SyncStep::Setup,
                format!(
                    "finished an interrupted sync first: {}",
                    describe_actions(&acts)
                ),
            );
            if !ok {
                return Err(SyncError::Precheck(format!(
                    "an earlier sync is unfinished and could not be finished: {}",
                    describe_actions(&acts)
                )));
            }
            let again = SyncOptions {
                auto_finish: false,
                ..opts.clone()
            };
            return sync(bank, card, ledger, &again, progress);
        }
        if bp.out.state == SlotState::Sync && bp.out.account != cs.account {
            return Err(SyncError::Precheck(format!(
                "{} has an unfinished sync with {} ({}): put that card in and run `purse resume` with both cards first",
                bs.name, bp.out.name, bp.out.account
            )));
        }
        if cp.r#in.state == SlotState::Sync && cp.r#in.account != bs.account {
            return Err(SyncError::Precheck(format!(
                "{} has an unfinished sync with bank card {} ({}): put that bank card in and run `purse resume` with both cards first",
                cs.name, cp.r#in.name, cp.r#in.account
            )));
        }
        return Err(SyncError::Precheck(format!(
            "a card has an unfinished {}: run `purse resume` with {} first",
            if transfer_left { "transfer" } else { "sync" },
            if transfer_left {
                "the other card of that transfer"
            } else {
                "both cards"
            }
        )));
    }
    // bank files (rate, range, archive) for the host's expectations; not required
    n.0 += 1;
    let files = bank.read_bad_cards(0).ok();
    if let Some(f) = &files {
        if cs.account.0 < f.low.0 || cs.account.0 > f.high.0 {
            return Err(SyncError::Precheck(format!(
                "{} does not serve account {} (its range is {}..{}): sync with the bank card that does",
                bs.name, cs.account, f.low, f.high
            )));
        }
    }

    // FIG. 5 block 501: the bank operator's PIN (the bank card refuses SYNC_BANK_INIT without it)
    if let Some(pin) = &opts.bank_pin {
        n.0 += 1;
        bank.verify(SecretRef::Pin, pin)
            .map_err(ce(SyncStep::Setup, Who::Bank))?;
    }
    // block 502: the holder's PIN on the card itself. An unblock sync without it (the PIN is
    // blocked or forgotten) announces itself (70 P1 01); the bank card then only unblocks.
    let holder_proven = !(opts.unblock.is_some() && (opts.card_pin.is_none() || cs.pin_tries == 0));
    if holder_proven {
        if let Some(pin) = &opts.card_pin {
            n.0 += 1;
            card.verify(SecretRef::Pin, pin)
                .map_err(ce(SyncStep::Setup, Who::Card))?;
        }
    }

    // 1. card: SYNC_CARD_INIT
    say(
        SyncStep::CardInit,
        format!("{}: announcing its keys", cs.name),
    );
    n.0 += 1;
    let hello = card
        .sync_card_init(opts.date, !holder_proven)
        .map_err(ce(SyncStep::CardInit, Who::Card))?;
    // 2. bank: SYNC_BANK_INIT
    n.0 += 1;
    let s1 = bank
        .sync_bank_init(opts.unblock.is_some(), hello, opts.date)
        .map_err(ce(SyncStep::BankInit, Who::Bank))?;
    // 3. card: SYNC_CARD_S1 -> S2 | P5 (IN = SYNC from here)
    say(
        SyncStep::CardS1,
        format!("{}: committing balance, passbook and keys (P5)", cs.name),
    );
    n.0 += 1;
    let s2p5: S2P5 = card
        .sync_card_s1(&s1)
        .map_err(ce(SyncStep::CardS1, Who::Card))?;
    let sid = s2p5.sid();

    // From here the card holds IN = SYNC(sid): any failure is finished or aborted.
    let r = (|| -> Result<Relayed, SyncError> {
        let nn = cs.passbook_count;
        let x = cs.exception_count;
        let private = cs.flags & consts::FLAG_PRIVATE != 0;
        let mut collected = false;
        let mut stored = None;
        // an unproven holder's passbook is not collected: the bank card would not clear it
        if opts.store && holder_proven {
            // 4. read
            say(
                SyncStep::ReadPassbook,
                if private {
                    format!("{}: private card, reading {x} exception(s) only", cs.name)
                } else {
                    format!(
                        "{}: reading {nn} passbook entries and {x} exception(s)",
                        cs.name
                    )
                },
            );
            let pb = if private {
                Vec::new()
            } else {
                n.0 += (nn as u32).div_ceil(consts::PB_READ_MAX as u32);
                card.read_passbook_raw_all(nn)
                    .map_err(ce(SyncStep::ReadPassbook, Who::Card))?
            };
            n.0 += 1;
            let exc = card
                .read_exceptions_raw()
                .map_err(ce(SyncStep::ReadPassbook, Who::Card))?;
            // 5. store (one SQLite transaction) BEFORE the bank card sees anything
            say(SyncStep::Store, "storing them in the ledger".into());
            let l = ledger.as_deref_mut().expect("checked above");
            let expected = files
                .as_ref()
                .map(|f| expected_interest(&bs, &cs, f.rate, true).paid)
                .unwrap_or(0);
            // a clear the ledger was never told about (the host died after the card cleared):
            // close that passbook epoch first (docs/ledger.md, "A host crash after the clear")
            let first = (cs.role == consts::Role::User)
                .then(|| pb.get(..consts::PB_ENTRY_LEN as usize))
                .flatten();
            let now = super::resume::PassbookNow {
                passbook_count: nn,
                exception_count: x,
                capacity: cs.passbook_capacity,
                interest_credited: None,
                first_entry: first,
            };
            super::resume::close_cleared_epoch(l, &cs.account, None, &now).map_err(|err| {
                SyncError::Ledger {
                    err,
                    finished: None,
                }
            })?;
            let rep = l
                .store_passbook(&Collection {
                    bank_account: &bs.account,
                    card_account: &cs.account,
                    passbook: &pb,
                    exceptions: &exc,
                    interest_paid: expected,
                    card_role: Some(cs.role.code()),
                    card_name: Some(cs.name.clone()),
                    bank_role: Some(bs.role.code()),
                    bank_name: Some(bs.name.clone()),
                })
                .map_err(|err| SyncError::Ledger {
                    err,
                    finished: None,
                })?;
            stored = Some(rep);
            // 6. feed
            if opts.feed {
                say(
                    SyncStep::Feed,
                    format!("{}: checking them against the card's commitment", bs.name),
                );
                let el = consts::PB_ENTRY_LEN as usize;
                let mut fed = 0usize;
                for chunk in pb.chunks(el * consts::FEED_PB_MAX as usize) {
                    n.0 += 1;
                    bank.passbook_feed_entries(fed as u8, chunk)
                        .map_err(ce(SyncStep::Feed, Who::Bank))?;
                    fed += chunk.len() / el;
                }
                if !exc.is_empty() {
                    n.0 += 1;
                    bank.passbook_feed_exceptions(&exc)
                        .map_err(ce(SyncStep::Feed, Who::Bank))?;
                }
                collected = true;
            }
        }
        // 7. bank: SYNC_BANK_P5 -> P6 / INVALIDATE (the bank debits the interest)
        say(
            SyncStep::BankP5,
            format!("{}: interest, keys, bad-card check (P6)", bs.name),
        );
        n.0 += 1;
        let ans = bank
            .sync_bank_p5(&s2p5.joined())
            .map_err(ce(SyncStep::BankP5, Who::Bank))?;
        // 8. card: SYNC_CARD_P6 -> SACK
        say(SyncStep::CardP6, format!("{}: applying P6", cs.name));
        n.0 += 1;
        let sack = card
            .sync_card_p6(ans.bytes())
            .map_err(ce(SyncStep::CardP6, Who::Card))?;
        // 9. bank: SYNC_BANK_ACK
        if let Some(s) = &sack {
            n.0 += 1;
            bank.sync_bank_ack(s)
                .map_err(ce(SyncStep::BankAck, Who::Bank))?;
        }
        Ok((collected, stored, ans, sack))
    })();
    let (collected, stored, ans, _sack) = match r {
        Ok(v) => v,
        Err(mut e) => {
            if opts.auto_finish {
                let f = finish_after_failure(bank, card);
                match &mut e {
                    SyncError::Card { finished, .. } | SyncError::Ledger { finished, .. } => {
                        *finished = f
                    }
                    _ => {}
                }
            }
            return Err(e);
        }
    };
    let invalidated = matches!(ans, BankAnswer::Invalidate(_));

    // 10. unblock
    let mut pin_unblocked = false;
    if let (Some(u), false) = (&opts.unblock, invalidated) {
        say(
            SyncStep::Unblock,
            format!("{}: setting the new PIN", cs.name),
        );
        n.0 += 1;
        card.unblock_pin(SecretRef::Pin, &u.pin)
            .map_err(ce(SyncStep::Unblock, Who::Card))?;
        if let Some(t) = &u.txkey {
            n.0 += 1;
            card.unblock_pin(SecretRef::TxKey, t)
                .map_err(ce(SyncStep::Unblock, Who::Card))?;
        }
        pin_unblocked = true;
    }

    // after: both statuses
    n.0 += 2;
    let bs2 = bank
        .get_status()
        .map_err(ce(SyncStep::BankAck, Who::Bank))?;
    let cs2 = card.get_status().map_err(ce(SyncStep::CardP6, Who::Card))?;
    let interest = cs2.balance.saturating_sub(cs.balance);
    let cleared = !invalidated
        && cs2.exception_count == 0
        && cs2.passbook_count <= (interest > 0) as u8
        && (cs.passbook_count > 0 || cs.exception_count > 0 || collected);
    if let (Some(l), Some(st)) = (ledger, &stored) {
        if cleared {
            // best effort: the card has cleared; a failure here is reported by index conflicts later
            if let Err(e) = l.mark_cleared(st.sync_id) {
                tracing::warn!("ledger: confirm_cleared({}) failed: {e}", st.sync_id);
            }
        }
        // what the ledger's read commands know of both cards (currency, reported balances)
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        if let Err(e) = l.record_statuses(st.sync_id, at, &[&bs2, &cs2]) {
            tracing::warn!("ledger: recording the cards' status failed: {e}");
        }
    }
    let days = ps::interest_days(bs.key_date, cs.interest_date);
    // the bank's INTEREST rate (its bank files); the card's copy is informative
    let rate = files.as_ref().map(|f| f.rate).unwrap_or(cs2.rate);
    let deferred = !invalidated
        && interest == 0
        && cs2.interest_date == cs.interest_date
        && days > 0
        && rate > 0
        && holder_proven
        && cs.flags & consts::FLAG_PRIVATE == 0;
    Ok(SyncReport {
        sid,
        bank: Party {
            account: bs.account,
            name: bs.name.clone(),
            role: bs.role,
            balance_before: bs.balance,
            balance_after: bs2.balance,
        },
        card: Party {
            account: cs.account,
            name: cs.name.clone(),
            role: cs.role,
            balance_before: cs.balance,
            balance_after: cs2.balance,
        },
        currency: cs.currency.code(),
        decimals: cs.currency.decimals,
        invalidated,
        interest,
        interest_expected: files
            .as_ref()
            .map(|f| expected_interest(&bs, &cs, f.rate, collected || cs.passbook_count == 0).paid),
        days,
        rate,
        interest_date_before: cs.interest_date,
        interest_date_after: cs2.interest_date,
        deferred,
        keys_before: cs.current_key,
        keys_after: cs2.current_key,
        keys_received: cs2.current_key.wrapping_sub(cs.current_key),
        key_date: cs2.key_date,
        passbook_entries: cs.passbook_count,
        exceptions: cs.exception_count,
        collected,
        ledger: stored,
        cleared,
        bad_key_before: cs.bad_key,
        holder_proven,
        pin_unblocked,
        apdus: n.0,
        millis: t0.elapsed().as_millis(),
    })
}

/// The interest the bank card should pay (12.7), from both statuses and the bank's rate.
pub fn expected_interest(
    bank: &Status,
    card: &Status,
    rate: u32,
    clear: bool,
) -> ps::InterestDecision {
    ps::decide_interest(&InterestInputs {
        card_amount: card.balance,
        card_last_date: card.interest_date,
        rate,
        bank_date: bank.key_date,
        bank_balance: bank.balance,
        clear,
        passbook_count: card.passbook_count,
        private: card.flags & consts::FLAG_PRIVATE != 0,
    })
}

fn finish_after_failure<B: CardIo, C: CardIo>(
    bank: &mut PurseCard<B>,
    card: &mut PurseCard<C>,
) -> Option<String> {
    let r = (|| -> Result<Vec<Action>, CardError> {
        // the transient sessions are gone anyway after an error; a fresh SELECT is not needed
        let bs = bank.get_status()?;
        let cs = card.get_status()?;
        let bp = bank.get_pending()?;
        let cp = card.get_pending()?;
        Ok(resume_rows(bank, &bs, &bp, card, &cs, &cp))
    })();
    match r {
        Ok(a) if a.is_empty() => None,
        Ok(a) => Some(format!(
            "recovered while both cards were in: {}",
            describe_actions(&a)
        )),
        Err(e) => Some(format!(
            "could not finish it now ({e}): put both cards in and run `purse resume`"
        )),
    }
}

pub fn describe_actions(a: &[Action]) -> String {
    if a.is_empty() {
        return "nothing to finish".into();
    }
    a.iter()
        .map(Action::describe)
        .collect::<Vec<_>>()
        .join("; ")
}

fn label(s: &Status) -> String {
    format!("{} ({})", s.name, s.account)
}

/// The sync rows of `purse resume` (protocol.md 12.11), for two cards `x` and `y` in either
/// order (each may be the bank card of the other). Acts once per unfinished sync.
pub fn resume_rows<X: CardIo, Y: CardIo>(
    x: &mut PurseCard<X>,
    xs: &Status,
    xp: &Pending,
    y: &mut PurseCard<Y>,
    ys: &Status,
    yp: &Pending,
) -> Vec<Action> {
    let mut acts = Vec::new();
    bank_half(x, xs, xp, y, ys, yp, &mut acts);
    bank_half(y, ys, yp, x, xs, xp, &mut acts);
    card_half(x, xs, xp, ys, yp, &mut acts);
    card_half(y, ys, yp, xs, xp, &mut acts);
    acts
}

/// `b` as the bank card with OUT = SYNC(T), `c` the other card.
fn bank_half<B: CardIo, C: CardIo>(
    b: &mut PurseCard<B>,
    bs: &Status,
    bp: &Pending,
    c: &mut PurseCard<C>,
    cs: &Status,
    cp: &Pending,
    acts: &mut Vec<Action>,
) {
    if bp.out.state != SlotState::Sync || bp.out.account != cs.account {
        return;
    }
    let t = bp.out.tid;
    let tid = hex::encode_upper(t);
    let amount = format!(
        "{} {}",
        format_amount(bp.out.amount, bs.currency.decimals),
        bs.currency.code()
    );
    let failed = |card: &Status, e: CardError| Action::Failed {
        tid: hex::encode_upper(t),
        card: label(card),
        error: format!("{e}; run `purse resume` again"),
    };
    if cp.r#in.state == SlotState::Sync && cp.r#in.tid == t {
        // P6 never applied: deliver the stored one
        let p6 = match b.resume_get_p6(&t) {
            Ok(p) => p,
            Err(e) => return acts.push(failed(bs, e)),
        };
        let sack = match c.sync_card_p6(&p6) {
            Ok(Some(s)) => s,
            Ok(None) => {
                acts.push(Action::SyncFinished {
                    tid,
                    what: format!("{} was invalidated by {}", label(cs), label(bs)),
                });
                return;
            }
            Err(e) => return acts.push(failed(cs, e)),
        };
        if let Err(e) = b.sync_bank_ack(&sack) {
            return acts.push(failed(bs, e));
        }
        acts.push(Action::SyncFinished {
            tid,
            what: format!(
                "sync of {} with {} completed (interest {amount} credited once)",
                label(cs),
                label(bs)
            ),
        });
        return;
    }
    if let Some(kind) = cp.outcomes.iter().find(|o| o.tid == t).map(|o| o.kind) {
        let pkt = match c.resume_get_outcome(&t) {
            Ok(p) => p,
            Err(e) => return acts.push(failed(cs, e)),
        };
        if let Err(e) = b.sync_bank_ack(&pkt) {
            return acts.push(failed(bs, e));
        }
        acts.push(Action::SyncFinished {
            tid,
            what: match kind {
                OutcomeKind::Nack => format!(
                    "{} never applied the sync; {} took back the interest {amount}",
                    label(cs),
                    label(bs)
                ),
                _ => format!("{} had applied the sync; {} cleared", label(cs), label(bs)),
            },
        });
        return;
    }
    acts.push(Action::Stuck {
        tid,
        card: label(bs),
        advice: format!(
            "a sync with {} holds {amount} of interest that the card does not know: put that card in and run `purse resume`",
            bp.out.name
        ),
    });
}

/// `c` as the synced card with IN = SYNC(T) from bank `b` that has no OUT = SYNC(T).
fn card_half<C: CardIo>(
    c: &mut PurseCard<C>,
    cs: &Status,
    cp: &Pending,
    bs: &Status,
    bp: &Pending,
    acts: &mut Vec<Action>,
) {
    if cp.r#in.state != SlotState::Sync {
        return;
    }
    let t = cp.r#in.tid;
    if bp.out.state == SlotState::Sync && bp.out.tid == t {
        return; // bank_half
    }
    if cp.r#in.account != bs.account {
        acts.push(Action::Stuck {
            tid: hex::encode_upper(t),
            card: label(cs),
            advice: format!(
                "an unfinished sync with bank card {} ({}): put that bank card in and run `purse resume`",
                cp.r#in.name, cp.r#in.account
            ),
        });
        return;
    }
    match c.xfer_abort_expected(&t) {
        Ok(_) => acts.push(Action::SyncFinished {
            tid: hex::encode_upper(t),
            what: format!("{} had not paid anything yet; the interrupted sync of {} was cancelled (no value moved)", label(bs), label(cs)),
        }),
        Err(e) => acts.push(Action::Failed {
            tid: hex::encode_upper(t),
            card: label(cs),
            error: format!("{e}; run `purse resume` again"),
        }),
    }
}
