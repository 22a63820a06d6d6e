// A PubNub token's fields as JS values: the `claims` of `decodeToken` for a PubNub token.
// Read here, not in the wasm, once the wasm has accepted the token (src/token.rs checked its
// CBOR map whole: definite lengths within the input, nesting at most 64 deep, text strings
// UTF-8, no reserved or indefinite items, nothing after the map), so nothing is checked
// again. The browser's own decoders do the work (atob, TextDecoder, DataView, BigInt), which
// ships in fewer bytes than the same walk in wasm (1.6 KB of its gzip, measured).
//
// The values are those JSON.parse makes of the text the Rust build writes for the same
// token (`claims_json`, src/cbor/json_text.rs; tests/browser/decode-native.test.mjs checks
// both on a corpus): integers as numbers (beyond 2^53 rounded once, as JSON.parse rounds
// the decimal text); an integer key as its decimal text; byte strings as their text when it
// is UTF-8, else unpadded base64url (the top-level `sig` always base64url); `undefined`
// and non-finite floats as null; -0 as 0; a map key `__proto__` as an own property.

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** An IEEE 754 half-precision float. */
function half(h) {
  const e = (h >> 10) & 31;
  const f = h & 1023;
  const m = e === 0 ? f * 2 ** -24 : e === 31 ? (f ? NaN : Infinity) : (1024 + f) * 2 ** (e - 25);
  return h & 0x8000 ? -m : m;
}

/**
 * The fields of a PubNub token the wasm accepted.
 * @param {string} token base64url (padded or not; `+` and `/` accepted too)
 * @returns {Record<string, unknown>}
 */
export function pubnubFields(token) {
  const bytes = Uint8Array.from(atob(token.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  let at = 0;
  // The next head, tags skipped: [major type, additional info, argument (a BigInt when 8 bytes)].
  const head = () => {
    for (;;) {
      const b = bytes[at++];
      const info = b & 31;
      const n = info < 24 ? info
        : info === 24 ? bytes[at] : info === 25 ? view.getUint16(at) : info === 26 ? view.getUint32(at) : view.getBigUint64(at);
      if (info > 23) at += 1 << (info - 24);
      if (b >> 5 !== 6) return [b >> 5, info, n];
    }
  };
  const string = (n) => bytes.subarray(at, (at += Number(n)));
  const text = (b, asText) => {
    if (asText) try { return utf8.decode(b); } catch { /* not UTF-8: base64url */ }
    return base64url(b);
  };
  // A map key: [its text, whether its bytes are exactly `sig`].
  const key = () => {
    const [major, , n] = head();
    if (major < 2) return [String(major ? -1n - BigInt(n) : n), false];
    const b = string(n);
    return [text(b, true), b.length === 3 && b[0] === 115 && b[1] === 105 && b[2] === 103];
  };
  const map = (n, top) => Object.fromEntries(Array.from({ length: Number(n) }, () => {
    const [k, sig] = key();
    return [k, item(!(top && sig))];
  }));
  const item = (asText, top) => {
    const [major, info, n] = head();
    switch (major) {
      case 0: return Number(n);
      case 1: return Number(-1n - BigInt(n));
      case 2: return text(string(n), asText);
      case 3: return utf8.decode(string(n));
      case 4: return Array.from({ length: Number(n) }, () => item(true));
      case 5: return map(n, top);
      default: {
        if (info < 22) return info === 21;
        const x = info < 25 ? NaN : info === 25 ? half(n) : info === 26 ? view.getFloat32(at - 4) : view.getFloat64(at - 8);
        return Number.isFinite(x) ? x + 0 : null; // x + 0: -0 is 0, as in the JSON text
      }
    }
  };
  return item(true, true);
}
