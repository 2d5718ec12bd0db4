//! Issuance (protocol.md 5.4): an issuing card (center or admin) personalises a blank card, card
//! to card. The host relays RH, RC|CC, HC|I1 and I2; it holds the blank card's transport key
//! only to choose it (the operator typed it) and never opens I1 (which carries the system keys).
use serde::Serialize;

use crate::card::{CardError, PurseCard};
use crate::proto::consts::{self, Ins, Life, Role, SecretRef, Sw};
use crate::proto::types::{encode_secret, Account, Status};
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
        let mut r = vec![self.tk.len() as u8];
        r.extend_from_slice(&self.tk);
        r.push(self.role.code());
        r.push(self.flags);
        r.extend_from_slice(&self.name);
        r.extend_from_slice(&self.min_trans.to_be_bytes());
        r.extend_from_slice(&self.max_trans.to_be_bytes());
        r.extend_from_slice(&self.date.to_be_bytes());
        r.push(self.bad_key_limit);
        r.extend_from_slice(
            &encode_secret(&self.pin, (4, 8), false)
                .map_err(|e| invalid(format!("new PIN: {e}")))?,
        );
        r.extend_from_slice(
            &encode_secret(&self.txkey, (4, 16), true)
                .map_err(|e| invalid(format!("new transaction key: {e}")))?,
        );
        debug_assert_eq!(r.len(), 1 + self.tk.len() + consts::IR_TAIL_LEN as usize);
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

/// Issue a card. `issuer_pin` and (center only) `approval` are verified on the issuer first.
pub fn issue<A: CardIo, B: CardIo>(
    issuer: &mut PurseCard<A>,
    blank: &mut PurseCard<B>,
    issuer_pin: &[u8],
    approval: Option<&[u8]>,
    p: &IssueParams,
) -> Result<Issued, CardError> {
    let ist = issuer.get_status()?;
    if ist.life != Life::Active {
        return Err(invalid(
            "the issuing card is not personalised: run `purse genesis` first",
        ));
    }
    if !may_issue(ist.role, p.role) {
        return Err(invalid(format!(
            "a {} card cannot issue a {} card (center: admin, region, branch, user; admin: region, branch, user)",
            ist.role.name(),
            p.role.name()
        )));
    }
    let sel = blank.select()?;
    if sel.life != Life::Blank {
        return Err(CardError::Refused {
            ins: Ins::AuthInit,
            sw: Sw::Personalised,
        });
    }
    let tsuite = super::genesis::transport_suite(&p.tk)?;
    if sel.suite != tsuite {
        return Err(invalid(format!(
            "the blank card expects a {} transport key ({} bytes), got {} bytes",
            sel.suite.name(),
            sel.suite.key_len(),
            p.tk.len()
        )));
    }
    let req = p.request()?;
    issuer.verify(SecretRef::Pin, issuer_pin)?;
    if ist.role == Role::Center {
        match approval {
            Some(a) => issuer.verify(SecretRef::Approval, a)?,
            None => {
                return Err(CardError::Refused {
                    ins: Ins::IssueBegin,
                    sw: Sw::ApprovalRequired,
                })
            }
        }
    }
    let rh = issuer.issue_begin(&req)?;
    let (rc, cc) = blank.auth_init(&rh)?;
    let (hc, i1) = match issuer.issue_auth(&rc, &cc) {
        Ok(x) => x,
        Err(CardError::Refused {
            sw: Sw::BadPacket, ..
        }) => return Err(invalid(
            "the blank card does not know this transport key (the issuer refused its cryptogram; \
                 no account number was used, no try counted): check the transport key",
        )),
        Err(e) => return Err(e),
    };
    let i2 = blank.auth_finish(&hc, &i1).map_err(|e| {
        tracing::warn!(
            "issuance failed after the issuer allocated an account number: that number is skipped"
        );
        e
    })?;
    let account = issuer.issue_confirm(&i2)?;
    let card = blank.get_status()?;
    if card.account != account {
        return Err(CardError::BadResponse {
            ins: Ins::IssueConfirm,
            msg: format!("issuer says {account}, the new card says {}", card.account),
        });
    }
    let issuer_after = issuer.get_status()?;
    Ok(Issued {
        account,
        issuer: issuer_after,
        card,
    })
}
