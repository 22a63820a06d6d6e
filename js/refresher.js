// The Refresher: the JS face of one session. The session's decisions (state, schedule,
// backoff) are made in wasm by its `Core` (src/wasm/core.rs), which `this._core` names by
// handle; this class does the I/O around them. The
// single-flight refresh is `refresh()` below: one promise shared by every caller.
import {
  bindings, memory, coreNew, coreFree, coreSetTokens, coreBegin, coreSucceed, coreFail, coreEnd, coreWake, coreTick,
  coreFigures, coreToken,
} from './wasm.js';
import { makeError } from './errors.js';
import { writeTokens } from './buffer.js';
import { checkTokens } from './options.js';
import { Emitter } from './events.js';
import { makeTransport } from './transport.js';
import { authorizedFetch, endpoints, flights } from './request.js';
import { requestURL } from './origins.js';
import { openStorage } from './storage.js';
import { now, serverClock, serverNow, toWall } from './clock.js';
import { decodeToken } from './decode.js';

const STATES = ['idle', 'fresh', 'refreshing', 'expired', 'logged-out'];
const FETCHED = Symbol.for('freshtoken.interceptor');
const noop = () => {};
const wallOrNull = (v) => (Number.isNaN(v) ? null : toWall(v));

/**
 * A new session epoch, above every one known (SPEC behaviour 3). Time-based, so a login
 * in a tab that has seen nothing yet still outranks an older session of another tab.
 */
const nextEpoch = (known) => Math.max(known + 1, Date.now());

/**
 * Why a token was refused: decodeToken's own error (a malformed expiry claim, or a
 * JWT-shaped token it cannot read, e.g. `too-large`), as that error or as a RefreshError.
 */
function refusal(token, name) {
  try { decodeToken(token); } catch (err) { return makeError(name, err.code, `the access token was refused: ${err.message}`); }
  return makeError(name, 'bad-claim', 'the access token was refused');
}

/** What a refresh settles with when its session ended or was replaced meanwhile. */
const supersededError = () => makeError('SessionError', 'superseded', 'the session this refresh was for has ended or been replaced');
const disposedError = () => makeError('FreshtokenError', 'disposed', 'this refresher was disposed');
// An optional number for the core: undefined when absent (the glue hands wasm NaN).
const num = (v) => (v == null ? undefined : v);
// coreFigures(core, now) leaves [state, expiresAt, nextRefreshAt, receivedAt, nextAttemptAt,
// failures, needsRefresh, usable] in wasm memory; times on the session clock (js/clock.js).
const NEEDS_REFRESH = 6;
const USABLE = 7;

/** The error a caller gets when there is no session to take a token from. */
function sessionError(state) {
  if (state === 'expired') return makeError('SessionError', 'session-expired', 'the session has expired: the user must log in again');
  if (state === 'logged-out') return makeError('SessionError', 'logged-out', 'the session was logged out');
  return makeError('SessionError', 'no-session', 'there is no session to refresh: call setTokens() after login');
}

/** What an error looks like in an event: the same class, no cause chain, nothing that could hold a token. */
function publicError(err) {
  return makeError(err.name, err.code, err.message, err.status === undefined ? undefined : { status: err.status });
}

/** Where a session record received at wall time `receivedAt` sits on the session clock. */
const sessionTime = (receivedAt) => now() - Math.max(0, Date.now() - receivedAt);

