//! `decodeToken`'s wasm half: the JS wrapper encodes the token into the token buffer
//! (`wasm/buffer.rs`), then turns the figures into a `TokenInfo`, or a refusal into a
//! `TokenDecodeError`.

use core::cell::UnsafeCell;

use wasm_bindgen::prelude::*;

use super::buffer;
use crate::error;
use crate::token::{self, TokenFormat};

/// Where [`decode_bytes`] writes its figures (see there), fixed for the module's life.
struct Figures(UnsafeCell<[f64; 4]>);

// SAFETY: wasm32 without the `atomics` target feature (how this crate is built) has one
// thread; only `decode_bytes` writes the figures, and JS reads them between calls.
#[cfg(not(target_feature = "atomics"))]
unsafe impl Sync for Figures {}

static FIGURES: Figures = Figures(UnsafeCell::new([0.0; 4]));

/// The last JWT header found valid (`token::HeaderMemo`), for the module's life.
struct Memo(UnsafeCell<token::HeaderMemo>);

// SAFETY: as for `Figures`: one thread. `decode_bytes` takes the memo out while it decodes
// and puts it back after, so no reference to it lives across the JS it calls (`JSON.parse`
// and property reads, which a page could have replaced with code that decodes again).
#[cfg(not(target_feature = "atomics"))]
unsafe impl Sync for Memo {}

static MEMO: Memo = Memo(UnsafeCell::new(token::HeaderMemo(Vec::new())));

/// The address of the four figures [`decode_bytes`] writes.
#[wasm_bindgen(js_name = tokenFigures)]
pub fn token_figures() -> *const f64 {
    FIGURES.0.get().cast()
}

/// Decodes the first `len` bytes of the token buffer (`len` above its capacity when the token
/// did not fit), writing `[format (0 jwt, 1 pubnub), expiresAt, issuedAt, notBefore]`
/// (ms since epoch, NaN when absent) at [`token_figures`] and returning the claims object
/// (the one `JSON.parse` made while decoding: not parsed twice). A refused token writes
/// `-1 - index` as the format and returns `undefined`: `index` is the error's position in
/// the list `js/decode.js` shares with `src/error.rs`, which holds its code and message.
/// The buffer is freed.
#[wasm_bindgen(js_name = decodeBytes)]
pub fn decode_bytes(len: usize) -> JsValue {
    let bytes = buffer::take();
    // SAFETY: see `Memo`; the reference ends with this statement.
    let mut memo = core::mem::take(unsafe { &mut *MEMO.0.get() });
    let read = match bytes.get(..len) {
        Some(token) => token::read_bytes_noting(token, true, &mut memo),
        // Did not fit: longer than the buffer, which `decodeToken` makes longer than
        // `MAX_TOKEN_LEN` whenever the token could be.
        None => Err(error::TOO_LARGE),
    };
    let (figures, claims) = match read {
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
    // SAFETY: see `Memo`.
    unsafe { *MEMO.0.get() = memo };
    // SAFETY: single-threaded (see `Figures`); JS reads them only after this returns.
    unsafe { *FIGURES.0.get() = figures };
    claims
}
