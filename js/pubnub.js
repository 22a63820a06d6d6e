// freshtoken/pubnub: keeps a PubNub client's token current (SPEC behaviour 8).
import { makeError } from './errors.js';

const DENIED = 'PNAccessDeniedCategory';

/** Whether a PubNub status event means "access denied", in either reporting mode. */
export function isAccessDenied(status) {
  if (!status || typeof status !== 'object') return false;
  // Legacy subscribe loop: the category itself. Event engine: a connection-error or
  // unexpected-disconnect status whose `error` names the category.
  return status.category === DENIED || status.error === DENIED
    || (typeof status.error === 'object' && status.error !== null && status.error.category === DENIED);
}

/**
 * Gives `pubnub` the refresher's token now and after every refresh, and on an
 * access-denied status refreshes once for that token and calls `reconnect()`.
 * @param {import('./refresher.js').Refresher} refresher
 * @param {object} pubnub a PubNub client (v7+)
 * @param {{ mode?: 'token' | 'authKey' }} [options] `token` (default) calls `setToken` (Access
 *   Manager v3), `authKey` calls `setAuthKey`.
 * @returns {() => void} detach: removes every listener it added
 */
export function attachPubNub(refresher, pubnub, options = {}) {
  const mode = options.mode ?? 'token';
  if (mode !== 'token' && mode !== 'authKey') {
    throw makeError('OptionsError', 'bad-option', "attachPubNub: mode must be 'token' or 'authKey'");
  }
  const setter = mode === 'token' ? 'setToken' : 'setAuthKey';
  for (const m of [setter, 'addListener', 'removeListener', 'reconnect']) {
    if (!pubnub || typeof pubnub[m] !== 'function') {
      throw makeError('OptionsError', 'bad-option', `attachPubNub: the PubNub client has no ${m}() method`);
    }
  }

  // 'schedule' follows every refresh and every setTokens. After an access denial the
  // client is reconnected by the first refresh that lands — this one, or a backoff retry
  // after it failed transiently.
  let given = null;
  let reconnectPending = false;
  const give = () => {
    const token = refresher.accessToken;
    if (token && token !== given) {
      given = token;
      pubnub[setter](token);
    }
  };
  give();
  const offSchedule = refresher.on('schedule', give);
  const offRefresh = refresher.on('refresh', () => {
    give();
    if (reconnectPending) {
      reconnectPending = false;
      pubnub.reconnect();
    }
  });
  const offEnd = [refresher.on('logout', () => { reconnectPending = false; }),
    refresher.on('session-expired', () => { reconnectPending = false; })];

  // At most one refresh per denied token: a token denied again after its own refresh
  // does not start a loop.
  let refreshedFor = null;
  const listener = {
    status(status) {
      if (!isAccessDenied(status)) return;
      const denied = refresher.accessToken;
      if (denied === null || denied === refreshedFor) return;
      refreshedFor = denied;
      reconnectPending = true;
      refresher.refresh().catch(() => { /* refresh-error / session-expired are emitted by the refresher */ });
    },
  };
  pubnub.addListener(listener);

  return () => {
    offSchedule();
    offRefresh();
    for (const off of offEnd) off();
    pubnub.removeListener(listener);
  };
}
