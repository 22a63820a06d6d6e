// One protocol (issue 19): an npm tab and a Rust tab sharing a storageKey coordinate as two
// npm tabs do. Two pages of one Chromium browser context (so they share localStorage,
// BroadcastChannel and Web Locks), on one origin: one with the npm package (js/ + pkg/, the
// test page of tests/support/server.mjs), one with the Rust face (examples/conformance's
// `Face`, a thin JS handle over freshtoken::web::Refresher, served under /app/), both with
// crossTab on, storage 'localStorage' and the same storageKey, against the real auth server
// of tests/support/server.mjs (rotating refresh tokens: a refresh token spent twice is
// refused, so two tabs refreshing one session would end it).
//
// Each page wraps its window.fetch (both faces call it at send time) to log its own refresh
// calls and their answers: which tab called, and which tokens descend from which login.
//
//   node --test --test-concurrency=1 tests/rust-apps/mixed-tabs.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { startServer } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';

const REPO = new URL('../..', import.meta.url).pathname;
const DIST = new URL('../../examples/conformance/dist', import.meta.url).pathname;
const KEY = 'mixed-session';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let browser;

before(async () => {
  // The Rust face (skipped when dist/ is newer than its inputs) and the npm package's wasm.
  execFileSync('bash', ['scripts/web-conformance.sh'], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  if (!existsSync(`${REPO}/pkg/freshtoken_bg.wasm`)) {
    execFileSync('bash', ['scripts/build.sh'], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); });

/** Logs this page's refresh calls (request body, answer) by wrapping window.fetch. */
function spyRefresh() {
  window.refreshLog = [];
  const real = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input.url;
    if (!url.includes('/auth/refresh')) return real(input, init);
    const entry = { t: Date.now(), sent: null, answer: null };
    window.refreshLog.push(entry);
    try {
      const body = typeof input === 'string' ? init?.body : await input.clone().text();
      entry.sent = JSON.parse(body).refreshToken ?? null;
    } catch { /* no JSON body */ }
    const res = await real(input, init);
    try { entry.answer = await res.clone().json(); } catch { /* not JSON */ }
    return res;
  };
}

/**
 * Opens the two tabs in one new context and makes a refresher in each: the npm one
 * (`ft.createRefresher`) and the Rust one (`new face.Face(...)`), both behind one small
 * interface `window.T` (setTokens, refresh, logout, echo, token, state, events).
 */
async function openPair(srv, { npm: npmOpts = {}, rust: rustOpts = {} } = {}) {
  const context = await browser.browser.newContext();
  const npm = await context.newPage();
  const rust = await context.newPage();
  for (const [who, page] of [['npm', npm], ['rust', rust]]) {
    page.on('pageerror', (e) => process.stderr.write(`[${who} tab error] ${e}\n`));
    await page.goto(who === 'npm' ? `${srv.url}/test.html` : `${srv.url}/app/`);
    await page.waitForFunction(() => window.ready === true || typeof window.initError === 'string', null, { timeout: 15000 });
    const initError = await page.evaluate(() => window.initError);
    if (initError) throw new Error(`${who} tab: ${initError}`);
    await page.evaluate(spyRefresh);
  }
  const pair = {
    npm, rust, context,
    async start(who, extra = {}) {
      const page = who === 'npm' ? npm : rust;
      const o = { ...(who === 'npm' ? npmOpts : rustOpts), ...extra };
      await page.evaluate(async ({ who, base, key, o }) => {
        const options = {
          endpoint: { url: `${base}/auth/refresh` }, origins: [base],
          crossTab: true, storage: 'localStorage', storageKey: key, ...o,
        };
        window.events = [];
        const log = (name, d) => window.events.push({ name, reason: d?.reason ?? null, t: Date.now() });
        let n = 0;
        if (who === 'npm') {
          const r = await ft.createRefresher(options);
          for (const e of ['refresh', 'refresh-error', 'session-expired', 'logout']) r.on(e, (d) => log(e, d));
          window.T = {
            setTokens: (t) => r.setTokens(t),
            refresh: () => r.refresh(),
            logout: () => { r.logout(); },
            echo: async () => (await r.fetch(`${base}/api/echo`)).status,
            token: () => r.accessToken,
            state: () => r.state,
            dispose: () => r.dispose(),
          };
        } else {
          const r = new face.Face(options, undefined, (e) => log(e.name, e));
          window.T = {
            setTokens: (t) => r.setTokens(t),
            refresh: () => r.refresh(),
            logout: () => r.logout(),
            echo: async () => (await r.fetch(String(++n), new Request(`${base}/api/echo`), false)).status,
            token: () => r.currentToken() ?? null,
            state: () => r.state(),
            dispose: () => r.dispose(),
          };
        }
      }, { who, base: srv.url, key: KEY, o });
    },
    async both() { await pair.start('npm'); await pair.start('rust'); },
    page: (who) => (who === 'npm' ? npm : rust),
    other: (who) => (who === 'npm' ? 'rust' : 'npm'),
    snap: (who) => pair.page(who).evaluate(() => ({
      state: T.state(),
      token: T.token(),
      count: Object.fromEntries(['refresh', 'refresh-error', 'session-expired', 'logout'].map((e) => [e, events.filter((x) => x.name === e).length])),
      expired: events.filter((x) => x.name === 'session-expired').map((x) => x.reason),
      calls: refreshLog.length,
      log: refreshLog,
    })),
    stored: () => npm.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? 'null'), KEY),
    close: () => context.close(),
  };
  return pair;
}

