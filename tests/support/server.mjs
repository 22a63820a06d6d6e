// A real local HTTP server for browser tests (node's http + crypto only):
//   - static /js/** and /pkg/** from the repo, and the test page /test.html;
//   - an auth API speaking the seed 001 contract (Express-style, JSON bodies):
//       POST /auth/login    -> { accessToken, refreshToken, expiresIn }
//       POST /auth/refresh  { refreshToken } -> { accessToken, refreshToken?, expiresIn? }
//     whose refresh answers can be scripted per test (status, delay, malformed body, HTML page,
//     dropped connection);
//   - GET|POST /api/echo, 401 unless `Authorization: Bearer <valid token>`.
// Every request is recorded (method, path, headers, body, time) for assertions.
//
//   const srv = await startServer({ lifetime: 3 });
//   srv.url; srv.state.refreshCalls; srv.setRefreshOutcomes([500, 500, 200]);
//   srv.requests; srv.issueTokens(); srv.revokeAccessTokens(); await srv.close();
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, normalize, extname, sep } from 'node:path';
import { signJwt, verifyJwt } from './jwt.mjs';

const REPO = new URL('../..', import.meta.url).pathname;

const MIME = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// Loads the package the way an app does, then exposes it and a few helpers to page.evaluate.
const TEST_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>freshtoken test page</title><link rel="icon" href="data:,"></head>
<body>
<script>
  window.sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  window.waitFor = async (pred, timeoutMs = 10000, what = 'condition') => {
    const end = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > end) throw new Error('timed out after ' + timeoutMs + ' ms waiting for ' + what);
      await sleep(10);
    }
  };
  // Records every Refresher event with its local time.
  window.track = (refresher) => {
    const log = [];
    for (const event of ['refresh', 'refresh-error', 'session-expired', 'logout', 'schedule']) {
      refresher.on(event, (detail) => {
        let copy = null;
        try { copy = JSON.parse(JSON.stringify(detail ?? null)); } catch { copy = String(detail); }
        const message = detail && (detail.message || (detail.error && detail.error.message));
        log.push({ event, t: Date.now(), detail: copy, message: message ? String(message) : null });
      });
    }
    log.count = (event) => log.filter((e) => e.event === event).length;
    log.times = (event) => log.filter((e) => e.event === event).map((e) => e.t);
    return log;
  };
</script>
<script type="module">
  try {
    const ft = await import('/js/index.js');
    await ft.default();
    window.ft = ft;
    window.ready = true;
  } catch (e) {
    window.initError = String((e && e.stack) || e);
  }
