import { bindings } from './wasm.js';
import { makeError } from './errors.js';

const figures = new Float64Array(4);

/**
 * Reads a JWT or PubNub v3 token's expiry and claims. Synchronous once `init()` resolved.
 * Throws an Error named 'TokenDecodeError' with a `code` ('bad-format', 'bad-base64',
 * 'bad-json', 'bad-cbor', 'no-expiry', ...) and a message saying what is wrong.
 * @param {string} token
 * @returns {{format: 'jwt'|'pubnub', expiresAt: number, issuedAt: number|null,
 *            lifetimeMs: number|null, claims: Record<string, unknown>}}
 */
export function decodeToken(token) {
  const wasm = bindings();
  if (typeof token !== 'string') {
    throw makeError('TokenDecodeError', 'bad-type', `token must be a string, not ${token === null ? 'null' : typeof token}`);
  }
  const claims = wasm.decodeRaw(token, figures);
  const expiresAt = figures[1];
  const issuedAt = Number.isNaN(figures[2]) ? null : figures[2];
  return {
    format: figures[0] === 0 ? 'jwt' : 'pubnub',
    expiresAt,
    issuedAt,
    lifetimeMs: issuedAt === null ? null : expiresAt - issuedAt,
    claims,
  };
}