/** Polls `pred` (async) every 50 ms until true or `ms` passed; returns whether it held. */
async function until(pred, ms) {
  const end = Date.now() + ms;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() > end) return false;
    await sleep(50);
  }
}

/**
 * The login made in the `second` tab reaches the `first`, whose refresh point comes first;
 * while its call is held by the server (2.5 s) the second tab's token is due too: one call
 * between them, both tabs then hold its token. Returns both tabs' snapshots.
 */
async function loginThenOneCall(pair, srv, first, second) {
  const login = srv.issueTokens({ lifetime: 4 });
  srv.setRefreshOutcomes([{ delay: 2500 }]);
  await pair.page(second).evaluate((t) => T.setTokens(t), login);
  assert.ok(await until(async () => (await pair.snap(first)).token === login.accessToken, 3000), 'the login reached the first tab');
  const done = await until(async () => {
    const [a, b] = [await pair.snap(first), await pair.snap(second)];
    return a.token && b.token && a.token !== login.accessToken && b.token === a.token;
  }, 10_000);
  await sleep(1000); // nothing more comes
  const [a, b] = [await pair.snap(first), await pair.snap(second)];
  assert.ok(done, `both tabs hold a new token: ${first} ${a.state}, ${second} ${b.state}`);
  assert.equal(srv.state.refreshCalls, 1, 'one refresh call between the two tabs');
  assert.equal(a.calls, 1, `the ${first} tab made it`);
  assert.equal(b.calls, 0, `the ${second} tab made none`);
  for (const x of [a, b]) {
    assert.equal(x.state, 'fresh');
    assert.equal(x.count['session-expired'], 0);
    assert.equal(x.count['refresh-error'], 0);
  }
  return [a, b];
}

for (const first of ['npm', 'rust']) {
  const second = first === 'npm' ? 'rust' : 'npm';
  test(`a due token is refreshed by one call between an npm and a Rust tab, the ${first} tab first; both tabs then hold the new token`, { timeout: 60_000 }, async () => {
    // Refreshed tokens live 30 s (no second refresh during the test); the login's 4 s.
    const srv = await startServer({ lifetime: 30, rotateRefreshTokens: true, sendExpiresIn: true, appDir: DIST });
    // The first tab refreshes at half the lifetime, the second at 90%: while the first
    // tab's call is still held by the server (2.5 s), the second's token is due too.
    const pair = await openPair(srv, { [first]: { refreshAt: 0.5 }, [second]: { refreshAt: 0.9 } });
    try {
      await pair.both();
      const [a, b] = await loginThenOneCall(pair, srv, first, second);
      assert.equal(a.token, b.token, 'both tabs hold the same token');
      assert.equal(a.token, a.log[0].answer.accessToken, 'the token of that call');
      assert.ok(srv.accepts(a.token), 'a token the server takes');
      assert.equal(await pair.page(second).evaluate(() => T.echo()), 200, `the ${second} tab's request with the shared token`);
      const stored = await pair.stored();
      assert.equal(stored.accessToken, a.token, 'storage holds the new record');
      assert.equal(typeof stored.epoch, 'number');
      assert.ok(stored.gen > stored.epoch, 'a generation above the epoch');
    } finally {
      await pair.close();
      await srv.close();
    }
  });
}

