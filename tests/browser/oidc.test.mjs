// freshtoken's OAuth 2 support against a real OpenID provider (issue 20): oidc-provider
// 9.13.3 on 127.0.0.1 (tests/support/oidc-provider.mjs), a public client `app` logged in
// with authorization code + PKCE in headless Chromium through the provider's own login and
// consent pages (tests/support/oidc-login.mjs), and a resource API on a third origin that
// takes only this provider's unexpired access tokens (JWTs checked against its JWKS).
// Access tokens live 4 s; refresh tokens rotate on every use (a reuse would be refused and
// the grant revoked by the provider).
//
// What oidc-provider 9.13.3 answers (observed, and asserted below):
//   - a refresh with an unknown client_id: HTTP 401
//     {"error":"invalid_client","error_description":"client authentication failed"}
//     (its internal detail, in grant.error events only: 'client not found');
//   - a refresh token of a revoked grant: HTTP 400
//     {"error":"invalid_grant","error_description":"grant request is invalid"}
//     (detail 'refresh token not found'); a reused rotated one: the same answer, detail
//     'refresh token already used', and the whole grant revoked.
// Both error answers carry Access-Control-Allow-Origin (oidc-provider sets it before it looks
// the client up), so the page reads them.
//
// A rejected refresh settles its callers (refresh(), getAccessToken(), requests) with
// SessionError 'session-expired', as every waiter is (the conformance table's row
// "rejected"); the provider's error reaches the app in the session-expired detail.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';
import { startProvider, startResourceApi, CLIENT_ID, SCOPE, RESOURCE, LEEWAY_S } from '../support/oidc-provider.mjs';
import { oidcLogin } from '../support/oidc-login.mjs';

const T = { timeout: 40_000 };
const ACCESS_TTL = 4;                       // seconds
const REFRESH_POINT = 0.8 * ACCESS_TTL * 1000;

let browser;
const cleanup = [];
const fileStart = Date.now();

before(async () => { browser = await launchBrowser(); });
after(async () => {
  await browser?.close();
  process.stderr.write(`oidc.test.mjs: ${((Date.now() - fileStart) / 1000).toFixed(1)} s\n`);
});
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()().catch(() => {});
});

/**
 * The test page's origin, the provider, the API, and a page logged in through the provider.
 * `mark`: the console entries before it are the login's (the provider's pages).
 */
async function loggedIn() {
  const app = await startServer();
  cleanup.push(() => app.close());
  const provider = await startProvider({ appOrigin: app.url, accessTtl: ACCESS_TTL });
  cleanup.push(() => provider.close());
  const api = await startResourceApi({ provider, appOrigin: app.url });
  cleanup.push(() => api.close());
  const { tab, page, login, receivedAt } = await oidcLogin(browser, app, provider);
  cleanup.push(() => tab.close(), () => page.evaluate(() => { window.halt = true; window.r?.dispose(); }));
  await page.evaluate(() => {
    window.events = [];
    window.listen = (r) => {
      for (const e of ['refresh', 'refresh-error', 'session-expired', 'logout', 'schedule']) {
        r.on(e, (d) => events.push({ e, t: Date.now(), d: JSON.parse(JSON.stringify(d ?? null)), code: d?.error?.code, message: d?.error?.message }));
      }
    };
    window.count = (e) => events.filter((x) => x.e === e).length;
    window.errorOf = (err) => ({
      name: err?.name, code: err?.code, rejected: err?.rejected, status: err?.status,
      oauthError: err?.oauthError, oauthErrorDescription: err?.oauthErrorDescription, message: String(err?.message),
    });
  });
  assert.equal(provider.refreshCalls().length, 0);
  return { app, provider, api, tab, page, login, receivedAt, mark: tab.console.length };
}

/**
 * `window.r` on the page: the OAuth 2 recipe (preset 'oauth2', clientId; `endpoint` adds or
 * overrides settings), refreshing at the provider's token endpoint, the API's origin allowed.
 */
function create(ctx, { tokens, endpoint = {}, extra = {} } = {}) {
  const { page, provider, api, login } = ctx;
  tokens ??= { accessToken: login.access_token, refreshToken: login.refresh_token, expiresIn: login.expires_in };
  return page.evaluate(async ({ tokens, endpoint, extra }) => {
    window.r = await ft.createRefresher({ tokens, endpoint, ...extra });
    listen(r);
    return Date.now();
  }, {
    tokens,
    endpoint: { url: provider.endpoints.token, preset: 'oauth2', clientId: CLIENT_ID, ...endpoint },
    extra: { origins: [api.url], ...extra },
  });
}

