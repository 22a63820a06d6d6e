// Seed 000's server (a Grape API in the seed), in node's http: PubNub Access Manager v3
// tokens handed out and refreshed over
//   POST   /api/v1/login           {username}        -> {token, expiresIn?}
//   PUT    /api/v1/tokens/refresh  Bearer <current>  -> {token, expiresIn?}   (the seed's `put :refresh`)
//   DELETE /api/v1/tokens/revoke   Bearer <current>  -> {message}             (the seed's `delete :revoke`)
//   GET    /api/v1/me              Bearer <token>    -> 200, or 401 once the token expired
// and a stub of PubNub's REST API on the same origin (the client is configured with
// `origin: <this host>`): subscribe (handshake + long poll), publish, presence leave, time.
// Every PubNub call must carry the *current* token as its `auth` query parameter (or the one
// it replaced, for `rotationGraceMs` after a refresh, for calls already on their way);
// anything else gets PubNub's 403 "Forbidden" from Access Manager.
//
// Tokens are real v3 tokens (t = now, ttl = `ttlMinutes`). PubNub's ttl is whole minutes, so
// short test lifetimes come from `expiresIn` in the answers (which the SDK reads before the
// token's own expiry); the server enforces that same deadline. With `sendExpiresIn: false`
// the answers are exactly the seed's `{token}` and the deadline is t + ttl x 60.
//
// Refresh accepts a token of a live session up to `refreshGraceS` after it expired (what
// lets a client whose token expired while it was away refresh instead of logging in again).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, normalize, extname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { grantToken } from './pubnub-token.mjs';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const SUPPORT = fileURLToPath(new URL('../support', import.meta.url));
const PUBNUB_JS = join(REPO, 'node_modules', 'pubnub', 'dist', 'web', 'pubnub.js');
const MIME = { '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.html': 'text/html; charset=utf-8', '.ts': 'text/plain' };
export const SUB_KEY = 'sub-c-freshtoken-e2e';
export const PUB_KEY = 'pub-c-freshtoken-e2e';
export const CHANNEL = 'e2e-chat';

/**
 * @param {{ lifetime?: number, ttlMinutes?: number, sendExpiresIn?: boolean,
 *   refreshGraceS?: number, rotationGraceMs?: number, holdMs?: number }} [opts]
 *   lifetime: seconds a token is good for (sent as expiresIn); holdMs: subscribe long-poll length
 */
