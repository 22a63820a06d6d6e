//! The server's clock, as the `Date` headers of this refresher's own answers tell it (SPEC
//! behaviour 2). Used for two things: a token the app hands over (restored, maybe long after
//! it was issued) whose expiry is already past by the server's clock is refreshed before any
//! request uses it; and a DPoP proof's `iat` (RFC 9449 §4.2), which the server it goes to
//! checks against its own clock. Only valid HTTP-dates count (`0`, `1.5`, `2000` are none),
//! only from answers of the refresher's allowed origins and refresh endpoint (the engine
//! checks that before it notes one), and the schedule ignores a server clock earlier than a
//! token's own `iat` ([`crate::schedule`]). Until a date is seen the local clock stands, so a
//! client clock far off costs at most one early refresh, never a loop.
//!
//! Each origin's clock is kept apart for the proofs: one allowed API whose clock is an hour
//! off (or an attacker's) must not date the proofs sent to the token endpoint or to another
//! API, which would refuse them (`invalid_dpop_proof`: at the token endpoint a 400, the
//! session's end). A proof to an origin whose `Date` was never read (a cross-origin API that
//! does not expose it) is dated on the refresh endpoint's clock, the issuer's, which a client
//! trusts with its tokens anyway, else on the local clock ([`crate::engine::Engine::dpop_proof`]).

use super::http_date;

/// Offsets under this are whole-second rounding, not skew.
const NOISE_MS: f64 = 2_000.0;

/// One refresher's estimate of its servers' clocks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerClock {
    /// The last `Date` seen, from any of the refresher's origins.
    offset_ms: f64,
    /// Each origin's own (the refresher's origins only: a handful).
    by_origin: Vec<(String, f64)>,
}

impl ServerClock {
    /// Notes a `Date` header from `origin` received at local wall time `wall` (ms since
    /// epoch). A value that is not an HTTP-date changes nothing. `Date` has a one-second
    /// resolution, so the middle of its second is taken.
    ///
    /// # Example
    /// ```
    /// use freshtoken::engine::server_clock::ServerClock;
    /// let mut c = ServerClock::default();
    /// c.note("https://api.example", "2000", 1e12);
    /// assert_eq!(c.now(1e12), 1e12);
    /// c.note("https://api.example", "Thu, 01 Jan 1970 02:00:00 GMT", 0.0); // two hours ahead
    /// assert_eq!(c.now(0.0), 7_200_500.0);
    /// assert_eq!(c.now_at("https://api.example", 0.0), Some(7_200_500.0));
    /// assert_eq!(c.now_at("https://id.example", 0.0), None); // never seen
    /// ```
    pub fn note(&mut self, origin: &str, date: &str, wall: f64) {
        let Some(at) = http_date::parse(date, http_date::year_of(wall)) else { return };
        let offset = at + 500.0 - wall;
        self.offset_ms = if offset.abs() < NOISE_MS { 0.0 } else { offset };
        match self.by_origin.iter_mut().find(|(o, _)| o == origin) {
            Some(slot) => slot.1 = self.offset_ms,
            None => self.by_origin.push((origin.to_owned(), self.offset_ms)),
        }
    }

    /// The server's clock at local wall time `wall`, as best known (the last `Date` seen).
    pub fn now(&self, wall: f64) -> f64 {
        wall + self.offset_ms
    }

    /// `origin`'s clock at local wall time `wall`, as its own last `Date` tells it, or `None`
    /// when it never sent one.
    pub fn now_at(&self, origin: &str, wall: f64) -> Option<f64> {
        self.by_origin.iter().find(|(o, _)| o == origin).map(|(_, off)| wall + off)
    }
}
