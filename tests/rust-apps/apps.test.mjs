// The Rust example apps (examples/leptos, examples/yew), built by scripts/rust-apps.sh, driven
// in headless Chromium against a real local auth server (./server.mjs). Each app runs the
// same checks: the 80% refresh re-rendered, a 401 replayed once, a revoked refresh token
// ending in the login view, the 403 rule after a replay (forbidden: kept; 401: login view),
// and no token to a foreign origin. The npm package's boundary (src/wasm/: its exports, its
// allocator) is compiled only into the npm build (the `npm` feature): neither app's JS module
// nor wasm carries its functions, and the Yew app, which sets its own #[global_allocator],
// builds (no clash with freshtoken's) and passes every check with it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { launchBrowser } from '../support/browser.mjs';
import { startAuthServer, startForeign } from './server.mjs';

const REPO = new URL('../..', import.meta.url).pathname;

/** The npm package's wasm exports: every `#[wasm_bindgen(js_name = X)]` on a `pub fn` in src/wasm/. */
const NPM_EXPORTS = readdirSync(`${REPO}src/wasm`).filter((f) => f.endsWith('.rs')).flatMap((f) =>
  [...readFileSync(`${REPO}src/wasm/${f}`, 'utf8').matchAll(/^#\[wasm_bindgen\(js_name = (\w+)\)\]\n(?:#\[[^\n]*\]\n)*pub fn /gm)].map((m) => m[1]));

/** The apps that set their own #[global_allocator] (it shows the bytes it counts in #heap). */
const OWN_ALLOCATOR = new Set(['yew']);

async function login(page) {
  await page.click('#login');
  await page.waitForSelector('#app-view');
  await page.waitForFunction(() => document.querySelector('#expires-at')?.textContent !== '');
}

/**
 * Calls `url` through the app's refresher.fetch; resolves to the shown "STATUS BODY" once it
 * changes (so each test's calls give different answers).
 */
async function call(page, url) {
  await page.fill('#url', url);
  const before = await page.textContent('#result');
  // A DOM click: two tabs of one context are driven at once, and a background tab's
  // hit-testing can refuse a pointer click.
  await page.evaluate(() => document.querySelector('#call').click());
  await page.waitForFunction((prev) => document.querySelector('#result')?.textContent !== prev, before, { timeout: 10000 });
  return page.textContent('#result');
}

const shownExpiry = async (page) => Number(await page.textContent('#expires-at'));

for (const app of ['leptos', 'yew']) {
  const dist = `${REPO}examples/${app}/dist`;
  describe(`Rust app: ${app}`, () => {
    let browser, srv, foreign, tab;
    before(async () => {
      assert.ok(existsSync(`${dist}/app_bg.wasm`), `${dist} is missing: run scripts/rust-apps.sh first`);
      browser = await launchBrowser();
      srv = await startAuthServer(dist);
      foreign = await startForeign();
    });
    after(async () => {
      await tab?.close();
      await browser?.close();
      await srv?.close();
      await foreign?.close();
    });
    test("the app's JS module and wasm carry none of the npm package's exports (coreNew, decodeBytes, ...)", async () => {
      assert.ok(NPM_EXPORTS.length >= 10 && NPM_EXPORTS.includes('coreNew') && NPM_EXPORTS.includes('decodeBytes'), `found ${NPM_EXPORTS}`);
      const js = readFileSync(`${dist}/app.js`, 'utf8');
      const wasm = WebAssembly.Module.exports(await WebAssembly.compile(readFileSync(`${dist}/app_bg.wasm`))).map((e) => e.name);
      for (const name of NPM_EXPORTS) {
        assert.ok(!new RegExp(`\\b${name}\\b`).test(js), `dist/app.js mentions ${name}`);
        assert.ok(!wasm.includes(name), `dist/app_bg.wasm exports ${name}`);
      }
    });

    if (OWN_ALLOCATOR.has(app)) {
      test('the app runs on its own #[global_allocator] (it counts the bytes live)', async () => {
        const page = await fresh(60);
        await login(page);
        const live = Number(await page.textContent('#heap'));
        assert.ok(live > 0, `the app's allocator counted ${live} bytes live`);
        assert.match(await call(page, '/api/data'), /^200 .*hello user-1/);
        assert.equal(tab.errors.length, 0, tab.errors.join('\n'));
      });
    }

    /** A fresh page, the server's records cleared, tokens of `lifetime` seconds. */
    async function fresh(lifetime) {
      await tab?.close();
      Object.assign(srv.state, { lifetime, logins: [], refreshCalls: [], apiCalls: [], failNextApi: 0, issued: [], refused: new Set() });
      foreign.requests.length = 0;
      tab = await browser.open(`${srv.url}/`);
      return tab.page;
    }

    test('a 3 s token is refreshed at 80% (2.4 s) and the shown expiry re-renders', async () => {
      const page = await fresh(3);
      await login(page);
      const first = await shownExpiry(page);
      assert.equal(await page.textContent('#refreshes'), '0');
      await page.waitForFunction(() => document.querySelector('#refreshes')?.textContent === '1', null, { timeout: 6000 });
      const second = await shownExpiry(page);
      const { logins, refreshCalls } = srv.state;
      assert.equal(refreshCalls[0].status, 200);
      const at = refreshCalls[0].t - logins[0].t;
      assert.ok(at >= 2200 && at <= 3000, `the refresh came ${at} ms after login, expected about 2400`);
      assert.ok(second - first >= 1500 && second - first <= 3500, `shown expiry moved ${second - first} ms`);
      assert.equal(tab.errors.length, 0, tab.errors.join('\n'));
    });

    test('an API 401 is refreshed and replayed once; the app shows the answer', async () => {
      const page = await fresh(60);
      await login(page);
      srv.failApiOnce();
      const shown = await call(page, '/api/data');
      assert.match(shown, /^200 .*hello user-1/);
      const { apiCalls, refreshCalls } = srv.state;
      assert.equal(apiCalls.length, 2, 'the 401 and exactly one replay');
      assert.deepEqual(apiCalls.map((c) => c.status), [401, 200]);
      assert.equal(refreshCalls.length, 1, 'one refresh');
      assert.match(apiCalls[0].authorization, /^Bearer /);
      assert.match(apiCalls[1].authorization, /^Bearer /);
      assert.notEqual(apiCalls[1].authorization, apiCalls[0].authorization, 'the replay carries the refreshed token');
    });

    test('a revoked refresh token ends the session: session-expired shows the login view', async () => {
      const page = await fresh(3);
      await login(page);
      srv.revokeRefreshTokens();
      await page.waitForSelector('#login-view', { timeout: 8000 });
      assert.equal(await page.$('#app-view'), null);
      assert.deepEqual(srv.state.refreshCalls.map((c) => c.status), [401], 'one refused refresh, no retry');
    });

    test('a 403 after the replay is returned and the session kept', async () => {
      const page = await fresh(60);
      await login(page);
      assert.match(await call(page, '/api/forbidden'), /^403 /);
      assert.deepEqual(srv.state.apiCalls.map((c) => c.status), [403, 403], 'one replay');
      assert.equal(srv.state.refreshCalls.length, 1);
      assert.ok(await page.$('#app-view'), 'still logged in');
      assert.match(await call(page, '/api/data'), /^200 /, 'the session still works');
    });

    test('a 401 after the replay ends the session: the login view', async () => {
      const page = await fresh(60);
      await login(page);
      await page.fill('#url', '/api/revoked');
      await page.click('#call');
      await page.waitForSelector('#login-view', { timeout: 8000 });
      const revoked = srv.state.apiCalls.filter((c) => c.path === '/api/revoked');
      assert.equal(revoked.length, 2, 'the 401 and one replay');
      assert.equal(srv.state.refreshCalls.length, 1);
    });

    test('the session survives a reload (localStorage): its expiry shown, the API gets the token, no refresh', async () => {
      const page = await fresh(60);
      await login(page);
      const shown = await shownExpiry(page);
      await page.reload();
      await page.waitForSelector('#app-view');
      const restored = await shownExpiry(page);
      // The restored-token rule plans by what is left of the token, with claims' whole-second slack.
      assert.ok(Math.abs(restored - shown) <= 2000, `the stored expiry: ${restored} vs ${shown}`);
      assert.match(await call(page, '/api/data'), /^200 /);
      assert.match(srv.state.apiCalls[0].authorization, /^Bearer /);
      assert.equal(srv.state.refreshCalls.length, 0);
      assert.equal(srv.state.logins.length, 1);
    });

    test('crossTab: two tabs whose token the API refuses share one refresh call', async () => {
      const a = await fresh(60);
      await login(a);
      const b = await a.context().newPage();
      await b.goto(`${srv.url}/`);
      await b.waitForSelector('#app-view'); // the session from localStorage
      srv.refuseAccessTokens(); // the login's token: refused from now on, by the API only
      const [ra, rb] = await Promise.all([call(a, '/api/data'), call(b, '/api/data')]);
      assert.match(ra, /^200 /);
      assert.match(rb, /^200 /);
      assert.deepEqual(srv.state.refreshCalls.map((c) => c.status), [200], 'one refresh call for both tabs');
      const [login1, refreshed] = srv.state.issued.map((t) => `Bearer ${t}`);
      for (const c of srv.state.apiCalls) {
        assert.equal(c.authorization, c.status === 200 ? refreshed : login1, 'refused with the old token, answered with the refreshed one');
      }
      assert.ok(srv.state.apiCalls.filter((c) => c.status === 401).length >= 1);
      assert.equal(srv.state.apiCalls.filter((c) => c.status === 200).length, 2, 'each tab answered once');
      await b.close();
    });

    test('crossTab: the 80% refresh reaches the other tab (one call per cycle), and logout in one tab logs out the other', async () => {
      const a = await fresh(3);
      await login(a);
      const b = await a.context().newPage();
      await b.goto(`${srv.url}/`);
      await b.waitForSelector('#app-view');
      const both = (n) => Promise.all([a, b].map((p) => p.waitForFunction((want) => document.querySelector('#refreshes')?.textContent === want, String(n), { timeout: 6000 })));
      await both(1);
      await both(2);
      assert.deepEqual(srv.state.refreshCalls.map((c) => c.status), [200, 200], 'one call per cycle, no refresh token spent twice');
      const [ea, eb] = [await shownExpiry(a), await shownExpiry(b)];
      assert.ok(Math.abs(ea - eb) <= 2000, `both tabs show the new expiry: ${ea} vs ${eb}`);
      await a.evaluate(() => document.querySelector('#logout').click());
      await b.waitForSelector('#login-view', { timeout: 3000 });
      await a.waitForSelector('#login-view');
      await b.close();
    });

    test('a request to a foreign origin through the crate fetch carries no token', async () => {
      const page = await fresh(60);
      await login(page);
      assert.match(await call(page, '/api/data'), /^200 /);
      assert.match(srv.state.apiCalls[0].authorization, /^Bearer /, 'the page origin gets the token');
      assert.equal(await call(page, `${foreign.url}/record`), '200 foreign');
      assert.ok(foreign.requests.length >= 1);
      for (const r of foreign.requests) {
        assert.equal(r.authorization, null, `${r.method} carried Authorization`);
        assert.ok(!/authorization/i.test(r.requestHeaders ?? ''), 'no preflight asked for Authorization');
      }
    });
  });
}
