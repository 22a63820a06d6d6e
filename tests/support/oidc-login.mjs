// Logs a user in to the real OpenID provider (tests/support/oidc-provider.mjs) from a
// Chromium page, as a single-page app does: authorization code + PKCE (S256), the code
// exchanged at the token endpoint by the page itself (a CORS request of the public client).
//
//   const app = await startServer();                    // the test page's origin: /test.html, /js, /pkg
//   const provider = await startProvider({ appOrigin: app.url });
//   const { tab, page, login } = await oidcLogin(browser, app, provider);
//   login: the token endpoint's JSON answer { access_token, refresh_token, id_token, expires_in, ... }
//   receivedAt: when the page had it (Date.now() in the page, ms since epoch)
//   page: /test.html again (freshtoken loaded as window.ft), the code gone from the URL.
//
// The login and consent pages are oidc-provider's devInteractions, filled in with playwright.
import { CLIENT_ID, SCOPE } from './oidc-provider.mjs';

/**
 * @param browser  launchBrowser()'s handle
 * @param app      startServer()'s handle: its /test.html is the redirect URI
 * @param provider startProvider()'s handle
 * @param [opts.user='user-1']  the login name (devInteractions takes any, and any password)
 */
export async function oidcLogin(browser, app, provider, { user = 'user-1' } = {}) {
  const redirectUri = `${app.url}/test.html`;
  const tab = await browser.open(redirectUri);
  const { page } = tab;
  try {
    // The app starts the login: verifier, challenge and state made and kept in the page.
    const authorizeUrl = await page.evaluate(async ({ authorization, clientId, scope, redirectUri }) => {
      const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
      const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
      const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
      sessionStorage.setItem('pkce', JSON.stringify({ verifier, state }));
      const u = new URL(authorization);
      u.search = new URLSearchParams({
        client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope,
        prompt: 'consent', state, code_challenge: challenge, code_challenge_method: 'S256',
      }).toString();
      return u.href;
    }, { authorization: provider.endpoints.authorization, clientId: CLIENT_ID, scope: SCOPE, redirectUri });

    await page.goto(authorizeUrl);
    // devInteractions' login page, then its consent page.
    await page.locator('input[name="login"]').fill(user);
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await Promise.all([
      page.waitForURL((u) => u.href.startsWith(redirectUri)),
      page.getByRole('button', { name: 'Continue' }).click(),
    ]);
    await page.waitForFunction(() => window.ready === true || typeof window.initError === 'string', null, { timeout: 15000 });
    const initError = await page.evaluate(() => window.initError);
    if (initError) throw new Error(`the test page failed to load freshtoken: ${initError}`);

    // Back on the app with ?code&state: the page exchanges the code itself.
    const { body: login, receivedAt } = await page.evaluate(async ({ token, clientId, redirectUri }) => {
      const q = new URLSearchParams(location.search);
      const { verifier, state } = JSON.parse(sessionStorage.getItem('pkce'));
      sessionStorage.removeItem('pkce');
      if (q.get('error')) throw new Error(`authorization error: ${q.get('error')} ${q.get('error_description')}`);
      if (q.get('state') !== state) throw new Error('state mismatch');
      history.replaceState(null, '', location.pathname);
      const res = await fetch(token, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code', code: q.get('code'), redirect_uri: redirectUri,
          client_id: clientId, code_verifier: verifier,
        }).toString(),
      });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`code exchange answered ${res.status}: ${JSON.stringify(body)}`);
      return { body, receivedAt: Date.now() };
    }, { token: provider.endpoints.token, clientId: CLIENT_ID, redirectUri });
    for (const k of ['access_token', 'refresh_token', 'id_token']) {
      if (typeof login[k] !== 'string') throw new Error(`the code exchange gave no ${k}: fields ${Object.keys(login)}`);
    }
    return { tab, page, login, receivedAt };
  } catch (e) {
    await tab.close().catch(() => {});
    throw e;
  }
}
