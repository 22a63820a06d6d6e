// freshtoken: keeps a web app's access token fresh.
import init from './wasm.js';
import { normalizeOptions } from './options.js';
import { Refresher } from './refresher.js';

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
  // Cross-tab code is a separate chunk: apps without `crossTab` never download it.
  const [tabs] = await Promise.all([opts.crossTab ? import('./tabs.js') : null, init()]);
  if (tabs) opts.joinTabs = tabs.joinTabs;
  return new Refresher(opts);
}
