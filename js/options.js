// Checks createRefresher's options and fills in defaults. Every problem is an
// OptionsError that names the option; unknown options are refused so a typo is not
// silently ignored.
import { optionsError } from './errors.js';
import { PRESETS } from './transport.js';

/** Every option, with its default (undefined: none, or decided from the others). */
const DEFAULTS = {
  tokens: undefined,
  refresh: undefined,
  endpoint: undefined,
  refreshAt: 0.8,
  retryStatuses: [401, 403],
  endSessionStatuses: [401],
  origins: undefined, // the page's own origin
  storage: 'memory',
  storageKey: 'freshtoken',
  crossTab: undefined, // the engine's default (engine::config::cross_tab)
  loginUrl: undefined,
  onSessionExpired: undefined,
  defaultLifetimeMs: 24 * 60 * 60 * 1000,
  refreshTimeoutMs: 15000,
  fetch: undefined,
  dpop: false,
};
const ENDPOINT_KEYS = ['url', 'method', 'preset', 'credentials', 'headers', 'params', 'clientId', 'scope', 'resource', 'revokeUrl'];

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
/**
 * A bag's own properties, in an object with no prototype: what it inherits is not an
 * option. Else a polluted Object.prototype (another library's merge bug setting
 * `Object.prototype.origins` or `.fetch`) would add options nobody gave: the token sent
 * where it says, the refresh token handed to its function.
 */
const own = (v) => Object.assign(Object.create(null), v);
const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
/** A wrong value as a message shows it: a number or boolean itself, else its kind (a string
 * is not echoed: it could be a secret put in the wrong place). */
const shown = (v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : kind(v));

const finite = (v) => typeof v === 'number' && Number.isFinite(v);
const text = (v) => typeof v === 'string' && v !== '';
const string = (v) => typeof v === 'string';
const isFunction = (v) => typeof v === 'function';
const statuses = (v) => Array.isArray(v) && v.every(Number.isInteger);
const STATUSES = 'an array of HTTP error statuses (400-599), e.g. [401]';

/**
 * The options with one rule each: what a valid value is, as the check and in words. Here
 * only what JS must see (types, functions, names); the engine checks the values its rules
 * run on (the ranges of refreshAt, defaultLifetimeMs, refreshTimeoutMs, the statuses,
 * every `origins` entry) and names the option it refuses (src/engine/config.rs).
 */
const RULES = {
  refreshAt: [finite, 'a number greater than 0 and less than 1'],
  retryStatuses: [statuses, STATUSES],
  endSessionStatuses: [statuses, STATUSES],
  storageKey: [string, 'a non-empty string'],
  crossTab: [(v) => typeof v === 'boolean', 'true or false'],
  loginUrl: [string, 'a non-empty string'],
  onSessionExpired: [isFunction, 'a function'],
  fetch: [isFunction, 'a function'],
  dpop: [(v) => typeof v === 'boolean', 'true or false'],
  defaultLifetimeMs: [finite, 'a finite number greater than 0'],
  refreshTimeoutMs: [finite, 'a number greater than 0 and at most 2147483647 (about 24.8 days)'],
};

/** Checks a TokenSet given by the app (`tokens` option, `setTokens`). */
export function checkTokens(t, where = 'tokens') {
  if (!isObject(t)) throw optionsError(`${where} must be an object like { accessToken, refreshToken }, not ${kind(t)}`);
  t = own(t);
  if (!text(t.accessToken)) throw optionsError(`${where}.accessToken must be a non-empty string`);
  // An empty refresh token is no token (and an empty secret would match every request).
  if (t.refreshToken != null && !text(t.refreshToken)) throw optionsError(`${where}.refreshToken must be a non-empty string (or left out)`);
  for (const k of ['expiresAt', 'expiresIn', 'receivedAt']) {
    if (t[k] != null && !(finite(t[k]) && t[k] >= 0)) {
      throw optionsError(`${where}.${k} must be a non-negative number`);
    }
  }
  return t;
}

/** A string option as the engine's shape check reads it: a value of another type as none it takes. */
const asText = (v) => (v === undefined || typeof v === 'string' ? v : '');

/**
 * The facts engine::option_shapes checks (`presetRule` 11, once the wasm is there): the
 * storage key, loginUrl and the endpoint's url, preset, method, credentials and OAuth 2
 * settings, each as given (a value that is no string as one no rule takes): the arguments
 * of transport.js's `inputs`.
 */
