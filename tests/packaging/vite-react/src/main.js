// A Vite + React app using freshtoken as a user would: login, createRefresher, the fetch
// interceptor for the app's own fetch calls, and the React hook rendering the token.
import { StrictMode, createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { createRefresher } from 'freshtoken';
import { RefresherProvider, useAccessToken } from 'freshtoken/react';

function Token() {
  return h('p', { id: 'token' }, useAccessToken() ?? 'signed out');
}

try {
  const login = await (await fetch('/auth/login', { method: 'POST' })).json();
  const refresher = await createRefresher({ tokens: login, endpoint: { url: '/auth/refresh' } });
  refresher.installFetchInterceptor();
  const root = createRoot(document.getElementById('root'));
  root.render(h(StrictMode, null, h(RefresherProvider, { refresher }, h(Token))));
  window.refresher = refresher;
  window.unmount = () => root.unmount();
  window.callApi = async (body) => {
    const res = await fetch('/api/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  window.callOther = async (url) => (await fetch(url)).status;
  window.ready = true;
} catch (e) {
  window.initError = String(e && e.stack || e);
}
