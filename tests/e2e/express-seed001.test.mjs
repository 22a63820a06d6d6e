// Seed 001 (Express + jsonwebtoken 9, refresh answers only {accessToken}) through preset 'json'.
import { serverFlows } from './support/flows.mjs';
import { jwtClaims } from './support/harness.mjs';
import { startExpressSeed001 } from './servers/express-seed001.mjs';

const LIFETIME_S = 5;

serverFlows({
  name: 'seed 001 (Express + jsonwebtoken)',
  start: () => startExpressSeed001({ lifetime: LIFETIME_S }),
  pagePath: '/e2e.html',
  login: { url: '/api/auth/login', body: { email: 'user@example.com', password: 'pw' }, accessKey: 'accessToken', refreshKey: 'refreshToken' },
  endpoint: { url: '/api/auth/refresh', preset: 'json' },
  apiPath: '/api/resource',
  lifetimeMs: LIFETIME_S * 1000,
  // No expiresIn in the seed's answers: the SDK plans with the JWT's own exp - iat.
  lifetimeOf: (token) => { const c = jwtClaims(token); return (c.exp - c.iat) * 1000; },
  revoke: ({ srv }) => srv.revokeAll(),
  revokeKillsAccess: false,
});