// Whether a refresher joins the other tabs is the engine's rule on both faces
// (engine::config::cross_tab): on with every storage but memory unless the app says, and
// `crossTab: true` works with memory too (a tab asks the open ones for the session). Before,
// the Rust face refused crossTab without localStorage and left it off with sessionStorage,
// where a duplicated tab holds a copy of the rotating refresh token.
for (const [storage, crossTab] of [['memory', true], ['sessionStorage', undefined]]) {
  for (const first of ['npm', 'rust']) {
    const second = first === 'npm' ? 'rust' : 'npm';
    const how = crossTab ? `storage '${storage}' and crossTab: true` : `storage '${storage}' and crossTab left to its default`;
    test(`with ${how}, an npm and a Rust tab share the login and one refresh call, the ${first} tab first; a tab started later takes the session`, { timeout: 60_000 }, async () => {
      const srv = await startServer({ lifetime: 30, rotateRefreshTokens: true, sendExpiresIn: true, appDir: DIST });
      const o = { storage, crossTab };
      const pair = await openPair(srv, { [first]: { ...o, refreshAt: 0.5 }, [second]: { ...o, refreshAt: 0.9 } });
      try {
        await pair.both();
        const [a] = await loginThenOneCall(pair, srv, first, second);
        assert.equal(await pair.page(second).evaluate(() => T.echo()), 200, `the ${second} tab's request with the shared token`);
        assert.equal(await pair.stored(), null, 'nothing in localStorage');
        for (const who of ['npm', 'rust']) {
          const kept = await pair.page(who).evaluate((k) => JSON.parse(sessionStorage.getItem(k) ?? 'null'), KEY);
          if (storage === 'memory') assert.equal(kept, null, `nothing in the ${who} tab's sessionStorage`);
          else assert.equal(kept?.accessToken, a.token, `the ${who} tab's sessionStorage holds the new record`);
        }
        // A third tab of the first face, started now, asks the open ones for the session.
        const third = await pair.context.newPage();
        await third.goto(first === 'npm' ? `${srv.url}/test.html` : `${srv.url}/app/`);
        await third.waitForFunction(() => window.ready === true || typeof window.initError === 'string', null, { timeout: 15000 });
        await third.evaluate(async ({ first, base, key, o }) => {
          const options = { endpoint: { url: `${base}/auth/refresh` }, origins: [base], storageKey: key, ...o };
          const r = first === 'npm' ? await ft.createRefresher(options) : new face.Face(options, undefined, () => {});
          window.token = () => (first === 'npm' ? r.accessToken : r.currentToken() ?? null);
        }, { first, base: srv.url, key: KEY, o });
        assert.ok(await until(async () => (await third.evaluate(() => window.token())) === a.token, 3000), 'the later tab holds the session');
        assert.equal(srv.state.refreshCalls, 1, 'without a refresh call');
      } finally {
        await pair.close();
        await srv.close();
      }
    });
  }
}

for (const who of ['npm', 'rust']) {
  test(`a session stored by the ${who} tab is taken by a ${who === 'npm' ? 'Rust' : 'npm'} tab started later, without a refresh`, { timeout: 30_000 }, async () => {
    const srv = await startServer({ lifetime: 30, rotateRefreshTokens: true, sendExpiresIn: true, appDir: DIST });
    const pair = await openPair(srv);
    try {
      const later = pair.other(who);
      await pair.start(who);
      const login = srv.issueTokens();
      await pair.page(who).evaluate((t) => T.setTokens(t), login);
      await pair.start(later);
      const s = await pair.snap(later);
      assert.equal(s.token, login.accessToken, 'the later tab holds the session');
      assert.equal(s.state, 'fresh');
      assert.equal(await pair.page(later).evaluate(() => T.echo()), 200);
      assert.equal(srv.state.refreshCalls, 0);
    } finally {
      await pair.close();
      await srv.close();
    }
  });
}

for (const who of ['npm', 'rust']) {
  const other = who === 'npm' ? 'rust' : 'npm';
  test(`logout in the ${who} tab logs out the ${other} tab`, { timeout: 30_000 }, async () => {
    const srv = await startServer({ lifetime: 30, rotateRefreshTokens: true, sendExpiresIn: true, appDir: DIST });
    const pair = await openPair(srv);
    try {
      await pair.both();
      await pair.page(other).evaluate((t) => T.setTokens(t), srv.issueTokens());
      assert.ok(await until(async () => (await pair.snap(who)).state === 'fresh', 3000), `the ${who} tab took the session`);
      await pair.page(who).evaluate(() => T.logout());
      const out = await until(async () => (await pair.snap(other)).state === 'logged-out', 3000);
      await sleep(300);
      const [a, b] = [await pair.snap(who), await pair.snap(other)];
      assert.ok(out, `the ${other} tab is logged out: ${b.state}`);
      for (const s of [a, b]) {
        assert.equal(s.state, 'logged-out');
        assert.equal(s.token, null);
        assert.equal(s.count.logout, 1, 'told once');
      }
      const stored = await pair.stored();
      assert.equal(stored.out, true, 'storage holds the logout marker');
      assert.equal(stored.accessToken, undefined, 'no token on disk');
      assert.equal(srv.state.refreshCalls, 0);
    } finally {
      await pair.close();
      await srv.close();
    }
  });
}

