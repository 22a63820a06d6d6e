// The real PubNub JavaScript client (pubnub@11.0.1, its node build, on node 20) kept on the
// current token by attachPubNub (SPEC behaviour 8), against seed 000's server and its stub of
// PubNub's REST API, which answers 403 to any `auth` that is not the session's current token.
//
// For both the event engine (the SDK's default) and the legacy subscribe loop
// (`enableEventEngine: false`):
//   - the token is rotated server-side: the next subscribe is denied, the adapter refreshes
//     exactly once, gives PubNub the new token, calls reconnect(), and messages flow again;
//   - the session is revoked server-side: the denied subscribe's refresh is refused, and the
//     refresher emits session-expired exactly once (no refresh loop).
// freshtoken itself runs in node here too: the wasm is passed to init() as bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import PubNub from 'pubnub';
import init, { createRefresher } from '../../js/index.js';
import { attachPubNub } from '../../js/pubnub.js';
import { startSeed000, SUB_KEY, PUB_KEY, CHANNEL } from './servers/grape-seed000.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(pred, what, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

let srv;
before(async () => {
  await init(await readFile(new URL('../../pkg/freshtoken_bg.wasm', import.meta.url)));
  // Tokens good for 10 minutes: no scheduled refresh happens during a test, so every refresh
  // seen is the adapter's answer to a denial.
  srv = await startSeed000({ lifetime: 600, holdMs: 300 });
});
after(async () => { await srv?.close(); });

