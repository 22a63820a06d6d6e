//! `fetch` with the token (SPEC behaviour 5 and 6): attached only for allowed origins, a
//! 401/403 answered by that origin refreshed (shared) and replayed once with the body
//! intact; the decisions are the core's ([`crate::replay`]).

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, Response};

use super::origins::{answered_by, origin_of};
use super::{Error, Refresher};
use crate::refresher::{Event, TokenError};
use crate::replay::{after_first, after_replay, Again, First, Replayed};

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

fn authorized(request: &Request, token: &str) -> Result<Request, Error> {
    let copy = request.clone().map_err(Error::from_js)?;
    copy.headers().set("authorization", &format!("Bearer {token}")).map_err(Error::from_js)?;
    Ok(copy)
}

/// Whether the request already carries an Authorization of its own (not a Bearer token).
fn own_credentials(request: &Request) -> bool {
    let value = request.headers().get("authorization").ok().flatten();
    value.is_some_and(|v| !crate::token::has_bearer_prefix(v.as_bytes()))
}

impl Refresher {
    /// Sends `request` (left untouched: copies are sent) with `Authorization: Bearer <token>`
    /// when its origin is allowed; waits for a refresh in flight rather than send a stale
    /// token. A 401/403 from that origin to a request that carried the token is refreshed
    /// and replayed once, body intact; if the replay is refused with an end-session status
    /// (default 401) the session expires (told once) and that answer is returned; any other
    /// refusal (a 403) is returned with a `forbidden` event and the session kept. A request
    /// to any other origin goes out as it is.
    pub async fn fetch(&self, request: &Request) -> Result<Response, Error> {
        let allowed = origin_of(&request.url()).filter(|o| self.core.allows(o));
        let Some(origin) = allowed.filter(|_| !own_credentials(request)) else {
            return send(request).await;
        };
        let token = match self.core.access_token().await {
            Ok(token) => token,
            Err(e @ TokenError::Transient { .. }) => return Err(e.into()),
            Err(_) => return send(request).await,
        };
        let spare = request.clone().map_err(Error::from_js)?;
        let res = send(&authorized(request, &token)?).await?;
        let first = First {
            status: res.status(),
            carried_token: true,
            answered_by_origin: answered_by(&res.url(), &origin),
            opted_out: false,
        };
        if !after_first(&self.shared.rules, &first) {
            return Ok(res);
        }
        let next = match self.core.token_after_rejection(&token).await {
            Ok(next) => next,
            Err(e @ TokenError::Transient { .. }) => return Err(e.into()),
            Err(_) => return Ok(res), // the session ended while refreshing: nothing to replay with
        };
        if let Some(body) = res.body() {
            let _ = body.cancel();
        }
        let again = send(&authorized(&spare, &next)?).await?;
        let answer = Again {
            status: again.status(),
            answered_by_origin: answered_by(&again.url(), &origin),
            token_current: self.core.current_token().as_deref() == Some(next.as_str()),
        };
        match after_replay(&self.shared.rules, &answer) {
            Replayed::EndSession => self.core.expire("request-rejected"),
            Replayed::Forbidden => self.core.emit(&Event::Forbidden { status: answer.status }),
            Replayed::Return => {}
        }
        Ok(again)
    }

    /// [`Refresher::fetch`] of a `GET` to `url`.
    pub async fn get(&self, url: &str) -> Result<Response, Error> {
        let request = Request::new_with_str(url).map_err(Error::from_js)?;
        self.fetch(&request).await
    }
}
