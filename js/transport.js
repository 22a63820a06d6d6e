// How a refresh reaches the server: the four built-in endpoint presets of SPEC
// ("Server contracts"), or the app's own `refresh` function. The engine decides where the
// call may go, what it sends (method, headers, body), how its answer is read (which field
// is a token, what is taken, what is a problem) and what its status means; this sends the
// call, hands the engine the answer's text, and describes a failure (code, status,
// Retry-After, a rotated refresh token, the OAuth error) for the engine to judge.
import { makeError } from './errors.js';
import { inRefresh } from './request.js';
import { requestURL } from './origins.js';
import { presetRule as presetRuleRaw } from './wasm.js';
import { writeTokens } from './buffer.js';

/** The presets as the engine numbers them (src/engine/preset.rs `Preset::ALL`). */
export const PRESETS = { json: 0, 'sanic-jwt': 1, 'bearer-put': 2, oauth2: 3 };

/**
 * The presets' rules are the engine's (src/engine/preset.rs, answer.rs, oauth_error.rs;
 * src/wasm/preset.rs): `what` and the facts in, JSON out. 0-3 a preset's answer, 4 the app's
 * function's result, 5 an OAuth error answer (each: `members` of what JSON.parse read),
 * 6-9 a preset's refresh request, 10 the revocation request (each: `inputs`). The answer is
 * an object with no prototype: a field the engine did not give (a polluted
 * Object.prototype.refreshToken or .oauthError) is absent.
 */
export const presetRule = (what, facts) => Object.assign(Object.create(null),
  // An answer (0-5) is copied into wasm memory up to the engine's MAX_ANSWER_LEN (1 MiB,
  // src/engine/answer.rs): a longer one is not read there, and never grows the memory.
  JSON.parse(presetRuleRaw(what, ...writeTokens([facts], what <= 5 ? 1 << 20 : Infinity))));

/**
 * An answer's top-level members as the engine takes them (src/wasm/preset.rs): each as
 * `<kind><key>=<value>` in URLSearchParams text (kind s a string, n a number, o anything
 * else; null left out), '!' for an array, null for anything that is no JSON object or array.
 */
function members(value, tokens = []) {
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) return '!';
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(value)) {
    if (v == null) continue;
    const kind = typeof v === 'string' ? 's' : typeof v === 'number' ? 'n' : 'o';
    out.append(kind + k, kind === 'o' ? '' : String(v));
  }
  // An OAuth error answer's: the tokens its words may not repeat (the engine withholds them).
  for (const t of tokens) if (t) out.append('T', t);
  return out.toString();
}

/** What JSON.parse reads of a body: its value, or null (no JSON). */
function parsed(text) {
  try { return JSON.parse(text); } catch { return null; }
}

/**
 * A request's inputs for the engine (src/wasm/preset.rs): one-letter fields (a, r, m, c, s, t),
 * each `resource` as R, each param as p<name>.
 */
export function inputs(fields, params = {}, resource = []) {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (typeof v === 'string') out.append(k, v);
  for (const r of [].concat(resource)) out.append('R', r);
  for (const [k, v] of Object.entries(params)) out.append(`p${k}`, v);
  return out.toString();
}

/**
 * The rotated refresh token an unusable answer brought, by the error it failed with: kept
 * beside the error, never on it, so a caller, a log or an error reporter that gets the
 * error never gets the token.
 */
export const rotatedTokens = new WeakMap();

/** A refresh failure. `rejected` true means the session is over. */
export function refreshError(code, message, props) {
  return makeError('RefreshError', code, message, { rejected: false, ...props });
}

/**
 * A token set as the engine read it (`t`), with `tokenResponse` (`given`, else the
 * answer's other fields: id_token, scope, token_type, ..., without the fields the engine
 * names as tokens). An unusable answer throws a transient bad-response whose rotated
 * refresh token, if it brought one, is in `rotatedTokens` (the session then keeps it).
 */
function taken({ tokens, message, ...fields }, body, given) {
  // Own fields only (no prototype): a polluted Object.prototype.refreshToken is no rotated refresh token.
  const t = Object.assign(Object.create(null), fields);
  if (message) {
    const err = refreshError('bad-response', message);
    if (typeof t.refreshToken === 'string') rotatedTokens.set(err, t.refreshToken);
    throw err;
  }
  t.tokenResponse = given ?? Object.fromEntries(Object.entries(body).filter(([k]) => !tokens.includes(k)));
  return t;
}

/**
 * Checks the app's `refresh` function's result as the engine checks an answer: its own
 * members, as for an answer JSON.parse read (NaN and Infinity are numbers the engine
 * refuses, a BigInt is neither a string nor a number).
 */
function checkTokenSet(t) {
  let facts = null;
  try {
    facts = members(t);
  } catch { /* a hostile object (a throwing getter or Proxy): not a token set */ }
  return taken(presetRule(4, facts), t, t?.tokenResponse);
}

/**
 * Runs `work(signal)` until `outer` aborts: the engine aborts it (logout, new tokens,
 * dispose, or no answer within `refreshTimeoutMs`), whatever `work` does meanwhile.
 */
function untilAborted(work, outer) {
  let abortFromOuter;
  const aborted = new Promise((_, reject) => {
    abortFromOuter = () => reject(outer.reason);
    if (outer.aborted) abortFromOuter();
    else outer.addEventListener('abort', abortFromOuter, { once: true });
  });
  // `then` turns a synchronous throw of `work` into a rejection.
  return Promise.race([Promise.resolve().then(() => work(outer)), aborted]).finally(() => {
    outer.removeEventListener('abort', abortFromOuter);
  });
}

