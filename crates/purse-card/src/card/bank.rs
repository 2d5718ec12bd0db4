//! Bank-file and administration commands (protocol.md 12.8, 12.9): ADMIN_INIT (82, both sides),
//! ADMIN_OP (84), ADMIN_APPLY (86), ADMIN_ACK (88), READ_BAD_CARDS (8A), SET_PRIVACY (8C).
//! One function per applet command; packets are opaque bytes (the host only relays them), except
//! the answers that are in clear: ADMIN_ACK's verified result and READ_BAD_CARDS.
use serde::Serialize;

use super::{CardError, PurseCard};
use crate::proto::consts::{self, Ins, Suite};
use crate::proto::types::Account;
use crate::proto::wire::Fields;
use crate::transport::CardIo;

/// Length of ADMIN_INIT's admin request: OP(1) | PARAMS(16) | DATE(2).
pub const ADMIN_REQ_LEN: usize = consts::ADMIN_REQ_LEN as usize;
/// A4 as answered by ADMIN_APPLY (both suites).
pub const ADMIN_A4_LEN: usize = consts::PKT_A4 as usize;
/// ADMIN_ACK's answer: RESULT(1) | COUNT(2) | bank ACCOUNT(8).
pub const ADMIN_ACK_LEN: usize = consts::ADMIN_ACK_RESP_LEN as usize;

fn bad(ins: Ins, msg: impl Into<String>) -> CardError {
    CardError::BadResponse {
        ins,
        msg: msg.into(),
    }
}

/// The admin card's hello (answer of ADMIN_INIT P1 00): its suite, oldest key number m and fresh
/// random RP (bound into the session keys K_S).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AdminHello {
    pub suite: Suite,
    pub oldest: u8,
    #[serde(serialize_with = "crate::proto::wire::ser_hex")]
    pub rp: [u8; 8],
}

/// The verified outcome of an admin op (ADMIN_ACK): RESULT, COUNT after, bank account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AdminAck {
    /// `true`: the op changed the bank card; `false`: no change (already listed / same value).
    pub changed: bool,
    /// Number of BAD_CARD entries after the op.
    pub count: u16,
    pub bank_account: Account,
}

/// The verified result of one batch of BAD_CARD_ADD (or of the ADD op before the first batch, as a
/// batch of one): N | COUNT after | BITS (bit i, MSB first: account i newly listed) | bank ACCOUNT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BatchAck {
    pub n: u8,
    pub count: u16,
    #[serde(skip)]
    pub bits: [u8; 6],
    pub bank_account: Account,
}

impl BatchAck {
    fn parse(d: &[u8]) -> Result<Self, CardError> {
        if d.len() != consts::BATCH_ACK_LEN as usize || d[0] == 0 || d[0] as u16 > consts::BATCH_MAX
        {
            return Err(bad(
                Ins::AdminOp,
                format!("batch result of {} bytes", d.len()),
            ));
        }
        Ok(BatchAck {
            n: d[0],
            count: u16::from_be_bytes([d[1], d[2]]),
            bits: d[3..9].try_into().expect("6"),
            bank_account: Account(d[9..17].try_into().expect("8")),
        })
    }

    /// Was account `i` of the batch newly listed (false: it was listed already)?
    pub fn added(&self, i: usize) -> bool {
        i < 48 && self.bits[i / 8] & (0x80 >> (i % 8)) != 0
    }
}

fn batch_n(ins: Ins, n: usize) -> Result<u8, CardError> {
    if n == 0 || n > consts::BATCH_MAX as usize {
        return Err(CardError::Invalid(format!(
            "{ins:?}: a batch holds 1 to {} accounts, not {n}",
            consts::BATCH_MAX
        )));
    }
    Ok(n as u8)
}

/// One BAD_CARD entry: the low 8 digits of the account (bytes 4..7) and the bank's key number
/// when it was listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BadCardEntry {
    #[serde(serialize_with = "crate::proto::wire::ser_hex")]
    pub low: [u8; 4],
    pub keynum: u8,
}

impl BadCardEntry {
    /// Does this entry name `acc` (bytes 4..7 compared, as the card does)?
    pub fn matches(&self, acc: &Account) -> bool {
        let o = consts::BC_ACC_OFF as usize;
        acc.0[o..o + consts::BC_ACC_LEN as usize] == self.low
    }
    /// The low 8 digits, as text.
    pub fn low_digits(&self) -> String {
        hex::encode_upper(self.low)
    }
}

/// One page of READ_BAD_CARDS: the bank files' header and up to 40 entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BadCardPage {
    pub count: u16,
    pub rate: u32,
    pub low: Account,
    pub high: Account,
    /// Valid archive keys (0..4).
    pub arch: u8,
    /// The bank card's CURRENT key number.
    pub current: u8,
    pub entries: Vec<BadCardEntry>,
}

