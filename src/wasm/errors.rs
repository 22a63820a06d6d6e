//! Errors crossing into JS become real `Error` objects with a stable `name` and `code`.

use js_sys::{Error, Reflect};
use wasm_bindgen::JsValue;

/// A JS `Error` whose `name` and `code` callers can test. The message never holds a token.
pub(crate) fn js_error(name: &str, code: &str, message: &str) -> JsValue {
    let err = Error::new(message);
    err.set_name(name);
    // Setting a property on a fresh Error cannot fail; if it somehow did, the error
    // still carries its name and message.
    let _ = Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(code));
    err.into()
}
