//! `Core`: one [`Session`] and its [`Timer`], as the JS `Refresher` drives it (through
//! the functions of `wasm/cores.rs`, which hold every live `Core` by handle). The JS side
//! does the I/O (fetch, events, storage); every decision about state and time is made by
//! the session here, and the timer is re-aimed after each change.

use wasm_bindgen::JsValue;

use super::timer::Timer;
use crate::schedule::Policy;
use crate::session::{BeginError, Failure, FailureOutcome, Grant, Landed, Session, State, Ticket};

/// One session and its timer. `tick` is called (from a timer task) at each step of the
/// timer; it calls `coreTick`, which answers true when the refresh point or the end of a
/// backoff has come.
pub(crate) struct Core {
    session: Session,
    timer: Timer,
    figures: [f64; 8],
}

/// An optional number as it crosses the boundary: NaN (what JS's `+undefined` gives) when absent.
fn given(x: f64) -> Option<f64> {
    if x.is_nan() { None } else { Some(x) }
}

fn grant(access: String, refresh: Option<String>, expires_at: f64, expires_in: f64) -> Grant {
    Grant { access_token: access, refresh_token: refresh, expires_at_ms: given(expires_at), expires_in_s: given(expires_in) }
}

impl Core {
    /// `refresh_at` and `default_lifetime_ms` come checked by `js/options.js` (an
    /// `OptionsError` names a bad one there); a policy the core would still refuse falls
    /// back to the default one rather than throwing across the boundary.
    pub(crate) fn new(refresh_at: f64, default_lifetime_ms: f64, tick: JsValue) -> Core {
        let policy = Policy::new(refresh_at, default_lifetime_ms).unwrap_or_default();
        Core { session: Session::new(policy), timer: Timer::new(tick), figures: [f64::NAN; 8] }
    }

    fn rearm(&mut self, now: f64) {
        self.timer.arm(self.session.due(), now);
    }

    /// New tokens from the app (`now` on the session clock, `wall` = `Date.now()`,
    /// `server` the server's clock as best known for tokens that may have waited; the
    /// optional numbers here and below are NaN when absent); any refresh in flight
    /// becomes stale. False, and nothing changed, when the
    /// token's expiry claim is malformed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn set_tokens(&mut self, access: String, refresh: Option<String>, expires_at: f64, expires_in: f64, now: f64, wall: f64, server: f64) -> bool {
        let ok = self.session.set_tokens_at(grant(access, refresh, expires_at, expires_in), now, wall, given(server)).is_ok();
        self.rearm(now);
        ok
    }

    /// Starts a refresh: a ticket (>= 0), or -1 when one is in flight, -2 when the session is over.
    pub(crate) fn begin(&mut self, now: f64) -> f64 {
        let r = match self.session.begin_refresh(now) {
            Ok(Ticket(t)) => t as f64,
            Err(BeginError::InFlight) => -1.0,
            Err(BeginError::Over) => -2.0,
        };
        self.rearm(now);
        r
    }

    /// A refresh answered with tokens: 0 taken, 1 taken with the answer's expiry field
    /// ignored, 2 taken but the expiry is implausible (backing off), 3 access token
    /// refused for a malformed expiry claim (refresh token kept, backing off), 4 stale.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn succeed(&mut self, ticket: u32, access: String, refresh: Option<String>, expires_at: f64, expires_in: f64, now: f64, wall: f64, random: f64) -> u32 {
        let landed = self.session.refresh_landed(Ticket(ticket), grant(access, refresh, expires_at, expires_in), now, wall, random);
        self.rearm(now);
        match landed {
            Landed::Fresh => 0,
            Landed::ExpiryIgnored => 1,
            Landed::ImplausibleExpiry(_) => 2,
            Landed::BadToken(_) => 3,
            Landed::Stale => 4,
        }
    }

    /// A refresh failed: the retry delay in ms, or -1 when the session just expired,
    /// -2 when the ticket was stale. `rotated`: the refresh token an unusable answer
    /// brought, kept (never for a stale ticket) so it is not spent twice.
    pub(crate) fn fail(&mut self, ticket: u32, rejected: bool, retry_after_ms: f64, now: f64, random: f64, rotated: Option<String>) -> f64 {
        if let Some(refresh) = rotated {
            self.session.keep_refresh_token(Ticket(ticket), refresh);
        }
        let failure = if rejected { Failure::Rejected } else { Failure::Transient { retry_after_ms: given(retry_after_ms) } };
        let r = match self.session.refresh_failed(Ticket(ticket), failure, now, random) {
            FailureOutcome::RetryIn(ms) => ms,
            FailureOutcome::Expired => -1.0,
            FailureOutcome::Stale => -2.0,
        };
        self.rearm(now);
        r
    }

    /// Ends the session: `logout` true when the app logged out, false when the server
    /// refused its tokens. True only on the transition (so the app is told once). The
    /// tokens' bytes are wiped (the allocator zeroes every block it takes back).
    pub(crate) fn end(&mut self, logout: bool) -> bool {
        let r = if logout { self.session.logout() } else { self.session.expire() };
        self.timer.arm(None, 0.0);
        r
    }

    /// Look at the clock again (tab visible, focus, wall-clock jump); with `online`, the
    /// browser came back online: cut a backoff short (the one-second floor still holds).
    pub(crate) fn wake(&mut self, online: bool, now: f64) {
        if online {
            self.session.retry_now(now);
        }
        self.rearm(now);
    }

    /// The timer's task ran at `now`: true when the refresh point or the end of a
    /// backoff has come (the caller acts on it), false when the timer only took a step.
    pub(crate) fn tick(&mut self, now: f64) -> bool {
        self.timer.fired(now)
    }

    /// The session's figures at `now`, written into a buffer in wasm memory whose
    /// address is returned (JS reads it as 8 `f64`s, no copy through the glue):
    /// `[state, expiresAt, nextRefreshAt, receivedAt, nextAttemptAt, failures,
    /// needsRefresh, usable]`. Times are on the session clock, NaN when absent;
    /// `nextAttemptAt` is the earliest a refresh may begin other than at the app's
    /// request (the end of a backoff, or the one-second floor after the last attempt);
    /// state 0 idle, 1 fresh, 2 refreshing, 3 expired, 4 logged-out; the last two are 0/1.
    pub(crate) fn figures(&mut self, now: f64) -> *const f64 {
        let s = &self.session;
        let state = match s.state() {
            State::Idle => 0.0,
            State::Fresh => 1.0,
            State::Refreshing => 2.0,
            State::Expired => 3.0,
            State::LoggedOut => 4.0,
        };
        let schedule = s.schedule();
        self.figures = [
            state,
            schedule.map_or(f64::NAN, |x| x.expires_at),
            schedule.map_or(f64::NAN, |x| x.refresh_at),
            schedule.map_or(f64::NAN, |x| x.received_at),
            s.next_attempt_at().unwrap_or(f64::NAN),
            s.failures() as f64,
            s.needs_refresh(now) as u8 as f64,
            s.is_usable(now) as u8 as f64,
        ];
        self.figures.as_ptr()
    }

    /// The access token held (`refresh` false) or the refresh token (`refresh` true).
    pub(crate) fn token(&self, refresh: bool) -> Option<&str> {
        if refresh { self.session.refresh_token() } else { self.session.access_token() }
    }
}
