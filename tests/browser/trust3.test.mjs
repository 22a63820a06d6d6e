// Trust, third round (issue 18), in headless Chromium against the real local auth server
// and a second, "foreign" origin that records what reaches it. Each test names the item of
// the issue it proves. Item 3 (server rendering) is in tests/node/ssr.test.mjs, item 4
// (crossTab with a replaced or disposed refresher) in tests/browser/trust3-tabs.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { trustSuite, create, assertNoLeak } from '../support/trust-page.mjs';

const { setup } = trustSuite();

/** The access tokens that reached `path`, in order. */
const sentTokens = (srv, path) => srv.requestsTo(path).map((q) => (q.headers.authorization ?? '').replace(/^Bearer /, ''));

// ------------------------------------------------- 1: requests belong to their session

for (const via of ['refresher.fetch', 'interceptor', 'axios']) {
  test(`1: a request of user 1 waiting on a refresh when the app calls logout(); setTokens(user2) is settled with a SessionError, never sent with user 2's token (${via})`, { timeout: 30_000 }, async () => {
    const { srv, page } = await setup();
    const user1 = { accessToken: srv.expiredToken(), refreshToken: srv.issueTokens().refreshToken };
    const user2 = srv.issueTokens();
    srv.setRefreshOutcomes([{ status: 200, delay: 1500 }]); // user 1's refresh is slow
    await create(page, srv, user1);
    const out = await page.evaluate(async ({ via, user2 }) => {
      let p;
      if (via === 'refresher.fetch') p = r.fetch('/api/echo');
      else if (via === 'interceptor') { r.installFetchInterceptor(); p = fetch('/api/echo'); }
      else { const api = axios.create(); ftAxios.attachAxios(r, api); p = api.get('/api/echo'); }
      const settled = settle(p);
      await sleep(300); // the request waits for user 1's refresh
      r.logout();
      r.setTokens(user2);
      return settled;
    }, { via, user2 });
    assert.equal(out.name, 'SessionError', JSON.stringify(out));
    assert.equal(out.code, 'logged-out');
    await new Promise((res) => setTimeout(res, 1800)); // user 1's refresh answers meanwhile
    const sent = sentTokens(srv, '/api/echo');
    assert.ok(!sent.includes(user2.accessToken), `user 1's request went out with user 2's token (${sent.length} sends)`);
    assert.equal(await page.evaluate(() => r.accessToken), user2.accessToken, 'user 2 keeps their session');
  });
}

test('1: a request of user 1 answered 401, waiting for the refresh to replay, gets its 401 back when the app logs out and user 2 logs in; user 2\'s token is never sent for it', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const user1 = srv.issueTokens();
  await create(page, srv, user1);
  srv.revokeAccessTokens(); // user 1's access token is refused from now on
  const user2 = srv.issueTokens();
  srv.setRefreshOutcomes([{ status: 200, delay: 1500 }]);
  const out = await page.evaluate(async (user2) => {
    const settled = settle(r.fetch('/api/echo'));
    await waitFor(() => r.state === 'refreshing', 5000, 'the refresh after the 401');
    r.logout();
    r.setTokens(user2);
    return settled;
  }, user2);
  assert.equal(out.status, 401, JSON.stringify(out));
  const sent = sentTokens(srv, '/api/echo');
  assert.deepEqual(sent, [user1.accessToken], 'one send, with user 1\'s token; no replay with user 2\'s');
  assert.equal(await page.evaluate(() => r.accessToken), user2.accessToken);
});

