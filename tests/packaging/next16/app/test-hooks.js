'use client';
// Test hooks only (not part of the recipe): logs in once the refresher exists, and exposes the
// session to the test through window.
import { useEffect } from 'react';
import { useFreshtoken } from 'freshtoken/react';

export default function TestHooks() {
  const session = useFreshtoken();
  const { refresher, state, accessToken, error, setTokens } = session;

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
  return null;
}
