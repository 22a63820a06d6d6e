// Type declarations for `freshtoken/react` (React 18+). The module starts with 'use client'.
import type { ReactNode, ReactElement } from 'react';
import type { FreshtokenError, Refresher, RefresherOptions, RefresherState, TokenSet } from './index.js';

/**
 * Props of `RefresherProvider`: give exactly one of
 * - `refresher`: a Refresher (ready at once), a Promise of one (loading until it settles; a
 *   rejection becomes the hooks' `error`), or null (loading);
 * - `options`: createRefresher options. The provider creates the refresher after mount (in the
 *   browser only, never while rendering on the server) and disposes it on unmount. Read once
 *   at mount: change the provider's `key` to start over with other options.
 */
export type RefresherProviderProps =
  | { refresher: Refresher | Promise<Refresher> | null; options?: never; children?: ReactNode }
  | { options: RefresherOptions; refresher?: never; children?: ReactNode };

/**
 * Makes a refresher available to `useFreshtoken`, `useRefresher` and `useAccessToken` below it.
 * Renders on the server (SSR, a Server Component's child) without touching browser globals.
 * @throws {OptionsError} code `bad-option` with neither `refresher` nor `options`.
 */
export function RefresherProvider(props: RefresherProviderProps): ReactElement;

/** What `useFreshtoken()` returns. */
export interface FreshtokenState {
  /** The current access token; null when signed out, on the server and while loading. */
  accessToken: string | null;
  /** 'loading' before the refresher exists, 'error' when it could not be created, else its state. */
  state: RefresherState | 'loading' | 'error';
  /** True on the server and until the refresher exists (or failed to be created). */
  isLoading: boolean;
  /**
   * Why the refresher could not be created (e.g. a FreshtokenError `wasm-load-failed`), or the
   * last transient refresh failure (a RefreshError), cleared by the next refresh, new tokens or
   * logout; null otherwise.
   */
  error: FreshtokenError | Error | null;
  /** The refresher, or null on the server and while loading. */
  refresher: Refresher | null;
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
 * The session, re-rendered on every refresher event (refresh, refresh-error, schedule,
 * session-expired, logout). On the server and until the refresher exists: `isLoading: true`,
 * `state: 'loading'`, `accessToken: null`.
 * @throws {FreshtokenError} code `no-provider` without a RefresherProvider above.
 */
export function useFreshtoken(): FreshtokenState;

/**
 * The refresher of the nearest `RefresherProvider`: null on the server (whatever the provider
 * was given) and while it is being created or awaited (the `options` and Promise forms); with a
 * Refresher given to the provider, that one from the first render in the browser (when
 * hydrating, from the render after it).
 * @throws {FreshtokenError} code `no-provider` when there is none.
 */
export function useRefresher(): Refresher | null;

/**
 * The current access token, or null (signed out, on the server, loading); re-renders when it
 * changes. Subscribes once per mount and unsubscribes on unmount (StrictMode-safe).
 * @throws {FreshtokenError} code `no-provider` when there is no provider.
 */
export function useAccessToken(): string | null;
