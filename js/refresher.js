// The Refresher: the npm package's face of one session. Every decision is the engine's
// (src/engine/, compiled into the wasm; reached by handle through src/wasm/cores.rs): which
// request waits, gets the token or goes untouched, when to refresh, what a failure means,
// when a request is replayed, when the session ends. This class is its driver: it turns
// what happens (a call of the public API, a request about to go, an answer, the refresh
// call's outcome, a timer, `online`) into engine inputs, then carries out the engine's
// outputs in order (`_drain`): start or abort the refresh call, settle a caller, emit an
// event, aim the timer. With js/tabs.js it also carries the cross-tab protocol's I/O (the
// records, epochs and messages); its decisions are the engine's too (`_rule`).
import {
  bindings, memory,
  coreNew, coreFree, coreSetTokens, coreAnswered, coreFailed, coreRequest, coreInput,
  coreDate, coreRefreshTo, coreRetryAfter, coreStatus, coreDpopProof, coreDpopNonce, coreDpopRetry, coreEpochs, corePoll, coreText, coreOut, coreFigures, coreToken,
} from './wasm.js';
import { makeError } from './errors.js';
import { writeTokens } from './buffer.js';
import { checkTokens, normalizeOptions, normalized, shapeFacts } from './options.js';
import { registry } from './registry.js';
import { Emitter } from './events.js';
import { makeTransport, PRESETS, rotatedTokens, presetRule, inputs } from './transport.js';
import { authorizedFetch, endpoints, flights } from './request.js';
import { baseURL, pageOrigin, requestHref, requestURL } from './origins.js';
import { openStorage } from './storage.js';
import { now, toWall } from './clock.js';
import { decodeToken } from './decode.js';
import { revoke } from './revoke.js';

const STATES = ['idle', 'fresh', 'refreshing', 'expired', 'logged-out'];
const FETCHED = Symbol.for('freshtoken.interceptor');
const wallOrNull = (v) => (Number.isNaN(v) ? null : toWall(v));
// The reasons a session ends, as coreInput(1) numbers them.
const REASONS = ['request-rejected', 'refresh-rejected', 'no-refresh-token', 'client-rejected'];

// The cross-tab protocol's decisions are the engine's (src/engine/tabs.rs): coreEpochs(what,
// epoch, gen, a, b, c), numbers NaN when absent. A record's number, or NaN.
const n = (v) => (typeof v === 'number' ? v : NaN);

/**
 * Why a token was refused: decodeToken's own error (a malformed expiry claim, or a
 * JWT-shaped token it cannot read, e.g. `too-large`), as that error or as a RefreshError.
 */
function refusal(token, name) {
  try { decodeToken(token); } catch (err) { return makeError(name, err.code, `the access token was refused: ${err.message}`); }
  return makeError(name, 'bad-claim', 'the access token was refused');
}

const supersededError = () => makeError('SessionError', 'superseded', 'the session this refresh was for has ended or been replaced');
const disposedError = () => makeError('FreshtokenError', 'disposed', 'this refresher was disposed');
// An optional number for the core: undefined when absent (the glue hands wasm NaN).
const num = (v) => (v == null || Number.isNaN(v) ? undefined : v);

/** The error a caller gets when there is no session to take a token from (its code is the engine's). */
function sessionError(code) {
  if (code === 'session-expired') return makeError('SessionError', code, 'the session has expired: the user must log in again');
  if (code === 'logged-out') return makeError('SessionError', code, 'the session was logged out');
  return makeError('SessionError', 'no-session', 'there is no session to refresh: call setTokens() after login');
}

/** What an error looks like in an event: the same class, no cause chain, nothing that could hold a token. */
function publicError(err) {
  const { status, oauthError, oauthErrorDescription } = err;
  return makeError(err.name, err.code, err.message, JSON.parse(JSON.stringify({ status, oauthError, oauthErrorDescription })));
}

/**
 * Whether a refresher with these (normalized) options joins the other tabs: `crossTab` as
 * given, else the engine's default for its storage (engine::config::cross_tab).
 */
export const crossTabOn = (opts) => coreEpochs(11, 0, 0, opts.crossTab === undefined ? NaN : +opts.crossTab, +(opts.storage === 'memory')) === 1;

/** Where a session record received at wall time `receivedAt` sits on the session clock. */
const sessionTime = (receivedAt) => now() - Math.max(0, Date.now() - receivedAt);

