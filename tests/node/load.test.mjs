// The package in node 20 itself, unbundled (as node, Vitest and Jest run it): init() reads
// the wasm from disk (node's fetch cannot read file: URLs), decodeToken works, a refresher
// with a refresh function refreshes and its fetch carries the token to the real test server;
// the failures are in load-errors.test.mjs (its own process: the glue loads once per process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import init, { decodeToken, createRefresher, TokenDecodeError } from '../../js/index.js';

const T = { timeout: 20_000 };

test('init() with no argument loads the shipped wasm from disk in node; decodeToken works after it', T, async () => {
  const p = init();
  assert.equal(init(), p, 'idempotent: the same promise');
  await p;
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const info = decodeToken(`${b64({ alg: 'HS256' })}.${b64({ sub: 'u', iat: now, exp: now + 60 })}.sig`);
  assert.equal(info.format, 'jwt');
  assert.equal(info.expiresAt, (now + 60) * 1000);
  assert.equal(info.lifetimeMs, 60_000);
  assert.throws(() => decodeToken(42), (e) => e instanceof TokenDecodeError && e.code === 'bad-type');
});

test('createRefresher with a refresh function in node: refresh(), then refresher.fetch sends the Bearer token to the real server', T, async () => {
  const srv = await startServer({ lifetime: 3 });
  let r;
  try {
    const login = srv.issueTokens();
    r = await createRefresher({
      tokens: login,
      origins: [srv.url],
      refresh: async ({ refreshToken, signal }) => {
        const res = await fetch(`${srv.url}/auth/refresh`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }), signal,
        });
        if (!res.ok) throw Object.assign(new Error(`refresh ${res.status}`), { sessionExpired: res.status === 401 });
        return res.json();
      },
    });
    assert.equal(r.state, 'fresh');
    const before = r.accessToken;
    const next = await r.refresh();
    assert.notEqual(next, before);
    assert.ok(srv.accepts(next));
    assert.equal(srv.state.refreshCalls, 1);
    const res = await r.fetch(`${srv.url}/api/echo`, { method: 'POST', body: 'hello' });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).body, 'hello');
    assert.equal(srv.requestsTo('/api/echo').at(-1).headers.authorization, `Bearer ${next}`);
    // A transport of the app's own (a WebSocket) refused a token: the one that replaced it at
    // once, or one shared refresh while it is the session's.
    assert.equal(await r.tokenAfterRejection(before), next);
    assert.equal(srv.state.refreshCalls, 1);
    const again = await r.tokenAfterRejection(next);
    assert.notEqual(again, next);
    assert.ok(srv.accepts(again));
    assert.equal(srv.state.refreshCalls, 2);
  } finally {
    r?.dispose();
    await srv.close();
  }
});

test('loginUrl and endpoint.revokeUrl as paths are taken in node, where there is no page to resolve them against; a javascript: loginUrl is an OptionsError there too', T, async () => {
  await init();
  const r = await createRefresher({
    endpoint: { url: 'https://id.example/oauth/token', preset: 'oauth2', revokeUrl: '/oauth/revoke' },
    origins: ['https://api.example'],
    loginUrl: '/login',
  });
  assert.equal(r.state, 'idle');
  r.dispose();
  await assert.rejects(createRefresher({ endpoint: { url: 'https://id.example/oauth/token' }, loginUrl: 'javascript:alert(1)' }),
    (e) => e.name === 'OptionsError' && /loginUrl must be an http\(s\) URL/.test(e.message));
});