for (const who of ['npm', 'rust']) {
  const other = who === 'npm' ? 'rust' : 'npm';
  test(`a refresh rejected in the ${who} tab ends the session in the ${other} tab too, told once in each`, { timeout: 30_000 }, async () => {
    const srv = await startServer({ lifetime: 30, rotateRefreshTokens: true, sendExpiresIn: true, appDir: DIST });
    const pair = await openPair(srv);
    try {
      await pair.both();
      await pair.page(other).evaluate((t) => T.setTokens(t), srv.issueTokens());
      assert.ok(await until(async () => (await pair.snap(who)).state === 'fresh', 3000), `the ${who} tab took the session`);
      srv.revokeRefreshTokens();
      await pair.page(who).evaluate(() => T.refresh().catch(() => {}));
      const ended = await until(async () => (await pair.snap(other)).state === 'expired', 3000);
      await sleep(500);
      const [a, b] = [await pair.snap(who), await pair.snap(other)];
      assert.ok(ended, `the ${other} tab's session ended: ${b.state}`);
      for (const s of [a, b]) {
        assert.equal(s.state, 'expired');
        assert.equal(s.token, null);
        assert.deepEqual(s.expired, ['refresh-rejected'], 'session-expired told once, refresh-rejected');
      }
      assert.equal(srv.state.refreshCalls, 1, 'one refresh attempt');
      assert.equal(a.calls, 1, `made by the ${who} tab`);
      const stored = await pair.stored();
      assert.equal(stored.out, true, 'storage holds the marker');
      assert.equal(stored.accessToken, undefined);
    } finally {
      await pair.close();
      await srv.close();
    }
  });
}

for (const who of ['npm', 'rust']) {
  const other = who === 'npm' ? 'rust' : 'npm';
  test(`setTokens(user 2) in the ${who} tab while the ${other} tab refreshes user 1: the ${other} tab never sends user 1's token nor spends user 1's refresh token afterwards`, { timeout: 40_000 }, async () => {
    const srv = await startServer({ lifetime: 30, rotateRefreshTokens: true, sendExpiresIn: true, appDir: DIST });
    const pair = await openPair(srv);
    try {
      await pair.both();
      const user1 = srv.issueTokens();
      await pair.page(who).evaluate((t) => T.setTokens(t), user1);
      assert.ok(await until(async () => (await pair.snap(other)).token === user1.accessToken, 3000), `the ${other} tab took user 1`);
      // The other tab's refresh of user 1, answered late (1.5 s).
      srv.setRefreshOutcomes([{ delay: 1500 }]);
      pair.page(other).evaluate(() => { window.late = T.refresh().then(() => 'ok', (e) => e?.code ?? 'error'); }).catch(() => {});
      assert.ok(await until(() => srv.state.refreshCalls === 1, 3000), 'user 1 refresh under way');
      const user2 = srv.issueTokens();
      const t2 = Date.now();
      await pair.page(who).evaluate((t) => T.setTokens(t), user2);
      await sleep(2500); // the late answer arrived meanwhile
      // The other tab keeps working: requests, a forced refresh, requests.
      const page = pair.page(other);
      const statuses = [];
      statuses.push(await page.evaluate(() => T.echo()));
      await page.evaluate(() => T.refresh());
      statuses.push(await page.evaluate(() => T.echo()));
      statuses.push(await pair.page(who).evaluate(() => T.echo()));
      await sleep(300);

      // User 2's tokens: the login's and every answer to a refresh that spent one of them.
      const logs = [...(await pair.snap('npm')).log, ...(await pair.snap('rust')).log].sort((x, y) => x.t - y.t);
      const access2 = new Set([user2.accessToken]);
      const refresh2 = new Set([user2.refreshToken]);
      for (const l of logs) {
        if (refresh2.has(l.sent) && l.answer?.accessToken) {
          access2.add(l.answer.accessToken);
          if (l.answer.refreshToken) refresh2.add(l.answer.refreshToken);
        }
      }
      const after = srv.requests.filter((r) => r.time > t2);
      const spent = after.filter((r) => r.path === '/auth/refresh').map((r) => JSON.parse(r.body).refreshToken);
      const sent = after.filter((r) => r.path === '/api/echo').map((r) => (r.headers.authorization ?? '').replace(/^Bearer /, ''));
      assert.ok(spent.length >= 1, 'a refresh was made after user 2 logged in');
      for (const rt of spent) assert.ok(refresh2.has(rt), "no refresh spent user 1's refresh token after user 2 logged in");
      assert.equal(sent.length, 3);
      for (const at of sent) assert.ok(access2.has(at), "no request carried user 1's token after user 2 logged in");
      assert.deepEqual(statuses, [200, 200, 200]);
      const [a, b] = [await pair.snap(who), await pair.snap(other)];
      assert.ok(access2.has(b.token), `the ${other} tab holds user 2's session`);
      assert.equal(a.token, b.token, 'both tabs hold the same token');
      for (const s of [a, b]) assert.equal(s.count['session-expired'], 0);
      const stored = await pair.stored();
      assert.ok(access2.has(stored.accessToken), "storage holds user 2's session");
      assert.notEqual(await page.evaluate(() => window.late), undefined);
    } finally {
      await pair.close();
      await srv.close();
    }
  });
}

