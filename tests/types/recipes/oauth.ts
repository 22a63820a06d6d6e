// The README's OAuth 2 / OpenID Connect recipe, type-checked by tests/types. Above the marker:
// what the snippet takes from the app around it.
import { createRefresher } from 'freshtoken';

declare const issuer: string;
declare function exchangeCode(tokenEndpoint: string): Promise<{ access_token: string; refresh_token: string; expires_in: number }>;
declare function toLogin(reason: string, error?: string, description?: string): void;

// --- README ---
// After the app's own code + PKCE login (or oidc-client-ts's signinRedirectCallback()):
const meta = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
const tokens = await exchangeCode(meta.token_endpoint);  // the app's: POST grant_type=authorization_code
const refresher = await createRefresher({
  tokens: { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, expiresIn: tokens.expires_in },
  endpoint: {
    url: meta.token_endpoint,
    preset: 'oauth2',
    clientId: 'my-spa',                  // a public client: no secret
    scope: 'openid offline_access',      // optional
    revokeUrl: meta.revocation_endpoint, // optional: logout() revokes the refresh token
  },
  origins: ['https://api.example.com'],
});
refresher.on('session-expired', ({ reason, oauthError, oauthErrorDescription }) => toLogin(reason, oauthError, oauthErrorDescription));

export {};
