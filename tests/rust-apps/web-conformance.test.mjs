// The conformance table (tests/scenarios/engine.json) against the Rust face, the `web`
// feature's `freshtoken::web::Refresher`, in headless Chromium: the third of the three runners
// of issue 19 (the engine alone is tests/engine_conformance.rs, the reference interpretation of
// every step and expectation; the npm package is tests/browser/conformance.test.mjs). The
// player, the node-side loop and how observations are read are tests/support/conformance.mjs,
// shared with the npm runner step for step; this file is the Rust face's adapter.
//
// The Rust face is reached through examples/conformance, a thin JS handle (`Face`) over
// web::Refresher built by scripts/web-conformance.sh (run in `before`; skipped when its dist/
// is newer than its inputs): one Rust API call per method — Refresher::new(Options::from_js)
// (and Options::refresh for 'custom'), try_set_tokens, fetch_with(request, FetchOptions
// { skip_auth_refresh }), access_token, refresh, logout, dispose, on(...), state, current_token,
// expires_at / next_refresh_at / now, core().token_after_rejection. The page (its dist/,
// served by tests/rust-apps/server.mjs) runs on the same virtual clock as the npm runner
// (installed before the wasm loads: gloo-timers' setTimeout, performance.now, Date.now and
// Math.random are the page's, so the Rust face runs on them unchanged), and the I/O boundary
// is scripted the same way: the Rust face calls window.fetch (web-sys), which this runner
// replaces with the player's scripted fetch.
//
// How the Rust face's observations are read, where they are its own:
// - a refresh call's body is the Request the face built (read asynchronously); without a
//   Bearer, the token held is current_token(); the custom refresh function is called with
//   {accessToken, refreshToken} and has no signal (the face drops its future);
// - refreshToken (the refresh token held): the record the face writes to sessionStorage under
//   this scenario's storageKey (crossTab off); a tab of a crossTab scenario (a frame that loaded
//   the conformance wasm, see the player, its own window.fetch scripted) has localStorage under
//   its key and crossTab on, its held refresh token the record it last wrote there;
// - events: the Face hands every event of `Refresher::on` as {name, code, reason, status, retryIn};
// - the Rust face's typed errors in the table's terms (the Face maps them, nothing else):
//   TokenError::NoSession / Expired / LoggedOut = SessionError no-session / session-expired /
//   logged-out, Disposed = FreshtokenError disposed, Transient { code, status, late } =
//   RefreshError <code>[ <status>][ late];
// - a request is fetch_with(new Request(<origin>/api/<id>, marker header, signal)); 'cancel'
//   aborts its signal and drops its future (how a Rust caller cancels): it is forgotten;
// - nextRefreshInMs / expiresInMs: next_refresh_at() / expires_at() minus now(), all on the
//   session clock (the Rust face's documented scale);
// - {accessDenied}: the Rust face has no PubNub adapter; the app asks
//   core().token_after_rejection(<the denied token>) for the token to give its client:
//   'replay <token>', or 'return' when it fails with a SessionError (the session ended).
//
// WEB_KNOWN_GAPS lists scenarios the Rust face does not meet today: they run, are reported, and
// do not fail; one that starts passing fails, so that the list stays honest.
//
//   nice -n 10 node --test --test-concurrency=1 tests/rust-apps/web-conformance.test.mjs
//   CONFORMANCE_TABLE=/tmp/x.json ...   plays another table (e.g. to see the runner fail)
import { execFileSync } from 'node:child_process';
import { startAuthServer } from './server.mjs';
import { playTable } from '../support/conformance.mjs';

/** Scenarios the Rust face does not meet today: name -> why (what it does instead). */
export const WEB_KNOWN_GAPS = {
};

const REPO = new URL('../..', import.meta.url).pathname;
const DIST = new URL('../../examples/conformance/dist', import.meta.url).pathname;

/** The Rust face in the page (self-contained: serialised into it); see tests/support/conformance.mjs. */
async function webFace() {
  // The Rust face calls window.fetch (web-sys): the scenario in play answers it (in a tab's
  // frame, that frame's window.fetch).
  let current = null;
  window.fetch = (input, init) => (current ? current(input, init) : Promise.reject(new TypeError('no scenario in play')));
  let serial = 0;
  return {
    scenario({ S, custom, tname, note, failText, scriptedFetch, customRefresh, onEvent, win, tab }) {
      // This page's wasm, or (a tab of a crossTab scenario) the wasm its frame loaded.
      const { Face } = win.face;
      const storageKey = tab ? tab.storageKey : `freshtoken-web-conformance-${++serial}`;
      return {
        /** Options::from_js: sessionStorage under this scenario's key, no crossTab; a tab: localStorage, crossTab. */
        options: () => (tab ? { storage: 'localStorage', storageKey, crossTab: true } : { storage: 'sessionStorage', storageKey, crossTab: false }),
        create(options) {
          if (tab) win.fetch = scriptedFetch;
          else current = scriptedFetch;
          // Options::refresh: customRefresh; every event of Refresher::on to onEvent.
          return new Face(options, custom ? customRefresh : undefined, onEvent);
        },
        discard(made) {
          made.dispose();
          made.free();
        },
        state: (r) => r.state(),
        token: (r) => r.currentToken() ?? null,
        nextRefreshAt: (r) => r.nextRefreshAt() ?? null,
        expiresAt: (r) => r.expiresAt() ?? null,
        now: (r) => r.now(),
        stored: () => (tab ? tab.stored() : sessionStorage.getItem(storageKey)),
        fetch: (r, id, url, { headers, signal, skipAuthRefresh }) =>
          r.fetch(id, new Request(url, signal ? { headers, signal } : { headers }), skipAuthRefresh === true),
        // A Rust caller cancels by dropping the future (Face.cancel): whatever it rejects with.
        forgets: () => true,
        cancel: (r, id) => r.cancel(id),
        accessDenied(r, v) {
          // No PubNub adapter in the Rust face: the app asks core().token_after_rejection(used)
          // for the token to give its client; 'return' when the session ended meanwhile.
          const used = [...S.names].find(([, n]) => n === v.token)?.[0] ?? v.token;
          r.tokenAfterRejection(used).then((t) => note(v.id, `replay ${tname(t)}`),
            (e) => note(v.id, e?.name === 'SessionError' ? 'return' : failText(e)));
        },
        close(r) {
          try { r?.dispose(); } catch { /* already */ }
          try { r?.free(); } catch { /* in use */ }
          if (!tab) {
            current = null;
            sessionStorage.removeItem(storageKey);
          }
        },
      };
    },
  };
}

playTable({
  label: 'web',
  gapsName: 'WEB_KNOWN_GAPS',
  gaps: WEB_KNOWN_GAPS,
  who: 'the Rust face',
  // Builds examples/conformance when its dist/ is older than its inputs (minutes from clean).
  prepare: () => execFileSync('bash', ['scripts/web-conformance.sh'], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] }),
  start: () => startAuthServer(DIST),
  setupTimeoutMs: 900_000,
  pagePath: '/index.html',
  loads: 'the conformance wasm',
  consoleErrors: true,
  // A wasm panic poisons the module: a clean page after one.
  restartAfter: /the page failed|the runner threw|uncaught in the page/,
  inPage: webFace,
});