export class Refresher {
  /** @param {object} options createRefresher's options (checked here when not by createRefresher) */
  constructor(options) {
    bindings(); // throws a clear error before init()
    // `new Refresher(options)` checks them as createRefresher does (an OptionsError naming
    // the problem, never a TypeError); the cross-tab code must be there (createRefresher
    // loads it; `import 'freshtoken/tabs'` registers it).
    const opts = normalized.has(options) ? options : normalizeOptions(options);
    if (!opts.joinTabs && crossTabOn(opts)) {
      opts.joinTabs = registry.joinTabs;
      if (!opts.joinTabs) throw makeError('OptionsError', 'bad-option', "crossTab (implied by a shared storage) needs the cross-tab code: use createRefresher(), or import 'freshtoken/tabs' first, or pass crossTab: false");
    }
    // The values the engine checks (engine::option_shapes): an OptionsError naming the first wrong one.
    const shape = presetRule(11, inputs(...shapeFacts(opts)));
    if (shape.message) throw makeError('OptionsError', 'bad-option', shape.message);
    this._opts = opts;
    this._events = new Emitter();
    this._flight = null;        // { ticket, abort, ctx } of the refresh call in flight
    this._epoch = 0;            // the session epoch (SPEC behaviour 3)
    this._gen = 0;              // the refresh generation within it (crossTab)
    this._uninstalls = new Set();
    this._disposed = false;
    this._access = null;
    this._lastError = null;     // the last refresh-error's error
    this._failure = null;       // the refresh call's last failure, as the transport said it
    this._answer = null;        // the refresh call's last answer
    this._pending = new Map();  // id -> { resolve, reject } of a request or caller the engine holds
    this._ids = 0;
    this._timer = null;
    this._timerAt = null;
    this._quiet = false;        // an input from another tab: not told back to the tabs
    // DPoP (RFC 9449): the key is kept by js/dpop.js; what a proof says is the engine's.
    // `opts.dpopModule` is js/dpop.js, loaded by createRefresher only for `dpop: true`.
    if (opts.dpop && !opts.dpopModule) throw makeError('OptionsError', 'bad-option', 'dpop: true needs createRefresher() (it loads the DPoP code)');
    this._dpop = opts.dpop ? opts.dpopModule.dpopKey(opts.storageKey) : null;
    this._transport = makeTransport(opts, () => this._baseFetch(), {
      allowsRefresh: (origin) => coreRefreshTo(this._core, ...writeTokens([origin])),
      noteDate: (origin, res) => this._date(origin, res),
      retryAfter: (value) => (value == null ? undefined : num(coreRetryAfter(...writeTokens([String(value)]), Date.now()))),
      statusClass: (status, oauthError) => coreStatus(status, oauthError == null ? -1 : writeTokens([oauthError])[0]),
      ...this._dpop && {
        proof: (method, url) => this._proof(method, url),
        nonce: (origin, res) => this._nonce(origin, res),
        dpopRetry: (status, www, oauthError) => this._dpopRetry(status, www, oauthError),
        refreshNonce: () => !this._disposed && coreInput(this._core, 11, 0, 0, 0, now()),
      },
    });
    this._store = openStorage(opts.storage, opts.storageKey);
    if (opts.endpoint) {
      const url = requestURL(opts.endpoint.url);
      if (url) this._endpoint = requestHref(url);
    }
    const origins = opts.origins;
    // loginUrl as location.assign resolves it, visited as judged (a `<base href>` injected
    // later does not move it); with no page, a path is judged as one.
    // endpoint.revokeUrl too (resolved again at the logout: judged now, its scheme only).
    const resolved = (u) => {
      if (u === undefined) return '';
      try { return new URL(u, baseURL() ?? 'http://localhost/').href; } catch { return '-'; }
    };
    // One the engine refuses ('-': no URL) never gets here: coreNew throws below.
    const login = this._login = resolved(opts.loginUrl);
    const text = [pageOrigin() ?? '', opts.endpoint?.url ?? '', opts.retryStatuses.join(' '), opts.endSessionStatuses.join(' '),
      login, resolved(opts.endpoint?.revokeUrl), ...origins ?? []];
    const ep = opts.endpoint;
    // Bits 0-1 the preset, 4 none (the app's function), 8 a revokeUrl, 16 credentials 'include', 32 dpop.
    const needs = (ep ? PRESETS[ep.preset] | (ep.credentials === 'include' ? 16 : 0) : 4) | (ep?.revokeUrl ? 8 : 0) | (opts.dpop ? 32 : 0);
    const core = coreNew(writeTokens([text.join('\n')])[0], origins !== undefined, origins?.length ?? 0, opts.refreshAt,
      opts.defaultLifetimeMs, opts.refreshTimeoutMs, needs);
    if (typeof core !== 'number') throw makeError('OptionsError', 'bad-option', String(core));
    this._core = core;
    if (this._endpoint) endpoints.set(this._endpoint, (endpoints.get(this._endpoint) ?? 0) + 1);
    // `opts.joinTabs` is tabs.js's joinTabs, loaded by createRefresher only for crossTab.
    this._tabs = opts.joinTabs && crossTabOn(opts) ? opts.joinTabs(this) : null;

    const saved = opts.tokens ? null : this._store?.load();
    // A logout marker in storage: this tab starts at its epoch, so a late record of the
    // session it ended (a broadcast from another tab) is not adopted.
    if (saved?.out === true && this._rule(3, NaN, n(saved.epoch))) this._epoch = saved.epoch;
    try {
      const tokens = opts.tokens;
      // Taken into the engine: the options keep no copy (nothing outlives a logout).
      opts.tokens = undefined;
      if (tokens) this.setTokens(tokens);
      else if (saved) this._adopt(saved, false);
    } catch (err) {
      this.dispose(); // a refused token (bad-claim): nothing left behind
      throw err;
    }
    this._tabs?.hello();

    // Look again when the page wakes up; retry at once when back online (the engine decides).
    this._onWake = () => this._input(5);
    this._onOnline = () => this._input(6);
    globalThis.addEventListener?.('online', this._onOnline);
    globalThis.addEventListener?.('focus', this._onWake);
    globalThis.document?.addEventListener?.('visibilitychange', this._onWake);
  }

