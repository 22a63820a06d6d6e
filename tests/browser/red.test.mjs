// Red-team findings (security review), each proved in headless Chromium against the real
// local auth server and a second, "foreign" origin that records what reaches it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { trustSuite, create, assertNoLeak } from '../support/trust-page.mjs';

const { setup } = trustSuite();

test('red 1: a Request look-alike, a Request subclass or own `url` naming an allowed URL, and a stringifier that answers differently the second time: no token reaches the origin fetch really sends to (fetch and interceptor)', { timeout: 30_000 }, async () => {
  const { srv, foreign, page } = await setup();
  await create(page, srv, srv.issueTokens());
  const out = await page.evaluate(async ({ other }) => {
    const statuses = {};
    const attempt = async (name, send) => { statuses[name] = await send().then((x) => x.status, (e) => `${e.name}`); };
    const inputs = () => {
      class Sub extends Request { get url() { return '/api/echo'; } }
      const own = new Request(`${other}/own-url`);
      Object.defineProperty(own, 'url', { value: '/api/echo' });
      let n = 0;
      return {
        lookalike: { [Symbol.toStringTag]: 'Request', url: '/api/echo', toString: () => `${other}/lookalike` },
        subclass: new Sub(`${other}/subclass`),
        own,
        stateful: { toString: () => (n++ === 0 ? '/api/echo' : `${other}/stateful`) },
      };
    };
    for (const [name, input] of Object.entries(inputs())) await attempt(`fetch-${name}`, () => r.fetch(input));
    const off = r.installFetchInterceptor();
    for (const [name, input] of Object.entries(inputs())) await attempt(`interceptor-${name}`, () => fetch(input));
    off();
    // Real Requests to the allowed origin, of this realm and of another (an iframe's), still get it.
    const frame = document.createElement('iframe');
    document.body.append(frame);
    await attempt('request', () => r.fetch(new Request('/api/echo')));
    await attempt('iframe-request', () => r.fetch(new frame.contentWindow.Request(`${location.origin}/api/echo`)));
    await attempt('url-object', () => r.fetch(new URL('/api/echo', location.href)));
    // What fetch cannot stringify fails as fetch fails.
    await attempt('symbol', () => r.fetch(Symbol('x')));
    await attempt('native-symbol', () => fetch(Symbol('x')));
    return { statuses, state: r.state };
  }, { other: foreign.url });
  const leaked = foreign.requests.filter((q) => q.hasAuthorization).map((q) => `${q.method} ${q.path}`);
  assert.deepEqual(leaked, [], 'no Authorization reached the foreign origin');
  assertNoLeak(srv, foreign);
  for (const via of ['fetch', 'interceptor']) {
    for (const name of ['lookalike', 'subclass', 'own']) {
      const path = `/${name === 'own' ? 'own-url' : name}`;
      assert.ok(foreign.requests.some((q) => q.method === 'GET' && q.path === path), `${via} ${name}: the request went to the foreign origin, untouched`);
    }
    // The stringifier is read once: the request goes where the token was allowed to go.
    assert.equal(out.statuses[`${via}-stateful`], 200, `${via} stateful: sent to the allowed URL it named first`);
  }
  assert.equal(out.statuses.request, 200);
  assert.equal(out.statuses['iframe-request'], 200);
  assert.equal(out.statuses['url-object'], 200);
  assert.equal(out.statuses.symbol, out.statuses['native-symbol']);
  assert.equal(out.state, 'fresh');
});

