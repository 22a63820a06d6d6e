#!/usr/bin/env node
// The freshtoken demo: one node process (http + crypto, no framework) that serves
//   - the page (www/index.html, app.js, style.css) and the package (/js/* from js/, /pkg/* from pkg/);
//   - its own auth server, seed 001's contract with rotating refresh tokens:
//       POST /auth/login   {username, password}  -> {accessToken, refreshToken, expiresIn}
//       POST /auth/refresh {refreshToken}        -> {accessToken, refreshToken, expiresIn}
//       POST /auth/revoke  (Bearer, or {refreshToken}) -> 204; the session is over
//       GET  /api/data     (Bearer)              -> 200 JSON, or 401 for an expired/invalid token
//   - fault controls for the refresh endpoint and the token lifetime:
//       GET  /control -> {mode, ttl, slowMs, keyGeneration, stats}
//       POST /control {mode: 'ok'|'fail5xx'|'slow'|'offline', ttl?, slowMs?,
//                      action?: 'expire-now' | 'revoke-all' | 'reset-stats'}
//
//   PORT=8080 TOKEN_TTL=20 node www/server.mjs      (PORT=0 picks a free port)
//   import { startDemoServer } from './www/server.mjs'   (tests)
//
// Prints one line with the URL. Never prints a token.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize, extname, sep, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createAuth, MODES } from './auth.mjs';

const WWW = dirname(fileURLToPath(import.meta.url));
const REPO = join(WWW, '..');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

// The page runs under a strict policy: nothing from other origins, and wasm allowed to compile.
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const PAGE_FILES = { '/': 'index.html', '/index.html': 'index.html', '/app.js': 'app.js', '/timeline.js': 'timeline.js', '/style.css': 'style.css' };
const MAX_BODY = 64 * 1024;

function send(res, status, body, headers = {}) {
  const json = body !== undefined && typeof body !== 'string';
  res.writeHead(status, {
    'content-type': json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    ...PAGE_HEADERS,
    ...headers,
  });
  res.end(body === undefined ? undefined : json ? JSON.stringify(body) : body);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) { reject(Object.assign(new Error('body too large'), { status: 413 })); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Like express.json(): a JSON object when the content type says JSON, else {}. */
function jsonBody(req, raw) {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '') || raw === '') return {};
  try {
    const v = JSON.parse(raw);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return null;
  }
}

