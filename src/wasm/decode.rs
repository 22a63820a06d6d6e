//! `decodeToken`'s wasm half: the JS wrapper turns the figures into a `TokenInfo`, or a
//! refusal into a `TokenDecodeError`.

use wasm_bindgen::prelude::*;

use crate::token::{self, TokenFormat};

/// Decodes `token`, writing `[format (0 jwt, 1 pubnub), expiresAt, issuedAt, notBefore]`
/// (ms since epoch, NaN when absent) into `out` and returning the claims object (the one
/// `JSON.parse` made while decoding: not parsed twice). A refused token writes
/// `-1 - index` into `out[0]` and returns `undefined`: `index` is the error's position in
/// the list `js/decode.js` shares with `src/error.rs`, which holds its code and message.
#[wasm_bindgen(js_name = decodeRaw)]
pub fn decode_raw(token: &str, out: &mut [f64]) -> JsValue {
    let (figures, claims) = match token::read(token, true) {
        Ok((info, claims)) => {
            let format = match info.format {
                TokenFormat::Jwt => 0.0,
                TokenFormat::PubNub => 1.0,
            };
            let figures = [
                format,
                info.expires_at_ms.unwrap_or(f64::NAN),
                info.issued_at_ms.unwrap_or(f64::NAN),
                info.not_before_ms.unwrap_or(f64::NAN),
            ];
            (figures, claims)
        }
        Err(e) => ([-1.0 - f64::from(e.index()), 0.0, 0.0, 0.0], JsValue::UNDEFINED),
    };
    for (slot, v) in out.iter_mut().zip(figures) {
        *slot = v;
    }
    claims
}
