//! Data types of protocol.md section 1 and the card's answers (4.3 GET_STATUS, 4.4 GET_PENDING,
//! 3.1 passbook entries, 4.5 exception entries), with parsing and display helpers. Amounts are
//! integers of minor units, parsed and printed with the currency's decimals — never floats.
use serde::Serialize;

use super::consts::{self, EntryType, Life, OutcomeKind, Role, SlotState, Suite};
use super::consts::{
    EXC_ACCOUNT, EXC_AMOUNT, EXC_DATE, EXC_PB_INDEX, EXC_REASON, EXC_TID, NAME_LEN, PB_ACCOUNT,
    PB_AMOUNT, PB_DATE, PB_KEYNUM, PB_NAME, PB_NEW_BALANCE, PB_RANDOM, PB_TID, PB_TYPE,
    PD_EXC_COUNT, PD_IN_ACCOUNT, PD_IN_AMOUNT, PD_IN_DATE, PD_IN_NAME, PD_IN_STATE, PD_IN_TID,
    PD_OUTCOMES, PD_OUTCOME_COUNT, PD_OUT_ACCOUNT, PD_OUT_AMOUNT, PD_OUT_DATE, PD_OUT_NAME,
    PD_OUT_STATE, PD_OUT_TID, ST_ACCOUNT, ST_APP_ID, ST_BAD_KEY, ST_BAD_KEY_LIMIT, ST_BALANCE,
    ST_CURRENCY, ST_CURRENT_KEY, ST_DECIMALS, ST_EXC_COUNT, ST_FLAGS, ST_INTEREST_DATE,
    ST_IN_STATE, ST_KEY_DATE, ST_LIFE, ST_MAX_TRANS, ST_MIN_TRANS, ST_NAME, ST_OUT_STATE,
    ST_PB_CAPACITY, ST_PB_COUNT, ST_PIN_TRIES, ST_RATE, ST_ROLE, ST_SERIAL, ST_SUITE, ST_TK_TRIES,
    ST_TXKEY_TRIES, ST_VER_MAJ, ST_VER_MIN, TID_LEN,
};
pub use super::wire::perr;
use super::wire::{ser_hex, Fields};

/// A parse error of a user-typed value or a card answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

// ------------------------------------------------------------------ amounts

/// Parse "12.50" (or "12.5", "12") into minor units with `decimals` decimals. No floats; more
/// decimals than the currency has, signs, or values above 2^32-1 minor units are refused.
pub fn parse_amount(s: &str, decimals: u8) -> Result<u32, ParseError> {
    let s = s.trim();
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return perr(format!("{s:?} is not an amount"));
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return perr(format!(
            "{s:?} is not an amount (digits and one '.', e.g. 12.50)"
        ));
    }
    if frac.len() > decimals as usize {
        return perr(format!(
            "{s:?} has {} decimals; this currency has {decimals}",
            frac.len()
        ));
    }
    let mut v: u64 = 0;
    for c in int.chars() {
        v = v * 10 + (c as u64 - '0' as u64);
        if v > u32::MAX as u64 {
            return perr(format!(
                "{s:?} is too large (max {})",
                format_amount(u32::MAX, decimals)
            ));
        }
    }
    for i in 0..decimals as usize {
        let d = frac
            .as_bytes()
            .get(i)
            .map(|c| (c - b'0') as u64)
            .unwrap_or(0);
        v = v * 10 + d;
    }
    if v > u32::MAX as u64 {
        return perr(format!(
            "{s:?} is too large (max {})",
            format_amount(u32::MAX, decimals)
        ));
    }
    Ok(v as u32)
}

/// Format minor units with `decimals` decimals: 1250, 2 → "12.50".
pub fn format_amount(v: u32, decimals: u8) -> String {
    if decimals == 0 {
        return v.to_string();
    }
    // by digits, not by 10^decimals: DECIMALS is a card's byte (up to 255; 10^20 overflows)
    let d = decimals as usize;
    let s = format!("{v:0>width$}", width = d + 1);
    let (int, frac) = s.split_at(s.len() - d);
    format!("{int}.{frac}")
}

// ------------------------------------------------------------------ currencies

