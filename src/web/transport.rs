//! The built-in refresh call: each preset's request and answer, the status classification
//! ([`crate::engine::refresh_status`]), `Retry-After`, the answer's `Date`, no redirect
//! followed, and the abort the engine asks for (superseded, disposed, or its `timeout`:
//! the deadline is the engine's rule, not this call's).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestInit, RequestRedirect, Response};

use super::dpop::Dpop;
use super::options::{Endpoint, Preset};
use super::origins::origin_of;
use super::TokenSet;
use crate::engine::refresh_status::{refresh_status, RefreshStatus};
use crate::engine::dpop::asks_for_nonce;
use crate::engine::{http_date, Abort, RefreshFailure};
use crate::refresher::RefreshContext;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonBody<'a> {
    refresh_token: Option<&'a str>,
}

#[derive(Serialize)]
struct SanicBody<'a> {
    refresh_token: Option<&'a str>,
}

impl Preset {
    fn method(self) -> &'static str {
        match self {
            Preset::BearerPut => "PUT",
            _ => "POST",
        }
    }

    /// The body (and its content type) this preset sends.
    fn body(self, ctx: &RefreshContext) -> Result<Option<(&'static str, String)>, JsValue> {
        let refresh = ctx.refresh_token.as_deref();
        Ok(match self {
            Preset::Json => Some(("application/json", json_text(&JsonBody { refresh_token: refresh })?)),
            Preset::SanicJwt => Some(("application/json", json_text(&SanicBody { refresh_token: refresh })?)),
            Preset::BearerPut => None,
            Preset::Oauth2 => {
                let form = web_sys::UrlSearchParams::new()?;
                form.append("grant_type", "refresh_token");
                form.append("refresh_token", refresh.unwrap_or(""));
                Some(("application/x-www-form-urlencoded", form.to_string().into()))
            }
        })
    }

    fn sends_bearer(self) -> bool {
        matches!(self, Preset::SanicJwt | Preset::BearerPut)
    }

    /// The answer's field names: access token, refresh token, expiresIn, expiresAt.
    fn fields(self) -> [Option<&'static str>; 4] {
        match self {
            Preset::Json => [Some("accessToken"), Some("refreshToken"), Some("expiresIn"), Some("expiresAt")],
            Preset::SanicJwt => [Some("access_token"), Some("refresh_token"), Some("expires_in"), None],
            Preset::Oauth2 => [Some("access_token"), Some("refresh_token"), Some("expires_in"), None],
            Preset::BearerPut => [Some("token"), None, Some("expiresIn"), None],
        }
    }

    /// Reads the answer's tokens as the npm package's `checkTokenSet` does: no access token
    /// string is a `bad-response` that still hands over a rotated refresh token; a badly
    /// typed optional field is dropped and named (the tokens are taken, the app told).
    fn read(self, body: &JsValue) -> Result<(TokenSet, Option<String>), RefreshFailure> {
        let bad = |rotated: Option<String>| RefreshFailure { code: "bad-response".into(), rotated_refresh_token: rotated, ..Default::default() };
        if !body.is_object() || js_sys::Array::is_array(body) {
            return Err(bad(None));
        }
        let [access_key, refresh_key, in_key, at_key] = self.fields();
        let get = |k: Option<&str>| k.and_then(|k| js_sys::Reflect::get(body, &k.into()).ok()).filter(|v| !v.is_undefined() && !v.is_null());
        let mut problems = Vec::new();
        let refresh = match get(refresh_key) {
            None => None,
            Some(v) => match v.as_string().filter(|s| !s.is_empty()) {
                Some(s) => Some(s),
                None => {
                    problems.push("the refresh token is not a string");
                    None
                }
            },
        };
        let Some(access) = get(access_key).and_then(|v| v.as_string()).filter(|s| !s.is_empty()) else {
            return Err(bad(refresh));
        };
        let mut number = |k: Option<&str>, what: &'static str| match get(k) {
            None => None,
            Some(v) => match v.as_f64().filter(|n| n.is_finite() && *n >= 0.0) {
                Some(n) => Some(n),
                None => {
                    problems.push(what);
                    None
                }
            },
        };
        let expires_in = number(in_key, "expiresIn is not a non-negative number");
        let expires_at = number(at_key, "expiresAt is not a non-negative number");
        let problems = (!problems.is_empty()).then(|| problems.join("; "));
        Ok((TokenSet { access_token: access, refresh_token: refresh, expires_in, expires_at }, problems))
    }
}

/// JSON text of a body (serde → JS value → `JSON.stringify`).
fn json_text<T: Serialize>(value: &T) -> Result<String, JsValue> {
    let value = serde_wasm_bindgen::to_value(value)?;
    js_sys::JSON::stringify(&value).map(String::from)
}

/// `Retry-After` in ms: delay-seconds, or an HTTP-date (RFC 9110), read by the engine's rule.
fn retry_after_ms(res: &Response) -> Option<f64> {
    let value = res.headers().get("retry-after").ok()??;
    let now = js_sys::Date::now();
    http_date::retry_after_ms(&value, now, http_date::year_of(now))
}

