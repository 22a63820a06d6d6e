// Loads the wasm module once. Every entry point goes through `init()`; using the API
// before it resolved gives a clear error instead of a crash inside the glue.
import initWasm, { decodeBytes, tokenBuffer, tokenFigures } from '../pkg/freshtoken.js';
import { makeError } from './errors.js';

// The sessions' functions (src/wasm/cores.rs), for js/refresher.js, which calls them only
// after `bindings()` said the module is loaded.
export {
  coreNew, coreFree, coreSetTokens, coreBegin, coreSucceed, coreFail, coreEnd, coreWake, coreTick, coreFigures, coreToken,
} from '../pkg/freshtoken.js';

let ready = null;
let loaded = false;
let exports = null;

// Where the wasm lies relative to this file when the package runs unbundled from disk (node,
// Vitest, Jest). A variable, not a literal, so bundlers do not emit the wasm a second time:
// in a browser bundle the glue's own `new URL('freshtoken_bg.wasm', import.meta.url)` does.
const FROM_HERE = '../pkg/freshtoken_bg.wasm';

/**
 * What to hand the glue. A file: URL (given, or the default when this module runs from disk:
 * node, Vitest, Jest) is read with node:fs, since node's fetch cannot read file: URLs.
 * `process.getBuiltinModule` (node >= 20.16) is a plain call: no bundler resolves or bundles
 * node:fs for the browser, and it does not exist there (the glue then fetches the wasm).
 */
function source(wasm) {
  const fs = globalThis.process?.getBuiltinModule?.('node:fs');
  const url = wasm === undefined && fs && /^file:/.test(import.meta.url) ? new URL(FROM_HERE, import.meta.url) : wasm;
  if (!fs || !/^file:/.test(url instanceof URL || typeof url === 'string' ? url : '')) return url;
  try {
    return fs.readFileSync(new URL(url));
  } catch (err) {
    throw loadError(url, err);
  }
}

/** The error `init()` rejects with when the wasm cannot be had: what, from where, why, what to do. */
function loadError(where, err) {
  const url = where instanceof URL || typeof where === 'string' ? String(where) : '(the default URL)';
  return makeError('FreshtokenError', 'wasm-load-failed',
    `freshtoken could not load its WebAssembly module from ${url}: ${String(err?.message ?? err).slice(0, 200)}.`
    // Vite 7's pre-bundled deps (node_modules/.vite/deps/, Nuxt's .cache/vite/client/deps/).
    + (/\/deps\/freshtoken_bg\.wasm/.test(url) ? " For Vite 7's dev server add optimizeDeps: { exclude: ['freshtoken'] } to vite.config (Nuxt: under vite: in nuxt.config)." : '')
    + " Else serve 'freshtoken/freshtoken_bg.wasm' and pass its URL (or its bytes) to init().", { cause: err });
}

/**
 * Loads and instantiates the wasm module. Idempotent: every call returns the same promise.
 * @param {unknown} [wasm] where to load it from (URL, Response, bytes or a WebAssembly.Module);
 *   by default the `freshtoken_bg.wasm` shipped beside the glue (read from disk in node).
 * @returns {Promise<void>}
 * @throws {FreshtokenError} (rejects) code `wasm-load-failed`, saying from where and why.
 */
export default function init(wasm) {
  if (!ready) {
    ready = (async () => {
      const from = source(wasm);
      try {
        exports = await initWasm(from === undefined ? undefined : { module_or_path: from });
      } catch (err) {
        // The glue's default URL is not visible here: its fetch error names it; else the
        // last .wasm the page fetched is it.
        const fetched = /'(\S+\.wasm)'/.exec(err?.message)?.[1] ?? globalThis.performance?.getEntriesByType?.('resource')
          .filter((e) => /\.wasm(\?|$)/.test(e.name)).pop()?.name;
        throw loadError(from ?? fetched, err);
      }
      loaded = true;
    })().catch((err) => { ready = null; throw err; });
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
// The glue's exports the package uses: named, so a bundler drops the rest (`initSync`).
const glue = { decodeBytes, tokenBuffer, tokenFigures };

/** The wasm instance's memory (after `init()`): `coreFigures` leaves its figures there. */
export const memory = () => exports.memory;
