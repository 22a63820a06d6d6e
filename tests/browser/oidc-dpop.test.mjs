// freshtoken's DPoP (RFC 9449) against the real oidc-provider 9.13.3
// (tests/support/oidc-provider.mjs with `dpop`): the public client `dpop-app`
// (dpop_bound_access_tokens: true) logged in with code + PKCE from headless Chromium, the
// code exchanged by the page with a proof from `refresher.dpopProof` (so the tokens are bound
// to the refresher's key: access tokens carry cnf.jkt, the refresh token is bound to the same
// jkt and rotates on every use), and a resource API on its own origin that takes only a
// DPoP-bound token with a valid proof (tests/support/oidc-dpop.mjs: signature with the
// proof's jwk, typ, alg, htm, htu, iat, single-use jti, ath, cnf.jkt = the jwk's thumbprint,
// nonces on demand). Access tokens live 4 s (30 s in the nonce test, whose counts a scheduled
// refresh would blur).
//
// The provider's DPoP settings: features.dPoP { enabled: true, nonceSecret: 32 random
// bytes, requireNonce: () => provider.dpop.requireNonce, allowReplay: false }. Its answers
// (observed, from the page and from node; htm and key-binding texts as lib/helpers/validate_dpop.js
// raises them):
//   - a proof without a nonce while nonces are required: 400
//     {"error":"use_dpop_nonce","error_description":"nonce is required in the DPoP proof"}
//     with a DPoP-Nonce header (exposed to CORS);
//   - no proof: 400 invalid_grant (detail 'DPoP proof JWT not provided'); a bad proof:
//     400 invalid_dpop_proof (e.g. 'DPoP proof htu mismatch', 'DPoP proof htm mismatch',
//     'invalid DPoP key binding'); a reused jti: 400 invalid_grant (detail 'DPoP proof JWT
//     Replay detected'); a refresh signed by another key: 400 invalid_grant (detail
//     'failed jkt verification').
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { jwtVerify, EmbeddedJWK } from 'jose';
import { startServer } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';
import { startProvider, DPOP_CLIENT_ID } from '../support/oidc-provider.mjs';
import { oidcLoginDpop, installRecorder } from '../support/oidc-login.mjs';
import { startDpopResourceApi, readProof, jktOf, cnfJkt, ath, openSiblingTab, readDpopEntry } from '../support/oidc-dpop.mjs';

const T = { timeout: 40_000 };
const ACCESS_TTL = 4;                       // seconds
const REFRESH_POINT = 0.8 * ACCESS_TTL * 1000;

let browser;
const cleanup = [];
const fileStart = Date.now();

before(async () => { browser = await launchBrowser(); });
after(async () => {
  await browser?.close();
  process.stderr.write(`oidc-dpop.test.mjs: ${((Date.now() - fileStart) / 1000).toFixed(1)} s\n`);
});
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()().catch(() => {});
});

/**
 * The test page's origin, the provider (with `dpop-app`), the DPoP API, and a page logged in
 * as `dpop-app` with `window.r` made by the login (dpop: true, the API's origin allowed,
 * `options` added). `providerNonce`: nonces required by the provider from the start;
 * `revoke`: endpoint.revokeUrl is the provider's revocation endpoint.
 */
async function dpopLoggedIn({ options = {}, providerNonce = false, accessTtl = ACCESS_TTL, revoke = false } = {}) {
  const app = await startServer();
  cleanup.push(() => app.close());
  const provider = await startProvider({ appOrigin: app.url, accessTtl, dpop: { requireNonce: providerNonce } });
  cleanup.push(() => provider.close());
  const api = await startDpopResourceApi({ provider, appOrigin: app.url });
  cleanup.push(() => api.close());
  const fullOptions = { origins: [api.url], ...options };
  if (revoke) fullOptions.endpoint = { ...fullOptions.endpoint, revokeUrl: provider.endpoints.revocation };
  const res = await oidcLoginDpop(browser, app, provider, { options: fullOptions });
  const { tab, page } = res;
  cleanup.push(() => tab.close(), () => page.evaluate(() => { window.halt = true; window.r?.dispose(); }));
  assert.deepEqual(provider.serverErrors, []);
  assert.equal(provider.refreshCalls().length, 0);
  return { app, provider, api, options: fullOptions, ...res };
}

