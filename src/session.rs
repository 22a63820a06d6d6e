//! The session state machine: which tokens are held, whether a refresh is in flight, when
//! the next timer is due, and when the session is over (SPEC behaviour 1–4 and 9).
//!
//! ```text
//!             set_tokens                  begin_refresh
//!   Idle ───────────────────▶ Fresh ─────────────────────▶ Refreshing
//!    │  ▲                      ▲  ▲                          │  │  │
//!    │  └── transient failure ─┼──┼── (no token held) ───────┘  │  │
//!    │                         │  └── success / transient ──────┘  │
//!    └── begin_refresh ──▶ Refreshing                              │ auth rejection
//!                                                                  ▼
//!   any ── logout ──▶ LoggedOut          any ── expire ──▶ Expired
//!   Expired / LoggedOut ── set_tokens ──▶ Fresh
//! ```
//!
//! Every method takes `now` (ms since epoch, local clock); nothing here reads a clock.
//! Each refresh gets a ticket; a result carrying a stale ticket (the session was
//! logged out, expired or given new tokens meanwhile) is ignored, so a late answer can
//! never resurrect a finished session.

use std::fmt;

use crate::backoff;
use crate::error::DecodeErrorCode;
use crate::redacted::Hidden;
use crate::schedule::{ExpiryFacts, ExpirySource, Policy, Schedule, MIN_INTERVAL_MS, MIN_REMAINING_MS};
use crate::token;

/// Where a session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// No tokens yet.
    Idle,
    /// Holding a token; no refresh in flight.
    Fresh,
    /// A refresh is in flight.
    Refreshing,
    /// The server refused to refresh: the user must log in again.
    Expired,
    /// The app logged out.
    LoggedOut,
}

impl State {
    /// The SPEC name: `'idle' | 'fresh' | 'refreshing' | 'expired' | 'logged-out'`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Fresh => "fresh",
            State::Refreshing => "refreshing",
            State::Expired => "expired",
            State::LoggedOut => "logged-out",
        }
    }
}

/// Tokens handed to the session by the app or a refresh. Its `Debug` never shows a token.
#[derive(Clone, Default, PartialEq)]
pub struct Grant {
    /// The access token.
    pub access_token: String,
    /// The refresh token; a refresh answer without one keeps the previous one.
    pub refresh_token: Option<String>,
    /// Expiry instant from the server, ms since epoch.
    pub expires_at_ms: Option<f64>,
    /// Expiry from the server, seconds after receipt.
    pub expires_in_s: Option<f64>,
}

/// A refresh in flight, as handed out by [`Session::begin_refresh`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket(pub u32);

/// Why a refresh could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginError {
    /// One is in flight already: share it.
    InFlight,
    /// The session has expired or was logged out; only new tokens restart it.
    Over,
}

/// How a refresh failed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Failure {
    /// Network error, timeout, 5xx, 429, malformed body: keep the token and back off.
    Transient {
        /// The server's `Retry-After`, in ms, when it sent one.
        retry_after_ms: Option<f64>,
    },
    /// The server refused the refresh (400/401/403): the session is over.
    Rejected,
}

/// What the caller should do after a failed refresh.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FailureOutcome {
    /// Retry after this many ms; the session goes on.
    RetryIn(f64),
    /// The session just expired: tell the app (exactly once).
    Expired,
    /// The ticket was stale: the answer belongs to a session that no longer exists.
    Stale,
}

/// What became of a refresh answer that arrived with tokens ([`Session::refresh_landed`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Landed {
    /// Taken; the session is fresh.
    Fresh,
    /// Taken, but the answer's `expiresAt`/`expiresIn` left the token under
    /// [`MIN_REMAINING_MS`], or put its expiry beyond any date
    /// ([`crate::schedule::MAX_DATE_MS`]): it was ignored and the token's own expiry (or
    /// `defaultLifetimeMs`) used. Report it.
    ExpiryIgnored,
    /// Taken, but even the token's own expiry leaves it under [`MIN_REMAINING_MS`]: the
    /// tokens are kept (a rotated refresh token is never lost) and the next attempt
    /// backs off by this many ms, as after a transient failure. Report it.
    ImplausibleExpiry(f64),
    /// The access token's expiry claim is malformed (`exp: "soon"`): the access token is
    /// refused, a rotated refresh token that came with it is kept, and the next attempt
    /// backs off by this many ms. Report it.
    BadToken(f64),
    /// The ticket was stale: the answer belongs to a session that no longer exists.
    Stale,
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("access_token", &Hidden::of(&self.access_token))
            .field("refresh_token", &Hidden(self.refresh_token.as_deref()))
            .field("expires_at_ms", &self.expires_at_ms)
            .field("expires_in_s", &self.expires_in_s)
            .finish()
    }
}

