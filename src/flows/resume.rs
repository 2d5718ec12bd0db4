//! `purse resume` (protocol.md 6.4): finish interrupted transfers between two cards exactly once.
//! Reads GET_PENDING (and GET_STATUS for the accounts) of both cards and acts on the TIDs:
//! deliver the payer's stored P4, forward the payee's stored ACK/NACK, abort a payee expectation
//! the payer never debited for, and only on `--give-up` move a payer's pending transfer to its
//! exception log. Every action is taken once per run, from one snapshot of both cards.
use serde::Serialize;

use crate::card::transfer::Tid;
use crate::card::{CardError, PurseCard};
use crate::proto::consts::{OutcomeKind, SecretRef, SlotState};
use crate::proto::types::{format_amount, Account, Pending, Status};
use crate::transport::CardIo;


/// Options of [`resume`].
#[derive(Clone, Default)]
pub struct ResumeOptions {
    /// A payer's pending transfer the other card does not know: move it to the payer's exception
    /// log (PENDING_TO_EXCEPTION, needs the payer's PIN).
    pub give_up: bool,
    /// A payee expectation from a third card's account: drop it anyway (value-safe: that payer
    /// later gets the NACK and refunds).
    pub abandon_expected: bool,
    /// The PIN of the payer card that gives up (for `give_up`).
    pub pin: Option<Vec<u8>>,
}

impl std::fmt::Debug for ResumeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResumeOptions")
            .field("give_up", &self.give_up)
            .field("abandon_expected", &self.abandon_expected)
            .finish()
    }
}

/// One thing resume did (or could not do).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Stored P4 delivered: the payee credited, the payer cleared.
    Completed { tid: String, amount: String, payer: String, payee: String },
    /// The payee had credited already; its stored ACK cleared the payer.
    AckForwarded { tid: String, amount: String, payer: String, payee: String },
    /// The payee had abandoned T; its stored NACK refunded the payer.
    Refunded { tid: String, amount: String, payer: String, payee: String },
    /// The payee expected T from a payer that never debited: expectation dropped (NACK stored).
    ExpectationAborted { tid: String, amount: String, payee: String, payer: String },
    /// `--abandon-expected`: an expectation from a third card dropped.
    ExpectationAbandoned { tid: String, amount: String, payee: String, from: String },
    /// `--give-up`: pending transfer moved to the payer's exception log.
    GaveUp { tid: String, amount: String, payer: String, to: String },
    /// Nothing could be done for this half; `advice` says what to do.
    Stuck { tid: String, card: String, advice: String },
    /// A card refused or was lost while resuming.
    Failed { tid: String, card: String, error: String },
    /// An interrupted sync (protocol.md 12.11) finished or cancelled: `what` says which.
    SyncFinished { tid: String, what: String },
}

impl Action {
    pub fn describe(&self) -> String {
        match self {
            Action::Completed { tid, amount, payer, payee } => {
                format!("transfer {tid}: {amount} from {payer} delivered to {payee} (credited once, payer cleared)")
            }
            Action::AckForwarded { tid, amount, payer, payee } => format!(
                "transfer {tid}: {payee} had already been credited {amount}; {payer} cleared with its acknowledgement"
            ),
            Action::Refunded { tid, amount, payer, payee } => format!(
                "transfer {tid}: {payee} never credited it; {payer} refunded {amount}"
            ),
            Action::ExpectationAborted { tid, amount, payee, payer } => format!(
                "transfer {tid}: {payer} never paid it; {payee} no longer expects {amount}"
            ),
            Action::ExpectationAbandoned { tid, amount, payee, from } => format!(
                "transfer {tid}: {payee} abandoned the {amount} expected from account {from} (that payer will be refunded at its next resume)"
            ),
            Action::GaveUp { tid, amount, payer, to } => format!(
                "transfer {tid}: {payer} gave up the {amount} sent to account {to}; recorded in its exception log for the bank"
            ),
            Action::Stuck { tid, card, advice } => format!("transfer {tid} on {card}: {advice}"),
            Action::Failed { tid, card, error } => format!("transfer {tid} on {card}: {error}"),
            Action::SyncFinished { tid, what } => format!("sync {tid}: {what}"),
        }
    }
    fn is_problem(&self) -> bool {
        matches!(self, Action::Stuck { .. } | Action::Failed { .. })
    }
}

