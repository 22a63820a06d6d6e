//! Reading when a token expires: JWTs (`exp`, `iat`, `nbf`) and PubNub Access Manager v3
//! tokens (`t + ttl * 60`).
//!
//! Nothing here verifies a signature: the client only needs the token's times, and the
//! server remains the judge of validity. Both formats are told apart by shape: a JWT has
//! exactly three dot-separated parts, a PubNub v3 token has no dot and decodes from
//! base64url to a CBOR map. Five parts are an encrypted JWE, which cannot be read.
//!
//! Decoding never panics and never quotes the token in an error: every failure is a
//! [`DecodeError`] with a [`DecodeErrorCode`] and a static message. The code is small on
//! purpose (no serde, no `format!`, no float parsing from `core`), because it ships to
//! browsers as WebAssembly.
//!
//! JWT details: the header and payload are base64url, padded or not; the standard
//! alphabet's `+` and `/` are accepted too, like `jwt-decode` does. The signature part is
//! not looked at and may be empty (`alg: none`). Both JSON texts must be objects; the
//! claims `exp`, `iat` and `nbf` are read from the payload's top level (after unescaping
//! keys; the last duplicate wins) and must be non-negative numbers of seconds no larger
//! than 1e13, integers or not.
//!
//! PubNub details: the CBOR map's keys may be byte or text strings; `v` must be 2; `t`
//! (issue time, seconds) and `ttl` (minutes) must be unsigned integers.

use crate::base64url;
use crate::cbor::{self, Field};
use crate::error::{self as e, DecodeError};
use crate::json::{self, Claim};

/// The longest token accepted, in bytes (256 KiB). Longer input is
/// [`DecodeErrorCode::TooLarge`] before anything else is looked at.
pub const MAX_TOKEN_LEN: usize = 262_144;

/// Time claims above this many seconds (about the year 318,000) are rejected as absurd.
const MAX_SECONDS: f64 = 1e13;

/// The kind of token that was decoded.
///
/// # Example
/// ```
/// use freshtoken::{inspect, TokenFormat};
/// let info = inspect("eyJhbGciOiJub25lIn0.e30.").unwrap();
/// assert_eq!(info.format, TokenFormat::Jwt);
/// assert_eq!(info.format.as_str(), "jwt");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenFormat {
    /// A JSON Web Token (JWS compact serialization: `header.payload.signature`).
    Jwt,
    /// A PubNub Access Manager v3 token (base64url CBOR).
    PubNub,
}

impl TokenFormat {
    /// `"jwt"` or `"pubnub"`, the `format` of the JavaScript `TokenInfo`.
    ///
    /// # Example
    /// ```
    /// use freshtoken::TokenFormat;
    /// assert_eq!(TokenFormat::PubNub.as_str(), "pubnub");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::PubNub => "pubnub",
        }
    }
}

/// What a token says about itself. Times are milliseconds since the Unix epoch.
///
/// # Example
/// ```
/// use freshtoken::decode;
/// // {"alg":"none"} . {"sub":"42","exp":1700000000} . (no signature)
/// let info = decode("eyJhbGciOiJub25lIn0.eyJzdWIiOiI0MiIsImV4cCI6MTcwMDAwMDAwMH0.").unwrap();
/// assert_eq!(info.expires_at_ms, Some(1_700_000_000_000.0));
/// assert_eq!(info.issued_at_ms, None);
/// assert_eq!(info.claims_json, r#"{"sub":"42","exp":1700000000}"#);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TokenInfo {
    /// Which kind of token this is.
    pub format: TokenFormat,
    /// When the token expires: JWT `exp * 1000`; PubNub `(t + ttl * 60) * 1000`.
    pub expires_at_ms: Option<f64>,
    /// When the token was issued: JWT `iat * 1000`; PubNub `t * 1000`.
    pub issued_at_ms: Option<f64>,
    /// When the token starts being valid: JWT `nbf * 1000`; `None` for PubNub.
    pub not_before_ms: Option<f64>,
    /// The claims as JSON object text. For a JWT, the payload exactly as decoded (already
    /// validated JSON). For PubNub, the token's fields: keys as text, byte strings as text
    /// when UTF-8 and otherwise unpadded base64url (`sig` always base64url). (Empty for
    /// PubNub in the npm package's own wasm, whose JS side reads those fields itself; the
    /// `web` feature and every other build have the text.)
    pub claims_json: String,
}

