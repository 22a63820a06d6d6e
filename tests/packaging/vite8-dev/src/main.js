// A Vue app in the Vite 8 dev server: app.use(freshtokenPlugin, { options }) creates the
// refresher once mounted; useFreshtoken() shows the loading state, then the token, and its
// fetch calls the API.
import { createApp, h } from 'vue';
import { freshtokenPlugin, useFreshtoken } from 'freshtoken/vue';

const Token = {
  setup() {
    const session = useFreshtoken();
    window.session = session;
    return () => {
      if (session.error.value && !session.refresher.value) window.initError = `${session.error.value.name} ${session.error.value.code}: ${session.error.value.message}`;
      else if (session.refresher.value) { window.refresher = session.refresher.value; window.ready = true; }
      return h('p', { id: 'token', 'data-state': session.state.value }, session.isLoading.value ? 'loading' : session.accessToken.value ?? 'signed out');
    };
  },
};

try {
  const login = await (await fetch('/auth/login', { method: 'POST' })).json();
  window.callApi = async (body) => {
    const res = await window.session.fetch('/api/echo', { method: 'POST', body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  createApp(Token).use(freshtokenPlugin, { options: { tokens: login, endpoint: { url: '/auth/refresh' } } }).mount('#root');
} catch (e) {
  window.initError = String(e && e.stack || e);
}
