//! A refresher's options, checked once: every problem named, nothing silently defaulted.

use super::origins::{origin_of_absolute, NotAnOrigin, Origins};

/// What the refresh call cannot do without.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// The refresh token (`json`, `sanic-jwt`, `oauth2`).
    RefreshToken,
    /// The access token (`bearer-put`).
    AccessToken,
    /// Nothing the session holds (an app's own `refresh`, or a cookie: `credentials: 'include'`).
    Nothing,
}

/// The options the engine's rules depend on.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Fraction of the lifetime at which to refresh, in (0, 1); default 0.8.
    pub refresh_at: f64,
    /// Lifetime of a token with no known expiry, ms; default 24 h.
    pub default_lifetime_ms: f64,
    /// Statuses refreshed and replayed once; default `[401, 403]`.
    pub retry_statuses: Vec<u16>,
    /// After the replay, these end the session; default `[401]`.
    pub end_session_statuses: Vec<u16>,
    /// The `origins` option as given; `None`: the page's own origin.
    pub origins: Option<Vec<String>>,
    /// The page's origin (none in node, or an opaque origin).
    pub page_origin: Option<String>,
    /// `endpoint.url` as given (its origin counts for the refresh call when it is absolute).
    pub endpoint_url: Option<String>,
    /// How long a request waits for a fresh token, ms; default 15 s.
    pub refresh_timeout_ms: f64,
    /// What the refresh call needs.
    pub needs: Needs,
    /// A revocation endpoint is configured: a logout revokes the refresh token there.
    pub revoke: bool,
    /// The preset reads OAuth 2 error answers (`oauth2`); the others keep the status rules.
    pub oauth: bool,
    /// `dpop: true` (RFC 9449): the session's tokens are bound to a key.
    pub dpop: bool,
    /// The preset's refresh call sends the access token as `Bearer` (`sanic-jwt`,
    /// `bearer-put`, [`super::preset::Preset::sends_bearer`]).
    pub bearer_refresh: bool,
    /// `loginUrl` as the face resolved it against the page (what `location.assign` would
    /// visit; the browser's URL parser, which drops tabs and line breaks, so
    /// `"java\tscript:"` arrives as `javascript:`), or `None` when not given.
    pub login_url: Option<String>,
    /// `endpoint.revokeUrl` as the face resolved it against the page, or `None`.
    pub revoke_url: Option<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            refresh_at: 0.8,
            default_lifetime_ms: 24.0 * 3_600_000.0,
            retry_statuses: vec![401, 403],
            end_session_statuses: vec![401],
            origins: None,
            page_origin: None,
            endpoint_url: None,
            refresh_timeout_ms: 15_000.0,
            needs: Needs::RefreshToken,
            revoke: false,
            oauth: false,
            dpop: false,
            bearer_refresh: false,
            login_url: None,
            revoke_url: None,
        }
    }
}

/// An option the engine refuses.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigError {
    /// `refreshAt` is not in (0, 1).
    RefreshAt(f64),
    /// `defaultLifetimeMs` is not a finite number above 0.
    DefaultLifetime(f64),
    /// A status list holds something that is not an HTTP error status (400-599).
    Status(&'static str, u16),
    /// `refreshTimeoutMs` is not in (0, 2^31-1] (a longer timer delay fires at once).
    RefreshTimeout(f64),
    /// An `origins` entry is not an http(s) origin.
    Origin(NotAnOrigin),
    /// `loginUrl` does not resolve to an http(s) URL: a `javascript:` or `data:` URL would
    /// run script in the page (or show one of the attacker's) at the session's end.
    LoginUrl,
    /// `dpop: true` with a preset whose refresh call sends the access token as `Bearer`: a
    /// DPoP-bound token must never go as a bearer token (RFC 9449 §7.1), and those servers
    /// do not speak DPoP.
    DpopBearer,
    /// `endpoint.revokeUrl` does not resolve to an http(s) URL (found at the first logout,
    /// it would be a revocation that never happens).
    RevokeUrl,
}