test('a lock held by a frozen npm tab is taken over by the Rust tab after refreshTimeoutMs + 5 s, and the npm tab gets the result', { timeout: 60_000 }, async () => {
  const srv = await startServer({ lifetime: 30, rotateRefreshTokens: true, sendExpiresIn: true, appDir: DIST });
  const pair = await openPair(srv, { rust: { refreshTimeoutMs: 1000 } });
  try {
    await pair.both();
    await pair.page('npm').evaluate((t) => T.setTokens(t), srv.issueTokens());
    assert.ok(await until(async () => (await pair.snap('rust')).state === 'fresh', 3000), 'the Rust tab took the session');
    // The npm page grabs the session's lock and never lets go, like a tab frozen mid-refresh
    // (held, not only asked for, before the Rust tab asks: two tabs' requests may reach the
    // lock manager in either order).
    await pair.page('npm').evaluate((k) => new Promise((held) => {
      navigator.locks.request(`freshtoken:${k}`, () => { held(); return new Promise(() => {}); }).catch(() => {});
    }), KEY);
    const took = await pair.page('rust').evaluate(async () => {
      const t = Date.now();
      await T.refresh();
      return { ms: Date.now() - t, state: T.state(), token: T.token() };
    });
    assert.equal(took.state, 'fresh');
    assert.ok(took.ms >= 5500 && took.ms < 15000, `waited the bound (refreshTimeoutMs + 5 s, not the refresh timeout), then stole the lock: ${took.ms} ms`);
    assert.equal(srv.state.refreshCalls, 1);
    assert.ok(await until(async () => (await pair.snap('npm')).token === took.token, 3000), 'the npm tab took the result');
  } finally {
    await pair.close();
    await srv.close();
  }
});

/** The failure markers held in `page`'s origin, per its lock manager: {gen, until, status, code}. */
function failureMarkers(page) {
  return page.evaluate(async (k) => {
    const prefix = `freshtoken:${k}:failed:`;
    const { held = [] } = await navigator.locks.query();
    return held.filter((l) => l.name.startsWith(prefix)).map((l) => {
      const [gen, until, status, ...code] = l.name.slice(prefix.length).split(':');
      return { gen: Number(gen), until: Number(until), status: Number(status), code: code.join(':') };
    });
  }, KEY);
}

/**
 * The failure marker across the faces (README, "failure marker"): the `first` tab's refresh
 * call fails transiently (`outcome`, scripted at the server) while the `second` tab is queued
 * on the lock to refresh from the same generation. The second tab must take that failure
 * (the marker the first tab holds) instead of calling before its retry point `until`; the
 * session is kept in both tabs; past `until` one refresh call serves both. Refresh calls are
 * counted, and timed, at the server (its arrival times) and in each tab (its own calls).
 */