/// What [`resume`] did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ResumeReport {
    pub actions: Vec<Action>,
    /// A card could not even be read (e.g. pulled): nothing was done with it.
    pub unreadable: Vec<String>,
}

impl ResumeReport {
    /// Nothing left unfinished between these cards.
    pub fn finished(&self) -> bool {
        self.unreadable.is_empty() && !self.actions.iter().any(Action::is_problem)
    }
    pub fn summary(&self) -> String {
        let mut v: Vec<String> = self.actions.iter().map(Action::describe).collect();
        v.extend(self.unreadable.iter().cloned());
        if v.is_empty() {
            "nothing to finish".into()
        } else {
            v.join("; ")
        }
    }
}

struct View {
    label: String,
    status: Status,
    pending: Pending,
}

fn read_view<T: CardIo>(card: &mut PurseCard<T>, fallback: &str) -> Result<View, CardError> {
    let status = card.get_status()?;
    let pending = card.get_pending()?;
    let label = if status.name.is_empty() {
        format!("{fallback} ({})", status.account)
    } else {
        format!("{} ({})", status.name, status.account)
    };
    Ok(View {
        label,
        status,
        pending,
    })
}

fn hex6(t: &Tid) -> String {
    hex::encode_upper(t)
}

fn amt(v: &View, a: u32) -> String {
    format!(
        "{} {}",
        format_amount(a, v.status.currency.decimals),
        v.status.currency.code()
    )
}

/// Resume everything unfinished between `a` and `b` (`b` may be absent: then only `--give-up`
/// can act on `a`'s pending transfer). Never fails as a whole: each problem is an [`Action`].
pub fn resume<A: CardIo, B: CardIo>(
    a: &mut PurseCard<A>,
    b: Option<&mut PurseCard<B>>,
    opts: &ResumeOptions,
) -> ResumeReport {
    let mut rep = ResumeReport::default();
    let va = match read_view(a, "card A") {
        Ok(v) => v,
        Err(e) => {
            rep.unreadable.push(format!("card A could not be read: {e}"));
            return rep;
        }
    };
    match b {
        None => {
            payer_half(a, &va, None::<(&mut PurseCard<B>, &View)>, opts, &mut rep);
        }
        Some(b) => {
            let vb = match read_view(b, "card B") {
                Ok(v) => v,
                Err(e) => {
                    rep.unreadable.push(format!("card B could not be read: {e}"));
                    return rep;
                }
            };
            // sync rows (protocol.md 12.11): flows::sync
            rep.actions.extend(super::sync::resume_rows(
                a, &va.status, &va.pending, b, &vb.status, &vb.pending,
            ));
            payer_half(a, &va, Some((&mut *b, &vb)), opts, &mut rep);
            payer_half(b, &vb, Some((&mut *a, &va)), opts, &mut rep);
            payee_half(b, &vb, &va, opts, &mut rep);
            payee_half(a, &va, &vb, opts, &mut rep);
        }
    }
    rep
}

