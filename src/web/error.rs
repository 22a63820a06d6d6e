//! The web face's errors: values with a stable code, never a token in a message.

use std::fmt;

use wasm_bindgen::JsValue;

use crate::refresher::TokenError;

/// Why a web call failed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The options are wrong; the message names the option.
    Options(String),
    /// No token could be had (no session, expired, logged out, transient failure).
    Token(TokenError),
    /// The browser refused the request (network error, abort, bad URL); its message.
    Fetch(String),
    /// `set_tokens` refused the tokens (an empty token, a malformed expiry claim); why.
    Tokens(String),
}

impl Error {
    /// A stable code: `options`, `no-session`, `expired`, `logged-out`, `disposed`,
    /// `transient`, `fetch`, `invalid-tokens`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Options(_) => "options",
            Error::Token(TokenError::NoSession) => "no-session",
            Error::Token(TokenError::Expired) => "expired",
            Error::Token(TokenError::LoggedOut) => "logged-out",
            Error::Token(TokenError::Disposed) => "disposed",
            Error::Token(_) => "transient",
            Error::Fetch(_) => "fetch",
            Error::Tokens(_) => "invalid-tokens",
        }
    }

    /// A rejection from the browser (a `TypeError`, a `DOMException`, or anything thrown).
    pub(crate) fn from_js(value: JsValue) -> Error {
        let message = js_sys::Reflect::get(&value, &"message".into()).ok().and_then(|m| m.as_string());
        Error::Fetch(message.or_else(|| value.as_string()).unwrap_or_else(|| "unknown error".into()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Options(m) => write!(f, "freshtoken options: {m}"),
            Error::Token(e) => e.fmt(f),
            Error::Fetch(m) => write!(f, "the request failed: {m}"),
            Error::Tokens(m) => write!(f, "the tokens were refused: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<TokenError> for Error {
    fn from(e: TokenError) -> Error {
        Error::Token(e)
    }
}

impl From<Error> for JsValue {
    /// A JS `Error` whose `name` is `FreshtokenError` and whose `code` is [`Error::code`].
    fn from(e: Error) -> JsValue {
        let js = js_sys::Error::new(&e.to_string());
        js.set_name("FreshtokenError");
        let _ = js_sys::Reflect::set(&js, &"code".into(), &e.code().into());
        js.into()
    }
}
