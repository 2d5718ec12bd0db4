//! Sync (protocol.md 12.4, FIG. 5): a card and the bank card of the level above it. The host
//! relays S1, P5, P6 (or INVALIDATE) and the SACK; in between it reads the card's passbook
//! and exception log, stores them in the bank's ledger (`Ledger::store_collection`, one SQLite
//! transaction) and only then sends the bank card their digest (12.5.3) with the card's P5; the
//! bank card says CLEAR in P6 only if it is the digest the card committed to in P5. After the
//! SACK the ledger is told the card cleared (`confirm_cleared`). The host never holds a key:
//! interest, keys and the clear are decided by the cards; the report compares the cards' status
//! before and the synced card's after (the bank card's after is derived exactly: its balance less
//! the interest paid).
//!
//! Resume rows of sync (12.11) are [`resume_rows`], called by `flows::resume` and after a failure.
use std::time::Instant;

use serde::Serialize;

use super::store::{Collection, PassbookStore, StoreError, StoreReport};
use crate::card::sync::{P5Packet, P6Applied};
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
    /// Read and store the passbook (false = `--no-store`: the sync completes without CLEAR).
    pub store: bool,
    /// Send the bank card the digest of the stored entries (tests set false to check the card
    /// keeps its passbook when the host sends none).
    pub send_digest: bool,
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
    /// How step 3 (SYNC_CARD_S1) is sent: by the digest's size (the default), or always whole /
    /// always in two halves (tests, benchmarks).
    pub s1: S1Form,
}

/// Step 3 as one APDU (74 P1 00) or as its two halves (74 P1 01, then P1 02).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum S1Form {
    /// Split when more than [`S1_SPLIT_ABOVE`] entries go into the digest (never, for a card).
    #[default]
    Auto,
    Whole,
    Split,
}

/// Entries (passbook entries collected, plus exceptions) above which step 3 is split by default:
/// more than a card can hold (50 passbook entries and 4 exceptions), so the default never splits.
///
/// From the real-card model (docs/benchmarks.md, J3H145, AES): the whole 74 costs about 148 ms
/// with an empty passbook, and the digest (SHA-256, 12.5.3) adds about 7 ms for every 256 bytes
/// of entries: 215 ms at 49 entries, within the 300-ms budget of one APDU for any card. The split
/// costs one APDU more (about 20 ms of transport per sync); it stays for chips slower than the
/// model (`purse sync --s1 split`).
pub const S1_SPLIT_ABOVE: u16 = consts::PASSBOOK_ENTRIES + consts::EXCEPTIONS;

impl S1Form {
    /// Whether step 3 is split for a card with `digested` entries in its digest (12.5.3: the
    /// passbook, unless private, plus the exceptions).
    pub fn split(self, digested: u16) -> bool {
        match self {
            S1Form::Auto => digested > S1_SPLIT_ABOVE,
            S1Form::Whole => false,
            S1Form::Split => true,
        }
    }
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            date: crate::proto::types::today(),
            store: true,
            send_digest: true,
            bank_pin: None,
            card_pin: None,
            unblock: None,
            auto_finish: true,
            s1: S1Form::Auto,
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

impl Who {
    /// As a message names it: "bank card", "synced card", "host".
    pub fn label(self) -> &'static str {
        match self {
            Who::Bank => "bank card",
            Who::Card => "synced card",
            Who::Host => "host",
        }
    }
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
    #[serde(serialize_with = "crate::proto::wire::ser_hex6")]
    pub sid: Tid,
    pub bank: Party,
    pub card: Party,
    pub currency: String,
    pub decimals: u8,
    /// The bank answered INVALIDATE: the card was listed as lost/stolen and is now dead.
    pub invalidated: bool,
    /// Interest credited to the card (= debited from the bank card), minor units.
    pub interest: u32,
    /// Interest the host expected from the bank's rate (its bank files), if it could read it.
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
    /// Read, stored in the ledger and its digest sent to the bank card.
    pub collected: bool,
    pub ledger: Option<StoreReport>,
    /// The card cleared its passbook and exception log (the bank verified the stored entries' digest).
    pub cleared: bool,
    pub bad_key_before: u8,
    /// The holder's PIN was verified on the card for this sync (else: unblock only).
    pub holder_proven: bool,
    pub pin_unblocked: bool,
    /// APDUs sent by the host in this sync (both cards, incl. status reads).
    pub apdus: u32,
    pub millis: u128,
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
    /// The ledger could not store the passbook: no digest was sent; the sync was aborted.
    #[error("the ledger could not store the passbook ({err}); the sync was stopped before the bank card saw it, the card keeps its passbook{}", .finished.as_ref().map(|f| format!(" ({f})")).unwrap_or_default())]
    Ledger {
        err: StoreError,
        finished: Option<String>,
    },
}

