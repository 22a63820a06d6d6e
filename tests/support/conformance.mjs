// The browser player of the conformance table (tests/scenarios/engine.json), shared by the two
// browser runners of issue 19: tests/browser/conformance.test.mjs (the npm package) and
// tests/rust-apps/web-conformance.test.mjs (the `web` feature, through examples/conformance).
// The engine alone is tests/engine_conformance.rs, the reference interpretation of every step
// and expectation. A runner is a face adapter (described at the end of this comment) and one
// call: playTable(face).
//
// The page runs on a virtual clock (tests/browser/pages/virtual-clock.js, installed before any
// script of the page runs): performance.now, Date.now / new Date(), setTimeout and friends are
// the clock's, and only this player moves it, so a scenario with hours of `advance` runs in
// milliseconds. Each scenario is played in the page through the face's PUBLIC API only, and
// the I/O boundary the face owns is scripted: a fetch that records every call (URL, method,
// Authorization, body) and answers as the steps say; the real servers are exercised elsewhere
// (tests/e2e, the trust tests, tests/rust-apps/apps.test.mjs).
//
// How a face's observations are read (the rest maps as tests/engine_conformance.rs does):
// - a refresh call is a call of the scripted fetch to the refresh endpoint (or of the app's
//   `refresh` function); its tokens: the refresh token in its body (the fetch init's; else the
//   Request's, read asynchronously and filled in when read: settle() waits for it), the access
//   token in its Authorization header, else (the json preset sends none) the token the
//   refresher held when it made the call; aborts: the `code` of the reason its signal aborted
//   with (superseded, disposed, timeout); inFlight: neither answered nor aborted;
// - refreshToken (the refresh token held): the session record the face writes to its storage
//   (crossTab off, so the storage adds no cross-tab protocol); refusedCalls: refresh-error
//   events with code refused-origin;
// - a request is the face's fetch of <origin>/api/<id> with a marker header and its own
//   signal; its fetch calls are 'send <token>' then 'replay <token>' ('-': no Bearer);
//   'return' when it resolves; 'fail <name> <code>[ <status>][ late]' when it rejects; a
//   cancelled request is forgotten, as the engine forgets it;
// - timerInMs: the earliest timer the page has queued; nextRefreshInMs / expiresInMs: the
//   face's next-refresh / expiry times minus its now; times compare to within 1 ms;
// - {date: ...}: an answer from that origin to the face's fetch with that Date header;
//   {visible}: a visibilitychange event; {online}: an online event; {wallJump}: the wall clock
//   moves and the face looks again (a visibilitychange, as the engine runner plays the same
//   timeout() as for `visible`); {accessDenied}: a denial of a token, handed to the face as
//   the app would (the adapter's): 'replay <token>' when the client is then given a token,
//   'return' when the session ends meanwhile;
// - answers: {ok} / {body} a 200 with that JSON (ok in the preset's field names), {http} that
//   status (and Retry-After), {oauth} an OAuth 2 error answer, 'rejected' a 401, 'transient' /
//   'network' a fetch rejected with a TypeError, 'timeout' a fetch rejected with a TimeoutError
//   DOMException, 'hang' no answer; for the app's own function: it resolves with the token
//   set, or rejects ({fnError}).
// The table's page origin (https://app.example) is the local server's origin here.
//
// Cross-tab scenarios (crossTab: true, steps in tabs A, B, C): each tab is a same-origin
// iframe of the page that loads the face from pagePath, on the page's virtual clock (the init
// script installs it there), one refresher per frame; the protocol between them is the
// browser's own (Web Locks, BroadcastChannel; removing a frame closes a tab, and the browser lets
// go of its locks). Each frame's localStorage is a view of one log in which another tab's write
// shows `storageLag` ms late. A step ends once nothing of the protocol is on its way (every
// message delivered, the lock manager's snapshot matching the frames' requests), and a timer
// that fires is settled the same way before the next, so the tabs' lock requests keep the
// order of their timers. refreshCalls / lastCall / calls / inFlight count every tab's calls;
// the rest is the step's tab's (the held refresh token: the record that tab last wrote).
// Scenarios with `needs` this player lacks are skipped with the reason. A face's known gaps
// (name -> why) are scenarios it does not meet today: they run, are reported, and do not fail;
// one that starts passing fails, so that the list stays honest.
// CONFORMANCE_TABLE=/tmp/x.json plays another table (e.g. to see a runner fail).
//
// The face adapter, node side: label ('npm' | 'web': test names, the report), gapsName and
// gaps (its KNOWN_GAPS), who ('the npm face': the report), prepare() (optional, first: a
// build), start() (the local server, {url, close}), setupTimeoutMs (optional), pagePath (the
// page that loads the face and sets window.ready or window.initError), loads (what it loads:
// errors), consoleErrors (echo the page's console.error), restartAfter (a RegExp: after such
// a failure the next scenario gets a clean page), inPage:
//
// The face adapter, in the page: `inPage` is a self-contained async function (serialised into
// the page) run once when the page is ready; it returns { scenario(P) }, P being the player's
// side of one scenario: { sc, S, custom, tname, note, failText, scriptedFetch, customRefresh,
// onEvent, win, tab }: `win` the window the refresher lives in (this page's, or a tab's frame:
// the face loaded there), `tab` null, or for a tab of a crossTab scenario { name, storageKey,
// stored() } (options: localStorage under that key, crossTab on). scenario(P) returns the face's
// side of it:
//   options()            the face's own options (fetch, storage, crossTab, the app's refresh);
//                        the player adds endpoint, refreshAt, ..., origins from the table
//   create(options)      the refresher handle, or a Promise of it (it may throw / reject); the
//                        handle has setTokens, getAccessToken, refresh, logout and dispose as
//                        the npm API names them
//   discard(made)        lets go of a handle made from options the table says are refused
//   attach(r)            (optional) after create: listeners (each event to P.onEvent as
//                        {name, code, reason, status, retryIn}), PubNub clients, ...
//   state(r), token(r), nextRefreshAt(r), expiresAt(r), now(r)   the getters
//   stored()             the session record (text) the face last wrote, or null
//   fetch(r, id, url, {headers, signal, skipAuthRefresh})        a request through the face
//   forgets(e, ctl)      whether a cancelled request's rejection `e` is its cancellation
//   cancel(r, id)        (optional) what a caller of the face does besides aborting the signal
//   accessDenied(r, v)   the {accessDenied: {id, token}} step, in the face's terms
//   close(r)             the end of a scenario: detach, dispose, free, forget the storage
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launchBrowser } from './browser.mjs';

const TABLE_PATH = process.env.CONFORMANCE_TABLE ?? new URL('../scenarios/engine.json', import.meta.url).pathname;
const TABLE = JSON.parse(readFileSync(TABLE_PATH, 'utf8'));
const CLOCK = readFileSync(new URL('../browser/pages/virtual-clock.js', import.meta.url), 'utf8');
/** Capabilities this player plays; a scenario that needs anything else is skipped. */
const SUPPORTED = [];
const WHY_NOT = {};

