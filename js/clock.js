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

// The server's clock, as its `Date` headers tell it. Used for one thing only: a token the
// app hands over (restored from its own storage, maybe long after it was issued) whose
// `exp` is already past by the server's clock is refreshed before any request uses it.
// Each refresher keeps its own estimate (`serverClock()`), fed only by answers from its
// allowed origins and its refresh endpoint: one refresher's API never judges another's
// token. Until a valid `Date` has been seen, the local clock stands in; a skewed one can
// cost one early refresh, never a storm or a logout (refresh answers are anchored on
// their receipt, never checked this way; the core ignores a server clock before the
// token's own `iat`).

/**
 * An HTTP-date (RFC 9110 §5.6.7) as ms since epoch, or NaN for anything else ("0", "1.5",
 * "2000", a day that does not exist). The obsolete RFC 850 and asctime forms are rewritten
 * as an IMF-fixdate, which is exactly what `toUTCString()` writes: a date is valid when it
 * reads back as itself (day of week included).
 */
export function httpDate(value) {
  let s = String(value).trim();
  let m;
  if ((m = /^(\w{3})\w*, (\d\d)-(\w{3})-(\d\d) (.+)$/.exec(s))) {
    // A two-digit year more than 50 years ahead is of the previous century.
    let y = 2000 + +m[4];
    if (y > new Date().getUTCFullYear() + 50) y -= 100;
    s = `${m[1]}, ${m[2]} ${m[3]} ${y} ${m[5]}`;
  } else if ((m = /^(\w{3}) (\w{3}) ([ \d]\d) (\S+) (\d{4})$/.exec(s))) {
    s = `${m[1]}, ${m[3].replace(' ', '0')} ${m[2]} ${m[5]} ${m[4]} GMT`;
  }
  const t = Date.parse(s);
  return t === t && new Date(t).toUTCString() === s ? t : NaN;
}

/** A refresher's estimate of its server's clock. */
export const serverClock = () => ({ offset: 0, last: null });

/** Notes a response's `Date` header in `clock` (1 s resolution: offsets under 2 s count as none). */
export function noteServerDate(clock, res) {
  const d = res.headers && res.headers.get('date');
  if (!d || d === clock.last) return;
  clock.last = d;
  const at = httpDate(d);
  if (Number.isNaN(at)) return;
  const o = at + 500 - Date.now();
  clock.offset = Math.abs(o) < 2000 ? 0 : o;
}

/** The server's clock, as best known by `clock` (ms since epoch). */
export const serverNow = (clock) => Date.now() + clock.offset;
