// freshtoken/react in headless Chromium against the real local auth server: the page
// (pages/react-app.js) is bundled by esbuild with React's development build, so <StrictMode>
// really double-invokes effects, and served same-origin under /app/ beside /auth/refresh.
// Listener counts are read from the refresher's own emitter (refresher._events.listeners).
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { frameworkApp, pageHelpers, LOADING, NONE, hookCounts as hooks } from '../support/framework-app.mjs';

const T = { timeout: 30_000 };
const app = frameworkApp('react', {
  cleanup: () => {
    window.unmount();
    window.unmountSession();
    for (const r of [window.refresher, window.other]) r?.dispose();
  },
});
let srv;
let tab;
let page;
beforeEach(() => { ({ srv, tab, page } = app); });
const { accessToken, waitShown, mountSession, sessionRenders, waitSession } = pageHelpers(app);

const makeRefresher = (tokens, name = 'refresher') =>
  page.evaluate(([base, t, n]) => window.makeRefresher(base, t, n), [srv.url, tokens, name]);
const listenerCount = (name = 'refresher') => page.evaluate((n) => window.listenerCount(window[n]), name);
const shown = () => page.evaluate(() => window.shown());
/** Waits until the components' plain effects have run `setups` times (the hook's subscribe runs before them). */
const waitEffects = (setups) => page.waitForFunction((n) => window.effects.setups >= n, setups, { timeout: 10_000 });

test('useAccessToken re-renders with the new token after a scheduled refresh over HTTP', T, async () => {
  const first = await makeRefresher(srv.issueTokens()); // a 3 s JWT: refreshed at ~2.4 s
  await page.evaluate(() => window.mount({ ids: ['a'] }));
  await waitShown(['a'], first);

  // Nobody calls refresh(): the refresher's own timer does, over HTTP.
  await page.waitForFunction((t) => window.refresher.accessToken !== t, first, { timeout: 10_000 });
  const next = await accessToken();
  assert.notEqual(next, first);
  assert.ok(srv.state.refreshCalls >= 1, 'the server saw the refresh');
  assert.ok(srv.issued(next), 'the new token came from the server');
  await waitShown(['a'], next);
  const seen = await page.evaluate(() => window.renders.map((r) => r.token));
  assert.equal(seen[0], first, 'the first render had the first token');
  assert.equal(seen.at(-1), next, 'the last render has the refreshed token');
  assert.deepEqual((await shown()).map((s) => s.text), [await accessToken()]);
  assert.deepEqual(tab.errors, []);
});

test('StrictMode (development) double mount: one subscription per event per hook, none after root.unmount()', T, async () => {
  const first = await makeRefresher(srv.issueTokens({ lifetime: 30 }));
  assert.deepEqual(await listenerCount(), NONE, 'no listener before mounting');

  await page.evaluate(() => window.mount({ ids: ['a'], strict: true }));
  await waitShown(['a'], first);
  await waitEffects(2);
  const effects = await page.evaluate(() => window.effects);
  // Proof the double mount happened: mount, unmount, mount again.
  assert.deepEqual(effects, { setups: 2, cleanups: 1 }, 'StrictMode double-invoked the effects (development build)');
  assert.deepEqual(await listenerCount(), hooks(1), 'exactly one listener per event, not two');

  // The surviving subscription is the live one: an explicit refresh re-renders.
  const next = await page.evaluate(() => window.refresher.refresh());
  assert.notEqual(next, first);
  assert.equal(srv.state.refreshCalls, 1);
  await waitShown(['a'], next);
  assert.deepEqual(await listenerCount(), hooks(1));

  // Two hooks under StrictMode: two listeners per event.
  await page.evaluate(() => window.mount({ ids: ['a', 'b'], strict: true }));
  await waitShown(['a', 'b'], next);
  await waitEffects(4);
  assert.deepEqual(await listenerCount(), hooks(2));

  await page.evaluate(() => window.unmount());
  assert.deepEqual(await listenerCount(), NONE, 'root.unmount() left no listener');
  assert.deepEqual(tab.errors, []);
});

