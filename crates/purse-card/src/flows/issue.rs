//! Issuance (protocol.md 5.4): an issuing card (center or admin) personalises a blank card, card
//! to card. The host relays RH, RC|CC, HC|I1 and I2; it holds the blank card's transport key
//! only to choose it (the operator typed it) and never opens I1 (which carries the system keys).
use serde::Serialize;

use crate::card::{CardError, PurseCard};
use crate::proto::consts::{self, Ins, Life, Role, SecretRef, Sw};
use crate::proto::types::{encode_secret, Account, Status};
use crate::proto::wire::Layout;
use crate::transport::CardIo;

/// What the operator asks for (ISSUE_REQ, protocol.md 5.4).
#[derive(Clone, Debug)]
pub struct IssueParams {
    /// The blank card's transport key (16 or 24 bytes).
    pub tk: Vec<u8>,
    pub role: Role,
    pub flags: u8,
    pub name: [u8; 8],
    pub min_trans: u32,
    pub max_trans: u32,
    pub date: u16,
    pub bad_key_limit: u8,
    /// The new card's PIN and transaction key (empty: none).
    pub pin: Vec<u8>,
    pub txkey: Vec<u8>,
}

/// Outcome of an issuance.
#[derive(Clone, Debug, Serialize)]
pub struct Issued {
    pub account: Account,
    pub issuer: Status,
    pub card: Status,
}

fn invalid(s: impl Into<String>) -> CardError {
    CardError::Invalid(s.into())
}

impl IssueParams {
    /// ISSUE_REQ: TKLEN | TK | ROLE | FLAGS | NAME | MIN | MAX | DATE | BAD_KEY_LIMIT | PIN | TXKEY.
    pub fn request(&self) -> Result<Vec<u8>, CardError> {
        super::genesis::transport_suite(&self.tk)?;
        if self.bad_key_limit == 0 {
            return Err(invalid("bad-key limit must be 1..255"));
        }
        if self.min_trans > self.max_trans {
            return Err(invalid("--min must not exceed --max"));
        }
        let pin = encode_secret(&self.pin, SecretRef::Pin.len_range(), false)
            .map_err(|e| invalid(format!("new PIN: {e}")))?;
        let txkey = encode_secret(&self.txkey, SecretRef::TxKey.len_range(), true)
            .map_err(|e| invalid(format!("new transaction key: {e}")))?;
        // TKLEN | TK, then the IR_* fields
        let mut tail = Layout::new(consts::IR_TAIL_LEN);
        tail.u8(consts::IR_ROLE, self.role.code())
            .u8(consts::IR_FLAGS, self.flags)
            .put(consts::IR_NAME, &self.name)
            .u32(consts::IR_MIN_TRANS, self.min_trans)
            .u32(consts::IR_MAX_TRANS, self.max_trans)
            .u16(consts::IR_DATE, self.date)
            .u8(consts::IR_BAD_KEY_LIMIT, self.bad_key_limit)
            .put(consts::IR_PIN, &pin)
            .put(consts::IR_TXKEY, &txkey);
        let mut r = vec![self.tk.len() as u8];
        r.extend_from_slice(&self.tk);
        r.extend_from_slice(&tail.into_vec());
        Ok(r)
    }
}

/// Which roles may `issuer` issue (protocol.md 5.4)?
pub fn may_issue(issuer: Role, role: Role) -> bool {
    match issuer {
        Role::Center => matches!(role, Role::Admin | Role::Region | Role::Branch | Role::User),
        Role::Admin => matches!(role, Role::Region | Role::Branch | Role::User),
        _ => false,
    }
}

/// How far an issuance got before it failed (which card was being talked to, and whether the
/// issuer had already allocated the account number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueStep {
    /// Checks on both cards, the issuer's PIN and approval: nothing changed anywhere.
    Checks,
    /// ISSUE_BEGIN on the issuer (request stored in transient memory only).
    Begin,
    /// AUTH_INIT on the blank card (transport channel opened, nothing written), or the issuer
    /// refused the blank card's cryptogram (the card does not know this transport key).
    BlankOpen,
    /// ISSUE_AUTH on the issuer: it allocates the account number here.
    Allocate,
    /// AUTH_FINISH on the blank card: it personalises in one transaction, so a card that lost
    /// power here is either still blank (rolled back) or fully personalised.
    Personalise,
    /// ISSUE_CONFIRM and the final status reads: the new card is personalised.
    Confirm,
}

/// An issuance that failed at `step`.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct IssueFailure {
    pub step: IssueStep,
    #[source]
    pub error: CardError,
}

