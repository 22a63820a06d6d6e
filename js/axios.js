// freshtoken/axios: the axios driver of the same rules as fetch's (the engine's, in
// src/engine/): the facts of a request (the URL axios will send to, its headers, a
// refresh's own traffic) go in, the engine says send with the token or untouched, and
// after the answer hand it back or replay it once. `config.skipAuthRefresh: true` opts
// one request out of the replay.
import { requestURL } from './origins.js';
import { answeredBy, isRefreshTraffic, wasReplayed } from './request.js';
import { makeError } from './errors.js';

const BEARER = /^bearer\s/i;
// A plain key: axios copies it into the replay's config (it drops symbols). It holds the
// attachment's number and the request's id (each refresher numbers its own requests, so
// an id alone could be another refresher's on the same axios instance).
const RETRIED = 'freshtokenRetried';
let attachments = 0;

function header(config, name) {
  const h = config.headers;
  if (!h) return undefined;
  return typeof h.get === 'function' ? h.get(name) : h[name] ?? h[name.toLowerCase()];
}

function setHeader(config, name, value) {
  if (config.headers && typeof config.headers.set === 'function') config.headers.set(name, value);
  else config.headers = { ...config.headers, [name]: value };
}

function dropHeader(config, name) {
  const h = config.headers;
  if (h && typeof h.delete === 'function') h.delete(name);
  else if (h) for (const k of Object.keys(h)) if (k.toLowerCase() === name.toLowerCase()) delete h[k];
}

const plainHeaders = (h) => (h && typeof h.toJSON === 'function' ? h.toJSON() : h);

// Which URL answered a request axios's fetch adapter sent (it hands back the Request, not
// the Response, so a redirect elsewhere would not show): the Request -> the answer's URL.
// One fetch for every config, so axios builds its fetch adapter once for it.
const answeredURL = new WeakMap();
const seeingFetch = (input, init) => globalThis.fetch(input, init).then((res) => {
  if (input !== null && typeof input === 'object') answeredURL.set(input, res.url);
  return res;
});

/**
 * @param {import('./refresher.js').Refresher} refresher
 * @param {object} instance an axios instance (or the default axios export)
 * @returns {() => void} detach: ejects both interceptors
 */
export function attachAxios(refresher, instance) {
  const hooks = instance && instance.interceptors;
  if (typeof hooks?.request?.use !== 'function' || typeof hooks?.response?.use !== 'function' || typeof instance.request !== 'function') {
    throw makeError('OptionsError', 'bad-option', 'attachAxios needs an axios instance (axios.create(), or the default export), '
      + 'with interceptors and request(); this is not one (the `import * as axios` namespace, or a config object?)');
  }
  // Where axios will send a config now (a relative URL against the document's base).
  const where = (config) => requestURL((typeof instance.getUri === 'function' ? instance.getUri(config) : config.url) ?? '');
  // A request whose URL moved during a wait (a <base href> injected meanwhile moves a
  // relative one) goes untouched: the token goes only where the engine allowed it.
  const moved = (config, origin) => where(config)?.origin !== origin;

  // Per attachment (a refresher on an instance): what freshtoken attached to a config
  // ({ id, token, origin }; a config without it is not this refresher's; a WeakMap, so the
  // token is not copied into the config, which apps log), and the token each replay goes with.
  const sentWith = new WeakMap();
  const replays = new Map();
  const tag = `${++attachments}:`;

  const requestId = instance.interceptors.request.use(async (config) => {
    // A URL given as an object is stringified once, here: what is checked is what axios sends
    // (a stringifier that answers differently the next time cannot move it).
    if (config.url != null && typeof config.url !== 'string') config.url = String(config.url);
    const target = where(config);
    // The replay of a request: sent with the token the engine gave for it, where the first went.
    const again = replays.get(config[RETRIED]);
    if (again) {
      replays.delete(config[RETRIED]);
      if (target?.origin !== again.origin) {
        // Untouched: without the token the first send carried either.
        dropHeader(config, 'Authorization');
        dropHeader(config, 'DPoP');
        refresher._forget(again.id);
        return config;
      }
      await authorize(config, again.token, target);
      sentWith.set(config, again);
      return config;
    }
    const origin = target && target.origin !== 'null' ? target.origin : null;
    const own = header(config, 'Authorization');
    // The caller's own credentials: a non-Bearer Authorization, or axios's `auth` (Basic),
    // which axios sets after this interceptor, over the token.
    const flags = ((own != null && !BEARER.test(String(own))) || config.auth ? 1 : 0)
      | (isRefreshTraffic(target, config.data, plainHeaders(config.headers)) ? 2 : 0)
      | (config.skipAuthRefresh === true ? 4 : 0);
    const go = await refresher._request(origin, flags, config.signal);
    if (go.token !== null && moved(config, origin)) {
      refresher._forget(go.id);
    } else if (go.token !== null) {
      await authorize(config, go.token, target);
      sentWith.set(config, { id: go.id, token: go.token, origin });
      // With the fetch adapter: learn which URL answers (unless the app brought its own fetch).
      if (!(config.env && Object.hasOwn(config.env, 'fetch'))) config.env = { ...config.env, fetch: seeingFetch };
    }
    return config;
  });

  // The token, with its DPoP proof (RFC 9449) when the refresher binds its tokens to a key.
  const authorize = async (config, token, target) => {
    if (!refresher._dpop) return setHeader(config, 'Authorization', `Bearer ${token}`);
    setHeader(config, 'DPoP', await refresher._proof(config.method ?? 'GET', target.href, token));
    setHeader(config, 'Authorization', `DPoP ${token}`);
  };

  // A 401/403 arrives as an error by default, or as a response when the app's
  // validateStatus accepts it: the engine decides either way. `give` hands the original
  // outcome back (rethrow or return) whenever there is nothing to replay.
  const replay = async (config, response, give) => {
    const sent = config && sentWith.get(config);
    if (!sent) return give();
    sentWith.delete(config);
    // No answer (a network error), or a fetch interceptor underneath (axios's fetch
    // adapter) replayed it already: over for freshtoken.
    if (!response || wasReplayed(response.request)) {
      refresher._forget(sent.id);
      return give();
    }
    // Which origin answered (a redirect elsewhere is not the token's server).
    const req = response.request;
    const finalURL = req && typeof req.responseURL === 'string' ? req.responseURL : answeredURL.get(req) ?? '';
    const next = await refresher._answered(sent.id, response.status, answeredBy({ url: finalURL }, sent.origin), config.signal);
    if (next === null) return give();
    replays.set(tag + sent.id, { id: sent.id, token: next.token, origin: sent.origin });
    config[RETRIED] = tag + sent.id;
    return instance.request(config);
  };
  const responseId = instance.interceptors.response.use(
    (response) => replay(response.config, response, () => response),
    (error) => replay(error && error.config, error && error.response, () => { throw error; }),
  );

  return () => {
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(responseId);
  };
}
