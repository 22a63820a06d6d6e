// freshtoken/axios: the same token handling for an axios instance: the header for
// allowed origins (decided by the same function as fetch's, on the URL axios will send
// to), a wait for any refresh in flight, and one replay on 401/403 through the shared
// refresh — only for a request that carried freshtoken's token and was answered by the
// origin it went to. `config.skipAuthRefresh: true` opts one request out of the replay.
import { requestURL } from './origins.js';
import { answeredBy, isRefreshTraffic } from './request.js';

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
  const requestId = instance.interceptors.request.use(async (config) => {
    const url = typeof instance.getUri === 'function' ? instance.getUri(config) : config.url;
    const target = requestURL(url ?? '');
    const origin = target && target.origin;
    if (!origin || !refresher._origins.has(origin)) return config;
    const own = header(config, 'Authorization');
    if (own != null && !BEARER.test(String(own))) return config;
    if (isRefreshTraffic(target, config.data, plainHeaders(config.headers))) return config;
    const token = await refresher._tokenForRequest(config.signal);
    if (token !== null) {
      setHeader(config, 'Authorization', `Bearer ${token}`);
      sentWith.set(config, { token, origin });
    }
    return config;
  });

  // A 401/403 arrives as an error by default, or as a response when the app's
  // validateStatus accepts it: both get the one replay. `give` hands the original
  // outcome back (rethrow or return) whenever there is nothing to replay.
  const replay = async (config, response, give) => {
    const status = response && response.status;
    const sent = config && sentWith.get(config);
    if (!sent || !refresher._retryStatuses.has(status)) return give();
    // The answer must come from where the token went (no redirect to another origin).
    const finalURL = response.request && typeof response.request.responseURL === 'string' ? response.request.responseURL : '';
    if (!answeredBy({ url: finalURL }, sent.origin)) return give();
    if (config[RETRIED]) {
      refresher._rejectedAgain(status, sent.token);
      return give();
    }
    if (config.skipAuthRefresh === true) return give();
    const next = await refresher._tokenAfterRejection(sent.token, config.signal);
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
