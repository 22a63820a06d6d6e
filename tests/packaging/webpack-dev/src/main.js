// A React app in the webpack dev server with the promise form: the app logs in, starts
// createRefresher() and hands the promise to <RefresherProvider refresher={...}>, which shows
// the loading state until it resolves.
import { StrictMode, createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { createRefresher } from 'freshtoken';
import { RefresherProvider, useFreshtoken } from 'freshtoken/react';

function Token() {
  const session = useFreshtoken();
  window.session = session;
  if (session.error && !session.refresher) window.initError = `${session.error.name} ${session.error.code}: ${session.error.message}`;
  else if (session.refresher) { window.refresher = session.refresher; window.ready = true; }
  return h('p', { id: 'token', 'data-state': session.state }, session.isLoading ? 'loading' : session.accessToken ?? 'signed out');
}

async function start() {
  const login = await (await fetch('/auth/login', { method: 'POST' })).json();
  const refresher = createRefresher({ tokens: login, endpoint: { url: '/auth/refresh' } });
  window.callApi = async (body) => {
    const res = await window.session.fetch('/api/echo', { method: 'POST', body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  createRoot(document.getElementById('root')).render(h(StrictMode, null, h(RefresherProvider, { refresher }, h(Token))));
}
start().catch((e) => { window.initError = String(e && e.stack || e); });
