// The demo's auth server state: HS256 access tokens, rotating refresh tokens, sessions,
// and the fault switches the page flips. Node's `crypto` only.
//
// Tokens are never logged and never kept in plain text: refresh tokens are stored as their
// SHA-256, and everything the server prints names a session by a short id.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const JWT_HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/** Fault modes of the refresh endpoint (POST /control {mode}). */
export const MODES = ['ok', 'fail5xx', 'slow', 'offline'];

/**
 * One auth server's state.
 * @param {{ ttl: number, log?: (line: string) => void }} opts  ttl: access-token lifetime, seconds
 */
export function createAuth({ ttl, log = () => {} }) {
  let secret = randomBytes(32);          // rotated by expireNow(): every access token issued so far dies
  let keyGeneration = 1;
  const sessions = new Map();            // sid -> { user, revoked, refreshes, createdAt }
  const refreshTokens = new Map();       // sha256(refresh token) -> { sid, used }
  const config = { ttl, mode: 'ok', slowMs: 3000 };
  const stats = {
    logins: 0, refreshCalls: 0, refreshOk: 0, refreshRejected: 0, refreshFaulted: 0,
    reuseDetected: 0, apiCalls: 0, api200: 0, api401: 0, revokes: 0, keyRotations: 0,
  };

  function signAccess(sid, user) {
    // iat/exp with millisecond precision (RFC 7519 NumericDate may be fractional), so the
    // token dies exactly `ttl` seconds after it was minted, not up to a second early.
    const iat = Math.round(Date.now()) / 1000;
    const payload = { sub: user, sid, jti: randomBytes(9).toString('base64url'), iat, exp: +(iat + config.ttl).toFixed(3) };
    const input = `${JWT_HEADER}.${b64url(JSON.stringify(payload))}`;
    return `${input}.${b64url(createHmac('sha256', secret).update(input).digest())}`;
  }

  function mintRefresh(sid) {
    const token = randomBytes(32).toString('base64url');
    refreshTokens.set(sha256(token), { sid, used: false });
    return token;
  }

  function grant(sid) {
    const s = sessions.get(sid);
    return { accessToken: signAccess(sid, s.user), refreshToken: mintRefresh(sid), expiresIn: config.ttl };
  }

  function revokeSession(sid, why) {
    const s = sessions.get(sid);
    if (!s || s.revoked) return false;
    s.revoked = true;
    for (const [hash, rec] of refreshTokens) if (rec.sid === sid) refreshTokens.delete(hash);
    log(`session ${sid} revoked (${why})`);
    return true;
  }

  return {
    config,
    stats,

    /** POST /auth/login: any non-empty username and password. */
    login(username, password) {
      if (typeof username !== 'string' || !username.trim() || typeof password !== 'string' || !password) {
        return { status: 400, body: { error: 'invalid_request', error_description: 'username and password are required' } };
      }
      stats.logins += 1;
      const sid = randomBytes(4).toString('hex');
      sessions.set(sid, { user: username.trim().slice(0, 64), revoked: false, refreshes: 0, createdAt: Date.now() });
      log(`login user=${JSON.stringify(username.trim().slice(0, 64))} session ${sid} (access tokens live ${config.ttl} s)`);
      return { status: 200, body: grant(sid) };
    },

    /**
     * POST /auth/refresh {refreshToken} (seed 001 contract, with rotation): a refresh token
     * is good once. Reusing one revokes the whole session (RFC 9700 §4.14.2).
     */
    refresh(refreshToken) {
      stats.refreshCalls += 1;
      const rec = typeof refreshToken === 'string' ? refreshTokens.get(sha256(refreshToken)) : undefined;
      if (!rec) {
        stats.refreshRejected += 1;
        log('refresh rejected: unknown or revoked refresh token');
        return { status: 401, body: { error: 'invalid_grant', error_description: 'Invalid refresh token' } };
      }
      const s = sessions.get(rec.sid);
      if (rec.used) {
        stats.refreshRejected += 1;
        stats.reuseDetected += 1;
        revokeSession(rec.sid, 'a refresh token was used twice');
        return { status: 401, body: { error: 'invalid_grant', error_description: 'Refresh token reused; session revoked' } };
      }
      if (!s || s.revoked) {
        stats.refreshRejected += 1;
        return { status: 401, body: { error: 'invalid_grant', error_description: 'Session revoked' } };
      }
      rec.used = true;
      s.refreshes += 1;
      stats.refreshOk += 1;
      log(`refresh ok session ${rec.sid} (#${s.refreshes})`);
      return { status: 200, body: grant(rec.sid) };
    },

    /**
     * Checks `Authorization: Bearer <jwt>`. Returns { sid, user, jti } or { error } where
     * error is 'missing' | 'malformed' | 'bad-signature' | 'expired' | 'revoked'.
     */
    verify(authorization) {
      const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization ?? '');
      if (!m) return { error: authorization ? 'malformed' : 'missing' };
      const [h, p, sig] = m[1].split('.');
      const want = createHmac('sha256', secret).update(`${h}.${p}`).digest();
      const got = Buffer.from(sig, 'base64url');
      if (got.length !== want.length || !timingSafeEqual(got, want)) return { error: 'bad-signature' };
      let claims;
      try { claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')); } catch { return { error: 'malformed' }; }
      if (typeof claims.exp !== 'number' || Date.now() / 1000 >= claims.exp) return { error: 'expired' };
      const s = sessions.get(claims.sid);
      if (!s || s.revoked) return { error: 'revoked' };
      return { sid: claims.sid, user: claims.sub, jti: claims.jti };
    },

    /** The session a (still valid) refresh token belongs to, or undefined. */
    sidOfRefreshToken(refreshToken) {
      return typeof refreshToken === 'string' ? refreshTokens.get(sha256(refreshToken))?.sid : undefined;
    },

    /** Revokes one session (its refresh tokens and its access tokens). */
    revokeSession,

    /** Revokes every session. */
    revokeAll(why) {
      let n = 0;
      for (const sid of sessions.keys()) if (revokeSession(sid, why)) n += 1;
      stats.revokes += n;
      return n;
    },

    /** Rotates the signing key: every access token issued so far gets 401; refresh tokens stay good. */
    expireNow() {
      secret = randomBytes(32);
      keyGeneration += 1;
      stats.keyRotations += 1;
      log(`signing key rotated (generation ${keyGeneration}): every access token issued so far is now rejected`);
    },

    get keyGeneration() { return keyGeneration; },
    get activeSessions() { let n = 0; for (const s of sessions.values()) if (!s.revoked) n += 1; return n; },
  };
}