/// Known ISO 4217 currencies: (alpha code, numeric, decimals).
pub const CURRENCIES: &[(&str, u16, u8)] = &[
    ("EUR", 978, 2),
    ("USD", 840, 2),
    ("GBP", 826, 2),
    ("CHF", 756, 2),
    ("JPY", 392, 0),
    ("SEK", 752, 2),
    ("NOK", 578, 2),
    ("DKK", 208, 2),
    ("PLN", 985, 2),
    ("CZK", 203, 2),
    ("CAD", 124, 2),
    ("AUD", 36, 2),
    ("CNY", 156, 2),
    ("INR", 356, 2),
    ("KWD", 414, 3),
    ("BHD", 48, 3),
    ("XTS", 963, 2),
];

/// Currency: ISO 4217 numeric (as 2 BCD bytes on card) and decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Currency {
    pub numeric: u16,
    pub decimals: u8,
}

impl Currency {
    /// "EUR", or a 3-digit numeric code ("978"); `decimals` overrides the table.
    pub fn parse(s: &str, decimals: Option<u8>) -> Result<Self, ParseError> {
        let up = s.trim().to_ascii_uppercase();
        let (numeric, dec) = if let Some((_, n, d)) = CURRENCIES.iter().find(|(a, _, _)| *a == up) {
            (*n, Some(*d))
        } else if up.len() <= 4 && !up.is_empty() && up.chars().all(|c| c.is_ascii_digit()) {
            let n: u16 = up
                .parse()
                .map_err(|_| ParseError(format!("bad currency {s:?}")))?;
            (
                n,
                CURRENCIES
                    .iter()
                    .find(|(_, c, _)| *c == n)
                    .map(|(_, _, d)| *d),
            )
        } else {
            return perr(format!(
                "unknown currency {s:?}: give an ISO 4217 code (EUR, USD, ...) or its number (978)"
            ));
        };
        let decimals = match (decimals, dec) {
            (Some(d), _) => d,
            (None, Some(d)) => d,
            (None, None) => return perr(format!("currency {s:?}: give --decimals")),
        };
        if decimals > consts::DECIMALS_MAX {
            return perr(format!("decimals {decimals} > {}", consts::DECIMALS_MAX));
        }
        if numeric > 9999 {
            return perr(format!("currency number {numeric} > 9999"));
        }
        Ok(Currency { numeric, decimals })
    }

    pub fn to_bcd(self) -> [u8; 2] {
        let n = self.numeric;
        [
            (((n / 1000) % 10) << 4 | ((n / 100) % 10)) as u8,
            (((n / 10) % 10) << 4 | (n % 10)) as u8,
        ]
    }

    pub fn from_bcd(b: [u8; 2], decimals: u8) -> Self {
        let d = |x: u8| (x >> 4) as u16 * 10 + (x & 0x0F) as u16;
        Currency {
            numeric: d(b[0]) * 100 + d(b[1]),
            decimals,
        }
    }

    /// "EUR" if known, else the number.
    pub fn code(self) -> String {
        CURRENCIES
            .iter()
            .find(|(_, n, _)| *n == self.numeric)
            .map(|(a, _, _)| a.to_string())
            .unwrap_or_else(|| format!("{:03}", self.numeric))
    }
}

// ------------------------------------------------------------------ dates

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    // proleptic Gregorian, days since 1970-01-01 (H. Hinnant's algorithm)
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

const EPOCH_2000: i64 = 10957; // days from 1970-01-01 to 2000-01-01

/// "YYYY-MM-DD" → day number since 2000-01-01 (protocol.md 1, DATE).
pub fn parse_date(s: &str) -> Result<u16, ParseError> {
    let parts: Vec<&str> = s.trim().split('-').collect();
    let bad = || ParseError(format!("{s:?} is not a date YYYY-MM-DD"));
    if parts.len() != 3 {
        return Err(bad());
    }
    let y: i64 = parts[0].parse().map_err(|_| bad())?;
    let m: i64 = parts[1].parse().map_err(|_| bad())?;
    let d: i64 = parts[2].parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let n = days_from_civil(y, m, d) - EPOCH_2000;
    if civil_from_days(n + EPOCH_2000) != (y, m, d) {
        return Err(bad());
    }
    if !(0..=0xFFFF).contains(&n) {
        return perr(format!("{s:?} is outside 2000-01-01 .. 2179"));
    }
    Ok(n as u16)
}

/// Day number → "YYYY-MM-DD".
pub fn format_date(day: u16) -> String {
    let (y, m, d) = civil_from_days(day as i64 + EPOCH_2000);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today's day number (UTC, from the system clock).
pub fn today() -> u16 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    (secs / 86400 - EPOCH_2000).clamp(0, 0xFFFF) as u16
}

