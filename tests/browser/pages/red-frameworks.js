// The page of tests/browser/red-frameworks.test.mjs: the React provider and the Vue plugin
// given `options`, while Object.prototype carries a look-alike `refresher` (a prototype
// pollution gadget), bundled by esbuild.
import { createElement as h, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { createApp, defineComponent, h as vh } from 'vue';
import * as R from '../../../js/react.js';
import * as V from '../../../js/vue.js';

window.seen = { react: [], vue: [] };
window.run = async (base, tokens, login) => {
  const fake = { on: () => () => {}, accessToken: null, state: 'fresh', setTokens: (t) => { window.seen.fakeGot = t; }, then: undefined };
  Object.prototype.refresher = fake;
  try {
    const options = { endpoint: { url: `${base}/auth/refresh` }, origins: [base] };
    // React: a login form that hands the new session to the refresher the hook gives.
    function Login() {
      const s = R.useFreshtoken();
      useEffect(() => {
        window.seen.react.push(s.refresher === fake ? 'fake' : s.refresher ? 'real' : 'none');
        if (s.refresher && !window.seen.reactLoggedIn) { window.seen.reactLoggedIn = true; s.setTokens(login); }
      });
      return h('p', null, s.state);
    }
    createRoot(document.getElementById('react')).render(h(R.RefresherProvider, { options }, h(Login)));
    // Vue: the same with the plugin.
    const VueLogin = defineComponent({
      setup() {
        const s = V.useFreshtoken();
        return () => {
          const r = s.refresher.value;
          window.seen.vue.push(r === fake ? 'fake' : r ? 'real' : 'none');
          if (r && !window.seen.vueLoggedIn) { window.seen.vueLoggedIn = true; queueMicrotask(() => s.setTokens(login)); }
          return vh('p', null, s.state.value);
        };
      },
    });
    const app = createApp(VueLogin);
    app.config.warnHandler = () => {};
    app.use(V.freshtokenPlugin, { options });
    app.mount('#vue');
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    delete Object.prototype.refresher;
  }
  return window.seen;
};