test('1: a plain setTokens() without a logout may hand a waiting request the new token, at once (the waiter wakes on the change)', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const user1 = { accessToken: srv.expiredToken(), refreshToken: srv.issueTokens().refreshToken };
  const next = srv.issueTokens();
  srv.setRefreshOutcomes([{ status: 200, delay: 3000 }]);
  await create(page, srv, user1);
  const out = await page.evaluate(async (next) => {
    const t0 = performance.now();
    const settled = settle(r.fetch('/api/echo'));
    await sleep(300);
    r.setTokens(next);
    const res = await settled;
    return { ...res, ms: performance.now() - t0 };
  }, next);
  assert.equal(out.status, 200, JSON.stringify(out));
  assert.ok(out.ms < 2000, `answered after ${Math.round(out.ms)} ms, not at once`);
  assert.deepEqual(sentTokens(srv, '/api/echo'), [next.accessToken]);
});

// ------------------------------------------------- 2: the refresh call's origin

for (const preset of ['json', 'bearer-put', 'sanic-jwt', 'oauth2']) {
  test(`2: with a relative endpoint.url and an injected <base href> on another origin, the refresh call (preset ${preset}) is not made there; the session is kept`, { timeout: 30_000 }, async () => {
    const { srv, foreign, page } = await setup();
    const tokens = srv.issueTokens();
    const out = await page.evaluate(async ({ tokens, preset, foreignURL }) => {
      window.r = await ft.createRefresher({ tokens, endpoint: { url: '/auth/refresh', preset } });
      listen(r);
      // HTML injection: a <base href> on the attacker's origin (no CSP base-uri).
      const base = document.createElement('base');
      base.href = `${foreignURL}/based/`;
      document.head.prepend(base);
      const err = await r.refresh().catch((e) => ({ name: e.name, code: e.code, message: e.message }));
      return { err, state: r.state, token: r.accessToken, errors: events.filter((e) => e.e === 'refresh-error').map((e) => e.code) };
    }, { tokens, preset, foreignURL: foreign.url });
    assert.equal(foreign.requests.length, 0, `the refresh went to the injected base: ${foreign.requests.map((q) => q.path)}`);
    assertNoLeak(srv, foreign);
    assert.equal(out.err.name, 'RefreshError');
    assert.equal(out.err.code, 'refused-origin');
    assert.ok(out.err.message.includes(foreign.url) && !out.err.message.includes(tokens.accessToken), out.err.message);
    assert.deepEqual(out.errors, ['refused-origin']);
    assert.equal(out.state, 'fresh', 'a refused refresh call is no logout');
    assert.equal(out.token, tokens.accessToken);
    assert.equal(srv.state.refreshCalls, 0);
  });
}

test('2: a relative endpoint.url refreshes against the page\'s origin, also when `origins` names only another; an absolute one on its own origin works too', { timeout: 30_000 }, async () => {
  const { srv, foreign, page } = await setup();
  const tokens = srv.issueTokens();
  const out = await page.evaluate(async ({ tokens, foreignURL }) => {
    window.r = await ft.createRefresher({ tokens, endpoint: { url: '/auth/refresh' }, origins: [foreignURL] });
    const fresh = await r.refresh();
    return { changed: fresh !== tokens.accessToken };
  }, { tokens, foreignURL: foreign.url });
  assert.ok(out.changed);
  assert.equal(srv.state.refreshCalls, 1);
});

// ------------------------------------------------- 5: replay exactly once

for (const wrapper of ['sync', 'async']) {
  test(`5: refresher.fetch with the interceptor installed and a(n) ${wrapper} fetch wrapper installed after it: a 403 route is sent twice, refreshed once, one forbidden event`, { timeout: 30_000 }, async () => {
    const { srv, page } = await setup();
    await create(page, srv, srv.issueTokens());
    const out = await page.evaluate(async (wrapper) => {
      r.installFetchInterceptor();
      const inner = window.fetch;
      // An APM/logging wrapper, installed after freshtoken's interceptor.
      window.fetch = wrapper === 'sync'
        ? function apm(input, init) { return inner.call(this, input, init); }
        : async function apm(input, init) { await null; return inner.call(this, input, init); };
      const res = await r.fetch('/api/forbidden');
      const viaGlobal = await fetch('/api/forbidden');
      return { status: res.status, global: viaGlobal.status, forbidden: count('forbidden') };
    }, wrapper);
    assert.equal(out.status, 403);
    assert.equal(out.global, 403);
    assert.equal(srv.requestsTo('/api/forbidden').length, 4, 'two sends for each of the two requests');
    assert.equal(srv.state.refreshCalls, 2, 'one refresh for each request');
    assert.equal(out.forbidden, 2, 'one forbidden event for each request');
  });
}

