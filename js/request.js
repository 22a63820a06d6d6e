// The fetch driver of the 401/403 retry (SPEC behaviour 5). The rules are the engine's
// (src/engine/: which request gets the token, waits, is replayed once, ends the session);
// here are the facts it needs, found as the browser sees them (the URL a request goes to,
// its headers, whether it is a refresh's own traffic, which origin answered), and the
// sends: the token attached, the body kept intact for the one replay.
import { answerOrigin, requestHref, requestOrigin, requestURL, urlOfRequest } from './origins.js';

const BEARER = /^bearer\s/i;

// --- the refresh's own traffic --------------------------------------------------------
// A refresh must never wait for itself (SPEC behaviour 5): a request that belongs to a
// refresh goes out untouched and is never held, whichever interceptor, wrapper or
// adapter it passes through. Shared by every refresher in the page, so two refreshers'
// interceptors cannot hold each other's refreshes either.

/** Refresh endpoints of the live refreshers (absolute URLs without the fragment). */
export const endpoints = new Map();
/** Refreshes in flight: their context ({ accessToken, refreshToken }). */
export const flights = new Set();
let zone = 0;

/** Runs `f()` with every request it makes synchronously marked as refresh traffic. */
export function inRefresh(f) {
  zone++;
  try { return f(); } finally { zone--; }
}

function carries(value, secret) {
  // An empty secret matches nothing (every string "includes" '').
  if (value == null || !secret) return false;
  if (typeof value === 'string') return value.includes(secret);
  if (typeof value !== 'object') return false;
  if (typeof value.forEach === 'function' && (value instanceof URLSearchParams
      || (typeof FormData !== 'undefined' && value instanceof FormData)
      || (typeof Headers !== 'undefined' && value instanceof Headers))) {
    let hit = false;
    value.forEach((v) => { if (typeof v === 'string' && v.includes(secret)) hit = true; });
    return hit;
  }
  if (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype) {
    for (const k in value) if (carries(value[k], secret)) return true;
  }
  return false;
}

/**
 * Whether a request is a refresh's own: it goes to a refresh endpoint, is made
 * synchronously by a refresh call, or (while a refresh runs) carries that refresh's
 * refresh token in its body or headers, or its access token in the caller's own
 * Authorization header. `body` and `headers` are the request's (fetch init or axios config).
 */
export function isRefreshTraffic(url, body, headers) {
  if (zone > 0) return true;
  if (url && endpoints.size > 0 && endpoints.has(requestHref(url))) return true;
  for (const ctx of flights) {
    if (carries(body, ctx.refreshToken) || carries(headers, ctx.refreshToken)) return true;
    if (ctx.accessToken && carries(headers, `Bearer ${ctx.accessToken}`)) return true;
  }
  return false;
}

// --- requests ---------------------------------------------------------------------------

// The names freshtoken sets itself (and one a record cannot hold): a caller's record holding
// one goes the Headers way.
const OURS = /^(authorization|dpop|__proto__)$/i;

/**
 * The request's headers, to send with the token: a plain record when the caller gave none
 * or a plain record of strings without an Authorization or DPoP header (the common case),
 * else a Headers object. Chromium's fetch reads a record faster than a Headers object
 * (about 0.05 ms a request on loopback, `npm run bench`), so a record stays one.
 */
function headersOf(input, init) {
  const given = init ? init.headers : undefined;
  if (given === undefined) {
    return typeof Request !== 'undefined' && input instanceof Request ? new Headers(input.headers) : {};
  }
  if (typeof given === 'object' && given !== null && !Array.isArray(given) && !(typeof Headers !== 'undefined' && given instanceof Headers)) {
    const proto = Object.getPrototypeOf(given);
    // Symbol keys: fetch refuses them (a TypeError), which the Headers way keeps.
    if ((proto === Object.prototype || proto === null) && Object.getOwnPropertySymbols(given).length === 0) {
      const record = {};
      let plain = true;
      for (const k of Object.keys(given)) {
        const v = given[k];
        if (typeof v !== 'string' || OURS.test(k)) { plain = false; break; }
        record[k] = v;
      }
      if (plain) return record;
    }
  }
  return new Headers(given);
}

/** A header of `headers` (a record from headersOf, or a Headers object) set or read. */
const setHeader = (headers, name, value) => (headers instanceof Headers ? headers.set(name, value) : (headers[name] = value));
const authorizationOf = (headers) => (headers instanceof Headers ? headers.get('authorization') : null);

/**
 * `n` sends' worth of the same request (the first, the 401 replay, and with DPoP one nonce
 * retry). Bodies that can be read only once (a Request's body, a ReadableStream) are cloned
 * or teed before the first send; the others are reusable as is.
 */
function replayable(input, init, n) {
  // `init.body` undefined or null leaves the Request's own body in use (fetch spec).
  const request = typeof Request !== 'undefined' && input instanceof Request && input.body !== null && (init == null || init.body == null);
  let stream = init && typeof ReadableStream !== 'undefined' && init.body instanceof ReadableStream ? init.body : null;
  const out = [];
  for (let i = 0; i < n; i++) {
    let body = init;
    if (stream && i < n - 1) {
      const [a, b] = stream.tee();
      body = { ...init, body: a };
      stream = b;
    } else if (stream) {
      body = { ...init, body: stream };
    }
    out.push([request && i > 0 ? input.clone() : input, body]);
  }
  return out;
}

