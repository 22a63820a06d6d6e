//! The server's clock, as the `Date` headers of this refresher's own answers tell it (SPEC
//! behaviour 2). Used for one thing only: a token the app hands over (restored, maybe long
//! after it was issued) whose expiry is already past by the server's clock is refreshed
//! before any request uses it. Only valid HTTP-dates count (`0`, `1.5`, `2000` are none),
//! only from answers of the refresher's allowed origins and refresh endpoint (the engine
//! checks that before it notes one), and the schedule ignores a server clock earlier than a
//! token's own `iat` ([`crate::schedule`]). Until a date is seen the local clock stands, so a
//! client clock far off costs at most one early refresh, never a loop.

use super::http_date;

/// Offsets under this are whole-second rounding, not skew.
const NOISE_MS: f64 = 2_000.0;

/// One refresher's estimate of its server's clock.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerClock {
    offset_ms: f64,
}

impl ServerClock {
    /// Notes a `Date` header received at local wall time `wall` (ms since epoch). A value
    /// that is not an HTTP-date changes nothing. `Date` has a one-second resolution, so the
    /// middle of its second is taken.
    ///
    /// # Example
    /// ```
    /// use freshtoken::engine::server_clock::ServerClock;
    /// let mut c = ServerClock::default();
    /// c.note("2000", 1e12);
    /// assert_eq!(c.now(1e12), 1e12);
    /// c.note("Thu, 01 Jan 1970 02:00:00 GMT", 0.0); // two hours ahead
    /// assert_eq!(c.now(0.0), 7_200_500.0);
    /// ```
    pub fn note(&mut self, date: &str, wall: f64) {
        let Some(at) = http_date::parse(date, http_date::year_of(wall)) else { return };
        let offset = at + 500.0 - wall;
        self.offset_ms = if offset.abs() < NOISE_MS { 0.0 } else { offset };
    }

    /// The server's clock at local wall time `wall`, as best known.
    pub fn now(&self, wall: f64) -> f64 {
        wall + self.offset_ms
    }
}
