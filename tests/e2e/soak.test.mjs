// Soak against the demo server: 3-second tokens, a request every 100 ms from a real page for
// 48 s (SOAK_SECONDS and SOAK_TTL set them): 20 refresh cycles against the real server. Zero
// failed requests, no request carrying an expired token, and the refresh count within one of
// 48 s / (0.8 x 3 s) = 20. (The refresh point itself, 80% of the lifetime, is proven on the
// virtual clock by the conformance table; this run is for the real server.)
// Each cycle also takes the refresh call's own round trip (the next one is planned from the
// answer), so the count holds while a cycle's round trip averages under 2.4 s / 20 = 120 ms.
// Tokens are not shorter than 3 s: a request sent just before the refresh point has the last
// 20% of the lifetime (0.6 s) to reach the server, and answers took up to 0.5 s while the
// browser tests ran beside it on 2 cores (2 s tokens, 0.4 s, once arrived expired).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from '../support/browser.mjs';
import { openHarness, refreshTiming } from './support/flows.mjs';
import { recorded } from './support/harness.mjs';
import { spawnServer } from './support/proc.mjs';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TTL_S = Number(process.env.SOAK_TTL ?? 3);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 48);
const EVERY_MS = 100;

let srv;
let browser;
before(async () => {
  srv = await spawnServer(process.execPath, ['www/server.mjs'], {
    cwd: REPO, env: { PORT: '0', TOKEN_TTL: String(TTL_S), QUIET: '1' }, name: 'demo server',
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const stats = async () => (await (await fetch(`${srv.url}/control`)).json()).stats;

test(`soak: ${SECONDS} s of a request every ${EVERY_MS} ms with ${TTL_S} s tokens: zero failures, refreshes within one of ${SECONDS} / (0.8 x ${TTL_S})`, { timeout: (SECONDS + 60) * 1000 }, async (t) => {
  const tab = await openHarness(browser, `${srv.url}/`);
  try {
    const { page } = tab;
    await page.evaluate((spec) => window.e2e.login(spec), { url: '/auth/login', body: { username: 'soak', password: 'pw' }, accessKey: 'accessToken', refreshKey: 'refreshToken', expiresInKey: 'expiresIn' });
    const started = await page.evaluate(() => window.e2e.start({ endpoint: { url: '/auth/refresh', preset: 'json' } }));
    const results = await page.evaluate((args) => window.e2e.stream(args), { url: '/api/data', everyMs: EVERY_MS, durationMs: SECONDS * 1000 });
    // Stop the refresher before counting: a scheduled refresh due right at the end must not
    // fall between reading the page's record and the server's count.
    await page.evaluate(async () => {
      while (window.refresher.state === 'refreshing') await new Promise((r) => setTimeout(r, 5));
      window.refresher.dispose();
    });
    await sleep(200);
    const rec = await recorded(page);
    const server = await stats();

    const end = started.t + SECONDS * 1000;
    const failures = results.filter((r) => r.status !== 200);
    const refreshSends = rec.sends.filter((s) => s.path === '/auth/refresh');
    const refreshes = refreshSends.filter((s) => s.t <= end).length;
    const expected = SECONDS / (0.8 * TTL_S);
    const timing = refreshTiming(rec, '/auth/refresh', () => TTL_S * 1000);
    const worst = Math.max(...timing.map((r) => Math.abs(r.delta)));
    const api401 = rec.sends.filter((s) => s.path === '/api/data' && s.status === 401).length;
    const latencies = results.map((r) => r.t1 - r.t0).sort((x, y) => x - y);
    const p = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];

    const figures = {
      seconds: SECONDS, requests: results.length, failures: failures.length, refreshes, expected,
      serverRefreshCalls: server.refreshCalls, api401, worstRefreshOffsetMs: worst,
      latencyMs: { p50: p(0.5), p99: p(0.99), max: latencies.at(-1) },
    };
    t.diagnostic(`soak figures: ${JSON.stringify(figures)}`);
    process.stdout.write(`soak: ${results.length} requests, ${failures.length} failures, ${refreshes} refreshes (expected ${expected}), worst refresh offset ${worst} ms from 80%\n`);

    assert.ok(results.length >= SECONDS * 1000 / EVERY_MS - 1, `${results.length} requests`);
    assert.equal(failures.length, 0, `failures: ${JSON.stringify(failures.slice(0, 5))}`);
    assert.ok(Math.abs(refreshes - expected) <= 1, `${refreshes} refreshes, expected ${expected} ± 1`);
    assert.equal(api401, 0, 'no request ever carried an expired token');
    assert.ok(refreshSends.every((s) => s.status === 200), 'every refresh succeeded');
    assert.equal(server.refreshCalls, refreshSends.length, 'the server saw exactly the refresh calls the page sent');
    assert.equal(server.reuseDetected, 0, 'no refresh token was used twice');
    assert.equal(rec.events.filter((e) => e.event === 'session-expired' || e.event === 'refresh-error').length, 0);
  } finally {
    await tab.close();
  }
});