test('red 2: a <base href> injected while a request waits for a refresh does not move its token to another origin', { timeout: 30_000 }, async () => {
  const { srv, foreign, page } = await setup();
  await create(page, srv, srv.issueTokens());
  srv.setRefreshOutcomes([{ status: 200, delay: 400 }]);
  const out = await page.evaluate(async ({ other }) => {
    const refreshing = r.refresh();
    const waiting = r.fetch('api/echo'); // relative: decided against the page's base, waits for the refresh
    const base = document.createElement('base');
    base.href = `${other}/based/`;
    document.head.prepend(base);
    await refreshing;
    const status = await waiting.then((x) => x.status, (e) => e.name);
    base.remove();
    return { status };
  }, { other: foreign.url });
  const leaked = foreign.requests.filter((q) => q.hasAuthorization).map((q) => `${q.method} ${q.path}`);
  assert.deepEqual(leaked, [], 'no Authorization reached the foreign origin');
  assertNoLeak(srv, foreign);
  assert.equal(out.status, 200, 'the request went where it was decided, with the new token');
  assert.equal(srv.state.refreshCalls, 1);
});

// What an XSS payload running after a logout, a state snapshot or an error reporter finds:
// every string reachable from `root` through own properties (also non-enumerable), Maps,
// Sets and errors' causes. Closures and wasm memory are not walked (trust.test.mjs 4 scans that).
const REACH = `(root, secrets) => {
  const seen = new Set();
  const found = [];
  const walk = (v, path, depth) => {
    if (typeof v === 'string') { for (const s of secrets) if (v.includes(s)) found.push(path); return; }
    if (v === null || typeof v !== 'object' || seen.has(v) || depth > 12) return;
    if (v === globalThis || v instanceof Node || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return;
    seen.add(v);
    if (v instanceof Map) for (const [k, x] of v) { walk(k, path + '.<key>', depth + 1); walk(x, path + '.<value>', depth + 1); }
    if (v instanceof Set) for (const x of v) walk(x, path + '.<item>', depth + 1);
    if (v instanceof Error) { walk(v.message, path + '.message', depth + 1); walk(v.cause, path + '.cause', depth + 1); }
    for (const k of Reflect.ownKeys(v)) {
      let x;
      try { x = v[k]; } catch { continue; }
      walk(x, path + '.' + String(k), depth + 1);
    }
  };
  walk(root, 'root', 0);
  return found;
}`;

test('red 3: no token in a RefreshError a caller gets, in JSON.stringify(refresher), nor reachable from the refresher after logout() or dispose()', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup({ rotateRefreshTokens: true });
  const t = srv.issueTokens();
  await create(page, srv, t);
  const rotatedInBadAnswer = `rotated-in-bad-answer-${Date.now()}`;
  srv.setRefreshOutcomes([200, { status: 200, body: JSON.stringify({ accessToken: 5, refreshToken: rotatedInBadAnswer }) }]);
  const out = await page.evaluate(async ({ REACH, rotatedInBadAnswer }) => {
    const reach = (0, eval)(REACH);
    const o = {};
    await r.refresh(); // a good answer: a new access token and a rotated refresh token
    o.json = JSON.stringify(r);
    o.liveToken = r.accessToken;
    // Next, a 2xx answer with no usable access token but a rotated refresh token (kept by the session).
    o.err = await r.refresh().then(() => null, (e) => ({ keys: Object.keys(e), json: JSON.stringify(e), text: String(e), stack: e.stack, reach: reach(e, [rotatedInBadAnswer]) }));
    o.eventJSON = JSON.stringify(events);
    await r.logout();
    o.tokenResponse = r.tokenResponse;
    o.afterLogout = { json: JSON.stringify(r), found: null };
    window.reachFound = (secrets) => reach(r, secrets);
    // A second refresher disposed while its session is live.
    window.r2 = await ft.createRefresher({ tokens: { accessToken: 'r2-access-secret', refreshToken: 'r2-refresh-secret', expiresIn: 3600 }, refresh: async () => ({ accessToken: 'x' }) });
    r2.dispose();
    o.r2Found = reach(r2, ['r2-access-secret', 'r2-refresh-secret']);
    return o;
  }, { REACH, rotatedInBadAnswer });
  const secrets = [...srv.state.issued, rotatedInBadAnswer];
  assert.ok(out.err, 'the bad answer rejected refresh()');
  for (const s of secrets) {
    assert.ok(!out.json.includes(s), 'JSON.stringify(refresher) of a live session holds no token');
    assert.ok(!out.err.json.includes(s) && !out.err.text.includes(s) && !out.err.stack.includes(s), 'the RefreshError holds no token');
    assert.ok(!out.eventJSON.includes(s), 'no event holds a token');
    assert.ok(!out.afterLogout.json.includes(s), 'JSON.stringify(refresher) after logout holds no token');
  }
  assert.deepEqual(out.err.keys.filter((k) => /token/i.test(k)), [], 'no token-named field on the error');
  assert.deepEqual(out.err.reach, [], 'nothing reachable from the error holds the rotated refresh token');
  assert.equal(out.tokenResponse, null, 'tokenResponse is gone with the session');
  const found = await page.evaluate((secrets) => window.reachFound(secrets), secrets);
  assert.deepEqual(found, [], 'after logout() no token of the session is reachable from the refresher');
  assert.deepEqual(out.r2Found, [], 'after dispose() no token is reachable from the refresher');
});

