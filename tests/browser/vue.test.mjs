// freshtoken/vue in headless Chromium against the real local auth server: the page
// (pages/vue-app.js) is bundled by esbuild with Vue's esm-bundler runtime build and served
// same-origin under /app/ beside /auth/refresh. The token is read from the DOM; listener
// counts from the refresher's own emitter (refresher._events.listeners).
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { frameworkApp, pageHelpers, LOADING, NONE, hookCounts as hooks } from '../support/framework-app.mjs';

const T = { timeout: 30_000 };
const app = frameworkApp('vue', {
  define: {
    __VUE_OPTIONS_API__: 'true',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  cleanup: () => {
    window.unmountApp();
    window.unmountSession();
    window.stopScope();
    window.refresher?.dispose();
  },
});
let srv;
let tab;
let page;
beforeEach(() => { ({ srv, tab, page } = app); });
const { accessToken, waitShown, mountSession, sessionRenders, waitSession } = pageHelpers(app);

const makeRefresher = (tokens) => page.evaluate(([base, t]) => window.makeRefresher(base, t), [srv.url, tokens]);
const listenerCount = () => page.evaluate(() => window.listenerCount());

test('the ref shows the token in the DOM and updates after a scheduled refresh over HTTP', T, async () => {
  const first = await makeRefresher(srv.issueTokens()); // a 3 s JWT: refreshed at ~2.4 s
  await page.evaluate(() => window.mountApp({ ids: ['a'] }));
  await waitShown(['a'], first);
  assert.deepEqual(await page.evaluate(() => window.gotRefresher), [{ id: 'a', same: true }], 'useRefresher() gives the plugin\'s refresher');

  // Nobody calls refresh(): the refresher's own timer does, over HTTP.
  await page.waitForFunction((t) => window.refresher.accessToken !== t, first, { timeout: 10_000 });
  const next = await accessToken();
  assert.notEqual(next, first);
  assert.ok(srv.state.refreshCalls >= 1, 'the server saw the refresh');
  assert.ok(srv.issued(next), 'the new token came from the server');
  await waitShown(['a'], next);
  const values = await page.evaluate(() => window.values.map((v) => v.token));
  assert.equal(values[0], first);
  assert.ok(values.includes(next), 'the ref took the refreshed token');
  assert.equal(await page.evaluate(() => document.querySelector('[data-id="a"]').textContent), await accessToken());
  assert.deepEqual(tab.errors, []);
});

test('one listener per event per component; removing one keeps the others updating; app.unmount() leaves none', T, async () => {
  const first = await makeRefresher(srv.issueTokens({ lifetime: 30 }));
  assert.deepEqual(await listenerCount(), NONE, 'no listener before mounting');
  await page.evaluate(() => window.mountApp({ ids: ['a', 'b', 'c'] }));
  await waitShown(['a', 'b', 'c'], first);
  assert.deepEqual(await listenerCount(), hooks(3));

  const second = await page.evaluate(() => window.refresher.refresh());
  assert.notEqual(second, first);
  await waitShown(['a', 'b', 'c'], second);

  await page.evaluate(() => window.setIds(['a', 'c']));
  await waitShown(['a', 'c'], second);
  assert.deepEqual(await listenerCount(), hooks(2), 'the removed component\'s listeners went with it');

  const third = await page.evaluate(() => window.refresher.refresh());
  assert.equal(srv.state.refreshCalls, 2);
  await waitShown(['a', 'c'], third);
  const bLater = await page.evaluate((t) => window.values.filter((v) => v.id === 'b' && v.token === t).length, third);
  assert.equal(bLater, 0, 'the removed component\'s ref was not updated any more');

  await page.evaluate(() => window.unmountApp());
  assert.deepEqual(await listenerCount(), NONE, 'app.unmount() left no listener');
  assert.deepEqual(tab.errors, []);
});

test('useAccessToken() in an effectScope inside the app context: live until scope.stop(), then no listener', T, async () => {
  const first = await makeRefresher(srv.issueTokens({ lifetime: 30 }));
  assert.equal(await page.evaluate(() => window.scopedToken()), first);
  assert.deepEqual(await listenerCount(), hooks(1));
  const next = await page.evaluate(() => window.refresher.refresh());
  assert.equal(await page.evaluate(() => window.scoped.value), next);
  await page.evaluate(() => window.stopScope());
  assert.deepEqual(await listenerCount(), NONE, 'scope.stop() removed the listeners');
  assert.deepEqual(tab.errors, []);
});

test('app.use(freshtokenPlugin) without a refresher throws OptionsError bad-option', T, async () => {
  for (const args of [[], [{}], [{ refresher: null }]]) {
    const err = await page.evaluate((a) => window.pluginError(...a), args);
    assert.ok(err, `app.use(freshtokenPlugin${args.length ? ', ' + JSON.stringify(args[0]) : ''}) threw`);
    assert.equal(err.name, 'OptionsError');
    assert.equal(err.code, 'bad-option');
    assert.match(err.message, /refresher/);
  }
  assert.deepEqual(tab.errors, []);
});

test('useRefresher()/useAccessToken() without the plugin throw FreshtokenError no-provider', T, async () => {
  await makeRefresher(srv.issueTokens({ lifetime: 30 }));
  const outside = await page.evaluate(() => window.useRefresherOutside());
  assert.equal(outside?.name, 'FreshtokenError');
  assert.equal(outside.code, 'no-provider');
  assert.match(outside.message, /freshtokenPlugin/);

  await page.evaluate(() => window.mountApp({ ids: ['a'], plugin: false }));
  await page.waitForFunction(() => window.caught.length > 0);
  const caught = await page.evaluate(() => window.caught);
  assert.equal(caught.length, 1);
  assert.equal(caught[0].name, 'FreshtokenError');
  assert.equal(caught[0].code, 'no-provider');
  assert.deepEqual(await page.evaluate(() => window.shown()), [], 'the component did not render');
  assert.deepEqual(await listenerCount(), NONE);
  assert.deepEqual(tab.errors, []);
});

test('logout(): the ref becomes null in the DOM, stays subscribed, and shows a new login at once', T, async () => {
  const first = await makeRefresher(srv.issueTokens({ lifetime: 30 }));
  await page.evaluate(() => window.mountApp({ ids: ['a', 'b'] }));
  await waitShown(['a', 'b'], first);

  await page.evaluate(() => window.refresher.logout());
  assert.equal(await accessToken(), null);
  await waitShown(['a', 'b'], 'null');
  const last = await page.evaluate(() => ['a', 'b'].map((id) => window.values.filter((v) => v.id === id).at(-1).token));
  assert.deepEqual(last, [null, null], 'the ref holds null');
  assert.deepEqual(await listenerCount(), hooks(2));

  const again = srv.issueTokens({ lifetime: 30 });
  await page.evaluate((t) => window.refresher.setTokens(t), again);
  await waitShown(['a', 'b'], again.accessToken);
  assert.equal(srv.state.refreshCalls, 0);
  assert.deepEqual(tab.errors, []);
});

test('a refresh the server rejects ends the session: the ref becomes null', T, async () => {
  const first = await makeRefresher(srv.issueTokens({ lifetime: 30 }));
  await page.evaluate(() => window.mountApp({ ids: ['a'] }));
  await waitShown(['a'], first);
  srv.revokeRefreshTokens();
  const err = await page.evaluate(() => window.refresher.refresh().then(() => null, (e) => ({ name: e.name, code: e.code })));
  assert.ok(err, 'the refresh failed');
  assert.equal(srv.state.refreshCalls, 1);
  assert.equal(await page.evaluate(() => window.refresher.state), 'expired');
  await waitShown(['a'], 'null');
  assert.deepEqual(tab.errors, []);
});

// --- the new forms: useFreshtoken() with the plugin given options or a promise; SSR hydration ---


test('options form: loading first, then the refresher the plugin created after mount; a scheduled refresh updates the refs; fetch sends the token; app.unmount() disposes it', T, async () => {
  const login = srv.issueTokens(); // 3 s: refreshed at ~2.4 s
  await mountSession('options', login);
  await waitSession((t) => window.sessionShown()?.text === t, login.accessToken);
  const renders = await sessionRenders();
  assert.deepEqual(renders[0], LOADING, 'the first state is loading');
  assert.deepEqual(renders.find((r) => !r.isLoading), { id: 's', state: 'fresh', isLoading: false, token: login.accessToken, hasRefresher: true, error: null });

  await waitSession((t) => { const s = window.sessionShown(); return s && s.text !== t && s.text !== 'loading'; }, login.accessToken);
  const next = (await page.evaluate(() => window.sessionShown())).text;
  assert.ok(srv.issued(next), 'the token shown came from the server');
  assert.equal(srv.state.refreshCalls, 1);

  const status = await page.evaluate((base) => window.session.fetch(`${base}/api/echo`).then((r) => r.status), srv.url);
  assert.equal(status, 200);
  assert.equal(srv.requestsTo('/api/echo').at(-1).headers.authorization, `Bearer ${next}`);

  await page.evaluate(() => { window.created = window.session.refresher.value; window.unmountSession(); });
  assert.equal(await page.evaluate(() => window.created.state), 'logged-out', 'disposed');
  assert.deepEqual(await page.evaluate(() => window.listenerCount(window.created)), NONE);
  await page.waitForTimeout(3_000);
  assert.equal(srv.state.refreshCalls, 1, 'no refresh after unmount');
  assert.deepEqual(tab.errors, []);
});

test('promise form: loading until it resolves (actions wait), then ready; a rejected promise gives state error (instanceof FreshtokenError)', T, async () => {
  await mountSession('promise', null);
  await waitSession(() => window.sessionShown()?.text === 'loading');
  await page.evaluate(() => { window.early = window.session.getAccessToken(); });
  await page.waitForTimeout(300);
  assert.deepEqual((await sessionRenders()).at(-1), LOADING);
  const login = srv.issueTokens({ lifetime: 30 });
  await page.evaluate(([base, t]) => window.settlePromise(true, base, t), [srv.url, login]);
  await waitSession((t) => window.sessionShown()?.text === t, login.accessToken);
  assert.equal(await page.evaluate(() => window.early), login.accessToken, 'getAccessToken() waited for the refresher');
  await page.evaluate(() => window.unmountSession());
  assert.equal(await page.evaluate(() => window.refresher.state), 'fresh', 'a refresher the app gave is not disposed by the plugin');

  await page.evaluate(() => { window.sessionRenders = []; });
  await mountSession('promise', null);
  await page.evaluate(() => { window.early = window.session.refresh().then(() => null, (e) => window.describeError(e)); });
  await page.evaluate(() => window.settlePromise(false));
  await waitSession(() => window.sessionShown()?.state === 'error');
  const last = (await sessionRenders()).at(-1);
  assert.deepEqual([last.isLoading, last.hasRefresher], [false, false]);
  assert.deepEqual([last.error.name, last.error.code, last.error.isFreshtokenError], ['FreshtokenError', 'wasm-load-failed', true]);
  assert.equal((await page.evaluate(() => window.early)).code, 'wasm-load-failed');
  const before = await page.evaluate(() => { try { window.session.setTokens({ accessToken: 'x' }); return null; } catch (e) { return window.describeError(e); } });
  assert.deepEqual([before.name, before.code], ['FreshtokenError', 'not-initialized']);
  assert.deepEqual(tab.errors, []);
});

test('options the refresher refuses: state error, error instanceof OptionsError; a transient refresh failure is error instanceof RefreshError until the next refresh', T, async () => {
  await mountSession('bad-options', srv.issueTokens());
  await waitSession(() => window.sessionShown()?.state === 'error');
  const failed = (await sessionRenders()).at(-1).error;
  assert.deepEqual([failed.name, failed.code, failed.isOptionsError, failed.isFreshtokenError], ['OptionsError', 'bad-option', true, true]);
  await page.evaluate(() => window.unmountSession());

  const login = srv.issueTokens({ lifetime: 30 });
  await makeRefresher(login);
  await page.evaluate(() => { window.sessionRenders = []; });
  await mountSession('refresher', null);
  await waitSession((t) => window.sessionShown()?.text === t, login.accessToken);
  assert.equal((await sessionRenders())[0].state, 'fresh', 'a ready refresher: no loading state');
  srv.setRefreshOutcomes([503]);
  await page.evaluate(() => window.refresher.refresh().catch(() => {}));
  await waitSession(() => window.sessionRenders.at(-1).error !== null);
  const transient = (await sessionRenders()).at(-1);
  assert.equal(transient.state, 'fresh');
  assert.deepEqual([transient.error.name, transient.error.code, transient.error.isRefreshError], ['RefreshError', 'http', true]);
  const next = await page.evaluate(() => window.refresher.refresh());
  await waitSession((t) => window.sessionShown()?.text === t, next);
  assert.equal((await sessionRenders()).at(-1).error, null, 'a successful refresh clears the error');
  assert.deepEqual(tab.errors, []);
});

test('hydration of the markup @vue/server-renderer rendered in node (loading state): no mismatch, then the token', T, async () => {
  const [{ renderToString }, { createSSRApp, h }, { freshtokenPlugin }, { Session }] = await Promise.all([
    import('vue/server-renderer'), import('vue'), import('../../js/vue.js'), import('./pages/vue-session.js')]);
  const login = srv.issueTokens({ lifetime: 30 });
  const options = { tokens: login, endpoint: { url: `${srv.url}/auth/refresh` }, origins: [srv.url], storage: 'memory' };
  const app = createSSRApp({ render: () => h(Session, { id: 's' }) });
  app.use(freshtokenPlugin, { options });
  const html = await renderToString(app);
  assert.match(html, /data-state="loading"[^>]*>loading</);
  await mountSession('options', login, { hydrate: html });
  await waitSession((t) => window.sessionShown()?.text === t, login.accessToken);
  assert.deepEqual(await page.evaluate(() => window.hydrationErrors), []);
  assert.ok(!/mismatch/i.test(tab.consoleText()), `no hydration mismatch:\n${tab.consoleText()}`);
  assert.equal((await sessionRenders())[0].state, 'loading');
  assert.deepEqual(tab.errors, []);
});
