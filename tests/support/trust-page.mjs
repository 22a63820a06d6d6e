// The page the trust tests (tests/browser/trust*.test.mjs) attack: the real local auth
// server, a second "foreign" origin that records what reaches it, and a page with
// `window.ft`, `window.axios` (and its module namespace), `window.ftAxios` and helpers.
import assert from 'node:assert/strict';
import { before, after, afterEach } from 'node:test';
import { launchBrowser } from './browser.mjs';
import { readFile } from 'node:fs/promises';
import { startServer, startPlainServer } from './server.mjs';

const AXIOS = readFile(new URL('../../node_modules/axios/dist/esm/axios.min.js', import.meta.url), 'utf8');

/**
 * Registers a test file's browser and its cleanup (run after each test, last pushed first);
 * `setup(serverOpts)` is `trustPage` on them; `browser()` the launched browser.
 */
export function trustSuite() {
  let browser;
  const cleanup = [];
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()().catch(() => {});
  });
  return { cleanup, browser: () => browser, setup: (serverOpts) => trustPage(browser, cleanup, serverOpts) };
}

/**
 * A server, a foreign origin and a page; what must be closed after the test is pushed on
 * `cleanup`. Page helpers: `listen(r)` records every event in `events` ({ e, t, d, code,
 * message, isError }), `count(e)`, `settle(p)` ({ status } or { name, code, message }).
 */
export async function trustPage(browser, cleanup, serverOpts = {}) {
  const srv = await startServer({ lifetime: 3600, sendExpiresIn: true, ...serverOpts });
  const foreign = await startPlainServer();
  const tab = await browser.open(`${srv.url}/test.html`);
  cleanup.push(() => srv.close(), () => foreign.close(), () => tab.close(),
    () => tab.page.evaluate(() => { window.r?.dispose(); window.r2?.dispose(); }));
  await tab.page.evaluate(async (src) => {
    const url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
    window.axiosNamespace = await import(url);
    window.axios = window.axiosNamespace.default;
    window.ftAxios = await import('/js/axios.js');
    window.events = [];
    window.listen = (r) => {
      for (const e of ['refresh', 'refresh-error', 'session-expired', 'logout', 'schedule', 'forbidden']) {
        r.on(e, (d) => events.push({ e, t: performance.now(), d: JSON.parse(JSON.stringify(d ?? null)), code: d?.error?.code, message: d?.error?.message, isError: d?.error instanceof Error }));
      }
    };
    window.count = (e) => events.filter((x) => x.e === e).length;
    window.settle = (p) => p.then((res) => ({ status: res.status }), (err) => ({ name: err.name, code: err.code, message: err.message }));
  }, await AXIOS);
  return { srv, foreign, tab, page: tab.page };
}

/** `window.r` on the page: endpoint refresh against the server, origins = the server. */
export function create(page, srv, tokens, extra = {}) {
  return page.evaluate(async ({ base, tokens, extra }) => {
    window.r = await ft.createRefresher({ tokens, endpoint: { url: `${base}/auth/refresh` }, origins: [base], ...extra });
    listen(r);
  }, { base: srv.url, tokens, extra });
}

/** No request that reached the foreign origin carried one of the server's tokens. */
export function assertNoLeak(srv, foreign) {
  for (const req of foreign.requests) {
    const seen = `${req.headers.authorization ?? ''} ${req.body} ${req.path}`;
    for (const t of srv.state.issued) assert.ok(!seen.includes(t), `a token reached the foreign origin at ${req.path}`);
  }
}
