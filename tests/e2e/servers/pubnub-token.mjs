// PubNub Access Manager v3 tokens, built the way PubNub's server builds them: unpadded
// base64url of a CBOR map with byte-string keys
//   v (2), t (issue time, Unix seconds), ttl (minutes), res / pat (resources and patterns:
//   chan, grp, uuid, spc, usr -> { name: permission bits }), meta, uuid (authorized uuid),
//   sig (HMAC-SHA256 over the rest).
import { createHmac } from 'node:crypto';

// ------------------------------------------------------------------ minimal CBOR encoder

function head(major, n) {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) { const b = Buffer.alloc(3); b[0] = (major << 5) | 25; b.writeUInt16BE(n, 1); return b; }
  if (n < 0x100000000) { const b = Buffer.alloc(5); b[0] = (major << 5) | 26; b.writeUInt32BE(n, 1); return b; }
  const b = Buffer.alloc(9); b[0] = (major << 5) | 27; b.writeBigUInt64BE(BigInt(n), 1); return b;
}

/** Byte string (major type 2): PubNub encodes map keys and names this way. */
export class Bytes {
  constructor(value) { this.buf = Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8'); }
}

export function cbor(value) {
  if (value instanceof Bytes) return Buffer.concat([head(2, value.buf.length), value.buf]);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (Number.isInteger(value) && value >= 0) return head(0, value);
  if (typeof value === 'string') { const b = Buffer.from(value, 'utf8'); return Buffer.concat([head(3, b.length), b]); }
  if (value instanceof Map) {
    const parts = [head(5, value.size)];
    for (const [k, v] of value) parts.push(cbor(k), cbor(v));
    return Buffer.concat(parts);
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    const parts = [head(5, entries.length)];
    for (const [k, v] of entries) parts.push(cbor(new Bytes(k)), cbor(v));
    return Buffer.concat(parts);
  }
  throw new TypeError(`cannot CBOR-encode ${typeof value}`);
}

// ------------------------------------------------------------------ tokens

const PERM = { read: 1, write: 2, manage: 4, delete: 8, create: 16, get: 32, update: 64, join: 128 };

// Field and category names are byte strings; resource names, `uuid` and `meta` are text
// (that is how PubNub's own tokens are laid out).
const B = (k) => new Bytes(k);
function resources(names = {}) {
  const m = new Map();
  for (const cat of ['chan', 'grp', 'uuid', 'spc', 'usr']) m.set(B(cat), new Map(Object.entries(names[cat] ?? {})));
  return m;
}

/**
 * A signed v3 token.
 * @param {{ secret: string, t: number, ttl: number, uuid: string, channels?: string[], meta?: object }} o
 *   t: issue time (Unix seconds), ttl: minutes, meta: text keys and string values
 */
export function grantToken({ secret, t, ttl, uuid, channels = [], meta = {} }) {
  const chan = {};
  for (const c of channels) {
    chan[c] = PERM.read | PERM.write;
    chan[`${c}-pnpres`] = PERM.read;
  }
  const body = new Map([
    [B('v'), 2], [B('t'), t], [B('ttl'), ttl],
    [B('res'), resources({ chan })], [B('pat'), resources()],
    [B('meta'), new Map(Object.entries(meta))], [B('uuid'), uuid],
  ]);
  const sig = createHmac('sha256', secret).update(cbor(body)).digest();
  body.set(B('sig'), sig);
  return cbor(body).toString('base64url');
}
