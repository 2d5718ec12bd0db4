//! Sync and epoch commands (protocol.md 12.4, 12.6, 12.3): one function per applet command,
//! INS 70-7E and 80. Packets are opaque bytes (the host relays them; it never holds K_S);
//! only their clear header TYPE is looked at, to tell a P6 from an INVALIDATE.
use serde::Serialize;

use super::transfer::Tid;
use super::{CardError, PurseCard};
use crate::proto::consts::{self, Ins, SecretRef, Suite};
use crate::proto::sync::{self as ps, BankAnswer};
use crate::proto::types::Status;
use crate::transport::CardIo;

fn bad(ins: Ins, msg: impl Into<String>) -> CardError {
    CardError::BadResponse {
        ins,
        msg: msg.into(),
    }
}

/// What SYNC_CARD_P6 answers for a P6: the SACK for the bank card (opaque) and the synced
/// card's status after the command (unauthenticated, like GET_STATUS's; `None` when the answer
/// carried none that parses).
#[derive(Clone, Debug)]
pub struct P6Applied {
    pub sack: Vec<u8>,
    pub status: Option<Status>,
}

/// Answer of SYNC_CARD_INIT: the synced card's suite, oldest key number m and fresh random RP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SyncHello {
    pub suite: Suite,
    pub oldest: u8,
    #[serde(serialize_with = "crate::proto::wire::ser_hex")]
    pub rp: [u8; 8],
}

/// Answer of CENTER_ADVANCE: the center's new CURRENT key number and epoch date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Advanced {
    pub current: u8,
    pub date: u16,
}

/// The synced card's P5 (answer of SYNC_CARD_S1): its identity, R2 and commitment, sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct P5Packet {
    pub packet: Vec<u8>,
}

impl P5Packet {
    /// The bytes SYNC_BANK_P5 takes.
    pub fn bytes(&self) -> &[u8] {
        &self.packet
    }
    /// The sync id (SID) from the clear header.
    pub fn sid(&self) -> Tid {
        crate::proto::wire::Fields(&self.packet).arr(consts::HDR_OFF_SID)
    }
    fn check(ins: Ins, p: Vec<u8>) -> Result<Self, CardError> {
        if p.len() == ps::p5_len(Suite::Aes128) && p[0] == consts::PT_P5 {
            return Ok(P5Packet { packet: p });
        }
        Err(bad(
            ins,
            format!("P5 of {} bytes (type {:02X?})", p.len(), p.first()),
        ))
    }
}

impl<T: CardIo> PurseCard<T> {
    /// 70 SYNC_CARD_INIT(DATE) on the synced card → SUITE | oldest key number | RP. The holder's
    /// PIN must be verified first (FIG. 5 block 502), unless `unblock` (P1 01: a PIN unblock at a
    /// branch, for a holder whose PIN is blocked; the bank then does an unblock-only sync).
    pub fn sync_card_init(&mut self, date: u16, unblock: bool) -> Result<SyncHello, CardError> {
        let p1 = if unblock {
            consts::SYNC_P1_UNBLOCK
        } else {
            consts::SYNC_P1_PLAIN
        };
        let d = self.cmd_len(
            Ins::SyncCardInit,
            p1,
            0,
            &date.to_be_bytes(),
            consts::HELLO_LEN as usize,
        )?;
        let (suite, oldest, rp) = super::transfer::parse_hello(&d);
        Ok(SyncHello { suite, oldest, rp })
    }

    /// 72 SYNC_BANK_INIT(SUITE | m | RP | DATE) on the bank card (operator PIN verified, FIG. 5
    /// block 501) → S1. `unblock`: P1 01 (branch only): the P6 will authorise one UNBLOCK_PIN on
    /// the synced card.
    pub fn sync_bank_init(
        &mut self,
        unblock: bool,
        hello: SyncHello,
        date: u16,
    ) -> Result<Vec<u8>, CardError> {
        let p1 = if unblock {
            consts::SYNC_P1_UNBLOCK
        } else {
            consts::SYNC_P1_PLAIN
        };
        let mut data = vec![hello.suite.code(), hello.oldest];
        data.extend_from_slice(&hello.rp);
        data.extend_from_slice(&date.to_be_bytes());
        let s1 = self.cmd(Ins::SyncBankInit, p1, 0, &data)?;
        let ok = [ps::s1_len(Suite::Aes128), ps::s1_len(Suite::Tdes3)];
        if !ok.contains(&s1.len()) || s1[0] != consts::PT_S1 {
            return Err(bad(
                Ins::SyncBankInit,
                format!("S1 of {} bytes (type {:02X?})", s1.len(), s1.first()),
            ));
        }
        Ok(s1)
    }

