// Packaging: an app's own Vitest 4.1.12 + happy-dom test suite (tests/packaging/vitest) using
// freshtoken from the tarball with no mock and no configuration for it: `vitest run` passes,
// and the real test server saw the login, the refresh and the Bearer request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startServer } from '../support/server.mjs';

const run = promisify(execFile);
const DIR = fileURLToPath(new URL('./vitest/', import.meta.url));

test('vitest + happy-dom: the app\'s tests create a refresher, refresh over HTTP and fetch with the token', { timeout: 90_000 }, async () => {
  const srv = await startServer({ lifetime: 30 });
  try {
    const { stdout } = await run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--reporter=verbose'], {
      cwd: DIR, env: { ...process.env, API: srv.url, CI: '1', NO_COLOR: '1' },
    }).catch((e) => { throw new Error(`vitest run failed:\n${e.stdout}\n${e.stderr}`); });
    assert.match(stdout, /Tests\s+2 passed \(2\)/);
    assert.equal(srv.state.loginCalls, 1);
    assert.equal(srv.state.refreshCalls, 1);
    const echo = srv.requestsTo('/api/echo');
    assert.equal(echo.length, 1);
    assert.equal(echo[0].headers.authorization, `Bearer ${srv.state.issued.at(-1)}`, 'the refreshed token reached the API');
  } finally {
    await srv.close();
  }
});