impl BadCardPage {
    pub fn parse(d: &[u8]) -> Result<Self, String> {
        let h = consts::RBC_HEADER_LEN as usize;
        let e = consts::BC_ENTRY_LEN as usize;
        if d.len() < h || (d.len() - h) % e != 0 || (d.len() - h) / e > consts::BC_PAGE as usize {
            return Err(format!("{} bytes (expected 24 + n × 5, n ≤ 40)", d.len()));
        }
        let f = Fields(d);
        Ok(BadCardPage {
            count: f.u16(consts::RBC_COUNT),
            rate: f.u32(consts::RBC_RATE),
            low: f.account(consts::RBC_LOW),
            high: f.account(consts::RBC_HIGH),
            arch: f.u8(consts::RBC_ARCH),
            current: f.u8(consts::RBC_CURRENT),
            entries: d[h..]
                .chunks(e)
                .map(|c| {
                    // an entry: the account's bytes BC_ACC_OFF.. (BC_ACC_LEN) then KEYNUM
                    let c = Fields(c);
                    BadCardEntry {
                        low: c.arr(0),
                        keynum: c.u8(consts::BC_KEYNUM),
                    }
                })
                .collect(),
        })
    }
}

impl<T: CardIo> PurseCard<T> {
    /// 82 P1 00 on the admin card (PIN verified): takes REQ = OP | PARAMS(16) | DATE(2), answers
    /// its SUITE and oldest key number.
    pub fn admin_init_admin(&mut self, req: &[u8; ADMIN_REQ_LEN]) -> Result<AdminHello, CardError> {
        let d = self.cmd_len(
            Ins::AdminInit,
            consts::ADMIN_P1_ADMIN,
            0,
            req,
            consts::HELLO_LEN as usize,
        )?;
        let (suite, oldest, rp) = super::transfer::parse_hello(&d);
        Ok(AdminHello { suite, oldest, rp })
    }

    /// 82 P1 01 on the bank card: given the admin's SUITE and oldest key, answers A1.
    pub fn admin_init_bank(&mut self, admin: AdminHello) -> Result<Vec<u8>, CardError> {
        let a1 = self.cmd(
            Ins::AdminInit,
            consts::ADMIN_P1_BANK,
            0,
            &[&[admin.suite.code(), admin.oldest][..], &admin.rp].concat(),
        )?;
        let ok = [consts::PKT_P1_AES as usize, consts::PKT_P1_TDES as usize];
        if !ok.contains(&a1.len()) || a1[0] != consts::PT_A1 {
            return Err(bad(
                Ins::AdminInit,
                format!("A1 of {} bytes (type {:02X?})", a1.len(), a1.first()),
            ));
        }
        Ok(a1)
    }

    /// 84 ADMIN_OP(A1) on the admin card: answers A2 (the admin's identity and R2, then the
    /// request; 96 bytes in AES, 88 in TDES). The admin PIN is reset.
    pub fn admin_op(&mut self, a1: &[u8]) -> Result<Vec<u8>, CardError> {
        let want = super::transfer::second_packet_len(a1, consts::BODY_A2);
        let a2 = self.cmd_len(Ins::AdminOp, 0, 0, a1, want)?;
        if a2[0] != consts::PT_A2 {
            return Err(bad(Ins::AdminOp, format!("A2 of type {:02X}", a2[0])));
        }
        Ok(a2)
    }

    /// 86 ADMIN_APPLY(A2) on the bank card: **applies the op** (one transaction), answers A4.
    pub fn admin_apply(&mut self, a2: &[u8]) -> Result<Vec<u8>, CardError> {
        self.cmd_len(Ins::AdminApply, 0, 0, a2, ADMIN_A4_LEN)
    }

    /// 88 ADMIN_ACK(A4) on the admin card: the verified RESULT | COUNT | bank ACCOUNT.
    pub fn admin_ack(&mut self, a4: &[u8]) -> Result<AdminAck, CardError> {
        let d = self.cmd_len(Ins::AdminAck, 0, 0, a4, ADMIN_ACK_LEN)?;
        let changed = match d[0] {
            consts::RESULT_DONE => true,
            consts::RESULT_NO_CHANGE => false,
            r => return Err(bad(Ins::AdminAck, format!("RESULT {r:02X}"))),
        };
        Ok(AdminAck {
            changed,
            count: crate::proto::wire::be16(&d[1..]),
            bank_account: Fields(&d).account(3),
        })
    }

