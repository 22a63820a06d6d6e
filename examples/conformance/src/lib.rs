//! A thin JS handle over `freshtoken::web::Refresher`, for the third runner of the conformance
//! table (tests/rust-apps/web-conformance.test.mjs plays tests/scenarios/engine.json through
//! it in headless Chromium). Every method is one call of the Rust face's public API; nothing
//! here decides anything. What it adds is only the crossing to JS:
//!
//! - the Rust face's typed errors as `{name, code, status, late, message}` in the table's
//!   terms (`TokenError::Expired` is `SessionError session-expired`, `Transient` is
//!   `RefreshError <code>`, `Disposed` is `FreshtokenError disposed`, ...);
//! - its events as `{name, code, reason, status, retryIn}`;
//! - a custom refresh `async fn` that calls a JS function (the table's `refresh: 'custom'`);
//! - cancelling a `fetch` by dropping its future (how a Rust caller cancels).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use freshtoken::refresher::TokenError;
use freshtoken::web::{Error, Event, FetchOptions, Failure, Options, Refresher, Subscription, TokenSet};
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &key.into(), &value.into());
}

/// A Rust-face error in the table's terms.
fn error_js(e: &Error) -> JsValue {
    let obj = Object::new();
    let (name, code) = match e {
        Error::Token(TokenError::NoSession) => ("SessionError", "no-session".to_owned()),
        Error::Token(TokenError::Expired) => ("SessionError", "session-expired".to_owned()),
        Error::Token(TokenError::LoggedOut) => ("SessionError", "logged-out".to_owned()),
        Error::Token(TokenError::Disposed) => ("FreshtokenError", "disposed".to_owned()),
        Error::Token(TokenError::Transient { code, status, late, .. }) => {
            if let Some(s) = status {
                set(&obj, "status", *s);
            }
            set(&obj, "late", *late);
            ("RefreshError", code.clone())
        }
        Error::Fetch(_) => ("FetchError", "fetch".to_owned()),
        Error::Options(_) => ("OptionsError", "options".to_owned()),
        _ => ("Error", e.code().to_owned()),
    };
    set(&obj, "name", name);
    set(&obj, "code", code);
    set(&obj, "message", e.to_string());
    obj.into()
}

fn event_js(e: &Event) -> JsValue {
    let obj = Object::new();
    set(&obj, "name", e.name());
    match e {
        Event::RefreshFailed { retry_in_ms, code } => {
            set(&obj, "retryIn", *retry_in_ms);
            set(&obj, "code", code.as_str());
        }
        Event::SessionExpired { reason } => set(&obj, "reason", *reason),
        Event::Forbidden { status } => set(&obj, "status", *status),
        _ => {}
    }
    obj.into()
}

/// A cancel switch for one future: dropping the future is how a Rust caller cancels.
#[derive(Default)]
struct Switch {
    off: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

struct Cancellable<F> {
    switch: Rc<Switch>,
    inner: Option<Pin<Box<F>>>,
}

impl<F: Future<Output = Result<JsValue, JsValue>>> Future for Cancellable<F> {
    type Output = Result<JsValue, JsValue>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.switch.off.get() {
            self.inner = None; // dropped: the engine forgets the request
            let obj = Object::new();
            set(&obj, "name", "AbortError");
            set(&obj, "code", "cancelled");
            return Poll::Ready(Err(obj.into()));
        }
        *self.switch.waker.borrow_mut() = Some(cx.waker().clone());
        match self.inner.as_mut() {
            Some(f) => f.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}

/// One `web::Refresher` and what the runner needs around it.
#[wasm_bindgen]
pub struct Face {
    r: Refresher,
    switches: RefCell<HashMap<String, Rc<Switch>>>,
    _events: Subscription,
}

#[wasm_bindgen]
impl Face {
    /// `Refresher::new(Options::from_js(options))`, with `custom` (a JS function taking
    /// `{accessToken, refreshToken}` and returning a Promise of a token set; a rejection with
    /// `sessionExpired: true` is `Failure::Rejected`, any other `Failure::Transient`) as the
    /// refresh when given. `on_event` gets every event. Refused options throw
    /// `{name: 'OptionsError', message}`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, custom: Option<Function>, on_event: Function) -> Result<Face, JsValue> {
        let mut opts = Options::from_js(options).map_err(|e| error_js(&e))?;
        if let Some(f) = custom {
            opts = opts.refresh(move |ctx| {
                let arg = Object::new();
                if let Some(a) = &ctx.access_token {
                    set(&arg, "accessToken", a.as_str());
                }
                if let Some(r) = &ctx.refresh_token {
                    set(&arg, "refreshToken", r.as_str());
                }
                let called = f.call1(&JsValue::NULL, &arg);
                async move {
                    let promise: Promise = called.map_err(|_| Failure::Transient { retry_after_ms: None })?.unchecked_into();
                    match JsFuture::from(promise).await {
                        Ok(v) => serde_wasm_bindgen::from_value::<TokenSet>(v).map_err(|_| Failure::Transient { retry_after_ms: None }),
                        Err(e) => {
                            let expired = Reflect::get(&e, &"sessionExpired".into()).ok().and_then(|v| v.as_bool()) == Some(true);
                            Err(if expired { Failure::Rejected } else { Failure::Transient { retry_after_ms: None } })
                        }
                    }
                }
            });
        }
        let r = Refresher::new(opts).map_err(|e| error_js(&e))?;
        let events = r.on(move |e| {
            let _ = on_event.call1(&JsValue::NULL, &event_js(e));
        });
        Ok(Face { r, switches: RefCell::default(), _events: events })
    }