export class Refresher {
  /** @param {ReturnType<import('./options.js').normalizeOptions>} opts */
  constructor(opts) {
    bindings(); // throws a clear error before init()
    this._opts = opts;
    this._retryStatuses = opts.retryStatuses;
    this._endStatuses = opts.endSessionStatuses;
    this._origins = opts.origins;
    this._events = new Emitter();
    this._flight = null;        // { promise, abort, ctx } of the refresh in flight
    this._epoch = 0;            // the session epoch (SPEC behaviour 3)
    this._gen = 0;              // the refresh generation within it (crossTab)
    this._uninstalls = new Set();
    this._disposed = false;
    this._access = null;
    this._lastError = null;
    this._change = null;        // resolves on the next change a waiting request cares about
    // Bumped when a session ends (logout, expiry): a request that started before waits in
    // vain, it is never sent with a later login's token (SPEC behaviour 5).
    this._line = 0;
    this._ended = 'logged-out';
    this._server = serverClock(); // this refresher's estimate of its server's clock
    this._transport = makeTransport(opts, () => this._baseFetch(), this._server);
    this._store = openStorage(opts.storage, opts.storageKey);
    if (opts.endpoint) {
      const url = requestURL(opts.endpoint.url);
      if (url) this._endpoint = url.href.replace(/#.*$/, '');
      if (this._endpoint) endpoints.set(this._endpoint, (endpoints.get(this._endpoint) ?? 0) + 1);
    }
    this._core = coreNew(opts.refreshAt, opts.defaultLifetimeMs, () => {
      if (!this._disposed && coreTick(this._core, now())) this._onDue();
    });
    // `opts.joinTabs` is tabs.js's joinTabs, loaded by createRefresher only for crossTab.
    this._tabs = opts.crossTab && opts.joinTabs ? opts.joinTabs(this) : null;

    const saved = opts.tokens ? null : this._store?.load();
    try {
      if (opts.tokens) this.setTokens(opts.tokens);
      else if (saved) this._adopt(saved, false);
    } catch (err) {
      this.dispose(); // a refused token (bad-claim): nothing left behind
      throw err;
    }
    this._tabs?.hello();

    // Re-check the schedule when the page wakes up; retry at once when back online.
    this._onWake = () => { if (!this._disposed) coreWake(this._core, false, now()); };
    this._onOnline = () => {
      if (this._disposed) return;
      coreWake(this._core, true, now());
      this._notify();
    };
    globalThis.addEventListener?.('online', this._onOnline);
    globalThis.addEventListener?.('focus', this._onWake);
    globalThis.document?.addEventListener?.('visibilitychange', this._onWake);
  }

  /** The current access token, or null. */
  get accessToken() { return this._access; }
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
    checkTokens(tokens, 'setTokens(tokens)');
    // Without `receivedAt` the tokens may have waited since they were issued: an `exp`
    // already past by the server's clock (as best known) means "refresh first".
    const given = typeof tokens.receivedAt === 'number';
    const wall = given ? Math.min(tokens.receivedAt, Date.now()) : Date.now();
    this._take(tokens, wall, nextEpoch(Math.max(this._epoch, this._gen)), undefined, given ? NaN : serverNow(this._server));
    this._tabs?.announce(this._record());
  }

  /** Puts a session into the core, as a new epoch `epoch`. */
  _take(t, wall, epoch, gen = epoch, server = NaN) {
    const ok = coreSetTokens(this._core, ...writeTokens([t.accessToken, t.refreshToken]), num(t.expiresAt), num(t.expiresIn),
      sessionTime(wall), wall, server);
    if (!ok) throw refusal(t.accessToken, 'TokenDecodeError');
    this._newEpoch(epoch);
    this._gen = gen;
    this._saved = { expiresAt: num(t.expiresAt), expiresIn: num(t.expiresIn), receivedAt: wall };
    this._lastError = null;
    this._sync();
    this._events.emit('schedule', this._scheduleDetail());
  }

  /** Starts epoch `epoch`: the refresh in flight (of the old one) is aborted and forgotten. */
  _newEpoch(epoch) {
    this._epoch = epoch;
    const f = this._flight;
    if (f) {
      this._flight = null;
      flights.delete(f.ctx);
      f.abort.abort(supersededError());
    }
    this._notify();
  }

  // A session record from storage or another tab (SPEC behaviour 3: only a newer one).
  _adopt(rec, fromOtherTab) {
    if (rec.out === true || typeof rec.accessToken !== 'string') return false;
    const epoch = typeof rec.epoch === 'number' ? rec.epoch : 0;
    const gen = typeof rec.gen === 'number' ? rec.gen : epoch;
    if (epoch < this._epoch || (epoch === this._epoch && gen <= this._gen && this._access !== null)) return false;
    try {
      checkTokens(rec, 'record');
      this._take(rec, typeof rec.receivedAt === 'number' ? Math.min(rec.receivedAt, Date.now()) : Date.now(), epoch, gen);
    } catch {
      return false; // a record with a malformed token: not adopted
    }
    if (fromOtherTab) this._events.emit('refresh', { ...this._scheduleDetail(), fromOtherTab: true });
    return true;
  }

  /** A token not past its refresh point; refreshes first if needed. */
  async getAccessToken() {
    const line = this._line;
    const token = await this._tokenForRequest(undefined, line);
    if (token === null) throw line === this._line && !this._disposed ? sessionError(this.state) : this._lineEnded();
    return token;
  }

