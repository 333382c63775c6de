//! A percentage split of calls between gRPC and REST, decided per call and changeable while
//! running.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};

use rand::Rng;

/// A percentage outside `0..=100`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a gRPC percentage must be from 0 to 100, not {0}")]
pub struct PercentOutOfRange(pub u32);

/// Sends a share of calls over gRPC and the rest over REST.
///
/// Each call draws from the thread's random generator, so the share holds for any mix of methods
/// (a counter stride could send every call of one method one way when callers alternate). 0 and
/// 100 draw nothing and are exact.
#[derive(Debug)]
pub struct Split {
    percent: AtomicU8,
}

impl Split {
    /// A split sending `percent` of calls over gRPC.
    pub fn new(percent: u32) -> Result<Self, PercentOutOfRange> {
        Ok(Self {
            percent: AtomicU8::new(checked(percent)?),
        })
    }

    /// The share of calls sent over gRPC now, in percent.
    pub fn percent(&self) -> u8 {
        self.percent.load(Ordering::Relaxed)
    }

    /// Changes the share for calls decided from now on.
    pub fn set_percent(&self, percent: u32) -> Result<(), PercentOutOfRange> {
        let percent = checked(percent)?;
        let before = self.percent.swap(percent, Ordering::Relaxed);
        if before != percent {
            tracing::info!(from = before, to = percent, "gRPC share of calls changed");
        }
        Ok(())
    }

    /// Whether this call goes over gRPC.
    pub fn grpc(&self) -> bool {
        match self.percent() {
            0 => false,
            100 => true,
            p => rand::rng().random_range(0..100u8) < p,
        }
    }

    /// `grpc` for a call going over gRPC, `rest` otherwise.
    pub fn pick<'a, T: ?Sized>(&self, grpc: &'a T, rest: &'a T) -> &'a T {
        if self.grpc() {
            grpc
        } else {
            rest
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}% gRPC", self.percent())
    }
}

fn checked(percent: u32) -> Result<u8, PercentOutOfRange> {
    u8::try_from(percent)
        .ok()
        .filter(|p| *p <= 100)
        .ok_or(PercentOutOfRange(percent))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn grpc_share(split: &Split, calls: usize) -> usize {
        (0..calls).filter(|_| split.grpc()).count()
    }

    #[test]
    fn extremes_are_exact() {
        assert_eq!(grpc_share(&Split::new(0).unwrap(), 10_000), 0);
        assert_eq!(grpc_share(&Split::new(100).unwrap(), 10_000), 10_000);
    }

    #[test]
    fn shares_hold_over_ten_thousand_calls() {
        // 10k Bernoulli draws: the standard deviation is at most 50 calls; allow 5 of them.
        for percent in [1, 10, 25, 50, 90, 99] {
            let split = Split::new(percent).unwrap();
            let got = grpc_share(&split, 10_000) as i64;
            let want = i64::from(percent) * 100;
            assert!((got - want).abs() <= 250, "{percent}%: {got} of 10000");
        }
    }

    #[test]
    fn changes_apply_while_running() {
        let split = Arc::new(Split::new(0).unwrap());
        assert_eq!(grpc_share(&split, 1000), 0);
        split.set_percent(100).unwrap();
        assert_eq!(grpc_share(&split, 1000), 1000);
        split.set_percent(30).unwrap();
        let got = grpc_share(&split, 10_000);
        assert!((2750..=3250).contains(&got), "{got}");
        // Other threads see the change too.
        let other = Arc::clone(&split);
        split.set_percent(0).unwrap();
        let seen = std::thread::spawn(move || grpc_share(&other, 1000))
            .join()
            .unwrap();
        assert_eq!(seen, 0);
        assert_eq!(split.to_string(), "0% gRPC");
    }

    #[test]
    fn out_of_range_is_refused() {
        assert_eq!(Split::new(101).unwrap_err(), PercentOutOfRange(101));
        let split = Split::new(40).unwrap();
        assert_eq!(split.set_percent(1000), Err(PercentOutOfRange(1000)));
        assert_eq!(split.percent(), 40);
        assert_eq!(
            PercentOutOfRange(300).to_string(),
            "a gRPC percentage must be from 0 to 100, not 300"
        );
    }

    #[test]
    fn pick_follows_the_decision() {
        let split = Split::new(100).unwrap();
        assert_eq!(split.pick("grpc", "rest"), "grpc");
        split.set_percent(0).unwrap();
        assert_eq!(split.pick("grpc", "rest"), "rest");
    }
}
