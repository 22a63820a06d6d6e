// Type declarations for `freshtoken/react` (React 18+).
import type { ReactNode, ReactElement } from 'react';
import type { Refresher } from './index.js';

/** Makes `refresher` available to `useRefresher` and `useAccessToken` below it. */
export function RefresherProvider(props: { refresher: Refresher; children?: ReactNode }): ReactElement;

/**
 * The refresher of the nearest `RefresherProvider`.
 * @throws {FreshtokenError} code `no-provider` when there is none.
 */
export function useRefresher(): Refresher;

/**
 * The current access token, or null; re-renders on refresh, new tokens, expiry and logout.
 * Subscribes once per mount and unsubscribes on unmount (StrictMode-safe).
 */
export function useAccessToken(): string | null;
