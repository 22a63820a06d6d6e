// The session clock (SPEC behaviour 2). Durations run on the monotonic clock
// (`performance.now()`), so a wall clock set back or forward does not move a refresh or a
// backoff; the wall clock is read only for absolute expiries. One exception, on purpose:
// when the wall clock moved further than the monotonic one, the machine slept (Chromium's
// monotonic clock stops during suspend on some systems), and that time did pass for the
// token too. The clock never goes backwards. Its readings are close to ms since epoch, so
// they convert back with `toWall`.
const perf = globalThis.performance;
const mono = () => (perf ? perf.now() : Date.now());
let lastWall = Date.now();
let lastMono = mono();
let t = lastWall;

/** Now on the session clock (ms). */
export function now() {
  const w = Date.now();
  const m = mono();
  t += Math.max(0, m - lastMono, w - lastWall);
  lastWall = w;
  lastMono = m;
  return t;
}

/** A session-clock instant as ms since epoch (for the public getters and events). */
export const toWall = (at) => at + Date.now() - now();

// The server's clock, as its `Date` headers tell it (same-origin API answers and refresh
// answers). Used for one thing only: a token the app hands over (restored from its own
// storage, maybe long after it was issued) whose `exp` is already past by the server's
// clock is refreshed before any request uses it. Until a `Date` has been seen, the local
// clock stands in; a skewed one can cost one early refresh, never a storm or a logout
// (refresh answers are anchored on their receipt, never checked this way).
let offset = 0;
let lastDate = null;

/** Notes a response's `Date` header (1 s resolution: offsets under 2 s count as none). */
export function noteServerDate(res) {
  const d = res.headers && res.headers.get('date');
  if (!d || d === lastDate) return;
  lastDate = d;
  const at = Date.parse(d);
  if (Number.isNaN(at)) return;
  const o = at + 500 - Date.now();
  offset = Math.abs(o) < 2000 ? 0 : o;
}

/** The server's clock, as best known (ms since epoch). */
export const serverNow = () => Date.now() + offset;
