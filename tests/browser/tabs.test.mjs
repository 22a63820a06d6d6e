// Cross-tab sessions (SPEC behaviour 3) in headless Chromium: three pages of one browser
// context share a storageKey, against a real auth server that rotates refresh tokens and
// rejects the reuse of an old one — the case where a tab refreshing with a stale refresh
// token loses the session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let browser;

before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** Opens `n` pages in one context (shared storage, locks, BroadcastChannel). */
async function openTabs(context, url, n) {
  const pages = [];
  for (let i = 0; i < n; i++) {
    const page = await context.newPage();
    page.on('pageerror', (e) => process.stderr.write(`[tab ${i} error] ${e}\n`));
    await page.goto(url);
    await page.waitForFunction(() => window.ready === true, null, { timeout: 15000 });
    pages.push(page);
  }
  return pages;
}

/** Creates `window.r` with crossTab on, recording events. */
function makeRefresher(page, base, { tokens, storage = 'localStorage' } = {}) {
  return page.evaluate(async ({ base, tokens, storage }) => {
    window.events = [];
    const options = {
      endpoint: { url: `${base}/auth/refresh` },
      origins: [base],
      crossTab: true,
      storage,
      storageKey: 'app-session',
    };
    if (tokens) options.tokens = tokens;
    window.r = await ft.createRefresher(options);
    for (const e of ['refresh', 'refresh-error', 'session-expired', 'logout']) {
      window.r.on(e, (d) => window.events.push({ e, t: Date.now(), fromOtherTab: !!(d && d.fromOtherTab) }));
    }
    return window.r.state;
  }, { base, tokens, storage });
}

const snapshot = (page) => page.evaluate(() => ({
  state: r.state,
  token: r.accessToken,
  counts: Object.fromEntries(['refresh', 'refresh-error', 'session-expired', 'logout']
    .map((e) => [e, events.filter((x) => x.e === e).length])),
}));

for (const storage of ['localStorage', 'memory']) {
  test(`3 tabs (${storage}), rotating refresh tokens: one refresh per lifetime, no session loss`, { timeout: 90_000 }, async () => {
    const lifetime = 3;
    const srv = await startServer({ lifetime, rotateRefreshTokens: true, sendExpiresIn: true });
    const context = await browser.browser.newContext();
    try {
      const pages = await openTabs(context, `${srv.url}/test.html`, 3);
      const login = srv.issueTokens();
      const t0 = Date.now();
      await makeRefresher(pages[0], srv.url, { tokens: login, storage });
      // Tabs opened later pick the session up (from storage, or by asking the first tab).
      await makeRefresher(pages[1], srv.url, { storage });
      await makeRefresher(pages[2], srv.url, { storage });
      await sleep(500);
      for (const p of pages) assert.equal((await snapshot(p)).token, login.accessToken, 'every tab took the session');

      // Ten lifetimes; each tab also makes API calls, so a stale token would show as a 401.
      const runMs = 10 * lifetime * 1000;
      let calls = 0;
      let failed = 0;
      while (Date.now() - t0 < runMs) {
        const statuses = await Promise.all(pages.map((p) => p.evaluate(async (base) => (await r.fetch(`${base}/api/echo`)).status, srv.url)));
        calls += statuses.length;
        failed += statuses.filter((s) => s !== 200).length;
        await sleep(200);
      }
      const elapsed = Date.now() - t0;
      const expected = Math.floor(elapsed / (0.8 * lifetime * 1000));
      const snaps = await Promise.all(pages.map(snapshot));
      process.stderr.write(`# ${storage}: ${elapsed} ms, ${srv.state.refreshCalls} refresh calls (expected ${expected}), ${calls} API calls, ${failed} failed\n`);

      assert.ok(Math.abs(srv.state.refreshCalls - expected) <= 1,
        `one refresh per lifetime across the tabs: ${srv.state.refreshCalls} calls, expected ${expected}`);
      const rejected = srv.requestsTo('/auth/refresh').length - srv.state.refreshCalls;
      assert.equal(rejected, 0);
      assert.equal(failed, 0, 'no API call failed');
      for (const s of snaps) {
        assert.equal(s.state, 'fresh');
        assert.equal(s.counts['session-expired'], 0, 'no tab lost the session');
        assert.equal(s.counts['refresh-error'], 0, 'no refresh was refused or failed');
        assert.equal(s.token, snaps[0].token, 'all tabs hold the same token');
      }
      assert.ok(srv.issued(snaps[0].token), 'the shared token is one the server minted and has not revoked');
    } finally {
      await context.close();
      await srv.close();
    }
  });
}

test('logout in one tab logs out all; a refresh-token rejection ends the session in every tab once', { timeout: 60_000 }, async () => {
  const srv = await startServer({ lifetime: 30, rotateRefreshTokens: true });
  const context = await browser.browser.newContext();
  try {
    const pages = await openTabs(context, `${srv.url}/test.html`, 3);
    await makeRefresher(pages[0], srv.url, { tokens: srv.issueTokens() });
    await makeRefresher(pages[1], srv.url);
    await makeRefresher(pages[2], srv.url);
    await sleep(300);
    await pages[1].evaluate(() => r.logout());
    await sleep(500);
    for (const p of pages) {
      const s = await snapshot(p);
      assert.equal(s.state, 'logged-out');
      assert.equal(s.token, null);
    }
    // Storage keeps only the logout's marker (its epoch), no token: a late writer from the
    // ended session sees it and does not write tokens back.
    const stored = JSON.parse(await pages[0].evaluate(() => localStorage.getItem('app-session')));
    assert.equal(stored.out, true, 'storage holds the logout marker');
    assert.equal(stored.accessToken, undefined, 'no token on disk after logout');

    // New login in tab 0 reaches the others; then the server revokes the refresh token.
    await pages[0].evaluate((t) => r.setTokens(t), srv.issueTokens());
    await sleep(300);
    for (const p of pages) assert.equal((await snapshot(p)).state, 'fresh');
    srv.revokeRefreshTokens();
    await pages[2].evaluate(() => r.refresh().catch(() => {}));
    await sleep(500);
    for (const p of pages) {
      const s = await snapshot(p);
      assert.equal(s.state, 'expired');
      assert.equal(s.counts['session-expired'], 1, 'told exactly once per tab');
    }
    assert.equal(srv.state.refreshCalls, 1, 'one refresh attempt for all tabs');
  } finally {
    await context.close();
    await srv.close();
  }
});

