// The Refresher: the JS face of one session. The session's decisions (state, schedule,
// backoff) are made in wasm by `Core`; this class does the I/O around them. The
// single-flight refresh is `refresh()` below: one promise shared by every caller.
import { bindings } from './wasm.js';
import { makeError } from './errors.js';
import { checkTokens } from './options.js';
import { Emitter } from './events.js';
import { makeTransport } from './transport.js';
import { authorizedFetch } from './request.js';
import { originOf } from './origins.js';
import { openStorage } from './storage.js';

const STATES = ['idle', 'fresh', 'refreshing', 'expired', 'logged-out'];
const FETCHED = Symbol('freshtoken.original');
const noop = () => {};

const disposedError = () => makeError('FreshtokenError', 'disposed', 'this refresher was disposed');
const num = (v) => (v == null ? undefined : v);
const orNull = (v) => (Number.isNaN(v) ? null : v);
// [state, expiresAt, nextRefreshAt, receivedAt, retryAt, failures], filled by Core.figures.
const fig = new Float64Array(6);

/** The error a caller gets when there is no session to take a token from. */
function sessionError(state) {
  if (state === 'expired') return makeError('SessionError', 'session-expired', 'the session has expired: the user must log in again');
  if (state === 'logged-out') return makeError('SessionError', 'logged-out', 'the session was logged out');
  return makeError('SessionError', 'no-session', 'there is no session to refresh: call setTokens() after login');
}

/** What an error looks like in an event: no cause chain, nothing that could hold a token. */
function publicError(err) {
  return { name: err.name, code: err.code, message: err.message, status: err.status };
}

export class Refresher {
  /** @param {ReturnType<import('./options.js').normalizeOptions>} opts */
  constructor(opts) {
    const wasm = bindings();
    this._opts = opts;
    this._retryStatuses = opts.retryStatuses;
    this._origins = opts.origins;
    this._events = new Emitter();
    this._inflight = null;
    this._abort = new AbortController();
    this._uninstalls = new Set();
    this._disposed = false;
    this._access = null;
    this._lastError = null;
    this._transport = makeTransport(opts, () => this._baseFetch());
    this._store = openStorage(opts.storage, opts.storageKey);
    this._core = new wasm.Core(opts.refreshAt, opts.defaultLifetimeMs, () => { if (!this._disposed && this._core.tick()) this._onDue(); });
    // `opts.joinTabs` is tabs.js's joinTabs, loaded by createRefresher only for crossTab.
    this._tabs = opts.crossTab && opts.joinTabs ? opts.joinTabs(this) : null;

    const saved = opts.tokens ? null : this._store?.load();
    if (opts.tokens) this.setTokens(opts.tokens);
    else if (saved) this._adopt(saved, false);
    this._tabs?.hello();

    // Re-check the schedule when the page wakes up; retry at once when back online.
    this._onWake = () => { if (!this._disposed) this._core.recheck(); };
    this._onOnline = () => { if (!this._disposed) this._core.retryNow(Date.now()); };
    globalThis.addEventListener?.('online', this._onOnline);
    globalThis.addEventListener?.('focus', this._onWake);
    globalThis.document?.addEventListener?.('visibilitychange', this._onWake);
  }

  /** The current access token, or null. */
  get accessToken() { return this._access; }
  /** When the current token expires, ms since epoch (local clock), or null. */
  get expiresAt() { return this._disposed ? null : orNull(this._figures()[1]); }
  /** When the next refresh is planned, ms since epoch (local clock), or null. */
  get nextRefreshAt() { return this._disposed ? null : orNull(this._figures()[2]); }
  /** 'idle' | 'fresh' | 'refreshing' | 'expired' | 'logged-out' */
  get state() { return this._disposed ? 'logged-out' : STATES[this._figures()[0]]; }

  /** Takes new tokens (after login). Any refresh in flight is superseded. */
  setTokens(tokens) {
    this._alive();
    checkTokens(tokens, 'setTokens(tokens)');
    if (this._tabs) this._tabs.gen = this._tabs.next();
    this._apply(tokens, tokens.receivedAt ?? Date.now());
    if (this._tabs) this._tabs.announce(this._record());
  }

