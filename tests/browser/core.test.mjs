// The core behaviour of freshtoken in headless Chromium, against a real local auth server
// (tests/support/server.mjs): no mocked fetch, real HS256 JWTs, real timers.
// Each test gets a fresh server and page, creates its own refresher and disposes it.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startPlainServer } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';

const T = { timeout: 30_000 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let browser;
let srv;
let tab;

before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });
beforeEach(async () => {
  srv = await startServer({ lifetime: 3 });
  tab = await browser.open(`${srv.url}/test.html`);
});
afterEach(async () => {
  await tab?.close();
  await srv?.close();
});

/**
 * Creates `window.r` in the page with the options every test uses, and `window.log` recording
 * its events (each with the refresher's state sampled just after). With `setLater`, the
 * refresher starts without tokens and gets them by setTokens() once the listeners are on, so
 * an immediate refresh cannot be missed. Returns { t0 (page ms at receipt), state, nextRefreshAt }.
 */
function createRefresher(tokens, { setLater = false } = {}) {
  return tab.page.evaluate(async ({ base, tokens, setLater }) => {
    window.expiredCalls = [];
    const options = {
      endpoint: { url: `${base}/auth/refresh` },
      origins: [base],
      onSessionExpired: (info) => {
        window.expiredCalls.push({ t: Date.now(), reason: info && info.reason });
      },
    };
    if (!setLater) options.tokens = tokens;
    window.t0 = Date.now();
    window.r = await ft.createRefresher(options);
    window.log = track(window.r);
    window.snapshots = [];
    for (const event of ['refresh', 'refresh-error', 'session-expired']) {
      window.r.on(event, () => {
        const t = Date.now();
        setTimeout(() => window.snapshots.push({
          event, t, state: r.state, accessToken: r.accessToken, nextRefreshAt: r.nextRefreshAt,
        }), 0);
      });
    }
    if (setLater) {
      window.t0 = Date.now();
      window.r.setTokens(tokens);
    }
    return { t0: window.t0, state: window.r.state, nextRefreshAt: window.r.nextRefreshAt };
  }, { base: srv.url, tokens, setLater });
}

/** Event counts and refresher state, from the page. */
const observe = () => tab.page.evaluate(() => ({
  refresh: log.count('refresh'),
  refreshError: log.count('refresh-error'),
  sessionExpired: log.count('session-expired'),
  onSessionExpired: expiredCalls.length,
  reasons: expiredCalls.map((c) => c.reason),
  refreshTimes: log.times('refresh'),
  messages: log.map((e) => e.message).filter(Boolean),
  snapshots,
  state: r.state,
  accessToken: r.accessToken,
  expiresAt: r.expiresAt,
  nextRefreshAt: r.nextRefreshAt,
}));

const waitInPage = (expr, timeoutMs, what) =>
  tab.page.evaluate(({ expr, timeoutMs, what }) => waitFor(() => (0, eval)(expr), timeoutMs, what),
    { expr, timeoutMs, what });

/** `refresher.fetch` from the page; returns { status, json }. */
const pageFetch = (url, init) => tab.page.evaluate(async ({ url, init }) => {
  const res = await r.fetch(url, init);
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json };
}, { url, init });

const postJson = (body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body });

/** Disposes the refresher; checks that no token reached the console and nothing threw uncaught. */
async function finish() {
  await tab.page.evaluate(() => { if (window.r && !window.disposed) window.r.dispose(); });
  const text = tab.consoleText();
  const leaked = srv.state.issued.filter((tok) => text.includes(tok));
  assert.equal(leaked.length, 0, 'a token appeared in the page console');
  assert.deepEqual(tab.errors, [], 'uncaught errors in the page');
}

const within = (value, lo, hi, what) =>
  assert.ok(value >= lo && value <= hi, `${what}: ${value} ms, expected ${lo}..${hi} ms`);

