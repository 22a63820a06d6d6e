// Cross-tab sessions (SPEC behaviour 3), for `crossTab: true`.
//
// - One refresh at a time per storageKey: a Web Lock named `freshtoken:<key>`.
// - Every session record carries its session epoch `epoch` (a new one at each login and
//   logout) and a generation `gen`, bumped by each refresh. Anything from an older epoch
//   is dropped in every tab, and a refresh that outlived its epoch is not published: a
//   logout stays a logout, and user 2 never receives user 1's session.
// - The result reaches every tab through a BroadcastChannel named after the key.
// - A tab that gets the lock learns the latest generation from the lock manager itself,
//   not from localStorage: before releasing the lock, the tab that refreshed takes a
//   shared marker lock `freshtoken:<key>:gen:<N>`. The lock manager is one authority, so
//   the next holder's `navigator.locks.query()` is sure to see that marker, and it then
//   waits for record N (broadcast or storage) instead of spending a refresh token that
//   was already rotated.
// - A refresh that failed transiently is published the same way: before releasing the lock
//   the tab holds `freshtoken:<key>:failed:<G>:<until>:<status>:<code>` (G the generation it
//   refreshed from, `until` its retry point: the answer's Retry-After, at least a second),
//   and so is a call the engine aborted at refreshTimeoutMs (code timeout, `until` the
//   engine's own next attempt). Whether to publish, and `until`, is the engine's rule.
//   The next holder from generation G takes that failure instead of calling again before
//   `until`: the session backs off in every tab (SPEC behaviour 2 and 4).
// - A refresh answer that is unusable yet carries a rotated refresh token: the tab keeps it,
//   stores it and broadcasts it, in the same generation, before releasing the lock; the next
//   holder finds that record (in storage, or as the last record it heard: memory, or a
//   sessionStorage of its own) of its own epoch and generation with another refresh token and takes it
//   (keeping its access token and schedule) before spending its own, and no tab's write of
//   that generation puts the spent one back (the engine's rules, takes_rotated / may_overwrite).
// - A lock held too long (a frozen tab) is stolen after a bounded wait; a closed or
//   crashed tab's locks are released by the browser.
// - A tab opened later asks the others for the session ('hello'), so crossTab works with
//   `storage: 'memory'` too and tokens never have to touch localStorage.
//
// This module imports nothing: what it needs of the session comes through the refresher
// it joins (see `_nextEpoch` in refresher.js).

const MARKER = ':gen:';
const FAILED = ':failed:';

/** Whether this browser has what cross-tab sessions need. */
export function tabsSupported() {
  return typeof BroadcastChannel === 'function' && !!globalThis.navigator?.locks?.request;
}

export class TabSync {
  /**
   * @param {import('./refresher.js').Refresher} r  the refresher of this tab
   * @param {number} lockWaitMs  how long to wait for the lock before stealing it
   */
  constructor(r, lockWaitMs) {
    this.r = r;
    this.lock = `freshtoken:${r._opts.storageKey}`;
    this.lockWaitMs = lockWaitMs;
    this.releaseMarker = null;
    this.releaseFailed = null;
    this.waiters = new Set();
    this.heard = null; // the last record another tab broadcast
    this.channel = new BroadcastChannel(this.lock);
    this.channel.onmessage = (e) => { if (!r._disposed) this.receive(e.data); };
  }

  receive(data) {
    const r = this.r;
    if (!data || typeof data !== 'object') return;
    // Own fields only, as storage is read: a polluted Object.prototype.out (or .epoch, .gen)
    // does not turn another tab's session into a logout marker or move its epoch.
    const own = (v) => Object.assign(Object.create(null), v);
    const msg = own(data);
    const epoch = typeof msg.epoch === 'number' ? msg.epoch : -1;
    if (msg.type === 'tokens' && msg.rec && typeof msg.rec === 'object') {
      msg.rec = own(msg.rec);
      if (r._rule(2, NaN, typeof msg.rec.epoch === 'number' ? msg.rec.epoch : NaN)) {
        // A late answer from a session this tab has left: dropped, and storage (which the
        // late writer may have just overwritten) is put back to this tab's newer epoch.
        r._persist(r._record() ?? { out: true, epoch: r._epoch });
        return;
      }
      // Kept: where a rotated refresh token another tab kept from an unusable answer reaches
      // a tab whose storage the keeper cannot write (memory, a sessionStorage of its own).
      this.heard = msg.rec;
      if (r._adopt(msg.rec, true)) for (const w of this.waiters) w(msg.rec);
    } else if (msg.type === 'hello') {
      const rec = r._record();
      if (rec) this.channel.postMessage({ type: 'tokens', rec });
    } else if (msg.type === 'logout') {
      r._logout(epoch, false);
    } else if (msg.type === 'expired' && r._rule(4, NaN, epoch)) {
      r._endSession(msg.reason, false);
    }
  }

