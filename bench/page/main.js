// Runs in the bench page (bundled by esbuild into bench/out/js/page.js; the wasm in bench/out/pkg/).
// Each export is one measurement; bench/run.mjs calls them through page.evaluate and
// does the statistics. Times are performance.now() in a cross-origin-isolated page
// (5 us resolution). No token is ever logged or returned.
import init, { createRefresher, decodeToken } from '../../js/index.js';
import { initSync } from '../../pkg/freshtoken.js';
import { jwtDecode } from 'jwt-decode';
import axios from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';

const ECHO = '/api/echo';
const nativeFetch = globalThis.fetch;
let wasmExports = null;

export async function setup() {
  await init();
  // After init(), the glue's initSync returns the instance's exports (its memory included).
  wasmExports = initSync();
}

/** The wasm linear memory's size in bytes. */
export const wasmMemoryBytes = () => wasmExports.memory.buffer.byteLength;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function getJson(path, init) {
  const res = await nativeFetch(path, init);
  return res.json();
}
const mint = (life = 3600) => getJson(`/bench/mint?life=${life}`);
const expiredSession = () => getJson('/bench/expired');
const restoredSession = () => getJson('/bench/restored');
const counters = () => getJson('/bench/counters');
const reset = () => getJson('/bench/reset', { method: 'POST' });

// --- P2: per-request overhead -----------------------------------------------------------

/** A random permutation (Fisher-Yates). */
function shuffled(list) {
  const a = [...list];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** The anchor: an axios instance with axios-auth-refresh, set up as its README shows. */
function axiosWithAuthRefresh(accessToken, refreshToken) {
  let token = accessToken;
  const api = axios.create();
  api.interceptors.request.use((config) => {
    config.headers.Authorization = `Bearer ${token}`;
    return config;
  });
  createAuthRefresh(api, (failed) => axios.post('/auth/refresh', { refreshToken }).then((res) => {
    token = res.data.accessToken;
    failed.response.config.headers.Authorization = `Bearer ${token}`;
  }));
  return api;
}

/** The four ways to send an authorized GET, each resolving once the body is read. */
async function requestMethods() {
  const { accessToken, refreshToken } = await mint();
  const header = { authorization: `Bearer ${accessToken}` };
  const refresher = await createRefresher({ tokens: { accessToken, refreshToken }, endpoint: { url: '/auth/refresh' } });
  const target = { fetch: nativeFetch };
  refresher.installFetchInterceptor(target);

  const api = axiosWithAuthRefresh(accessToken, refreshToken);
  const native = () => nativeFetch(ECHO, { headers: header }).then((r) => r.text());
  const methods = {
    native,
    // The same native call again: its "overhead" is the measurement's own noise (A/A).
    'native again (A/A)': () => native(),
    'refresher.fetch': () => refresher.fetch(ECHO).then((r) => r.text()),
    interceptor: () => target.fetch(ECHO).then((r) => r.text()),
    'axios+auth-refresh': () => api.get(ECHO).then((r) => r.data),
  };
  return { methods, dispose: () => refresher.dispose() };
}

/**
 * Rounds of `seq` sequential requests and `batches` x `conc` concurrent ones per method.
 * Sequential requests alternate between the methods one request at a time, in a fresh
 * random order each time, so neither drift in the machine's load nor the request that
 * went just before favours any method.
 * Returns per-round medians in ms per request.
 */
export async function p2({ rounds, seq, conc, batches, warmup, offset = 0 }) {
  const { methods, dispose } = await requestMethods();
  const names = Object.keys(methods);
  for (const name of names) for (let i = 0; i < warmup; i++) await methods[name]();
  const out = { sequential: [], concurrent: [] };
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round + offset) % names.length]);
    const times = Object.fromEntries(names.map((name) => [name, []]));
    for (let i = 0; i < seq; i++) {
      for (const name of shuffled(names)) {
        const t0 = performance.now();
        await methods[name]();
        times[name].push(performance.now() - t0);
      }
    }
    const seqRow = Object.fromEntries(names.map((name) => [name, median(times[name])]));
    const concRow = {};
    for (const name of order) {
      const f = methods[name];
      const per = [];
      for (let b = 0; b < batches; b++) {
        const t0 = performance.now();
        await Promise.all(Array.from({ length: conc }, f));
        per.push((performance.now() - t0) / conc);
      }
      concRow[name] = median(per);
    }
    out.sequential.push(seqRow);
    out.concurrent.push(concRow);
  }
  dispose();
  return out;
}

