//! `purse resume` (protocol.md 6.4): finish interrupted transfers between two cards exactly once.
//! Reads GET_PENDING (and GET_STATUS for the accounts) of both cards and acts on the TIDs:
//! deliver the payer's stored P4, forward the payee's stored ACK/NACK, abort a payee expectation
//! the payer never debited for, and only on `--give-up` move a payer's pending transfer to its
//! exception log. Every action is taken once per run, from one snapshot of both cards.
use serde::Serialize;

use super::store::{PassbookStore, StoreError};
use crate::card::transfer::Tid;
use crate::card::{CardError, PurseCard};
use crate::proto::consts::{self, OutcomeKind, Role, SecretRef, SlotState};
use crate::proto::types::account_text;
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
    Completed {
        tid: String,
        amount: String,
        payer: String,
        payee: String,
    },
    /// The payee had credited already; its stored ACK cleared the payer.
    AckForwarded {
        tid: String,
        amount: String,
        payer: String,
        payee: String,
    },
    /// The payee had abandoned T; its stored NACK refunded the payer.
    Refunded {
        tid: String,
        amount: String,
        payer: String,
        payee: String,
    },
    /// The payee expected T from a payer that never debited: expectation dropped (NACK stored).
    ExpectationAborted {
        tid: String,
        amount: String,
        payee: String,
        payer: String,
    },
    /// `--abandon-expected`: an expectation from a third card dropped.
    ExpectationAbandoned {
        tid: String,
        amount: String,
        payee: String,
        from: String,
    },
    /// `--give-up`: pending transfer moved to the payer's exception log.
    GaveUp {
        tid: String,
        amount: String,
        payer: String,
        to: String,
    },
    /// Nothing could be done for this half; `advice` says what to do.
    Stuck {
        tid: String,
        card: String,
        advice: String,
    },
    /// A card refused or was lost while resuming.
    Failed {
        tid: String,
        card: String,
        error: String,
    },
    /// An interrupted sync (protocol.md 12.11) finished or cancelled: `what` says which.
    SyncFinished { tid: String, what: String },
    /// The card had cleared its passbook in a sync the ledger was not told about (the host
    /// died first): the ledger's passbook epoch of that card was closed, as a completed sync
    /// does (`Ledger::confirm_cleared`).
    LedgerEpochClosed { card: String, sync_id: i64 },
    /// The ledger could not be read or written.
    LedgerFailed { card: String, error: String },
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
            Action::LedgerEpochClosed { card, sync_id } => format!(
                "ledger: {card} had cleared its passbook in sync #{sync_id}; its next passbook is recorded as a new one"
            ),
            Action::LedgerFailed { card, error } => format!(
                "ledger: could not record that {card} cleared its passbook ({error}); run `purse resume` again"
            ),
        }
    }
    fn is_problem(&self) -> bool {
        matches!(
            self,
            Action::Stuck { .. } | Action::Failed { .. } | Action::LedgerFailed { .. }
        )
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
    /// TIDs in the exception log (read only for a private card: see `payee_half`).
    exception_tids: Vec<Tid>,
}

impl View {
    fn private(&self) -> bool {
        self.status.flags & consts::FLAG_PRIVATE != 0
    }
}

fn read_view<T: CardIo>(card: &mut PurseCard<T>, fallback: &str) -> Result<View, CardError> {
    let status = card.get_status()?;
    let pending = card.get_pending()?;
    let exception_tids = if status.flags & consts::FLAG_PRIVATE != 0 && pending.exception_count > 0
    {
        card.read_exceptions()?.iter().map(|e| e.tid).collect()
    } else {
        Vec::new()
    };
    let label = if status.name.is_empty() {
        format!("{fallback} ({})", status.account)
    } else {
        format!("{} ({})", status.name, status.account)
    };
    Ok(View {
        label,
        status,
        pending,
        exception_tids,
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
    resume_with_ledger(a, b, opts, None)
}

/// [`resume`], and with the bank's ledger: a sync between the two cards that cleared the
/// card's passbook (finished now, or before the host died) closes the ledger's passbook epoch
/// of that card exactly as a completed sync does (docs/ledger.md, "A host crash after the
/// clear").
pub fn resume_with_ledger<A: CardIo, B: CardIo>(
    a: &mut PurseCard<A>,
    b: Option<&mut PurseCard<B>>,
    opts: &ResumeOptions,
    ledger: Option<&mut dyn PassbookStore>,
) -> ResumeReport {
    let mut rep = ResumeReport::default();
    let va = match read_view(a, "card A") {
        Ok(v) => v,
        Err(e) => {
            rep.unreadable
                .push(format!("card A could not be read: {e}"));
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
                    rep.unreadable
                        .push(format!("card B could not be read: {e}"));
                    return rep;
                }
            };
            // sync rows (protocol.md 12.11): flows::sync
            rep.actions.extend(super::sync::resume_rows(
                a,
                &va.status,
                &va.pending,
                b,
                &vb.status,
                &vb.pending,
            ));
            payer_half(a, &va, Some((&mut *b, &vb)), opts, &mut rep);
            payer_half(b, &vb, Some((&mut *a, &va)), opts, &mut rep);
            payee_half(b, &vb, &va, opts, &mut rep);
            payee_half(a, &va, &vb, opts, &mut rep);
            if let Some(l) = ledger {
                ledger_half(l, a, &va, b, &vb, &mut rep);
                ledger_half(l, b, &vb, a, &va, &mut rep);
            }
        }
    }
    rep
}