fn request(ep: &Endpoint, ctx: &RefreshContext, signal: &web_sys::AbortSignal) -> Result<Request, JsValue> {
    let headers = Headers::new()?;
    for (k, v) in &ep.headers {
        headers.set(k, v)?;
    }
    let init = RequestInit::new();
    if ep.preset.sends_bearer() {
        if let Some(access) = &ctx.access_token {
            headers.set("authorization", &format!("Bearer {access}"))?;
        }
    }
    if let Some((content_type, body)) = ep.preset.body(ctx)? {
        headers.set("content-type", content_type)?;
        let body = if ep.preset == Preset::Oauth2 { oauth_form(ep, &body)? } else { body };
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_method(ep.method.as_deref().unwrap_or(ep.preset.method()));
    init.set_headers(&headers);
    init.set_redirect(RequestRedirect::Manual);
    init.set_signal(Some(signal));
    if let Some(c) = ep.credentials.as_deref() {
        init.set_credentials(match c {
            "include" => web_sys::RequestCredentials::Include,
            "omit" => web_sys::RequestCredentials::Omit,
            _ => web_sys::RequestCredentials::SameOrigin,
        });
    }
    Request::new_with_str_and_init(&ep.url, &init)
}

/// The oauth2 preset's form with the client's settings: `client_id`, `scope`, `resource`s.
fn oauth_form(ep: &Endpoint, body: &str) -> Result<String, JsValue> {
    let form = web_sys::UrlSearchParams::new_with_str(body)?;
    if let Some(c) = &ep.client_id {
        form.set("client_id", c);
    }
    if let Some(sc) = &ep.scope {
        form.set("scope", sc);
    }
    for r in &ep.resource {
        form.append("resource", r);
    }
    Ok(form.to_string().into())
}

/// An OAuth 2 error answer's `error` (RFC 6749 §5.2), for the engine to read.
async fn oauth_error(res: &Response) -> Option<String> {
    let body = JsFuture::from(res.json().ok()?).await.ok()?;
    js_sys::Reflect::get(&body, &JsValue::from_str("error")).ok()?.as_string()
}

/// How one refresh call ended: its outcome, and the answer's `Date` with the origin that sent it.
pub(crate) struct Outcome {
    pub(crate) result: Result<(TokenSet, Option<String>), RefreshFailure>,
    pub(crate) date: Option<(String, String)>,
}

impl Outcome {
    pub(crate) fn failed(code: &str) -> Outcome {
        Outcome { result: Err(RefreshFailure { code: code.into(), ..Default::default() }), date: None }
    }
}

/// Why the engine aborts a call, as the `reason` of its signal: an `AbortError` named for
/// it, with `code` `superseded`, `disposed` or `timeout`.
fn abort_reason(reason: Abort) -> JsValue {
    let code = match reason {
        Abort::Superseded => "superseded",
        Abort::Disposed => "disposed",
        Abort::Timeout => "timeout",
    };
    let err = js_sys::Error::new(&format!("the refresh call was aborted: {code}"));
    err.set_name("AbortError");
    let _ = js_sys::Reflect::set(&err, &"code".into(), &code.into());
    err.into()
}

/// Aborts the fetch when the call is dropped before its answer (the engine aborted it:
/// `why` holds the reason it gave).
struct AbortOnDrop {
    ctl: AbortController,
    why: Rc<Cell<Option<Abort>>>,
    done: bool,
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if !self.done {
            let reason = self.why.take().unwrap_or(Abort::Superseded);
            self.ctl.abort_with_reason(&abort_reason(reason));
        }
    }
}

/// The name of a rejection (`TypeError`, `TimeoutError`, `AbortError` ...).
fn error_name(e: &JsValue) -> Option<String> {
    js_sys::Reflect::get(e, &"name".into()).ok()?.as_string()
}

/// The answer's fields other than the tokens (id_token, scope, token_type, expires_in, ...),
/// as the npm face's `tokenResponse`: a new plain object.
fn others(preset: Preset, body: &JsValue) -> Option<JsValue> {
    if !body.is_object() || js_sys::Array::is_array(body) {
        return None;
    }
    let [access_key, refresh_key, ..] = preset.fields();
    let out = js_sys::Object::new();
    let obj: &js_sys::Object = body.unchecked_ref();
    for k in js_sys::Object::keys(obj).iter() {
        let name = k.as_string().unwrap_or_default();
        if Some(name.as_str()) == access_key || Some(name.as_str()) == refresh_key || name == "refreshToken" || name == "refresh_token" {
            continue;
        }
        let _ = js_sys::Reflect::set(&out, &k, &js_sys::Reflect::get(body, &k).unwrap_or(JsValue::UNDEFINED));
    }
    Some(out.into())
}

/// What a refresh call needs besides the endpoint: the DPoP key (with `dpop`) and where the
/// answer's other fields go (`tokenResponse`).
#[derive(Clone, Default)]
pub(crate) struct Extras {
    pub(crate) dpop: Option<Rc<Dpop>>,
    pub(crate) token_response: Rc<RefCell<Option<JsValue>>>,
}

