// An app's test under Vitest 4 + happy-dom using freshtoken from the tarball, with no mock:
// createRefresher loads the real wasm (from disk: node cannot fetch file: URLs) and talks to
// the real test server at process.env.API (the endpoint preset and refresher.fetch).
import { test, expect } from 'vitest';
import { createRefresher, decodeToken, RefreshError, FreshtokenError } from 'freshtoken';

const api = process.env.API;

test('a refresher in happy-dom: created, refreshed over HTTP, its fetch carries the token', async () => {
  expect(typeof window).toBe('object'); // happy-dom's window
  const login = await (await fetch(`${api}/auth/login`, { method: 'POST' })).json();
  expect(location.origin).toBe(api);
  // Same origin as the page: the default `origins` lets the token go there.
  const refresher = await createRefresher({ tokens: login, endpoint: { url: '/auth/refresh' } });
  expect(refresher.state).toBe('fresh');
  expect(decodeToken(login.accessToken).format).toBe('jwt');
  const events = [];
  refresher.on('refresh', () => events.push('refresh'));
  const next = await refresher.refresh();
  expect(next).not.toBe(login.accessToken);
  expect(events).toEqual(['refresh']);
  const res = await refresher.fetch('/api/echo', { method: 'POST', body: 'from vitest' });
  expect(res.status).toBe(200);
  expect((await res.json()).body).toBe('from vitest');
  refresher.dispose();
});

test('errors are classes: instanceof works on what the refresher rejects with', async () => {
  const refresher = await createRefresher({
    tokens: { accessToken: 'opaque-token', refreshToken: 'r', expiresIn: 60 },
    refresh: async () => { throw new Error('the network is down'); },
  });
  const err = await refresher.refresh().catch((e) => e);
  expect(err).toBeInstanceOf(Error);
  expect(err.message).not.toContain('opaque-token');
  await expect(createRefresher({ refreshAt: 3, refresh: async () => ({}) })).rejects.toBeInstanceOf(FreshtokenError);
  expect(RefreshError.prototype).toBeInstanceOf(FreshtokenError);
  refresher.dispose();
});
