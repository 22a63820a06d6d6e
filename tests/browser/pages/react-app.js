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
import { createRoot } from 'react-dom/client';
import { createRefresher } from '../../../js/index.js';
import { RefresherProvider, useAccessToken, useRefresher } from '../../../js/react.js';

const EVENTS = ['refresh', 'refresh-error', 'session-expired', 'logout', 'schedule'];

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
