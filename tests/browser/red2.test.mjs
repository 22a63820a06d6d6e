// Red team, second round: the oauth2 preset, DPoP (RFC 9449), revocation (RFC 7009), the
// server clock, Retry-After and hostile refresh answers, against the newer code. Each test
// is a hole found by the review, proved failing before its fix, in headless Chromium against
// the real local auth server (tests/support/trust-page.mjs) and, where the attack needs one,
// a second allowed API of the attacker's (or a misconfigured one) on its own origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { trustSuite, create } from '../support/trust-page.mjs';

const { setup, cleanup } = trustSuite();

/** A proof's claims (its payload, base64url JSON). */
const claimsOf = (proof) => JSON.parse(Buffer.from(proof.split('.')[1], 'base64url').toString('utf8'));

/**
 * An API on its own origin whose every answer carries `Date: <date>` (a clock far off, or an
 * attacker's), readable by the page (CORS exposes it) and taking `Authorization` and `DPoP`.
 */
async function skewedApi(date) {
  const requests = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method, path: req.url, headers: { ...req.headers } });
    res.writeHead(req.method === 'OPTIONS' ? 204 : 200, {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'authorization, dpop, content-type',
      'access-control-expose-headers': 'date',
      'content-type': 'application/json',
      date,
    });
    res.end(req.method === 'OPTIONS' ? undefined : '{"ok":true}');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${server.address().port}`, requests };
}

test('red2 1: an allowed API whose Date is an hour off (or an attacker\'s) does not move the iat of DPoP proofs to other servers: the token endpoint\'s proof is on its own clock', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  for (const hours of [1, -1]) {
    const api = await skewedApi(new Date(Date.now() + hours * 3_600_000).toUTCString());
    await create(page, srv, srv.issueTokens(), { dpop: true, origins: [srv.url, api.url] });
    const out = await page.evaluate(async ({ api }) => {
      const res = await r.fetch(`${api}/clock`);
      await r.fetch(`${api}/clock`);
      await r.refresh();
      const state = r.state;
      r.dispose();
      return { status: res.status, state };
    }, { api: api.url });
    assert.equal(out.status, 200);
    assert.equal(out.state, 'fresh');
    // The API's own proof, once its Date is known, is on its clock: that is right.
    const apiProof = claimsOf(api.requests.filter((q) => q.method === 'GET')[1].headers.dpop);
    assert.ok(Math.abs(apiProof.iat - (Date.now() / 1000 + hours * 3600)) < 60, `the API's proof is on the API's clock (${hours} h)`);
    // The token endpoint checks iat against its own clock (oidc-provider: 300 s; RFC 9449 §11.1).
    const call = srv.requestsTo('/auth/refresh').at(-1);
    const iat = claimsOf(call.headers.dpop).iat;
    assert.ok(Math.abs(iat - Date.now() / 1000) < 60, `the refresh call's proof has iat ${iat}, ${Math.round(iat - Date.now() / 1000)} s from the token endpoint's clock, moved by another origin's Date (${hours} h)`);
  }
});

test('red2 2: the refresh call\'s DPoP proof names the method it is sent with (endpoint.method PUT), not POST', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  for (const endpoint of [{ method: 'PUT' }, { method: 'PUT', preset: 'oauth2' }]) {
    await page.evaluate(async ({ base, tokens, endpoint }) => {
      window.r = await ft.createRefresher({ tokens, dpop: true, endpoint: { url: `${base}/auth/refresh`, ...endpoint } });
      await r.refresh().catch(() => {});
      r.dispose();
    }, { base: srv.url, tokens: srv.issueTokens(), endpoint });
    const call = srv.requestsTo('/auth/refresh').at(-1);
    assert.equal(call.method, 'PUT');
    assert.equal(claimsOf(call.headers.dpop).htm, 'PUT', `${JSON.stringify(endpoint)}: the proof's htm is the method sent`);
  }
});

test('red2 3: dpopProof() refuses a URL that is not http(s) (javascript:, data:, ftp:, blob:) as it says, and signs nothing for it', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  await create(page, srv, srv.issueTokens(), { dpop: true });
  const out = await page.evaluate(async () => {
    const settled = {};
    for (const url of ['javascript:alert(1)', 'data:text/plain,x', 'ftp://files.example/x', 'blob:https://app.example/1', '/api/echo?x=1#f']) {
      settled[url] = await r.dpopProof('POST', url).then((p) => `proof ${JSON.parse(atob(p.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).htu}`, (e) => `${e.name} ${e.code}`);
    }
    return settled;
  });
  for (const url of ['javascript:alert(1)', 'data:text/plain,x', 'ftp://files.example/x', 'blob:https://app.example/1']) {
    assert.equal(out[url], 'OptionsError bad-option', `${url}: refused`);
  }
  assert.equal(out['/api/echo?x=1#f'], `proof ${srv.url}/api/echo`, 'a relative http(s) URL: its htu without query and fragment');
});

