//! The browser's half of [`super::read_object`] and [`super::write_f64`]: `JSON.parse`,
//! `JSON.stringify` and property reads, bound directly (no `js-sys`). Only built for
//! wasm32, where the JS engine's parser and number writer replace the hand-written ones;
//! [`super::prescan`] has already made the checks `JSON.parse` skips.

use core::cell::OnceCell;

use wasm_bindgen::prelude::*;

use super::{Claim, Claims, Error};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON, catch)]
    fn parse(text: &str) -> Result<JsValue, JsValue>;
    #[cfg(feature = "web")]
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify)]
    fn stringify_number(x: f64) -> String;
    #[wasm_bindgen(js_namespace = Object, js_name = hasOwn)]
    fn has_own(object: &JsValue, key: &JsValue) -> bool;
    #[wasm_bindgen(js_namespace = Reflect, js_name = get)]
    fn get(object: &JsValue, key: &JsValue) -> JsValue;
}

/// The claim names as JS strings, made once: passing a `&str` costs a `TextDecoder` call
/// each time, which on a short token took longer than the rest of the decode.
struct Keys(OnceCell<[JsValue; 3]>);

// SAFETY: wasm32 without the `atomics` target feature (how this crate is built) has one
// thread, so the cell is never reached from two threads. `thread_local!` would say the
// same but cost 320 B gzip of wasm.
#[cfg(not(target_feature = "atomics"))]
unsafe impl Sync for Keys {}

static KEYS: Keys = Keys(OnceCell::new());

/// An own property of a parsed object as a time claim. Own only: a property an app put on
/// `Object.prototype` is not the token's.
fn claim(object: &JsValue, key: &JsValue) -> Claim {
    if !has_own(object, key) {
        return Claim::Absent;
    }
    match get(object, key).as_f64() {
        Some(x) => Claim::Number(x),
        None => Claim::NotNumber,
    }
}

/// Parses `text`, which [`super::prescan`] accepted (so it starts with `{` and is an object
/// if it parses at all).
pub(super) fn parse_object(text: &str) -> Result<(Claims, JsValue), Error> {
    // The exception (a SyntaxError quoting part of the text) is dropped, never shown.
    let object = parse(text).map_err(|_| Error::Unexpected)?;
    let [exp, iat, nbf] = KEYS.0.get_or_init(|| ["exp", "iat", "nbf"].map(JsValue::from_str));
    let claims = Claims {
        exp: claim(&object, exp),
        iat: claim(&object, iat),
        nbf: claim(&object, nbf),
    };
    Ok((claims, object))
}

/// Parses JSON text this crate wrote (always valid); `null` if that ever failed.
#[cfg(feature = "web")]
pub(super) fn parse_own(text: &str) -> JsValue {
    parse(text).unwrap_or(JsValue::NULL)
}

/// Appends `x` as `JSON.stringify` writes it (`null` when not finite).
#[cfg(feature = "web")]
pub(super) fn write_f64(out: &mut Vec<u8>, x: f64) {
    out.extend_from_slice(stringify_number(x).as_bytes());
}
