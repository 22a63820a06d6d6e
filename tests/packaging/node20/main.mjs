// freshtoken in a plain Node 20 script, installed from the tarball: init() (the wasm read
// from node_modules), decodeToken, createRefresher with a refresh function, refresh(), and
// refresher.fetch against the server at process.env.API. Prints one JSON line of results
// (never a token).
import init, { createRefresher, decodeToken, RefreshError } from 'freshtoken';

const api = process.env.API;
await init();
const login = await (await fetch(`${api}/auth/login`, { method: 'POST' })).json();
const info = decodeToken(login.accessToken);

const refresher = await createRefresher({
  tokens: login,
  origins: [api],
  refresh: async ({ refreshToken, signal }) => {
    const res = await fetch(`${api}/auth/refresh`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }), signal,
    });
    if (!res.ok) throw Object.assign(new Error(`refresh answered ${res.status}`), { sessionExpired: res.status === 401 });
    return res.json();
  },
});
const first = refresher.accessToken;
const refreshed = await refresher.refresh();
const res = await refresher.fetch(`${api}/api/echo`, { method: 'POST', body: 'from node' });
const body = await res.json();
refresher.dispose();
console.log(JSON.stringify({
  format: info.format,
  lifetimeMs: info.lifetimeMs,
  changed: refreshed !== first,
  status: res.status,
  echoed: body.body,
  refreshErrorIsClass: typeof RefreshError === 'function',
}));