/// Decodes a token and requires it to carry an expiry.
///
/// Fails with [`DecodeErrorCode::NoExpiry`] when the token is well formed but has no
/// expiry (a JWT without `exp`, a PubNub token without `t` or `ttl`); use [`inspect`] to
/// read such tokens anyway.
///
/// # Example
/// ```
/// use freshtoken::{decode, DecodeErrorCode, TokenFormat};
/// let info = decode("eyJhbGciOiJub25lIn0.eyJzdWIiOiI0MiIsImV4cCI6MTcwMDAwMDAwMH0.").unwrap();
/// assert_eq!(info.format, TokenFormat::Jwt);
/// assert_eq!(info.expires_at_ms, Some(1_700_000_000_000.0));
///
/// // {"alg":"none"} . {} : well formed, but no `exp`.
/// let err = decode("eyJhbGciOiJub25lIn0.e30.").unwrap_err();
/// assert_eq!(err.code(), DecodeErrorCode::NoExpiry);
/// ```
pub fn decode(token: &str) -> Result<TokenInfo, DecodeError> {
    read(token, true).map(|(info, _)| info)
}

/// Decodes a token without requiring an expiry, for tokens whose expiry the server gives
/// separately (`expiresIn` / `expiresAt`). Every other check is the same as [`decode`].
///
/// # Example
/// ```
/// use freshtoken::{inspect, DecodeErrorCode};
/// // {"alg":"none"} . {}
/// let info = inspect("eyJhbGciOiJub25lIn0.e30.").unwrap();
/// assert_eq!(info.expires_at_ms, None);
/// assert_eq!(info.claims_json, "{}");
///
/// // Opaque tokens are not readable at all.
/// let err = inspect("550e8400-e29b-41d4-a716-446655440000").unwrap_err();
/// assert_eq!(err.code(), DecodeErrorCode::BadFormat);
/// ```
pub fn inspect(token: &str) -> Result<TokenInfo, DecodeError> {
    read(token, false).map(|(info, _)| info)
}

/// A decoded token and its claims as an object (see [`json::Object`]): what `decodeToken`
/// hands to JS without a second parse.
pub(crate) type Decoded = (TokenInfo, json::Object);

/// [`decode`] (`require_expiry`) or [`inspect`], with the claims object.
fn read(token: &str, require_expiry: bool) -> Result<Decoded, DecodeError> {
    read_bytes(token.as_bytes(), require_expiry)
}

/// Whether `bytes` start with `Bearer ` (any case): a header value, not a bare token. The
/// Rust face's test of a caller's own `Authorization`; [`read_bytes`] writes the same test
/// inline (called from there it cost the npm wasm 3 bytes of gzip, measured).
#[cfg(all(feature = "web", target_arch = "wasm32"))]
pub(crate) fn has_bearer_prefix(bytes: &[u8]) -> bool {
    bytes.get(..7).is_some_and(|p| p.eq_ignore_ascii_case(b"bearer "))
}

/// [`read`] on the token's UTF-8 bytes (the browser build encodes the JS string straight
/// into wasm memory). Bytes that are not UTF-8 are no base64 character: refused the same.
pub(crate) fn read_bytes(bytes: &[u8], require_expiry: bool) -> Result<Decoded, DecodeError> {
    read_bytes_noting(bytes, require_expiry, &mut HeaderMemo::default())
}

/// The last JWT header segment found valid, as its base64url text. Apps meet one header
/// (one issuer, one key) again and again: a header that was read and checked before is
/// not read again, which is a third of a short token's decode in the browser (its
/// base64url, the UTF-8 and JSON checks, `JSON.parse` and the claim lookups).
#[derive(Debug, Default)]
pub(crate) struct HeaderMemo(pub(crate) Vec<u8>);