test('several components update together; unmounting one keeps the others subscribed', T, async () => {
  const first = await makeRefresher(srv.issueTokens({ lifetime: 30 }));
  await page.evaluate(() => window.mount({ ids: ['a', 'b', 'c'] }));
  await waitShown(['a', 'b', 'c'], first);
  await waitEffects(6);
  assert.deepEqual(await listenerCount(), hooks(3));

  const second = await page.evaluate(() => window.refresher.refresh());
  await waitShown(['a', 'b', 'c'], second);

  // 'b' goes away; 'a' and 'c' stay mounted and subscribed.
  await page.evaluate(() => window.mount({ ids: ['a', 'c'] }));
  await waitShown(['a', 'c'], second);
  assert.deepEqual(await listenerCount(), hooks(2), 'only the unmounted component unsubscribed');

  const third = await page.evaluate(() => window.refresher.refresh());
  assert.notEqual(third, second);
  assert.equal(srv.state.refreshCalls, 2);
  await waitShown(['a', 'c'], third);
  const rendersOfB = await page.evaluate((t) => window.renders.filter((r) => r.id === 'b' && r.token === t).length, third);
  assert.equal(rendersOfB, 0, 'the unmounted component never rendered again');

  await page.evaluate(() => window.unmount());
  assert.deepEqual(await listenerCount(), NONE);
  assert.deepEqual(tab.errors, []);
});

test('a new refresher given to the provider moves the subscription to it', T, async () => {
  const one = await makeRefresher(srv.issueTokens({ lifetime: 30 }));
  const two = await makeRefresher(srv.issueTokens({ lifetime: 30 }), 'other');
  await page.evaluate(() => window.mount({ ids: ['a', 'b'] }));
  await waitShown(['a', 'b'], one);
  await waitEffects(4);
  assert.deepEqual(await listenerCount('refresher'), hooks(2));
  assert.deepEqual(await listenerCount('other'), NONE);

  await page.evaluate(() => window.mount({ ids: ['a', 'b'], refresher: 'other' }));
  await waitShown(['a', 'b'], two);
  assert.deepEqual(await listenerCount('refresher'), NONE, 'the old refresher has no listener left');
  assert.deepEqual(await listenerCount('other'), hooks(2));

  // Only the new one drives the components now.
  await page.evaluate(() => window.refresher.refresh());
  const twoNext = await page.evaluate(() => window.other.refresh());
  await waitShown(['a', 'b'], twoNext);
  assert.equal(srv.state.refreshCalls, 2);
  await page.evaluate(() => window.unmount());
  assert.deepEqual(await listenerCount('other'), NONE);
  assert.deepEqual(tab.errors, []);
});

test('useRefresher() and useAccessToken() without a provider throw FreshtokenError no-provider to the error boundary', T, async () => {
  await makeRefresher(srv.issueTokens({ lifetime: 30 }));
  // Under a provider, useRefresher() returns the provided refresher.
  await page.evaluate(() => window.mount({ ids: ['p'], component: 'WhoRefreshes', strict: false }));
  await page.waitForFunction(() => window.gotRefresher.length > 0);
  assert.deepEqual(await page.evaluate(() => window.gotRefresher.map((g) => g.same)), [true]);
  await page.evaluate(() => window.unmount());

  await page.evaluate(() => window.mount({ ids: ['r'], component: 'WhoRefreshes', provider: false, strict: false }));
  await page.waitForFunction(() => window.caught.some((c) => c.id === 'r'));
  await page.evaluate(() => window.unmount());
  await page.evaluate(() => window.mount({ ids: ['t'], component: 'Token', provider: false, strict: false }));
  await page.waitForFunction(() => window.caught.some((c) => c.id === 't'));

  const caught = await page.evaluate(() => window.caught);
  assert.equal(caught.length, 2, 'one error per component');
  for (const c of caught) {
    assert.equal(c.name, 'FreshtokenError');
    assert.equal(c.code, 'no-provider');
    assert.match(c.message, /RefresherProvider/);
  }
  assert.equal(await page.evaluate(() => document.querySelector('[data-error]')?.textContent), 'error: no-provider');
  assert.equal(await page.evaluate(() => window.effects.setups), 1, 'no component without a provider mounted');
  assert.deepEqual(await listenerCount(), NONE);
  assert.deepEqual(tab.errors, [], 'the boundary caught it: nothing uncaught');
});