  /** The current access token, or null. */
  get accessToken() { return this._access; }

  /** What `JSON.stringify` (a log line, a state snapshot, an error reporter) shows: the state, never a token. */
  toJSON() {
    return { state: this.state, expiresAt: this.expiresAt, nextRefreshAt: this.nextRefreshAt };
  }
  /** When the current token expires, ms since epoch, or null. */
  get expiresAt() { return this._disposed ? null : wallOrNull(this._figures()[1]); }
  /** When the next refresh is planned, ms since epoch, or null. */
  get nextRefreshAt() { return this._disposed ? null : wallOrNull(this._figures()[2]); }
  /** 'idle' | 'fresh' | 'refreshing' | 'expired' | 'logged-out' */
  get state() { return this._disposed ? 'logged-out' : STATES[this._figures()[0]]; }

  /**
   * Takes new tokens (after login): a new session epoch. A refresh in flight for the
   * previous session is aborted and its answer dropped, in this tab and (crossTab) in all.
   * @throws {OptionsError} on a malformed set; {TokenDecodeError} `bad-claim` when the
   *   token's expiry claim is malformed (as `decodeToken` would say)
   */
  setTokens(tokens) {
    this._alive();
    tokens = checkTokens(tokens, 'setTokens(tokens)'); // its own fields only
    this._wipe(); // the last answer of the session this one replaces
    // Without `receivedAt` the tokens may have waited since they were issued: the engine
    // checks their expiry against the server's clock (as best known).
    const given = typeof tokens.receivedAt === 'number';
    const wall = given ? Math.min(tokens.receivedAt, Date.now()) : Date.now();
    this._take(tokens, wall, this._rule(0, Date.now()), undefined, !given);
    this._tabs?.announce(this._record());
  }

  /** Puts a session into the engine, as a new epoch `epoch`. */
  _take(t, wall, epoch, gen = epoch, restored = false) {
    // At most two tokens' worth is copied into wasm memory: a longer one is refused whole
    // there (too large), never truncated into another token.
    const [a, r] = writeTokens([t.accessToken, t.refreshToken], 2 * 262_145);
    const was = [this._epoch, this._gen, this._saved, this._lastError];
    // Set first: the record the engine's 'schedule' output stores carries them.
    this._epoch = epoch;
    this._gen = gen;
    this._saved = { expiresAt: num(t.expiresAt), expiresIn: num(t.expiresIn), receivedAt: wall };
    this._lastError = null;
    const refused = this._call(() => coreSetTokens(this._core, a, r, num(t.expiresAt), num(t.expiresIn), restored, sessionTime(wall), wall, now()));
    if (refused) {
      [this._epoch, this._gen, this._saved, this._lastError] = was;
      throw refused === 2 ? makeError('TokenDecodeError', 'too-large', 'a token is larger than 256 KiB: the session was not taken')
        : refusal(t.accessToken, 'TokenDecodeError');
    }
  }

  // A session record from storage or another tab (SPEC behaviour 3: only a newer one).
  _adopt(rec, fromOtherTab) {
    const facts = (rec.out === true ? 1 : 0) | (typeof rec.accessToken === 'string' ? 2 : 0) | (this._access !== null ? 4 : 0);
    if (!this._rule(1, facts, n(rec.epoch), n(rec.gen))) return false;
    const epoch = typeof rec.epoch === 'number' ? rec.epoch : 0;
    const gen = typeof rec.gen === 'number' ? rec.gen : epoch;
    try {
      this._take(checkTokens(rec, 'record'), typeof rec.receivedAt === 'number' ? Math.min(rec.receivedAt, Date.now()) : Date.now(), epoch, gen);
    } catch {
      return false; // a record with a malformed token: not adopted
    }
    if (fromOtherTab) this._events.emit('refresh', { ...this._scheduleDetail(), fromOtherTab: true });
    return true;
  }

  /** A token not past its refresh point; refreshes first if needed. */
  getAccessToken() {
    return this._ask(3);
  }

  /** Forces a refresh. Concurrent callers share one refresh call. */
  refresh() {
    return this._ask(2);
  }

  /**
   * The token to retry with after a server refused `used` (a transport freshtoken does not
   * wrap: a WebSocket, a PubNub client): the token that replaced `used` already, else the
   * token of a refresh shared with every other caller. Rejects as getAccessToken does, or
   * with the session's end.
   */
  async tokenAfterRejection(used) {
    if (typeof used !== 'string' || !used) {
      throw makeError('OptionsError', 'bad-argument', 'tokenAfterRejection(used) takes the refused token, a non-empty string');
    }
    const r = await this._expect((id) => {
      // No token is longer than decodeToken's limit (256 KiB): a longer `used` is not the
      // session's, and is not copied whole into wasm memory.
      const [len] = writeTokens([used], 262_145);
      this._call(() => coreRequest(this._core, id, len, 8, now()));
    });
    if (r?.token) return r.token;
    throw sessionError(this.state === 'logged-out' ? 'logged-out' : this.state === 'idle' ? 'no-session' : 'session-expired');
  }