/// The tokens given to [`Session::set_tokens_at`] were refused: the access token's expiry
/// claim is malformed, or it is JWT-shaped and the decoder refuses it (too large, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadClaim;

/// One user's session. Its `Debug` never shows a token.
#[derive(Clone)]
pub struct Session {
    policy: Policy,
    state: State,
    access_token: Option<String>,
    refresh_token: Option<String>,
    schedule: Option<Schedule>,
    /// Consecutive transient failures.
    failures: u32,
    /// When the backoff allows the next automatic attempt.
    retry_at: Option<f64>,
    /// Bumped whenever the session's tokens are replaced or dropped.
    epoch: u32,
    /// When the last refresh attempt began (the floor under automatic attempts).
    last_attempt: Option<f64>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("policy", &self.policy)
            .field("state", &self.state)
            .field("access_token", &Hidden(self.access_token.as_deref()))
            .field("refresh_token", &Hidden(self.refresh_token.as_deref()))
            .field("schedule", &self.schedule)
            .field("failures", &self.failures)
            .field("retry_at", &self.retry_at)
            .field("epoch", &self.epoch)
            .field("last_attempt", &self.last_attempt)
            .finish()
    }
}

impl Session {
    /// A session with no tokens.
    ///
    /// # Example
    /// ```
    /// use freshtoken::schedule::Policy;
    /// use freshtoken::session::{Grant, Session, State};
    /// let mut s = Session::new(Policy::default());
    /// s.set_tokens(Grant { access_token: "opaque".into(), expires_in_s: Some(60.0), ..Default::default() }, 0.0);
    /// assert_eq!(s.state(), State::Fresh);
    /// assert_eq!(s.next_refresh_at(), Some(48_000.0));
    /// ```
    pub fn new(policy: Policy) -> Session {
        Session {
            policy,
            state: State::Idle,
            access_token: None,
            refresh_token: None,
            schedule: None,
            failures: 0,
            retry_at: None,
            epoch: 0,
            last_attempt: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }
    /// The access token held, if any.
    pub fn access_token(&self) -> Option<&str> {
        self.access_token.as_deref()
    }
    /// The refresh token held, if any.
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref()
    }
    /// The current token's timeline.
    pub fn schedule(&self) -> Option<&Schedule> {
        self.schedule.as_ref()
    }
    /// Local expiry of the current token.
    pub fn expires_at(&self) -> Option<f64> {
        self.schedule.map(|s| s.expires_at)
    }
    /// Local refresh point of the current token.
    pub fn next_refresh_at(&self) -> Option<f64> {
        self.schedule.map(|s| s.refresh_at)
    }
    /// Consecutive transient refresh failures.
    pub fn failures(&self) -> u32 {
        self.failures
    }
    /// When the backoff allows the next automatic attempt, while backing off.
    pub fn retry_at(&self) -> Option<f64> {
        self.retry_at
    }

    /// The earliest instant the next refresh attempt may begin, other than one the app
    /// asks for: the end of the backoff, and never within [`MIN_INTERVAL_MS`] of the last
    /// attempt. `None` when nothing holds attempts back.
    pub fn next_attempt_at(&self) -> Option<f64> {
        let floor = self.last_attempt.map(|t| t + MIN_INTERVAL_MS);
        match (self.retry_at, floor) {
            (Some(r), Some(f)) => Some(r.max(f)),
            (r, f) => r.or(f),
        }
    }

    /// When the timer should next wake the session: the refresh point, or the end of
    /// the backoff, never within [`MIN_INTERVAL_MS`] of the last attempt; `None` while
    /// refreshing or once the session is over.
    pub fn due(&self) -> Option<f64> {
        let planned = match self.state {
            State::Fresh => self.retry_at.or(self.next_refresh_at()),
            State::Idle => self.retry_at,
            State::Refreshing | State::Expired | State::LoggedOut => None,
        }?;
        Some(match self.last_attempt {
            Some(t) => planned.max(t + MIN_INTERVAL_MS),
            None => planned,
        })
    }

    /// Whether the token held has reached its refresh point (or there is none to use).
    pub fn needs_refresh(&self, now: f64) -> bool {
        match (&self.access_token, &self.schedule) {
            (Some(_), Some(s)) => s.is_due(now),
            _ => true,
        }
    }

    /// Whether a token is held and not past its expiry.
    pub fn is_usable(&self, now: f64) -> bool {
        self.access_token.is_some() && self.schedule.is_some_and(|s| !s.is_expired(now))
    }

    /// Takes new tokens (login, or tokens from the app), dropping any refresh in flight.
    /// A token whose expiry claim is malformed is ignored, as [`Session::set_tokens_at`]
    /// would refuse it; use that to be told.
    pub fn set_tokens(&mut self, grant: Grant, now: f64) {
        let _ = self.set_tokens_at(grant, now, now, None);
    }

