//! Timeout strings of `#[tacos(timeout = "...")]`: a positive number and a unit, such as `"2s"`,
//! `"250ms"` or `"1.5m"`.

use std::time::Duration;

const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses a timeout; the error says what is wrong and how a valid one looks.
pub(crate) fn parse_timeout(text: &str) -> Result<Duration, String> {
    const EXAMPLE: &str =
        "write a number and a unit (ns, us, ms, s, m, h), such as \"2s\" or \"250ms\"";
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("timeout `{text}` has no unit: {EXAMPLE}"))?;
    let (number, unit) = text.split_at(split);
    let &(_, nanos_per_unit) = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .ok_or_else(|| format!("timeout `{text}` has an unknown unit `{unit}`: {EXAMPLE}"))?;
    let nanos = scaled(number, nanos_per_unit)
        .ok_or_else(|| format!("timeout `{text}` is not a number and a unit: {EXAMPLE}"))?;
    if nanos == 0 {
        return Err(format!("timeout `{text}` must be longer than zero"));
    }
    let nanos = u64::try_from(nanos).map_err(|_| format!("timeout `{text}` is too long"))?;
    Ok(Duration::from_nanos(nanos))
}

/// `number` (digits with at most one decimal point) times `scale`, in whole units, exactly.
fn scaled(number: &str, scale: u128) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') || fraction.len() > 18 {
        return None;
    }
    let digits = |s: &str| -> Option<u128> {
        if s.is_empty() {
            Some(0)
        } else {
            s.parse().ok()
        }
    };
    let whole = digits(whole)?.checked_mul(scale)?;
    let denominator = 10u128.pow(u32::try_from(fraction.len()).ok()?);
    let fraction = digits(fraction)?.checked_mul(scale)? / denominator;
    whole.checked_add(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_numbers_with_units() {
        assert_eq!(parse_timeout("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_timeout("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_timeout("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_timeout("10us"), Ok(Duration::from_micros(10)));
        assert_eq!(parse_timeout("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_timeout(".5s"), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn rejects_malformed_strings() {
        for bad in [
            "", "2", "s", "2 s", "2sec", "1.2.3s", "-1s", "0s", "0.0ms", "two s",
        ] {
            assert!(parse_timeout(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(parse_timeout("2sec")
            .unwrap_err()
            .contains("unknown unit `sec`"));
        assert!(parse_timeout("0s")
            .unwrap_err()
            .contains("longer than zero"));
        assert!(parse_timeout("99999999999h")
            .unwrap_err()
            .contains("too long"));
    }
}
