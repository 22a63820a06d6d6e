// DPoP (RFC 9449) support for the OAuth 2 browser tests (tests/browser/oidc-dpop.test.mjs):
// a resource API that takes only DPoP-bound access tokens of the provider
// (tests/support/oidc-provider.mjs, startProvider({ dpop })) with a valid proof, and a few
// helpers to read proofs and the page's IndexedDB.
//
//   const api = await startDpopResourceApi({ provider, appOrigin });
//   api.url + '/data'   GET or POST
//   api.requests        each { t, method, path, scheme, token, proof, header, payload, jkt, ok, status, error, reason,
//                       nonce (the proof's), nonceOut (the answer's DPoP-Nonce) }
//   api.requireNonce = true;  api.challengeAlways = true;  api.rotateNonce();  api.nonce;  api.refuseToken(token);
//   api.nonceChallenges()  the 401 use_dpop_nonce answers;  await api.close();
//
// What the API checks, in this order (RFC 9449 §4.3, §7.1), answering 401 with
// `WWW-Authenticate: DPoP error="...", error_description="..."` on the first failure:
//   1. `Authorization: DPoP <token>` (a Bearer scheme, or none: invalid_token) and exactly one
//      `DPoP` header (invalid_dpop_proof otherwise);
//   2. the proof: a JWS with typ dpop+jwt, alg ES256, a public `jwk` header (no private
//      part) whose key verifies the signature (jose EmbeddedJWK); htm = the request's method;
//      htu = this API's URL of the path, compared without query and fragment; iat within
//      IAT_WINDOW_S of now; jti a string never seen before by this API (any proof whose
//      signature verified spends its jti); ath = base64url(SHA-256(token)) (invalid_dpop_proof);
//   3. with requireNonce: the proof's nonce is the API's current one (or the one before a
//      rotation); otherwise 401 `WWW-Authenticate: DPoP error="use_dpop_nonce"` with a
//      `DPoP-Nonce` header (its current nonce);
//   4. the access token: a JWT of the provider (JWKS, typ at+jwt, iss, aud RESOURCE, exp with
//      LEEWAY_S) whose cnf.jkt is the proof jwk's RFC 7638 thumbprint (invalid_token); a token
//      given to refuseToken() is refused once as invalid_token (as if the API had revoked it).
// While requireNonce is on, every answer carries `DPoP-Nonce` (the current nonce). CORS for
// appOrigin: Authorization, DPoP and Content-Type may be sent, DPoP-Nonce and
// WWW-Authenticate are exposed.
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import express from 'express';
import { createLocalJWKSet, jwtVerify, EmbeddedJWK, calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from 'jose';
import { RESOURCE, LEEWAY_S } from './oidc-provider.mjs';

/** How far a proof's iat may be from the API's clock, seconds. */
export const IAT_WINDOW_S = 60;

/** base64url(SHA-256(value)): a proof's `ath` for an access token. */
export const ath = (value) => createHash('sha256').update(value).digest('base64url');

/** A proof's header and payload, undecoded fields as they are (null for a missing proof). */
export function readProof(proof) {
  if (typeof proof !== 'string') return null;
  return { header: decodeProtectedHeader(proof), payload: decodeJwt(proof) };
}

/** RFC 7638 thumbprint of a proof's jwk. */
export const jktOf = async (proof) => calculateJwkThumbprint(readProof(proof).header.jwk);

/** The cnf.jkt of a JWT access token (undefined if none). */
export const cnfJkt = (token) => decodeJwt(token).cnf?.jkt;

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

export async function startDpopResourceApi({ provider, appOrigin }) {
  const keys = createLocalJWKSet(provider.jwks);
  const requests = [];
  const seenJti = new Set();
  const refused = new Set();
  let nonce = randomBytes(16).toString('base64url');
  let previousNonce = null;
  let url;
  const state = { requireNonce: false, challengeAlways: false };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use((req, res, next) => {
    if (req.get('origin') === appOrigin) {
      res.set('access-control-allow-origin', appOrigin);
      res.set('access-control-expose-headers', 'DPoP-Nonce, WWW-Authenticate');
      res.set('vary', 'origin');
    }
    if (req.method === 'OPTIONS') {
      res.set('access-control-allow-headers', 'authorization, dpop, content-type');
      res.set('access-control-allow-methods', 'GET, POST');
      res.set('access-control-max-age', '600');
      return res.status(204).end();
    }
    next();
  });

  async function check(req) {
    const entry = { t: Date.now(), method: req.method, path: req.path, originalUrl: req.originalUrl,
      scheme: null, token: null, proof: null, header: null, payload: null, jkt: null, nonce: null };
    const fail = (status, error, reason, extra = {}) => Object.assign(entry, { ok: false, status, error, reason, ...extra });
    const authz = req.get('authorization') ?? '';
    const m = /^(\S+) (.+)$/.exec(authz);
    if (m) { entry.scheme = m[1]; entry.token = m[2]; }
    const proofs = req.headers.dpop === undefined ? [] : String(req.headers.dpop).split(',').map((s) => s.trim());
    entry.proof = proofs.length === 1 ? proofs[0] : null;
    try { if (entry.proof) Object.assign(entry, readProof(entry.proof)); } catch { /* undecodable: checked below */ }
    entry.nonce = entry.payload?.nonce ?? null;
    if (!entry.token) return fail(401, 'invalid_token', 'no Authorization header');
    if (entry.scheme !== 'DPoP') return fail(401, 'invalid_token', `Authorization scheme ${entry.scheme}, not DPoP`);
    if (proofs.length !== 1) return fail(401, 'invalid_dpop_proof', `${proofs.length} DPoP headers`);

    // 2. the proof
    let header;
    let payload;
    try {
      ({ protectedHeader: header, payload } = await jwtVerify(entry.proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] }));
    } catch (e) {
      return fail(401, 'invalid_dpop_proof', `proof signature/header: ${e.code ?? e.message}`);
    }
    if (header.jwk.d !== undefined) return fail(401, 'invalid_dpop_proof', 'the proof jwk holds a private key');
    if (typeof payload.jti !== 'string' || !payload.jti) return fail(401, 'invalid_dpop_proof', 'no jti');
    const replay = seenJti.has(payload.jti);
    seenJti.add(payload.jti);
    if (payload.htm !== req.method) return fail(401, 'invalid_dpop_proof', `htm ${payload.htm}, request ${req.method}`);
    const expectedHtu = `${url}${req.path}`;
    if (typeof payload.htu !== 'string' || payload.htu !== expectedHtu) {
      return fail(401, 'invalid_dpop_proof', `htu ${JSON.stringify(payload.htu)}, expected ${expectedHtu} (no query, no fragment)`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > IAT_WINDOW_S) {
      return fail(401, 'invalid_dpop_proof', `iat ${payload.iat} not within ${IAT_WINDOW_S} s of ${now}`);
    }
    if (replay) return fail(401, 'invalid_dpop_proof', `jti ${payload.jti} reused`);
    if (payload.ath !== ath(entry.token)) return fail(401, 'invalid_dpop_proof', `ath ${payload.ath}, expected SHA-256 of the token ${ath(entry.token)}`);
    entry.jkt = await calculateJwkThumbprint(header.jwk);

    // 3. the nonce (challengeAlways: a new nonce for every request, so no retry ever passes)
    if (state.challengeAlways) {
      nonce = randomBytes(16).toString('base64url');
      previousNonce = null;
      return fail(401, 'use_dpop_nonce', 'challengeAlways', { challenge: true });
    }
    if (state.requireNonce && !(payload.nonce && (payload.nonce === nonce || payload.nonce === previousNonce))) {
      return fail(401, 'use_dpop_nonce', payload.nonce ? 'stale nonce' : 'nonce required', { challenge: true });
    }

    // 4. the token, bound to the proof's key
    let claims;
    try {
      ({ payload: claims } = await jwtVerify(entry.token, keys, {
        issuer: provider.issuer, audience: RESOURCE, typ: 'at+jwt', algorithms: ['ES256'], clockTolerance: LEEWAY_S,
      }));
    } catch (e) {
      return fail(401, 'invalid_token', e.code ?? String(e));
    }
    if (claims.cnf?.jkt === undefined) return fail(401, 'invalid_token', 'the access token has no cnf.jkt (not DPoP-bound)');
    if (claims.cnf.jkt !== entry.jkt) return fail(401, 'invalid_token', `cnf.jkt ${claims.cnf.jkt} is not the proof key's thumbprint ${entry.jkt}`);
    if (refused.delete(entry.token)) return fail(401, 'invalid_token', 'refused by the API (refuseToken)');
    return Object.assign(entry, { ok: true, status: 200, error: null, reason: null, sub: claims.sub });
  }

  const handle = async (req, res) => {
    const entry = await check(req);
    entry.nonceOut = state.requireNonce ? nonce : null;
    requests.push(entry);
    if (entry.nonceOut) res.set('dpop-nonce', entry.nonceOut);
    if (!entry.ok) {
      res.set('www-authenticate', `DPoP error="${entry.error}", error_description="${entry.reason.replace(/["\\]/g, "'")}", algs="ES256"`);
      return res.status(401).json({ error: entry.error, error_description: entry.reason });
    }
    res.json({ ok: true, sub: entry.sub, method: req.method });
  };
  app.get('/data', handle);
  app.post('/data', express.json(), handle);

  const server = createServer(app);
  url = await listen(server);
  let closed;
  const api = {
    url,
    requests,
    get requireNonce() { return state.requireNonce; },
    set requireNonce(v) { state.requireNonce = !!v; },
    /** Every request answered 401 use_dpop_nonce with a new nonce (implies requireNonce). */
    get challengeAlways() { return state.challengeAlways; },
    set challengeAlways(v) { state.challengeAlways = !!v; if (v) state.requireNonce = true; },
    get nonce() { return nonce; },
    /** A new nonce; the one before stays valid until the next rotation, no older one. */
    rotateNonce() {
      nonce = randomBytes(16).toString('base64url');
      previousNonce = null;
      return nonce;
    },
    /** The next request with this token is refused (401 invalid_token), as if revoked. */
    refuseToken(token) { refused.add(token); },
    nonceChallenges: () => requests.filter((q) => q.error === 'use_dpop_nonce'),
    close() {
      closed ??= new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); });
      return closed;
    },
  };
  return api;
}