test('logout(): every hook renders null, stays subscribed, and shows a new login at once', T, async () => {
  const first = await makeRefresher(srv.issueTokens({ lifetime: 30 }));
  await page.evaluate(() => window.mount({ ids: ['a', 'b'] }));
  await waitShown(['a', 'b'], first);

  await page.evaluate(() => window.refresher.logout());
  assert.equal(await accessToken(), null);
  await waitShown(['a', 'b'], 'null');
  const last = await page.evaluate(() => ['a', 'b'].map((id) => window.renders.filter((r) => r.id === id).at(-1).token));
  assert.deepEqual(last, [null, null], 'the hook returned null');
  assert.deepEqual(await listenerCount(), hooks(2), 'logout does not unsubscribe the components');

  const again = srv.issueTokens({ lifetime: 30 });
  await page.evaluate((t) => window.refresher.setTokens(t), again);
  await waitShown(['a', 'b'], again.accessToken);
  assert.equal(srv.state.refreshCalls, 0);
  assert.deepEqual(tab.errors, []);
});

test('a refresh the server rejects ends the session: the hook renders null', T, async () => {
  const first = await makeRefresher(srv.issueTokens({ lifetime: 30 }));
  await page.evaluate(() => {
    window.expired = 0;
    window.refresher.on('session-expired', () => { window.expired += 1; });
    window.mount({ ids: ['a'] });
  });
  await waitShown(['a'], first);

  srv.revokeRefreshTokens();
  const err = await page.evaluate(() => window.refresher.refresh().then(() => null, (e) => ({ name: e.name, code: e.code })));
  assert.ok(err, 'the refresh failed');
  assert.equal(srv.state.refreshCalls, 1);
  await page.waitForFunction(() => window.expired === 1, null, { timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.refresher.state), 'expired');
  await waitShown(['a'], 'null');
  assert.deepEqual(tab.errors, []);
});

// --- the new forms: useFreshtoken() with a provider given options or a promise; SSR hydration ---


test('options form (StrictMode): loading first, then the refresher the provider created; a scheduled refresh re-renders; fetch sends the token; unmount disposes it', T, async () => {
  const login = srv.issueTokens(); // 3 s: refreshed at ~2.4 s
  await mountSession('options', login);
  await waitSession((t) => window.sessionShown()?.text === t, login.accessToken);
  const renders = await sessionRenders();
  assert.deepEqual(renders[0], LOADING, 'the first render is the loading state');
  const ready = renders.find((r) => !r.isLoading);
  assert.deepEqual(ready, { id: 's', state: 'fresh', isLoading: false, token: login.accessToken, hasRefresher: true, error: null });

  // The refresher's own timer refreshes over HTTP; the hook re-renders with the new token.
  await waitSession((t) => { const s = window.sessionShown(); return s && s.text !== t && s.text !== 'loading'; }, login.accessToken);
  const next = (await page.evaluate(() => window.sessionShown())).text;
  assert.ok(srv.issued(next), 'the token shown came from the server');
  assert.equal(srv.state.refreshCalls, 1, 'one refresh: the refresher StrictMode created and dropped was disposed');

  // The hook's fetch goes through the refresher: the API got the Bearer token.
  const status = await page.evaluate((base) => window.session.fetch(`${base}/api/echo`).then((r) => r.status), srv.url);
  assert.equal(status, 200);
  assert.equal(srv.requestsTo('/api/echo').at(-1).headers.authorization, `Bearer ${next}`);

  // Unmounting the provider disposes what it created: no listener, no timer, no more refresh.
  await page.evaluate(() => { window.created = window.session.refresher; window.unmountSession(); });
  assert.equal(await page.evaluate(() => window.created.state), 'logged-out', 'disposed');
  assert.deepEqual(await page.evaluate(() => window.listenerCount(window.created)), NONE);
  await page.waitForTimeout(3_000);
  assert.equal(srv.state.refreshCalls, 1, 'no refresh after unmount');
  assert.deepEqual(tab.errors, []);
});