// ------------------------------------------------------------------ names, secrets, accounts

/// NAME: 1..8 printable ASCII characters, right-padded with spaces.
pub fn encode_name(s: &str) -> Result<[u8; 8], ParseError> {
    if s.is_empty() || s.len() > 8 {
        return perr(format!("name {s:?}: 1 to 8 characters"));
    }
    if !s
        .bytes()
        .all(|b| (consts::NAME_MIN_CHAR..=consts::NAME_MAX_CHAR).contains(&b))
    {
        return perr(format!("name {s:?}: printable ASCII only"));
    }
    let mut n = [0x20u8; 8];
    n[..s.len()].copy_from_slice(s.as_bytes());
    Ok(n)
}

pub fn decode_name(b: &[u8]) -> String {
    b.iter()
        .map(|&c| {
            if (0x20..=0x7E).contains(&c) {
                c as char
            } else {
                '?'
            }
        })
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// SECRET field: L then 16 bytes zero padded. `range` = allowed (min, max) length; an empty
/// secret is allowed only if `allow_empty` (transaction key "none").
pub fn encode_secret(
    s: &[u8],
    range: (usize, usize),
    allow_empty: bool,
) -> Result<[u8; 17], ParseError> {
    if !(s.is_empty() && allow_empty) && (s.len() < range.0 || s.len() > range.1) {
        return perr(format!("must be {} to {} characters", range.0, range.1));
    }
    let mut f = [0u8; 17];
    f[0] = s.len() as u8;
    f[1..1 + s.len()].copy_from_slice(s);
    Ok(f)
}

/// Luhn check digit over 15 digits (protocol.md 1.1).
pub fn luhn(digits15: &[u8]) -> u8 {
    let mut sum = 0u32;
    for (i, &d) in digits15.iter().rev().enumerate() {
        let mut v = d as u32;
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    ((10 - sum % 10) % 10) as u8
}

/// ACCOUNT: 16 digits, packed BCD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Account(pub [u8; 8]);

impl Account {
    pub fn digits(&self) -> Vec<u8> {
        self.0.iter().flat_map(|b| [b >> 4, b & 0x0F]).collect()
    }
    /// From 15 digits: appends the Luhn digit.
    pub fn from_digits15(d: &[u8]) -> Result<Self, ParseError> {
        if d.len() != 15 || d.iter().any(|&x| x > 9) {
            return perr("an account has 15 digits plus the check digit");
        }
        let mut all = d.to_vec();
        all.push(luhn(d));
        let mut b = [0u8; 8];
        for i in 0..8 {
            b[i] = all[2 * i] << 4 | all[2 * i + 1];
        }
        Ok(Account(b))
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let d: Vec<u8> = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c as u8)
            .collect();
        if d.len() != 16 || !d.iter().all(|c| c.is_ascii_digit()) {
            return perr(format!("{s:?} is not a 16-digit account number"));
        }
        let d: Vec<u8> = d.iter().map(|c| c - b'0').collect();
        let a = Account::from_digits15(&d[..15])?;
        if a.digits()[15] != d[15] {
            return perr(format!("{s:?}: wrong check digit"));
        }
        Ok(a)
    }
    /// Is every nibble a digit and the check digit right?
    pub fn is_valid(&self) -> bool {
        let d = self.digits();
        d.iter().all(|&x| x <= 9) && luhn(&d[..15]) == d[15]
    }
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 8]
    }
    /// Issuer id: digits 1-6.
    pub fn issuer_id(&self) -> String {
        self.to_string()[..6].to_string()
    }
    /// Serial: digits 7-15.
    pub fn serial(&self) -> String {
        self.to_string()[6..15].to_string()
    }
}

impl std::fmt::Display for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in self.digits() {
            if d <= 9 {
                write!(f, "{d}")?;
            } else {
                write!(f, "?")?;
            }
        }
        Ok(())
    }
}

