//! Reading a refresh answer: which fields hold the tokens (per preset, or the app's own
//! `refresh` function's token set), which types are taken, what is a problem, what is kept.
//!
//! Nothing that arrived usable is lost: a badly typed optional field is dropped and named in
//! `problems` (the tokens are taken, the app told); without an access token string the
//! answer is unusable (a transient `bad-response`), but a rotated refresh token that came
//! with it is still handed over, for the session to keep (it may be the only one left
//! valid). A null field is an absent one. Of duplicate keys the last counts, as in
//! `JSON.parse`.

use std::fmt;

use super::preset::Preset;
use crate::redacted::Hidden;
use crate::json::{self, Value};

/// The longest refresh answer read, in bytes of its text (the npm face: of its members as it
/// hands them over, see `src/wasm/preset.rs`). No token set comes near it (two tokens of at
/// most 256 KiB, [`crate::token::MAX_TOKEN_LEN`], and a few fields), and reading a longer one
/// would leave its copies in wasm memory for good: linear memory never shrinks, and a 10 MB
/// `id_token` grew it by 100 MB. A longer answer is unusable ([`too_large`], a transient
/// `bad-response`, nothing in it taken); an error answer that long is read for its status
/// only ([`super::oauth_error::read_error`]).
pub const MAX_ANSWER_LEN: usize = 1 << 20;

/// Whose answer is read: a preset's 2xx body, or the app's `refresh` function's result
/// (the `json` preset's field names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A built-in preset's answer.
    Preset(Preset),
    /// The app's own `refresh` function.
    Function,
}

impl Source {
    /// The fields read: access token, refresh token, `expiresIn` (seconds), `expiresAt` (ms).
    fn fields(self) -> [Option<&'static str>; 4] {
        match self {
            Source::Preset(Preset::Json) | Source::Function => [Some("accessToken"), Some("refreshToken"), Some("expiresIn"), Some("expiresAt")],
            Source::Preset(Preset::SanicJwt) => [Some("access_token"), Some("refresh_token"), None, None],
            Source::Preset(Preset::BearerPut) => [Some("token"), None, Some("expiresIn"), None],
            Source::Preset(Preset::Oauth2) => [Some("access_token"), Some("refresh_token"), Some("expires_in"), None],
        }
    }

    /// The fields never handed to the app as the answer's other fields (`tokenResponse`): the
    /// access token's, and the refresh token's in both spellings.
    ///
    /// # Example
    /// ```
    /// use freshtoken::engine::answer::Source;
    /// use freshtoken::engine::preset::Preset;
    /// assert_eq!(Source::Preset(Preset::BearerPut).token_fields(), ["token", "refreshToken", "refresh_token"]);
    /// ```
    pub fn token_fields(self) -> [&'static str; 3] {
        [self.fields()[0].unwrap_or_default(), "refreshToken", "refresh_token"]
    }

    /// Where an answer came from, as messages name it.
    fn place(self) -> &'static str {
        match self {
            Source::Function => "the refresh function's result",
            Source::Preset(Preset::Json) => "the refresh response (preset 'json', expected field `accessToken`)",
            Source::Preset(Preset::SanicJwt) => "the refresh response (preset 'sanic-jwt', expected field `access_token`)",
            Source::Preset(Preset::BearerPut) => "the refresh response (preset 'bearer-put', expected field `token`)",
            Source::Preset(Preset::Oauth2) => "the refresh response (preset 'oauth2', expected field `access_token`)",
        }
    }
}

/// A field of a token set as it arrived.
#[derive(Clone, Debug, PartialEq)]
pub enum Field<'a> {
    /// Absent, or null.
    Absent,
    /// A string.
    Text(String),
    /// A number: its value and its text as written (empty when it came as a number).
    Number(f64, &'a str),
    /// Anything else (a boolean, an array, an object).
    Other,
}

/// A usable answer: the tokens taken. Its `Debug` never shows a token.
#[derive(Clone, PartialEq)]
pub struct Tokens<'a> {
    /// The new access token (a non-empty string).
    pub access_token: String,
    /// A rotated refresh token, when the answer brought one.
    pub refresh_token: Option<String>,
    /// `expiresIn`, seconds: a finite number >= 0, and its text.
    pub expires_in: Option<(f64, &'a str)>,
    /// `expiresAt`, ms since the epoch: a finite number >= 0, and its text.
    pub expires_at: Option<(f64, &'a str)>,
    /// What was dropped, for the app (a `bad-response` refresh-error while the tokens are taken).
    pub problems: Option<String>,
}

impl fmt::Debug for Tokens<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &Hidden::of(&self.access_token))
            .field("refresh_token", &Hidden(self.refresh_token.as_deref()))
            .field("expires_in", &self.expires_in)
            .field("expires_at", &self.expires_at)
            .field("problems", &self.problems)
            .finish()
    }
}

