// The page of tests/browser/vue.test.mjs: freshtoken/vue bundled by esbuild with Vue's
// esm-bundler runtime build, components written as render functions, driven by the test
// through the functions on `window`:
//   makeRefresher(base, tokens)   a refresher in window.refresher
//   mountApp({ ids, plugin })     an app with one Token component per id (plugin installed or not)
//   setIds(ids)                   which Token components the mounted app shows (others unmount)
//   unmountApp()                  app.unmount()
//   listenerCount()               { event: number of listeners } on window.refresher
//   shown()                       [{ id, text }] what each mounted Token shows
//   caught                        [{ name, code, message }] errors given to app.config.errorHandler
import { createApp, createSSRApp, defineComponent, effectScope, h, ref, watch } from 'vue';
import { createRefresher, FreshtokenError } from '../../../js/index.js';
import { Session } from './vue-session.js';
import { describeError } from './describe-error.js';
import { EVENTS } from '../../../js/events.js';
import { freshtokenPlugin, useAccessToken, useRefresher } from '../../../js/vue.js';

const describe = (e) => ({ name: e && e.name, code: e && e.code, message: e && e.message });

window.makeRefresher = async (base, tokens) => {
  window.refresher = await createRefresher({
    tokens,
    endpoint: { url: `${base}/auth/refresh` },
    origins: [base],
    storage: 'memory',
  });
  return window.refresher.accessToken;
};

window.listenerCount = (r = window.refresher) =>
  Object.fromEntries(EVENTS.map((e) => [e, r._events.listeners.get(e)?.size ?? 0]));

window.shown = () => [...document.querySelectorAll('[data-token]')]
  .map((el) => ({ id: el.dataset.id, text: el.textContent }));

window.caught = [];
window.values = [];    // [{ id, token }] every value a Token's ref took (watched)
window.gotRefresher = [];

const Token = defineComponent({
  props: { id: String },
  setup(props) {
    const token = useAccessToken();
    window.gotRefresher.push({ id: props.id, same: useRefresher() === window.refresher });
    watch(token, (t) => { window.values.push({ id: props.id, token: t }); }, { immediate: true });
    return () => h('p', { 'data-token': '', 'data-id': props.id }, token.value === null ? 'null' : token.value);
  },
});

let app = null;
const ids = ref([]);

/** Mounts a fresh app on #root with one Token per id; `plugin: false` leaves freshtokenPlugin out. */
window.mountApp = ({ ids: list = ['a'], plugin = true } = {}) => {
  ids.value = list;
  app = createApp(defineComponent({
    setup: () => () => h('div', null, ids.value.map((id) => h(Token, { key: id, id }))),
  }));
  app.config.errorHandler = (e) => { window.caught.push(describe(e)); };
  if (plugin) app.use(freshtokenPlugin, { refresher: window.refresher });
  app.mount('#root');
};
window.setIds = (list) => { ids.value = list; };
window.unmountApp = () => { app?.unmount(); app = null; };

/** app.use(freshtokenPlugin, ...args) on a fresh app: the error it threw, or null. */
window.pluginError = (...args) => {
  try { createApp({}).use(freshtokenPlugin, ...args); return null; } catch (e) { return describe(e); }
};

/** useRefresher() called outside any component or app: the error it threw, or null. */
window.useRefresherOutside = () => {
  try { useRefresher(); return null; } catch (e) { return describe(e); }
};

/**
 * useAccessToken() in an effectScope of its own, inside the app's context (app.runWithContext),
 * the way a store or a composable outside a component uses it; `stopScope()` disposes it.
 */
let scope = null;
window.scopedToken = () => {
  const a = createApp({});
  a.use(freshtokenPlugin, { refresher: window.refresher });
  scope = effectScope();
  window.scoped = scope.run(() => a.runWithContext(() => useAccessToken()));
  return window.scoped.value;
};
window.stopScope = () => { scope?.stop(); scope = null; };

window.ready = true;

// --- the new forms: useFreshtoken() with the plugin given options, a promise, or a ready refresher ---
window.sessionRenders = [];
let sessionApp = null;
let settle = null;

/**
 * Mounts an app showing <Session> in #session-root, the plugin given:
 *   form 'options'      { options } (the plugin creates the refresher once the app is mounted)
 *   form 'bad-options'  options with refreshAt: 5 (creation fails: OptionsError)
 *   form 'promise'      { refresher: promise }, settled by window.settlePromise(ok)
 *   form 'refresher'    { refresher: window.refresher }
 * `hydrate: html` hydrates server-rendered markup (createSSRApp) instead.
 */
window.mountSession = ({ form, base, tokens, hydrate = null }) => {
  const options = { tokens, endpoint: { url: `${base}/auth/refresh` }, origins: [base], storage: 'memory' };
  let given;
  if (form === 'options') given = { options };
  else if (form === 'bad-options') given = { options: { ...options, refreshAt: 5 } };
  else if (form === 'promise') given = { refresher: new Promise((resolve, reject) => { settle = { resolve, reject }; }) };
  else given = { refresher: window.refresher };
  const el = document.getElementById('session-root') ?? document.body.appendChild(Object.assign(document.createElement('div'), { id: 'session-root' }));
  const root = { render: () => h(Session, { id: 's' }) };
  window.hydrationErrors = [];
  if (hydrate !== null) {
    el.innerHTML = hydrate;
    sessionApp = createSSRApp(root);
    sessionApp.config.warnHandler = (msg) => { window.hydrationErrors.push(msg); };
  } else {
    sessionApp = createApp(root);
  }
  sessionApp.use(freshtokenPlugin, given);
  sessionApp.mount(el);
};
window.settlePromise = async (ok, base, tokens) => {
  if (!ok) return settle.reject(new FreshtokenError('wasm-load-failed', 'no wasm here (test)'));
  await window.makeRefresher(base, tokens);
  settle.resolve(window.refresher);
};
window.unmountSession = () => { sessionApp?.unmount(); sessionApp = null; };
window.sessionShown = () => {
  const el = document.querySelector('[data-session]');
  return el && { state: el.dataset.state, text: el.textContent };
};
window.describeError = describeError;