impl IssueFailure {
    /// The issuer had allocated an account number, which is now skipped for good (protocol.md
    /// 1.1: a failed issuance only skips a number).
    pub fn account_skipped(&self) -> bool {
        self.step >= IssueStep::Personalise
    }
    /// The failing command went to the new card (not the issuer).
    pub fn on_blank(&self) -> bool {
        matches!(self.step, IssueStep::BlankOpen | IssueStep::Personalise)
    }
}

/// Issue a card. `issuer_pin` and (center only) `approval` are verified on the issuer first.
pub fn issue<A: CardIo, B: CardIo>(
    issuer: &mut PurseCard<A>,
    blank: &mut PurseCard<B>,
    issuer_pin: &[u8],
    approval: Option<&[u8]>,
    p: &IssueParams,
) -> Result<Issued, CardError> {
    issue_steps(issuer, blank, issuer_pin, approval, p).map_err(|f| f.error)
}

/// [`issue`], saying on failure how far it got ([`IssueStep`]): a batch retries a row whose
/// blank card was pulled and tells the operator what became of that card.
pub fn issue_steps<A: CardIo, B: CardIo>(
    issuer: &mut PurseCard<A>,
    blank: &mut PurseCard<B>,
    issuer_pin: &[u8],
    approval: Option<&[u8]>,
    p: &IssueParams,
) -> Result<Issued, IssueFailure> {
    let at = |step: IssueStep| move |error: CardError| IssueFailure { step, error };
    let ist = issuer.get_status().map_err(at(IssueStep::Checks))?;
    let fail = |e: CardError| IssueFailure {
        step: IssueStep::Checks,
        error: e,
    };
    if ist.life != Life::Active {
        return Err(fail(invalid(
            "the issuing card is not personalised: run `purse genesis` first",
        )));
    }
    if !may_issue(ist.role, p.role) {
        return Err(fail(invalid(format!(
            "a {} card cannot issue a {} card (center: admin, region, branch, user; admin: region, branch, user)",
            ist.role.name(),
            p.role.name()
        ))));
    }
    // the open's SELECT unless a command followed it (AUTH_INIT needs a session no command touched)
    let sel = blank.selected_or_select().map_err(at(IssueStep::Checks))?;
    if sel.life != Life::Blank {
        return Err(fail(CardError::host_check(Ins::AuthInit, Sw::Personalised)));
    }
    let tsuite = super::genesis::transport_suite(&p.tk).map_err(at(IssueStep::Checks))?;
    if sel.suite != tsuite {
        return Err(fail(invalid(format!(
            "the blank card expects a {} transport key ({} bytes), got {} bytes",
            sel.suite.name(),
            sel.suite.key_len(),
            p.tk.len()
        ))));
    }
    let req = p.request().map_err(at(IssueStep::Checks))?;
    issuer
        .verify(SecretRef::Pin, issuer_pin)
        .map_err(at(IssueStep::Checks))?;
    if ist.role == Role::Center {
        match approval {
            Some(a) => issuer
                .verify(SecretRef::Approval, a)
                .map_err(at(IssueStep::Checks))?,
            None => {
                return Err(fail(CardError::host_check(
                    Ins::IssueBegin,
                    Sw::ApprovalRequired,
                )))
            }
        }
    }
    let rh = issuer.issue_begin(&req).map_err(at(IssueStep::Begin))?;
    let (rc, cc) = blank.auth_init(&rh).map_err(at(IssueStep::BlankOpen))?;
    let (hc, i1) = match issuer.issue_auth(&rc, &cc) {
        Ok(x) => x,
        Err(CardError::Refused {
            sw: Sw::BadPacket, ..
        }) => return Err(IssueFailure { step: IssueStep::BlankOpen, error: invalid(
            "the blank card does not know this transport key (the issuer refused its cryptogram; \
                 no account number was used, no try counted): check the transport key",
        )}),
        Err(e) => return Err(at(IssueStep::Allocate)(e)),
    };
    let i2 = blank.auth_finish(&hc, &i1).map_err(|e| {
        tracing::warn!(
            "issuance failed after the issuer allocated an account number: that number is skipped"
        );
        at(IssueStep::Personalise)(e)
    })?;
    let account = issuer.issue_confirm(&i2).map_err(at(IssueStep::Confirm))?;
    let card = blank.get_status().map_err(at(IssueStep::Confirm))?;
    if card.account != account {
        return Err(at(IssueStep::Confirm)(CardError::BadResponse {
            ins: Ins::IssueConfirm,
            msg: format!("issuer says {account}, the new card says {}", card.account),
        }));
    }
    let issuer_after = issuer.get_status().map_err(at(IssueStep::Confirm))?;
    Ok(Issued {
        account,
        issuer: issuer_after,
        card,
    })
}