/// An unusable answer: why (for a transient `bad-response`), and a rotated refresh token
/// that came with it, to keep (its `Debug` without it).
#[derive(Clone, PartialEq, Eq)]
pub struct Unusable {
    /// What is wrong, naming the field expected.
    pub message: String,
    /// A rotated refresh token the answer brought anyway.
    pub rotated_refresh_token: Option<String>,
}

impl fmt::Debug for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unusable").field("message", &self.message).field("rotated_refresh_token", &Hidden(self.rotated_refresh_token.as_deref())).finish()
    }
}

/// Reads an answer's text: one JSON object whose fields are read as [`check`] does (one
/// longer than [`MAX_ANSWER_LEN`] is not read).
///
/// # Example
/// ```
/// use freshtoken::engine::answer::{read, Source};
/// use freshtoken::engine::preset::Preset;
/// let t = read(Source::Preset(Preset::Oauth2), r#"{"access_token":"a2","expires_in":"3600","refresh_token":"r2"}"#).unwrap();
/// assert_eq!((t.access_token.as_str(), t.refresh_token.as_deref(), t.expires_in), ("a2", Some("r2"), None));
/// assert!(t.problems.unwrap().contains("`expires_in` is not a non-negative number"));
/// let bad = read(Source::Preset(Preset::Json), r#"{"refreshToken":"r2"}"#).unwrap_err();
/// assert_eq!(bad.rotated_refresh_token.as_deref(), Some("r2"));
/// ```
pub fn read(source: Source, text: &str) -> Result<Tokens<'_>, Unusable> {
    if text.len() > MAX_ANSWER_LEN {
        return Err(too_large(source));
    }
    read_with(source, |f| json::each(text, f).ok())
}

/// An answer longer than [`MAX_ANSWER_LEN`]: unusable, not read (a rotated refresh token in
/// it is not seen: a server that answers so is broken or hostile).
///
/// # Example
/// ```
/// use freshtoken::engine::answer::{read, MAX_ANSWER_LEN, Source};
/// let huge = format!(r#"{{"accessToken":"a2","id_token":"{}"}}"#, "x".repeat(MAX_ANSWER_LEN));
/// assert!(read(Source::Function, &huge).unwrap_err().message.contains("larger than 1 MiB"));
/// ```
pub fn too_large(source: Source) -> Unusable {
    Unusable { message: String::from(source.place()) + " is larger than 1 MiB: not read", rotated_refresh_token: None }
}

/// [`read`] on members read elsewhere (the npm face hands over what the browser's
/// `JSON.parse` read): `members` hands each top-level member to its argument, in order, and
/// answers whether the answer was an object (`Some(false)`: an array), or `None` when it
/// was no JSON object or array.
pub(crate) fn read_with<'a>(source: Source, members: impl FnOnce(&mut dyn FnMut(&str, Value<'a>)) -> Option<bool>) -> Result<Tokens<'a>, Unusable> {
    let names = source.fields();
    let mut fields = [Field::Absent, Field::Absent, Field::Absent, Field::Absent];
    // bearer-put's `expires_in` when it has no `expiresIn`; oauth2's `token_type`.
    let mut alt = Field::Absent;
    let read = members(&mut |key, value| {
        let field = match value {
            Value::Null => Field::Absent,
            Value::Str(s) => Field::Text(s),
            Value::Num(x, t) => Field::Number(x, t),
            Value::Other(_) => Field::Other,
        };
        if let Some(i) = names.iter().position(|n| *n == Some(key)) {
            fields[i] = field;
        } else if (source == Source::Preset(Preset::BearerPut) && key == "expires_in") || (source == Source::Preset(Preset::Oauth2) && key == "token_type") {
            alt = field;
        }
    });
    let why = match read {
        Some(true) => {
            let kind = if source == Source::Preset(Preset::Oauth2) {
                alt
            } else {
                if fields[2] == Field::Absent {
                    fields[2] = alt;
                }
                Field::Absent
            };
            return check_typed(source, fields, &kind);
        }
        Some(false) => " is not a JSON object",
        None => " is not JSON",
    };
    let message = match source {
        Source::Function => "the refresh function did not give an object with the new tokens".into(),
        Source::Preset(_) => String::from(source.place()) + why,
    };
    Err(Unusable { message, rotated_refresh_token: None })
}

