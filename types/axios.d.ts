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
 * (a wait for any refresh in flight first), and on 401/403 one shared refresh and one replay.
 * The refresh call itself goes through fetch, never through these interceptors.
 * @returns detach: ejects both interceptors.
 */
export function attachAxios(refresher: Refresher, instance: AxiosInstanceLike): () => void;
