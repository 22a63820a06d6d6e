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
// - {accessDenied}: a PNAccessDeniedCategory status on a PubNub client attached with
//   attachPubNub (one per id, attached at the start); 'replay <token>' when the client is then
//   given a token, 'return' when the session ends meanwhile.
//
// NPM_KNOWN_GAPS lists the scenarios the npm face does not meet today: they run, are reported,
// and do not fail; one that starts passing fails, so that the list stays honest.
//
//   nice -n 10 node --test --test-concurrency=1 tests/browser/conformance.test.mjs
//   CONFORMANCE_TABLE=/tmp/x.json ...   plays another table (e.g. to see the runner fail)
import { startServer } from '../support/server.mjs';
import { playTable } from '../support/conformance.mjs';

/** Scenarios the npm face does not meet today: name -> why (what the npm face does instead). */
export const NPM_KNOWN_GAPS = {
  // PubNub: js/pubnub.js refreshes for refresher.accessToken, the token held now, not the one denied.
  'PubNub access denied for a token already replaced: the current token at once, no refresh':
    'attachPubNub cannot tell which token a denial was for: a denial arriving after the client was given a2 starts a second refresh (for a2), and the client gets a token only when that lands',
};

/** The npm face in the page (self-contained: serialised into it); see tests/support/conformance.mjs. */
async function npmFace() {
  const { attachPubNub } = await import('/js/pubnub.js');
  return {
    scenario({ sc, S, custom, tname, note, scriptedFetch, customRefresh, onEvent, win, tab }) {
      // This page's package, or (a tab of a crossTab scenario) the package its frame loaded.
      const ft = win.ft;
      let stored = null;        // what the refresher wrote to its storage
      const pubnub = new Map(); // accessDenied id -> its PubNub client
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
          const ended = () => {
            for (const [id, c] of pubnub) if (c.waiting) { c.waiting = false; note(id, 'return'); }
          };
          const on = (name, then) => detach.push(r.on(name, (d) => {
            onEvent({ name, code: d?.error?.code, reason: d?.reason, status: d?.status, retryIn: d?.retryIn });
            then?.();
          }));
          on('refresh');
          on('refresh-error');
          on('session-expired', ended);
          on('logout', ended);
          on('forbidden');
          on('schedule');
          for (const step of sc.steps ?? []) {
            const id = step?.accessDenied?.id;
            if (typeof id !== 'string' || pubnub.has(id)) continue;
            const client = {
              waiting: false,
              listeners: [],
              setToken(t) {
                S.activity++;
                if (this.waiting) { this.waiting = false; note(id, `replay ${tname(t)}`); }
              },
              addListener(l) { this.listeners.push(l); },
              removeListener(l) { this.listeners = this.listeners.filter((x) => x !== l); },
              reconnect() { S.activity++; },
            };
            pubnub.set(id, client);
            detach.push(attachPubNub(r, client));
          }
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
          const client = pubnub.get(v.id);
          client.waiting = true;
          for (const l of client.listeners) l.status?.({ category: 'PNAccessDeniedCategory', operation: 'PNSubscribeOperation', error: true });
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
