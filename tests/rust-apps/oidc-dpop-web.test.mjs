// DPoP (RFC 9449) and tokenResponse of the Rust face (`freshtoken::web::Refresher` with
// `dpop: true`) against the real oidc-provider (tests/support/oidc-provider.mjs with `dpop`,
// the DPoP-bound public client `dpop-app`) and the DPoP-verifying resource API
// (tests/support/oidc-dpop.mjs), in headless Chromium. The Rust face is reached through
// examples/conformance's thin JS handle (`Face`: one Rust API call per method; built by
// scripts/web-conformance.sh in `before`), served here as /test.html (the provider's redirect
// URI). The login is the app's: code + PKCE (tests/support/oidc-login.mjs `authorize`), the
// code exchanged by the page with `DPoP: await face.dpopProof('POST', token_endpoint)` (once
// more with the provider's nonce on 400 use_dpop_nonce), then `setTokens`.
// The last two tests open a second tab in the login's browser context (crossTab, storage
// 'localStorage', one storageKey): a second Rust page, or a Rust page (/app/ of
// tests/support/server.mjs) beside the npm page that logged in (oidcLoginDpop).
//
//   nice -n 10 node --test --test-concurrency=1 tests/rust-apps/oidc-dpop-web.test.mjs
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, extname } from 'node:path';
import { jwtVerify, EmbeddedJWK } from 'jose';
import { launchBrowser } from '../support/browser.mjs';
import { startProvider, DPOP_CLIENT_ID } from '../support/oidc-provider.mjs';
import { authorize, oidcLoginDpop } from '../support/oidc-login.mjs';
import { startDpopResourceApi, readProof, jktOf, cnfJkt, ath, readDpopEntry, openSiblingTab } from '../support/oidc-dpop.mjs';
import { startServer } from '../support/server.mjs';

const T = { timeout: 60_000 };
const REPO = new URL('../..', import.meta.url).pathname;
const DIST = new URL('../../examples/conformance/dist', import.meta.url).pathname;
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm' };

let browser;
const cleanup = [];
const fileStart = Date.now();

before(() => {
  execFileSync('bash', ['scripts/web-conformance.sh'], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
}, { timeout: 600_000 });
before(async () => { browser = await launchBrowser(); });
after(async () => {
  await browser?.close();
  process.stderr.write(`oidc-dpop-web.test.mjs: ${((Date.now() - fileStart) / 1000).toFixed(1)} s\n`);
});
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()().catch(() => {});
});

/** examples/conformance/dist, with /test.html its index.html (the provider's redirect URI). */
function startPageServer() {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const file = path === '/' || path === '/test.html' ? 'index.html' : path.slice(1);
    if (file.includes('..') || file.includes('/')) { res.writeHead(404); return res.end(); }
    try {
      const body = await readFile(join(DIST, file));
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  })));
}

