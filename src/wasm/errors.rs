//! Errors crossing into JS become real `Error` objects with a stable `name` and `code`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = Error)]
    type JsError;
    #[wasm_bindgen(constructor, js_class = Error)]
    fn new(message: &str) -> JsError;
    #[wasm_bindgen(method, setter)]
    fn set_name(this: &JsError, name: &str);
    #[wasm_bindgen(method, setter)]
    fn set_code(this: &JsError, code: &str);
}

/// A JS `Error` whose `name` and `code` callers can test. The message never holds a token.
pub(crate) fn js_error(name: &str, code: &str, message: &str) -> JsValue {
    let err = JsError::new(message);
    err.set_name(name);
    err.set_code(code);
    err.into()
}