/** Re-creates `window.r` in `page` as the login did (no tokens: the session from storage or another tab). */
function recreate(page, provider, options) {
  return page.evaluate(async ({ token, clientId, options }) => {
    window.r = await ft.createRefresher({ ...options, dpop: true, endpoint: { url: token, preset: 'oauth2', clientId, ...(options.endpoint ?? {}) } });
    listen(r);
    return { state: r.state, token: r.accessToken };
  }, { token: provider.endpoints.token, clientId: DPOP_CLIENT_ID, options });
}

/** r.fetch(url, init) in the page: { status, body }. */
const pageFetch = (page, url, init) => page.evaluate(async ({ url, init }) => {
  const res = await r.fetch(url, init);
  return { status: res.status, body: await res.text() };
}, { url, init });

/** A proof's form (RFC 9449 §4.2) for `method` `htu`; `token`: the ath it must carry (none if null). */
async function assertProofShape(proof, { method, htu, token = null, nonce = null, what }) {
  assert.equal(typeof proof, 'string', `${what}: a DPoP header`);
  const { header, payload } = readProof(proof);
  assert.equal(header.typ, 'dpop+jwt', `${what}: typ`);
  assert.equal(header.alg, 'ES256', `${what}: alg`);
  assert.equal(header.jwk?.kty, 'EC', `${what}: jwk kty`);
  assert.equal(header.jwk?.crv, 'P-256', `${what}: jwk crv`);
  assert.equal(header.jwk?.d, undefined, `${what}: the jwk is public (no d)`);
  await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] }); // signed by its jwk
  assert.equal(payload.htm, method, `${what}: htm`);
  assert.equal(payload.htu, htu, `${what}: htu (no query, no fragment)`);
  assert.ok(Number.isInteger(payload.iat) && Math.abs(payload.iat - Date.now() / 1000) < 30, `${what}: iat ${payload.iat} is now`);
  assert.ok(typeof payload.jti === 'string' && payload.jti.length >= 16, `${what}: a jti (${payload.jti})`);
  if (token === null) assert.equal(payload.ath, undefined, `${what}: no ath`);
  else assert.equal(payload.ath, ath(token), `${what}: ath = base64url(SHA-256(access token))`);
  if (nonce === null) assert.equal(payload.nonce, undefined, `${what}: no nonce`);
  else assert.equal(payload.nonce, nonce, `${what}: the nonce the server gave`);
  return { header, payload };
}

/** Every secret the page handled: tokens, code, verifier, and every DPoP proof sent. */
function secrets(provider, api) {
  const out = new Set();
  for (const c of provider.tokenCalls) {
    for (const k of ['access_token', 'refresh_token', 'id_token']) if (typeof c.body?.[k] === 'string') out.add(c.body[k]);
    for (const k of ['code', 'refresh_token', 'code_verifier']) if (typeof c.params[k] === 'string') out.add(c.params[k]);
    if (c.dpop) out.add(c.dpop);
  }
  for (const c of provider.revocationCalls) if (typeof c.params.token === 'string') out.add(c.params.token);
  for (const q of api.requests) {
    if (q.token) out.add(q.token);
    if (q.proof) out.add(q.proof);
  }
  return [...out];
}

const sessionEnds = (page) => page.evaluate(() => events.filter((e) => e.e === 'session-expired' || e.e === 'logout').map((e) => ({ e: e.e, d: e.d })));

// ------------------------------------------------------------------------------------------