  /** Ask the other tabs for their session. */
  hello() {
    this.channel.postMessage({ type: 'hello' });
  }

  /** Tell the other tabs about a record this tab made (login, refresh). */
  announce(rec) {
    if (rec) this.channel.postMessage({ type: 'tokens', rec });
  }

  logout(epoch) {
    this.channel.postMessage({ type: 'logout', epoch });
  }

  expired(reason, epoch) {
    this.channel.postMessage({ type: 'expired', reason, epoch });
  }

  /**
   * What the tabs have published, per the lock manager: the highest generation (`gen`), and
   * the transient failures held (`failed`: {gen, until, status, code}).
   */
  async markers() {
    let gen = 0;
    const failed = [];
    try {
      const { held = [] } = await navigator.locks.query();
      const prefix = this.lock + MARKER;
      const failure = this.lock + FAILED;
      for (const l of held) {
        if (typeof l.name !== 'string') continue;
        if (l.name.startsWith(prefix)) {
          // Only a generation the protocol can make (engine::tabs::valid_epoch): a planted
          // `:gen:1e300` would else hide every real marker.
          const g = Number(l.name.slice(prefix.length));
          if (this.r._rule(12, g)) gen = Math.max(gen, g);
        }
        else if (l.name.startsWith(failure)) {
          const [g, until, status, ...code] = l.name.slice(failure.length).split(':');
          failed.push({ gen: Number(g), until: Number(until), status: Number(status) || undefined, code: code.join(':') });
        }
      }
    } catch { /* no query: fall back to what this tab knows */ }
    return { gen, failed };
  }

  /** Holds the shared lock `name` until `slot`'s next one (or close), dropping the previous. */
  async hold(name, slot) {
    const previous = this[slot];
    await new Promise((granted) => {
      navigator.locks.request(name, { mode: 'shared' }, () => {
        granted();
        // Disposed meanwhile: close() has run, so nothing else would let go of it.
        return new Promise((release) => { this[slot] = release; if (this.r._disposed) release(); });
      }).catch(() => granted());
    });
    previous?.();
  }

  /** Hold the marker of generation `gen` (and drop this tab's older one, and its failure's). */
  async mark(gen) {
    await this.hold(`${this.lock}${MARKER}${gen}`, 'releaseMarker');
    this.releaseFailed?.();
    this.releaseFailed = null;
  }