    /// 74 SYNC_CARD_S1(S1) on the synced card → P5. The card now persistently has
    /// IN = SYNC: its balance, passbook and exceptions are frozen until P6 (or an abort).
    pub fn sync_card_s1(&mut self, s1: &[u8]) -> Result<P5Packet, CardError> {
        let d = self.cmd(Ins::SyncCardS1, consts::S1_WHOLE, 0, s1)?;
        P5Packet::check(Ins::SyncCardS1, d)
    }

    /// 74 SYNC_CARD_S1 in its two halves: P1 01 (S1 → nothing: the card opens S1, derives K_S
    /// and computes the passbook digest) then P1 02 (no data → P5; the card persists IN = SYNC).
    /// The same P5 as [`sync_card_s1`](Self::sync_card_s1) in two APDUs, neither of which holds
    /// both the digest and the P5 transaction (protocol.md 12.4 step 3). If the second half fails
    /// the card holds nothing: it persisted IN = SYNC only if P5 came back.
    pub fn sync_card_s1_split(&mut self, s1: &[u8]) -> Result<P5Packet, CardError> {
        self.cmd_len(Ins::SyncCardS1, consts::S1_DIGEST, 0, s1, 0)?;
        let p5 = self.cmd(Ins::SyncCardS1, consts::S1_P5, 0, &[])?;
        P5Packet::check(Ins::SyncCardS1, p5)
    }

    /// 34 READ_PASSBOOK, raw bytes (count × 42) — the card's evidence as the ledger stores it.
    /// No PIN needed while the card has IN = SYNC (protocol.md 12.10 item 5).
    pub fn read_passbook_raw(&mut self, first: u8, count: u8) -> Result<Vec<u8>, CardError> {
        let n = consts::PB_ENTRY_LEN as usize;
        self.cmd_len(Ins::ReadPassbook, first, count, &[], count as usize * n)
    }

    /// The whole passbook raw, 5 entries per APDU.
    pub fn read_passbook_raw_all(&mut self, count: u8) -> Result<Vec<u8>, CardError> {
        let mut out = Vec::with_capacity(count as usize * consts::PB_ENTRY_LEN as usize);
        let mut first = 0u8;
        while first < count {
            let n = (count - first).min(consts::PB_READ_MAX as u8);
            out.extend(self.read_passbook_raw(first, n)?);
            first += n;
        }
        Ok(out)
    }

    /// 36 READ_EXCEPTIONS, raw bytes (n × 24).
    pub fn read_exceptions_raw(&mut self) -> Result<Vec<u8>, CardError> {
        let n = consts::EXC_ENTRY_LEN as usize;
        let d = self.cmd(Ins::ReadExceptions, 0, 0, &[])?;
        if d.len() % n != 0 || d.len() > n * consts::EXCEPTIONS as usize {
            return Err(bad(Ins::ReadExceptions, format!("{} bytes", d.len())));
        }
        Ok(d)
    }

    /// 76 SYNC_BANK_P5(P5 | D') on the bank card → P6 or INVALIDATE. `digest` is D', the
    /// host's passbook digest of what it stored (protocol.md 12.5.3, [`digest_of`]; 00 × 8 when
    /// it collected nothing: the bank card then does not clear). With a P6 the bank card has
    /// **debited the interest** and holds OUT = SYNC.
    ///
    /// [`digest_of`]: crate::proto::sync::digest_of
    pub fn sync_bank_p5(&mut self, p5: &[u8], digest: &[u8; 8]) -> Result<BankAnswer, CardError> {
        let d = self.cmd(Ins::SyncBankP5, 0, 0, &[p5, &digest[..]].concat())?;
        let a = BankAnswer::classify(d).map_err(|e| bad(Ins::SyncBankP5, e.0))?;
        check_answer_len(Ins::SyncBankP5, &a)?;
        Ok(a)
    }

