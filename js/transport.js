// How a refresh reaches the server: the four built-in endpoint presets of SPEC
// ("Server contracts"), or the app's own `refresh` function. The engine decides where the
// call may go and what its status means; a failure is described here (code, status,
// Retry-After, a rotated refresh token) for the engine to judge.
import { makeError } from './errors.js';
import { inRefresh } from './request.js';
import { requestURL } from './origins.js';

const json = (body) => ({ 'content-type': 'application/json' , body: JSON.stringify(body) });

/**
 * Each preset: the request it sends, and the fields it reads back.
 * `needs` names what a refresh cannot do without (unless cookies carry the session).
 */
export const PRESETS = {
  // seed 001, Express: POST {refreshToken} -> {accessToken, refreshToken?, expiresIn?}
  json: {
    method: 'POST',
    needs: 'refreshToken',
    request: ({ refreshToken }, params) => json(refreshToken == null ? { ...params } : { ...params, refreshToken }),
    read: (b) => ({ accessToken: b.accessToken, refreshToken: b.refreshToken, expiresIn: b.expiresIn, expiresAt: b.expiresAt }),
    fields: '`accessToken`',
  },
  // seed 002, sanic-jwt: Bearer <access, may be expired> + {refresh_token} -> {access_token}
  'sanic-jwt': {
    method: 'POST',
    needs: 'refreshToken',
    request: ({ accessToken, refreshToken }, params) => ({
      ...json({ ...params, refresh_token: refreshToken }),
      authorization: accessToken ? `Bearer ${accessToken}` : undefined,
    }),
    read: (b) => ({ accessToken: b.access_token, refreshToken: b.refresh_token }),
    fields: '`access_token`',
  },
  // seed 000, Grape: PUT with Bearer <current token> -> {token}
  'bearer-put': {
    method: 'PUT',
    needs: 'accessToken',
    request: ({ accessToken }) => ({ authorization: accessToken ? `Bearer ${accessToken}` : undefined }),
    read: (b) => ({ accessToken: b.token, expiresIn: b.expiresIn ?? b.expires_in }),
    fields: '`token`',
  },
  // RFC 6749 §6: form grant_type=refresh_token (+ client_id, scope, resource) -> {access_token, refresh_token, expires_in}
  oauth2: {
    method: 'POST',
    needs: 'refreshToken',
    request: ({ refreshToken }, params, ep) => ({
      'content-type': 'application/x-www-form-urlencoded',
      body: oauthForm(ep, params, { grant_type: 'refresh_token', refresh_token: refreshToken ?? '' }),
    }),
    read: (b) => ({ accessToken: b.access_token, refreshToken: b.refresh_token, expiresIn: b.expires_in }),
    fields: '`access_token`',
    tokens: ['access_token', 'refresh_token'],
  },
};

/** An OAuth 2 form: the app's `params`, the client's settings (`clientId`, `scope`, `resource`), then `fields`. */
export function oauthForm(ep, params, fields) {
  const form = new URLSearchParams(params);
  if (ep.clientId) form.set('client_id', ep.clientId);
  if (ep.scope) form.set('scope', ep.scope);
  for (const r of [].concat(ep.resource ?? [])) form.append('resource', r);
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return form.toString();
}

/** The answer's other fields (id_token, scope, token_type, ...): what a refresh returned besides the tokens. */
function others(body, tokens) {
  const out = {};
  for (const k of Object.keys(body)) if (!tokens.includes(k)) out[k] = body[k];
  return out;
}

/** An OAuth 2 error answer's `error` and `error_description` (RFC 6749 §5.2), as RefreshError fields. */
async function oauthError(res) {
  try {
    const b = JSON.parse(await res.text());
    const out = {};
    if (typeof b?.error === 'string') out.oauthError = b.error;
    if (typeof b?.error_description === 'string') out.oauthErrorDescription = b.error_description;
    return out;
  } catch {
    return {};
  }
}

/** A refresh failure. `rejected` true means the session is over. */
export function refreshError(code, message, props) {
  return makeError('RefreshError', code, message, { rejected: false, ...props });
}

const isToken = (v) => typeof v === 'string' && v !== '';

/**
 * Checks a refresh result, from a server body or a custom `refresh` function. Nothing that
 * arrived usable is lost: a badly typed optional field is dropped and named in `problems`;
 * without a usable access token it throws a transient RefreshError that still carries a
 * rotated refresh token (`refreshToken`), which the session then keeps.
 */