test('a: the API gets DPoP requests (scheme DPoP, a valid proof with ath, cnf.jkt matching the proof key) and refreshes carry proofs: the provider takes the refresh at ~80% of the 4 s lifetime, and the new token works', T, async () => {
  const ctx = await dpopLoggedIn();
  const { page, provider, api, login, receivedAt, exchanges } = ctx;
  // The login: one code exchange, DPoP-bound to the refresher's key.
  assert.deepEqual(exchanges.map((x) => x.status), [200]);
  assert.equal(login.token_type, 'DPoP', 'the provider issued a DPoP-bound token');
  const [exchange] = provider.tokenCalls;
  await assertProofShape(exchange.dpop, { method: 'POST', htu: provider.endpoints.token, what: 'the code exchange (refresher.dpopProof)' });
  const jkt = await jktOf(exchange.dpop);
  assert.equal(cnfJkt(login.access_token), jkt, 'the access token is bound to the refresher\'s key');

  // r.fetch (GET with query and fragment, POST) and the fetch interceptor.
  const out = await page.evaluate(async (apiURL) => {
    const statuses = [];
    statuses.push((await r.fetch(`${apiURL}/data?x=1&y=2#frag`)).status);
    statuses.push((await r.fetch(`${apiURL}/data`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })).status);
    const off = r.installFetchInterceptor();
    try { statuses.push((await fetch(`${apiURL}/data?via=interceptor`)).status); } finally { off(); }
    return { statuses };
  }, api.url);
  assert.deepEqual(api.requests.map((q) => q.reason), [null, null, null], 'the API accepted every request');
  assert.deepEqual(out.statuses, [200, 200, 200]);
  assert.deepEqual(api.requests.map((q) => q.method), ['GET', 'POST', 'GET']);
  for (const [i, q] of api.requests.entries()) {
    assert.equal(q.scheme, 'DPoP', 'Authorization: DPoP <token>');
    assert.equal(q.token, login.access_token);
    await assertProofShape(q.proof, { method: q.method, htu: `${api.url}/data`, token: login.access_token, what: `API request ${i + 1}` });
    assert.equal(q.jkt, jkt, 'the same key as the code exchange; the token\'s cnf.jkt');
  }

  // The refresh at 80%, with a proof.
  await page.evaluate(() => waitFor(() => count('refresh') >= 1 || count('refresh-error') >= 1 || count('session-expired') >= 1, 8000, 'the first refresh'));
  const calls = provider.refreshCalls();
  assert.equal(calls.length, 1, 'one refresh call');
  const [call] = calls;
  assert.equal(call.status, 200, `the provider refused the refresh: ${JSON.stringify(call.body)}; grant errors ${JSON.stringify(provider.grantErrors)}`);
  await assertProofShape(call.dpop, { method: 'POST', htu: provider.endpoints.token, what: 'the refresh call' });
  assert.equal(await jktOf(call.dpop), jkt, 'the refresh is signed by the same key (the refresh token is bound to it)');
  const after = call.t - receivedAt;
  assert.ok(after >= REFRESH_POINT - 100 && after <= REFRESH_POINT + 600, `the refresh came ${after} ms after the login, not at ~${REFRESH_POINT} ms`);
  assert.equal(call.body.token_type, 'DPoP');
  assert.equal(cnfJkt(call.body.access_token), jkt, 'the new token is bound to the same key');
  assert.notEqual(call.body.refresh_token, login.refresh_token, 'the refresh token rotated');

  // The new token works.
  const res = await pageFetch(page, `${api.url}/data`);
  const last = api.requests.at(-1);
  assert.equal(res.status, 200, `the API refused the new token: ${last.reason}`);
  assert.equal(last.token, call.body.access_token);
  await assertProofShape(last.proof, { method: 'GET', htu: `${api.url}/data`, token: call.body.access_token, what: 'a request on the new token' });
  assert.equal(last.jkt, jkt);
  // Every proof had its own jti.
  const jtis = [...provider.tokenCalls.map((c) => c.dpop), ...api.requests.map((q) => q.proof)].map((p) => readProof(p).payload.jti);
  assert.equal(new Set(jtis).size, jtis.length, 'a unique jti per proof');
  assert.deepEqual(provider.grantErrors, []);
  assert.deepEqual(await sessionEnds(page), []);
  assert.equal(await page.evaluate(() => r.state), 'fresh');
});