test('red2 4: dpop: true with a preset whose refresh call sends the access token as Bearer (sanic-jwt, bearer-put) is refused, so a DPoP-bound token never goes as Bearer', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const out = await page.evaluate(async ({ base, tokens }) => {
    const settled = {};
    for (const preset of ['sanic-jwt', 'bearer-put', 'json', 'oauth2']) {
      settled[preset] = await ft.createRefresher({ tokens, dpop: true, endpoint: { url: `${base}/auth/refresh`, preset } })
        .then(async (r) => { await r.refresh().catch(() => {}); r.dispose(); return 'taken'; }, (e) => `${e.name} ${e.code} ${/dpop/.test(e.message) && /Bearer/.test(e.message)}`);
    }
    return settled;
  }, { base: srv.url, tokens: srv.issueTokens() });
  assert.deepEqual(out, { 'sanic-jwt': 'OptionsError bad-option true', 'bearer-put': 'OptionsError bad-option true', json: 'taken', oauth2: 'taken' });
  const bearer = srv.requestsTo('/auth/refresh').filter((q) => /^Bearer /i.test(q.headers.authorization ?? ''));
  assert.deepEqual(bearer.map((q) => q.method), [], 'no refresh call sent a DPoP-bound access token as Bearer');
});

test('red2 5: a refresh answer whose expiresIn / expires_in (1e308) or expiresAt puts the expiry beyond any Date is no expiry: the token\'s own exp (or defaultLifetimeMs) stands, it is reported, never a token scheduled for Infinity', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const jwt = srv.issueTokens({ lifetime: 600 }).accessToken;
  const exp = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url')).exp * 1000;
  const answers = [
    ['json', { accessToken: jwt, expiresIn: 1e308 }, exp],
    ['json', { accessToken: jwt, expiresAt: 1e300 }, exp],
    ['oauth2', { access_token: jwt, expires_in: 1e308, token_type: 'Bearer' }, exp],
    ['json', { accessToken: 'opaque-1', expiresIn: 1e308 }, 'default'],
  ];
  for (const [preset, body, want] of answers) {
    srv.setRefreshOutcomes([{ status: 200, body: JSON.stringify(body) }]);
    const out = await page.evaluate(async ({ base, tokens, preset }) => {
      window.r = await ft.createRefresher({ tokens, endpoint: { url: `${base}/auth/refresh`, preset } });
      listen(r);
      await r.refresh();
      const got = { expiresAt: r.expiresAt, nextRefreshAt: r.nextRefreshAt, finite: Number.isFinite(r.expiresAt) && Number.isFinite(r.nextRefreshAt), now: Date.now(), errors: events.filter((e) => e.e === 'refresh-error').map((e) => e.code) };
      r.dispose();
      events.length = 0;
      return got;
    }, { base: srv.url, tokens: srv.issueTokens(), preset });
    const what = `${preset} ${JSON.stringify(body).replace(jwt, '<jwt>')}`;
    assert.ok(out.finite, `${what}: expiresAt ${out.expiresAt}, nextRefreshAt ${out.nextRefreshAt}`);
    const expected = want === 'default' ? out.now + 86_400_000 : want;
    assert.ok(Math.abs(out.expiresAt - expected) < 2_000, `${what}: expires at ${out.expiresAt}, not ${expected}`);
    assert.deepEqual(out.errors, ['bad-expiry'], `${what}: reported`);
  }
});

