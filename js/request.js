// The 401/403 retry (SPEC behaviour 5), in one place: attach the token to requests for
// allowed origins, wait for a refresh in flight rather than send a stale token, and on a
// status in `retryStatuses` refresh (shared) and replay the request exactly once with its
// body intact. A second rejection ends the session and returns that response.

const BEARER = /^bearer\s/i;

function headersOf(input, init) {
  if (init && init.headers !== undefined) return new Headers(init.headers);
  if (typeof input === 'object' && input !== null && input.headers instanceof Headers) return new Headers(input.headers);
  return new Headers();
}

/**
 * Two sends' worth of the same request. Bodies that can be read only once (a Request's
 * body, a ReadableStream) are teed before the first send; the others are reusable as is.
 */
function replayable(input, init) {
  let second = input;
  let secondInit = init;
  if (typeof Request !== 'undefined' && input instanceof Request && input.body !== null && !(init && 'body' in init)) {
    second = input.clone();
  }
  if (init && typeof ReadableStream !== 'undefined' && init.body instanceof ReadableStream) {
    const [a, b] = init.body.tee();
    init = { ...init, body: a };
    secondInit = { ...init, body: b };
  }
  return { first: [input, init], second: [second, secondInit] };
}

function send(fetchFn, [input, init], headers, token) {
  headers.set('authorization', `Bearer ${token}`);
  return fetchFn.call(globalThis, input, { ...init, headers });
}

/**
 * `refresher.fetch`. `r` is the Refresher; `fetchFn` the fetch underneath.
 * @returns {Promise<Response>}
 */
export async function authorizedFetch(r, fetchFn, input, init) {
  if (!r._allows(input)) return fetchFn.call(globalThis, input, init);
  const headers = headersOf(input, init);
  const own = headers.get('authorization');
  // A caller's own non-Bearer credentials (Basic, ...) are theirs: send them untouched.
  if (own !== null && !BEARER.test(own)) return fetchFn.call(globalThis, input, init);

  // The common case needs no wait: a token not yet due for refresh, none in flight.
  let token = r._readyToken();
  if (token === undefined) token = await r._tokenForRequest();
  if (token === null) return fetchFn.call(globalThis, input, init);
  const sends = replayable(input, init);
  const res = await send(fetchFn, sends.first, headers, token);
  if (!r._retryStatuses.has(res.status)) return res;

  let next;
  try {
    next = await r._tokenAfterRejection(token);
  } catch (err) {
    res.body?.cancel().catch(() => {});
    throw err; // the refresh failed transiently: a clear error, the session is kept
  }
  if (next === null) return res; // the session ended while refreshing: nothing to replay with
  res.body?.cancel().catch(() => {});
  const again = await send(fetchFn, sends.second, headers, next);
  if (r._retryStatuses.has(again.status)) r._endSession('request-rejected');
  return again;
}
