'use client';
// A client component: the loading state on the server and until the wasm is loaded, then the
// token; it logs in once the refresher exists and calls the API through the hook's fetch.
import { useEffect } from 'react';
import { useFreshtoken } from 'freshtoken/react';

export default function Token() {
  const session = useFreshtoken();
  const { refresher, state, isLoading, accessToken, error, setTokens } = session;

  useEffect(() => {
    if (refresher && state === 'idle') {
      fetch('/auth/login', { method: 'POST' }).then((r) => r.json()).then(setTokens);
    }
  }, [refresher, state, setTokens]);

  useEffect(() => {
    window.session = session;
    window.refresher = refresher;
    if (error && !refresher) window.initError = `${error.name} ${error.code}: ${error.message}`;
    if (accessToken) window.ready = true;
    window.callApi = async (body) => {
      const res = await session.fetch('/api/echo', { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, body: await res.json() };
    };
  });

  return <p id="token" data-state={state}>{isLoading ? 'loading' : accessToken ?? 'signed out'}</p>;
}
