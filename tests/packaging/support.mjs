// Helpers of the packaging tests that run an app's own server (dev servers, next start, the
// Nuxt node server) and open it in Chromium.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/**
 * Starts `node <args>` in `cwd` and waits until `url` answers (any status) or `timeoutMs`
 * passes. Returns { url, output(), stop() }; stop() ends the process group it started.
 */
export async function startApp({ cwd, args, env = {}, url, timeoutMs = 60_000 }) {
  let out = '';
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  let exited = null;
  child.on('exit', (code) => { exited = code ?? 'signal'; });
  const stop = async () => {
    if (exited !== null) return;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    await new Promise((r) => { child.once('exit', r); setTimeout(r, 3_000); });
    if (exited === null) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
  };
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== null) throw new Error(`${args.join(' ')} exited (${exited}) before answering:\n${out}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(5_000) });
      break;
    } catch {
      if (Date.now() > end) { await stop(); throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${out}`); }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { url, output: () => out, stop };
}

/**
 * Opens `url` in a new context; collects page errors, console errors and the .wasm responses,
 * and records every text the element #token shows (window.__shown).
 */
export async function openPage(browser, url) {
  const context = await browser.browser.newContext();
  const page = await context.newPage();
  const errors = [];
  const consoleErrors = [];
  const wasm = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('response', (r) => {
    if (r.status() >= 400) consoleErrors.push(`(${r.status()} for ${new URL(r.url()).pathname})`);
    if (/\.wasm(\?|$)/.test(r.url())) wasm.push({ url: new URL(r.url()).pathname, status: r.status(), type: r.headers()['content-type'] });
  });
  await page.addInitScript(() => {
    window.__shown = [];
    new MutationObserver(() => {
      const t = document.getElementById('token')?.textContent;
      if (t != null && window.__shown.at(-1) !== t) window.__shown.push(t);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  await page.goto(url);
  return { page, context, errors, consoleErrors, wasm };
}

/**
 * The flow every framework app is held to once its page is open and freshtoken is ready: the
 * scheduled refresh of the 3 s token lands and is rendered (the page showed `loading` first),
 * the API behind the app's routes gets the Bearer token, and nothing was logged as an error.
 * `built` adds what only a production server can promise at once: the first token is still
 * good on arrival, and the shown texts run loading -> first -> second. `refreshWithinMs`: how
 * long the scheduled refresh may take to land (80% of the server's token lifetime, and more).
 */
export async function assertRefreshAndApi({ page, srv, errors, consoleErrors, from, built, refreshWithinMs = 6_000 }) {
  const first = await page.evaluate(() => window.refresher.accessToken);
  if (built) assert.ok(srv.accepts(first));
  await page.waitForFunction((t) => window.refresher.accessToken !== t, first, { timeout: refreshWithinMs });
  const second = await page.evaluate(() => window.refresher.accessToken);
  assert.ok(srv.issued(second));
  assert.ok(srv.state.refreshCalls >= 1);
  await page.waitForFunction((t) => document.getElementById('token').textContent === t, second, { timeout: 2_000 });
  const shown = await page.evaluate(() => window.__shown);
  assert.equal(shown[0], 'loading', `texts shown: ${shown.length}`);
  if (built) assert.ok(shown.includes(first) && shown.at(-1) === second);

  assert.equal((await page.evaluate((f) => window.callApi({ from: f }), from)).status, 200);
  const last = await page.evaluate(() => window.refresher.accessToken);
  assert.equal(srv.requestsTo('/api/echo').at(-1).headers.authorization, `Bearer ${last}`);
  assert.deepEqual(errors, []);
  assert.deepEqual(consoleErrors, [], 'no console error (hydration mismatches are reported there)');
}
