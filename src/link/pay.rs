//! A payment and a resume across the link (FIG. 3 with the readers far apart).
//!
//! Order of a payment, and why: (1) each holder states type and amount on their own terminal;
//! (2) the statements cross the link and both sides check they agree — no card has been asked
//! anything that changes it (each side only SELECTed and read its own public status);
//! (3) the payer's side drives `flows::transfer` with the payee's card as a [`RemoteCard`];
//! the payee's side serves its card under [`Role::Payee`] (only the payee's commands, for the
//! agreed amount); (4) PIN and transaction key are typed and verified on the payer's own card,
//! never sent. A link that breaks leaves both cards as a desk transfer interrupted at the same
//! step: `purse resume` (over a new link, or at one desk) finishes it exactly once.
use std::time::Duration;

use crate::card::PurseCard;
use crate::flows::resume::{self, ResumeOptions, ResumeReport};
use crate::flows::transfer::{
    self as xfer, Plan, RunOptions, Secrets, TransferError, TransferReport,
};
use crate::transport::CardIo;

use super::msg::{Msg, Op, Statement};
use super::policy::{Policy, Role};
use super::remote::{serve_card, RemoteCard, Served};
use super::secure::Link;
use super::{LinkError, STATEMENT_TIMEOUT};

/// Why the two statements differ (None = they agree). `ours` is this side's.
pub fn disagreement(ours: &Statement, theirs: &Statement) -> Option<String> {
    let want_kind = match ours.kind.as_str() {
        "pay" => "receive",
        "receive" => "pay",
        _ => return Some(format!("unknown statement kind {:?}", ours.kind)),
    };
    if theirs.kind != want_kind {
        return Some(format!(
            "both holders said {:?}: one must pay and the other receive",
            theirs.kind
        ));
    }
    if theirs.currency != ours.currency {
        return Some(format!(
            "currencies differ ({} here, {} there)",
            ours.currency, theirs.currency
        ));
    }
    if theirs.amount != ours.amount {
        return Some(format!(
            "amounts differ ({} here, {} there, minor units)",
            ours.amount, theirs.amount
        ));
    }
    None
}

/// A payment over the link that did not complete.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Transfer(TransferError),
    /// This side's holder did not confirm after seeing the payee.
    #[error("{0}; no card was asked to move money")]
    NotConfirmed(String),
}

impl crate::error::Failure for PayError {
    fn kind(&self) -> crate::error::Kind {
        match self {
            PayError::Link(e) => e.kind(),
            PayError::Transfer(e) => e.kind(),
            PayError::NotConfirmed(_) => crate::error::Kind::Precheck,
        }
    }
    fn step(&self) -> Option<String> {
        match self {
            PayError::Transfer(e) => e.step(),
            _ => None,
        }
    }
    fn side(&self) -> Option<String> {
        match self {
            PayError::Transfer(e) => e.side(),
            _ => None,
        }
    }
    fn sw(&self) -> Option<u16> {
        match self {
            PayError::Transfer(e) => crate::error::Failure::sw(e),
            _ => None,
        }
    }
    fn money_moved(&self) -> Option<bool> {
        match self {
            PayError::Link(e) => e.money_moved(),
            PayError::Transfer(e) => e.money_moved(),
            PayError::NotConfirmed(_) => Some(false),
        }
    }
}

/// What the payer's holder decides once both cards' status is known: the secrets to verify on
/// the payer's card, or `None` to cancel.
pub type Decide<'a> = dyn FnMut(&Plan) -> Result<Option<Secrets>, String> + 'a;

/// Payer's side: state, agree, then run the transfer with the payee's card remote.
pub fn pay<T: CardIo>(
    link: &mut Link,
    payer: &mut PurseCard<T>,
    ours: &Statement,
    date: u16,
    decide: &mut Decide,
    opts: &RunOptions,
) -> Result<TransferReport, PayError> {
    link.send(&Msg::Hello {
        op: Op::Pay,
        statement: Some(ours.clone()),
        card: None,
    })?;
    let theirs = match link.recv_within(STATEMENT_TIMEOUT, "waiting for the payee's statement")? {
        Msg::Accept { statement: Some(s) } => s,
        Msg::Decline { reason } => {
            return Err(LinkError::Disagree(format!("the payee declined: {reason}")).into())
        }
        other => {
            return Err(LinkError::Unexpected {
                expected: "the payee's statement".into(),
                got: other.name().into(),
            }
            .into())
        }
    };
    if let Some(why) = disagreement(ours, &theirs) {
        let _ = link.send(&Msg::Decline {
            reason: why.clone(),
        });
        return Err(LinkError::Disagree(why).into());
    }
    let mut payee = PurseCard::new(RemoteCard::new(link));
    payee.reader = "the remote payee".into();
    let result = (|| {
        // SELECT (answered from the payee's cached answer) then both statuses, then the holder
        payee.select().map_err(|err| {
            PayError::Transfer(TransferError::Card {
                step: xfer::Step::Setup,
                side: xfer::Side::Payee,
                err,
                money: xfer::MoneyState::Untouched,
                tid: None,
                resumed: None,
            })
        })?;
        let plan = xfer::plan(payer, &mut payee, ours.amount, date).map_err(PayError::Transfer)?;
        let probs = plan.problems();
        if !probs.is_empty() {
            return Err(PayError::Transfer(TransferError::Precheck(probs)));
        }
        let secrets = match decide(&plan) {
            Ok(Some(s)) => s,
            Ok(None) => {
                return Err(PayError::NotConfirmed(
                    "the payer's holder did not confirm".into(),
                ))
            }
            Err(e) => return Err(PayError::NotConfirmed(e)),
        };
        xfer::execute(payer, &mut payee, &plan, &secrets, opts).map_err(PayError::Transfer)
    })();
    let remote = payee.into_inner();
    let broken = remote.broken.is_some();
    if !broken {
        let (ok, summary, report) = match &result {
            Ok(r) => (
                true,
                format!(
                    "received {} from {} ({}), transfer {}",
                    r.amount_str,
                    r.payer_name,
                    r.payer_account,
                    hex::encode_upper(r.tid)
                ),
                serde_json::to_value(r).unwrap_or_default(),
            ),
            Err(e) => (false, e.to_string(), serde_json::Value::Null),
        };
        let _ = link.send(&Msg::Done {
            ok,
            summary,
            report,
        });
    }
    result
}

