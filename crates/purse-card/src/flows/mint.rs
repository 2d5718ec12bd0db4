//! Minting (protocol.md 5.5): VERIFY creation secret, then MINT on the center.
use crate::card::{CardError, PurseCard};
use crate::proto::consts::{Ins, Role, SecretRef, Sw};
use crate::proto::types::Status;
use crate::transport::CardIo;

/// Mint `amount` minor units on the center card; returns (balance before, balance after).
pub fn mint<T: CardIo>(
    center: &mut PurseCard<T>,
    creation: &[u8],
    amount: u32,
    date: u16,
) -> Result<(Status, u32), CardError> {
    let st = center.get_status()?;
    // host checks, worded as the card would refuse; not a card's answer (no status word)
    if st.role != Role::Center {
        return Err(CardError::host_check(Ins::Mint, Sw::WrongRole));
    }
    if amount == 0 {
        return Err(CardError::Invalid(
            "the amount must be at least one minor unit".into(),
        ));
    }
    if st.balance.checked_add(amount).is_none() {
        return Err(CardError::host_check(Ins::Mint, Sw::Overflow));
    }
    center.verify(SecretRef::Creation, creation)?;
    let after = center.mint(amount, date)?;
    Ok((st, after))
}
