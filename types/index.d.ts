// Type declarations for `freshtoken`: keeps a web app's access token fresh.

/**
 * Loads and instantiates the wasm module. Idempotent: every call returns the same promise,
 * and a failed load may be retried by calling again.
 * @param wasm where to load the module from (URL, `Response`, bytes or a `WebAssembly.Module`);
 *   by default the `freshtoken_bg.wasm` shipped in the package, located with
 *   `new URL(..., import.meta.url)` so Vite and webpack 5 bundle it without configuration.
 */
declare function init(wasm?: InitInput): Promise<void>;
export default init;
export { init };

/** What `init()` accepts as the wasm module. */
export type InitInput = string | URL | Request | Response | BufferSource | WebAssembly.Module;

/**
 * Creates a refresher, loading the wasm first if needed.
 * @throws {OptionsError} (rejects) when an option is unknown, of the wrong type or out of range.
 */
export function createRefresher(options: RefresherOptions): Promise<Refresher>;

/**
 * Decodes when a JWT or a PubNub Access Manager v3 token expires. Synchronous once `init()`
 * has resolved; before that it throws a `FreshtokenError` with code `not-initialized`.
 * @throws {TokenDecodeError} on malformed input, with a `code` and a message saying what is
 *   wrong (never the token itself). The wasm instance keeps working after any input.
 */
export function decodeToken(token: string): TokenInfo;

/** What `decodeToken` reads from a token. */
export interface TokenInfo {
  format: 'jwt' | 'pubnub';
  /** ms since epoch (JWT `exp`, or PubNub `t + ttl`). */
  expiresAt: number;
  /** ms since epoch (JWT `iat`, PubNub `t`), or null when the token does not say. */
  issuedAt: number | null;
  /** `expiresAt - issuedAt` when both are known. */
  lifetimeMs: number | null;
  /** The JWT payload, or the PubNub token's fields. */
  claims: Record<string, unknown>;
}

/** A session as the app or a refresh gives it. */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  /** ms since epoch; overrides the token's own expiry. */
  expiresAt?: number;
  /** seconds, relative to when the SDK received it. */
  expiresIn?: number;
  /** ms since epoch when these tokens were received (for tokens restored from the app's own storage); default: now. */
  receivedAt?: number;
}

/** Context handed to a custom `refresh` function. */
export interface RefreshContext {
  accessToken: string | null;
  refreshToken: string | null;
  /** Aborted after `refreshTimeoutMs`, on `logout()`, `setTokens()` (reason: a `SessionError` `superseded`) and on `dispose()`. */
  signal: AbortSignal;
  /** A fetch that no freshtoken interceptor touches: the refresh's own requests, never held. */
  fetch: typeof fetch;
}

