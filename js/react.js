// freshtoken/react: <RefresherProvider refresher={r}>, useRefresher(), useAccessToken().
import { createContext, createElement, useCallback, useContext, useSyncExternalStore } from 'react';
import { makeError } from './errors.js';

const Context = createContext(null);
const CHANGES = ['refresh', 'schedule', 'session-expired', 'logout'];

/** Makes `refresher` available to the components below. */
export function RefresherProvider({ refresher, children }) {
  return createElement(Context.Provider, { value: refresher }, children);
}

/** The refresher of the nearest RefresherProvider. */
export function useRefresher() {
  const refresher = useContext(Context);
  if (!refresher) throw makeError('FreshtokenError', 'no-provider', 'useRefresher() needs a <RefresherProvider refresher={...}> above it');
  return refresher;
}

/** The current access token (or null); re-renders when it changes. */
export function useAccessToken() {
  const refresher = useRefresher();
  // useSyncExternalStore subscribes once per mount and unsubscribes on unmount, which
  // keeps StrictMode's double mount from leaving a listener behind.
  const subscribe = useCallback((onChange) => {
    const offs = CHANGES.map((e) => refresher.on(e, onChange));
    return () => { for (const off of offs) off(); };
  }, [refresher]);
  return useSyncExternalStore(subscribe, () => refresher.accessToken, () => null);
}
