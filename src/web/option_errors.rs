//! Which field of a JS object serde refused, named, and what it must be: an options object
//! ([`super::Options::from_js`]: `refreshAt must be a number`, `endpoint.method ...`, `unknown
//! option \`origin\``) or a login answer's tokens. serde's own message names the type it
//! expected but not the field, and echoes a refused string, which could be a secret put in the
//! wrong place (a token in `expiresIn`): the value is never shown.

use js_sys::{Array, Object, Reflect};
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};

/// The first own field of `value` that `T` refuses on its own (`required` filled in with a
/// placeholder, for a type that cannot be read without it): its name and serde's message.
pub(crate) fn wrong_field<T: DeserializeOwned>(value: &JsValue, required: Option<&str>) -> Option<(String, String)> {
    if !value.is_object() || Array::is_array(value) {
        return None;
    }
    let obj: &Object = value.unchecked_ref();
    for key in Object::keys(obj).iter() {
        let alone = Object::new();
        if let Some(r) = required {
            let _ = Reflect::set(&alone, &r.into(), &"x".into());
        }
        let _ = Reflect::set(&alone, &key, &Reflect::get(value, &key).unwrap_or(JsValue::UNDEFINED));
        if let Err(e) = serde_wasm_bindgen::from_value::<T>(alone.into()) {
            return Some((key.as_string().unwrap_or_default(), e.to_string()));
        }
    }
    None
}

/// `path` refused with serde's `message`, said without the value.
pub(crate) fn describe(path: &str, message: &str) -> String {
    let expected = message.rsplit_once("expected ").map(|(_, what)| match what {
        "f64" => "a number",
        "u16" => "an HTTP status (400-599)",
        "a sequence" => "an array",
        other => other,
    });
    match expected {
        Some(what) if message.starts_with("unknown field") => format!("unknown option `{path}`; expected {what}"),
        Some(what) => format!("{path} must be {what}"),
        None if message.starts_with("missing field") => format!("{path}: {message}"),
        None => format!("{path} has the wrong type"),
    }
}
