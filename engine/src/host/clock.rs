//! The real wall clock behind `get-wall-clock`.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch from the real clock (negative before 1970, saturating).
pub fn wall_clock_ns() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clock reads a plausible present time and advances.
    #[test]
    fn clock_is_real_and_monotone_enough() {
        let a = wall_clock_ns();
        // After 2020-01-01 and before 2200: a real clock, in nanoseconds.
        assert!(a > 1_577_836_800_000_000_000, "{a}");
        assert!(a < 7_258_118_400_000_000_000, "{a}");
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = wall_clock_ns();
        assert!(b > a, "{a} then {b}");
    }
}
