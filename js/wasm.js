// Loads the wasm module once. Every entry point goes through `init()`; using the API
// before it resolved gives a clear error instead of a crash inside the glue.
import initWasm, * as glue from '../pkg/freshtoken.js';
import { makeError } from './errors.js';

let ready = null;
let loaded = false;
let exports = null;

/**
 * Loads and instantiates the wasm module. Idempotent: every call returns the same promise.
 * @param {unknown} [wasm] where to load it from (URL, Response, bytes or a WebAssembly.Module);
 *   by default the `freshtoken_bg.wasm` shipped beside the glue.
 * @returns {Promise<void>}
 */
export default function init(wasm) {
  if (!ready) {
    ready = initWasm(wasm === undefined ? undefined : { module_or_path: wasm }).then(
      (instance) => { exports = instance; loaded = true; },
      (err) => { ready = null; throw err; },
    );
  }
  return ready;
}

/** The wasm exports, or a clear error when `init()` has not resolved yet. */
export function bindings() {
  if (!loaded) {
    throw makeError('FreshtokenError', 'not-initialized',
      'freshtoken is not initialized yet: await init() (or createRefresher()) first');
  }
  return glue;
}

/** The wasm instance's memory (after `init()`): `Core.figures` leaves its figures there. */
export const memory = () => exports.memory;