impl ConfigError {
    /// What the option must be, naming it (and the entry, for `origins`), without the
    /// refused number: the npm build formats no floats (that code alone is ~20 KB of wasm).
    pub fn rule(&self) -> String {
        match self {
            ConfigError::RefreshAt(_) => "refreshAt must be a number greater than 0 and less than 1".into(),
            ConfigError::DefaultLifetime(_) => "defaultLifetimeMs must be a finite number greater than 0".into(),
            ConfigError::Status(name, v) => {
                let mut m = String::from(*name);
                m.push_str(" must be an array of HTTP error statuses (400-599), e.g. [401]; ");
                super::origins::push_number(&mut m, u32::from(*v));
                m.push_str(" is not one");
                m
            }
            ConfigError::RefreshTimeout(_) => "refreshTimeoutMs must be a number greater than 0 and at most 2147483647 (about 24.8 days)".into(),
            ConfigError::Origin(e) => e.message(),
            ConfigError::LoginUrl => "loginUrl must be an http(s) URL or a path, e.g. '/login' or 'https://id.example.com/login' (not javascript:, data: or another scheme)".into(),
            ConfigError::RevokeUrl => "endpoint.revokeUrl must be an http(s) URL or a path (not javascript:, data: or another scheme)".into(),
            ConfigError::DpopBearer => "dpop: true cannot be used with preset 'sanic-jwt' or 'bearer-put': their refresh call sends the access token as Bearer, and a DPoP-bound token must never go as Bearer (use preset 'oauth2' or 'json', or a refresh function)".into(),
        }
    }

    /// What is wrong, naming the option (and the entry, for `origins`) and the number refused.
    pub fn message(&self) -> String {
        match self {
            ConfigError::RefreshAt(v) | ConfigError::DefaultLifetime(v) | ConfigError::RefreshTimeout(v) => format!("{}, not {v}", self.rule()),
            _ => self.rule(),
        }
    }
}

impl Config {
    /// Checks every option; the origins it allows.
    ///
    /// # Example
    /// ```
    /// use freshtoken::engine::{Config, ConfigError};
    /// assert!(Config::default().check().is_ok());
    /// let bad = Config { refresh_at: 1.0, ..Config::default() };
    /// assert_eq!(bad.check().unwrap_err(), ConfigError::RefreshAt(1.0));
    /// let bad = Config { origins: Some(vec!["api.example.com".into()]), ..Config::default() };
    /// assert!(bad.check().unwrap_err().message().contains("\"api.example.com\""));
    /// let bad = Config { login_url: Some("javascript:alert(1)".into()), ..Config::default() };
    /// assert_eq!(bad.check().unwrap_err(), ConfigError::LoginUrl);
    /// let good = Config { login_url: Some("https://app.example/login?next=%2F".into()), ..Config::default() };
    /// assert!(good.check().is_ok());
    /// let bad = Config { dpop: true, bearer_refresh: true, ..Config::default() };
    /// assert_eq!(bad.check().unwrap_err(), ConfigError::DpopBearer);
    /// ```
    pub fn check(&self) -> Result<Origins, ConfigError> {
        if !(self.refresh_at > 0.0 && self.refresh_at < 1.0) {
            return Err(ConfigError::RefreshAt(self.refresh_at));
        }
        if !(self.default_lifetime_ms.is_finite() && self.default_lifetime_ms > 0.0) {
            return Err(ConfigError::DefaultLifetime(self.default_lifetime_ms));
        }
        for (name, list) in [("retryStatuses", &self.retry_statuses), ("endSessionStatuses", &self.end_session_statuses)] {
            if let Some(&bad) = list.iter().find(|s| !(400..=599).contains(*s)) {
                return Err(ConfigError::Status(name, bad));
            }
        }
        if !(self.refresh_timeout_ms > 0.0 && self.refresh_timeout_ms <= 2_147_483_647.0) {
            return Err(ConfigError::RefreshTimeout(self.refresh_timeout_ms));
        }
        let not_http = |u: &Option<String>| u.as_deref().is_some_and(|u| origin_of_absolute(u).is_none());
        if not_http(&self.login_url) {
            return Err(ConfigError::LoginUrl);
        }
        if not_http(&self.revoke_url) {
            return Err(ConfigError::RevokeUrl);
        }
        if self.dpop && self.bearer_refresh {
            return Err(ConfigError::DpopBearer);
        }
        Origins::new(self.origins.as_deref(), self.page_origin.as_deref(), self.endpoint_url.as_deref()).map_err(ConfigError::Origin)
    }
}

/// Whether a refresher coordinates with the other tabs of its `storageKey` (`crossTab`): as
/// the app asked, else on with every storage but memory (`in_memory`). `localStorage` is
/// shared by the tabs, `sessionStorage` is copied into a duplicated tab, and the app's own
/// storage may be either: each can hand two tabs one rotating refresh token, which only the
/// cross-tab protocol keeps from being spent twice. With memory a tab asks the open ones for
/// the session (`hello`), so `crossTab: true` works there too, the tokens never on disk.
///
/// # Example
/// ```
/// use freshtoken::engine::config::cross_tab;
/// assert!(cross_tab(None, false) && !cross_tab(None, true));
/// assert!(cross_tab(Some(true), true) && !cross_tab(Some(false), false));
/// ```
pub fn cross_tab(asked: Option<bool>, in_memory: bool) -> bool {
    asked.unwrap_or(!in_memory)
}
