// Type declarations for `freshtoken/vue` (Vue 3.3+).
import type { App, ShallowRef } from 'vue';
import type { Refresher } from './index.js';

/**
 * Vue plugin: `app.use(freshtokenPlugin, { refresher })`.
 * Throws an `OptionsError` (code `bad-option`) without a refresher.
 */
export declare const freshtokenPlugin: {
  install(app: App, options: { refresher: Refresher }): void;
};

/**
 * The refresher given to the plugin.
 * @throws {FreshtokenError} code `no-provider` when the plugin is not installed.
 */
export function useRefresher(): Refresher;

/**
 * A ref holding the current access token (or null), updated on refresh, new tokens, expiry
 * and logout. Its listeners are removed when the calling component (or effect scope) is disposed.
 */
export function useAccessToken(): Readonly<ShallowRef<string | null>>;