test('red 4: axios: a request with its own `auth` (Basic) answered 401, and with the fetch adapter a same-origin URL redirected to another origin answering 401, start no refresh, no replay, no session end', { timeout: 30_000 }, async () => {
  const { srv, foreign, page } = await setup();
  await create(page, srv, srv.issueTokens());
  const out = await page.evaluate(async ({ base, other }) => {
    const statuses = [];
    const api = axios.create({ baseURL: base });
    ftAxios.attachAxios(r, api);
    // A wrong password at the app's own API (a re-authentication form, say).
    statuses.push(await api.get('/api/echo', { auth: { username: 'user', password: 'wrong' } }).then((x) => x.status, (e) => e.response?.status));
    const viaFetch = axios.create({ baseURL: base, adapter: 'fetch' });
    ftAxios.attachAxios(r, viaFetch);
    // An expired presigned URL elsewhere, reached through a same-origin redirect.
    statuses.push(await viaFetch.get(`/redirect?to=${encodeURIComponent(`${other}/401`)}`).then((x) => x.status, (e) => e.response?.status));
    // The fetch adapter still replays a real 401 of the API (the token revoked meanwhile).
    return { statuses, state: r.state, expired: count('session-expired') };
  }, { base: srv.url, other: foreign.url });
  assert.deepEqual(out.statuses, [401, 401]);
  assert.equal(srv.state.refreshCalls, 0, 'no refresh');
  assert.equal(out.expired, 0, 'no session-expired');
  assert.equal(out.state, 'fresh', 'the session is kept');
  assert.equal(srv.requests.filter((q) => q.path === '/api/echo').length, 1, 'the Basic request was sent once: no replay');
  assert.equal(foreign.requests.filter((q) => q.path === '/401' && q.method === 'GET').length, 1, 'the redirected request was sent once: no replay');
  assertNoLeak(srv, foreign);
  // The fetch adapter still refreshes and replays a real 401 from the API itself.
  srv.revokeAccessTokens();
  const again = await page.evaluate(async (base) => {
    const viaFetch = axios.create({ baseURL: base, adapter: 'fetch' });
    ftAxios.attachAxios(r, viaFetch);
    return viaFetch.get('/api/echo').then((x) => x.status, (e) => e.response?.status);
  }, srv.url);
  assert.equal(again, 200);
  assert.equal(srv.state.refreshCalls, 1);
});

