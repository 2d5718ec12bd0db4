//! The one seam between the card library and a card: [`CardIo`]. The PC/SC implementation is
//! crate purse-pcsc; the remote link and tests have their own.
use serde::Serialize;

use crate::error::Result;

/// The card-facing interface every flow is written against: send one command APDU, get the raw
/// response APDU (data + SW1 SW2).
pub trait CardIo {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>>;
}

impl<T: CardIo + ?Sized> CardIo for &mut T {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>> {
        (**self).transmit(apdu)
    }
}

impl<T: CardIo + ?Sized> CardIo for Box<T> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>> {
        (**self).transmit(apdu)
    }
}

/// One reader as PC/SC reports it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReaderInfo {
    pub index: usize,
    pub name: String,
    pub card_present: bool,
    /// Another application holds the card exclusively.
    pub exclusive: bool,
    #[serde(serialize_with = "ser_hex_opt")]
    pub atr: Option<Vec<u8>>,
}

fn ser_hex_opt<S: serde::Serializer>(
    v: &Option<Vec<u8>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.serialize_str(&hex::encode_upper(b)),
        None => s.serialize_none(),
    }
}

/// A set of readers cards can be opened in: PC/SC (crate purse-pcsc) or a test double.
pub trait Readers {
    type Io: CardIo;
    /// Every reader, with card presence and ATR.
    fn readers(&self) -> Result<Vec<ReaderInfo>>;
    /// A reader by index or name substring; none given: the one reader holding a card.
    fn select_reader(&self, sel: Option<&str>) -> Result<String>;
    /// Connect sharing the card with other programs.
    fn connect(&self, reader: &str) -> Result<Self::Io>;
    /// Connect holding the card exclusively for a whole flow.
    fn connect_exclusive(&self, reader: &str) -> Result<Self::Io>;
}
