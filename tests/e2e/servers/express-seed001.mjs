// Seed 001's server, as the seed writes it: Express + jsonwebtoken.
//   POST /api/auth/login   {email, password}  -> {accessToken, refreshToken (UUID), user}
//   POST /api/auth/refresh {refreshToken}     -> {accessToken}          (only that field)
//                                             -> 401 {error: 'Invalid refresh token'}
//   POST /api/auth/logout  {refreshToken}     -> 204 (the refresh token is deleted)
//   GET  /api/resource     Bearer <jwt>       -> 200, or 401 via jsonwebtoken.verify
// plus, for the browser: /e2e.html and the package (/js, /pkg) as static files.
//
// Access tokens are `jwt.sign({ sub, email }, secret, { expiresIn })`: whole-second iat/exp,
// exactly like the seed. `lifetime` defaults to 6 s: with whole-second iat a token can arrive
// up to 1 s after its iat, and 0.8 x 6 s + 1 s = 5.8 s still falls 200 ms before exp (at 5 s
// the 80% point could fall on exp itself).
import express from 'express';
import jwt from 'jsonwebtoken';
import { randomUUID, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const SUPPORT = fileURLToPath(new URL('../support', import.meta.url));

/**
 * @param {{ lifetime?: number, port?: number }} [opts]  lifetime: access-token seconds
 */
export async function startExpressSeed001({ lifetime = 6, port = 0 } = {}) {
  const secret = randomBytes(32).toString('hex');
  const refreshTokens = new Map(); // token -> { userId, email, expiresAt }
  const stats = { logins: 0, refreshCalls: 0, refreshOk: 0, refreshRejected: 0, api200: 0, api401: 0 };

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json());

  app.post('/api/auth/login', (req, res) => {
    const { email, password } = req.body ?? {};
    if (!email || !password) return res.status(400).json({ error: 'email and password are required' });
    stats.logins += 1;
    const user = { id: 1, email };
    const accessToken = jwt.sign({ sub: String(user.id), email }, secret, { expiresIn: lifetime });
    const refreshToken = randomUUID();
    refreshTokens.set(refreshToken, { userId: user.id, email, expiresAt: Date.now() + 7 * 24 * 3600 * 1000 });
    res.json({ accessToken, refreshToken, user });
  });

  // The seed's handler, line for line (a Map instead of the database).
  app.post('/api/auth/refresh', (req, res) => {
    stats.refreshCalls += 1;
    const { refreshToken } = req.body ?? {};
    const tokenRecord = refreshTokens.get(refreshToken);
    if (!tokenRecord || !(tokenRecord.expiresAt > Date.now())) {
      stats.refreshRejected += 1;
      return res.status(401).json({ error: 'Invalid refresh token' });
    }
    const accessToken = jwt.sign(
      { sub: String(tokenRecord.userId), email: tokenRecord.email },
      secret,
      { expiresIn: lifetime },
    );
    stats.refreshOk += 1;
    res.json({ accessToken });
  });

  app.post('/api/auth/logout', (req, res) => {
    refreshTokens.delete(req.body?.refreshToken);
    res.status(204).end();
  });

  function authenticate(req, res, next) {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    try {
      if (!m) throw new jwt.JsonWebTokenError('jwt must be provided');
      req.user = jwt.verify(m[1], secret);
      next();
    } catch (err) {
      stats.api401 += 1;
      res.status(401).json({ error: 'invalid_token', message: err.message });
    }
  }

  app.get('/api/resource', authenticate, (req, res) => {
    stats.api200 += 1;
    res.json({ data: 'protected resource', user: req.user.sub });
  });

  app.get('/e2e.html', (req, res) => res.sendFile(join(SUPPORT, 'e2e.html')));
  app.use('/js', express.static(join(REPO, 'js')));
  app.use('/pkg', express.static(join(REPO, 'pkg')));

  const server = await new Promise((resolve, reject) => {
    const s = app.listen(port, '127.0.0.1', (err) => (err ? reject(err) : resolve(s)));
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stats: async () => ({ ...stats }),
    /** Deletes every refresh token (what "log out all devices" does in the seed's database). */
    revokeAll: () => refreshTokens.clear(),
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
