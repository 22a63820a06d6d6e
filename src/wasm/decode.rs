//! `decodeToken`'s wasm half: the JS wrapper turns the figures into a `TokenInfo`.

use wasm_bindgen::prelude::*;

use super::errors::js_error;
use crate::token::{self, TokenFormat};

/// Decodes `token`, writing `[format (0 jwt, 1 pubnub), expiresAt, issuedAt, notBefore]`
/// (ms since epoch, NaN when absent) into `out` and returning the claims object (the one
/// `JSON.parse` made while decoding: not parsed twice). Throws a `TokenDecodeError` with a
/// `code`.
#[wasm_bindgen(js_name = decodeRaw)]
pub fn decode_raw(token: &str, out: &mut [f64]) -> Result<JsValue, JsValue> {
    match token::read(token, true) {
        Ok((info, claims)) => {
            let figures = [
                match info.format {
                    TokenFormat::Jwt => 0.0,
                    TokenFormat::PubNub => 1.0,
                },
                info.expires_at_ms.unwrap_or(f64::NAN),
                info.issued_at_ms.unwrap_or(f64::NAN),
                info.not_before_ms.unwrap_or(f64::NAN),
            ];
            for (slot, v) in out.iter_mut().zip(figures) {
                *slot = v;
            }
            Ok(claims)
        }
        Err(e) => Err(js_error("TokenDecodeError", e.code().as_str(), e.message())),
    }
}