test('5: axios with its fetch adapter under an installed interceptor: the 403 route is replayed once in all (not by both layers)', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  await create(page, srv, srv.issueTokens());
  const out = await page.evaluate(async () => {
    r.installFetchInterceptor();
    const api = axios.create({ adapter: 'fetch' });
    ftAxios.attachAxios(r, api);
    const res = await api.get('/api/forbidden').catch((e) => e.response);
    return { status: res.status, forbidden: count('forbidden') };
  });
  assert.equal(out.status, 403);
  assert.ok(srv.requestsTo('/api/forbidden').length <= 2, `${srv.requestsTo('/api/forbidden').length} sends`);
  assert.equal(out.forbidden, 1);
});

// ------------------------------------------------- 6: empty tokens

test('6: an empty refresh token is refused by createRefresher and setTokens with an OptionsError; a JSON POST during a refresh keeps its token', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const tokens = srv.issueTokens();
  const out = await page.evaluate(async ({ base, tokens }) => {
    const grab = (f) => { try { f(); return null; } catch (e) { return { name: e.name, code: e.code, message: e.message }; } };
    const created = await ft.createRefresher({ tokens: { ...tokens, refreshToken: '' }, endpoint: { url: `${base}/auth/refresh` } })
      .then(() => null, (e) => ({ name: e.name, code: e.code, message: e.message }));
    window.r = await ft.createRefresher({ tokens, endpoint: { url: `${base}/auth/refresh` } });
    const set = grab(() => r.setTokens({ ...tokens, refreshToken: '' }));
    return { created, set, kept: r.accessToken === tokens.accessToken };
  }, { base: srv.url, tokens });
  for (const e of [out.created, out.set]) {
    assert.equal(e?.name, 'OptionsError', JSON.stringify(e));
    assert.match(e.message, /refreshToken must be a non-empty string/);
  }
  assert.ok(out.kept, 'a refused setTokens changes nothing');
  // While a refresh runs, a JSON POST to the API is the app's, not refresh traffic.
  srv.setRefreshOutcomes([{ status: 200, delay: 1000 }]);
  const post = await page.evaluate(async () => {
    const refreshing = r.refresh();
    const res = await r.fetch('/api/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ order: 1 }) });
    await refreshing;
    return res.status;
  });
  assert.equal(post, 200);
});

// ------------------------------------------------- 7: origins that are not origins

test('7: origins without a scheme, with ftp:/wss:/javascript:, a path, a query or credentials are refused with an OptionsError naming the entry; scheme://host[:port][/] is accepted', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const out = await page.evaluate(async (base) => {
    const tryOrigins = (origins) => ft.createRefresher({ endpoint: { url: `${base}/auth/refresh` }, origins })
      .then((r) => { r.dispose(); return null; }, (e) => ({ name: e.name, message: e.message }));
    const bad = {};
    for (const o of ['api.example.com', 'ftp://files.example.com', 'wss://socket.example.com', 'javascript:alert(1)',
      'https://api.example.com/v1', 'https://api.example.com?x=1', 'https://user:pw@api.example.com', '//api.example.com', '']) {
      bad[o] = await tryOrigins([o]);
    }
    const good = {};
    for (const o of ['https://api.example.com', 'https://api.example.com/', 'http://127.0.0.1:8080', 'HTTPS://API.Example.com']) good[o] = await tryOrigins([o]);
    return { bad, good };
  }, srv.url);
  for (const [entry, err] of Object.entries(out.bad)) {
    assert.equal(err?.name, 'OptionsError', `${JSON.stringify(entry)} was accepted`);
    assert.ok(err.message.includes(JSON.stringify(entry)), `the message names ${JSON.stringify(entry)}: ${err.message}`);
  }
  for (const [entry, err] of Object.entries(out.good)) assert.equal(err, null, `${entry} refused: ${err?.message}`);
});

