// Trust under attack and concurrency (issue 10), in headless Chromium against the real
// local auth server and a second, "foreign" origin that records what reaches it:
// where the token goes and which answers count, sessions that stay ended and stay theirs,
// a refresh that never waits for itself, floors and clocks, the 403 rule, partial answers.
// Each test names the item of the issue it proves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startServer } from '../support/server.mjs';
import { trustSuite, create, assertNoLeak } from '../support/trust-page.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const { setup, cleanup, browser: launched } = trustSuite();

// ---------------------------------------------------------------- 1-4: where the token goes

test('1: URLs with tab, LF or CR ("/\\t/host:port/x") and a <base href> elsewhere get no token, through fetch, the interceptor and axios', { timeout: 30_000 }, async () => {
  const { srv, foreign, page } = await setup();
  await create(page, srv, srv.issueTokens());
  const host = new URL(foreign.url).host;
  await page.evaluate(async ({ host, foreignURL }) => {
    const api = axios.create();
    ftAxios.attachAxios(r, api);
    for (const [name, ws] of [['tab', '\t'], ['lf', '\n'], ['cr', '\r']]) {
      await r.fetch(`/${ws}/${host}/leak-fetch-${name}`);
      const off = r.installFetchInterceptor();
      await fetch(`/${ws}/${host}/leak-interceptor-${name}`);
      off();
      await api.get(`/${ws}/${host}/leak-axios-${name}`);
    }
    // A <base href> on another origin: relative URLs go there, so no token either.
    const base = document.createElement('base');
    base.href = `${foreignURL}/based/`;
    document.head.prepend(base);
    await r.fetch('leak-base');
    await api.get('leak-base-axios');
    base.remove();
  }, { host, foreignURL: foreign.url });
  const paths = foreign.requests.filter((q) => q.method !== 'OPTIONS').map((q) => q.path);
  for (const via of ['fetch', 'interceptor', 'axios']) {
    for (const name of ['tab', 'lf', 'cr']) assert.ok(paths.includes(`/leak-${via}-${name}`), `the ${via} request (${name}) went to the foreign origin`);
  }
  assert.ok(paths.includes('/based/leak-base') && paths.includes('/based/leak-base-axios'), '<base href> was honoured');
  assert.ok(foreign.requests.every((q) => !q.hasAuthorization), 'no Authorization reached the foreign origin');
  assertNoLeak(srv, foreign);
  // The same-origin path still gets the token.
  assert.equal(await page.evaluate(() => r.fetch('/api/echo').then((x) => x.status)), 200);
});

test('2: a third-party 401 to the app\'s own Bearer key (axios) and a same-origin URL redirected to another origin answering 401 start no refresh, no replay, no logout', { timeout: 30_000 }, async () => {
  const { srv, foreign, page } = await setup();
  await create(page, srv, srv.issueTokens());
  const out = await page.evaluate(async (other) => {
    const api = axios.create();
    ftAxios.attachAxios(r, api);
    const statuses = [];
    for (let i = 0; i < 2; i++) {
      statuses.push(await api.get(`${other}/401`, { headers: { Authorization: 'Bearer app-own-key' } }).then((x) => x.status, (e) => e.response?.status));
    }
    const to = encodeURIComponent(`${other}/401`);
    statuses.push((await r.fetch(`/redirect?to=${to}`)).status);
    const off = r.installFetchInterceptor();
    statuses.push((await fetch(`/redirect?to=${to}`)).status);
    off();
    statuses.push(await api.get(`/redirect?to=${to}`).then((x) => x.status, (e) => e.response?.status));
    return { statuses, state: r.state };
  }, foreign.url);
  assert.deepEqual(out.statuses, [401, 401, 401, 401, 401]);
  assert.equal(out.state, 'fresh');
  assert.equal(srv.state.refreshCalls, 0, 'no refresh');
  const to401 = foreign.requests.filter((q) => q.path === '/401' && q.method === 'GET');
  assert.equal(to401.length, 5, 'each request sent once: no replay');
  assert.deepEqual(to401.slice(0, 2).map((q) => q.headers.authorization), ['Bearer app-own-key', 'Bearer app-own-key']);
  assert.equal(await page.evaluate(() => count('session-expired')), 0);
  assertNoLeak(srv, foreign);
});

