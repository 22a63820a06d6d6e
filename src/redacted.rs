//! Debug output that never shows a token (SPEC behaviour 6: no token in logs). Every type
//! that holds an access or refresh token writes its `Debug` by hand with [`Hidden`] in the
//! token's place, so that `{:?}` in an app's log (of the [`crate::refresher::RefreshContext`]
//! its refresh function gets, a [`crate::session::Grant`], a decision, the engine) shows
//! whether a token is there, never the token.

use std::fmt;

/// A token in `Debug` output: `"[token]"`, or `None` when there is none.
pub(crate) struct Hidden<'a>(pub(crate) Option<&'a str>);

impl Hidden<'_> {
    /// One that is always there.
    pub(crate) fn of(token: &str) -> Hidden<'_> {
        Hidden(Some(token))
    }
}

impl fmt::Debug for Hidden<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(_) => f.write_str("[token]"),
            None => f.write_str("None"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::answer::{Tokens, Unusable};
    use crate::engine::{Config, Engine, Output, RefreshFailure};
    use crate::refresher::{Decision, RefreshContext};
    use crate::session::{Grant, Session};
    use crate::schedule::Policy;

    const A: &str = "secret-access-token";
    const R: &str = "secret-refresh-token";

    fn shows_none(what: &str, debug: String) {
        assert!(!debug.contains(A) && !debug.contains(R), "{what} shows a token: {debug}");
        assert!(debug.contains("[token]"), "{what} hides that a token is there: {debug}");
    }

    #[test]
    fn no_debug_output_shows_a_token() {
        let grant = Grant { access_token: A.into(), refresh_token: Some(R.into()), expires_in_s: Some(60.0), ..Grant::default() };
        shows_none("RefreshContext", format!("{:?}", RefreshContext { access_token: Some(A.into()), refresh_token: Some(R.into()) }));
        shows_none("Grant", format!("{grant:?}"));
        shows_none("Decision", format!("{:?}", Decision::Send { token: A.into(), replay: false }));
        shows_none("Output::StartRefresh", format!("{:?}", Output::StartRefresh { ticket: 1, access_token: Some(A.into()), refresh_token: Some(R.into()) }));
        shows_none("Output::Send", format!("{:?}", Output::Send { id: 1, token: Some(A.into()), replay: true }));
        shows_none("Output::Token", format!("{:?}", Output::Token { id: 1, token: A.into() }));
        shows_none("Output::Revoke", format!("{:?}", Output::Revoke { refresh_token: R.into() }));
        shows_none("RefreshFailure", format!("{:?}", RefreshFailure { rotated_refresh_token: Some(R.into()), ..RefreshFailure::default() }));
        shows_none("Unusable", format!("{:?}", Unusable { message: "no access token".into(), rotated_refresh_token: Some(R.into()) }));
        shows_none("Tokens", format!("{:?}", Tokens { access_token: A.into(), refresh_token: Some(R.into()), expires_in: None, expires_at: None, problems: None }));
        let mut session = Session::new(Policy::default());
        session.set_tokens(grant.clone(), 0.0);
        shows_none("Session", format!("{session:?}"));
        // The engine with a session, a request in the air and its outputs queued.
        let mut engine = Engine::new(Config { page_origin: Some("https://app.example".into()), ..Config::default() }).unwrap();
        engine.set_tokens(grant, false, 0.0, 0.0).unwrap();
        engine.request(7, &crate::engine::Request { origin: Some("https://app.example".into()), ..Default::default() }, 0.0);
        engine.response(7, 401, true, 0.0);
        shows_none("Engine", format!("{engine:?}"));
    }
}
