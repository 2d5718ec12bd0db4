//! Issue 4 sync protocol (protocol.md 12) on the host side: plaintext body layouts of P5, P6,
//! INVALIDATE and SACK/SNACK (the host never holds K_S: these parsers serve tests, which build
//! reference packets with `proto::crypto`, and document the layout), the passbook digest chain
//! (12.5.3), the interest rule (12.7), the sync pair matrix and key windows (12.2, 12.3), and the
//! conversion of human interest rates to the cards' RATE unit (2^-32 per day).
use serde::Serialize;

use super::consts::{self, PacketType, Role, Suite};
use super::consts::{
    BAL_CURRENCY, BAL_DECIMALS, BAL_INTEREST_DATE, BAL_RATE, BAL_SERIAL, BODY_INVALIDATE, BODY_P5,
    BODY_P6_FIXED, BODY_SHORT, INV_APP, INV_BANK_ACCOUNT, INV_CARD_ACCOUNT, INV_CODE, INV_R2,
    P2_ACCOUNT, P2_APP, P2_CURRENCY, P2_FLAGS, P2_NAME, P2_R1, P2_R2, P2_ROLE, P5_BAD_KEY,
    P5_BALANCE, P5_CURRENT, P5_DIGEST, P5_EXC_COUNT, P5_HOLDER, P5_PB_COUNT, P6_AMOUNT, P6_APP,
    P6_BANK_ACCOUNT, P6_CARD_ACCOUNT, P6_CODE, P6_DATE, P6_FIRST, P6_FLAGS, P6_KEYS, P6_KEY_DATE,
    P6_NK, P6_R2, P6_RATE, PS_ACCOUNT, PS_AMOUNT, PS_APP, PS_CODE, PS_DATE, PS_RANDOM,
};

use super::types::{Account, ParseError};
use super::wire::{perr, Fields, Layout};

// ------------------------------------------------------------------ interest (12.7)

/// `floor(amount × rate × days / 2^32)` (protocol.md 12.7 step 2), `None` when the result does
/// not fit 32 bits (the bank then defers: nothing paid, date unchanged). Exact: the product is
/// at most 2^80 and is computed in 128 bits, as the card computes it byte-wise in 10 bytes.
pub fn interest(amount: u32, rate: u32, days: u32) -> Option<u32> {
    let p = amount as u128 * rate as u128 * days as u128;
    u32::try_from(p >> 32).ok()
}

/// Days of interest: bank date − card's LAST_INTEREST_DATE if positive, else 0.
pub fn interest_days(bank_date: u16, last_interest_date: u16) -> u32 {
    bank_date.saturating_sub(last_interest_date) as u32
}

/// What the bank card decides at 76 (protocol.md 12.7 steps 2-3), as a reference for tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct InterestDecision {
    /// Interest paid (0 when deferred or private).
    pub paid: u32,
    /// The card's new LAST_INTEREST_DATE.
    pub new_date: u16,
    /// Not paid for lack of room / funds / range: the date stays, the days count next time.
    pub deferred: bool,
}

/// Inputs of [`decide_interest`].
#[derive(Clone, Copy, Debug)]
pub struct InterestInputs {
    pub card_amount: u32,
    pub card_last_date: u16,
    pub rate: u32,
    pub bank_date: u16,
    pub bank_balance: u32,
    /// The bank will clear the card's passbook (digest matched).
    pub clear: bool,
    /// Passbook count N of the card.
    pub passbook_count: u8,
    pub private: bool,
}

/// protocol.md 12.7 steps 2-3.
pub fn decide_interest(x: &InterestInputs) -> InterestDecision {
    let advanced = x.bank_date.max(x.card_last_date);
    if x.private {
        return InterestDecision {
            paid: 0,
            new_date: advanced,
            deferred: false,
        };
    }
    let days = interest_days(x.bank_date, x.card_last_date);
    let deferred = |_| InterestDecision {
        paid: 0,
        new_date: x.card_last_date,
        deferred: true,
    };
    let i = match interest(x.card_amount, x.rate, days) {
        None => return deferred(()),
        Some(i) => i,
    };
    if i > x.bank_balance
        || x.card_amount as u64 + i as u64 >= 1u64 << 32
        || (!x.clear && x.passbook_count as u16 >= consts::PASSBOOK_ENTRIES)
    {
        return deferred(());
    }
    InterestDecision {
        paid: i,
        new_date: advanced,
        deferred: false,
    }
}

