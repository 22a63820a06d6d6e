//! The built-in refresh call: the request the engine builds for the preset
//! ([`crate::engine::preset`]) sent, its answer's text handed to the engine to read
//! ([`crate::engine::answer`], [`crate::engine::oauth_error`]), the status classification
//! ([`crate::engine::refresh_status`]), `Retry-After`, the answer's `Date`, no redirect
//! followed, and the abort the engine asks for (superseded, disposed, or its `timeout`:
//! the deadline is the engine's rule, not this call's).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestInit, RequestRedirect, Response};

use super::dpop::Dpop;
use super::options::Endpoint;
use super::origins::resolved;
use super::TokenSet;
use crate::engine::answer::{self, Field, Source, Tokens, Unusable};
use crate::engine::dpop::asks_for_nonce;
use crate::engine::oauth_error::read_error;
use crate::engine::preset::{self, Client};
use crate::engine::refresh_status::{error_answer_status, refresh_status, RefreshStatus};
use crate::engine::{http_date, Abort, RefreshFailure};
use crate::refresher::RefreshContext;

/// A token set as the engine took it (`engine::answer`): the tokens, and what was dropped.
fn taken(t: Tokens<'_>) -> (TokenSet, Option<String>) {
    let n = |x: Option<(f64, &str)>| x.map(|x| x.0);
    (TokenSet { access_token: t.access_token, refresh_token: t.refresh_token, expires_in: n(t.expires_in), expires_at: n(t.expires_at) }, t.problems)
}

/// An unusable answer: a transient `bad-response` that still hands over a rotated refresh token.
fn unusable(u: Unusable) -> RefreshFailure {
    RefreshFailure { code: "bad-response".into(), rotated_refresh_token: u.rotated_refresh_token, ..Default::default() }
}

/// The app's own refresh function's token set, checked by the engine as an answer is: an
/// empty access token is unusable, an expiry that is not a finite number >= 0 (or an empty
/// refresh token) is dropped and named.
pub(crate) fn check_own(t: TokenSet) -> Result<(TokenSet, Option<String>), RefreshFailure> {
    let num = |x: Option<f64>| x.map_or(Field::Absent, |x| Field::Number(x, ""));
    let fields = [Field::Text(t.access_token), t.refresh_token.map_or(Field::Absent, Field::Text), num(t.expires_in), num(t.expires_at)];
    answer::check(Source::Function, fields).map(taken).map_err(unusable)
}

/// `Retry-After` in ms: delay-seconds, or an HTTP-date (RFC 9110), read by the engine's rule.
fn retry_after_ms(res: &Response) -> Option<f64> {
    let value = res.headers().get("retry-after").ok()??;
    let now = js_sys::Date::now();
    http_date::retry_after_ms(&value, now, http_date::year_of(now))
}

/// The refresh request the engine builds for the endpoint's preset (`engine::preset`), to
/// `url` (the endpoint as resolved and judged for this call).
fn request(ep: &Endpoint, url: &str, ctx: &RefreshContext, signal: &web_sys::AbortSignal) -> Result<Request, JsValue> {
    let client = Client {
        method: ep.method.clone(),
        params: ep.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        client_id: ep.client_id.clone(),
        scope: ep.scope.clone(),
        resource: ep.resource.clone(),
    };
    let call = preset::request(ep.preset, ctx.access_token.as_deref(), ctx.refresh_token.as_deref(), &client);
    let headers = Headers::new()?;
    for (k, v) in &ep.headers {
        headers.set(k, v)?;
    }
    let init = RequestInit::new();
    if let Some(c) = call.content_type {
        headers.set("content-type", c)?;
    }
    if let Some(a) = &call.authorization {
        headers.set("authorization", a)?;
    }
    if let Some(body) = &call.body {
        init.set_body(&JsValue::from_str(body));
    }
    init.set_method(&call.method);
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
    Request::new_with_str_and_init(url, &init)
}