/** Makes `window.r` (a Face over web::Refresher with dpop: true) in `page`; `window.events` gets its events. */
function makeFace(page, provider, options) {
  return page.evaluate(({ token, clientId, options }) => {
    window.events ??= [];
    window.r = new window.face.Face({
      ...options, dpop: true,
      endpoint: { url: token, preset: 'oauth2', clientId, ...(options.endpoint ?? {}) },
    }, undefined, (e) => window.events.push({ ...e, t: Date.now() }));
    window.waitFor = async (f, ms, what) => {
      const end = Date.now() + ms;
      while (!f()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
  }, { token: provider.endpoints.token, clientId: DPOP_CLIENT_ID, options });
}

/**
 * The page's origin, the provider (with `dpop-app`), the DPoP API, and a page logged in with
 * the Rust face: `r` made first (dpop: true, the API's origin allowed, sessionStorage under
 * `storageKey`), the code exchanged with `r.dpopProof`, then `r.setTokens`.
 */
async function loggedIn({ accessTtl = 4, storageKey = 'dpop-web', revoke = false, extra = {} } = {}) {
  const app = await startPageServer();
  cleanup.push(() => app.close());
  const provider = await startProvider({ appOrigin: app.url, accessTtl, dpop: { requireNonce: false } });
  cleanup.push(() => provider.close());
  const api = await startDpopResourceApi({ provider, appOrigin: app.url });
  cleanup.push(() => api.close());
  const options = { origins: [api.url], storage: 'sessionStorage', crossTab: false, storageKey, ...extra };
  if (revoke) options.endpoint = { revokeUrl: provider.endpoints.revocation };
  const { tab, page, redirectUri } = await authorize(browser, app, provider, { user: 'user-1', clientId: DPOP_CLIENT_ID });
  cleanup.push(() => tab.close(), () => page.evaluate(() => window.r?.dispose()));
  await makeFace(page, provider, options);
  const { login, exchanges, receivedAt } = await page.evaluate(async ({ token, clientId, redirectUri }) => {
    const q = new URLSearchParams(location.search);
    const { verifier, state } = JSON.parse(sessionStorage.getItem('pkce'));
    sessionStorage.removeItem('pkce');
    if (q.get('state') !== state) throw new Error('state mismatch');
    history.replaceState(null, '', location.pathname);
    const form = new URLSearchParams({
      grant_type: 'authorization_code', code: q.get('code'), redirect_uri: redirectUri, client_id: clientId, code_verifier: verifier,
    }).toString();
    const exchanges = [];
    let nonce;
    for (;;) {
      const proof = await r.dpopProof('POST', token, nonce);
      const res = await fetch(token, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', DPoP: proof }, body: form });
      const body = await res.json();
      const nonceOut = res.headers.get('DPoP-Nonce');
      exchanges.push({ status: res.status, error: body.error ?? null });
      if (res.status === 400 && body.error === 'use_dpop_nonce' && nonceOut && !nonce) { nonce = nonceOut; continue; }
      if (res.status !== 200) throw new Error(`code exchange answered ${res.status}: ${JSON.stringify(body)}`);
      r.setTokens({ accessToken: body.access_token, refreshToken: body.refresh_token, expiresIn: body.expires_in });
      return { login: body, exchanges, receivedAt: Date.now() };
    }
  }, { token: provider.endpoints.token, clientId: DPOP_CLIENT_ID, redirectUri });
  assert.equal(typeof login.access_token, 'string');
  assert.ok(cnfJkt(login.access_token), 'the code exchange gave a DPoP-bound access token (cnf.jkt)');
  return { app, provider, api, options, tab, page, login, exchanges, receivedAt };
}

/** r.fetch in the page (Refresher::fetch_with): { status, body }. */
const pageFetch = (page, url, init = {}) => page.evaluate(async ({ url, init }) => {
  const res = await r.fetch(String(Math.random()), new Request(url, init), false);
  return { status: res.status, body: await res.text() };
}, { url, init });

/** The session-ending events seen in the page. */
const ends = (page) => page.evaluate(() => events.filter((e) => e.name === 'session-expired' || e.name === 'logout'));

test('the DPoP API gets DPoP requests from the Rust face: Authorization: DPoP, a valid proof with ath, signed by the key of cnf.jkt', T, async () => {
  const { page, api, login } = await loggedIn();
  const res = await pageFetch(page, `${api.url}/data?x=1`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
  const q = api.requests.at(-1);
  assert.equal(res.status, 200, `the API refused: ${q?.reason}`);
  assert.equal(api.requests.length, 1);
  assert.equal(q.scheme, 'DPoP');
  assert.equal(q.token, login.access_token);
  const { protectedHeader, payload } = await jwtVerify(q.proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
  assert.equal(protectedHeader.jwk.d, undefined, 'a public jwk');
  assert.equal(payload.htm, 'POST');
  assert.equal(payload.htu, `${api.url}/data`, 'htu without the query');
  assert.equal(payload.ath, ath(login.access_token), 'ath = base64url(SHA-256(token))');
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 30, 'iat is now');
  assert.equal(await jktOf(q.proof), cnfJkt(login.access_token), 'cnf.jkt is the proof key\'s thumbprint');
});

test('refreshes carry proofs: the refresh at ~80% of a 4 s token lands with a proof of the same key, and the new token works at the DPoP API', T, async () => {
  const { page, api, provider, login, receivedAt } = await loggedIn({ accessTtl: 4 });
  const jkt = cnfJkt(login.access_token);
  await page.evaluate((at) => waitFor(() => r.currentToken() !== at || events.some((e) => e.name === 'session-expired'), 8000, 'the refresh'), login.access_token);
  const [call] = provider.refreshCalls();
  assert.ok(call, 'a refresh call');
  assert.equal(call.status, 200, `the provider refused the refresh: ${JSON.stringify(call.body)}`);
  const at = call.t - receivedAt;
  assert.ok(at >= 0.8 * 4000 - 300 && at <= 0.8 * 4000 + 1500, `the refresh came ${at} ms after the login, not at ~80% (3200 ms)`);
  const { payload } = readProof(call.dpop);
  assert.equal(payload.htm, 'POST');
  assert.equal(payload.htu, provider.endpoints.token);
  assert.equal(payload.ath, undefined, 'no ath on the refresh call');
  assert.equal(await jktOf(call.dpop), jkt, 'the refresh is signed by the session\'s key');
  const token = await page.evaluate(() => r.currentToken());
  assert.equal(token, call.body.access_token);
  assert.equal(cnfJkt(token), jkt, 'the new token is bound to the same key');
  const res = await pageFetch(page, `${api.url}/data`);
  assert.equal(res.status, 200, api.requests.at(-1).reason);
  assert.equal(api.requests.at(-1).token, token);
  assert.deepEqual(await ends(page), []);
});

test('token_response() gives the last refresh answer\'s fields other than the tokens (id_token, scope, token_type, expires_in)', T, async () => {
  const { page, provider } = await loggedIn({ accessTtl: 30 });
  assert.equal(await page.evaluate(() => r.tokenResponse()), null, 'none before a refresh');
  await page.evaluate(() => r.refresh());
  const [call] = provider.refreshCalls();
  const tr = await page.evaluate(() => r.tokenResponse());
  assert.equal(tr.access_token, undefined);
  assert.equal(tr.refresh_token, undefined);
  assert.equal(tr.id_token, call.body.id_token);
  assert.equal(typeof tr.id_token, 'string');
  assert.equal(tr.scope, call.body.scope);
  assert.equal(tr.token_type, 'DPoP');
  assert.equal(tr.expires_in, call.body.expires_in);
  const { access_token: _a, refresh_token: _r, ...rest } = call.body;
  assert.deepEqual(tr, rest, 'every other field');
});

test('a required nonce costs one retry at the token endpoint (400 use_dpop_nonce) and one at the API (401 use_dpop_nonce), and no logout; a second demand is handed back', T, async () => {
  const { page, api, provider } = await loggedIn({ accessTtl: 30 });
  provider.dpop.requireNonce = true;
  api.requireNonce = true;
  const res = await pageFetch(page, `${api.url}/data`);
  assert.equal(res.status, 200, api.requests.at(-1).reason);
  assert.deepEqual(api.requests.map((q) => [q.status, q.error]), [[401, 'use_dpop_nonce'], [200, null]], 'one challenge, one retry');
  assert.equal(api.requests[0].nonce, null);
  assert.equal(api.requests[1].nonce, api.nonce, 'the retry carries the API\'s DPoP-Nonce');
  assert.equal(provider.refreshCalls().length, 0, 'a nonce challenge is no reason to refresh');

  const token = await page.evaluate(() => r.refresh());
  const calls = provider.refreshCalls();
  assert.deepEqual(calls.map((c) => [c.status, c.body?.error ?? null]), [[400, 'use_dpop_nonce'], [200, null]], 'one challenge, one retry');
  assert.equal(readProof(calls[0].dpop).payload.nonce, undefined);
  assert.equal(readProof(calls[1].dpop).payload.nonce, calls[0].dpopNonce, 'the retry carries the provider\'s DPoP-Nonce');
  assert.equal(token, calls[1].body.access_token);

  // A second demand is handed back as it is: no third send, no refresh, no session end.
  api.challengeAlways = true;
  const before = api.requests.length;
  const again = await pageFetch(page, `${api.url}/data`);
  assert.equal(again.status, 401);
  assert.deepEqual(api.requests.slice(before).map((q) => q.error), ['use_dpop_nonce', 'use_dpop_nonce'], 'exactly one retry');
  assert.equal(provider.refreshCalls().length, 2, 'no refresh for a nonce demand');
  assert.deepEqual(await ends(page), []);
  assert.equal(await page.evaluate(() => r.state()), 'fresh');
});

test('a reload keeps the key (in IndexedDB as the npm face stores it): the session restored from storage is signed by the same key and its requests pass', T, async () => {
  const { page, api, provider, login, options } = await loggedIn({ accessTtl: 30, storageKey: 'dpop-web-reload' });
  const jkt = cnfJkt(login.access_token);
  await page.reload();
  await page.waitForFunction(() => window.ready === true, null, { timeout: 15000 });
  await makeFace(page, provider, options);
  assert.equal(await page.evaluate(() => r.currentToken()), login.access_token, 'the session restored');
  const res = await pageFetch(page, `${api.url}/data`);
  assert.equal(res.status, 200, api.requests.at(-1).reason);
  assert.equal(await jktOf(api.requests.at(-1).proof), jkt, 'the same key after the reload');
  const stored = await readDpopEntry(page, options.storageKey);
  assert.ok(stored.found, 'the key is in IndexedDB under the storageKey');
  assert.deepEqual(stored.keys.map((k) => [k.type, k.extractable, k.algorithm.name, k.algorithm.namedCurve]), [['private', false, 'ECDSA', 'P-256']],
    'a non-extractable ECDSA P-256 private key, as the npm face stores it');
  // The entry's shape is js/dpop.js's: { privateKey, jwk } with jwk the JSON text of {crv, kty, x, y}.
  const jwk = await page.evaluate((key) => new Promise((resolve, reject) => {
    const open = indexedDB.open('freshtoken');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const req = open.result.transaction('dpop', 'readonly').objectStore('dpop').get(key);
      req.onsuccess = () => { open.result.close(); resolve({ fields: Object.keys(req.result).sort(), jwk: req.result.jwk }); };
      req.onerror = () => reject(req.error);
    };
  }), options.storageKey);
  assert.deepEqual(jwk.fields, ['jwk', 'privateKey']);
  assert.equal(typeof jwk.jwk, 'string');
  assert.deepEqual(Object.keys(JSON.parse(jwk.jwk)), ['crv', 'kty', 'x', 'y']);
  assert.deepEqual(JSON.parse(jwk.jwk), readProof(api.requests.at(-1).proof).header.jwk, 'the stored jwk is the proofs\' jwk');
});

test('logout deletes the key from IndexedDB (the revocation carrying a proof of it), and the next proof uses a new key', T, async () => {
  const { page, api, provider, login, options } = await loggedIn({ accessTtl: 30, storageKey: 'dpop-web-logout', revoke: true });
  const jkt = cnfJkt(login.access_token);
  assert.equal((await pageFetch(page, `${api.url}/data`)).status, 200);
  assert.ok((await readDpopEntry(page, options.storageKey)).found, 'the key is in IndexedDB before the logout');
  await page.evaluate(() => r.logout());
  const end = Date.now() + 3000;
  let entry;
  while ((entry = await readDpopEntry(page, options.storageKey)).found && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.equal(entry.found, false, 'IndexedDB holds no key for the storageKey after logout');
  while (provider.revocationCalls.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  const [rev] = provider.revocationCalls;
  assert.ok(rev, 'the refresh token was revoked');
  assert.equal(rev.params.token, login.refresh_token);
  assert.equal(await jktOf(rev.dpop), jkt, 'the revocation carries a proof of the session\'s key');
  const proof = await page.evaluate((url) => r.dpopProof('POST', url), provider.endpoints.token);
  assert.notEqual(await jktOf(proof), jkt, 'the next proof is signed by a new key');
  assert.deepEqual((await ends(page)).map((e) => e.name), ['logout']);
});

// ------------------------------------------------------------------------------------------
// Two crossTab tabs of one browser context (shared localStorage, IndexedDB, Web Locks,
// BroadcastChannel), same storageKey, storage 'localStorage', crossTab true, dpop true.
// Access tokens live TABS_TTL s, so the scheduled refresh (at 80%) comes after both tabs have
// sent a request on the login's token, and the next one (80% after the rotation) after the
// checks on the rotated token.

const TABS_TTL = 6;
const TABS_REFRESH_POINT = 0.8 * TABS_TTL * 1000;

/** A Rust tab (window.r a Face): its token and r.fetch. */
const rustTab = (name, page) => ({
  name, page,
  token: () => page.evaluate(() => r.currentToken() ?? null),
  fetch: (url) => pageFetch(page, url),
  ends: () => page.evaluate(() => events.filter((e) => e.name === 'session-expired' || e.name === 'logout').map((e) => e.name)),
});
/** An npm tab (window.r an ft.createRefresher refresher, events by installRecorder's listen). */
const npmTab = (name, page) => ({
  name, page,
  token: () => page.evaluate(() => r.accessToken ?? null),
  fetch: (url) => page.evaluate(async (url) => { const res = await r.fetch(url); return { status: res.status, body: await res.text() }; }, url),
  ends: () => page.evaluate(() => events.filter((e) => e.e === 'session-expired' || e.e === 'logout').map((e) => e.e)),
});

/** Polls `pred` (async) every 50 ms until true or `ms` passed; returns whether it held. */
async function until(pred, ms) {
  const end = Date.now() + ms;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The shared-key and shared-rotation checks on two tabs holding the session of `login`:
 * both tabs' proofs carry the same jwk (the login token's cnf.jkt at the API); the refresh due
 * at 80% is one token-endpoint call between them (no refresh-token reuse at the provider);
 * both tabs then send its token, signed by the same key.
 */
async function assertSharedKeyAndRotation({ tabs, provider, api, login }) {
  const jkt = cnfJkt(login.access_token);
  for (const t of tabs) {
    assert.ok(await until(async () => (await t.token()) === login.access_token, 3000), `the ${t.name} tab holds the login's session`);
  }
  assert.equal(provider.refreshCalls().length, 0, 'no refresh yet');

  // 1. One key: both tabs' proofs carry the same jwk, whose thumbprint is the token's cnf.jkt.
  const jwks = [];
  for (const t of tabs) {
    const res = await t.fetch(`${api.url}/data`);
    const q = api.requests.at(-1);
    assert.equal(res.status, 200, `the ${t.name} tab: the API refused: ${q?.reason}`);
    assert.equal(q.token, login.access_token, `the ${t.name} tab sent the login's token`);
    assert.equal(q.jkt, jkt, `the ${t.name} tab signs with the key of cnf.jkt`);
    jwks.push(q.header.jwk);
  }
  assert.deepEqual(jwks[1], jwks[0], 'one jwk across the two tabs');

  // 2. One rotation: the refresh due at 80% (both tabs schedule it), one call between them.
  const rotated = await until(async () => {
    const [a, b] = await Promise.all(tabs.map((t) => t.token()));
    return a && a !== login.access_token && a === b;
  }, TABS_REFRESH_POINT + 4000);
  await new Promise((r) => setTimeout(r, 500)); // a second tab's call would come about now
  const calls = provider.refreshCalls();
  const describe = () => JSON.stringify(calls.map((c) => ({ t: c.t, status: c.status, error: c.body?.error ?? null, rt: c.params.refresh_token === login.refresh_token ? 'login' : 'other' })))
    + `; grant errors ${JSON.stringify(provider.grantErrors)}`;
  assert.ok(rotated, `both tabs hold one new token; refresh calls ${describe()}`);
  const [first] = calls;
  assert.equal(first.status, 200, `the provider refused the refresh: ${describe()}`);
  assert.equal(first.params.refresh_token, login.refresh_token, 'the refresh spent the login\'s refresh token');
  assert.equal(await jktOf(first.dpop), jkt, 'the refresh is signed by the shared key');
  assert.equal(cnfJkt(first.body.access_token), jkt, 'the new token is bound to the shared key');
  assert.deepEqual(calls.filter((c) => c.t < first.done + TABS_REFRESH_POINT - 300).map((c) => c.status), [200],
    `one token-endpoint call between the two tabs: ${describe()}`);
  assert.deepEqual(provider.grantErrors, [], 'the provider saw no reuse of a rotated refresh token (nor any other grant error)');
  assert.deepEqual(provider.grantsRevoked, [], 'no grant revoked');

  // 3. Both tabs send the new token, with proofs of the same key.
  for (const t of tabs) {
    assert.equal(await t.token(), first.body.access_token, `the ${t.name} tab holds the rotated token`);
    const res = await t.fetch(`${api.url}/data`);
    const q = api.requests.at(-1);
    assert.equal(res.status, 200, `the ${t.name} tab after the rotation: the API refused: ${q?.reason}`);
    assert.equal(q.token, first.body.access_token, `the ${t.name} tab sent the rotated token`);
    assert.deepEqual(q.header.jwk, jwks[0], `the ${t.name} tab still signs with the shared jwk`);
  }
  assert.equal(provider.refreshCalls().length, 1, 'still one refresh call');
  for (const t of tabs) assert.deepEqual(await t.ends(), [], `no session end in the ${t.name} tab`);
}

test('two crossTab Rust tabs share one key and one rotation: both tabs\' proofs carry the same jwk (same jkt at the API), the due refresh is one token-endpoint call between them (no refresh-token reuse at the provider), and both tabs then send the new token', T, async () => {
  const { page, tab, app, api, provider, login, options } = await loggedIn({
    accessTtl: TABS_TTL, storageKey: 'dpop-web-tabs', extra: { storage: 'localStorage', crossTab: true },
  });
  const tab2 = await openSiblingTab(tab, `${app.url}/test.html`);
  cleanup.push(() => tab2.close(), () => tab2.page.evaluate(() => window.r?.dispose()));
  await makeFace(tab2.page, provider, options);
  await assertSharedKeyAndRotation({ tabs: [rustTab('first Rust', page), rustTab('second Rust', tab2.page)], provider, api, login });
});

test('an npm tab and a Rust tab (crossTab) share one key and one rotation: both tabs\' proofs carry the same jwk (same jkt at the API), the due refresh is one token-endpoint call between them (no refresh-token reuse at the provider), and both tabs then send the new token', T, async () => {
  // The npm test page at /test.html (the redirect URI: the npm face logs in), the Rust face at /app/.
  const app = await startServer({ appDir: DIST });
  cleanup.push(() => app.close());
  const provider = await startProvider({ appOrigin: app.url, accessTtl: TABS_TTL, dpop: { requireNonce: false } });
  cleanup.push(() => provider.close());
  const api = await startDpopResourceApi({ provider, appOrigin: app.url });
  cleanup.push(() => api.close());
  const options = { origins: [api.url], storage: 'localStorage', crossTab: true, storageKey: 'dpop-mixed-tabs' };
  const { tab, page, login } = await oidcLoginDpop(browser, app, provider, { options });
  cleanup.push(() => tab.close(), () => page.evaluate(() => window.r?.dispose()));
  assert.ok(cnfJkt(login.access_token), 'the code exchange gave a DPoP-bound access token (cnf.jkt)');
  const tab2 = await openSiblingTab(tab, `${app.url}/app/`);
  cleanup.push(() => tab2.close(), () => tab2.page.evaluate(() => window.r?.dispose()));
  await makeFace(tab2.page, provider, options);
  await assertSharedKeyAndRotation({ tabs: [npmTab('npm', page), rustTab('Rust', tab2.page)], provider, api, login });
});