impl SyncError {
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

impl crate::error::Failure for SyncError {
    fn kind(&self) -> crate::error::Kind {
        match self {
            SyncError::Precheck(_) => crate::error::Kind::Precheck,
            SyncError::Card { err, .. } => err.kind(),
            SyncError::Ledger { .. } => crate::error::Kind::Ledger,
        }
    }
    fn step(&self) -> Option<String> {
        SyncError::step(self).map(|s| format!("{s:?}"))
    }
    fn side(&self) -> Option<String> {
        match self {
            SyncError::Card { who, .. } => Some(
                match who {
                    Who::Bank => "bank",
                    Who::Card => "card",
                    Who::Host => "host",
                }
                .into(),
            ),
            _ => None,
        }
    }
    fn sw(&self) -> Option<u16> {
        match self {
            SyncError::Card { err, .. } => err.sw_code(),
            _ => None,
        }
    }
    fn money_moved(&self) -> Option<bool> {
        Some(match self {
            SyncError::Precheck(_) | SyncError::Ledger { .. } => false,
            SyncError::Card { step, .. } => !before_value(*step),
        })
    }
}

/// Steps before any card holds value for the other (a failure there moved nothing).
fn before_value(step: SyncStep) -> bool {
    matches!(
        step,
        SyncStep::Setup | SyncStep::CardInit | SyncStep::BankInit | SyncStep::CardS1
    )
}

fn describe_failure(step: SyncStep, who: Who, err: &CardError, finished: Option<&str>) -> String {
    let mut m = format!("sync failed at {step:?} on the {}: {err}", who.label());
    match finished {
        Some(f) => m.push_str(&format!("\n{f}")),
        None if before_value(step) => {
            m.push_str("\nno value moved")
        }
        None => m.push_str("\nthe sync may be half done: the value is held safely by the cards; put both cards in and run `purse resume` (or `purse sync` again)"),
    }
    m
}

/// Collected, stored, the bank's answer, the SACK with the card's status after it.
type Relayed = (bool, Option<StoreReport>, BankAnswer, Option<P6Applied>);

/// The error of a card command at `step` on `who`.
fn at(step: SyncStep, who: Who) -> impl Fn(CardError) -> SyncError {
    move |err| SyncError::Card {
        step,
        who,
        err,
        finished: None,
    }
}

fn ledger_err(err: StoreError) -> SyncError {
    SyncError::Ledger {
        err,
        finished: None,
    }
}

/// What the host can tell from both cards' status before asking anything (the cards would
/// refuse too): empty = go on. `has_ledger`: a ledger was given (needed when `opts.store`).
pub fn status_problems(
    bs: &Status,
    cs: &Status,
    opts: &SyncOptions,
    has_ledger: bool,
) -> Vec<String> {
    if cs.life == Life::Invalidated {
        return vec![format!(
            "{} ({}) was invalidated by the bank: it cannot sync or transact any more; the bank refunds its holder from the ledger",
            cs.name, cs.account
        )];
    }
    if bs.life != Life::Active || cs.life != Life::Active {
        return vec!["both cards must be personalised purse cards".into()];
    }
    let mut p = Vec::new();
    if !ps::sync_pair_allowed(bs.role, cs.role) {
        let want = ps::bank_role_for(cs.role)
            .map(|r| format!("a {} card syncs with a {} card", cs.role.name(), r.name()))
            .unwrap_or_else(|| {
                format!(
                    "a {} card is never synced (it has no bank above it)",
                    cs.role.name()
                )
            });
        p.push(format!(
            "{} ({}) cannot sync {} ({}): {want}",
            bs.name,
            bs.role.name(),
            cs.name,
            cs.role.name()
        ));
    }
    if bs.app_id != cs.app_id {
        p.push("the two cards belong to different systems (APP_ID)".into());
    }
    if opts.unblock.is_some() && bs.role != Role::Branch {
        p.push("a PIN is unblocked only at a branch (bank card of role branch)".into());
    }
    if opts.unblock.is_none() && cs.pin_tries == 0 {
        p.push(format!(
            "the PIN of {} is blocked: unblock it at a branch (`purse sync --unblock-pin`)",
            cs.name
        ));
    }
    if opts.store && !has_ledger {
        p.push("no ledger to store the passbook in (give one, or --no-store)".into());
    }
    p
}

/// What the pending slots of both cards say before a new sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Leftover {
    /// Nothing pending: go on.
    None,
    /// An interrupted sync between these two cards: finish it first (when `auto_finish`).
    SyncToFinish,
    /// Something pending that this sync cannot finish: the message says what to do.
    Blocked(String),
}

