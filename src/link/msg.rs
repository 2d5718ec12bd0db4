//! Messages inside the encrypted frames: one JSON object per frame, tagged by `"m"`. JSON
//! because it is what the rest of purse speaks (`--json`), it is self-describing for a wrong
//! or garbled message, and serde's parser is robust against any bytes (fuzzed in
//! fuzz/fuzz_targets/link_frame.rs and tests/link_frames.rs).
use serde::{Deserialize, Serialize};

use super::{LinkError, Result};

/// What the connecting side wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// A payment: the connecting side pays, the listening side receives.
    Pay,
    /// Finish interrupted transfers between the two cards (protocol.md 6.4).
    Resume,
    /// Sync the connecting side's card with one of the service's bank cards.
    Sync,
}

/// A holder's statement (FIG. 3 blocks 305-308): type and amount, typed on their own terminal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// "pay" (payer's holder) or "receive" (payee's holder).
    pub kind: String,
    /// Minor units of `currency`.
    pub amount: u32,
    pub currency: String,
}

/// The connecting side's card, as it introduces itself (the service picks a bank card for it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardHello {
    /// Role code (protocol.md 1).
    pub role: u8,
    pub account: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "m", rename_all = "snake_case")]
pub enum Msg {
    /// First message of the connecting side.
    Hello {
        op: Op,
        #[serde(default)]
        statement: Option<Statement>,
        #[serde(default)]
        card: Option<CardHello>,
    },
    /// The listening side's statement (for [`Op::Pay`]), or its acceptance of the operation.
    Accept {
        #[serde(default)]
        statement: Option<Statement>,
    },
    /// The statements differ or the operation is refused; nothing was sent to a card.
    Decline { reason: String },
    /// The service has no free bank card yet; `ahead` clients wait before this one.
    Queued { ahead: u32 },
    /// A command APDU for the peer's card (hex).
    Apdu { hex: String },
    /// The card's answer (data + SW1 SW2, hex), after the peer resolved 61xx/6Cxx.
    Answer { hex: String },
    /// The peer's policy refused the command: it never reached the card.
    Refused { reason: String },
    /// The driving side is done; `summary` for the other holder, `report` machine-readable.
    Done {
        ok: bool,
        summary: String,
        #[serde(default)]
        report: serde_json::Value,
    },
}

impl Msg {
    pub fn encode(&self) -> Vec<u8> {
        // serializing these plain types cannot fail
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(b: &[u8]) -> Result<Msg> {
        serde_json::from_slice(b).map_err(|e| {
            LinkError::BadMessage(format!(
                "{e} (first bytes {})",
                hex::encode_upper(&b[..b.len().min(16)])
            ))
        })
    }

    /// Short name for error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Msg::Hello { .. } => "hello",
            Msg::Accept { .. } => "accept",
            Msg::Decline { .. } => "decline",
            Msg::Queued { .. } => "queued",
            Msg::Apdu { .. } => "an APDU",
            Msg::Answer { .. } => "an answer",
            Msg::Refused { .. } => "a refusal",
            Msg::Done { .. } => "done",
        }
    }
}

/// Bytes from a hex field of a message.
pub fn unhex(field: &str, s: &str) -> Result<Vec<u8>> {
    hex::decode(s).map_err(|_| LinkError::BadMessage(format!("{field} is not hex")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let m = Msg::Hello {
            op: Op::Pay,
            statement: Some(Statement {
                kind: "pay".into(),
                amount: 1250,
                currency: "EUR".into(),
            }),
            card: None,
        };
        assert_eq!(Msg::decode(&m.encode()).unwrap(), m);
        assert!(Msg::decode(b"{\"m\":\"nope\"}").is_err());
        assert!(Msg::decode(&[0xFF, 0x00]).is_err());
    }
}