/** Every token the provider handed out (access, refresh, ID) and every code. */
function secrets(provider) {
  const out = new Set();
  for (const c of provider.tokenCalls) {
    for (const k of ['access_token', 'refresh_token', 'id_token']) if (typeof c.body?.[k] === 'string') out.add(c.body[k]);
    for (const k of ['code', 'refresh_token', 'code_verifier']) if (typeof c.params[k] === 'string') out.add(c.params[k]);
  }
  return [...out];
}

/** No token (nor code) in any console line or uncaught error of the tab, login pages included. */
function assertNoTokenLogged(tab, provider) {
  const all = secrets(provider);
  assert.ok(all.length >= 4, 'the leak check knows the tokens');
  for (const line of [...tab.console.map((c) => `console.${c.type}: ${c.text}`), ...tab.errors]) {
    for (const s of all) assert.ok(!line.includes(s), `a token appears in the page's log: ${line.slice(0, 120)}`);
  }
}

/**
 * console.error calls of the page after `mark`; Chromium's own network lines ("Failed to load
 * resource: ...", which it reports as console errors for every 4xx answer) are not the app's.
 */
const appErrors = (tab, mark) => tab.console.slice(mark)
  .filter((c) => c.type === 'error' && !/^Failed to load resource:/.test(c.text));

/** A token answer without its tokens: what `tokenResponse` must be. */
const withoutTokens = ({ access_token, refresh_token, ...rest }) => rest;

// ------------------------------------------------------------------------------------------

test('a: the recipe with clientId (scope and resource too) refreshes at ~80% of the 4 s lifetime across three rotations, each refresh token used once: the provider sees no reuse, the session stays alive, the API always gets the current token', T, async () => {
  const ctx = await loggedIn();
  const { page, provider, api, login } = ctx;
  const createdAt = await create(ctx, { endpoint: { scope: SCOPE, resource: RESOURCE } });
  // The app calls the API every 200 ms through the refresher while three refreshes happen.
  const out = await page.evaluate(async ({ apiURL }) => {
    const statuses = [];
    const loop = (async () => {
      while (!window.halt) {
        statuses.push((await r.fetch(`${apiURL}/data`)).status);
        await new Promise((res) => setTimeout(res, 200));
      }
    })();
    const end = Date.now() + 15_000;
    while (count('refresh') < 3 && Date.now() < end) await new Promise((res) => setTimeout(res, 20));
    // One more request on the third rotation's token, then stop.
    await new Promise((res) => setTimeout(res, 300));
    window.halt = true;
    await loop;
    return {
      statuses, state: r.state, token: r.accessToken,
      refreshTimes: events.filter((e) => e.e === 'refresh').map((e) => e.t),
      others: events.filter((e) => e.e === 'refresh-error' || e.e === 'session-expired'),
    };
  }, { apiURL: api.url });

  const calls = provider.refreshCalls();
  assert.equal(out.refreshTimes.length, 3, 'three refresh events');
  assert.equal(calls.length, 3, 'three refresh calls reached the token endpoint');
  // The form: RFC 6749 §6 with the client's settings.
  for (const c of calls) {
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.deepEqual(Object.keys(c.params).sort(), ['client_id', 'grant_type', 'refresh_token', 'resource', 'scope']);
    assert.equal(c.params.client_id, CLIENT_ID);
    assert.equal(c.params.scope, SCOPE);
    assert.equal(c.params.resource, RESOURCE);
    assert.equal(c.params.grant_type, 'refresh_token');
  }
  // Each refresh token used once: each call spends the one the previous answer rotated in.
  const handedOut = [login.refresh_token, ...calls.map((c) => c.body.refresh_token)];
  assert.deepEqual(calls.map((c) => c.params.refresh_token), handedOut.slice(0, 3));
  assert.equal(new Set(handedOut).size, 4, 'the provider rotated the refresh token every time');
  assert.deepEqual(provider.grantErrors, [], 'the provider saw no reuse (nor any other grant error)');
  assert.deepEqual(provider.grantsRevoked, []);
  // ~80%: each call 3.2 s after the tokens it replaces were received by the page.
  const receivedAt = [createdAt, ...out.refreshTimes.slice(0, 2)];
  calls.forEach((c, i) => {
    const after = c.t - receivedAt[i];
    assert.ok(after >= REFRESH_POINT - 100 && after <= REFRESH_POINT + 600,
      `refresh ${i + 1} came ${after} ms after its token was received, not at ~${REFRESH_POINT} ms (80% of ${ACCESS_TTL} s)`);
  });
  // The session is alive: no error, no end, the latest token in hand, its refresh token
  // active at the provider and every spent one inactive.
  assert.deepEqual(out.others, []);
  assert.equal(out.state, 'fresh');
  assert.equal(out.token, calls[2].body.access_token);
  assert.equal((await provider.introspect(handedOut[3])).active, true, 'the current refresh token is active');
  for (const spent of handedOut.slice(0, 3)) assert.equal((await provider.introspect(spent)).active, false, 'a spent refresh token is inactive');
  // The API got the current token every time: every request accepted, each with the newest
  // token the provider had issued when it arrived (or the one before, if that request left
  // the page while the refresh answer was on its way back); all four tokens used, the last
  // request on the third rotation's.
  const issued = provider.tokenCalls.filter((c) => c.status === 200).map((c) => ({ at: c.body.access_token, done: c.done }));
  assert.equal(issued.length, 4);
  assert.ok(api.requests.length >= 10, `${api.requests.length} API requests`);
  assert.deepEqual(out.statuses, api.requests.map(() => 200));
  for (const q of api.requests) {
    assert.ok(q.ok, `the API refused a request: ${q.reason}`);
    const idx = issued.findIndex((x) => x.at === q.token);
    let cur = -1;
    issued.forEach((x, i) => { if (x.done <= q.t) cur = i; });
    assert.ok(idx === cur || (idx === cur - 1 && q.t - issued[cur].done < 1000),
      `a request at +${q.t - createdAt} ms carried access token #${idx}, the current one being #${cur}`);
  }
  assert.deepEqual([...new Set(api.requests.map((q) => issued.findIndex((x) => x.at === q.token)))], [0, 1, 2, 3]);
  assert.equal(api.requests.at(-1).token, calls[2].body.access_token);
});

