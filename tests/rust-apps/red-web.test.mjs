// Red team of the Rust face (`freshtoken::web::Refresher`, the `web` feature), the attacks the
// npm face met in tests/browser/red.test.mjs, trust*.test.mjs and red-frameworks.test.mjs,
// played in headless Chromium through examples/conformance's `Face` (one Rust API call per
// method; built by scripts/web-conformance.sh, skipped when its dist/ is newer than its
// inputs). What the conformance table already states for the Rust face (a Request judged as
// it is sent, a 401 from a redirect elsewhere, a refresh redirect not followed, a relative
// endpoint moved before the refresh starts, setTokens holding only the refresh token given, a
// late answer after logout, records of wrong types or out-of-range epochs) is played by
// tests/rust-apps/web-conformance.test.mjs; this file holds what the table's steps cannot say.
//
// The page is the conformance page on the Rust-apps auth server (tests/rust-apps/server.mjs);
// `http://evil.example` is another origin, answered by Playwright (every request to it is
// recorded, so a token that reached it is seen); `/red/*` answers are scripted the same way.
//
//   node --test tests/rust-apps/red-web.test.mjs
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launchBrowser } from '../support/browser.mjs';
import { startAuthServer } from './server.mjs';

const REPO = new URL('../..', import.meta.url).pathname;
const DIST = `${REPO}examples/conformance/dist`;
const EVIL = 'http://evil.example';