impl Serialize for Account {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// ISSUER_ID from 6 digits ("100000") to 3 BCD bytes.
pub fn parse_issuer_id(s: &str) -> Result<[u8; 3], ParseError> {
    if s.len() != 6 || !s.chars().all(|c| c.is_ascii_digit()) {
        return perr(format!("issuer id {s:?}: 6 digits"));
    }
    let d: Vec<u8> = s.bytes().map(|c| c - b'0').collect();
    Ok([d[0] << 4 | d[1], d[2] << 4 | d[3], d[4] << 4 | d[5]])
}

// ------------------------------------------------------------------ card answers

/// GET_STATUS (protocol.md 4.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    pub ver_major: u8,
    pub ver_minor: u8,
    pub life: Life,
    pub suite: Suite,
    pub role: Role,
    pub flags: u8,
    pub account: Account,
    pub name: String,
    pub currency: Currency,
    pub balance: u32,
    pub min_trans: u32,
    pub max_trans: u32,
    pub current_key: u8,
    pub key_date: u16,
    pub bad_key: u8,
    pub bad_key_limit: u8,
    pub passbook_count: u8,
    pub passbook_capacity: u8,
    pub pin_tries: u8,
    /// FF: no transaction key set.
    pub txkey_tries: u8,
    pub out_state: SlotState,
    pub in_state: SlotState,
    pub exception_count: u8,
    #[serde(serialize_with = "ser_hex")]
    pub app_id: [u8; 8],
    pub interest_date: u16,
    pub rate: u32,
    pub serial: u32,
    pub tk_tries: u8,
}

impl Status {
    pub fn parse(d: &[u8]) -> Result<Self, ParseError> {
        if d.len() != consts::STATUS_LEN as usize {
            return perr(format!(
                "GET_STATUS: {} bytes, expected {}",
                d.len(),
                consts::STATUS_LEN
            ));
        }
        let f = Fields(d);
        Ok(Status {
            ver_major: f.u8(ST_VER_MAJ),
            ver_minor: f.u8(ST_VER_MIN),
            life: Life::from_code(f.u8(ST_LIFE)),
            suite: Suite::from_code(f.u8(ST_SUITE)),
            role: Role::from_code(f.u8(ST_ROLE)),
            flags: f.u8(ST_FLAGS),
            account: f.account(ST_ACCOUNT),
            name: decode_name(f.bytes(ST_NAME, NAME_LEN)),
            currency: Currency::from_bcd(f.arr(ST_CURRENCY), f.u8(ST_DECIMALS)),
            balance: f.u32(ST_BALANCE),
            min_trans: f.u32(ST_MIN_TRANS),
            max_trans: f.u32(ST_MAX_TRANS),
            current_key: f.u8(ST_CURRENT_KEY),
            key_date: f.u16(ST_KEY_DATE),
            bad_key: f.u8(ST_BAD_KEY),
            bad_key_limit: f.u8(ST_BAD_KEY_LIMIT),
            passbook_count: f.u8(ST_PB_COUNT),
            passbook_capacity: f.u8(ST_PB_CAPACITY),
            pin_tries: f.u8(ST_PIN_TRIES),
            txkey_tries: f.u8(ST_TXKEY_TRIES),
            out_state: SlotState::from_code(f.u8(ST_OUT_STATE)),
            in_state: SlotState::from_code(f.u8(ST_IN_STATE)),
            exception_count: f.u8(ST_EXC_COUNT),
            app_id: f.arr(ST_APP_ID),
            interest_date: f.u16(ST_INTEREST_DATE),
            rate: f.u32(ST_RATE),
            serial: f.u32(ST_SERIAL),
            tk_tries: f.u8(ST_TK_TRIES),
        })
    }
    pub fn locked(&self) -> bool {
        self.life == Life::Active && self.bad_key >= self.bad_key_limit
    }
    pub fn merchant(&self) -> bool {
        self.flags & consts::FLAG_MERCHANT != 0
    }
    /// Key numbers held: CURRENT-3 ..= CURRENT (mod 256), oldest first.
    pub fn key_numbers(&self) -> [u8; 4] {
        let c = self.current_key;
        [c.wrapping_sub(3), c.wrapping_sub(2), c.wrapping_sub(1), c]
    }
    pub fn amount(&self, v: u32) -> String {
        format_amount(v, self.currency.decimals)
    }
}

/// One side of GET_PENDING.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PendingSlot {
    pub state: SlotState,
    #[serde(serialize_with = "ser_hex")]
    pub tid: [u8; 6],
    pub amount: u32,
    pub account: Account,
    pub name: String,
    pub date: u16,
}

/// One OUTCOMES entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    #[serde(serialize_with = "ser_hex")]
    pub tid: [u8; 6],
    pub kind: OutcomeKind,
}

