// Loads the wasm module once. Every entry point goes through `init()`; using the API
// before it resolved gives a clear error instead of a crash inside the glue.
//
// The loading is done here, and the glue only instantiates (`initSync` with the compiled
// module): so the errors name what was asked for, and the glue's own loader (its fetch,
// MIME-type fallback and warnings) is not shipped. Instantiating a compiled module of this
// size synchronously is allowed everywhere (Chromium refuses it only above 8 MB).
import { initSync, decodeBytes, tokenBuffer, tokenFigures } from '../pkg/freshtoken.js';
import { makeError } from './errors.js';

// The engines' functions (src/wasm/cores.rs), for js/refresher.js, which calls them only
// after `bindings()` said the module is loaded.
export {
  coreNew, coreFree, coreSetTokens, coreAnswered, coreFailed, coreRequest, coreInput, coreDate, coreRefreshTo, coreRetryAfter,
  coreStatus, corePoll, coreText, coreOut, coreFigures, coreToken, coreDpopProof, coreDpopNonce, coreDpopRetry, coreEpochs,
  presetRule,
} from '../pkg/freshtoken.js';

let ready = null;
let loaded = false;
let exports = null;

// Where the wasm is looked for when the default URL fails: beside the bundle, where
// wasm-bindgen packages have it, for bundlers that leave `new URL()` alone (esbuild) and
// apps that copied it there. Made from this module's URL as text, not with
// `new URL(name, import.meta.url)`: bundlers resolve that form at build time, and Turbopack
// fails the build when no such file lies next to this module.
const beside = () => import.meta.url.replace(/[^/]*$/, 'freshtoken_bg.wasm');

/**
 * The compiled module, from what `init()` was given: a URL or path (fetched; a file: URL,
 * as node, Vitest and Jest have by default, read from disk: node's fetch cannot read it),
 * a Request or Response, bytes, a WebAssembly.Module, or a promise of one of them.
 * `process.getBuiltinModule` (node >= 20.16) is a plain call: no bundler resolves or
 * bundles node:fs for the browser, and it does not exist there.
 */
async function compile(wasm) {
  let from = await wasm;
  if (from instanceof WebAssembly.Module) return from;
  if (typeof from === 'string' || from instanceof URL) {
    const fs = globalThis.process?.getBuiltinModule?.('node:fs');
    from = fs && /^file:/.test(from) ? fs.readFileSync(new URL(from)) : await fetch(from);
  } else if (typeof Request === 'function' && from instanceof Request) {
    from = await fetch(from);
  }
  if (typeof Response === 'function' && from instanceof Response) {
    if (!from.ok) throw new Error(`HTTP ${from.status} ${from.statusText}`.trim());
    from = await from.arrayBuffer();
  }
  return WebAssembly.compile(from);
}

/** The error `init()` rejects with when the wasm cannot be had: what, from where, why, what to do. */
function loadError(wasm, err) {
  const url = typeof wasm === 'string' || wasm instanceof URL ? String(wasm) : wasm?.url || '(the module given to init())';
  return makeError('FreshtokenError', 'wasm-load-failed',
    `freshtoken could not load its WebAssembly module from ${url}: ${String(err?.message ?? err).slice(0, 200)}.`
    // Vite 7's dev pre-bundling copies the JS under node_modules/.vite/ (Nuxt: .cache/vite/)
    // without the wasm, so the URL resolved beside the copy finds nothing.
    + (/\/\.?vite\/.*freshtoken_bg\.wasm/.test(url) ? " For Vite 7's dev server add optimizeDeps: { exclude: ['freshtoken'] } to vite.config (Nuxt: under vite: in nuxt.config)." : '')
    + " Else serve 'freshtoken/freshtoken_bg.wasm' and pass its URL (or its bytes) to init().", { cause: err });
}

/**
 * Loads and instantiates the wasm module. Idempotent: every call returns the same promise.
 * @param {unknown} [wasm] where to load it from (URL, Request, Response, bytes or a
 *   WebAssembly.Module); by default the `freshtoken_bg.wasm` shipped in the package, located
 *   with `new URL(..., import.meta.url)` (bundlers emit it; node reads it from disk), else
 *   the one beside the bundle.
 * @returns {Promise<void>}
 * @throws {FreshtokenError} (rejects) code `wasm-load-failed`, saying from where and why.
 */
export default function init(wasm) {
  if (!ready) {
    ready = (async () => {
      const from = wasm ?? new URL('../pkg/freshtoken_bg.wasm', import.meta.url);
      try {
        exports = initSync({
          module: await compile(from).catch((err) => {
            if (wasm !== undefined) throw err;
            // Not at the default URL: beside the bundle, else the first error (it names the URL).
            return compile(beside()).catch(() => { throw err; });
          }),
        });
      } catch (err) {
        throw loadError(from, err);
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
// The glue's exports the package uses: named, so a bundler drops the rest (its own loader).
const glue = { decodeBytes, tokenBuffer, tokenFigures };

/** The wasm instance's memory (after `init()`): `coreFigures` leaves its figures there. */
export const memory = () => exports.memory;