test('red 5: axios: a <base href> injected while a request or its 401 replay waits for a refresh, and a URL object whose stringifier answers differently the next time, do not move the token to another origin', { timeout: 30_000 }, async () => {
  const { srv, foreign, page } = await setup();
  await create(page, srv, srv.issueTokens());
  srv.setRefreshOutcomes([{ status: 200, delay: 400 }, { status: 200, delay: 400 }]);
  const injectBaseDuring = (send) => page.evaluate(async ({ other, send }) => {
    const api = axios.create();
    ftAxios.attachAxios(r, api);
    const waiting = (0, eval)(send)(api).then((x) => x.status, (e) => e.response?.status ?? e.name);
    await sleep(150); // the request is waiting for the refresh
    const base = document.createElement('base');
    base.href = `${other}/based/`;
    document.head.prepend(base);
    const status = await waiting;
    base.remove();
    return status;
  }, { other: foreign.url, send });
  // A request waiting for a refresh in flight.
  const first = await injectBaseDuring('(api) => { r.refresh(); return api.get("api/echo?first"); }');
  // A request answered 401, whose replay waits for the refresh.
  srv.revokeAccessTokens();
  const replay = await injectBaseDuring('(api) => api.get("api/echo?replay")');
  const stateful = await page.evaluate(async (other) => {
    const api = axios.create();
    ftAxios.attachAxios(r, api);
    let n = 0;
    return api.get({ toString: () => (n++ === 0 ? '/api/echo' : `${other}/stateful`) }).then((x) => x.status, (e) => e.response?.status ?? e.name);
  }, foreign.url);
  const leaked = foreign.requests.filter((q) => q.hasAuthorization).map((q) => `${q.method} ${q.path}`);
  assert.deepEqual(leaked, [], 'no Authorization reached the foreign origin');
  assertNoLeak(srv, foreign);
  assert.equal(srv.state.refreshCalls, 2);
  assert.deepEqual([first, replay, stateful], [200, 200, 200], 'each went out (untouched where it moved)');
});

test('red 6: two refreshers on one axios instance (two APIs): a 401 of one is refreshed and replayed by that one, and never with the other\'s token', { timeout: 30_000 }, async () => {
  const { srv, foreign, page } = await setup();
  await create(page, srv, srv.issueTokens()); // r: the API on srv
  srv.revokeAccessTokens();
  const out = await page.evaluate(async ({ base, other }) => {
    // r2: another API (the foreign origin), with its own session and refresh.
    let n = 0;
    window.r2 = await ft.createRefresher({ tokens: { accessToken: 'r2-token-0', expiresIn: 3600 }, origins: [other], refresh: async () => ({ accessToken: `r2-token-${++n}`, expiresIn: 3600 }) });
    const api = axios.create();
    ftAxios.attachAxios(r2, api);
    ftAxios.attachAxios(r, api);
    // r2's request is in the air while r's request with the same number in r's own count
    // is answered 401 (each interceptor numbers every request it sees; r2 counts one more).
    await r2.getAccessToken();
    const slow = api.get(`${other}/slow?ms=1500`).then((x) => x.status, (e) => e.response?.status ?? e.name);
    await sleep(100);
    const status = await api.get(`${base}/api/echo`).then((x) => x.status, (e) => e.response?.status ?? e.name);
    return { status, slow: await slow, r2Refreshes: n, state: r.state };
  }, { base: srv.url, other: foreign.url });
  const r2TokenAtSrv = srv.requests.filter((q) => /r2-token/.test(q.headers.authorization ?? ''));
  assert.deepEqual(r2TokenAtSrv.map((q) => q.path), [], 'r2\'s token never reached r\'s API');
  assert.equal(out.r2Refreshes, 0, 'r\'s 401 did not refresh r2');
  assert.equal(out.status, 200, 'r refreshed and replayed its own request');
  assert.equal(srv.state.refreshCalls, 1);
  assert.equal(out.slow, 200);
  assertNoLeak(srv, foreign);
});