// ------------------------------------------------------------------ rates

/// A rate as typed by an operator (`purse center advance --rate`). The unit is the one of
/// [`super::rate`] (shared with `purse admin rate` and `purse status`): an **annual percentage
/// over a 365-day year**, up to 4 decimals (`3.65` = 3.65 %/year = 0.01 %/day = RATE
/// `00068DB9`), or a raw RATE `0x…`. As a convenience a daily percentage is accepted with the
/// suffix `%/day` (`0.01%/day`), converted as `round(p / 100 × 2^32)`. The card then pays
/// `floor(balance × RATE × days / 2^32)` per sync (simple interest, not compounded within one
/// sync).
pub fn parse_rate(s: &str) -> Result<u32, ParseError> {
    let t = s.trim().to_ascii_lowercase().replace(' ', "");
    let Some(num) = t.strip_suffix("%/day").or_else(|| t.strip_suffix("%/d")) else {
        let t = t.strip_suffix("/year").unwrap_or(&t);
        return super::rate::parse_rate(t).map_err(ParseError);
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty()
        || !int.bytes().all(|c| c.is_ascii_digit())
        || !frac.bytes().all(|c| c.is_ascii_digit())
        || frac.len() > 12
        || int.len() > 3
    {
        return perr(format!(
            "rate {s:?}: give a daily percentage, e.g. 0.01%/day"
        ));
    }
    let mant: u128 = format!("{int}{frac}").parse::<u128>().unwrap_or(0);
    let den: u128 = 10u128.pow(frac.len() as u32) * 100;
    let r = ((mant << 32) + den / 2) / den;
    u32::try_from(r).map_err(|_| ParseError(format!("rate {s:?} is too high (max ~100 % a day)")))
}

/// RATE (2^-32 per day) as a daily percentage.
pub fn rate_daily_percent(rate: u32) -> f64 {
    rate as f64 / 4_294_967_296.0 * 100.0
}

/// RATE as an annual percentage (365 days, simple).
pub fn rate_annual_percent(rate: u32) -> f64 {
    rate_daily_percent(rate) * 365.0
}

/// "3.6500 %/year (0.010000 %/day, raw 0x00068DB9)".
pub fn describe_rate(rate: u32) -> String {
    if rate == 0 {
        return "0 (no interest)".into();
    }
    format!(
        "{} %/year ({:.6} %/day, raw 0x{rate:08X})",
        super::rate::format_rate(rate),
        rate_daily_percent(rate)
    )
}

// ------------------------------------------------------------------ pairs and keys (12.2, 12.3)

/// Sync pairs (bank → synced card): center → region, center → admin, region → branch,
/// branch → user.
pub fn sync_pair_allowed(bank: Role, card: Role) -> bool {
    matches!(
        (bank, card),
        (Role::Center, Role::Region)
            | (Role::Center, Role::Admin)
            | (Role::Region, Role::Branch)
            | (Role::Branch, Role::User)
    )
}

/// The role that syncs a card of `card` role.
pub fn bank_role_for(card: Role) -> Option<Role> {
    match card {
        Role::Region | Role::Admin => Some(Role::Center),
        Role::Branch => Some(Role::Region),
        Role::User => Some(Role::Branch),
        _ => None,
    }
}

/// holdsSync(n) ⇔ (CURRENT − n) mod 256 ≤ 3 + ARCH.
pub fn holds_sync(current: u8, arch: u8, n: u8) -> bool {
    current.wrapping_sub(n) as u16 <= consts::KEY_WINDOW + arch as u16
}

/// Why the bank refuses to pick a sync pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SyncKeyRefusal {
    /// 9D25: the card is behind even the archive.
    TooOld,
    /// 9D02: otherwise (card ahead, foreign).
    NoCommonKeys,
}

