// Checks the test harness itself (auth server, plain server, Chromium launch), so that a
// failure in core.test.mjs points at the SDK and not at the harness. Needs no SDK build.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startPlainServer } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';
import { signJwt, verifyJwt } from '../support/jwt.mjs';

let srv;
before(async () => { srv = await startServer({ lifetime: 3 }); });
after(async () => { await srv.close(); });

const post = (path, body, headers = {}) => fetch(srv.url + path, {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
});

test('JWT signer/verifier: round trip, tampering, expiry', () => {
  const now = Math.floor(Date.now() / 1000);
  const token = signJwt({ sub: 'a', iat: now, exp: now + 3 }, 's');
  assert.equal(verifyJwt(token, 's').payload.sub, 'a');
  assert.equal(verifyJwt(token, 'other').error, 'bad-signature');
  const [h, , s] = token.split('.');
  const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'b', iat: now, exp: now + 3 })).toString('base64url')}.${s}`;
  assert.equal(verifyJwt(forged, 's').error, 'bad-signature');
  assert.equal(verifyJwt(token, 's', (now + 3) * 1000).error, 'expired');
  assert.equal(verifyJwt('garbage', 's').error, 'malformed');
});

test('auth server: login, echo with and without a valid token, revoke', async () => {
  const login = await (await post('/auth/login', { user: 'u' })).json();
  assert.equal(typeof login.accessToken, 'string');
  assert.equal(typeof login.refreshToken, 'string');
  assert.equal(login.expiresIn, 3);
  const [, payload] = login.accessToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url'));
  assert.equal(claims.exp - claims.iat, 3);

  assert.equal((await post('/api/echo', { a: 1 })).status, 401);
  const ok = await post('/api/echo', { a: 1 }, { authorization: `Bearer ${login.accessToken}` });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { ok: true, method: 'POST', body: '{"a":1}', auth: true });
  assert.equal((await post('/api/echo', {}, { authorization: `Bearer ${srv.expiredToken()}` })).status, 401);

  srv.revokeAccessTokens();
  assert.equal((await post('/api/echo', {}, { authorization: `Bearer ${login.accessToken}` })).status, 401);
  const fresh = srv.issueTokens();
  assert.equal((await post('/api/echo', {}, { authorization: `Bearer ${fresh.accessToken}` })).status, 200);
  const last = srv.requestsTo('/api/echo').at(-1);
  assert.equal(last.headers.authorization, `Bearer ${fresh.accessToken}`);
});

test('auth server: refresh contract and scripted outcomes', async () => {
  const { refreshToken } = srv.issueTokens();
  const before = srv.state.refreshCalls;
  srv.setRefreshOutcomes([500, { status: 200, delay: 100 }, 'malformed', 'html', 401]);
  assert.equal((await post('/auth/refresh', { refreshToken })).status, 500);
  const t0 = Date.now();
  const ok = await post('/auth/refresh', { refreshToken });
  assert.ok(Date.now() - t0 >= 90, 'delay applied');
  const body = await ok.json();
  assert.equal(ok.status, 200);
  assert.ok(srv.accepts(body.accessToken));
  assert.equal(body.refreshToken, undefined, 'seed 001 answers only { accessToken } unless rotating');
  const bad = await post('/auth/refresh', { refreshToken });
  assert.equal(bad.status, 200);
  await assert.rejects(bad.json());
  const html = await post('/auth/refresh', { refreshToken });
  assert.equal(html.status, 502);
  assert.match(html.headers.get('content-type'), /text\/html/);
  assert.equal((await post('/auth/refresh', { refreshToken })).status, 401);
  // Queue empty: back to the real thing, which checks the refresh token and the content type.
  assert.equal((await post('/auth/refresh', { refreshToken })).status, 200);
  assert.equal((await post('/auth/refresh', { refreshToken: 'nope' })).status, 401);
  const textPlain = await fetch(srv.url + '/auth/refresh', { method: 'POST', body: JSON.stringify({ refreshToken }) });
  assert.equal(textPlain.status, 401, 'like express.json(), a non-JSON content type is no body');
  assert.equal(srv.state.refreshCalls - before, 8);
});

test('auth server: rotating refresh tokens are single-use', async () => {
  const rot = await startServer({ rotateRefreshTokens: true, sendExpiresIn: true });
  try {
    const { refreshToken } = rot.issueTokens();
    const r1 = await (await fetch(rot.url + '/auth/refresh', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }),
    })).json();
    assert.equal(r1.expiresIn, 3);
    assert.notEqual(r1.refreshToken, refreshToken);
    const again = await fetch(rot.url + '/auth/refresh', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }),
    });
    assert.equal(again.status, 401);
  } finally {
    await rot.close();
  }
});

test('static files: MIME types and no path traversal', async () => {
  const page = await fetch(srv.url + '/test.html');
  assert.match(page.headers.get('content-type'), /text\/html/);
  assert.match(await page.text(), /import\('\/js\/index\.js'\)/);
  const esc = await fetch(srv.url + '/pkg/..%2FCargo.toml');
  assert.notEqual(esc.status, 200);
  const wasm = await fetch(srv.url + '/pkg/freshtoken_bg.wasm');
  if (wasm.status === 200) assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  const glue = await fetch(srv.url + '/pkg/freshtoken.js');
  if (glue.status === 200) assert.match(glue.headers.get('content-type'), /^text\/javascript/);
});

test('Chromium: launches, reaches both servers, and the plain server sees an Authorization header when one is sent', async () => {
  const plain = await startPlainServer();
  const browser = await launchBrowser();
  try {
    const tab = await browser.open(srv.url + '/test.html', { waitForReady: false });
    const result = await tab.page.evaluate(async (plainUrl) => {
      const a = await fetch(plainUrl + '/no-auth');
      const b = await fetch(plainUrl + '/with-auth', { headers: { authorization: 'Bearer x' } });
      console.log('harness console check');
      return [a.status, b.status];
    }, plain.url);
    assert.deepEqual(result, [200, 200]);
    assert.deepEqual(plain.requests.filter((r) => r.path === '/no-auth').map((r) => r.hasAuthorization), [false]);
    // A wrongly attached header is visible twice: in the preflight and in the request itself.
    const withAuth = plain.requests.filter((r) => r.path === '/with-auth');
    assert.deepEqual(withAuth.map((r) => [r.method, r.hasAuthorization]), [['OPTIONS', true], ['GET', true]]);
    assert.match(tab.consoleText(), /harness console check/);
    await tab.close();
  } finally {
    await browser.close();
    await plain.close();
  }
});
