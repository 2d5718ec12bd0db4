//! Card-to-card transfer (protocol.md 6.1, FIG. 3 + FIG. 4 + ACK), relayed packet by packet
//! between two cards held for the whole flow. The host never holds a key: it reads both cards'
//! public status, lets the holders confirm (the CLI does that between [`plan`] and [`execute`]),
//! verifies the payer's secrets, then relays P1, P2, P4 and the ACK. After a failure at steps
//! 3-6 it runs the resume logic of protocol.md 6.4 while both cards are still in.
use serde::Serialize;

use crate::card::transfer::{PacketHeader, Tid};
use crate::card::{CardError, PurseCard};
use crate::proto::consts::{Life, Role, SecretRef, SlotState, Sw};
use crate::proto::types::{format_amount, pick_keys, Account, Status};
use crate::transport::CardIo;

use super::resume::{self, ResumeOptions, ResumeReport};

/// Which card of the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Payer,
    Payee,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Payer => "payer",
            Side::Payee => "payee",
        })
    }
}

/// The steps of protocol.md 6.1 (0 = set-up: status, checks, secrets).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Step {
    Setup,
    Verify,
    /// The payee's hello: its SELECT answer (a new SELECT only if a command followed it).
    PayeeHello,
    PayerInit,
    PayeeP1,
    PayerP2P3,
    PayeeP4,
    PayerAck,
}

impl Step {
    pub fn number(self) -> u8 {
        match self {
            Step::Setup | Step::Verify => 0,
            Step::PayeeHello => 1,
            Step::PayerInit => 2,
            Step::PayeeP1 => 3,
            Step::PayerP2P3 => 4,
            Step::PayeeP4 => 5,
            Step::PayerAck => 6,
        }
    }
}

/// Secrets typed by the payer's holder (only those the amount needs are sent).
#[derive(Clone, Default)]
pub struct Secrets {
    pub pin: Option<Vec<u8>>,
    pub txkey: Option<Vec<u8>>,
    pub approval: Option<Vec<u8>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

/// What the transfer will do, from both cards' status (read before any money command).
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub amount: u32,
    pub date: u16,
    pub payer: Status,
    pub payee: Status,
    /// Amount above the payer's MIN_TRANS: the payer's PIN is needed.
    pub needs_pin: bool,
    /// Amount above MAX_TRANS: the transaction key too.
    pub needs_txkey: bool,
    /// The payer is the center: the approval secret is needed (F3).
    pub needs_approval: bool,
}

impl Plan {
    pub fn amount_str(&self) -> String {
        format!(
            "{} {}",
            format_amount(self.amount, self.payer.currency.decimals),
            self.payer.currency.code()
        )
    }

    /// Everything the host can already tell will be refused (the cards re-check all of it).
    /// Empty = go. Each entry says what is wrong and what to do.
    pub fn problems(&self) -> Vec<String> {
        let (p, q, a) = (&self.payer, &self.payee, self.amount);
        let mut v = Vec::new();
        for (s, who) in [(p, "payer"), (q, "payee")] {
            if s.life != Life::Active {
                v.push(match s.life {
                    Life::Invalidated => format!(
                        "the {who} card was invalidated by its bank (listed lost or stolen): \
                         it cannot be used any more"
                    ),
                    _ => format!(
                        "the {who} card is {} (run `purse genesis` or `purse issue` first)",
                        s.life.name()
                    ),
                });
                return v;
            }
            if s.locked() {
                v.push(format!(
                    "the {who} card is locked after {} bad packets/keys: sync it with its bank",
                    s.bad_key
                ));
            }
        }
        if p.account == q.account {
            v.push("both readers hold the same card (same account)".into());
            return v;
        }
        if !p.role.may_pay(q.role) {
            v.push(format!(
                "a {} card cannot pay a {} card (payments go user<->user, user<->branch, branch<->region, region<->center)",
                p.role.name(),
                q.role.name()
            ));
        }
        if p.app_id != q.app_id {
            v.push("the cards belong to different purse systems (application ids differ)".into());
        }
        if p.suite != q.suite {
            v.push(format!(
                "the cards use different crypto suites ({} and {})",
                p.suite.name(),
                q.suite.name()
            ));
        } else if pick_keys(p.current_key, q.current_key.wrapping_sub(3)).is_none() {
            v.push(format!(
                "the cards share fewer than two keys (payer holds {:?}, payee {:?}): sync the older card with its bank",
                p.key_numbers(),
                q.key_numbers()
            ));
        }
        if p.currency != q.currency {
            v.push(format!(
                "the cards hold different currencies ({} and {})",
                p.currency.code(),
                q.currency.code()
            ));
        }
        if a == 0 {
            v.push("the amount must be at least one minor unit".into());
        }
        if a > p.balance {
            v.push(format!(
                "balance too low: the payer holds {}",
                p.amount(p.balance)
            ));
        }
        if q.balance.checked_add(a).is_none() {
            v.push("the payee card cannot hold that much".into());
        }
        if p.out_state != SlotState::None {
            v.push("the payer card has an unfinished outgoing transfer: run `purse resume` with its payee card".into());
        }
        if q.in_state != SlotState::None {
            v.push("the payee card has an unfinished incoming transfer: run `purse resume` with its payer card".into());
        }
        // Bank cards keep their passbook as a ring (protocol.md 12.2): never full for the host.
        if p.passbook_count >= p.passbook_capacity && !p.role.is_bank() {
            v.push("the payer's passbook is full: sync it with the bank before paying".into());
        }
        if q.passbook_count >= q.passbook_capacity && !q.role.is_bank() {
            v.push("the payee's passbook is full: sync it with the bank before receiving".into());
        }
        if self.needs_txkey && p.txkey_tries == 0xFF {
            v.push(format!(
                "the payer card has no transaction key, so it cannot pay above {}",
                p.amount(p.max_trans)
            ));
        }
        if self.needs_pin && p.pin_tries == 0 {
            v.push("the payer's PIN is blocked: unblock it at the branch (`purse sync --unblock-pin` with a branch card)".into());
        }
        v
    }
}

