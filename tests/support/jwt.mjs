// HS256 JWTs with node's crypto only: enough to be a real auth server in tests.
import { createHmac, timingSafeEqual } from 'node:crypto';

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const HEADER = b64url({ alg: 'HS256', typ: 'JWT' });

/** Signs `payload` (an object) with `secret`; returns the compact JWT. */
export function signJwt(payload, secret) {
  const input = `${HEADER}.${b64url(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/**
 * Verifies signature and `exp` the way jsonwebtoken does (exp compared with whole seconds,
 * no leeway). Returns `{ payload }` or `{ error }`; never throws.
 */
export function verifyJwt(token, secret, nowMs = Date.now()) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return { error: 'malformed' };
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { error: 'bad-signature' };
  let payload;
  try { payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')); } catch { return { error: 'malformed' }; }
  if (typeof payload.exp !== 'number' || Math.floor(nowMs / 1000) >= payload.exp) return { error: 'expired', payload };
  return { payload };
}
