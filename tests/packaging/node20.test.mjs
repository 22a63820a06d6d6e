// Packaging: freshtoken from the tarball in a plain Node 20 script (tests/packaging/node20):
// init() with no argument (node cannot fetch file: URLs, so the package reads its wasm from
// disk), decodeToken, createRefresher with a refresh function, refresh() and refresher.fetch
// against the real test server, which sees the refresh and the refreshed Bearer token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startServer } from '../support/server.mjs';

const run = promisify(execFile);
const DIR = fileURLToPath(new URL('./node20/', import.meta.url));

test('node20: init + decodeToken + createRefresher(refresh fn) + refresher.fetch against the real server', { timeout: 30_000 }, async () => {
  const srv = await startServer({ lifetime: 30 });
  try {
    const { stdout, stderr } = await run(process.execPath, ['main.mjs'], { cwd: DIR, env: { ...process.env, API: srv.url } });
    assert.equal(stderr, '');
    const out = JSON.parse(stdout.trim());
    assert.deepEqual(out, { format: 'jwt', lifetimeMs: 30_000, changed: true, status: 200, echoed: 'from node', refreshErrorIsClass: true });
    assert.equal(srv.state.loginCalls, 1);
    assert.equal(srv.state.refreshCalls, 1);
    const echo = srv.requestsTo('/api/echo');
    assert.equal(echo.length, 1);
    const bearer = echo[0].headers.authorization.replace(/^Bearer /, '');
    assert.ok(srv.accepts(bearer), 'the API got the refreshed token');
    assert.equal(srv.state.issued.at(-1), bearer, 'the token sent is the last one the server minted');
    for (const t of srv.state.issued) assert.ok(!stdout.includes(t), 'no token printed');
  } finally {
    await srv.close();
  }
});
