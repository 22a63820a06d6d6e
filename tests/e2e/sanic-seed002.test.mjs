// Seed 002: sanic-jwt 1.8.0 on sanic 25.12.1, a real Python server, through preset 'sanic-jwt'
// (Bearer <access, possibly expired> + {"refresh_token"} -> {"access_token"}).
// sanic-jwt's access tokens carry `exp` (whole seconds) and no `iat`, so the SDK plans with
// exp - receipt: 80% of what is left when the token arrives.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serverFlows } from './support/flows.mjs';
import { jwtClaims } from './support/harness.mjs';
import { spawnServer, freePort } from './support/proc.mjs';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = `${REPO}.venv/bin/python`;
const SERVER = fileURLToPath(new URL('./servers/sanic_seed002.py', import.meta.url));
const EXPIRATION_DELTA_S = 3;

if (!existsSync(PYTHON)) {
  throw new Error('.venv/bin/python is missing: run scripts/e2e.sh (it creates .venv with sanic 25.12.1 and sanic-jwt 1.8.0)');
}

serverFlows({
  name: 'seed 002 (sanic-jwt 1.8.0 on sanic 25.12.1)',
  async start() {
    const port = await freePort();
    const proc = await spawnServer(PYTHON, [SERVER, '--port', String(port), '--expiration-delta', String(EXPIRATION_DELTA_S)], { name: 'sanic-jwt server' });
    return {
      url: proc.url,
      stats: async () => (await fetch(`${proc.url}/test/stats`)).json(),
      revokeAll: () => fetch(`${proc.url}/test/revoke`, { method: 'POST' }),
      close: proc.stop,
    };
  },
  pagePath: '/e2e.html',
  login: { url: '/auth', body: { username: 'alice', password: 'pw' }, accessKey: 'access_token', refreshKey: 'refresh_token' },
  endpoint: { url: '/auth/refresh', preset: 'sanic-jwt' },
  apiPath: '/api/protected',
  lifetimeMs: EXPIRATION_DELTA_S * 1000,
  // exp is whole seconds and there is no iat: lifetime = exp - receipt, between 2 and 3 s.
  lifetimeOf: (token, receivedAt) => jwtClaims(token).exp * 1000 - receivedAt,
  fixedLifetime: false,
  revoke: async ({ srv }) => { await srv.revokeAll(); },
  revokeKillsAccess: false,
});
