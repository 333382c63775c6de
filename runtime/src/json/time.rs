//! `google.protobuf.Timestamp` (RFC 3339 with `Z`) and `google.protobuf.Duration` ("1.5s").

use std::fmt;

use prost_types::{Duration as PbDuration, Timestamp as PbTimestamp};
use serde::de::{Deserializer, Error, Visitor};
use serde::ser::Error as _;
use serde::Serializer;

use super::codec::{invalid, Codec, Expect};

/// Seconds of 0001-01-01T00:00:00Z, the first instant a Timestamp may hold.
const MIN_TIMESTAMP: i64 = -62_135_596_800;
/// Seconds of 9999-12-31T23:59:59Z, the last second a Timestamp may hold.
const MAX_TIMESTAMP: i64 = 253_402_300_799;
/// About 10,000 years: the largest magnitude a Duration may hold.
const MAX_DURATION: i64 = 315_576_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Writes `.fff`, `.ffffff` or `.fffffffff` (the shortest of those that is exact), or nothing.
fn write_nanos(out: &mut impl fmt::Write, nanos: u32) -> fmt::Result {
    if nanos == 0 {
        Ok(())
    } else if nanos.is_multiple_of(1_000_000) {
        write!(out, ".{:03}", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        write!(out, ".{:06}", nanos / 1_000)
    } else {
        write!(out, ".{nanos:09}")
    }
}

/// A timestamp already checked to be printable; displays as RFC 3339 with `Z`, so serializers
/// write it straight into their output.
struct TimestampText {
    seconds: i64,
    nanos: u32,
}

impl TimestampText {
    fn new(ts: &PbTimestamp) -> Result<Self, String> {
        if !(MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(&ts.seconds) {
            return Err(format!("timestamp seconds {} out of range", ts.seconds));
        }
        let nanos = u32::try_from(ts.nanos)
            .ok()
            .filter(|n| *n < 1_000_000_000)
            .ok_or_else(|| format!("timestamp nanos {} out of range", ts.nanos))?;
        Ok(Self {
            seconds: ts.seconds,
            nanos,
        })
    }
}

impl fmt::Display for TimestampText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.seconds.div_euclid(86_400);
        let secs = self.seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )?;
        write_nanos(f, self.nanos)?;
        f.write_str("Z")
    }
}

/// Formats a timestamp, or says why it cannot be printed.
#[cfg(test)]
fn format_timestamp(ts: &PbTimestamp) -> Result<String, String> {
    TimestampText::new(ts).map(|t| t.to_string())
}

/// A cursor over ASCII text for the small fixed grammars below.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let (head, rest) = self.0.split_at_checked(n)?;
        let mut v = 0u32;
        for &b in head {
            if !b.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(b - b'0');
        }
        self.0 = rest;
        Some(v)
    }

    fn eat(&mut self, c: u8) -> bool {
        match self.0.split_first() {
            Some((&b, rest)) if b == c => {
                self.0 = rest;
                true
            }
            _ => false,
        }
    }

    /// Parses `.d{1,9}` into nanoseconds; 0 when there is no fraction.
    fn fraction(&mut self) -> Option<u32> {
        if !self.eat(b'.') {
            return Some(0);
        }
        let len = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 || len > 9 {
            return None;
        }
        let v = self.digits(len)?;
        Some(v * 10u32.pow(9 - len as u32))
    }
}

/// Parses an RFC 3339 timestamp (`Z` or a numeric offset).
pub(crate) fn parse_timestamp(text: &str) -> Option<PbTimestamp> {
    let mut c = Cursor(text.as_bytes());
    let year = c.digits(4)?;
    let ok = c.eat(b'-');
    let month = c.digits(2)?;
    let ok = ok && c.eat(b'-');
    let day = c.digits(2)?;
    let ok = ok && c.eat(b'T');
    let hour = c.digits(2)?;
    let ok = ok && c.eat(b':');
    let minute = c.digits(2)?;
    let ok = ok && c.eat(b':');
    let second = c.digits(2)?;
    if !ok || year == 0 || !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if day == 0 || day > days_in_month(i64::from(year), month) {
        return None;
    }
    let nanos = c.fraction()?;
    let offset = if c.eat(b'Z') {
        0
    } else {
        let sign = if c.eat(b'+') {
            1
        } else if c.eat(b'-') {
            -1
        } else {
            return None;
        };
        let oh = c.digits(2)?;
        if !c.eat(b':') {
            return None;
        }
        let om = c.digits(2)?;
        if oh > 23 || om > 59 {
            return None;
        }
        sign * i64::from(oh * 3600 + om * 60)
    };
    if !c.0.is_empty() {
        return None;
    }
    let seconds = days_from_civil(i64::from(year), month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset;
    (MIN_TIMESTAMP..=MAX_TIMESTAMP)
        .contains(&seconds)
        .then_some(PbTimestamp {
            seconds,
            nanos: nanos as i32,
        })
}

/// A duration already checked to be printable; displays as `"-1.500s"`.
struct DurationText {
    negative: bool,
    seconds: u64,
    nanos: u32,
}

impl DurationText {
    fn new(d: &PbDuration) -> Result<Self, String> {
        if d.seconds.abs() > MAX_DURATION || d.nanos.abs() >= 1_000_000_000 {
            return Err(format!(
                "duration {}s {}ns out of range",
                d.seconds, d.nanos
            ));
        }
        if (d.seconds > 0 && d.nanos < 0) || (d.seconds < 0 && d.nanos > 0) {
            return Err("duration seconds and nanos have different signs".to_owned());
        }
        Ok(Self {
            negative: d.seconds < 0 || d.nanos < 0,
            seconds: d.seconds.unsigned_abs(),
            nanos: d.nanos.unsigned_abs(),
        })
    }
}

impl fmt::Display for DurationText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        write!(f, "{}", self.seconds)?;
        write_nanos(f, self.nanos)?;
        f.write_str("s")
    }
}

