//! Transfer commands (the payee hello of SELECT, INS 42-54, protocol.md 4.1 and 6): one function
//! per applet command. The host only relays packets:
//! every packet is opaque bytes here, except the clear header (TYPE, KEYNUM, TID) that the flows
//! read to know which transfer they are relaying.
use serde::Serialize;

use super::{CardError, PurseCard};
use crate::proto::consts::{self, Ins, PacketType, Suite};
use crate::proto::types::Status;
use crate::proto::wire::Fields;
use crate::transport::CardIo;

/// Length of the responder's second packet (P2, A2; body `body`) in the suite of the initiator's
/// first packet `first` (the P1 layout: 64 bytes in AES, 56 in TDES). The card refuses a first
/// packet of another length, so an answer of another length is a bad answer.
pub(crate) fn second_packet_len(first: &[u8], body: u16) -> usize {
    let suite = if first.len() == consts::PKT_P1_TDES as usize {
        Suite::Tdes3
    } else {
        Suite::Aes128
    };
    crate::proto::sync::packet_len(suite, body as usize)
}

/// A transfer id (TID, protocol.md 1): 6 random bytes from the payer card.
pub type Tid = [u8; consts::TID_LEN as usize];

/// Length of P4/ACK/NACK packets (both suites).
pub const PKT_SHORT: usize = consts::PKT_SHORT as usize;

/// The payee hello, from the payee's SELECT answer (protocol.md 4.1, 6.1 step 1): its suite, oldest
/// key number m and the fresh random RP of the payee session that SELECT armed (bound into the
/// session keys K_S: a P1 made for another payee session never opens).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PayeeHello {
    pub suite: Suite,
    pub oldest: u8,
    #[serde(serialize_with = "crate::proto::wire::ser_hex")]
    pub rp: [u8; 8],
}

/// A responder hello (40, 70, 82 P1 00): SUITE | oldest | RP.
pub(crate) fn parse_hello(d: &[u8]) -> (Suite, u8, [u8; 8]) {
    let mut rp = [0u8; 8];
    rp.copy_from_slice(&d[consts::HELLO_RP as usize..consts::HELLO_LEN as usize]);
    (Suite::from_code(d[0]), d[1], rp)
}

/// The clear header of a packet (protocol.md 2.4): TYPE | KEYNUM | SID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketHeader {
    pub ptype: PacketType,
    pub keynum: u8,
    pub sid: Tid,
}

impl PacketHeader {
    pub fn parse(pkt: &[u8]) -> Option<Self> {
        if pkt.len() < consts::HDR_LEN as usize {
            return None;
        }
        let f = Fields(pkt);
        Some(PacketHeader {
            ptype: PacketType::from_code(f.u8(consts::HDR_OFF_TYPE)),
            keynum: f.u8(consts::HDR_OFF_KEYNUM),
            sid: f.arr(consts::HDR_OFF_SID),
        })
    }
}

fn amount_date(amount: u32, date: u16) -> Vec<u8> {
    let mut v = amount.to_be_bytes().to_vec();
    v.extend_from_slice(&date.to_be_bytes());
    v
}

impl<T: CardIo> PurseCard<T> {
    /// Step 1 of a transfer, on the payee: the hello of its SELECT answer, if no command was
    /// sent to this card since (then the payee session it armed still stands); else a new SELECT
    /// (one APDU, as XFER_PAYEE_INIT was). Each hello serves one payee session.
    pub fn payee_hello(&mut self) -> Result<PayeeHello, CardError> {
        if let Some(h) = self.take_selected_hello() {
            return Ok(h);
        }
        self.select()?;
        self.take_selected_hello()
            .ok_or_else(|| CardError::BadResponse {
                ins: Ins::Select,
                msg: "no payee hello in the SELECT answer".into(),
            })
    }

    /// The status of a card about to be a payee: from the last SELECT answer if no command
    /// followed it, else from a new SELECT, which also arms a new payee session for
    /// [`payee_hello`](Self::payee_hello): one APDU where GET_STATUS and the hello were two.
    pub fn payee_status(&mut self) -> Result<Status, CardError> {
        let d = match self.selected_status() {
            Some(d) => d,
            None => {
                self.select()?;
                self.selected_status()
                    .ok_or_else(|| CardError::BadResponse {
                        ins: Ins::Select,
                        msg: "no status in the SELECT answer".into(),
                    })?
            }
        };
        Status::parse(&d).map_err(|e| CardError::BadResponse {
            ins: Ins::Select,
            msg: e.0,
        })
    }

