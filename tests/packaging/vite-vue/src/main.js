// A Vite + Vue 3 app using freshtoken as a user would: login, createRefresher, the fetch
// interceptor for the app's own fetch calls, and the plugin + composable rendering the token.
import { createApp, defineComponent, h } from 'vue';
import { createRefresher } from 'freshtoken';
import { freshtokenPlugin, useAccessToken } from 'freshtoken/vue';

const Token = defineComponent({
  setup() {
    const token = useAccessToken();
    return () => h('p', { id: 'token' }, token.value ?? 'signed out');
  },
});

try {
  const login = await (await fetch('/auth/login', { method: 'POST' })).json();
  const refresher = await createRefresher({ tokens: login, endpoint: { url: '/auth/refresh' } });
  refresher.installFetchInterceptor();
  const app = createApp(Token);
  app.use(freshtokenPlugin, { refresher });
  app.mount('#app');
  window.refresher = refresher;
  window.unmount = () => app.unmount();
  window.callApi = async (body) => {
    const res = await fetch('/api/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  window.callOther = async (url) => (await fetch(url)).status;
  window.ready = true;
} catch (e) {
  window.initError = String(e && e.stack || e);
}