  _apply(t, receivedAt) {
    this._core.setTokens(t.accessToken, t.refreshToken ?? undefined, num(t.expiresAt), num(t.expiresIn), receivedAt);
    this._saved = { expiresAt: num(t.expiresAt), expiresIn: num(t.expiresIn), receivedAt };
    this._sync();
    this._events.emit('schedule', this._scheduleDetail());
  }

  // A session record from storage or another tab.
  _adopt(rec, fromOtherTab) {
    if (this._tabs && typeof rec.gen === 'number') this._tabs.gen = Math.max(this._tabs.gen, rec.gen);
    this._apply(rec, typeof rec.receivedAt === 'number' ? rec.receivedAt : Date.now());
    if (fromOtherTab) this._events.emit('refresh', { ...this._scheduleDetail(), fromOtherTab: true });
  }

  /** A token not past its refresh point; refreshes first if needed. */
  async getAccessToken() {
    const token = await this._tokenForRequest();
    if (token === null) throw sessionError(this.state);
    return token;
  }

  /** Forces a refresh. Concurrent callers share one promise and one server call. */
  refresh() {
    if (this._disposed) return Promise.reject(disposedError());
    if (this._inflight) return this._inflight;
    const ctx = { accessToken: this._access, refreshToken: this._core.refreshToken ?? null };
    if (this._figures()[0] === 0 && !this._transport.canRefresh(ctx)) return Promise.reject(sessionError('idle'));
    const ticket = this._core.begin();
    if (ticket < 0) return Promise.reject(sessionError(this.state));
    const p = this._runRefresh(ticket, ctx).finally(() => {
      if (this._inflight === p) this._inflight = null;
    });
    this._inflight = p;
    return p;
  }