/** Logs `user` in, and wires a refresher, a PubNub client and the adapter together. */
async function session(user, enableEventEngine) {
  const res = await fetch(`${srv.url}/api/v1/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user }),
  });
  assert.equal(res.status, 201);
  const { token, expiresIn } = await res.json();
  const refresher = await createRefresher({
    tokens: { accessToken: token, expiresIn },
    endpoint: { url: `${srv.url}/api/v1/tokens/refresh`, preset: 'bearer-put' },
    origins: [srv.url],
  });
  const events = [];
  for (const e of ['refresh', 'refresh-error', 'session-expired']) refresher.on(e, (d) => events.push({ e, d }));
  const pubnub = new PubNub({
    subscribeKey: SUB_KEY, publishKey: PUB_KEY, userId: user,
    origin: new URL(srv.url).host, ssl: false, enableEventEngine,
    logLevel: PubNub.LogLevel?.None,
  });
  const statuses = [];
  const received = [];
  pubnub.addListener({
    status: (s) => statuses.push({ category: s.category, error: typeof s.error === 'string' ? s.error : null }),
    message: (m) => received.push(m.message.n),
  });
  const detach = attachPubNub(refresher, pubnub);
  const close = () => {
    detach();
    pubnub.unsubscribeAll();
    pubnub.stop?.();
    pubnub.destroy?.(true);
    refresher.dispose();
  };
  return { refresher, pubnub, events, statuses, received, close, token };
}

const denied = (s) => s.category === 'PNAccessDeniedCategory' || s.error === 'PNAccessDeniedCategory';
const connected = (s) => s.category === 'PNConnectedCategory' || s.category === 'PNReconnectedCategory';

/** Publishes n until the subscriber receives it (PubNub delivers after the subscribe is live). */
async function roundTrip(c, n) {
  const end = Date.now() + 10_000;
  while (!c.received.includes(n)) {
    if (Date.now() > end) throw new Error(`message ${n} never reached the subscriber`);
    await c.pubnub.publish({ channel: CHANNEL, message: { n } });
    await waitFor(() => c.received.includes(n), `message ${n}`, 1500).catch(() => {});
  }
}

for (const [mode, enableEventEngine] of [['event engine', true], ['legacy subscribe loop', false]]) {
  test(`pubnub@11 (${mode}): a token rotated server-side is refreshed once, PubNub reconnects with the new auth, messages flow again`, { timeout: 60_000 }, async (t) => {
    const c = await session(`rot-${enableEventEngine}`, enableEventEngine);
    try {
      assert.equal(c.pubnub.getToken(), c.token, 'PubNub was given the token at once');
      c.pubnub.subscribe({ channels: [CHANNEL] });
      await waitFor(() => c.statuses.some(connected), 'the subscription to connect');
      await roundTrip(c, 1);

      const before = await srv.stats();
      assert.equal(srv.rotateTokens() >= 1, true);
      assert.equal(srv.pubnubAccepts(c.token), false, 'the stub now refuses the old token');

      // The next long poll carries the old auth: 403, the adapter refreshes and reconnects.
      await waitFor(() => c.events.some((e) => e.e === 'refresh'), 'the adapter to refresh');
      const fresh = c.refresher.accessToken;
      assert.notEqual(fresh, c.token);
      assert.equal(c.pubnub.getToken(), fresh, 'PubNub holds the refreshed token');
      await roundTrip(c, 2);
      // Give any looping refresh a chance to show itself before counting.
      await sleep(1000);
      const after = await srv.stats();

      const deniedStatuses = c.statuses.filter(denied);
      t.diagnostic(`statuses: ${c.statuses.map((s) => s.error ? `${s.category}(${s.error})` : s.category).join(', ')}`);
      assert.ok(deniedStatuses.length >= 1, 'PubNub reported the denial');
      if (enableEventEngine) {
        assert.ok(deniedStatuses.every((s) => s.error === 'PNAccessDeniedCategory'), 'event engine: reported as `error` on a connection status');
      } else {
        assert.ok(deniedStatuses.some((s) => s.category === 'PNAccessDeniedCategory'), 'legacy: reported as the category');
      }
      assert.equal(after.refreshCalls - before.refreshCalls, 1, 'exactly one refresh call');
      assert.equal(c.events.filter((e) => e.e === 'refresh').length, 1);
      assert.equal(c.events.filter((e) => e.e === 'session-expired').length, 0);
      assert.ok(c.received.includes(2), 'subscribing resumed: the message after the rotation arrived');
      assert.equal(srv.pubnubAccepts(c.pubnub.getToken()), true);
    } finally {
      c.close();
    }
  });

  test(`pubnub@11 (${mode}): access denied, the refresh answers 503, the backoff retry succeeds: PubNub gets the new token and reconnects`, { timeout: 60_000 }, async () => {
    const c = await session(`blip-${enableEventEngine}`, enableEventEngine);
    try {
      c.pubnub.subscribe({ channels: [CHANNEL] });
      await waitFor(() => c.statuses.some(connected), 'the subscription to connect');
      await roundTrip(c, 1);
      srv.failRefreshes(1);
      srv.rotateTokens();
      await waitFor(() => c.events.some((e) => e.e === 'refresh-error'), 'the 503');
      // The backoff's retry (about 1 s later) lands: the new token, then a reconnect.
      await waitFor(() => c.events.some((e) => e.e === 'refresh'), 'the retry to succeed');
      assert.equal(c.pubnub.getToken(), c.refresher.accessToken, 'PubNub holds the refreshed token');
      await roundTrip(c, 2);
      assert.ok(c.received.includes(2), 'the subscription came back: reconnect() was called');
      assert.equal(c.events.filter((e) => e.e === 'session-expired').length, 0);
    } finally {
      c.close();
    }
  });

  test(`pubnub@11 (${mode}): a session revoked server-side ends in exactly one session-expired, no refresh loop`, { timeout: 60_000 }, async () => {
    const c = await session(`rev-${enableEventEngine}`, enableEventEngine);
    try {
      c.pubnub.subscribe({ channels: [CHANNEL] });
      await waitFor(() => c.statuses.some(connected), 'the subscription to connect');
      const before = await srv.stats();
      srv.rotateTokens();
      srv.revokeAll();
      await waitFor(() => c.events.some((e) => e.e === 'session-expired'), 'session-expired');
      await sleep(1500);
      const after = await srv.stats();
      assert.equal(c.events.filter((e) => e.e === 'session-expired').length, 1, 'session-expired once');
      assert.deepEqual(c.events.find((e) => e.e === 'session-expired').d, { reason: 'refresh-rejected' });
      assert.equal(after.refreshCalls - before.refreshCalls, 1, 'one refresh attempt, refused; no loop');
      assert.equal(c.refresher.state, 'expired');
      assert.equal(c.refresher.accessToken, null);
    } finally {
      c.close();
    }
  });
}