/// The bank's sync pair choice (12.3): for d = 2, 1, 0 the first k = m + d with holdsSync(k)
/// and holdsSync(k+1).
pub fn pick_sync_keys(bank_current: u8, arch: u8, card_oldest: u8) -> Result<u8, SyncKeyRefusal> {
    for d in [2u8, 1, 0] {
        let k = card_oldest.wrapping_add(d);
        if holds_sync(bank_current, arch, k) && holds_sync(bank_current, arch, k.wrapping_add(1)) {
            return Ok(k);
        }
    }
    let behind = bank_current.wrapping_sub(card_oldest.wrapping_add(3));
    if (1..=127).contains(&behind) {
        Err(SyncKeyRefusal::TooOld)
    } else {
        Err(SyncKeyRefusal::NoCommonKeys)
    }
}

/// NK of 12.7 step 4: keys the bank sends (0..6; a card ahead of its bank gets none).
pub fn keys_missing(bank_current: u8, card_current: u8) -> u8 {
    let nk = bank_current.wrapping_sub(card_current);
    if nk as u16 <= consts::SYNC_KEYS_MAX {
        nk
    } else {
        0
    }
}

// ------------------------------------------------------------------ packet lengths

/// Packet length of a body of `body` bytes in `suite` (2.4).
pub fn packet_len(suite: Suite, body: usize) -> usize {
    let b = suite.block_len();
    // HDR | C (body + the 80 pad byte, whole blocks) | MAC
    consts::HDR_LEN as usize + b * ((body + 1).div_ceil(b)) + consts::MAC_LEN as usize
}

/// P6 packet length for NK keys.
pub fn p6_len(suite: Suite, nk: u8) -> usize {
    packet_len(
        suite,
        consts::BODY_P6_FIXED as usize + nk as usize * suite.key_len(),
    )
}

/// S1 packet length (the P1 layout).
pub fn s1_len(suite: Suite) -> usize {
    packet_len(suite, consts::BODY_P1 as usize)
}
/// P5 packet length (the P2 layout, then the commitment): 96 in both suites.
pub fn p5_len(suite: Suite) -> usize {
    packet_len(suite, consts::BODY_P5 as usize)
}
pub fn invalidate_len(suite: Suite) -> usize {
    packet_len(suite, consts::BODY_INVALIDATE as usize)
}

/// What SYNC_BANK_P5 answered, told apart by the clear header TYPE (2.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BankAnswer {
    P6(Vec<u8>),
    Invalidate(Vec<u8>),
}

impl BankAnswer {
    pub fn classify(pkt: Vec<u8>) -> Result<Self, ParseError> {
        match pkt.first().map(|&t| PacketType::from_code(t)) {
            Some(PacketType::P6) => Ok(BankAnswer::P6(pkt)),
            Some(PacketType::Invalidate) => Ok(BankAnswer::Invalidate(pkt)),
            other => perr(format!("SYNC_BANK_P5 answered a packet of type {other:?}")),
        }
    }
    pub fn bytes(&self) -> &[u8] {
        match self {
            BankAnswer::P6(p) | BankAnswer::Invalidate(p) => p,
        }
    }
    /// NK from a P6's length (the host cannot read the body).
    pub fn keys_in_p6(&self, suite: Suite) -> Option<u8> {
        match self {
            BankAnswer::P6(p) => {
                (0..=consts::SYNC_KEYS_MAX as u8).find(|&nk| p6_len(suite, nk) == p.len())
            }
            _ => None,
        }
    }
}

// ------------------------------------------------------------------ bodies

