//! Typed claims: a JWT's payload (or a PubNub token's fields) read into your own type.
//!
//! The bytes are decoded by the crate's own decoder ([`crate::inspect`]: base64url, JSON
//! check, CBOR for PubNub) rather than the `base64` crate: it is the decoder the npm package
//! ships and the property tests cover, and a second one would only duplicate it.

use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

use crate::error::DecodeError;

/// Why claims could not be read.
#[derive(Clone, Debug, PartialEq)]
pub enum ClaimsError {
    /// The token itself is malformed.
    Decode(DecodeError),
    /// The claims do not fit the type asked for; serde's message (never the token).
    Shape(String),
}

impl std::fmt::Display for ClaimsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClaimsError::Decode(e) => e.fmt(f),
            ClaimsError::Shape(m) => write!(f, "the claims do not fit the type: {m}"),
        }
    }
}

impl std::error::Error for ClaimsError {}

/// The token's claims as a JS object (for a JS caller, or to log a claim).
pub fn claims_to_js(token: &str) -> Result<JsValue, ClaimsError> {
    let info = crate::inspect(token).map_err(ClaimsError::Decode)?;
    js_sys::JSON::parse(&info.claims_json).map_err(|_| ClaimsError::Shape("not JSON".into()))
}

/// The token's claims as `T`.
///
/// # Example
/// ```no_run
/// # #[cfg(all(feature = "web", target_arch = "wasm32"))] {
/// #[derive(serde::Deserialize)]
/// struct Claims { sub: String, exp: f64 }
/// // {"alg":"none"} . {"sub":"42","exp":1700000000}
/// let c: Claims = freshtoken::web::decode_claims("eyJhbGciOiJub25lIn0.eyJzdWIiOiI0MiIsImV4cCI6MTcwMDAwMDAwMH0.").unwrap();
/// assert_eq!((c.sub.as_str(), c.exp), ("42", 1_700_000_000.0));
/// # }
/// ```
pub fn decode_claims<T: DeserializeOwned>(token: &str) -> Result<T, ClaimsError> {
    let value = claims_to_js(token)?;
    serde_wasm_bindgen::from_value(value).map_err(|e| ClaimsError::Shape(e.to_string()))
}
