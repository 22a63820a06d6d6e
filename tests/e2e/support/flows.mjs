// The three flows every server contract goes through, from a real Chromium page on the
// server's own origin:
//   1. login, then a request every 100 ms across several token lifetimes: zero failed calls,
//      and each refresh sent at receipt + 0.8 x lifetime (±300 ms);
//   2. 50 concurrent calls with an expired token: exactly one refresh call (counted by the
//      server), all 50 succeed;
//   3. the server revokes the refresh token: exactly one session-expired, no refresh loop.
//
// `serverFlows(adapter)` registers them as node:test tests. The adapter says how to talk to
// one server:
//   name        label in test names
//   start()     -> { url, stats(): Promise<{ refreshCalls }>, close() }
//   pagePath    a page on the server's origin to run in
//   login       { url, body, accessKey, refreshKey?, expiresInKey? } for e2e.login
//   endpoint    the refresher's `endpoint` option
//   apiPath     a protected route (401 with an expired token)
//   lifetimeMs  nominal access-token lifetime
//   lifetimeOf(token, receivedAt) -> ms: the lifetime the SPEC says the SDK must plan with
//   revoke({ srv, page }) ends the session server-side
//   revokeKillsAccess  whether revoking also rejects the current access token at once
//   fixedLifetime      false when tokens' lifetimes vary (sanic-jwt's whole-second exp):
//                      then the refresh count is not compared with duration / (0.8 x lifetime)
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from '../../support/browser.mjs';
import { installHarness, recorded } from './harness.mjs';

export const TOLERANCE_MS = 300;

/**
 * Opens `url` in a fresh browser context (of a tests/support/browser.mjs browser). Page errors
 * and console messages go to stderr, except the browser's own "Failed to load resource" lines
 * for the 401s these tests provoke on purpose.
 */
export async function openPage(browser, url, { viewport } = {}) {
  const context = await browser.browser.newContext(viewport ? { viewport } : {});
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => {
    errors.push(String(err && err.stack || err));
    process.stderr.write(`[page error] ${err && err.stack || err}\n`);
  });
  page.on('console', (msg) => {
    if (/^Failed to load resource/.test(msg.text())) return;
    process.stderr.write(`[page console.${msg.type()}] ${msg.text()}\n`);
  });
  await page.goto(url);
  return { page, context, errors, close: () => context.close() };
}

/** Opens `url` on the server and installs the harness. */
export async function openHarness(browser, url, opts) {
  const tab = await openPage(browser, url, opts);
  await installHarness(tab.page);
  return tab;
}

/**
 * Pairs the i-th token the refresher received with the i-th refresh call it sent, and
 * measures each call against receipt + 0.8 x lifetime.
 */
export function refreshTiming(rec, refreshPath, lifetimeOf) {
  const calls = rec.sends.filter((s) => s.path === refreshPath);
  return calls.map((call, i) => {
    const receipt = rec.receipts[i];
    const lifetime = lifetimeOf(receipt.token, receipt.t);
    const expected = receipt.t + 0.8 * lifetime;
    return { i, receivedAt: receipt.t, lifetime, expected, sentAt: call.t, delta: Math.round(call.t - expected) };
  });
}

function describeTiming(rows) {
  return rows.map((r) => `#${r.i + 1}: lifetime ${(r.lifetime / 1000).toFixed(3)} s, expected +${Math.round(0.8 * r.lifetime)} ms, sent +${r.sentAt - r.receivedAt} ms (${r.delta >= 0 ? '+' : ''}${r.delta} ms)`).join('\n');
}