  /** `fetch` with the token attached for allowed origins and one retry on 401/403. */
  fetch(input, init) {
    if (this._disposed) return Promise.reject(disposedError());
    return authorizedFetch(this, this._baseFetch(), input, init);
  }

  /**
   * Patches `target.fetch` (default globalThis); returns the uninstall. Interceptors chain:
   * a second one (another refresher) wraps the first, and uninstalling in any order leaves
   * the others working and brings none back.
   */
  installFetchInterceptor(target = globalThis) {
    this._alive();
    if (!target || typeof target.fetch !== 'function') {
      throw makeError('OptionsError', 'bad-target', 'installFetchInterceptor needs an object with a fetch function');
    }
    const original = target.fetch;
    const layer = { on: true, next: original };
    const patched = (input, init) => (layer.on && !this._disposed
      ? authorizedFetch(this, layer.next, input, init)
      : layer.next.call(globalThis, input, init));
    patched[FETCHED] = layer;
    target.fetch = patched;
    const uninstall = () => {
      layer.on = false;
      if (target.fetch === patched) {
        // Step over layers below that were uninstalled meanwhile.
        let f = layer.next;
        while (f[FETCHED] && !f[FETCHED].on) f = f[FETCHED].next;
        target.fetch = f;
      }
      this._uninstalls.delete(uninstall);
    };
    this._uninstalls.add(uninstall);
    return uninstall;
  }

  /** Subscribes to 'refresh' | 'refresh-error' | 'session-expired' | 'logout' | 'schedule' | 'forbidden'; returns unsubscribe. */
  on(event, listener) {
    this._alive();
    return this._events.on(event, listener);
  }

  /**
   * Clears tokens and timers, aborts a refresh in flight (in every tab, with `crossTab`), at
   * once. With `endpoint.revokeUrl` the refresh token is also revoked at the provider
   * (RFC 7009), best effort: the promise resolves when that is done or given up (never rejects).
   * @returns {Promise<void>}
   */
  logout() {
    this._revoking = this._dropping = null;
    if (!this._disposed) this._logout(this._rule(0, Date.now()), true);
    // Resolves once the revocation is done or given up and the DPoP key is deleted.
    return Promise.all([this._revoking, this._dropping]).then(() => {});
  }

  _logout(epoch, tellTabs) {
    if (this._disposed || !this._rule(3, NaN, epoch)) return;
    this._epoch = epoch;
    this._persist({ out: true, epoch });
    if (tellTabs) this._tabs?.logout(epoch);
    this._input(0, tellTabs ? 0 : 1);
  }

  /**
   * A DPoP proof (RFC 9449) for a call the app makes itself with this refresher's key: the
   * code exchange at login, so the session's tokens are bound to the key freshtoken then
   * uses. `nonce`: the one the server just asked for (`use_dpop_nonce`).
   * @returns {Promise<string>}
   */
  async dpopProof(method, url, { nonce } = {}) {
    this._alive();
    if (!this._dpop) throw makeError('OptionsError', 'bad-option', 'dpopProof() needs the option dpop: true');
    return this._proof(method, url, null, nonce);
  }

  /** A proof for `method` `url` (with `ath` for `token`), signed with the session's key. */
  async _proof(method, url, token = null, nonce = null) {
    const k = await this._dpop.load();
    const hash = token ? await this._opts.dpopModule.ath(token) : '';
    const u = requestURL(url);
    if (!u) throw makeError('OptionsError', 'bad-option', 'a DPoP proof needs an http(s) URL');
    // fetch upper-cases these six methods, and sends any other as given.
    const m = String(method ?? 'GET');
    const htm = /^(delete|get|head|options|post|put)$/i.test(m) ? m.toUpperCase() : m;
    const text = [htm, u.href, u.origin === 'null' ? '' : u.origin, k.jwk, crypto.randomUUID(), hash, nonce ?? ''].join('\n');
    this._alive();
    // The engine refuses a URL that is not http(s) (javascript:, data:, blob:, ftp:): null.
    const made = coreDpopProof(this._core, writeTokens([text])[0], Date.now());
    if (made == null) throw makeError('OptionsError', 'bad-option', 'a DPoP proof needs an http(s) URL');
    const [header, claims] = made.split('\n');
    return this._dpop.sign(k, header, claims);
  }

  /** An answer's `DPoP-Nonce`, kept by the engine for the next proof to its origin. */
  _nonce(origin, res) {
    const n = this._dpop && origin && res.headers?.get('dpop-nonce');
    if (n && !this._disposed) coreDpopNonce(this._core, ...writeTokens([origin, n]));
  }

