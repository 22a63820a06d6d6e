//! The presets' rules for the npm face (`engine::preset`, `engine::answer`,
//! `engine::oauth_error`): one export, a text in (through the token buffer) and JSON text
//! out, which js/transport.js reads with `JSON.parse`. JSON both ways because a token set is
//! a few strings and numbers of any content: the numbers of an answer go back as the text
//! they arrived in, so `JSON.parse` gives exactly the number the answer held.

use wasm_bindgen::prelude::*;

use super::buffer::take_tokens;
use crate::engine::answer::{read, Source};
use crate::engine::oauth_error::read_error;
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

/// The presets' rules, on the text in the token buffer (`len` bytes; negative: none).
/// `what`: 0-3 the answer of preset `json`, `sanic-jwt`, `bearer-put`, `oauth2`, 4 the app's
/// `refresh` function's result (its JSON): `{accessToken, refreshToken?, expiresIn?,
/// expiresAt?, problems?, tokens: [the fields never in tokenResponse]}`, or when unusable
/// `{message, refreshToken?}`; 5 an OAuth error answer: `{oauthError?,
/// oauthErrorDescription?}`; 6-9 the refresh request of preset 0-3, from `{accessToken,
/// refreshToken, method, params: {..}, clientId, scope, resource: string | [..]}`; 10 the
/// revocation request, from `{token, clientId}`: `{method, headers, body?, readsErrors?}`.
#[wasm_bindgen(js_name = presetRule)]
pub fn preset_rule(what: u32, len: i32) -> JsValue {
    let (_, given) = take_tokens(0, len);
    let given = given.unwrap_or_default();
    let mut out = Vec::new();
    match what {
        0..=4 => {
            let source = Preset::ALL.get(what as usize).map_or(Source::Function, |p| Source::Preset(*p));
            match read(source, &given) {
                Ok(t) => {
                    text(&mut out, "accessToken", Some(&t.access_token));
                    text(&mut out, "refreshToken", t.refresh_token.as_deref());
                    for (k, n) in [("expiresIn", t.expires_in), ("expiresAt", t.expires_at)] {
                        // The number's text as the answer wrote it (valid JSON).
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
            let (error, description) = read_error(&given);
            text(&mut out, "oauthError", error.as_deref());
            text(&mut out, "oauthErrorDescription", description.as_deref());
            done(out)
        }
        _ => {
            const KEYS: [&str; 6] = ["accessToken", "refreshToken", "method", "clientId", "scope", "token"];
            let mut t: [Option<String>; 6] = Default::default();
            let mut client = Client::default();
            let _ = json::each(&given, &mut |k, v| match v {
                Value::Str(s) => match KEYS.iter().position(|n| *n == k) {
                    Some(i) => t[i] = Some(s),
                    None if k == "resource" => client.resource.push(s),
                    None => {}
                },
                // `resource` as an array, `params` an object: their strings.
                Value::Other(list) if k == "resource" || k == "params" => {
                    let params = k == "params";
                    let _ = json::each(list, &mut |k, x| {
                        if let Value::Str(x) = x {
                            if params {
                                client.params.push((k.to_owned(), x));
                            } else {
                                client.resource.push(x);
                            }
                        }
                    });
                }
                _ => {}
            });
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