export function serverFlows(a) {
  const refreshPath = new URL(a.endpoint.url, 'http://x').pathname;
  const lifetimes = a.streamLifetimes ?? 3.3;

  describe(a.name, () => {
    let srv;
    let browser;
    before(async () => {
      srv = await a.start();
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await srv?.close();
    });

    const open = () => openHarness(browser, srv.url + a.pagePath);

    test(`${a.name}: a request every 100 ms across ${lifetimes} token lifetimes: zero failed calls, each refresh at 80% of the lifetime (±${TOLERANCE_MS} ms)`, async (t) => {
      const tab = await open();
      try {
        const { page } = tab;
        await page.evaluate((spec) => window.e2e.login(spec), a.login);
        await page.evaluate((endpoint) => window.e2e.start({ endpoint }), a.endpoint);
        const durationMs = Math.round(lifetimes * a.lifetimeMs);
        const results = await page.evaluate((args) => window.e2e.stream(args), { url: a.apiPath, everyMs: 100, durationMs });
        const rec = await recorded(page);

        const failed = results.filter((r) => r.status !== 200);
        t.diagnostic(`${results.length} calls over ${durationMs} ms, ${failed.length} failed`);
        assert.equal(failed.length, 0, `failed calls: ${JSON.stringify(failed.slice(0, 5))}`);
        assert.ok(results.length >= durationMs / 100 - 1, `only ${results.length} calls were made`);

        const rows = refreshTiming(rec, refreshPath, a.lifetimeOf);
        t.diagnostic('refresh calls (sent vs receipt + 0.8 x lifetime):');
        for (const line of describeTiming(rows).split('\n')) t.diagnostic(`  ${line}`);
        const expectedCount = Math.floor(durationMs / (0.8 * a.lifetimeMs));
        assert.ok(rows.length >= 3, `only ${rows.length} refreshes across ${lifetimes} lifetimes`);
        if (a.fixedLifetime !== false) {
          assert.ok(Math.abs(rows.length - expectedCount) <= 1,
            `${rows.length} refresh calls, expected ${expectedCount} ± 1 in ${durationMs} ms`);
        }
        for (const r of rows) {
          assert.ok(Math.abs(r.delta) <= TOLERANCE_MS,
            `refresh #${r.i + 1} was sent ${r.delta} ms from receipt + 0.8 x lifetime:\n${describeTiming(rows)}`);
        }
        // Proactive: no API call ever met an expired token, nothing failed, nobody was logged out.
        const api401 = rec.sends.filter((s) => s.path === a.apiPath && s.status === 401).length;
        assert.equal(api401, 0, 'an API call was sent with an expired token (a refresh came too late)');
        assert.equal(rec.events.filter((e) => e.event === 'refresh').length, rows.length, 'one refresh event per refresh call');
        assert.equal(rec.events.filter((e) => e.event === 'refresh-error').length, 0);
        assert.equal(rec.events.filter((e) => e.event === 'session-expired').length, 0);
        const refreshStatuses = rec.sends.filter((s) => s.path === refreshPath).map((s) => s.status);
        assert.ok(refreshStatuses.every((s) => s === 200), `refresh statuses: ${refreshStatuses}`);
      } finally {
        await tab.close();
      }
    });

    test(`${a.name}: 50 concurrent calls with an expired token make exactly one refresh call (counted server-side), all 50 succeed`, async (t) => {
      const tab = await open();
      try {
        const { page } = tab;
        await page.evaluate((spec) => window.e2e.login(spec), a.login);
        // Let the login's token expire, with no refresher running.
        await page.waitForTimeout(a.lifetimeMs + 400);
        assert.equal(await page.evaluate((url) => window.e2e.plainCall(url), a.apiPath), 401,
          'the server must reject the token before the burst (it expired)');

        const before = await srv.stats();
        const results = await page.evaluate(async ({ endpoint, apiPath }) => {
          await window.e2e.start({ endpoint });
          return window.e2e.burst(50, apiPath);
        }, { endpoint: a.endpoint, apiPath: a.apiPath });
        const after = await srv.stats();
        const rec = await recorded(page);

        const statuses = results.map((r) => r.status);
        assert.deepEqual(statuses, Array(50).fill(200), `statuses: ${JSON.stringify(statuses)}`);
        assert.equal(after.refreshCalls - before.refreshCalls, 1, 'refresh calls the server received during the burst');
        assert.equal(rec.sends.filter((s) => s.path === refreshPath).length, 1, 'refresh calls the page sent');
        assert.equal(rec.events.filter((e) => e.event === 'refresh').length, 1);

        const api = rec.sends.filter((s) => s.path === a.apiPath);
        const rejected = api.filter((s) => s.status === 401).length;
        // Either the SDK knew the token was expired (all 50 waited for the one refresh), or it
        // could not know (a token whose exp - iat says "fresh") and all 50 got a 401 and were
        // replayed once. Never more than one replay per call.
        t.diagnostic(rejected === 0
          ? 'the SDK saw the token had expired: the 50 calls waited for one refresh'
          : `the server answered ${rejected} x 401; each call was replayed once after one shared refresh`);
        assert.ok(rejected === 0 || rejected === 50, `${rejected} calls got a 401`);
        assert.equal(api.length, 50 + rejected, 'API sends: one per call, plus one replay per 401');
        const newToken = rec.receipts.at(-1).token;
        const okSends = api.filter((s) => s.status === 200);
        assert.equal(okSends.length, 50);
        assert.ok(okSends.every((s) => s.auth === `Bearer ${newToken}`), 'every successful call carried the refreshed token');
      } finally {
        await tab.close();
      }
    });

    test(`${a.name}: a revoked refresh token ends the session with exactly one session-expired`, async (t) => {
      const tab = await open();
      try {
        const { page } = tab;
        await page.evaluate((spec) => window.e2e.login(spec), a.login);
        await page.evaluate((endpoint) => window.e2e.start({ endpoint }), a.endpoint);
        const durationMs = Math.round(1.8 * a.lifetimeMs);
        const streaming = page.evaluate((args) => window.e2e.stream(args), { url: a.apiPath, everyMs: 100, durationMs });
        await page.waitForTimeout(Math.round(0.3 * a.lifetimeMs));
        const revokedAt = Date.now();
        const statsAtRevoke = await srv.stats();
        await a.revoke({ srv, page });
        const results = await streaming;
        // A few more calls after the session ended: no refresh may follow them.
        await page.waitForTimeout(300);
        const late = await page.evaluate((url) => window.e2e.burst(5, url), a.apiPath);
        const statsEnd = await srv.stats();
        const rec = await recorded(page);
        const state = await page.evaluate(() => window.e2e.state());

        const ended = rec.events.filter((e) => e.event === 'session-expired');
        t.diagnostic(`session-expired ${ended.length} x, reason ${ended[0] && JSON.stringify(ended[0].detail)}, ${ended[0] ? ended[0].t - revokedAt : '?'} ms after the revoke`);
        assert.equal(ended.length, 1, 'session-expired events');
        assert.equal(rec.expiredCalls.length, 1, 'onSessionExpired calls');
        assert.equal(state.state, 'expired');
        assert.equal(state.hasToken, false, 'tokens cleared');
        assert.equal(rec.events.filter((e) => e.event === 'refresh-error').length, 0, 'an auth rejection is not a transient error');

        const refreshesAfter = rec.sends.filter((s) => s.path === refreshPath && s.t >= revokedAt);
        assert.equal(refreshesAfter.length, 1, `refresh calls after the revoke: ${JSON.stringify(refreshesAfter.map((s) => s.status))}`);
        assert.ok([400, 401, 403].includes(refreshesAfter[0].status), `the refresh was answered ${refreshesAfter[0].status}`);
        assert.equal(statsEnd.refreshCalls - statsAtRevoke.refreshCalls, 1, 'refresh calls the server received after the revoke');
        assert.ok(late.every((r) => r.status === 401), 'calls after the session ended reach the server without a token and get its 401');

        const beforeRevoke = results.filter((r) => r.t1 < revokedAt);
        assert.ok(beforeRevoke.length > 0 && beforeRevoke.every((r) => r.status === 200), 'calls that finished before the revoke succeeded');
        if (!a.revokeKillsAccess) {
          // The access token stays good until the next refresh point, which is where the session ends.
          const endedAfterMs = ended[0].t - rec.receipts.at(-1).t;
          const plan = 0.8 * a.lifetimeOf(rec.receipts.at(-1).token, rec.receipts.at(-1).t);
          assert.ok(Math.abs(endedAfterMs - plan) <= TOLERANCE_MS + 200,
            `the session ended ${endedAfterMs} ms after the last token arrived; its refresh point was ${Math.round(plan)} ms`);
        }
      } finally {
        await tab.close();
      }
    });

    a.extraTests?.(() => ({ srv, browser, open }));
  });
}
