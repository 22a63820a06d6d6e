//! When a token expires and when to refresh it (SPEC behaviour 1 and 2).
//!
//! Everything here is anchored on the *local* receipt time. The server's clock is only
//! used through differences (`exp - iat`), so a client clock that is off by an hour
//! moves neither the refresh point nor the expiry the SDK acts on.

/// Where a session's expiry came from, first that applies (SPEC behaviour 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpirySource {
    /// `expiresAt` given with the tokens (ms since epoch, server clock).
    ExpiresAt,
    /// `expiresIn` given with the tokens (seconds from receipt).
    ExpiresIn,
    /// The token's own expiry: JWT `exp`, PubNub `t + ttl * 60`.
    Token,
    /// Nothing known: `defaultLifetimeMs` from receipt.
    Default,
}

/// What is known about a token's expiry when it is received.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ExpiryFacts {
    /// `expiresAt` from the server, ms since epoch.
    pub expires_at_ms: Option<f64>,
    /// `expiresIn` from the server, seconds.
    pub expires_in_s: Option<f64>,
    /// The token's decoded expiry, ms since epoch.
    pub token_exp_ms: Option<f64>,
    /// The token's decoded issue time, ms since epoch.
    pub token_iat_ms: Option<f64>,
    /// For tokens that may have waited somewhere since they were issued (restored by the
    /// app): the server's clock at receipt, as best known (ms since epoch). An absolute
    /// expiry already past by it is past: the token is refreshed before anything uses it.
    pub server_now_ms: Option<f64>,
}

/// The refresh policy shared by every token of a session.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// Fraction of the lifetime after which to refresh, in (0, 1). Default 0.8.
    pub refresh_at: f64,
    /// Lifetime assumed for a token with no known expiry. Default 24 h.
    pub default_lifetime_ms: f64,
}

/// Why a [`Policy`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyError {
    /// `refresh_at` is not a number strictly between 0 and 1.
    RefreshAt,
    /// `default_lifetime_ms` is not a positive finite number.
    DefaultLifetime,
}

impl PolicyError {
    /// A message naming the option and what it must be.
    pub fn message(self) -> &'static str {
        match self {
            PolicyError::RefreshAt => "refreshAt must be a number greater than 0 and less than 1",
            PolicyError::DefaultLifetime => "defaultLifetimeMs must be a positive finite number",
        }
    }
}

/// 24 hours, the lifetime of a token whose expiry nothing tells.
pub const DEFAULT_LIFETIME_MS: f64 = 24.0 * 60.0 * 60.0 * 1000.0;

impl Default for Policy {
    fn default() -> Self {
        Policy { refresh_at: 0.8, default_lifetime_ms: DEFAULT_LIFETIME_MS }
    }
}

impl Policy {
    /// A checked policy.
    ///
    /// # Example
    /// ```
    /// use freshtoken::schedule::Policy;
    /// assert!(Policy::new(0.8, 60_000.0).is_ok());
    /// assert!(Policy::new(1.0, 60_000.0).is_err());
    /// ```
    pub fn new(refresh_at: f64, default_lifetime_ms: f64) -> Result<Policy, PolicyError> {
        if !(refresh_at > 0.0 && refresh_at < 1.0) {
            return Err(PolicyError::RefreshAt);
        }
        if !(default_lifetime_ms > 0.0 && default_lifetime_ms.is_finite()) {
            return Err(PolicyError::DefaultLifetime);
        }
        Ok(Policy { refresh_at, default_lifetime_ms })
    }
}