/// Read both cards' status and work out what the transfer needs. Asks nothing else of the cards.
pub fn plan<A: CardIo, B: CardIo>(
    payer: &mut PurseCard<A>,
    payee: &mut PurseCard<B>,
    amount: u32,
    date: u16,
) -> Result<Plan, TransferError> {
    let fail = |side, err| TransferError::Card {
        step: Step::Setup,
        side,
        err,
        money: MoneyState::Untouched,
        tid: None,
        resumed: None,
    };
    let ps = payer.get_status().map_err(|e| fail(Side::Payer, e))?;
    plan_with_payer_status(ps, payee, amount, date)
}

/// [`plan`] with the payer's status already read (the CLI reads it first for the currency): one
/// GET_STATUS less on the wire.
pub fn plan_with_payer_status<B: CardIo>(
    ps: Status,
    payee: &mut PurseCard<B>,
    amount: u32,
    date: u16,
) -> Result<Plan, TransferError> {
    // from a SELECT answer, which also arms the payee session of step 1 (protocol.md 6.1)
    let qs = payee.payee_status().map_err(|err| TransferError::Card {
        step: Step::Setup,
        side: Side::Payee,
        err,
        money: MoneyState::Untouched,
        tid: None,
        resumed: None,
    })?;
    Ok(Plan {
        amount,
        date,
        needs_pin: amount > ps.min_trans,
        needs_txkey: amount > ps.max_trans,
        needs_approval: ps.role == Role::Center,
        payer: ps,
        payee: qs,
    })
}

/// Where the money is after a failed transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MoneyState {
    /// No card changed any balance (before the payer's debit, or the debit was refused).
    Untouched,
    /// The payer may have debited and the payee not credited yet: the value is held in the
    /// payer's pending slot; `purse resume` with both cards finishes it.
    InFlight,
}

/// A transfer that did not complete. The message says what happened, where the money is, and
/// what to do.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The host can already tell the cards would refuse; no card was asked to move money.
    #[error("transfer refused before any card was asked: {}", .0.join("; "))]
    Precheck(Vec<String>),
    /// A holder did not confirm (FIG. 3).
    #[error("{0}; no card was asked anything")]
    NotConfirmed(String),
    /// A card refused or was lost at `step`.
    #[error("{}", describe_failure(*.step, *.side, .err, *.money, .tid.as_ref(), .resumed.as_deref()))]
    Card {
        step: Step,
        side: Side,
        err: CardError,
        money: MoneyState,
        tid: Option<Tid>,
        resumed: Option<Box<ResumeReport>>,
    },
}

impl TransferError {
    /// The status word of the card's refusal, if any.
    pub fn sw(&self) -> Option<Sw> {
        match self {
            TransferError::Card { err, .. } => err.sw(),
            _ => None,
        }
    }
    /// The step and side that failed, if a card failed.
    pub fn at(&self) -> Option<(Step, Side)> {
        match self {
            TransferError::Card { step, side, .. } => Some((*step, *side)),
            _ => None,
        }
    }
}

