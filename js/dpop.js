// DPoP (RFC 9449) for the npm face: the key and the signature, nothing else. What a proof
// states (its claims, the nonce, `iat` on the server's clock) and when an answer asks for a
// nonce retry are the engine's (src/engine/dpop.rs).
//
// The key: an ECDSA P-256 pair made by WebCrypto with a non-extractable private key, kept in
// IndexedDB (database 'freshtoken', store 'dpop', under the storageKey), so a reload keeps
// the binding and crossTab tabs share one key (made under a Web Lock, so two tabs opening at
// once do not make two). `drop()` (logout) deletes it; the next proof makes a new one.

const enc = new TextEncoder();
const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const b64text = (s) => b64(enc.encode(s));

/** Runs `f(store)` in a transaction on the key store; resolves with its request's result. */
function idb(mode, f) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('freshtoken', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('dpop');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction('dpop', mode);
      const req = f(tx.objectStore('dpop'));
      tx.oncomplete = () => { db.close(); resolve(req.result); };
      tx.onerror = tx.onabort = () => { db.close(); reject(tx.error); };
    };
  });
}

/** base64url SHA-256 of an access token: a proof's `ath`. */
export async function ath(token) {
  return b64(await crypto.subtle.digest('SHA-256', enc.encode(token)));
}

/** The DPoP key of `storageKey`: `load()` → { privateKey, jwk (JSON text) }, `sign(header, claims)`, `drop()`. */
export function dpopKey(storageKey) {
  let key = null;
  const make = async () => {
    let k = await idb('readonly', (s) => s.get(storageKey));
    if (!k) {
      const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
      const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
      k = { privateKey: pair.privateKey, jwk: JSON.stringify({ crv, kty, x, y }) };
      await idb('readwrite', (s) => s.put(k, storageKey));
    }
    return k;
  };
  const load = () => {
    key ??= (globalThis.navigator?.locks?.request ? navigator.locks.request(`freshtoken:${storageKey}:dpop`, make) : make())
      .catch((err) => { key = null; throw err; });
    return key;
  };
  return {
    load,
    /** A compact JWS of `header` and `claims` (JSON texts) signed with the private key. */
    async sign(k, header, claims) {
      const input = `${b64text(header)}.${b64text(claims)}`;
      const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, k.privateKey, enc.encode(input));
      return `${input}.${b64(sig)}`;
    },
    async drop() {
      key = null;
      await idb('readwrite', (s) => s.delete(storageKey)).catch(() => {});
    },
  };
}
