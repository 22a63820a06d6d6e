// Type declarations for `freshtoken/vue` (Vue 3.3+).
import type { App, ShallowRef } from 'vue';
import type { FreshtokenError, Refresher, RefresherOptions, RefresherState, TokenSet } from './index.js';

/**
 * What the plugin takes: exactly one of
 * - `refresher`: a Refresher (ready at once) or a Promise of one (awaited once the app is mounted);
 * - `options`: createRefresher options; the refresher is created once the app is mounted (in the
 *   browser; never while rendering on the server) and disposed by `app.unmount()`.
 */
export type FreshtokenPluginOptions =
  | { refresher: Refresher | Promise<Refresher>; options?: never }
  | { options: RefresherOptions; refresher?: never };

/**
 * Vue plugin: `app.use(freshtokenPlugin, { refresher })` or `app.use(freshtokenPlugin, { options })`.
 * Throws an `OptionsError` (code `bad-option`) with neither.
 */
export declare const freshtokenPlugin: {
  install(app: App, options: FreshtokenPluginOptions): void;
};

/** What `useFreshtoken()` returns: refs, updated on every refresher event, and actions. */
export interface FreshtokenRefs {
  /** The current access token; null when signed out, on the server and while loading. */
  accessToken: Readonly<ShallowRef<string | null>>;
  /** 'loading' before the refresher exists, 'error' when it could not be created, else its state. */
  state: Readonly<ShallowRef<RefresherState | 'loading' | 'error'>>;
  /** True on the server and until the refresher exists (or failed to be created). */
  isLoading: Readonly<ShallowRef<boolean>>;
  /** Why the refresher could not be created, or the last transient refresh failure (a RefreshError). */
  error: Readonly<ShallowRef<FreshtokenError | Error | null>>;
  /** The refresher, or null on the server and while loading. */
  refresher: Readonly<ShallowRef<Refresher | null>>;
  /** `refresher.fetch`, waiting for the refresher first. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** `refresher.getAccessToken`, waiting for the refresher first. */
  getAccessToken(): Promise<string>;
  /** `refresher.refresh`, waiting for the refresher first. */
  refresh(): Promise<string>;
  /** `refresher.logout`. @throws {FreshtokenError} code `not-initialized` before the refresher exists. */
  logout(): void;
  /** `refresher.setTokens`. @throws {FreshtokenError} code `not-initialized` before the refresher exists. */
  setTokens(tokens: TokenSet): void;
}

/**
 * The session as refs (destructure them: `const { accessToken, isLoading } = useFreshtoken()`).
 * Its listeners are removed when the calling component (or effect scope) is disposed.
 * @throws {FreshtokenError} code `no-provider` when the plugin is not installed.
 */
export function useFreshtoken(): FreshtokenRefs;

/**
 * The plugin's refresher: null on the server (whatever the plugin was given) and while it is
 * being created or awaited; with a Refresher given to the plugin, that one at once in the
 * browser. Not reactive (see `useFreshtoken().refresher`).
 * @throws {FreshtokenError} code `no-provider` when the plugin is not installed.
 */
export function useRefresher(): Refresher | null;

/**
 * A ref holding the current access token (or null: signed out, on the server, loading),
 * updated on every refresher event. Its listeners are removed when the calling component (or
 * effect scope) is disposed.
 */
export function useAccessToken(): Readonly<ShallowRef<string | null>>;
