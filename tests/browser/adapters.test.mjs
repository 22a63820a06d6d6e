// The React and Vue bindings in headless Chromium, against the real local auth server:
// hooks re-render on a real refresh, StrictMode's double mount leaves exactly one
// subscription, unmount leaves none, and misuse gets a clear error. The page
// (pages/adapters.js) is bundled by esbuild in development mode.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startServer } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';
import { EVENTS } from '../../js/events.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
// Each hook listens to every event the refresher emits (js/events.js EVENTS): the token, the
// state and the last refresh error can all change.
const PER_HOOK = EVENTS.length;

let dir;
let browser;
let srv;
let tab;
let page;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'freshtoken-adapters-'));
  await build({
    entryPoints: [join(HERE, 'pages', 'adapters.js')],
    bundle: true,
    format: 'esm',
    outfile: join(dir, 'adapters.js'),
    define: {
      'process.env.NODE_ENV': '"development"',
      __VUE_OPTIONS_API__: 'true',
      __VUE_PROD_DEVTOOLS__: 'false',
      __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    },
    logLevel: 'warning',
  });
  // The glue finds the wasm beside itself: new URL('freshtoken_bg.wasm', import.meta.url).
  copyFileSync(join(REPO, 'pkg', 'freshtoken_bg.wasm'), join(dir, 'freshtoken_bg.wasm'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><div id="react"></div><div id="vue"></div><script type="module" src="adapters.js"></script>');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  srv = await startServer({ lifetime: 30, appDir: dir });
  tab = await browser.open(`${srv.url}/app/`);
  page = tab.page;
  await page.evaluate(([base, tokens]) => window.makeRefresher(base, tokens), [srv.url, srv.issueTokens()]);
});
afterEach(async () => {
  await page.evaluate(() => { window.reactUnmount(); window.vueUnmount(); window.r.dispose(); }).catch(() => {});
  await tab?.close();
  await srv?.close();
});

const listeners = () => page.evaluate(() => window.listeners());
const shownAll = (token, n) => page.waitForFunction(([t, k]) => {
  const s = window.shown();
  return s.length === k && s.every((x) => x === t);
}, [token, n], { timeout: 5_000 });

test('React StrictMode (development): one subscription per hook after the double mount, a real refresh re-renders, none after unmount', { timeout: 30_000 }, async () => {
  assert.equal(await listeners(), 0);
  const first = await page.evaluate(() => window.r.accessToken);
  await page.evaluate(() => window.reactRender({ n: 1, strict: true }));
  await shownAll(first, 1);
  assert.ok(await page.evaluate(() => window.reactRenders) >= 2, 'StrictMode rendered twice (development build)');
  assert.equal(await listeners(), PER_HOOK, 'the double mount left exactly one subscription');

  const next = await page.evaluate(() => window.r.refresh());
  assert.notEqual(next, first);
  assert.equal(srv.state.refreshCalls, 1);
  assert.ok(srv.accepts(next));
  await shownAll(next, 1);

  await page.evaluate(() => window.reactUnmount());
  assert.equal(await listeners(), 0, 'no listener left after unmount');
});

test('React: several components update together; unmounting some keeps the others subscribed', { timeout: 30_000 }, async () => {
  await page.evaluate(() => window.reactRender({ n: 3 }));
  await shownAll(await page.evaluate(() => window.r.accessToken), 3);
  assert.equal(await listeners(), 3 * PER_HOOK);
  await page.evaluate(() => window.reactRender({ n: 1 }));
  await page.waitForFunction(() => window.shown().length === 1);
  assert.equal(await listeners(), PER_HOOK);
  const next = await page.evaluate(() => window.r.refresh());
  await shownAll(next, 1);
  await page.evaluate(() => window.reactUnmount());
  assert.equal(await listeners(), 0);
});

test('React: logout renders null; a new login shows at once', { timeout: 30_000 }, async () => {
  await page.evaluate(() => window.reactRender({ n: 2 }));
  await shownAll(await page.evaluate(() => window.r.accessToken), 2);
  await page.evaluate(() => window.r.logout());
  await shownAll('null', 2);
  // A new login shows at once.
  const tokens = srv.issueTokens();
  await page.evaluate((t) => window.r.setTokens(t), tokens);
  await shownAll(tokens.accessToken, 2);
});

test('React: useAccessToken without a RefresherProvider throws FreshtokenError no-provider', { timeout: 30_000 }, async () => {
  await page.evaluate(() => window.reactRender({ provider: false, strict: false }));
  await page.waitForFunction(() => window.caught);
  const caught = await page.evaluate(() => window.caught);
  assert.equal(caught.name, 'FreshtokenError');
  assert.equal(caught.code, 'no-provider');
  assert.match(caught.message, /RefresherProvider/);
  assert.equal(await listeners(), 0);
});

test('Vue: the composable\'s ref shows the token, updates on a real refresh, and unmount leaves no listener', { timeout: 30_000 }, async () => {
  const first = await page.evaluate(() => window.r.accessToken);
  await page.evaluate(() => window.vueMount({ n: 2 }));
  await shownAll(first, 2);
  assert.equal(await listeners(), 2 * PER_HOOK);
  const next = await page.evaluate(() => window.r.refresh());
  assert.notEqual(next, first);
  assert.equal(srv.state.refreshCalls, 1);
  await shownAll(next, 2);
  await page.evaluate(() => window.r.logout());
  await shownAll('null', 2);
  await page.evaluate(() => window.vueUnmount());
  assert.equal(await listeners(), 0, 'no listener left after unmount');
});

test('Vue: the plugin without a refresher throws OptionsError; the composable without the plugin throws no-provider', { timeout: 30_000 }, async () => {
  const plugin = await page.evaluate(() => window.vuePluginWithout());
  assert.equal(plugin.name, 'OptionsError');
  assert.equal(plugin.code, 'bad-option');
  assert.match(plugin.message, /refresher/);
  await page.evaluate(() => window.vueMount({ plugin: false }));
  const caught = await page.evaluate(() => window.caught);
  assert.equal(caught.name, 'FreshtokenError');
  assert.equal(caught.code, 'no-provider');
  assert.equal(await listeners(), 0);
});