test('promise form: loading until the promise resolves, then ready; a rejected promise gives state error with the error (instanceof)', T, async () => {
  await mountSession('promise', null);
  await waitSession(() => window.sessionShown()?.text === 'loading');
  // Actions called while loading wait for the refresher.
  await page.evaluate(() => { window.early = window.session.getAccessToken(); });
  await page.waitForTimeout(300);
  assert.deepEqual((await sessionRenders()).at(-1), LOADING, 'still loading while the promise is pending');
  const login = srv.issueTokens({ lifetime: 30 });
  await page.evaluate(([base, t]) => window.settlePromise(true, base, t), [srv.url, login]);
  await waitSession((t) => window.sessionShown()?.text === t, login.accessToken);
  assert.equal(await page.evaluate(() => window.early), login.accessToken, 'getAccessToken() waited for the refresher');
  assert.equal(await page.evaluate(() => window.session.refresher === window.refresher), true);
  await page.evaluate(() => window.unmountSession());
  assert.equal(await page.evaluate(() => window.refresher.state), 'fresh', 'a refresher the app gave is not disposed by the provider');

  await page.evaluate(() => { window.sessionRenders = []; });
  await mountSession('promise', null);
  await page.evaluate(() => { window.early = window.session.refresh().then(() => null, (e) => window.describeError(e)); });
  await page.evaluate(() => window.settlePromise(false));
  await waitSession(() => window.sessionShown()?.state === 'error');
  const last = (await sessionRenders()).at(-1);
  assert.equal(last.isLoading, false);
  assert.equal(last.hasRefresher, false);
  assert.deepEqual([last.error.name, last.error.code, last.error.isFreshtokenError], ['FreshtokenError', 'wasm-load-failed', true]);
  assert.equal((await page.evaluate(() => window.early)).code, 'wasm-load-failed', 'waiting actions reject with the same error');
  assert.equal(await page.evaluate(() => window.sessionShown().text), 'error: wasm-load-failed');
  const before = await page.evaluate(() => { try { window.session.logout(); return null; } catch (e) { return window.describeError(e); } });
  assert.deepEqual([before.name, before.code], ['FreshtokenError', 'not-initialized']);
  assert.deepEqual(tab.errors, []);
});

test('options the refresher refuses: state error, error instanceof OptionsError; a transient refresh failure is error instanceof RefreshError until the next refresh', T, async () => {
  await mountSession('bad-options', srv.issueTokens());
  await waitSession(() => window.sessionShown()?.state === 'error');
  const failed = (await sessionRenders()).at(-1).error;
  assert.deepEqual([failed.name, failed.code, failed.isOptionsError, failed.isFreshtokenError], ['OptionsError', 'bad-option', true, true]);
  assert.match(failed.message, /refreshAt/);
  await page.evaluate(() => window.unmountSession());

  const login = srv.issueTokens({ lifetime: 30 });
  await makeRefresher(login);
  await page.evaluate(() => { window.sessionRenders = []; });
  await mountSession('refresher', null);
  await waitSession((t) => window.sessionShown()?.text === t, login.accessToken);
  assert.equal((await sessionRenders())[0].state, 'fresh', 'a ready refresher: no loading render');
  srv.setRefreshOutcomes([503]);
  await page.evaluate(() => window.refresher.refresh().catch(() => {}));
  await waitSession(() => window.sessionRenders.at(-1).error !== null);
  const transient = (await sessionRenders()).at(-1);
  assert.equal(transient.state, 'fresh', 'a transient failure keeps the session');
  assert.equal(transient.token, login.accessToken);
  assert.deepEqual([transient.error.name, transient.error.code, transient.error.isRefreshError, transient.error.isFreshtokenError], ['RefreshError', 'http', true, true]);
  assert.ok(!transient.error.message.includes(login.accessToken) && !transient.error.message.includes(login.refreshToken), 'no token in the error');
  const next = await page.evaluate(() => window.refresher.refresh());
  await waitSession((t) => window.sessionShown()?.text === t, next);
  assert.equal((await sessionRenders()).at(-1).error, null, 'a successful refresh clears the error');
  assert.deepEqual(tab.errors, []);
});

test('hydration of the markup react-dom/server rendered in node (loading state): no mismatch, then the token', T, async () => {
  const [{ renderToString }, { createElement: h, StrictMode }, { RefresherProvider }, { Session }] = await Promise.all([
    import('react-dom/server'), import('react'), import('../../js/react.js'), import('./pages/react-session.js')]);
  const login = srv.issueTokens({ lifetime: 30 });
  const options = { tokens: login, endpoint: { url: `${srv.url}/auth/refresh` }, origins: [srv.url], storage: 'memory' };
  const html = renderToString(h(StrictMode, null, h(RefresherProvider, { options }, h(Session, { id: 's' }))));
  assert.match(html, /data-state="loading"[^>]*>loading</);
  assert.ok(!html.includes(login.accessToken), 'the server markup has no token');
  await mountSession('options', login, { hydrate: html });
  await waitSession((t) => window.sessionShown()?.text === t, login.accessToken);
  assert.deepEqual(await page.evaluate(() => window.recoverable), [], 'no hydration error');
  assert.equal((await sessionRenders())[0].state, 'loading', 'hydration rendered the server state first');
  assert.ok(!tab.consoleText().match(/hydrat|did not match/i), `no hydration warning:\n${tab.consoleText()}`);
  assert.deepEqual(tab.errors, []);
});