test('3: a refresh endpoint redirecting (307) to another origin is refused as a transient bad-response; the refresh token does not follow', { timeout: 30_000 }, async () => {
  const { srv, foreign, page } = await setup();
  await create(page, srv, srv.issueTokens());
  srv.setRefreshOutcomes([{ status: 307, headers: { location: `${foreign.url}/steal` } }, { status: 308, headers: { location: `${foreign.url}/steal` } }]);
  const out = await page.evaluate(async () => {
    const a = await r.refresh().then(() => 'ok', (e) => `${e.name}:${e.code}`);
    return { a, state: r.state, errors: events.filter((x) => x.e === 'refresh-error').map((x) => x.code) };
  });
  assert.equal(out.a, 'RefreshError:bad-response');
  assert.equal(out.state, 'fresh', 'the session is kept');
  assert.deepEqual(out.errors, ['bad-response']);
  assert.equal(foreign.requests.length, 0, 'nothing reached the redirect target');
});

test('4: tokens are wiped from wasm memory when replaced, on logout(), on dispose() and after decodeToken', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const [t1, t2, t3, t4] = [srv.issueTokens(), srv.issueTokens(), srv.issueTokens(), srv.issueTokens()];
  const out = await page.evaluate(async ({ base, t1, t2, t3, t4 }) => {
    const glue = await import('/pkg/freshtoken.js');
    const wasm = await glue.default(); // already initialized: hands back the instance's exports
    const inMemory = (s) => {
      const mem = new Uint8Array(wasm.memory.buffer);
      const needle = new TextEncoder().encode(s);
      outer: for (let i = 0; i + needle.length <= mem.length; i++) {
        if (mem[i] !== needle[0]) continue;
        for (let j = 1; j < needle.length; j++) if (mem[i + j] !== needle[j]) continue outer;
        return true;
      }
      return false;
    };
    const seen = {};
    const r1 = await ft.createRefresher({ tokens: t1, endpoint: { url: `${base}/auth/refresh` } });
    seen.heldIsVisible = inMemory(t1.accessToken) && inMemory(t1.refreshToken);
    void r1.accessToken;
    r1.setTokens(t2);
    seen.replaced = inMemory(t1.accessToken) || inMemory(t1.refreshToken);
    seen.newHeld = inMemory(t2.accessToken);
    r1.logout();
    seen.afterLogout = inMemory(t2.accessToken) || inMemory(t2.refreshToken);
    const r2 = await ft.createRefresher({ tokens: t3, endpoint: { url: `${base}/auth/refresh` } });
    r2.dispose();
    seen.afterDispose = inMemory(t3.accessToken) || inMemory(t3.refreshToken);
    ft.decodeToken(t4.accessToken);
    seen.afterDecode = inMemory(t4.accessToken);
    r1.dispose();
    return seen;
  }, { base: srv.url, t1, t2, t3, t4 });
  assert.deepEqual(out, { heldIsVisible: true, replaced: false, newHeld: true, afterLogout: false, afterDispose: false, afterDecode: false });
});

// ---------------------------------------------------------------- 5-8: sessions that stay ended

/** Two tabs of one browser profile on the test page. */
async function openTabs(srv) {
  const context = await launched().browser.newContext();
  cleanup.push(() => context.close());
  const pages = [];
  for (let i = 0; i < 2; i++) {
    const p = await context.newPage();
    await p.goto(`${srv.url}/test.html`);
    await p.waitForFunction(() => window.ready === true);
    pages.push(p);
  }
  return pages;
}

async function twoTabs(srv, storage, tokens) {
  const pages = await openTabs(srv);
  for (const [i, p] of pages.entries()) {
    await p.evaluate(async ({ base, storage, tokens }) => {
      window.events = [];
      window.r = await ft.createRefresher({ tokens: tokens ?? undefined, endpoint: { url: `${base}/auth/refresh` }, storage, storageKey: 'trust', crossTab: true });
      for (const e of ['refresh', 'logout', 'session-expired']) r.on(e, () => events.push({ e, t: performance.now() }));
    }, { base: srv.url, storage, tokens: i === 0 ? tokens : null });
  }
  await sleep(300);
  return pages;
}