test('red 7: an OAuth error answer that echoes the refresh or access token (error_description) puts no token in errors, events, onSessionExpired\'s info or the console', { timeout: 30_000 }, async () => {
  const { srv, tab, page } = await setup();
  const t = srv.issueTokens();
  srv.setRefreshOutcomes([
    { status: 503, body: JSON.stringify({ error: 'temporarily_unavailable', error_description: `cannot refresh ${t.refreshToken} for ${t.accessToken} now` }) },
    { status: 401, body: JSON.stringify({ error: 'invalid_client', error_description: `client unknown; refresh_token=${t.refreshToken}` }) },
  ]);
  const out = await page.evaluate(async ({ base, t }) => {
    const infos = [];
    window.r = await ft.createRefresher({ tokens: t, endpoint: { url: `${base}/auth/refresh`, preset: 'oauth2', clientId: 'app' }, origins: [base], onSessionExpired: (info) => infos.push(info) });
    listen(r);
    const show = (e) => JSON.stringify({ ...e, message: e.message, text: String(e), stack: e.stack });
    const first = await r.refresh().then(() => 'ok', show);
    const second = await r.refresh().then(() => 'ok', show);
    return { first, second, events: JSON.stringify(events), infos: JSON.stringify(infos), state: r.state };
  }, { base: srv.url, t });
  assert.equal(out.state, 'expired', 'invalid_client ended the session');
  assert.match(out.first, /temporarily_unavailable/, 'the provider\'s words are still shown');
  assert.match(out.infos, /invalid_client/);
  for (const secret of [t.refreshToken, t.accessToken]) {
    for (const [where, text] of [['the first error', out.first], ['the second error', out.second], ['the events', out.events], ['onSessionExpired info', out.infos], ['the console', tab.consoleText()]]) {
      assert.ok(!text.includes(secret), `no token in ${where}`);
    }
  }
});

test('red 8: PubNub: after logout() or the session\'s end the real PubNub client holds no token of it (token and authKey modes); a new login gives it the new one', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const [t1, t2, t3] = [srv.issueTokens(), srv.issueTokens(), srv.issueTokens()];
  await create(page, srv, t1);
  const bundle = await readFile(new URL('../../node_modules/pubnub/dist/web/pubnub.min.js', import.meta.url), 'utf8');
  srv.setRefreshOutcomes([401]);
  const out = await page.evaluate(async ({ bundle, t2, t3 }) => {
    (0, eval)(bundle); // the PubNub web client (UMD: window.PubNub)
    const ftPubNub = await import('/js/pubnub.js');
    const client = (userId) => new PubNub({ subscribeKey: 'demo', publishKey: 'demo', userId });
    const a = client('a');
    const b = client('b');
    ftPubNub.attachPubNub(r, a);
    ftPubNub.attachPubNub(r, b, { mode: 'authKey' });
    const held = () => [a.getToken() ?? null, b.getAuthKey() ?? null];
    const o = { start: held() };
    await r.logout();
    o.afterLogout = held();
    r.setTokens(t2);
    o.afterLogin = held();
    await r.refresh().catch(() => {}); // 401: the session ends
    o.afterEnd = held();
    r.setTokens(t3);
    o.afterLogin2 = held();
    return o;
  }, { bundle, t2, t3 });
  assert.deepEqual(out.start, [t1.accessToken, t1.accessToken]);
  assert.deepEqual(out.afterLogout, [null, null], 'after logout() the client holds no token');
  assert.deepEqual(out.afterLogin, [t2.accessToken, t2.accessToken]);
  assert.deepEqual(out.afterEnd, [null, null], 'after the session ended the client holds no token');
  assert.deepEqual(out.afterLogin2, [t3.accessToken, t3.accessToken]);
});

