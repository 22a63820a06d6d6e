//! OAuth 2 error responses of a token endpoint (RFC 6749 §5.2), read, not flattened: which
//! `error` codes mean the session is over, which mean the client is misconfigured (the app's
//! developer must fix it: the session ends too, told apart), and which are neither.

/// What an OAuth `error` code means for the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthErrorClass {
    /// `invalid_grant`: the refresh token is expired, revoked or reused: the session is over.
    Grant,
    /// The client's settings are wrong (`invalid_client`, `invalid_request`,
    /// `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`): the session cannot
    /// go on either, but the reason is a configuration the developer must fix.
    Client,
    /// `use_dpop_nonce` (RFC 9449 §8): retry once with the server's nonce; neither a session
    /// end nor a backoff.
    Nonce,
    /// Any other code: the HTTP status decides, as for every preset.
    Other,
}

/// Classifies an OAuth `error` code.
///
/// # Example
/// ```
/// use freshtoken::engine::oauth_error::{oauth_error_class, OAuthErrorClass};
/// assert_eq!(oauth_error_class("invalid_grant"), OAuthErrorClass::Grant);
/// assert_eq!(oauth_error_class("invalid_client"), OAuthErrorClass::Client);
/// assert_eq!(oauth_error_class("use_dpop_nonce"), OAuthErrorClass::Nonce);
/// assert_eq!(oauth_error_class("temporarily_unavailable"), OAuthErrorClass::Other);
/// ```
pub fn oauth_error_class(error: &str) -> OAuthErrorClass {
    match error {
        "invalid_grant" => OAuthErrorClass::Grant,
        "invalid_client" | "invalid_request" | "unauthorized_client" | "unsupported_grant_type" | "invalid_scope" => OAuthErrorClass::Client,
        "use_dpop_nonce" => OAuthErrorClass::Nonce,
        _ => OAuthErrorClass::Other,
    }
}

/// The session-expired reason of a refresh the server refused: `client-rejected` for a
/// client-configuration error, else `refresh-rejected`.
pub fn rejection_reason(error: Option<&str>) -> &'static str {
    match error.map(oauth_error_class) {
        Some(OAuthErrorClass::Client) => "client-rejected",
        _ => "refresh-rejected",
    }
}

/// An OAuth 2 error answer's text (RFC 6749 §5.2): its `error` and `error_description`,
/// each when it is a string (of duplicates the last, as in `JSON.parse`); nothing from a
/// body that is not one JSON object, or longer than
/// [`crate::engine::answer::MAX_ANSWER_LEN`] (its status alone decides).
///
/// # Example
/// ```
/// use freshtoken::engine::oauth_error::read_error;
/// let (e, d) = read_error(r#"{"error":"invalid_grant","error_description":"token \u00e9xpired"}"#);
/// assert_eq!((e.as_deref(), d.as_deref()), (Some("invalid_grant"), Some("token éxpired")));
/// assert_eq!(read_error("<html>"), (None, None));
/// ```
pub fn read_error(text: &str) -> (Option<String>, Option<String>) {
    if text.len() > crate::engine::answer::MAX_ANSWER_LEN {
        return (None, None);
    }
    read_error_with(|f| crate::json::each(text, f).ok())
}

/// [`read_error`] on members read elsewhere (the npm face's `JSON.parse`), handed over as
/// [`crate::engine::answer`]'s `read_with` takes them.
pub(crate) fn read_error_with<'a>(members: impl FnOnce(&mut dyn FnMut(&str, crate::json::Value<'a>)) -> Option<bool>) -> (Option<String>, Option<String>) {
    let (mut error, mut description) = (None, None);
    let read = members(&mut |key, value| {
        let slot = match key {
            "error" => &mut error,
            "error_description" => &mut description,
            _ => return,
        };
        *slot = match value {
            crate::json::Value::Str(s) => Some(s),
            _ => None,
        };
    });
    match read {
        Some(true) => (error, description),
        _ => (None, None),
    }
}

/// The provider's words (its `error`, its `error_description`), withheld when they repeat a
/// token the refresh call carried: as sent, or as the form encoded it (a server may echo the
/// form it got back: `refresh_token=rt%2BZm9v...`), percent-decoded with `+` as a space, in
/// either case of hex. They reach the app's events, errors and the console, and no token may
/// (SPEC behaviour 6); the words of one that carries none reach it as they came.
///
/// # Example
/// ```
/// use freshtoken::engine::oauth_error::withheld;
/// let t = ["rt+Zm9v/YmFy== secret"];
/// assert_eq!(withheld(Some("grant expired".into()), &t).as_deref(), Some("grant expired"));
/// assert_eq!(withheld(Some("grant expired".into()), &[""]).as_deref(), Some("grant expired"));
/// for echo in ["token rt+Zm9v/YmFy== secret", "refresh_token=rt%2BZm9v%2FYmFy%3D%3D+secret", "rt%2bZm9v%2fYmFy%3d%3d%20secret"] {
///     assert_eq!(withheld(Some(echo.into()), &t), None, "{echo}");
/// }
/// ```
pub fn withheld(said: Option<String>, tokens: &[&str]) -> Option<String> {
    said.filter(|s| !tokens.iter().any(|t| echoes(s.as_bytes(), t.as_bytes())))
}

/// Whether `s` holds `t` (non-empty), as it is or form-decoded (`%XX` in either case of hex
/// one byte, `+` a space), compared byte by byte as it is decoded: no copy, no searcher.
#[inline(never)]
fn echoes(s: &[u8], t: &[u8]) -> bool {
    let hex = |i: usize| match s.get(i) {
        Some(c @ b'0'..=b'9') => Some(c - b'0'),
        Some(c @ (b'a'..=b'f' | b'A'..=b'F')) => Some((c | 0x20) - b'a' + 10),
        _ => None,
    };
    for decode in [false, true] {
        for start in 0..s.len() {
            let (mut i, mut j) = (start, 0);
            while let (Some(&c), Some(&want)) = (s.get(i), t.get(j)) {
                i += 1;
                let got = match (decode, c, hex(i), hex(i + 1)) {
                    (true, b'%', Some(h), Some(l)) => {
                        i += 2;
                        h << 4 | l
                    }
                    (true, b'+', ..) => b' ',
                    _ => c,
                };
                if got != want {
                    break;
                }
                j += 1;
            }
            if j == t.len() && j > 0 {
                return true;
            }
        }
    }
    false
}
