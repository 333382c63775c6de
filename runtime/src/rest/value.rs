//! Parsing one path or query value into a field's type.
//!
//! Formats follow proto3 JSON, without the quotes: integers in decimal, 64-bit ones too; floats
//! also as `NaN`, `Infinity`, `-Infinity`; bools as `true`/`false`; bytes as base64 (standard or
//! URL-safe, padding optional); enums by name or number; `Timestamp` as RFC 3339; `Duration` as
//! `1.5s`; `FieldMask` as comma-separated lowerCamel or snake_case paths. Wrapper types are their
//! wrapped value.

use base64::Engine as _;

/// A type a path or query value can be parsed into.
pub trait FromParam: Sized {
    /// Parses `value`; the error says why, without naming the field (the caller does).
    fn from_param(value: &str) -> Result<Self, String>;
}

impl FromParam for String {
    fn from_param(value: &str) -> Result<Self, String> {
        Ok(value.to_owned())
    }
}

impl FromParam for bool {
    fn from_param(value: &str) -> Result<Self, String> {
        match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("`{value}` is not a boolean (true or false)")),
        }
    }
}

macro_rules! integers {
    ($($ty:ty),*) => {$(
        impl FromParam for $ty {
            fn from_param(value: &str) -> Result<Self, String> {
                value.parse().map_err(|_| {
                    format!("`{value}` is not a valid {}", stringify!($ty))
                })
            }
        }
    )*};
}
integers!(i32, i64, u32, u64);

macro_rules! floats {
    ($($ty:ty),*) => {$(
        impl FromParam for $ty {
            fn from_param(value: &str) -> Result<Self, String> {
                match value {
                    "NaN" => Ok(<$ty>::NAN),
                    "Infinity" => Ok(<$ty>::INFINITY),
                    "-Infinity" => Ok(<$ty>::NEG_INFINITY),
                    // Rust also reads "inf"/"nan"; proto3 JSON does not.
                    _ if value.bytes().any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E') => {
                        Err(format!("`{value}` is not a number"))
                    }
                    _ => value.parse().map_err(|_| format!("`{value}` is not a number")),
                }
            }
        }
    )*};
}
floats!(f32, f64);

impl FromParam for Vec<u8> {
    fn from_param(value: &str) -> Result<Self, String> {
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        let trimmed = value.trim_end_matches('=');
        let engine = if trimmed.contains(['-', '_']) {
            URL_SAFE_NO_PAD
        } else {
            STANDARD_NO_PAD
        };
        engine
            .decode(trimmed)
            .map_err(|_| "not valid base64".to_owned())
    }
}

impl FromParam for prost_types::Timestamp {
    fn from_param(value: &str) -> Result<Self, String> {
        parse_timestamp(value).ok_or_else(|| format!("`{value}` is not an RFC 3339 timestamp"))
    }
}

impl FromParam for prost_types::Duration {
    fn from_param(value: &str) -> Result<Self, String> {
        parse_duration(value).ok_or_else(|| format!("`{value}` is not a duration like `1.5s`"))
    }
}

impl FromParam for prost_types::FieldMask {
    fn from_param(value: &str) -> Result<Self, String> {
        let paths = value
            .split(',')
            .filter(|p| !p.is_empty())
            .map(camel_to_snake_path)
            .collect();
        Ok(prost_types::FieldMask { paths })
    }
}

/// Parses an enum value by name (via prost's `from_str_name`) or by number.
pub fn parse_enum<E: Into<i32>>(
    value: &str,
    from_name: fn(&str) -> Option<E>,
) -> Result<i32, String> {
    if let Some(known) = from_name(value) {
        return Ok(known.into());
    }
    // Open enums: any number is kept, as proto3 JSON parsers do.
    value
        .parse::<i32>()
        .map_err(|_| format!("`{value}` is not a known enum value"))
}

fn camel_to_snake_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 4);
    for c in path.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `[-]S[.fff]s` with at most 9 fractional digits, within ±315,576,000,000 s.
fn parse_duration(value: &str) -> Option<prost_types::Duration> {
    let number = value.strip_suffix('s')?;
    let (negative, number) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (secs, frac) = number.split_once('.').unwrap_or((number, ""));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds: i64 = secs.parse().ok()?;
    if seconds > 315_576_000_000 {
        return None;
    }
    let nanos: i32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    let sign = if negative { -1 } else { 1 };
    Some(prost_types::Duration {
        seconds: sign * seconds,
        nanos: sign as i32 * nanos,
    })
}

/// RFC 3339: `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)`, years 0001–9999.
fn parse_timestamp(value: &str) -> Option<prost_types::Timestamp> {
    let b = value.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let s = value.get(from..to)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if year < 1 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &value[19..];
    let mut nanos = 0i32;
    if let Some(after_dot) = rest.strip_prefix('.') {
        let digits = after_dot.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = format!("{:0<9}", &after_dot[..digits]).parse().ok()?;
        rest = &after_dot[digits..];
    }
    let offset_secs = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || rb[3] != b':' {
                return None;
            }
            let sign = match rb[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let h: i64 = rest[1..3].parse().ok()?;
            let m: i64 = rest[4..6].parse().ok()?;
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(prost_types::Timestamp { seconds, nanos })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        assert_eq!(
            i64::from_param("-9007199254740993"),
            Ok(-9_007_199_254_740_993)
        );
        assert!(i32::from_param("12x").is_err());
        assert!(u32::from_param("-1").is_err());
        assert!(f64::from_param("Infinity").unwrap().is_infinite());
        assert!(f64::from_param("inf").is_err());
        assert_eq!(f32::from_param("1e3"), Ok(1000.0));
        assert_eq!(bool::from_param("true"), Ok(true));
        assert!(bool::from_param("yes").is_err());
        assert_eq!(Vec::<u8>::from_param("AAEC"), Ok(vec![0, 1, 2]));
        assert_eq!(Vec::<u8>::from_param("-_8="), Ok(vec![0xfb, 0xff]));
    }

    #[test]
    fn timestamps() {
        let t = prost_types::Timestamp::from_param("1972-01-01T10:00:20.021Z").unwrap();
        assert_eq!((t.seconds, t.nanos), (63_108_020, 21_000_000));
        let t = prost_types::Timestamp::from_param("1970-01-01T01:00:00+01:00").unwrap();
        assert_eq!(t.seconds, 0);
        assert!(prost_types::Timestamp::from_param("2023-02-29T00:00:00Z").is_err());
        assert!(prost_types::Timestamp::from_param("yesterday").is_err());
    }

    #[test]
    fn durations_and_masks() {
        let d = prost_types::Duration::from_param("-1.5s").unwrap();
        assert_eq!((d.seconds, d.nanos), (-1, -500_000_000));
        assert!(prost_types::Duration::from_param("1.5").is_err());
        let m = prost_types::FieldMask::from_param("displayName,shelf.bookCount").unwrap();
        assert_eq!(m.paths, ["display_name", "shelf.book_count"]);
    }

    #[test]
    fn enums() {
        fn from_name(name: &str) -> Option<i32> {
            (name == "RED").then_some(1)
        }
        assert_eq!(parse_enum("RED", from_name), Ok(1));
        assert_eq!(parse_enum("7", from_name), Ok(7));
        assert!(parse_enum("PURPLE", from_name).is_err());
    }
}
