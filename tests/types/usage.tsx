// A typed app using every entry of the package by its published name (resolved through
// package.json `exports`, types first). `tsc -p tests/types` must pass on this file; the
// `@ts-expect-error` lines are misuse the declarations must refuse (tsc fails if one is
// accepted).
import init, { createRefresher, decodeToken, Refresher, FreshtokenError, RefreshError, TokenDecodeError, SessionError } from 'freshtoken';
import type { TokenInfo, TokenSet, RefresherOptions, RefresherState } from 'freshtoken';
import { attachAxios } from 'freshtoken/axios';
import { attachPubNub, isAccessDenied } from 'freshtoken/pubnub';
import { RefresherProvider, useAccessToken, useFreshtoken, useRefresher } from 'freshtoken/react';
import { freshtokenPlugin, useAccessToken as useVueToken, useFreshtoken as useVueFreshtoken } from 'freshtoken/vue';
import 'freshtoken/tabs';
import axios from 'axios';
import PubNub from 'pubnub';
import { createApp, defineComponent, h } from 'vue';

export async function main(): Promise<void> {
  await init();
  await init(new URL('/freshtoken_bg.wasm', location.href));

  const info: TokenInfo = decodeToken('eyJ...');
  const when: number = info.expiresAt;
  const lifetime: number | null = info.lifetimeMs;
  if (info.format === 'pubnub') console.log(info.claims.ttl, when, lifetime);

  const login: TokenSet = { accessToken: 'a', refreshToken: 'r', expiresIn: 900 };
  const refresher = await createRefresher({
    tokens: login,
    endpoint: { url: '/auth/refresh', preset: 'sanic-jwt', credentials: 'include', headers: { 'x-app': '1' } },
    origins: [location.origin, 'https://api.example.com'],
    storage: 'localStorage',
    crossTab: true,
    refreshAt: 0.75,
    onSessionExpired: ({ reason }) => console.log(reason.length),
  });
  // An OpenID provider's token endpoint (public client), with revocation on logout.
  const oidc = await createRefresher({
    tokens: login,
    endpoint: {
      url: 'https://id.example.com/token', preset: 'oauth2', clientId: 'spa', scope: 'openid offline_access',
      resource: ['https://api.example.com'], revokeUrl: 'https://id.example.com/token/revocation',
    },
    origins: ['https://api.example.com'],
  });
  oidc.on('session-expired', ({ reason, oauthError, oauthErrorDescription }) => {
    if (reason === 'client-rejected') console.log(oauthError?.length, oauthErrorDescription?.length);
  });
  oidc.on('refresh', ({ tokenResponse }) => console.log(tokenResponse?.id_token));
  const idToken: unknown = oidc.tokenResponse?.id_token;
  console.log(idToken);
  const revoked: Promise<void> = oidc.logout();
  await revoked;
  // @ts-expect-error clientId is a string
  await createRefresher({ endpoint: { url: '/t', preset: 'oauth2', clientId: 42 } });
  const custom: RefresherOptions = {
    refresh: async ({ refreshToken, signal }) => {
      const res = await fetch('/oauth/token', { method: 'POST', body: refreshToken ?? '', signal });
      return { accessToken: (await res.json()).access_token as string };
    },
    storage: { getItem: () => null, setItem: () => {}, removeItem: () => {} },
  };
  await createRefresher(custom);

  const token: string = await refresher.getAccessToken();
  const again: string = await refresher.refresh();
  const retryWith: string = await refresher.tokenAfterRejection(again);
  const res: Response = await refresher.fetch('/api/me', { method: 'POST', body: JSON.stringify({ token, again }) });
  const uninstall: () => void = refresher.installFetchInterceptor();
  uninstall();
  const off = refresher.on('refresh-error', ({ error, retryIn, attempt }) => {
    const e: RefreshError = error;
    console.log(e.code, e.status, retryIn, attempt);
  });
  refresher.on('schedule', (d) => console.log(d.nextRefreshAt ?? 0));
  try {
    decodeToken('not a token');
  } catch (err) {
    // The error classes narrow with instanceof.
    if (err instanceof TokenDecodeError) {
      const code: TokenDecodeError['code'] = err.code;
      console.log(code === 'bad-type', err.name);
    } else if (err instanceof FreshtokenError) {
      console.log(err.code, err.message);
    }
  }
  const sessionCode: SessionError['code'] = 'no-session';
  console.log(sessionCode, new FreshtokenError('not-initialized', 'x') instanceof Error);
  off();
  const state: RefresherState = refresher.state;
  const current: string | null = refresher.accessToken;
  console.log(res.status, state, current, refresher.expiresAt, refresher.nextRefreshAt, refresher instanceof Refresher);

  const api = axios.create({ baseURL: 'https://api.example.com' });
  const detachAxios: () => void = attachAxios(refresher, api);
  detachAxios();

  const pubnub = new PubNub({ publishKey: 'pub', subscribeKey: 'sub', userId: 'u1' });
  const detachPubNub = attachPubNub(refresher, pubnub, { mode: 'token' });
  detachPubNub();
  console.log(isAccessDenied({ category: 'PNAccessDeniedCategory' }));

  const app = createApp(defineComponent({
    setup() {
      const t = useVueToken();
      return () => h('p', t.value ?? 'signed out');
    },
  }));
  app.use(freshtokenPlugin, { refresher });
  createApp({}).use(freshtokenPlugin, { refresher: createRefresher(custom) });
  createApp({}).use(freshtokenPlugin, { options: { endpoint: { url: '/auth/refresh' } } });
  createApp(defineComponent({
    setup() {
      const { accessToken, isLoading, state, error, fetch: authFetch } = useVueFreshtoken();
      const loading: boolean = isLoading.value;
      void authFetch('/api/me');
      return () => h('p', loading ? 'loading' : `${state.value}: ${accessToken.value ?? ''} ${error.value?.message ?? ''}`);
    },
  }));

  // --- misuse the declarations refuse ---
  // @ts-expect-error decodeToken takes a string
  decodeToken(42);
  // @ts-expect-error a refresher needs a way to refresh: endpoint or refresh
  await createRefresher({ origins: ['https://a.example'] });
  // @ts-expect-error endpoint and refresh are exclusive
  await createRefresher({ endpoint: { url: '/r' }, refresh: async () => login });
  // @ts-expect-error unknown preset
  await createRefresher({ endpoint: { url: '/r', preset: 'graphql' } });
  // @ts-expect-error unknown option (typo of refreshAt)
  await createRefresher({ endpoint: { url: '/r' }, refreshAtt: 0.8 });
  // @ts-expect-error unknown event
  refresher.on('refreshed', () => {});
  // @ts-expect-error state is read-only
  refresher.state = 'fresh';
  // @ts-expect-error accessToken is read-only
  refresher.accessToken = 'x';
  // @ts-expect-error a TokenSet needs accessToken
  refresher.setTokens({ refreshToken: 'r' });
  // @ts-expect-error mode is 'token' or 'authKey'
  attachPubNub(refresher, pubnub, { mode: 'jwt' });
  // @ts-expect-error a SessionError's code is one of its own
  const wrongCode: SessionError['code'] = 'network';
  console.log(wrongCode);
  // @ts-expect-error the Vue plugin takes a refresher or options, not both
  createApp({}).use(freshtokenPlugin, { refresher, options: { endpoint: { url: '/r' } } });
  // @ts-expect-error the Refresher is made by createRefresher, not new
  new Refresher();
}