const look = (p) => p.evaluate(() => ({ state: r.state, token: r.accessToken, stored: localStorage.getItem('trust') }));

for (const storage of ['memory', 'localStorage']) {
  for (const where of ['another tab', 'this tab']) {
    test(`5: crossTab (${storage}): a logout while a refresh is in flight in ${where} stays a logout in every tab`, { timeout: 30_000 }, async () => {
      const srv = await startServer({ lifetime: 3600, rotateRefreshTokens: true });
      cleanup.push(() => srv.close());
      const [a, b] = await twoTabs(srv, storage, srv.issueTokens());
      assert.ok((await look(b)).token, 'tab B joined the session');
      srv.setRefreshOutcomes([{ delay: 1200 }]);
      const refresher = where === 'this tab' ? a : b;
      const pending = refresher.evaluate(() => r.refresh().then(() => 'ok', (e) => `${e.name}:${e.code}`));
      await sleep(300);
      await a.evaluate(() => r.logout());
      const outcome = await pending;
      await sleep(1800); // the server's late answer has come and gone
      for (const p of [a, b]) {
        const s = await look(p);
        assert.equal(s.state, 'logged-out');
        assert.equal(s.token, null);
        if (storage === 'localStorage') assert.ok(!s.stored || !JSON.parse(s.stored).accessToken, 'no token written back to disk');
      }
      assert.match(outcome, /^SessionError:/, 'the refresh reports the session as over');
    });
  }
}

test('6: user 1 logs out and user 2 logs in on tab A while tab B refreshes user 1: both tabs hold user 2', { timeout: 30_000 }, async () => {
  const srv = await startServer({ lifetime: 3600 });
  cleanup.push(() => srv.close());
  const [a, b] = await twoTabs(srv, 'localStorage', srv.issueTokens());
  srv.setRefreshOutcomes([{ delay: 1200 }]);
  const pending = b.evaluate(() => r.refresh().catch(() => null));
  await sleep(300);
  const user2 = srv.issueTokens();
  await a.evaluate((t) => { r.logout(); r.setTokens(t); }, user2);
  await pending;
  await sleep(1800);
  for (const p of [a, b]) {
    const s = await look(p);
    assert.equal(s.token, user2.accessToken, 'user 2\'s session');
    assert.equal(JSON.parse(s.stored).accessToken, user2.accessToken);
  }
});

test('7: logout() aborts the refresh\'s ctx.signal at once', { timeout: 30_000 }, async () => {
  const { page } = await setup();
  const out = await page.evaluate(async () => {
    let abortedAt = null;
    window.r = await ft.createRefresher({
      tokens: { accessToken: 'opaque-1', refreshToken: 'r-1', expiresIn: 3600 },
      refresh: ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => { abortedAt = performance.now(); reject(signal.reason); })),
    });
    const p = r.refresh().then(() => 'ok', (e) => `${e.name}:${e.code}`);
    await sleep(50);
    const t = performance.now();
    r.logout();
    return { result: await p, ms: abortedAt === null ? null : abortedAt - t, state: r.state };
  });
  assert.equal(out.result, 'SessionError:logged-out');
  assert.ok(out.ms !== null && out.ms < 50, `aborted ${out.ms} ms after logout`);
  assert.equal(out.state, 'logged-out');
});

