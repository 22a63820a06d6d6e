//! The built-in refresh call: each preset's request and answer (serde), the status
//! classification ([`crate::engine::refresh_status`]), `Retry-After`, a deadline, and no
//! redirect followed.

use gloo_timers::callback::Timeout;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestInit, RequestRedirect, Response};

use super::options::{Endpoint, Preset};
use super::TokenSet;
use crate::refresher::RefreshContext;
use crate::engine::http_date;
use crate::engine::refresh_status::{refresh_status, RefreshStatus};
use crate::session::Failure;

const TRANSIENT: Failure = Failure::Transient { retry_after_ms: None };

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonBody<'a> {
    refresh_token: Option<&'a str>,
}

#[derive(Serialize)]
struct SanicBody<'a> {
    refresh_token: Option<&'a str>,
}

/// `json` preset answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonAnswer {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<f64>,
    expires_at: Option<f64>,
}

/// `sanic-jwt` and `oauth2` answers.
#[derive(Deserialize)]
struct SnakeAnswer {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<f64>,
}

/// `bearer-put` answer.
#[derive(Deserialize)]
struct PutAnswer {
    token: Option<String>,
    #[serde(alias = "expires_in", rename = "expiresIn")]
    expires_in: Option<f64>,
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

    /// Reads the answer's tokens; `None` when the body does not fit.
    fn read(self, body: JsValue) -> Option<TokenSet> {
        let set = match self {
            Preset::Json => {
                let a: JsonAnswer = serde_wasm_bindgen::from_value(body).ok()?;
                TokenSet { access_token: a.access_token?, refresh_token: a.refresh_token, expires_in: a.expires_in, expires_at: a.expires_at }
            }
            Preset::SanicJwt | Preset::Oauth2 => {
                let a: SnakeAnswer = serde_wasm_bindgen::from_value(body).ok()?;
                TokenSet { access_token: a.access_token?, refresh_token: a.refresh_token, expires_in: a.expires_in, expires_at: None }
            }
            Preset::BearerPut => {
                let a: PutAnswer = serde_wasm_bindgen::from_value(body).ok()?;
                TokenSet { access_token: a.token?, refresh_token: None, expires_in: a.expires_in, expires_at: None }
            }
        };
        (!set.access_token.is_empty()).then_some(set)
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

/// One refresh call against `ep`, aborted after `timeout_ms`.
pub(crate) async fn call(ep: &Endpoint, ctx: RefreshContext, timeout_ms: u32) -> Result<TokenSet, Failure> {
    let window = web_sys::window().ok_or(TRANSIENT)?;
    let ctl = AbortController::new().map_err(|_| TRANSIENT)?;
    let req = request(ep, &ctx, &ctl.signal()).map_err(|_| TRANSIENT)?;
    // The deadline: aborting the fetch rejects it, a transient failure. Dropped (cancelled)
    // when the answer comes first.
    let abort = ctl.clone();
    let _deadline = Timeout::new(timeout_ms, move || abort.abort());
    let res: Response = JsFuture::from(window.fetch_with_request(&req)).await.map_err(|_| TRANSIENT)?.unchecked_into();
    match refresh_status(res.status()) {
        RefreshStatus::Rejected => Err(Failure::Rejected),
        RefreshStatus::Redirect => Err(TRANSIENT),
        RefreshStatus::Transient => Err(Failure::Transient { retry_after_ms: retry_after_ms(&res) }),
        RefreshStatus::Ok => {
            let body = JsFuture::from(res.json().map_err(|_| TRANSIENT)?).await.map_err(|_| TRANSIENT)?;
            ep.preset.read(body).ok_or(TRANSIENT)
        }
    }
}
