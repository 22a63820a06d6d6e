// A real OpenID provider (oidc-provider 9.13.3, not a mock) and a small resource API that
// trusts it, for the OAuth 2 browser tests (tests/browser/oidc.test.mjs, issue 20).
//
//   const provider = await startProvider({ appOrigin, accessTtl: 4 });
//   provider.issuer; provider.endpoints.token; provider.tokenCalls; provider.grantErrors;
//   await provider.introspect(refreshToken);      // { active, ... } as the provider answers
//   await provider.revokeGrantOf(refreshToken);   // the user revokes the app's grant
//   await provider.close();
//
//   const provider = await startProvider({ appOrigin, dpop: { requireNonce: false } });
//   provider.dpop.requireNonce = true;             // DPoP nonces required from now on
//   (the DPoP client `dpop-app` and its settings: see startProvider; the DPoP resource API is
//   tests/support/oidc-dpop.mjs, the DPoP login oidcLoginDpop in oidc-login.mjs)
//
//   const api = await startResourceApi({ provider, appOrigin });
//   api.url + '/data'; api.requests (each { token, ok, reason, t }); await api.close();
//
// The provider, on 127.0.0.1 with a random port:
//   - client `app`: public (token_endpoint_auth_method 'none', so PKCE S256 is required),
//     authorization_code + refresh_token, redirect URI `${appOrigin}/test.html`; CORS only for
//     appOrigin (clientBasedCORS). Public clients get rotating refresh tokens (oidc-provider's
//     default rotateRefreshToken): a reused refresh token is refused with invalid_grant
//     ('refresh token already used', in grantErrors) and the whole grant revoked;
//   - client `introspector`: confidential (client_secret_basic), used only from node to
//     introspect the app's tokens;
//   - refresh tokens for `app` with scope offline_access (and prompt=consent, as OpenID
//     Connect wants);
//   - resource indicators: every access token is a JWT (typ at+jwt, ES256) for the API's
//     resource RESOURCE, scope api:read, living `accessTtl` seconds;
//   - revocation and introspection endpoints; devInteractions (the built-in login and consent
//     pages: any login name, any password) which the tests fill in with playwright.
// Every call to the token and revocation endpoints is recorded with its form fields, its DPoP
// proof (dpop) and the provider's answer (tokenCalls, revocationCalls; dpopNonce: the answer's
// DPoP-Nonce), and every grant error with the provider's
// internal detail (grantErrors).
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import express from 'express';
import { generateKeyPair, exportJWK, createLocalJWKSet, jwtVerify } from 'jose';

/** The API's resource indicator (RFC 8707): the audience of every access token. */
export const RESOURCE = 'https://api.freshtoken.test/';
export const CLIENT_ID = 'app';
/** The DPoP client (RFC 9449), present when startProvider is given `dpop`. */
export const DPOP_CLIENT_ID = 'dpop-app';
export const SCOPE = 'openid offline_access api:read';

let keysPromise;
/** One RSA key (ID tokens, RS256) and one EC key (access tokens, ES256) per test process. */
function signingKeys() {
  keysPromise ??= (async () => {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const ec = await generateKeyPair('ES256', { extractable: true });
    return [
      { ...(await exportJWK(rsa.privateKey)), kid: 'rs', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.privateKey)), kid: 'es', alg: 'ES256', use: 'sig' },
    ];
  })();
  return keysPromise;
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

function closer(server) {
  let closed;
  return () => {
    closed ??= new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
    return closed;
  };
}

/**
 * Starts the provider.
 * @param {object} opts
 * @param {string} opts.appOrigin  the test page's origin: redirect URI and the one CORS origin
 * @param {number} [opts.accessTtl=4]  access-token lifetime, seconds
 * @param {number} [opts.refreshTtl=3600]  refresh-token lifetime, seconds
 * @param {boolean|{requireNonce?: boolean}} [opts.dpop]  adds the public client `dpop-app`
 *   (dpop_bound_access_tokens: true), DPoP nonces (features.dPoP.nonceSecret) and a
 *   requireNonce hook reading the handle's `dpop.requireNonce` (mutable; false unless given):
 *   see the DPoP note below
 */
