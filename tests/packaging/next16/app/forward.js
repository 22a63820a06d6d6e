// Forwards a request to the same path on process.env.API (the test server), with its method,
// content type, Authorization header and body, and returns the answer as it is.
export async function forward(request) {
  const url = new URL(request.url);
  const headers = {};
  for (const h of ['authorization', 'content-type']) {
    const v = request.headers.get(h);
    if (v) headers[h] = v;
  }
  const body = request.method === 'GET' ? undefined : await request.text();
  const res = await fetch(`${process.env.API}${url.pathname}${url.search}`, { method: request.method, headers, body, cache: 'no-store' });
  return new Response(await res.text(), { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'text/plain' } });
}