async function heldBack(first, { outcome, options = {}, minHoldMs }) {
  const second = first === 'npm' ? 'rust' : 'npm';
  const srv = await startServer({ lifetime: 30, rotateRefreshTokens: true, sendExpiresIn: true, appDir: DIST });
  const pair = await openPair(srv, { npm: options, rust: options });
  try {
    await pair.both();
    const login = srv.issueTokens();
    await pair.page(first).evaluate((t) => T.setTokens(t), login);
    assert.ok(await until(async () => (await pair.snap(second)).token === login.accessToken, 3000), `the ${second} tab took the session`);
    const { gen: startGen } = await pair.stored();
    srv.setRefreshOutcomes([outcome]);
    const refresh = (who) => pair.page(who).evaluate(() => {
      window.done = T.refresh().then(() => 'ok', (e) => e?.code ?? String(e));
    });
    await refresh(first);
    assert.ok(await until(() => srv.state.refreshCalls === 1, 3000), `the ${first} tab's call reached the server`);
    const firstCall = srv.state.refreshTimes[0];
    await refresh(second);
    // The second tab's refresh is queued on the lock the first tab holds, while the first
    // tab's call is still unanswered (the same generation: no result was published).
    const queued = await until(async () => {
      const { pending = [] } = await pair.page(second).evaluate(() => navigator.locks.query());
      return pending.some((l) => l.name === `freshtoken:${KEY}`);
    }, 1000);
    assert.ok(queued, `the ${second} tab is queued on the lock`);
    assert.equal((await pair.snap(first)).log[0].answer, null, `while the ${first} tab's call is unanswered`);

    const outcomes = await Promise.all([first, second].map((w) => pair.page(w).evaluate(() => window.done)));
    const markers = await failureMarkers(pair.page(second));
    const settled = Date.now();
    assert.equal(markers.length, 1, `one failure marker: ${JSON.stringify(markers)}`);
    const [{ until: retryAt, gen: failedGen }] = markers;
    assert.equal(failedGen, startGen, 'the failure of a refresh from the stored generation');
    assert.equal(srv.state.refreshCalls, 1, `no call by the ${second} tab (${settled - firstCall} ms after the first call, ${retryAt - settled} ms before the retry point)`);
    assert.ok(retryAt >= firstCall + minHoldMs, `the retry point is ${retryAt - firstCall} ms after the first call (>= ${minHoldMs})`);
    assert.notEqual(outcomes[0], 'ok', `the ${first} tab's refresh failed`);
    assert.equal(outcomes[1], outcomes[0], `the ${second} tab took the ${first} tab's failure: ${outcomes}`);

    // Backing off: the session is kept in both tabs, until the retry point and past it.
    for (const who of [first, second]) {
      const s = await pair.snap(who);
      assert.equal(s.token, login.accessToken, `the ${who} tab keeps the session`);
      assert.notEqual(s.state, 'expired');
      assert.equal(s.count['session-expired'], 0);
      assert.equal(await pair.page(who).evaluate(() => T.echo()), 200, `the ${who} tab's request with the login's token`);
    }
    // Past the retry point the session refreshes again (the engine's retry): one call, whose
    // tokens both tabs take.
    const fresh = await until(async () => {
      const [a, b] = [await pair.snap(first), await pair.snap(second)];
      return a.token && a.token !== login.accessToken && b.token === a.token;
    }, Math.max(0, retryAt - Date.now()) + 8000);
    await sleep(500); // nothing more comes
    const [a, b] = [await pair.snap(first), await pair.snap(second)];
    const times = srv.state.refreshTimes.map((t) => `+${t - firstCall}`).join(', ');
    assert.ok(fresh, `both tabs hold a new token: ${first} ${a.state}, ${second} ${b.state}; calls at ${times} ms, retry point +${retryAt - firstCall} ms`);
    // Not before the retry point (50 ms for the clocks' rounding: the tabs and the server
    // read one clock, and a tab ignoring the marker calls at once, seconds early).
    for (const t of srv.state.refreshTimes.slice(1)) assert.ok(t >= retryAt - 50, `no refresh call before the retry point: one came ${retryAt - t} ms early (calls at ${times} ms)`);
    for (const l of b.log) assert.ok(l.t >= retryAt - 50, `the ${second} tab called ${retryAt - l.t} ms before the retry point`);
    assert.equal(srv.state.refreshCalls, 2, `the failed call and one more (calls at ${times} ms)`);
    assert.equal(a.calls + b.calls, 2, 'made by the two tabs');
    const answered = [...a.log, ...b.log].filter((l) => l.answer?.accessToken);
    assert.equal(answered.length, 1, 'one call answered with tokens');
    assert.equal(a.token, answered[0].answer.accessToken, 'both tabs hold the tokens of that call');
    assert.ok(srv.accepts(a.token));
    for (const s of [a, b]) {
      assert.equal(s.state, 'fresh');
      assert.equal(s.count['session-expired'], 0);
    }
    assert.equal(await pair.page(second).evaluate(() => T.echo()), 200, `the ${second} tab's request with the new token`);
    assert.equal((await pair.stored()).accessToken, a.token, 'storage holds the new record');
  } finally {
    await pair.close();
    await srv.close();
  }
}

for (const first of ['npm', 'rust']) {
  const second = first === 'npm' ? 'rust' : 'npm';
  test(`a 503 with Retry-After in the ${first} tab holds back the ${second} tab queued on the lock until that retry point; the session is kept, then one refresh serves both`, { timeout: 30_000 }, async () => {
    await heldBack(first, { outcome: { status: 503, headers: { 'retry-after': '3' }, delay: 2000 }, minHoldMs: 2000 + 3000 });
  });
}

for (const first of ['npm', 'rust']) {
  const second = first === 'npm' ? 'rust' : 'npm';
  test(`a refresh call the ${first} tab's engine aborts at refreshTimeoutMs holds back the ${second} tab queued on the lock until the engine's retry point; the session is kept, then one refresh serves both`, { timeout: 30_000 }, async () => {
    // The server holds the call 4 s, then drops the connection (it never spends the refresh
    // token): past refreshTimeoutMs (1.5 s) the engine aborts it and publishes a timeout
    // failure, its retry point at least a second later.
    await heldBack(first, { outcome: { delay: 4000, network: true }, options: { refreshTimeoutMs: 1500 }, minHoldMs: 2000 });
  });
}

/** The tab requests queued (pending) on the session's lock, per `page`'s lock manager. */
async function queuedOnLock(page) {
  const { pending = [] } = await page.evaluate(() => navigator.locks.query());
  return pending.filter((l) => l.name === `freshtoken:${KEY}`).length;
}

/**
 * The rotated refresh token across the faces (README, "rotated refresh token"): the `first`
 * tab's refresh call spends r1 and gets a 200 without a usable access token, yet with a new
 * refresh token r2 (the server rotated: from then on it takes r2 only, so a call spending r1
 * again is answered 401 and ends the session). The first tab keeps r2 and stores it in its
 * record (same epoch and generation) before it lets the lock go, with its failure marker
 * (bad-response, retry point a second on). The `second` tab refreshes next, past that retry
 * point: holding the lock, it takes r2 from the record and spends it, not its own r1; the
 * server answers good tokens, which both tabs take.
 *
 * Both tabs' engines would refresh again at about the retry point (the first tab's own retry
 * of its failure): to make the second tab the next to call, whatever the machine's load, the
 * test holds the session's lock (from the second tab's page) from the first tab's failure
 * until past the retry point, with the second tab's refresh queued on it first and the first
 * tab's retry behind (the lock manager grants in order). The first tab's retry then finds the
 * second tab's result published and takes it.
 */