impl HeaderMemo {
    /// Headers longer than this are checked every time (and not kept).
    const MAX: usize = 256;
}

/// [`read_bytes`], skipping the JWT header's checks when it is the one `memo` holds, and
/// keeping a header it found valid there.
pub(crate) fn read_bytes_noting(bytes: &[u8], require_expiry: bool, memo: &mut HeaderMemo) -> Result<Decoded, DecodeError> {
    if bytes.len() > MAX_TOKEN_LEN {
        return Err(e::TOO_LARGE);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(e::EMPTY);
    }
    if bytes.get(..7).is_some_and(|p| p.eq_ignore_ascii_case(b"bearer ")) {
        return Err(e::BEARER);
    }
    let edge_space = |b: Option<&u8>| b.is_some_and(u8::is_ascii_whitespace);
    if edge_space(bytes.first()) || edge_space(bytes.last()) {
        return Err(e::EDGE_SPACE);
    }
    // One pass: how many dots, and where the first two are.
    let (mut dots, mut first, mut second) = (0, 0, 0);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'.' {
            dots += 1;
            match dots {
                1 => first = i,
                2 => second = i,
                _ => {}
            }
        }
    }
    match dots {
        0 => pubnub(bytes, require_expiry),
        // Header, payload, and a signature that is not read.
        2 => jwt(
            bytes.get(..first).unwrap_or_default(),
            bytes.get(first + 1..second).unwrap_or_default(),
            require_expiry,
            memo,
        ),
        4 => Err(e::ENCRYPTED),
        _ => Err(e::PARTS),
    }
}

/// The errors for one part of a JWT.
struct Part {
    empty: DecodeError,
    base64: DecodeError,
    utf8: DecodeError,
    not_object: DecodeError,
    syntax: DecodeError,
    deep: DecodeError,
}

const HEADER: Part = Part {
    empty: e::HEADER_EMPTY,
    base64: e::HEADER_BASE64,
    utf8: e::HEADER_UTF8,
    not_object: e::HEADER_NOT_OBJECT,
    syntax: e::HEADER_SYNTAX,
    deep: e::HEADER_DEEP,
};

const PAYLOAD: Part = Part {
    empty: e::PAYLOAD_EMPTY,
    base64: e::PAYLOAD_BASE64,
    utf8: e::PAYLOAD_UTF8,
    not_object: e::PAYLOAD_NOT_OBJECT,
    syntax: e::PAYLOAD_SYNTAX,
    deep: e::PAYLOAD_DEEP,
};

/// Decodes one base64url JSON part of a JWT into its text, time claims and object.
fn json_part(
    segment: &[u8],
    part: &Part,
) -> Result<(String, json::Claims, json::Object), DecodeError> {
    if segment.is_empty() {
        return Err(part.empty.clone());
    }
    let bytes = base64url::decode(segment).map_err(|_| part.base64.clone())?;
    let text = json::utf8_string(bytes).ok_or_else(|| part.utf8.clone())?;
    let (claims, object) = json::read_object(&text).map_err(|error| match error {
        json::Error::NotObject => part.not_object.clone(),
        json::Error::TooDeep => part.deep.clone(),
        _ => part.syntax.clone(),
    })?;
    Ok((text, claims, object))
}

/// The errors for one time claim: not a number, out of range.
struct ClaimErrors {
    kind: DecodeError,
    range: DecodeError,
}

const EXP: ClaimErrors = ClaimErrors { kind: e::EXP_KIND, range: e::EXP_RANGE };
const IAT: ClaimErrors = ClaimErrors { kind: e::IAT_KIND, range: e::IAT_RANGE };
const NBF: ClaimErrors = ClaimErrors { kind: e::NBF_KIND, range: e::NBF_RANGE };

