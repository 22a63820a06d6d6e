//! The 401/403 replay rule (SPEC behaviour 5) as decisions, for the faces that send
//! requests: the web `fetch` of the `web` feature makes exactly these; the JS
//! `authorizedFetch` (`js/request.js`, `Refresher._rejectedAgain`) makes the same inline.
//!
//! A request is refreshed-and-replayed at most once, and only when it carried our token
//! and was answered by the origin it went to; after the replay, a status in
//! `end_session_statuses` ends the session and any other refusal is "forbidden".
//!
//! # Example
//! ```
//! use freshtoken::replay::{after_first, after_replay, Again, First, Replayed, Rules};
//! let rules = Rules::default();
//! let sent = First { status: 401, carried_token: true, answered_by_origin: true, opted_out: false };
//! assert!(after_first(&rules, &sent));
//! let again = |status| Again { status, answered_by_origin: true, token_current: true };
//! assert_eq!(after_replay(&rules, &again(401)), Replayed::EndSession);
//! assert_eq!(after_replay(&rules, &again(403)), Replayed::Forbidden);
//! assert_eq!(after_replay(&rules, &again(200)), Replayed::Return);
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

/// What the answer to the replay was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Again {
    /// Its status.
    pub status: u16,
    /// Whether it came from the origin the replay went to.
    pub answered_by_origin: bool,
    /// Whether the token the replay carried is still the session's: a refusal of an older
    /// token never ends (or reports on) the session that replaced it (a new login).
    pub token_current: bool,
}

/// What the replay's answer means. Only a retry status counts (as a first answer would);
/// of those, an end-session status ends the session and any other is "forbidden".
pub fn after_replay(rules: &Rules, again: &Again) -> Replayed {
    if !again.answered_by_origin || !again.token_current || !rules.retry_statuses.contains(&again.status) {
        Replayed::Return
    } else if rules.end_session_statuses.contains(&again.status) {
        Replayed::EndSession
    } else {
        Replayed::Forbidden
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

    fn again(status: u16) -> Again {
        Again { status, answered_by_origin: true, token_current: true }
    }

    #[test]
    fn after_the_replay_only_end_session_statuses_end_it() {
        let r = Rules::default();
        assert_eq!(after_replay(&r, &again(401)), Replayed::EndSession);
        assert_eq!(after_replay(&r, &again(403)), Replayed::Forbidden);
        assert_eq!(after_replay(&r, &again(500)), Replayed::Return);
        let elsewhere = Again { answered_by_origin: false, ..again(401) };
        assert_eq!(after_replay(&r, &elsewhere), Replayed::Return, "a redirect elsewhere never ends the session");
        let strict = Rules { end_session_statuses: vec![401, 403], ..Rules::default() };
        assert_eq!(after_replay(&strict, &again(403)), Replayed::EndSession);
    }

    #[test]
    fn a_refused_replay_of_a_replaced_token_leaves_the_new_session_alone() {
        let r = Rules::default();
        let old = |status| Again { token_current: false, ..again(status) };
        assert_eq!(after_replay(&r, &old(401)), Replayed::Return, "user 2's session is not ended by user 1's token");
        assert_eq!(after_replay(&r, &old(403)), Replayed::Return, "nor told forbidden");
    }

    #[test]
    fn only_retry_statuses_count_after_the_replay_as_before_it() {
        // As js/request.js: a status the app did not ask to replay is just returned.
        let only_403 = Rules { retry_statuses: vec![403], end_session_statuses: vec![401] };
        assert_eq!(after_replay(&only_403, &again(401)), Replayed::Return);
        assert_eq!(after_replay(&only_403, &again(403)), Replayed::Forbidden);
    }
}