export function checkTokenSet(t, where) {
  if (t === null || typeof t !== 'object') {
    throw refreshError('bad-response', `${where} did not give an object with the new tokens`);
  }
  const out = { accessToken: t.accessToken, refreshToken: undefined, expiresIn: undefined, expiresAt: undefined };
  const problems = [];
  if (t.refreshToken != null) {
    if (isToken(t.refreshToken)) out.refreshToken = t.refreshToken;
    else problems.push('the refresh token is not a string');
  }
  if (!isToken(t.accessToken)) {
    throw refreshError('bad-response', `${where} has no access token string`, { refreshToken: out.refreshToken });
  }
  for (const k of ['expiresIn', 'expiresAt']) {
    if (t[k] == null) continue;
    if (typeof t[k] === 'number' && Number.isFinite(t[k]) && t[k] >= 0) out[k] = t[k];
    else problems.push(`${k} is not a non-negative number (ignored)`);
  }
  if (problems.length) out.problems = `${where}: ${problems.join('; ')}; the tokens were taken`;
  out.tokenResponse = t.tokenResponse ?? others(t, ['accessToken', 'refreshToken']);
  return out;
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
 * and with DPoP `proof(method, url)`, `nonce(origin, res)`, `dpopRetry(status, www, oauthError)`.
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
      return checkTokenSet(out, 'the refresh function');
    };
    return call;
  }

  const ep = opts.endpoint;
  const preset = PRESETS[ep.preset];
  const method = ep.method ?? preset.method;
  const call = async (ctx, outer) => {
    // Decided by the engine at every call, on where `endpoint.url` resolves now (a relative
    // one against the document's base, which an injected `<base href>` can move): the
    // refresh goes, with any token, only to the page's origin, `origins`, or the absolute URL's.
    const url = requestURL(ep.url);
    const origin = url && url.origin !== 'null' ? url.origin : null;
    if (!origin || !engine.allowsRefresh(origin)) {
      throw refreshError('refused-origin', `the refresh endpoint resolves to ${origin || 'no http(s) URL'}, not an allowed origin (a <base href> elsewhere?); it was not called`);
    }
    const { body, ...hdrs } = preset.request(ctx, ep.params ?? {}, ep);
    const headers = { ...ep.headers };
    for (const [k, v] of Object.entries(hdrs)) if (v !== undefined) headers[k] = v;
    // With DPoP (RFC 9449) every call carries a proof; a `use_dpop_nonce` answer costs
    // exactly one more call with the server's nonce (the engine says when), nothing else.
    for (let nonceRetry = !!engine.proof; ;) {
      if (engine.proof) headers.dpop = await engine.proof('POST', url.href);
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
      const kind = engine.statusClass(res.type === 'opaqueredirect' ? 0 : status);
      if (kind === 2) {
        throw refreshError('bad-response', 'the refresh endpoint answered with a redirect, which the refresh call does not follow (it would carry the token elsewhere)', { status });
      }
      if (kind === 1 || kind === 3) {
        // An OAuth 2 error answer says why (the engine reads `error`); other presets' bodies are not read.
        const why = ep.preset === 'oauth2' ? await oauthError(res) : (res.body?.cancel().catch(() => {}), {});
        if (nonceRetry && engine.dpopRetry(status, null, why.oauthError)) {
          nonceRetry = false;
          continue;
        }
        const said = why.oauthError ? ` (${why.oauthError}${why.oauthErrorDescription ? `: ${why.oauthErrorDescription}` : ''})` : '';
        if (kind === 1) throw refreshError('rejected', `the refresh endpoint refused the session (HTTP ${status})${said}`, { rejected: true, status, ...why });
        throw refreshError('http', `the refresh endpoint answered HTTP ${status}${said}`, {
          status, retryAfterMs: engine.retryAfter(res.headers.get('retry-after')), ...why,
        });
      }
      return read(res, status);
    }
  };
  /** A 2xx answer's tokens, as the preset reads them. */
  const read = async (res, status) => {
    let data;
    try {
      data = JSON.parse(await res.text());
    } catch {
      throw refreshError('bad-response', `the refresh endpoint answered HTTP ${status} with a body that is not JSON`, { status });
    }
    if (data === null || typeof data !== 'object') {
      throw refreshError('bad-response', 'the refresh response is not a JSON object', { status });
    }
    const got = preset.read(data);
    got.tokenResponse = others(data, preset.tokens ?? [preset.fields.slice(1, -1), 'refreshToken', 'refresh_token']);
    return checkTokenSet(got, `the refresh response (preset '${ep.preset}', expected field ${preset.fields})`);
  };
  return call;
}
