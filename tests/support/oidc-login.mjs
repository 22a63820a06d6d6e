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
//
// DPoP (RFC 9449), client `dpop-app` (startProvider({ dpop })):
//   const { tab, page, login, exchanges } = await oidcLoginDpop(browser, app, provider, {
//     options: { origins: [api.url], storageKey: 'k', ... },   // createRefresher's, JSON
//   });
//   The page creates `window.r = await ft.createRefresher({ dpop: true, endpoint: { url:
//   token_endpoint, preset: 'oauth2', clientId: 'dpop-app', ...options.endpoint }, ...options })`
//   without tokens, exchanges the code with `DPoP: await r.dpopProof('POST', token_endpoint)`
//   (on 400 use_dpop_nonce with a DPoP-Nonce header, once more with `{ nonce }`), then
//   `r.setTokens(...)`. exchanges: each code-exchange call { status, error, nonceIn, nonceOut }.
//   Before the refresher is made, `window.events` and `listen(r)` record its events.
import { CLIENT_ID, DPOP_CLIENT_ID, SCOPE } from './oidc-provider.mjs';

/**
 * Opens /test.html, starts the login (verifier, challenge and state kept in the page's
 * sessionStorage), goes through devInteractions' login and consent pages and comes back on
 * /test.html?code&state with freshtoken loaded. Returns the tab; the code is still in the URL.
 */
export async function authorize(browser, app, provider, { user, clientId }) {
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
    }, { authorization: provider.endpoints.authorization, clientId, scope: SCOPE, redirectUri });

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
    return { tab, page, redirectUri };
  } catch (e) {
    await tab.close().catch(() => {});
    throw e;
  }
}

/**
 * @param browser  launchBrowser()'s handle
 * @param app      startServer()'s handle: its /test.html is the redirect URI
 * @param provider startProvider()'s handle
 * @param [opts.user='user-1']  the login name (devInteractions takes any, and any password)
 */
export async function oidcLogin(browser, app, provider, { user = 'user-1' } = {}) {
  const { tab, page, redirectUri } = await authorize(browser, app, provider, { user, clientId: CLIENT_ID });
  try {
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

/**
 * The code + PKCE login of a DPoP app: the refresher first (dpop: true, no tokens), the code
 * exchanged with its proof, then setTokens. See the note at the top.
 * @param [opts.options]  createRefresher options (JSON); `endpoint` is merged into the oauth2 one
 * @param [opts.user='user-1']
 */
export async function oidcLoginDpop(browser, app, provider, { user = 'user-1', options = {} } = {}) {
  const { tab, page, redirectUri } = await authorize(browser, app, provider, { user, clientId: DPOP_CLIENT_ID });
  try {
    await installRecorder(page);
    const { body: login, receivedAt, exchanges, createdAt } = await page.evaluate(async ({ token, clientId, redirectUri, options }) => {
      const q = new URLSearchParams(location.search);
      const { verifier, state } = JSON.parse(sessionStorage.getItem('pkce'));
      sessionStorage.removeItem('pkce');
      if (q.get('error')) throw new Error(`authorization error: ${q.get('error')} ${q.get('error_description')}`);
      if (q.get('state') !== state) throw new Error('state mismatch');
      history.replaceState(null, '', location.pathname);
      // The refresher first: its key signs the code exchange, so the tokens are bound to it.
      window.r = await ft.createRefresher({
        ...options,
        dpop: true,
        endpoint: { url: token, preset: 'oauth2', clientId, ...(options.endpoint ?? {}) },
      });
      listen(r);
      const createdAt = Date.now();
      const exchanges = [];
      const form = new URLSearchParams({
        grant_type: 'authorization_code', code: q.get('code'), redirect_uri: redirectUri,
        client_id: clientId, code_verifier: verifier,
      }).toString();
      let nonce;
      for (;;) {
        const proof = await r.dpopProof('POST', token, nonce ? { nonce } : undefined);
        if (typeof proof !== 'string') throw new Error(`dpopProof gave a ${typeof proof}, not a string`);
        const res = await fetch(token, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', DPoP: proof },
          body: form,
        });
        const body = await res.json();
        const nonceOut = res.headers.get('DPoP-Nonce');
        exchanges.push({ status: res.status, error: body.error ?? null, nonceIn: nonce ?? null, nonceOut });
        if (res.status === 400 && body.error === 'use_dpop_nonce' && nonceOut && !nonce) { nonce = nonceOut; continue; }
        if (res.status !== 200) throw new Error(`code exchange answered ${res.status}: ${JSON.stringify(body)}`);
        const receivedAt = Date.now();
        r.setTokens({ accessToken: body.access_token, refreshToken: body.refresh_token, expiresIn: body.expires_in });
        return { body, receivedAt, exchanges, createdAt };
      }
    }, { token: provider.endpoints.token, clientId: DPOP_CLIENT_ID, redirectUri, options });
    for (const k of ['access_token', 'refresh_token', 'id_token']) {
      if (typeof login[k] !== 'string') throw new Error(`the code exchange gave no ${k}: fields ${Object.keys(login)}`);
    }
    return { tab, page, login, receivedAt, exchanges, createdAt };
  } catch (e) {
    await tab.close().catch(() => {});
    throw e;
  }
}

/** `window.events` (each { e, t, d, code, message, fromOtherTab }), `listen(r)`, `count(e)`, `errorOf(err)` in the page. */
export function installRecorder(page) {
  return page.evaluate(() => {
    window.events = [];
    window.listen = (r) => {
      for (const e of ['refresh', 'refresh-error', 'session-expired', 'logout', 'schedule']) {
        r.on(e, (d) => {
          let copy = null;
          try { copy = JSON.parse(JSON.stringify(d ?? null)); } catch { copy = String(d); }
          events.push({ e, t: Date.now(), d: copy, code: d?.error?.code, message: d?.error?.message, fromOtherTab: !!d?.fromOtherTab });
        });
      }
    };
    window.count = (e) => events.filter((x) => x.e === e).length;
    window.errorOf = (err) => ({
      name: err?.name, code: err?.code, rejected: err?.rejected, status: err?.status,
      oauthError: err?.oauthError, oauthErrorDescription: err?.oauthErrorDescription, message: String(err?.message),
    });
  });
}
