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

  // A 401/403 arrives as an error by default, or as a response when the app's
  // validateStatus accepts it: both get the one replay. `give` hands the original
  // outcome back (rethrow or return) whenever there is nothing to replay.
  const replay = async (config, status, give) => {
    if (!config || !refresher._retryStatuses.has(status)) return give();
    const sent = header(config, 'Authorization');
    if (typeof sent !== 'string' || !BEARER.test(sent)) return give();
    if (config[RETRIED]) {
      // The replay was refused too: the session is over.
      refresher._endSession('request-rejected');
      return give();
    }
    const next = await refresher._tokenAfterRejection(sent.replace(BEARER, ''));
    if (next === null) return give();
    config[RETRIED] = true;
    setHeader(config, 'Authorization', `Bearer ${next}`);
    return instance.request(config);
  };
  const responseId = instance.interceptors.response.use(
    (response) => replay(response.config, response.status, () => response),
    (error) => replay(error && error.config, error && error.response && error.response.status, () => { throw error; }),
  );

  return () => {
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(responseId);
  };
}
