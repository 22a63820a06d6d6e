//! `fetch` with the token (SPEC behaviour 5 and 6): attached only for allowed origins, a
//! 401/403 answered by that origin refreshed (shared) and replayed once with the body
//! intact; every decision is the engine's ([`crate::engine`]), this only sends.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, Response};

use super::origins::{answered_by, href_of, origin_of};
use super::{Error, Refresher};
use crate::engine::dpop::asks_for_nonce;
use crate::refresher::Decision;

/// Sends `request` with plain `fetch`: no token, no replay (a login call, another API).
pub async fn send(request: &Request) -> Result<Response, Error> {
    let window = web_sys::window().ok_or_else(|| Error::Fetch("no window".into()))?;
    let res = JsFuture::from(window.fetch_with_request(request)).await.map_err(Error::from_js)?;
    Ok(res.unchecked_into())
}

/// The body of `res` as text.
pub async fn text(res: &Response) -> Result<String, Error> {
    let value = JsFuture::from(res.text().map_err(Error::from_js)?).await.map_err(Error::from_js)?;
    Ok(value.as_string().unwrap_or_default())
}

/// Whether the request already carries an Authorization of its own (not a Bearer token).
fn own_credentials(request: &Request) -> bool {
    let value = request.headers().get("authorization").ok().flatten();
    value.is_some_and(|v| !crate::token::has_bearer_prefix(v.as_bytes()))
}

/// Per-request options of [`Refresher::fetch_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FetchOptions {
    /// Attach the token but do not refresh-and-replay on 401/403 (the npm package's
    /// `skipAuthRefresh`): the answer is returned as it is.
    pub skip_auth_refresh: bool,
}

impl Refresher {
    /// Sends `request` (left untouched: copies are sent) with `Authorization: Bearer <token>`
    /// when its origin is allowed; waits for a refresh in flight rather than send a stale
    /// token. A 401/403 from that origin to a request that carried the token is refreshed
    /// and replayed once, body intact; if the replay is refused with an end-session status
    /// (default 401) the session expires (told once) and that answer is returned; any other
    /// refusal (a 403) is returned with a `forbidden` event and the session kept. A request
    /// to any other origin goes out as it is. Every one of these decisions is the engine's
    /// ([`crate::engine`]); this sends what it decides.
    pub async fn fetch(&self, request: &Request) -> Result<Response, Error> {
        self.fetch_with(request, FetchOptions::default()).await
    }

    /// [`Refresher::fetch`] with per-request options.
    ///
    /// With `dpop` the token goes as `Authorization: DPoP <token>` with a `DPoP` proof (one
    /// per send, `ath` = SHA-256 of the token); a resource server's 401 with
    /// `WWW-Authenticate: DPoP error="use_dpop_nonce"` costs one more send with its nonce
    /// (neither the replay nor a session end), and a second demand is handed back as it is.
    pub async fn fetch_with(&self, request: &Request, options: FetchOptions) -> Result<Response, Error> {
        let origin = origin_of(&request.url());
        let req = crate::engine::Request {
            origin: origin.clone(),
            own_credentials: own_credentials(request),
            // A request the refresh call makes, or one to the refresh endpoint, is the
            // refresh's own: a refresh never waits for itself (as the npm face decides).
            refresh_traffic: self.core.in_refresh() || self.is_refresh_endpoint(&request.url()),
            skip_replay: options.skip_auth_refresh,
        };
        let (id, decision) = self.core.request(&req).await;
        let token = match decision? {
            Decision::Send { token, .. } => token,
            Decision::Untouched | Decision::Return => return send(request).await.inspect(|res| self.note_date(res, origin.as_deref())),
        };
        let origin = origin.unwrap_or_default();
        let mut token = token;
        loop {
            let res = self.attempt(id, request, &token, &origin).await?;
            let by = answered_by(&res.url(), &origin);
            // With DPoP: a nonce demand from the origin is the engine's to grant (once per
            // request, neither a replay nor a session end) or to hand back.
            let nonce_asked = by && self.shared.dpop.as_ref().is_some_and(|d| {
                d.note_nonce(&origin, &res);
                let www = res.headers().get("www-authenticate").ok().flatten();
                asks_for_nonce(res.status(), www.as_deref(), None)
            });
            let next = if nonce_asked { self.core.nonce_demanded(id).await } else { self.core.answered(id, res.status(), by).await };
            match next? {
                Decision::Send { token: next, .. } => {
                    if let Some(body) = res.body() {
                        let _ = body.cancel();
                    }
                    token = next;
                }
                // After the replay the engine has ended the session or told `forbidden` as the
                // rules say; the answer is the caller's.
                Decision::Untouched | Decision::Return => return Ok(res),
            }
        }
    }

    /// Sends a copy of `request` with `token` (and, with DPoP, a proof). A send that failed
    /// is forgotten by the engine.
    async fn attempt(&self, id: crate::engine::RequestId, request: &Request, token: &str, origin: &str) -> Result<Response, Error> {
        let out = self.attempt_inner(request, token, origin).await;
        if out.is_err() {
            self.core.forget(id);
        }
        out
    }

    async fn attempt_inner(&self, request: &Request, token: &str, origin: &str) -> Result<Response, Error> {
        let copy = request.clone().map_err(Error::from_js)?;
        match &self.shared.dpop {
            Some(d) => {
                let proof = d.proof(&request.method(), &request.url(), Some(token), None, None).await?;
                copy.headers().set("authorization", &format!("DPoP {token}")).map_err(Error::from_js)?;
                copy.headers().set("dpop", &proof).map_err(Error::from_js)?;
            }
            None => copy.headers().set("authorization", &format!("Bearer {token}")).map_err(Error::from_js)?,
        }
        let res = send(&copy).await?;
        self.note_date(&res, Some(origin));
        Ok(res)
    }

    /// Whether `url` is the refresh endpoint (both resolved as fetch resolves them now).
    fn is_refresh_endpoint(&self, url: &str) -> bool {
        let Some(endpoint) = self.shared.endpoint_url.as_deref().and_then(href_of) else { return false };
        href_of(url).is_some_and(|u| u == endpoint)
    }

    /// The answer's `Date` header, for the server's clock: the engine notes it only for this
    /// refresher's own origins (`sent_to`, or where a redirect ended).
    fn note_date(&self, res: &Response, sent_to: Option<&str>) {
        let Some(date) = res.headers().get("date").ok().flatten() else { return };
        let url = res.url();
        let from = if url.is_empty() { sent_to.map(str::to_owned) } else { origin_of(&url) };
        if let Some(from) = from {
            self.core.note_date(&from, &date);
        }
    }

    /// [`Refresher::fetch`] of a `GET` to `url`.
    pub async fn get(&self, url: &str) -> Result<Response, Error> {
        let request = Request::new_with_str(url).map_err(Error::from_js)?;
        self.fetch(&request).await
    }
}
