// The events a refresher emits. `on` returns its own unsubscribe; a listener that throws
// is reported asynchronously and never breaks the refresher or the other listeners.
import { makeError } from './errors.js';

export const EVENTS = ['refresh', 'refresh-error', 'session-expired', 'logout', 'schedule', 'forbidden'];

export class Emitter {
  constructor() {
    this.listeners = new Map(EVENTS.map((e) => [e, new Set()]));
  }

  on(event, listener) {
    const set = this.listeners.get(event);
    if (!set) throw makeError('OptionsError', 'bad-event', `unknown event ${JSON.stringify(String(event))}; expected one of ${EVENTS.join(', ')}`);
    if (typeof listener !== 'function') throw makeError('OptionsError', 'bad-listener', `the listener for '${event}' must be a function`);
    // A wrapper per registration, so registering the same function twice needs two unsubscribes.
    const entry = (detail) => listener(detail);
    set.add(entry);
    return () => { set.delete(entry); };
  }

  emit(event, detail) {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    for (const entry of [...set]) {
      try {
        entry(detail);
      } catch (err) {
        queueMicrotask(() => { throw err; });
      }
    }
  }

  clear() {
    for (const set of this.listeners.values()) set.clear();
  }
}