  /** Forces a refresh. Concurrent callers share one promise and one server call. */
  refresh() {
    if (this._disposed) return Promise.reject(disposedError());
    if (this._flight) return this._flight.promise;
    const ctx = { accessToken: this._access, refreshToken: this._refreshToken() };
    if (this._figures()[0] === 0 && !this._transport.canRefresh(ctx)) return Promise.reject(sessionError('idle'));
    const ticket = coreBegin(this._core, now());
    if (ticket < 0) return Promise.reject(sessionError(this.state));
    const flight = { abort: new AbortController(), ctx, promise: null };
    flights.add(ctx);
    flight.promise = this._runRefresh(ticket, ctx, flight.abort.signal, this._epoch).finally(() => {
      flights.delete(ctx);
      if (this._flight === flight) this._flight = null;
      this._notify();
    });
    this._flight = flight;
    this._notify();
    return flight.promise;
  }

  async _runRefresh(ticket, ctx, signal, epoch) {
    let tokens;
    try {
      if (!this._transport.canRefresh(ctx)) {
        throw makeError('RefreshError', 'no-refresh-token', 'there is no refresh token to refresh the session with', { rejected: true });
      }
      tokens = await this._transport(ctx, signal);
    } catch (err) {
      if (this._disposed) throw disposedError();
      if (epoch !== this._epoch) return this._afterStale();
      // A rotated refresh token that came with an unusable answer is kept (never spent twice).
      const rotated = typeof err.refreshToken === 'string' ? writeTokens([err.refreshToken])[0] : -1;
      const t = now();
      const delay = coreFail(this._core, ticket, err.rejected === true, num(err.retryAfterMs), t, Math.random(), rotated);
      if (delay === -2) return this._afterStale();
      this._sync();
      if (delay === -1) {
        this._sessionEnded(err.code === 'no-refresh-token' ? 'no-refresh-token' : 'refresh-rejected');
        throw sessionError('expired');
      }
      this._reportError(err, t);
      throw err;
    }
    if (this._disposed) throw disposedError();
    if (epoch !== this._epoch) return this._afterStale();
    const wall = typeof tokens.receivedAt === 'number' ? Math.min(tokens.receivedAt, Date.now()) : Date.now();
    const landed = coreSucceed(this._core, ticket, ...writeTokens([tokens.accessToken, tokens.refreshToken]), num(tokens.expiresAt),
      num(tokens.expiresIn), sessionTime(wall), wall, Math.random());
    if (landed === 4) return this._afterStale();
    if (typeof tokens.gen === 'number') this._gen = tokens.gen;
    this._sync();
    if (landed === 3) {
      // A malformed expiry claim, or a JWT-shaped token decodeToken refuses: the refresh token was kept.
      const err = refusal(tokens.accessToken, 'RefreshError');
      this._reportError(err);
      throw err;
    }
    this._saved = { expiresAt: num(tokens.expiresAt), expiresIn: num(tokens.expiresIn), receivedAt: wall };
    if (landed === 0 && !tokens.problems) this._lastError = null;
    const detail = tokens.adopted ? { ...this._scheduleDetail(), fromOtherTab: true } : this._scheduleDetail();
    this._events.emit('refresh', detail);
    this._events.emit('schedule', detail);
    // Taken, but partly wrong: say what (SPEC behaviour 7); an implausible expiry also backs off.
    if (tokens.problems) this._reportError(makeError('RefreshError', 'bad-response', tokens.problems));
    if (landed === 1 || landed === 2) {
      this._reportError(makeError('RefreshError', 'bad-expiry', landed === 1
        ? 'the answer\'s expiresIn/expiresAt leaves under a second to live (seconds given as ms?); the token\'s own expiry is used'
        : 'the answer leaves the token under a second to live; it is kept and the next refresh backs off'));
    }
    return this._access;
  }

  /** Tells `refresh-error`, with when the next attempt really is (the one-second floor included). */
  _reportError(err, t = now()) {
    const f = this._figures();
    this._lastError = publicError(err);
    this._events.emit('refresh-error', { error: this._lastError, retryIn: Math.max(0, (Number.isNaN(f[4]) ? f[2] : f[4]) - t), attempt: f[5] });
  }

