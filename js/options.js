// Checks createRefresher's options and fills in defaults. Every problem is an
// OptionsError that names the option; unknown options are refused so a typo is not
// silently ignored.
import { optionsError } from './errors.js';
import { PRESETS } from './transport.js';
import { allowedOrigins } from './origins.js';

const KNOWN = ['tokens', 'refresh', 'endpoint', 'refreshAt', 'retryStatuses', 'endSessionStatuses', 'origins', 'storage',
  'storageKey', 'crossTab', 'loginUrl', 'onSessionExpired', 'defaultLifetimeMs', 'refreshTimeoutMs', 'fetch'];
const ENDPOINT_KEYS = ['url', 'method', 'preset', 'credentials', 'headers', 'params'];

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

function checkNumber(name, v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw optionsError(`${name} must be a finite number, not ${kind(v)}`);
  return v;
}

/** Checks a TokenSet given by the app (`tokens` option, `setTokens`). */
export function checkTokens(t, where = 'tokens') {
  if (!isObject(t)) throw optionsError(`${where} must be an object like { accessToken, refreshToken }, not ${kind(t)}`);
  if (typeof t.accessToken !== 'string' || t.accessToken === '') throw optionsError(`${where}.accessToken must be a non-empty string`);
  if (t.refreshToken != null && typeof t.refreshToken !== 'string') throw optionsError(`${where}.refreshToken must be a string`);
  for (const k of ['expiresAt', 'expiresIn', 'receivedAt']) {
    if (t[k] != null && !(typeof t[k] === 'number' && Number.isFinite(t[k]) && t[k] >= 0)) {
      throw optionsError(`${where}.${k} must be a non-negative number`);
    }
  }
  return t;
}

export function normalizeOptions(o) {
  if (!isObject(o)) throw optionsError(`createRefresher needs an options object, not ${kind(o)}`);
  for (const k of Object.keys(o)) {
    if (!KNOWN.includes(k)) throw optionsError(`unknown option \`${k}\`; known options: ${KNOWN.join(', ')}`);
  }
  const out = {
    tokens: undefined,
    refresh: undefined,
    endpoint: undefined,
    refreshAt: 0.8,
    retryStatuses: new Set([401, 403]),
    endSessionStatuses: new Set([401]),
    origins: allowedOrigins(o.origins),
    storage: o.storage ?? 'memory',
    storageKey: 'freshtoken',
    crossTab: undefined,
    loginUrl: undefined,
    onSessionExpired: undefined,
    defaultLifetimeMs: 24 * 60 * 60 * 1000,
    refreshTimeoutMs: 15000,
    fetch: undefined,
  };
  if (o.tokens !== undefined) out.tokens = checkTokens(o.tokens);
  if (o.refresh !== undefined && o.endpoint !== undefined) throw optionsError('give either `refresh` or `endpoint`, not both');
  if (o.refresh !== undefined) {
    if (typeof o.refresh !== 'function') throw optionsError(`refresh must be a function returning a promise of tokens, not ${kind(o.refresh)}`);
    out.refresh = o.refresh;
  } else if (o.endpoint !== undefined) {
    const e = o.endpoint;
    if (!isObject(e)) throw optionsError(`endpoint must be an object like { url: '/auth/refresh' }, not ${kind(e)}`);
    for (const k of Object.keys(e)) {
      if (!ENDPOINT_KEYS.includes(k)) throw optionsError(`unknown endpoint option \`${k}\`; known: ${ENDPOINT_KEYS.join(', ')}`);
    }
    if (typeof e.url !== 'string' || e.url === '') throw optionsError('endpoint.url must be a non-empty string');
    const preset = e.preset ?? 'json';
    if (!Object.hasOwn(PRESETS, preset)) throw optionsError(`endpoint.preset must be one of ${Object.keys(PRESETS).join(', ')}, not ${JSON.stringify(preset)}`);
    if (e.method !== undefined && e.method !== 'POST' && e.method !== 'PUT') throw optionsError('endpoint.method must be "POST" or "PUT"');
    if (e.credentials !== undefined && !['omit', 'same-origin', 'include'].includes(e.credentials)) {
      throw optionsError('endpoint.credentials must be "omit", "same-origin" or "include"');
    }
    for (const k of ['headers', 'params']) {
      if (e[k] === undefined) continue;
      if (!isObject(e[k]) || Object.values(e[k]).some((v) => typeof v !== 'string')) {
        throw optionsError(`endpoint.${k} must be an object of string values`);
      }
    }
    out.endpoint = { ...e, preset };
  } else {
    throw optionsError('give a way to refresh: `endpoint: { url }` or a `refresh` function');
  }
  if (o.refreshAt !== undefined) {
    out.refreshAt = checkNumber('refreshAt', o.refreshAt);
    if (!(out.refreshAt > 0 && out.refreshAt < 1)) throw optionsError('refreshAt must be a number greater than 0 and less than 1');
  }
  for (const k of ['retryStatuses', 'endSessionStatuses']) {
    if (o[k] === undefined) continue;
    if (!Array.isArray(o[k]) || o[k].some((s) => !Number.isInteger(s) || s < 400 || s > 599)) {
      throw optionsError(`${k} must be an array of HTTP error statuses (400-599), e.g. [401]`);
    }
    out[k] = new Set(o[k]);
  }
  if (typeof out.storage === 'string') {
    if (!['memory', 'localStorage', 'sessionStorage'].includes(out.storage)) {
      throw optionsError(`storage must be 'memory', 'localStorage', 'sessionStorage' or an object with getItem/setItem/removeItem, not ${JSON.stringify(out.storage)}`);
    }
  } else if (!isObject(out.storage) || ['getItem', 'setItem', 'removeItem'].some((m) => typeof out.storage[m] !== 'function')) {
    throw optionsError('storage must be a name or an object with getItem, setItem and removeItem methods');
  }
  if (o.storageKey !== undefined) {
    if (typeof o.storageKey !== 'string' || o.storageKey === '') throw optionsError('storageKey must be a non-empty string');
    out.storageKey = o.storageKey;
  }
  if (o.crossTab !== undefined) {
    if (typeof o.crossTab !== 'boolean') throw optionsError('crossTab must be true or false');
    out.crossTab = o.crossTab;
  } else {
    // A storage other tabs share implies cross-tab coordination (SPEC behaviour 3): two
    // tabs refreshing with one rotating refresh token would end the session.
    out.crossTab = out.storage !== 'memory';
  }
  if (o.loginUrl !== undefined) {
    if (typeof o.loginUrl !== 'string' || o.loginUrl === '') throw optionsError('loginUrl must be a non-empty string');
    out.loginUrl = o.loginUrl;
  }
  for (const k of ['onSessionExpired', 'fetch']) {
    if (o[k] !== undefined) {
      if (typeof o[k] !== 'function') throw optionsError(`${k} must be a function, not ${kind(o[k])}`);
      out[k] = o[k];
    }
  }
  for (const k of ['defaultLifetimeMs', 'refreshTimeoutMs']) {
    if (o[k] !== undefined) {
      if (checkNumber(k, o[k]) <= 0) throw optionsError(`${k} must be greater than 0`);
      out[k] = o[k];
    }
  }
  // A timer delay above 2^31-1 ms would fire at once.
  if (out.refreshTimeoutMs > 2147483647) throw optionsError('refreshTimeoutMs must be at most 2147483647 (about 24.8 days)');
  return out;
}
