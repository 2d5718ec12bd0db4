//! Privacy (F15, protocol.md 12.9): a private user card sends a per-transfer signature (SIG,
//! first nibble F) instead of its account number, its passbook is never handed to the bank, and
//! it earns no interest. `set_privacy` switches a user card (PIN, empty passbook = right after a
//! sync); `account_label` shows a counterparty that is a SIG as "private".
use serde::Serialize;

use crate::card::{CardError, PurseCard};
use crate::proto::consts::{self, Ins, Life, Role, SecretRef, SlotState, Sw};
use crate::proto::types::{Account, Status};
use crate::transport::CardIo;

/// Is this identity a private card's signature (first nibble F, never a valid account)?
pub fn is_private_sig(a: &Account) -> bool {
    a.0[0] & 0xF0 == consts::SIG_NIBBLE
}

/// An identity for people: the account number, or `private XXXXXXXX` (the first 4 bytes of
/// the signature, which is a per-transfer pseudonym) — 16 characters either way.
pub fn account_label(a: &Account) -> String {
    if is_private_sig(a) {
        format!("private {}", hex::encode_upper(&a.0[..4]))
    } else {
        a.to_string()
    }
}

/// An identity for JSON: the account number, or "private" (the signature is in `signature`).
pub fn account_json(a: &Account) -> serde_json::Value {
    if is_private_sig(a) {
        serde_json::json!({"account": "private", "signature": hex::encode_upper(a.0)})
    } else {
        serde_json::json!({"account": a.to_string()})
    }
}

/// Is the card private (FLAGS bit1)?
pub fn is_private(st: &Status) -> bool {
    st.flags & consts::FLAG_PRIVATE != 0
}

/// What `set_privacy` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PrivacyChange {
    pub account: Account,
    pub was_private: bool,
    pub private: bool,
}

/// Switch a user card private (`on`) or public. Host checks first, with precise messages
/// (role user, nothing pending, empty passbook: "sync first"); then VERIFY PIN and SET_PRIVACY.
/// Asking for the mode the card already has still verifies the PIN and rewrites FLAGS.
pub fn set_privacy<T: CardIo>(
    card: &mut PurseCard<T>,
    pin: &[u8],
    on: bool,
) -> Result<PrivacyChange, CardError> {
    let st = card.get_status()?;
    if st.life != Life::Active {
        return Err(CardError::Invalid(format!(
            "the card is {}: privacy cannot change",
            st.life.name()
        )));
    }
    if st.role != Role::User {
        // a host check worded as the card would refuse; not a card's answer
        return Err(CardError::host_check(Ins::SetPrivacy, Sw::WrongRole));
    }
    let pd = card.get_pending()?;
    if pd.out.state != SlotState::None || pd.r#in.state != SlotState::None {
        return Err(CardError::Invalid(
            "the card has an unfinished transfer or sync: run `purse resume` first".into(),
        ));
    }
    if st.passbook_count > 0 {
        return Err(CardError::Invalid(format!(
            "the passbook holds {} entries: sync the card with its bank first (privacy changes only with an empty passbook, so nothing recorded in one mode is handed over in the other)",
            st.passbook_count
        )));
    }
    card.verify(SecretRef::Pin, pin)?;
    card.set_privacy(on)?;
    let after = card.get_status()?;
    Ok(PrivacyChange {
        account: st.account,
        was_private: is_private(&st),
        private: is_private(&after),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        let a = Account::parse("1000000000000016").unwrap();
        assert_eq!(account_label(&a), "1000000000000016");
        let s = Account([0xF3, 0xA1, 0x9C, 0x2E, 1, 2, 3, 4]);
        assert!(is_private_sig(&s) && !is_private_sig(&a));
        assert_eq!(account_label(&s), "private F3A19C2E");
        assert_eq!(account_label(&s).len(), 16);
        assert_eq!(account_json(&s)["account"], "private");
    }
}
