//! The 401/403 replay rule (SPEC behaviour 5) as decisions, for every face that sends
//! requests: the web `fetch` of the `web` feature, and the table the JS `authorizedFetch`
//! is tested against (`tests/scenarios/replay.json`).
//!
//! A request is refreshed-and-replayed at most once, and only when it carried our token
//! and was answered by the origin it went to; after the replay, a status in
//! `end_session_statuses` ends the session and any other refusal is "forbidden".
//!
//! # Example
//! ```
//! use freshtoken::replay::{after_first, after_replay, First, Replayed, Rules};
//! let rules = Rules::default();
//! let sent = First { status: 401, carried_token: true, answered_by_origin: true, opted_out: false };
//! assert!(after_first(&rules, &sent));
//! assert_eq!(after_replay(&rules, 401, true), Replayed::EndSession);
//! assert_eq!(after_replay(&rules, 403, true), Replayed::Forbidden);
//! assert_eq!(after_replay(&rules, 200, true), Replayed::Return);
//! ```

/// Which statuses are replayed, and which end the session after a replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Refreshed and replayed once; default `[401, 403]`.
    pub retry_statuses: Vec<u16>,
    /// After the replay, these end the session; default `[401]`.
    pub end_session_statuses: Vec<u16>,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules { retry_statuses: vec![401, 403], end_session_statuses: vec![401] }
    }
}

/// What the first answer to a request was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct First {
    /// Its status.
    pub status: u16,
    /// Whether the request carried freshtoken's token.
    pub carried_token: bool,
    /// Whether the answer came from the origin the request went to (not a redirect elsewhere).
    pub answered_by_origin: bool,
    /// Whether the request opted out of refresh-and-replay.
    pub opted_out: bool,
}

/// Whether the first answer calls for a (shared) refresh and one replay.
pub fn after_first(rules: &Rules, first: &First) -> bool {
    first.carried_token && first.answered_by_origin && !first.opted_out && rules.retry_statuses.contains(&first.status)
}

/// What a replay's answer means for the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replayed {
    /// Returned to the caller; nothing else.
    Return,
    /// Refused again with a fresh token by a status that ends the session: the session
    /// expires (told once) and the answer is returned.
    EndSession,
    /// Refused again by a retry status that does not end the session (a 403: "forbidden",
    /// not "log in again"): returned, the session kept, a `forbidden` event told.
    Forbidden,
}

/// What the replay's answer (`status`, from the origin it went to or not) means.
pub fn after_replay(rules: &Rules, status: u16, answered_by_origin: bool) -> Replayed {
    if !answered_by_origin {
        Replayed::Return
    } else if rules.end_session_statuses.contains(&status) {
        Replayed::EndSession
    } else if rules.retry_statuses.contains(&status) {
        Replayed::Forbidden
    } else {
        Replayed::Return
    }
}

/// How a refresh endpoint's HTTP status is taken (SPEC behaviour 4 and 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshStatus {
    /// 2xx: read the body.
    Ok,
    /// 400, 401, 403: the session is over.
    Rejected,
    /// 3xx: a redirect, which the refresh call never follows (a transient failure).
    Redirect,
    /// Anything else (5xx, 429, 404, ...): transient, keep the token and back off.
    Transient,
}

/// Classifies a refresh endpoint's status. `0` is an opaque redirect (`redirect: 'manual'`).
///
/// # Example
/// ```
/// use freshtoken::replay::{refresh_status, RefreshStatus};
/// assert_eq!(refresh_status(200), RefreshStatus::Ok);
/// assert_eq!(refresh_status(401), RefreshStatus::Rejected);
/// assert_eq!(refresh_status(0), RefreshStatus::Redirect);
/// assert_eq!(refresh_status(429), RefreshStatus::Transient);
/// ```
pub fn refresh_status(status: u16) -> RefreshStatus {
    match status {
        400 | 401 | 403 => RefreshStatus::Rejected,
        200..=299 => RefreshStatus::Ok,
        0 | 300..=399 => RefreshStatus::Redirect,
        _ => RefreshStatus::Transient,
    }
}

/// A `Retry-After` value in delay-seconds form, in ms (`None` for anything else; the
/// HTTP-date form needs a date parser, which the browser face supplies).
///
/// # Example
/// ```
/// use freshtoken::replay::retry_after_seconds_ms;
/// assert_eq!(retry_after_seconds_ms(" 3 "), Some(3_000.0));
/// assert_eq!(retry_after_seconds_ms("-1"), None);
/// assert_eq!(retry_after_seconds_ms("Wed, 21 Oct 2015 07:28:00 GMT"), None);
/// ```
pub fn retry_after_seconds_ms(value: &str) -> Option<f64> {
    let s = value.trim();
    if s.is_empty() || s.len() > 15 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<f64>().ok().map(|n| n * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(status: u16) -> First {
        First { status, carried_token: true, answered_by_origin: true, opted_out: false }
    }

    #[test]
    fn only_a_refused_request_that_carried_our_token_to_its_own_origin_is_replayed() {
        let r = Rules::default();
        assert!(after_first(&r, &first(401)));
        assert!(after_first(&r, &first(403)));
        assert!(!after_first(&r, &first(200)));
        assert!(!after_first(&r, &first(500)));
        assert!(!after_first(&r, &First { carried_token: false, ..first(401) }));
        assert!(!after_first(&r, &First { answered_by_origin: false, ..first(401) }));
        assert!(!after_first(&r, &First { opted_out: true, ..first(401) }));
    }

    #[test]
    fn after_the_replay_only_end_session_statuses_end_it() {
        let r = Rules::default();
        assert_eq!(after_replay(&r, 401, true), Replayed::EndSession);
        assert_eq!(after_replay(&r, 403, true), Replayed::Forbidden);
        assert_eq!(after_replay(&r, 401, false), Replayed::Return, "a redirect elsewhere never ends the session");
        let strict = Rules { end_session_statuses: vec![401, 403], ..Rules::default() };
        assert_eq!(after_replay(&strict, 403, true), Replayed::EndSession);
    }
}