/** Both tabs started, a login made in the `first` and taken by the `second`; returns it. */
async function loggedInPair(pair, srv, first, second) {
  await pair.both();
  const login = srv.issueTokens();
  await pair.page(first).evaluate((t) => T.setTokens(t), login);
  assert.ok(await until(async () => (await pair.snap(second)).token === login.accessToken, 3000), `the ${second} tab took the session`);
  return login;
}

async function rotatedKept(first) {
  const second = first === 'npm' ? 'rust' : 'npm';
  const srv = await startServer({ lifetime: 30, rotateRefreshTokens: true, sendExpiresIn: true, appDir: DIST });
  const pair = await openPair(srv);
  try {
    const login = await loggedInPair(pair, srv, first, second);
    const r1 = login.refreshToken;
    const { epoch, gen: startGen } = await pair.stored();

    // The server's rotation, scripted: r1 spent, r2 the only refresh token it takes from now
    // on; the next call is answered 200 with r2 and no access token (a refresh call spending
    // r1 again then gets the server's own 401, like one spending any unknown refresh token).
    const r2 = randomUUID();
    srv.state.refreshTokens.delete(r1);
    srv.state.refreshTokens.add(r2);
    srv.state.issued.push(r2);
    srv.setRefreshOutcomes([{ status: 200, body: { refreshToken: r2, expiresIn: 30 }, delay: 300 }]);
    const failed = await pair.page(first).evaluate(() => T.refresh().then(() => 'ok', (e) => e?.code ?? String(e)));
    const spent = () => srv.requestsTo('/auth/refresh').map((r) => JSON.parse(r.body).refreshToken);
    assert.equal(failed, 'bad-response', `the ${first} tab's refresh failed as an unusable answer`);
    assert.deepEqual(spent(), [r1], `one refresh call, by the ${first} tab, spending r1`);
    const kept = await pair.stored();
    assert.deepEqual(
      { epoch: kept.epoch, gen: kept.gen, accessToken: kept.accessToken, refreshToken: kept.refreshToken === r2 ? 'r2' : kept.refreshToken === r1 ? 'r1' : kept.refreshToken },
      { epoch, gen: startGen, accessToken: login.accessToken, refreshToken: 'r2' },
      `the ${first} tab stored r2 in its record, same epoch and generation`,
    );
    const markers = await failureMarkers(pair.page(second));
    assert.equal(markers.length, 1, `one failure marker: ${JSON.stringify(markers)}`);
    const [{ until: retryAt, gen: failedGen, code }] = markers;
    assert.equal(failedGen, startGen);
    assert.equal(code, 'bad-response');

    // The session's lock, held from the second tab's page; the second tab's refresh queued on
    // it (before the first tab's retry, a second away, asks).
    await pair.page(second).evaluate(async (k) => {
      await new Promise((held) => {
        navigator.locks.request(`freshtoken:${k}`, () => { held(); return new Promise((release) => { window.unblock = release; }); }).catch(() => {});
      });
      window.done = T.refresh().then(() => 'ok', (e) => e?.code ?? String(e));
    }, KEY);
    assert.ok(await until(async () => (await queuedOnLock(pair.page(second))) >= 1, 1000), `the ${second} tab's refresh is queued on the lock`);
    assert.equal(await queuedOnLock(pair.page(second)), 1, `the ${second} tab's refresh queued before the ${first} tab's retry (${retryAt - Date.now()} ms before the retry point)`);
    // Past the retry point, with the first tab's retry queued behind (it comes at about the
    // retry point; its backoff jitters up to 20% of its second).
    const behind = await until(async () => Date.now() > retryAt + 100 && (await queuedOnLock(pair.page(second))) === 2, Math.max(0, retryAt - Date.now()) + 3000);
    assert.ok(behind, `the ${first} tab's retry is queued behind (${Date.now() - retryAt} ms past the retry point)`);
    assert.deepEqual(spent(), [r1], 'no call while the lock was held');
    await pair.page(second).evaluate(() => window.unblock());

    const fresh = await until(async () => {
      const [a, b] = [await pair.snap(first), await pair.snap(second)];
      return b.token && b.token !== login.accessToken && a.token === b.token;
    }, 8000);
    await sleep(1000); // nothing more comes
    const [a, b] = [await pair.snap(first), await pair.snap(second)];
    assert.ok(fresh, `both tabs hold a new token: ${first} ${a.state}, ${second} ${b.state}; calls ${JSON.stringify(spent().map((t) => (t === r1 ? 'r1' : t === r2 ? 'r2' : t)))}`);
    assert.equal(await pair.page(second).evaluate(() => window.done), 'ok', `the ${second} tab's refresh succeeded`);
    assert.deepEqual(spent(), [r1, r2], `two refresh calls: r1 (the ${first} tab's), then r2; r1 never again`);
    assert.equal(srv.state.refreshCalls, 2);
    assert.equal(a.calls, 1, `the ${first} tab made one call`);
    assert.equal(b.calls, 1, `the ${second} tab made one call`);
    assert.equal(b.log[0].sent, r2, `the ${second} tab's call carried r2`);
    const answer = b.log[0].answer;
    assert.ok(answer?.accessToken && answer.refreshToken, 'answered with a good token set');
    assert.equal(b.token, answer.accessToken, `the ${second} tab holds the tokens of that call`);
    assert.equal(a.token, answer.accessToken, `the ${first} tab holds the tokens of that call`);
    assert.ok(srv.accepts(answer.accessToken));
    for (const s of [a, b]) {
      assert.equal(s.state, 'fresh');
      assert.equal(s.count['session-expired'], 0);
    }
    for (const who of [first, second]) {
      assert.equal(await pair.page(who).evaluate(() => T.echo()), 200, `the ${who} tab's request with the new token`);
    }
    const stored = await pair.stored();
    assert.equal(stored.accessToken, answer.accessToken, 'storage holds the new record');
    assert.equal(stored.refreshToken, answer.refreshToken, 'with the rotated refresh token of that answer');
    assert.equal(stored.epoch, epoch);
    assert.ok(stored.gen > startGen, 'a newer generation');
  } finally {
    await pair.close();
    await srv.close();
  }
}