/** The calls of p2stub and p2cold, over a stub fetch that answers at once. */
async function stubMethods() {
  const { accessToken, refreshToken } = await mint();
  const header = { authorization: `Bearer ${accessToken}` };
  const stub = () => Promise.resolve(new Response('{"ok":true}'));
  const refresher = await createRefresher({ tokens: { accessToken, refreshToken }, endpoint: { url: '/auth/refresh' }, fetch: stub });
  const target = { fetch: stub };
  refresher.installFetchInterceptor(target);
  const methods = {
    native: () => stub(ECHO, { headers: header }).then((r) => r.text()),
    'refresher.fetch': () => refresher.fetch(ECHO).then((r) => r.text()),
    interceptor: () => target.fetch(ECHO).then((r) => r.text()),
  };
  return { methods, dispose: () => refresher.dispose() };
}

/**
 * The SDK's own cost per request, without the network's jitter: the same calls over a
 * stub fetch that answers at once. Per round, us per request for each method.
 */
export async function p2stub({ rounds, iters, offset = 0 }) {
  const { methods, dispose } = await stubMethods();
  const names = Object.keys(methods);
  const rows = [];
  for (let round = -1; round < rounds; round++) { // round -1 warms the JITs up, discarded
    const row = {};
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round + 1 + offset) % names.length];
      const f = methods[name];
      const t0 = performance.now();
      for (let k = 0; k < iters; k++) await f();
      row[name] = ((performance.now() - t0) * 1000) / iters;
    }
    if (round >= 0) rows.push(row);
  }
  dispose();
  return rows;
}

/**
 * The same calls with the page idle for `gap` ms before each one, as it is between real
 * requests: the caches and the branch predictors have gone cold by then, which a loop of
 * back-to-back calls never shows. Per round, the median us per call of each method (the
 * methods in a fresh random order each time).
 */
export async function p2cold({ rounds, n, gap }) {
  const { methods, dispose } = await stubMethods();
  const names = Object.keys(methods);
  for (const name of names) for (let i = 0; i < 20; i++) await methods[name]();
  const idle = () => new Promise((resolve) => setTimeout(resolve, gap));
  const rows = [];
  for (let round = 0; round < rounds; round++) {
    const times = Object.fromEntries(names.map((name) => [name, []]));
    for (let i = 0; i < n; i++) {
      for (const name of shuffled(names)) {
        await idle();
        const t0 = performance.now();
        await methods[name]();
        times[name].push(performance.now() - t0);
      }
    }
    rows.push(Object.fromEntries(names.map((name) => [name, median(times[name]) * 1000])));
  }
  dispose();
  return rows;
}

// --- P3: decodeToken vs jwt-decode -----------------------------------------------------

const b64url = (s) => btoa(String.fromCharCode(...new TextEncoder().encode(s)))
  .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
const SIG = 'c2lnbmF0dXJlLW5vdC1jaGVja2VkLWJ5LWRlY29kZXJzLWp1c3QtYnl0ZXMtMzJi';

function jwt(payload) {
  return `${HEADER}.${b64url(JSON.stringify(payload))}.${SIG}`;
}

// Three payload shapes, as apps meet them:
//   minimal  `sub`, `iat`, `exp` only;
//   short    a typical session's nine claims; every other token's `name` is non-ASCII;
//   long     the short claims plus a `permissions` list, ~4 KB of payload.
// Each shape comes as 8 distinct tokens (cycled) and as 1,000 distinct tokens, so that the
// figures do not rest on a handful of strings decoded over and over.
export const P3_SHAPES = ['minimal', 'short', 'long'];
export const P3_COUNTS = [8, 1000];

function payload(shape, i, now) {
  if (shape === 'minimal') return { sub: `user-${1000 + i}`, iat: now, exp: now + 3600 + i };
  const base = {
    sub: `user-${1000 + i}`, name: i % 2 ? 'Zoë Müller' : 'Ada Lovelace', email: `user${i}@example.com`,
    iss: 'https://auth.example.com/', aud: 'api://default', iat: now, exp: now + 3600 + i, jti: `jti-${i}-${now}`,
    roles: ['reader', 'writer'],
  };
  if (shape === 'short') return base;
  // Scopes appended until the payload's JSON reaches 4,096 characters (lengths summed,
  // not re-serialised: 1,000 of these are made per pass).
  const permissions = [];
  let length = JSON.stringify({ ...base, permissions }).length;
  while (length < 4096) {
    const scope = `scope:resource-${permissions.length}:read-write`;
    length += JSON.stringify(scope).length + (permissions.length ? 1 : 0);
    permissions.push(scope);
  }
  return { ...base, permissions };
}

