// The packaging test: the tarball `npm pack` makes, installed into four fresh apps and built
// by their own tools with no plugin or configuration for freshtoken (scripts/packaging.sh
// does that first), each served beside a real auth server and driven in headless Chromium:
// the wasm loads from where the bundler put it, a 3-second token is refreshed, a request
// answered 401 is refreshed and replayed through the app's usual HTTP path (fetch or axios),
// another origin never gets the token, and the React and Vue bindings leave no listener
// behind after unmount.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, startPlainServer } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ONLY = process.env.PACKAGING_APPS?.split(/\s+/);  // scripts/packaging.sh's selection
const APPS = [
  { name: 'vite-react', dir: 'vite-react/dist', http: 'fetch', ui: 'react' },
  { name: 'vite-vue', dir: 'vite-vue/dist', http: 'fetch', ui: 'vue' },
  { name: 'webpack5', dir: 'webpack5/dist', http: 'axios', ui: 'dom' },
  { name: 'plain-html', dir: 'plain-html', http: 'fetch', ui: 'dom' },
].filter((a) => !ONLY || ONLY.includes(a.name));
const EVENTS = ['refresh', 'schedule', 'session-expired', 'logout', 'refresh-error'];

let browser;
let other;
before(async () => {
  browser = await launchBrowser();
  other = await startPlainServer();
});
after(async () => {
  await browser?.close();
  await other?.close();
});

/** Opens the built app; returns { srv, tab, wasm } with the wasm responses the page got. */
async function openApp(app) {
  const appDir = join(HERE, app.dir);
  assert.ok(existsSync(join(appDir, 'index.html')), `${app.dir}/index.html: run scripts/packaging.sh first`);
  const srv = await startServer({ lifetime: 3, appDir });
  const wasm = [];
  const context = await browser.browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => {
    if (r.url().endsWith('.wasm')) wasm.push({ url: new URL(r.url()).pathname, status: r.status(), type: r.headers()['content-type'] });
  });
  await page.goto(`${srv.url}/app/`);
  await page.waitForFunction(() => window.ready === true || typeof window.initError === 'string', null, { timeout: 20_000 });
  const initError = await page.evaluate(() => window.initError);
  assert.equal(initError, undefined, `the app failed to start: ${initError}`);
  return { srv, page, context, wasm, errors };
}

const listenerCount = (page, events) => page.evaluate((evs) => evs
  .reduce((n, e) => n + (window.refresher._events.listeners.get(e)?.size ?? 0), 0), events);

for (const app of APPS) {
  test(`${app.name}: the built app loads the wasm from its bundle, refreshes a 3 s token, replays a 401 through ${app.http}, keeps the token from other origins`, { timeout: 60_000 }, async () => {
    const { srv, page, context, wasm, errors } = await openApp(app);
    try {
      // The wasm came from the app's own build output, as application/wasm.
      assert.equal(wasm.length, 1, `one wasm fetch: ${JSON.stringify(wasm)}`);
      assert.match(wasm[0].url, /^\/app\/.*\.wasm$/);
      assert.equal(wasm[0].status, 200);
      assert.equal(wasm[0].type, 'application/wasm');

      // A real refresh at 80% of the 3 s token, shown by the app's UI.
      const first = await page.evaluate(() => window.refresher.accessToken);
      assert.ok(srv.accepts(first));
      await page.waitForFunction((t) => window.refresher.accessToken !== t, first, { timeout: 5_000 });
      assert.equal(srv.state.refreshCalls, 1);
      const second = await page.evaluate(() => window.refresher.accessToken);
      assert.ok(srv.accepts(second), 'the new token is one the server minted');
      await page.waitForFunction((t) => document.getElementById('token').textContent === t, second, { timeout: 2_000 });

      // 401 -> one refresh -> one replay with the same JSON body, through the app's HTTP path.
      srv.revokeAccessTokens();
      const refreshesBefore = srv.state.refreshCalls;
      const echoesBefore = srv.requests.filter((r) => r.path === '/api/echo').length;
      const payload = { order: 42, items: ['a', 'b'], note: 'é' };
      const res = await page.evaluate((b) => window.callApi(b), payload);
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.body.body), payload, 'the replay carried the same body');
      assert.equal(srv.state.refreshCalls, refreshesBefore + 1, 'exactly one refresh for the 401');
      const echoes = srv.requests.filter((r) => r.path === '/api/echo').slice(echoesBefore);
      assert.equal(echoes.length, 2, 'the request went out twice: 401, then the replay');
      assert.notEqual(echoes[0].headers.authorization, echoes[1].headers.authorization);

      // The same HTTP path to another origin carries no token.
      const seen = other.requests.length;
      assert.equal(await page.evaluate((u) => window.callOther(u), `${other.url}/data`), 200);
      const sent = other.requests.slice(seen);
      assert.ok(sent.length >= 1);
      assert.ok(sent.every((r) => !r.hasAuthorization), 'no Authorization header to another origin');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await srv.close();
    }
  });
}

for (const app of APPS.filter((a) => a.ui === 'react' || a.ui === 'vue')) {
  test(`${app.name}: the ${app.ui === 'react' ? 'hook (StrictMode)' : 'composable'} re-renders on refresh and leaves no listener after unmount`, { timeout: 30_000 }, async () => {
    const { srv, page, context } = await openApp(app);
    try {
      // Mounted once (StrictMode mounts, unmounts and mounts again in development; this is
      // a production build, so the count below is what a user's app holds).
      const mounted = await listenerCount(page, EVENTS);
      assert.ok(mounted >= 1 && mounted <= EVENTS.length, `listeners while mounted: ${mounted}`);
      const first = await page.evaluate(() => window.refresher.accessToken);
      await page.evaluate(() => window.refresher.refresh());
      const next = await page.evaluate(() => window.refresher.accessToken);
      assert.notEqual(next, first);
      await page.waitForFunction((t) => document.getElementById('token').textContent === t, next, { timeout: 2_000 });
      await page.evaluate(() => window.unmount());
      assert.equal(await listenerCount(page, EVENTS), 0, 'no listener left after unmount');
    } finally {
      await context.close();
      await srv.close();
    }
  });
}

if (APPS.some((a) => a.name === 'plain-html')) test('plain-html: the API before init() throws not-initialized; init() is cached and idempotent', { timeout: 30_000 }, async () => {
  const { srv, page, context } = await openApp(APPS.find((a) => a.name === 'plain-html'));
  try {
    const before = await page.evaluate(() => window.beforeInit);
    assert.equal(before.name, 'FreshtokenError');
    assert.equal(before.code, 'not-initialized');
    assert.match(before.message, /init\(\)/);
    assert.equal(await page.evaluate(() => window.initIsCached), true, 'init() returns the same promise');
    assert.equal(await page.evaluate(() => window.decoded), 'jwt');
  } finally {
    await context.close();
    await srv.close();
  }
});