async function serveFile(res, file, root) {
  const path = normalize(file);
  if (!path.startsWith(root + sep)) return send(res, 403, 'forbidden');
  try {
    const data = await readFile(path);
    res.writeHead(200, {
      'content-type': MIME[extname(path)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      ...PAGE_HEADERS,
    });
    res.end(data);
  } catch {
    send(res, 404, `not found`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const isTtl = (v) => Number.isFinite(v) && v >= 1 && v <= 3600;

/**
 * Starts the demo server.
 * @param {{ port?: number, host?: string, ttl?: number, quiet?: boolean }} [opts]
 * @returns {Promise<{ url: string, auth: ReturnType<typeof createAuth>, close: () => Promise<void> }>}
 */
export async function startDemoServer({ port = 8080, host = '127.0.0.1', ttl = 20, quiet = false } = {}) {
  const stamp = () => new Date().toISOString().slice(11, 23);
  const log = quiet ? () => {} : (line) => process.stdout.write(`[${stamp()}] ${line}\n`);
  const auth = createAuth({ ttl, log });

  async function route(req, res) {
    const url = new URL(req.url, 'http://demo');
    const path = url.pathname;
    const method = req.method;

    if (method === 'GET' || method === 'HEAD') {
      if (Object.hasOwn(PAGE_FILES, path)) return serveFile(res, join(WWW, PAGE_FILES[path]), WWW);
      if (path.startsWith('/js/')) return serveFile(res, join(REPO, decodeURIComponent(path)), join(REPO, 'js'));
      if (path.startsWith('/pkg/')) return serveFile(res, join(REPO, decodeURIComponent(path)), join(REPO, 'pkg'));
    }

    if (path === '/api/data' && method === 'GET') {
      auth.stats.apiCalls += 1;
      const who = auth.verify(req.headers.authorization);
      if (who.error) {
        auth.stats.api401 += 1;
        const description = who.error === 'expired' ? 'The access token expired' : `The access token is ${who.error}`;
        return send(res, 401, { error: 'invalid_token', error_description: description },
          { 'www-authenticate': `Bearer error="invalid_token", error_description="${description}"` });
      }
      auth.stats.api200 += 1;
      return send(res, 200, { ok: true, user: who.user, jti: who.jti, serverTime: Date.now(), n: auth.stats.api200 });
    }

    if (path === '/control' && method === 'GET') return send(res, 200, controlState());

    if (method !== 'POST') return send(res, 404, 'not found');
    const raw = await readBody(req);
    const body = jsonBody(req, raw);
    if (body === null) return send(res, 400, { error: 'invalid_request', error_description: 'the body is not JSON' });

    switch (path) {
      case '/auth/login': {
        const r = auth.login(body.username, body.password);
        return send(res, r.status, r.body);
      }
      case '/auth/refresh': {
        const mode = auth.config.mode;
        if (mode === 'offline') {
          auth.stats.refreshCalls += 1;
          auth.stats.refreshFaulted += 1;
          log('refresh: dropped the connection (mode offline)');
          req.socket.destroy();
          return undefined;
        }
        if (mode === 'fail5xx') {
          auth.stats.refreshCalls += 1;
          auth.stats.refreshFaulted += 1;
          log('refresh: answered 503 (mode fail5xx)');
          return send(res, 503, { error: 'temporarily_unavailable', error_description: 'The auth server is failing on purpose (demo fault)' });
        }
        if (mode === 'slow') await sleep(auth.config.slowMs);
        const r = auth.refresh(body.refreshToken);
        return send(res, r.status, r.body);
      }
      case '/auth/revoke': {
        // The session of the Bearer token, or of the refresh token in the body (RFC 7009 style).
        const who = auth.verify(req.headers.authorization);
        let sid = who.sid;
        if (!sid && typeof body.refreshToken === 'string') sid = auth.sidOfRefreshToken(body.refreshToken);
        if (!sid) return send(res, 401, { error: 'invalid_token' });
        if (auth.revokeSession(sid, 'POST /auth/revoke')) auth.stats.revokes += 1;
        return send(res, 204);
      }
      case '/control': {
        if (body.mode !== undefined) {
          if (!MODES.includes(body.mode)) return send(res, 400, { error: `mode must be one of ${MODES.join(', ')}` });
          if (auth.config.mode !== body.mode) log(`refresh endpoint mode: ${body.mode}`);
          auth.config.mode = body.mode;
        }
        if (body.ttl !== undefined) {
          const t = Number(body.ttl);
          if (!isTtl(t)) return send(res, 400, { error: 'ttl must be a number of seconds from 1 to 3600' });
          if (auth.config.ttl !== t) log(`access tokens now live ${t} s`);
          auth.config.ttl = t;
        }
        if (body.slowMs !== undefined) {
          const ms = Number(body.slowMs);
          if (!(Number.isFinite(ms) && ms >= 0 && ms <= 60000)) return send(res, 400, { error: 'slowMs must be 0..60000' });
          auth.config.slowMs = ms;
        }
        switch (body.action) {
          case undefined: break;
          case 'expire-now': auth.expireNow(); break;
          case 'revoke-all': auth.revokeAll('POST /control revoke-all'); break;
          case 'reset-stats': for (const k of Object.keys(auth.stats)) auth.stats[k] = 0; break;
          default: return send(res, 400, { error: 'action must be expire-now, revoke-all or reset-stats' });
        }
        return send(res, 200, controlState());
      }
      default:
        return send(res, 404, 'not found');
    }
  }

  function controlState() {
    return {
      mode: auth.config.mode,
      ttl: auth.config.ttl,
      slowMs: auth.config.slowMs,
      keyGeneration: auth.keyGeneration,
      activeSessions: auth.activeSessions,
      stats: { ...auth.stats },
    };
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err) => {
      if (!res.headersSent && !res.destroyed) send(res, err.status ?? 500, { error: err.status ? err.message : 'internal error' });
      if (!err.status) log(`error: ${err && err.message}`);
    });
  });
  server.keepAliveTimeout = 30_000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: actual } = server.address();
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${actual}`,
    auth,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

// Run as a program: `node www/server.mjs`.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = process.env.PORT === undefined ? 8080 : Number(process.env.PORT);
  const ttl = process.env.TOKEN_TTL === undefined ? 20 : Number(process.env.TOKEN_TTL);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT must be a port number (0 picks a free one), not ${JSON.stringify(process.env.PORT)}`);
    process.exit(2);
  }
  if (!isTtl(ttl)) {
    console.error(`TOKEN_TTL must be a number of seconds from 1 to 3600, not ${JSON.stringify(process.env.TOKEN_TTL)}`);
    process.exit(2);
  }
  const quiet = process.env.QUIET === '1';
  try {
    const srv = await startDemoServer({ port, host: process.env.HOST ?? '127.0.0.1', ttl, quiet });
    process.stdout.write(`freshtoken demo: ${srv.url}  (access tokens live ${ttl} s; Ctrl-C to stop)\n`);
    const stop = () => { srv.close().then(() => process.exit(0)); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } catch (err) {
    console.error(err.code === 'EADDRINUSE'
      ? `port ${port} is in use: set PORT to another port (PORT=0 picks a free one)`
      : `could not start the demo server: ${err.message}`);
    process.exit(1);
  }
}