export async function startProvider({ appOrigin, accessTtl = 4, refreshTtl = 3600, dpop } = {}) {
  if (!appOrigin) throw new Error('startProvider: appOrigin is required');
  const introspectorSecret = randomBytes(24).toString('base64url');
  const server = createServer();
  const issuer = await listen(server);

  // DPoP (RFC 9449; oidc-provider 9: features.dPoP, on by default). With `dpop`:
  //   - client `dpop-app`: public (PKCE), dpop_bound_access_tokens: true, so its code
  //     exchange and every refresh must carry a DPoP proof ('DPoP proof JWT not provided'
  //     otherwise); its access tokens carry cnf.jkt and token_type DPoP, and its refresh
  //     tokens are bound to the same jkt (a refresh with another key: invalid_grant, detail
  //     'failed jkt verification');
  //   - features.dPoP.nonceSecret (32 random bytes): the provider issues DPoP-Nonce values
  //     (HKDF of the secret and the minute, valid +-2 minutes) on token answers (and exposes
  //     the header to CORS callers); requireNonce(ctx) returns `handle.dpop.requireNonce`,
  //     and when true a proof without a valid nonce gets 400
  //     {"error":"use_dpop_nonce","error_description":"nonce is required in the DPoP proof"}
  //     with a DPoP-Nonce header;
  //   - allowReplay false (the default): a proof's jti is single-use;
  //   - rotateRefreshToken: always for `dpop-app` (oidc-provider's default does not rotate a
  //     sender-constrained public client's refresh token), the default for the others.
  const dpopState = dpop ? { clientId: DPOP_CLIENT_ID, requireNonce: !!(typeof dpop === 'object' && dpop.requireNonce) } : null;
  const dpopClients = dpop ? [{
    client_id: DPOP_CLIENT_ID,
    token_endpoint_auth_method: 'none',
    application_type: 'web',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [`${appOrigin}/test.html`],
    dpop_bound_access_tokens: true,
  }] : [];
  const corsClients = new Set([CLIENT_ID, ...dpopClients.map((c) => c.client_id)]);

  const configuration = {
    clients: [
      ...dpopClients,
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'none',
        application_type: 'web',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [`${appOrigin}/test.html`],
      },
      {
        client_id: 'introspector',
        client_secret: introspectorSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys: await signingKeys() },
    cookies: { keys: [randomBytes(24).toString('base64url')] },
    scopes: ['openid', 'offline_access', 'api:read'],
    claims: { openid: ['sub'], email: ['email'] },
    pkce: { required: () => true },
    findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    clientBasedCORS: (ctx, origin, client) => corsClients.has(client.clientId) && origin === appOrigin,
    ttl: {
      AccessToken: accessTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: refreshTtl,
      Grant: 3600,
      Session: 3600,
      Interaction: 600,
    },
    ...(dpop ? {
      rotateRefreshToken: (ctx) => {
        const { RefreshToken: rt, Client: client } = ctx.oidc.entities;
        if (client.clientId === DPOP_CLIENT_ID) return true;
        // oidc-provider 9.13.3's default, for the other clients.
        if (rt.totalLifetime() >= 365.25 * 24 * 60 * 60) return false;
        if (client.clientAuthMethod === 'none' && !rt.isSenderConstrained()) return true;
        return rt.ttlPercentagePassed() >= 70;
      },
    } : {}),
    features: {
      ...(dpop ? {
        dPoP: {
          enabled: true,
          nonceSecret: randomBytes(32),
          requireNonce: () => dpopState.requireNonce,
          allowReplay: false,
        },
      } : {}),
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, indicator) => {
          if (indicator !== RESOURCE) throw new Provider.errors.InvalidTarget();
          return { scope: 'api:read', audience: RESOURCE, accessTokenTTL: accessTtl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        },
      },
    },
    // The default is an HTML page; a JSON body keeps an unexpected one readable in a failure.
    renderError: (ctx, out) => { ctx.type = 'json'; ctx.body = out; },
  };
  const provider = new Provider(issuer, configuration);

  const tokenCalls = [];       // { t, params, status, body, origin }
  const revocationCalls = [];  // { t, params, status, origin }
  const grantErrors = [];      // { t, error, description, detail }
  const grantsRevoked = [];    // grant ids revoked by the provider (reuse, revocation)

  provider.use(async (ctx, next) => {
    const t = Date.now();
    await next();
    const route = ctx.oidc?.route;
    if (route !== 'token' && route !== 'revocation') return;
    if (ctx.method !== 'POST') return;
    const entry = {
      t, done: Date.now(), params: { ...(ctx.oidc.body ?? {}) }, status: ctx.status, origin: ctx.get('origin') || null,
      // DPoP: the proof the call carried, and the nonce the answer gave (null: none).
      dpop: ctx.get('dpop') || null, dpopNonce: ctx.response.get('dpop-nonce') || null,
    };
    if (route === 'token') tokenCalls.push({ ...entry, body: ctx.body && typeof ctx.body === 'object' ? { ...ctx.body } : ctx.body });
    else revocationCalls.push(entry);
  });
  provider.on('grant.error', (ctx, err) => {
    grantErrors.push({ t: Date.now(), error: err.error, description: err.error_description, detail: err.error_detail ?? null });
  });
  provider.on('grant.revoked', (ctx, grantId) => grantsRevoked.push(grantId));
  // Unexpected server errors should fail loudly, not as an opaque 500.
  const serverErrors = [];
  provider.on('server_error', (ctx, err) => serverErrors.push(String(err && err.stack || err)));

  server.on('request', provider.callback());
  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const endpoints = {
    authorization: discovery.authorization_endpoint,
    token: discovery.token_endpoint,
    revocation: discovery.revocation_endpoint,
    introspection: discovery.introspection_endpoint,
    jwks: discovery.jwks_uri,
  };
  const jwks = await (await fetch(endpoints.jwks)).json();

  return {
    issuer,
    provider,
    endpoints,
    jwks,
    tokenCalls,
    revocationCalls,
    grantErrors,
    grantsRevoked,
    serverErrors,
    /** With `dpop`: { clientId, requireNonce } (set requireNonce to require nonces from now on). */
    dpop: dpopState,
    /** The refresh_token grant calls only. */
    refreshCalls: () => tokenCalls.filter((c) => c.params.grant_type === 'refresh_token'),
    /** What the provider answers its introspection endpoint about `token` (RFC 7662). */
    async introspect(token, hint = 'refresh_token') {
      const res = await fetch(endpoints.introspection, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`introspector:${introspectorSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token, token_type_hint: hint }).toString(),
      });
      if (res.status !== 200) throw new Error(`introspection answered ${res.status}: ${await res.text()}`);
      return res.json();
    },
    /**
     * Revokes, in the provider's own store, the whole grant `refreshToken` belongs to (what
     * an account page's "remove this app" does): the grant, its refresh tokens, access
     * tokens and codes. Returns the grant id.
     */
    async revokeGrantOf(refreshToken) {
      const rt = await provider.RefreshToken.find(refreshToken);
      if (!rt) throw new Error('revokeGrantOf: the provider does not know this refresh token');
      const { grantId } = rt;
      await Promise.all([
        provider.AccessToken.revokeByGrantId(grantId),
        provider.RefreshToken.revokeByGrantId(grantId),
        provider.AuthorizationCode.revokeByGrantId(grantId),
        provider.Grant.adapter.destroy(grantId),
      ]);
      return grantId;
    },
    close: closer(server),
  };
}

/**
 * The API's leeway on `exp`, seconds. oidc-provider writes `iat`/`exp` in whole seconds
 * (`exp = floor(issue time) + ttl`) while a client counts `expires_in` from receipt, so a
 * token's `exp` can fall up to 1 s before the instant its client believes; with 4 s tokens
 * that is a quarter of the life. One second of leeway (jose's clockTolerance) absorbs exactly
 * that truncation; a token past it is refused.
 */
export const LEEWAY_S = 1;

/**
 * The resource API on its own origin: GET /data answers 200 to `Authorization: Bearer <JWT>`
 * only if the JWT is an access token of this provider (signature from its JWKS, typ at+jwt,
 * iss, aud = RESOURCE) and not expired (past `exp` + LEEWAY_S); 401 otherwise. CORS for
 * appOrigin. Every request is recorded: { t, token, ok, reason } (reason: jose's error code).
 */
export async function startResourceApi({ provider, appOrigin }) {
  const keys = createLocalJWKSet(provider.jwks);
  const requests = [];
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    if (req.get('origin') === appOrigin) {
      res.set('access-control-allow-origin', appOrigin);
      res.set('vary', 'origin');
    }
    if (req.method === 'OPTIONS') {
      res.set('access-control-allow-headers', 'authorization');
      res.set('access-control-allow-methods', 'GET');
      res.set('access-control-max-age', '600');
      return res.status(204).end();
    }
    next();
  });
  app.get('/data', async (req, res) => {
    const t = Date.now();
    const m = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
    const token = m ? m[1] : null;
    let ok = false;
    let reason = 'no bearer token';
    let sub;
    if (token) {
      try {
        const { payload } = await jwtVerify(token, keys, {
          issuer: provider.issuer, audience: RESOURCE, typ: 'at+jwt', algorithms: ['ES256'], clockTolerance: LEEWAY_S,
        });
        ok = true; reason = null; sub = payload.sub;
      } catch (e) {
        reason = e.code ?? String(e);
      }
    }
    requests.push({ t, token, ok, reason });
    if (!ok) {
      res.set('www-authenticate', 'Bearer error="invalid_token"');
      return res.status(401).json({ error: 'invalid_token' });
    }
    res.json({ ok: true, sub });
  });
  const server = createServer(app);
  const url = await listen(server);
  return { url, requests, close: closer(server) };
}