test('crossTab messages reach only tabs with the same storageKey', { timeout: 30_000 }, async () => {
  const srv = await startServer({ lifetime: 30 });
  const context = await browser.browser.newContext();
  try {
    const [a, b] = await openTabs(context, `${srv.url}/test.html`, 2);
    await makeRefresher(a, srv.url, { tokens: srv.issueTokens(), storage: 'memory' });
    const other = await b.evaluate(async (base) => {
      const heard = [];
      const spy = new BroadcastChannel('freshtoken:other-key');
      // r2's own 'hello' is heard too; what must never arrive is another key's session.
      spy.onmessage = (e) => { if (e.data && e.data.type !== 'hello') heard.push(e.data); };
      window.r2 = await ft.createRefresher({ endpoint: { url: `${base}/auth/refresh` }, crossTab: true, storageKey: 'other-key' });
      await new Promise((res) => setTimeout(res, 500));
      return { state: r2.state, token: r2.accessToken, heard: heard.length };
    }, srv.url);
    assert.equal(other.state, 'idle', 'a tab with another storageKey does not get the session');
    assert.equal(other.token, null);
    assert.equal(other.heard, 0);
    await a.evaluate(() => r.logout());
    await sleep(300);
    assert.equal(await b.evaluate(() => r2.state), 'idle', 'nor its logout');
  } finally {
    await context.close();
    await srv.close();
  }
});

test('a lock held by a frozen tab is taken over after the bounded wait', { timeout: 60_000 }, async () => {
  const srv = await startServer({ lifetime: 30, sendExpiresIn: true });
  const context = await browser.browser.newContext();
  try {
    const [a, b] = await openTabs(context, `${srv.url}/test.html`, 2);
    // Tab b grabs the session's lock and never lets go, like a tab frozen mid-refresh (held,
    // not only asked for, before tab a asks: two tabs' requests may reach the lock manager in
    // either order).
    await b.evaluate(() => new Promise((held) => {
      navigator.locks.request('freshtoken:app-session', () => { held(); return new Promise(() => {}); }).catch(() => {});
    }));
    const took = await a.evaluate(async ({ base, tokens }) => {
      window.r = await ft.createRefresher({
        endpoint: { url: `${base}/auth/refresh` }, crossTab: true, storageKey: 'app-session',
        tokens, refreshTimeoutMs: 1000,
      });
      const t = Date.now();
      await r.refresh();
      return { ms: Date.now() - t, state: r.state };
    }, { base: srv.url, tokens: srv.issueTokens() });
    assert.equal(took.state, 'fresh');
    assert.equal(srv.state.refreshCalls, 1);
    assert.ok(took.ms >= 5500 && took.ms < 15000, `waited the bound (refreshTimeoutMs + 5 s), then stole the lock: ${took.ms} ms`);
  } finally {
    await context.close();
    await srv.close();
  }
});

test('a tab closed mid-refresh leaves no lock behind: another tab refreshes at once, not after the bounded wait', { timeout: 60_000 }, async () => {
  const srv = await startServer({ lifetime: 30, sendExpiresIn: true });
  const context = await browser.browser.newContext();
  try {
    const [a, b] = await openTabs(context, `${srv.url}/test.html`, 2);
    await makeRefresher(a, srv.url, { tokens: srv.issueTokens() });
    await makeRefresher(b, srv.url);
    await sleep(300);
    assert.equal((await snapshot(b)).state, 'fresh', 'the second tab took the session');
    // Tab a starts a refresh that the server holds for 5 s (then drops, refreshing nothing)...
    srv.setRefreshOutcomes([{ delay: 5000, network: true }]);
    a.evaluate(() => { r.refresh().catch(() => {}); }).catch(() => {});
    while (srv.state.refreshCalls < 1) await sleep(20);
    const held = await b.evaluate(async () => (await navigator.locks.query()).held.some((l) => l.name === 'freshtoken:app-session'));
    assert.ok(held, 'tab a holds the refresh lock');
    // ...and is closed (a crash or the user closing it) while it holds the lock.
    await a.close();
    const out = await b.evaluate(async () => {
      const t = Date.now();
      await r.refresh();
      return { ms: Date.now() - t, state: r.state };
    });
    assert.equal(out.state, 'fresh');
    assert.equal(srv.state.refreshCalls, 2, 'tab b refreshed itself');
    // The bounded wait (refreshTimeoutMs + 5 s = 20 s) is only for a frozen holder.
    assert.ok(out.ms < 3000, `the closed tab's lock was released at once: ${out.ms} ms`);
    assert.equal((await snapshot(b)).counts['session-expired'], 0);
  } finally {
    await context.close();
    await srv.close();
  }
});