/// GET_PENDING (protocol.md 4.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pending {
    pub out: PendingSlot,
    pub r#in: PendingSlot,
    pub outcomes: Vec<Outcome>,
    pub exception_count: u8,
}

impl Pending {
    pub fn parse(d: &[u8]) -> Result<Self, ParseError> {
        if d.len() != consts::PENDING_LEN as usize {
            return perr(format!(
                "GET_PENDING: {} bytes, expected {}",
                d.len(),
                consts::PENDING_LEN
            ));
        }
        let f = Fields(d);
        // the IN slot has the OUT slot's layout, PD_IN_STATE further on
        let slot =
            |state: u16, tid: u16, amount: u16, account: u16, name: u16, date: u16| PendingSlot {
                state: SlotState::from_code(f.u8(state)),
                tid: f.arr(tid),
                amount: f.u32(amount),
                account: f.account(account),
                name: decode_name(f.bytes(name, NAME_LEN)),
                date: f.u16(date),
            };
        let n = f.u8(PD_OUTCOME_COUNT).min(consts::OUTCOMES as u8) as u16;
        let outcomes = (0..n)
            .map(|i| {
                // each outcome: TID then its kind byte
                let o = PD_OUTCOMES + (TID_LEN + 1) * i;
                Outcome {
                    tid: f.arr(o),
                    kind: OutcomeKind::from_code(f.u8(o + TID_LEN)),
                }
            })
            .collect();
        Ok(Pending {
            out: slot(
                PD_OUT_STATE,
                PD_OUT_TID,
                PD_OUT_AMOUNT,
                PD_OUT_ACCOUNT,
                PD_OUT_NAME,
                PD_OUT_DATE,
            ),
            r#in: slot(
                PD_IN_STATE,
                PD_IN_TID,
                PD_IN_AMOUNT,
                PD_IN_ACCOUNT,
                PD_IN_NAME,
                PD_IN_DATE,
            ),
            outcomes,
            exception_count: f.u8(PD_EXC_COUNT),
        })
    }
}

/// Passbook entry (protocol.md 3.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PassbookEntry {
    pub account: Account,
    pub name: String,
    #[serde(serialize_with = "ser_hex")]
    pub random: [u8; 8],
    pub date: u16,
    pub kind: EntryType,
    pub amount: u32,
    pub new_balance: u32,
    #[serde(serialize_with = "ser_hex")]
    pub tid: [u8; 6],
    pub keynum: u8,
}

impl PassbookEntry {
    pub fn parse(d: &[u8]) -> Result<Self, ParseError> {
        if d.len() != consts::PB_ENTRY_LEN as usize {
            return perr(format!(
                "passbook entry: {} bytes, expected {}",
                d.len(),
                consts::PB_ENTRY_LEN
            ));
        }
        let f = Fields(d);
        Ok(PassbookEntry {
            account: f.account(PB_ACCOUNT),
            name: decode_name(f.bytes(PB_NAME, NAME_LEN)),
            random: f.arr(PB_RANDOM),
            date: f.u16(PB_DATE),
            kind: EntryType::from_code(f.u8(PB_TYPE)),
            amount: f.u32(PB_AMOUNT),
            new_balance: f.u32(PB_NEW_BALANCE),
            tid: f.arr(PB_TID),
            keynum: f.u8(PB_KEYNUM),
        })
    }
}

/// Exception entry (protocol.md 4.5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExceptionEntry {
    #[serde(serialize_with = "ser_hex")]
    pub tid: [u8; 6],
    pub amount: u32,
    pub account: Account,
    pub date: u16,
    pub reason: u8,
    pub passbook_index: u8,
}

impl ExceptionEntry {
    pub fn parse(d: &[u8]) -> Result<Self, ParseError> {
        if d.len() != consts::EXC_ENTRY_LEN as usize {
            return perr(format!(
                "exception entry: {} bytes, expected {}",
                d.len(),
                consts::EXC_ENTRY_LEN
            ));
        }
        let f = Fields(d);
        Ok(ExceptionEntry {
            tid: f.arr(EXC_TID),
            amount: f.u32(EXC_AMOUNT),
            account: f.account(EXC_ACCOUNT),
            date: f.u16(EXC_DATE),
            reason: f.u8(EXC_REASON),
            passbook_index: f.u8(EXC_PB_INDEX),
        })
    }
}