test('b: a required DPoP nonce costs exactly one retry at the token endpoint (400 use_dpop_nonce) and one at the API (401 use_dpop_nonce); neither ends the session nor counts as the 401 replay', T, async () => {
  // 30 s tokens: no scheduled refresh inside the test, so every call counted is one it caused.
  const ctx = await dpopLoggedIn({ accessTtl: 30 });
  const { page, provider, api, login } = ctx;
  // From now on both ask for nonces; freshtoken has seen none yet (the app's own code
  // exchange ran without one).
  provider.dpop.requireNonce = true;
  api.requireNonce = true;

  // 1. The API: one 401 use_dpop_nonce, one retry with its nonce, no refresh.
  let res = await pageFetch(page, `${api.url}/data`);
  assert.equal(res.status, 200, `the request failed: ${JSON.stringify(api.requests.map((q) => q.reason))}`);
  assert.deepEqual(api.requests.map((q) => [q.status, q.error]), [[401, 'use_dpop_nonce'], [200, null]], 'one challenge, one retry');
  assert.equal(api.requests[0].nonce, null);
  assert.equal(api.requests[1].nonce, api.nonce, 'the retry carries the API\'s DPoP-Nonce');
  assert.equal(api.requests[1].token, login.access_token);
  assert.equal(provider.refreshCalls().length, 0, 'a nonce challenge is no reason to refresh');

  // 2. The token endpoint: one 400 use_dpop_nonce, one retry with its nonce.
  const refreshed = await page.evaluate(() => r.refresh().then(() => null, errorOf));
  assert.equal(refreshed, null, `refresh() failed: ${JSON.stringify(refreshed)}`);
  let calls = provider.refreshCalls();
  assert.deepEqual(calls.map((c) => [c.status, c.body?.error ?? null]), [[400, 'use_dpop_nonce'], [200, null]],
    `one challenge, one retry: ${JSON.stringify(calls.map((c) => c.body))}`);
  assert.equal(calls[0].body.error_description, 'nonce is required in the DPoP proof');
  assert.ok(calls[0].dpopNonce, 'the provider gave a DPoP-Nonce');
  assert.equal(readProof(calls[0].dpop).payload.nonce, undefined);
  assert.equal(readProof(calls[1].dpop).payload.nonce, calls[0].dpopNonce, 'the retry carries the provider\'s DPoP-Nonce');
  assert.equal(calls[1].params.refresh_token, login.refresh_token, 'the refresh token was not spent by the challenged call');
  assert.equal(await page.evaluate(() => r.accessToken), calls[1].body.access_token);

  // 3. Nonces remembered per origin: no challenge on the next request.
  const before = api.requests.length;
  res = await pageFetch(page, `${api.url}/data`);
  assert.equal(res.status, 200);
  assert.deepEqual(api.requests.slice(before).map((q) => [q.status, q.nonce]), [[200, api.nonce]], 'one request, with the remembered nonce');

  // 4. A stale nonce at the API and a token the API refuses: the nonce retry, then the 401
  //    replay (a refresh, with the remembered provider nonce), answered 200.
  const mark = api.requests.length;
  api.rotateNonce();
  const current = await page.evaluate(() => r.accessToken);
  api.refuseToken(current);
  res = await pageFetch(page, `${api.url}/data`);
  const seen = api.requests.slice(mark);
  assert.equal(res.status, 200, `the request failed: ${JSON.stringify(seen.map((q) => [q.status, q.error, q.reason]))}`);
  assert.deepEqual(seen.map((q) => [q.status, q.error]), [[401, 'use_dpop_nonce'], [401, 'invalid_token'], [200, null]],
    'the nonce retry, then the 401 replay with a fresh token');
  assert.equal(seen[1].nonce, api.nonce);
  assert.equal(seen[1].token, current);
  calls = provider.refreshCalls();
  assert.equal(calls.length, 3, 'one more refresh call, for the replay');
  assert.equal(calls[2].status, 200, JSON.stringify(calls[2].body));
  assert.equal(seen[2].token, calls[2].body.access_token);
  assert.equal(seen[2].nonce, api.nonce);

  // No session ended, no logout, so far.
  assert.deepEqual(await sessionEnds(page), []);
  assert.equal(await page.evaluate(() => r.state), 'fresh');
  assert.deepEqual(provider.grantErrors.filter((g) => g.error !== 'use_dpop_nonce'), []);

  // 5. Exactly one: an API that challenges every proof (a new nonce each time) gets the
  //    request and its one retry; the app gets the 401, with no refresh and no replay.
  const mark2 = api.requests.length;
  const refreshesBefore = provider.refreshCalls().length;
  const current2 = await page.evaluate(() => r.accessToken);
  api.challengeAlways = true;
  res = await pageFetch(page, `${api.url}/data`);
  api.challengeAlways = false;
  const challenged = api.requests.slice(mark2);
  const seenBy = (q, i) => `#${i + 1}: ${q.error}, proof nonce ${q.nonce === null ? 'none' : q.nonce === challenged[i - 1]?.nonceOut ? 'the previous answer\'s' : 'another'}, token ${q.token === current2 ? 'the same' : 'another'}`;
  assert.deepEqual(challenged.map((q) => q.error), ['use_dpop_nonce', 'use_dpop_nonce'],
    `the request and one retry, no more; the API saw ${challenged.map(seenBy).join('; ')}; refresh calls during it: ${provider.refreshCalls().length - refreshesBefore}; app got ${res.status}`);
  assert.equal(challenged[1].nonce, challenged[0].nonceOut, 'the retry carries the nonce of the first challenge');
  assert.equal(res.status, 401, 'the second challenge is the app\'s answer');
  assert.equal(provider.refreshCalls().length, refreshesBefore, 'a nonce challenge is not the 401 replay: no refresh');
  assert.deepEqual(await sessionEnds(page), [], 'no session end after the repeated challenge either');
  assert.equal(await page.evaluate(() => r.state), 'fresh');
});