</script>
</body></html>`;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, body, headers = {}) {
  const isText = typeof body === 'string' || Buffer.isBuffer(body);
  const payload = isText ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

function closer(server) {
  return () => new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

/**
 * Starts the app + auth server.
 * @param {object} [opts]
 * @param {number} [opts.lifetime=3]  access-token lifetime in seconds (JWT exp - iat)
 * @param {boolean} [opts.rotateRefreshTokens=false]  each refresh returns a new refresh token
 *   and invalidates the one it was given
 * @param {boolean} [opts.sendExpiresIn=false]  refresh responses carry expiresIn (seed 001 sends
 *   only accessToken; the login response always carries it)
 * @param {string} [opts.secret]
 * @param {string} [opts.appDir]  a built app (Vite/webpack output) served under /app/, with
 *   /app/ answering its index.html: the app then talks to this server's /auth and /api same-origin
 */
export async function startServer(opts = {}) {
  const lifetime = opts.lifetime ?? 3;
  const secret = opts.secret ?? randomUUID();
  const rotate = opts.rotateRefreshTokens ?? false;
  const sendExpiresIn = opts.sendExpiresIn ?? false;

  const state = {
    refreshCalls: 0,
    refreshTimes: [],          // Date.now() at each /auth/refresh arrival
    loginCalls: 0,
    generation: 0,             // bumped by revokeAccessTokens(); tokens carry the one they were minted in
    rejectAccessTokens: false, // when true, /api/echo answers 401 to every token
    refreshTokens: new Set(),  // valid refresh tokens
    issued: [],                // every access and refresh token handed out (for leak checks)
  };
  let outcomes = [];
  const requests = [];

  function mintAccess({ lifetime: life = lifetime, iat = Math.floor(Date.now() / 1000) } = {}) {
    const token = signJwt({ sub: 'user-1', email: 'user@example.com', iat, exp: iat + life, jti: randomUUID(), gen: state.generation }, secret);
    state.issued.push(token);
    return token;
  }
  function mintRefresh() {
    const token = randomUUID();
    state.refreshTokens.add(token);
    state.issued.push(token);
    return token;
  }
  function accessValid(token) {
    const { payload, error } = verifyJwt(token, secret);
    return !error && payload.gen === state.generation && !state.rejectAccessTokens;
  }

  async function handleRefresh(req, res, body) {
    state.refreshCalls += 1;
    state.refreshTimes.push(Date.now());
    let o = outcomes.length ? outcomes.shift() : 200;
    if (typeof o === 'number') o = { status: o };
    else if (o === 'malformed') o = { status: 200, body: '{"accessToken": ', contentType: 'application/json' };
    else if (o === 'fieldless') o = { status: 200, body: '{}', contentType: 'application/json' };
    else if (o === 'html') o = { status: 502, body: '<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html' };
    else if (o === 'network') o = { network: true };
    if (o.delay) await sleep(o.delay);
    if (o.network) { req.socket.destroy(); return; }
    const status = o.status ?? 200;
    if (o.body !== undefined) {
      send(res, status, o.body, { 'content-type': o.contentType ?? 'application/json', ...o.headers });
      return;
    }
    if (status !== 200) {
      send(res, status, { error: status === 401 ? 'Invalid refresh token' : `scripted ${status}` }, o.headers);
      return;
    }
    // The real thing, as Express + express.json() would: a non-JSON content type leaves the body empty.
    let given = null;
    if (/application\/json/i.test(req.headers['content-type'] ?? '')) {
      try { given = JSON.parse(body).refreshToken; } catch { /* empty */ }
    }
    if (typeof given !== 'string' || !state.refreshTokens.has(given)) {
      send(res, 401, { error: 'Invalid refresh token' }, o.headers);
      return;
    }
    const out = { accessToken: mintAccess() };
    if (rotate) {
      state.refreshTokens.delete(given);
      out.refreshToken = mintRefresh();
    }
    if (sendExpiresIn) out.expiresIn = lifetime;
    send(res, 200, out, o.headers);
  }

  async function serveStatic(res, path) {
    const base = join(REPO, path.startsWith('/js/') ? 'js' : 'pkg');
    const file = normalize(join(REPO, decodeURIComponent(path)));
    if (!file.startsWith(base + sep)) return send(res, 403, 'forbidden');
    try {
      const data = await readFile(file);
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(data);
    } catch {
      send(res, 404, `not found: ${path}`);
    }
  }

  async function serveApp(res, path) {
    const root = normalize(opts.appDir);
    let rel = decodeURIComponent(path.slice('/app'.length)) || '/';
    if (rel.endsWith('/')) rel += 'index.html';
    const file = normalize(join(root, rel));
    if (!file.startsWith(root + sep)) return send(res, 403, 'forbidden');
    try {
      const data = await readFile(file);
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(data);
    } catch {
      send(res, 404, `not found: ${path}`);
    }
  }

  const server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const url = new URL(req.url, 'http://x');
      requests.push({ method: req.method, path: url.pathname, query: url.search, headers: { ...req.headers }, body, time: Date.now() });
      if (state.date !== undefined) res.setHeader('date', state.date); // a server clock set elsewhere, or a broken Date
      const route = `${req.method} ${url.pathname}`;
      if (route === 'GET /test.html') return send(res, 200, TEST_PAGE, { 'content-type': MIME['.html'] });
      if (req.method === 'GET' && /^\/(js|pkg)\//.test(url.pathname)) return await serveStatic(res, url.pathname);
      if (req.method === 'GET' && opts.appDir && (url.pathname === '/app' || url.pathname.startsWith('/app/'))) {
        return await serveApp(res, url.pathname);
      }
      if (route === 'POST /auth/login') {
        state.loginCalls += 1;
        return send(res, 200, { accessToken: mintAccess(), refreshToken: mintRefresh(), expiresIn: lifetime });
      }
      if (route === 'POST /auth/refresh') return await handleRefresh(req, res, body);
      if (url.pathname === '/redirect') {
        // A same-origin URL that redirects elsewhere (an expired presigned URL, say).
        res.writeHead(Number(url.searchParams.get('status') ?? 307), { location: url.searchParams.get('to') ?? '/', 'cache-control': 'no-store' });
        return res.end();
      }
      if (url.pathname === '/api/forbidden') {
        // A route this user may not use: 403 to a valid token, 401 to anything else.
        const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
        if (!m || !accessValid(m[1])) return send(res, 401, { error: 'invalid_token' });
        return send(res, 403, { error: 'forbidden' });
      }
      if (url.pathname === '/api/echo' && (req.method === 'GET' || req.method === 'POST')) {
        const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
        if (!m || !accessValid(m[1])) {
          return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
        }
        return send(res, 200, { ok: true, method: req.method, body, auth: true });
      }
      send(res, 404, `no route ${route}`);
    } catch (e) {
      if (!res.headersSent) send(res, 500, String(e));
    }
  });
  const url = await listen(server);

  return {
    url,
    state,
    requests,
    /** Requests to one path, e.g. '/api/echo'. */
    requestsTo: (path) => requests.filter((r) => r.path === path),
    /**
     * Scripts the next /auth/refresh answers, one per call, then back to normal success.
     * Items: a status (200 = real success, else a JSON error), 'malformed' (200, broken JSON),
     * 'fieldless' (200, {}), 'html' (502 HTML page), 'network' (connection dropped), or
     * { status?, body?, contentType?, headers?, delay? (ms) }.
     */
    setRefreshOutcomes(list) { outcomes = [...list]; },
    /** A fresh session as /auth/login would give it; `lifetime` in seconds. */
    issueTokens({ lifetime: life = lifetime } = {}) {
      return { accessToken: mintAccess({ lifetime: life }), refreshToken: mintRefresh(), expiresIn: life };
    },
    /**
     * A correctly signed JWT whose exp passed `agoSeconds` ago. By default it has no `iat`
     * (the lifetime is then `exp - now` < 0). `lifetime` (seconds) adds `iat = exp - lifetime`:
     * handed to setTokens without `receivedAt`, it is still due at once, because its `exp` is
     * past by the server's clock as best known (SPEC behaviour 2, restored tokens).
     */
    expiredToken({ agoSeconds = 5, lifetime: life } = {}) {
      const exp = Math.floor(Date.now() / 1000) - agoSeconds;
      const claims = { sub: 'user-1', email: 'user@example.com', exp, jti: randomUUID(), gen: state.generation };
      if (life !== undefined) claims.iat = exp - life;
      const token = signJwt(claims, secret);
      state.issued.push(token);
      return token;
    },
    /** Whether /api/echo would accept this access token now. */
    accepts: (token) => accessValid(token),
    /**
     * Whether this server minted the token, it is of the current generation and unrevoked,
     * expired or not. Claims are whole seconds (`iat` floored), so a 3-second token can be
     * up to 1 s past `exp` on this server while the client, anchoring 80% of `exp - iat` on
     * its receipt time, still rightly holds it as fresh: use this, not `accepts`, where a
     * check runs at an arbitrary moment of the token's life.
     */
    issued(token) {
      const { payload, error } = verifyJwt(token, secret);
      return (!error || error === 'expired') && state.issued.includes(token)
        && payload.gen === state.generation && !state.rejectAccessTokens;
    },
    /** Every access token issued so far is rejected from now on (tokens minted later are fine). */
    revokeAccessTokens() { state.generation += 1; },
    /** When on, /api/echo rejects every token, even freshly refreshed ones. */
    rejectAccessTokens(on = true) { state.rejectAccessTokens = on; },
    /** Every answer from now on carries this `Date` header (undefined: node's own, the real time). */
    setDateHeader(value) { state.date = value; },
    /** Invalidates every refresh token (the next refresh gets 401). */
    revokeRefreshTokens() { state.refreshTokens.clear(); },
    close: closer(server),
  };
}

/**
 * A second origin that records whether requests carried an Authorization header. It allows
 * CORS from anywhere, including an `authorization` request header in preflights, so a
 * wrongly attached header would reach it and be seen. `/401` answers 401, `/slow?ms=N` 200
 * after N ms, the rest 200 at once.
 */
export async function startPlainServer() {
  const requests = [];
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-headers': 'authorization, content-type',
    'access-control-allow-methods': 'GET, POST, PUT, DELETE',
  };
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url, 'http://x');
    requests.push({
      method: req.method,
      path: url.pathname,
      headers: { ...req.headers },
      body,
      hasAuthorization: 'authorization' in req.headers ||
        /authorization/i.test(req.headers['access-control-request-headers'] ?? ''),
    });
    if (req.method === 'OPTIONS') { res.writeHead(204, cors); return res.end(); }
    // /401 answers 401 (a third-party API refusing the app's own key); the rest 200.
    // /slow?ms=N answers after N ms (a request still in the air).
    if (url.pathname === '/slow') await sleep(Number(url.searchParams.get('ms') ?? 1000));
    send(res, url.pathname === '/401' ? 401 : 200, { ok: url.pathname !== '/401', auth: 'authorization' in req.headers }, cors);
  });
  const url = await listen(server);
  return { url, requests, close: closer(server) };
}