/// A time claim in milliseconds: absent, valid, or an error naming the claim.
fn claim_ms(claim: Claim, errors: ClaimErrors) -> Result<Option<f64>, DecodeError> {
    match claim {
        Claim::Absent => Ok(None),
        Claim::NotNumber => Err(errors.kind),
        Claim::Number(s) if (0.0..=MAX_SECONDS).contains(&s) => Ok(Some(s * 1000.0)),
        Claim::Number(_) => Err(errors.range),
    }
}

fn jwt(header: &[u8], payload: &[u8], require_expiry: bool, memo: &mut HeaderMemo) -> Result<Decoded, DecodeError> {
    if header.is_empty() {
        return Err(e::HEADER_EMPTY);
    }
    if payload.is_empty() {
        return Err(e::PAYLOAD_EMPTY);
    }
    if memo.0 != header {
        json_part(header, &HEADER)?;
        if header.len() <= HeaderMemo::MAX {
            memo.0.clear();
            memo.0.extend_from_slice(header);
        }
    }
    let (claims_json, claims, object) = json_part(payload, &PAYLOAD)?;
    let expires_at_ms = claim_ms(claims.exp, EXP)?;
    let issued_at_ms = claim_ms(claims.iat, IAT)?;
    let not_before_ms = claim_ms(claims.nbf, NBF)?;
    if require_expiry && expires_at_ms.is_none() {
        return Err(e::JWT_NO_EXP);
    }
    let info = TokenInfo {
        format: TokenFormat::Jwt,
        expires_at_ms,
        issued_at_ms,
        not_before_ms,
        claims_json,
    };
    Ok((info, object))
}

/// A PubNub unsigned-integer field: absent, present and at most `max`, or an error.
fn uint_field(field: Field, max: u64, errors: ClaimErrors) -> Result<Option<u64>, DecodeError> {
    match field {
        Field::Absent => Ok(None),
        Field::Uint(n) if n <= max => Ok(Some(n)),
        Field::Uint(_) => Err(errors.range),
        Field::Other => Err(errors.kind),
    }
}

/// The fields `v`, `t` and `ttl` of a PubNub token's CBOR map, and the map as JSON text and
/// as the build's object (with the `web` feature, the text parsed; nothing on the host).
#[cfg(any(not(target_arch = "wasm32"), feature = "web"))]
fn pubnub_fields(bytes: &[u8]) -> Result<([Field; 3], String, json::Object), DecodeError> {
    let mut text = cbor::JsonText::with_capacity(bytes.len() * 2);
    let fields = cbor::read_map(bytes, [b"v", b"t", b"ttl"], b"sig", &mut text)?;
    // UTF-8 by construction (text strings were checked); checked again rather than assumed.
    let claims_json = json::utf8_string(text.out).ok_or(e::CBOR_NOT_UTF8)?;
    #[allow(clippy::let_unit_value)] // `json::Object` is `()` off wasm32
    let object = json::object_from_own_text(&claims_json);
    Ok((fields, claims_json, object))
}

/// The npm package's wasm: the map checked whole and its fields `v`, `t` and `ttl`; no
/// text and no object (`claims_json` is empty): `js/cbor.js` reads the fields of a token
/// this accepted into JS values.
#[cfg(all(target_arch = "wasm32", not(feature = "web")))]
fn pubnub_fields(bytes: &[u8]) -> Result<([Field; 3], String, json::Object), DecodeError> {
    let fields = cbor::read_map(bytes, [b"v", b"t", b"ttl"], b"sig", &mut ())?;
    Ok((fields, String::new(), json::Object::UNDEFINED))
}

