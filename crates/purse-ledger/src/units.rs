//! Amounts in the currency's units and times as dates, for the ledger's read commands.
//!
//! The passbook bytes carry minor units only. The currency comes from the cards' statuses that
//! syncs record (`card_status`): one system has one currency (P5 refuses a card of another), so
//! the ledger's currency is the one every recorded status agrees on. When there is none (an
//! older ledger) or they disagree, amounts stay minor units and say so.
use serde::Serialize;

use super::{format_day, Ledger, Result};
use crate::proto::types::Currency;

/// How to print the ledger's amounts.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Units {
    /// ISO 4217 alpha code (or the numeric code when unknown); None: minor units.
    pub currency: Option<String>,
    pub decimals: Option<u8>,
    /// Where the currency came from, or why there is none.
    pub source: String,
}

impl Units {
    /// Minor units (currency unknown).
    pub fn minor(why: &str) -> Units {
        Units {
            currency: None,
            decimals: None,
            source: why.into(),
        }
    }

    /// From a currency.
    pub fn of(c: Currency, source: &str) -> Units {
        Units {
            currency: Some(c.code()),
            decimals: Some(c.decimals),
            source: source.into(),
        }
    }

    /// The amount as a decimal string without the currency ("12.34"; "1234" in minor units).
    pub fn decimal(&self, v: i64) -> String {
        // sums can exceed one card's 32-bit balance: format from u64
        let s = big(v.unsigned_abs(), self.decimals.unwrap_or(0));
        if v < 0 {
            format!("-{s}")
        } else {
            s
        }
    }

    /// The amount with its unit: "12.34 EUR", or "1234 minor units".
    pub fn text(&self, v: i64) -> String {
        match &self.currency {
            Some(c) => format!("{} {c}", self.decimal(v)),
            None => format!("{} minor units", self.decimal(v)),
        }
    }

    /// The unit alone, for column headers: "EUR" or "minor units".
    pub fn unit(&self) -> &str {
        self.currency.as_deref().unwrap_or("minor units")
    }

    /// Amount for JSON: machine value (minor units) plus the formatted one.
    pub fn json(&self, v: i64) -> Amount {
        Amount {
            minor: v,
            decimal: self.decimal(v),
            currency: self.currency.clone(),
        }
    }
}

fn big(v: u64, decimals: u8) -> String {
    if decimals == 0 {
        return v.to_string();
    }
    let p = 10u64.pow(decimals as u32);
    format!("{}.{:0w$}", v / p, v % p, w = decimals as usize)
}

/// An amount in `--json`: `minor` (integer, minor units), `decimal` ("12.34"), `currency`
/// ("EUR", null when unknown: then `decimal` is minor units too).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Amount {
    pub minor: i64,
    pub decimal: String,
    pub currency: Option<String>,
}

impl Ledger {
    /// The ledger's currency, from the statuses recorded by syncs.
    pub fn units(&self) -> Result<Units> {
        let st = self.card_statuses()?;
        let mut seen: Vec<(u16, u8)> = st.iter().map(|s| (s.currency, s.decimals)).collect();
        seen.sort_unstable();
        seen.dedup();
        Ok(match seen.as_slice() {
            [] => Units::minor("no card status recorded by a sync: amounts are minor units"),
            [(n, d)] => Units::of(
                Currency {
                    numeric: *n,
                    decimals: *d,
                },
                "the cards' status recorded at sync",
            ),
            _ => Units::minor("cards of several currencies recorded: amounts are minor units"),
        })
    }
}

/// Unix seconds as RFC 3339 UTC ("2026-01-04T10:20:30Z").
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86400);
    let secs = unix.rem_euclid(86400);
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Unix seconds as "YYYY-MM-DD HH:MM" UTC, for text output.
pub fn datetime(unix: i64) -> String {
    let s = rfc3339(unix);
    format!("{} {}", &s[..10], &s[11..16])
}

/// Day number (protocol.md 1) as YYYY-MM-DD.
pub fn date(day: u16) -> String {
    format_day(day)
}

/// Civil date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_600 + 3661), "2026-01-01T01:01:01Z");
        assert_eq!(datetime(951_782_400), "2000-02-29 00:00");
        let eur = Units::of(
            Currency {
                numeric: 978,
                decimals: 2,
            },
            "t",
        );
        assert_eq!(eur.text(123_456), "1234.56 EUR");
        assert_eq!(eur.text(-5), "-0.05 EUR");
        assert_eq!(eur.decimal(10_000_000_000), "100000000.00");
        let m = Units::minor("t");
        assert_eq!(m.text(1234), "1234 minor units");
        assert_eq!(m.json(7).decimal, "7");
    }
}