test('c: a reload (a new page load and refresher, same storageKey) keeps the DPoP key: the same jkt works at the API and the provider takes its refresh, without a new login', T, async () => {
  const options = { storage: 'localStorage', storageKey: 'dpop-reload' };
  // Nonces required by the provider from the start: the login retries with one.
  const ctx = await dpopLoggedIn({ options, providerNonce: true });
  const { page, provider, api, login, exchanges } = ctx;
  assert.deepEqual(exchanges.map((x) => [x.status, x.error]), [[400, 'use_dpop_nonce'], [200, null]], 'the code exchange retried once with the provider\'s nonce');
  const jkt = cnfJkt(login.access_token);
  assert.equal(await jktOf(provider.tokenCalls.at(-1).dpop), jkt);

  let res = await pageFetch(page, `${api.url}/data`);
  assert.equal(res.status, 200, api.requests.at(-1)?.reason);
  assert.equal(api.requests.at(-1).jkt, jkt);
  const stored = await readDpopEntry(page, options.storageKey);
  assert.ok(stored.found, `IndexedDB freshtoken/dpop has an entry for the storageKey: ${JSON.stringify(stored)}`);
  const priv = stored.keys.find((k) => k.type === 'private');
  assert.ok(priv, `the entry holds a private CryptoKey: ${JSON.stringify(stored.keys)}`);
  assert.deepEqual([priv.extractable, priv.algorithm.name, priv.algorithm.namedCurve], [false, 'ECDSA', 'P-256'], 'a non-extractable ECDSA P-256 key');

  // The reload: a new document, a new refresher on the same storageKey, no tokens given.
  await page.reload();
  await page.waitForFunction(() => window.ready === true, null, { timeout: 15_000 });
  await installRecorder(page);
  const restored = await recreate(page, provider, ctx.options);
  assert.equal(restored.token, login.access_token, `the session came back from localStorage (state ${restored.state})`);

  const mark = api.requests.length;
  res = await pageFetch(page, `${api.url}/data`);
  const q = api.requests[mark];
  assert.equal(res.status, 200, `the API refused the request after the reload: ${q?.reason}`);
  assert.equal(api.requests.length, mark + 1);
  assert.equal(q.jkt, jkt, 'the same key after the reload');
  assert.equal(q.token, login.access_token);

  const err = await page.evaluate(() => r.refresh().then(() => null, errorOf));
  const last = provider.refreshCalls().at(-1);
  assert.equal(err, null, `refresh() after the reload failed: ${JSON.stringify(err)}; the provider: ${JSON.stringify(last?.body)}, grant errors ${JSON.stringify(provider.grantErrors)}`);
  assert.equal(last.status, 200);
  assert.equal(await jktOf(last.dpop), jkt, 'the refresh is signed by the same key');
  assert.equal(cnfJkt(last.body.access_token), jkt);
  res = await pageFetch(page, `${api.url}/data`);
  assert.equal(res.status, 200, api.requests.at(-1).reason);
  assert.equal(api.requests.at(-1).token, last.body.access_token);
  assert.equal(provider.tokenCalls.filter((c) => c.params.grant_type === 'authorization_code').length, 2, 'no new login (the two calls of the first one)');
  assert.deepEqual(provider.grantErrors.filter((g) => g.error !== 'use_dpop_nonce'), []);
  assert.deepEqual(await sessionEnds(page), []);
});