/// Whether an OAuth 2 answer's `token_type` (`kind`; absent for the other sources) says a
/// token that cannot be sent (RFC 6749 §7.1: a client must not use a token of a type it does
/// not understand): anything but absent, `Bearer` or `DPoP` (RFC 9449) in any case. The
/// type is not repeated in the message: an answer cannot put a token into one through it.
///
/// # Example
/// ```
/// use freshtoken::engine::answer::{read, Source};
/// use freshtoken::engine::preset::Preset;
/// let oauth = Source::Preset(Preset::Oauth2);
/// assert!(read(oauth, r#"{"access_token":"a2","token_type":"bearer"}"#).is_ok());
/// assert!(read(oauth, r#"{"access_token":"a2","token_type":"DPoP"}"#).is_ok());
/// let mac = read(oauth, r#"{"access_token":"a2","token_type":"mac","refresh_token":"r2"}"#).unwrap_err();
/// assert!(mac.message.contains("`token_type` is not Bearer or DPoP"));
/// assert_eq!(mac.rotated_refresh_token.as_deref(), Some("r2"));
/// assert!(read(oauth, r#"{"access_token":"a2","token_type":7}"#).is_err());
/// ```
fn unknown_type(kind: &Field<'_>) -> bool {
    match kind {
        Field::Absent => false,
        Field::Text(s) => !(s.eq_ignore_ascii_case("bearer") || s.eq_ignore_ascii_case("dpop")),
        _ => true,
    }
}

/// Checks a token set's fields (access token, refresh token, `expiresIn`, `expiresAt`):
/// the access token must be a non-empty string, else the answer is unusable (still handing
/// over a rotated refresh token); a refresh token that is not a non-empty string, or an
/// expiry that is not a finite number >= 0, is dropped and named in `problems`.
///
/// # Example
/// ```
/// use freshtoken::engine::answer::{check, Field, Source};
/// let t = check(Source::Function, [Field::Text("a2".into()), Field::Absent, Field::Number(-1.0, ""), Field::Absent]).unwrap();
/// assert_eq!(t.expires_in, None);
/// assert!(t.problems.is_some());
/// ```
pub fn check<'a>(source: Source, fields: [Field<'a>; 4]) -> Result<Tokens<'a>, Unusable> {
    check_typed(source, fields, &Field::Absent)
}

/// [`check`], and for an OAuth 2 answer its `token_type` ([`unknown_type`]): a token of a
/// type that cannot be sent makes the answer unusable, a rotated refresh token in it still
/// handed over.
fn check_typed<'a>(source: Source, fields: [Field<'a>; 4], kind: &Field<'_>) -> Result<Tokens<'a>, Unusable> {
    let names = source.fields();
    let [access, refresh, expires_in, expires_at] = fields;
    let mut problems = String::new();
    let mut problem = |i: usize, what: &str| {
        problems.push_str(if problems.is_empty() { ": `" } else { "; `" });
        problems.push_str(names[i].unwrap_or_default());
        problems.push_str(what);
    };
    let refresh_token = match refresh {
        Field::Absent => None,
        Field::Text(s) if !s.is_empty() => Some(s),
        _ => {
            problem(1, "` is not a string (ignored)");
            None
        }
    };
    let access_token = match access {
        Field::Text(s) if !s.is_empty() => s,
        _ => return Err(Unusable { message: String::from(source.place()) + " has no access token string", rotated_refresh_token: refresh_token }),
    };
    if unknown_type(kind) {
        let message = String::from(source.place()) + ": its `token_type` is not Bearer or DPoP, so the token cannot be sent (RFC 6749 section 7.1)";
        return Err(Unusable { message, rotated_refresh_token: refresh_token });
    }
    let mut number = |i: usize, f: Field<'a>| -> Option<(f64, &'a str)> {
        match f {
            Field::Absent => None,
            Field::Number(x, t) if x.is_finite() && x >= 0.0 => Some((x, t)),
            _ => {
                problem(i, "` is not a non-negative number (ignored)");
                None
            }
        }
    };
    let expires_in = number(2, expires_in);
    let expires_at = number(3, expires_at);
    let problems = (!problems.is_empty()).then(|| String::from(source.place()) + &problems + "; the tokens were taken");
    Ok(Tokens { access_token, refresh_token, expires_in, expires_at, problems })
}