test('a 3 s JWT is refreshed at 2.4 s after receipt, and again 2.4 s after the new one arrives', T, async () => {
  const tokens = srv.issueTokens();
  const { t0, state, nextRefreshAt } = await createRefresher(tokens);
  assert.equal(state, 'fresh');
  within(nextRefreshAt - t0, 2100, 2700, 'nextRefreshAt after receipt');

  await waitInPage("log.count('refresh') >= 2", 9000, 'two refresh events');
  const o = await observe();
  assert.equal(srv.state.refreshCalls, 2);
  const [first, second] = o.refreshTimes;
  within(first - t0, 2100, 2700, 'first refresh after receipt');
  within(second - first, 2100, 2700, 'second refresh after the first');
  const [s1, s2] = o.snapshots.filter((s) => s.event === 'refresh');
  within(s1.nextRefreshAt - first, 2100, 2700, 'nextRefreshAt after the first refresh');
  within(s2.nextRefreshAt - second, 2100, 2700, 'nextRefreshAt after the second refresh');
  assert.notEqual(s1.accessToken, tokens.accessToken);
  assert.notEqual(s2.accessToken, s1.accessToken);
  assert.equal(o.accessToken, s2.accessToken);
  assert.ok(srv.accepts(o.accessToken), 'the current token is one the server issued and accepts');
  assert.equal(o.refreshError + o.sessionExpired, 0);
  // seed 001 contract: POST, JSON body { refreshToken }
  for (const req of srv.requestsTo('/auth/refresh')) {
    assert.equal(req.method, 'POST');
    assert.match(req.headers['content-type'], /application\/json/);
    assert.deepEqual(JSON.parse(req.body), { refreshToken: tokens.refreshToken });
  }
  await finish();
});

test('100 concurrent getAccessToken() calls with an expired token make exactly 1 refresh call', T, async () => {
  srv.setRefreshOutcomes([{ status: 200, delay: 300 }]); // keep the refresh in flight while all 100 ask
  const tokens = { accessToken: srv.expiredToken(), refreshToken: srv.issueTokens().refreshToken };
  await createRefresher(tokens);
  const { all, current } = await tab.page.evaluate(async () => {
    const all = await Promise.all(Array.from({ length: 100 }, () => r.getAccessToken()));
    return { all, current: r.accessToken };
  });
  await sleep(300); // a late duplicate call would show up here
  assert.equal(srv.state.refreshCalls, 1);
  assert.equal(all.length, 100);
  assert.equal(new Set(all).size, 1, 'all 100 callers got the same token');
  assert.notEqual(all[0], tokens.accessToken);
  assert.equal(all[0], current);
  assert.ok(srv.accepts(all[0]));
  await finish();
});

test('a JSON POST answered 401 after a server-side revoke is refreshed and replayed once, body intact', T, async () => {
  const tokens = srv.issueTokens({ lifetime: 60 });
  await createRefresher(tokens);
  const warmup = await pageFetch(`${srv.url}/api/echo`, postJson('{"n":0}'));
  assert.equal(warmup.status, 200, 'the first token works before the revoke');

  srv.revokeAccessTokens();
  const body = JSON.stringify({ order: 42, items: ['a', 'b'], note: 'ünïcödé ✓' });
  const res = await pageFetch(`${srv.url}/api/echo`, postJson(body));
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, { ok: true, method: 'POST', body, auth: true });
  assert.equal(srv.state.refreshCalls, 1);
  const sent = srv.requestsTo('/api/echo').slice(1);
  assert.equal(sent.length, 2, 'the original request and exactly one replay');
  assert.deepEqual(sent.map((r) => [r.method, r.body]), [['POST', body], ['POST', body]]);
  assert.match(sent[1].headers['content-type'], /application\/json/);
  assert.equal(sent[0].headers.authorization, `Bearer ${tokens.accessToken}`);
  assert.notEqual(sent[1].headers.authorization, sent[0].headers.authorization);
  assert.ok(srv.accepts(sent[1].headers.authorization.slice('Bearer '.length)));
  await finish();
});

test('an expired JWT the client believes fresh (expiresIn 3600) gets 401, refresh, one replay with the same body', T, async () => {
  const tokens = {
    accessToken: srv.expiredToken({ lifetime: 3600 }),
    refreshToken: srv.issueTokens().refreshToken,
    expiresIn: 3600,
  };
  const { state } = await createRefresher(tokens);
  assert.equal(state, 'fresh', 'expiresIn takes precedence over the JWT exp');
  assert.equal(srv.state.refreshCalls, 0);
  const body = JSON.stringify({ q: 'same body twice' });
  const res = await pageFetch(`${srv.url}/api/echo`, postJson(body));
  assert.equal(res.status, 200);
  assert.equal(res.json.body, body);
  const sent = srv.requestsTo('/api/echo');
  assert.deepEqual(sent.map((r) => r.body), [body, body]);
  assert.equal(srv.state.refreshCalls, 1);
  await finish();
});

