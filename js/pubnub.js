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
 * Gives `pubnub` the refresher's token now and after every refresh; on an access-denied
 * status gives it `refresher.tokenAfterRejection(<the token it holds>)` and calls `reconnect()`.
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

  // 'schedule' follows every refresh and every setTokens.
  let given = null;
  const give = (token = refresher.accessToken) => {
    if (token && token !== given) {
      given = token;
      pubnub[setter](token);
    }
  };
  give();
  // After an access denial whose refresh failed transiently, the first refresh that lands
  // (a backoff retry) reconnects the client.
  let reconnectPending = false;
  let reconnectedWith = null;
  const offSchedule = refresher.on('schedule', () => give());
  const offRefresh = refresher.on('refresh', () => {
    give();
    if (reconnectPending) {
      reconnectPending = false;
      pubnub.reconnect();
    }
  });
  // A session that ends (logout, or its end) takes its token out of the client too: the
  // client holds no token of it afterwards (a new login gives it the new one at once).
  const clear = () => {
    reconnectPending = false;
    reconnectedWith = null;
    if (given !== null) {
      given = null;
      pubnub[setter](undefined);
    }
  };
  const offEnd = [refresher.on('logout', clear), refresher.on('session-expired', clear)];

  // Which token to give after a denial is the engine's rule (tokenAfterRejection): a
  // refresh shared with every other caller while the denied token is the session's, else
  // the token that replaced it. A PubNub status does not name the token its request
  // carried, so the denied token is taken to be the one the client was given last.
  const listener = {
    status(status) {
      if (!isAccessDenied(status) || given === null) return;
      refresher.tokenAfterRejection(given).then((token) => {
        // Two denials answered with one token (a subscribe's and a heartbeat's): one reconnect.
        if (token === reconnectedWith) return;
        reconnectedWith = token;
        given = token;
        pubnub[setter](token);
        pubnub.reconnect();
      }, (err) => {
        if (err?.name === 'RefreshError') reconnectPending = true;
      });
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