test('d: two crossTab tabs share one DPoP key and one rotation: both send proofs with the same jkt, one refresh call between them, both use its token', T, async () => {
  const options = { storage: 'localStorage', storageKey: 'dpop-tabs', crossTab: true };
  const ctx = await dpopLoggedIn({ options });
  const { page, provider, api, login, tab, app } = ctx;
  const jkt = cnfJkt(login.access_token);
  const tab2 = await openSiblingTab(tab, `${app.url}/test.html`);
  cleanup.push(() => tab2.close(), () => tab2.page.evaluate(() => window.r?.dispose()));
  await installRecorder(tab2.page);
  await recreate(tab2.page, provider, ctx.options);
  await tab2.page.evaluate((at) => waitFor(() => r.accessToken === at, 3000, 'the session in the second tab'), login.access_token);

  const pages = [page, tab2.page];
  for (const [i, p] of pages.entries()) {
    const res = await pageFetch(p, `${api.url}/data`);
    assert.equal(res.status, 200, `tab ${i + 1}: ${api.requests.at(-1).reason}`);
    assert.equal(api.requests.at(-1).jkt, jkt, `tab ${i + 1} signs with the shared key`);
  }
  assert.equal(new Set(api.requests.map((q) => q.header.jwk.x)).size, 1, 'one jwk across the tabs');

  // The rotation at 80%: both tabs end up with its token.
  await Promise.all(pages.map((p) => p.evaluate((at) => waitFor(() => r.accessToken !== at || count('session-expired') > 0, 8000, 'the rotation'), login.access_token)));
  const [first, ...later] = provider.refreshCalls();
  assert.ok(first, 'a refresh call');
  assert.equal(first.status, 200, `the provider refused the refresh: ${JSON.stringify(first.body)}; grant errors ${JSON.stringify(provider.grantErrors)}`);
  assert.equal(await jktOf(first.dpop), jkt, 'the refresh is signed by the shared key');
  assert.equal(first.params.refresh_token, login.refresh_token);
  for (const [i, p] of pages.entries()) {
    assert.equal(await p.evaluate(() => r.accessToken), first.body.access_token, `tab ${i + 1} has the rotated token`);
  }
  for (const [i, p] of pages.entries()) {
    const res = await pageFetch(p, `${api.url}/data`);
    const q = api.requests.at(-1);
    assert.equal(res.status, 200, `tab ${i + 1} after the rotation: ${q.reason}`);
    assert.equal(q.token, first.body.access_token);
    assert.equal(q.jkt, jkt);
  }
  assert.deepEqual(later.filter((c) => c.t < first.done + REFRESH_POINT - 100), [], 'one refresh call between the two tabs');
  assert.deepEqual(provider.grantErrors, [], 'no reuse of a rotated refresh token, no key mismatch');
  const stored = await readDpopEntry(tab2.page, options.storageKey);
  assert.ok(stored.found, 'the key is in IndexedDB');
  for (const p of pages) assert.deepEqual(await sessionEnds(p), []);
});