/// What a card shows now, against the ledger's open collection of it (see
/// [`close_cleared_epoch`]).
#[derive(Clone, Copy, Debug)]
pub struct PassbookNow<'a> {
    pub passbook_count: u8,
    pub exception_count: u8,
    /// Passbook capacity (GET_STATUS; 50).
    pub capacity: u8,
    /// Interest a sync of the open collection credited, when the caller just finished that
    /// sync (it appended one INTEREST_IN entry if > 0); None when unknown.
    pub interest_credited: Option<u32>,
    /// The card's passbook entry at index 0 as read now (only for cards whose passbook is not
    /// a ring, i.e. not bank cards: a ring's oldest entry changes without a clear).
    pub first_entry: Option<&'a [u8]>,
}

/// Close `card`'s passbook epoch in the ledger when the card shows it cleared its passbook
/// since the ledger's open collection (the host died between the card's clear and
/// `confirm_cleared`). A passbook and an exception log only grow (or, for bank rings, stay at
/// capacity) until a clear, and DEBITs are rewritten only in place, so each test below proves a
/// clear: fewer entries than collected (plus the interest entry of the sync just finished),
/// fewer exceptions, or a different oldest entry. `bank`: only a collection by that bank card.
/// Returns the sync id closed.
pub fn close_cleared_epoch(
    ledger: &mut dyn PassbookStore,
    card: &crate::proto::types::Account,
    bank: Option<&crate::proto::types::Account>,
    now: &PassbookNow<'_>,
) -> Result<Option<i64>, StoreError> {
    let Some(oc) = ledger.open_collection_of(card)? else {
        return Ok(None);
    };
    if bank.is_some_and(|b| account_text(b) != oc.bank_account) {
        return Ok(None);
    }
    let (n, x) = (oc.entries_collected, oc.exceptions_collected);
    let interest_entry = usize::from(now.interest_credited.is_some_and(|i| i > 0));
    let count = now.passbook_count as usize;
    let cleared = if n + x == 0 {
        // nothing was stored in this epoch: close it as a completed sync does (harmless)
        now.interest_credited.is_some() && count <= interest_entry && now.exception_count == 0
    } else {
        (now.exception_count as usize) < x
            || count < (n + interest_entry).min(now.capacity.max(1) as usize)
            || (n > 0 && now.first_entry.is_some_and(|e| !oc.same_first_entry(e)))
    };
    if !cleared {
        return Ok(None);
    }
    ledger.mark_cleared(oc.sync_id)?;
    Ok(Some(oc.sync_id))
}

/// `c` as the synced card of bank card `b`: close its ledger epoch if it cleared.
fn ledger_half<C: CardIo, B: CardIo>(
    l: &mut dyn PassbookStore,
    c: &mut PurseCard<C>,
    vc: &View,
    b: &mut PurseCard<B>,
    vb: &View,
    rep: &mut ResumeReport,
) {
    if !matches!(vb.status.role, Role::Center | Role::Region | Role::Branch) {
        return;
    }
    let fail = |e: String| Action::LedgerFailed {
        card: vc.label.clone(),
        error: e,
    };
    // the statuses after the actions above
    let (cs, bp) = match (c.get_status(), b.get_pending()) {
        (Ok(s), Ok(p)) => (s, p),
        (Err(e), _) | (_, Err(e)) => return rep.actions.push(fail(e.to_string())),
    };
    // a sync of b with c that was unfinished at the start and is finished now: its interest
    let out = &vb.pending.out;
    let finished_now = out.state == SlotState::Sync
        && out.account == vc.status.account
        && (vc.pending.r#in.state == SlotState::Sync && vc.pending.r#in.tid == out.tid
            || vc
                .pending
                .outcomes
                .iter()
                .any(|o| o.tid == out.tid && o.kind == OutcomeKind::Ack))
        && !(bp.out.state == SlotState::Sync && bp.out.tid == out.tid);
    let now = PassbookNow {
        passbook_count: cs.passbook_count,
        exception_count: cs.exception_count,
        capacity: cs.passbook_capacity,
        interest_credited: finished_now.then_some(out.amount),
        first_entry: None,
    };
    match close_cleared_epoch(l, &cs.account, Some(&vb.status.account), &now) {
        Ok(Some(sync_id)) => rep.actions.push(Action::LedgerEpochClosed {
            card: vc.label.clone(),
            sync_id,
        }),
        Ok(None) => {}
        Err(e) => rep.actions.push(fail(e.to_string())),
    }
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
                OutcomeKind::Nack => Action::Refunded {
                    tid,
                    amount,
                    payer,
                    payee,
                },
                _ => Action::AckForwarded {
                    tid,
                    amount,
                    payer,
                    payee,
                },
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
    // A private payer sends a per-transfer signature instead of its account (protocol.md 12.9),
    // so the payee's expectation cannot be matched by account. It is matched by what the other
    // card holds instead: a private card whose OUT slot is not PENDING(T) (checked above) never
    // holds a debit for T that it could still deliver, so dropping the expectation (4C 01, a
    // NACK stored on the payee) is value-safe whoever the payer is; if T is in its exception log
    // (it gave up T), the NACK is what makes the bank's refund of that exception safe.
    let private_payer = vx.private() && !from.is_valid();
    let gave_up = private_payer && vx.exception_tids.contains(&t);
    if from == vx.status.account || private_payer || opts.abandon_expected {
        match y.xfer_abort_expected(&t) {
            Ok(_nack) => rep
                .actions
                .push(if from == vx.status.account || private_payer {
                    Action::ExpectationAborted {
                        tid: hex6(&t),
                        amount,
                        payee: vy.label.clone(),
                        payer: if gave_up {
                            format!(
                                "{} (it gave this transfer up to its exception log)",
                                vx.label
                            )
                        } else {
                            vx.label.clone()
                        },
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