export async function startSeed000({
  lifetime = 4, ttlMinutes = 1, sendExpiresIn = true, refreshGraceS = 60, rotationGraceMs = 1000, holdMs = 1000,
} = {}) {
  const secret = randomBytes(32).toString('hex');
  let unavailable = 0; // refresh calls still to answer 503
  const sessions = new Map(); // sid -> { user, revoked, current, previous, supersededAt }
  const tokens = new Map();   // token -> { sid, deadline }
  const messages = [];        // { tt (BigInt), channel, payload, publisher }
  const waiters = new Set();  // pending long polls: () => void
  const stats = {
    logins: 0, refreshCalls: 0, refreshOk: 0, refreshRejected: 0, api200: 0, api401: 0,
    pubnubCalls: 0, pubnubDenied: 0, published: 0, authTokens: new Set(),
  };
  let ttCounter = 0n;
  const timetoken = () => BigInt(Date.now()) * 10000n + (ttCounter++ % 10000n);

  function mint(sid) {
    const s = sessions.get(sid);
    const t = Math.floor(Date.now() / 1000);
    // meta.n keeps two tokens minted in the same second apart.
    const token = grantToken({ secret, t, ttl: ttlMinutes, uuid: s.user, channels: [CHANNEL], meta: { n: randomBytes(6).toString('hex') } });
    const deadline = sendExpiresIn ? Date.now() + lifetime * 1000 : (t + ttlMinutes * 60) * 1000;
    tokens.set(token, { sid, deadline });
    if (s.current) { s.previous = s.current; s.supersededAt = Date.now(); }
    s.current = token;
    return sendExpiresIn ? { token, expiresIn: lifetime } : { token };
  }

  const bearer = (req) => /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];

  /** The session of a token: 'ok' | 'expired' | 'unknown' | 'revoked'. */
  function check(token, now = Date.now()) {
    const rec = token && tokens.get(token);
    if (!rec) return { status: 'unknown' };
    const s = sessions.get(rec.sid);
    if (s.revoked) return { status: 'revoked', rec };
    if (now >= rec.deadline) return { status: 'expired', rec };
    return { status: 'ok', rec, s };
  }

  function pubnubAuthorized(token) {
    const c = check(token);
    if (c.status !== 'ok') return false;
    return token === c.s.current || (token === c.s.previous && Date.now() - c.s.supersededAt <= rotationGraceMs);
  }

  function send(res, status, body, headers = {}) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(text);
  }

  async function serveFile(res, file, root) {
    const path = normalize(file);
    if (!path.startsWith(root + sep) && path !== root) return send(res, 403, { error: 'forbidden' });
    try {
      const data = await readFile(path);
      res.writeHead(200, { 'content-type': MIME[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(data);
    } catch {
      send(res, 404, { error: 'not found' });
    }
  }

  const readBody = (req) => new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });

  // ---------------------------------------------------------------- PubNub REST stub
  function envelope(m) {
    return { a: '1', f: 0, i: m.publisher, p: { t: String(m.tt), r: 1 }, k: SUB_KEY, c: m.channel, d: m.payload };
  }

  async function pubnub(req, res, url) {
    const path = url.pathname;
    if (path.startsWith('/time/')) return send(res, 200, [Number(timetoken())]);
    stats.pubnubCalls += 1;
    const auth = url.searchParams.get('auth');
    if (auth) stats.authTokens.add(auth);
    if (!pubnubAuthorized(auth)) {
      stats.pubnubDenied += 1;
      return send(res, 403, { message: 'Forbidden', payload: { channels: [CHANNEL] }, error: true, service: 'Access Manager', status: 403 });
    }
    let m = /^\/publish\/([^/]+)\/([^/]+)\/0\/([^/]+)\/0\/(.+)$/.exec(path);
    if (m && m[2] === SUB_KEY) {
      const body = req.method === 'POST' ? await readBody(req) : decodeURIComponent(m[4]);
      let payload;
      try { payload = JSON.parse(body); } catch { return send(res, 400, [0, 'Invalid JSON', '0']); }
      const tt = timetoken();
      messages.push({ tt, channel: decodeURIComponent(m[3]), payload, publisher: url.searchParams.get('uuid') ?? '' });
      if (messages.length > 1000) messages.splice(0, messages.length - 1000);
      stats.published += 1;
      for (const wake of [...waiters]) wake();
      return send(res, 200, [1, 'Sent', String(tt)]);
    }
    m = /^\/v2\/subscribe\/([^/]+)\/([^/]+)\/0$/.exec(path);
    if (m && m[1] === SUB_KEY) {
      const channels = decodeURIComponent(m[2]).split(',');
      const since = BigInt(url.searchParams.get('tt') ?? '0');
      if (since === 0n) return send(res, 200, { t: { t: String(timetoken()), r: 1 }, m: [] }); // handshake
      const pick = () => messages.filter((x) => x.tt > since && channels.includes(x.channel));
      let found = pick();
      if (found.length === 0) {
        await new Promise((resolve) => {
          const done = () => { clearTimeout(timer); waiters.delete(done); resolve(); };
          const timer = setTimeout(done, holdMs);
          waiters.add(done);
          req.once('close', done);
        });
        if (res.destroyed) return undefined;
        found = pick();
      }
      const next = found.length ? found.at(-1).tt : timetoken();
      return send(res, 200, { t: { t: String(next), r: 1 }, m: found.map(envelope) });
    }
    if (/^\/v2\/presence\/sub[-_]key\/[^/]+\/channel\/[^/]+\/(leave|heartbeat)$/.test(path)) {
      return send(res, 200, { status: 200, message: 'OK', service: 'Presence', action: path.endsWith('leave') ? 'leave' : undefined });
    }
    return send(res, 404, { status: 404, error: true, message: `stub has no ${path}` });
  }

  // ---------------------------------------------------------------- the Grape API
  async function route(req, res) {
    const url = new URL(req.url, 'http://x');
    const path = url.pathname;
    const key = `${req.method} ${path}`;
    if (key === 'GET /e2e.html') return serveFile(res, join(SUPPORT, 'e2e.html'), SUPPORT);
    if (key === 'GET /vendor/pubnub.js') return serveFile(res, PUBNUB_JS, PUBNUB_JS);
    if (req.method === 'GET' && path.startsWith('/js/')) return serveFile(res, join(REPO, decodeURIComponent(path)), join(REPO, 'js'));
    if (req.method === 'GET' && path.startsWith('/pkg/')) return serveFile(res, join(REPO, decodeURIComponent(path)), join(REPO, 'pkg'));
    if (/^\/(v2|publish|time|v1|v3)\//.test(path)) return pubnub(req, res, url);

    if (key === 'POST /api/v1/login') {
      let body = {};
      try { body = JSON.parse(await readBody(req)); } catch { /* empty */ }
      if (typeof body.username !== 'string' || !body.username) return send(res, 400, { error: 'username is missing' });
      stats.logins += 1;
      const sid = randomBytes(6).toString('hex');
      sessions.set(sid, { user: body.username, revoked: false, current: null, previous: null, supersededAt: 0 });
      return send(res, 201, mint(sid));
    }
    if (key === 'PUT /api/v1/tokens/refresh') {
      stats.refreshCalls += 1;
      if (unavailable > 0) {
        unavailable -= 1;
        return send(res, 503, { error: '503 Service Unavailable' });
      }
      const c = check(bearer(req));
      const inGrace = c.status === 'expired' && Date.now() < c.rec.deadline + refreshGraceS * 1000;
      if (c.status !== 'ok' && !inGrace) {
        stats.refreshRejected += 1;
        return send(res, 401, { error: '401 Unauthorized' });
      }
      stats.refreshOk += 1;
      return send(res, 200, mint(c.rec.sid));
    }
    if (key === 'DELETE /api/v1/tokens/revoke') {
      const c = check(bearer(req));
      if (c.status !== 'ok') return send(res, 401, { error: '401 Unauthorized' });
      sessions.get(c.rec.sid).revoked = true;
      return send(res, 200, { message: 'Token revoked' });
    }
    if (key === 'GET /api/v1/me') {
      const c = check(bearer(req));
      if (c.status !== 'ok') {
        stats.api401 += 1;
        return send(res, 401, { error: '401 Unauthorized' });
      }
      stats.api200 += 1;
      return send(res, 200, { user: c.s.user });
    }
    return send(res, 404, { error: 'Not Found' });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err) => { if (!res.headersSent) send(res, 500, { error: String(err && err.message) }); });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stats: async () => ({ ...stats, authTokens: stats.authTokens.size }),
    /**
     * Server-side rotation (say, changed permissions): every live session gets a new token
     * that no client has been given; the old ones stop working on PubNub at once (no grace)
     * but still identify their session to the refresh endpoint. Returns how many rotated.
     */
    rotateTokens: () => {
      let n = 0;
      for (const [sid, s] of sessions) {
        if (s.revoked || !s.current) continue;
        mint(sid);
        s.previous = null;
        n += 1;
      }
      return n;
    },
    /** The next `n` refresh calls answer 503 (a deploy, a blip). */
    failRefreshes: (n) => { unavailable = n; },
    /** Ends every session server-side: the refresh endpoint answers 401 from now on. */
    revokeAll: () => { for (const s of sessions.values()) s.revoked = true; },
    /** Whether the PubNub stub would accept `token` as `auth` right now. */
    pubnubAccepts: (token) => pubnubAuthorized(token),
    close: () => new Promise((resolve) => {
      for (const wake of [...waiters]) wake();
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
