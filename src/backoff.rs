//! How long to wait before retrying a refresh that failed transiently (SPEC behaviour 4).
//!
//! 1 s, 2 s, 4 s, ... capped at 60 s, each scaled by a random factor in [0.8, 1.2] so that
//! tabs and clients spread out; a server's `Retry-After` replaces the computed delay.

/// The first retry delay.
pub const BASE_MS: f64 = 1_000.0;
/// The longest computed delay.
pub const CAP_MS: f64 = 60_000.0;
/// The jitter: each delay is scaled by a factor in `[1 - JITTER, 1 + JITTER]`.
pub const JITTER: f64 = 0.2;
/// The longest `Retry-After` honoured; a larger one is clamped so a bogus header
/// cannot park a session for days.
pub const MAX_RETRY_AFTER_MS: f64 = 3_600_000.0;

/// The delay before retry number `attempt + 1`, after `attempt + 1` consecutive failures.
///
/// `random` is a uniform sample in `[0, 1)` (e.g. `Math.random()`), passed in so tests
/// are deterministic. `retry_after_ms`, when present and valid, replaces the computed
/// delay.
///
/// # Example
/// ```
/// use freshtoken::backoff::delay_ms;
/// assert_eq!(delay_ms(0, 0.5, None), 1_000.0);   // first retry: 1 s
/// assert_eq!(delay_ms(3, 0.5, None), 8_000.0);   // fourth: 8 s
/// assert_eq!(delay_ms(20, 0.5, None), 60_000.0); // capped
/// assert_eq!(delay_ms(0, 0.0, None), 800.0);     // jitter low end
/// assert_eq!(delay_ms(5, 0.5, Some(2_500.0)), 2_500.0);
/// ```
pub fn delay_ms(attempt: u32, random: f64, retry_after_ms: Option<f64>) -> f64 {
    if let Some(ra) = retry_after_ms.filter(|v| v.is_finite() && *v >= 0.0) {
        return ra.min(MAX_RETRY_AFTER_MS);
    }
    // 2^6 * 1 s already exceeds the cap, so larger exponents need no computing.
    let base = (BASE_MS * (1u32 << attempt.min(6)) as f64).min(CAP_MS);
    let r = if random.is_finite() { random.clamp(0.0, 1.0) } else { 0.5 };
    base * (1.0 + JITTER * (2.0 * r - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_one_second_to_the_cap() {
        let seq: Vec<f64> = (0..9).map(|a| delay_ms(a, 0.5, None)).collect();
        assert_eq!(seq, [1e3, 2e3, 4e3, 8e3, 16e3, 32e3, 60e3, 60e3, 60e3]);
        assert_eq!(delay_ms(u32::MAX, 0.5, None), CAP_MS);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for a in 0..10 {
            let mid = delay_ms(a, 0.5, None);
            for i in 0..=100 {
                let d = delay_ms(a, i as f64 / 100.0, None);
                assert!(d >= mid * 0.8 - 1e-9 && d <= mid * 1.2 + 1e-9, "{a} {i} {d}");
            }
            assert_eq!(delay_ms(a, 0.0, None), mid * 0.8);
            assert_eq!(delay_ms(a, 1.0, None), mid * 1.2);
        }
    }

    #[test]
    fn bad_random_samples_do_not_escape_the_range() {
        assert_eq!(delay_ms(0, f64::NAN, None), 1_000.0);
        assert_eq!(delay_ms(0, 7.0, None), 1_200.0);
        assert_eq!(delay_ms(0, -3.0, None), 800.0);
    }

    #[test]
    fn retry_after_replaces_the_delay_and_is_bounded() {
        assert_eq!(delay_ms(0, 0.9, Some(30_000.0)), 30_000.0);
        assert_eq!(delay_ms(4, 0.9, Some(0.0)), 0.0);
        assert_eq!(delay_ms(0, 0.5, Some(1e12)), MAX_RETRY_AFTER_MS);
        // Invalid values fall back to the computed delay.
        assert_eq!(delay_ms(1, 0.5, Some(-5.0)), 2_000.0);
        assert_eq!(delay_ms(1, 0.5, Some(f64::NAN)), 2_000.0);
    }
}
