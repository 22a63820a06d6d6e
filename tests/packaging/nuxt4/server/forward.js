// Forwards a request to the same path on process.env.API (the test server), with its method,
// content type, Authorization header and body, and returns the answer as it is.
import { getRequestURL, getRequestHeader, readRawBody, setResponseStatus, setResponseHeader } from 'h3';

export async function forward(event) {
  const url = getRequestURL(event);
  const headers = {};
  for (const h of ['authorization', 'content-type']) {
    const v = getRequestHeader(event, h);
    if (v) headers[h] = v;
  }
  const body = event.method === 'GET' ? undefined : await readRawBody(event, 'utf8');
  const res = await fetch(`${process.env.API}${url.pathname}${url.search}`, { method: event.method, headers, body });
  setResponseStatus(event, res.status);
  setResponseHeader(event, 'content-type', res.headers.get('content-type') ?? 'text/plain');
  return res.text();
}
