// Seed 001 (Express + jsonwebtoken 9, refresh answers only {accessToken}) through preset 'json'.
import { serverFlows } from './support/flows.mjs';
import { jwtClaims } from './support/harness.mjs';
import { startExpressSeed001 } from './servers/express-seed001.mjs';

// 6 s, not 5: the seed's iat and exp are whole seconds, so a token can arrive up to 1 s after
// its iat and the 80% point falls up to 0.8 x 6 + 1 = 5.8 s after the iat, 200 ms before exp
// for the last request's trip. At 5 s it was 0.8 x 5 + 1 = 5 s, exp itself: a request sent
// just before the refresh point could reach the server after exp (one 401 in a CI run).
const LIFETIME_S = 6;

serverFlows({
  name: 'seed 001 (Express + jsonwebtoken)',
  start: () => startExpressSeed001({ lifetime: LIFETIME_S }),
  pagePath: '/e2e.html',
  login: { url: '/api/auth/login', body: { email: 'user@example.com', password: 'pw' }, accessKey: 'accessToken', refreshKey: 'refreshToken' },
  endpoint: { url: '/api/auth/refresh', preset: 'json' },
  apiPath: '/api/resource',
  lifetimeMs: LIFETIME_S * 1000,
  // 3.5 lifetimes (21 s): the fourth refresh (at 19.2 s) has landed, and been told, 1.8 s
  // before the stream ends; at 3.3 (19.8 s) it was 0.6 s, and a loaded run counted its call
  // but not yet its refresh event.
  streamLifetimes: 3.5,
  // No expiresIn in the seed's answers: the SDK plans with the JWT's own exp - iat.
  lifetimeOf: (token) => { const c = jwtClaims(token); return (c.exp - c.iat) * 1000; },
  revoke: ({ srv }) => srv.revokeAll(),
  revokeKillsAccess: false,
});