/// P5 body (12.5.1, 74 bytes): the synced card's identity and R2 (the P2 layout, 6.3), then
/// its commitment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct P5Body {
    pub r1: [u8; 8],
    pub app_id: [u8; 8],
    pub name: [u8; 8],
    pub account: Account,
    pub role: u8,
    pub flags: u8,
    /// The identity's CURRENCY (the balance record carries its own, `currency`).
    pub id_currency: [u8; 2],
    pub r2: [u8; 8],
    pub amount: u32,
    pub currency: [u8; 2],
    pub decimals: u8,
    pub last_interest_date: u16,
    pub rate: u32,
    pub serial: u32,
    pub current: u8,
    pub passbook_count: u8,
    pub exception_count: u8,
    pub digest: [u8; 8],
    pub bad_key: u8,
    /// `HOLDER_PROVEN` (01) when the card's PIN was validated as it built P5 (FIG. 5 block 502), else 00.
    pub holder: u8,
}

impl P5Body {
    pub fn parse(d: &[u8]) -> Result<Self, ParseError> {
        if d.len() != BODY_P5 as usize {
            return perr(format!("P5 body: {} bytes, expected {BODY_P5}", d.len()));
        }
        let f = Fields(d);
        // the balance record's fields (BAL_*) at P5_BALANCE
        let b = P5_BALANCE;
        Ok(P5Body {
            r1: f.arr(P2_R1),
            app_id: f.arr(P2_APP),
            name: f.arr(P2_NAME),
            account: f.account(P2_ACCOUNT),
            role: f.u8(P2_ROLE),
            flags: f.u8(P2_FLAGS),
            id_currency: f.arr(P2_CURRENCY),
            r2: f.arr(P2_R2),
            amount: f.u32(b),
            currency: f.arr(b + BAL_CURRENCY),
            decimals: f.u8(b + BAL_DECIMALS),
            last_interest_date: f.u16(b + BAL_INTEREST_DATE),
            rate: f.u32(b + BAL_RATE),
            serial: f.u32(b + BAL_SERIAL),
            current: f.u8(P5_CURRENT),
            passbook_count: f.u8(P5_PB_COUNT),
            exception_count: f.u8(P5_EXC_COUNT),
            digest: f.arr(P5_DIGEST),
            bad_key: f.u8(P5_BAD_KEY),
            holder: f.u8(P5_HOLDER),
        })
    }
    pub fn encode(&self) -> Vec<u8> {
        let b = P5_BALANCE;
        let mut v = Layout::new(BODY_P5);
        v.put(P2_R1, &self.r1)
            .put(P2_APP, &self.app_id)
            .put(P2_NAME, &self.name)
            .put(P2_ACCOUNT, &self.account.0)
            .u8(P2_ROLE, self.role)
            .u8(P2_FLAGS, self.flags)
            .put(P2_CURRENCY, &self.id_currency)
            .put(P2_R2, &self.r2)
            .u32(b, self.amount)
            .put(b + BAL_CURRENCY, &self.currency)
            .u8(b + BAL_DECIMALS, self.decimals)
            .u16(b + BAL_INTEREST_DATE, self.last_interest_date)
            .u32(b + BAL_RATE, self.rate)
            .u32(b + BAL_SERIAL, self.serial)
            .u8(P5_CURRENT, self.current)
            .u8(P5_PB_COUNT, self.passbook_count)
            .u8(P5_EXC_COUNT, self.exception_count)
            .put(P5_DIGEST, &self.digest)
            .u8(P5_BAD_KEY, self.bad_key)
            .u8(P5_HOLDER, self.holder);
        v.into_vec()
    }
    pub fn private(&self) -> bool {
        self.flags & consts::FLAG_PRIVATE != 0
    }
}

/// P6 body (12.5.2, 50 + NK × KL bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct P6Body {
    pub r2: [u8; 8],
    pub app_id: [u8; 8],
    pub code: u8,
    pub interest: u32,
    pub new_interest_date: u16,
    pub rate: u32,
    pub flags: u8,
    pub card_account: Account,
    pub bank_account: Account,
    pub key_date: u16,
    pub first_key: u8,
    /// The keys, oldest first (never shown; tests only).
    #[serde(skip)]
    pub keys: Vec<Vec<u8>>,
}