  /** Whether an answer asks for the one nonce retry (the engine's rule). */
  _dpopRetry(status, www, oauthError) {
    return !!this._dpop && coreDpopRetry(status, ...writeTokens([www ?? null, oauthError ?? null]));
  }

  /** The last refresh answer's other fields (id_token, scope, token_type, ...), or null. */
  get tokenResponse() { return this._disposed ? null : this._tokenResponse ?? null; }

  /** Cancels every timer and listener, settles every waiting caller, frees the wasm memory. Idempotent. */
  dispose() {
    if (this._disposed) return;
    this._input(7);
    this._disposed = true;
    for (const u of [...this._uninstalls]) u();
    globalThis.removeEventListener?.('online', this._onOnline);
    globalThis.removeEventListener?.('focus', this._onWake);
    globalThis.document?.removeEventListener?.('visibilitychange', this._onWake);
    if (this._endpoint) {
      const n = endpoints.get(this._endpoint) - 1;
      if (n > 0) endpoints.set(this._endpoint, n); else endpoints.delete(this._endpoint);
    }
    this._abortFlight(disposedError());
    clearTimeout(this._timer);
    this._tabs?.close();
    this._events.clear();
    coreFree(this._core);
    this._wipe();
    this._core = -1; // no slot: a call through a handle another refresher may get next is a no-op
    this._access = null;
    for (const p of this._pending.values()) p.reject(disposedError());
    this._pending.clear();
  }

  // --- what the engine is told ------------------------------------------------------------

  /** Runs one engine call, then carries out what it asked for. */
  _call(f) {
    const r = f();
    this._drain();
    return r;
  }

  /** coreInput `what` (see src/wasm/cores.rs) for `id`, at now. */
  _input(what, id = 0, status = 0, flags = 0) {
    if (!this._disposed) this._call(() => coreInput(this._core, what, id, status, flags, now()));
  }