/// A token's timeline on the local clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    /// Local time the token was received, ms since epoch.
    pub received_at: f64,
    /// The token's lifetime in ms (may be zero or negative for a token already expired).
    pub lifetime_ms: f64,
    /// Local time the token expires: `received_at + lifetime_ms`.
    pub expires_at: f64,
    /// Local time to refresh: `received_at + refresh_at * lifetime_ms`.
    pub refresh_at: f64,
    /// Which fact gave the expiry.
    pub source: ExpirySource,
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// The latest instant a JS `Date` can hold, ms since the epoch (ECMA-262 time values). An
/// expiry beyond it (`expires_in: 1e308`, `expiresAt: 1e300`: a broken or hostile answer)
/// is no expiry: the next source stands in (the token's own `exp`, else
/// `defaultLifetimeMs`), never a token scheduled for never (`expiresAt` and
/// `nextRefreshAt` Infinity, no proactive refresh again).
pub const MAX_DATE_MS: f64 = 8.64e15;

/// An instant (ms since the epoch) a `Date` can hold.
fn dated(at: Option<f64>) -> Option<f64> {
    finite(at).filter(|a| *a <= MAX_DATE_MS)
}

impl Schedule {
    /// Plans a token received at local time `now`.
    ///
    /// The lifetime is `expiry - iat` when the expiry is a server-clock instant and the
    /// token carries a sane `iat` (before the expiry); otherwise `expiry - now`.
    ///
    /// # Example
    /// ```
    /// use freshtoken::schedule::{ExpiryFacts, Policy, Schedule};
    /// // A 15-minute JWT, read by a client whose clock is one hour fast.
    /// let iat = 1_700_000_000_000.0;
    /// let facts = ExpiryFacts { token_iat_ms: Some(iat), token_exp_ms: Some(iat + 900_000.0), ..Default::default() };
    /// let now = iat + 3_600_000.0;
    /// let s = Schedule::plan(&facts, &Policy::default(), now);
    /// assert_eq!(s.refresh_at, now + 720_000.0);
    /// ```
    pub fn plan(facts: &ExpiryFacts, policy: &Policy, now: f64) -> Schedule {
        Schedule::plan_at(facts, policy, now, now)
    }

    /// [`Schedule::plan`] with two clocks: `now` is the session's monotonic clock, on which
    /// every instant of the schedule is expressed, and `wall` the wall clock (ms since
    /// epoch) at the same moment, used only to turn an absolute expiry that has no `iat`
    /// beside it into a lifetime. A wall clock set back or forward later moves nothing.
    ///
    /// # Example
    /// ```
    /// use freshtoken::schedule::{ExpiryFacts, Policy, Schedule};
    /// // expiresAt one minute after the wall clock; the monotonic clock reads 5 s.
    /// let facts = ExpiryFacts { expires_at_ms: Some(1_700_000_060_000.0), ..Default::default() };
    /// let s = Schedule::plan_at(&facts, &Policy::default(), 5_000.0, 1_700_000_000_000.0);
    /// assert_eq!((s.expires_at, s.refresh_at), (65_000.0, 53_000.0));
    /// ```
    pub fn plan_at(facts: &ExpiryFacts, policy: &Policy, now: f64, wall: f64) -> Schedule {
        let iat = finite(facts.token_iat_ms);
        let (expires_at, token_exp) = (dated(facts.expires_at_ms), dated(facts.token_exp_ms));
        let expires_in = finite(facts.expires_in_s).filter(|s| dated(Some(wall + s * 1000.0)).is_some());
        let server_expiry = |expiry: f64, source| {
            let lifetime = match iat {
                Some(iat) if iat < expiry => expiry - iat,
                _ => expiry - wall,
            };
            (lifetime, source)
        };
        let (lifetime_ms, source) = if let Some(at) = expires_at {
            server_expiry(at, ExpirySource::ExpiresAt)
        } else if let Some(secs) = expires_in {
            (secs * 1000.0, ExpirySource::ExpiresIn)
        } else if let Some(exp) = token_exp {
            server_expiry(exp, ExpirySource::Token)
        } else {
            (policy.default_lifetime_ms, ExpirySource::Default)
        };
        // A restored token: what is left of it by the server's clock, if that is less.
        let absolute = match source {
            ExpirySource::ExpiresAt => expires_at,
            ExpirySource::Token => token_exp,
            _ => None,
        };
        // Claims and `Date` headers count whole seconds: only what is left by more than
        // that slack shortens a token, so a fresh one keeps its full lifetime.
        // A server clock before the token's own `iat` is implausible (a `Date` from
        // elsewhere, or a wrong one): the local (wall) clock stands in, as before any Date.
        let plausible = |server_now: f64| iat.is_none_or(|iat| server_now + SERVER_CLOCK_SLACK_MS >= iat);
        let server_now = finite(facts.server_now_ms).map(|s| if plausible(s) { s } else { wall });
        let lifetime_ms = match (absolute, server_now) {
            (Some(expiry), Some(server_now)) => lifetime_ms.min(expiry - server_now + SERVER_CLOCK_SLACK_MS),
            _ => lifetime_ms,
        };
        Schedule {
            received_at: now,
            lifetime_ms,
            expires_at: now + lifetime_ms,
            refresh_at: now + policy.refresh_at * lifetime_ms,
            source,
        }
    }

