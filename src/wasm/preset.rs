//! The presets' rules for the npm face (`engine::preset`, `engine::answer`,
//! `engine::oauth_error`): one export, a text in (through the token buffer) and JSON text
//! out, which js/transport.js reads with `JSON.parse`.
//!
//! What comes in is what the browser already read, as `URLSearchParams` text (the browser
//! encodes it, [`facts`] decodes it): an answer's top-level members as `JSON.parse` made
//! them, each `<kind><key>=<value>` (kind `s` a string, `n` a number as `String(n)` writes
//! it, `o` anything else; null members left out; `!` alone: an array; no text: not a JSON
//! object or array), and a request's inputs by one-letter keys. So the npm wasm ships no
//! JSON reader: the one the Rust face and the engine's tests read answer texts with
//! (`json::each`) is left out by the linker. A number goes back as the text it came in,
//! so `JSON.parse` gives exactly the number the answer held.

use wasm_bindgen::prelude::*;

use super::buffer::take_tokens;
use super::buffer::cut;
use crate::engine::answer::{read_with, too_large, Source, MAX_ANSWER_LEN};
use crate::engine::oauth_error::{read_error_with, withheld};
use crate::engine::option_shapes::{self, EndpointShape};
use crate::engine::preset::{request, revocation, Call, Client, Preset};
use crate::json::{self, Value};

/// `"key":` after a `{` or `,`.
fn key(out: &mut Vec<u8>, k: &str) {
    out.push(if out.is_empty() { b'{' } else { b',' });
    json::write_str(out, k);
    out.push(b':');
}

fn text(out: &mut Vec<u8>, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        key(out, k);
        json::write_str(out, v);
    }
}

fn done(mut out: Vec<u8>) -> JsValue {
    if out.is_empty() {
        out.push(b'{');
    }
    out.push(b'}');
    JsValue::from_str(&json::utf8_string(out).unwrap_or_default())
}

/// The call as JSON: `{method, headers: {content-type, authorization}, body, readsErrors}`
/// (`readsErrors`: an error answer's body is read, as an OAuth 2 error).
fn call(c: Call, reads_errors: bool) -> JsValue {
    let mut out = Vec::new();
    text(&mut out, "method", Some(&c.method));
    key(&mut out, "headers");
    let mut h = Vec::new();
    text(&mut h, "content-type", c.content_type);
    text(&mut h, "authorization", c.authorization.as_deref());
    if h.is_empty() {
        h.push(b'{');
    }
    out.extend_from_slice(&h);
    out.push(b'}');
    text(&mut out, "body", c.body.as_deref());
    if reads_errors {
        key(&mut out, "readsErrors");
        out.extend_from_slice(b"true");
    }
    done(out)
}

/// A `%XX` digit's value.
fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// `application/x-www-form-urlencoded` text decoded (`+` a space, `%XX` a byte), as UTF-8.
fn decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        out.push(match b[i] {
            b'+' => b' ',
            b'%' if i + 2 < b.len() => {
                i += 2;
                hex(b[i - 1]) << 4 | hex(b[i])
            }
            c => c,
        });
        i += 1;
    }
    json::utf8_string(out).unwrap_or_default()
}

/// The `URLSearchParams` text JS wrote: each pair's kind (its key's first byte), the rest
/// of its key, and its value, decoded.
fn facts(text: &str) -> Vec<(u8, String, String)> {
    cut(text, b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let eq = pair.bytes().position(|b| b == b'=').unwrap_or(pair.len());
            let key = decoded(&pair[..eq]);
            let value = decoded(pair.get(eq + 1..).unwrap_or(""));
            (key.bytes().next().unwrap_or(b'o'), key.get(1..).unwrap_or("").to_owned(), value)
        })
        .collect()
}

/// An answer's members as `read_with` takes them, from what JS read (`None`: not JSON).
fn members<'a>(given: Option<&'a [(u8, String, String)]>, array: bool, f: &mut dyn FnMut(&str, Value<'a>)) -> Option<bool> {
    let given = given?;
    for (kind, key, value) in given {
        f(key, match kind {
            b's' => Value::Str(value.clone()),
            // `String(n)` of a finite number is JSON's number grammar; NaN and Infinity are not numbers here.
            b'n' if value.bytes().next().is_some_and(|c| c == b'-' || c.is_ascii_digit()) => Value::Num(json::number_value(value.as_bytes()), value),
            b'n' => Value::Num(f64::NAN, value),
            _ => Value::Other(""),
        });
    }
    Some(!array)
}