/// `x` as payer: its OUT slot against `y` (the other card, if present).
fn payer_half<X: CardIo, Y: CardIo>(
    x: &mut PurseCard<X>,
    vx: &View,
    y: Option<(&mut PurseCard<Y>, &View)>,
    opts: &ResumeOptions,
    rep: &mut ResumeReport,
) {
    let out = &vx.pending.out;
    match out.state {
        SlotState::None => return,
        SlotState::Transfer => {}
        SlotState::Sync => return, // sync rows: flows::sync::resume_rows
        other => {
            rep.actions.push(Action::Stuck {
                tid: hex6(&out.tid),
                card: vx.label.clone(),
                advice: format!(
                    "an unfinished operation of another kind ({other:?}) is pending; finish it with its bank card"
                ),
            });
            return;
        }
    }
    let t = out.tid;
    let tid = hex6(&t);
    let amount = amt(vx, out.amount);
    let failed = |card: &str, e: CardError| Action::Failed {
        tid: hex6(&t),
        card: card.to_string(),
        error: format!("{e}; no further action taken, run `purse resume` again"),
    };
    if let Some((y, vy)) = y {
        let yin = &vy.pending.r#in;
        if yin.state == SlotState::Transfer && yin.tid == t {
            // Payer PENDING(T), payee EXPECTING(T): deliver the stored P4.
            let p4 = match x.resume_get_p4(&t) {
                Ok(p) => p,
                Err(e) => return rep.actions.push(failed(&vx.label, e)),
            };
            let ack = match y.xfer_payee_p4(&p4) {
                Ok(a) => a,
                Err(e) => return rep.actions.push(failed(&vy.label, e)),
            };
            if let Err(e) = x.xfer_payer_ack(&ack) {
                return rep.actions.push(failed(&vx.label, e));
            }
            rep.actions.push(Action::Completed {
                tid,
                amount,
                payer: vx.label.clone(),
                payee: vy.label.clone(),
            });
            return;
        }
        if let Some(kind) = vy
            .pending
            .outcomes
            .iter()
            .find(|o| o.tid == t)
            .map(|o| o.kind)
        {
            let pkt = match y.resume_get_outcome(&t) {
                Ok(p) => p,
                Err(e) => return rep.actions.push(failed(&vy.label, e)),
            };
            if let Err(e) = x.xfer_payer_ack(&pkt) {
                return rep.actions.push(failed(&vx.label, e));
            }
            let (payer, payee) = (vx.label.clone(), vy.label.clone());
            rep.actions.push(match kind {
                OutcomeKind::Nack => Action::Refunded { tid, amount, payer, payee },
                _ => Action::AckForwarded { tid, amount, payer, payee },
            });
            return;
        }
    }
    // T unknown to the other card (or no other card).
    if !opts.give_up {
        rep.actions.push(Action::Stuck {
            tid,
            card: vx.label.clone(),
            advice: format!(
                "{amount} sent to account {} ({}) is unfinished and the other card does not know it; put that card in and run `purse resume`, or if it is lost, `purse resume --give-up` (needs the PIN) to record it for the bank",
                out.account, out.name
            ),
        });
        return;
    }
    if let Some(pin) = &opts.pin {
        if let Err(e) = x.verify(SecretRef::Pin, pin) {
            return rep.actions.push(failed(&vx.label, e));
        }
    }
    match x.pending_to_exception(&t) {
        Ok(()) => rep.actions.push(Action::GaveUp {
            tid,
            amount,
            payer: vx.label.clone(),
            to: out.account.to_string(),
        }),
        Err(e) => rep.actions.push(failed(&vx.label, e)),
    }
}

/// `y` as payee: its IN slot, against the other card `vx` (already handled as payer).
fn payee_half<Y: CardIo>(
    y: &mut PurseCard<Y>,
    vy: &View,
    vx: &View,
    opts: &ResumeOptions,
    rep: &mut ResumeReport,
) {
    let yin = &vy.pending.r#in;
    if yin.state != SlotState::Transfer {
        return;
    }
    let t = yin.tid;
    let xout = &vx.pending.out;
    if xout.state == SlotState::Transfer && xout.tid == t {
        return; // handled by payer_half (P4 delivered or failure reported)
    }
    let from: Account = yin.account;
    let amount = amt(vy, yin.amount);
    if from == vx.status.account || opts.abandon_expected {
        match y.xfer_abort_expected(&t) {
            Ok(_nack) => rep.actions.push(if from == vx.status.account {
                Action::ExpectationAborted {
                    tid: hex6(&t),
                    amount,
                    payee: vy.label.clone(),
                    payer: vx.label.clone(),
                }
            } else {
                Action::ExpectationAbandoned {
                    tid: hex6(&t),
                    amount,
                    payee: vy.label.clone(),
                    from: from.to_string(),
                }
            }),
            Err(e) => rep.actions.push(Action::Failed {
                tid: hex6(&t),
                card: vy.label.clone(),
                error: format!("{e}; run `purse resume` again"),
            }),
        }
        return;
    }
    rep.actions.push(Action::Stuck {
        tid: hex6(&t),
        card: vy.label.clone(),
        advice: format!(
            "expects {amount} from account {from} ({}), not from the other card; put that payer card in and run `purse resume`, or `--abandon-expected` (value-safe: that payer is refunded later)",
            yin.name
        ),
    });
}