    /// How long the token has left at `now` (negative once expired).
    pub fn remaining(&self, now: f64) -> f64 {
        self.expires_at - now
    }

    /// Whether the refresh point has come.
    pub fn is_due(&self, now: f64) -> bool {
        now >= self.refresh_at
    }

    /// Whether the token is past its expiry.
    pub fn is_expired(&self, now: f64) -> bool {
        now >= self.expires_at
    }
}

/// How far the server's clock, as `Date` headers and whole-second claims tell it, may be
/// off: a restored token is shortened only by what is left of it beyond this.
pub const SERVER_CLOCK_SLACK_MS: f64 = 2_000.0;

/// The floor under every automatic delay: at most one automatic refresh attempt per
/// this many ms per session, whatever an answer's `expiresIn` or `Retry-After` says.
pub const MIN_INTERVAL_MS: f64 = 1_000.0;

/// A refresh answer whose token has less than this left when it arrives has an
/// implausible expiry (`expiresIn: 0`, `expiresAt` in seconds, a token already expired).
pub const MIN_REMAINING_MS: f64 = 1_000.0;

/// The longest single timer step. `setTimeout` fires at once for delays above
/// 2^31-1 ms, so longer waits are chained; steps are kept much shorter still so that a
/// wall-clock jump (a laptop waking from sleep) is noticed within one step.
pub const MAX_STEP_MS: u32 = 10_000;

/// What a timer should do at `now` for an instant `due`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// The instant has come: act now.
    Fire,
    /// Sleep this many ms (at most [`MAX_STEP_MS`]) and look again.
    Sleep(u32),
}

