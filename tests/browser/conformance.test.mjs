// The conformance table (tests/scenarios/engine.json) against the npm package in headless
// Chromium: the second of the three runners of issue 19 (the engine alone is
// tests/engine_conformance.rs, the reference interpretation of every step and expectation;
// the `web` feature is the third, tests/rust-apps/web-conformance.test.mjs). The player, the
// node-side loop and how observations are read are tests/support/conformance.mjs, shared with
// the `web` runner; this file is the npm face's adapter.
//
// The page loads the package as an app does (test.html of tests/support/server.mjs, from the
// real local server's /js and /pkg) and each scenario is played through the PUBLIC API only:
// createRefresher (with `fetch`, `origins`, the scenario's options, `refresh` for 'custom'),
// setTokens, refresher.fetch, getAccessToken, refresh, logout, dispose, on(...), the
// accessToken / state / nextRefreshAt / expiresAt getters, attachPubNub for PubNub.
//
// The npm face's observations, where they are its own:
// - the scripted fetch is the `fetch` option; the token held (for a refresh call without a
//   Bearer) is `refresher.accessToken`; the refresh token held is the session record the
//   refresher writes to its `storage`, a StorageAdapter given by this runner (`crossTab: false`);
//   a tab of a crossTab scenario (a frame that loaded the package, see the player) has
//   storage 'localStorage' under its key and crossTab on, its held refresh token the record it
//   last wrote there;
// - events: refresher.on(...), `d.error.code` for refresh-error;
// - a request is refresher.fetch(url, {headers, signal[, skipAuthRefresh]}); a cancelled one
//   is forgotten when it rejects with its own signal's reason;
// - nextRefreshInMs / expiresInMs: the getters minus Date.now();
// - {accessDenied}: refresher.tokenAfterRejection(<the denied token>), the engine's rule a
//   transport that knows its token asks (attachPubNub asks it with the token it gave, as a
//   PubNub status names none: tests/e2e/pubnub-client.test.mjs drives it with the real client);
//   'replay <token>' when it gives a token, 'return' when it rejects with the session's end.
//
// NPM_KNOWN_GAPS lists the scenarios the npm face does not meet today: they run, are reported,
// and do not fail; one that starts passing fails, so that the list stays honest.
//
//   nice -n 10 node --test --test-concurrency=1 tests/browser/conformance.test.mjs
//   CONFORMANCE_TABLE=/tmp/x.json ...   plays another table (e.g. to see the runner fail)
import { startServer } from '../support/server.mjs';
import { playTable } from '../support/conformance.mjs';

/** Scenarios the npm face does not meet today: name -> why (what the npm face does instead). */
export const NPM_KNOWN_GAPS = {};

/** The npm face in the page (self-contained: serialised into it); see tests/support/conformance.mjs. */
async function npmFace() {
  return {
    scenario({ S, custom, tname, note, failText, scriptedFetch, customRefresh, onEvent, win, tab }) {
      // This page's package, or (a tab of a crossTab scenario) the package its frame loaded.
      const ft = win.ft;
      let stored = null;        // what the refresher wrote to its storage
      const detach = [];
      return {
        options() {
          const out = tab
            // A tab: the frame's localStorage (the player's view of it) under the tab's key.
            ? { fetch: scriptedFetch, storage: 'localStorage', storageKey: tab.storageKey, crossTab: true }
            : {
              fetch: scriptedFetch,
              storage: { getItem: () => stored, setItem: (_, v) => { stored = v; }, removeItem: () => { stored = null; } },
              crossTab: false,
            };
          if (custom) out.refresh = customRefresh;
          return out;
        },
        create: (options) => ft.createRefresher(options),
        discard: (made) => made.dispose(),
        attach(r) {
          const on = (name) => detach.push(r.on(name, (d) => {
            onEvent({ name, code: d?.error?.code, reason: d?.reason, status: d?.status, retryIn: d?.retryIn });
          }));
          for (const name of ['refresh', 'refresh-error', 'session-expired', 'logout', 'forbidden', 'schedule']) on(name);
        },
        state: (r) => r.state,
        token: (r) => r.accessToken,
        nextRefreshAt: (r) => r.nextRefreshAt,
        expiresAt: (r) => r.expiresAt,
        now: () => Date.now(),
        stored: () => (tab ? tab.stored() : stored),
        fetch(r, id, url, { headers, signal, skipAuthRefresh }) {
          const init = signal ? { headers, signal } : { headers };
          if (skipAuthRefresh) init.skipAuthRefresh = true;
          return r.fetch(url, init);
        },
        forgets: (e, ctl) => e === ctl.signal.reason,
        accessDenied(r, v) {
          const used = [...S.names].find(([, n]) => n === v.token)?.[0] ?? v.token;
          r.tokenAfterRejection(used).then((t) => note(v.id, `replay ${tname(t)}`),
            (e) => note(v.id, e?.name === 'SessionError' ? 'return' : failText(e)));
        },
        close(r) {
          for (const d of detach) { try { d(); } catch { /* disposed */ } }
          try { r?.dispose(); } catch { /* already */ }
        },
      };
    },
  };
}

playTable({
  label: 'npm',
  gapsName: 'NPM_KNOWN_GAPS',
  gaps: NPM_KNOWN_GAPS,
  who: 'the npm face',
  start: () => startServer(),
  pagePath: '/test.html',
  loads: 'freshtoken',
  consoleErrors: false,
  restartAfter: /the page failed|the runner threw/,
  inPage: npmFace,
});