for (const first of ['npm', 'rust']) {
  const second = first === 'npm' ? 'rust' : 'npm';
  test(`an unusable refresh answer in the ${first} tab with a rotated refresh token: the ${second} tab, refreshing next past the retry point, spends that one, never the spent one; both tabs end fresh`, { timeout: 30_000 }, async () => {
    await rotatedKept(first);
  });
}

// Where the keeper cannot write the other tab's storage (memory; a sessionStorage is each
// tab's own), the rotated refresh token of an unusable answer reaches it by the record the
// keeper broadcasts before it lets the lock go: the other tab's next refresh spends it.
for (const [storage, crossTab] of [['memory', true], ['sessionStorage', undefined]]) {
  for (const first of ['npm', 'rust']) {
    const second = first === 'npm' ? 'rust' : 'npm';
    test(`with storage '${storage}', an unusable refresh answer in the ${first} tab with a rotated refresh token reaches the ${second} tab by message: its next refresh spends that one, never the spent one`, { timeout: 30_000 }, async () => {
      const srv = await startServer({ lifetime: 30, rotateRefreshTokens: true, sendExpiresIn: true, appDir: DIST });
      const o = { storage, crossTab };
      const pair = await openPair(srv, { npm: o, rust: o });
      try {
        const r1 = (await loggedInPair(pair, srv, first, second)).refreshToken;
        // The server's rotation, scripted: r1 spent, r2 the only refresh token it takes now.
        const r2 = randomUUID();
        srv.state.refreshTokens.delete(r1);
        srv.state.refreshTokens.add(r2);
        srv.state.issued.push(r2);
        srv.setRefreshOutcomes([{ status: 200, body: { refreshToken: r2, expiresIn: 30 } }]);
        const failed = await pair.page(first).evaluate(() => T.refresh().then(() => 'ok', (e) => e?.code ?? String(e)));
        const spent = () => srv.requestsTo('/auth/refresh').map((r) => JSON.parse(r.body).refreshToken);
        assert.equal(failed, 'bad-response', `the ${first} tab's refresh failed as an unusable answer`);
        assert.deepEqual(spent(), [r1]);
        assert.equal(await pair.stored(), null, 'nothing in localStorage');
        // The keeper leaves (its own retry, at its backoff, would spend r2 itself), so the next
        // refresh is the other tab's: past the failure's retry point (a second, jittered up to
        // 20%), it refreshes.
        await pair.page(first).evaluate(() => T.dispose());
        await sleep(1500);
        assert.deepEqual(spent(), [r1], 'no call meanwhile');
        const done = await pair.page(second).evaluate(() => T.refresh().then(() => 'ok', (e) => e?.code ?? String(e)));
        assert.equal(done, 'ok', `the ${second} tab's refresh succeeded`);
        assert.deepEqual(spent().map((t) => (t === r1 ? 'r1' : t === r2 ? 'r2' : t)), ['r1', 'r2'], `the ${second} tab spent r2, never r1 again`);
        const b = await pair.snap(second);
        assert.equal(b.calls, 1, `the ${second} tab made that call`);
        assert.equal(b.state, 'fresh');
        assert.equal(b.token, b.log[0].answer.accessToken, 'the token of that call');
        assert.deepEqual(b.expired, [], 'no session end');
      } finally {
        await pair.close();
        await srv.close();
      }
    });
  }
}