impl crate::error::Failure for TransferError {
    fn kind(&self) -> crate::error::Kind {
        match self {
            TransferError::Precheck(_) | TransferError::NotConfirmed(_) => {
                crate::error::Kind::Precheck
            }
            TransferError::Card { err, .. } => err.kind(),
        }
    }
    fn step(&self) -> Option<String> {
        self.at().map(|(s, _)| format!("{s:?}"))
    }
    fn side(&self) -> Option<String> {
        self.at().map(|(_, d)| d.to_string())
    }
    fn sw(&self) -> Option<u16> {
        match self {
            TransferError::Card { err, .. } => err.sw_code(),
            _ => None,
        }
    }
    fn money_moved(&self) -> Option<bool> {
        Some(match self {
            TransferError::Precheck(_) | TransferError::NotConfirmed(_) => false,
            TransferError::Card { money, .. } => *money == MoneyState::InFlight,
        })
    }
}

fn describe_failure(
    step: Step,
    side: Side,
    err: &CardError,
    money: MoneyState,
    tid: Option<&Tid>,
    resumed: Option<&ResumeReport>,
) -> String {
    let what = match step {
        Step::Setup => format!("reading the {side} card"),
        Step::Verify => "checking the payer's secrets".to_string(),
        s => format!("step {} of 6 ({s:?}) on the {side} card", s.number()),
    };
    // The card's own explanation, without its generic money claim: where the money is depends
    // on the step, and is said below.
    let (reason, todo) = match err.advice() {
        Some(a) => (
            format!(
                "{} [{:04X}]",
                a.what.replace("; no money moved", ""),
                a.sw.code()
            ),
            a.todo,
        ),
        None => (err.to_string(), String::new()),
    };
    let mut m = format!("transfer failed at {what}: {reason}");
    if let Some(t) = tid {
        m.push_str(&format!(" (transfer {})", hex::encode_upper(t)));
    }
    match (money, resumed) {
        (_, Some(r)) if r.finished() => {
            m.push_str(&format!("\nrecovered while both cards were in: {}", r.summary()))
        }
        (_, Some(r)) => m.push_str(&format!(
            "\nrecovery attempted: {}\nrun `purse resume` with both cards to finish it",
            r.summary()
        )),
        (MoneyState::Untouched, None) => {
            m.push_str("\nno money moved");
            if !todo.is_empty() {
                m.push_str(&format!("; {todo}"));
            }
        }
        (MoneyState::InFlight, None) => m.push_str(
            "\nthe transfer may be half done: the value is held safely by the cards; put both cards in and run `purse resume` to finish it exactly once",
        ),
    }
    m
}

/// A completed transfer.
#[derive(Clone, Debug, Serialize)]
pub struct TransferReport {
    #[serde(serialize_with = "crate::proto::wire::ser_hex6")]
    pub tid: Tid,
    pub amount: u32,
    pub amount_str: String,
    pub payer_account: Account,
    pub payer_name: String,
    pub payer_balance: u32,
    pub payee_account: Account,
    pub payee_name: String,
    pub payee_balance: u32,
    /// Key number of AK0 (from P1's header).
    pub keynum: u8,
}

/// Options of [`execute`].
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// After a failure at steps 3-6, run the resume logic while both cards are in.
    pub auto_resume: bool,
    /// Abort before step 4 unless the payee's account (from P2, known only to the payer card;
    /// here checked against the payee's status) is this one.
    pub expect_payee: Option<Account>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            auto_resume: true,
            expect_payee: None,
        }
    }
}