export function shapeFacts(o) {
  const e = o.endpoint;
  const fields = { K: o.storageKey, L: o.loginUrl };
  if (e) {
    Object.assign(fields, { u: e.url, n: String(PRESETS[e.preset]), m: asText(e.method), k: asText(e.credentials), c: asText(e.clientId), s: asText(e.scope), v: asText(e.revokeUrl) });
  }
  const resource = e?.resource === undefined ? [] : [].concat(e.resource).map((r) => (typeof r === 'string' ? r : ''));
  return [fields, {}, resource];
}

/** The options normalizeOptions made (what `new Refresher()` may take as they are). */
export const normalized = new WeakSet();

export function normalizeOptions(o) {
  if (!isObject(o)) throw optionsError(`createRefresher needs an options object, not ${kind(o)}`);
  o = own(o);
  for (const k of Object.keys(o)) {
    if (!Object.hasOwn(DEFAULTS, k)) throw optionsError(`unknown option \`${k}\`; known options: ${Object.keys(DEFAULTS).join(', ')}`);
  }
  // `origins`: strings, each checked by the engine (an http(s) origin); absent, the page's own.
  if (o.origins !== undefined && !(Array.isArray(o.origins) && o.origins.every((x) => typeof x === 'string'))) {
    throw optionsError('origins must be an array of origin strings, e.g. ["https://api.example.com"]');
  }
  const out = { __proto__: null, ...DEFAULTS, origins: o.origins, storage: o.storage ?? DEFAULTS.storage };
  if (o.tokens !== undefined) out.tokens = checkTokens(o.tokens);
  if (o.refresh !== undefined && o.endpoint !== undefined) throw optionsError('give either `refresh` or `endpoint`, not both');
  if (o.refresh !== undefined) {
    if (!isFunction(o.refresh)) throw optionsError(`refresh must be a function returning a promise of tokens, not ${kind(o.refresh)}`);
    out.refresh = o.refresh;
  } else if (o.endpoint !== undefined) {
    if (!isObject(o.endpoint)) throw optionsError(`endpoint must be an object like { url: '/auth/refresh' }, not ${kind(o.endpoint)}`);
    const e = own(o.endpoint);
    for (const k of Object.keys(e)) {
      if (!ENDPOINT_KEYS.includes(k)) throw optionsError(`unknown endpoint option \`${k}\`; known: ${ENDPOINT_KEYS.join(', ')}`);
    }
    if (!string(e.url)) throw optionsError('endpoint.url must be a non-empty string');
    const preset = e.preset ?? 'json';
    if (!Object.hasOwn(PRESETS, preset)) throw optionsError(`endpoint.preset must be one of ${Object.keys(PRESETS).join(', ')}, not ${JSON.stringify(preset)}`);
    for (const k of ['headers', 'params']) {
      if (e[k] === undefined) continue;
      if (!isObject(e[k]) || Object.values(e[k]).some((v) => typeof v !== 'string')) {
        throw optionsError(`endpoint.${k} must be an object of string values`);
      }
    }
    // The values (an empty url, the method, credentials, the OAuth 2 settings only with the
    // oauth2 preset) are the engine's to check (`shapeFacts`, engine::option_shapes).
    out.endpoint = { __proto__: null, ...e, preset };
  } else {
    throw optionsError('give a way to refresh: `endpoint: { url }` or a `refresh` function');
  }
  for (const [k, [valid, what]] of Object.entries(RULES)) {
    if (o[k] === undefined) continue;
    if (!valid(o[k])) throw optionsError(`${k} must be ${what}, not ${shown(o[k])}`);
    out[k] = o[k];
  }
  if (typeof out.storage === 'string') {
    if (!['memory', 'localStorage', 'sessionStorage'].includes(out.storage)) {
      throw optionsError(`storage must be 'memory', 'localStorage', 'sessionStorage' or an object with getItem/setItem/removeItem, not ${JSON.stringify(out.storage)}`);
    }
  } else if (!isObject(out.storage) || ['getItem', 'setItem', 'removeItem'].some((m) => typeof out.storage[m] !== 'function')) {
    throw optionsError('storage must be a name or an object with getItem, setItem and removeItem methods');
  }
  // `crossTab` left out is decided once the wasm is loaded (`crossTabOn`: the engine's rule).
  normalized.add(out);
  return out;
}