test('red 9: a polluted Object.prototype (origins, fetch, endpoint headers, refreshToken) adds no option: no token to its origin, no refresh token to its function, no inherited refresh token taken from a refresh answer or setTokens', { timeout: 30_000 }, async () => {
  const { srv, foreign, page } = await setup();
  const t = srv.issueTokens();
  const out = await page.evaluate(async ({ other, t }) => {
    const polluted = {
      origins: [other],
      fetch(input, init) { window.stolen = (window.stolen ?? '') + String(init?.body ?? ''); return window.fetch(input, init); },
      headers: { 'x-polluted': 'yes' },
      refreshToken: 'inherited-refresh-token',
    };
    Object.assign(Object.prototype, polluted);
    try {
      const a = await ft.createRefresher({ tokens: { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresIn: 3600 }, endpoint: { url: '/auth/refresh' } });
      const sent = await a.fetch(`${other}/polluted`).then((x) => x.status, (e) => e.name);
      const refreshed = await a.refresh().then(() => 'ok', (e) => `${e.name}:${e.code}`);
      a.setTokens({ accessToken: a.accessToken }); // no refresh token given: the new session has none, not an inherited one
      const again = await a.refresh().then(() => 'ok', (e) => `${e.name}:${e.code}`);
      a.dispose();
      return { sent, refreshed, again, stolen: window.stolen ?? null };
    } finally {
      for (const k of Object.keys(polluted)) delete Object.prototype[k];
    }
  }, { other: foreign.url, t });
  const leaked = foreign.requests.filter((q) => q.hasAuthorization).map((q) => `${q.method} ${q.path}`);
  assert.deepEqual(leaked, [], 'no Authorization reached the origin Object.prototype.origins named');
  assertNoLeak(srv, foreign);
  assert.equal(out.stolen, null, 'Object.prototype.fetch was never used');
  assert.equal(out.refreshed, 'ok');
  const refreshCalls = srv.requestsTo('/auth/refresh');
  assert.ok(refreshCalls.every((q) => q.headers['x-polluted'] === undefined), 'no inherited endpoint header');
  assert.ok(refreshCalls.every((q) => !q.body.includes('inherited-refresh-token')), 'no inherited refresh token spent');
  assert.equal(out.again, 'SessionError:session-expired', 'without a refresh token of its own the session ends (no-refresh-token)');
  assert.equal(refreshCalls.length, 1);
});

test('red 11: with Object.prototype.out polluted, a session kept in localStorage is still restored on the next page (not read as a logout marker)', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const t = srv.issueTokens();
  const out = await page.evaluate(async ({ base, t }) => {
    const opts = () => ({ endpoint: { url: `${base}/auth/refresh` }, origins: [base], storage: 'localStorage', storageKey: 'red11' });
    const a = await ft.createRefresher({ ...opts(), tokens: t });
    a.dispose();
    Object.prototype.out = true;
    try {
      const b = await ft.createRefresher(opts());
      const restored = [b.state, b.accessToken === t.accessToken];
      b.dispose();
      return restored;
    } finally {
      delete Object.prototype.out;
      localStorage.removeItem('red11');
    }
  }, { base: srv.url, t });
  assert.deepEqual(out, ['fresh', true]);
});

test('red 12: user 2 logs in (setTokens without a refresh token) over user 1\'s live session: no refresh spends user 1\'s refresh token, user 2 never receives user 1\'s session', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const user1 = srv.issueTokens();
  await create(page, srv, user1);
  const user2 = { accessToken: srv.issueTokens().accessToken, expiresIn: 3600 }; // a login without "remember me": no refresh token
  const out = await page.evaluate(async (user2) => {
    r.setTokens(user2);
    const refreshed = await r.refresh().then((t) => `token ${t}`, (e) => `${e.name}:${e.code}`);
    return { refreshed, token: r.accessToken };
  }, user2);
  assert.equal(srv.requestsTo('/auth/refresh').filter((q) => q.body.includes(user1.refreshToken)).length, 0, 'user 1\'s refresh token was not spent for user 2');
  assert.ok(!out.refreshed.startsWith('token'), `no new session came of it (${out.refreshed})`);
  assert.notEqual(out.token, user1.accessToken);
});

