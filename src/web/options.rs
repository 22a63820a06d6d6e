//! The refresher's options: the same names and defaults as the npm package's
//! `createRefresher` (camelCase when they come from JS through [`Options::from_js`]).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};

use super::option_errors::{describe, wrong_field};
use super::Error;
use crate::refresher::RefreshContext;
use crate::session::{Failure, Grant};

/// Tokens from a login or a refresh.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenSet {
    /// The access token.
    pub access_token: String,
    /// The refresh token, if the server uses one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Expiry instant from the server, ms since epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<f64>,
    /// Expiry from the server, seconds after receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<f64>,
}

impl fmt::Debug for TokenSet {
    /// Never shows a token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_at", &self.expires_at)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl TokenSet {
    /// The tokens in a JSON answer shaped like the `json` preset's (`accessToken`,
    /// `refreshToken`, `expiresIn`, `expiresAt`), e.g. a login endpoint's.
    pub async fn from_response(res: &web_sys::Response) -> Result<TokenSet, Error> {
        let promise = res.json().map_err(Error::from_js)?;
        let body = wasm_bindgen_futures::JsFuture::from(promise).await.map_err(Error::from_js)?;
        serde_wasm_bindgen::from_value(body.clone()).map_err(|e| {
            // Named, never echoed: a refused string could be a token in the wrong field.
            let what = match wrong_field::<TokenSet>(&body, Some("accessToken")) {
                Some((field, message)) => describe(&field, &message),
                None => describe("the answer", &e.to_string()),
            };
            Error::Fetch(format!("the answer has no tokens: {what}"))
        })
    }
}

impl From<TokenSet> for Grant {
    fn from(t: TokenSet) -> Grant {
        Grant { access_token: t.access_token, refresh_token: t.refresh_token, expires_at_ms: t.expires_at, expires_in_s: t.expires_in }
    }
}

/// The server contracts of the built-in refresh (SPEC "Server contracts"): the engine's
/// (`json`, `sanic-jwt`, `bearer-put`, `oauth2`; what each sends and reads is
/// `engine::preset`'s and `engine::answer`'s).
pub use crate::engine::preset::Preset;

/// The built-in refresh over HTTP.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Endpoint {
    /// The refresh URL (relative URLs resolve against the document).
    pub url: String,
    /// `POST` or `PUT`; default the preset's.
    pub method: Option<String>,
    /// The server contract; default `json`.
    pub preset: Preset,
    /// `omit`, `same-origin` or `include` (cookies carry the session).
    pub credentials: Option<String>,
    /// Extra headers for the refresh call.
    pub headers: BTreeMap<String, String>,
    /// The app's own fields of the refresh call's body (JSON or form), in key order.
    pub params: BTreeMap<String, String>,
    /// `oauth2`: the `client_id` form field (a public client's id).
    pub client_id: Option<String>,
    /// `oauth2`: the `scope` form field.
    pub scope: Option<String>,
    /// `oauth2`: `resource` form fields (RFC 8707), one per entry.
    pub resource: Vec<String>,
    /// `oauth2`: the revocation endpoint (RFC 7009); `logout()` revokes the refresh token there.
    pub revoke_url: Option<String>,
}

/// Which storage keeps the session across reloads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StorageKind {
    /// Nothing survives a reload (the default).
    #[default]
    Memory,
    /// `window.localStorage`.
    LocalStorage,
    /// `window.sessionStorage`.
    SessionStorage,
}

type RefreshFuture = Pin<Box<dyn Future<Output = Result<TokenSet, Failure>>>>;
/// A custom refresh: an `async fn(RefreshContext) -> Result<TokenSet, Failure>`.
pub(crate) type CustomRefresh = Rc<dyn Fn(RefreshContext) -> RefreshFuture>;

/// The names [`Options::from_js`] takes (the npm package's, without its functions).
const OPTION_NAMES: &[&str] = &["tokens", "endpoint", "refreshAt", "retryStatuses", "endSessionStatuses", "origins", "storage", "storageKey",
    "crossTab", "loginUrl", "defaultLifetimeMs", "refreshTimeoutMs", "dpop"];
/// The names of `endpoint`.
const ENDPOINT_NAMES: &[&str] = &["url", "method", "preset", "credentials", "headers", "params", "clientId", "scope", "resource", "revokeUrl"];

/// An own key of the object `value` that is none of `known` (a typo), if any.
fn unknown_key(value: &JsValue, known: &[&str]) -> Option<String> {
    if !value.is_object() {
        return None;
    }
    let keys = js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>());
    keys.iter().filter_map(|k| k.as_string()).find(|k| !known.contains(&k.as_str()))
}

