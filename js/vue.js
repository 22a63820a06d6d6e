// freshtoken/vue: app.use(freshtokenPlugin, { refresher }), useRefresher(), useAccessToken().
import { getCurrentScope, inject, onScopeDispose, shallowRef } from 'vue';
import { makeError } from './errors.js';

const KEY = Symbol('freshtoken');
const CHANGES = ['refresh', 'schedule', 'session-expired', 'logout'];

/** Vue plugin: `app.use(freshtokenPlugin, { refresher })`. */
export const freshtokenPlugin = {
  install(app, options) {
    if (!options || !options.refresher) {
      throw makeError('OptionsError', 'bad-option', 'freshtokenPlugin needs { refresher }');
    }
    app.provide(KEY, options.refresher);
  },
};

/** The refresher given to the plugin. */
export function useRefresher() {
  const refresher = inject(KEY, null);
  if (!refresher) throw makeError('FreshtokenError', 'no-provider', 'useRefresher() needs app.use(freshtokenPlugin, { refresher })');
  return refresher;
}

/** A ref holding the current access token (or null), updated on every change. */
export function useAccessToken() {
  const refresher = useRefresher();
  const token = shallowRef(refresher.accessToken);
  const offs = CHANGES.map((e) => refresher.on(e, () => { token.value = refresher.accessToken; }));
  const stop = () => { for (const off of offs) off(); };
  if (getCurrentScope()) onScopeDispose(stop);
  return token;
}