  /**
   * What the engine decides for a new caller or request (`start(id)` tells it): the value
   * itself when it decided at once (the common case: no promise made), else a promise of it.
   */
  _expect(start, signal, id = ++this._ids) {
    if (this._disposed) return Promise.reject(disposedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    let now_ = null;
    const slot = { resolve: (v) => { now_ = { v }; }, reject: (e) => { now_ = { e }; } };
    this._pending.set(id, slot);
    start(id);
    if (now_) {
      this._pending.delete(id);
      return now_.e ? Promise.reject(now_.e) : now_.v;
    }
    return new Promise((resolve, reject) => {
      const done = () => { this._pending.delete(id); signal?.removeEventListener('abort', onAbort); };
      const onAbort = () => { done(); this._input(4, id); reject(signal.reason); };
      slot.resolve = (v) => { done(); resolve(v); };
      slot.reject = (e) => { done(); reject(e); };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** `getAccessToken()` (3) or `refresh()` (2): always a promise. */
  async _ask(what) {
    return this._expect((id) => this._input(what, id));
  }

  /**
   * A request about to go to `origin` (null: no http(s) origin); `flags` 1 the caller's own
   * credentials, 2 the refresh call's own traffic, 4 skipAuthRefresh. Resolves with
   * `{ id, token, replay }`: send it with `token`, or untouched when null.
   */
  _request(origin, flags, signal) {
    return this._expect((id) => {
      // The origin of the last request is kept in the wasm: the same one is not sent again (-2).
      const len = origin !== null && origin === this._origin ? -2 : writeTokens([origin])[0];
      this._origin = origin;
      this._call(() => coreRequest(this._core, id, len, flags, now()));
    }, signal);
  }

  /**
   * The answer `status` to request `id` (`byOrigin` false: another origin answered, a
   * redirect). Resolves with null (hand it back) or `{ token }` to replay with.
   */
  _answered(id, status, byOrigin, signal) {
    if (this._disposed) return null;
    return this._expect(() => this._input(8, id, status, byOrigin ? 1 : 0), signal, id);
  }

  /**
   * The answer to request `id` asks for a DPoP nonce (the engine's rule said so): resolves
   * with `{ token }` for its one nonce retry, or null (hand the answer back).
   */
  _nonceDemanded(id) {
    if (this._disposed) return null;
    return this._expect(() => this._input(10, id), undefined, id);
  }

  /** Request `id` is over for freshtoken (its send failed, or another layer replayed it). */
  _forget(id) {
    this._input(4, id);
  }

  /** A response's `Date` header, for the engine's server clock (it keeps its own origins' only). */
  _date(origin, res) {
    const d = origin && res.headers?.get('date');
    // The same Date from the same origin again (a server's clock ticks once a second) tells nothing new.
    if (!d || this._disposed || (d === this._dateSeen && origin === this._dateFrom)) return;
    this._dateSeen = d;
    this._dateFrom = origin;
    coreDate(this._core, ...writeTokens([origin, d]), Date.now());
  }

  /** The session is over because another tab said so. */
  _endSession(reason) {
    this._quiet = true;
    try { this._input(1, Math.max(0, REASONS.indexOf(reason))); } finally { this._quiet = false; }
  }

  // --- what the engine asks for -----------------------------------------------------------

  _out() {
    const buf = memory().buffer;
    if (!this._outv || this._outv.buffer !== buf) this._outv = new Float64Array(buf, coreOut(this._core), 4);
    return this._outv;
  }

  /** Carries out the engine's outputs, in order (corePoll adds 32 while another one waits). */
  _drain() {
    for (let more = true; more;) {
      const polled = corePoll(this._core);
      const kind = polled & 31;
      if (kind === 0) return;
      more = polled > 31;
      const o = this._out();
      const [n0, n1, n2, n3] = o;
      // A request's token that is the session's comes with its serial (n3): decoded once per token.
      let text = null;
      if (kind === 3 && n1 && n3 === this._sentSerial) text = this._sentText;
      else if (kind === 1 || kind === 3 || kind === 5 || kind === 6 || kind === 8 || kind === 9 || kind === 14) {
        text = coreText(this._core, 0);
        if (kind === 3 && n1 && !Number.isNaN(n3)) {
          this._sentSerial = n3;
          this._sentText = text;
        }
      }
      const p = this._pending.get(n0);
      switch (kind) {
        case 1: this._startFlight(n0, { accessToken: text, refreshToken: coreText(this._core, 1) }); break;
        case 2: if (this._flight?.ticket === n0) {
          this._abortFlight(n1 === 0 ? supersededError() : n1 === 1 ? disposedError()
            : makeError('RefreshError', 'timeout', `the refresh did not answer within ${this._opts.refreshTimeoutMs} ms`, { rejected: false }));
        } break;
        case 3: p?.resolve({ id: n0, token: n1 ? text : null, replay: n2 === 1 }); break;
        case 4: p?.resolve(null); break;
        case 5: p?.resolve(text); break;
        case 6: p?.reject(this._failed(n1, text, n2 === 1, Number.isNaN(n3) ? undefined : n3)); break;
        case 7: this._refreshed = this._answer?.adopted ? 2 : 1; break; // told with 'schedule' (11), which follows
        case 8: {
          this._lastError = publicError(this._refreshError(text));
          this._events.emit('refresh-error', { error: this._lastError, retryIn: n0, attempt: n1 });
          break;
        }
        case 9: this._sessionEnded(text); break;
        case 10: this._sync(); this._wipe(); this._dropping = this._dpop?.drop(); this._events.emit('logout', {}); break;
        case 11: {
          this._sync();
          const refreshed = this._refreshed;
          this._refreshed = false;
          const detail = this._scheduleDetail();
          if (refreshed) {
            this._tokenResponse = this._answer?.tokenResponse ?? null;
            this._events.emit('refresh', { ...detail, tokenResponse: this._tokenResponse, ...refreshed === 2 ? { fromOtherTab: true } : {} });
          }
          this._events.emit('schedule', detail);
          break;
        }
        case 12: this._events.emit('forbidden', { status: n0 }); break;
        case 13: this._aim(Number.isNaN(n0) ? null : n0); break;
        case 14: {
          // The proof is made now, before the logout that follows deletes the key.
          const proof = this._dpop ? this._proof('POST', this._opts.endpoint.revokeUrl).catch(() => null) : null;
          this._revoking = revoke(this._opts, text, (origin) => coreRefreshTo(this._core, ...writeTokens([origin])), () => this._baseFetch(), proof);
          break;
        }
        default:
      }
    }
  }

  /** The error a settled caller gets (class 0 session, 1 refresh, 2 disposed). */
  _failed(cls, code, late, status) {
    if (cls === 2) return disposedError();
    if (cls === 0) return sessionError(code);
    if (!late) return this._refreshError(code, status);
    const last = this._lastError?.code === code ? this._lastError : null;
    const why = last ? `: ${last.message}` : ': the refresh is still running';
    return makeError('RefreshError', code, `no fresh token within ${this._opts.refreshTimeoutMs} ms (refreshTimeoutMs)${why}`,
      { rejected: false, late: true, status });
  }

  /** The refresh failure the engine names by `code`, with the words the transport gave it. */
  _refreshError(code, status) {
    if (this._failure?.code === code) return this._failure;
    const a = this._answer;
    if (code === 'bad-response' && a?.problems) return makeError('RefreshError', code, a.problems);
    if (code === 'bad-expiry') {
      return makeError('RefreshError', code, 'the answer\'s expiresIn/expiresAt leaves the token under a second to live (ms instead of seconds?) or lies beyond any date; the token\'s own expiry (or defaultLifetimeMs) is used, or the next refresh backs off');
    }
    if (code === 'timeout') return makeError('RefreshError', code, `the refresh did not answer within ${this._opts.refreshTimeoutMs} ms`, { rejected: false });
    if (code === 'too-large') return makeError('RefreshError', code, 'the refresh answer holds a token larger than 256 KiB: not taken, the session kept', { rejected: false });
    if (a) {
      const err = refusal(a.accessToken, 'RefreshError');
      if (err.code === code) return err;
    }
    return makeError('RefreshError', code, `the refresh failed (${code})`, { rejected: false, status });
  }

  /** Starts the refresh call `ticket` with the tokens the engine captured. */
  _startFlight(ticket, ctx) {
    this._abortFlight(supersededError());
    const abort = new AbortController();
    const flight = { ticket, abort, ctx };
    this._flight = flight;
    flights.add(ctx);
    this._failure = null;
    this._answer = null;
    // Its outcome counts only while it is the flight (not after an abort: the next flight
    // of the same session has the same ticket).
    this._transport(ctx, abort.signal).then((tokens) => {
      if (this._disposed || this._flight !== flight) return;
      this._endFlight();
      const wall = typeof tokens.receivedAt === 'number' ? Math.min(tokens.receivedAt, Date.now()) : Date.now();
      this._answer = tokens;
      if (typeof tokens.gen === 'number') this._gen = tokens.gen;
      this._saved = { expiresAt: num(tokens.expiresAt), expiresIn: num(tokens.expiresIn), receivedAt: wall };
      // At most two tokens' worth copied into wasm memory (src/token.rs MAX_TOKEN_LEN each):
      // a longer one is cut there, and the engine refuses it as too large.
      const [a, r] = writeTokens([tokens.accessToken, tokens.refreshToken], 2 * 262_145);
      this._call(() => coreAnswered(this._core, ticket, a, r, num(tokens.expiresAt), num(tokens.expiresIn), !!tokens.problems,
        sessionTime(wall), wall, now(), Math.random()));
      this._sync(); // a refused token's rotated refresh token kept: stored too
    }, (err) => {
      if (this._disposed || this._flight !== flight) return;
      this._endFlight();
      this._failure = err;
      // A rotated refresh token that came with an unusable answer is kept (never spent twice).
      const rotated = this._rotated(err) ?? null;
      rotatedTokens.delete(err); // taken into the engine: no copy left beside the error
      const [c, x, o] = writeTokens([String(err?.code ?? 'failed'), rotated, typeof err?.oauthError === 'string' ? err.oauthError : null]);
      this._call(() => coreFailed(this._core, ticket, err?.rejected === true, err?.status ?? 0, c, x, o, num(err?.retryAfterMs),
        now(), Math.random()));
      this._sync(); // a rotated refresh token kept: stored too
    });
  }

  /** The refresh call waits for the tabs' lock (`waiting`), which bounds that wait itself, or begins now. */
  _flightWaits(waiting) {
    if (this._flight) this._input(9, this._flight.ticket, waiting ? 1 : 0);
  }

  _endFlight() {
    flights.delete(this._flight.ctx);
    this._flight = null;
  }

  /** Aborts the refresh call in flight (its answer is the engine's to ignore). */
  _abortFlight(reason) {
    const f = this._flight;
    if (!f) return;
    this._endFlight();
    f.abort.abort(reason);
  }

  /**
   * Aims the timer at `at` on the session clock (null: off), in steps of at most 10 s
   * (`schedule::MAX_STEP_MS`): a long delay never overflows setTimeout, and a wall-clock
   * jump (sleep) is noticed within one step. A setTimeout that runs its callback at once
   * (inside this call) is ignored: the engine is never re-entered from here.
   */
  _aim(at) {
    clearTimeout(this._timer);
    this._timer = null;
    this._timerAt = at;
    if (at === null || this._disposed) return;
    let armed = false;
    const id = setTimeout(() => {
      if (!armed || this._timer !== id) return;
      this._timer = null;
      if (now() < at) return this._aim(at); // a step of a long delay
      this._input(5);
      // The engine keeps the same instant when nothing changed: look again then.
      if (this._timer === null && this._timerAt !== null && this._timerAt > now()) this._aim(this._timerAt);
    }, Math.max(0, Math.min(at - now(), 10_000)));
    armed = true;
    this._timer = id;
  }

  // --- used by request.js, tabs.js and the adapters -------------------------------------

  // tabs.js imports nothing, so that a bundler keeps it in its own chunk instead of moving
  // what it shares with the main entry into a third one (which cost 0.36 KB of gzip).
  /** A new epoch or generation above `known` (tabs.js). */
  _nextEpoch(known) { return coreEpochs(0, known, known, Date.now(), NaN, NaN); }
  /** A decision of the cross-tab protocol for this tab (see coreEpochs; tabs.js too). */
  _rule(what, a = NaN, b = NaN, c = NaN) { return coreEpochs(what, this._epoch, this._gen, a, b, c); }
  /** Whether record `rec` ends a wait for another tab's result of `epoch` at generation `gen` or later (tabs.js). */
  _endsWait(epoch, gen, rec) {
    return coreEpochs(13, epoch, gen, (rec.out === true) | (typeof rec.accessToken === 'string' && rec.accessToken !== '') * 2, n(rec.epoch), n(rec.gen)) === 1;
  }
  /** The refresh call in flight, holding the tabs' lock, takes another tab's rotated refresh token `t` (tabs.js). */
  _takeRefreshToken(t) {
    const [len] = writeTokens([t]);
    this._input(12, this._flight?.ticket ?? -1, 0, len);
    return true;
  }
  /** The rotated refresh token an unusable refresh answer brought, by its error, or undefined (tabs.js). */
  _rotated(err) { return err && typeof err === 'object' ? rotatedTokens.get(err) : undefined; }
  /** The error of a refresh whose session ended or was replaced (tabs.js). */
  _superseded() { return supersededError(); }
  /**
   * The retry point of the failure marker to publish for a refresh call that failed (facts
   * in `bits`, see coreEpochs 8), retrying in `retryIn` ms (undefined: at the engine's next
   * attempt), or NaN for none: the engine's rule (tabs.js).
   */
  _failureMarker(retryIn, bits) { return coreEpochs(8, 0, 0, Date.now(), retryIn ?? this._figures()[4] - now(), bits); }
  /** Whether another tab's transient failure (from `gen`, retry point `until`) holds a refresh from `startGen` back (tabs.js). */
  _failedElsewhere(gen, until, startGen) { return coreEpochs(7, gen, until, startGen, Date.now(), NaN) === 1; }
  /** The transient failure another tab's refresh met, as this tab's refresh failure (tabs.js). */
  _heldBack(f) {
    return makeError('RefreshError', f.code, `another tab's refresh failed (${f.code}); this tab waits for that tab's retry`,
      { rejected: false, status: f.status, retryAfterMs: Math.max(0, f.until - Date.now()) });
  }

  // --- internals ------------------------------------------------------------------

  /**
   * Drops the JS copies of the session's last refresh answer (its tokens, and the
   * id_token & co. of `tokenResponse`) when the session ends, is replaced or disposed:
   * after a logout nothing reachable from the refresher holds a token of it.
   */
  _wipe() {
    this._answer = null;
    this._tokenResponse = null;
    this._sentText = this._sentSerial = null;
  }

  /** The session is over: told once, through every channel the app chose. */
  _sessionEnded(reason) {
    this._sync();
    this._persist({ out: true, epoch: this._epoch });
    if (!this._quiet) this._tabs?.expired(reason, this._epoch);
    const info = { reason };
    // What an OAuth provider answered (its words, never a token) reaches the app.
    const f = reason.endsWith('-rejected') && reason !== 'request-rejected' ? this._failure : null;
    if (f?.oauthError) info.oauthError = f.oauthError;
    if (f?.oauthErrorDescription) info.oauthErrorDescription = f.oauthErrorDescription;
    if (reason === 'client-rejected') {
      // A configuration the developer must fix: said where a developer looks.
      console.error(`freshtoken: the token endpoint refused this client (${f?.oauthError ?? 'HTTP ' + f?.status}${f?.oauthErrorDescription ? `: ${f.oauthErrorDescription}` : ''}); check endpoint.clientId, scope and resource. The session ended.`);
    }
    this._wipe();
    this._events.emit('session-expired', info);
    if (this._opts.onSessionExpired) {
      try { this._opts.onSessionExpired(info); } catch (err) { queueMicrotask(() => { throw err; }); }
    }
    if (this._login && globalThis.location && typeof globalThis.location.assign === 'function') {
      globalThis.location.assign(this._login);
    }
  }

  /** The fetch underneath: the option's, or the global one below every freshtoken interceptor. */
  _baseFetch() {
    let f = this._opts.fetch ?? globalThis.fetch;
    while (f && f[FETCHED]) f = f[FETCHED].next;
    return f;
  }

  _sync() {
    this._access = coreToken(this._core, false);
    if (this._access !== null) this._persist(this._record());
  }

  /**
   * Writes a record to storage unless storage holds a newer epoch (a later login or logout),
   * or (crossTab) a rotated refresh token another tab kept in this very generation (`own`:
   * the one this tab kept, written under the lock).
   */
  _persist(rec, own) {
    if (!this._store) return;
    const cur = this._store.load();
    if (cur && !coreEpochs(5, rec.epoch, n(rec.gen), this._facts(cur, !own && !!this._tabs && rec.out !== true && rec.refreshToken), n(cur.epoch), n(cur.gen))) return;
    this._store.save(rec);
  }

  /** A stored record's facts for coreEpochs 5 and 9: 1 a logout marker, 2 its refresh token is not `held` (false: not asked). */
  _facts(rec, held) {
    const r = rec.refreshToken;
    return (rec.out === true) | (held !== false && typeof r === 'string' && r !== '' && r !== held) * 2;
  }

  /** The session as stored and shared between tabs, or null. */
  _record() {
    if (this._access === null) return null;
    return {
      accessToken: this._access,
      refreshToken: this._refreshToken() ?? undefined,
      ...this._saved,
      epoch: this._epoch,
      gen: this._gen,
    };
  }

  /** The refresh token held, or null. */
  _refreshToken() {
    return coreToken(this._core, true);
  }

  _figures() {
    const ptr = coreFigures(this._core);
    const buf = memory().buffer;
    // A view per refresher, made again only when memory grew (the old buffer detaches).
    if (!this._fig || this._fig.buffer !== buf) this._fig = new Float64Array(buf, ptr, 6);
    return this._fig;
  }

  _scheduleDetail() {
    return { expiresAt: this.expiresAt, nextRefreshAt: this.nextRefreshAt };
  }

  _alive() {
    if (this._disposed) throw disposedError();
  }
}
