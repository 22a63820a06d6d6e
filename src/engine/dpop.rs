//! DPoP (RFC 9449): what a proof states, which nonce it carries, and when a server's answer
//! asks for one retry with a new nonce. The face holds the key and signs (WebCrypto: only
//! the signature is the browser's); every claim and every nonce rule is here.
//!
//! A proof is a JWS with the header `{"typ":"dpop+jwt","alg":"ES256","jwk":<public key>}`
//! and the claims `jti` (unique), `htm` (the method), `htu` (the URL without query and
//! fragment), `iat` (seconds, on the server's clock as best known), `ath` (base64url
//! SHA-256 of the access token, on resource requests) and `nonce` (the last `DPoP-Nonce`
//! the target origin gave).

use crate::json;

/// The `htu` of a request URL: without its query and fragment (RFC 9449 §4.2).
///
/// # Example
/// ```
/// use freshtoken::engine::dpop::htu;
/// assert_eq!(htu("https://api.example/v1/me?x=1#top"), "https://api.example/v1/me");
/// ```
pub fn htu(url: &str) -> &str {
    let end = url.bytes().position(|b| b == b'?' || b == b'#').unwrap_or(url.len());
    &url[..end]
}

/// Whether a `DPoP-Nonce` value is one (RFC 9449 §8.1: `1*NQCHAR`, printable ASCII but `"` and `\`).
pub fn is_nonce(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// Whether an answer asks for one retry with the server's new nonce: a token endpoint's 400
/// `use_dpop_nonce` (RFC 9449 §8), or a resource server's 401 whose `WWW-Authenticate`
/// has the DPoP scheme with `error="use_dpop_nonce"` (§9). Neither ends a session nor
/// counts as the 401 replay.
///
/// # Example
/// ```
/// use freshtoken::engine::dpop::asks_for_nonce;
/// assert!(asks_for_nonce(400, None, Some("use_dpop_nonce")));
/// assert!(asks_for_nonce(401, Some(r#"DPoP error="use_dpop_nonce", error_description="nonce""#), None));
/// assert!(!asks_for_nonce(401, Some(r#"Bearer error="invalid_token""#), None));
/// assert!(!asks_for_nonce(401, Some(r#"DPoP error="invalid_token""#), None));
/// ```
pub fn asks_for_nonce(status: u16, www_authenticate: Option<&str>, oauth_error: Option<&str>) -> bool {
    match status {
        400 => oauth_error == Some("use_dpop_nonce"),
        401 => www_authenticate.is_some_and(|h| {
            let h = h.trim_ascii_start();
            let b = h.as_bytes();
            // A byte window, not `str::contains` (its searcher costs kilobytes of wasm).
            let wanted: &[u8] = b"error=\"use_dpop_nonce\"";
            b.len() > 4 && b[..4].eq_ignore_ascii_case(b"dpop") && b[4] == b' ' && b.windows(wanted.len()).any(|w| w == wanted)
        }),
        _ => false,
    }
}

/// The nonces servers gave, by origin.
#[derive(Clone, Debug, Default)]
pub struct Nonces {
    by_origin: Vec<(String, String)>,
}

impl Nonces {
    /// Remembers `nonce` for `origin` (a value that is no nonce is ignored).
    pub fn note(&mut self, origin: &str, nonce: &str) {
        if !is_nonce(nonce) {
            return;
        }
        match self.by_origin.iter_mut().find(|(o, _)| o == origin) {
            Some(slot) => slot.1 = nonce.to_owned(),
            None => self.by_origin.push((origin.to_owned(), nonce.to_owned())),
        }
    }

    /// The nonce `origin` gave last.
    pub fn get(&self, origin: &str) -> Option<&str> {
        self.by_origin.iter().find(|(o, _)| o == origin).map(|(_, n)| n.as_str())
    }

    /// Forgets every nonce (a new key, a new session).
    pub fn clear(&mut self) {
        self.by_origin.clear();
    }
}

/// What a proof states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims<'a> {
    /// The HTTP method.
    pub htm: &'a str,
    /// The request URL, as the browser sends it (its query and fragment are dropped here).
    pub url: &'a str,
    /// Seconds since the epoch, on the server's clock.
    pub iat: u64,
    /// A unique id (the face's random UUID).
    pub jti: &'a str,
    /// base64url SHA-256 of the access token, on a resource request.
    pub ath: Option<&'a str>,
    /// The target's last nonce.
    pub nonce: Option<&'a str>,
}

/// The proof's JOSE header for the public key `jwk` (JSON text of `{crv, kty, x, y}`).
pub fn header(jwk: &str) -> String {
    let mut out = String::from("{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":");
    out.push_str(jwk);
    out.push('}');
    out
}

/// The proof's claims as JSON text.
///
/// # Example
/// ```
/// use freshtoken::engine::dpop::{payload, Claims};
/// let c = Claims { htm: "GET", url: "https://api.example/me?a=1", iat: 1700000000, jti: "j1", ath: Some("x"), nonce: None };
/// assert_eq!(payload(&c), r#"{"jti":"j1","htm":"GET","htu":"https://api.example/me","iat":1700000000,"ath":"x"}"#);
/// ```
pub fn payload(c: &Claims) -> String {
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(b"{\"jti\":");
    json::write_str(&mut out, c.jti);
    out.extend_from_slice(b",\"htm\":");
    json::write_str(&mut out, c.htm);
    out.extend_from_slice(b",\"htu\":");
    json::write_str(&mut out, htu(c.url));
    out.extend_from_slice(b",\"iat\":");
    json::write_u64(&mut out, c.iat);
    if let Some(ath) = c.ath {
        out.extend_from_slice(b",\"ath\":");
        json::write_str(&mut out, ath);
    }
    if let Some(nonce) = c.nonce {
        out.extend_from_slice(b",\"nonce\":");
        json::write_str(&mut out, nonce);
    }
    out.push(b'}');
    // Only ASCII was pushed, and strings were copied whole from `&str`s: UTF-8 by construction
    // (checked anyway, by the crate's own validator the decoder already ships).
    json::utf8_string(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_kept_per_origin_and_only_valid_ones() {
        let mut n = Nonces::default();
        n.note("https://a.example", "n1");
        n.note("https://b.example", "n2");
        n.note("https://a.example", "n3");
        n.note("https://a.example", "bad\"quote");
        n.note("https://a.example", "");
        assert_eq!(n.get("https://a.example"), Some("n3"));
        assert_eq!(n.get("https://b.example"), Some("n2"));
        assert_eq!(n.get("https://c.example"), None);
    }

    #[test]
    fn a_proof_escapes_what_it_copies_and_carries_the_nonce() {
        let c = Claims { htm: "POST", url: "https://id.example/token#f", iat: 5, jti: "a\"b", ath: None, nonce: Some("N") };
        assert_eq!(payload(&c), r#"{"jti":"a\"b","htm":"POST","htu":"https://id.example/token","iat":5,"nonce":"N"}"#);
        assert_eq!(header(r#"{"kty":"EC"}"#), r#"{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC"}}"#);
    }
}
