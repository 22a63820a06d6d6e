import { bindings, memory } from './wasm.js';
import { makeError } from './errors.js';
import { writeTokens } from './buffer.js';
import { pubnubFields } from './cbor.js';

// The figures decodeBytes leaves in wasm memory: the view is made again after the memory grew.
let figures = new Float64Array(0);
// src/token.rs MAX_TOKEN_LEN: a token whose UTF-8 does not fit in one byte more is too large.
const MAX_TOKEN_BYTES = 262_144;

// Every decode error, [code, message], in the order of the Rust list (src/error.rs,
// `decode_errors!`; a cargo test checks both match): the wasm hands over only the position,
// so the messages ship once, here.
const ERRORS = [
  ["bad-format", "token is empty"],
  ["bad-format", "token starts with `Bearer `; pass the token alone, without the scheme"],
  ["bad-format", "token has leading or trailing whitespace"],
  ["bad-format", "token has the wrong number of dot-separated parts (a JWT has exactly three)"],
  ["bad-format", "token is not a JWT (three dot-separated parts) or a PubNub v3 token"],
  ["bad-format", "JWT header is empty"],
  ["bad-format", "JWT payload is empty"],
  ["too-large", "token is larger than 256 KiB"],
  ["encrypted", "JWE tokens are encrypted and cannot be read by the client"],
  ["bad-base64", "JWT header is not valid base64url"],
  ["bad-base64", "JWT payload is not valid base64url"],
  ["bad-utf8", "JWT header is not UTF-8 text"],
  ["bad-utf8", "JWT payload is not UTF-8 text"],
  ["bad-json", "JWT header is not a JSON object"],
  ["bad-json", "JWT header is not valid JSON"],
  ["bad-json", "JWT header JSON is nested too deep (more than 64 levels)"],
  ["bad-json", "JWT payload is not a JSON object"],
  ["bad-json", "JWT payload is not valid JSON"],
  ["bad-json", "JWT payload JSON is nested too deep (more than 64 levels)"],
  ["bad-claim", "JWT claim `exp` must be a number of seconds"],
  ["bad-claim", "JWT claim `exp` is out of range (negative or above 1e13 seconds)"],
  ["bad-claim", "JWT claim `iat` must be a number of seconds"],
  ["bad-claim", "JWT claim `iat` is out of range (negative or above 1e13 seconds)"],
  ["bad-claim", "JWT claim `nbf` must be a number of seconds"],
  ["bad-claim", "JWT claim `nbf` is out of range (negative or above 1e13 seconds)"],
  ["bad-claim", "PubNub token field `t` must be an unsigned integer of seconds"],
  ["bad-claim", "PubNub token field `t` is out of range (above 1e13 seconds)"],
  ["bad-claim", "PubNub token field `ttl` must be an unsigned integer of minutes"],
  ["bad-claim", "PubNub token field `ttl` is out of range"],
  ["no-expiry", "JWT has no `exp` claim"],
  ["no-expiry", "PubNub token has no `t` field"],
  ["no-expiry", "PubNub token has no `ttl` field"],
  ["bad-version", "PubNub token has no version field `v`"],
  ["bad-version", "PubNub token version `v` is not 2"],
  ["bad-cbor", "PubNub token is truncated (its CBOR data ends early)"],
  ["bad-cbor", "PubNub token uses indefinite-length CBOR items, which are not supported"],
  ["bad-cbor", "PubNub token contains a reserved or unsupported CBOR item"],
  ["bad-cbor", "PubNub token's CBOR is nested too deep (more than 64 levels)"],
  ["bad-cbor", "PubNub token contains a CBOR text string that is not UTF-8"],
  ["bad-cbor", "PubNub token has a CBOR map key that is not a string or integer"],
  ["bad-cbor", "PubNub token has extra bytes after its CBOR map"],
  ["bad-cbor", "PubNub token is not a CBOR map"],
];

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
  // The token goes into the token buffer (js/buffer.js: longer than the limit, it is refused
  // as too large); the figures come back at a fixed address in wasm memory.
  const claims = wasm.decodeBytes(writeTokens([token], MAX_TOKEN_BYTES + 1)[0]);
  const buffer = memory().buffer;
  if (figures.buffer !== buffer) figures = new Float64Array(buffer, wasm.tokenFigures(), 4);
  const kind = figures[0];
  if (kind < 0) {
    const [code, message] = ERRORS[-1 - kind];
    throw makeError('TokenDecodeError', code, message);
  }
  const expiresAt = figures[1];
  const issuedAt = Number.isNaN(figures[2]) ? null : figures[2];
  return {
    format: kind === 0 ? 'jwt' : 'pubnub',
    expiresAt,
    issuedAt,
    lifetimeMs: issuedAt === null ? null : expiresAt - issuedAt,
    // A JWT's: the object JSON.parse made in the wasm; a PubNub token's: read by js/cbor.js.
    claims: kind === 0 ? claims : pubnubFields(token),
  };
}
