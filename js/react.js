'use client';
// freshtoken/react: <RefresherProvider refresher={r | promise} | options={...}>,
// useFreshtoken(), useRefresher(), useAccessToken().
//
// Safe to render on the server (SSR, React Server Components' client boundary): nothing here
// touches window, storage or the wasm while rendering. On the server (whatever the provider
// was given, even a ready Refresher: useSyncExternalStore's server snapshot), during
// hydration and until the refresher exists, the hooks report the loading state; the provider
// creates or awaits the refresher only in an effect, i.e. in the browser after mount.
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { createRefresher } from './index.js';
import { makeError } from './errors.js';
import { EVENTS } from './events.js';
import { lastError, noteError, snapshot, waitFor } from './binding.js';

const Context = createContext(null);
const NONE = { refresher: null, error: null };

const noProvider = () => makeError('FreshtokenError', 'no-provider',
  'useFreshtoken()/useRefresher()/useAccessToken() need a <RefresherProvider refresher={...}> or <RefresherProvider options={...}> above them');

/**
 * Makes a refresher available to the components below. Give one of:
 * - `refresher`: a Refresher (ready at once, as before), a Promise of one (loading until it
 *   settles; a rejection becomes the hooks' `error`), or null (loading);
 * - `options`: createRefresher options; the provider creates the refresher after mount (in the
 *   browser only) and disposes it on unmount. Read once at mount: change the provider's `key`
 *   to start over with other options.
 */
export function RefresherProvider(props) {
  // Own properties only: a polluted Object.prototype.refresher is not the app's refresher.
  const refresher = Object.hasOwn(props, 'refresher') ? props.refresher : undefined;
  const options = Object.hasOwn(props, 'options') ? props.options : undefined;
  const { children } = props;
  const given = refresher && typeof refresher.then !== 'function' ? refresher : null;
  const [made, setMade] = useState(NONE);
  const latest = useRef(options);
  latest.current = options;
  const creating = options !== undefined && refresher === undefined;
  const pending = given ? null : refresher ?? null;

  useEffect(() => {
    if (!pending && !creating) return undefined;
    let live = true;
    let own = null;
    setMade((m) => (m.refresher || m.error ? NONE : m));
    const p = pending ?? createRefresher(latest.current).then((r) => { own = r; return r; });
    p.then(
      (r) => { if (live) setMade({ refresher: r, error: null }); else if (own) own.dispose(); },
      (error) => { if (live) setMade({ refresher: null, error }); },
    );
    return () => { live = false; own?.dispose(); };
  }, [pending, creating]);

  const value = useMemo(() => (given ? { refresher: given, error: null } : made), [given, made]);
  if (refresher === undefined && !creating) {
    throw makeError('OptionsError', 'bad-option', 'RefresherProvider needs a `refresher` (a Refresher or a Promise of one) or `options` for createRefresher');
  }
  return createElement(Context.Provider, { value }, children);
}

function useProvided() {
  const ctx = useContext(Context);
  if (!ctx) throw noProvider();
  return ctx;
}

const still = () => () => {};

/**
 * The refresher of the nearest RefresherProvider: null on the server and while it is being
 * created or awaited; with a ready Refresher given to the provider, that one at once (in the
 * browser; when hydrating, null first as on the server, then that one).
 */
export function useRefresher() {
  const { refresher } = useProvided();
  return useSyncExternalStore(still, () => refresher, () => null);
}

/**
 * The subscribe of useSyncExternalStore: one listener per event the refresher emits
 * (js/events.js EVENTS), added once per mount and removed on unmount (StrictMode-safe).
 */
function useEvents(refresher) {
  return useCallback((onChange) => {
    if (!refresher) return () => {};
    const offs = EVENTS.map((e) => refresher.on(e, (detail) => { noteError(refresher, e, detail); onChange(); }));
    return () => { for (const off of offs) off(); };
  }, [refresher]);
}

/** The current access token (or null: signed out, on the server, loading); re-renders when it changes. */
export function useAccessToken() {
  const { refresher } = useProvided();
  const subscribe = useEvents(refresher);
  return useSyncExternalStore(subscribe, () => refresher?.accessToken ?? null, () => null);
}

const LOADING = snapshot(null, null, null);

/**
 * What an app needs from its session, re-rendered on every refresher event:
 * `{ accessToken, state, isLoading, error, refresher, fetch, getAccessToken, refresh, logout, setTokens }`.
 * `state` is 'loading' (server, before the refresher exists), 'error' (it could not be
 * created: `error` says why) or the refresher's state. `error` is also the last transient
 * refresh failure (a RefreshError), cleared by the next refresh, new tokens or logout.
 * `fetch`, `getAccessToken` and `refresh` wait for the refresher; `logout` and `setTokens`
 * throw FreshtokenError `not-initialized` before it exists.
 */
export function useFreshtoken() {
  const { refresher, error } = useProvided();
  const ready = useRef(null);
  ready.current = refresher;
  const subscribe = useEvents(refresher);
  const last = useRef(LOADING);
  const get = () => {
    const next = snapshot(refresher, refresher ? lastError(refresher) : null, error);
    const prev = last.current;
    if (prev.accessToken !== next.accessToken || prev.state !== next.state || prev.error !== next.error || prev.refresher !== next.refresher) last.current = next;
    return last.current;
  };
  const data = useSyncExternalStore(subscribe, get, () => LOADING);
  const actions = useMemo(() => waitFor(() => ready.current), []);
  // A resolved refresher or a failure wakes the actions waiting for it.
  useEffect(() => { actions.settle(refresher, error); }, [actions, refresher, error]);
  return useMemo(() => ({ ...data, ...actions.api }), [data, actions]);
}