test('red 13: new Refresher(options) checks its options as createRefresher does: an OptionsError naming the problem, never a TypeError; good options work', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const t = srv.issueTokens();
  const out = await page.evaluate(async ({ base, t }) => {
    const o = {};
    const cases = {
      none: undefined,
      typo: { tokens: t, endpoint: { url: '/auth/refresh' }, orgins: [base] },
      noWay: { tokens: t },
      sharedStorage: { tokens: t, endpoint: { url: '/auth/refresh' }, storage: 'localStorage', storageKey: 'red13' },
      good: { tokens: t, endpoint: { url: `${base}/auth/refresh` }, origins: [base] },
    };
    for (const [name, options] of Object.entries(cases)) {
      try {
        const r = new ft.Refresher(options);
        o[name] = [r.state, await r.fetch('/api/echo').then((x) => x.status)];
        r.dispose();
      } catch (e) {
        o[name] = `${e.name}:${e.code}:${e.message}`;
      }
    }
    localStorage.removeItem('red13');
    return o;
  }, { base: srv.url, t });
  for (const name of ['none', 'typo', 'noWay', 'sharedStorage']) assert.match(out[name], /^OptionsError:bad-option:/, name);
  assert.match(out.typo, /orgins/);
  assert.match(out.sharedStorage, /crossTab/);
  assert.deepEqual(out.good, ['fresh', 200]);
});

test('red 14: with Object.prototype.out polluted, another tab\'s broadcast session is still taken (not read as a logout marker)', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const [t1, t2] = [srv.issueTokens(), srv.issueTokens()];
  const out = await page.evaluate(async ({ base, t1, t2 }) => {
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    // Memory storage: the BroadcastChannel is the only way the session reaches b.
    const opts = () => ({ endpoint: { url: `${base}/auth/refresh` }, origins: [base], storage: 'memory', crossTab: true, storageKey: 'red14' });
    const a = await ft.createRefresher({ ...opts(), tokens: t1 });
    const b = await ft.createRefresher(opts());
    await sleep(300);
    const before = b.accessToken === t1.accessToken;
    Object.prototype.out = true;
    try {
      a.setTokens(t2);
      await sleep(300);
      return { before, after: b.accessToken === t2.accessToken, state: b.state };
    } finally {
      delete Object.prototype.out;
      a.dispose();
      b.dispose();
    }
  }, { base: srv.url, t1, t2 });
  assert.deepEqual(out, { before: true, after: true, state: 'fresh' });
});

test('red 15: lock names planted on the tabs\' lock (a failure held until 1e300, a generation 1e300) hold no refresh back and move no generation', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const t = srv.issueTokens();
  const out = await page.evaluate(async ({ base, t }) => {
    const key = 'red15';
    const r = await ft.createRefresher({ endpoint: { url: `${base}/auth/refresh` }, origins: [base], storage: 'localStorage', storageKey: key, tokens: t });
    const { gen } = JSON.parse(localStorage.getItem(key));
    const hold = (name) => navigator.locks.request(name, { mode: 'shared' }, () => new Promise(() => {}));
    hold(`freshtoken:${key}:failed:${gen}:1e300:503:planted`);
    hold(`freshtoken:${key}:gen:1e300`);
    await new Promise((res) => setTimeout(res, 50));
    const started = performance.now();
    try {
      const token = await r.refresh();
      const rec = JSON.parse(localStorage.getItem(key));
      return { refreshed: token !== t.accessToken && token === r.accessToken, ms: performance.now() - started, gen: rec.gen, sane: rec.gen > gen && rec.gen < 9e15 };
    } catch (e) {
      return { error: `${e.name}:${e.code}` };
    } finally {
      r.dispose();
      localStorage.removeItem(key);
    }
  }, { base: srv.url, t });
  assert.equal(out.error, undefined, `the refresh failed: ${out.error}`);
  assert.equal(out.refreshed, true);
  assert.ok(out.sane, `the new generation ${out.gen} is one the protocol makes`);
  assert.ok(out.ms < 2500, `the refresh did not wait for a record no tab will write (${out.ms} ms)`);
  assert.equal(srv.requestsTo('/auth/refresh').length, 1);
});

