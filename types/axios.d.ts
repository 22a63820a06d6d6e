// Type declarations for `freshtoken/axios`.
import type { Refresher } from './index.js';

/** The part of an axios instance (v1+) the adapter uses. */
export interface AxiosInstanceLike {
  interceptors: {
    request: { use(onFulfilled: (config: any) => any, onRejected?: (error: any) => any): number; eject(id: number): void };
    response: { use(onFulfilled: (response: any) => any, onRejected?: (error: any) => any): number; eject(id: number): void };
  };
  request(config: any): Promise<any>;
  getUri?(config?: any): string;
}

/**
 * Attaches the refresher to an axios instance: the `Authorization` header for allowed origins
 * (decided on the URL axios will send to; a wait for any refresh in flight first), and on a
 * 401/403 to a request that carried the token, one shared refresh and one replay. Set
 * `skipAuthRefresh: true` on a request's config to opt it out of the replay. A custom `refresh`
 * may use this same instance: its requests are recognised as the refresh's own.
 * @returns detach: ejects both interceptors.
 */
export function attachAxios(refresher: Refresher, instance: AxiosInstanceLike): () => void;

declare module 'axios' {
  interface AxiosRequestConfig {
    /** freshtoken: opt this request out of the refresh-and-replay on 401/403. */
    skipAuthRefresh?: boolean;
  }
}