  async _runRefresh(ticket, ctx) {
    let tokens;
    try {
      if (!this._transport.canRefresh(ctx)) {
        throw makeError('RefreshError', 'no-refresh-token', 'there is no refresh token to refresh the session with', { rejected: true });
      }
      tokens = await this._transport(ctx, this._abort.signal);
    } catch (err) {
      if (this._disposed) throw disposedError();
      if (!this._core.isCurrent(ticket)) return this._afterStale();
      const delay = this._core.fail(ticket, err.rejected === true, num(err.retryAfterMs), Date.now(), Math.random());
      this._sync();
      if (delay === -1) {
        this._sessionEnded(err.code === 'no-refresh-token' ? 'no-refresh-token' : 'refresh-rejected');
        throw sessionError('expired');
      }
      this._lastError = publicError(err);
      this._events.emit('refresh-error', { error: this._lastError, retryIn: delay, attempt: this._figures()[5] });
      throw err;
    }
    if (this._disposed) throw disposedError();
    const now = tokens.receivedAt ?? Date.now();
    if (!this._core.succeed(ticket, tokens.accessToken, tokens.refreshToken, num(tokens.expiresAt), num(tokens.expiresIn), now)) {
      return this._afterStale();
    }
    this._saved = { expiresAt: num(tokens.expiresAt), expiresIn: num(tokens.expiresIn), receivedAt: now };
    this._lastError = null;
    this._sync();
    const detail = tokens.adopted ? { ...this._scheduleDetail(), fromOtherTab: true } : this._scheduleDetail();
    this._events.emit('refresh', detail);
    this._events.emit('schedule', detail);
    return this._access;
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

  /** Patches `target.fetch` (default globalThis); returns the uninstall. */
  installFetchInterceptor(target = globalThis) {
    this._alive();
    if (!target || typeof target.fetch !== 'function') {
      throw makeError('OptionsError', 'bad-target', 'installFetchInterceptor needs an object with a fetch function');
    }
    const original = target.fetch;
    const underlying = original[FETCHED] ?? original;
    const patched = (input, init) => (this._disposed
      ? underlying.call(globalThis, input, init)
      : authorizedFetch(this, underlying, input, init));
    patched[FETCHED] = underlying;
    target.fetch = patched;
    const uninstall = () => {
      if (target.fetch === patched) target.fetch = original;
      this._uninstalls.delete(uninstall);
    };
    this._uninstalls.add(uninstall);
    return uninstall;
  }

  /** Subscribes to 'refresh' | 'refresh-error' | 'session-expired' | 'logout' | 'schedule'; returns unsubscribe. */
  on(event, listener) {
    this._alive();
    return this._events.on(event, listener);
  }

  /** Clears tokens and timers (in every tab, with `crossTab`). */
  logout() {
    this._logout(true);
  }

  _logout(tellTabs) {
    if (this._disposed) return;
    const had = this._core.logout();
    this._sync();
    this._store?.clear();
    if (tellTabs) this._tabs?.logout();
    if (had) this._events.emit('logout', {});
  }

  /** Cancels every timer and listener and frees the wasm memory. Idempotent. */
  dispose() {
    if (this._disposed) return;
    this._disposed = true;
    for (const u of [...this._uninstalls]) u();
    globalThis.removeEventListener?.('online', this._onOnline);
    globalThis.removeEventListener?.('focus', this._onWake);
    globalThis.document?.removeEventListener?.('visibilitychange', this._onWake);
    this._abort.abort(disposedError());
    this._tabs?.close();
    this._events.clear();
    this._core.free();
    this._access = null;
    this._inflight = null;
  }

  // --- used by request.js ---------------------------------------------------------

  _allows(input) {
    return this._origins.has(originOf(input));
  }

  /** The token when a request can use it at once (not due, no refresh in flight), else undefined. */
  _readyToken() {
    if (this._disposed || this._inflight !== null || this._core.needsRefresh(Date.now())) return undefined;
    return this._access;
  }

  /**
   * The token for a request, waiting for/starting a refresh when due; null without a
   * session. See `_awaitToken` for how failures and the backoff are handled.
   */
  async _tokenForRequest() {
    if (this._disposed) return null;
    if (this._inflight === null && !this._core.needsRefresh(Date.now())) return this._access;
    return this._awaitToken((now) => this._core.usable(now));
  }

  /** After a request was rejected with `used`: a new token to replay with, or null. */
  async _tokenAfterRejection(used) {
    if (this._disposed) return null;
    const replaced = () => this._access !== null && this._access !== used;
    if (replaced() && this._inflight === null) return this._access;
    return this._awaitToken(replaced);
  }

  /**
   * Joins or starts refreshes until there is a token `good(now)` accepts; null once the
   * session is over. While refreshes fail transiently the backoff holds for requests too:
   * no request starts a refresh before the backoff allows it; meanwhile a token `good`
   * accepts (not yet expired) is used as is, otherwise the request waits for the next
   * attempt. The wait ends `refreshTimeoutMs` after it began, with a RefreshError saying so.
   */
  async _awaitToken(good) {
    const deadline = Date.now() + this._opts.refreshTimeoutMs;
    for (;;) {
      const now = Date.now();
      const retryAt = this._figures()[4]; // NaN unless backing off
      if (this._inflight === null && retryAt > now) {
        if (good(now)) return this._access;
        if (retryAt >= deadline) throw this._lateError();
        await new Promise((r) => setTimeout(r, retryAt - now));
        if (this._disposed) return null;
        continue;
      }
      let timer;
      const late = new Promise((_, reject) => { timer = setTimeout(() => reject(this._lateError()), deadline - now); });
      try {
        return await Promise.race([this.refresh(), late]);
      } catch (err) {
        if (this._disposed) return null;
        if (err && err.late === true) throw err;
        if (good(Date.now())) return this._access;
        if (err && err.name === 'SessionError') return null;
      } finally {
        clearTimeout(timer);
      }
    }
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
    if (this._disposed || !this._core.expire()) return;
    this._sync();
    this._sessionEnded(reason, tellTabs);
  }

  // --- internals ------------------------------------------------------------------

  _sessionEnded(reason, tellTabs = true) {
    this._store?.clear();
    if (tellTabs) this._tabs?.expired(reason);
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

  _baseFetch() {
    const f = this._opts.fetch ?? globalThis.fetch;
    return f[FETCHED] ?? f;
  }

  _sync() {
    this._access = this._core.accessToken ?? null;
    if (this._store && this._access !== null) this._store.save(this._record());
  }

  /** The session as stored and shared between tabs, or null. */
  _record() {
    if (this._access === null) return null;
    return {
      accessToken: this._access,
      refreshToken: this._core.refreshToken ?? undefined,
      ...this._saved,
      gen: this._tabs ? this._tabs.gen : 0,
    };
  }

  _figures() {
    this._core.figures(fig);
    return fig;
  }

  _scheduleDetail() {
    return { expiresAt: this.expiresAt, nextRefreshAt: this.nextRefreshAt };
  }

  _alive() {
    if (this._disposed) throw disposedError();
  }
}