test('b: 200 concurrent requests on an expired access token make exactly one token-endpoint call, and all 200 succeed', T, async () => {
  const ctx = await loggedIn();
  const { page, provider, api, login, receivedAt } = ctx;
  // The app kept the login's tokens with their receipt time (tokens.receivedAt) and comes
  // back once the access token has expired: by its expires_in counted from receipt, and by
  // its exp plus the API's leeway.
  const exp = JSON.parse(Buffer.from(login.access_token.split('.')[1], 'base64url')).exp;
  const wait = Math.max(receivedAt + login.expires_in * 1000, (exp + LEEWAY_S) * 1000) + 100 - Date.now();
  if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  const probe = await fetch(`${api.url}/data`, { headers: { authorization: `Bearer ${login.access_token}` } });
  assert.equal(probe.status, 401, 'the login access token is expired for the API');
  assert.equal(api.requests.at(-1).reason, 'ERR_JWT_EXPIRED');
  // The browser's CORS preflight cache warmed by one request of the app's own (not through
  // freshtoken), so that the burst is 200 requests, not 200 preflights and 200 requests.
  await page.evaluate((apiURL) => fetch(`${apiURL}/data`, { headers: { authorization: 'Bearer warm-up' } }), api.url);
  const before = api.requests.length;

  await create(ctx, { tokens: { accessToken: login.access_token, refreshToken: login.refresh_token, expiresIn: login.expires_in, receivedAt } });
  const out = await page.evaluate(async ({ apiURL }) => {
    const t0 = performance.now();
    const all = await Promise.allSettled(Array.from({ length: 200 }, () => r.fetch(`${apiURL}/data`)));
    const ms = performance.now() - t0;
    return { ms,
      statuses: all.map((s) => (s.status === 'fulfilled' ? s.value.status : `${s.reason?.name}:${s.reason?.code}`)),
    };
  }, { apiURL: api.url });

  assert.deepEqual(out.statuses, Array(200).fill(200), 'all 200 succeed');
  process.stderr.write(`oidc b: 200 requests in ${Math.round(out.ms)} ms\n`);
  // One refresh call for the burst. (On a slow machine the burst may outlast the refreshed
  // token's own refresh point, 3.2 s after its answer: that scheduled call is not the burst's.)
  const [first, ...later] = provider.refreshCalls();
  assert.ok(first, 'a refresh call');
  assert.equal(first.status, 200);
  assert.deepEqual(later.filter((c) => c.t < first.done + REFRESH_POINT - 100), [], 'exactly one refresh call for the 200 requests');
  assert.equal(provider.tokenCalls.filter((c) => c.t < first.done + REFRESH_POINT - 100).length, 2,
    'the token endpoint saw the code exchange and one refresh, nothing else');
  const fresh = first.body.access_token;
  const sent = api.requests.slice(before);
  assert.equal(sent.length, 200, 'each request reached the API once: none with the expired token, no replay');
  assert.ok(sent.every((q) => q.ok && q.token === fresh), 'every request carried the refreshed token');
  assert.ok(sent[0].t >= first.done, 'no request reached the API before the refresh answered');
});