test('red 16: loginUrl must be an http(s) URL (javascript:, data:, however written, is an OptionsError); the URL judged is the one visited, whatever <base href> is injected later', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const t = srv.issueTokens();
  const refused = await page.evaluate(async ({ base, t }) => {
    const out = {};
    for (const u of ['javascript:alert(document.cookie)', ' JavaScript:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'http://']) {
      try {
        (await ft.createRefresher({ tokens: t, endpoint: { url: `${base}/auth/refresh` }, origins: [base], loginUrl: u })).dispose();
        out[u] = 'taken';
      } catch (e) {
        out[u] = `${e.name}:${e.code}:${/loginUrl/.test(e.message)}`;
      }
    }
    return out;
  }, { base: srv.url, t });
  for (const [u, got] of Object.entries(refused)) assert.equal(got, 'OptionsError:bad-option:true', JSON.stringify(u));
  // A refresh token the server does not know: the refresh is rejected, the session ends.
  await page.evaluate(async ({ base, t }) => {
    window.r = await ft.createRefresher({ tokens: { ...t, refreshToken: 'not-a-refresh-token-of-this-server' }, endpoint: { url: `${base}/auth/refresh` }, origins: [base], loginUrl: '/login?next=%2F' });
    const b = document.createElement('base');
    b.href = 'https://evil.example/';
    document.head.append(b);
    r.refresh().catch(() => {});
  }, { base: srv.url, t });
  await page.waitForURL((u) => /\/login/.test(String(u)), { timeout: 10_000 });
  assert.equal(page.url(), `${srv.url}/login?next=%2F`);
});

test('red 17: a refresh answer of 20 MB, or one whose tokens are over 256 KiB, grows the wasm memory by no more than what it reads (1 MiB): not taken, the session kept', { timeout: 60_000 }, async () => {
  const { srv, page } = await setup();
  const t = srv.issueTokens();
  await create(page, srv, t);
  // No rotated refresh token but in the third: the session keeps the one the server knows.
  const huge = (extra) => ({ status: 200, body: JSON.stringify({ accessToken: 'a2', expiresIn: 3600, ...extra }) });
  srv.setRefreshOutcomes([
    huge({ padding: 'x'.repeat(20_000_000) }),
    huge({ accessToken: 'y'.repeat(300_000) }),
    huge({ refreshToken: 'z'.repeat(300_000) }),
  ]);
  const out = await page.evaluate(async () => {
    const glue = await import('/pkg/freshtoken.js');
    const wasm = await glue.default(); // already initialized: hands back the instance's exports
    const before = wasm.memory.buffer.byteLength;
    const grew = [];
    // The first answer, then the engine's own retries (1 s, 2 s) take the other two.
    r.on('refresh-error', () => grew.push(wasm.memory.buffer.byteLength - before));
    await r.refresh().catch(() => {});
    while (count('refresh-error') < 3) await new Promise((res) => setTimeout(res, 50));
    const codes = events.filter((e) => e.e === 'refresh-error').map((e) => e.code);
    return { codes, grew, expired: count('session-expired'), taken: r.accessToken === 'a2' || r.accessToken.length > 1000 };
  });
  assert.deepEqual(out.codes.slice(0, 3), ['bad-response', 'too-large', 'too-large']);
  assert.equal(out.expired, 0, 'the session was kept');
  assert.equal(out.taken, false, 'no token of the three answers was taken');
  // Reading 1 MiB (and the engine's copies of it) costs the allocator a few MiB, whatever the
  // answer's size: a 20 MB answer copied whole grew it by over 100 MB.
  assert.ok(out.grew[0] <= 4 * 2 ** 20, `a 20 MB answer grew wasm memory by ${out.grew[0]} B`);
  assert.ok(out.grew[2] <= 8 * 2 ** 20, `the three answers grew wasm memory by ${out.grew[2]} B`);
});