test('a second 401 after the refresh emits session-expired once and returns the 401 to the caller', T, async () => {
  await createRefresher(srv.issueTokens({ lifetime: 60 }));
  srv.rejectAccessTokens(true); // even the refreshed token is refused
  const res = await pageFetch(`${srv.url}/api/echo`, postJson('{"x":1}'));
  assert.equal(res.status, 401);
  assert.deepEqual(res.json, { error: 'invalid_token' });
  await sleep(1000); // no refresh loop, no second event
  const o = await observe();
  assert.equal(srv.state.refreshCalls, 1);
  assert.equal(srv.requestsTo('/api/echo').length, 2, 'one original request and one replay');
  assert.equal(o.sessionExpired, 1);
  assert.equal(o.onSessionExpired, 1);
  assert.equal(typeof o.reasons[0], 'string');
  await finish();
});

test('refresh answered 500, 500, then 200 keeps the session (backoff 1 s, 2 s)', T, async () => {
  srv.setRefreshOutcomes([500, 500]);
  const tokens = { accessToken: srv.expiredToken(), refreshToken: srv.issueTokens().refreshToken };
  await createRefresher(tokens, { setLater: true });
  await waitInPage("log.count('refresh') >= 1", 8000, 'a successful refresh after two 500s');
  await sleep(200);
  const o = await observe();
  assert.equal(srv.state.refreshCalls, 3);
  assert.equal(o.refreshError, 2);
  assert.equal(o.refresh, 1);
  assert.equal(o.sessionExpired, 0);
  assert.equal(o.onSessionExpired, 0);
  assert.equal(o.state, 'fresh');
  assert.equal(o.accessToken, srv.state.issued.at(-1), 'the token the third refresh call issued');
  assert.ok(srv.accepts(o.accessToken));
  for (const s of o.snapshots.filter((x) => x.event === 'refresh-error')) {
    assert.equal(s.accessToken, tokens.accessToken, 'a transient failure keeps the current token');
  }
  const [a, b, c] = srv.state.refreshTimes;
  within(b - a, 750, 1500, 'first backoff (1 s ±20%)');
  within(c - b, 1550, 2700, 'second backoff (2 s ±20%)');
  await finish();
});

test('an HTML error page and a malformed 200 body are transient: refresh-error, then recovery', T, async () => {
  srv.setRefreshOutcomes(['html', 'malformed']);
  const tokens = { accessToken: srv.expiredToken(), refreshToken: srv.issueTokens().refreshToken };
  await createRefresher(tokens, { setLater: true });
  await waitInPage("log.count('refresh') >= 1", 8000, 'a successful refresh after two bad answers');
  const o = await observe();
  assert.equal(srv.state.refreshCalls, 3);
  assert.equal(o.refreshError, 2);
  assert.equal(o.sessionExpired, 0);
  assert.equal(o.state, 'fresh');
  for (const m of o.messages) {
    for (const tok of srv.state.issued) assert.ok(!m.includes(tok), 'an event message contains a token');
  }
  await finish();
});

test('the Authorization header goes to allowed origins only', T, async () => {
  const plain = await startPlainServer();
  try {
    const tokens = srv.issueTokens({ lifetime: 60 });
    await createRefresher(tokens);
    const other = await pageFetch(`${plain.url}/data`);
    const otherPost = await pageFetch(`${plain.url}/submit`, postJson('{"a":1}'));
    const own = await pageFetch(`${srv.url}/api/echo`);
    assert.equal(other.status, 200);
    assert.equal(otherPost.status, 200);
    assert.equal(own.status, 200);
    assert.ok(plain.requests.some((r) => r.path === '/data' && r.method === 'GET'), 'the request reached the other origin');
    assert.ok(plain.requests.some((r) => r.path === '/submit' && r.method === 'POST'));
    assert.deepEqual(plain.requests.filter((r) => r.hasAuthorization).map((r) => `${r.method} ${r.path}`), [],
      'no request or preflight to the other origin carried Authorization');
    assert.equal(srv.requestsTo('/api/echo')[0].headers.authorization, `Bearer ${tokens.accessToken}`);
    await finish();
  } finally {
    await plain.close();
  }
});