    /// `try_set_tokens`; throws the error when the tokens are refused.
    #[wasm_bindgen(js_name = setTokens)]
    pub fn set_tokens(&self, tokens: JsValue) -> Result<(), JsValue> {
        let tokens: TokenSet = serde_wasm_bindgen::from_value(tokens).map_err(|e| JsValue::from_str(&e.to_string()))?;
        self.r.try_set_tokens(tokens).map_err(|e| error_js(&e))
    }

    /// `fetch_with(request, FetchOptions { skip_auth_refresh })`: resolves with the Response,
    /// rejects with the error; `cancel(id)` drops it.
    pub fn fetch(&self, id: String, request: web_sys::Request, skip_auth_refresh: bool) -> Promise {
        let switch = Rc::new(Switch::default());
        self.switches.borrow_mut().insert(id, switch.clone());
        let r = self.r.clone();
        let work = async move {
            match r.fetch_with(&request, FetchOptions { skip_auth_refresh }).await {
                Ok(res) => Ok(JsValue::from(res)),
                Err(e) => Err(error_js(&e)),
            }
        };
        future_to_promise(Cancellable { switch, inner: Some(Box::pin(work)) })
    }

    /// Drops the future of `fetch` `id` (its promise rejects with code `cancelled`).
    pub fn cancel(&self, id: &str) {
        if let Some(s) = self.switches.borrow_mut().remove(id) {
            s.off.set(true);
            if let Some(w) = s.waker.borrow_mut().take() {
                w.wake();
            }
        }
    }

    /// `access_token().await`.
    #[wasm_bindgen(js_name = getAccessToken)]
    pub fn get_access_token(&self) -> Promise {
        let r = self.r.clone();
        future_to_promise(async move { r.access_token().await.map(JsValue::from).map_err(|e| error_js(&e)) })
    }

    /// `refresh().await`.
    pub fn refresh(&self) -> Promise {
        let r = self.r.clone();
        future_to_promise(async move { r.refresh().await.map(JsValue::from).map_err(|e| error_js(&e)) })
    }

    /// `core().token_after_rejection(used)`: the token to give a client (PubNub) whose
    /// access was denied with `used`.
    #[wasm_bindgen(js_name = tokenAfterRejection)]
    pub fn token_after_rejection(&self, used: String) -> Promise {
        let r = self.r.clone();
        future_to_promise(async move {
            r.core().token_after_rejection(&used).await.map(JsValue::from).map_err(|e| error_js(&Error::Token(e)))
        })
    }

    pub fn logout(&self) {
        self.r.logout();
    }

    pub fn dispose(&self) {
        self.r.dispose();
    }

    /// `state().as_str()`: `idle`, `fresh`, `refreshing`, `expired`, `logged-out`.
    pub fn state(&self) -> String {
        self.r.state().as_str().to_owned()
    }

    #[wasm_bindgen(js_name = currentToken)]
    pub fn current_token(&self) -> Option<String> {
        self.r.current_token()
    }

    #[wasm_bindgen(js_name = expiresAt)]
    pub fn expires_at(&self) -> Option<f64> {
        self.r.expires_at()
    }

    #[wasm_bindgen(js_name = nextRefreshAt)]
    pub fn next_refresh_at(&self) -> Option<f64> {
        self.r.next_refresh_at()
    }

    /// The session clock: the scale of `expiresAt` and `nextRefreshAt`.
    pub fn now(&self) -> f64 {
        self.r.now()
    }

    /// `dpop_proof(method, url, nonce).await` (options `dpop: true`): a proof for the app's
    /// own call, e.g. the login's code exchange (tests/rust-apps/oidc-dpop-web.test.mjs).
    #[wasm_bindgen(js_name = dpopProof)]
    pub fn dpop_proof(&self, method: String, url: String, nonce: Option<String>) -> Promise {
        let r = self.r.clone();
        future_to_promise(async move { r.dpop_proof(&method, &url, nonce.as_deref()).await.map(JsValue::from).map_err(|e| error_js(&e)) })
    }

    /// `token_response()`: the last refresh answer's other fields, or null.
    #[wasm_bindgen(js_name = tokenResponse)]
    pub fn token_response(&self) -> JsValue {
        self.r.token_response().unwrap_or(JsValue::NULL)
    }
}