/// Run the transfer of `plan` (the holders have confirmed). Verifies the needed secrets on the
/// payer, then relays the six steps of protocol.md 6.1.
pub fn execute<A: CardIo, B: CardIo>(
    payer: &mut PurseCard<A>,
    payee: &mut PurseCard<B>,
    plan: &Plan,
    secrets: &Secrets,
    opts: &RunOptions,
) -> Result<TransferReport, TransferError> {
    let untouched = |step, side, err| TransferError::Card {
        step,
        side,
        err,
        money: MoneyState::Untouched,
        tid: None,
        resumed: None,
    };
    if let Some(exp) = opts.expect_payee {
        if exp != plan.payee.account {
            return Err(TransferError::Precheck(vec![format!(
                "the payee card is account {}, not the expected {exp}",
                plan.payee.account
            )]));
        }
    }
    // Secrets (FIG. 3): only those the amount needs.
    let needed = [
        (plan.needs_pin, SecretRef::Pin, &secrets.pin),
        (plan.needs_txkey, SecretRef::TxKey, &secrets.txkey),
        (plan.needs_approval, SecretRef::Approval, &secrets.approval),
    ];
    for (need, r, s) in needed {
        if !need {
            continue;
        }
        // A missing secret is not sent: the card refuses with 9D13/9D14/9D15 at step 2.
        if let Some(s) = s {
            payer
                .verify(r, s)
                .map_err(|e| untouched(Step::Verify, Side::Payer, e))?;
        }
    }
    let (a, date) = (plan.amount, plan.date);
    // 1: the payee session armed by the SELECT that read its status (protocol.md 6.1)
    let hello = payee
        .payee_hello()
        .map_err(|e| untouched(Step::PayeeHello, Side::Payee, e))?;
    // 2
    let p1 = payer
        .xfer_payer_init(a, date, hello)
        .map_err(|e| untouched(Step::PayerInit, Side::Payer, e))?;
    let hdr = PacketHeader::parse(&p1).expect("P1 length checked");
    let tid = hdr.sid;
    // From here on a failure may leave persistent halves: recover while both cards are in.
    let fail = |payer: &mut PurseCard<A>,
                payee: &mut PurseCard<B>,
                step: Step,
                side: Side,
                err: CardError,
                money: MoneyState| {
        let resumed = if opts.auto_resume {
            let ro = ResumeOptions::default();
            Some(Box::new(resume::resume(payer, Some(payee), &ro)))
        } else {
            None
        };
        TransferError::Card {
            step,
            side,
            err,
            money,
            tid: Some(tid),
            resumed,
        }
    };
    // 3
    let p2p3 = match payee.xfer_payee_p1(a, date, &p1) {
        Ok(v) => v,
        Err(e @ CardError::Refused { .. }) => {
            // refused: the payee persisted nothing (protocol.md 4.1: errors change nothing)
            return Err(TransferError::Card {
                step: Step::PayeeP1,
                side: Side::Payee,
                err: e,
                money: MoneyState::Untouched,
                tid: Some(tid),
                resumed: None,
            });
        }
        Err(e) => {
            return Err(fail(
                payer,
                payee,
                Step::PayeeP1,
                Side::Payee,
                e,
                MoneyState::Untouched,
            ))
        }
    };
    // 4
    let p4 = match payer.xfer_payer_p2p3(&p2p3) {
        Ok(v) => v,
        Err(e @ CardError::Refused { .. }) => {
            // The payer refused: it did not debit. The payee expects T: abort it (value-neutral
            // NACK) right away, exactly as `purse resume` would.
            return Err(fail(
                payer,
                payee,
                Step::PayerP2P3,
                Side::Payer,
                e,
                MoneyState::Untouched,
            ));
        }
        Err(e) => {
            return Err(fail(
                payer,
                payee,
                Step::PayerP2P3,
                Side::Payer,
                e,
                MoneyState::InFlight,
            ))
        }
    };
    // 5
    let ack = payee.xfer_payee_p4(&p4).map_err(|e| {
        fail(
            payer,
            payee,
            Step::PayeeP4,
            Side::Payee,
            e,
            MoneyState::InFlight,
        )
    })?;
    // 6
    payer.xfer_payer_ack(&ack).map_err(|e| {
        fail(
            payer,
            payee,
            Step::PayerAck,
            Side::Payer,
            e,
            MoneyState::InFlight,
        )
    })?;
    Ok(TransferReport {
        tid,
        amount: a,
        amount_str: plan.amount_str(),
        payer_account: plan.payer.account,
        payer_name: plan.payer.name.clone(),
        payer_balance: plan.payer.balance.wrapping_sub(a),
        payee_account: plan.payee.account,
        payee_name: plan.payee.name.clone(),
        payee_balance: plan.payee.balance.wrapping_add(a),
        keynum: hdr.keynum,
    })
}

/// [`plan`], refuse on [`Plan::problems`] unless `precheck` is false, then [`execute`] —
/// for scripts and tests (the holders' confirmation is the caller's business).
pub fn transfer<A: CardIo, B: CardIo>(
    payer: &mut PurseCard<A>,
    payee: &mut PurseCard<B>,
    amount: u32,
    date: u16,
    secrets: &Secrets,
    precheck: bool,
    opts: &RunOptions,
) -> Result<TransferReport, TransferError> {
    let p = plan(payer, payee, amount, date)?;
    if precheck {
        let probs = p.problems();
        if !probs.is_empty() {
            return Err(TransferError::Precheck(probs));
        }
    }
    execute(payer, payee, &p, secrets, opts)
}