impl P6Body {
    /// `key_len` = KL of the system suite (16 AES, 24 TDES).
    pub fn parse(d: &[u8], key_len: usize) -> Result<Self, ParseError> {
        let fixed = BODY_P6_FIXED as usize;
        if d.len() < fixed {
            return perr(format!("P6 body: {} bytes, at least {fixed}", d.len()));
        }
        let f = Fields(d);
        let nk = f.u8(P6_NK) as usize;
        if nk > consts::SYNC_KEYS_MAX as usize || d.len() != fixed + nk * key_len {
            return perr(format!("P6 body: {} bytes for NK {nk}", d.len()));
        }
        Ok(P6Body {
            r2: f.arr(P6_R2),
            app_id: f.arr(P6_APP),
            code: f.u8(P6_CODE),
            interest: f.u32(P6_AMOUNT),
            new_interest_date: f.u16(P6_DATE),
            rate: f.u32(P6_RATE),
            flags: f.u8(P6_FLAGS),
            card_account: f.account(P6_CARD_ACCOUNT),
            bank_account: f.account(P6_BANK_ACCOUNT),
            key_date: f.u16(P6_KEY_DATE),
            first_key: f.u8(P6_FIRST),
            keys: d[P6_KEYS as usize..]
                .chunks(key_len)
                .map(|k| k.to_vec())
                .collect(),
        })
    }
    pub fn encode(&self) -> Vec<u8> {
        let keys: Vec<u8> = self.keys.concat();
        // offsets 23..25 are not assigned by protocol.md 12.5.2 (RATE is at 25): zero
        let mut v = Layout::new(BODY_P6_FIXED + keys.len() as u16);
        v.put(P6_R2, &self.r2)
            .put(P6_APP, &self.app_id)
            .u8(P6_CODE, self.code)
            .u32(P6_AMOUNT, self.interest)
            .u16(P6_DATE, self.new_interest_date)
            .u32(P6_RATE, self.rate)
            .u8(P6_FLAGS, self.flags)
            .put(P6_CARD_ACCOUNT, &self.card_account.0)
            .put(P6_BANK_ACCOUNT, &self.bank_account.0)
            .u16(P6_KEY_DATE, self.key_date)
            .u8(P6_NK, self.keys.len() as u8)
            .u8(P6_FIRST, self.first_key)
            .put(P6_KEYS, &keys);
        v.into_vec()
    }
    pub fn clear(&self) -> bool {
        self.flags & consts::P6F_CLEAR != 0
    }
    pub fn unblock(&self) -> bool {
        self.flags & consts::P6F_UNBLOCK != 0
    }
    pub fn deferred(&self) -> bool {
        self.flags & consts::P6F_DEFERRED != 0
    }
}

/// INVALIDATE body (33 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvalidateBody {
    pub r2: [u8; 8],
    pub app_id: [u8; 8],
    pub code: u8,
    pub card_account: Account,
    pub bank_account: Account,
}

impl InvalidateBody {
    pub fn parse(d: &[u8]) -> Result<Self, ParseError> {
        if d.len() != BODY_INVALIDATE as usize {
            return perr(format!(
                "INVALIDATE body: {} bytes, expected {BODY_INVALIDATE}",
                d.len()
            ));
        }
        let f = Fields(d);
        Ok(InvalidateBody {
            r2: f.arr(INV_R2),
            app_id: f.arr(INV_APP),
            code: f.u8(INV_CODE),
            card_account: f.account(INV_CARD_ACCOUNT),
            bank_account: f.account(INV_BANK_ACCOUNT),
        })
    }
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Layout::new(BODY_INVALIDATE);
        v.put(INV_R2, &self.r2)
            .put(INV_APP, &self.app_id)
            .u8(INV_CODE, self.code)
            .put(INV_CARD_ACCOUNT, &self.card_account.0)
            .put(INV_BANK_ACCOUNT, &self.bank_account.0);
        v.into_vec()
    }
}