// A request freshtoken already handles passes every other freshtoken layer untouched
// (refresher.fetch under an interceptor, with a fetch wrapper between them): known by
// its headers object, or by being sent synchronously from here. A response that was
// already replayed is never replayed again by an outer layer. (SPEC behaviour 5: the
// replay happens exactly once, whatever the stack of wrappers.)
const ours = new WeakSet();
const replayed = new WeakSet();
let sending = 0;

function send(fetchFn, [input, init], headers, token, proof) {
  // With DPoP (RFC 9449) the token goes with its scheme and the request's proof.
  setHeader(headers, 'authorization', `${proof ? 'DPoP' : 'Bearer'} ${token}`);
  if (proof) setHeader(headers, 'dpop', proof);
  ours.add(headers);
  sending++;
  try {
    return fetchFn.call(globalThis, input, { ...init, headers });
  } finally {
    sending--;
  }
}

/** Whether a request is already in freshtoken's hands (see `send`). */
export const handled = (init) => sending > 0 || (init != null && ours.has(init.headers));

/** Tells whether a response (or the Request an adapter sent, e.g. axios's fetch adapter) was already replayed. */
export const wasReplayed = (res) => res != null && typeof res === 'object' && replayed.has(res);

/** Whether a response came from the origin the token was sent to (no cross-origin redirect). */
export function answeredBy(res, origin) {
  return !res.url || answerOrigin(res.url) === origin;
}

/**
 * `refresher.fetch`. `r` is the Refresher; `fetchFn` the fetch underneath. The engine
 * decides (src/engine/): whether the request gets the token (its origin, as the browser
 * will send it, allowed; not the caller's own credentials; not the refresh call's own
 * traffic), whether it waits for a refresh first, and after the answer whether it is
 * handed back or replayed once. This function only finds those facts and sends.
 * `init.skipAuthRefresh: true` opts one request out of the refresh-and-replay.
 * @returns {Promise<Response>}
 */
export async function authorizedFetch(r, fetchFn, input, init) {
  if (handled(init)) return fetchFn.call(globalThis, input, init);
  const url = requestURL(input);
  const origin = requestOrigin(url);
  const headers = headersOf(input, init);
  const own = authorizationOf(headers); // a record from headersOf holds none
  const flags = (own !== null && !BEARER.test(own) ? 1 : 0)
    | (isRefreshTraffic(url, init && init.body, headers) ? 2 : 0)
    | (init && init.skipAuthRefresh === true ? 4 : 0);
  const signal = (init && init.signal) || (input instanceof Request ? input.signal : undefined);
  const go = await r._request(origin, flags, signal);
  if (go.token === null) {
    // Untouched; its Date still tells this refresher's server clock (the engine keeps its own origins').
    const res = await fetchFn.call(globalThis, input, init);
    if (answeredBy(res, origin)) r._date(origin, res);
    return res;
  }
  // The token goes to the URL the engine allowed, not to what the input says again: a
  // string is sent as the absolute URL found before the wait (a <base href> injected
  // meanwhile, or a stringifier that answers differently the second time, cannot move it);
  // a Request keeps its own, fixed URL.
  const given = input;
  if (urlOfRequest(input) === null) input = url.href;
  // With DPoP: a proof per send, and one send more for a resource server's nonce demand
  // (which the engine grants once per request: neither a replay nor a session end).
  const sends = replayable(input, init, r._dpop ? 3 : 2);
  const method = (init && init.method) || (input instanceof Request ? input.method : 'GET');
  let token = go.token;
  let replay = false;
  for (;;) {
    const proof = r._dpop ? await sent(r, go.id, r._proof(method, url.href, token)) : null;
    const res = await sent(r, go.id, send(fetchFn, sends.shift(), headers, token, proof));
    const by = answeredBy(res, origin);
    if (by) {
      r._date(origin, res);
      r._nonce(origin, res);
    }
    // An inner layer (a fetch adapter under an interceptor) replayed it already: once is all.
    if (!replay && wasReplayed(res)) {
      r._forget(go.id);
      return res;
    }
    const nonceAsked = by && !!r._dpop && r._dpopRetry(res.status, res.headers.get('www-authenticate'));
    let next;
    try {
      next = await (nonceAsked ? r._nonceDemanded(go.id) : r._answered(go.id, res.status, by, replay ? undefined : signal));
    } catch (err) {
      res.body?.cancel().catch(() => {});
      throw err; // the refresh failed transiently: a clear error, the session is kept
    }
    if (next === null) {
      if (replay) {
        replayed.add(res);
        if (typeof given === 'object' && given !== null) replayed.add(given);
      }
      return res;
    }
    res.body?.cancel().catch(() => {});
    token = next.token;
    replay ||= next.replay;
  }
}

/** The answer of a request the engine holds as `id`; a send that failed is forgotten there. */
async function sent(r, id, p) {
  try {
    return await p;
  } catch (err) {
    r._forget(id);
    throw err;
  }
}