/// The pure reading of both cards' pending slots (see [`Leftover`]).
pub fn leftover(
    bs: &Status,
    bp: &Pending,
    cs: &Status,
    cp: &Pending,
    auto_finish: bool,
) -> Leftover {
    if bp.out.state == SlotState::None
        && cp.r#in.state == SlotState::None
        && cp.out.state == SlotState::None
    {
        return Leftover::None;
    }
    let sync_left = bp.out.state == SlotState::Sync || cp.r#in.state == SlotState::Sync;
    let transfer_left = cp.out.state == SlotState::Transfer
        || cp.r#in.state == SlotState::Transfer
        || bp.out.state == SlotState::Transfer;
    if sync_left && !transfer_left && auto_finish {
        return Leftover::SyncToFinish;
    }
    if bp.out.state == SlotState::Sync && bp.out.account != cs.account {
        return Leftover::Blocked(format!(
            "{} has an unfinished sync with {} ({}): put that card in and run `purse resume` with both cards first",
            bs.name, bp.out.name, bp.out.account
        ));
    }
    if cp.r#in.state == SlotState::Sync && cp.r#in.account != bs.account {
        return Leftover::Blocked(format!(
            "{} has an unfinished sync with bank card {} ({}): put that bank card in and run `purse resume` with both cards first",
            cs.name, cp.r#in.name, cp.r#in.account
        ));
    }
    Leftover::Blocked(format!(
        "a card has an unfinished {}: run `purse resume` with {} first",
        if transfer_left { "transfer" } else { "sync" },
        if transfer_left {
            "the other card of that transfer"
        } else {
            "both cards"
        }
    ))
}

/// No slot that [`leftover`] looks at is in use (the bank's OUT, the card's IN and OUT), by the
/// slot states GET_STATUS reports.
pub fn slots_free(bs: &Status, cs: &Status) -> bool {
    bs.out_state == SlotState::None
        && cs.in_state == SlotState::None
        && cs.out_state == SlotState::None
}

/// The bank card must serve the card's account (its VALID_ACCOUNT range), when it was readable.
pub fn range_problem(bs: &Status, cs: &Status, files: Option<&BankFiles>) -> Option<String> {
    let f = files?;
    (cs.account.0 < f.low.0 || cs.account.0 > f.high.0).then(|| {
        format!(
            "{} does not serve account {} (its range is {}..{}): sync with the bank card that does",
            bs.name, cs.account, f.low, f.high
        )
    })
}

/// Whether the holder proves themselves with their PIN on the card (block 502). An unblock sync
/// without it (the PIN is blocked or forgotten) announces itself (70 P1 01); the bank card then
/// only unblocks.
pub fn holder_proven(cs: &Status, opts: &SyncOptions) -> bool {
    !(opts.unblock.is_some() && (opts.card_pin.is_none() || cs.pin_tries == 0))
}

type BankFiles = crate::card::bank::BadCardPage;

