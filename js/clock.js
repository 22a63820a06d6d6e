// The session clock (SPEC behaviour 2). Durations run on the monotonic clock
// (`performance.now()`), so a wall clock set back or forward does not move a refresh or a
// backoff; the wall clock is read only for absolute expiries. One exception, on purpose:
// when the wall clock moved further than the monotonic one, the machine slept (Chromium's
// monotonic clock stops during suspend on some systems), and that time did pass for the
// token too. The clock never goes backwards. Its readings are close to ms since epoch, so
// they convert back with `toWall`.
const perf = globalThis.performance;
const mono = () => (perf ? perf.now() : Date.now());
// As engine::session_clock (the Rust face's, unit-tested there; read here without a wasm call
// on every request): the wall clock's lead over the monotonic one is measured from one anchor,
// so whole-millisecond readings of Date.now() add nothing up however often it is read, and a
// clock set back then forward again counts as no sleep.
const wall0 = Date.now();
const mono0 = mono();
let ahead = 0;

/** Now on the session clock (ms). */
export function now() {
  // The wall clock first: a pause between the two readings (a busy machine) then shortens the
  // lead seen instead of adding to it for good.
  const wall = Date.now();
  const elapsed = Math.max(0, mono() - mono0);
  ahead = Math.max(ahead, wall - wall0 - elapsed);
  return wall0 + elapsed + ahead;
}

/** A session-clock instant as ms since epoch (for the public getters and events). */
export const toWall = (at) => at + Date.now() - now();

// The server's clock (its `Date` headers), RFC 9110 dates and Retry-After are the engine's
// (src/engine/server_clock.rs, src/engine/http_date.rs).