test('decodeToken errors are TokenDecodeErrors with codes, and the instance keeps working after them', T, async () => {
  const good = srv.issueTokens().accessToken;
  const claims = JSON.parse(Buffer.from(good.split('.')[1], 'base64url'));
  const b64 = (s) => Buffer.from(s).toString('base64url');
  const header = b64('{"alg":"HS256","typ":"JWT"}');
  const badBase64 = `${header}.eyJzdWIiOiIx@@@fQ.c2ln`;
  const others = ['', '.', 'a.b.c.d', '\u0000', 'x'.repeat(100_000), `${header}..sig`,
    `${header}.${b64('not json')}.sig`, `${header}.${b64('null')}.sig`, `${header}.${b64('{"exp":"soon"}')}.sig`,
    `${header}.${b64('{"sub":"no exp"}')}.sig`];
  const out = await tab.page.evaluate(({ badBase64, others, good }) => {
    const attempt = (input) => {
      try {
        ft.decodeToken(input);
        return { threw: false };
      } catch (e) {
        return { threw: true, isError: e instanceof Error, name: e.name, code: e.code, message: String(e.message) };
      }
    };
    return {
      garbage: attempt('garbage'),
      badBase64: attempt(badBase64),
      others: others.map(attempt),
      good: ft.decodeToken(good),
    };
  }, { badBase64, others, good });

  assert.deepEqual({ ...out.garbage, message: undefined },
    { threw: true, isError: true, name: 'TokenDecodeError', code: 'bad-format', message: undefined });
  assert.ok(out.garbage.message.length > 0, 'the error says what is wrong');
  assert.deepEqual({ ...out.badBase64, message: undefined },
    { threw: true, isError: true, name: 'TokenDecodeError', code: 'bad-base64', message: undefined });
  assert.ok(!out.badBase64.message.includes(badBase64), 'the error message does not repeat the token');
  out.others.forEach((r, i) => {
    assert.equal(r.threw, true, `input #${i} should throw`);
    assert.equal(r.name, 'TokenDecodeError', `input #${i}: ${r.name} ${r.message}`);
    assert.equal(typeof r.code, 'string', `input #${i} has a code`);
  });

  // Still alive: a valid decode, then a refresher that refreshes.
  assert.equal(out.good.format, 'jwt');
  assert.equal(out.good.expiresAt, claims.exp * 1000);
  assert.equal(out.good.issuedAt, claims.iat * 1000);
  assert.equal(out.good.lifetimeMs, 3000);
  assert.equal(out.good.claims.sub, 'user-1');
  assert.equal(out.good.claims.jti, claims.jti);
  await createRefresher({ accessToken: srv.expiredToken(), refreshToken: srv.issueTokens().refreshToken }, { setLater: true });
  await waitInPage("log.count('refresh') >= 1", 5000, 'a refresh after the decode errors');
  assert.equal((await observe()).state, 'fresh');
  await finish();
});

test('a 401 from the refresh endpoint ends the session: session-expired once, state expired, no token', T, async () => {
  srv.setRefreshOutcomes([401]);
  const tokens = { accessToken: srv.expiredToken(), refreshToken: srv.issueTokens().refreshToken };
  await createRefresher(tokens, { setLater: true });
  await waitInPage("log.count('session-expired') >= 1", 5000, 'session-expired');
  await sleep(1500); // no retry, no second event
  const o = await observe();
  assert.equal(o.sessionExpired, 1);
  assert.equal(o.onSessionExpired, 1);
  assert.equal(typeof o.reasons[0], 'string');
  assert.equal(o.state, 'expired');
  assert.equal(o.accessToken, null);
  assert.equal(o.refreshError, 0, 'an auth rejection is not a transient error');
  assert.equal(srv.state.refreshCalls, 1);
  await finish();
});

test('dispose() leaves no timer: no refresh call in the 3.5 s after it', T, async () => {
  await createRefresher(srv.issueTokens());
  await waitInPage("log.count('refresh') >= 1", 5000, 'the first scheduled refresh');
  const { disposedAt, nextRefreshAt } = await tab.page.evaluate(() => {
    const nextRefreshAt = r.nextRefreshAt;
    r.dispose();
    window.disposed = true;
    return { disposedAt: Date.now(), nextRefreshAt };
  });
  assert.ok(nextRefreshAt - disposedAt < 3000, 'a refresh was due within the observation window');
  const calls = srv.state.refreshCalls;
  await sleep(3500);
  assert.equal(srv.state.refreshCalls, calls, 'a refresh call after dispose()');
  const late = await tab.page.evaluate((t) => log.filter((e) => e.t > t).map((e) => e.event), disposedAt);
  assert.deepEqual(late, [], 'events after dispose()');
  await finish();
});