  /** Record `gen` of epoch `epoch`, from a broadcast or from storage, within `ms`; null once the epoch is left. */
  awaitRecord(epoch, gen, ms) {
    const r = this.r;
    const fits = (rec) => !!rec && r._endsWait(epoch, gen, rec);
    const fromStorage = () => {
      const own = r._record();
      if (fits(own)) return own;
      const rec = r._store?.load();
      return fits(rec) ? rec : null;
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
      const onRec = (rec) => { if (rec === null || fits(rec)) done(rec); };
      this.waiters.add(onRec);
      const poll = setInterval(() => { const rec = fromStorage(); if (rec || r._epoch !== epoch) done(rec); }, 25);
      const timer = setTimeout(() => done(null), ms);
    });
  }

  /**
   * Runs `refresh(newer)` (which returns a TokenSet) under the cross-tab lock, unless
   * another tab already produced a newer generation of this session, whose tokens are
   * returned instead; `newer` says this tab adopted one meanwhile. The result is stored and
   * announced before the lock is released — unless the session's epoch changed meanwhile
   * (logout, login) or `signal` aborted: then it is dropped unpublished.
   */
  async exclusive(refresh, signal) {
    const r = this.r;
    const epoch = r._epoch;
    const startGen = r._gen;
    // Checked again after every wait: a refresh whose session ended, was replaced or whose
    // refresher was disposed (`signal` aborts for each) never reaches `refresh()`, as the
    // tokens current by then are another session's (a disposed refresher's slot may
    // already hold a new refresher's).
    const check = () => { if (r._disposed || r._epoch !== epoch || signal.aborted) throw r._superseded(); };
    let timer;
    const run = async () => {
      clearTimeout(timer);
      check();
      // A rotated refresh token another tab kept from an unusable answer (stored under this
      // lock, in this tab's generation, and broadcast): taken before this tab spends its own
      // (engine's rule).
      const num = (v) => (typeof v === 'number' ? v : NaN);
      const mine = r._refreshToken() ?? undefined;
      const found = [r._store?.load(), this.heard].find((rec) => rec && typeof rec === 'object' && r._rule(9, r._facts(rec, mine), num(rec.epoch), num(rec.gen)));
      const took = !!found && r._takeRefreshToken(found.refreshToken);
      const { gen: latest, failed } = await this.markers();
      if (r._rule(6, latest, startGen)) {
        // Another tab refreshed since this one decided to: take its result.
        const rec = await this.awaitRecord(epoch, Math.max(latest, r._gen), this.lockWaitMs);
        if (rec) return { ...rec, adopted: true };
      }
      check();
      // Another tab's refresh from this generation failed and its retry point is ahead: its
      // failure is this tab's too (the engine backs off to that point), not a second call.
      const held = failed.find((f) => r._failedElsewhere(f.gen, f.until, startGen));
      if (held) throw r._heldBack(held);
      let tokens;
      try {
        tokens = await refresh(r._gen > startGen || took);
      } catch (err) {
        // Published before the lock is let go when the engine's rule says so: a transient
        // failure, or a call the engine timed out (its abort reason), with its retry point.
        const f = signal.aborted ? signal.reason : err;
        const timedOut = signal.aborted && f?.code === 'timeout';
        // A rotated refresh token the unusable answer carried (the engine keeps it): stored
        // before the lock is let go, for the next holder to take instead of the spent one,
        // when the engine's rule says so (stores_rotated).
        const bits = (f?.rejected === true) | signal.aborted * 2 | timedOut * 4 | (r._disposed || r._epoch !== epoch) * 8;
        const kept = r._rotated(f);
        const rotated = typeof kept === 'string' && kept !== '';
        const rec = r._rule(10, NaN, NaN, bits | rotated * 16) && r._record();
        if (rec) {
          r._persist({ ...rec, refreshToken: kept }, true);
          this.announce({ ...rec, refreshToken: kept });
        }
        const until = r._failureMarker(timedOut ? undefined : f?.retryAfterMs ?? NaN, bits);
        if (until === until) await this.hold(`${this.lock}${FAILED}${startGen}:${until}:${f.status ?? 0}:${f.code}`, 'releaseFailed');
        throw err;
      }
      check();
      const gen = r._nextEpoch(Math.max(latest, r._gen));
      tokens.gen = gen;
      tokens.receivedAt = Date.now();
      const rec = {
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken ?? r._refreshToken() ?? undefined,
        expiresAt: tokens.expiresAt,
        expiresIn: tokens.expiresIn,
        receivedAt: tokens.receivedAt,
        epoch,
        gen,
      };
      r._persist(rec);
      this.announce(rec);
      await this.mark(gen);
      return tokens;
    };
    const ctl = new AbortController();
    const drop = () => ctl.abort();
    timer = setTimeout(drop, this.lockWaitMs);
    // A dropped refresh (and so dispose()) leaves no lock request queued.
    signal.addEventListener('abort', drop);
    try {
      return await navigator.locks.request(this.lock, { signal: ctl.signal }, run);
    } catch (err) {
      if (err && err.name === 'AbortError' && ctl.signal.aborted) {
        check();
        // The holder did not let go in time (a frozen tab): take the lock from it.
        return navigator.locks.request(this.lock, { steal: true }, run);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', drop);
    }
  }

  close() {
    this.releaseMarker?.();
    this.releaseFailed?.();
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
  const tabs = new TabSync(r, r._opts.refreshTimeoutMs + 5000);
  const inner = r._transport;
  const viaTabs = (ctx, signal) => {
    // The lock wait is bounded here (lockWaitMs, then a steal), so refreshTimeoutMs counts
    // from when the call itself begins.
    r._flightWaits(true);
    return tabs.exclusive((newer) => {
      // The tokens this refresh started with (ctx), unless this tab adopted a newer
      // generation of the same session while it waited: another tab rotated them.
      // (ctx is the one request.js knows this refresh's traffic by: kept up to date.)
      if (newer) {
        ctx.accessToken = r._access;
        ctx.refreshToken = r._refreshToken();
      }
      r._flightWaits(false);
      return inner(ctx, signal);
    }, signal);
  };
  r._transport = viaTabs;
  return tabs;
}