fn pubnub(token: &[u8], require_expiry: bool) -> Result<Decoded, DecodeError> {
    let bytes = base64url::decode(token).map_err(|_| e::NOT_A_TOKEN)?;
    // Major type 5: a map. Anything else is some other kind of opaque token.
    if bytes.first().is_none_or(|b| b >> 5 != 5) {
        return Err(e::NOT_A_TOKEN);
    }
    let ([v, t, ttl], claims_json, object) = pubnub_fields(&bytes)?;
    match v {
        Field::Uint(2) => {}
        Field::Absent => return Err(e::NO_VERSION),
        _ => return Err(e::WRONG_VERSION),
    }
    let t = uint_field(t, MAX_SECONDS as u64, ClaimErrors { kind: e::T_KIND, range: e::T_RANGE })?;
    let ttl = uint_field(
        ttl,
        (MAX_SECONDS as u64) / 60,
        ClaimErrors { kind: e::TTL_KIND, range: e::TTL_RANGE },
    )?;
    let issued_at_ms = t.map(|t| t as f64 * 1000.0);
    let expires_at_ms = match (t, ttl) {
        (Some(t), Some(ttl)) => Some((t as f64 + ttl as f64 * 60.0) * 1000.0),
        _ => None,
    };
    if require_expiry {
        if t.is_none() {
            return Err(e::PUBNUB_NO_T);
        }
        if ttl.is_none() {
            return Err(e::PUBNUB_NO_TTL);
        }
    }
    let info = TokenInfo {
        format: TokenFormat::PubNub,
        expires_at_ms,
        issued_at_ms,
        not_before_ms: None,
        claims_json,
    };
    Ok((info, object))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let b = s.as_bytes();
        let mut out = String::new();
        for c in b.chunks(3) {
            let n = c.iter().enumerate().fold(0u32, |n, (i, &x)| n | u32::from(x) << (16 - 8 * i));
            for i in 0..=c.len() {
                out.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
            }
        }
        out
    }

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.sig", b64(header), b64(payload))
    }

    /// Whatever the memo holds, a token reads as it reads without one: the memo only skips
    /// the checks of the very header it holds, which passed them before.
    #[test]
    fn the_header_memo_changes_no_result() {
        let payload = r#"{"sub":"u","iat":1700000000,"exp":1700003600}"#;
        let good = token(r#"{"alg":"HS256","typ":"JWT"}"#, payload);
        let headers = [
            r#"{"alg":"HS256","typ":"JWT"}"#, r#"{"alg":"RS256","kid":"k1"}"#, r#"["not","an","object"]"#,
            r#"{"alg":"HS256""#, "not json", r#"{"exp":"soon"}"#, "",
        ];
        let long = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, "k".repeat(300));
        let mut tokens: Vec<String> = headers.iter().map(|h| token(h, payload)).collect();
        tokens.push(token(&long, payload));
        tokens.push(token(r#"{"alg":"HS256","typ":"JWT"}"#, r#"{"sub":"u"}"#));
        tokens.push(format!("%%%.{}.sig", b64(payload)));
        let mut memo = HeaderMemo::default();
        // Each token after each other one, the memo carried along.
        for a in &tokens {
            for b in &tokens {
                for t in [&good, a, b] {
                    let fresh = read_bytes(t.as_bytes(), true).map(|(info, _)| info);
                    let noted = read_bytes_noting(t.as_bytes(), true, &mut memo).map(|(info, _)| info);
                    assert_eq!(noted, fresh, "{t}");
                }
            }
        }
    }

    #[test]
    fn the_memo_keeps_the_last_valid_short_header_only() {
        let payload = r#"{"exp":1700003600}"#;
        let mut memo = HeaderMemo::default();
        read_bytes_noting(token(r#"{"alg":"HS256"}"#, payload).as_bytes(), true, &mut memo).unwrap();
        assert_eq!(memo.0, b64(r#"{"alg":"HS256"}"#).as_bytes());
        // A refused header is not kept; the valid one stays.
        assert!(read_bytes_noting(token("[1]", payload).as_bytes(), true, &mut memo).is_err());
        assert_eq!(memo.0, b64(r#"{"alg":"HS256"}"#).as_bytes());
        // A header over HeaderMemo::MAX is checked every time and never kept.
        let long = format!(r#"{{"kid":"{}"}}"#, "k".repeat(300));
        read_bytes_noting(token(&long, payload).as_bytes(), true, &mut memo).unwrap();
        assert_eq!(memo.0, b64(r#"{"alg":"HS256"}"#).as_bytes());
    }
}