test('8: storage localStorage without a crossTab option coordinates tabs: one refresh with a rotating refresh token, no session lost', { timeout: 30_000 }, async () => {
  const srv = await startServer({ lifetime: 3600, rotateRefreshTokens: true });
  cleanup.push(() => srv.close());
  const pages = await openTabs(srv);
  const tokens = srv.issueTokens();
  for (const [i, p] of pages.entries()) {
    await p.evaluate(async ({ base, tokens }) => {
      window.r = await ft.createRefresher({ tokens: tokens ?? undefined, endpoint: { url: `${base}/auth/refresh` }, storage: 'localStorage' });
    }, { base: srv.url, tokens: i === 0 ? tokens : null });
  }
  for (let round = 1; round <= 2; round++) {
    const results = await Promise.all(pages.map((p) => p.evaluate(() => r.refresh().then(() => 'ok', (e) => `${e.name}:${e.code}`))));
    await sleep(300);
    assert.deepEqual(results, ['ok', 'ok'], `round ${round}`);
    assert.equal(srv.state.refreshCalls, round, `one refresh call for both tabs in round ${round}`);
    const [x, y] = await Promise.all(pages.map((p) => p.evaluate(() => [r.state, r.accessToken])));
    assert.equal(x[0], 'fresh');
    assert.equal(x[1], y[1], 'both tabs hold the same token');
  }
});

// ---------------------------------------------------------------- 9-10: never wait for itself

