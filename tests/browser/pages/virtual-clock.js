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
//   install(win)          puts a same-origin frame on this clock (its performance.now, Date,
//                         timers are this clock's); a frame's init script does it itself
//   clearFor(win)         forgets every timer a frame queued (the frame is gone: a tab closed)
//
// In a same-origin iframe (a tab of a cross-tab scenario) the clock is the top page's: the
// init script runs there too and installs the frame on the top page's clock.
(() => {
  if (globalThis.__vclock) return;
  try {
    if (window.top !== window && window.top.__vclock) {
      window.top.__vclock.install(window);
      return;
    }
  } catch { /* another origin's frame: a clock of its own */ }
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
  const virtualDate = (Real) => {
    function VirtualDate(...args) {
      if (!new.target) return new Real(wall).toString();
      return args.length === 0 ? new Real(wall) : new Real(...args);
    }
    VirtualDate.prototype = Real.prototype;
    VirtualDate.now = function now() { return wall; };
    VirtualDate.parse = Real.parse;
    VirtualDate.UTC = Real.UTC;
    Object.defineProperty(VirtualDate, 'name', { value: 'Date' });
    return VirtualDate;
  };
  globalThis.Date = virtualDate(RealDate);

  // --- timers -----------------------------------------------------------------------------
  // The delay is converted as WebIDL converts a `long` (ToInt32: a delay above 2^31-1 wraps
  // and, negative, becomes 0), so an overflowing delay fires at once here too, as in Chromium.
  const delayOf = (timeout) => {
    const ms = Number(timeout) | 0;
    return ms < 0 ? 0 : ms;
  };
  function add(handler, timeout, args, repeat, owner = null) {
    if (typeof handler !== 'function') throw new TypeError('the virtual clock takes function handlers only');
    const id = ++seq;
    const ms = delayOf(timeout);
    timers.set(id, { id, at: mono + ms, order: id, fn: handler, args, every: repeat ? Math.max(1, ms) : null, owner });
    return id;
  }
  /** `win`'s timer functions on this clock (its timers owned by it). */
  function timerFunctions(win, owner) {
    win.setTimeout = function setTimeout(handler, timeout, ...args) { return add(handler, timeout, args, false, owner); };
    win.setInterval = function setInterval(handler, timeout, ...args) { return add(handler, timeout, args, true, owner); };
    win.clearTimeout = function clearTimeout(id) { timers.delete(Number(id)); };
    win.clearInterval = function clearInterval(id) { timers.delete(Number(id)); };
  }
  timerFunctions(globalThis, null);

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
    install(win) {
      Object.defineProperty(win.performance, 'now', { value: function now() { return mono; }, configurable: true, writable: true });
      win.Date = virtualDate(win.Date);
      timerFunctions(win, win);
      Object.defineProperty(win, '__vclock', { value: api });
    },
    clearFor(win) {
      for (const [id, t] of timers) if (t.owner === win) timers.delete(id);
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
