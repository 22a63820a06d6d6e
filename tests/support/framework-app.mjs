// One framework binding's test page (React, Vue) in headless Chromium against the real local
// auth server: tests/browser/pages/<name>-app.js bundled by esbuild (development builds, so
// React's <StrictMode> really double-invokes effects), served same-origin under /app/ beside
// /auth/refresh, one fresh server and tab per test. Listener counts are read from the
// refresher's own emitter; `hookCounts(n)` is what `n` live hooks should leave.
import { before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, copyFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startServer } from './server.mjs';
import { launchBrowser } from './browser.mjs';
import { EVENTS } from '../../js/events.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** No listener for any event the refresher emits (js/events.js EVENTS). */
export const NONE = Object.fromEntries(EVENTS.map((e) => [e, 0]));
/** The listener counts `n` live hooks leave: each listens to every event (the token, the
 * state and the last refresh error can all change). */
export const hookCounts = (n) => ({ ...NONE, ...Object.fromEntries(EVENTS.map((e) => [e, n])) });

/**
 * Registers the file's hooks and returns `{ srv, tab, page }`, filled before each test.
 * `define`: esbuild defines besides NODE_ENV; `cleanup`: run in the page after each test
 * (unmount, dispose), errors ignored.
 */
export function frameworkApp(name, { define = {}, cleanup }) {
  const app = { srv: undefined, tab: undefined, page: undefined };
  let dir;
  let browser;
  before(async () => {
    const wasm = join(REPO, 'pkg', 'freshtoken_bg.wasm');
    assert.ok(existsSync(wasm), 'pkg/freshtoken_bg.wasm is missing: run bash scripts/build.sh');
    dir = mkdtempSync(join(tmpdir(), `freshtoken-${name}-`));
    await build({
      entryPoints: [join(REPO, 'tests', 'browser', 'pages', `${name}-app.js`)],
      bundle: true,
      format: 'esm',
      outdir: dir,
      define: { 'process.env.NODE_ENV': '"development"', ...define },
      logLevel: 'warning',
    });
    // esbuild leaves new URL('freshtoken_bg.wasm', import.meta.url) alone: put the wasm beside the bundle.
    copyFileSync(wasm, join(dir, 'freshtoken_bg.wasm'));
    writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>${name}</title>`
      + `<link rel="icon" href="data:,"><div id="root"></div><script type="module" src="${name}-app.js"></script>`);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    app.srv = await startServer({ lifetime: 3, appDir: dir });
    app.tab = await browser.open(`${app.srv.url}/app/`);
    app.page = app.tab.page;
  });
  afterEach(async () => {
    await app.page?.evaluate(cleanup).catch(() => {});
    await app.tab?.close();
    await app.srv?.close();
    app.srv = app.tab = app.page = undefined;
  });
  return app;
}

/**
 * What both pages (pages/react-app.js, pages/vue-app.js) offer, on `app.page`: the token held,
 * the components shown, and the session forms (`useFreshtoken()` given options or a promise).
 */
export function pageHelpers(app) {
  const page = () => app.page;
  return {
    accessToken: () => page().evaluate(() => window.refresher.accessToken),
    /** Waits until exactly the components `ids` are shown and each shows `text`. */
    waitShown: (ids, text) => page().waitForFunction(([ids, text]) => {
      const s = window.shown();
      return s.length === ids.length && s.every((x, i) => x.id === ids[i] && x.text === text);
    }, [ids, text], { timeout: 10_000 }),
    mountSession: (form, tokens, extra = {}) =>
      page().evaluate(([o]) => window.mountSession(o), [{ form, base: app.srv.url, tokens, ...extra }]),
    sessionRenders: () => page().evaluate(() => window.sessionRenders),
    waitSession: (pred, arg) => page().waitForFunction(pred, arg, { timeout: 10_000 }),
  };
}

/** The first state of a session form: loading, no refresher yet. */
export const LOADING = { id: 's', state: 'loading', isLoading: true, token: null, hasRefresher: false, error: null };