/// Payee's side, first half: wait for the payer's statement and answer ours. `Ok` = the two
/// agree; nothing has been sent to a card yet.
pub fn agree_receive(link: &mut Link, ours: &Statement) -> Result<(), LinkError> {
    let theirs = match link.recv("waiting for the payer's statement")? {
        Msg::Hello {
            op: Op::Pay,
            statement: Some(s),
            ..
        } => s,
        Msg::Hello { op, .. } => {
            let reason = format!("this side waits for a payment, not a {op:?}");
            let _ = link.send(&Msg::Decline {
                reason: reason.clone(),
            });
            return Err(LinkError::Refused(reason));
        }
        other => {
            return Err(LinkError::Unexpected {
                expected: "the payer's hello".into(),
                got: other.name().into(),
            })
        }
    };
    if let Some(why) = disagreement(ours, &theirs) {
        let _ = link.send(&Msg::Decline {
            reason: why.clone(),
        });
        return Err(LinkError::Disagree(why));
    }
    link.send(&Msg::Accept {
        statement: Some(ours.clone()),
    })
}

/// Payee's side, second half: serve our card as a payee for exactly the agreed amount.
/// `wait`: how long to wait for each command (the payer's holder types a PIN in between).
pub fn serve_payee<T: CardIo>(
    link: &mut Link,
    payee: &mut PurseCard<T>,
    select_answer: &[u8],
    amount: u32,
    wait: Duration,
) -> Result<Served, LinkError> {
    let mut policy = Policy::new(Role::Payee { amount });
    serve_card(link, payee, select_answer, &mut policy, wait)
}

/// Both halves of the payee's side.
pub fn receive<T: CardIo>(
    link: &mut Link,
    payee: &mut PurseCard<T>,
    select_answer: &[u8],
    ours: &Statement,
    wait: Duration,
) -> Result<Served, LinkError> {
    agree_receive(link, ours)?;
    serve_payee(link, payee, select_answer, ours.amount, wait)
}

/// Driver of a resume over the link: ask the peer to serve its card for finishing transfers,
/// then run `flows::resume` on both (only the peer's resume commands are allowed).
pub fn resume_over<T: CardIo>(
    link: &mut Link,
    local: &mut PurseCard<T>,
    opts: &ResumeOptions,
) -> Result<ResumeReport, LinkError> {
    link.send(&Msg::Hello {
        op: Op::Resume,
        statement: None,
        card: None,
    })?;
    match link.recv_within(
        STATEMENT_TIMEOUT,
        "waiting for the peer to accept the resume",
    )? {
        Msg::Accept { .. } => {}
        Msg::Decline { reason } => {
            return Err(LinkError::Refused(format!("the peer declined: {reason}")))
        }
        other => {
            return Err(LinkError::Unexpected {
                expected: "accept".into(),
                got: other.name().into(),
            })
        }
    }
    let mut peer = PurseCard::new(RemoteCard::new(link));
    peer.reader = "the remote card".into();
    let sel = peer.select();
    let rep = match sel {
        Ok(_) => resume::resume(local, Some(&mut peer), opts),
        Err(e) => {
            let mut r = ResumeReport::default();
            r.unreadable
                .push(format!("the remote card could not be read: {e}"));
            r
        }
    };
    let remote = peer.into_inner();
    if remote.broken.is_none() {
        let _ = link.send(&Msg::Done {
            ok: rep.finished(),
            summary: rep.summary(),
            report: serde_json::to_value(&rep).unwrap_or_default(),
        });
    }
    Ok(rep)
}

/// The other side of [`resume_over`].
pub fn serve_resume<T: CardIo>(
    link: &mut Link,
    card: &mut PurseCard<T>,
    select_answer: &[u8],
    wait: Duration,
) -> Result<Served, LinkError> {
    match link.recv("waiting for the peer's hello")? {
        Msg::Hello { op: Op::Resume, .. } => {}
        Msg::Hello { op, .. } => {
            let reason = format!("this side waits to finish a transfer, not a {op:?}");
            let _ = link.send(&Msg::Decline {
                reason: reason.clone(),
            });
            return Err(LinkError::Refused(reason));
        }
        other => {
            return Err(LinkError::Unexpected {
                expected: "the peer's hello".into(),
                got: other.name().into(),
            })
        }
    }
    link.send(&Msg::Accept { statement: None })?;
    let mut policy = Policy::new(Role::Resume);
    serve_card(link, card, select_answer, &mut policy, wait)
}