/// The options' shapes (`engine::option_shapes`) from the facts JS wrote: `K` storageKey, `L`
/// loginUrl, and with an endpoint `u` its url, `n` its preset's number, `m` method, `k`
/// credentials, `c` clientId, `s` scope, `v` revokeUrl, each `R` a resource. The first wrong
/// one, named.
#[inline(never)]
fn shapes(given: &[(u8, String, String)]) -> Option<String> {
    let mut f: [Option<&str>; 9] = Default::default();
    let mut resource = Vec::new();
    for (kind, _, value) in given {
        if *kind == b'R' {
            resource.push(value.clone());
        } else if let Some(i) = b"KLunmkcsv".iter().position(|c| c == kind) {
            f[i] = Some(value.as_str());
        }
    }
    let [key, login, url, n, method, credentials, client_id, scope, revoke_url] = f;
    let preset = if n == Some("3") { Preset::Oauth2 } else { Preset::Json };
    let endpoint = url.map(|url| EndpointShape { url, method, credentials, preset, client_id, scope, revoke_url, resource: &resource });
    option_shapes::check(key, login, endpoint.as_ref()).err()
}

/// The presets' rules, on the text in the token buffer (`len` bytes; negative: none).
/// `what`: 0-3 the answer of preset `json`, `sanic-jwt`, `bearer-put`, `oauth2`, 4 the app's
/// `refresh` function's result, each as its members (see the module): `{accessToken,
/// refreshToken?, expiresIn?, expiresAt?, problems?, tokens: [the fields never in
/// tokenResponse]}`, or when unusable `{message, refreshToken?}`; 5 an OAuth error answer's
/// members, and each token the refresh call carried as a `T` entry: `{oauthError?,
/// oauthErrorDescription?}`, each withheld when it repeats a token (`oauth_error::withheld`); 6-9 the refresh request of preset 0-3,
/// from the inputs `a` the access token, `r` the refresh token, `m` the method, `c` the
/// client id, `s` the scope, each `R` a resource, each `p<name>` a param; 10 the
/// revocation request, from `t` the token and `c`: `{method, headers, body?, readsErrors?}`;
/// 11 the options' shapes (`engine::option_shapes`): `{message?}`, the first wrong one named.
#[wasm_bindgen(js_name = presetRule)]
pub fn preset_rule(what: u32, len: i32) -> JsValue {
    // An answer's members longer than the engine reads (JS copied at most that many bytes
    // and says `len` one more): not read at all.
    let huge = what <= 5 && usize::try_from(len).is_ok_and(|n| n > MAX_ANSWER_LEN);
    let (_, given) = take_tokens(0, if huge { -1 } else { len });
    let array = given.as_deref() == Some("!");
    let given = given.map(|t| if array { Vec::new() } else { facts(&t) });
    let given = given.as_deref();
    let mut out = Vec::new();
    match what {
        0..=4 => {
            let source = Preset::ALL.get(what as usize).map_or(Source::Function, |p| Source::Preset(*p));
            let read = if huge { Err(too_large(source)) } else { read_with(source, |f| members(given, array, f)) };
            match read {
                Ok(t) => {
                    text(&mut out, "accessToken", Some(&t.access_token));
                    text(&mut out, "refreshToken", t.refresh_token.as_deref());
                    for (k, n) in [("expiresIn", t.expires_in), ("expiresAt", t.expires_at)] {
                        // The number's text as JS wrote it (valid JSON: a finite number).
                        if let Some((_, n)) = n {
                            key(&mut out, k);
                            out.extend_from_slice(n.as_bytes());
                        }
                    }
                    text(&mut out, "problems", t.problems.as_deref());
                    key(&mut out, "tokens");
                    for (i, f) in source.token_fields().iter().enumerate() {
                        out.push(if i == 0 { b'[' } else { b',' });
                        json::write_str(&mut out, f);
                    }
                    out.push(b']');
                }
                Err(u) => {
                    text(&mut out, "message", Some(&u.message));
                    text(&mut out, "refreshToken", u.rotated_refresh_token.as_deref());
                }
            }
            done(out)
        }
        5 => {
            let (mut error, mut description) = read_error_with(|f| members(given, array, f));
            // The tokens the call carried (kind `T`): words that repeat one are withheld.
            for (_, _, t) in given.unwrap_or_default().iter().filter(|f| f.0 == b'T') {
                error = withheld(error, &[t]);
                description = withheld(description, &[t]);
            }
            text(&mut out, "oauthError", error.as_deref());
            text(&mut out, "oauthErrorDescription", description.as_deref());
            done(out)
        }
        11 => {
            text(&mut out, "message", shapes(given.unwrap_or_default()).as_deref());
            done(out)
        }
        _ => {
            let mut t: [Option<String>; 6] = Default::default();
            let mut client = Client::default();
            for (kind, name, value) in given.unwrap_or_default() {
                match kind {
                    b'R' => client.resource.push(value.clone()),
                    b'p' => client.params.push((name.clone(), value.clone())),
                    k => {
                        if let Some(i) = b"armcst".iter().position(|c| c == k) {
                            t[i] = Some(value.clone());
                        }
                    }
                }
            }
            let [access, refresh, method, client_id, scope, token] = t;
            client.method = method;
            client.client_id = client_id;
            client.scope = scope;
            match Preset::ALL.get(what as usize - 6) {
                Some(&preset) => call(request(preset, access.as_deref(), refresh.as_deref(), &client), preset.reads_oauth_errors()),
                None => call(revocation(&token.unwrap_or_default(), client.client_id.as_deref()), false),
            }
        }
    }
}
