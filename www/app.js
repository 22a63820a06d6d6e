// The freshtoken demo page. Everything the SDK does is visible here: the current token's
// life (issued, refresh point at 80%, expiry, now), each refresh as it happens, and every
// request with what happened to it (sent with a fresh token, waited for the refresh in
// flight, or got a 401 and was retried once with a new token).
//
// Tokens never reach the DOM or the console: a token is shown as the last 6 characters of
// its `jti` claim, read with freshtoken's own decodeToken().
import init, { createRefresher, decodeToken } from '/js/index.js';
import { SessionTimeline } from '/timeline.js';

const STORAGE_KEY = 'freshtoken-demo';
const REFRESH_PATH = '/auth/refresh';
const API_PATH = '/api/data';
const MAX_ROWS = 200;
const MAX_EVENTS = 40;
const BURST = 20;

const $ = (id) => document.getElementById(id);

const session = {
  refresher: null,
  offs: [],
  tokenId: null,      // fingerprint of the token on screen
  token: null,        // { fp, sub, issued, expires, lifetimeMs }
  refreshInflight: 0, // refresh calls on the wire right now
  refreshStarts: 0,   // refresh calls started so far
  retryAt: null,      // after a refresh-error: when the SDK tries again
  endedByUs: false,
};
const counters = { requests: 0, ok: 0, failed: 0, waited: 0, retried: 0, refreshes: 0 };
const pending = new Map(); // request id -> record, while its sends are being made
let seq = 0;
let timeline = null;

// ------------------------------------------------------------------ formatting

