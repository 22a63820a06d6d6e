// freshtoken: keeps a web app's access token fresh.
import init from './wasm.js';
import { normalizeOptions } from './options.js';
import { Refresher } from './refresher.js';

export { init as default, init };
export { decodeToken } from './decode.js';
export { Refresher };

/**
 * Creates a refresher (loading the wasm first if needed).
 * @param {object} options see RefresherOptions in the README
 * @returns {Promise<Refresher>}
 */
export async function createRefresher(options) {
  const opts = normalizeOptions(options);
  await init();
  return new Refresher(opts);
}
