//! Interest rates as people write them and as cards store them (protocol.md 1, 12.7).
//!
//! Cards hold RATE = a daily rate in units of 2^-32 per day. People give an **annual
//! percentage with up to 4 decimals** (simple interest, 365-day year): `3.65` means 3.65 % a
//! year = 0.01 % a day = RATE `00068DB9`. One function each way, used by every command that
//! takes or shows a rate (`purse admin rate`, `purse center advance --rate`, `purse status`).
//! A raw card value can be given as `0x` + 8 hex digits.
//!
//! Exactness: the annual percentage is kept in units of 10^-4 % (`a`); RATE = round(a × 2^32 /
//! 365 000 000). One unit of `a` is ≈ 11.8 RATE units, so the conversion round-trips exactly.

/// 365 days × 100 (percent) × 10 000 (4 decimals).
const DEN: u128 = 365 * 100 * 10_000;

/// Annual percentage in 10^-4 % units → RATE (2^-32 per day), rounded to nearest.
pub fn rate_from_annual_e4(a: u64) -> Option<u32> {
    let r = ((a as u128) << 32).checked_add(DEN / 2)? / DEN;
    u32::try_from(r).ok()
}

/// RATE → annual percentage in 10^-4 % units, rounded to nearest.
pub fn annual_e4_from_rate(rate: u32) -> u64 {
    ((rate as u128 * DEN + (1u128 << 31)) >> 32) as u64
}

/// Parse `3.65`, `3.6500%`, `0` (annual percentage, ≤ 4 decimals) or `0x00068DB9` (raw RATE).
pub fn parse_rate(s: &str) -> Result<u32, String> {
    let t = s.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u32::from_str_radix(h, 16).map_err(|_| format!("{s:?}: not a hex RATE"));
    }
    let t = t.strip_suffix('%').unwrap_or(t).trim();
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    let digits_ok = |x: &str| x.chars().all(|c| c.is_ascii_digit());
    if int.is_empty() || !digits_ok(int) || !digits_ok(frac) || int.len() > 6 {
        return Err(format!(
            "{s:?}: give the annual interest rate in percent, e.g. 3.65 (or a raw RATE as 0x00068DB9)"
        ));
    }
    if frac.len() > 4 {
        return Err(format!("{s:?}: at most 4 decimals in a rate"));
    }
    let a: u64 = format!("{int}{frac:0<4}")
        .parse()
        .map_err(|_| format!("{s:?}: bad rate"))?;
    rate_from_annual_e4(a).ok_or_else(|| format!("{s:?}: rate too high for a card"))
}

/// RATE as an annual percentage with 4 decimals, e.g. `3.6500`.
pub fn format_rate(rate: u32) -> String {
    let a = annual_e4_from_rate(rate);
    format!("{}.{:04}", a / 10_000, a % 10_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_rate() {
        // protocol.md 12.7: RATE 00068DB9 ≈ 0.01 %/day
        assert_eq!(parse_rate("3.65").unwrap(), 0x0006_8DB9);
        assert_eq!(parse_rate("3.6500%").unwrap(), 0x0006_8DB9);
        assert_eq!(parse_rate("0x00068DB9").unwrap(), 0x0006_8DB9);
        assert_eq!(format_rate(0x0006_8DB9), "3.6500");
        assert_eq!(parse_rate("0").unwrap(), 0);
        assert_eq!(format_rate(0), "0.0000");
    }

    #[test]
    fn round_trips_every_4_decimal_value() {
        for a in (0..2_000_000u64).step_by(7).chain([1, 9_999, 36_500_000]) {
            let r = rate_from_annual_e4(a).unwrap();
            assert_eq!(annual_e4_from_rate(r), a, "a = {a}");
        }
    }

    #[test]
    fn refuses_bad_text() {
        for s in ["", "abc", "1.23456", "-1", "1,5", "9999999"] {
            assert!(parse_rate(s).is_err(), "{s}");
        }
    }
}