/// An answer's text ("" when it cannot be read), or `None` when it is longer than the
/// engine reads ([`answer::MAX_ANSWER_LEN`] UTF-16 units, so at least as many bytes): never
/// copied into wasm memory.
async fn text(res: &Response) -> Option<String> {
    let Ok(p) = res.text() else { return Some(String::new()) };
    let t = JsFuture::from(p).await.ok().map(js_sys::JsString::from).unwrap_or_default();
    (t.length() as usize <= answer::MAX_ANSWER_LEN).then(|| t.as_string().unwrap_or_default())
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

/// The answer's fields other than the ones the engine names as tokens (id_token, scope,
/// token_type, expires_in, ...), as the npm face's `tokenResponse`: a new plain object.
fn others(source: Source, text: &str) -> Option<JsValue> {
    let body = js_sys::JSON::parse(text).ok().filter(|b| b.is_object())?;
    let out = js_sys::Object::new();
    let tokens = source.token_fields();
    let obj: &js_sys::Object = body.unchecked_ref();
    for k in js_sys::Object::keys(obj).iter() {
        if !tokens.iter().any(|t| k.as_string().as_deref() == Some(t)) {
            let _ = js_sys::Reflect::set(&out, &k, &js_sys::Reflect::get(&body, &k).unwrap_or(JsValue::UNDEFINED));
        }
    }
    Some(out.into())
}

/// Whether the refresh call may go to an origin: the engine's rule
/// ([`crate::refresher::Refresher::allows_refresh_to`]).
pub(crate) type Allowed = Rc<dyn Fn(&str) -> bool>;

/// What a refresh call needs besides the endpoint: the DPoP key (with `dpop`), where the
/// answer's other fields go (`tokenResponse`), and the engine's word on where it may go.
#[derive(Clone)]
pub(crate) struct Extras {
    pub(crate) dpop: Option<Rc<Dpop>>,
    pub(crate) token_response: Rc<RefCell<Option<JsValue>>>,
    pub(crate) allowed: Allowed,
}

/// One refresh call against `ep`. Dropped before its answer, it aborts the fetch with the
/// reason the engine gave (`why`). With DPoP every call carries a proof, and a
/// `use_dpop_nonce` answer ([`asks_for_nonce`]) costs one more call with the server's nonce
/// when the engine grants it (once per refresh call), nothing else.
pub(crate) async fn call(ep: &Endpoint, ctx: RefreshContext, why: Rc<Cell<Option<Abort>>>, extras: Extras) -> Outcome {
    let Some(window) = web_sys::window() else { return Outcome::failed("network") };
    let Ok(ctl) = AbortController::new() else { return Outcome::failed("network") };
    why.set(None);
    let signal = ctl.signal();
    let mut guard = AbortOnDrop { ctl, why, done: false };
    // Judged where it is sent (SPEC 6): `endpoint.url` resolved once, now (after any wait for
    // the cross-tab lock), its origin the engine's to allow, and every send of this call (the
    // DPoP nonce retry too) to that very URL. The engine judged it when it started the call
    // too, but a relative URL re-read later would follow a `<base href>` injected meanwhile.
    let Some((url, origin)) = resolved(&ep.url).filter(|(_, o)| (extras.allowed)(o)) else {
        guard.done = true;
        return Outcome::failed("refused-origin");
    };
    let origin = Some(origin);
    loop {
        let Ok(req) = request(ep, &url, &ctx, &signal) else {
            guard.done = true;
            return Outcome::failed("network");
        };
        if let Some(d) = &extras.dpop {
            match d.proof(&req.method(), &url, None, None, None).await {
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
        // An OAuth 2 error answer says why (the engine reads it); other presets' bodies are not read.
        let oauth_error = match class {
            RefreshStatus::Rejected | RefreshStatus::Transient if ep.preset.reads_oauth_errors() => read_error(&text(&res).await.unwrap_or_default()).0,
            _ => None,
        };
        if asks_for_nonce(status, None, oauth_error.as_deref()) && extras.dpop.as_ref().is_some_and(|d| d.refresh_nonce_demanded()) {
            continue;
        }
        // The OAuth error can make a 400 transient (`use_dpop_nonce`): the engine's rule.
        let class = if oauth_error.is_some() { error_answer_status(status, oauth_error.as_deref()) } else { class };
        let result = match class {
            RefreshStatus::Rejected => Err(RefreshFailure { rejected: true, oauth_error, ..fail("rejected") }),
            RefreshStatus::Redirect => Err(fail("bad-response")),
            RefreshStatus::Transient => Err(RefreshFailure { retry_after_ms: retry_after_ms(&res), oauth_error, ..fail("http") }),
            // A body that is not JSON, or not a token set: bad-response (no status: the 2xx was fine).
            RefreshStatus::Ok => {
                let source = Source::Preset(ep.preset);
                let Some(text) = text(&res).await else { return Outcome { result: Err(unusable(answer::too_large(source))), date } };
                let read = answer::read(source, &text).map(taken).map_err(unusable);
                if read.is_ok() {
                    *extras.token_response.borrow_mut() = others(source, &text);
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
    // The RFC 7009 form is the engine's.
    let call = preset::revocation(&token, ep.client_id.as_deref());
    let Ok(headers) = Headers::new() else { return };
    for (k, v) in &ep.headers {
        let _ = headers.set(k, v);
    }
    if let Some(c) = call.content_type {
        let _ = headers.set("content-type", c);
    }
    if let Some(p) = &proof {
        let _ = headers.set("dpop", p);
    }
    let Ok(ctl) = AbortController::new() else { return };
    let init = RequestInit::new();
    init.set_method(&call.method);
    init.set_headers(&headers);
    init.set_body(&JsValue::from(call.body.unwrap_or_default()));
    init.set_redirect(RequestRedirect::Manual);
    init.set_signal(Some(&ctl.signal()));
    let Ok(req) = Request::new_with_str_and_init(&url, &init) else { return };
    let abort = gloo_timers::callback::Timeout::new(timeout_ms.clamp(0.0, 2_147_483_647.0) as u32, move || ctl.abort());
    let _ = JsFuture::from(window.fetch_with_request(&req)).await;
    drop(abort);
}
