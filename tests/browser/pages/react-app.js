// The page of tests/browser/react.test.mjs: freshtoken/react bundled by esbuild with React's
// development build (so <StrictMode> double-invokes effects), driven by the test through the
// functions on `window`:
//   makeRefresher(base, tokens, name?)  a refresher in window.refresher (or window[name])
//   mount({ ids, strict, provider, refresher, component })  renders components under a provider
//   unmount()                           root.unmount()
//   renders                             [{ id, token }] one entry per render of a hook component
//   effects                             { setups, cleanups } of a plain effect in each component
//   listenerCount(r?)                   { event: number of listeners } on the refresher
//   shown()                             [{ id, text }] what each mounted component shows
//   caught                              [{ id, name, code, message }] errors the boundaries caught
import { Component, StrictMode, createElement as h, useEffect } from 'react';
import { createRoot, hydrateRoot } from 'react-dom/client';
import { createRefresher, FreshtokenError } from '../../../js/index.js';
import { EVENTS } from '../../../js/events.js';
import { Session } from './react-session.js';
import { describeError } from './describe-error.js';
import { RefresherProvider, useAccessToken, useRefresher } from '../../../js/react.js';


window.makeRefresher = async (base, tokens, name = 'refresher') => {
  window[name] = await createRefresher({
    tokens,
    endpoint: { url: `${base}/auth/refresh` },
    origins: [base],
    storage: 'memory',
  });
  return window[name].accessToken;
};

window.listenerCount = (r = window.refresher) =>
  Object.fromEntries(EVENTS.map((e) => [e, r._events.listeners.get(e)?.size ?? 0]));

window.shown = () => [...document.querySelectorAll('[data-token]')]
  .map((el) => ({ id: el.dataset.id, text: el.textContent }));

window.renders = [];
window.effects = { setups: 0, cleanups: 0 };
window.caught = [];
window.gotRefresher = [];

function useMountCounter() {
  useEffect(() => {
    window.effects.setups += 1;
    return () => { window.effects.cleanups += 1; };
  }, []);
}

/** Shows the hook's token; records each render. */
function Token({ id }) {
  const token = useAccessToken();
  window.renders.push({ id, token });
  useMountCounter();
  return h('p', { 'data-token': '', 'data-id': id }, token === null ? 'null' : token);
}

/** Calls useRefresher() only; records what it got. */
function WhoRefreshes({ id }) {
  const r = useRefresher();
  window.gotRefresher.push({ id, same: r === window.refresher });
  useMountCounter();
  return h('p', { 'data-token': '', 'data-id': id }, 'has refresher');
}

class Boundary extends Component {
  constructor(props) { super(props); this.state = { error: null }; }
  static getDerivedStateFromError(error) { return { error }; }
  componentDidCatch(error) {
    window.caught.push({ id: this.props.id, name: error && error.name, code: error && error.code, message: error && error.message });
  }
  render() {
    if (this.state.error) return h('p', { 'data-error': '', 'data-id': this.props.id }, `error: ${this.state.error.code}`);
    return this.props.children;
  }
}

let root = null;

/**
 * Renders one component per id (each in its own error boundary), under a RefresherProvider
 * for `window[refresher]` unless `provider` is false, in <StrictMode> unless `strict` is false.
 * Calling it again re-renders the same root: ids left out unmount, a new refresher is provided.
 */
window.mount = ({ ids = ['a'], strict = true, provider = true, refresher = 'refresher', component = 'Token' } = {}) => {
  root ??= createRoot(document.getElementById('root'));
  const C = component === 'Token' ? Token : WhoRefreshes;
  const items = ids.map((id) => h(Boundary, { key: id, id }, h(C, { id })));
  const tree = provider ? h(RefresherProvider, { refresher: window[refresher] }, items) : h('div', null, items);
  root.render(strict ? h(StrictMode, null, tree) : tree);
};

window.unmount = () => { root?.unmount(); root = null; };

window.ready = true;

// --- the new forms: useFreshtoken() under a provider given options, a promise, or a ready refresher ---
window.sessionRenders = [];
let sessionRoot = null;
let settle = null;

/**
 * Renders <Session> under <RefresherProvider> in #session-root:
 *   form 'options'      options={...} (the provider creates the refresher after mount)
 *   form 'bad-options'  options with refreshAt: 5 (creation fails: OptionsError)
 *   form 'promise'      refresher={promise}, settled by window.settlePromise(ok)
 *   form 'refresher'    refresher={window.refresher}
 * `hydrate: html` hydrates server-rendered markup instead of rendering from scratch.
 */
window.mountSession = ({ form, base, tokens, strict = true, hydrate = null }) => {
  const options = { tokens, endpoint: { url: `${base}/auth/refresh` }, origins: [base], storage: 'memory' };
  let props;
  if (form === 'options') props = { options };
  else if (form === 'bad-options') props = { options: { ...options, refreshAt: 5 } };
  else if (form === 'promise') {
    props = { refresher: new Promise((resolve, reject) => { settle = { resolve, reject }; }) };
  } else props = { refresher: window.refresher };
  const tree = h(RefresherProvider, props, h(Session, { id: 's' }));
  const app = strict ? h(StrictMode, null, tree) : tree;
  const el = document.getElementById('session-root') ?? document.body.appendChild(Object.assign(document.createElement('div'), { id: 'session-root' }));
  if (hydrate !== null) {
    el.innerHTML = hydrate;
    window.recoverable = [];
    sessionRoot = hydrateRoot(el, app, { onRecoverableError: (e) => window.recoverable.push(String(e && e.message)) });
  } else {
    sessionRoot = createRoot(el);
    sessionRoot.render(app);
  }
};
/** Resolves the 'promise' form with a new refresher for `tokens`, or rejects it with a FreshtokenError. */
window.settlePromise = async (ok, base, tokens) => {
  if (!ok) return settle.reject(new FreshtokenError('wasm-load-failed', 'no wasm here (test)'));
  await window.makeRefresher(base, tokens);
  settle.resolve(window.refresher);
};
window.unmountSession = () => { sessionRoot?.unmount(); sessionRoot = null; };
window.sessionShown = () => {
  const el = document.querySelector('[data-session]');
  return el && { state: el.dataset.state, text: el.textContent };
};
window.describeError = describeError;