/** A storage for the session: `localStorage`-like. Errors it throws are swallowed (memory is kept). */
export interface StorageAdapter {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The built-in refresh over HTTP; see "Server contracts" in the README. */
export interface EndpointOptions {
  url: string;
  /** Default: `PUT` for `bearer-put`, `POST` otherwise. */
  method?: 'POST' | 'PUT';
  /**
   * - `json`: POST `{"refreshToken"}`, reads `accessToken`, `refreshToken?`, `expiresIn?`
   * - `sanic-jwt`: POST with `Authorization: Bearer <access>` and `{"refresh_token"}`, reads `access_token`
   * - `bearer-put`: PUT with `Authorization: Bearer <token>`, reads `token`
   * - `oauth2`: RFC 6749 §6 form body, reads `access_token`, `refresh_token`, `expires_in`
   * @default 'json'
   */
  preset?: 'json' | 'sanic-jwt' | 'bearer-put' | 'oauth2';
  credentials?: RequestCredentials;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Extra fields of the request body. */
  params?: Record<string, string>;
  /** `oauth2`: the public client's id, sent as `client_id` (most providers require it). */
  clientId?: string;
  /** `oauth2`: sent as `scope` (e.g. `'openid offline_access'`). */
  scope?: string;
  /** `oauth2`: resource indicator(s) (RFC 8707), each sent as `resource`. */
  resource?: string | string[];
  /**
   * `oauth2`: the provider's revocation endpoint (RFC 7009). `logout()` then revokes the
   * refresh token there, best effort, bounded by `refreshTimeoutMs`, once across tabs.
   */
  revokeUrl?: string;
}

interface RefresherOptionsBase {
  /** The initial session. */
  tokens?: TokenSet;
  /** Fraction of the lifetime at which to refresh, in (0, 1). @default 0.8 */
  refreshAt?: number;
  /** Statuses that trigger one refresh-and-replay. @default [401, 403] */
  retryStatuses?: number[];
  /**
   * A replay answered with one of these ends the session; any other retry status (a 403 with a
   * fresh token: "forbidden") is returned to the caller, the session kept. @default [401]
   */
  endSessionStatuses?: number[];
  /** Origins that receive the `Authorization` header. @default the page's origin only */
  origins?: string[];
  /** Where the session is kept between page loads. @default 'memory' */
  storage?: 'memory' | 'localStorage' | 'sessionStorage' | StorageAdapter;
  /** Key in storage, and the name tabs share with `crossTab`. @default 'freshtoken' */
  storageKey?: string;
  /**
   * One refresh at a time across tabs (Web Locks); results and logout reach every tab.
   * @default true with a shared `storage` (localStorage, sessionStorage, an adapter), else false
   */
  crossTab?: boolean;
  /**
   * Visited (`location.assign`) when the session expires: an http(s) URL or a path, resolved
   * once against the page; any other scheme (`javascript:`, `data:`) is an `OptionsError`.
   */
  loginUrl?: string;
  /** Called once when the session expires. */
  onSessionExpired?: (info: SessionExpiredDetail) => void;
  /** Lifetime of a token whose expiry nothing tells. @default 86_400_000 (24 h) */
  defaultLifetimeMs?: number;
  /** A refresh call is aborted after this long, which counts as a transient failure; at most 2^31-1. @default 15_000 */
  refreshTimeoutMs?: number;
  /** The fetch underneath. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * DPoP (RFC 9449): bind the tokens to a non-extractable ECDSA P-256 key kept in IndexedDB
   * under `storageKey` (shared by crossTab tabs, deleted on logout); requests go with
   * `Authorization: DPoP` and a proof. @default false
   */
  dpop?: boolean;
}

/** Options of `createRefresher`: give exactly one of `endpoint` and `refresh`. */
export type RefresherOptions = RefresherOptionsBase & (
  | { endpoint: EndpointOptions; refresh?: never }
  | {
    /**
     * A custom refresh. Reject with an error that has `sessionExpired: true` to end the
     * session; any other rejection is transient and backs off. Abort work on `ctx.signal`.
     */
    refresh: (ctx: RefreshContext) => Promise<TokenSet>;
    endpoint?: never;
  }
);

/** The session states. */
export type RefresherState = 'idle' | 'fresh' | 'refreshing' | 'expired' | 'logged-out';

/** Detail of `refresh` and `schedule` events. */
export interface ScheduleDetail {
  /** ms since epoch, local clock. */
  expiresAt: number | null;
  /** ms since epoch, local clock. */
  nextRefreshAt: number | null;
  /** Set when another tab made the refresh (`crossTab`). */
  fromOtherTab?: true;
  /** `refresh` only: the answer's other fields (`id_token`, `scope`, `token_type`, ...); null when none came. */
  tokenResponse?: Record<string, unknown> | null;
}

/** Detail of a `refresh-error` event: a transient failure; the session is kept. */
export interface RefreshErrorDetail {
  error: RefreshError;
  /** ms until the next attempt. */
  retryIn: number;
  /** 1 for the first failure in a row. */
  attempt: number;
}

/** Detail of `session-expired`, and the argument of `onSessionExpired`. */
export interface SessionExpiredDetail {
  /**
   * `refresh-rejected` (the server refused the refresh token; OAuth `invalid_grant`),
   * `client-rejected` (an OAuth client-configuration error: `invalid_client`,
   * `invalid_request`, `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`),
   * `request-rejected` (a replay refused again), `no-refresh-token`.
   */
  reason: 'refresh-rejected' | 'client-rejected' | 'request-rejected' | 'no-refresh-token' | (string & {});
  /** The OAuth `error` the token endpoint answered (RFC 6749 §5.2), when it gave one. */
  oauthError?: string;
  /** Its `error_description`. */
  oauthErrorDescription?: string;
}

/** Detail of `forbidden`: a replay with a fresh token was refused again with a status not in `endSessionStatuses`. */
export interface ForbiddenDetail {
  status: number;
}

/** Event name → the detail its listeners get. */
export interface RefresherEvents {
  refresh: ScheduleDetail;
  'refresh-error': RefreshErrorDetail;
  'session-expired': SessionExpiredDetail;
  logout: Record<string, never>;
  schedule: ScheduleDetail;
  forbidden: ForbiddenDetail;
}

/** `RequestInit` plus freshtoken's per-request option. */
export interface FreshtokenRequestInit extends RequestInit {
  /** Opt this request out of the refresh-and-replay on 401/403 (the token is still attached). */
  skipAuthRefresh?: boolean;
}

/** Keeps one session's access token fresh. Made by `createRefresher`. */
export declare class Refresher {
  private constructor();
  /** Starts or replaces the session (after login). @throws {OptionsError} on a malformed set */
  setTokens(tokens: TokenSet): void;
  /** A token not past its refresh point; refreshes first (shared) if needed. */
  getAccessToken(): Promise<string>;
  /** Forces a refresh; concurrent callers share one promise. */
  refresh(): Promise<string>;
  /**
   * The token to retry with after a server refused `used` (a transport freshtoken does not
   * wrap: a WebSocket, a PubNub client): the token that replaced `used` already, else the
   * token of one refresh shared with every other caller. Rejects as `getAccessToken` does,
   * or with a `SessionError` when the session ended meanwhile.
   * @throws {OptionsError} (`bad-argument`) when `used` is not a non-empty string
   */
  tokenAfterRejection(used: string): Promise<string>;
  /**
   * `fetch` with `Authorization: Bearer` for allowed origins only, a wait for any refresh in
   * flight, and on 401/403 one shared refresh and one replay with the body intact. A second
   * 401/403 emits `session-expired` and resolves with that response.
   */
  fetch(input: RequestInfo | URL, init?: FreshtokenRequestInit): Promise<Response>;
  /** Patches `target.fetch` (default `globalThis`) to go through `refresher.fetch`; returns the uninstall. */
  installFetchInterceptor(target?: { fetch: typeof fetch }): () => void;
  /** Listens to an event; returns the unsubscribe. @throws {OptionsError} on an unknown event */
  on<E extends keyof RefresherEvents>(event: E, listener: (detail: RefresherEvents[E]) => void): () => void;
  /**
   * Clears tokens, storage and timers at once (in every tab with `crossTab`). With
   * `endpoint.revokeUrl` it also revokes the refresh token at the provider; the promise
   * resolves when that is done or given up (it never rejects).
   */
  logout(): Promise<void>;
  /** The last refresh answer's other fields (`id_token`, `scope`, `token_type`, ...), or null. */
  readonly tokenResponse: Record<string, unknown> | null;
  /**
   * With `dpop: true`: a DPoP proof (RFC 9449) signed with this refresher's key, for a call the
   * app makes itself (the login's code exchange, so its tokens are bound to the same key);
   * `nonce`: the one the server just asked for. Its `iat` is on `url`'s server's clock (its own
   * `Date` headers, else the refresh endpoint's), never another API's.
   * @throws {OptionsError} without `dpop: true`, or for a `url` that is not http(s)
   * (`javascript:`, `data:`, `blob:`, `ftp:`)
   */
  dpopProof(method: string, url: string, options?: { nonce?: string }): Promise<string>;
  /** Cancels every timer and listener and frees the wasm memory; the refresher is unusable after. */
  dispose(): void;
  readonly accessToken: string | null;
  /** ms since epoch, local clock. */
  readonly expiresAt: number | null;
  /** ms since epoch, local clock. */
  readonly nextRefreshAt: number | null;
  readonly state: RefresherState;
  /** What `JSON.stringify(refresher)` shows (a log line, a state snapshot): never a token. */
  toJSON(): { state: RefresherState; expiresAt: number | null; nextRefreshAt: number | null };
}

/**
 * The base class of every error freshtoken throws, each with a stable `name` and `code`;
 * messages never carry a token. Thrown itself for misuse of the SDK: before `init()`, after
 * `dispose()`, a hook without its provider, or a wasm module that could not be loaded.
 * The classes are exported so `err instanceof RefreshError` works.
 */
export declare class FreshtokenError extends Error {
  constructor(code: string, message: string, props?: Record<string, unknown>);
  name: 'FreshtokenError' | 'OptionsError' | 'TokenDecodeError' | 'RefreshError' | 'SessionError';
  /** Its own: 'not-initialized' | 'disposed' | 'no-provider' | 'wasm-load-failed' | 'tabs-load-failed' | 'dpop-load-failed'; a subclass's otherwise. */
  code: 'not-initialized' | 'disposed' | 'no-provider' | 'wasm-load-failed' | 'tabs-load-failed' | 'dpop-load-failed' | (string & {});
}
/** A wrong option (unknown name, wrong type, out of range). */
export declare class OptionsError extends FreshtokenError {
  name: 'OptionsError';
  code: 'bad-option' | 'bad-event' | 'bad-listener' | 'bad-target' | 'bad-argument' | (string & {});
}
/** A token `decodeToken` cannot read. */
export declare class TokenDecodeError extends FreshtokenError {
  name: 'TokenDecodeError';
  code: 'bad-type' | 'bad-format' | 'bad-base64' | 'bad-utf8' | 'bad-json' | 'bad-cbor' | 'no-expiry'
    | 'bad-claim' | 'too-large' | 'encrypted' | 'bad-version';
}
/** A failed refresh. `rejected` means the server refused the refresh token (the session ends). */
export declare class RefreshError extends FreshtokenError {
  name: 'RefreshError';
  code: 'network' | 'timeout' | 'http' | 'bad-response' | 'bad-expiry' | 'rejected' | 'no-refresh-token' | 'failed'
    | 'refused-origin' | TokenDecodeError['code'];
  status?: number;
  retryAfterMs?: number;
  rejected?: boolean;
  /** `oauth2`: the OAuth `error` of the answer (RFC 6749 §5.2), e.g. `invalid_grant`. */
  oauthError?: string;
  /** `oauth2`: its `error_description`. */
  oauthErrorDescription?: string;
  /** Set on a request's wait for a token that outlasted `refreshTimeoutMs` during a backoff. */
  late?: boolean;
}
/** The session is over or absent. */
export declare class SessionError extends FreshtokenError {
  name: 'SessionError';
  code: 'session-expired' | 'logged-out' | 'no-session' | 'superseded';
}