/// SACK / SNACK body (31 bytes, the ACK layout of 6.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SackBody {
    pub r1: [u8; 8],
    pub app_id: [u8; 8],
    /// 07 SACK, 08 SNACK.
    pub code: u8,
    pub amount: u32,
    pub card_account: Account,
    pub card_date: u16,
}

impl SackBody {
    pub fn parse(d: &[u8]) -> Result<Self, ParseError> {
        if d.len() != BODY_SHORT as usize {
            return perr(format!(
                "SACK body: {} bytes, expected {BODY_SHORT}",
                d.len()
            ));
        }
        let f = Fields(d);
        Ok(SackBody {
            r1: f.arr(PS_RANDOM),
            app_id: f.arr(PS_APP),
            code: f.u8(PS_CODE),
            amount: f.u32(PS_AMOUNT),
            card_account: f.account(PS_ACCOUNT),
            card_date: f.u16(PS_DATE),
        })
    }
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Layout::new(BODY_SHORT);
        v.put(PS_RANDOM, &self.r1)
            .put(PS_APP, &self.app_id)
            .u8(PS_CODE, self.code)
            .u32(PS_AMOUNT, self.amount)
            .put(PS_ACCOUNT, &self.card_account.0)
            .u16(PS_DATE, self.card_date);
        v.into_vec()
    }
    pub fn is_sack(&self) -> bool {
        self.code == consts::CODE_SACK
    }
}

// ------------------------------------------------------------------ digest (12.5.3)

