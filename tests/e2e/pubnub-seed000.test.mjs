// Seed 000: PubNub Access Manager v3 tokens from a `PUT /api/v1/tokens/refresh` endpoint
// (preset 'bearer-put'), and the real PubNub JavaScript SDK (pubnub@11.0.1, its browser build)
// in the page, kept on the current token by freshtoken's attachPubNub, talking to a stub of
// PubNub's REST API that answers 403 to any `auth` that is not the current token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverFlows, openHarness, TOLERANCE_MS } from './support/flows.mjs';
import { recorded } from './support/harness.mjs';
import { startSeed000, SUB_KEY, PUB_KEY, CHANNEL } from './servers/grape-seed000.mjs';

const LIFETIME_S = 4;

serverFlows({
  name: 'seed 000 (bearer-put, PubNub v3 tokens)',
  start: () => startSeed000({ lifetime: LIFETIME_S }),
  pagePath: '/e2e.html',
  login: { url: '/api/v1/login', body: { username: 'alice' }, accessKey: 'token', expiresInKey: 'expiresIn' },
  endpoint: { url: '/api/v1/tokens/refresh', preset: 'bearer-put' },
  apiPath: '/api/v1/me',
  lifetimeMs: LIFETIME_S * 1000,
  // The server sends expiresIn (PubNub's ttl is whole minutes); it comes first (SPEC behaviour 1).
  lifetimeOf: () => LIFETIME_S * 1000,
  // The seed's own revoke route, called through the SDK.
  revoke: async ({ page }) => {
    const status = await page.evaluate(async () => (await window.refresher.fetch('/api/v1/tokens/revoke', { method: 'DELETE' })).status);
    assert.equal(status, 200, 'DELETE /api/v1/tokens/revoke');
  },
  revokeKillsAccess: true,

  extraTests(ctx) {
    test(`seed 000: the real PubNub client (pubnub@11.0.1) subscribes and publishes across ${3} token refreshes with zero denials`, async (t) => {
      const { srv, browser } = ctx();
      const tab = await openHarness(browser, `${srv.url}/e2e.html`);
      try {
        const { page } = tab;
        await page.evaluate(() => window.e2e.loadScript('/vendor/pubnub.js'));
        await page.evaluate((spec) => window.e2e.login(spec), { url: '/api/v1/login', body: { username: 'bob' }, accessKey: 'token', expiresInKey: 'expiresIn' });
        await page.evaluate((endpoint) => window.e2e.start({ endpoint }), { url: '/api/v1/tokens/refresh', preset: 'bearer-put' });

        const outcome = await page.evaluate(async ({ subscribeKey, publishKey, channel, durationMs }) => {
          const { attachPubNub } = await import('/js/pubnub.js');
          const r = window.refresher;
          const pubnub = new window.PubNub({
            subscribeKey, publishKey, userId: 'bob', origin: location.host, ssl: false,
          });
          const detach = attachPubNub(r, pubnub);
          const statuses = [];
          const received = [];
          let connected;
          const isConnected = new Promise((resolve) => { connected = resolve; });
          pubnub.addListener({
            status: (s) => {
              statuses.push({ category: s.category, error: s.error === undefined ? null : String(s.error), operation: s.operation });
              if (s.category === 'PNConnectedCategory') connected();
            },
            message: (m) => received.push(m.message.n),
          });
          pubnub.subscribe({ channels: [channel] });
          await Promise.race([isConnected, window.e2e.sleep(5000)]);

          const parsed = pubnub.parseToken(r.accessToken);
          const decoded = window.e2e.ft.decodeToken(r.accessToken);
          const published = [];
          const start = Date.now();
          for (let n = 0; Date.now() - start < durationMs && n < 200; n += 1) {
            try {
              await pubnub.publish({ channel, message: { n } });
              published.push({ n, ok: true });
            } catch (err) {
              published.push({ n, ok: false, error: String(err && err.message), status: err && err.status && err.status.statusCode });
            }
            await window.e2e.sleep(250);
          }
          await window.e2e.sleep(1500); // the last messages' long poll
          const sameToken = pubnub.getToken() === r.accessToken;
          pubnub.unsubscribeAll();
          detach();
          pubnub.destroy?.();
          return {
            statuses, received, published, sameToken,
            parsed: { version: parsed.version, timestamp: parsed.timestamp, ttl: parsed.ttl, authorized_uuid: parsed.authorized_uuid, channels: Object.keys(parsed.resources?.channels ?? {}) },
            decoded: { format: decoded.format, expiresAt: decoded.expiresAt, issuedAt: decoded.issuedAt },
          };
        }, { subscribeKey: SUB_KEY, publishKey: PUB_KEY, channel: CHANNEL, durationMs: 3.2 * LIFETIME_S * 1000 });
        const rec = await recorded(page);
        const stats = await srv.stats();

        // The tokens are real v3 tokens: PubNub's own parser and freshtoken's decoder agree.
        assert.equal(outcome.parsed.version, 2);
        assert.equal(outcome.parsed.ttl, 1);
        assert.equal(outcome.parsed.authorized_uuid, 'bob');
        assert.ok(outcome.parsed.channels.includes(CHANNEL));
        assert.equal(outcome.decoded.format, 'pubnub');
        assert.equal(outcome.decoded.issuedAt, outcome.parsed.timestamp * 1000);
        assert.equal(outcome.decoded.expiresAt, (outcome.parsed.timestamp + 60) * 1000);

        const refreshes = rec.events.filter((e) => e.event === 'refresh').length;
        const failedPublishes = outcome.published.filter((p) => !p.ok);
        const sent = outcome.published.map((p) => p.n);
        const missing = sent.filter((n) => !outcome.received.includes(n));
        const denied = outcome.statuses.filter((s) => /AccessDenied/.test(`${s.category} ${s.error}`));
        t.diagnostic(`${refreshes} refreshes; ${sent.length} published (${failedPublishes.length} failed), ${outcome.received.length} received; stub: ${stats.pubnubCalls} PubNub calls with ${stats.authTokens} distinct tokens, ${stats.pubnubDenied} denied`);
        t.diagnostic(`statuses: ${outcome.statuses.map((s) => s.category).join(', ')}`);

        assert.ok(outcome.statuses.some((s) => s.category === 'PNConnectedCategory'), 'the subscription connected');
        assert.ok(refreshes >= 3, `${refreshes} refreshes during the run`);
        assert.ok(sent.length >= 30, `${sent.length} messages published`);
        assert.deepEqual(failedPublishes, [], 'every publish succeeded');
        assert.deepEqual(missing, [], 'every published message reached the subscriber');
        assert.deepEqual(denied, [], 'no access-denied status');
        assert.equal(stats.pubnubDenied, 0, 'the stub denied nothing');
        assert.ok(stats.authTokens >= refreshes, `PubNub used ${stats.authTokens} tokens for ${refreshes + 1} tokens issued: it was given each new one`);
        assert.equal(outcome.sameToken, true, "PubNub's token is the refresher's");

        // The stub really does refuse stale tokens: the first token (superseded long ago) is refused.
        const first = rec.receipts[0].token;
        assert.equal(srv.pubnubAccepts(first), false);
        const stale = await fetch(`${srv.url}/publish/${PUB_KEY}/${SUB_KEY}/0/${CHANNEL}/0/${encodeURIComponent('{"n":-1}')}?uuid=bob&auth=${encodeURIComponent(first)}`);
        assert.equal(stale.status, 403);
      } finally {
        await tab.close();
      }
    });

    test('seed 000 as the seed answers it ({token} only, ttl 1 minute): the refresh is planned at 80% of t + ttl x 60 (48 s)', async () => {
      const plain = await startSeed000({ sendExpiresIn: false });
      const { browser } = ctx();
      const tab = await openHarness(browser, `${plain.url}/e2e.html`);
      try {
        const { page } = tab;
        const login = await page.evaluate((spec) => window.e2e.login(spec), { url: '/api/v1/login', body: { username: 'carol' }, accessKey: 'token', expiresInKey: 'expiresIn' });
        assert.equal(login.expiresIn, null, 'the answer is {token} only');
        const s = await page.evaluate((endpoint) => window.e2e.start({ endpoint }), { url: '/api/v1/tokens/refresh', preset: 'bearer-put' });
        // t is whole seconds and the lifetime is ttl x 60 = 60 s from receipt (a sane t).
        assert.ok(Math.abs(s.nextRefreshAt - (s.t + 48_000)) <= TOLERANCE_MS, `next refresh ${s.nextRefreshAt - s.t} ms after receipt`);
        assert.ok(Math.abs(s.expiresAt - (s.t + 60_000)) <= TOLERANCE_MS, `expiry ${s.expiresAt - s.t} ms after receipt`);
        // A forced refresh goes through PUT with the current token and reads `token`.
        const before = await page.evaluate(() => window.refresher.accessToken);
        await page.evaluate(() => window.refresher.refresh());
        const rec = await recorded(page);
        const put = rec.sends.find((x) => x.path === '/api/v1/tokens/refresh');
        assert.equal(put.method, 'PUT');
        assert.equal(put.auth, `Bearer ${before}`);
        assert.equal(put.status, 200);
        assert.notEqual(await page.evaluate(() => window.refresher.accessToken), before);
      } finally {
        await tab.close();
        await plain.close();
      }
    });
  },
});
