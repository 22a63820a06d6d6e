// A React app in the Vite 7 dev server: <RefresherProvider options> creates the refresher after
// mount; useFreshtoken() shows the loading state, then the token, and its fetch calls the API.
import { StrictMode, createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { RefresherProvider, useFreshtoken } from 'freshtoken/react';

function Token() {
  const session = useFreshtoken();
  window.session = session;
  if (session.error && !session.refresher) window.initError = `${session.error.name} ${session.error.code}: ${session.error.message}`;
  else if (session.refresher) { window.refresher = session.refresher; window.ready = true; }
  return h('p', { id: 'token', 'data-state': session.state }, session.isLoading ? 'loading' : session.accessToken ?? 'signed out');
}

try {
  const login = await (await fetch('/auth/login', { method: 'POST' })).json();
  window.callApi = async (body) => {
    const res = await window.session.fetch('/api/echo', { method: 'POST', body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  createRoot(document.getElementById('root')).render(
    h(StrictMode, null, h(RefresherProvider, { options: { tokens: login, endpoint: { url: '/auth/refresh' } } }, h(Token))),
  );
} catch (e) {
  window.initError = String(e && e.stack || e);
}
