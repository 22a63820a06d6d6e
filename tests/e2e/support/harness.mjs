// The in-page side of the end-to-end tests. `installHarness(page)` loads freshtoken in a page
// of the server under test (same origin, so the API calls hit the real server) and defines
// `window.e2e`, which records everything the assertions need:
//   - rec.sends:    every request the refresher put on the wire (through its `fetch` option,
//                   which only observes: it calls the browser's fetch with the same arguments);
//   - rec.receipts: each access token the refresher took, with the local time it arrived;
//   - rec.events:   every refresher event, with its local time;
//   - rec.expiredCalls: every onSessionExpired call.
// Nothing is mocked: the page's fetch goes to the real server.

/** Runs in the page (serialized by Playwright): must be self-contained. */
async function pageHarness() {
  if (window.e2e) return;
  const ft = await import('/js/index.js');
  await ft.default();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  const rec = { sends: [], receipts: [], events: [], expiredCalls: [], results: [] };

  function observedFetch(input, init = {}) {
    const url = new URL(typeof input === 'string' ? input : input.url ?? String(input), location.href);
    const headers = new Headers(init.headers);
    const entry = {
      t: Date.now(), path: url.pathname, method: String(init.method ?? 'GET').toUpperCase(),
      auth: headers.get('authorization'), status: null, end: null,
    };
    rec.sends.push(entry);
    const p = fetch(input, init);
    p.then((res) => { entry.status = res.status; entry.end = Date.now(); },
      (err) => { entry.status = 'network-error'; entry.error = String(err && err.name); entry.end = Date.now(); });
    return p;
  }

  let tokens = null;

  window.e2e = {
    ft,
    rec,
    sleep,

    /** Logs in with a plain fetch (no refresher yet); keeps the tokens in the page. */
    async login({ url, method = 'POST', body, accessKey, refreshKey, expiresInKey }) {
      const res = await fetch(url, {
        method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}),
      });
      if (!res.ok) throw new Error(`login answered HTTP ${res.status}`);
      const data = await res.json();
      tokens = { accessToken: data[accessKey] };
      if (refreshKey && data[refreshKey] !== undefined) tokens.refreshToken = data[refreshKey];
      if (expiresInKey && data[expiresInKey] !== undefined) tokens.expiresIn = data[expiresInKey];
      return { t: Date.now(), hasRefreshToken: tokens.refreshToken !== undefined, expiresIn: tokens.expiresIn ?? null };
    },

    /** Creates the refresher from the login's tokens (or `opts.tokens`) and records it. */
    async start(opts) {
      const { tokens: given, ...rest } = opts;
      const r = await ft.createRefresher({
        ...rest,
        tokens: given ?? tokens,
        fetch: observedFetch,
        onSessionExpired: (info) => rec.expiredCalls.push({ t: Date.now(), ...info }),
      });
      rec.receipts.push({ t: Date.now(), token: r.accessToken, via: 'setTokens' });
      for (const ev of ['refresh', 'refresh-error', 'session-expired', 'logout', 'schedule']) {
        r.on(ev, (detail) => {
          let copy = null;
          try { copy = JSON.parse(JSON.stringify(detail ?? null)); } catch { copy = String(detail); }
          rec.events.push({ event: ev, t: Date.now(), detail: copy });
          if (ev === 'refresh') rec.receipts.push({ t: Date.now(), token: r.accessToken, via: 'refresh' });
        });
      }
      window.refresher = r;
      return { state: r.state, expiresAt: r.expiresAt, nextRefreshAt: r.nextRefreshAt, t: Date.now() };
    },

    /** A plain fetch (no refresher) with the login's access token: what the server thinks of it. */
    async plainCall(url) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
      await res.arrayBuffer();
      return res.status;
    },

    /** One refresher.fetch; never throws. */
    async call(url, init) {
      const t0 = Date.now();
      try {
        const res = await window.refresher.fetch(url, init);
        await res.arrayBuffer();
        return { t0, t1: Date.now(), status: res.status };
      } catch (err) {
        return { t0, t1: Date.now(), status: 'error', error: `${err && err.name}: ${err && err.message}` };
      }
    },

    /** A call every `everyMs` (not waiting for the previous one) for `durationMs`. */
    async stream({ url, everyMs = 100, durationMs, init }) {
      const start = Date.now();
      const n = Math.max(1, Math.ceil(durationMs / everyMs));
      const calls = [];
      for (let i = 0; i < n; i += 1) {
        const wait = start + i * everyMs - Date.now();
        if (wait > 0) await sleep(wait);
        calls.push(this.call(url, init));
      }
      return Promise.all(calls);
    },

    /** `n` calls started in the same task. */
    burst(n, url, init) {
      return Promise.all(Array.from({ length: n }, () => this.call(url, init)));
    },

    state() {
      const r = window.refresher;
      return r ? { state: r.state, hasToken: r.accessToken !== null, expiresAt: r.expiresAt, nextRefreshAt: r.nextRefreshAt } : null;
    },

    count(event) { return rec.events.filter((e) => e.event === event).length; },

    /** Loads a classic script (e.g. /vendor/pubnub.js). */
    loadScript(src) {
      return new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = src;
        s.onload = resolve;
        s.onerror = () => reject(new Error(`could not load ${src}`));
        document.head.append(s);
      });
    },
  };
}

/** Loads freshtoken into `page` (already on the server's origin) and defines window.e2e. */
export async function installHarness(page) {
  await page.evaluate(pageHarness);
}

/** What the page recorded (tokens included: test-only data). */
export function recorded(page) {
  return page.evaluate(() => window.e2e.rec);
}

/** Decodes a JWT's payload in node (independently of the SDK). */
export function jwtClaims(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}
