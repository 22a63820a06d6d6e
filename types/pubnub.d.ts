// Type declarations for `freshtoken/pubnub`.
import type { Refresher } from './index.js';

/** The part of a PubNub JavaScript client (v7+) the adapter uses. */
export interface PubNubLike {
  setToken?(token: string): void;
  setAuthKey?(authKey: string): void;
  addListener(listener: { status?: (status: any) => void }): void;
  removeListener(listener: { status?: (status: any) => void }): void;
  reconnect(...args: any[]): unknown;
}

export interface AttachPubNubOptions {
  /**
   * `token` calls `setToken` (Access Manager v3 tokens); `authKey` calls `setAuthKey`.
   * @default 'token'
   */
  mode?: 'token' | 'authKey';
}

/**
 * Gives `pubnub` the refresher's token now and after every refresh; on an access-denied status
 * (event engine or legacy subscribe loop) gives it `refresher.tokenAfterRejection(<the token it
 * holds>)` (one refresh shared with every caller, or the token that replaced it) and calls
 * `reconnect()`. A PubNub status names no token: the one it was given last is taken as denied.
 * @returns detach: removes every listener it added.
 * @throws {OptionsError} when the client lacks a method the mode needs, or `mode` is unknown.
 */
export function attachPubNub(refresher: Refresher, pubnub: PubNubLike, options?: AttachPubNubOptions): () => void;

/** Whether a PubNub status event means "access denied", in either reporting mode. */
export function isAccessDenied(status: unknown): boolean;