/// Run the sync between `bank` and `card`. `ledger` is required when `opts.store`.
pub fn sync<B: CardIo, C: CardIo>(
    bank: &mut PurseCard<B>,
    card: &mut PurseCard<C>,
    ledger: Option<&mut dyn PassbookStore>,
    opts: &SyncOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<SyncReport, SyncError> {
    let t0 = Instant::now();
    // APDU count from the channels (both cards, status reads included)
    let sent0 = bank.apdus() + card.apdus();

    // 0. both cards' status and pending slots, the host's checks
    let bs = bank.get_status().map_err(at(SyncStep::Setup, Who::Bank))?;
    let cs = card.get_status().map_err(at(SyncStep::Setup, Who::Card))?;
    let probs = status_problems(&bs, &cs, opts, ledger.is_some());
    if !probs.is_empty() {
        return Err(SyncError::Precheck(probs.join("; ")));
    }
    // GET_PENDING only when a status shows a slot in use: GET_STATUS carries the same slot
    // state bytes, and with the bank's OUT and the card's IN and OUT free, `leftover` is None
    if !slots_free(&bs, &cs) {
        let bp = bank.get_pending().map_err(at(SyncStep::Setup, Who::Bank))?;
        let cp = card.get_pending().map_err(at(SyncStep::Setup, Who::Card))?;
        match leftover(&bs, &bp, &cs, &cp, opts.auto_finish) {
            Leftover::None => {}
            Leftover::Blocked(m) => return Err(SyncError::Precheck(m)),
            Leftover::SyncToFinish => {
                let acts = resume_rows(bank, &bs, &bp, card, &cs, &cp);
                let ok = acts
                    .iter()
                    .all(|a| !matches!(a, Action::Stuck { .. } | Action::Failed { .. }));
                progress(Progress::Step(
                    SyncStep::Setup,
                    format!(
                        "finished an interrupted sync first: {}",
                        describe_actions(&acts)
                    ),
                ));
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
        }
    }
    // bank files (rate, range, archive) for the host's expectations, from the bank's SELECT
    // answer (else READ_BAD_CARDS); not required
    let files = bank.bank_files().ok();
    if let Some(m) = range_problem(&bs, &cs, files.as_ref()) {
        return Err(SyncError::Precheck(m));
    }
    let proven = holder_proven(&cs, opts);
    verify_secrets(bank, card, opts, proven)?;

    // 1-3: SYNC_CARD_INIT, SYNC_BANK_INIT, SYNC_CARD_S1 -> P5 (IN = SYNC from here)
    let p5 = open_session(bank, card, &cs, opts, proven, progress)?;
    let sid = p5.sid();

    // From here the card holds IN = SYNC(sid): any failure is finished or aborted.
    let mut ledger = ledger;
    let r = relay(
        bank,
        card,
        ledger.as_deref_mut(),
        &bs,
        &cs,
        files.as_ref(),
        &p5,
        opts,
        proven,
        progress,
    );
    let (collected, stored, ans, applied) = match r {
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
    let pin_unblocked = match (&opts.unblock, invalidated) {
        (Some(u), false) => {
            unblock(card, &cs, u, progress)?;
            true
        }
        _ => false,
    };

    // after: the synced card's status (interest, keys, dates, the clear: sealed in P6 / SACK,
    // which the host cannot read), as 78 answered it after the SACK; read again only when an
    // unblock changed it since, or 78 gave none (an INVALIDATE answers nothing). The bank card's
    // is not read: its balance is exactly the one before less the interest the card received
    // (debited at 76; the SACK at 7A moves nothing; an INVALIDATE changes nothing), and balance
    // is all the report and the ledger's card_status take from it besides the fields a sync
    // does not change (account, role, name, currency, key date).
    let cs2 = match applied.and_then(|a| a.status) {
        Some(st) if !pin_unblocked => st,
        _ => card.get_status().map_err(at(SyncStep::CardP6, Who::Card))?,
    };
    let interest = cs2.balance.saturating_sub(cs.balance);
    let bs2 = Status {
        balance: bs.balance.saturating_sub(interest),
        ..bs.clone()
    };
    let cleared = !invalidated
        && cs2.exception_count == 0
        && cs2.passbook_count <= (interest > 0) as u8
        && (cs.passbook_count > 0 || cs.exception_count > 0 || collected);
    if let (Some(l), Some(st)) = (ledger, &stored) {
        record_after(l, st, cleared, &bs2, &cs2);
    }
    let days = ps::interest_days(bs.key_date, cs.interest_date);
    // the bank's INTEREST rate (its bank files); the card's copy is informative
    let rate = files.as_ref().map(|f| f.rate).unwrap_or(cs2.rate);
    let deferred = !invalidated
        && interest == 0
        && cs2.interest_date == cs.interest_date
        && days > 0
        && rate > 0
        && proven
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
        holder_proven: proven,
        pin_unblocked,
        apdus: (bank.apdus() + card.apdus()).wrapping_sub(sent0),
        millis: t0.elapsed().as_millis(),
    })
}

/// FIG. 5 block 501: the bank operator's PIN (the bank card refuses SYNC_BANK_INIT without it);
/// block 502: the holder's PIN on the card itself, when the holder proves themselves.
fn verify_secrets<B: CardIo, C: CardIo>(
    bank: &mut PurseCard<B>,
    card: &mut PurseCard<C>,
    opts: &SyncOptions,
    holder_proven: bool,
) -> Result<(), SyncError> {
    if let Some(pin) = &opts.bank_pin {
        bank.verify(SecretRef::Pin, pin)
            .map_err(at(SyncStep::Setup, Who::Bank))?;
    }
    if holder_proven {
        if let Some(pin) = &opts.card_pin {
            card.verify(SecretRef::Pin, pin)
                .map_err(at(SyncStep::Setup, Who::Card))?;
        }
    }
    Ok(())
}

/// Steps 1-3: SYNC_CARD_INIT (the card announces its keys), SYNC_BANK_INIT (S1), SYNC_CARD_S1
/// (P5: the card commits to its balance, passbook and keys; IN = SYNC from here).
fn open_session<B: CardIo, C: CardIo>(
    bank: &mut PurseCard<B>,
    card: &mut PurseCard<C>,
    cs: &Status,
    opts: &SyncOptions,
    holder_proven: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<P5Packet, SyncError> {
    progress(Progress::Step(
        SyncStep::CardInit,
        format!("{}: announcing its keys", cs.name),
    ));
    let hello = card
        .sync_card_init(opts.date, !holder_proven)
        .map_err(at(SyncStep::CardInit, Who::Card))?;
    let s1 = bank
        .sync_bank_init(opts.unblock.is_some(), hello, opts.date)
        .map_err(at(SyncStep::BankInit, Who::Bank))?;
    progress(Progress::Step(
        SyncStep::CardS1,
        format!("{}: committing balance, passbook and keys (P5)", cs.name),
    ));
    // the digest (12.5.3) the card computes in 74 covers these entries, collected or not
    let private = cs.flags & consts::FLAG_PRIVATE != 0;
    let digested = if private { 0 } else { cs.passbook_count as u16 } + cs.exception_count as u16;
    if opts.s1.split(digested) {
        card.sync_card_s1_split(&s1)
    } else {
        card.sync_card_s1(&s1)
    }
    .map_err(at(SyncStep::CardS1, Who::Card))
}

/// Steps 4-9 while the card holds IN = SYNC: collect (read, store, digest) when asked and the
/// holder is proven, then P5 -> P6 / INVALIDATE, P6 -> SACK, SACK.
#[allow(clippy::too_many_arguments)]
fn relay<'s, B: CardIo, C: CardIo>(
    bank: &mut PurseCard<B>,
    card: &mut PurseCard<C>,
    ledger: Option<&mut (dyn PassbookStore + 's)>,
    bs: &Status,
    cs: &Status,
    files: Option<&BankFiles>,
    p5: &P5Packet,
    opts: &SyncOptions,
    holder_proven: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<Relayed, SyncError> {
    let (mut collected, mut stored) = (false, None);
    // D', the digest of what the ledger stored (00 x 8: nothing collected, no clear)
    let mut digest = [0u8; 8];
    // an unproven holder's passbook is not collected: the bank card would not clear it
    if opts.store && holder_proven {
        let (pb, exc) = read_logs(card, cs, progress)?;
        // 5. store (one SQLite transaction) BEFORE the bank card sees anything
        progress(Progress::Step(
            SyncStep::Store,
            "storing them in the ledger".into(),
        ));
        let l = ledger.ok_or_else(|| {
            SyncError::Precheck(
                "no ledger to store the passbook in (give one, or --no-store)".into(),
            )
        })?;
        stored = Some(store(l, bs, cs, files, &pb, &exc)?);
        // 6. the digest of what was stored, for the bank card to check against the card's
        if opts.send_digest {
            let private = cs.flags & consts::FLAG_PRIVATE != 0;
            digest = crate::proto::sync::digest_of(&p5.sid(), &pb, &exc, private);
            collected = true;
        }
    }
    // 7. bank: SYNC_BANK_P5 -> P6 / INVALIDATE (the bank debits the interest)
    progress(Progress::Step(
        SyncStep::BankP5,
        if collected {
            format!(
                "{}: checking the stored entries against the card's commitment; interest, keys, bad-card check (P6)",
                bs.name
            )
        } else {
            format!("{}: interest, keys, bad-card check (P6)", bs.name)
        },
    ));
    let ans = bank
        .sync_bank_p5(p5.bytes(), &digest)
        .map_err(at(SyncStep::BankP5, Who::Bank))?;
    // 8. card: SYNC_CARD_P6 -> SACK | the card's status after it
    progress(Progress::Step(
        SyncStep::CardP6,
        format!("{}: applying P6", cs.name),
    ));
    let sack = card
        .sync_card_p6(ans.bytes())
        .map_err(at(SyncStep::CardP6, Who::Card))?;
    // 9. bank: SYNC_BANK_ACK
    if let Some(s) = &sack {
        bank.sync_bank_ack(&s.sack)
            .map_err(at(SyncStep::BankAck, Who::Bank))?;
    }
    Ok((collected, stored, ans, sack))
}

/// Step 4: the card's passbook (none for a private card) and exception log, raw.
fn read_logs<C: CardIo>(
    card: &mut PurseCard<C>,
    cs: &Status,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Vec<u8>, Vec<u8>), SyncError> {
    let (nn, x) = (cs.passbook_count, cs.exception_count);
    let private = cs.flags & consts::FLAG_PRIVATE != 0;
    progress(Progress::Step(
        SyncStep::ReadPassbook,
        if private {
            format!("{}: private card, reading {x} exception(s) only", cs.name)
        } else {
            format!(
                "{}: reading {nn} passbook entries and {x} exception(s)",
                cs.name
            )
        },
    ));
    let pb = if private {
        Vec::new()
    } else {
        card.read_passbook_raw_all(nn)
            .map_err(at(SyncStep::ReadPassbook, Who::Card))?
    };
    // READ_EXCEPTIONS only when the status counts some: the card's log cannot change between
    // that status and its commitment in P5 (and a log that did would only fail the digest)
    let exc = if x == 0 {
        Vec::new()
    } else {
        card.read_exceptions_raw()
            .map_err(at(SyncStep::ReadPassbook, Who::Card))?
    };
    Ok((pb, exc))
}

/// Step 5: store the collection in the ledger (one transaction), after closing a passbook epoch
/// the ledger was never told was cleared.
fn store(
    l: &mut dyn PassbookStore,
    bs: &Status,
    cs: &Status,
    files: Option<&BankFiles>,
    pb: &[u8],
    exc: &[u8],
) -> Result<StoreReport, SyncError> {
    let expected = files
        .map(|f| expected_interest(bs, cs, f.rate, true).paid)
        .unwrap_or(0);
    // a clear the ledger was never told about (the host died after the card cleared):
    // close that passbook epoch first (docs/ledger.md, "A host crash after the clear")
    let first = (cs.role == consts::Role::User)
        .then(|| pb.get(..consts::PB_ENTRY_LEN as usize))
        .flatten();
    let now = super::resume::PassbookNow {
        passbook_count: cs.passbook_count,
        exception_count: cs.exception_count,
        capacity: cs.passbook_capacity,
        interest_credited: None,
        first_entry: first,
    };
    super::resume::close_cleared_epoch(l, &cs.account, None, &now).map_err(ledger_err)?;
    l.store_passbook(&Collection {
        bank_account: &bs.account,
        card_account: &cs.account,
        passbook: pb,
        exceptions: exc,
        interest_paid: expected,
        card_role: Some(cs.role.code()),
        card_name: Some(cs.name.clone()),
        bank_role: Some(bs.role.code()),
        bank_name: Some(bs.name.clone()),
    })
    .map_err(ledger_err)
}

/// Step 10: the holder's new PIN (and transaction key) after an unblock sync.
fn unblock<C: CardIo>(
    card: &mut PurseCard<C>,
    cs: &Status,
    u: &Unblock,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), SyncError> {
    progress(Progress::Step(
        SyncStep::Unblock,
        format!("{}: setting the new PIN", cs.name),
    ));
    card.unblock_pin(SecretRef::Pin, &u.pin)
        .map_err(at(SyncStep::Unblock, Who::Card))?;
    if let Some(t) = &u.txkey {
        card.unblock_pin(SecretRef::TxKey, t)
            .map_err(at(SyncStep::Unblock, Who::Card))?;
    }
    Ok(())
}

/// After the sync: tell the ledger the card cleared, and record both cards' status (currency,
/// reported balances) for the ledger's read commands. Best effort: the sync is done.
fn record_after(
    l: &mut dyn PassbookStore,
    st: &StoreReport,
    cleared: bool,
    bs2: &Status,
    cs2: &Status,
) {
    if cleared {
        // a failure here is reported by index conflicts later
        if let Err(e) = l.mark_cleared(st.sync_id) {
            tracing::warn!("ledger: confirm_cleared({}) failed: {e}", st.sync_id);
        }
    }
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if let Err(e) = l.record_statuses(st.sync_id, at, &[bs2, cs2]) {
        tracing::warn!("ledger: recording the cards' status failed: {e}");
    }
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
        if let Err(e) = b.sync_bank_ack(&sack.sack) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::types::PendingSlot;

    /// By default step 3 is never split: the threshold is above the fullest digest a card has
    /// (50 passbook entries and 4 exceptions: 2,196 bytes of entries and exceptions hashed).
    #[test]
    fn s1_split_above_any_card() {
        assert_eq!(S1_SPLIT_ABOVE, 54);
        assert!(!S1Form::Auto.split(0));
        assert!(!S1Form::Auto.split(50 + 4));
        assert!(!S1Form::Auto.split(S1_SPLIT_ABOVE));
        assert!(S1Form::Auto.split(S1_SPLIT_ABOVE + 1));
        assert!(!S1Form::Whole.split(54));
        assert!(S1Form::Split.split(0));
    }

    fn status(role: Role, account: u64) -> Status {
        let mut s = Status::parse(&[0u8; consts::STATUS_LEN as usize]).expect("zeros parse");
        s.life = Life::Active;
        s.role = role;
        s.account = Account(account.to_be_bytes());
        s.name = format!("{role:?}");
        s.pin_tries = 3;
        s
    }

    fn slot(state: SlotState, account: Account) -> PendingSlot {
        PendingSlot {
            state,
            tid: [0; 6],
            amount: 0,
            account,
            name: "X".into(),
            date: 0,
        }
    }

    fn pending(out: SlotState, r#in: SlotState, other: Account) -> Pending {
        Pending {
            out: slot(out, other),
            r#in: slot(r#in, other),
            outcomes: Vec::new(),
            exception_count: 0,
        }
    }

    #[test]
    fn status_problems_are_the_hosts_checks() {
        let opts = SyncOptions::default();
        let (b, c) = (status(Role::Branch, 1), status(Role::User, 2));
        assert!(status_problems(&b, &c, &opts, true).is_empty());
        // no ledger while storing
        assert_eq!(status_problems(&b, &c, &opts, false).len(), 1);
        // a user card never syncs a user card; a blocked PIN needs the unblock sync
        let mut c2 = status(Role::User, 3);
        c2.pin_tries = 0;
        let p = status_problems(&c, &c2, &opts, true);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[1].contains("blocked"), "{p:?}");
        // unblock only at a branch
        let region = status(Role::Region, 4);
        let u = SyncOptions {
            unblock: Some(Unblock::default()),
            ..SyncOptions::default()
        };
        assert!(status_problems(&region, &status(Role::Branch, 5), &u, true)
            .iter()
            .any(|m| m.contains("only at a branch")));
        // an invalidated card: that alone is said
        let mut dead = status(Role::User, 6);
        dead.life = Life::Invalidated;
        let p = status_problems(&b, &dead, &opts, false);
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("invalidated"), "{p:?}");
        // the unproven holder: an unblock sync without the holder's PIN
        assert!(holder_proven(&c, &opts));
        assert!(!holder_proven(&c, &u));
    }

    #[test]
    fn leftovers_say_what_to_do() {
        let (b, c) = (status(Role::Branch, 1), status(Role::User, 2));
        let none = pending(SlotState::None, SlotState::None, Account([0; 8]));
        assert_eq!(leftover(&b, &none, &c, &none, true), Leftover::None);
        // the bank's OUT = SYNC with this card: finished first, or blocked without auto_finish
        let bp = pending(SlotState::Sync, SlotState::None, c.account);
        assert_eq!(leftover(&b, &bp, &c, &none, true), Leftover::SyncToFinish);
        assert!(matches!(
            leftover(&b, &bp, &c, &none, false),
            Leftover::Blocked(_)
        ));
        // a transfer left on the card: never finished by a sync
        let cp = pending(SlotState::Transfer, SlotState::None, Account([9; 8]));
        match leftover(&b, &none, &c, &cp, true) {
            Leftover::Blocked(m) => assert!(m.contains("unfinished transfer"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
