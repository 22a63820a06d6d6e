// A virtual clock for a page, installed before any of the page's scripts run (the test adds
// this file as a Playwright init script): performance.now(), Date.now() and `new Date()`
// without arguments read it, and setTimeout / clearTimeout / setInterval / clearInterval
// queue timers on it. Nothing moves by itself: the test moves the clocks and fires the due
// timers (tests/browser/conformance.test.mjs), so hours of a session run in milliseconds.
//
// The clock starts where tests/scenarios/engine.json says every scenario starts: the session
// clock (performance.now()) at 0, the wall clock (Date.now()) at 1796601600000 = Mon, 07 Dec
// 2026 00:00:00 GMT. `window.__vclock`:
//   mono, wall            the two clocks (read-only; see set / advance)
//   set(mono, wall)       puts both clocks there (between scenarios), timers kept
//   move(dMono, dWall)    moves the clocks without firing anything (a sleep, a wall jump)
//   clear()               forgets every timer
//   nextAt()              when the earliest timer is due (session clock), or null
//   pending()             how many timers are queued
//   async advance(ms, afterFire)   moves both clocks by ms; each timer due on the way fires
//                          at its instant (the clocks moved to it first), in order, and
//                          `await afterFire()` runs after each one (the test flushes there)
//   async runDue(afterFire)        fires the timers already due, clocks unmoved
//   fires                 how many timers fired so far
//   errors                exceptions thrown by timer callbacks (reported to the page too)
//   real                  the real setTimeout, clearTimeout, Date, performance.now
(() => {
  if (globalThis.__vclock) return;
  const RealDate = Date;
  const realPerfNow = performance.now.bind(performance);
  const real = { setTimeout, clearTimeout, setInterval, clearInterval, Date: RealDate, now: realPerfNow };
  const MONO0 = 0;
  const WALL0 = 1796601600000;

  let mono = MONO0;
  let wall = WALL0;
  let seq = 0;
  const timers = new Map(); // id -> { id, at, order, fn, args, every }

  // --- time -------------------------------------------------------------------------------
  Object.defineProperty(performance, 'now', { value: function now() { return mono; }, configurable: true, writable: true });

  // `Date` as a function (no `new`) gives the time as text; `new Date()` the virtual now;
  // anything with arguments is the real Date. Instances are real Dates (instanceof holds).
  function VirtualDate(...args) {
    if (!new.target) return new RealDate(wall).toString();
    return args.length === 0 ? new RealDate(wall) : new RealDate(...args);
  }
  VirtualDate.prototype = RealDate.prototype;
  VirtualDate.now = function now() { return wall; };
  VirtualDate.parse = RealDate.parse;
  VirtualDate.UTC = RealDate.UTC;
  Object.defineProperty(VirtualDate, 'name', { value: 'Date' });
  globalThis.Date = VirtualDate;

  // --- timers -----------------------------------------------------------------------------
  // The delay is converted as WebIDL converts a `long` (ToInt32: a delay above 2^31-1 wraps
  // and, negative, becomes 0), so an overflowing delay fires at once here too, as in Chromium.
  const delayOf = (timeout) => {
    const ms = Number(timeout) | 0;
    return ms < 0 ? 0 : ms;
  };
  function add(handler, timeout, args, repeat) {
    if (typeof handler !== 'function') throw new TypeError('the virtual clock takes function handlers only');
    const id = ++seq;
    const ms = delayOf(timeout);
    timers.set(id, { id, at: mono + ms, order: id, fn: handler, args, every: repeat ? Math.max(1, ms) : null });
    return id;
  }
  globalThis.setTimeout = function setTimeout(handler, timeout, ...args) { return add(handler, timeout, args, false); };
  globalThis.setInterval = function setInterval(handler, timeout, ...args) { return add(handler, timeout, args, true); };
  globalThis.clearTimeout = function clearTimeout(id) { timers.delete(Number(id)); };
  globalThis.clearInterval = function clearInterval(id) { timers.delete(Number(id)); };

  const earliest = () => {
    let best = null;
    for (const t of timers.values()) {
      if (best === null || t.at < best.at || (t.at === best.at && t.order < best.order)) best = t;
    }
    return best;
  };

  const errors = [];
  function fire(t) {
    if (t.every === null) timers.delete(t.id);
    else { t.at = mono + t.every; t.order = ++seq; }
    api.fires += 1;
    try {
      t.fn(...t.args);
    } catch (err) {
      errors.push(String((err && err.stack) || err));
      // As a browser does: reported, and the other timers go on.
      queueMicrotask(() => { throw err; });
    }
  }

  const api = {
    get mono() { return mono; },
    get wall() { return wall; },
    fires: 0,
    errors,
    real,
    set(m, w) { mono = m; wall = w; },
    move(dMono, dWall) { mono += dMono; wall += dWall; },
    clear() { timers.clear(); },
    nextAt() { const t = earliest(); return t ? t.at : null; },
    pending() { return timers.size; },
    async advance(ms, afterFire = async () => {}) {
      const target = mono + ms;
      for (;;) {
        const t = earliest();
        if (!t || t.at > target) break;
        if (t.at > mono) { wall += t.at - mono; mono = t.at; }
        fire(t);
        await afterFire();
      }
      wall += target - mono;
      mono = target;
    },
    async runDue(afterFire = async () => {}) {
      for (;;) {
        const t = earliest();
        if (!t || t.at > mono) break;
        fire(t);
        await afterFire();
      }
    },
  };
  Object.defineProperty(globalThis, '__vclock', { value: api });
})();