test('red2 6: a token endpoint answering 10 MB (a huge id_token, a huge error_description) does not grow the wasm memory for good: the answer is not read (bad-response), the error answer read for its status only', { timeout: 60_000 }, async () => {
  const { srv, page } = await setup();
  const big = 'x'.repeat(10_000_000);
  srv.setRefreshOutcomes([
    { status: 200, body: JSON.stringify({ access_token: 'a2', refresh_token: 'r2', expires_in: 60, id_token: big }) },
    { status: 401, body: JSON.stringify({ error: 'invalid_client', error_description: big }) },
  ]);
  const out = await page.evaluate(async ({ base, tokens }) => {
    const { memory } = await import('/js/wasm.js');
    const before = memory().buffer.byteLength;
    const logged = [];
    const error = console.error;
    console.error = (m) => logged.push(String(m).length);
    try {
      window.r = await ft.createRefresher({ tokens, endpoint: { url: `${base}/auth/refresh`, preset: 'oauth2' } });
      listen(r);
      const first = await settle(r.refresh());
      const kept = { token: r.accessToken === tokens.accessToken, state: r.state };
      await new Promise((res) => setTimeout(res, 1_100)); // the one-second floor
      const second = await settle(r.refresh());
      return { before, after: memory().buffer.byteLength, first, kept, second, logged, ended: events.filter((e) => e.e === 'session-expired').map((e) => e.d) };
    } finally {
      console.error = error;
    }
  }, { base: srv.url, tokens: srv.issueTokens() });
  assert.ok(out.after - out.before < 4 * 1024 * 1024, `the wasm memory grew by ${((out.after - out.before) / 1048576).toFixed(1)} MiB for two 10 MB answers`);
  assert.equal(out.first.code, 'bad-response');
  assert.match(out.first.message, /larger than 1 MiB/);
  assert.deepEqual(out.kept, { token: true, state: 'fresh' });
  assert.equal(out.second.code, 'session-expired');
  assert.deepEqual(out.ended, [{ reason: 'refresh-rejected' }], 'read for its status: a 401 ends the session, its 10 MB description unread');
  assert.ok(out.logged.every((n) => n < 100_000), `nothing of it logged: ${out.logged}`);
  // The npm face copies the app's refresh function's result into wasm memory too (the Rust
  // face reads its typed fields only): held to the same bound.
  const fn = await page.evaluate(async ({ big }) => {
    const { memory } = await import('/js/wasm.js');
    const before = memory().buffer.byteLength;
    const r2 = await ft.createRefresher({ tokens: { accessToken: 'a1', refreshToken: 'r1', expiresIn: 60 }, refresh: async () => ({ accessToken: 'a2', expiresIn: 60, idToken: 'x'.repeat(big) }) });
    const got = await settle(r2.refresh());
    r2.dispose();
    return { grew: memory().buffer.byteLength - before, got };
  }, { big: 10_000_000 });
  assert.ok(fn.grew < 4 * 1024 * 1024, `the refresh function's 10 MB result grew the wasm memory by ${(fn.grew / 1048576).toFixed(1)} MiB`);
  assert.equal(fn.got.code, 'bad-response');
});

test('red2 7: an OAuth error answer that echoes the refresh token as the form sent it (percent- or form-encoded: a token with + / = in it) puts no token, in any spelling, in errors, events or the console', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const refreshToken = 'rt+Zm9v/YmFy== secret';
  const spellings = [encodeURIComponent(refreshToken), new URLSearchParams({ t: refreshToken }).toString().slice(2)];
  srv.setRefreshOutcomes(spellings.map((s, i) => ({ status: 400, body: JSON.stringify({ error: i ? 'invalid_client' : 'invalid_grant', error_description: `refresh_token=${s} is not valid` }) })));
  const out = await page.evaluate(async ({ base, tokens }) => {
    const seen = [];
    const error = console.error;
    console.error = (...a) => seen.push(a.map(String).join(' '));
    try {
      for (let i = 0; i < 2; i++) {
        const r = await ft.createRefresher({ tokens, endpoint: { url: `${base}/auth/refresh`, preset: 'oauth2' } });
        r.on('session-expired', (d) => seen.push(JSON.stringify(d)));
        r.on('refresh-error', (d) => seen.push(d.error.message));
        const e = await r.refresh().catch((x) => x);
        seen.push(e.message, String(e.oauthErrorDescription), JSON.stringify(e));
        r.dispose();
      }
    } finally {
      console.error = error;
    }
    return seen;
  }, { base: srv.url, tokens: { accessToken: 'a1', refreshToken, expiresIn: 60 } });
  const text = out.join('\n');
  assert.match(text, /invalid_grant/, 'the provider\'s error code reaches the app');
  assert.match(text, /invalid_client/, 'the provider\'s error code reaches the app');
  for (const s of [refreshToken, ...spellings]) assert.ok(!text.includes(s), `the refresh token, spelled ${s}, reached the app: ${text.slice(0, 300)}`);
});
