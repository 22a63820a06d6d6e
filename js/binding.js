// What the React and Vue bindings share: the session snapshot a hook/composable reports,
// the last refresh error per refresher, and actions that wait for a refresher still loading.
// Nothing here touches a browser global.
import { makeError } from './errors.js';

const errors = new WeakMap();

/**
 * Notes what an event says about the last transient refresh failure of `refresher`: a
 * `refresh-error` sets it (as a RefreshError, so `instanceof` works), a refresh, new tokens
 * (`schedule`) or a logout clear it. Every listener of every hook calls this; it is idempotent.
 */
export function noteError(refresher, event, detail) {
  if (event === 'refresh-error') {
    const e = detail?.error;
    if (errors.get(refresher)?.source !== e) {
      errors.set(refresher, { source: e, error: e instanceof Error ? e : makeError(e?.name ?? 'RefreshError', e?.code ?? 'failed', e?.message ?? 'the refresh failed', e?.status === undefined ? undefined : { status: e.status }) });
    }
  } else if (event === 'refresh' || event === 'schedule' || event === 'logout') {
    errors.delete(refresher);
  }
}

/** The last transient refresh failure noted for `refresher`, or null. */
export const lastError = (refresher) => errors.get(refresher)?.error ?? null;

/**
 * The session as a hook reports it. `state` is 'loading' before the refresher exists, 'error'
 * when it could not be created, else the refresher's own state.
 */
export function snapshot(refresher, refreshError, createError) {
  return {
    accessToken: refresher ? refresher.accessToken : null,
    state: refresher ? refresher.state : createError ? 'error' : 'loading',
    isLoading: !refresher && !createError,
    error: refresher ? refreshError : createError ?? null,
    refresher: refresher ?? null,
  };
}

/**
 * The actions of a hook: `fetch`, `getAccessToken` and `refresh` wait for the refresher
 * (`current()`), or reject with the error that kept it from being created; `logout` and
 * `setTokens` act at once and throw FreshtokenError `not-initialized` before it exists.
 * `settle(refresher, error)` is called whenever either changes.
 */
export function waitFor(current) {
  let failed = null;
  let waiting = null;
  let wake = null;
  const ready = () => {
    const r = current();
    if (r) return Promise.resolve(r);
    if (failed) return Promise.reject(failed);
    waiting ??= new Promise((resolve, reject) => { wake = { resolve, reject }; });
    return waiting;
  };
  const now = (what) => {
    const r = current();
    if (!r) throw makeError('FreshtokenError', 'not-initialized', `${what}: the refresher is not ready yet (on the server, or still loading)`);
    return r;
  };
  return {
    settle(refresher, error) {
      failed = refresher ? null : error ?? null;
      if (wake && (refresher || error)) {
        if (refresher) wake.resolve(refresher); else wake.reject(error);
        wake = waiting = null;
      }
    },
    api: {
      fetch: (input, init) => ready().then((r) => r.fetch(input, init)),
      getAccessToken: () => ready().then((r) => r.getAccessToken()),
      refresh: () => ready().then((r) => r.refresh()),
      logout: () => now('logout()').logout(),
      setTokens: (tokens) => now('setTokens()').setTokens(tokens),
    },
  };
}
