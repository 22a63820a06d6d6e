// Cross-tab sessions (SPEC behaviour 3), for `crossTab: true`.
//
// - One refresh at a time per storageKey: a Web Lock named `freshtoken:<key>`.
// - Every session record carries a generation number `gen`, bumped by each refresh or login.
// - The result reaches every tab through a BroadcastChannel named after the key.
// - A tab that gets the lock learns the latest generation from the lock manager itself,
//   not from localStorage: before releasing the lock, the tab that refreshed takes a
//   shared marker lock `freshtoken:<key>:gen:<N>`. The lock manager is one authority, so
//   the next holder's `navigator.locks.query()` is sure to see that marker, and it then
//   waits for record N (broadcast or storage) instead of spending a refresh token that
//   was already rotated.
// - A lock held too long (a frozen tab) is stolen after a bounded wait; a closed or
//   crashed tab's locks are released by the browser.
// - A tab opened later asks the others for the session ('hello'), so crossTab works with
//   `storage: 'memory'` too and tokens never have to touch localStorage.

const MARKER = ':gen:';

/** Whether this browser has what cross-tab sessions need. */
export function tabsSupported() {
  return typeof BroadcastChannel === 'function' && !!globalThis.navigator?.locks?.request;
}

export class TabSync {
  /**
   * @param {string} key  the storageKey
   * @param {object} hooks  { record(): rec|null, adopt(rec), logout(), expire(reason), stored(): rec|null }
   * @param {number} lockWaitMs  how long to wait for the lock before stealing it
   */
  constructor(key, hooks, lockWaitMs) {
    this.lock = `freshtoken:${key}`;
    this.hooks = hooks;
    this.lockWaitMs = lockWaitMs;
    this.gen = 0;
    this.releaseMarker = null;
    this.waiters = new Set();
    this.channel = new BroadcastChannel(this.lock);
    this.channel.onmessage = (e) => this.receive(e.data);
  }

