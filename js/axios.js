// freshtoken/axios: the same token handling for an axios instance: the header for
// allowed origins, a wait for any refresh in flight, and one replay on 401/403 through
// the shared refresh. The refresh call itself goes through fetch, never through axios.

const BEARER = /^bearer\s+/i;
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

/**
 * @param {import('./refresher.js').Refresher} refresher
 * @param {object} instance an axios instance (or the default axios export)
 * @returns {() => void} detach: ejects both interceptors
 */
export function attachAxios(refresher, instance) {
  const requestId = instance.interceptors.request.use(async (config) => {
    const url = typeof instance.getUri === 'function' ? instance.getUri(config) : config.url;
    if (!refresher._allows(url)) return config;
    const own = header(config, 'Authorization');
    if (own != null && !BEARER.test(String(own))) return config;
    const token = await refresher._tokenForRequest();
    if (token !== null) setHeader(config, 'Authorization', `Bearer ${token}`);
    return config;
  });

  const responseId = instance.interceptors.response.use(undefined, async (error) => {
    const config = error && error.config;
    const status = error && error.response && error.response.status;
    if (!config || !refresher._retryStatuses.has(status)) throw error;
    const sent = header(config, 'Authorization');
    if (typeof sent !== 'string' || !BEARER.test(sent)) throw error;
    if (config[RETRIED]) {
      // The replay was refused too: the session is over.
      refresher._endSession('request-rejected');
      throw error;
    }
    const next = await refresher._tokenAfterRejection(sent.replace(BEARER, ''));
    if (next === null) throw error;
    config[RETRIED] = true;
    setHeader(config, 'Authorization', `Bearer ${next}`);
    return instance.request(config);
  });

  return () => {
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(responseId);
  };
}
