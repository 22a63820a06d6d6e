// Red-team findings (security review), each proved in headless Chromium against the real
// local auth server and a second, "foreign" origin that records what reaches it.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from '../support/browser.mjs';
import { trustPage, create, assertNoLeak } from '../support/trust-page.mjs';

let browser;
const cleanup = [];
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()().catch(() => {});
});
const setup = (serverOpts) => trustPage(browser, cleanup, serverOpts);

test('red 1: a Request look-alike, a Request subclass or own `url` naming an allowed URL, and a stringifier that answers differently the second time: no token reaches the origin fetch really sends to (fetch and interceptor)', { timeout: 30_000 }, async () => {
  const { srv, foreign, page } = await setup();
  await create(page, srv, srv.issueTokens());
  const out = await page.evaluate(async ({ other }) => {
    const statuses = {};
    const attempt = async (name, send) => { statuses[name] = await send().then((x) => x.status, (e) => `${e.name}`); };
    const inputs = () => {
      class Sub extends Request { get url() { return '/api/echo'; } }
      const own = new Request(`${other}/own-url`);
      Object.defineProperty(own, 'url', { value: '/api/echo' });
      let n = 0;
      return {
        lookalike: { [Symbol.toStringTag]: 'Request', url: '/api/echo', toString: () => `${other}/lookalike` },
        subclass: new Sub(`${other}/subclass`),
        own,
        stateful: { toString: () => (n++ === 0 ? '/api/echo' : `${other}/stateful`) },
      };
    };
    for (const [name, input] of Object.entries(inputs())) await attempt(`fetch-${name}`, () => r.fetch(input));
    const off = r.installFetchInterceptor();
    for (const [name, input] of Object.entries(inputs())) await attempt(`interceptor-${name}`, () => fetch(input));
    off();
    // Real Requests to the allowed origin, of this realm and of another (an iframe's), still get it.
    const frame = document.createElement('iframe');
    document.body.append(frame);
    await attempt('request', () => r.fetch(new Request('/api/echo')));
    await attempt('iframe-request', () => r.fetch(new frame.contentWindow.Request(`${location.origin}/api/echo`)));
    await attempt('url-object', () => r.fetch(new URL('/api/echo', location.href)));
    return { statuses, state: r.state };
  }, { other: foreign.url });
  const leaked = foreign.requests.filter((q) => q.hasAuthorization).map((q) => `${q.method} ${q.path}`);
  assert.deepEqual(leaked, [], 'no Authorization reached the foreign origin');
  assertNoLeak(srv, foreign);
  for (const via of ['fetch', 'interceptor']) {
    for (const name of ['lookalike', 'subclass', 'own']) {
      const path = `/${name === 'own' ? 'own-url' : name}`;
      assert.ok(foreign.requests.some((q) => q.method === 'GET' && q.path === path), `${via} ${name}: the request went to the foreign origin, untouched`);
    }
    // The stringifier is read once: the request goes where the token was allowed to go.
    assert.equal(out.statuses[`${via}-stateful`], 200, `${via} stateful: sent to the allowed URL it named first`);
  }
  assert.equal(out.statuses.request, 200);
  assert.equal(out.statuses['iframe-request'], 200);
  assert.equal(out.statuses['url-object'], 200);
  assert.equal(out.state, 'fresh');
});

test('red 2: a <base href> injected while a request waits for a refresh does not move its token to another origin', { timeout: 30_000 }, async () => {
  const { srv, foreign, page } = await setup();
  await create(page, srv, srv.issueTokens());
  srv.setRefreshOutcomes([{ status: 200, delay: 400 }]);
  const out = await page.evaluate(async ({ other }) => {
    const refreshing = r.refresh();
    const waiting = r.fetch('api/echo'); // relative: decided against the page's base, waits for the refresh
    const base = document.createElement('base');
    base.href = `${other}/based/`;
    document.head.prepend(base);
    await refreshing;
    const status = await waiting.then((x) => x.status, (e) => e.name);
    base.remove();
    return { status };
  }, { other: foreign.url });
  const leaked = foreign.requests.filter((q) => q.hasAuthorization).map((q) => `${q.method} ${q.path}`);
  assert.deepEqual(leaked, [], 'no Authorization reached the foreign origin');
  assertNoLeak(srv, foreign);
  assert.equal(out.status, 200, 'the request went where it was decided, with the new token');
  assert.equal(srv.state.refreshCalls, 1);
});
