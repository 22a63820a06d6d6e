// freshtoken: keeps a web app's access token fresh.
import init from './wasm.js';
import { makeError } from './errors.js';
import { normalizeOptions } from './options.js';
import { Refresher, crossTabOn } from './refresher.js';
import { registry } from './registry.js';

export { init as default, init };
export { decodeToken } from './decode.js';
export { Refresher };
export { FreshtokenError, OptionsError, TokenDecodeError, RefreshError, SessionError } from './errors.js';

/**
 * Creates a refresher (loading the wasm first if needed).
 * @param {object} options see RefresherOptions in the README
 * @returns {Promise<Refresher>}
 */
export async function createRefresher(options) {
  const opts = normalizeOptions(options);
  // DPoP's key and signature code is a separate chunk, loaded only for `dpop: true`.
  const dpop = opts.dpop ? import('./dpop.js').catch((err) => {
    throw makeError('FreshtokenError', 'dpop-load-failed', `dpop: ${err?.message ?? err}`);
  }) : null;
  dpop?.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
  await init();
  // Cross-tab code is a separate chunk too: refreshers that do not join the other tabs (the
  // engine's rule, once the wasm is there) never download it. Where import() is disallowed
  // (service workers), `import 'freshtoken/tabs'` registers it instead.
  const joinTabs = !crossTabOn(opts) ? null : registry.joinTabs
    ?? import('./tabs.js').then((m) => m.joinTabs, (err) => {
      throw makeError('FreshtokenError', 'tabs-load-failed', `crossTab: ${err?.message ?? err}; where import() is disallowed, import 'freshtoken/tabs'`);
    });
  [opts.joinTabs, opts.dpopModule] = await Promise.all([joinTabs, dpop]);
  return new Refresher(opts);
}