    /// 42 XFER_PAYER_INIT(A, date, peer SUITE, peer oldest, peer RP) → P1.
    pub fn xfer_payer_init(
        &mut self,
        amount: u32,
        date: u16,
        peer: PayeeHello,
    ) -> Result<Vec<u8>, CardError> {
        let mut data = amount_date(amount, date);
        data.push(peer.suite.code());
        data.push(peer.oldest);
        data.extend_from_slice(&peer.rp);
        let p1 = self.cmd(Ins::XferPayerInit, 0, 0, &data)?;
        let ok_len = [consts::PKT_P1_AES as usize, consts::PKT_P1_TDES as usize];
        if !ok_len.contains(&p1.len()) || p1[0] != consts::PT_P1 {
            return Err(CardError::BadResponse {
                ins: Ins::XferPayerInit,
                msg: format!("P1 of {} bytes (type {:02X?})", p1.len(), p1.first()),
            });
        }
        Ok(p1)
    }

    /// 44 XFER_PAYEE_P1(A, date, P1) → P2 with the request (80 bytes in the AES suite, 72 in
    /// TDES: the suite of the P1), in the session of the last
    /// [`payee_hello`](Self::payee_hello). The payee now persistently expects the TID.
    pub fn xfer_payee_p1(
        &mut self,
        amount: u32,
        date: u16,
        p1: &[u8],
    ) -> Result<Vec<u8>, CardError> {
        let mut data = amount_date(amount, date);
        data.extend_from_slice(p1);
        let want = second_packet_len(p1, consts::BODY_P2_TX);
        let p2 = self.cmd_len(Ins::XferPayeeP1, 0, 0, &data, want)?;
        if p2[0] != consts::PT_P2 {
            return Err(CardError::BadResponse {
                ins: Ins::XferPayeeP1,
                msg: format!("a packet of type {:02X} where P2 was due", p2[0]),
            });
        }
        Ok(p2)
    }

    /// 46 XFER_PAYER_P2P3(P2) → P4 (48). The payer has **debited** when this returns Ok.
    pub fn xfer_payer_p2p3(&mut self, p2: &[u8]) -> Result<Vec<u8>, CardError> {
        self.cmd_len(Ins::XferPayerP2P3, 0, 0, p2, PKT_SHORT)
    }

    /// 48 XFER_PAYEE_P4(P4) → ACK (48). The payee has **credited** when this returns Ok.
    pub fn xfer_payee_p4(&mut self, p4: &[u8]) -> Result<Vec<u8>, CardError> {
        self.cmd_len(Ins::XferPayeeP4, 0, 0, p4, PKT_SHORT)
    }

    /// 4A XFER_PAYER_ACK(ACK or NACK): clears the payer's OUT slot (refunds on a NACK).
    pub fn xfer_payer_ack(&mut self, ack: &[u8]) -> Result<(), CardError> {
        self.cmd_len(Ins::XferPayerAck, 0, 0, ack, 0).map(|_| ())
    }

    /// 4C 00: forget the transient transfer session (nothing persistent changes).
    pub fn xfer_abort_session(&mut self) -> Result<(), CardError> {
        self.cmd_len(Ins::XferAbort, consts::ABORT_SESSION, 0, &[], 0)
            .map(|_| ())
    }

    /// 4C 01 TID: the payee drops its expectation of `tid` and answers (and stores) a NACK.
    pub fn xfer_abort_expected(&mut self, tid: &Tid) -> Result<Vec<u8>, CardError> {
        self.cmd_len(Ins::XferAbort, consts::ABORT_EXPECTED, 0, tid, PKT_SHORT)
    }

    /// 50 RESUME_GET_P4(TID): the payer's stored P4 for its pending transfer.
    pub fn resume_get_p4(&mut self, tid: &Tid) -> Result<Vec<u8>, CardError> {
        self.cmd_len(Ins::ResumeGetP4, 0, 0, tid, PKT_SHORT)
    }

    /// 52 RESUME_GET_OUTCOME(TID): the payee's stored ACK or NACK for `tid`.
    pub fn resume_get_outcome(&mut self, tid: &Tid) -> Result<Vec<u8>, CardError> {
        self.cmd_len(Ins::ResumeGetOutcome, 0, 0, tid, PKT_SHORT)
    }

    /// 54 PENDING_TO_EXCEPTION(TID): the payer gives up `tid` (PIN verified first) and records it
    /// in its exception log for the bank.
    pub fn pending_to_exception(&mut self, tid: &Tid) -> Result<(), CardError> {
        self.cmd_len(Ins::PendingToException, 0, 0, tid, 0)
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parses() {
        let h = PacketHeader::parse(&[0x41, 0x33, 1, 2, 3, 4, 5, 6, 0xAA]).unwrap();
        assert_eq!(h.ptype, PacketType::P1);
        assert_eq!(h.keynum, 0x33);
        assert_eq!(h.sid, [1, 2, 3, 4, 5, 6]);
        assert!(PacketHeader::parse(&[0x41; 7]).is_none());
    }
}
