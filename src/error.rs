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
/// as "JWT payload"), never any of the token's content. Each error is one of a fixed list;
/// the wasm build hands JS its position in that list, and `js/decode.js` holds the same
/// list of codes and messages, so the messages do not ship twice (a test keeps both in
/// step).
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
    /// Position in [`MESSAGES`] (and in `js/decode.js`'s table).
    index: u8,
}

impl DecodeError {
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
        MESSAGES.get(usize::from(self.index)).copied().unwrap_or_default()
    }

    /// The error's position in the list of all decode errors (what the wasm build hands JS).
    #[cfg_attr(not(all(feature = "npm", target_arch = "wasm32")), allow(dead_code))]
    pub(crate) fn index(&self) -> u8 {
        self.index
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for DecodeError {}

/// Declares every decode error: a constant each, and the list of messages in order.
macro_rules! decode_errors {
    ($($name:ident: $code:ident, $message:literal;)*) => {
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[repr(u8)]
        enum Index {
            $($name,)*
        }
        $(
            #[doc = $message]
            pub(crate) const $name: DecodeError =
                DecodeError { code: DecodeErrorCode::$code, index: Index::$name as u8 };
        )*
        /// Every message, in the order of [`DecodeError::index`].
        const MESSAGES: &[&str] = &[$($message,)*];
        /// Every error, in order.
        #[cfg(test)]
        const ALL: &[DecodeError] = &[$($name,)*];
    };
}

decode_errors! {
    EMPTY: BadFormat, "token is empty";
    BEARER: BadFormat, "token starts with `Bearer `; pass the token alone, without the scheme";
    EDGE_SPACE: BadFormat, "token has leading or trailing whitespace";
    PARTS: BadFormat, "token has the wrong number of dot-separated parts (a JWT has exactly three)";
    NOT_A_TOKEN: BadFormat, "token is not a JWT (three dot-separated parts) or a PubNub v3 token";
    HEADER_EMPTY: BadFormat, "JWT header is empty";
    PAYLOAD_EMPTY: BadFormat, "JWT payload is empty";
    TOO_LARGE: TooLarge, "token is larger than 256 KiB";
    ENCRYPTED: Encrypted, "JWE tokens are encrypted and cannot be read by the client";
    HEADER_BASE64: BadBase64, "JWT header is not valid base64url";
    PAYLOAD_BASE64: BadBase64, "JWT payload is not valid base64url";
    HEADER_UTF8: BadUtf8, "JWT header is not UTF-8 text";
    PAYLOAD_UTF8: BadUtf8, "JWT payload is not UTF-8 text";
    HEADER_NOT_OBJECT: BadJson, "JWT header is not a JSON object";
    HEADER_SYNTAX: BadJson, "JWT header is not valid JSON";
    HEADER_DEEP: BadJson, "JWT header JSON is nested too deep (more than 64 levels)";
    PAYLOAD_NOT_OBJECT: BadJson, "JWT payload is not a JSON object";
    PAYLOAD_SYNTAX: BadJson, "JWT payload is not valid JSON";
    PAYLOAD_DEEP: BadJson, "JWT payload JSON is nested too deep (more than 64 levels)";
    EXP_KIND: BadClaim, "JWT claim `exp` must be a number of seconds";
    EXP_RANGE: BadClaim, "JWT claim `exp` is out of range (negative or above 1e13 seconds)";
    IAT_KIND: BadClaim, "JWT claim `iat` must be a number of seconds";
    IAT_RANGE: BadClaim, "JWT claim `iat` is out of range (negative or above 1e13 seconds)";
    NBF_KIND: BadClaim, "JWT claim `nbf` must be a number of seconds";
    NBF_RANGE: BadClaim, "JWT claim `nbf` is out of range (negative or above 1e13 seconds)";
    T_KIND: BadClaim, "PubNub token field `t` must be an unsigned integer of seconds";
    T_RANGE: BadClaim, "PubNub token field `t` is out of range (above 1e13 seconds)";
    TTL_KIND: BadClaim, "PubNub token field `ttl` must be an unsigned integer of minutes";
    TTL_RANGE: BadClaim, "PubNub token field `ttl` is out of range";
    JWT_NO_EXP: NoExpiry, "JWT has no `exp` claim";
    PUBNUB_NO_T: NoExpiry, "PubNub token has no `t` field";
    PUBNUB_NO_TTL: NoExpiry, "PubNub token has no `ttl` field";
    NO_VERSION: BadVersion, "PubNub token has no version field `v`";
    WRONG_VERSION: BadVersion, "PubNub token version `v` is not 2";
    CBOR_TRUNCATED: BadCbor, "PubNub token is truncated (its CBOR data ends early)";
    CBOR_INDEFINITE: BadCbor, "PubNub token uses indefinite-length CBOR items, which are not supported";
    CBOR_RESERVED: BadCbor, "PubNub token contains a reserved or unsupported CBOR item";
    CBOR_TOO_DEEP: BadCbor, "PubNub token's CBOR is nested too deep (more than 64 levels)";
    CBOR_NOT_UTF8: BadCbor, "PubNub token contains a CBOR text string that is not UTF-8";
    CBOR_BAD_KEY: BadCbor, "PubNub token has a CBOR map key that is not a string or integer";
    CBOR_TRAILING: BadCbor, "PubNub token has extra bytes after its CBOR map";
    CBOR_NOT_MAP: BadCbor, "PubNub token is not a CBOR map";
}

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
        let e = PAYLOAD_SYNTAX;
        assert_eq!(e.to_string(), "JWT payload is not valid JSON");
        assert_eq!(e.code().to_string(), "bad-json");
    }

    /// `js/decode.js` holds the same list (code, message) in the same order: the wasm build
    /// hands JS only the position.
    #[test]
    fn js_table_matches_the_rust_list() {
        let js = include_str!("../js/decode.js");
        let table: Vec<(&str, &str)> = js
            .lines()
            .filter_map(|line| {
                let row = line.trim().strip_prefix("[\"")?.strip_suffix("\"],")?;
                row.split_once("\", \"")
            })
            .collect();
        let rust: Vec<(&str, &str)> = ALL.iter().map(|e| (e.code().as_str(), e.message())).collect();
        assert_eq!(table, rust);
        assert_eq!(MESSAGES.len(), ALL.len());
        for (i, e) in ALL.iter().enumerate() {
            assert_eq!(usize::from(e.index()), i);
            assert!(!e.message().contains(['"', '\\']), "{}", e.message());
        }
    }
}
