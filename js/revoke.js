// Token revocation on logout (RFC 7009). The engine decides when and which token (a logout
// in this tab, with `endpoint.revokeUrl` set, of a session that held a refresh token:
// once, never again from the other tabs the logout reaches); this sends it, best effort,
// bounded by refreshTimeoutMs, and only where the refresh token itself may go.
import { inRefresh } from './request.js';
import { requestURL } from './origins.js';
import { presetRule, inputs } from './transport.js';

/**
 * POSTs `token=<refresh token>&token_type_hint=refresh_token&client_id=...` to the
 * revocation endpoint. Resolves when it answered, failed or timed out; never rejects.
 * @param {object} opts the refresher's options
 * @param {string} token the refresh token to revoke
 * @param {(origin: string) => boolean} allowed the engine's answer: may the refresh token go there
 * @param {() => typeof fetch} getFetch the fetch underneath every freshtoken interceptor
 * @param {Promise<string|null>|null} [proof] a DPoP proof for the call (made before the key is deleted)
 */
export async function revoke(opts, token, allowed, getFetch, proof = null) {
  const ep = opts.endpoint;
  const url = requestURL(ep.revokeUrl);
  const origin = url && url.origin !== 'null' ? url.origin : null;
  if (!origin || !allowed(origin)) {
    console.warn(`freshtoken: endpoint.revokeUrl resolves to ${origin || 'no http(s) URL'}, where the refresh token may not go; not revoked`);
    return;
  }
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), opts.refreshTimeoutMs);
  const dpop = await proof;
  // The RFC 7009 form is the engine's (src/engine/preset.rs `revocation`).
  const { method, headers, body } = presetRule(10, inputs({ t: token, c: ep.clientId }));
  try {
    const res = await inRefresh(() => getFetch().call(globalThis, url.href, {
      method,
      headers: { ...ep.headers, ...headers, ...dpop && { dpop } },
      body,
      credentials: ep.credentials,
      signal: ctl.signal,
      redirect: 'manual',
    }));
    res.body?.cancel().catch(() => {});
  } catch {
    // Unreachable or too slow: the local logout has happened already; nothing else to do.
  } finally {
    clearTimeout(timer);
  }
}