test('tokenAfterRejection: a refused current token costs one shared refresh; a replaced one gets the new token at once; bad input is an OptionsError', T, async () => {
  srv.setRefreshOutcomes([{ status: 200, delay: 300 }]); // in flight while the second caller asks
  const tokens = srv.issueTokens();
  await createRefresher(tokens);
  const got = await tab.page.evaluate(async (used) => {
    const [a, b] = await Promise.all([r.tokenAfterRejection(used), r.tokenAfterRejection(used)]);
    const late = await r.tokenAfterRejection(used); // the refused token was replaced meanwhile
    const huge = await r.tokenAfterRejection('x'.repeat(8 * 1024 * 1024)); // not the session's: its token at once
    const bad = [];
    for (const arg of [undefined, '', 42]) {
      try { await r.tokenAfterRejection(arg); bad.push('resolved'); } catch (e) { bad.push(`${e.name} ${e.code}`); }
    }
    return { a, b, late, huge, bad, current: r.accessToken };
  }, tokens.accessToken);
  assert.equal(srv.state.refreshCalls, 1, 'two refusals of one token and a late one: one refresh call');
  assert.notEqual(got.a, tokens.accessToken);
  assert.equal(got.a, got.current);
  assert.equal(got.b, got.a);
  assert.equal(got.late, got.a, 'a refusal of a replaced token is answered with its replacement, no refresh');
  assert.equal(got.huge, got.a, 'an 8 MB string is not the session\'s token: its token at once, no refresh');
  assert.ok(srv.accepts(got.a));
  assert.deepEqual(got.bad, Array(3).fill('OptionsError bad-argument'));
  await finish();
});

test("the caller's headers in every shape reach the server with the token beside them, and a caller's own Authorization is left alone", T, async () => {
  const tokens = srv.issueTokens({ lifetime: 3600 });
  await createRefresher(tokens);
  // A record without Authorization is sent as a record (the fast path), every other shape as Headers.
  const sent = await tab.page.evaluate(async (base) => {
    const url = `${base}/api/echo`;
    const nullProto = Object.assign(Object.create(null), { 'x-shape': 'null-proto' });
    const shapes = [
      ['none', undefined],
      ['record', { headers: { 'x-shape': 'record', 'X-Two': 'b' } }],
      ['null-proto', { headers: nullProto }],
      ['number value', { headers: { 'x-shape': 7 } }],
      ['Headers', { headers: new Headers({ 'x-shape': 'Headers' }) }],
      ['pairs', { headers: [['x-shape', 'pairs']] }],
      ['__proto__ key', { headers: JSON.parse('{"__proto__":"p","x-shape":"proto-key"}') }],
      ['own Basic', { headers: { 'x-shape': 'basic', Authorization: 'Basic dXNlcjpwdw==' } }],
      ['upper-case Bearer (replaced)', { headers: { 'x-shape': 'bearer', AUTHORIZATION: 'Bearer stale' } }],
    ];
    const out = [];
    for (const [name, init] of shapes) out.push([name, (await r.fetch(url, init)).status]);
    out.push(['Request', (await r.fetch(new Request(url, { headers: { 'x-shape': 'Request' } }))).status]);
    // Headers fetch itself refuses (a Symbol key, a name that is no header name): refused as by fetch.
    for (const [name, headers] of [['symbol key', { 'x-shape': 'symbol', [Symbol('s')]: 'v' }], ['bad name', { 'bad name': 'x' }]]) {
      const native = await fetch(url, { headers }).then((x) => x.status, (e) => e.name);
      const ours = await r.fetch(url, { headers }).then((x) => x.status, (e) => e.name);
      out.push([name, ours, native]);
    }
    return out;
  }, srv.url);
  const seen = srv.requestsTo('/api/echo').map((q) => [q.headers['x-shape'], q.headers['x-two'], q.headers.authorization]);
  const bearer = `Bearer ${tokens.accessToken}`;
  const refused = sent.splice(-2);
  assert.deepEqual(refused, [['symbol key', 'TypeError', 'TypeError'], ['bad name', 'TypeError', 'TypeError']]);
  assert.deepEqual(sent.map(([n]) => n), ['none', 'record', 'null-proto', 'number value', 'Headers', 'pairs', '__proto__ key', 'own Basic', 'upper-case Bearer (replaced)', 'Request']);
  // The own Basic credentials go untouched (and the echo route answers 401 to them, handed back: no refresh).
  assert.deepEqual(sent.map(([, s]) => s), [200, 200, 200, 200, 200, 200, 200, 401, 200, 200]);
  assert.deepEqual(seen, [
    [undefined, undefined, bearer],
    ['record', 'b', bearer],
    ['null-proto', undefined, bearer],
    ['7', undefined, bearer],
    ['Headers', undefined, bearer],
    ['pairs', undefined, bearer],
    ['proto-key', undefined, bearer],
    ['basic', undefined, 'Basic dXNlcjpwdw=='],
    ['bearer', undefined, bearer],
    ['Request', undefined, bearer],
  ]);
  assert.equal(srv.requestsTo('/auth/refresh').length, 0);
});