test('c: a revoked grant ends the session once, with oauthError invalid_grant in the session-expired detail', T, async () => {
  const ctx = await loggedIn();
  const { page, provider, login, tab, mark } = ctx;
  await create(ctx);
  // The user removes the app at the provider: the grant, its tokens and codes are gone.
  await provider.revokeGrantOf(login.refresh_token);
  assert.equal((await provider.introspect(login.refresh_token)).active, false);

  const out = await page.evaluate(async () => {
    // Three callers at once, then the app asking for a token again.
    const errs = await Promise.all([r.refresh(), r.refresh(), r.refresh()].map((p) => p.then(() => null, errorOf)));
    const after = await r.getAccessToken().then(() => ({ token: 'given' }), errorOf);
    await new Promise((res) => setTimeout(res, 300));
    return {
      errs, after, state: r.state, token: r.accessToken,
      expired: events.filter((e) => e.e === 'session-expired').map((e) => e.d),
    };
  });

  const calls = provider.refreshCalls();
  assert.equal(calls.length, 1, 'one refresh call');
  assert.equal(calls[0].status, 400);
  assert.deepEqual(calls[0].body, { error: 'invalid_grant', error_description: 'grant request is invalid' });
  assert.deepEqual(provider.grantErrors.map((g) => g.detail), ['refresh token not found']);
  assert.deepEqual(out.expired, [{ reason: 'refresh-rejected', oauthError: 'invalid_grant', oauthErrorDescription: 'grant request is invalid' }],
    'one session-expired event, with the provider\'s error');
  // The callers are told as every waiter is when a refresh is rejected (the conformance
  // table's row "rejected"): session-expired; the provider's words are in the event.
  for (const e of out.errs) assert.deepEqual([e.name, e.code], ['SessionError', 'session-expired']);
  assert.deepEqual([out.after.name, out.after.code], ['SessionError', 'session-expired'], 'and no second refresh call');
  assert.equal(provider.refreshCalls().length, 1);
  assert.equal(out.state, 'expired');
  assert.equal(out.token, null);
  assert.deepEqual(appErrors(tab, mark), [], 'invalid_grant is the user\'s session ending, not a client error to log');
});

test('d: a wrong clientId ends the session with reason client-rejected and the provider\'s error (invalid_client), one console.error, no token in any log', T, async () => {
  const ctx = await loggedIn();
  const { page, provider, tab, mark } = ctx;
  await create(ctx, { endpoint: { clientId: 'not-app' } });
  const out = await page.evaluate(async () => {
    const err = await r.refresh().then(() => null, errorOf);
    await new Promise((res) => setTimeout(res, 300));
    return { err, state: r.state, token: r.accessToken, expired: events.filter((e) => e.e === 'session-expired').map((e) => e.d) };
  });

  const calls = provider.refreshCalls();
  assert.equal(calls.length, 1);
  assert.equal(calls[0].params.client_id, 'not-app');
  assert.equal(calls[0].status, 401);
  assert.deepEqual(calls[0].body, { error: 'invalid_client', error_description: 'client authentication failed' });
  assert.deepEqual(provider.grantErrors.map((g) => g.detail), ['client not found']);
  assert.deepEqual(out.expired, [{ reason: 'client-rejected', oauthError: 'invalid_client', oauthErrorDescription: 'client authentication failed' }]);
  assert.deepEqual([out.err.name, out.err.code], ['SessionError', 'session-expired']);
  assert.equal(out.state, 'expired');
  assert.equal(out.token, null);
  const logged = appErrors(tab, mark);
  assert.equal(logged.length, 1, `one console.error, not: ${JSON.stringify(logged)}`);
  assert.ok(logged[0].text.includes('invalid_client'), `the console.error names the provider's error: ${logged[0].text}`);
  assertNoTokenLogged(tab, provider);
  for (const s of secrets(provider)) assert.ok(!out.err.message.includes(s), 'no token in the error message');
});

