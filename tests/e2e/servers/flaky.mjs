// A fault-injecting auth + API server (node http only) for tests/e2e/flaky.test.mjs.
//   POST /auth/login    -> { accessToken, refreshToken, expiresIn }        (never faulty)
//   POST /auth/refresh  { refreshToken } -> { accessToken, refreshToken, expiresIn }
//        rotates refresh tokens and answers 401 to a reused one; faults drawn at random:
//        5xx, 429 + Retry-After, a hang past the client's deadline, a dropped connection,
//        a slow answer, malformed JSON, an HTML error page
//   GET  /api/data      Bearer <jwt> -> 200 | 401; faults: 5xx, slow, dropped connection
//   GET  /e2e.html, /js/**, /pkg/**  the test page and the package
//
// Faults come from two seeded PRNGs (one for refresh calls, one for API calls), so a seed
// replays the same fault sequence per endpoint. Every response says `Connection: close`:
// Chromium silently resends a request whose *reused* keep-alive socket is dropped before
// any answer, which would hide a dropped connection from the page.
//
//   const srv = await startFlakyServer({ seed: 42, lifetime: 5 });
//   srv.url; srv.stats; srv.log (one entry per refresh / API call); await srv.close();
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { extname, join, normalize, sep } from 'node:path';
import { signJwt, verifyJwt } from '../../support/jwt.mjs';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const PAGE = fileURLToPath(new URL('../support/e2e.html', import.meta.url));
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

/** mulberry32: a small seeded PRNG giving floats in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks a key of `weights` ({ name: weight }) with `rand()`; the weights need not sum to 1. */
function pick(rand, weights) {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  let x = rand() * total;
  for (const [k, w] of Object.entries(weights)) {
    x -= w;
    if (x < 0) return k;
  }
  return Object.keys(weights).at(-1);
}

/** Default fault mixes: weights per call (`ok` is no fault). */
export const REFRESH_FAULTS = { ok: 55, '5xx': 10, 429: 6, hang: 6, drop: 7, slow: 8, malformed: 4, html: 4 };
export const API_FAULTS = { ok: 82, '5xx': 7, slow: 6, drop: 5 };

/**
 * The opening of the refresh endpoint's fault sequence, drawn from `rand` (so a seed replays
 * it): every fault kind of REFRESH_FAULTS once, in a seeded order, each failure followed by a
 * good answer, except two failures in a row (the backoff must grow past its first step). A
 * short run thus meets every kind, which the weighted draw alone does not promise; the draw
 * takes over after the opening. 13 calls, about 25 s with 2.5 s tokens.
 */