/// The passbook digest the card commits to in P5 and the host sends the bank card after storing
/// the collection: `D` = the first 8 bytes of `SHA-256(ITEMS | N | X | 7C | SID)`, ITEMS = the
/// `N` passbook entries (oldest first; none for a private card, `N` = 0 then) followed by the `X`
/// exception entries, `N` and `X` one byte each, SID the sync's (its packets' clear header).
/// Nothing collected (`N` = `X` = 0): `D` = 00 × 8.
pub fn digest_of(sid: &[u8; 6], passbook: &[u8], exceptions: &[u8], private: bool) -> [u8; 8] {
    use sha2::{Digest, Sha256};
    let pb = if private { &[][..] } else { passbook };
    let n = pb.len() / consts::PB_ENTRY_LEN as usize;
    let x = exceptions.len() / consts::EXC_ENTRY_LEN as usize;
    if n + x == 0 {
        return [0; 8];
    }
    let mut h = Sha256::new();
    h.update(pb);
    h.update(exceptions);
    h.update([n as u8, x as u8, consts::DIGEST_TAG]);
    h.update(sid);
    let full = h.finalize();
    let mut d = [0u8; 8];
    d.copy_from_slice(&full[..8]);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_vectors_12_7() {
        assert_eq!(interest(100_000, 0x0006_8DB9, 30), Some(300));
        assert_eq!(interest(123_456, 0x0006_8DB9, 31), Some(382));
        assert_eq!(interest(u32::MAX, u32::MAX, 65535), None);
        assert_eq!(interest(0, u32::MAX, 65535), Some(0));
        assert_eq!(interest(1000, 0, 1000), Some(0));
    }

    #[test]
    fn decisions() {
        let base = InterestInputs {
            card_amount: 100_000,
            card_last_date: 9500,
            rate: 0x0006_8DB9,
            bank_date: 9530,
            bank_balance: 1_000_000,
            clear: true,
            passbook_count: 3,
            private: false,
        };
        assert_eq!(
            decide_interest(&base),
            InterestDecision {
                paid: 300,
                new_date: 9530,
                deferred: false
            }
        );
        let short = InterestInputs {
            bank_balance: 299,
            ..base
        };
        assert_eq!(
            decide_interest(&short),
            InterestDecision {
                paid: 0,
                new_date: 9500,
                deferred: true
            }
        );
        let full = InterestInputs {
            clear: false,
            passbook_count: 50,
            ..base
        };
        assert!(decide_interest(&full).deferred);
        let private = InterestInputs {
            private: true,
            ..base
        };
        assert_eq!(
            decide_interest(&private),
            InterestDecision {
                paid: 0,
                new_date: 9530,
                deferred: false
            }
        );
        let back = InterestInputs {
            bank_date: 9400,
            ..base
        };
        assert_eq!(
            decide_interest(&back),
            InterestDecision {
                paid: 0,
                new_date: 9500,
                deferred: false
            }
        );
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("0.01%/day").unwrap(), 0x0006_8DB9);
        assert_eq!(parse_rate("3.65").unwrap(), 0x0006_8DB9);
        assert_eq!(parse_rate("3.65%").unwrap(), 0x0006_8DB9);
        assert_eq!(parse_rate("3.65 %/year").unwrap(), 0x0006_8DB9);
        assert_eq!(parse_rate("0x10").unwrap(), 16);
        assert_eq!(parse_rate("0").unwrap(), 0);
        assert!(parse_rate("abc").is_err());
        assert!(parse_rate("-1").is_err());
        assert!(parse_rate("100%/day").is_err());
        assert!(describe_rate(0x0006_8DB9).starts_with("3.6500 %/year"));
    }

    #[test]
    fn keys_and_pairs() {
        // bank 10 with full archive holds 3..10; card 4..7 → k = 6 (pair 6, 7)
        assert_eq!(pick_sync_keys(10, 4, 4), Ok(6));
        // card 3 behind (oldest 4, current 7) with no archive: bank holds 7..10 → k = 6? no: 7,8? m+2=6 not held
        assert_eq!(pick_sync_keys(10, 0, 4), Err(SyncKeyRefusal::TooOld));
        // card 6 behind: oldest 1 (1..4), bank 10 archive 4 holds 3..10 → k = 3
        assert_eq!(pick_sync_keys(10, 4, 1), Ok(3));
        // card 7 behind: oldest 0 (0..3), bank holds 3..10: only key 3 → too old
        assert_eq!(pick_sync_keys(10, 4, 0), Err(SyncKeyRefusal::TooOld));
        // card ahead
        assert_eq!(pick_sync_keys(10, 4, 12), Err(SyncKeyRefusal::NoCommonKeys));
        assert_eq!(keys_missing(10, 7), 3);
        assert_eq!(keys_missing(10, 12), 0);
        assert_eq!(keys_missing(10, 3), 0);
        assert!(sync_pair_allowed(Role::Branch, Role::User));
        assert!(!sync_pair_allowed(Role::Center, Role::User));
    }

    #[test]
    fn lengths() {
        assert_eq!(p6_len(Suite::Aes128, 0), 80);
        assert_eq!(p6_len(Suite::Aes128, 6), 176);
        assert_eq!(p6_len(Suite::Tdes3, 0), 72);
        assert_eq!(p6_len(Suite::Tdes3, 6), 216);
        assert_eq!(p5_len(Suite::Aes128), 96);
        assert_eq!(p5_len(Suite::Tdes3), 96);
        assert_eq!(invalidate_len(Suite::Aes128), 64);
        assert_eq!(invalidate_len(Suite::Tdes3), 56);
        assert_eq!(s1_len(Suite::Aes128), 64);
        // and what Constants.java says the applet sends (S2 | P5 were 144 / 136 before 4.0)
        assert_eq!(p5_len(Suite::Aes128), consts::PKT_P5 as usize);
        assert_eq!(p5_len(Suite::Tdes3), consts::PKT_P5 as usize);
        assert_eq!(
            invalidate_len(Suite::Aes128),
            consts::PKT_INVALIDATE_AES as usize
        );
        assert_eq!(
            invalidate_len(Suite::Tdes3),
            consts::PKT_INVALIDATE_TDES as usize
        );
        let nk = consts::SYNC_KEYS_MAX as u8;
        assert_eq!(p6_len(Suite::Tdes3, nk), consts::PKT_P6_MAX as usize);
    }

    #[test]
    fn bodies_round_trip() {
        let p5 = P5Body {
            r1: [1; 8],
            app_id: [5; 8],
            name: *b"ALICE   ",
            account: Account::parse("1000000000000016").unwrap(),
            role: 4,
            flags: 0,
            id_currency: [0x09, 0x78],
            r2: [2; 8],
            amount: 1234,
            currency: [0x09, 0x78],
            decimals: 2,
            last_interest_date: 9500,
            rate: 7,
            serial: 9,
            current: 3,
            passbook_count: 4,
            exception_count: 1,
            digest: [0xDD; 8],
            bad_key: 2,
            holder: consts::HOLDER_PROVEN,
        };
        let e = p5.encode();
        assert_eq!(e.len(), 74);
        assert_eq!(P5Body::parse(&e).unwrap(), p5);
        let p6 = P6Body {
            r2: [2; 8],
            app_id: [5; 8],
            code: consts::CODE_SYNC_CREDIT,
            interest: 300,
            new_interest_date: 9530,
            rate: 0x68DB9,
            flags: 1,
            card_account: p5.account,
            bank_account: Account::parse("1000000000000024").unwrap(),
            key_date: 9530,
            first_key: 4,
            keys: vec![vec![1; 16], vec![2; 16]],
        };
        let e = p6.encode();
        assert_eq!(e.len(), 82);
        assert_eq!(P6Body::parse(&e, 16).unwrap(), p6);
        assert!(p6.clear() && !p6.unblock());
        let s = SackBody {
            r1: [1; 8],
            app_id: [5; 8],
            code: consts::CODE_SACK,
            amount: 300,
            card_account: p5.account,
            card_date: 9530,
        };
        assert_eq!(SackBody::parse(&s.encode()).unwrap(), s);
        assert!(s.is_sack());
        let i = InvalidateBody {
            r2: [2; 8],
            app_id: [5; 8],
            code: consts::CODE_INVALIDATE,
            card_account: p5.account,
            bank_account: p6.bank_account,
        };
        assert_eq!(InvalidateBody::parse(&i.encode()).unwrap(), i);
    }

    #[test]
    fn digest_is_one_hash_over_items_counts_and_sid() {
        use sha2::{Digest, Sha256};
        let sid = [0xA1u8, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6];
        let e1 = [1u8; 42];
        let e2 = [2u8; 42];
        let x = [3u8; 24];
        let h8 = |m: &[u8]| -> [u8; 8] {
            let mut d = [0u8; 8];
            d.copy_from_slice(&Sha256::digest(m)[..8]);
            d
        };
        assert_eq!(digest_of(&sid, &[], &[], false), [0; 8]);
        assert_eq!(digest_of(&sid, &e1, &[], true), [0; 8]);
        let mut pb = e1.to_vec();
        pb.extend_from_slice(&e2);
        let d = digest_of(&sid, &pb, &x, false);
        let m = [&pb[..], &x[..], &[2, 1, 0x7C], &sid[..]].concat();
        assert_eq!(d, h8(&m));
        // order matters, and so does the session
        let pb2 = [&e2[..], &e1[..]].concat();
        assert_ne!(digest_of(&sid, &pb2, &x, false), d);
        let mut other = sid;
        other[5] ^= 1;
        assert_ne!(digest_of(&other, &pb, &x, false), d);
        // the same 168 bytes framed as other items (4 entries or 7 exceptions): other counts,
        // other message, other digest
        let same = [9u8; 168];
        let as_pb = digest_of(&sid, &same, &[], false);
        let as_exc = digest_of(&sid, &[], &same, false);
        assert_eq!(as_exc, h8(&[&same[..], &[0, 7, 0x7C], &sid[..]].concat()));
        assert_ne!(as_pb, as_exc);
        // private: exceptions only, N = 0
        assert_eq!(
            digest_of(&sid, &pb, &x, true),
            h8(&[&x[..], &[0, 1, 0x7C], &sid[..]].concat())
        );
    }
}
