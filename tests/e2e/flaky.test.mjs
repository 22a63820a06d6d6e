// Flaky networks (issue 5, item 3): a real Chromium page sends a request every 100 ms through
// `refresher.fetch` for FLAKY_SECONDS (default 30: the timing rules are proven on the virtual
// clock by the conformance table; this run is for real faults from a real server) against tests/e2e/servers/flaky.mjs,
// which hands out 2.5-second tokens, rotates refresh tokens (a reused one is refused, which
// would end the session), and injects faults from a seeded PRNG: on the refresh endpoint
// 5xx, 429 + Retry-After, a hang past refreshTimeoutMs (1 s here), a dropped connection, a
// slow answer, malformed JSON and an HTML error page; on the API 5xx, slow answers and dropped
// connections. The refresh faults open with every kind once in a seeded order, two failures
// in a row among them (the server's refreshOpening), then are drawn at random; the default
// run plays the whole opening. The seed is printed; FLAKY_SEED=<n> replays the same fault
// sequences. (The former one-minute run with 5 s tokens and twice these delays met on
// average three or four of the seven refresh fault kinds.)
//
// What must hold:
//   - zero session-expired / logout / onSessionExpired, and no refresh token ever reused;
//   - every request succeeded, or returned the API's own injected 5xx as is, or failed with
//     fetch's TypeError for a dropped API connection, or (when the refresh endpoint was down
//     for longer than the request's deadline) with a RefreshError saying so; nothing else,
//     and never a 401 handed to the app;
//   - no request took longer than its deadline: the token wait (refreshTimeoutMs) + the slowest
//     API answer + slack; twice that for a request answered 401 and replayed (a token that
//     expired while a slow API held it), which waits for the token and the API a second time;
//   - refresh-error events show the backoff: attempt n waits 1 s x 2^(n-1) (capped at 60 s)
//     x [0.8, 1.2], a 429 waits its Retry-After, the count resets after a success, and no
//     refresh is sent before the backoff allows (requests do not bypass it);
//   - a hung refresh is aborted at refreshTimeoutMs (the server sees the client hang up);
//   - every refresh fault kind was met (the opening was played).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from '../support/browser.mjs';
import { openHarness } from './support/flows.mjs';
import { recorded } from './support/harness.mjs';
import { startFlakyServer, REFRESH_FAULTS } from './servers/flaky.mjs';

const SECONDS = Number(process.env.FLAKY_SECONDS ?? 30);
const SEED = process.env.FLAKY_SEED === undefined ? undefined : Number(process.env.FLAKY_SEED);
const LIFETIME_S = 2.5;
const EVERY_MS = 100;
const REFRESH_TIMEOUT_MS = 1000;
const SLOW_MS = [150, 500];
const RETRY_AFTER_S = 1;
// A request's own deadline: the token wait (refreshTimeoutMs) plus the slowest API answer,
// plus slack for a machine shared with other test runs.
const REQUEST_DEADLINE_MS = REFRESH_TIMEOUT_MS + SLOW_MS[1] + 1500;
const REPLAYED_DEADLINE_MS = 2 * (REFRESH_TIMEOUT_MS + SLOW_MS[1]) + 1500;
const DEADLINE_MESSAGE = new RegExp(`within ${REFRESH_TIMEOUT_MS} ms`);