for (const combo of ['custom refresh with the global fetch + interceptor (README)', 'fetch option calling the global fetch + interceptor', 'a fetch wrapper installed after the interceptor', 'custom refresh through the axios instance given to attachAxios']) {
  test(`9: no self-deadlock: ${combo}`, { timeout: 30_000 }, async () => {
    const { srv, page } = await setup();
    const stale = { accessToken: srv.expiredToken(), refreshToken: srv.issueTokens().refreshToken };
    const out = await page.evaluate(async ({ base, tokens, combo }) => {
      const endpoint = { url: `${base}/auth/refresh` };
      const common = { tokens, origins: [base], refreshTimeoutMs: 8000 };
      const t = performance.now();
      let status;
      if (combo.startsWith('custom refresh with')) {
        window.r = await ft.createRefresher({ ...common,
          refresh: async ({ refreshToken, signal }) => {
            const res = await fetch(`${base}/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }), signal });
            if (res.status === 401) throw Object.assign(new Error('refused'), { sessionExpired: true });
            if (!res.ok) throw new Error(`HTTP ${res.status}`);
            return res.json();
          } });
        r.installFetchInterceptor();
        status = (await fetch('/api/echo')).status;
      } else if (combo.startsWith('fetch option')) {
        window.r = await ft.createRefresher({ ...common, endpoint, fetch: (i, n) => window.fetch(i, n) });
        r.installFetchInterceptor();
        status = (await fetch('/api/echo')).status;
      } else if (combo.startsWith('a fetch wrapper')) {
        window.r = await ft.createRefresher({ ...common, endpoint });
        r.installFetchInterceptor();
        const inner = window.fetch;
        window.apmSeen = [];
        window.fetch = (i, n) => { apmSeen.push(String(i)); return inner(i, n); };
        status = (await fetch('/api/echo')).status;
      } else {
        const api = axios.create({ baseURL: base });
        window.r = await ft.createRefresher({ ...common,
          refresh: async ({ refreshToken }) => (await api.post('/auth/refresh', { refreshToken })).data });
        ftAxios.attachAxios(r, api);
        status = (await api.get('/api/echo')).status;
      }
      return { status, ms: performance.now() - t, state: r.state };
    }, { base: srv.url, tokens: stale, combo });
    assert.equal(out.status, 200);
    assert.ok(out.ms < 3000, `answered in ${Math.round(out.ms)} ms (a self-wait would last refreshTimeoutMs)`);
    assert.equal(srv.state.refreshCalls, 1);
    assert.equal(out.state, 'fresh');
    const refreshReq = srv.requestsTo('/auth/refresh')[0];
    assert.ok(!/Bearer/.test(refreshReq.headers.authorization ?? ''), 'the refresh\'s own request went out untouched');
  });
}

test('10: interceptors of two refreshers chain, and uninstalling in any order brings none back', { timeout: 30_000 }, async () => {
  const { srv, foreign, page } = await setup();
  const [t1, t2] = [srv.issueTokens(), srv.issueTokens()];
  const out = await page.evaluate(async ({ base, other, t1, t2 }) => {
    const native = window.fetch;
    const r1 = await ft.createRefresher({ tokens: t1, endpoint: { url: `${base}/auth/refresh` } });
    const r2 = await ft.createRefresher({ tokens: t2, endpoint: { url: `${base}/auth/refresh` }, origins: [other], storageKey: 'second' });
    const auth = async (url) => (await (await fetch(url)).json()).auth;
    const off1 = r1.installFetchInterceptor();
    const off2 = r2.installFetchInterceptor();
    const both = [await auth('/api/echo'), await auth(`${other}/x`)];
    off1(); // out of order: r1 was installed first
    const after1 = [await fetch('/api/echo').then((x) => x.status), await auth(`${other}/x`)];
    off2();
    const after2 = [await fetch('/api/echo').then((x) => x.status), await auth(`${other}/x`), window.fetch === native];
    r1.dispose(); r2.dispose();
    return { both, after1, after2 };
  }, { base: srv.url, other: foreign.url, t1, t2 });
  assert.deepEqual(out.both, [true, true], 'each refresher\'s token to its own origin');
  assert.deepEqual(out.after1, [401, true], 'r1 gone, r2 still working');
  assert.deepEqual(out.after2, [401, false, true], 'both gone, the native fetch back');
  const tokensAtForeign = foreign.requests.map((q) => q.headers.authorization).filter(Boolean);
  assert.ok(tokensAtForeign.every((h) => h === `Bearer ${t2.accessToken}`), 'the foreign origin only ever saw r2\'s token');
});

// ---------------------------------------------------------------- 11-14: time

const STORMS = {
  'expiresIn: 0': (t) => ({ status: 200, body: JSON.stringify({ accessToken: `opaque-${t}`, expiresIn: 0 }) }),
  'expiresIn: 0.001': (t) => ({ status: 200, body: JSON.stringify({ accessToken: `opaque-${t}`, expiresIn: 0.001 }) }),
  'expiresAt in seconds': (t) => ({ status: 200, body: JSON.stringify({ accessToken: `opaque-${t}`, expiresAt: Math.floor(Date.now() / 1000) + 900 }) }),
  'Retry-After: 0': () => ({ status: 503, headers: { 'retry-after': '0' } }),
  'Retry-After: 1.5': () => ({ status: 503, headers: { 'retry-after': '1.5' } }),
};
for (const [name, answer] of Object.entries(STORMS)) {
  test(`11: no refresh storm on ${name}: at most one automatic attempt a second, the answer reported`, { timeout: 30_000 }, async () => {
    const { srv, page } = await setup();
    srv.setRefreshOutcomes(Array.from({ length: 50 }, (_, i) => answer(i)));
    await create(page, srv, { accessToken: srv.expiredToken(), refreshToken: srv.issueTokens().refreshToken });
    await sleep(3500);
    const calls = srv.state.refreshCalls;
    const out = await page.evaluate(() => ({ codes: events.filter((x) => x.e === 'refresh-error').map((x) => x.code), isError: events.find((x) => x.e === 'refresh-error')?.isError, state: r.state }));
    assert.ok(calls >= 2 && calls <= 5, `${calls} refresh calls in 3.5 s`);
    const times = srv.state.refreshTimes;
    for (let i = 1; i < times.length; i++) assert.ok(times[i] - times[i - 1] >= 700, `attempts ${times[i] - times[i - 1]} ms apart`);
    assert.ok(out.codes.length >= 1, 'reported as refresh-error');
    assert.equal(out.isError, true, 'refresh-error carries an Error, as the types say');
    if (name.startsWith('expires')) assert.ok(out.codes.every((c) => c === 'bad-expiry'), out.codes.join());
    assert.notEqual(out.state, 'expired', 'never a logout');
  });
}

test('12: a wall clock set back an hour during a backoff does not push the retry back an hour', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  srv.setRefreshOutcomes([503]);
  await create(page, srv, { accessToken: srv.expiredToken(), refreshToken: srv.issueTokens().refreshToken });
  await page.evaluate(() => waitFor(() => count('refresh-error') === 1, 5000, 'the first failure'));
  const out = await page.evaluate(async () => {
    const real = Date.now.bind(Date);
    Date.now = () => real() - 3600_000;
    const t = performance.now();
    const status = (await r.fetch('/api/echo')).status;
    return { status, ms: performance.now() - t, state: r.state };
  });
  assert.equal(out.status, 200);
  assert.ok(out.ms < 2500, `served ${Math.round(out.ms)} ms after the clock moved back (backoff ~1 s)`);
  assert.equal(srv.state.refreshCalls, 2);
});

test('13: requests waiting out a backoff wake when an earlier retry (online) succeeds, with no redundant refresh', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  srv.setRefreshOutcomes([{ status: 503, headers: { 'retry-after': '10' } }]);
  await create(page, srv, { accessToken: srv.expiredToken(), refreshToken: srv.issueTokens().refreshToken }, { refreshTimeoutMs: 20000 });
  await page.evaluate(() => waitFor(() => count('refresh-error') === 1, 5000, 'the first failure'));
  const out = await page.evaluate(async () => {
    const t = performance.now();
    const pending = Promise.all([r.fetch('/api/echo'), r.fetch('/api/echo'), r.getAccessToken()]);
    await sleep(300);
    window.dispatchEvent(new Event('online'));
    const [a, b] = await pending;
    return { statuses: [a.status, b.status], ms: performance.now() - t };
  });
  assert.deepEqual(out.statuses, [200, 200]);
  assert.ok(out.ms < 2000, `woke ${Math.round(out.ms)} ms after the wait began`);
  await sleep(1500);
  assert.equal(srv.state.refreshCalls, 2, 'the failure, then the online retry: nothing redundant');
});

test('14: a request\'s signal aborts its wait; dispose() settles every waiter at once; refreshTimeoutMs above 2^31-1 is refused', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  srv.setRefreshOutcomes([{ delay: 5000 }, { status: 503, headers: { 'retry-after': '30' } }]);
  await create(page, srv, { accessToken: srv.expiredToken(), refreshToken: srv.issueTokens().refreshToken });
  const out = await page.evaluate(async (base) => {
    const ac = new AbortController();
    const t = performance.now();
    const aborted = r.fetch('/api/echo', { signal: ac.signal }).then(() => 'sent', (e) => e.name);
    setTimeout(() => ac.abort(), 200);
    const abortResult = await aborted;
    const abortMs = performance.now() - t;
    // dispose() during the (5 s) refresh: every waiter settles at once.
    const waiters = [r.fetch('/api/echo'), r.getAccessToken(), r.fetch('/api/echo')].map((p) => p.then(() => 'ok', (e) => `${e.name}:${e.code}`));
    await sleep(100);
    const t2 = performance.now();
    r.dispose();
    const settled = await Promise.all(waiters);
    const disposeMs = performance.now() - t2;
    const bad = await ft.createRefresher({ endpoint: { url: `${base}/auth/refresh` }, refreshTimeoutMs: 2 ** 31 }).then(() => 'accepted', (e) => `${e.name}:${e.code}`);
    return { abortResult, abortMs, settled, disposeMs, bad };
  }, srv.url);
  assert.equal(out.abortResult, 'AbortError');
  // The refresh they wait for answers after 5 s: settling well before that is "at once",
  // with room for a loaded machine (a 100 ms bound failed once under a parallel build).
  assert.ok(out.abortMs < 1500, `aborted after ${Math.round(out.abortMs)} ms`);
  assert.ok(out.disposeMs < 1000, `dispose settled the waiters in ${Math.round(out.disposeMs)} ms`);
  assert.equal(out.settled.length, 3);
  assert.equal(out.bad, 'OptionsError:bad-option');
});

// ---------------------------------------------------------------- 15-20: answers and replays

test('15: 403 is replayed once with a fresh token and, refused again, returned with the session kept; a second 401 ends it; skipAuthRefresh opts out', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  await create(page, srv, srv.issueTokens());
  const forbidden = await page.evaluate(async () => {
    const res = await r.fetch('/api/forbidden');
    return { status: res.status, state: r.state, forbidden: count('forbidden'), expired: count('session-expired') };
  });
  assert.deepEqual(forbidden, { status: 403, state: 'fresh', forbidden: 1, expired: 0 });
  assert.equal(srv.state.refreshCalls, 1, 'one refresh before the replay');
  assert.equal(srv.requestsTo('/api/forbidden').length, 2, 'sent, then replayed once');

  const skipped = await page.evaluate(async () => {
    const a = (await r.fetch('/api/forbidden', { skipAuthRefresh: true })).status;
    const api = axios.create();
    ftAxios.attachAxios(r, api);
    const b = await api.get('/api/forbidden', { skipAuthRefresh: true }).then((x) => x.status, (e) => e.response.status);
    const c = await api.get('/api/forbidden').then((x) => x.status, (e) => e.response.status);
    return { a, b, c, state: r.state, forbidden: count('forbidden') };
  });
  assert.deepEqual(skipped, { a: 403, b: 403, c: 403, state: 'fresh', forbidden: 2 });
  assert.equal(srv.requestsTo('/api/forbidden').length, 6, 'the two opted-out requests were not replayed; the axios one was');

  srv.rejectAccessTokens();
  const unauthorized = await page.evaluate(async () => ({ status: (await r.fetch('/api/echo')).status, state: r.state, expired: count('session-expired') }));
  assert.deepEqual(unauthorized, { status: 401, state: 'expired', expired: 1 });
});

test('16: a 2xx answer with good tokens and a badly typed field keeps the tokens and the rotated refresh token, and says what was wrong', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup({ rotateRefreshTokens: true });
  const first = srv.issueTokens();
  await create(page, srv, first);
  const next = srv.issueTokens();
  const rotatedOnly = srv.issueTokens();
  srv.setRefreshOutcomes([
    { status: 200, body: JSON.stringify({ accessToken: next.accessToken, refreshToken: next.refreshToken, expiresIn: '900' }) },
    { status: 200, body: JSON.stringify({ refreshToken: rotatedOnly.refreshToken }) },
  ]);
  const a = await page.evaluate(async () => {
    const got = await r.refresh();
    const err = events.find((x) => x.e === 'refresh-error');
    return { got, state: r.state, code: err?.code, message: err?.message };
  });
  assert.equal(a.got, next.accessToken);
  assert.equal(a.state, 'fresh');
  assert.equal(a.code, 'bad-response');
  assert.match(a.message, /expiresIn/);
  // The answer without an access token still brought a rotated refresh token: kept.
  const b = await page.evaluate(() => r.refresh().then(() => 'ok', (e) => `${e.name}:${e.code}`));
  assert.equal(b, 'RefreshError:bad-response');
  // Only the last rotated refresh token is valid now: the next refresh must use it.
  srv.state.refreshTokens.clear();
  srv.state.refreshTokens.add(rotatedOnly.refreshToken);
  // The backoff's automatic retry (about 1 s later) spends exactly that token.
  const c = await page.evaluate(async () => { await waitFor(() => count('refresh') === 2, 5000, 'the retry'); return r.state; });
  assert.equal(c, 'fresh');
  const bodies = srv.requestsTo('/auth/refresh').map((q) => JSON.parse(q.body).refreshToken);
  assert.deepEqual(bodies, [first.refreshToken, next.refreshToken, rotatedOnly.refreshToken]);
});

test('17: a JWT with a malformed exp is refused by setTokens exactly as decodeToken refuses it', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  await create(page, srv, srv.issueTokens());
  const out = await page.evaluate(async (base) => {
    const b64 = (o) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const jwt = `${b64({ alg: 'none' })}.${b64({ sub: 'x', exp: 'soon' })}.`;
    const before = r.accessToken;
    const attempt = (f) => { try { f(); return 'accepted'; } catch (e) { return `${e.name}:${e.code}:${e instanceof Error}`; } };
    return {
      set: attempt(() => r.setTokens({ accessToken: jwt, refreshToken: 'x' })),
      decode: attempt(() => ft.decodeToken(jwt)),
      kept: r.accessToken === before,
      create: await ft.createRefresher({ tokens: { accessToken: jwt }, endpoint: { url: `${base}/auth/refresh` } }).then(() => 'accepted', (e) => `${e.name}:${e.code}`),
    };
  }, srv.url);
  assert.equal(out.create, 'TokenDecodeError:bad-claim');
  assert.equal(out.set, 'TokenDecodeError:bad-claim:true');
  assert.equal(out.decode.split(':').slice(0, 2).join(':'), 'TokenDecodeError:bad-claim');
  assert.equal(out.kept, true, 'the session is left as it was');
});

test('19: r.fetch(requestWithBody, { body: undefined }) answered 401 is replayed with the same body', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  await create(page, srv, srv.issueTokens());
  srv.revokeAccessTokens();
  const out = await page.evaluate(async () => {
    const req = new Request('/api/echo', { method: 'POST', body: 'payload-19', headers: { 'content-type': 'text/plain' } });
    const res = await r.fetch(req, { body: undefined });
    return { status: res.status, body: (await res.json()).body };
  });
  assert.deepEqual(out, { status: 200, body: 'payload-19' });
  assert.equal(srv.state.refreshCalls, 1);
});

test('restored stale token (iat 100 s ago, exp 10 s after): refreshed before any request uses it; 0 requests sent with it', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const stale = { accessToken: srv.expiredToken({ agoSeconds: 90, lifetime: 10 }), refreshToken: srv.issueTokens().refreshToken };
  const statuses = await page.evaluate(async ({ base, tokens }) => {
    const r = await ft.createRefresher({ tokens, endpoint: { url: `${base}/auth/refresh` } });
    const out = await Promise.all(Array.from({ length: 50 }, () => r.fetch('/api/echo').then((x) => x.status)));
    r.dispose();
    return out;
  }, { base: srv.url, tokens: stale });
  assert.ok(statuses.every((x) => x === 200));
  assert.equal(srv.state.refreshCalls, 1);
  const withStale = srv.requestsTo('/api/echo').filter((q) => q.headers.authorization === `Bearer ${stale.accessToken}`);
  assert.equal(withStale.length, 0, 'no request carried the stale token');
  assert.equal(srv.requestsTo('/api/echo').length, 50, 'no 401 and no replay');
});

test('a client clock an hour fast costs at most one early refresh, never a storm or a logout', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup({ lifetime: 600 });
  const login = srv.issueTokens();
  const out = await page.evaluate(async ({ base, tokens }) => {
    const real = Date.now.bind(Date);
    Date.now = () => real() + 3600_000;
    const r = await ft.createRefresher({ tokens, endpoint: { url: `${base}/auth/refresh` } });
    const statuses = [];
    for (let i = 0; i < 10; i++) { statuses.push((await r.fetch('/api/echo')).status); await sleep(200); }
    const state = r.state;
    r.dispose();
    return { statuses, state };
  }, { base: srv.url, tokens: { accessToken: login.accessToken, refreshToken: login.refreshToken } });
  assert.ok(out.statuses.every((x) => x === 200));
  assert.equal(out.state, 'fresh');
  assert.ok(srv.state.refreshCalls <= 1, `${srv.state.refreshCalls} refresh calls`);
});

test('20: every error code thrown is in the type declarations and the README', async () => {
  const { readdir } = await import('node:fs/promises');
  const dir = new URL('../../js/', import.meta.url);
  const codes = new Set();
  for (const f of await readdir(dir)) {
    if (!f.endsWith('.js')) continue;
    const src = await readFile(new URL(f, dir), 'utf8');
    for (const m of src.matchAll(/makeError\(\s*'\w+',\s*'([a-z-]+)'/g)) codes.add(m[1]);
    for (const m of src.matchAll(/refreshError\(\s*'([a-z-]+)'/g)) codes.add(m[1]);
  }
  const types = await readFile(new URL('../../types/index.d.ts', import.meta.url), 'utf8');
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  assert.ok(codes.size >= 15, `found ${codes.size} codes`);
  for (const c of codes) {
    assert.ok(types.includes(`'${c}'`), `code ${c} is in types/index.d.ts`);
    assert.ok(readme.includes(`\`${c}\``), `code ${c} is in the README`);
  }
});