export function refreshOpening(rand) {
  const shuffle = (xs) => {
    for (let i = xs.length - 1; i > 0; i -= 1) {
      const j = Math.floor(rand() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  };
  const failing = shuffle(Object.keys(REFRESH_FAULTS).filter((k) => k !== 'ok' && k !== 'slow'));
  const units = shuffle([[failing[0], failing[1], 'ok'], ...failing.slice(2).map((k) => [k, 'ok']), ['slow']]);
  return units.flat();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function answer(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', connection: 'close' });
  res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

/**
 * @param {object} [o]
 * @param {number} [o.seed]         PRNG seed (default: random)
 * @param {number} [o.lifetime=5]   access-token lifetime, seconds
 * @param {number} [o.hangMs=10000] how long a hung refresh holds the connection at most
 * @param {number} [o.retryAfterS=2] the Retry-After of a 429
 * @param {[number, number]} [o.slowMs=[300, 1000]] the delay range of a slow answer
 * @param {boolean} [o.opening=false] start the refresh faults with refreshOpening()
 */
export async function startFlakyServer(o = {}) {
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 32);
  const lifetime = o.lifetime ?? 5;
  const hangMs = o.hangMs ?? 10_000;
  const retryAfterS = o.retryAfterS ?? 2;
  const [slowMin, slowMax] = o.slowMs ?? [300, 1000];
  const refreshRand = prng(seed);
  const apiRand = prng(seed ^ 0x9e3779b9);
  const opening = o.opening ? refreshOpening(refreshRand) : [];
  const secret = randomUUID();
  const refreshTokens = new Set();
  const issued = [];
  const log = []; // { kind: 'refresh' | 'api', fault, t, end?, closedAt?, status? }
  const stats = { refreshCalls: 0, refreshOk: 0, reuse: 0, apiCalls: 0, api200: 0, api401: 0, faults: {} };
  const count = (kind, fault) => { const k = `${kind}:${fault}`; stats.faults[k] = (stats.faults[k] ?? 0) + 1; };
  const slow = (rand) => slowMin + Math.floor(rand() * (slowMax - slowMin));

  function mint() {
    const iat = Date.now() / 1000; // a fractional NumericDate: the lifetime is exactly `lifetime`
    const accessToken = signJwt({ sub: 'flaky-user', iat, exp: iat + lifetime, jti: randomUUID() }, secret);
    const refreshToken = randomUUID();
    refreshTokens.add(refreshToken);
    issued.push(accessToken, refreshToken);
    return { accessToken, refreshToken, expiresIn: lifetime };
  }

  // A fault that needs no tokens: answers (or not) and returns true; 'ok' and 'slow' return false.
  async function injectCommon(fault, rand, req, res, entry) {
    if (fault === '5xx') {
      const status = [500, 502, 503, 504][Math.floor(rand() * 4)];
      entry.status = status;
      answer(res, status, { error: `injected ${status}` });
      return true;
    }
    if (fault === 'drop') {
      req.socket.destroy();
      return true;
    }
    if (fault === 'slow') await sleep(slow(rand));
    return false;
  }

  async function refresh(req, res, body, entry) {
    stats.refreshCalls += 1;
    const fault = stats.refreshCalls <= opening.length ? opening[stats.refreshCalls - 1] : pick(refreshRand, REFRESH_FAULTS);
    entry.fault = fault;
    count('refresh', fault);
    if (await injectCommon(fault, refreshRand, req, res, entry)) return;
    if (fault === '429') {
      entry.status = 429;
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(retryAfterS), connection: 'close' });
      res.end('{"error":"slow down"}');
      return;
    }
    if (fault === 'hang') {
      // Never answer; give up only long after any sane client deadline.
      setTimeout(() => req.socket.destroy(), hangMs).unref();
      return;
    }
    if (fault === 'malformed') { entry.status = 200; answer(res, 200, '{"accessToken": "eyJ'); return; }
    if (fault === 'html') {
      entry.status = 502;
      answer(res, 502, '<!doctype html><html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>', 'text/html');
      return;
    }
    let given = null;
    try { given = JSON.parse(body).refreshToken; } catch { /* not JSON: no token */ }
    if (typeof given !== 'string' || !refreshTokens.has(given)) {
      stats.reuse += 1;
      entry.status = 401;
      answer(res, 401, { error: 'Invalid refresh token' });
      return;
    }
    // Rotate only if the answer can still be delivered: a client that gave up (deadline)
    // keeps its refresh token, as with a server whose rotation commits with the response.
    if (req.socket.destroyed) { entry.status = 'client-gone'; return; }
    refreshTokens.delete(given);
    stats.refreshOk += 1;
    entry.status = 200;
    answer(res, 200, mint());
  }

  async function api(req, res, entry) {
    stats.apiCalls += 1;
    const fault = pick(apiRand, API_FAULTS);
    entry.fault = fault;
    count('api', fault);
    if (await injectCommon(fault, apiRand, req, res, entry)) return;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m || verifyJwt(m[1], secret).error) {
      stats.api401 += 1;
      entry.status = 401;
      answer(res, 401, { error: 'invalid_token' });
      return;
    }
    stats.api200 += 1;
    entry.status = 200;
    answer(res, 200, { ok: true, at: Date.now() });
  }

  async function serveFile(res, path) {
    const file = path === '/e2e.html' ? PAGE : normalize(join(REPO, decodeURIComponent(path)));
    const inside = file === PAGE || [join(REPO, 'js') + sep, join(REPO, 'pkg') + sep].some((d) => file.startsWith(d));
    try {
      if (!inside) throw new Error('outside');
      const data = await readFile(file);
      answer(res, 200, data, TYPES[extname(file)] ?? 'application/octet-stream');
    } catch {
      answer(res, 404, 'not found', 'text/plain');
    }
  }

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = new URL(req.url, 'http://x').pathname;
      const route = `${req.method} ${path}`;
      const entry = { kind: null, fault: null, t: Date.now(), status: null, closedAt: null };
      // When the client (or a drop) closes the connection before an answer was sent.
      res.on('close', () => { if (!res.writableFinished) entry.closedAt = Date.now(); });
      try {
        if (route === 'POST /auth/login') return answer(res, 200, mint());
        if (route === 'POST /auth/refresh') { entry.kind = 'refresh'; log.push(entry); return await refresh(req, res, body, entry); }
        if (route === 'GET /api/data') { entry.kind = 'api'; log.push(entry); return await api(req, res, entry); }
        if (req.method === 'GET') return await serveFile(res, path);
        answer(res, 404, { error: `no route ${route}` });
      } catch (e) {
        if (!res.headersSent) answer(res, 500, { error: String(e) });
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    seed,
    stats,
    /** The opening's fault kinds, in order (empty without `opening`). */
    opening,
    log,
    /** Every token handed out (for leak checks). */
    issued,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

// Run by hand: `node tests/e2e/servers/flaky.mjs [seed]` prints the URL and serves until killed.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const srv = await startFlakyServer({ seed: process.argv[2] === undefined ? undefined : Number(process.argv[2]) });
  process.stdout.write(`flaky server: ${srv.url}/e2e.html (seed ${srv.seed})\n`);
}
