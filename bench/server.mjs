// The benchmark's loopback server: a lean cousin of tests/support/server.mjs (same HS256
// JWTs from tests/support/jwt.mjs, same seed 001 refresh contract) that records counters
// instead of every request, so 10,000s of requests cost the same at the start and the end.
//
//   GET  /bench.html          the bench page (cross-origin isolated: 5 us timer resolution)
//   GET  /bench/out/**, /pkg/**, /js/**   static files
//   GET  /bench/mint?life=s   -> { accessToken, refreshToken } (a fresh session)
//   GET  /bench/expired       -> { accessToken, refreshToken } (access token expired 5 s ago)
//   GET  /bench/restored      -> { accessToken, refreshToken } (iat 100 s ago, exp 10 s after it:
//                                what an app restores from its own storage after a reload)
//   GET  /bench/counters      -> { refreshCalls, ok, rejected }; POST /bench/reset zeroes them
//   POST /auth/refresh        { refreshToken } -> { accessToken, expiresIn }
//   GET  /api/echo            200 {ok:true} with a valid Bearer token, else 401
// Tokens are never logged.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, normalize, extname, sep } from 'node:path';
import { signJwt, verifyJwt } from '../tests/support/jwt.mjs';

const REPO = new URL('..', import.meta.url).pathname;
const MIME = {
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.html': 'text/html; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
// Cross-origin isolation lifts performance.now() from 100 us to 5 us resolution.
const ISOLATED = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>freshtoken bench</title><link rel="icon" href="data:,"></head>
<body><script type="module">
  try {
    window.B = await import('/bench/out/js/page.js');
    await window.B.setup();
    window.ready = true;
  } catch (e) {
    window.initError = String((e && e.stack) || e);
  }
</script></body></html>`;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, body, headers = {}) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...ISOLATED,
    ...headers,
  });
  res.end(payload);
}

/** Starts the server on 127.0.0.1 at a free port. */
export async function startBenchServer({ lifetime = 3600 } = {}) {
  const secret = randomUUID();
  const refreshTokens = new Set();
  const counters = { refreshCalls: 0, ok: 0, rejected: 0 };

  const mintAccess = (life = lifetime) => {
    const iat = Math.floor(Date.now() / 1000);
    return signJwt({ sub: 'user-1', email: 'user@example.com', iat, exp: iat + life, jti: randomUUID() }, secret);
  };
  const mintRefresh = () => {
    const t = randomUUID();
    refreshTokens.add(t);
    return t;
  };

  async function serveStatic(res, path) {
    const file = normalize(join(REPO, decodeURIComponent(path)));
    const allowed = ['bench/out', 'pkg', 'js'].some((d) => file.startsWith(join(REPO, d) + sep));
    if (!allowed) return send(res, 403, 'forbidden');
    try {
      const data = await readFile(file);
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', ...ISOLATED });
      res.end(data);
    } catch {
      send(res, 404, `not found: ${path}`);
    }
  }

  const server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const url = new URL(req.url, 'http://x');
      const route = `${req.method} ${url.pathname}`;
      if (route === 'GET /api/echo') {
        const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
        if (!m || verifyJwt(m[1], secret).error) {
          counters.rejected += 1;
          return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
        }
        counters.ok += 1;
        return send(res, 200, { ok: true });
      }
      if (route === 'POST /auth/refresh') {
        counters.refreshCalls += 1;
        let given = null;
        try { given = JSON.parse(body).refreshToken; } catch { /* not JSON */ }
        if (typeof given !== 'string' || !refreshTokens.has(given)) return send(res, 401, { error: 'Invalid refresh token' });
        return send(res, 200, { accessToken: mintAccess(), expiresIn: lifetime });
      }
      if (route === 'GET /bench.html') return send(res, 200, PAGE, { 'content-type': MIME['.html'] });
      if (route === 'GET /bench/mint') {
        const life = Number(url.searchParams.get('life') ?? lifetime);
        return send(res, 200, { accessToken: mintAccess(life), refreshToken: mintRefresh() });
      }
      if (route === 'GET /bench/expired') {
        // No iat: the client sees it as expired (lifetime = exp - receipt < 0).
        const exp = Math.floor(Date.now() / 1000) - 5;
        const accessToken = signJwt({ sub: 'user-1', email: 'user@example.com', exp, jti: randomUUID() }, secret);
        return send(res, 200, { accessToken, refreshToken: mintRefresh() });
      }
      if (route === 'GET /bench/restored') {
        const iat = Math.floor(Date.now() / 1000) - 100;
        const accessToken = signJwt({ sub: 'user-1', email: 'user@example.com', iat, exp: iat + 10, jti: randomUUID() }, secret);
        return send(res, 200, { accessToken, refreshToken: mintRefresh() });
      }
      if (route === 'GET /bench/counters') return send(res, 200, counters);
      if (route === 'POST /bench/reset') {
        counters.refreshCalls = 0; counters.ok = 0; counters.rejected = 0;
        return send(res, 200, counters);
      }
      if (req.method === 'GET' && /^\/(bench\/out|pkg|js)\//.test(url.pathname)) return await serveStatic(res, url.pathname);
      send(res, 404, `no route ${route}`);
    } catch (e) {
      if (!res.headersSent) send(res, 500, String(e && e.message));
    }
  });
  server.keepAliveTimeout = 60_000;
  const url = await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
  return {
    url,
    counters,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
