// The page of tests/browser/adapters.test.mjs: freshtoken's React and Vue bindings, bundled
// by esbuild in development mode (so React's StrictMode double-mounts effects), driven by
// the test through the functions on `window`.
import { Component, StrictMode, createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { createApp, defineComponent, h as vh } from 'vue';
import { createRefresher } from '../../../js/index.js';
import * as R from '../../../js/react.js';
import * as V from '../../../js/vue.js';
import { EVENTS } from '../../../js/events.js';

const describe = (e) => ({ name: e && e.name, code: e && e.code, message: e && e.message });

window.makeRefresher = async (base, tokens) => {
  window.r = await createRefresher({ tokens, endpoint: { url: `${base}/auth/refresh` }, origins: [base] });
};
/** Listeners the refresher holds, all events together. */
window.listeners = () => EVENTS.reduce((n, e) => n + (window.r._events.listeners.get(e)?.size ?? 0), 0);
/** The token text each mounted component shows, in order. */
window.shown = () => [...document.querySelectorAll('.token')].map((p) => p.textContent);

// --- React ---------------------------------------------------------------------------
window.reactRenders = 0;
function Token() {
  const token = R.useAccessToken();
  window.reactRenders += 1;
  return h('p', { className: 'token' }, String(token));
}
class Boundary extends Component {
  constructor(props) { super(props); this.state = { error: null }; }
  static getDerivedStateFromError(error) { return { error }; }
  componentDidCatch(error) { window.caught = describe(error); }
  render() { return this.state.error ? h('p', null, 'error') : this.props.children; }
}
let root = null;
/** Renders `n` Token components under a provider (or none), in StrictMode or not. */
window.reactRender = ({ n = 1, strict = true, provider = true } = {}) => {
  root ??= createRoot(document.getElementById('react'));
  const tokens = Array.from({ length: n }, (_, i) => h(Token, { key: i }));
  const tree = provider ? h(R.RefresherProvider, { refresher: window.r }, tokens) : h(Boundary, null, tokens);
  root.render(strict ? h(StrictMode, null, tree) : tree);
};
window.reactUnmount = () => { root?.unmount(); root = null; };

// --- Vue -----------------------------------------------------------------------------
const VueToken = defineComponent({
  setup() {
    const token = V.useAccessToken();
    return () => vh('p', { class: 'token' }, String(token.value));
  },
});
let app = null;
/** Mounts a Vue app with `n` VueToken components, with the plugin (or without). */
window.vueMount = ({ n = 1, plugin = true } = {}) => {
  window.caught = null;
  app = createApp(defineComponent({ setup: () => () => Array.from({ length: n }, (_, i) => vh(VueToken, { key: i })) }));
  app.config.errorHandler = (e) => { window.caught = describe(e); };
  app.config.warnHandler = () => {};
  if (plugin) app.use(V.freshtokenPlugin, { refresher: window.r });
  app.mount('#vue');
};
window.vueUnmount = () => { app?.unmount(); app = null; };
window.vuePluginWithout = () => {
  try { createApp({}).use(V.freshtokenPlugin); return null; } catch (e) { return describe(e); }
};

window.ready = true;