let srv;
let browser;
before(async () => {
  srv = await startFlakyServer({ seed: SEED, lifetime: LIFETIME_S, slowMs: SLOW_MS, retryAfterS: RETRY_AFTER_S, opening: true });
  process.stdout.write(`flaky: seed ${srv.seed} (replay with FLAKY_SEED=${srv.seed}); refresh faults open with ${srv.opening.join(' ')}\n`);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

/** In the page: a refresher.fetch every `everyMs` for `durationMs`, each outcome recorded. */
function stream({ everyMs, durationMs }) {
  const one = async () => {
    const t0 = Date.now();
    try {
      const res = await window.refresher.fetch('/api/data');
      await res.text();
      return { t0, t1: Date.now(), status: res.status };
    } catch (e) {
      return { t0, t1: Date.now(), status: 'error', name: e && e.name, code: (e && e.code) ?? null, message: String(e && e.message) };
    }
  };
  const start = Date.now();
  const calls = [];
  return (async () => {
    for (let i = 0; i < Math.ceil(durationMs / everyMs); i += 1) {
      const wait = start + i * everyMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      calls.push(one());
    }
    return Promise.all(calls);
  })();
}

/** What a request's outcome was, from the app's point of view. */
function classify(r) {
  if (r.status === 200) return 'ok';
  if (typeof r.status === 'number' && r.status >= 500) return 'api-5xx';
  if (r.status === 'error' && r.name === 'TypeError') return 'dropped';
  if (r.status === 'error' && r.name === 'RefreshError' && DEADLINE_MESSAGE.test(r.message)) return 'refresh-deadline';
  return 'unexplained';
}

/** The backoff delay range (ms) SPEC behaviour 4 allows for the n-th consecutive failure. */
function backoffRange(attempt) {
  const base = Math.min(1000 * 2 ** (attempt - 1), 60_000);
  return [0.8 * base - 1, 1.2 * base + 1];
}

test(`flaky network: ${SECONDS} s, a request every ${EVERY_MS} ms, ${LIFETIME_S} s tokens, faults on refresh and API`, { timeout: (SECONDS + 90) * 1000 }, async (t) => {
  const tab = await openHarness(browser, `${srv.url}/e2e.html`);
  try {
    const { page } = tab;
    await page.evaluate((spec) => window.e2e.login(spec), { url: '/auth/login', body: {}, accessKey: 'accessToken', refreshKey: 'refreshToken', expiresInKey: 'expiresIn' });
    const started = await page.evaluate((ms) => window.e2e.start({ endpoint: { url: '/auth/refresh' }, refreshTimeoutMs: ms }), REFRESH_TIMEOUT_MS);
    const runStart = Date.now();
    const results = await page.evaluate(stream, { everyMs: EVERY_MS, durationMs: SECONDS * 1000 });
    const runEnd = Date.now();
    const rec = await recorded(page);
    const final = await page.evaluate(() => window.e2e.state());

    // --- the requests ------------------------------------------------------------
    const kinds = {};
    for (const r of results) kinds[classify(r)] = (kinds[classify(r)] ?? 0) + 1;
    const unexplained = results.filter((r) => classify(r) === 'unexplained');
    const latencies = results.map((r) => r.t1 - r.t0);
    const maxLatency = Math.max(...latencies);
    // The API answered 401 inside a request's window: that request may have been replayed.
    const api401At = srv.log.filter((e) => e.kind === 'api' && e.status === 401).map((e) => e.t);
    const deadlineOf = (r) => (api401At.some((t) => t >= r.t0 - 50 && t <= r.t1) ? REPLAYED_DEADLINE_MS : REQUEST_DEADLINE_MS);
    const late = results.filter((r) => r.t1 - r.t0 > deadlineOf(r));
    const sdkErrors = {};
    for (const r of results.filter((x) => x.status === 'error' && x.name !== 'TypeError')) {
      sdkErrors[`${r.name}:${r.code}`] = (sdkErrors[`${r.name}:${r.code}`] ?? 0) + 1;
    }

    // --- the refresh log ------------------------------------------------------------
    const events = rec.events;
    const errors = events.filter((e) => e.event === 'refresh-error');
    const successes = events.filter((e) => e.event === 'refresh');
    const errorCodes = {};
    for (const e of errors) errorCodes[e.detail.error.code] = (errorCodes[e.detail.error.code] ?? 0) + 1;
    const maxBackoff = Math.max(0, ...errors.map((e) => e.detail.retryIn));
    const maxAttempt = Math.max(0, ...errors.map((e) => e.detail.attempt));
    const refreshSends = rec.sends.filter((s) => s.path === '/auth/refresh');
    const ended = events.filter((e) => e.event === 'session-expired' || e.event === 'logout');
    const hangs = srv.log.filter((e) => e.kind === 'refresh' && e.fault === 'hang' && e.t < runEnd - REFRESH_TIMEOUT_MS - 1000);
    // How long after its call a hung refresh was given up: until the server saw the client hang
    // up. refreshTimeoutMs runs from the refresh call, which comes when the call was due (the
    // schedule, or the backoff after a refresh-error) and may send its request a little later on
    // a loaded machine; the server's own arrival stamp can be later still (its event loop reads
    // the request late). So the lower bound counts from when the call was due (or its send, if
    // earlier), the upper one from the page's send (the n-th refresh the server logged is the
    // page's n-th: one at a time). Page and server read this machine's wall clock.
    const refreshLog = srv.log.filter((e) => e.kind === 'refresh');
    const sentAt = (e) => (refreshLog.length === refreshSends.length ? refreshSends[refreshLog.indexOf(e)].t : e.t);
    const plans = [{ t: -Infinity, due: started.nextRefreshAt },
      ...events.filter((e) => e.event === 'schedule').map((e) => ({ t: e.t, due: e.detail.nextRefreshAt })),
      ...errors.map((e) => ({ t: e.t, due: e.t + e.detail.retryIn }))].sort((a, b) => a.t - b.t);
    const dueAt = (t) => plans.filter((p) => p.t <= t).at(-1).due;
    const hangTimes = hangs.map((e) => {
      const sent = sentAt(e);
      const call = Math.min(sent, dueAt(sent) ?? sent);
      return e.closedAt === null ? { fromSend: Infinity, fromCall: Infinity } : { fromSend: e.closedAt - sent, fromCall: Math.round(e.closedAt - call) };
    });
    const hangMs = hangTimes.map((h) => h.fromSend);

    const figures = {
      seed: srv.seed,
      seconds: SECONDS,
      requests: results.length,
      ok: kinds.ok ?? 0,
      apiFaultsReturned: kinds['api-5xx'] ?? 0,
      apiDropsSeen: kinds.dropped ?? 0,
      sdkErrors,
      refreshAttempts: refreshSends.length,
      serverRefreshCalls: srv.stats.refreshCalls,
      refreshOk: successes.length,
      refreshErrors: errors.length,
      refreshErrorCodes: errorCodes,
      maxBackoffMs: Math.round(maxBackoff),
      maxAttempt,
      hungRefreshesAbortedAfterMs: hangMs.length ? [Math.min(...hangMs), Math.max(...hangMs)] : null,
      logouts: ended.length,
      reusedRefreshTokens: srv.stats.reuse,
      api401: srv.stats.api401,
      maxLatencyMs: maxLatency,
      serverFaults: srv.stats.faults,
    };
    t.diagnostic(`flaky figures: ${JSON.stringify(figures)}`);
    process.stdout.write(`flaky: seed=${srv.seed} seconds=${SECONDS} requests=${figures.requests} ok=${figures.ok} `
      + `apiFaultsReturned=${figures.apiFaultsReturned} apiDropped=${figures.apiDropsSeen} sdkErrors=${JSON.stringify(sdkErrors)} `
      + `refreshAttempts=${figures.refreshAttempts} refreshOk=${figures.refreshOk} refreshErrors=${figures.refreshErrors} `
      + `${JSON.stringify(errorCodes)} maxBackoffMs=${figures.maxBackoffMs} (attempt ${maxAttempt}) `
      + `hungAbortedAfterMs=${JSON.stringify(figures.hungRefreshesAbortedAfterMs)} logouts=${figures.logouts} `
      + `reusedRefreshTokens=${srv.stats.reuse} api401=${srv.stats.api401} maxLatencyMs=${maxLatency}\n`);

    // --- no session loss ----------------------------------------------------------
    assert.equal(ended.length, 0, `session ended: ${JSON.stringify(ended)}`);
    assert.equal(rec.expiredCalls.length, 0, 'onSessionExpired never called');
    assert.equal(srv.stats.reuse, 0, 'no refresh token was sent twice (or a rotated one reused)');
    assert.equal(final.state === 'fresh' || final.state === 'refreshing', true, `final state ${final.state}`);
    assert.equal(tab.errors.length, 0, `page errors: ${tab.errors.join('\n')}`);

    // --- every request accounted for, within its deadline -----------------------------
    assert.ok(results.length >= Math.floor(SECONDS * 1000 / EVERY_MS) - 1, `${results.length} requests`);
    assert.equal(unexplained.length, 0, `requests failed in a way the faults do not explain: ${JSON.stringify(unexplained.slice(0, 5))}`);
    assert.equal(late.length, 0, `requests past their deadline: ${JSON.stringify(late.slice(0, 5).map((r) => ({ ms: r.t1 - r.t0, deadline: deadlineOf(r), status: r.status })))}`);
    assert.ok((kinds.ok ?? 0) >= results.length * 0.5, `most requests succeed: ${kinds.ok} of ${results.length}`);
    const injected5xx = srv.log.filter((e) => e.kind === 'api' && e.fault === '5xx').length;
    assert.equal(kinds['api-5xx'] ?? 0, injected5xx, 'each injected API 5xx reached the app as is, and no other 5xx did');
    // A request failed for want of a token only while no refresh succeeded during its wait.
    for (const r of results.filter((x) => classify(x) === 'refresh-deadline')) {
      const during = successes.filter((e) => e.t > r.t0 + 50 && e.t < r.t1 - 50);
      assert.equal(during.length, 0, `a request failed at ${r.t1} though a refresh succeeded at ${during.map((e) => e.t)}`);
    }

    // --- backoff in the event log ----------------------------------------------------
    assert.ok(errors.length > 0, 'refresh errors happened (the faults reached the SDK)');
    let previous = 0;
    const timeline = [...errors, ...successes].sort((a, b) => a.t - b.t);
    for (const e of timeline) {
      if (e.event === 'refresh') { previous = 0; continue; }
      const { attempt, retryIn, error } = e.detail;
      assert.equal(attempt, previous + 1, `attempt numbers count consecutive failures and reset after a success (${JSON.stringify(e.detail)})`);
      previous = attempt;
      if (error.status === 429) {
        assert.equal(retryIn, RETRY_AFTER_S * 1000, 'a 429 waits its Retry-After');
      } else {
        const [lo, hi] = backoffRange(attempt);
        assert.ok(retryIn >= lo && retryIn <= hi, `attempt ${attempt} waited ${retryIn} ms, outside [${lo}, ${hi}]`);
      }
    }
    const firstDelays = errors.filter((e) => e.detail.attempt === 1 && e.detail.error.status !== 429).map((e) => e.detail.retryIn);
    if (firstDelays.length >= 3) assert.ok(new Set(firstDelays).size > 1, 'the delays are jittered');
    // No refresh goes out before the backoff allows it (a request never bypasses it).
    for (const s of refreshSends) {
      const last = timeline.filter((e) => e.t <= s.t).at(-1);
      if (!last || last.event === 'refresh') continue;
      assert.ok(s.t >= last.t + last.detail.retryIn - 25,
        `a refresh went out at ${s.t}, ${last.t + last.detail.retryIn - s.t} ms before the backoff allowed`);
    }
    // The opening has two failures in a row; once it is played (it is in the default run),
    // the backoff has grown past its first step and every refresh fault kind was met.
    const openingPlayed = srv.stats.refreshCalls >= srv.opening.length;
    if (SECONDS >= 30) assert.ok(openingPlayed, `the run played the opening: ${srv.stats.refreshCalls} refresh calls, ${srv.opening.length} in the opening`);
    if (openingPlayed || SECONDS >= 150) {
      assert.ok(maxAttempt >= 2, 'the backoff grew past its first step');
    }
    if (openingPlayed) {
      for (const kind of Object.keys(REFRESH_FAULTS)) {
        assert.ok((srv.stats.faults[`refresh:${kind}`] ?? 0) >= 1, `the refresh endpoint answered with ${kind} at least once`);
      }
    }

    // --- hung refreshes are aborted at refreshTimeoutMs --------------------------------
    for (const h of hangTimes) {
      assert.ok(h.fromCall >= REFRESH_TIMEOUT_MS - 50 && h.fromSend <= REFRESH_TIMEOUT_MS + 1000, `a hung refresh was abandoned after ${h.fromSend} ms (${h.fromCall} ms from its call)`);
    }
    if (hangs.length > 0) assert.ok((errorCodes.timeout ?? 0) >= hangs.length, 'each hang surfaced as a timeout refresh-error');
    assert.ok(runEnd - runStart >= SECONDS * 1000 - EVERY_MS);
  } finally {
    await tab.close();
  }
});