describe('red team: the Rust face (web::Refresher)', () => {
  let browser, srv, tab, page;
  const evil = [];     // every request that reached http://evil.example: { method, url, auth, body }
  const scripted = {}; // path under /red/ -> { status, headers, body } (a function of the request, or a value)
  before(async () => {
    execFileSync('bash', ['scripts/web-conformance.sh'], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
    browser = await launchBrowser();
    srv = await startAuthServer(DIST);
  }, { timeout: 900_000 });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  // Each test in a fresh page (a wasm panic poisons the module), its console and errors collected.
  const open = async () => {
    tab = await browser.open(`${srv.url}/index.html`);
    page = tab.page;
    evil.length = 0;
    for (const k of Object.keys(scripted)) delete scripted[k];
    await page.context().route(`${EVIL}/**`, async (route) => {
      const req = route.request();
      evil.push({ method: req.method(), url: req.url(), auth: req.headers().authorization ?? null, body: req.postData() });
      await route.fulfill({ status: 200, headers: { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*', 'content-type': 'application/json' },
        body: JSON.stringify({ accessToken: 'evil-access', refreshToken: 'evil-refresh', expiresIn: 3600 }) });
    });
    await page.context().route(`${srv.url}/red/**`, async (route) => {
      const path = new URL(route.request().url()).pathname.slice('/red/'.length);
      const s = typeof scripted[path] === 'function' ? scripted[path](route.request()) : scripted[path];
      if (!s) return route.fulfill({ status: 404, body: 'no script' });
      await route.fulfill({ status: s.status ?? 200, headers: { 'content-type': 'application/json', ...(s.headers ?? {}) }, body: s.body });
    });
    await page.evaluate(() => {
      window.events = [];
      window.make = (options, custom) => new face.Face(options, custom, (e) => events.push(e));
      window.settle = (p) => p.then((v) => ({ ok: v instanceof Response ? v.status : v }), (e) => ({ name: e?.name, code: e?.code, message: e?.message ?? String(e) }));
      window.sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    });
  };
  afterEach(async () => {
    await tab?.close();
    tab = page = null;
  });
  /** No wasm panic, no uncaught error in the page. */
  const assertNoPanic = () => assert.deepEqual(tab.errors, [], 'the page threw (a panic aborts the wasm)');

  test('red-web 1: a relative refresh endpoint is judged where it is sent: a <base href> injected while the refresh waits for the cross-tab lock gets no refresh token', async () => {
    await open();
    const out = await page.evaluate(async () => {
      const f = make({ storage: 'localStorage', storageKey: 'red-web-1', crossTab: true, endpoint: { url: '/auth/refresh' } });
      f.setTokens({ accessToken: 'red1-access', refreshToken: 'red1-refresh', expiresIn: 3600 });
      // Another tab holds the refresh lock: this tab's refresh waits for it (after the engine
      // judged the endpoint's origin, the page's own).
      let release, granted;
      const got = new Promise((r) => { granted = r; });
      navigator.locks.request('freshtoken:red-web-1', () => { granted(); return new Promise((r) => { release = r; }); });
      await got;
      const p = settle(f.refresh());
      await sleep(100);
      const base = document.createElement('base');
      base.href = 'http://evil.example/';
      document.head.prepend(base);
      release();
      const res = await p;
      base.remove();
      const held = f.currentToken();
      f.dispose();
      return { res, held };
    });
    assert.deepEqual(evil.map((r) => r.url), [], 'the refresh call went to the injected base');
    assert.equal(out.res.code, 'refused-origin', JSON.stringify(out.res));
    assert.equal(out.held, 'red1-access');
    assertNoPanic();
  });

  test('red-web 2: logout() and dispose() leave no token reachable: tokenResponse (an id_token) is gone with the session', async () => {
    await open();
    scripted['refresh'] = { body: JSON.stringify({ accessToken: 'red2-access-2', refreshToken: 'red2-refresh-2', expiresIn: 3600, id_token: 'red2-id-token', scope: 'openid' }) };
    const out = await page.evaluate(async () => {
      const seen = {};
      for (const end of ['logout', 'dispose']) {
        const f = make({ endpoint: { url: '/red/refresh' } });
        f.setTokens({ accessToken: 'red2-access', refreshToken: 'red2-refresh', expiresIn: 3600 });
        await f.refresh();
        const before = JSON.stringify(f.tokenResponse());
        f[end]();
        seen[end] = { before, after: JSON.stringify(f.tokenResponse()), token: f.currentToken() ?? null, state: f.state() };
        f.free();
      }
      return seen;
    });
    for (const end of ['logout', 'dispose']) {
      assert.match(out[end].before, /red2-id-token/, `${end}: the answer's other fields are the tokenResponse while the session lasts`);
      assert.equal(out[end].after, 'null', `${end}: tokenResponse after ${end}(): ${out[end].after}`);
      assert.equal(out[end].token, null, `${end}: a token after ${end}()`);
    }
    assertNoPanic();
  });

  test('red-web 3: bad options are an OptionsError naming the option (wrong types, unknown names, empty strings, NaN, huge numbers), never a panic', async () => {
    await open();
    const cases = [
      [{ refreshAt: 'soon' }, 'refreshAt'],
      [{ refreshAt: NaN }, 'refreshAt'],
      [{ refreshAt: 1e308 }, 'refreshAt'],
      [{ defaultLifetimeMs: -1 }, 'defaultLifetimeMs'],
      [{ refreshTimeoutMs: Infinity }, 'refreshTimeoutMs'],
      [{ retryStatuses: [70000] }, 'retryStatuses'],
      [{ retryStatuses: 401 }, 'retryStatuses'],
      [{ endSessionStatuses: [-1] }, 'endSessionStatuses'],
      [{ origins: 'https://api.example' }, 'origins'],
      [{ origins: ['api.example'] }, 'origins'],
      [{ storage: 'disk' }, 'storage'],
      [{ storageKey: '' }, 'storageKey'],
      [{ storageKey: 5 }, 'storageKey'],
      [{ crossTab: 'yes' }, 'crossTab'],
      [{ loginUrl: 'javascript:alert(1)' }, 'loginUrl'],
      [{ loginUrl: '' }, 'loginUrl'],
      [{ origin: ['https://api.example'] }, 'origin'],
      [{ tokens: { accessToken: 'red3-secret', expiresIn: 'red3-secret-2' } }, 'tokens'],
      [{ endpoint: { url: '' } }, 'endpoint.url'],
      [{ endpoint: { url: 5 } }, 'endpoint'],
      [{ endpoint: { url: '/auth/refresh', method: 'GET' } }, 'endpoint.method'],
      [{ endpoint: { url: '/auth/refresh', credentials: 'all' } }, 'endpoint.credentials'],
      [{ endpoint: { url: '/auth/refresh', preset: 'saml' } }, 'preset'],
      [{ endpoint: { url: '/auth/refresh', clientId: 'app' } }, 'endpoint.clientId'],
      [{ endpoint: { url: '/auth/refresh', preset: 'oauth2', scope: '' } }, 'endpoint.scope'],
      [{ endpoint: { url: '/auth/refresh', headers: { 'x-a': 5 } } }, 'endpoint'],
      [{ endpoint: { url: '/auth/refresh', header: {} } }, 'header'],
    ];
    const got = await page.evaluate((cases) => cases.map(([o]) => {
      const options = { endpoint: { url: '/auth/refresh' }, ...o };
      try {
        const f = make(options);
        f.dispose();
        f.free();
        return { made: true };
      } catch (e) {
        return { name: e?.name, message: e?.message ?? String(e) };
      }
    }), cases.map(([o, n]) => [Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v]))]));
    const wrong = [];
    cases.forEach(([o, name], i) => {
      const g = got[i];
      if (g.name !== 'OptionsError' || !g.message.includes(name) || /red3-secret/.test(g.message)) wrong.push(`${JSON.stringify(o)} -> ${JSON.stringify(g)} (expected an OptionsError naming ${name})`);
    });
    assert.deepEqual(wrong, []);
    assertNoPanic();
  });
});
