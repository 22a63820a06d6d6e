// Red-team finding (security review): the React provider and the Vue plugin read their own
// props/options only, so a polluted Object.prototype.refresher (another library's merge
// bug) cannot replace the refresher an app's login hands its new session to. Headless
// Chromium, the page bundled by esbuild, against the real local auth server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startServer } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
let dir;
let browser;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'freshtoken-red-frameworks-'));
  await build({
    entryPoints: [join(HERE, 'pages', 'red-frameworks.js')],
    bundle: true,
    format: 'esm',
    outfile: join(dir, 'page.js'),
    define: { 'process.env.NODE_ENV': '"development"', __VUE_OPTIONS_API__: 'true', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false' },
    logLevel: 'warning',
  });
  copyFileSync(join(REPO, 'pkg', 'freshtoken_bg.wasm'), join(dir, 'freshtoken_bg.wasm'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><div id="react"></div><div id="vue"></div><script type="module" src="page.js"></script>');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('red 10: with Object.prototype.refresher polluted, the React provider and the Vue plugin given `options` hand the hooks their own refresher: the login\'s tokens never reach the look-alike', { timeout: 30_000 }, async () => {
  const srv = await startServer({ lifetime: 30, appDir: dir });
  const tab = await browser.open(`${srv.url}/app/`, { waitForReady: false });
  try {
    await tab.page.waitForFunction(() => typeof window.run === 'function');
    const login = srv.issueTokens();
    const seen = await tab.page.evaluate(([base, login]) => window.run(base, null, login), [srv.url, login]);
    assert.equal(seen.fakeGot, undefined, 'the look-alike got no tokens');
    assert.ok(!seen.react.includes('fake') && !seen.vue.includes('fake'), 'the hooks never gave the look-alike');
    assert.ok(seen.react.includes('real') && seen.vue.includes('real'), 'the hooks gave the refresher made from options');
  } finally {
    await tab.close();
    await srv.close();
  }
});