/** Every shape x count: { key, shape, count, tokens, payloadBytes (median), claims }. */
export function tokenSets() {
  const now = Math.floor(Date.now() / 1000);
  const sets = [];
  for (const shape of P3_SHAPES) {
    for (const count of P3_COUNTS) {
      // The sets share no token: the 1,000 start where the 8 end.
      const first = sets.filter((s) => s.shape === shape).reduce((n, s) => n + s.count, 0);
      const payloads = Array.from({ length: count }, (_, i) => payload(shape, first + i, now));
      const tokens = payloads.map(jwt);
      sets.push({
        key: `${shape}/${count}`, shape, count, tokens,
        payloadBytes: median(tokens.map((t) => t.split('.')[1].length * 3 / 4)),
        claims: Object.keys(payloads[0]).length,
      });
    }
  }
  // The decoder keeps the last header it checked (one issuer's tokens share one): the same
  // 1,000 minimal payloads, each under a header of its own (a `kid` each), time the decode
  // without that memo.
  const kid = Array.from({ length: 1000 }, (_, i) => payload('minimal', 2000 + i, now));
  const kidTokens = kid.map((p, i) => `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: `key-${i}` }))}.${b64url(JSON.stringify(p))}.${SIG}`);
  sets.push({
    key: 'minimal/1000/kid', shape: 'minimal', count: 1000, kids: true, tokens: kidTokens,
    payloadBytes: median(kidTokens.map((t) => t.split('.')[1].length * 3 / 4)), claims: 3,
  });
  if (new Set(sets.flatMap((s) => s.tokens)).size !== sets.reduce((n, s) => n + new Set(s.tokens).size, 0)) {
    throw new Error('a P3 token set repeats a token');
  }
  return sets;
}

/** Both decoders read the same claims: checked on every token before timing anything. */
function checkSame(tokens) {
  for (const t of tokens) {
    const a = JSON.stringify(decodeToken(t).claims);
    const b = JSON.stringify(jwtDecode(t));
    if (a !== b) throw new Error('decodeToken and jwtDecode disagree on a benchmark token');
  }
}

let sink = 0;
function timeDecoder(fn, tokens, iters) {
  const n = tokens.length;
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) sink += fn(tokens[i % n]);
  return ((performance.now() - t0) * 1000) / iters; // us per decode
}
// jwtDecode is the jwt-decode package itself (node_modules, bundled into the page by esbuild).
const DECODERS = {
  decodeToken: (t) => decodeToken(t).claims.exp,
  jwtDecode: (t) => jwtDecode(t).exp,
};

/**
 * Per round, us per decode for each decoder on each set (`iters[shape]` decodes cycling
 * through the set's tokens). Within a round the sets come in a rotated order and the two
 * decoders are timed back to back on each set, in alternating order, so a set's ratio is
 * taken at one moment. Round -1 warms the JITs up and is discarded.
 */
export function p3({ rounds, iters, offset = 0 }) {
  const sets = tokenSets();
  checkSame(sets.flatMap((s) => s.tokens));
  const rows = [];
  for (let round = -1; round < rounds; round++) {
    const row = {};
    for (let k = 0; k < sets.length; k++) {
      const j = (k + round + 1 + offset) % sets.length;
      const set = sets[j];
      // Each set's decoder order flips from one round to the next.
      const order = (round + 1 + offset + j) % 2 ? ['jwtDecode', 'decodeToken'] : ['decodeToken', 'jwtDecode'];
      row[set.key] = {};
      for (const name of order) row[set.key][name] = timeDecoder(DECODERS[name], set.tokens, iters[set.shape]);
    }
    if (round >= 0) rows.push(row);
  }
  const about = sets.map(({ key, shape, count, kids, payloadBytes, claims }) => ({ key, shape, count, kids, payloadBytes, claims }));
  return { rows, sets: about, sink: sink > 0 };
}

// --- P4: 1,000 concurrent requests with an expired token ---------------------------------

