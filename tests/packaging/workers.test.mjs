// Packaging: freshtoken from the tarball in a dedicated module worker and a module service
// worker (tests/packaging/workers, unbundled), both with crossTab on the same storageKey:
// the service worker, where import() is disallowed, uses `import 'freshtoken/tabs'`; it joins
// the worker's session (no tokens of its own), one refresh across both contexts when the 3 s
// token is due, both hold the new token, and refresher.fetch in each sends it to the real
// server. Without freshtoken/tabs, crossTab in a service worker fails with an error naming it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startServer } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';

const DIR = fileURLToPath(new URL('./workers', import.meta.url));
let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('workers: a dedicated worker and a module service worker share one crossTab session: one refresh, both updated, both fetch with the token', { timeout: 60_000 }, async () => {
  const srv = await startServer({ lifetime: 3, appDir: DIR });
  const context = await browser.browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(`${srv.url}/app/`);
    await page.waitForFunction(() => window.ready === true || typeof window.initError === 'string', null, { timeout: 20_000 });
    assert.equal(await page.evaluate(() => window.initError), undefined);
    const send = (who, op, arg) => page.evaluate(([w, o, a]) => window.send(window[w], o, a), [who, op, arg]);

    const login = srv.issueTokens();
    const w = await send('worker', 'start', { tokens: login });
    assert.deepEqual(w, { ok: true, token: login.accessToken, joined: true });
    const s = await send('sw', 'start', {});
    assert.equal(s.ok, true, JSON.stringify(s.error));
    assert.equal(s.joined, true, 'the service worker joined the tabs (no import() needed)');
    // The service worker started with no tokens and got the worker's session from it.
    const deadline = Date.now() + 5_000;
    while ((await send('sw', 'state')).token !== login.accessToken) {
      assert.ok(Date.now() < deadline, 'the service worker never received the session');
      await new Promise((r) => setTimeout(r, 50));
    }
    const joinedWith = (await send('sw', 'state')).adopted; // the session it received counts as one adoption

    // At 80% of 3 s both are due; one refresh call for both, both hold its token.
    const waitToken = async (who, not) => {
      const end = Date.now() + 8_000;
      for (;;) {
        const st = await send(who, 'state');
        if (st.token && st.token !== not) return st;
        assert.ok(Date.now() < end, `${who} never refreshed`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const ws = await waitToken('worker', login.accessToken);
    const ss = await waitToken('sw', login.accessToken);
    assert.equal(ws.token, ss.token, 'the same new token in both');
    assert.ok(srv.accepts(ws.token));
    assert.equal(srv.state.refreshCalls, 1, 'one refresh call across the two contexts');
    assert.equal(ws.refreshes + ss.refreshes, 1);
    assert.equal(ws.adopted + ss.adopted - joinedWith, 1, 'the other adopted it');

    for (const who of ['worker', 'sw']) {
      const r = await send(who, 'fetch', `from ${who}`);
      assert.deepEqual(r, { ok: true, status: 200 });
      const current = (await send(who, 'state')).token;
      const echo = srv.requestsTo('/api/echo').at(-1);
      assert.equal(echo.body, `from ${who}`);
      assert.equal(echo.headers.authorization, `Bearer ${current}`);
    }

    // Without freshtoken/tabs, a service worker cannot import() the crossTab code: the error says what to add.
    const bad = await send('swNoTabs', 'start', { tokens: srv.issueTokens() });
    assert.equal(bad.ok, false);
    assert.deepEqual([bad.error.name, bad.error.code], ['FreshtokenError', 'tabs-load-failed']);
    assert.match(bad.error.message, /import 'freshtoken\/tabs'/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await srv.close();
  }
});