/// Formats a duration, or says why it cannot be printed.
#[cfg(test)]
fn format_duration(d: &PbDuration) -> Result<String, String> {
    DurationText::new(d).map(|t| t.to_string())
}

/// Parses `-?\d+(\.\d{1,9})?s`.
pub(crate) fn parse_duration(text: &str) -> Option<PbDuration> {
    let body = text.strip_suffix('s')?;
    let (negative, body) = match body.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, body),
    };
    let int_len = body.bytes().take_while(u8::is_ascii_digit).count();
    if int_len == 0 {
        return None;
    }
    let seconds: i64 = body[..int_len].parse().ok()?;
    let mut c = Cursor(&body.as_bytes()[int_len..]);
    let nanos = c.fraction()?;
    if !c.0.is_empty() || seconds > MAX_DURATION {
        return None;
    }
    let sign = if negative { -1 } else { 1 };
    Some(PbDuration {
        seconds: sign * seconds,
        nanos: sign as i32 * nanos as i32,
    })
}

/// A visitor for the string forms of the time types.
struct TextVisitor<T> {
    field: &'static str,
    what: &'static str,
    parse: fn(&str) -> Option<T>,
}

impl<T> Visitor<'_> for TextVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.field, self.what).write(f)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v)
            .ok_or_else(|| invalid(self.field, format_args!("{v:?} is not {}", self.what)))
    }
}

/// `google.protobuf.Timestamp`: `"1972-01-01T10:00:20.021Z"`.
pub struct Timestamp;

impl Codec for Timestamp {
    type Value = PbTimestamp;

    fn serialize<S: Serializer>(value: &PbTimestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&TimestampText::new(value).map_err(S::Error::custom)?)
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<PbTimestamp, D::Error> {
        deserializer.deserialize_str(TextVisitor {
            field,
            what: "an RFC 3339 timestamp",
            parse: parse_timestamp,
        })
    }
}

/// `google.protobuf.Duration`: `"1.5s"`.
pub struct Duration;

impl Codec for Duration {
    type Value = PbDuration;

    fn serialize<S: Serializer>(value: &PbDuration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&DurationText::new(value).map_err(S::Error::custom)?)
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<PbDuration, D::Error> {
        deserializer.deserialize_str(TextVisitor {
            field,
            what: "a duration such as \"1.5s\"",
            parse: parse_duration,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(seconds: i64, nanos: i32) -> PbTimestamp {
        PbTimestamp { seconds, nanos }
    }

    #[test]
    fn timestamps_print_with_z_and_grouped_digits() {
        assert_eq!(format_timestamp(&ts(0, 0)).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_timestamp(&ts(0, 10_000_000)).unwrap(),
            "1970-01-01T00:00:00.010Z"
        );
        assert_eq!(
            format_timestamp(&ts(0, 10_000)).unwrap(),
            "1970-01-01T00:00:00.000010Z"
        );
        assert_eq!(
            format_timestamp(&ts(0, 1)).unwrap(),
            "1970-01-01T00:00:00.000000001Z"
        );
        assert_eq!(
            format_timestamp(&ts(MIN_TIMESTAMP, 0)).unwrap(),
            "0001-01-01T00:00:00Z"
        );
        assert_eq!(
            format_timestamp(&ts(MAX_TIMESTAMP, 999_999_999)).unwrap(),
            "9999-12-31T23:59:59.999999999Z"
        );
        assert!(format_timestamp(&ts(MAX_TIMESTAMP + 1, 0)).is_err());
        assert!(format_timestamp(&ts(0, -1)).is_err());
    }

    #[test]
    fn timestamps_parse_offsets_and_reject_bad_forms() {
        assert_eq!(parse_timestamp("1970-01-01T08:00:00+08:00"), Some(ts(0, 0)));
        assert_eq!(
            parse_timestamp("1969-12-31T16:00:00.5-08:00"),
            Some(ts(0, 500_000_000))
        );
        assert_eq!(
            parse_timestamp("2000-02-29T00:00:00Z"),
            Some(ts(951_782_400, 0))
        );
        for bad in [
            "1970-01-01t00:00:00Z",
            "1970-01-01T00:00:00z",
            "1970-01-01T00:00:00",
            "2001-02-29T00:00:00Z",
            "0000-12-31T23:59:59Z",
            "1970-01-01T00:00:00.Z",
            "1970-01-01T00:00:00.0000000001Z",
            "10000-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_round_trip_over_the_whole_range() {
        for days in (-719_162..2_932_896).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn durations_print_and_parse() {
        let d = |seconds, nanos| PbDuration { seconds, nanos };
        assert_eq!(format_duration(&d(1, 500_000_000)).unwrap(), "1.500s");
        assert_eq!(format_duration(&d(0, -500_000_000)).unwrap(), "-0.500s");
        assert_eq!(format_duration(&d(-3, 0)).unwrap(), "-3s");
        assert!(format_duration(&d(1, -1)).is_err());
        assert!(format_duration(&d(MAX_DURATION + 1, 0)).is_err());
        assert_eq!(parse_duration("-0.5s"), Some(d(0, -500_000_000)));
        assert_eq!(parse_duration("1.000000001s"), Some(d(1, 1)));
        assert_eq!(parse_duration("315576000000s"), Some(d(MAX_DURATION, 0)));
        for bad in [
            "1",
            "s",
            "1.s",
            "+1s",
            "1.0000000001s",
            "315576000001s",
            "- 1s",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
