// A refresh of a session that was replaced (setTokens) or whose refresher was disposed,
// with `crossTab` (issue 18 item 4), in headless Chromium against the real auth server,
// which rotates refresh tokens and refuses a spent one. The app's `refresh` here ignores
// its signal, as an app's may: whatever refresh token it is handed is spent. A second page
// of the same browser context plays the other tab that holds the refresh lock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const LOCK = 'freshtoken:app-session';
// A generation no record ever arrives for: the refresh holding the lock waits for it. Above
// any the tabs hold, yet one the protocol could make (at most engine::tabs::MAX_EPOCH,
// 2^53 - 2^32: a lock name beyond it is no tab's and is not waited for, red 15).
const MARKER = `${LOCK}:gen:${2 ** 52}`;
let browser;

before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** Two pages of one context (shared locks, storage, BroadcastChannel): the other tab, the app. */
async function setup() {
  const srv = await startServer({ lifetime: 3600, rotateRefreshTokens: true, sendExpiresIn: true });
  const context = await browser.browser.newContext();
  const pages = [];
  for (const who of ['other', 'app']) {
    const page = await context.newPage();
    page.on('pageerror', (e) => process.stderr.write(`[${who} error] ${e}\n`));
    await page.goto(`${srv.url}/test.html`);
    await page.waitForFunction(() => window.ready === true, null, { timeout: 15000 });
    pages.push(page);
  }
  return { srv, other: pages[0], app: pages[1], close: async () => { await context.close(); await srv.close(); } };
}

/** `window[name]` on the page, crossTab, with an app `refresh` that records what it is given and ignores its signal. */
function create(page, srv, tokens, { name = 'r', storage = 'memory', refreshTimeoutMs = 1000 } = {}) {
  return page.evaluate(async ({ base, tokens, name, storage, refreshTimeoutMs }) => {
    window.calls ??= [];
    window[name] = await ft.createRefresher({
      tokens, crossTab: true, storage, storageKey: 'app-session', origins: [base], refreshTimeoutMs,
      refresh: async ({ refreshToken, fetch, signal }) => {
        calls.push({ by: name, refreshToken, aborted: signal.aborted });
        const res = await fetch(`${base}/auth/refresh`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }),
        });
        if (res.status === 401) throw Object.assign(new Error('refresh token refused'), { sessionExpired: true });
        return res.json();
      },
    });
  }, { base: srv.url, tokens, name, storage, refreshTimeoutMs });
}

/** Takes lock `name` on the page (shared or exclusive) until `release(page, name)`. */
const hold = (page, name, mode = 'exclusive') => page.evaluate(({ name, mode }) => new Promise((held) => {
  window.releases ??= {};
  navigator.locks.request(name, { mode }, () => { held(); return new Promise((r) => { releases[name] = r; }); });
}), { name, mode });
const release = (page, name) => page.evaluate((name) => releases[name](), name);
const locks = (page) => page.evaluate(async () => {
  const q = await navigator.locks.query();
  const of = (list) => list.filter((l) => l.name === 'freshtoken:app-session').length;
  return { held: of(q.held), pending: of(q.pending) };
});
/** Polls until `pred(await locks(page))`, at most `ms`; returns how long it took. */
async function until(page, pred, ms) {
  const t = Date.now();
  while (!pred(await locks(page)) && Date.now() - t < ms) await sleep(20);
  return Date.now() - t;
}

/** Nothing, in the page or at the server, was handed user 2's refresh token but user 2's own refresher. */
async function assertUnspent(srv, app, user2) {
  const calls = await app.evaluate(() => calls);
  assert.deepEqual(calls.filter((c) => c.refreshToken === user2.refreshToken && c.by !== 'r2'), [],
    'the app\'s refresh was never called with user 2\'s refresh token for the replaced session');
  const spent = srv.requestsTo('/auth/refresh').filter((q) => q.body.includes(user2.refreshToken));
  assert.equal(spent.length, 0, 'user 2\'s refresh token never reached the server');
}

