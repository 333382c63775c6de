//! One rate, its grammar, and the bucket arithmetic.
//!
//! The grammar is on [`Limit`].
//!
//! # Arithmetic
//!
//! A token bucket kept as one number, its theoretical arrival time (GCRA): each call moves it one
//! emission interval (`period / count`) later, and a call is allowed while it stays within
//! `(burst - 1)` intervals of now. This is exactly a bucket of `burst` tokens refilled at
//! `count / period`, without a separate token count and refill timestamp.

use std::fmt;
use std::time::Duration;

/// The largest count or burst accepted.
const MAX_COUNT: u64 = 1_000_000_000;

/// A configured rate: `count` calls per `period`, bursts of up to `burst`.
///
/// # Grammar
///
/// ```text
/// <count>/<unit> [burst <size>]      e.g. 20/s   600/m   20/s burst 40   1000/h burst 50
/// off                                 no limit (also: unlimited)
/// ```
///
/// `unit` is `s`, `m` or `h` (also `sec`, `second`, `min`, `minute`, `hour`); words are
/// case-insensitive and separated by any whitespace. `count` and `size` are whole numbers from 1
/// to 1,000,000,000. Without `burst`, the bucket holds `count` calls: `600/m` allows 600 calls
/// at once, then one every 100 ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Calls per period.
    pub count: u32,
    /// The period (one second, minute or hour).
    pub period: Duration,
    /// Calls allowed at once after a quiet spell.
    pub burst: u32,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.period.as_secs() {
            1 => "s",
            60 => "m",
            _ => "h",
        };
        write!(f, "{}/{unit} burst {}", self.count, self.burst)
    }
}

/// Parses one value of the grammar: `Ok(None)` is `off`.
pub(crate) fn parse_limit(value: &str) -> Result<Option<Limit>, &'static str> {
    let lower = value.trim().to_ascii_lowercase();
    if lower == "off" || lower == "unlimited" {
        return Ok(None);
    }
    let mut words = lower.split_whitespace();
    let rate = words
        .next()
        .ok_or("a rate such as 20/s, 600/m or 20/s burst 40")?;
    let (count, unit) = rate
        .split_once('/')
        .ok_or("a rate such as 20/s, 600/m or 20/s burst 40 (missing '/')")?;
    let count =
        parse_count(count).ok_or("a whole number of calls from 1 to 1000000000 before '/'")?;
    let period = match unit {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        _ => return Err("a unit of s, m or h after '/'"),
    };
    let burst = match (words.next(), words.next(), words.next()) {
        (None, _, _) => count,
        (Some("burst"), Some(size), None) => {
            parse_count(size).ok_or("a whole burst size from 1 to 1000000000 after 'burst'")?
        }
        _ => return Err("nothing after the rate but 'burst <size>'"),
    };
    Ok(Some(Limit {
        count,
        period,
        burst,
    }))
}

fn parse_count(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>()
        .ok()
        .filter(|n| (1..=MAX_COUNT).contains(n))
        .map(|n| n as u32)
}

/// A limit in the units of one clock: the emission interval and the tolerance (how far ahead
/// of now the arrival time may run), both in clock ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pace {
    pub(crate) interval: u64,
    pub(crate) tolerance: u64,
}

impl Pace {
    /// The limit on a clock with `ticks_per_second` (10^9 for ns, 10^6 for µs).
    pub(crate) fn new(limit: &Limit, ticks_per_second: u64) -> Self {
        let period = limit.period.as_secs() as u128 * ticks_per_second as u128;
        // At least one tick: a faster rate than the clock resolves is capped by it.
        let interval = (period / limit.count as u128).max(1) as u64;
        // Within range: interval ≤ 3.6e12 ns and burst ≤ 1e9 give ≤ 3.6e21, so saturate.
        let tolerance = interval.saturating_mul(limit.burst as u64 - 1);
        Self {
            interval,
            tolerance,
        }
    }
}

