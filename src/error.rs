//! The error returned when a token cannot be decoded.
//!
//! Modelled on `jsonwebtoken`'s errors: the kind ([`DecodeErrorCode`]) is a separate,
//! `#[non_exhaustive]` enum with a stable string form, and the message is a static,
//! hand-written sentence. Messages never quote any part of the token: tokens are secrets
//! and errors end up in logs.

use core::fmt;

/// What kind of problem a token has. The string form ([`DecodeErrorCode::as_str`]) is the
/// `code` of the JavaScript `TokenDecodeError` and is stable.
///
/// # Example
/// ```
/// use freshtoken::{decode, DecodeErrorCode};
/// let err = decode("not a token").unwrap_err();
/// assert_eq!(err.code(), DecodeErrorCode::BadFormat);
/// assert_eq!(err.code().as_str(), "bad-format");
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeErrorCode {
    /// Not shaped like a JWT or a PubNub v3 token: empty, surrounded by whitespace, a
    /// `Bearer ` prefix, the wrong number of dot-separated parts, or an empty part.
    BadFormat,
    /// A JWT header or payload is not base64url.
    BadBase64,
    /// A JWT header or payload decodes to bytes that are not UTF-8.
    BadUtf8,
    /// A JWT header or payload is not a JSON object (RFC 8259).
    BadJson,
    /// A PubNub token's CBOR is malformed, truncated or uses unsupported items.
    BadCbor,
    /// The token carries no expiry (returned by [`crate::decode`] only).
    NoExpiry,
    /// A time claim is present but not a usable number (`exp`, `iat`, `nbf`, `t`, `ttl`).
    BadClaim,
    /// The token is longer than 256 KiB.
    TooLarge,
    /// The token is an encrypted JWE (five parts), which the client cannot read.
    Encrypted,
    /// A PubNub token whose version `v` is missing or not 2.
    BadVersion,
}

impl DecodeErrorCode {
    /// The stable kebab-case name of the code, e.g. `"bad-base64"`.
    ///
    /// # Example
    /// ```
    /// use freshtoken::DecodeErrorCode;
    /// assert_eq!(DecodeErrorCode::NoExpiry.as_str(), "no-expiry");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadFormat => "bad-format",
            Self::BadBase64 => "bad-base64",
            Self::BadUtf8 => "bad-utf8",
            Self::BadJson => "bad-json",
            Self::BadCbor => "bad-cbor",
            Self::NoExpiry => "no-expiry",
            Self::BadClaim => "bad-claim",
            Self::TooLarge => "too-large",
            Self::Encrypted => "encrypted",
            Self::BadVersion => "bad-version",
        }
    }
}

impl fmt::Display for DecodeErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token that could not be decoded: a [`DecodeErrorCode`] and a plain-words message.
///
/// The message is a static string that names the problem (and the part of the token, such
/// as "JWT payload"), never any of the token's content.
///
/// # Example
/// ```
/// use freshtoken::{decode, DecodeErrorCode};
/// let err = decode("eyJhbGciOiJub25lIn0.eyJleHAiOiJzb29uIn0.").unwrap_err();
/// assert_eq!(err.code(), DecodeErrorCode::BadClaim);
/// assert_eq!(err.message(), "JWT claim `exp` must be a number of seconds");
/// assert_eq!(err.to_string(), err.message());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    code: DecodeErrorCode,
    message: &'static str,
}

impl DecodeError {
    /// Builds an error from a code and a static message (crate-internal).
    pub(crate) const fn new(code: DecodeErrorCode, message: &'static str) -> Self {
        Self { code, message }
    }

    /// The kind of problem.
    ///
    /// # Example
    /// ```
    /// use freshtoken::{decode, DecodeErrorCode};
    /// assert_eq!(decode("").unwrap_err().code(), DecodeErrorCode::BadFormat);
    /// ```
    pub fn code(&self) -> DecodeErrorCode {
        self.code
    }

    /// What is wrong, in plain words. Never contains any part of the token.
    ///
    /// # Example
    /// ```
    /// use freshtoken::decode;
    /// assert_eq!(decode("").unwrap_err().message(), "token is empty");
    /// ```
    pub fn message(&self) -> &'static str {
        self.message
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_distinct_kebab_names() {
        let all = [
            DecodeErrorCode::BadFormat,
            DecodeErrorCode::BadBase64,
            DecodeErrorCode::BadUtf8,
            DecodeErrorCode::BadJson,
            DecodeErrorCode::BadCbor,
            DecodeErrorCode::NoExpiry,
            DecodeErrorCode::BadClaim,
            DecodeErrorCode::TooLarge,
            DecodeErrorCode::Encrypted,
            DecodeErrorCode::BadVersion,
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(a
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            for b in &all[i + 1..] {
                assert_ne!(a.as_str(), b.as_str());
            }
        }
    }

    #[test]
    fn display_is_the_message() {
        let e = DecodeError::new(DecodeErrorCode::BadJson, "JWT payload is not valid JSON");
        assert_eq!(e.to_string(), "JWT payload is not valid JSON");
        assert_eq!(e.code().to_string(), "bad-json");
    }
}