for (const storage of ['localStorage', 'memory']) {
  test(`item 4 (${storage}): setTokens(user 2) while the refresh for user 1 waits for the last record: user 2's refresh token is not spent`, { timeout: 60_000 }, async () => {
    const { srv, other, app, close } = await setup();
    try {
      const user1 = srv.issueTokens();
      const user2 = srv.issueTokens();
      await create(app, srv, user1, { storage });
      // The other tab holds the lock and has published a generation whose record never comes.
      await hold(other, MARKER, 'shared');
      await hold(other, LOCK);
      await app.evaluate(() => { window.out = r.refresh().then((v) => ({ v }), (e) => ({ code: e.code })); });
      await release(other, LOCK);
      await until(app, (l) => l.held === 1 && l.pending === 0, 5000); // the app's refresh holds the lock
      await sleep(100);
      await app.evaluate((t) => r.setTokens(t), user2);
      const ms = await until(app, (l) => l.held === 0, 10_000);
      await sleep(300); // a refresh call let through would have reached the server by now
      await assertUnspent(srv, app, user2);
      assert.ok(ms < 1000, `the replaced refresh let go of the lock at once, not after the bounded wait: ${ms} ms`);
      assert.equal((await app.evaluate(() => out)).v, user2.accessToken, 'the replaced refresh answers with the current session');
      await release(other, MARKER);
      // User 2's session lives on: its next refresh is accepted.
      const next = await app.evaluate(() => r.refresh().then(() => r.state, (e) => e.code));
      assert.equal(next, 'fresh');
    } finally {
      await close();
    }
  });

  test(`item 4 (${storage}): a refresh queued by a disposed refresher never runs, and spends no refresh token of the new refresher on the same key`, { timeout: 60_000 }, async () => {
    const { srv, other, app, close } = await setup();
    try {
      const user1 = srv.issueTokens();
      const user2 = srv.issueTokens();
      await create(app, srv, user1, { storage });
      await hold(other, LOCK);
      await app.evaluate(() => { r.refresh().catch(() => {}); });
      await until(app, (l) => l.pending === 1, 5000);
      await app.evaluate(() => r.dispose());
      await create(app, srv, user2, { storage, name: 'r2' });
      await release(other, LOCK);
      await until(app, (l) => l.held === 0 && l.pending === 0, 10_000);
      await sleep(300);
      await assertUnspent(srv, app, user2);
      assert.deepEqual(await app.evaluate(() => calls), [], 'the disposed refresher called no refresh at all');
      const next = await app.evaluate(() => r2.refresh().then(() => r2.state, (e) => e.code));
      assert.equal(next, 'fresh', 'user 2\'s session survives its next refresh');
    } finally {
      await close();
    }
  });
}

test('item 4: the waiters of a refresh replaced by setTokens(user 2) get user 2\'s token at once, not RefreshError late: true', { timeout: 60_000 }, async () => {
  for (const where of ['queued for the lock', 'waiting for the last record']) {
    const { srv, other, app, close } = await setup();
    try {
      const user1 = srv.issueTokens();
      const user2 = srv.issueTokens();
      await create(app, srv, user1, { refreshTimeoutMs: 3000 });
      if (where !== 'queued for the lock') await hold(other, MARKER, 'shared');
      await hold(other, LOCK);
      await app.evaluate((base) => {
        r.refresh().catch(() => {});
        const settle = (p) => p.then((v) => ({ v, t: performance.now() }), (e) => ({ name: e.name, code: e.code, late: e.late, t: performance.now() }));
        window.waiting = [settle(r.getAccessToken()), settle(r.fetch(`${base}/api/echo`).then((x) => x.status))];
      }, srv.url);
      if (where !== 'queued for the lock') {
        await release(other, LOCK);
        await until(app, (l) => l.held === 1 && l.pending === 0, 5000);
      }
      await sleep(100);
      const out = await app.evaluate(async (t) => {
        const t0 = performance.now();
        r.setTokens(t);
        return (await Promise.all(waiting)).map((w) => ({ ...w, ms: w.t - t0 }));
      }, user2);
      assert.equal(out[0].v, user2.accessToken, `${where}: getAccessToken() gets user 2's token: ${JSON.stringify(out[0])}`);
      assert.equal(out[1].v, 200, `${where}: the request went out with user 2's token: ${JSON.stringify(out[1])}`);
      assert.equal(srv.requestsTo('/api/echo').at(-1).headers.authorization, `Bearer ${user2.accessToken}`);
      for (const w of out) assert.ok(w.ms < 1000, `${where}: settled at once, not at refreshTimeoutMs: ${Math.round(w.ms)} ms`);
      assert.deepEqual(await app.evaluate(() => calls), [], `${where}: no refresh was called`);
    } finally {
      await close();
    }
  }
});

test('item 4: dispose() leaves no lock request queued', { timeout: 30_000 }, async () => {
  const { srv, other, app, close } = await setup();
  try {
    await create(app, srv, srv.issueTokens());
    await hold(other, LOCK);
    await app.evaluate(() => { r.refresh().catch(() => {}); });
    assert.equal(await until(app, (l) => l.pending === 1, 5000) < 5000, true, 'the refresh is queued for the lock');
    await app.evaluate(() => r.dispose());
    await until(app, (l) => l.pending === 0, 1000);
    assert.deepEqual(await locks(app), { held: 1, pending: 0 }, 'only the other tab\'s hold is left');
    await release(other, LOCK);
    await sleep(300);
    assert.deepEqual(await app.evaluate(() => calls), [], 'no refresh ran');
    assert.deepEqual(await locks(app), { held: 0, pending: 0 });
  } finally {
    await close();
  }
});
