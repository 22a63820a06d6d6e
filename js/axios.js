// freshtoken/axios: the same token handling for an axios instance: the header for
// allowed origins (decided by the same function as fetch's, on the URL axios will send
// to), a wait for any refresh in flight, and one replay on 401/403 through the shared
// refresh — only for a request that carried freshtoken's token and was answered by the
// origin it went to. `config.skipAuthRefresh: true` opts one request out of the replay.
import { requestURL } from './origins.js';
import { answeredBy, isRefreshTraffic, wasReplayed } from './request.js';
import { makeError } from './errors.js';

const BEARER = /^bearer\s+/i;
// What freshtoken attached to a config: { token, origin }; a config without it is not
// ours. A WeakMap, so the token is not copied into the config (which apps log).
const sentWith = new WeakMap();
// A plain key: axios copies it into the replay's config (it drops symbols).
const RETRIED = 'freshtokenRetried';

function header(config, name) {
  const h = config.headers;
  if (!h) return undefined;
  return typeof h.get === 'function' ? h.get(name) : h[name] ?? h[name.toLowerCase()];
}

function setHeader(config, name, value) {
  if (config.headers && typeof config.headers.set === 'function') config.headers.set(name, value);
  else config.headers = { ...config.headers, [name]: value };
}

const plainHeaders = (h) => (h && typeof h.toJSON === 'function' ? h.toJSON() : h);

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
  const requestId = instance.interceptors.request.use(async (config) => {
    const url = typeof instance.getUri === 'function' ? instance.getUri(config) : config.url;
    const target = requestURL(url ?? '');
    const origin = target && target.origin;
    if (!origin || !refresher._origins.has(origin)) return config;
    const own = header(config, 'Authorization');
    if (own != null && !BEARER.test(String(own))) return config;
    if (isRefreshTraffic(target, config.data, plainHeaders(config.headers))) return config;
    const line = refresher._line; // the session this request starts in
    const token = await refresher._tokenForRequest(config.signal, line);
    // Its session ended while it waited: settled, never sent with a later login's token.
    if (token === null && line !== refresher._line) throw refresher._lineEnded();
    if (token !== null) {
      setHeader(config, 'Authorization', `Bearer ${token}`);
      sentWith.set(config, { token, origin, line });
    }
    return config;
  });

  // A 401/403 arrives as an error by default, or as a response when the app's
  // validateStatus accepts it: both get the one replay. `give` hands the original
  // outcome back (rethrow or return) whenever there is nothing to replay.
  const replay = async (config, response, give) => {
    const status = response && response.status;
    const sent = config && sentWith.get(config);
    // A fetch interceptor underneath (axios's fetch adapter) already replayed it: once is all.
    if (!sent || !refresher._retryStatuses.has(status) || wasReplayed(response.request)) return give();
    // The answer must come from where the token went (no redirect to another origin).
    const finalURL = response.request && typeof response.request.responseURL === 'string' ? response.request.responseURL : '';
    if (!answeredBy({ url: finalURL }, sent.origin)) return give();
    if (config[RETRIED]) {
      refresher._rejectedAgain(status, sent.token);
      return give();
    }
    if (config.skipAuthRefresh === true) return give();
    const next = await refresher._tokenAfterRejection(sent.token, config.signal, sent.line);
    if (next === null) return give();
    config[RETRIED] = true;
    setHeader(config, 'Authorization', `Bearer ${next}`);
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