/// The next step of a chained timer aiming at `due`, looking at the clock `now`.
///
/// # Example
/// ```
/// use freshtoken::schedule::{next_wake, Wake, MAX_STEP_MS};
/// // A 30-day PubNub token: never one setTimeout beyond the cap.
/// assert_eq!(next_wake(30.0 * 86_400_000.0, 0.0), Wake::Sleep(MAX_STEP_MS));
/// assert_eq!(next_wake(1_500.0, 1_000.0), Wake::Sleep(500));
/// assert_eq!(next_wake(1_000.0, 1_000.0), Wake::Fire);
/// ```
pub fn next_wake(due: f64, now: f64) -> Wake {
    let wait = due - now;
    if wait.is_nan() || wait <= 0.0 {
        return Wake::Fire;
    }
    if wait >= MAX_STEP_MS as f64 {
        return Wake::Sleep(MAX_STEP_MS);
    }
    // 0 < wait < MAX_STEP_MS: round up so the timer never wakes a hair early.
    Wake::Sleep(wait.ceil() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: f64 = 1_700_000_000_000.0;

    fn jwt(iat_s: f64, exp_s: f64) -> ExpiryFacts {
        ExpiryFacts { token_iat_ms: Some(iat_s * 1000.0), token_exp_ms: Some(exp_s * 1000.0), ..Default::default() }
    }

    #[test]
    fn refreshes_at_80_percent_of_a_fresh_token() {
        let s = Schedule::plan(&jwt(T0 / 1000.0, T0 / 1000.0 + 3.0), &Policy::default(), T0);
        assert_eq!(s.lifetime_ms, 3000.0);
        assert_eq!(s.refresh_at, T0 + 2400.0);
        assert_eq!(s.expires_at, T0 + 3000.0);
        assert_eq!(s.source, ExpirySource::Token);
    }

    #[test]
    fn refresh_fraction_is_configurable() {
        let p = Policy::new(0.5, DEFAULT_LIFETIME_MS).unwrap();
        let s = Schedule::plan(&jwt(100.0, 200.0), &p, T0);
        assert_eq!(s.refresh_at, T0 + 50_000.0);
    }

    #[test]
    fn client_clock_an_hour_fast_does_not_move_the_refresh_point() {
        let facts = jwt(T0 / 1000.0, T0 / 1000.0 + 900.0);
        let on_time = Schedule::plan(&facts, &Policy::default(), T0);
        let fast = Schedule::plan(&facts, &Policy::default(), T0 + 3_600_000.0);
        let slow = Schedule::plan(&facts, &Policy::default(), T0 - 3_600_000.0);
        for s in [on_time, fast, slow] {
            assert_eq!(s.refresh_at - s.received_at, 720_000.0);
            assert_eq!(s.expires_at - s.received_at, 900_000.0);
            assert!(!s.is_due(s.received_at + 719_999.0));
            assert!(s.is_due(s.received_at + 720_000.0));
        }
    }

    #[test]
    fn without_iat_lifetime_runs_from_receipt() {
        let facts = ExpiryFacts { token_exp_ms: Some(T0 + 10_000.0), ..Default::default() };
        let s = Schedule::plan(&facts, &Policy::default(), T0);
        assert_eq!(s.lifetime_ms, 10_000.0);
        assert_eq!(s.refresh_at, T0 + 8_000.0);
    }

    #[test]
    fn insane_iat_after_expiry_is_ignored() {
        let facts = ExpiryFacts { token_exp_ms: Some(T0 + 10_000.0), token_iat_ms: Some(T0 + 20_000.0), ..Default::default() };
        let s = Schedule::plan(&facts, &Policy::default(), T0);
        assert_eq!(s.lifetime_ms, 10_000.0);
        let nan = ExpiryFacts { token_exp_ms: Some(T0 + 10_000.0), token_iat_ms: Some(f64::NAN), ..Default::default() };
        assert_eq!(Schedule::plan(&nan, &Policy::default(), T0).lifetime_ms, 10_000.0);
    }

    #[test]
    fn expiry_precedence_expires_at_then_in_then_token_then_default() {
        let p = Policy::default();
        let all = ExpiryFacts {
            expires_at_ms: Some(T0 + 1_000_000.0),
            expires_in_s: Some(50.0),
            token_exp_ms: Some(T0 + 7_000.0),
            token_iat_ms: None, server_now_ms: None, };
        let s = Schedule::plan(&all, &p, T0);
        assert_eq!((s.source, s.lifetime_ms), (ExpirySource::ExpiresAt, 1_000_000.0));
        let s = Schedule::plan(&ExpiryFacts { expires_at_ms: None, ..all }, &p, T0);
        assert_eq!((s.source, s.lifetime_ms), (ExpirySource::ExpiresIn, 50_000.0));
        let s = Schedule::plan(&ExpiryFacts { expires_at_ms: None, expires_in_s: None, ..all }, &p, T0);
        assert_eq!((s.source, s.lifetime_ms), (ExpirySource::Token, 7_000.0));
        let s = Schedule::plan(&ExpiryFacts::default(), &p, T0);
        assert_eq!((s.source, s.lifetime_ms), (ExpirySource::Default, DEFAULT_LIFETIME_MS));
        assert_eq!(s.refresh_at, T0 + 0.8 * DEFAULT_LIFETIME_MS);
    }

    #[test]
    fn expires_at_uses_the_tokens_iat_to_cancel_clock_skew() {
        let facts = ExpiryFacts {
            expires_at_ms: Some(T0 + 60_000.0),
            token_iat_ms: Some(T0),
            ..Default::default()
        };
        let s = Schedule::plan(&facts, &Policy::default(), T0 + 3_600_000.0);
        assert_eq!(s.lifetime_ms, 60_000.0);
    }

    #[test]
    fn expires_in_ignores_iat_because_it_is_already_relative() {
        let facts = ExpiryFacts { expires_in_s: Some(30.0), token_iat_ms: Some(0.0), ..Default::default() };
        assert_eq!(Schedule::plan(&facts, &Policy::default(), T0).lifetime_ms, 30_000.0);
    }

    #[test]
    fn non_finite_facts_fall_through_to_the_next_source() {
        let facts = ExpiryFacts {
            expires_at_ms: Some(f64::NAN),
            expires_in_s: Some(f64::INFINITY),
            token_exp_ms: Some(T0 + 5_000.0),
            token_iat_ms: None, server_now_ms: None, };
        assert_eq!(Schedule::plan(&facts, &Policy::default(), T0).source, ExpirySource::Token);
    }

    #[test]
    fn an_expired_token_is_due_at_once() {
        let facts = ExpiryFacts { token_exp_ms: Some(T0 - 5_000.0), ..Default::default() };
        let s = Schedule::plan(&facts, &Policy::default(), T0);
        assert!(s.is_due(T0));
        assert!(s.is_expired(T0));
        assert_eq!(next_wake(s.refresh_at, T0), Wake::Fire);
    }

    #[test]
    fn a_thirty_day_pubnub_token_is_chained_not_overflowed() {
        // ttl 43,200 minutes: 2,592,000,000 ms, beyond setTimeout's 2^31-1.
        let lifetime = 43_200.0 * 60_000.0;
        assert!(lifetime > i32::MAX as f64);
        let facts = ExpiryFacts { token_iat_ms: Some(T0), token_exp_ms: Some(T0 + lifetime), ..Default::default() };
        let s = Schedule::plan(&facts, &Policy::default(), T0);
        assert_eq!(s.refresh_at, T0 + 0.8 * lifetime);
        let mut now = T0;
        let mut steps = 0u32;
        loop {
            match next_wake(s.refresh_at, now) {
                Wake::Fire => break,
                Wake::Sleep(ms) => {
                    assert!(ms <= MAX_STEP_MS && ms > 0);
                    now += ms as f64;
                    steps += 1;
                }
            }
        }
        assert!(now >= s.refresh_at && now - s.refresh_at < 1.0);
        assert_eq!(steps as f64, (0.8 * lifetime / MAX_STEP_MS as f64).ceil());
    }

    #[test]
    fn a_wall_clock_jump_fires_at_the_next_step() {
        // Asleep for a day: the next wake sees the refresh point long past.
        let s = Schedule::plan(&jwt(T0 / 1000.0, T0 / 1000.0 + 3600.0), &Policy::default(), T0);
        assert_eq!(next_wake(s.refresh_at, T0), Wake::Sleep(MAX_STEP_MS));
        assert_eq!(next_wake(s.refresh_at, T0 + 86_400_000.0), Wake::Fire);
    }

    #[test]
    fn next_wake_rounds_up_and_handles_nan() {
        assert_eq!(next_wake(T0 + 0.2, T0), Wake::Sleep(1));
        assert_eq!(next_wake(f64::NAN, T0), Wake::Fire);
        assert_eq!(next_wake(f64::INFINITY, T0), Wake::Sleep(MAX_STEP_MS));
    }

    #[test]
    fn policy_rejects_bad_values() {
        for bad in [0.0, 1.0, -0.5, 1.5, f64::NAN, f64::INFINITY] {
            assert_eq!(Policy::new(bad, 1.0), Err(PolicyError::RefreshAt));
        }
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(Policy::new(0.8, bad), Err(PolicyError::DefaultLifetime));
        }
        assert!(PolicyError::RefreshAt.message().contains("refreshAt"));
    }

    #[test]
    fn a_restored_token_past_its_exp_by_the_server_clock_is_due_at_once() {
        // iat 100 s ago, exp 90 s ago: by exp - iat alone it would look fresh for 8 s.
        let now = 1_700_000_000_000.0;
        let mut facts = jwt((now - 100_000.0) / 1000.0, (now - 90_000.0) / 1000.0);
        assert_eq!(Schedule::plan(&facts, &Policy::default(), now).refresh_at, now + 8_000.0);
        facts.server_now_ms = Some(now);
        let s = Schedule::plan(&facts, &Policy::default(), now);
        assert!(s.is_due(now) && s.is_expired(now));
        // A token with time left keeps the smaller of the two lifetimes (plus the slack).
        let mut facts = jwt((now - 60_000.0) / 1000.0, (now + 40_000.0) / 1000.0);
        facts.server_now_ms = Some(now);
        assert_eq!(Schedule::plan(&facts, &Policy::default(), now).expires_at, now + 42_000.0);
        // A fresh token whose whole-second iat/exp put exp 0.9 s short of iat + lifetime by
        // the server clock keeps its full lifetime.
        let mut facts = jwt((now - 900.0) / 1000.0, (now + 4_100.0) / 1000.0);
        facts.server_now_ms = Some(now);
        assert_eq!(Schedule::plan(&facts, &Policy::default(), now).refresh_at, now + 4_000.0);
        // A server clock before the token's own iat (a Date from elsewhere, or a wrong
        // one) is implausible: the local clock stands and the token keeps its lifetime.
        let mut facts = jwt(now / 1000.0, (now + 60_000.0) / 1000.0);
        facts.server_now_ms = Some(now - 3_600_000.0);
        assert_eq!(Schedule::plan(&facts, &Policy::default(), now).refresh_at, now + 48_000.0);
        facts.server_now_ms = Some(now + 70_000.0);
        assert!(Schedule::plan(&facts, &Policy::default(), now).is_due(now));
        // expiresIn is relative: the server clock does not apply.
        let facts = ExpiryFacts { expires_in_s: Some(60.0), server_now_ms: Some(now + 1e9), ..Default::default() };
        assert_eq!(Schedule::plan(&facts, &Policy::default(), now).expires_at, now + 60_000.0);
    }

    #[test]
    fn an_expiry_beyond_any_date_is_no_expiry() {
        let now = 1_700_000_000_000.0;
        let p = Policy::default();
        let exp = now + 600_000.0;
        for facts in [
            ExpiryFacts { expires_in_s: Some(1e308), token_exp_ms: Some(exp), ..Default::default() },
            ExpiryFacts { expires_in_s: Some(f64::MAX), token_exp_ms: Some(exp), ..Default::default() },
            ExpiryFacts { expires_at_ms: Some(1e300), token_exp_ms: Some(exp), ..Default::default() },
        ] {
            let s = Schedule::plan(&facts, &p, now);
            assert_eq!((s.expires_at, s.source), (exp, ExpirySource::Token), "{facts:?}");
        }
        let opaque = ExpiryFacts { expires_in_s: Some(1e308), ..Default::default() };
        let s = Schedule::plan(&opaque, &p, now);
        assert_eq!((s.expires_at, s.source), (now + p.default_lifetime_ms, ExpirySource::Default));
        // 31,700 years is still a date: the server's word, taken.
        let far = ExpiryFacts { expires_in_s: Some(1e12), ..Default::default() };
        assert_eq!(Schedule::plan(&far, &p, now).source, ExpirySource::ExpiresIn);
        let own = ExpiryFacts { token_exp_ms: Some(1e300), ..Default::default() };
        assert_eq!(Schedule::plan(&own, &p, now).source, ExpirySource::Default);
    }
}