/// One refresh call against `ep`. Dropped before its answer, it aborts the fetch with the
/// reason the engine gave (`why`). With DPoP every call carries a proof, and a
/// `use_dpop_nonce` answer costs exactly one more call with the server's nonce (the engine
/// says when: [`asks_for_nonce`]), nothing else.
pub(crate) async fn call(ep: &Endpoint, ctx: RefreshContext, why: Rc<Cell<Option<Abort>>>, extras: Extras) -> Outcome {
    let Some(window) = web_sys::window() else { return Outcome::failed("network") };
    let Ok(ctl) = AbortController::new() else { return Outcome::failed("network") };
    why.set(None);
    let signal = ctl.signal();
    let mut guard = AbortOnDrop { ctl, why, done: false };
    let origin = origin_of(&ep.url);
    let method = ep.method.clone().unwrap_or_else(|| ep.preset.method().to_owned());
    let mut nonce_retry = extras.dpop.is_some();
    loop {
        let Ok(req) = request(ep, &ctx, &signal) else {
            guard.done = true;
            return Outcome::failed("network");
        };
        if let Some(d) = &extras.dpop {
            match d.proof(&method, &ep.url, None, None, None).await {
                Ok(proof) => {
                    let _ = req.headers().set("dpop", &proof);
                }
                Err(_) => {
                    guard.done = true;
                    return Outcome::failed("failed");
                }
            }
        }
        guard.done = false;
        let answer = JsFuture::from(window.fetch_with_request(&req)).await;
        guard.done = true;
        let res: Response = match answer {
            Ok(res) => res.unchecked_into(),
            // A TimeoutError (an AbortSignal.timeout of the app's fetch, say) is a timeout;
            // anything else (TypeError: offline, DNS, CORS) is the network.
            Err(e) => return Outcome::failed(if error_name(&e).as_deref() == Some("TimeoutError") { "timeout" } else { "network" }),
        };
        let date = res.headers().get("date").ok().flatten().and_then(|d| Some((origin.clone()?, d)));
        if let (Some(d), Some(o)) = (&extras.dpop, &origin) {
            d.note_nonce(o, &res);
        }
        let status = res.status();
        let fail = |code: &str| RefreshFailure { code: code.into(), status: Some(status), ..Default::default() };
        let class = refresh_status(status);
        // The oauth2 preset's error answers say why (the engine reads `error`).
        let oauth_error = match class {
            RefreshStatus::Rejected | RefreshStatus::Transient if ep.preset == Preset::Oauth2 => oauth_error(&res).await,
            _ => None,
        };
        if nonce_retry && asks_for_nonce(status, None, oauth_error.as_deref()) {
            nonce_retry = false;
            continue;
        }
        let result = match class {
            RefreshStatus::Rejected => Err(RefreshFailure { rejected: true, oauth_error, ..fail("rejected") }),
            RefreshStatus::Redirect => Err(fail("bad-response")),
            RefreshStatus::Transient => Err(RefreshFailure { retry_after_ms: retry_after_ms(&res), oauth_error, ..fail("http") }),
            // A body that is not JSON, or not a token set: bad-response (no status: the 2xx was fine).
            RefreshStatus::Ok => {
                let body = match res.json() {
                    Ok(p) => JsFuture::from(p).await.unwrap_or(JsValue::UNDEFINED),
                    Err(_) => JsValue::UNDEFINED,
                };
                let read = ep.preset.read(&body);
                if read.is_ok() {
                    *extras.token_response.borrow_mut() = others(ep.preset, &body);
                }
                read
            }
        };
        return Outcome { result, date };
    }
}

/// Revokes `token` at `url` (RFC 7009: `token`, `token_type_hint=refresh_token`,
/// `client_id`), best effort: aborted after `timeout_ms`, every failure ignored.
pub(crate) async fn revoke(ep: Endpoint, url: String, token: String, timeout_ms: f64, proof: Option<String>) {
    let Some(window) = web_sys::window() else { return };
    let Ok(form) = web_sys::UrlSearchParams::new() else { return };
    form.set("token", &token);
    form.set("token_type_hint", "refresh_token");
    if let Some(c) = &ep.client_id {
        form.set("client_id", c);
    }
    let Ok(headers) = Headers::new() else { return };
    for (k, v) in &ep.headers {
        let _ = headers.set(k, v);
    }
    let _ = headers.set("content-type", "application/x-www-form-urlencoded");
    if let Some(p) = &proof {
        let _ = headers.set("dpop", p);
    }
    let Ok(ctl) = AbortController::new() else { return };
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from(form.to_string()));
    init.set_redirect(RequestRedirect::Manual);
    init.set_signal(Some(&ctl.signal()));
    let Ok(req) = Request::new_with_str_and_init(&url, &init) else { return };
    let abort = gloo_timers::callback::Timeout::new(timeout_ms.clamp(0.0, 2_147_483_647.0) as u32, move || ctl.abort());
    let _ = JsFuture::from(window.fetch_with_request(&req)).await;
    drop(abort);
}
