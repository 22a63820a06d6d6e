// The README's DPoP recipe (the login's code exchange bound to freshtoken's key),
// type-checked by tests/types. Above the marker: what the snippet takes from the app around it.
import { createRefresher } from 'freshtoken';

declare const meta: { token_endpoint: string };
declare const code: string;
declare const verifier: string;
declare const redirectUri: string;

// --- README ---
const dpopRefresher = await createRefresher({ dpop: true, endpoint: { url: meta.token_endpoint, preset: 'oauth2', clientId: 'my-spa' } });
const exchange = async (nonce?: string) => fetch(meta.token_endpoint, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await dpopRefresher.dpopProof('POST', meta.token_endpoint, { nonce }) },
  body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: 'my-spa' }),
});
let res = await exchange();
if (res.status === 400 && res.headers.get('dpop-nonce')) res = await exchange(res.headers.get('dpop-nonce') ?? undefined); // use_dpop_nonce
const t = await res.json();
dpopRefresher.setTokens({ accessToken: t.access_token, refreshToken: t.refresh_token, expiresIn: t.expires_in });

export {};