/// Options of [`super::Refresher::new`], named and defaulted as the npm package's.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Options {
    /// The initial session.
    pub tokens: Option<TokenSet>,
    /// The built-in refresh over HTTP (or set [`Options::refresh`]).
    pub endpoint: Option<Endpoint>,
    /// Fraction of the lifetime at which to refresh, in (0, 1); default 0.8.
    pub refresh_at: Option<f64>,
    /// Refreshed and replayed once; default `[401, 403]`.
    pub retry_statuses: Option<Vec<u16>>,
    /// A replay answered with one of these ends the session; default `[401]`.
    pub end_session_statuses: Option<Vec<u16>>,
    /// Origins that receive the token; default the page's own.
    pub origins: Option<Vec<String>>,
    /// Where the session survives a reload; default memory.
    pub storage: StorageKind,
    /// The storage key; default `freshtoken`.
    pub storage_key: Option<String>,
    /// Share refreshes, logout and expiry between the tabs with the same `storageKey`;
    /// default on with every storage but memory (`engine::config::cross_tab`: a tab of
    /// `localStorage` shares it, a duplicated tab copies `sessionStorage`); with memory
    /// (`cross_tab: Some(true)`) a tab asks the open ones for the session, never on disk.
    pub cross_tab: Option<bool>,
    /// Where to send the user when the session expires: an http(s) URL or a path, resolved
    /// once against the page (any other scheme, `javascript:` or `data:`, is refused).
    pub login_url: Option<String>,
    /// Lifetime of a token with no known expiry; default 24 h.
    pub default_lifetime_ms: Option<f64>,
    /// Abort a built-in refresh call after this long; default 15 s.
    pub refresh_timeout_ms: Option<f64>,
    /// DPoP (RFC 9449): tokens bound to a key kept in IndexedDB under `storageKey` (shared
    /// with an npm tab of the same key); every request with the token goes as
    /// `Authorization: DPoP` with a proof, the refresh call and the revocation carry one, and a
    /// `use_dpop_nonce` answer costs one retry. Sign the login's code exchange with
    /// [`super::Refresher::dpop_proof`]. Default off.
    pub dpop: bool,
    #[serde(skip)]
    pub(crate) refresh: Option<CustomRefresh>,
}

impl Options {
    /// Options from a JS object shaped like `createRefresher`'s (without `refresh` or
    /// `fetch`, which are functions). A wrong type or an unknown name (a typo) is an
    /// [`Error::Options`] naming the option (`endpoint.method`, `refreshAt`), never the value.
    pub fn from_js(value: JsValue) -> Result<Options, Error> {
        // serde_wasm_bindgen reads a struct's own fields by name and never sees another key.
        if let Some(key) = unknown_key(&value, OPTION_NAMES) {
            return Err(Error::Options(format!("unknown option `{key}`; known options: {}", OPTION_NAMES.join(", "))));
        }
        let endpoint = js_sys::Reflect::get(&value, &"endpoint".into()).unwrap_or(JsValue::UNDEFINED);
        if let Some(key) = unknown_key(&endpoint, ENDPOINT_NAMES) {
            return Err(Error::Options(format!("unknown endpoint option `{key}`; known: {}", ENDPOINT_NAMES.join(", "))));
        }
        serde_wasm_bindgen::from_value(value.clone()).map_err(|e| Error::Options(Options::named(&value, &e.to_string())))
    }

    /// Which option of `value` serde refused (`message`), said by name.
    fn named(value: &JsValue, message: &str) -> String {
        if !value.is_object() || js_sys::Array::is_array(value) {
            return "the options must be an object like { endpoint: { url: '/auth/refresh' } }".into();
        }
        let Some((key, message)) = wrong_field::<Options>(value, None) else { return describe("options", message) };
        let inner = js_sys::Reflect::get(value, &key.as_str().into()).unwrap_or(JsValue::UNDEFINED);
        let nested = match key.as_str() {
            "endpoint" => wrong_field::<Endpoint>(&inner, None),
            "tokens" => wrong_field::<TokenSet>(&inner, Some("accessToken")),
            _ => None,
        };
        match nested {
            Some((field, message)) => describe(&format!("{key}.{field}"), &message),
            None => describe(&key, &message),
        }
    }

    /// The built-in refresh against `url` with `preset`.
    pub fn endpoint(mut self, url: impl Into<String>, preset: Preset) -> Options {
        self.endpoint = Some(Endpoint { url: url.into(), preset, ..Endpoint::default() });
        self
    }

    /// A custom refresh, e.g. `|ctx| async move { ... Ok(TokenSet { .. }) }`. Answer
    /// [`Failure::Rejected`] when the server refuses the session and
    /// [`Failure::Transient`] for anything that may pass. Make its HTTP call with plain
    /// `fetch`, not the refresher's (which would wait for this very refresh).
    pub fn refresh<F, Fut>(mut self, f: F) -> Options
    where
        F: Fn(RefreshContext) -> Fut + 'static,
        Fut: Future<Output = Result<TokenSet, Failure>> + 'static,
    {
        self.refresh = Some(Rc::new(move |ctx| Box::pin(f(ctx))));
        self
    }

    /// Where the session survives a reload.
    pub fn storage(mut self, kind: StorageKind) -> Options {
        self.storage = kind;
        self
    }

    /// The origins that receive the token.
    pub fn origins<S: Into<String>>(mut self, origins: impl IntoIterator<Item = S>) -> Options {
        self.origins = Some(origins.into_iter().map(Into::into).collect());
        self
    }
}
