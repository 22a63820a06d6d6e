// freshtoken/vue: app.use(freshtokenPlugin, { refresher } | { options }), useFreshtoken(),
// useRefresher(), useAccessToken().
//
// Safe to render on the server (SSR, Nuxt): nothing here touches window, storage or the wasm
// while rendering. While @vue/server-renderer renders, the composables report the loading
// state whatever the plugin was given (even a ready Refresher): a token never lands in server
// HTML. While hydrating they report it too, then the real state once mounted, so hydration
// sees what the server rendered. The plugin creates or awaits the refresher only once the app
// is mounted (app.mount runs in the browser only); until it exists, loading.
import { getCurrentInstance, getCurrentScope, inject, onMounted, onScopeDispose, shallowRef, ssrContextKey, watch } from 'vue';
import { createRefresher } from './index.js';
import { makeError } from './errors.js';
import { EVENTS } from './events.js';
import { lastError, noteError, snapshot, waitFor } from './binding.js';

const KEY = Symbol('freshtoken');

/**
 * Vue plugin. `app.use(freshtokenPlugin, { refresher })` with a Refresher (ready at once, as
 * before) or a Promise of one (awaited once the app is mounted), or
 * `app.use(freshtokenPlugin, { options })` with createRefresher options: the refresher is
 * created once the app is mounted (in the browser) and disposed by app.unmount().
 */
export const freshtokenPlugin = {
  install(app, given) {
    // Own properties only: a polluted Object.prototype.refresher is not the app's refresher.
    const refresher = given != null && Object.hasOwn(given, 'refresher') ? given.refresher : undefined;
    const options = given != null && Object.hasOwn(given, 'options') ? given.options : undefined;
    if (!refresher && options === undefined) {
      throw makeError('OptionsError', 'bad-option', 'freshtokenPlugin needs { refresher } (a Refresher or a Promise of one) or { options } for createRefresher');
    }
    const ready = typeof refresher?.then === 'function' ? null : refresher ?? null;
    const current = shallowRef(ready);
    const failed = shallowRef(null);
    const actions = waitFor(() => current.value);
    app.provide(KEY, { current, failed, actions });
    if (ready) return;

    let live = true;
    let own = null;
    const { mount, unmount } = app;
    app.mount = function mountThenStart(...args) {
      const vm = mount.apply(this, args);
      const p = refresher ?? createRefresher(options).then((r) => { own = r; return r; });
      p.then(
        (r) => { if (!live) { own?.dispose(); return; } current.value = r; actions.settle(r, null); },
        (error) => { if (live) { failed.value = error; actions.settle(null, error); } },
      );
      return vm;
    };
    app.unmount = function unmountThenDispose(...args) {
      const out = unmount.apply(this, args);
      live = false;
      own?.dispose();
      return out;
    };
  },
};

function provided() {
  const handle = inject(KEY, null);
  if (!handle) {
    throw makeError('FreshtokenError', 'no-provider',
      'useFreshtoken()/useRefresher()/useAccessToken() need app.use(freshtokenPlugin, { refresher }) or app.use(freshtokenPlugin, { options })');
  }
  return handle;
}

/** True while @vue/server-renderer renders: it provides its SSR context to the app. */
const onServer = () => inject(ssrContextKey, null) !== null;

/**
 * Calls `update(refresher)` now and on every event of the plugin's refresher (one listener per
 * event of js/events.js EVENTS), following it when it arrives; all removed when the calling
 * component (or effect scope) is disposed. On the server: never (the caller's refs stay
 * loading, no listener). While hydrating (Vue has given the component the server's element
 * before its setup): from onMounted, so the first render matches the server's.
 */
function follow(handle, update) {
  if (onServer()) return;
  let offs = [];
  let stopWatch = null;
  const bind = (r) => {
    for (const off of offs) off();
    offs = r ? EVENTS.map((e) => r.on(e, (detail) => { noteError(r, e, detail); update(r); })) : [];
    update(r);
  };
  const start = () => {
    bind(handle.current.value);
    if (!handle.current.value) stopWatch = watch([handle.current, handle.failed], () => bind(handle.current.value));
  };
  if (getCurrentInstance()?.vnode.el) onMounted(start); else start();
  if (getCurrentScope()) {
    onScopeDispose(() => {
      stopWatch?.();
      for (const off of offs) off();
      offs = [];
    });
  }
}

/**
 * The plugin's refresher: null on the server and while it is being created or awaited; with a
 * ready Refresher given to the plugin, that one at once (in the browser). Not reactive: see
 * useFreshtoken().
 */
export function useRefresher() {
  const handle = provided();
  return onServer() ? null : handle.current.value;
}

/**
 * A ref holding the current access token (or null: signed out, on the server, loading),
 * updated on every refresher event. Its listeners are removed when the calling component (or
 * effect scope) is disposed.
 */
export function useAccessToken() {
  const handle = provided();
  const token = shallowRef(null);
  follow(handle, (r) => { token.value = r ? r.accessToken : null; });
  return token;
}

/**
 * Refs of what an app needs from its session, updated on every refresher event:
 * `{ accessToken, state, isLoading, error, refresher }`, plus `fetch`, `getAccessToken`,
 * `refresh`, `logout`, `setTokens`. `state` is 'loading' (server, before the refresher
 * exists), 'error' (it could not be created: `error` says why) or the refresher's state.
 * `error` is also the last transient refresh failure (a RefreshError), cleared by the next
 * refresh, new tokens or logout. `fetch`, `getAccessToken` and `refresh` wait for the
 * refresher; `logout` and `setTokens` throw FreshtokenError `not-initialized` before it exists.
 */
export function useFreshtoken() {
  const handle = provided();
  const refs = {
    accessToken: shallowRef(null),
    state: shallowRef('loading'),
    isLoading: shallowRef(true),
    error: shallowRef(null),
    refresher: shallowRef(null),
  };
  follow(handle, (r) => {
    const now = snapshot(r, r ? lastError(r) : null, handle.failed.value);
    for (const k of Object.keys(refs)) refs[k].value = now[k];
  });
  return { ...refs, ...handle.actions.api };
}