test('e: logout() deletes the DPoP key: IndexedDB has no entry for the storageKey, and the next proof uses a new jwk', T, async () => {
  const options = { storageKey: 'dpop-logout' };
  const ctx = await dpopLoggedIn({ options });
  const { page, provider, api, login } = ctx;
  const res = await pageFetch(page, `${api.url}/data`);
  assert.equal(res.status, 200, api.requests.at(-1).reason);
  const oldProof = api.requests.at(-1).proof;
  const jkt = await jktOf(oldProof);
  assert.equal(jkt, cnfJkt(login.access_token));
  const before = await readDpopEntry(page, options.storageKey);
  assert.ok(before.found, `the key is in IndexedDB before the logout: ${JSON.stringify(before)}`);

  await page.evaluate(() => r.logout());
  const gone = await readDpopEntry(page, options.storageKey);
  assert.equal(gone.found, false, `IndexedDB still holds the key after logout(): ${JSON.stringify(gone)}`);

  const proof = await page.evaluate((url) => r.dpopProof('POST', url), provider.endpoints.token);
  await assertProofShape(proof, { method: 'POST', htu: provider.endpoints.token, what: 'the proof after logout' });
  const newJkt = await jktOf(proof);
  assert.notEqual(newJkt, jkt, 'the next proof is signed by a new key');
  assert.notDeepEqual(readProof(proof).header.jwk, readProof(oldProof).header.jwk);
});

test('f: no token (access, refresh, ID, code, verifier) nor DPoP proof appears in any console output, through nonce retries at both endpoints, a 401 replay, a refresh and logout', T, async () => {
  const ctx = await dpopLoggedIn({ revoke: true, providerNonce: true });
  const { page, provider, api, tab } = ctx;
  api.requireNonce = true;
  const out = await page.evaluate(async (apiURL) => {
    const statuses = [];
    statuses.push((await r.fetch(`${apiURL}/data`)).status);     // API nonce challenge
    return statuses;
  }, api.url);
  api.refuseToken(await page.evaluate(() => r.accessToken));      // the next request: 401, a refresh (nonce challenge), replay
  out.push((await pageFetch(page, `${api.url}/data`)).status);
  await page.evaluate(() => r.refresh());
  out.push((await pageFetch(page, `${api.url}/data`)).status);
  await page.evaluate(() => r.logout());
  assert.deepEqual(out, [200, 200, 200]);
  assert.ok(api.nonceChallenges().length >= 1 && provider.tokenCalls.some((c) => c.body?.error === 'use_dpop_nonce'), 'nonce challenges at both');
  assert.ok(provider.refreshCalls().filter((c) => c.status === 200).length >= 2);
  const all = secrets(provider, api);
  assert.ok(all.length >= 10, `the leak check knows the secrets (${all.length})`);
  for (const line of [...tab.console.map((c) => `console.${c.type}: ${c.text}`), ...tab.errors]) {
    for (const s of all) assert.ok(!line.includes(s), `a secret appears in the page's log: ${line.slice(0, 160)}`);
  }
});