  // The session changed under a refresh (new tokens, logout): answer with what is current.
  _afterStale() {
    if (this._access !== null) return this._access;
    throw sessionError(this.state);
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

  /** Clears tokens and timers, aborts a refresh in flight (in every tab, with `crossTab`). */
  logout() {
    if (this._disposed) return;
    this._logout(nextEpoch(Math.max(this._epoch, this._gen)), true);
  }

  _logout(epoch, tellTabs) {
    if (this._disposed || epoch < this._epoch) return;
    this._endLine('logged-out');
    this._newEpoch(epoch);
    const had = coreEnd(this._core, true);
    this._sync();
    this._persist({ out: true, epoch });
    if (tellTabs) this._tabs?.logout(epoch);
    if (had) this._events.emit('logout', {});
  }

  /** Cancels every timer and listener, settles every waiting caller, frees the wasm memory. Idempotent. */
  dispose() {
    if (this._disposed) return;
    this._disposed = true;
    for (const u of [...this._uninstalls]) u();
    globalThis.removeEventListener?.('online', this._onOnline);
    globalThis.removeEventListener?.('focus', this._onWake);
    globalThis.document?.removeEventListener?.('visibilitychange', this._onWake);
    if (this._endpoint) {
      const n = endpoints.get(this._endpoint) - 1;
      if (n > 0) endpoints.set(this._endpoint, n); else endpoints.delete(this._endpoint);
    }
    const f = this._flight;
    if (f) { flights.delete(f.ctx); f.abort.abort(disposedError()); }
    this._line++;
    this._tabs?.close();
    this._events.clear();
    coreFree(this._core);
    this._access = null;
    this._flight = null;
    this._notify();
  }

  // --- used by request.js, tabs.js and the adapters -------------------------------------

  // tabs.js imports nothing, so that a bundler keeps it in its own chunk instead of moving
  // what it shares with the main entry into a third one (which cost 0.36 KB of gzip).
  /** A new epoch or generation above `known` (tabs.js). */
  _nextEpoch(known) { return nextEpoch(known); }
  /** The error of a refresh whose session ended or was replaced (tabs.js). */
  _superseded() { return supersededError(); }

  /** The token when a request can use it at once (not due, no refresh in flight), else undefined. */
  _readyToken() {
    if (this._disposed || this._flight !== null || this._figures()[NEEDS_REFRESH]) return undefined;
    return this._access;
  }

  /**
   * The token for a request, waiting for/starting a refresh when due; null without a
   * session. See `_awaitToken` for how failures and the backoff are handled.
   */
  async _tokenForRequest(signal, line) {
    if (this._disposed) return null;
    if (this._flight === null && !this._figures()[NEEDS_REFRESH]) return this._access;
    return this._awaitToken(() => this._figures()[USABLE] === 1, signal, line);
  }

  /**
   * After a request was rejected with `used`: a new token to replay with, or null (also
   * when the session of `line`, the one the request started in, has ended meanwhile).
   */
  async _tokenAfterRejection(used, signal, line = this._line) {
    if (this._disposed || line !== this._line) return null;
    const replaced = () => this._access !== null && this._access !== used;
    if (replaced() && this._flight === null) return this._access;
    return this._awaitToken(replaced, signal, line);
  }

  /** A session ended (logout, expiry): requests that started in it get no later token. */
  _endLine(why) {
    this._line++;
    this._ended = why;
  }

  /** What a request gets whose session ended while it waited. */
  _lineEnded() {
    if (this._disposed) return disposedError();
    return makeError('SessionError', this._ended, `the session this request began in ended (${this._ended}) while it waited: not sent`);
  }

  /** A replay was answered `status` with `token`: end the session, or report "forbidden". */
  _rejectedAgain(status, token) {
    if (!this._retryStatuses.has(status) || this._access !== token) return; // a newer session is not ended by an old token
    if (this._endStatuses.has(status)) this._endSession('request-rejected');
    else this._events.emit('forbidden', { status });
  }

  /**
   * Joins or starts refreshes until there is a token `good(now)` accepts; null once the
   * session is over or the refresher disposed. No request starts a refresh before the
   * backoff (and the one-second floor) allows it; meanwhile a token `good` accepts (not yet
   * expired) is used as is, otherwise the request waits — and wakes at once when anything
   * changes (a refresh starts or lands, the browser comes back online, logout, dispose).
   * The wait ends `refreshTimeoutMs` after it began with a RefreshError saying so, or when
   * the request's own `signal` aborts; it ends with null when the session of `line` (the
   * one the request started in) ends, whatever login follows.
   */
  async _awaitToken(good, signal, line = this._line) {
    const deadline = now() + this._opts.refreshTimeoutMs;
    for (;;) {
      if (this._disposed || line !== this._line) return null;
      signal?.throwIfAborted();
      const t = now();
      // After a change (new tokens, a refresh replaced): a token ready to use is taken.
      // (Never true on the first pass: the callers come here only when it is not.)
      if (this._flight === null && !this._figures()[NEEDS_REFRESH] && good(t)) return this._access;
      const nextAt = this._figures()[4]; // NaN when nothing holds attempts back
      let p = null;
      if (this._flight === null && nextAt > t) {
        if (good(t)) return this._access;
        if (nextAt >= deadline) throw this._lateError();
      } else {
        p = this.refresh();
      }
      const out = await this._wait(p, (p ? deadline : nextAt) - t, signal);
      if (this._disposed || line !== this._line) return null;
      if (out === 'late' && p) throw this._lateError();
      if (out && out.error) {
        if (good(now())) return this._access;
        if (out.error.name === 'SessionError' && out.error.code !== 'superseded') return null;
      } else if (p && out !== 'late' && out !== 'changed') {
        if (good(now()) || this._access === out.value) return this._access;
      }
    }
  }

  /**
   * Waits for `p` to settle (or, without `p`, for the next change), at most `ms`; settles
   * at once on dispose; rejects with the signal's reason when `signal` aborts.
   * @returns {Promise<'late'|'changed'|{value}|{error}>}
   */
  _wait(p, ms, signal) {
    return new Promise((resolve, reject) => {
      let timer;
      const onAbort = () => { done(); reject(signal.reason); };
      const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', onAbort); };
      timer = setTimeout(() => { done(); resolve('late'); }, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
      signal?.addEventListener('abort', onAbort, { once: true });
      // Every change wakes the waiter, also while it holds a refresh's promise: that
      // refresh may have been replaced (new tokens, another tab's answer) and never settle.
      this._changed().then(() => { done(); resolve('changed'); });
      p?.then((value) => { done(); resolve({ value }); }, (error) => { done(); resolve({ error }); });
    });
  }

  /** A promise of the next change (see `_awaitToken`). */
  _changed() {
    if (!this._change) {
      let fire;
      const p = new Promise((r) => { fire = r; });
      this._change = { p, fire };
    }
    return this._change.p;
  }

  _notify() {
    const c = this._change;
    this._change = null;
    c?.fire();
  }

  /** A request's deadline passed without a fresh token: why, from the last refresh failure. */
  _lateError() {
    const last = this._lastError;
    const why = last ? `: ${last.message}` : ': the refresh is still running';
    return makeError('RefreshError', last ? last.code : 'timeout',
      `no fresh token within ${this._opts.refreshTimeoutMs} ms (refreshTimeoutMs)${why}`,
      { rejected: false, late: true, status: last?.status });
  }

  /** The session is over: told once, through every channel the app chose. */
  _endSession(reason, tellTabs = true) {
    if (this._disposed || !coreEnd(this._core, false)) return;
    this._newEpoch(this._epoch); // abort a refresh in flight
    this._sync();
    this._sessionEnded(reason, tellTabs);
  }

  // --- internals ------------------------------------------------------------------

  _sessionEnded(reason, tellTabs = true) {
    this._endLine('session-expired');
    this._persist({ out: true, epoch: this._epoch });
    if (tellTabs) this._tabs?.expired(reason, this._epoch);
    const info = { reason };
    this._events.emit('session-expired', info);
    if (this._opts.onSessionExpired) {
      try { this._opts.onSessionExpired(info); } catch (err) { queueMicrotask(() => { throw err; }); }
    }
    if (this._opts.loginUrl && globalThis.location && typeof globalThis.location.assign === 'function') {
      globalThis.location.assign(this._opts.loginUrl);
    }
  }

  _onDue() {
    if (this._disposed) return;
    const s = this._figures()[0];
    if (s === 0 || s === 1) this.refresh().catch(noop);
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

  /** Writes a record to storage unless storage holds a newer epoch (a later login or logout). */
  _persist(rec) {
    if (!this._store) return;
    const cur = this._store.load();
    if (cur && typeof cur.epoch === 'number' && cur.epoch > rec.epoch) return;
    this._store.save(rec);
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
    const ptr = coreFigures(this._core, now());
    const buf = memory().buffer;
    // A view per refresher, made again only when memory grew (the old buffer detaches).
    if (!this._fig || this._fig.buffer !== buf) this._fig = new Float64Array(buf, ptr, 8);
    return this._fig;
  }

  _scheduleDetail() {
    return { expiresAt: this.expiresAt, nextRefreshAt: this.nextRefreshAt };
  }

  _alive() {
    if (this._disposed) throw disposedError();
  }
}