    /// Takes new tokens, starting a new session: `now` on the session's monotonic clock,
    /// `wall` the wall clock at the same moment, `server_now` the server's clock as best
    /// known when the tokens may have waited since they were issued (tokens the app
    /// restored): an expiry already past by it makes the token due at once. A JWT or PubNub token whose expiry claim
    /// is malformed (`"exp": "soon"`) is refused, exactly as [`crate::decode`] refuses it,
    /// and the session is left as it was.
    ///
    /// # Example
    /// ```
    /// use freshtoken::schedule::Policy;
    /// use freshtoken::session::{BadClaim, Grant, Session, State};
    /// let mut s = Session::new(Policy::default());
    /// // header {"alg":"none"} . payload {"exp":"soon"}
    /// let bad = Grant { access_token: "eyJhbGciOiJub25lIn0.eyJleHAiOiJzb29uIn0.".into(), ..Default::default() };
    /// assert_eq!(s.set_tokens_at(bad, 0.0, 0.0, None), Err(BadClaim));
    /// assert_eq!(s.state(), State::Idle);
    /// ```
    pub fn set_tokens_at(&mut self, grant: Grant, now: f64, wall: f64, server_now: Option<f64>) -> Result<(), BadClaim> {
        let facts = ExpiryFacts { server_now_ms: server_now, ..facts_of(&grant)? };
        self.epoch = self.epoch.wrapping_add(1);
        self.last_attempt = None;
        // A new session holds the refresh token it was given, or none: never the previous
        // session's (user 2 would refresh into user 1's session).
        self.refresh_token = None;
        self.accept(grant, Schedule::plan_at(&facts, &self.policy, now, wall));
        Ok(())
    }

    /// Starts a refresh at `now`. Only one may be in flight.
    pub fn begin_refresh(&mut self, now: f64) -> Result<Ticket, BeginError> {
        match self.state {
            State::Refreshing => Err(BeginError::InFlight),
            State::Expired | State::LoggedOut => Err(BeginError::Over),
            State::Idle | State::Fresh => {
                self.state = State::Refreshing;
                self.retry_at = None;
                self.last_attempt = Some(now);
                Ok(Ticket(self.epoch))
            }
        }
    }

    /// Whether a ticket still belongs to the refresh in flight.
    pub fn is_current(&self, ticket: Ticket) -> bool {
        self.state == State::Refreshing && ticket.0 == self.epoch
    }

    /// A refresh answered with new tokens. Returns false (and changes nothing) for a
    /// stale ticket.
    pub fn refresh_succeeded(&mut self, ticket: Ticket, grant: Grant, now: f64) -> bool {
        self.refresh_landed(ticket, grant, now, now, 0.5) != Landed::Stale
    }

    /// A refresh answered with new tokens, at `now` (monotonic) and `wall`. The answer
    /// is checked before it is trusted, and nothing that arrived is lost: see [`Landed`].
    /// `random` in `[0, 1)` jitters the backoff an implausible answer causes.
    ///
    /// # Example
    /// ```
    /// use freshtoken::schedule::Policy;
    /// use freshtoken::session::*;
    /// let mut s = Session::new(Policy::default());
    /// s.set_tokens(Grant { access_token: "t".into(), expires_in_s: Some(60.0), ..Default::default() }, 0.0);
    /// let t = s.begin_refresh(48_000.0).unwrap();
    /// // `expiresIn: 0` for an opaque token: kept, but no refresh storm.
    /// let zero = Grant { access_token: "t2".into(), expires_in_s: Some(0.0), ..Default::default() };
    /// assert_eq!(s.refresh_landed(t, zero, 48_100.0, 48_100.0, 0.5), Landed::ImplausibleExpiry(1_000.0));
    /// assert_eq!(s.due(), Some(49_100.0));
    /// ```
    pub fn refresh_landed(&mut self, ticket: Ticket, grant: Grant, now: f64, wall: f64, random: f64) -> Landed {
        if !self.is_current(ticket) {
            return Landed::Stale;
        }
        let Ok(facts) = facts_of(&grant) else {
            if grant.refresh_token.is_some() {
                self.refresh_token = grant.refresh_token;
            }
            return Landed::BadToken(self.back_off(None, now, random));
        };
        let mut schedule = Schedule::plan_at(&facts, &self.policy, now, wall);
        let mut landed = Landed::Fresh;
        // An answer's expiry beyond any date was no expiry (`schedule::MAX_DATE_MS`): said.
        if (facts.expires_at_ms.is_some() || facts.expires_in_s.is_some()) && matches!(schedule.source, ExpirySource::Token | ExpirySource::Default) {
            landed = Landed::ExpiryIgnored;
        }
        if schedule.remaining(now) < MIN_REMAINING_MS && facts.token_exp_ms.is_some()
            && (facts.expires_at_ms.is_some() || facts.expires_in_s.is_some())
        {
            // The answer's own field is implausible; the token itself may know better.
            let own = ExpiryFacts { expires_at_ms: None, expires_in_s: None, ..facts };
            schedule = Schedule::plan_at(&own, &self.policy, now, wall);
            landed = Landed::ExpiryIgnored;
        }
        let failures = self.failures;
        self.accept(grant, schedule);
        if schedule.remaining(now) < MIN_REMAINING_MS {
            self.failures = failures;
            return Landed::ImplausibleExpiry(self.back_off(None, now, random));
        }
        landed
    }