function Profile() {
  const token = useAccessToken();
  const r: Refresher | null = useRefresher();
  return <p data-state={r?.state ?? 'loading'}>{token ?? 'signed out'}</p>;
}

function Session() {
  const { accessToken, state, isLoading, error, refresher, fetch: authFetch, logout } = useFreshtoken();
  if (isLoading) return <p>loading</p>;
  if (error instanceof RefreshError) console.log(error.code, error.status);
  const s: RefresherState | 'loading' | 'error' = state;
  return <button data-ready={refresher !== null} onClick={() => { void authFetch('/api/me'); logout(); }}>{s} {accessToken}</button>;
}

export function App({ refresher }: { refresher: Refresher }) {
  return (
    <RefresherProvider refresher={refresher}>
      <Profile />
      <Session />
    </RefresherProvider>
  );
}

export function LazyApps() {
  return (
    <>
      <RefresherProvider refresher={createRefresher({ endpoint: { url: '/auth/refresh' } })}><Session /></RefresherProvider>
      <RefresherProvider options={{ endpoint: { url: '/auth/refresh' }, storage: 'sessionStorage' }}><Session /></RefresherProvider>
      <RefresherProvider refresher={null}><Session /></RefresherProvider>
      {/* @ts-expect-error a refresher or options, not both */}
      <RefresherProvider refresher={null} options={{ endpoint: { url: '/r' } }}><Session /></RefresherProvider>
    </>
  );
}
