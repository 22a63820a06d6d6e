// The demo (www/): its own auth server started as `node www/server.mjs` (PORT=0), driven
//   1. through the standard flows (seed 001 contract with rotating refresh tokens, preset
//      'json'), from the demo page's own origin, under its Content-Security-Policy;
//   2. through its UI: sign in, watch refreshes, faults, expire-now + burst, revoke, a second
//      tab, and the screenshot in docs/demo.png.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { serverFlows, openPage } from './support/flows.mjs';
import { spawnServer } from './support/proc.mjs';
import { launchBrowser } from '../support/browser.mjs';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TTL_S = 3;
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;

/** Starts `node www/server.mjs` on a free port. */
async function startDemo(ttl = TTL_S) {
  const proc = await spawnServer(process.execPath, ['www/server.mjs'], {
    cwd: REPO, env: { PORT: '0', TOKEN_TTL: String(ttl) }, name: 'demo server',
  });
  const control = async (body) => {
    const res = body === undefined ? await fetch(`${proc.url}/control`)
      : await fetch(`${proc.url}/control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return res.json();
  };
  return {
    url: proc.url,
    output: proc.output,
    control,
    stats: async () => (await control()).stats,
    close: proc.stop,
  };
}

// ------------------------------------------------------------------ 1. the standard flows

serverFlows({
  name: `demo server (www/server.mjs, ${TTL_S} s tokens, rotating refresh tokens)`,
  start: () => startDemo(TTL_S),
  pagePath: '/',
  login: { url: '/auth/login', body: { username: 'e2e', password: 'pw' }, accessKey: 'accessToken', refreshKey: 'refreshToken', expiresInKey: 'expiresIn' },
  endpoint: { url: '/auth/refresh', preset: 'json' },
  apiPath: '/api/data',
  lifetimeMs: TTL_S * 1000,
  // The server sends expiresIn with every token; it comes first (SPEC behaviour 1).
  lifetimeOf: () => TTL_S * 1000,
  // The page revokes its own session through the SDK, as the demo's button does.
  revoke: async ({ page }) => {
    const status = await page.evaluate(async () => (await window.refresher.fetch('/auth/revoke', { method: 'POST' })).status);
    assert.equal(status, 204, 'POST /auth/revoke');
  },
  revokeKillsAccess: true,
});

// ------------------------------------------------------------------ 2. the page itself

describe('demo page (www/index.html)', () => {
  let srv;
  let browser;
  before(async () => {
    srv = await startDemo(TTL_S);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  const text = (page, sel) => page.textContent(sel).then((s) => s.trim());
  const num = async (page, sel) => Number(await text(page, sel));

  /** Opens the demo, signs in with `ttl`-second tokens; returns the tab. */
  async function signIn({ ttl = TTL_S, viewport, auto = true } = {}) {
    const tab = await openPage(browser, `${srv.url}/`, { viewport });
    const { page } = tab;
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.isVisible('#login-view'), true, 'a new visitor sees the sign-in view');
    await page.selectOption('#login-ttl', String(ttl));
    await page.click('#btn-login');
    await page.waitForSelector('#app-view:not([hidden])');
    if (!auto) await page.uncheck('#auto-traffic');
    return tab;
  }

  test('sign in, then every refresh happens on time and every request succeeds; no token in the DOM, the console or the server output', async (t) => {
    const tab = await signIn();
    try {
      const { page } = tab;
      const consoleText = [];
      page.on('console', (m) => consoleText.push(m.text()));
      const left1 = await page.$eval('#mark-now', (e) => parseFloat(e.style.left));
      await page.waitForTimeout(700);
      const left2 = await page.$eval('#mark-now', (e) => parseFloat(e.style.left));
      assert.ok(left2 > left1, `the "now" marker moves along the token's life (${left1}% -> ${left2}%)`);
      assert.equal(await page.$eval('#mark-refresh', (e) => parseFloat(e.style.left)), 80);

      await page.waitForTimeout(7_600); // about three refreshes of 3 s tokens
      const refreshes = await num(page, '#stat-refreshes');
      const requests = await num(page, '#stat-requests');
      const failed = await num(page, '#stat-failed');
      const server = await srv.stats();
      t.diagnostic(`page: ${requests} requests, ${failed} failed, ${refreshes} refreshes; server: ${server.refreshCalls} refresh calls`);
      assert.ok(refreshes >= 3 && refreshes <= 4, `${refreshes} refreshes in 8.3 s of 3 s tokens`);
      assert.equal(server.refreshCalls, refreshes, 'the server saw one refresh call per refresh the page shows');
      assert.ok(requests >= 7, `${requests} requests`);
      assert.equal(failed, 0);
      const okRefreshRows = await page.$$eval('#log-body tr[data-kind="refresh"][data-status="200"]', (rows) => rows.length);
      assert.equal(okRefreshRows, refreshes, 'each refresh is a row of the request log');
      assert.equal(await text(page, '#state-pill'), 'fresh');
      assert.match(await text(page, '#token-fp'), /^jti …[A-Za-z0-9_-]{6}$/);
      assert.ok(await page.$$eval('#event-list li[data-kind="refresh"]', (l) => l.length) >= 3);

      const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('freshtoken-demo')));
      assert.equal(typeof saved.accessToken, 'string');
      const html = await page.content();
      for (const secret of [saved.accessToken, saved.refreshToken, saved.accessToken.split('.')[2]]) {
        assert.equal(html.includes(secret), false, 'a token is in the DOM');
        assert.equal(srv.output().includes(secret), false, 'a token is in the server output');
      }
      assert.doesNotMatch(html, JWT_LIKE, 'nothing JWT-like in the DOM');
      assert.doesNotMatch(srv.output(), JWT_LIKE, 'nothing JWT-like in the server output');
      assert.doesNotMatch(consoleText.join('\n'), JWT_LIKE, 'nothing JWT-like in the console');
      assert.deepEqual(tab.errors, []);
    } finally {
      await tab.close();
    }
  });

  test('"Expire token now" then "Request burst ×20": 20 x 401, one refresh, each request retried once, none fails', async (t) => {
    const tab = await signIn({ ttl: 20, auto: false });
    try {
      const { page } = tab;
      // The once-a-second automatic request may have fired before auto-traffic was unticked:
      // let it finish, then start from an empty log so only the burst is counted.
      await page.waitForFunction(() => !document.querySelector('#log-body tr[data-outcome="pending"]'), null, { timeout: 10_000 });
      await page.click('#btn-clear-log');
      const before = await srv.stats();
      await page.click('#btn-expire');
      await page.waitForSelector('#event-list li[data-kind="server"]');
      assert.equal((await srv.stats()).keyRotations - before.keyRotations, 1, 'the server rotated its signing key');
      await page.click('#btn-burst');
      await page.waitForFunction(() => document.querySelectorAll('#log-body tr[data-kind="api"]').length >= 20
        && !document.querySelector('#log-body tr[data-outcome="pending"]'), null, { timeout: 10_000 });
      const after = await srv.stats();
      const rows = await page.$$eval('#log-body tr[data-kind="api"]', (trs) => trs.map((tr) => ({
        status: tr.dataset.status, outcome: tr.dataset.outcome, what: tr.querySelector('.what').textContent,
      })));
      t.diagnostic(`server: ${after.api401 - before.api401} x 401, ${after.refreshCalls - before.refreshCalls} refresh call(s); page: ${rows.filter((r) => r.outcome === 'retried').length} retried`);
      assert.equal(rows.length, 20);
      assert.ok(rows.every((r) => r.status === '200'), `statuses: ${rows.map((r) => r.status)}`);
      assert.equal(after.api401 - before.api401, 20, 'each request first met the rotated-out token');
      assert.equal(after.refreshCalls - before.refreshCalls, 1, 'one refresh call for the 20 requests');
      assert.ok(rows.every((r) => r.outcome === 'retried'), `outcomes: ${rows.map((r) => r.outcome)}`);
      assert.ok(rows.every((r) => /^retried401 with …\S{6} → one shared refresh → retried with …\S{6}$/.test(r.what)), rows[0].what);
      assert.equal(await num(page, '#stat-retried'), 20);
      assert.equal(await num(page, '#stat-failed'), 0);
      assert.equal(await page.$$eval('#log-body tr[data-kind="refresh"]', (r) => r.length), 1, 'one refresh row in the log');
    } finally {
      await tab.close();
    }
  });

  test('refresh endpoint answering 5xx: refresh-error shown, the session survives; back to OK, the next retry refreshes', async (t) => {
    const tab = await signIn({ ttl: 5, auto: false });
    try {
      const { page } = tab;
      await page.click('#mode-group button[data-mode="fail5xx"]');
      await page.waitForSelector('#mode-group button[data-mode="fail5xx"][aria-checked="true"]');
      await page.waitForSelector('#event-list li[data-kind="refresh-error"]', { timeout: 8_000 });
      const errorText = await text(page, '#event-list li[data-kind="refresh-error"] .ev-text');
      t.diagnostic(`refresh-error: ${errorText}`);
      assert.match(errorText, /503/);
      assert.match(errorText, /retry in \d/);
      assert.equal(await page.isVisible('#app-view'), true, 'a 5xx never logs out');
      assert.equal(await page.$$eval('#log-body tr[data-kind="refresh"][data-status="503"]', (r) => r.length) >= 1, true);
      const refreshesBefore = await num(page, '#stat-refreshes');

      await page.click('#mode-group button[data-mode="ok"]');
      await page.waitForFunction((n) => Number(document.getElementById('stat-refreshes').textContent) > n, refreshesBefore, { timeout: 10_000 });
      assert.equal(await text(page, '#state-pill'), 'fresh');
      assert.equal(await page.$$eval('#event-list li[data-kind="session-expired"]', (l) => l.length), 0);
      assert.equal(await page.isVisible('#app-view'), true);
    } finally {
      await srv.control({ mode: 'ok' });
      await tab.close();
    }
  });

  test('"Revoke refresh token" ends the session exactly once: back to the sign-in view with the reason', async () => {
    const tab = await signIn({ ttl: 20, auto: false });
    try {
      const { page } = tab;
      const before = await srv.stats();
      await page.click('#btn-revoke');
      await page.waitForSelector('#login-view:not([hidden])', { timeout: 5_000 });
      assert.match(await text(page, '#login-notice'), /session ended \(refresh-rejected\)/);
      assert.equal(await page.$$eval('#event-list li[data-kind="session-expired"]', (l) => l.length), 1);
      await page.waitForTimeout(1_000);
      const after = await srv.stats();
      assert.equal(after.refreshCalls - before.refreshCalls, 1, 'one refused refresh, no retry loop');
      assert.equal(after.refreshRejected - before.refreshRejected, 1);
      const saved = JSON.parse(await page.evaluate(() => localStorage.getItem('freshtoken-demo')) ?? 'null');
      assert.ok(saved === null || (saved.out === true && saved.accessToken === undefined), 'the saved session is gone (only the end marker is left)');
      // Signing in again works.
      await page.click('#btn-login');
      await page.waitForSelector('#app-view:not([hidden])');
    } finally {
      await tab.close();
    }
  });

  test('screenshot of a session in progress -> docs/demo.png (1280x800)', async (t) => {
    const tab = await signIn({ ttl: 5, viewport: { width: 1280, height: 800 } });
    try {
      const { page } = tab;
      await page.waitForTimeout(9_000);
      await page.click('#btn-burst');
      await page.waitForTimeout(1_200);
      await page.click('#btn-expire');
      await page.waitForTimeout(2_600);
      assert.ok(await num(page, '#stat-refreshes') >= 2, 'a few refreshes happened');
      assert.ok(await page.$$eval('#log-body tr', (r) => r.length) >= 20, 'the request log is filled');
      assert.equal(await num(page, '#stat-failed'), 0);
      await mkdir(`${REPO}docs`, { recursive: true });
      const path = `${REPO}docs/demo.png`;
      await page.screenshot({ path });
      const { size } = await stat(path);
      t.diagnostic(`docs/demo.png: ${size} bytes`);
      assert.ok(size > 30_000, 'the screenshot has content');
    } finally {
      await tab.close();
    }
  });
});
