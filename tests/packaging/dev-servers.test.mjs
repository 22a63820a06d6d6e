// Packaging: freshtoken from the tarball in dev servers, opened in headless Chromium
// (tests/packaging/vite7-dev: React + Vite 7.3.8; vite8-dev: Vue + Vite 8.3.8; webpack-dev:
// React + webpack-dev-server 5.2.7, promise form). The app proxies /auth and /api to the real
// test server. In each: the provider/plugin shows the loading state, gets the refresher
// (created after mount, or the app's promise), the wasm loads as application/wasm, a
// scheduled refresh of a 3 s token re-renders, the API receives the refreshed Bearer token,
// and nothing is logged as an error. Vite 7 needs `optimizeDeps: { exclude: ['freshtoken'] }`
// (its pre-bundling drops the .wasm); without it, init fails with an error that says so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startServer } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';
import { freePort, startApp, openPage } from './support.mjs';

const ONLY = process.env.PACKAGING_APPS?.split(/\s+/);
const VITE = ['node_modules/vite/bin/vite.js', '--host', '127.0.0.1', '--strictPort', '--clearScreen', 'false', '--port'];
const WEBPACK = ['node_modules/webpack-cli/bin/cli.js', 'serve', '--host', '127.0.0.1', '--port'];
const APPS = [
  { name: 'vite7-dev', ui: 'React', args: VITE },
  { name: 'vite8-dev', ui: 'Vue', args: VITE },
  { name: 'webpack-dev', ui: 'React', args: WEBPACK },
].filter((a) => !ONLY || ONLY.includes(a.name));

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function withDevServer(app, env, fn) {
  const srv = await startServer({ lifetime: 3 });
  const port = await freePort();
  const dev = await startApp({
    cwd: fileURLToPath(new URL(`./${app.name}/`, import.meta.url)),
    args: [...app.args, String(port)],
    env: { API: srv.url, ...env },
    url: `http://127.0.0.1:${port}/`,
  });
  try {
    await fn(srv, dev);
  } finally {
    await dev.stop();
    await srv.close();
  }
}

for (const app of APPS) {
  test(`${app.name} (${app.ui}): loading state, then the token; a scheduled refresh re-renders; the API gets the Bearer token; no console error`, { timeout: 90_000 }, async () => {
    await withDevServer(app, {}, async (srv, dev) => {
      const { page, context, errors, consoleErrors, wasm } = await openPage(browser, dev.url);
      try {
        await page.waitForFunction(() => window.ready === true || typeof window.initError === 'string', null, { timeout: 30_000 });
        assert.equal(await page.evaluate(() => window.initError), undefined);
        assert.equal(wasm.length, 1, JSON.stringify(wasm));
        assert.deepEqual([wasm[0].status, wasm[0].type], [200, 'application/wasm']);

        const first = await page.evaluate(() => window.refresher.accessToken);
        assert.ok(srv.accepts(first));
        await page.waitForFunction((t) => document.getElementById('token').textContent === t, first, { timeout: 5_000 });
        await page.waitForFunction((t) => window.refresher.accessToken !== t, first, { timeout: 6_000 });
        const second = await page.evaluate(() => window.refresher.accessToken);
        assert.ok(srv.issued(second));
        await page.waitForFunction((t) => document.getElementById('token').textContent === t, second, { timeout: 2_000 });
        const shown = await page.evaluate(() => window.__shown);
        assert.deepEqual(shown.slice(0, 1), ['loading'], `first text: ${JSON.stringify(shown.slice(0, 1))}`);
        assert.ok(shown.includes(first) && shown.at(-1) === second);

        const res = await page.evaluate(() => window.callApi({ hello: 'dev' }));
        assert.equal(res.status, 200);
        const last = await page.evaluate(() => window.refresher.accessToken);
        assert.equal(srv.requestsTo('/api/echo').at(-1).headers.authorization, `Bearer ${last}`);
        assert.deepEqual(errors, []);
        assert.deepEqual(consoleErrors, []);
      } finally {
        await context.close();
      }
    });
  });
}

if (APPS.some((a) => a.name === 'vite7-dev')) {
  test('vite7-dev without optimizeDeps.exclude: init fails with a FreshtokenError naming the .vite/ URL (where the pre-bundled copy looks, and no wasm is) and the config line', { timeout: 90_000 }, async () => {
    await withDevServer(APPS.find((a) => a.name === 'vite7-dev'), { FRESHTOKEN_WITHOUT_EXCLUDE: '1' }, async (srv, dev) => {
      const { page, context } = await openPage(browser, dev.url);
      try {
        await page.waitForFunction(() => typeof window.initError === 'string' || window.ready === true, null, { timeout: 30_000 });
        const message = await page.evaluate(() => window.initError);
        assert.match(message ?? '', /^FreshtokenError wasm-load-failed: freshtoken could not load its WebAssembly module from http:\/\/127\.0\.0\.1:\d+\/node_modules\/\.vite\/pkg\/freshtoken_bg\.wasm: WebAssembly\.compile\(\): expected magic word/);
        assert.ok(message.includes("add optimizeDeps: { exclude: ['freshtoken'] } to vite.config"), message);
        assert.equal(await page.evaluate(() => document.getElementById('token').dataset.state), 'error');
      } finally {
        await context.close();
      }
    });
  });
}