test('e: logout() with revokeUrl logs out at once and revokes the refresh token at the provider: introspection says inactive afterwards', T, async () => {
  const ctx = await loggedIn();
  const { page, provider, login } = ctx;
  await create(ctx, { endpoint: { revokeUrl: provider.endpoints.revocation } });
  assert.equal((await provider.introspect(login.refresh_token)).active, true, 'active before the logout');
  const out = await page.evaluate(async () => {
    const t0 = performance.now();
    const p = r.logout();
    const sync = { state: r.state, token: r.accessToken, isPromise: p instanceof Promise };
    const settled = await p.then(() => ({ resolved: true, at: Date.now() }), (e) => ({ resolved: false, e: String(e) }));
    return { sync, settled, ms: performance.now() - t0, logouts: count('logout'), refreshes: count('refresh') };
  });
  assert.deepEqual(out.sync, { state: 'logged-out', token: null, isPromise: true }, 'logged out before the revocation answered');
  assert.equal(out.settled.resolved, true, JSON.stringify(out.settled));
  assert.equal(out.logouts, 1);
  assert.equal(out.refreshes, 0);
  assert.equal(provider.revocationCalls.length, 1, 'one revocation call');
  const [rev] = provider.revocationCalls;
  assert.deepEqual(rev.params, { token: login.refresh_token, token_type_hint: 'refresh_token', client_id: CLIENT_ID });
  assert.equal(rev.status, 200);
  assert.ok(rev.done <= out.settled.at, 'the promise resolved once the provider had revoked');
  assert.deepEqual(await provider.introspect(login.refresh_token), { active: false });
});

test('e: logout() with revokeUrl and the provider unreachable (closed) logs out locally at once, and its promise resolves within the bound (refreshTimeoutMs)', T, async () => {
  const ctx = await loggedIn();
  const { page, provider } = ctx;
  const bound = 2000;
  await create(ctx, { endpoint: { revokeUrl: provider.endpoints.revocation }, extra: { refreshTimeoutMs: bound } });
  await provider.close();
  const out = await page.evaluate(async () => {
    const t0 = performance.now();
    const p = r.logout();
    const sync = { state: r.state, token: r.accessToken, isPromise: p instanceof Promise };
    const settled = await p.then(() => ({ resolved: true }), (e) => ({ resolved: false, e: String(e) }));
    const ms = performance.now() - t0;
    const after = await r.getAccessToken().then(() => ({ token: 'given' }), errorOf);
    return { sync, settled, ms, after, logouts: count('logout') };
  });
  assert.deepEqual(out.sync, { state: 'logged-out', token: null, isPromise: true }, 'logged out locally at once');
  assert.equal(out.settled.resolved, true, `the promise must resolve, never reject: ${JSON.stringify(out.settled)}`);
  assert.ok(out.ms <= bound + 500, `resolved after ${Math.round(out.ms)} ms, past the ${bound} ms bound`);
  assert.equal(out.logouts, 1);
  assert.deepEqual([out.after.name, out.after.code], ['SessionError', 'logged-out'], JSON.stringify(out.after));
});

test('f: tokenResponse after a refresh carries id_token, scope and token_type (the provider\'s answer without its tokens), in the refresh event too; no token appears in the console', T, async () => {
  const ctx = await loggedIn();
  const { page, provider, tab } = ctx;
  await create(ctx);
  const out = await page.evaluate(async () => {
    const before = r.tokenResponse;
    await r.refresh();
    const ev = events.find((e) => e.e === 'refresh');
    return { before, after: r.tokenResponse, event: ev.d.tokenResponse, token: r.accessToken };
  });
  const [call] = provider.refreshCalls();
  assert.equal(call.status, 200);
  const expected = withoutTokens(call.body);
  assert.deepEqual(Object.keys(expected).sort(), ['expires_in', 'id_token', 'scope', 'token_type'], 'what oidc-provider answers');
  assert.equal(out.before, null, 'no token answer yet: null');
  assert.deepEqual(out.after, expected);
  assert.equal(out.after.id_token, call.body.id_token);
  assert.equal(out.after.scope, 'api:read');
  assert.equal(out.after.token_type, 'Bearer');
  assert.deepEqual(out.event, expected);
  assert.equal(out.token, call.body.access_token);
  for (const s of [call.body.access_token, call.body.refresh_token, call.params.refresh_token]) {
    assert.ok(!JSON.stringify(out.after).includes(s) && !JSON.stringify(out.event).includes(s), 'tokenResponse holds no access or refresh token');
  }
  assertNoTokenLogged(tab, provider);
});
