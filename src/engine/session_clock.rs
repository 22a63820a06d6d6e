//! The session clock both faces keep (SPEC behaviour 2). Durations run on the monotonic
//! clock, so a wall clock set back or forward does not move a refresh or a backoff; one
//! exception, on purpose: when the wall clock has run further ahead of the monotonic one than
//! ever before, the machine slept (the monotonic clock stops during suspend on some systems)
//! or the clock was set forward, and that time counts. It never goes back.
//!
//! The lead is measured from one anchor, not reading by reading: the wall clock's whole
//! milliseconds against a finer monotonic clock would otherwise add up to a millisecond at
//! each reading (a clock read every few milliseconds ran several percent fast, and a burst of
//! reads up to twice as fast), and a clock set back then forward again would count as a sleep.

/// A session clock: [`SessionClock::read`] at each reading of the two clocks.
///
/// # Example
/// ```
/// use freshtoken::engine::session_clock::SessionClock;
/// let mut c = SessionClock::new(1_000_000.0, 5.0);
/// assert_eq!(c.read(1_000_010.0, 15.0), 1_000_010.0);
/// assert_eq!(c.read(1_000_000.0, 20.0), 1_000_015.0, "the wall clock set back moves nothing");
/// assert_eq!(c.read(4_600_020.0, 25.0), 4_600_020.0, "a sleep the monotonic clock missed counts");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SessionClock {
    wall0: f64,
    mono0: f64,
    /// How far the wall clock has run ahead of the monotonic one since the anchor, at most.
    ahead: f64,
}

impl SessionClock {
    /// A clock anchored at these readings of the wall clock (ms since epoch) and the monotonic one.
    pub fn new(wall: f64, mono: f64) -> SessionClock {
        SessionClock { wall0: wall, mono0: mono, ahead: 0.0 }
    }

    /// Now on the session clock (close to ms since epoch), from readings of both clocks. Read
    /// the wall clock first: a pause between the two readings then shortens the lead seen
    /// instead of adding to it for good.
    pub fn read(&mut self, wall: f64, mono: f64) -> f64 {
        let elapsed = (mono - self.mono0).max(0.0);
        self.ahead = self.ahead.max(wall - self.wall0 - elapsed);
        self.wall0 + elapsed + self.ahead
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_often_adds_nothing_up() {
        // A wall clock in whole milliseconds, a monotonic one in microseconds, read every 7 us
        // for a second, then every 3.3 ms for a minute: the session clock keeps to the
        // monotonic one within the wall clock's resolution.
        let mut c = SessionClock::new(1_000.0, 0.0);
        let mut mono = 0.0_f64;
        let mut last = 0.0_f64;
        for step in core::iter::repeat_n(0.007_f64, 140_000).chain(core::iter::repeat_n(3.3, 18_000)) {
            mono += step;
            let t = c.read((1_000.0 + mono).floor(), mono);
            assert!(t >= last, "never back");
            last = t;
        }
        let drift = last - (1_000.0 + mono);
        assert!((0.0..=1.0).contains(&drift), "drift {drift} ms after {mono} ms");
    }

    #[test]
    fn a_sleep_counts_a_clock_set_back_or_back_and_forth_does_not() {
        let mut c = SessionClock::new(0.0, 0.0);
        assert_eq!(c.read(3_600_000.0, 10.0), 3_600_000.0, "the monotonic clock stood still through an hour");
        assert_eq!(c.read(3_600_010.0, 20.0), 3_600_010.0);
        assert_eq!(c.read(10.0, 30.0), 3_600_020.0, "set back an hour: durations go on");
        assert_eq!(c.read(3_600_030.0, 40.0), 3_600_030.0, "and forward again: no sleep counted");
        assert_eq!(c.read(7_200_050.0, 50.0), 7_200_050.0, "a sleep beyond any lead before counts");
    }
}