/**
 * Opens another page in `tab`'s browser context (same IndexedDB, storage, Web Locks,
 * BroadcastChannel: a second tab of the app), console collected like browser.open's.
 */
export async function openSiblingTab(tab, url, { readyTimeoutMs = 15000 } = {}) {
  const page = await tab.page.context().newPage();
  const logs = [];
  const errors = [];
  page.on('console', (msg) => {
    const entry = { type: msg.type(), text: msg.text() };
    logs.push(entry);
    process.stderr.write(`[tab 2 console.${entry.type}] ${entry.text}\n`);
  });
  page.on('pageerror', (err) => {
    errors.push(String(err && err.stack || err));
    process.stderr.write(`[tab 2 error] ${err && err.stack || err}\n`);
  });
  await page.goto(url);
  await page.waitForFunction(() => window.ready === true || typeof window.initError === 'string', null, { timeout: readyTimeoutMs });
  const initError = await page.evaluate(() => window.initError);
  if (initError) throw new Error(`the test page failed to load freshtoken: ${initError}`);
  return { page, console: logs, errors, close: () => page.close() };
}

/**
 * What the page's IndexedDB holds for `key` in database 'freshtoken', object store 'dpop':
 * { db: exists?, store: exists?, found, keys: [every CryptoKey in the entry (depth 2):
 * { type, extractable, algorithm, usages }] }. A database that does not exist is not created.
 */
export function readDpopEntry(page, key) {
  return page.evaluate(async (key) => {
    const dbs = await indexedDB.databases();
    if (!dbs.some((d) => d.name === 'freshtoken')) return { db: false, store: false, found: false, keys: [] };
    const db = await new Promise((resolve, reject) => {
      const req = indexedDB.open('freshtoken');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      // No upgrade: the database exists, so opening it without a version takes its own.
    });
    try {
      if (!db.objectStoreNames.contains('dpop')) return { db: true, store: false, found: false, keys: [] };
      const value = await new Promise((resolve, reject) => {
        const req = db.transaction('dpop', 'readonly').objectStore('dpop').get(key);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const keys = [];
      const walk = (v, depth) => {
        if (v instanceof CryptoKey) {
          keys.push({ type: v.type, extractable: v.extractable, algorithm: { ...v.algorithm }, usages: [...v.usages] });
        } else if (v && typeof v === 'object' && depth < 2) {
          for (const x of Object.values(v)) walk(x, depth + 1);
        }
      };
      walk(value, 0);
      return { db: true, store: true, found: value !== undefined, keys };
    } finally {
      db.close();
    }
  }, key);
}
