// The auth server and API the Rust example apps are tested against (node's http only):
//   - static files of one app's dist/ (examples/<app>/dist: index.html, app.js, app_bg.wasm);
//   - POST /auth/login                      -> { accessToken, refreshToken, expiresIn } (seed 001 shape)
//   - POST /auth/refresh { refreshToken }   -> new tokens (rotating), or 401 for an unknown or
//                                              revoked refresh token;
//   - GET /api/data                         -> 200 { message } with a valid Bearer token, else 401;
//                                              `failApiOnce(n = 1)` makes the next n calls 401 anyway;
//   - GET /api/forbidden                    -> 403 with a valid token (the user may not), else 401;
//   - GET /api/revoked                      -> 401 whatever the token;
//   `refuseAccessTokens()` makes the API refuse every access token issued so far.
// `startForeign()` is a second server on another port that records every request's headers
// (CORS open, so a token attached there would be seen, in a preflight or the request itself).
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, extname } from 'node:path';
import { signJwt, verifyJwt } from '../support/jwt.mjs';

const SECRET = 'rust-apps-test-secret';
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm' };

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

/** The auth server for `dist` (a directory). `lifetime` is the access token's, in seconds. */
export async function startAuthServer(dist) {
  const state = {
    lifetime: 3,
    logins: [],          // { t }
    refreshCalls: [],    // { t, status }
    apiCalls: [],        // { t, authorization, status }
    live: new Set(),     // refresh tokens that may be used
    issued: [],          // access tokens issued, in order
    refused: new Set(),  // access tokens the API refuses (as if revoked)
    failNextApi: 0,      // how many of the next API calls answer 401 anyway
  };
  const issue = () => {
    const now = Date.now();
    const refreshToken = randomUUID();
    state.live.add(refreshToken);
    const accessToken = signJwt({ sub: 'user-1', iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + state.lifetime, jti: randomUUID() }, SECRET);
    state.issued.push(accessToken);
    return { accessToken, refreshToken, expiresIn: state.lifetime };
  };
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const t = Date.now();
    if (req.method === 'POST' && path === '/auth/login') {
      await readBody(req);
      state.logins.push({ t });
      return send(res, 200, issue());
    }
    if (req.method === 'POST' && path === '/auth/refresh') {
      let token;
      try { token = JSON.parse(await readBody(req)).refreshToken; } catch { token = undefined; }
      const ok = state.live.delete(token);
      state.refreshCalls.push({ t, status: ok ? 200 : 401 });
      return ok ? send(res, 200, issue()) : send(res, 401, { code: 'invalid_grant' });
    }
    if (path.startsWith('/api/')) {
      const authorization = req.headers.authorization ?? null;
      const bearer = authorization && authorization.startsWith('Bearer ') ? authorization.slice(7) : null;
      const valid = Boolean(bearer) && !verifyJwt(bearer, SECRET).error && !state.refused.has(bearer);
      let status = valid ? 200 : 401;
      if (path === '/api/forbidden' && valid) status = 403;   // this user may not: 403 with any token
      if (path === '/api/revoked') status = 401;              // refused with any token
      if (state.failNextApi > 0) { state.failNextApi--; status = 401; }
      state.apiCalls.push({ t, path, authorization, status });
      return status === 200 ? send(res, 200, { message: 'hello user-1' }) : send(res, status, { code: status === 403 ? 'forbidden' : 'invalid_token' });
    }
    const file = path === '/' ? 'index.html' : path.slice(1);
    if (!/^[\w.-]+$/.test(file)) return send(res, 404, 'not found', 'text/plain');
    try {
      return send(res, 200, await readFile(join(dist, file)), MIME[extname(file)] ?? 'application/octet-stream');
    } catch {
      return send(res, 404, 'not found', 'text/plain');
    }
  });
  const url = await listen(server);
  return {
    url,
    state,
    failApiOnce: (times = 1) => { state.failNextApi = times; },
    revokeRefreshTokens: () => state.live.clear(),
    refuseAccessTokens: () => { for (const t of state.issued) state.refused.add(t); },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

/** A server on another origin that records the headers of every request it gets. */
export async function startForeign() {
  const requests = [];   // { method, authorization, requestHeaders }
  const server = createServer(async (req, res) => {
    await readBody(req);
    requests.push({
      method: req.method,
      authorization: req.headers.authorization ?? null,
      requestHeaders: req.headers['access-control-request-headers'] ?? null,
    });
    res.writeHead(200, {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'authorization, content-type',
      'content-type': 'text/plain',
    });
    res.end(req.method === 'OPTIONS' ? '' : 'foreign');
  });
  const url = await listen(server);
  return { url, requests, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}