    /// Counts a failed attempt and sets the end of its backoff; the delay in ms.
    fn back_off(&mut self, retry_after_ms: Option<f64>, now: f64, random: f64) -> f64 {
        let delay = backoff::delay_ms(self.failures, random, retry_after_ms);
        self.failures = self.failures.saturating_add(1);
        self.retry_at = Some(now + delay);
        self.state = if self.access_token.is_some() { State::Fresh } else { State::Idle };
        delay
    }

    /// A refresh answer that could not be used still brought a rotated refresh token:
    /// keep it, so the retry does not spend the old one (which the server has revoked).
    /// Ignored for a stale ticket.
    pub fn keep_refresh_token(&mut self, ticket: Ticket, refresh_token: String) {
        if self.is_current(ticket) {
            self.refresh_token = Some(refresh_token);
        }
    }

    /// A refresh failed. `random` in `[0, 1)` jitters the backoff.
    ///
    /// # Example
    /// ```
    /// use freshtoken::schedule::Policy;
    /// use freshtoken::session::*;
    /// let mut s = Session::new(Policy::default());
    /// s.set_tokens(Grant { access_token: "t".into(), expires_in_s: Some(60.0), ..Default::default() }, 0.0);
    /// let t = s.begin_refresh(0.0).unwrap();
    /// let out = s.refresh_failed(t, Failure::Transient { retry_after_ms: None }, 1_000.0, 0.5);
    /// assert_eq!(out, FailureOutcome::RetryIn(1_000.0));
    /// assert_eq!((s.state(), s.access_token()), (State::Fresh, Some("t")));
    /// ```
    pub fn refresh_failed(&mut self, ticket: Ticket, failure: Failure, now: f64, random: f64) -> FailureOutcome {
        if !self.is_current(ticket) {
            return FailureOutcome::Stale;
        }
        match failure {
            Failure::Rejected => {
                self.end(State::Expired);
                FailureOutcome::Expired
            }
            Failure::Transient { retry_after_ms } => FailureOutcome::RetryIn(self.back_off(retry_after_ms, now, random)),
        }
    }

    /// Retry now instead of waiting out the backoff (the browser came back online).
    pub fn retry_now(&mut self, now: f64) {
        if self.retry_at.is_some() {
            self.retry_at = Some(now);
        }
    }

    /// Ends the session because the server will not take its tokens (an auth rejection
    /// of a refresh, or a request refused again right after a refresh). Returns true
    /// only on the transition, so the app is told once.
    pub fn expire(&mut self) -> bool {
        if matches!(self.state, State::Expired | State::LoggedOut) {
            return false;
        }
        self.end(State::Expired);
        true
    }

    /// The app logged out. Returns true if there was a session to end.
    pub fn logout(&mut self) -> bool {
        let was = self.state != State::LoggedOut;
        self.end(State::LoggedOut);
        was
    }

    fn end(&mut self, state: State) {
        self.epoch = self.epoch.wrapping_add(1);
        self.state = state;
        self.access_token = None;
        self.refresh_token = None;
        self.schedule = None;
        self.failures = 0;
        self.retry_at = None;
        self.last_attempt = None;
    }

    fn accept(&mut self, grant: Grant, schedule: Schedule) {
        self.schedule = Some(schedule);
        self.access_token = Some(grant.access_token);
        if grant.refresh_token.is_some() {
            self.refresh_token = grant.refresh_token;
        }
        self.state = State::Fresh;
        self.failures = 0;
        self.retry_at = None;
    }
}

/// Whether a token has a JWT's shape: dot-separated parts, the first a base64url JSON
/// object (`eyJ` is `{"`). Such a token that the decoder refuses (too large, bad base64,
/// bad JSON, the wrong number of parts, ...) is refused, never taken as opaque with the
/// default lifetime; a JWE (five parts) is not (the client cannot read it: opaque). Anything
/// else (an opaque token, base64 JSON without dots) gets its expiry from the server's fields.
fn jwt_shaped(token: &str) -> bool {
    token.starts_with("eyJ") && token.bytes().any(|b| b == b'.')
}