/// True when every nibble is a decimal digit (an account number, not a private signature).
pub fn is_account_number(a: &Account) -> bool {
    a.0.iter().all(|b| b >> 4 <= 9 && b & 0x0F <= 9)
}

/// Account as stored in the ledger: the 16 digits, or `sig:` + 16 hex digits for a private
/// card's signature (F15), so two signatures never print alike.
pub fn account_text(a: &Account) -> String {
    if is_account_number(a) {
        a.to_string()
    } else {
        format!("sig:{}", hex::encode_upper(a.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("12.50", 2).unwrap(), 1250);
        assert_eq!(parse_amount("12.5", 2).unwrap(), 1250);
        assert_eq!(parse_amount("12", 2).unwrap(), 1200);
        assert_eq!(parse_amount(".05", 2).unwrap(), 5);
        assert_eq!(parse_amount("7", 0).unwrap(), 7);
        assert!(parse_amount("12.505", 2).is_err());
        assert!(parse_amount("-1", 2).is_err());
        assert!(parse_amount("1e3", 2).is_err());
        assert!(parse_amount("42949672.95", 2).is_ok());
        assert!(parse_amount("42949672.96", 2).is_err());
        assert!(parse_amount("99999999999999999999", 2).is_err());
        assert_eq!(format_amount(1250, 2), "12.50");
        assert_eq!(format_amount(5, 2), "0.05");
        assert_eq!(format_amount(5, 0), "5");
        assert_eq!(format_amount(u32::MAX, 4), "429496.7295");
        assert_eq!(format_amount(7, 12), "0.000000000007");
        assert_eq!(format_amount(u32::MAX, 255).len(), 257); // a hostile card's DECIMALS
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2000-01-01").unwrap(), 0);
        assert_eq!(parse_date("2026-01-04").unwrap(), 9500);
        assert_eq!(format_date(9500), "2026-01-04");
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("1999-12-31").is_err());
        for d in [0u16, 59, 60, 365, 9500, 65535] {
            assert_eq!(parse_date(&format_date(d)).unwrap(), d);
        }
    }

    #[test]
    fn currency_and_names() {
        let c = Currency::parse("eur", None).unwrap();
        assert_eq!(c.to_bcd(), [0x09, 0x78]);
        assert_eq!(Currency::from_bcd([0x08, 0x40], 2).code(), "USD");
        assert_eq!(Currency::parse("978", None).unwrap(), c);
        assert!(Currency::parse("XXX", None).is_err());
        assert_eq!(&encode_name("ALICE").unwrap(), b"ALICE   ");
        assert!(encode_name("TOOLONGNAME").is_err());
        assert!(encode_name("caf\u{e9}").is_err());
        assert_eq!(decode_name(b"ALICE   "), "ALICE");
    }
}

// ------------------------------------------------------------------ key negotiation (3.2)

/// holds(n) ⇔ (CURRENT − n) mod 256 ≤ 3.
pub fn holds(current: u8, n: u8) -> bool {
    current.wrapping_sub(n) <= consts::KEY_WINDOW as u8
}

/// The payer's choice of k (protocol.md 3.2): payee announces its oldest key number `m`; for
/// d = 2, 1, 0 the first k = m + d with holds(k) and holds(k + 1) on the payer. AK0 = k,
/// AK1 = k + 1. `None`: the cards share fewer than two consecutive keys (9D02).
pub fn pick_keys(payer_current: u8, payee_oldest: u8) -> Option<u8> {
    (0..=2u8)
        .rev()
        .map(|d| payee_oldest.wrapping_add(d))
        .find(|&k| holds(payer_current, k) && holds(payer_current, k.wrapping_add(1)))
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn patent_examples() {
        // payer 49-52, payee 51-54: k = 51
        assert_eq!(pick_keys(52, 51), Some(51));
        // payer 51-54, payee 49-52: k = 51 as well (newest common pair)
        assert_eq!(pick_keys(54, 49), Some(51));
        // payer 51-54, payee 54-57: one common key only, refused
        assert_eq!(pick_keys(54, 54), None);
        // same keys: the newest pair
        assert_eq!(pick_keys(3, 0), Some(2));
        // same keys, newest pair, away from 0: payer 7-10 / payee 7-10 -> k = 9
        assert_eq!(pick_keys(10, 7), Some(9));
        // wrap-around mod 256
        assert_eq!(pick_keys(1, 254), Some(0));
        assert!(holds(1, 254) && holds(1, 1) && !holds(1, 2));
    }
}
