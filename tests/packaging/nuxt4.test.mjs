// Packaging: freshtoken from the tarball in a Nuxt 4.3.1 app (tests/packaging/nuxt4): a Nuxt
// plugin installs freshtokenPlugin with options, a component uses useFreshtoken().
// scripts/packaging.sh ran `nuxt build`; here the built Nitro node server serves it: the SSR
// page answers 200 with the loading state and no token, Chromium hydrates it with no error, the
// refresher is created after mount, the app logs in, a scheduled refresh of a 3 s token
// updates the page, and the API (behind the app's server routes) receives the Bearer token.
// Then the same under `nuxt dev` (Vite 7; nuxt.config carries the optimizeDeps line).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startServer } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';
import { freePort, startApp, openPage, assertRefreshAndApi } from './support.mjs';

const DIR = fileURLToPath(new URL('./nuxt4/', import.meta.url));
let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('nuxt4: the Nitro node server; SSR 200 with the loading state; hydration; login; a scheduled refresh re-renders; the API gets the Bearer token; no console error', { timeout: 120_000 }, async () => {
  const srv = await startServer({ lifetime: 3 });
  const port = await freePort();
  const app = await startApp({
    cwd: DIR,
    args: ['.output/server/index.mjs'],
    env: { API: srv.url, HOST: '127.0.0.1', PORT: String(port) },
    url: `http://127.0.0.1:${port}/`,
  });
  try {
    // The server's answer: 200, the loading state, no token anywhere.
    const res = await fetch(app.url);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<p id="token" data-state="loading">loading<\/p>/);
    assert.doesNotMatch(html, /eyJ/, 'no JWT in the server HTML');
    assert.equal(srv.state.loginCalls, 0, 'the server rendering logged nobody in');

    const { page, context, errors, consoleErrors, wasm } = await openPage(browser, app.url);
    try {
      await page.waitForFunction(() => window.ready === true || typeof window.initError === 'string', null, { timeout: 30_000 });
      assert.equal(await page.evaluate(() => window.initError), undefined);
      // Nuxt adds <link rel="prefetch"> for the build's assets, the wasm included: two fetches, one URL.
      assert.match(html, /<link rel="prefetch" href="\/_nuxt\/[^"]*\.wasm">/);
      assert.ok(wasm.length >= 1 && wasm.length <= 2, JSON.stringify(wasm));
      for (const w of wasm) {
        assert.match(w.url, /^\/_nuxt\/.*\.wasm$/);
        assert.deepEqual([w.url, w.status, w.type], [wasm[0].url, 200, 'application/wasm']);
      }
      assert.equal(srv.state.loginCalls, 1);

      await assertRefreshAndApi({ page, srv, errors, consoleErrors, from: 'nuxt', built: true });
    } finally {
      await context.close();
    }
  } finally {
    await app.stop();
    await srv.close();
  }
});

test('nuxt4: nuxt dev (Vite 7, with the one line in nuxt.config): SSR 200 with the loading state; the wasm loads; a scheduled refresh updates the page; the API gets the Bearer token; no console error', { timeout: 180_000 }, async () => {
  const srv = await startServer({ lifetime: 3 });
  const port = await freePort();
  const app = await startApp({
    cwd: DIR,
    args: ['node_modules/nuxt/bin/nuxt.mjs', 'dev', '--host', '127.0.0.1', '--port', String(port)],
    env: { API: srv.url, NUXT_TELEMETRY_DISABLED: '1' },
    url: `http://127.0.0.1:${port}/`,
    timeoutMs: 120_000,
  });
  try {
    const res = await fetch(app.url);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<p id="token" data-state="loading">loading<\/p>/);

    // A first load lets the dev server discover and optimize the app's dependencies (it may
    // reload the page for that, which is Vite's business); the second load is checked.
    const warm = await openPage(browser, app.url);
    await warm.page.waitForFunction(() => window.ready === true || typeof window.initError === 'string', null, { timeout: 60_000 }).catch(() => {});
    await warm.context.close();

    const { page, context, errors, consoleErrors, wasm } = await openPage(browser, app.url);
    try {
      await page.waitForFunction(() => window.ready === true || typeof window.initError === 'string', null, { timeout: 60_000 });
      assert.equal(await page.evaluate(() => window.initError), undefined);
      assert.ok(wasm.length >= 1);
      for (const w of wasm) assert.deepEqual([w.status, w.type], [200, 'application/wasm'], JSON.stringify(wasm));

      await assertRefreshAndApi({ page, srv, errors, consoleErrors, from: 'nuxt dev' });
    } finally {
      await context.close();
    }
  } finally {
    await app.stop();
    await srv.close();
  }
});