const pad = (n, w = 2) => String(n).padStart(w, '0');
function clock(t) {
  const d = new Date(t);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** A token's public face: the last 6 characters of its jti (never the token itself). */
function fingerprint(token) {
  if (!token) return null;
  try {
    const { claims } = decodeToken(token);
    if (typeof claims.jti === 'string' && claims.jti.length >= 6) return claims.jti.slice(-6);
  } catch { /* not a JWT we can read */ }
  return '??????';
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// ------------------------------------------------------------------ instrumented fetch

/**
 * The fetch underneath the refresher (its `fetch` option). It does not change what goes on
 * the wire (it only removes the page's own `x-demo-request` label); it records, per logical
 * request, each send and the token it carried, and notes every refresh call.
 */
function instrumentedFetch(input, init = {}) {
  const url = new URL(typeof input === 'string' ? input : input.url ?? String(input), location.href);
  const headers = new Headers(init.headers);
  const id = headers.get('x-demo-request');
  if (id !== null) headers.delete('x-demo-request');
  const auth = headers.get('authorization');
  const fp = auth && /^Bearer /i.test(auth) ? fingerprint(auth.slice(7)) : null;
  const now = Date.now();

  let refreshRow = null;
  if (url.pathname === REFRESH_PATH) {
    session.refreshInflight += 1;
    session.refreshStarts += 1;
    refreshRow = { kind: 'refresh', label: `POST ${REFRESH_PATH}`, start: now, sends: [{ t: now, fp }], status: null };
    refreshRow.row = addRow(refreshRow);
  }
  const rec = id !== null ? pending.get(id) : undefined;
  const send = { t: now, fp, refreshStarts: session.refreshStarts, status: null };
  if (rec) rec.sends.push(send);

  const p = fetch(input, { ...init, headers });
  p.then((res) => { send.status = res.status; }, () => {});
  if (refreshRow) {
    p.then(
      (res) => finishRefreshRow(refreshRow, res.status, null),
      (err) => finishRefreshRow(refreshRow, null, err),
    ).finally(() => { session.refreshInflight -= 1; });
  }
  return p;
}

function finishRefreshRow(rec, status, err) {
  rec.end = Date.now();
  rec.status = status;
  rec.error = err;
  rec.outcome = status !== null && status >= 200 && status < 300 ? 'ok' : 'failed';
  rec.note = status === null ? 'network error (no answer)'
    : status === 200 ? 'new token issued; the refresh token rotated'
      : status === 401 ? 'refresh token refused: the session is over'
        : `HTTP ${status}: a transient failure, the SDK backs off and retries`;
  renderRow(rec);
}

// ------------------------------------------------------------------ requests

/**
 * One request through `refresher.fetch`, recorded in the log and on the timeline.
 * @returns {Promise<object>} the record
 */
async function tracked(label, url, init = {}) {
  const r = session.refresher;
  if (!r) return null;
  const id = String(++seq);
  const rec = {
    id, kind: 'api', label, start: Date.now(), sends: [], status: null, outcome: 'pending',
    inflightAtStart: session.refreshInflight > 0, startsAtStart: session.refreshStarts,
  };
  pending.set(id, rec);
  counters.requests += 1;
  rec.row = addRow(rec);
  timeline.addRequest(rec);
  try {
    const res = await r.fetch(url, { ...init, headers: { ...init.headers, 'x-demo-request': id } });
    rec.status = res.status;
    await res.arrayBuffer().catch(() => {});
  } catch (err) {
    rec.error = err;
  }
  pending.delete(id);
  rec.end = Date.now();
  classify(rec);
  renderRow(rec);
  renderCounters();
  return rec;
}

function classify(rec) {
  const first = rec.sends[0];
  const last = rec.sends.at(-1);
  rec.retried = rec.sends.length > 1;
  rec.waited = !!first && (rec.inflightAtStart || first.refreshStarts > rec.startsAtStart);
  const ok = rec.status !== null && rec.status >= 200 && rec.status < 300;
  rec.outcome = !ok ? 'failed' : rec.retried ? 'retried' : rec.waited ? 'waited' : 'ok';
  if (ok) counters.ok += 1; else counters.failed += 1;
  if (rec.waited) counters.waited += 1;
  if (rec.retried) counters.retried += 1;

  if (rec.error) rec.note = `${rec.error.name ?? 'Error'}: ${rec.error.message ?? 'failed'}`;
  else if (!first) rec.note = 'not sent';
  else if (first.fp === null) rec.note = 'sent without a token: there is no session';
  else if (rec.retried) {
    rec.note = ok
      ? `401 with …${first.fp} → one shared refresh → retried with …${last.fp}`
      : `401, refreshed, retried, 401 again: the SDK stops here (session over)`;
  } else if (rec.waited) rec.note = 'waited for the refresh in flight, then sent the new token';
  else if (ok) rec.note = 'sent with a fresh token';
  else rec.note = rec.status === 401 ? '401 and no new token to retry with' : `HTTP ${rec.status}`;
}

// ------------------------------------------------------------------ log table

function addRow(rec) {
  const tr = el('tr');
  tr.dataset.kind = rec.kind;
  const body = $('log-body');
  body.prepend(tr);
  while (body.rows.length > MAX_ROWS) body.deleteRow(-1);
  rec.row = tr;
  renderRow(rec);
  return tr;
}

function renderRow(rec) {
  const tr = rec.row;
  if (!tr) return;
  tr.replaceChildren();
  tr.dataset.outcome = rec.outcome ?? 'pending';
  tr.dataset.status = rec.status ?? '';
  if (rec.retried) tr.dataset.retried = 'true';
  if (rec.waited) tr.dataset.waited = 'true';
  tr.append(el('td', 'mono', clock(rec.start)));
  tr.append(el('td', 'mono', rec.label));
  const st = el('td', 'mono');
  const badge = el('span', 'status', rec.status === null ? (rec.end ? 'ERR' : '…') : String(rec.status));
  badge.dataset.class = rec.status === null ? (rec.end ? 'err' : 'pending') : `${String(rec.status)[0]}xx`;
  st.append(badge);
  tr.append(st);
  const fps = [...new Set(rec.sends.map((s) => s.fp).filter(Boolean))];
  tr.append(el('td', 'mono fpcell', fps.length ? fps.map((f) => `…${f}`).join(' → ') : '—'));
  const what = el('td', 'what');
  if (rec.kind === 'refresh') what.append(el('span', 'tag tag-refresh', 'refresh'));
  if (rec.waited) what.append(el('span', 'tag tag-waited', 'waited'));
  if (rec.retried) what.append(el('span', 'tag tag-retried', 'retried'));
  if (rec.end && rec.outcome === 'failed' && rec.kind !== 'refresh') what.append(el('span', 'tag tag-failed', 'failed'));
  what.append(document.createTextNode(rec.note ?? (rec.kind === 'refresh' ? 'refreshing…' : 'in flight…')));
  tr.append(what);
  tr.append(el('td', 'mono num', rec.end ? String(rec.end - rec.start) : ''));
}

// ------------------------------------------------------------------ events list

function logEvent(kind, text) {
  const li = el('li');
  li.dataset.kind = kind;
  li.append(el('time', 'mono', clock(Date.now())), el('span', 'ev-kind', kind), el('span', 'ev-text', text));
  const list = $('event-list');
  list.prepend(li);
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

// ------------------------------------------------------------------ token card

function readToken() {
  const r = session.refresher;
  const token = r && r.accessToken;
  if (!token || r.expiresAt === null) return null;
  let claims = {};
  try { claims = decodeToken(token).claims; } catch { /* opaque */ }
  const fp = fingerprint(token);
  const lifetimeMs = typeof claims.exp === 'number' && typeof claims.iat === 'number'
    ? Math.round((claims.exp - claims.iat) * 1000) : null;
  const expires = r.expiresAt;
  const issued = lifetimeMs !== null ? expires - lifetimeMs : Date.now();
  return { fp, sub: typeof claims.sub === 'string' ? claims.sub : '—', issued, expires, lifetimeMs: expires - issued };
}

/** Called on every `schedule` event (new tokens, refreshes, failures). */
function syncToken() {
  const r = session.refresher;
  if (!r) return;
  const t = readToken();
  session.token = t;
  if (!t) return;
  const refreshAt = t.issued + 0.8 * t.lifetimeMs;
  if (t.fp !== session.tokenId) {
    session.tokenId = t.fp;
    timeline.addToken({ id: t.fp, label: `…${t.fp}`, issued: t.issued, refreshAt, expires: t.expires });
  }
  const next = r.nextRefreshAt;
  session.retryAt = next !== null && Math.abs(next - refreshAt) > 50 ? next : null;
  $('token-fp').textContent = `jti …${t.fp}`;
  $('f-sub').textContent = t.sub;
  $('f-lifetime').textContent = secs(t.lifetimeMs);
  $('t-issued').textContent = clock(t.issued);
  $('t-expires').textContent = clock(t.expires);
  $('user-name').textContent = t.sub;
}

function pct(v) { return `${Math.max(0, Math.min(100, v * 100)).toFixed(2)}%`; }

function renderToken(now) {
  const r = session.refresher;
  const t = session.token;
  const state = r ? r.state : 'idle';
  $('state-pill').textContent = state;
  $('state-pill').dataset.state = state;
  $('f-state').textContent = state;
  if (!t) return;
  const life = t.lifetimeMs;
  const f = (now - t.issued) / life;
  $('lifebar-elapsed').style.width = pct(f);
  $('mark-now').style.left = pct(f);
  $('mark-now').dataset.past = f >= 1 ? 'expired' : f >= 0.8 ? 'window' : 'fresh';
  $('mark-refresh').style.left = pct(0.8);
  const retry = $('mark-retry');
  if (session.retryAt !== null && state !== 'expired') {
    retry.hidden = false;
    retry.style.left = pct((session.retryAt - t.issued) / life);
  } else {
    retry.hidden = true;
  }
  const next = r ? r.nextRefreshAt : null;
  const toExpiry = t.expires - now;
  let text;
  if (state === 'refreshing') text = 'refreshing…';
  else if (state === 'expired') text = 'session over';
  else if (next !== null) text = `refresh in ${secs(Math.max(0, next - now))}`;
  else text = '';
  text += toExpiry >= 0 ? ` · expires in ${secs(toExpiry)}` : ` · expired ${secs(-toExpiry)} ago`;
  $('token-countdown').textContent = text;
  $('f-next').textContent = next === null ? '—' : `${clock(next)}${session.retryAt !== null ? ' (retry)' : ''}`;
}

function renderCounters() {
  for (const [k, v] of Object.entries(counters)) $(`stat-${k}`).textContent = String(v);
  $('f-refreshes').textContent = String(counters.refreshes);
}

// ------------------------------------------------------------------ server controls

async function control(body) {
  const res = await fetch('/control', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`control answered HTTP ${res.status}`);
  const state = await res.json();
  showServer(state);
  return state;
}

const MODE_HELP = {
  ok: 'Refreshes succeed.',
  fail5xx: 'The refresh endpoint answers 503. The SDK keeps the current token, emits refresh-error and retries with backoff (1 s, 2 s, 4 s, … ±20%). A 5xx never logs out.',
  slow: 'The refresh endpoint takes 3 s. Requests made meanwhile wait for that one refresh instead of sending a stale token.',
  offline: 'The refresh endpoint drops the connection: a network error, handled like a 5xx.',
};

function showServer(state) {
  for (const b of document.querySelectorAll('#mode-group button')) {
    b.setAttribute('aria-checked', String(b.dataset.mode === state.mode));
  }
  $('mode-help').textContent = MODE_HELP[state.mode] ?? '';
  const sel = $('ttl-select');
  if (![...sel.options].some((o) => Number(o.value) === state.ttl)) sel.append(new Option(`${state.ttl} s`, String(state.ttl)));
  if (document.activeElement !== sel) sel.value = String(state.ttl);
  // Counted from this page's sign-in: other tabs and sessions share the server.
  if (session.refresher && !session.serverBase) session.serverBase = { ...state.stats };
  const base = session.serverBase ?? state.stats;
  $('srv-refresh').textContent = String(state.stats.refreshCalls - base.refreshCalls);
  $('srv-401').textContent = String(state.stats.api401 - base.api401);
}

async function pollServer() {
  try {
    const res = await fetch('/control');
    if (res.ok) showServer(await res.json());
  } catch { /* the server is down; the next poll will tell */ }
}

// ------------------------------------------------------------------ session lifecycle

function show(view) {
  $('boot').hidden = true;
  $('login-view').hidden = view !== 'login';
  $('app-view').hidden = view !== 'app';
  $('topbar-session').hidden = view !== 'app';
}

function notice(text) {
  const n = $('login-notice');
  n.textContent = text ?? '';
  n.hidden = !text;
}

async function startSession(tokens) {
  const r = await createRefresher({
    tokens,
    endpoint: { url: REFRESH_PATH, preset: 'json' },
    storage: 'localStorage',
    storageKey: STORAGE_KEY,
    crossTab: true,
    fetch: instrumentedFetch,
  });
  if (!tokens && r.state === 'idle') { // nothing saved: not signed in
    r.dispose();
    return false;
  }
  session.refresher = r;
  session.serverBase = null;
  session.tokenId = null;
  session.endedByUs = false;
  const offs = session.offs;
  offs.push(r.on('schedule', () => syncToken()));
  offs.push(r.on('refresh', (d) => {
    counters.refreshes += 1;
    renderCounters();
    syncToken();
    timeline.mark('refresh');
    const t = session.token;
    logEvent('refresh', `new token …${t ? t.fp : '?'}; next refresh at ${d.nextRefreshAt ? clock(d.nextRefreshAt) : '—'} (80% of ${t ? secs(t.lifetimeMs) : '?'})`);
  }));
  offs.push(r.on('refresh-error', (d) => {
    timeline.mark('error');
    const e = d.error ?? {};
    logEvent('refresh-error', `${e.message ?? 'refresh failed'}; the token is kept, retry in ${secs(d.retryIn ?? 0)} (attempt ${d.attempt ?? '?'})`);
    syncToken();
  }));
  offs.push(r.on('session-expired', (d) => {
    timeline.mark('session-end');
    logEvent('session-expired', `reason: ${d.reason}`);
    // Leave the SDK's own call stack before tearing the refresher down.
    setTimeout(() => endSession(`Your session ended (${d.reason}). Sign in again.`), 0);
  }));
  offs.push(r.on('logout', () => {
    logEvent('logout', 'signed out');
    if (!session.endedByUs) setTimeout(() => endSession('You were signed out in another tab.'), 0);
  }));
  syncToken();
  timeline.mark('login');
  logEvent('session', tokens ? 'signed in' : 'session restored from localStorage');
  show('app');
  return true;
}

function endSession(message) {
  const r = session.refresher;
  if (!r) return;
  session.refresher = null;
  for (const off of session.offs.splice(0)) off();
  r.dispose();
  session.token = null;
  session.tokenId = null;
  notice(message);
  show('login');
}

async function login(event) {
  event.preventDefault();
  const err = $('login-error');
  err.hidden = true;
  $('btn-login').disabled = true;
  try {
    await control({ ttl: Number($('login-ttl').value) });
    const res = await fetch('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: $('username').value, password: $('password').value }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error_description ?? `login answered HTTP ${res.status}`);
    notice(null);
    await startSession({ accessToken: body.accessToken, refreshToken: body.refreshToken, expiresIn: body.expiresIn });
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
  } finally {
    $('btn-login').disabled = false;
  }
}

async function logout() {
  const r = session.refresher;
  if (!r) return;
  session.endedByUs = true;
  await tracked('POST /auth/revoke', '/auth/revoke', { method: 'POST' }).catch(() => {});
  r.logout();
  endSession('Signed out. The server revoked the session.');
}

// ------------------------------------------------------------------ wiring

function wire() {
  $('login-form').addEventListener('submit', login);
  $('btn-logout').addEventListener('click', logout);
  $('btn-request').addEventListener('click', () => tracked(`GET ${API_PATH}`, API_PATH));
  $('btn-burst').addEventListener('click', () => {
    logEvent('burst', `${BURST} concurrent requests`);
    for (let i = 0; i < BURST; i += 1) tracked(`GET ${API_PATH}`, API_PATH);
  });
  $('btn-expire').addEventListener('click', async () => {
    await control({ action: 'expire-now' });
    timeline.mark('expire');
    logEvent('server', 'signing key rotated: the current token is now rejected (the next request gets a 401 and is retried)');
  });
  $('btn-revoke').addEventListener('click', async () => {
    const rec = await tracked('POST /auth/revoke', '/auth/revoke', { method: 'POST' });
    if (rec && rec.status === 204) {
      timeline.mark('revoke');
      logEvent('server', 'session revoked: its refresh token is refused from now on');
      tracked(`GET ${API_PATH}`, API_PATH);
    }
  });
  for (const b of document.querySelectorAll('#mode-group button')) {
    b.addEventListener('click', async () => {
      await control({ mode: b.dataset.mode });
      logEvent('server', `refresh endpoint: ${b.textContent}`);
    });
  }
  $('ttl-select').addEventListener('change', async (e) => {
    await control({ ttl: Number(e.target.value) });
    logEvent('server', `new tokens live ${e.target.value} s (from the next refresh)`);
  });
  $('btn-tab').addEventListener('click', () => window.open(location.href, '_blank', 'noopener'));
  $('btn-clear-log').addEventListener('click', () => $('log-body').replaceChildren());

  setInterval(() => {
    if (session.refresher && $('auto-traffic').checked) tracked(`GET ${API_PATH}`, API_PATH);
  }, 1000);
  setInterval(() => { if (session.refresher) pollServer(); }, 1000);

  const frame = () => {
    const now = Date.now();
    if (session.refresher) renderToken(now);
    if (!$('app-view').hidden) timeline.draw(now);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

async function main() {
  try {
    await init();
  } catch (e) {
    $('boot').textContent = `freshtoken failed to load: ${e.message}`;
    $('boot').dataset.error = 'true';
    return;
  }
  timeline = new SessionTimeline($('timeline'), { pastMs: 30_000, futureMs: 6_000 });
  wire();
  renderCounters();
  await pollServer();
  if (!(await startSession(undefined))) show('login');
  document.documentElement.dataset.ready = 'true';
}

main();
