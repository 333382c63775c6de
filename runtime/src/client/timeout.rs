//! Writing a timeout in the `grpc-timeout` format, which `X-Request-Timeout` accepts too.

use std::time::Duration;

/// The largest amount the format allows: eight digits.
const MAX_AMOUNT: u128 = 99_999_999;

/// Formats `timeout` as `grpc-timeout` text (`250m`, `3S`), in the finest unit whose amount fits
/// in eight digits, rounded up so the server never sees less time than the client allows.
pub fn encode_timeout(timeout: Duration) -> String {
    let nanos = timeout.as_nanos();
    const UNITS: [(u128, char); 6] = [
        (1, 'n'),
        (1_000, 'u'),
        (1_000_000, 'm'),
        (1_000_000_000, 'S'),
        (60_000_000_000, 'M'),
        (3_600_000_000_000, 'H'),
    ];
    for (size, unit) in UNITS {
        let amount = nanos.div_ceil(size);
        if amount <= MAX_AMOUNT {
            return format!("{amount}{unit}");
        }
    }
    format!("{MAX_AMOUNT}H")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::deadline::parse_grpc_timeout;

    #[test]
    fn finest_unit_that_fits() {
        assert_eq!(encode_timeout(Duration::from_nanos(5)), "5n");
        assert_eq!(encode_timeout(Duration::from_millis(250)), "250000u");
        assert_eq!(encode_timeout(Duration::from_secs(5)), "5000000u");
        assert_eq!(encode_timeout(Duration::from_secs(500)), "500000m");
        assert_eq!(encode_timeout(Duration::from_secs(1_000_000)), "1000000S");
        assert_eq!(encode_timeout(Duration::MAX), "99999999H");
    }

    #[test]
    fn rounds_up_and_parses_back() {
        for millis in [1, 7, 999, 12_345, 86_400_000] {
            let d = Duration::from_millis(millis) + Duration::from_nanos(1);
            let parsed = parse_grpc_timeout(&encode_timeout(d)).unwrap();
            assert!(parsed >= d, "{d:?} -> {parsed:?}");
        }
    }
}
