//! How a refresh endpoint's HTTP status is taken (SPEC behaviour 4 and 6): 400, 401 and 403
//! end the session; a 2xx is read; a redirect is never followed (a transient failure: it
//! would carry the refresh token elsewhere); anything else (5xx, 429, 404, ...) is transient.

/// The class of a refresh endpoint's status.
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
/// use freshtoken::engine::refresh_status::{refresh_status, RefreshStatus};
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

/// Classifies a refresh endpoint's error answer once its OAuth `error` is read (an OAuth 2
/// preset's; `None` for the others): as [`refresh_status`], except that `use_dpop_nonce`
/// (RFC 9449 §8), which comes with a 400, ends nothing: when the call's one nonce retry is
/// spent it is a transient failure (backed off, and published to the other tabs as one).
///
/// # Example
/// ```
/// use freshtoken::engine::refresh_status::{error_answer_status, RefreshStatus};
/// assert_eq!(error_answer_status(400, Some("use_dpop_nonce")), RefreshStatus::Transient);
/// assert_eq!(error_answer_status(400, Some("invalid_grant")), RefreshStatus::Rejected);
/// assert_eq!(error_answer_status(503, Some("use_dpop_nonce")), RefreshStatus::Transient);
/// assert_eq!(error_answer_status(401, None), RefreshStatus::Rejected);
/// ```
pub fn error_answer_status(status: u16, oauth_error: Option<&str>) -> RefreshStatus {
    use super::oauth_error::{oauth_error_class, OAuthErrorClass};
    match refresh_status(status) {
        RefreshStatus::Rejected if oauth_error.map(oauth_error_class) == Some(OAuthErrorClass::Nonce) => RefreshStatus::Transient,
        class => class,
    }
}