// ------------------------------------------------- 8: hardening

test('8: the server clock comes only from this refresher\'s origins: a skewed Date from another refresher\'s API does not make this one\'s token look expired', { timeout: 30_000 }, async () => {
  const { srv, foreign, page } = await setup();
  // The page's API (refresher r2's) runs a clock two hours ahead.
  srv.setDateHeader(new Date(Date.now() + 2 * 3600_000).toUTCString());
  const mine = srv.issueTokens();
  const out = await page.evaluate(async ({ base, foreignURL, mine, theirs }) => {
    window.r2 = await ft.createRefresher({ tokens: theirs, endpoint: { url: `${base}/auth/refresh` }, origins: [base] });
    await r2.fetch('/api/echo'); // r2 learns its server's clock
    // r talks to another API (the foreign origin) and restores a token with 1 h left.
    window.r = await ft.createRefresher({ endpoint: { url: `${foreignURL}/auth/refresh` }, origins: [foreignURL] });
    r.setTokens({ accessToken: mine.accessToken, refreshToken: mine.refreshToken });
    await sleep(300);
    return { inMin: (r.nextRefreshAt - Date.now()) / 60000 };
  }, { base: srv.url, foreignURL: foreign.url, mine, theirs: srv.issueTokens() });
  assert.deepEqual(foreign.requests.map((q) => q.path), [], 'another API\'s clock made this token look expired');
  assert.ok(out.inMin > 40, `next refresh in ${out.inMin.toFixed(1)} min`);
});

for (const date of ['2099', '0', '1.5', '4102444800', 'Thu, 01 Jan 2099 00:00:00', 'Fri, 31 Feb 2099 00:00:00 GMT']) {
  test(`8: a Date header that is not an HTTP-date (${JSON.stringify(date)}) does not move the server clock`, { timeout: 30_000 }, async () => {
    const { srv, page } = await setup();
    srv.setDateHeader(date);
    const tokens = srv.issueTokens();
    const out = await page.evaluate(async ({ base, tokens }) => {
      window.r = await ft.createRefresher({ tokens, endpoint: { url: `${base}/auth/refresh` }, origins: [base] });
      await r.fetch('/api/echo');
      r.setTokens({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken }); // restored: exp in 1 h
      await sleep(300);
      return { inMin: (r.nextRefreshAt - Date.now()) / 60000 };
    }, { base: srv.url, tokens });
    assert.equal(srv.state.refreshCalls, 0, `Date: ${date} was read as a date`);
    assert.ok(out.inMin > 40, `next refresh in ${out.inMin.toFixed(1)} min`);
  });
}

test('8: a valid HTTP-date in each RFC 9110 form (IMF-fixdate, RFC 850, asctime) from the refresher\'s own API is used: a restored token past its exp by it is refreshed first', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  const ahead = new Date(Date.now() + 2 * 3600_000);
  const imf = ahead.toUTCString();
  const [dow, dd, mon, yyyy, time] = imf.replace(',', '').split(' ');
  const full = { Mon: 'Monday', Tue: 'Tuesday', Wed: 'Wednesday', Thu: 'Thursday', Fri: 'Friday', Sat: 'Saturday', Sun: 'Sunday' }[dow];
  const forms = [imf, `${full}, ${dd}-${mon}-${yyyy.slice(2)} ${time} GMT`, `${dow} ${mon} ${String(+dd).padStart(2, ' ')} ${time} ${yyyy}`];
  for (const date of forms) {
    srv.setDateHeader(date);
    const before = srv.state.refreshCalls;
    const tokens = srv.issueTokens();
    await page.evaluate(async ({ base, tokens }) => {
      window.r?.dispose();
      window.r = await ft.createRefresher({ tokens, endpoint: { url: `${base}/auth/refresh` }, origins: [base] });
      await r.fetch('/api/echo');
      r.setTokens({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken });
      await waitFor(() => r.accessToken !== tokens.accessToken, 5000, 'the refresh of the token expired by the server clock');
    }, { base: srv.url, tokens });
    assert.equal(srv.state.refreshCalls, before + 1, `Date: ${date}`);
  }
});