// --- the player, run inside the page ---------------------------------------------------------

/** Installs `window.__player` in the page, on the face `makeFace` (the adapter's `inPage`)
 *  makes there (both self-contained: serialised into the page). */
async function installPlayer(makeFace, pagePath) {
  const PAGE = 'https://app.example';
  const HERE = location.origin;
  const WALL0 = 1796601600000;
  const SPIN = 64;
  const vc = window.__vclock;
  const face = await makeFace();
  const realRandom = Math.random;
  const realSleep = (ms) => new Promise((r) => vc.real.setTimeout.call(window, r, ms));

  // One real task (MessageChannel): a Response body is read in a task, not a microtask.
  const channel = new MessageChannel();
  const waiting = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  const task = () => new Promise((r) => { waiting.push(r); channel.port2.postMessage(0); });
  const spin = async (n) => { for (let i = 0; i < n; i++) await null; };
  // DPoP signs in WebCrypto, off the page's event loop: a step settles only once no
  // signature or digest the faces asked for is still on its way (counted per window).
  const cryptoOps = (win) => {
    if (win.__ftCrypto) return win.__ftCrypto;
    const ops = { pending: 0 };
    const proto = win.SubtleCrypto.prototype;
    for (const m of ['sign', 'digest']) {
      const real = proto[m];
      proto[m] = function counted(...args) {
        ops.pending++;
        return real.apply(this, args).finally(() => { ops.pending--; });
      };
    }
    win.__ftCrypto = ops;
    return ops;
  };

  class Bad extends Error {}
  const bail = (m) => { throw new Bad(m); };
  const b64url = (text) => {
    let bin = '';
    for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const mapOrigin = (o) => (typeof o === 'string' && (o === PAGE || o === `${PAGE}/`) ? HERE : o);
  const onlyKeys = (m, allowed, what) => {
    for (const k of Object.keys(m)) if (!allowed.includes(k)) bail(`${what}: unknown field ${JSON.stringify(k)} (allowed: ${allowed.join(', ')})`);
  };
  const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

  // --- tabs: same-origin frames of this page, each a tab of a cross-tab scenario -----------------
  // Each frame loads the face as the page does (pagePath) and runs on this page's clock (the
  // init script installs it there). The protocol is the browser's own: one Web Lock manager,
  // BroadcastChannel between the frames, a frame removed as a tab closes (the browser lets go
  // of its locks and channels). Two things are added around it:
  // - the player waits until nothing of the protocol is on its way (`protocolQuiet`): every
  //   message posted has reached the channels it was sent to, and the lock manager's snapshot
  //   matches the requests the frames made (none granted but not yet told, none let go but
  //   still held), so a step ends with the tabs settled, whatever the IPC's timing;
  // - each frame's `localStorage` is a view of one shared log in which another tab's write
  //   appears `storageLag` ms (virtual) after it was made, a tab's own at once: the lag of
  //   tabs in separate processes that SPEC behaviour 3 warns of (no lag: plain shared storage).
  const Q = { on: false, channels: new Set(), locks: new Set(), writes: [], lag: 0 };
  function instrument(win, tabName) {
    const Orig = win.BroadcastChannel;
    class Channel extends Orig {
      constructor(name) {
        super(name);
        Object.assign(this, { qWin: win, qName: String(name), qPending: 0, qOpen: true });
        Q.channels.add(this);
        this.addEventListener('message', () => { if (this.qPending > 0) this.qPending--; });
      }
      postMessage(m) {
        const out = super.postMessage(m);
        for (const c of Q.channels) if (c !== this && c.qOpen && c.qName === this.qName) c.qPending++;
        return out;
      }
      close() {
        this.qOpen = false;
        this.qPending = 0;
        Q.channels.delete(this);
        return super.close();
      }
    }
    win.BroadcastChannel = Channel;
    const locks = win.navigator.locks;
    const request = locks.request.bind(locks);
    locks.request = (name, a, b) => {
      const [options, callback] = typeof a === 'function' ? [{}, a] : [a ?? {}, b];
      const e = { name: String(name), state: 'waiting', win };
      Q.locks.add(e);
      if (options.steal) for (const x of Q.locks) if (x !== e && x.name === e.name && x.state === 'held') x.state = 'done';
      const p = request(name, options, (lock) => {
        if (e.state === 'waiting') e.state = 'held';
        let out;
        try { out = callback(lock); } catch (err) { e.state = 'done'; throw err; }
        Promise.resolve(out).then(() => { e.state = 'done'; }, () => { e.state = 'done'; });
        return out;
      });
      p.then(() => {}, () => { if (e.state === 'waiting') e.state = 'done'; });
      return p;
    };
    const view = (key) => {
      for (let i = Q.writes.length - 1; i >= 0; i--) {
        const w = Q.writes[i];
        if (w.key === key && (w.tab === tabName || w.at + Q.lag <= vc.mono)) return w.value;
      }
      return null;
    };
    const storage = {
      getItem: (key) => view(String(key)),
      setItem: (key, value) => { Q.writes.push({ key: String(key), value: String(value), tab: tabName, at: vc.mono }); },
      removeItem: (key) => { Q.writes.push({ key: String(key), value: null, tab: tabName, at: vc.mono }); },
      clear: () => {},
      key: () => null,
      get length() { return 0; },
    };
    Object.defineProperty(win, 'localStorage', { get: () => storage, configurable: true });
  }
  /** What tab `tabName` last wrote under `key` itself (the session it holds), or null. */
  function ownWrite(tabName, key) {
    for (let i = Q.writes.length - 1; i >= 0; i--) if (Q.writes[i].key === key && Q.writes[i].tab === tabName) return Q.writes[i].value;
    return null;
  }
  /** Whether nothing of the cross-tab protocol is on its way (see above). */
  async function protocolQuiet() {
    for (const c of Q.channels) if (c.qPending > 0) return false;
    let held = 0;
    let waiting = 0;
    for (const e of Q.locks) {
      if (e.state === 'held') held++;
      else if (e.state === 'waiting') waiting++;
      else Q.locks.delete(e);
    }
    const snap = await navigator.locks.query();
    return snap.held.length === held && snap.pending.length === waiting;
  }
  /** A frame (a tab) loading the face; `tabName` names it. */
  async function openFrame(tabName) {
    const f = document.createElement('iframe');
    f.name = `tab-${tabName}`;
    f.src = pagePath;
    document.body.append(f);
    for (let i = 0; ; i++) {
      const w = f.contentWindow;
      let s = null;
      try { s = w?.ready === true ? 'ready' : w?.initError ?? null; } catch { /* navigating */ }
      if (s === 'ready') break;
      if (s) bail(`tab ${tabName} failed to load the face: ${s}`);
      if (i > 3000) bail(`tab ${tabName} did not load the face within 30 s`);
      await realSleep(10);
    }
    instrument(f.contentWindow, tabName);
    return f;
  }
  /** A tab closes: the frame goes (the browser lets go of its locks and channels), its timers with it. */
  function removeFrame(f) {
    const win = f.contentWindow;
    if (win) {
      vc.clearFor(win);
      for (const c of Q.channels) if (c.qWin === win) { c.qOpen = false; c.qPending = 0; Q.channels.delete(c); }
      for (const e of Q.locks) if (e.win === win) e.state = 'done';
    }
    f.remove();
  }

  /** JSON equality, numbers to within `tol`. */
  function same(got, want, tol) {
    if (typeof got === 'number' && typeof want === 'number') return Math.abs(got - want) <= tol;
    if (Array.isArray(got) && Array.isArray(want)) return got.length === want.length && got.every((g, i) => same(g, want[i], tol));
    if (isObj(got) && isObj(want)) {
      const a = Object.keys(got);
      return a.length === Object.keys(want).length && a.every((k) => k in want && same(got[k], want[k], tol));
    }
    return got === want;
  }

  /** What every tab of a scenario shares: the clocks' activity, the refresh endpoint, the JWTs built. */
  const sharedOf = (sc) => ({
    activity: 0,
    random: typeof sc.random === 'number' ? sc.random : 0.5,
    names: new Map(),     // token text -> name (runner-built JWTs)
    calls: [],            // refresh calls (of every tab)
    aborts: [],
    revoked: [],          // refresh tokens (names) of revocation calls
    server: null,         // the standing answer to every refresh call
    errors: [],
    dateValue: null,
  });

  /**
   * One refresher of a scenario in window `win` (this page's, or a tab's frame; `tab`:
   * {name, storageKey, stored()} for a tab of a cross-tab scenario, else null): its player
   * state, its steps and expectations. `shared` (sharedOf) is every tab's.
   */
  function makeTab(sc, shared, win, tab) {
    const S = {
      events: [],
      retryDelays: [],
      refused: 0,
      history: new Map(),   // request / caller / PubNub client name -> outcomes
      sends: new Map(),     // request name -> fetch calls so far
      inAir: new Map(),     // request name -> its fetch call waiting for `respond`
      reqs: new Map(),      // request name -> { ctl, cancelled }
    };
    for (const k of Object.keys(shared)) {
      Object.defineProperty(S, k, { get: () => shared[k], set: (v) => { shared[k] = v; }, enumerable: true });
    }
    const document = win.document;
    let r = null;
    let base = null;
    let sf = null;          // the face's side of this scenario (face.scenario)
    const o = sc.options ?? {};
    const custom = o.refresh === 'custom';
    const endpoint = custom ? null : { url: '/auth/refresh', ...(o.endpoint ?? {}) };
    const preset = endpoint?.preset ?? 'json';
    // RFC 9449: the face's tokens go as `Authorization: DPoP` with a `DPoP` proof.
    const dpop = o.dpop === true;
    const nonceWanted = new Map(); // request name -> the nonce its next send's proof must carry

    const tname = (t) => (t == null ? null : S.names.get(t) ?? t);
    const note = (id, what) => { S.activity++; S.history.get(id).push(what); };
    const ensure = (id) => { if (!S.history.has(id)) S.history.set(id, []); };
    const failText = (e) => {
      let s = `fail ${e?.name} ${e?.code}`;
      if (typeof e?.status === 'number') s += ` ${e.status}`;
      if (e?.late === true) s += ' late';
      return s;
    };

    // Settles what the last action set off: microtasks, and real tasks (a Response body is
    // read in one) until nothing observable changes for two rounds.
    // With tabs, also until nothing of the protocol is on its way (protocolQuiet).
    async function settle() {
      let quiet = 0;
      for (let i = 0; i < (Q.on ? 5000 : 500); i++) {
        const before = S.activity;
        await spin(SPIN);
        await task();
        await spin(SPIN);
        if (dpop && cryptoOps(win).pending > 0) {
          quiet = 0;
          await realSleep(1);
          continue;
        }
        if (Q.on && !(await protocolQuiet())) {
          quiet = 0;
          await realSleep(1);
          continue;
        }
        if (S.activity === before) { if (++quiet >= 2) return; } else quiet = 0;
      }
      bail('the page never settles (a loop?)');
    }
    // After a timer fired: most are the face's timer stepping on (nothing observable), for
    // which microtasks are enough; anything observable gets the full settle.
    async function afterFire() {
      if (vc.fires > 300000) bail('over 300,000 timers fired: a timer storm');
      // With tabs a timer may set off the protocol (a lock request): settled before the next
      // timer fires, so the tabs' lock requests keep the order of their timers.
      if (Q.on) return settle();
      const before = S.activity;
      await spin(SPIN);
      if (S.activity !== before) await settle();
    }

    // --- tokens ---------------------------------------------------------------------------
    function token(v, what) {
      if (typeof v === 'string') return v;
      if (isObj(v) && 'repeat' in v) {
        onlyKeys(v, ['repeat', 'times'], 'repeat');
        return String(v.repeat).repeat(v.times);
      }
      if (!isObj(v) || !isObj(v.jwt)) bail(`${what}: a string or {"jwt": ...}`);
      const spec = v.jwt;
      onlyKeys(spec, ['name', 'iat', 'exp', 'claims'], 'jwt');
      if (typeof spec.name !== 'string') bail('jwt.name is required');
      const claims = { sub: spec.name };
      const secs = Math.floor(Date.now() / 1000);
      for (const k of ['iat', 'exp']) if (spec[k] !== undefined) claims[k] = secs + spec[k];
      Object.assign(claims, spec.claims ?? {});
      const jwt = `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(JSON.stringify(claims))}.`;
      S.names.set(jwt, spec.name);
      return jwt;
    }
    /** A token set of the table as the app would hand it over (expiresAtIn made absolute). */
    function tokenSet(v, what) {
      if (!isObj(v)) return v;
      const out = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === 'accessToken' || k === 'refreshToken') out[k] = isObj(x) ? token(x, `${what}.${k}`) : x;
        else if (isObj(x) && 'repeat' in x) out[k] = token(x, `${what}.${k}`);
        else if (k === 'expiresAtIn') out.expiresAt = Date.now() + x;
        else out[k] = x;
      }
      return out;
    }
    /** A token set in the field names of the endpoint's preset. */
    function presetBody(t) {
      const pick = (pairs) => Object.fromEntries(pairs.filter(([, v]) => v !== undefined));
      switch (preset) {
        case 'json': return t;
        case 'sanic-jwt': return pick([['access_token', t.accessToken], ['refresh_token', t.refreshToken]]);
        case 'bearer-put': return pick([['token', t.accessToken], ['expiresIn', t.expiresIn]]);
        case 'oauth2': return pick([['access_token', t.accessToken], ['refresh_token', t.refreshToken], ['expires_in', t.expiresIn]]);
        default: return bail(`unknown preset ${preset}`);
      }
    }

    // --- the I/O boundary: the scripted fetch and the app's refresh function -------------------
    const abortName = (reason) => (['superseded', 'disposed', 'timeout'].includes(reason?.code) ? reason.code : String(reason?.code ?? reason?.name ?? reason));
    function response(status, body, headers, url, redirected = false) {
      const res = new Response([101, 103, 204, 205, 304].includes(status) ? null : body, { status, headers });
      Object.defineProperty(res, 'url', { value: url });
      if (redirected) Object.defineProperty(res, 'redirected', { value: true });
      return res;
    }
    function newCall(access, refresh, signal, extra) {
      let resolve;
      let reject;
      const promise = new Promise((a, b) => { resolve = a; reject = b; });
      const call = { access: tname(access), refresh: tname(refresh), state: 'flight', resolve, reject, promise, ...extra };
      S.calls.push(call);
      S.activity++;
      if (signal) {
        const onAbort = () => {
          if (call.state === 'flight') { call.state = 'aborted'; S.aborts.push(abortName(signal.reason)); S.activity++; }
          reject(signal.reason);
        };
        if (signal.aborted) onAbort(); else signal.addEventListener('abort', onAbort, { once: true });
      }
      if (S.server !== null) answer(call, S.server, null);
      return call;
    }
    /** The refresh token in a refresh call's body (JSON or a form), or null. */
    function refreshIn(body) {
      if (typeof body !== 'string') return null;
      try {
        const j = JSON.parse(body);
        return j.refreshToken ?? j.refresh_token ?? null;
      } catch {
        return new URLSearchParams(body).get('refresh_token');
      }
    }
    /** `body`: the fetch init's, or a Promise of the Request's text (its refresh token is filled
     *  in when it is read; settle() waits for it). */
    function refreshCall(url, method, headers, body, signal) {
      const want = new URL(endpoint.url, document.baseURI).href;
      if (url !== want) bail(`a fetch to ${url}, neither a request of the scenario nor the refresh endpoint (${want})`);
      const bearer = /^Bearer (.+)$/.exec(headers.get('authorization') ?? '');
      const held = bearer ? bearer[1] : (r ? sf.token(r) : null) ?? null;
      // The request as sent (lastRequest): the two headers a preset sets, and the body text.
      const sent = { method, contentType: headers.get('content-type'), authorization: headers.get('authorization'), body: typeof body === 'string' ? body : null };
      if (dpop) {
        // With DPoP the refresh call carries a proof naming this call: its method and URL.
        const proof = headers.get('dpop') ?? bail('the refresh call was sent without a DPoP proof');
        const claims = JSON.parse(atob(proof.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
        if (claims.htm !== method || claims.htu !== url.replace(/[?#].*$/, '')) bail(`the refresh call ${method} ${url} carries a proof for ${claims.htm} ${claims.htu}`);
      }
      if (typeof body?.then !== 'function') return newCall(held, refreshIn(body), signal, { url, method, sent }).promise;
      const call = newCall(held, null, signal, { url, method, sent });
      call.bodyRead = body.then((text) => {
        sent.body = text || null;
        call.refresh = tname(refreshIn(text));
        S.activity++;
      });
      return call.promise;
    }
    function requestCall(id, url, headers, signal) {
      const n = S.sends.get(id) ?? 0;
      S.sends.set(id, n + 1);
      const auth = /^(Bearer|DPoP) (.+)$/.exec(headers.get('authorization') ?? '');
      const sent = auth ? tname(auth[2]) : '-';
      if (auth && (auth[1] === 'DPoP') !== dpop) bail(`${id} was sent with ${auth[1]}, not ${dpop ? 'DPoP' : 'Bearer'}`);
      if (dpop && auth) {
        // Its proof: a JWS whose claims name this request and, after a nonce demand, carry that nonce.
        const proof = headers.get('dpop') ?? bail(`${id} was sent with a DPoP token and no DPoP proof`);
        const claims = JSON.parse(atob(proof.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
        if (claims.htu !== url.replace(/[?#].*$/, '')) bail(`${id}'s proof names htu ${claims.htu}, not ${url}`);
        const want = nonceWanted.get(id);
        nonceWanted.delete(id);
        if (want !== undefined) {
          if (claims.nonce !== want) bail(`${id} was sent again after a nonce demand with the nonce ${claims.nonce}, not ${want}`);
          note(id, `nonce ${sent}`);
          return inAirCall(id, url, signal);
        }
      }
      note(id, `${n === 0 ? 'send' : 'replay'} ${sent}`);
      return inAirCall(id, url, signal);
    }
    function inAirCall(id, url, signal) {
      return new Promise((resolve, reject) => {
        const pending = { resolve, reject, url };
        S.inAir.set(id, pending);
        signal?.addEventListener('abort', () => {
          if (S.inAir.get(id) === pending) S.inAir.delete(id);
          reject(signal.reason);
        }, { once: true });
      });
    }
    function scriptedFetch(input, init) {
      const req = typeof Request !== 'undefined' && (input instanceof Request || input instanceof win.Request) ? input : null;
      const url = req ? req.url : String(input);
      const headers = new Headers(init?.headers ?? req?.headers ?? undefined);
      const signal = init?.signal ?? req?.signal ?? null;
      const mark = headers.get('x-conformance');
      if (mark === '#date') {
        S.activity++;
        return Promise.resolve(response(200, '{}', { date: S.dateValue }, url));
      }
      if (mark) return requestCall(mark, url, headers, signal);
      if (endpoint?.revokeUrl && url === new URL(endpoint.revokeUrl, document.baseURI).href) {
        // A revocation call (RFC 7009): recorded, answered 200.
        // The body is read from the fetch call's init, or later from its Request (the web face).
        S.activity++;
        const i = S.revoked.push(null) - 1;
        Promise.resolve(req && init?.body === undefined ? req.text() : String(init?.body ?? '')).then((b) => {
          S.revoked[i] = tname(new URLSearchParams(b).get('token'));
          S.activity++;
        });
        return Promise.resolve(response(200, '', {}, url));
      }
      const body = req && init?.body === undefined ? req.text() : init?.body;
      return refreshCall(url, init?.method ?? req?.method ?? 'GET', headers, body, signal);
    }
    /** The app's own refresh function: called with {accessToken, refreshToken[, signal]}. */
    function customRefresh(ctx) {
      return newCall(ctx.accessToken ?? null, ctx.refreshToken ?? null, ctx.signal ?? null, { custom: true }).promise;
    }

    /** Answers a refresh call as the table's answer `v` says. */
    function answer(call, v, date) {
      const headers = date ? { date } : {};
      const json = (status, body) => call.resolve(response(status, JSON.stringify(body), { 'content-type': 'application/json', ...headers }, call.url));
      const settleCall = () => { if (call.state === 'flight') call.state = 'answered'; S.activity++; };
      if (typeof v === 'string') {
        switch (v) {
          case 'hang': return;
          case 'transient':
          case 'network': settleCall(); call.reject(new TypeError('Failed to fetch')); return;
          case 'timeout': settleCall(); call.reject(new DOMException('The operation timed out.', 'TimeoutError')); return;
          case 'rejected':
            settleCall();
            if (call.custom) call.reject(Object.assign(new Error('the session expired'), { sessionExpired: true }));
            else json(401, { error: 'invalid_grant' });
            return;
          default: bail(`unknown refresh answer ${JSON.stringify(v)}`);
        }
      }
      if (!isObj(v) || Object.keys(v).length !== 1) bail(`a refresh answer has one key: ok | body | padded | http | oauth | fnError, not ${JSON.stringify(v)}`);
      const [k, x] = Object.entries(v)[0];
      switch (k) {
        case 'ok':
          settleCall();
          if (call.custom) call.resolve(tokenSet(x, 'ok'));
          else json(200, presetBody(tokenSet(x, 'ok')));
          return;
        case 'body':
          settleCall();
          if (call.custom) call.resolve(tokenSet(x, 'body'));
          else json(200, tokenSet(x, 'body'));
          return;
        case 'padded': {
          // `body` with one more member, "padding", making its JSON text `bytes` long.
          onlyKeys(x, ['body', 'bytes'], 'padded');
          settleCall();
          const body = { ...tokenSet(x.body, 'padded.body'), padding: '' };
          body.padding = 'x'.repeat(Math.max(0, x.bytes - JSON.stringify(body).length));
          if (call.custom) call.resolve(body);
          else json(200, body);
          return;
        }
        case 'http': {
          if (call.custom) bail('an http answer needs the refresh endpoint, not the app\'s function');
          onlyKeys(x, ['status', 'retryAfter'], 'http');
          settleCall();
          const h = { ...headers };
          if (x.retryAfter !== undefined) h['retry-after'] = x.retryAfter;
          if (x.status >= 300 && x.status < 400) h.location = 'https://elsewhere.example/token';
          call.resolve(response(x.status, JSON.stringify({ error: `scripted ${x.status}` }), h, call.url));
          return;
        }
        case 'oauth': {
          // An OAuth 2 error answer (RFC 6749 §5.2): JSON {error, error_description} with its status.
          if (call.custom) bail('an oauth answer needs the refresh endpoint, not the app\'s function');
          onlyKeys(x, ['status', 'error', 'error_description', 'descriptionBytes'], 'oauth');
          settleCall();
          const body = { error: x.error };
          if (x.error_description !== undefined) body.error_description = x.error_description;
          if (x.descriptionBytes !== undefined) body.error_description = 'x'.repeat(x.descriptionBytes);
          json(x.status, body);
          return;
        }
        case 'fnError':
          if (!call.custom) bail('fnError answers the app\'s own refresh function (options.refresh: "custom")');
          settleCall();
          call.reject(Object.assign(new Error('the app\'s refresh failed'), x.sessionExpired === true ? { sessionExpired: true } : {}));
          return;
        default: bail(`unknown refresh answer ${JSON.stringify(v)}`);
      }
    }

    // --- the refresher ----------------------------------------------------------------------
    function options() {
      onlyKeys(o, ['origins', 'refreshAt', 'defaultLifetimeMs', 'refreshTimeoutMs', 'retryStatuses', 'endSessionStatuses', 'endpoint', 'refresh',
        'crossTab', 'storage', 'storageKey', 'dpop', 'loginUrl'], 'options');
      // crossTab, storage, storageKey: a tab's (the face's options() take them from P.tab).
      if ((o.crossTab === true) !== !!tab) bail('crossTab: true is played with tabs (frames), and only it');
      if (tab && o.storage !== 'localStorage') bail('crossTab is played with storage: "localStorage"');
      const out = sf.options(); // 'custom': the face's options() hands customRefresh over its way
      if (!custom) {
        if (o.refresh !== undefined) bail('options.refresh must be "custom" (the app\'s own refresh function)');
        out.endpoint = endpoint;
      }
      for (const k of ['refreshAt', 'defaultLifetimeMs', 'refreshTimeoutMs', 'retryStatuses', 'endSessionStatuses', 'dpop', 'loginUrl']) {
        if (o[k] !== undefined) out[k] = o[k];
      }
      if (o.origins !== undefined) out.origins = Array.isArray(o.origins) ? o.origins.map(mapOrigin) : o.origins;
      return out;
    }
    const heldRefreshToken = () => {
      let rec = null;
      try {
        const text = sf.stored();
        rec = text ? JSON.parse(text) : null;
      } catch { /* none */ }
      return rec && typeof rec.accessToken === 'string' ? tname(rec.refreshToken ?? null) : null;
    };

    /** An event of the refresher, in the table's terms: {name, code, reason, status, retryIn}. */
    function onEvent(d) {
      S.activity++;
      switch (d.name) {
        case 'refresh': S.events.push('refresh'); break;
        case 'refresh-error':
          S.events.push(`refresh-error ${d.code}`);
          S.retryDelays.push(d.retryIn);
          if (d.code === 'refused-origin') S.refused++;
          break;
        case 'session-expired': S.events.push(`session-expired ${d.reason}`); break;
        case 'logout': S.events.push('logout'); break;
        case 'forbidden': S.events.push(`forbidden ${d.status}`); break;
        case 'schedule': break;
        default: S.events.push(`unknown event ${d.name}`);
      }
    }

    // --- steps -------------------------------------------------------------------------------
    async function caller(kind, v) {
      const ids = Array.isArray(v) ? v : [isObj(v) ? v.id : bail(`${kind}: [ids] or {id}`)];
      for (const id of ids) {
        ensure(id);
        let p;
        try { p = kind === 'getToken' ? r.getAccessToken() : r.refresh(); } catch (e) { p = Promise.reject(e); }
        p.then((t) => note(id, `token ${tname(t)}`), (e) => note(id, failText(e)));
        await settle();
      }
    }
    async function request(v) {
      onlyKeys(v, ['id', 'origin', 'ownCredentials', 'skipAuthRefresh', 'refreshTraffic', 'count'], 'request');
      if (typeof v.id !== 'string') bail('request.id');
      const ids = v.count === undefined ? [v.id] : Array.from({ length: v.count }, (_, i) => `${v.id}${i + 1}`);
      for (const id of ids) {
        ensure(id);
        let url;
        if (v.refreshTraffic) url = new URL(endpoint?.url ?? bail('refreshTraffic needs the refresh endpoint'), document.baseURI).href;
        else if (v.origin === null) url = `data:text/plain,${encodeURIComponent(id)}`;
        else url = `${mapOrigin(v.origin ?? PAGE)}/api/${encodeURIComponent(id)}`;
        const ctl = new AbortController();
        const entry = { ctl, cancelled: false };
        S.reqs.set(id, entry);
        const headers = { 'x-conformance': id };
        if (v.ownCredentials) headers.authorization = 'Basic YXBwOm93bg==';
        let p;
        try { p = sf.fetch(r, id, url, { headers, signal: ctl.signal, skipAuthRefresh: v.skipAuthRefresh }); } catch (e) { p = Promise.reject(e); }
        p.then(() => note(id, 'return'), (e) => {
          if (entry.cancelled && sf.forgets(e, ctl)) { S.activity++; return; } // forgotten
          note(id, failText(e));
        });
        await settle();
      }
    }
    async function respond(v) {
      onlyKeys(v, ['id', 'status', 'redirectedTo', 'date', 'dpopNonce'], 'respond');
      const targets = v.id.endsWith('*') ? [...S.reqs.keys()].filter((n) => n.startsWith(v.id.slice(0, -1))) : [v.id];
      if (targets.length === 0) bail(`respond: no request ${v.id}`);
      for (const id of targets) {
        if (!S.reqs.has(id)) bail(`respond: no request ${JSON.stringify(id)}`);
        const call = S.inAir.get(id);
        if (!call) bail(`respond: ${id} is not in the air (the face has not sent it)`);
        S.inAir.delete(id);
        const headers = { 'content-type': 'application/json' };
        if (v.date !== undefined) headers.date = v.date;
        if (v.dpopNonce !== undefined) {
          headers['www-authenticate'] = 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"';
          headers['dpop-nonce'] = v.dpopNonce;
          nonceWanted.set(id, v.dpopNonce);
        }
        S.activity++;
        call.resolve(response(v.status, '{}', headers, v.redirectedTo ?? call.url, v.redirectedTo !== undefined));
        await settle();
      }
    }

    async function step(st) {
      if (!isObj(st)) bail('a step must be an object');
      const STEPS = ['setTokens', 'request', 'respond', 'getToken', 'refresh', 'cancel', 'refreshAnswer', 'server', 'date', 'baseHref',
        'advance', 'sleep', 'wallJump', 'visible', 'online', 'logout', 'dispose', 'random', 'accessDenied', 'dpopProof', 'expect'];
      const key = STEPS.find((k) => k in st);
      if (!key) { onlyKeys(st, ['note'], 'a step'); return; }
      const v = st[key];
      switch (key) {
        case 'setTokens': {
          onlyKeys(st, ['setTokens', 'refused', 'note'], 'setTokens step');
          onlyKeys(v, ['accessToken', 'refreshToken', 'expiresIn', 'expiresAt', 'expiresAtIn'], 'setTokens');
          const t = tokenSet(v, 'setTokens');
          let err = null;
          try { r.setTokens(t); } catch (e) { err = e; }
          const refused = st.refused === true;
          if ((err !== null) !== refused) {
            bail(`setTokens was ${err ? `refused (${err.name} ${err.code}: ${err.message})` : 'taken'} but the table says refused: ${refused}`);
          }
          await settle();
          break;
        }
        case 'request': onlyKeys(st, ['request', 'note'], 'request step'); await request(v); break;
        case 'respond': onlyKeys(st, ['respond', 'note'], 'respond step'); await respond(v); break;
        case 'getToken':
        case 'refresh': onlyKeys(st, [key, 'note'], 'caller step'); await caller(key, v); break;
        case 'cancel': {
          const entry = S.reqs.get(v) ?? bail('cancel: unknown id');
          entry.cancelled = true;
          entry.ctl.abort();
          sf.cancel?.(r, v);
          await settle();
          break;
        }
        case 'refreshAnswer': {
          onlyKeys(st, ['refreshAnswer', 'late', 'date', 'note'], 'refreshAnswer step');
          const last = S.calls[S.calls.length - 1];
          let call;
          if (st.late === true) {
            if (!last) bail('refreshAnswer: no refresh call was ever made');
            if (last.state === 'flight') bail('refreshAnswer late: the last call is still in flight (not late)');
            call = last;
          } else {
            if (!last || last.state !== 'flight') bail('refreshAnswer: no refresh call in flight');
            call = last;
          }
          answer(call, v, st.date ?? null);
          await settle();
          break;
        }
        case 'server': {
          S.server = v;
          const last = S.calls[S.calls.length - 1];
          if (v !== null && last?.state === 'flight') answer(last, v, null);
          await settle();
          break;
        }
        case 'date': {
          onlyKeys(v, ['origin', 'value'], 'date');
          S.dateValue = v.value;
          const url = `${mapOrigin(v.origin ?? PAGE)}/api/date`;
          const p = sf.fetch(r, '#date', url, { headers: { 'x-conformance': '#date' } });
          p.then(() => { S.activity++; }, () => { S.activity++; });
          await settle();
          break;
        }
        case 'baseHref': {
          base?.remove();
          base = document.createElement('base');
          base.href = v;
          document.head.prepend(base);
          break;
        }
        case 'advance': await vc.advance(v, afterFire); await settle(); break;
        case 'sleep': vc.move(v, v); break; // no timer runs while asleep; they fire on waking (below)
        case 'wallJump':
          vc.move(0, v);
          document.dispatchEvent(new win.Event('visibilitychange'));
          await settle();
          break;
        case 'visible': document.dispatchEvent(new win.Event('visibilitychange')); await settle(); break;
        case 'online': win.dispatchEvent(new win.Event('online')); await settle(); break;
        case 'logout': r.logout(); await settle(); break;
        case 'dispose': r.dispose(); await settle(); break;
        case 'random': S.random = v; break;
        case 'accessDenied': {
          onlyKeys(v, ['id', 'token'], 'accessDenied');
          ensure(v.id);
          sf.accessDenied(r, v);
          await settle();
          break;
        }
        case 'dpopProof': {
          // The app's own call: a proof from the face (both take (method, url)), its claims read.
          onlyKeys(v, ['method', 'url'], 'dpopProof');
          const url = v.url.startsWith(`${PAGE}/`) ? HERE + v.url.slice(PAGE.length) : v.url;
          S.lastProof = await r.dpopProof(v.method, url).then((proof) => {
            const c = JSON.parse(atob(proof.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
            const htu = c.htu.startsWith(`${HERE}/`) ? PAGE + c.htu.slice(HERE.length) : c.htu;
            return { htm: c.htm, htu, iatIn: c.iat - Math.floor(Date.now() / 1000), nonce: c.nonce ?? null };
          }, (e) => (e?.name === 'OptionsError' ? 'refused' : failText(e)));
          await settle();
          break;
        }
        case 'expect': expect(v); break;
        default: bail(`unknown step ${key}`);
      }
      // What a face's timer of 0 ms does before the next step.
      await vc.runDue(afterFire);
      await settle();
    }

    function expect(x) {
      onlyKeys(x, ['state', 'token', 'refreshToken', 'refreshCalls', 'inFlight', 'lastCall', 'lastRequest', 'calls', 'aborts', 'revoked', 'refusedCalls', 'events',
        'count', 'retryDelays', 'outcomes', 'nextRefreshInMs', 'expiresInMs', 'timerInMs', 'lastProof'], 'expect');
      const errors = [];
      const check = (what, got, want, tol = 1e-3) => {
        if (!same(got, want, tol)) errors.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      };
      const rel = (at) => (at == null ? null : at - sf.now(r));
      const callJson = (c) => ({ accessToken: c.access, refreshToken: c.refresh });
      const last = S.calls[S.calls.length - 1];
      for (const [k, want] of Object.entries(x)) {
        switch (k) {
          case 'state': check(k, sf.state(r), want); break;
          case 'token': check(k, tname(sf.token(r) ?? null), want); break;
          case 'refreshToken': check(k, heldRefreshToken(), want); break;
          case 'refreshCalls': check(k, S.calls.length, want); break;
          case 'refusedCalls': check(k, S.refused, want); break;
          case 'inFlight': check(k, last?.state === 'flight', want); break;
          case 'lastCall': check(k, last ? callJson(last) : null, want); break;
          case 'lastRequest': check(k, last?.sent ?? null, want); break;
          case 'calls': check(k, S.calls.map(callJson), want); break;
          case 'aborts': check(k, S.aborts, want); break;
          case 'revoked': check(k, S.revoked, want); break;
          case 'lastProof': check(k, S.lastProof ?? null, want); break;
          case 'events': check(k, S.events, want); break;
          case 'count':
            for (const [name, n] of Object.entries(want)) {
              check(`count of ${name}`, S.events.filter((e) => e.split(' ')[0] === name || e === name).length, n);
            }
            break;
          case 'retryDelays': check(k, S.retryDelays, want, 1); break;
          case 'nextRefreshInMs': check(k, rel(sf.nextRefreshAt(r) ?? null), want, 1); break;
          case 'expiresInMs': check(k, rel(sf.expiresAt(r) ?? null), want, 1); break;
          case 'timerInMs': check(k, vc.nextAt() === null ? null : vc.nextAt() - vc.mono, want, 1); break;
          case 'outcomes':
            for (const [name, w] of Object.entries(want)) {
              if (name.endsWith('*')) {
                const matching = [...S.history].filter(([n]) => n.startsWith(name.slice(0, -1)));
                if (matching.length === 0) errors.push(`outcomes of ${name}: no such requests`);
                for (const [n, h] of matching) check(`outcome of ${n}`, h, w);
              } else {
                if (!S.history.has(name)) bail(`outcomes: no request or caller ${JSON.stringify(name)}`);
                check(`outcome of ${name}`, S.history.get(name), w);
              }
            }
            break;
          default: bail(`expect: ${k}`);
        }
      }
      if (errors.length) throw new Bad(errors.join('; '));
    }

    // --- this refresher ------------------------------------------------------------------------
    sf = face.scenario({ sc, S, custom, tname, note, failText, scriptedFetch, customRefresh, onEvent, win, tab });
    /** The refresher the face makes of the scenario's options (awaited only if a Promise). */
    const create = () => sf.create(options());
    return {
      S,
      step,
      settle,
      /** optionsRefused: whether the face refuses the options as the table says (an error, or null). */
      async refused() {
        let made;
        try {
          const m = create();
          made = typeof m?.then === 'function' ? await m : m;
        } catch (e) {
          if (String(e?.message).includes(sc.optionsRefused)) return null;
          return `refused with ${JSON.stringify(e?.message)}; the table says the message contains ${JSON.stringify(sc.optionsRefused)}`;
        }
        sf.discard(made);
        return `the options were taken; the table says refused with ${JSON.stringify(sc.optionsRefused)}`;
      },
      /** Makes the refresher (an error if the face refused the options, or null). */
      async start() {
        try {
          const m = create();
          r = typeof m?.then === 'function' ? await m : m;
        } catch (e) {
          return `the options were refused: ${e?.message}`;
        }
        // DPoP: the key is loaded (or made, in IndexedDB) before the first step, so a step
        // waits for signatures only (cryptoOps), not for the key store.
        if (dpop) {
          cryptoOps(win);
          await r.dpopProof('GET', win.location.href);
        }
        sf.attach?.(r);
        await settle();
        return null;
      },
      close() {
        sf.close(r);
        base?.remove();
      },
    };
  }

  /** Plays scenario `sc`: one refresher in this page, or (crossTab) tabs A, B, C in frames. */
  async function run(sc) {
    const shared = sharedOf(sc);
    const tabbed = sc.options?.crossTab === true;
    const tabs = new Map();   // name -> { t (makeTab), frame }
    vc.clear();
    vc.set(0, WALL0);
    vc.fires = 0; // the storm guard counts this scenario's timers
    const errors0 = vc.errors.length;
    const onError = (e) => shared.errors.push(String(e.error?.stack ?? e.message));
    const random = () => shared.random;
    Math.random = random;
    window.addEventListener('error', onError);
    const serial = ++runs;
    /** Tab `name` opens a refresher (on `key`, made this scenario's own). */
    const open = async (name, key) => {
      if (tabs.has(name)) bail(`tab ${name} is open already`);
      const frame = await openFrame(name);
      const win = frame.contentWindow;
      win.Math.random = random;
      win.addEventListener('error', onError);
      const storageKey = `${key ?? 'freshtoken'}-${serial}`;
      const t = makeTab(sc, shared, win, { name, storageKey, stored: () => ownWrite(name, storageKey) });
      tabs.set(name, { t, frame });
      return t.start();
    };
    try {
      onlyKeys(sc, ['name', 'rows', 'steps', 'options', 'page', 'random', 'needs', 'known_gap', 'divergence', 'optionsRefused'], 'scenario');
      if (sc.page !== undefined && sc.page !== PAGE) bail(`page ${sc.page}: this runner's page is ${PAGE} (the local server)`);
      if (sc.optionsRefused !== undefined) {
        const t = makeTab(sc, shared, window, null);
        tabs.set('A', { t, frame: null });
        const err = await t.refused();
        return err ? { ok: false, error: err } : { ok: true };
      }
      let err;
      if (tabbed) {
        Object.assign(Q, { on: true, writes: [], lag: 0 });
        err = await open('A', sc.options.storageKey);
      } else {
        const t = makeTab(sc, shared, window, null);
        tabs.set('A', { t, frame: null });
        err = await t.start();
      }
      if (err) return { ok: false, error: err };
      const steps = sc.steps ?? [];
      for (let i = 0; i < steps.length; i++) {
        try {
          let st = steps[i];
          let name = 'A';
          if (tabbed && isObj(st)) {
            ({ tab: name = 'A', ...st } = st);
            if (!['A', 'B', 'C'].includes(name)) bail(`tab must be A, B or C, not ${JSON.stringify(name)}`);
          } else if (isObj(st) && ['tab', 'open', 'close', 'storageLag', 'storageWrite'].some((k) => k in st)) {
            bail('tab, open, close, storageLag and storageWrite are steps of a crossTab scenario');
          }
          if (tabbed && 'storageLag' in st) {
            onlyKeys(st, ['storageLag', 'note'], 'storageLag step');
            Q.lag = st.storageLag;
          } else if (tabbed && 'storageWrite' in st) {
            // Another writer (an old version, another library, a hostile script) puts this
            // JSON under the scenario's storageKey, seen by every tab at once.
            onlyKeys(st, ['storageWrite', 'storageKey', 'note'], 'storageWrite step');
            const key = `${st.storageKey ?? sc.options.storageKey ?? 'freshtoken'}-${serial}`;
            Q.writes.push({ key, value: JSON.stringify(st.storageWrite), tab: '-', at: -Infinity });
          } else if (tabbed && 'open' in st) {
            onlyKeys(st, ['open', 'storageKey', 'note'], 'open step');
            const e = await open(name, st.storageKey ?? sc.options.storageKey);
            if (e) bail(`tab ${name}: ${e}`);
          } else if (tabbed && 'close' in st) {
            onlyKeys(st, ['close', 'note'], 'close step');
            const entry = tabs.get(name) ?? bail(`tab ${name} is not open`);
            tabs.delete(name);
            removeFrame(entry.frame);
            await entry.t.settle();
          } else {
            // A step of the clock or of the refresh endpoint, or an expectation of every tab's
            // calls, is played by any open tab when its own (A by default) is closed.
            const everyTab = ['advance', 'refreshAnswer', 'server'].some((k) => k in st)
              || (isObj(st.expect) && Object.keys(st.expect).every((k) => ['refreshCalls', 'lastCall', 'calls', 'inFlight'].includes(k)));
            const entry = tabs.get(name) ?? (everyTab ? tabs.values().next().value : undefined) ?? bail(`tab ${name} is not open`);
            await entry.t.step(st);
          }
        } catch (e) {
          const why = e instanceof Bad ? e.message : `the runner or the package threw: ${e?.stack ?? e}`;
          return { ok: false, error: `step ${i} ${JSON.stringify(steps[i])}: ${why}` };
        }
        const thrown = [...shared.errors, ...vc.errors.slice(errors0)];
        if (thrown.length) return { ok: false, error: `step ${i} ${JSON.stringify(steps[i])}: uncaught in the page: ${thrown.join(' | ')}` };
      }
      return { ok: true };
    } catch (e) {
      return { ok: false, error: e instanceof Bad ? e.message : `the runner threw: ${e?.stack ?? e}` };
    } finally {
      for (const { t, frame } of tabs.values()) {
        try { t.close(); } catch { /* a tab's face already gone */ }
        if (frame) removeFrame(frame);
      }
      Object.assign(Q, { on: false, writes: [], lag: 0 });
      Q.channels.clear();
      Q.locks.clear();
      window.removeEventListener('error', onError);
      Math.random = realRandom;
      vc.clear();
    }
  }
  let runs = 0;
  window.__player = { run };
}

// --- the node side -----------------------------------------------------------------------------

/** Plays the table on a face (the adapter described at the top): one test per scenario. */
export function playTable(face) {
  const { label, gapsName, gaps } = face;
  let srv;
  let browser;
  let page = null;
  let started;
  const results = { passed: [], failed: [], skipped: [], gapsFailing: [], gapsPassing: [] };

  async function openPage() {
    const context = await browser.browser.newContext();
    await context.addInitScript({ content: CLOCK });
    const p = await context.newPage();
    p.on('pageerror', (err) => process.stderr.write(`[page error] ${err?.stack ?? err}\n`));
    if (face.consoleErrors) {
      p.on('console', (msg) => { if (msg.type() === 'error') process.stderr.write(`[page console.error] ${msg.text()}\n`); });
    }
    await p.goto(`${srv.url}${face.pagePath}`);
    for (let i = 0; ; i++) {
      const s = await p.evaluate(() => (window.ready === true ? 'ready' : window.initError ?? null));
      if (s === 'ready') break;
      if (s) throw new Error(`the page failed to load ${face.loads}: ${s}`);
      if (i > 300) throw new Error(`the page did not load ${face.loads} within 15 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await p.evaluate(`(${installPlayer})(${face.inPage}, ${JSON.stringify(face.pagePath)})`);
    return p;
  }

  before(async () => {
    await face.prepare?.();
    started = Date.now();
    srv = await face.start();
    browser = await launchBrowser();
    page = await openPage();
  }, face.setupTimeoutMs ? { timeout: face.setupTimeoutMs } : {});

  after(async () => {
    const ms = Date.now() - (started ?? Date.now());
    const ran = results.passed.length + results.failed.length + results.gapsFailing.length + results.gapsPassing.length;
    let report = `\n${label} conformance (${TABLE_PATH}): ${TABLE.scenarios.length} scenarios, ${ran} ran (${results.passed.length} passed, `
      + `${results.failed.length} failed, ${results.gapsFailing.length} ${label} known gaps reported, ${results.gapsPassing.length} listed gaps now passing), `
      + `${results.skipped.length} skipped, in ${(ms / 1000).toFixed(1)} s\n`;
    for (const [title, list] of [
      ['skipped', results.skipped],
      [`${label} known gaps (${gapsName}: ${face.who} fails the table; not counted as failures)`, results.gapsFailing],
      [`listed gaps that now PASS: remove them from ${gapsName}`, results.gapsPassing],
      ['FAILED', results.failed],
    ]) {
      if (list.length) report += `  ${title}:\n${list.map((s) => `    - ${s}\n`).join('')}`;
    }
    process.stderr.write(report);
    await browser?.close();
    await srv?.close();
  });

  const needsOf = (sc) => (typeof sc.needs === 'string' ? [sc.needs] : Array.isArray(sc.needs) ? sc.needs : []);

  test(`conformance (${label}): every name in ${gapsName} is a scenario of the table`, () => {
    const names = new Set(TABLE.scenarios.map((s) => s.name));
    assert.deepEqual(Object.keys(gaps).filter((n) => !names.has(n)), [], `stale entries in ${gapsName}`);
  });

  for (const sc of TABLE.scenarios) {
    const missing = needsOf(sc).filter((n) => !SUPPORTED.includes(n));
    const skip = missing.length
      ? missing.map((n) => `needs ${n}: ${WHY_NOT[n] ?? TABLE.needs?.[n] ?? 'not supported by this runner'}`).join('; ')
      : false;
    if (skip) results.skipped.push(`${sc.name} (${skip})`);
    test(`conformance (${label}): ${sc.name}`, { skip, timeout: 30_000 }, async (t) => {
      if (skip) return;
      let out;
      try {
        out = await page.evaluate((s) => window.__player.run(s), sc);
      } catch (e) {
        out = { ok: false, error: `the page failed: ${e?.message ?? e}` };
      }
      if (!out.ok && face.restartAfter.test(out.error)) {
        // Start the next scenario on a clean page.
        await page.context().close().catch(() => {});
        page = await openPage();
      }
      const gap = gaps[sc.name];
      if (gap === undefined) {
        if (out.ok) results.passed.push(sc.name);
        else results.failed.push(`${sc.name}\n      ${out.error}`);
        assert.ok(out.ok, out.error);
      } else if (out.ok) {
        results.gapsPassing.push(`${sc.name}\n      (listed: ${gap})`);
        assert.fail(`listed in ${gapsName} but now passes: remove it from the list (${gap})`);
      } else {
        results.gapsFailing.push(`${sc.name}\n      gap: ${gap}\n      fails: ${out.error}`);
        t.diagnostic(`${label} known gap: ${gap} | fails: ${out.error}`);
      }
    });
  }
}