/// What a grant tells of its expiry; a token whose expiry claim is malformed, or a
/// JWT-shaped one the decoder refuses, is refused.
fn facts_of(grant: &Grant) -> Result<ExpiryFacts, BadClaim> {
    let (exp, iat) = match token::inspect(&grant.access_token) {
        Ok(info) => (info.expires_at_ms, info.issued_at_ms),
        Err(e) if e.code() == DecodeErrorCode::BadClaim
            || (jwt_shaped(&grant.access_token) && e.code() != DecodeErrorCode::Encrypted) => return Err(BadClaim),
        // An opaque token: its expiry comes from the server's fields or the default.
        Err(_) => (None, None),
    };
    Ok(ExpiryFacts {
        expires_at_ms: grant.expires_at_ms,
        expires_in_s: grant.expires_in_s,
        token_exp_ms: exp,
        token_iat_ms: iat,
        server_now_ms: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(token: &str, expires_in_s: f64) -> Grant {
        Grant {
            access_token: token.into(),
            refresh_token: Some("r1".into()),
            expires_in_s: Some(expires_in_s),
            ..Default::default()
        }
    }

    fn fresh() -> Session {
        let mut s = Session::new(Policy::default());
        s.set_tokens(grant("a1", 100.0), 0.0);
        s
    }

    const TRANSIENT: Failure = Failure::Transient { retry_after_ms: None };

    #[test]
    fn starts_idle_with_nothing_due() {
        let s = Session::new(Policy::default());
        assert_eq!(s.state(), State::Idle);
        assert_eq!(s.due(), None);
        assert!(s.needs_refresh(0.0));
        assert!(!s.is_usable(0.0));
    }

    #[test]
    fn idle_to_fresh_on_tokens() {
        let s = fresh();
        assert_eq!(s.state(), State::Fresh);
        assert_eq!(s.access_token(), Some("a1"));
        assert_eq!(s.refresh_token(), Some("r1"));
        assert_eq!(s.due(), Some(80_000.0));
        assert!(!s.needs_refresh(79_999.0));
        assert!(s.needs_refresh(80_000.0));
        assert!(s.is_usable(99_999.0));
        assert!(!s.is_usable(100_000.0));
    }

    #[test]
    fn fresh_to_refreshing_and_only_one_in_flight() {
        let mut s = fresh();
        let t = s.begin_refresh(0.0).unwrap();
        assert_eq!(s.state(), State::Refreshing);
        assert_eq!(s.due(), None);
        assert_eq!(s.begin_refresh(0.0), Err(BeginError::InFlight));
        assert!(s.is_current(t));
    }

    #[test]
    fn idle_can_refresh_with_a_custom_refresh() {
        let mut s = Session::new(Policy::default());
        let t = s.begin_refresh(0.0).unwrap();
        assert!(s.refresh_succeeded(t, grant("a2", 10.0), 5.0));
        assert_eq!((s.state(), s.access_token()), (State::Fresh, Some("a2")));
        assert_eq!(s.next_refresh_at(), Some(8_005.0));
    }

    #[test]
    fn refreshing_to_fresh_on_success_reschedules_on_the_new_token() {
        let mut s = fresh();
        let t = s.begin_refresh(0.0).unwrap();
        assert!(s.refresh_succeeded(t, grant("a2", 50.0), 80_000.0));
        assert_eq!(s.state(), State::Fresh);
        assert_eq!(s.access_token(), Some("a2"));
        assert_eq!(s.next_refresh_at(), Some(120_000.0));
        assert_eq!(s.due(), Some(120_000.0));
    }

    #[test]
    fn a_refresh_answer_without_refresh_token_keeps_the_old_one() {
        let mut s = fresh();
        let t = s.begin_refresh(0.0).unwrap();
        let g = Grant { access_token: "a2".into(), expires_in_s: Some(10.0), ..Default::default() };
        assert!(s.refresh_succeeded(t, g, 1.0));
        assert_eq!(s.refresh_token(), Some("r1"));
        let t = s.begin_refresh(0.0).unwrap();
        assert!(s.refresh_succeeded(t, grant("a3", 10.0), 2.0));
        assert_eq!(s.refresh_token(), Some("r1"));
        let t = s.begin_refresh(0.0).unwrap();
        let rotated = Grant { refresh_token: Some("r2".into()), ..grant("a4", 10.0) };
        assert!(s.refresh_succeeded(t, rotated, 3.0));
        assert_eq!(s.refresh_token(), Some("r2"));
    }

    #[test]
    fn refreshing_to_fresh_on_transient_failure_with_backoff() {
        let mut s = fresh();
        let mut now = 80_000.0;
        let mut delays = vec![];
        for _ in 0..8 {
            let t = s.begin_refresh(0.0).unwrap();
            match s.refresh_failed(t, TRANSIENT, now, 0.5) {
                FailureOutcome::RetryIn(d) => delays.push(d),
                other => panic!("{other:?}"),
            }
            assert_eq!(s.state(), State::Fresh);
            assert_eq!(s.access_token(), Some("a1"), "a transient failure keeps the token");
            assert_eq!(s.due(), Some(now + delays[delays.len() - 1]));
            now = s.due().unwrap();
        }
        assert_eq!(delays, [1e3, 2e3, 4e3, 8e3, 16e3, 32e3, 60e3, 60e3]);
        assert_eq!(s.failures(), 8);
        // Success resets the backoff.
        let t = s.begin_refresh(0.0).unwrap();
        assert!(s.refresh_succeeded(t, grant("a2", 100.0), now));
        assert_eq!((s.failures(), s.retry_at()), (0, None));
    }

    #[test]
    fn transient_failure_never_expires_even_past_token_expiry() {
        let mut s = fresh();
        let t = s.begin_refresh(0.0).unwrap();
        let out = s.refresh_failed(t, TRANSIENT, 500_000.0, 0.5);
        assert_eq!(out, FailureOutcome::RetryIn(1_000.0));
        assert_eq!(s.state(), State::Fresh);
        assert!(!s.is_usable(500_000.0));
    }

    #[test]
    fn retry_after_is_used_for_the_delay() {
        let mut s = fresh();
        let t = s.begin_refresh(0.0).unwrap();
        let out = s.refresh_failed(t, Failure::Transient { retry_after_ms: Some(7_000.0) }, 10.0, 0.9);
        assert_eq!(out, FailureOutcome::RetryIn(7_000.0));
        assert_eq!(s.due(), Some(7_010.0));
    }

    #[test]
    fn coming_back_online_retries_at_once() {
        let mut s = fresh();
        let t = s.begin_refresh(0.0).unwrap();
        s.refresh_failed(t, TRANSIENT, 1_000.0, 0.5);
        s.retry_now(1_200.0);
        assert_eq!(s.due(), Some(1_200.0));
        // Without a backoff in progress it changes nothing.
        let mut s = fresh();
        s.retry_now(5.0);
        assert_eq!(s.due(), Some(80_000.0));
    }

    #[test]
    fn idle_transient_failure_goes_back_to_idle_with_retry() {
        let mut s = Session::new(Policy::default());
        let t = s.begin_refresh(0.0).unwrap();
        assert_eq!(s.refresh_failed(t, TRANSIENT, 0.0, 0.5), FailureOutcome::RetryIn(1_000.0));
        assert_eq!((s.state(), s.due()), (State::Idle, Some(1_000.0)));
    }

    #[test]
    fn refreshing_to_expired_on_rejection_clears_everything() {
        let mut s = fresh();
        let t = s.begin_refresh(0.0).unwrap();
        assert_eq!(s.refresh_failed(t, Failure::Rejected, 1.0, 0.5), FailureOutcome::Expired);
        assert_eq!(s.state(), State::Expired);
        assert_eq!((s.access_token(), s.refresh_token(), s.expires_at(), s.due()), (None, None, None, None));
        assert_eq!(s.begin_refresh(0.0), Err(BeginError::Over));
        assert!(!s.expire(), "already expired: not told twice");
    }

    #[test]
    fn fresh_to_expired_once() {
        let mut s = fresh();
        assert!(s.expire());
        assert!(!s.expire());
        assert_eq!(s.state(), State::Expired);
    }

    #[test]
    fn any_state_to_logged_out() {
        let mut s = fresh();
        assert!(s.logout());
        assert_eq!((s.state(), s.access_token(), s.due()), (State::LoggedOut, None, None));
        assert!(!s.logout());
        assert!(!s.expire(), "a logged-out session does not also expire");
        let mut s = fresh();
        let t = s.begin_refresh(0.0).unwrap();
        s.logout();
        assert!(!s.refresh_succeeded(t, grant("late", 10.0), 2.0), "late answer after logout is dropped");
        assert_eq!((s.state(), s.access_token()), (State::LoggedOut, None));
        assert_eq!(s.refresh_failed(t, Failure::Rejected, 2.0, 0.5), FailureOutcome::Stale);
        assert_eq!(s.state(), State::LoggedOut);
    }

    #[test]
    fn over_sessions_restart_with_new_tokens() {
        for end in [Session::logout as fn(&mut Session) -> bool, Session::expire] {
            let mut s = fresh();
            end(&mut s);
            s.set_tokens(grant("b1", 10.0), 3.0);
            assert_eq!((s.state(), s.access_token()), (State::Fresh, Some("b1")));
            assert!(s.begin_refresh(0.0).is_ok());
        }
    }

    #[test]
    fn new_tokens_during_a_refresh_make_its_answer_stale() {
        let mut s = fresh();
        let t = s.begin_refresh(0.0).unwrap();
        s.set_tokens(grant("login", 10.0), 1.0);
        assert_eq!(s.state(), State::Fresh);
        assert!(!s.refresh_succeeded(t, grant("late", 10.0), 2.0));
        assert_eq!(s.access_token(), Some("login"));
        assert_eq!(s.refresh_failed(t, TRANSIENT, 2.0, 0.5), FailureOutcome::Stale);
        assert_eq!(s.retry_at(), None);
    }

    #[test]
    fn a_jwt_schedules_from_its_own_claims() {
        // header {"alg":"none"} . payload {"iat":1000,"exp":1010}
        let jwt = "eyJhbGciOiJub25lIn0.eyJpYXQiOjEwMDAsImV4cCI6MTAxMH0.";
        let mut s = Session::new(Policy::default());
        s.set_tokens(Grant { access_token: jwt.into(), ..Default::default() }, 50.0);
        assert_eq!(s.next_refresh_at(), Some(8_050.0));
        assert_eq!(s.expires_at(), Some(10_050.0));
    }

    #[test]
    fn an_unreadable_token_falls_back_to_the_default_lifetime() {
        let mut s = Session::new(Policy::new(0.5, 1_000.0).unwrap());
        s.set_tokens(Grant { access_token: "not.a.jwt".into(), ..Default::default() }, 0.0);
        assert_eq!(s.next_refresh_at(), Some(500.0));
        assert_eq!(s.state(), State::Fresh);
    }

    #[test]
    fn overdue_after_a_sleep_fires_at_once_and_requests_wait_for_it() {
        use crate::schedule::{next_wake, Wake, MAX_STEP_MS};
        // A 100 s token received at 0; the machine sleeps from 10 s to 500 s.
        let mut s = fresh();
        assert_eq!(next_wake(s.due().unwrap(), 10_000.0), Wake::Sleep(MAX_STEP_MS));
        assert!(!s.needs_refresh(10_000.0));
        let woke = 500_000.0;
        // The first look at the clock after waking (timer step, visibilitychange, focus,
        // online) fires at once, and a request queued at wake must not use the old token.
        assert_eq!(next_wake(s.due().unwrap(), woke), Wake::Fire);
        assert!(s.needs_refresh(woke));
        assert!(!s.is_usable(woke));
        // The refresh runs first; the new token is scheduled from the wake time.
        let t = s.begin_refresh(0.0).unwrap();
        assert!(s.refresh_succeeded(t, grant("a2", 100.0), woke + 50.0));
        assert_eq!(s.next_refresh_at(), Some(woke + 50.0 + 80_000.0));
        assert!(!s.needs_refresh(woke + 60.0));
        // Overdue in the middle of a backoff: the end of the backoff is in the past, so it fires too.
        let t = s.begin_refresh(0.0).unwrap();
        s.refresh_failed(t, TRANSIENT, 600_000.0, 0.5);
        assert_eq!(next_wake(s.due().unwrap(), 600_500.0), Wake::Sleep(500));
        assert_eq!(next_wake(s.due().unwrap(), 900_000.0), Wake::Fire);
    }

    #[test]
    fn state_names_match_the_spec() {
        let names: Vec<_> = [State::Idle, State::Fresh, State::Refreshing, State::Expired, State::LoggedOut]
            .iter()
            .map(|s| s.as_str())
            .collect();
        assert_eq!(names, ["idle", "fresh", "refreshing", "expired", "logged-out"]);
    }

    // header {"alg":"none"} . payload {"iat":1000,"exp":1010}
    const JWT_10S: &str = "eyJhbGciOiJub25lIn0.eyJpYXQiOjEwMDAsImV4cCI6MTAxMH0.";
    // header {"alg":"none"} . payload {"exp":"soon"}
    const JWT_BAD_EXP: &str = "eyJhbGciOiJub25lIn0.eyJleHAiOiJzb29uIn0.";

    #[test]
    fn automatic_attempts_are_at_least_a_second_apart_whatever_the_answer() {
        // Retry-After: 0 after a failure at 10 ms: the next attempt waits for the floor.
        let mut s = fresh();
        let t = s.begin_refresh(80_000.0).unwrap();
        s.refresh_failed(t, Failure::Transient { retry_after_ms: Some(0.0) }, 80_010.0, 0.5);
        assert_eq!(s.due(), Some(81_000.0));
        assert_eq!(s.next_attempt_at(), Some(81_000.0));
        // A plausible but short token (1.1 s) answered at once: its refresh point (0.88 s
        // later) comes before the floor, and the floor wins.
        let t = s.begin_refresh(81_000.0).unwrap();
        assert!(s.refresh_succeeded(t, grant("a2", 1.1), 81_005.0));
        assert_eq!(s.due(), Some(82_000.0));
        // New tokens from the app start a new session: no floor from the old one.
        s.set_tokens(grant("b", 100.0), 81_010.0);
        assert_eq!(s.next_attempt_at(), None);
    }

    #[test]
    fn implausible_expiries_are_kept_reported_and_backed_off() {
        for g in [
            Grant { access_token: "opaque".into(), expires_in_s: Some(0.0), ..Default::default() },
            Grant { access_token: "opaque".into(), expires_in_s: Some(0.001), ..Default::default() },
            // expiresAt in seconds, read as ms: 1970.
            Grant { access_token: "opaque".into(), expires_at_ms: Some(1_764_000_000.0), ..Default::default() },
        ] {
            let mut s = fresh();
            let wall = 1_764_000_000_000.0;
            let mut now = 80_000.0;
            let mut delays = vec![];
            for _ in 0..4 {
                let t = s.begin_refresh(now).unwrap();
                let rotated = Grant { refresh_token: Some(format!("r@{now}")), ..g.clone() };
                match s.refresh_landed(t, rotated, now + 5.0, wall, 0.5) {
                    Landed::ImplausibleExpiry(d) => delays.push(d),
                    other => panic!("{other:?}"),
                }
                assert_eq!(s.refresh_token(), Some(format!("r@{now}").as_str()), "the rotated refresh token is kept");
                assert_eq!(s.access_token(), Some("opaque"));
                now = s.due().unwrap();
            }
            assert_eq!(delays, [1e3, 2e3, 4e3, 8e3]);
        }
    }

    #[test]
    fn an_implausible_field_gives_way_to_the_tokens_own_expiry() {
        let mut s = fresh();
        let t = s.begin_refresh(0.0).unwrap();
        let g = Grant { access_token: JWT_10S.into(), expires_in_s: Some(0.0), ..Default::default() };
        assert_eq!(s.refresh_landed(t, g, 100.0, 100.0, 0.5), Landed::ExpiryIgnored);
        assert_eq!((s.next_refresh_at(), s.failures()), (Some(8_100.0), 0));
    }

    #[test]
    fn a_jwt_shaped_token_the_decoder_refuses_is_refused_not_given_the_default_lifetime() {
        let mut s = Session::new(Policy::default());
        let huge = format!("eyJhbGciOiJub25lIn0.eyJ{}.", "A".repeat(300 * 1024));
        let bad_json = "eyJhbGciOiJub25lIn0.bm90IGpzb24.";
        for token in [huge.as_str(), bad_json, "eyJhbGciOiJub25lIn0..sig"] {
            let g = Grant { access_token: token.into(), expires_in_s: Some(60.0), ..Default::default() };
            assert_eq!(s.set_tokens_at(g, 0.0, 0.0, None), Err(BadClaim));
            assert_eq!(s.state(), State::Idle);
        }
        // Opaque tokens (no JWT header, or a JWE's five parts) still take the server's fields.
        for token in ["not.a.jwt", "opaque-token", "eyJhbGciOiJkaXIifQ..iv.ct.tag"] {
            let g = Grant { access_token: token.into(), expires_in_s: Some(60.0), ..Default::default() };
            assert_eq!(s.set_tokens_at(g, 0.0, 0.0, None), Ok(()));
        }
    }

    #[test]
    fn a_malformed_exp_is_refused_and_a_rotated_refresh_token_kept() {
        let mut s = Session::new(Policy::default());
        let bad = Grant { access_token: JWT_BAD_EXP.into(), ..Default::default() };
        assert_eq!(s.set_tokens_at(bad.clone(), 0.0, 0.0, None), Err(BadClaim));
        assert_eq!(s.state(), State::Idle);
        let mut s = fresh();
        let t = s.begin_refresh(80_000.0).unwrap();
        let answer = Grant { refresh_token: Some("r2".into()), ..bad };
        assert_eq!(s.refresh_landed(t, answer, 80_010.0, 0.0, 0.5), Landed::BadToken(1_000.0));
        assert_eq!((s.access_token(), s.refresh_token()), (Some("a1"), Some("r2")));
        assert_eq!((s.state(), s.due()), (State::Fresh, Some(81_010.0)));
    }

    #[test]
    fn a_rotated_refresh_token_from_an_unusable_answer_is_kept() {
        let mut s = fresh();
        let t = s.begin_refresh(80_000.0).unwrap();
        s.keep_refresh_token(t, "r2".into());
        s.refresh_failed(t, TRANSIENT, 80_010.0, 0.5);
        assert_eq!((s.access_token(), s.refresh_token()), (Some("a1"), Some("r2")));
        // A stale ticket's token is not taken.
        s.set_tokens(grant("b", 100.0), 90_000.0);
        s.keep_refresh_token(t, "old".into());
        assert_eq!(s.refresh_token(), Some("r1"));
    }

    #[test]
    fn the_wall_clock_is_read_only_for_absolute_expiries() {
        let mut s = Session::new(Policy::default());
        let g = Grant { access_token: "o".into(), expires_at_ms: Some(1_000_060_000.0), ..Default::default() };
        s.set_tokens_at(g, 500.0, 1_000_000_000.0, None).unwrap();
        assert_eq!((s.expires_at(), s.next_refresh_at()), (Some(60_500.0), Some(48_500.0)));
    }
}