/// One call against an arrival time `tat` at `now`: `Ok(new tat)` when allowed, `Err(wait)` in
/// ticks when limited.
pub(crate) fn gcra(tat: u64, now: u64, pace: Pace) -> Result<u64, u64> {
    let tat = tat.max(now);
    let ahead = tat - now;
    if ahead > pace.tolerance {
        Err(ahead - pace.tolerance)
    } else {
        Ok(tat.saturating_add(pace.interval))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(count: u32, secs: u64, burst: u32) -> Option<Limit> {
        Some(Limit {
            count,
            period: Duration::from_secs(secs),
            burst,
        })
    }

    #[test]
    fn grammar() {
        assert_eq!(parse_limit("20/s"), Ok(limit(20, 1, 20)));
        assert_eq!(parse_limit("600/m"), Ok(limit(600, 60, 600)));
        assert_eq!(parse_limit(" 20/s  burst   40 "), Ok(limit(20, 1, 40)));
        assert_eq!(parse_limit("5/Hour BURST 1"), Ok(limit(5, 3600, 1)));
        assert_eq!(parse_limit("1/sec"), Ok(limit(1, 1, 1)));
        assert_eq!(parse_limit("off"), Ok(None));
        assert_eq!(parse_limit("Unlimited"), Ok(None));
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        let cases = [
            ("", "a rate such as"),
            ("20", "missing '/'"),
            ("0/s", "whole number of calls"),
            ("-1/s", "whole number of calls"),
            ("+1/s", "whole number of calls"),
            ("1.5/s", "whole number of calls"),
            ("2000000000/s", "whole number of calls"),
            ("20/d", "a unit of s, m or h"),
            ("20/s burst", "nothing after the rate"),
            ("20/s burst 0", "whole burst size"),
            ("20/s burst 4 5", "nothing after the rate"),
            ("20/s per user", "nothing after the rate"),
        ];
        for (value, expected) in cases {
            let err = parse_limit(value).unwrap_err();
            assert!(err.contains(expected), "{value:?} gave {err:?}");
        }
    }

    #[test]
    fn pace_in_ticks() {
        let pace = Pace::new(&limit(20, 1, 40).unwrap(), 1_000_000_000);
        assert_eq!(pace.interval, 50_000_000);
        assert_eq!(pace.tolerance, 39 * 50_000_000);
        let pace = Pace::new(&limit(600, 60, 600).unwrap(), 1_000_000);
        assert_eq!(pace.interval, 100_000);
        // Faster than the clock: one tick.
        let pace = Pace::new(&limit(1_000_000_000, 1, 1).unwrap(), 1_000_000);
        assert_eq!(
            pace,
            Pace {
                interval: 1,
                tolerance: 0
            }
        );
    }

    #[test]
    fn a_full_bucket_allows_burst_calls_then_one_per_interval() {
        let pace = Pace {
            interval: 10,
            tolerance: 20,
        }; // burst 3
        let mut tat = 0;
        let now = 1_000;
        for _ in 0..3 {
            tat = gcra(tat, now, pace).expect("within the burst");
        }
        assert_eq!(gcra(tat, now, pace), Err(10));
        assert_eq!(gcra(tat, now + 9, pace), Err(1));
        tat = gcra(tat, now + 10, pace).expect("one token back");
        assert_eq!(gcra(tat, now + 10, pace), Err(10));
        // A long quiet spell refills to the burst, never beyond it.
        let later = now + 1_000_000;
        for _ in 0..3 {
            tat = gcra(tat, later, pace).expect("refilled");
        }
        assert!(gcra(tat, later, pace).is_err());
    }

    #[test]
    fn steady_rate_is_exact_over_time() {
        // 5 per 100 ticks, burst 1: over 1000 ticks of calls every tick, 50 are allowed (+1 at t=0).
        let pace = Pace {
            interval: 20,
            tolerance: 0,
        };
        let mut tat = 0;
        let allowed = (0..1_000u64)
            .filter(|now| match gcra(tat, *now, pace) {
                Ok(next) => {
                    tat = next;
                    true
                }
                Err(_) => false,
            })
            .count();
        assert_eq!(allowed, 50);
    }

    #[test]
    fn display_round_trips() {
        let l = limit(600, 60, 30).unwrap();
        assert_eq!(parse_limit(&l.to_string()), Ok(Some(l)));
    }
}