async function settle(n, f) {
  const t0 = performance.now();
  const results = await Promise.allSettled(Array.from({ length: n }, f));
  const ms = performance.now() - t0;
  let failed = 0;
  const statuses = {};
  for (const r of results) {
    const status = r.status === 'fulfilled' ? r.value : (r.reason && r.reason.response ? r.reason.response.status : 'error');
    if (status !== 200) failed += 1;
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  return { ms, failed, statuses };
}

/** n concurrent refresher.fetch calls from a refresher given `session()`'s tokens. */
async function viaRefresherFetch(n, session) {
  const tokens = await session();
  const r = await createRefresher({ tokens, endpoint: { url: '/auth/refresh' } });
  try {
    return await settle(n, () => r.fetch(ECHO).then(async (res) => { await res.text(); return res.status; }));
  } finally { r.dispose(); }
}

const P4_VARIANTS = {
  // Baseline: native fetch with a valid token, and one refresh round trip.
  async 'native (valid token)'(n) {
    const { accessToken } = await mint();
    const headers = { authorization: `Bearer ${accessToken}` };
    return settle(n, () => nativeFetch(ECHO, { headers }).then(async (r) => { await r.text(); return r.status; }));
  },
  async 'refresh round trip'() {
    const { refreshToken } = await mint();
    const t0 = performance.now();
    const res = await nativeFetch('/auth/refresh', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }),
    });
    await res.json();
    return { ms: performance.now() - t0, failed: res.status === 200 ? 0 : 1 };
  },
  'refresher.fetch': (n) => viaRefresherFetch(n, expiredSession),
  // An app restoring its own stored tokens after a reload: iat 100 s ago, exp 10 s after.
  'refresher.fetch, restored stale token': (n) => viaRefresherFetch(n, restoredSession),
  async interceptor(n) {
    const tokens = await expiredSession();
    const r = await createRefresher({ tokens, endpoint: { url: '/auth/refresh' } });
    const target = { fetch: nativeFetch };
    r.installFetchInterceptor(target);
    try {
      return await settle(n, () => target.fetch(ECHO).then(async (res) => { await res.text(); return res.status; }));
    } finally { r.dispose(); }
  },
  async 'axios+auth-refresh'(n) {
    const { accessToken, refreshToken } = await expiredSession();
    const api = axiosWithAuthRefresh(accessToken, refreshToken);
    return settle(n, () => api.get(ECHO).then((r) => r.status));
  },
};

/** One repetition of every P4 variant, in rotated order; refresh calls counted by the server. */
export async function p4({ n, offset = 0 }) {
  const names = Object.keys(P4_VARIANTS);
  const out = {};
  for (let i = 0; i < names.length; i++) {
    const name = names[(i + offset) % names.length];
    await reset();
    const r = await P4_VARIANTS[name](n);
    const c = await counters();
    out[name] = { ...r, refreshCalls: c.refreshCalls, rejected: c.rejected, served: c.ok + c.rejected };
  }
  return out;
}

// --- P5: 10,000 refresh cycles -----------------------------------------------------------

let cycler = null;
let cycle = 0;

/** A refresher whose refresh function hands out a new JWT each time (no network). */
export async function p5prepare() {
  const now = Math.floor(Date.now() / 1000);
  cycler = await createRefresher({
    tokens: { accessToken: jwt({ sub: 'u', iat: now, exp: now + 3600, n: 0 }), refreshToken: 'rt-0' },
    refresh: async () => {
      cycle += 1;
      const t = Math.floor(Date.now() / 1000);
      return { accessToken: jwt({ sub: 'u', iat: t, exp: t + 3600, n: cycle }), refreshToken: `rt-${cycle}`, expiresIn: 3600 };
    },
  });
  cycler.on('refresh', () => {});
  await cycler.refresh(); // one cycle before "before": the allocator's first page
  return { wasmBytes: wasmMemoryBytes() };
}

export async function p5run(cycles) {
  const t0 = performance.now();
  for (let i = 0; i < cycles; i++) await cycler.refresh();
  return { ms: performance.now() - t0, wasmBytes: wasmMemoryBytes(), state: cycler.state };
}

export function p5dispose() {
  cycler.dispose();
  cycler = null;
  return { wasmBytes: wasmMemoryBytes() };
}

// --- P6: wasm compile + instantiate --------------------------------------------------------

/**
 * `n` fresh loads: each imports a new copy of the glue module (its own `wasm` variable)
 * and loads the wasm bytes as js/wasm.js does: WebAssembly.compile, then the glue's
 * initSync (instantiate with its imports, plus its start-up). Also times
 * WebAssembly.compile alone.
 */
export async function p6({ n, warmup }) {
  const bytes = await (await nativeFetch('/pkg/freshtoken_bg.wasm')).arrayBuffer();
  const init = [];
  const compile = [];
  for (let i = -warmup; i < n; i++) {
    const url = `/pkg/freshtoken.js?copy=${Math.random().toString(36).slice(2)}`;
    const glue = await import(/* @vite-ignore */ url);
    const t0 = performance.now();
    glue.initSync({ module: await WebAssembly.compile(bytes) });
    const t1 = performance.now();
    await WebAssembly.compile(bytes);
    const t2 = performance.now();
    if (i >= 0) { init.push(t1 - t0); compile.push(t2 - t1); }
  }
  return { init, compile, wasmBytes: bytes.byteLength };
}