test('8: a JWT-shaped token decodeToken refuses (too-large, bad-json) is refused by setTokens and by the refresh answer\'s checks, never given defaultLifetimeMs', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup({ rotateRefreshTokens: true });
  const tokens = srv.issueTokens();
  const huge = `eyJhbGciOiJIUzI1NiJ9.eyJ${'A'.repeat(300 * 1024)}.sig`;
  const badJson = 'eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig';
  await create(page, srv, tokens);
  const out = await page.evaluate(({ huge, badJson }) => {
    const res = {};
    for (const [name, t] of [['huge', huge], ['badJson', badJson]]) {
      let decode = null;
      try { ft.decodeToken(t); } catch (e) { decode = e.code; }
      try { r.setTokens({ accessToken: t, refreshToken: 'x' }); res[name] = { accepted: true }; } catch (e) {
        res[name] = { decode, name: e.name, code: e.code, message: e.message, leaked: e.message.includes(t.slice(0, 40)) };
      }
    }
    return res;
  }, { huge, badJson });
  assert.deepEqual(out.huge, { decode: 'too-large', name: 'TokenDecodeError', code: 'too-large', message: out.huge.message, leaked: false });
  assert.deepEqual(out.badJson, { decode: 'bad-json', name: 'TokenDecodeError', code: 'bad-json', message: out.badJson.message, leaked: false });
  // The same token in a refresh answer: refused, the rotated refresh token kept, the session kept.
  srv.setRefreshOutcomes([{ status: 200, body: JSON.stringify({ accessToken: huge, refreshToken: 'rotated-1', expiresIn: 3600 }) }]);
  const answer = await page.evaluate(async () => {
    const err = await r.refresh().then(() => null, (e) => ({ name: e.name, code: e.code }));
    return { err, token: r.accessToken, state: r.state };
  });
  assert.deepEqual(answer.err, { name: 'RefreshError', code: 'too-large' });
  assert.equal(answer.token, tokens.accessToken, 'the old access token is kept');
  assert.equal(answer.state, 'fresh');
  // The next refresh (the backoff's retry, or this explicit one) spends the rotated
  // refresh token the refused answer brought.
  srv.state.refreshTokens.add('rotated-1');
  await page.evaluate(() => sleep(1300).then(() => r.refresh()));
  const calls = srv.requestsTo('/auth/refresh');
  assert.ok(calls.length >= 2, `${calls.length} refresh calls`);
  assert.equal(JSON.parse(calls[1].body).refreshToken, 'rotated-1');
});

test('8: attachAxios given the `import * as axios` namespace, a config object or null throws an OptionsError that says so', { timeout: 30_000 }, async () => {
  const { srv, page } = await setup();
  await create(page, srv, srv.issueTokens());
  const out = await page.evaluate(() => {
    const res = [];
    for (const thing of [axiosNamespace, { baseURL: '/api' }, null, undefined, 42]) {
      try { ftAxios.attachAxios(r, thing); res.push(null); } catch (e) { res.push({ name: e.name, message: e.message }); }
    }
    return res;
  });
  for (const e of out) {
    assert.equal(e?.name, 'OptionsError', JSON.stringify(e));
    assert.match(e.message, /attachAxios needs an axios instance/);
  }
});