    /// 84 P1 01 P2 n on the admin card, after the ADD op's ADMIN_APPLY or a batch's 86 P1 01:
    /// `prev` (that A4 or A6) | PREFIX(4) | n × LOW(4) (all accounts `prefix` ‖ low, 1 ≤ n ≤ 46).
    /// Answers the verified result of `prev` and A5, the sealed batch for the bank card.
    pub fn admin_op_more(
        &mut self,
        prev: &[u8],
        prefix: [u8; 4],
        lows: &[[u8; 4]],
    ) -> Result<(BatchAck, Vec<u8>), CardError> {
        let n = batch_n(Ins::AdminOp, lows.len())?;
        let mut data = prev.to_vec();
        data.extend_from_slice(&prefix);
        lows.iter().for_each(|l| data.extend_from_slice(l));
        let d = self.cmd(Ins::AdminOp, consts::ADMIN_P1_MORE, n, &data)?;
        let k = consts::BATCH_ACK_LEN as usize;
        let body = consts::A5_LOWS as usize + 4 * lows.len();
        // A5 = HDR(8) | pad(body + 1) (16 or 8-byte blocks) | T(8)
        let ok = |b: usize| d.len() == k + 16 + (body / b + 1) * b;
        if !(ok(16) || ok(8)) || d[k] != consts::PT_A5 {
            return Err(bad(
                Ins::AdminOp,
                format!("{} bytes for a batch of {n}", d.len()),
            ));
        }
        Ok((BatchAck::parse(&d[..k])?, d[k..].to_vec()))
    }

    /// 86 P1 01 P2 n on the bank card: **adds the batch's n accounts** (one transaction, refused
    /// whole on any error), answers A6.
    pub fn admin_apply_more(&mut self, n: usize, a5: &[u8]) -> Result<Vec<u8>, CardError> {
        let n = batch_n(Ins::AdminApply, n)?;
        let a6 = self.cmd(Ins::AdminApply, consts::ADMIN_P1_MORE, n, a5)?;
        // A6: body 36 -> 64 (AES) or 56 (TDES) bytes
        if !(a6.len() == 64 || a6.len() == 56) || a6[0] != consts::PT_A6 {
            return Err(bad(Ins::AdminApply, format!("A6 of {} bytes", a6.len())));
        }
        Ok(a6)
    }

    /// 88 P1 01 on the admin card: the verified result of the last batch (A6); ends the session.
    pub fn admin_ack_more(&mut self, a6: &[u8]) -> Result<BatchAck, CardError> {
        let d = self.cmd_len(
            Ins::AdminAck,
            consts::ADMIN_P1_MORE,
            0,
            a6,
            consts::BATCH_ACK_LEN as usize,
        )?;
        BatchAck::parse(&d)
    }

    /// 8A READ_BAD_CARDS page 0..29 on a bank card (no PIN).
    pub fn read_bad_cards(&mut self, page: u8) -> Result<BadCardPage, CardError> {
        let d = self.cmd(Ins::ReadBadCards, page, 0, &[])?;
        BadCardPage::parse(&d).map_err(|m| bad(Ins::ReadBadCards, m))
    }

    /// The bank files' header (no entries): from the last SELECT's answer if no command was sent
    /// since (a bank card's SELECT ends with it, protocol.md 4.1), else READ_BAD_CARDS page 0.
    pub fn bank_files(&mut self) -> Result<BadCardPage, CardError> {
        if let Some(f) = self.selected_files() {
            return Ok(f);
        }
        let mut f = self.read_bad_cards(0)?;
        f.entries.clear();
        Ok(f)
    }

    /// 8C SET_PRIVACY on a user card (PIN verified, empty passbook, nothing pending).
    pub fn set_privacy(&mut self, private: bool) -> Result<(), CardError> {
        let p1 = if private {
            consts::PRIVACY_ON
        } else {
            consts::PRIVACY_OFF
        };
        self.cmd_len(Ins::SetPrivacy, p1, 0, &[], 0).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_card_page_parses() {
        let mut d = vec![0u8; 24];
        d[1] = 2;
        d[2..6].copy_from_slice(&0x00068DB9u32.to_be_bytes());
        d[6..14].copy_from_slice(&[0x10, 0, 0, 0, 0, 0, 0, 0]);
        d[14..22].copy_from_slice(&[0x10, 0, 0, 0, 0x99, 0x99, 0x99, 0x99]);
        d[22] = 3;
        d[23] = 9;
        d.extend_from_slice(&[0, 0, 0, 0x24, 7, 0, 0, 0x01, 0x65, 8]);
        let p = BadCardPage::parse(&d).unwrap();
        assert_eq!((p.count, p.rate, p.arch, p.current), (2, 0x68DB9, 3, 9));
        assert_eq!(p.entries.len(), 2);
        assert!(p.entries[0].matches(&Account::parse("1000000000000024").unwrap()));
        assert_eq!(p.entries[1].keynum, 8);
        assert!(BadCardPage::parse(&d[..27]).is_err());
    }
}