    /// 78 SYNC_CARD_P6(P6 or INVALIDATE) on the synced card → for a P6, the SACK (48) and the
    /// card's status after it (68, protocol.md 12.4 step 8): the card has **credited the
    /// interest**, installed keys, maybe cleared its passbook. A bare 48-byte SACK is taken too
    /// (status `None`: the caller reads GET_STATUS): the card has committed by then, and the
    /// bank must get its SACK whatever else the answer carried. Nothing for an INVALIDATE (the
    /// card is now invalidated for good).
    pub fn sync_card_p6(&mut self, pkt: &[u8]) -> Result<Option<P6Applied>, CardError> {
        let d = self.cmd(Ins::SyncCardP6, 0, 0, pkt)?;
        let sack = consts::PKT_SHORT as usize;
        match (pkt.first().copied(), d.len()) {
            (Some(consts::PT_INVALIDATE), 0) => Ok(None),
            (_, n) if n == sack => Ok(Some(P6Applied {
                sack: d,
                status: None,
            })),
            (_, n) if n == sack + consts::STATUS_LEN as usize => {
                // an unreadable status still leaves the SACK to deliver
                let status = Status::parse(&d[sack..]).ok();
                Ok(Some(P6Applied {
                    sack: d[..sack].to_vec(),
                    status,
                }))
            }
            (_, n) => Err(bad(
                Ins::SyncCardP6,
                format!(
                    "{n} bytes, expected a 48-byte SACK, alone or with the {}-byte status",
                    consts::STATUS_LEN
                ),
            )),
        }
    }

    /// 50 RESUME_GET_P4(SID) on a bank card with OUT = SYNC: the stored P6 (variable length).
    pub fn resume_get_p6(&mut self, sid: &Tid) -> Result<Vec<u8>, CardError> {
        let d = self.cmd(Ins::ResumeGetP4, 0, 0, sid)?;
        let a = BankAnswer::classify(d).map_err(|e| bad(Ins::ResumeGetP4, e.0))?;
        check_answer_len(Ins::ResumeGetP4, &a)?;
        match a {
            BankAnswer::P6(p) => Ok(p),
            BankAnswer::Invalidate(_) => Err(bad(
                Ins::ResumeGetP4,
                "a stored INVALIDATE (banks store none)",
            )),
        }
    }

    /// 7A SYNC_BANK_ACK(SACK or SNACK) on the bank card: clears its OUT = SYNC (a SNACK refunds
    /// the interest it had debited).
    pub fn sync_bank_ack(&mut self, sack: &[u8]) -> Result<(), CardError> {
        self.cmd_len(Ins::SyncBankAck, 0, 0, sack, 0).map(|_| ())
    }

    /// 7E UNBLOCK_PIN on the synced card, right after a P6 that carried UNBLOCK: sets a new PIN
    /// (`which` = Pin) or transaction key (TxKey) and unblocks it.
    pub fn unblock_pin(&mut self, which: SecretRef, secret: &[u8]) -> Result<(), CardError> {
        let (lo, hi) = which.len_range();
        let f = crate::proto::types::encode_secret(secret, (lo, hi), false)
            .map_err(|e| CardError::Invalid(format!("new {}: {e}", which.name())))?;
        if !matches!(which, SecretRef::Pin | SecretRef::TxKey) {
            return Err(CardError::Invalid(
                "only the PIN or the transaction key can be unblocked".into(),
            ));
        }
        self.cmd_len(Ins::UnblockPin, 0, which.code(), &f, 0)
            .map(|_| ())
    }

    /// 80 CENTER_ADVANCE(DATE | RATE_FLAG | RATE) on the center (approval verified first): a new
    /// epoch — RNG key, CURRENT + 1, date forward only, the new interest rate if `rate` is given.
    pub fn center_advance(&mut self, date: u16, rate: Option<u32>) -> Result<Advanced, CardError> {
        let mut data = crate::proto::wire::Layout::new(consts::ADVANCE_DATA_LEN);
        data.u16(consts::ADV_DATE, date)
            .u8(consts::ADV_RATE_FLAG, rate.is_some() as u8)
            .u32(consts::ADV_RATE, rate.unwrap_or(0));
        let data = data.into_vec();
        let d = self.cmd_len(
            Ins::CenterAdvance,
            0,
            0,
            &data,
            consts::ADVANCE_RESP_LEN as usize,
        )?;
        Ok(Advanced {
            current: d[0],
            date: crate::proto::wire::be16(&d[1..]),
        })
    }
}

fn check_answer_len(ins: Ins, a: &BankAnswer) -> Result<(), CardError> {
    let n = a.bytes().len();
    let ok = match a {
        BankAnswer::P6(_) => [Suite::Aes128, Suite::Tdes3]
            .iter()
            .any(|&s| (0..=consts::SYNC_KEYS_MAX as u8).any(|nk| ps::p6_len(s, nk) == n)),
        BankAnswer::Invalidate(_) => {
            n == ps::invalidate_len(Suite::Aes128) || n == ps::invalidate_len(Suite::Tdes3)
        }
    };
    if ok {
        Ok(())
    } else {
        Err(bad(
            ins,
            format!(
                "{} of {n} bytes",
                match a {
                    BankAnswer::P6(_) => "P6",
                    BankAnswer::Invalidate(_) => "INVALIDATE",
                }
            ),
        ))
    }
}