  receive(msg) {
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'tokens' && msg.rec && msg.rec.gen > this.gen) {
      this.gen = msg.rec.gen;
      this.hooks.adopt(msg.rec);
      for (const w of this.waiters) w(msg.rec);
    } else if (msg.type === 'hello') {
      const rec = this.hooks.record();
      if (rec) this.channel.postMessage({ type: 'tokens', rec });
    } else if (msg.type === 'logout') {
      this.hooks.logout();
    } else if (msg.type === 'expired') {
      this.hooks.expire(msg.reason);
    }
  }

  /**
   * A generation above every one known. Time-based, so a login in a tab that has seen
   * nothing yet still outranks an older session of another tab.
   */
  next(known = 0) {
    return Math.max(Math.max(known, this.gen) + 1, Date.now());
  }

  /** Ask the other tabs for their session. */
  hello() {
    this.channel.postMessage({ type: 'hello' });
  }

  /** Tell the other tabs about a record this tab made (login, refresh). */
  announce(rec) {
    this.channel.postMessage({ type: 'tokens', rec });
  }

  logout() {
    this.channel.postMessage({ type: 'logout' });
  }

  expired(reason) {
    this.channel.postMessage({ type: 'expired', reason });
  }

  /** The highest generation any tab has published, per the lock manager. */
  async latestGen() {
    let max = 0;
    try {
      const { held = [] } = await navigator.locks.query();
      const prefix = this.lock + MARKER;
      for (const l of held) {
        if (typeof l.name === 'string' && l.name.startsWith(prefix)) {
          max = Math.max(max, Number(l.name.slice(prefix.length)) || 0);
        }
      }
    } catch { /* no query: fall back to what this tab knows */ }
    return max;
  }

  /** Hold the marker of generation `gen` (and drop this tab's older one). */
  async mark(gen) {
    const previous = this.releaseMarker;
    await new Promise((granted) => {
      navigator.locks.request(`${this.lock}${MARKER}${gen}`, { mode: 'shared' }, () => {
        granted();
        return new Promise((release) => { this.releaseMarker = release; });
      }).catch(() => granted());
    });
    previous?.();
  }

  /** Record `gen` from a broadcast, or from storage, within `ms`. */
  awaitRecord(gen, ms) {
    const fromStorage = () => {
      if (this.gen >= gen) return this.hooks.record();
      const rec = this.hooks.stored();
      return rec && rec.gen >= gen ? rec : null;
    };
    const now = fromStorage();
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = (rec) => {
        clearInterval(poll);
        clearTimeout(timer);
        this.waiters.delete(onRec);
        resolve(rec);
      };
      const onRec = (rec) => { if (rec.gen >= gen) done(rec); };
      this.waiters.add(onRec);
      const poll = setInterval(() => { const r = fromStorage(); if (r) done(r); }, 25);
      const timer = setTimeout(() => done(null), ms);
    });
  }

  /**
   * Runs `refresh()` (which returns a TokenSet) under the cross-tab lock, unless another
   * tab already produced a newer generation, whose tokens are returned instead.
   * `publish(tokens, gen)` stores and announces the result before the lock is released.
   */
  async exclusive(refresh, publish) {
    const startGen = this.gen;
    let timer;
    const run = async () => {
      clearTimeout(timer);
      const latest = await this.latestGen();
      if (Math.max(latest, this.gen) > startGen) {
        // Another tab refreshed since this one decided to: take its result.
        const rec = await this.awaitRecord(Math.max(latest, this.gen), this.lockWaitMs);
        if (rec) {
          this.gen = Math.max(this.gen, rec.gen);
          return { ...rec, adopted: true };
        }
      }
      const tokens = await refresh();
      const gen = this.next(latest);
      this.gen = gen;
      publish(tokens, gen);
      await this.mark(gen);
      return tokens;
    };
    const ctl = new AbortController();
    timer = setTimeout(() => ctl.abort(), this.lockWaitMs);
    try {
      return await navigator.locks.request(this.lock, { signal: ctl.signal }, run);
    } catch (err) {
      if (err && err.name === 'AbortError' && ctl.signal.aborted) {
        // The holder did not let go in time (a frozen tab): take the lock from it.
        return navigator.locks.request(this.lock, { steal: true }, run);
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  close() {
    this.releaseMarker?.();
    for (const w of this.waiters) w(null);
    this.channel.close();
  }
}

/**
 * Joins refresher `r` to the other tabs sharing its storageKey, or returns null where the
 * browser lacks BroadcastChannel or Web Locks. The refresh then runs under the tabs' lock,
 * and its result is published to storage and the other tabs before the lock is released.
 * This module is loaded (by createRefresher) only when `crossTab` is on.
 */
export function joinTabs(r) {
  if (!tabsSupported()) return null;
  const tabs = new TabSync(r._opts.storageKey, {
    record: () => r._record(),
    stored: () => r._store?.load() ?? null,
    adopt: (rec) => { if (!r._disposed) r._adopt(rec, true); },
    logout: () => r._logout(false),
    expire: (reason) => r._endSession(reason, false),
  }, r._opts.refreshTimeoutMs + 5000);
  const inner = r._transport;
  const viaTabs = (ctx, signal) => tabs.exclusive(
    // The refresh token may have changed while this tab waited: read it now.
    () => inner({ accessToken: r._access, refreshToken: r._core.refreshToken ?? null }, signal),
    (tokens, gen) => {
      tokens.receivedAt = Date.now();
      const rec = {
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken ?? r._core.refreshToken ?? undefined,
        expiresAt: tokens.expiresAt,
        expiresIn: tokens.expiresIn,
        receivedAt: tokens.receivedAt,
        gen,
      };
      r._store?.save(rec);
      tabs.announce(rec);
    });
  viaTabs.canRefresh = inner.canRefresh;
  r._transport = viaTabs;
  return tabs;
}