/**
 * Builds the refresh call for the options: `(ctx, signal) => Promise<TokenSet>`,
 * throwing RefreshError (transient, or `rejected: true`). `engine` answers what the call
 * may not decide itself: `allowsRefresh(origin)`, `noteDate(origin, res)`, `retryAfter(value)`, `statusClass(status)`,
 * and with DPoP `proof(method, url)`, `nonce(origin, res)`, `dpopRetry(status, www, oauthError)`,
 * `refreshNonce()` (whether the call in flight sends once more with the nonce).
 */
export function makeTransport(opts, getFetch, engine) {
  if (opts.refresh) {
    const fn = opts.refresh;
    const refreshFetch = (input, init) => inRefresh(() => getFetch().call(globalThis, input, init));
    const call = async (ctx, outer) => {
      let out;
      try {
        // `ctx.fetch` is a fetch no freshtoken interceptor touches; requests the function
        // makes synchronously are marked as the refresh's own (never held) anyway.
        out = await untilAborted((signal) => inRefresh(() => fn({ ...ctx, signal, fetch: refreshFetch })), outer);
      } catch (err) {
        if (err && err.name === 'RefreshError') throw err;
        if (err && err.sessionExpired === true) {
          throw refreshError('rejected', 'the refresh function reported that the session expired', { rejected: true, cause: err });
        }
        throw refreshError('failed', 'the refresh function failed', { cause: err });
      }
      return checkTokenSet(out);
    };
    return call;
  }

  const ep = opts.endpoint;
  const preset = PRESETS[ep.preset];
  const call = async (ctx, outer) => {
    // Decided by the engine at every call, on where `endpoint.url` resolves now (a relative
    // one against the document's base, which an injected `<base href>` can move): the
    // refresh goes, with any token, only to the page's origin, `origins`, or the absolute URL's.
    const url = requestURL(ep.url);
    const origin = url && url.origin !== 'null' ? url.origin : null;
    if (!origin || !engine.allowsRefresh(origin)) {
      throw refreshError('refused-origin', `the refresh endpoint resolves to ${origin || 'no http(s) URL'}, not an allowed origin (a <base href> elsewhere?); it was not called`);
    }
    // What the preset sends is the engine's: the method, content-type, Bearer and body.
    const { method, headers: own, body, readsErrors } = presetRule(6 + preset,
      inputs({ a: ctx.accessToken, r: ctx.refreshToken, m: ep.method, c: ep.clientId, s: ep.scope }, ep.params, ep.resource));
    const headers = { ...ep.headers, ...own };
    // With DPoP (RFC 9449) every call carries a proof; a `use_dpop_nonce` answer costs
    // one more call with the server's nonce when the engine grants it (once per refresh
    // call), nothing else.
    for (;;) {
      // The proof names the method the call is sent with (bearer-put's PUT, endpoint.method).
      if (engine.proof) headers.dpop = await engine.proof(method, url.href);
      let res;
      try {
        res = await untilAborted(
          // redirect 'manual': a 307/308 would resend the refresh token to wherever it points.
          (signal) => inRefresh(() => getFetch().call(globalThis, url.href, { method, headers, body, credentials: ep.credentials, signal, redirect: 'manual' })),
          outer);
      } catch (err) {
        if (err && err.name === 'RefreshError') throw err;
        // A fetch that timed out (its own signal, AbortSignal.timeout) is a timeout, not a network error.
        throw refreshError(err?.name === 'TimeoutError' ? 'timeout' : 'network', 'the refresh request could not reach the server', { cause: err });
      }
      const status = res.status;
      engine.noteDate(origin, res);
      engine.nonce?.(origin, res);
      // How the status is taken is the engine's (src/engine/refresh_status.rs): 0 read it,
      // 1 the session is over, 2 a redirect (never followed), 3 transient.
      let kind = engine.statusClass(res.type === 'opaqueredirect' ? 0 : status);
      if (kind === 2) {
        throw refreshError('bad-response', 'the refresh endpoint answered with a redirect, which the refresh call does not follow (it would carry the token elsewhere)', { status });
      }
      if (kind === 1 || kind === 3) {
        // An OAuth 2 error answer says why (the engine reads it); other presets' bodies are not read.
        const why = readsErrors ? presetRule(5, members(parsed(await res.text().catch(() => '')), [ctx.accessToken, ctx.refreshToken])) : (res.body?.cancel().catch(() => {}), {});
        if (engine.proof && engine.dpopRetry(status, null, why.oauthError) && engine.refreshNonce()) continue;
        // The OAuth error can make a 400 transient (use_dpop_nonce): the engine says.
        if (why.oauthError != null) kind = engine.statusClass(status, why.oauthError);
        const said = why.oauthError ? ` (${why.oauthError}${why.oauthErrorDescription ? `: ${why.oauthErrorDescription}` : ''})` : '';
        if (kind === 1) throw refreshError('rejected', `the refresh endpoint refused the session (HTTP ${status})${said}`, { rejected: true, status, ...why });
        throw refreshError('http', `the refresh endpoint answered HTTP ${status}${said}`, {
          status, retryAfterMs: engine.retryAfter(res.headers.get('retry-after')), ...why,
        });
      }
      return read(res);
    }
  };
  /** A 2xx answer's tokens, as the engine reads them for the preset. */
  const read = async (res) => {
    const body = parsed(await res.text());
    return taken(presetRule(preset, members(body)), body);
  };
  return call;
}
