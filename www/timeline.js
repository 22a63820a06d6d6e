// The session timeline: a rolling canvas of the last `pastMs` (and the next `futureMs`) on the
// local clock. Each token is a band from the moment it arrived to its expiry, notched at its
// refresh point; refreshes and failures are vertical ticks; requests are dots, stacked when
// they start together (a burst), coloured by what happened to them.

export const COLORS = {
  grid: '#e5e9f0',
  axis: '#8a94a6',
  fresh: '#2bb5a3',
  window: '#f2b544',
  notch: '#0f3d38',
  bandText: '#ffffff',
  refresh: '#16a34a',
  error: '#d97706',
  expire: '#dc2626',
  revoke: '#9f1239',
  now: '#0f172a',
  future: 'rgba(148, 163, 184, 0.10)',
  ok: '#94a3b8',
  waited: '#3b82f6',
  retried: '#8b5cf6',
  failed: '#ef4444',
  pending: '#cbd5e1',
  killed: 'rgba(203, 213, 225, 0.92)',
};

const LANE_Y = [24, 52];
const LANE_H = 20;
const REQ_Y = 92;
const DOT = 3.2;

export class SessionTimeline {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{ pastMs?: number, futureMs?: number }} [opts]
   */
  constructor(canvas, { pastMs = 50_000, futureMs = 10_000 } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.pastMs = pastMs;
    this.futureMs = futureMs;
    this.tokens = [];    // { id, label, issued, refreshAt, expires, lane }
    this.marks = [];     // { t, kind, label }
    this.requests = [];  // { start, outcome }
    this.lane = 0;
    this.size = { w: 0, h: 0, dpr: 1 };
  }

  addToken({ id, label, issued, refreshAt, expires }) {
    this.lane = this.tokens.length === 0 ? 0 : 1 - this.lane;
    this.tokens.push({ id, label, issued, refreshAt, expires, lane: this.lane });
  }

  /** Updates the newest token's planned times (a `schedule` event after a failure). */
  updateToken(id, patch) {
    const t = this.tokens.findLast((x) => x.id === id);
    if (t) Object.assign(t, patch);
  }

  /** kind: 'refresh' | 'error' | 'expire' | 'revoke' | 'session-end' | 'login' */
  mark(kind, t = Date.now(), label = '') {
    this.marks.push({ t, kind, label });
    // The server killed every live token: grey out the rest of their bands.
    if (kind === 'expire' || kind === 'revoke' || kind === 'session-end') {
      for (const tok of this.tokens) if (tok.expires > t && !(tok.killedAt <= t)) tok.killedAt = Math.max(t, tok.issued);
    }
  }

  /** rec: { start, outcome: 'pending'|'ok'|'waited'|'retried'|'failed' } (kept by reference). */
  addRequest(rec) {
    this.requests.push(rec);
  }

  _fit() {
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (w !== this.size.w || h !== this.size.h || dpr !== this.size.dpr) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
      this.size = { w, h, dpr };
    }
    return this.size;
  }

  _prune(now) {
    const horizon = now - this.pastMs - 5_000;
    this.tokens = this.tokens.filter((t) => t.expires > horizon || t === this.tokens.at(-1));
    this.marks = this.marks.filter((m) => m.t > horizon);
    if (this.requests.length > 2000 || (this.requests[0] && this.requests[0].start < horizon)) {
      this.requests = this.requests.filter((r) => r.start > horizon);
    }
  }

  draw(now = Date.now()) {
    const { w, h, dpr } = this._fit();
    if (w === 0) return;
    this._prune(now);
    const ctx = this.ctx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const left = 8;
    const right = w - 8;
    const span = this.pastMs + this.futureMs;
    const x = (t) => left + ((t - (now - this.pastMs)) / span) * (right - left);
    const nowX = x(now);

    // Future, grid and axis labels (every 10 s, relative to now).
    ctx.fillStyle = COLORS.future;
    ctx.fillRect(nowX, 0, right - nowX + 8, h);
    ctx.font = '10px ui-monospace, "DejaVu Sans Mono", monospace';
    ctx.textBaseline = 'top';
    ctx.textAlign = 'center';
    for (let s = -Math.floor(this.pastMs / 10_000) * 10; s * 1000 <= this.futureMs; s += 10) {
      const gx = Math.round(x(now + s * 1000)) + 0.5;
      ctx.strokeStyle = COLORS.grid;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(gx, 14);
      ctx.lineTo(gx, h - 4);
      ctx.stroke();
      if (s !== 0 && gx > left + 14 && gx < right - 14) {
        ctx.fillStyle = COLORS.axis;
        ctx.fillText(`${s > 0 ? '+' : ''}${s} s`, gx, 2);
      }
    }

    // Token bands.
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    ctx.font = '600 10px ui-monospace, "DejaVu Sans Mono", monospace';
    for (const t of this.tokens) {
      const y = LANE_Y[t.lane];
      const x0 = x(t.issued);
      const xr = x(t.refreshAt);
      const x1 = x(t.expires);
      if (x1 < 0 || x0 > w) continue;
      ctx.fillStyle = COLORS.fresh;
      roundRect(ctx, x0, y, Math.max(1, xr - x0), LANE_H, 4, true, false);
      ctx.fillStyle = COLORS.window;
      roundRect(ctx, xr, y, Math.max(1, x1 - xr), LANE_H, 4, false, true);
      if (t.killedAt !== undefined) {
        const xk = x(t.killedAt);
        ctx.fillStyle = COLORS.killed;
        ctx.fillRect(xk, y, Math.max(1, x1 - xk), LANE_H);
      }
      ctx.fillStyle = COLORS.notch;
      ctx.fillRect(Math.round(xr) - 1, y - 3, 2, LANE_H + 6);
      if (xr - x0 > 70) {
        ctx.fillStyle = COLORS.bandText;
        ctx.fillText(t.label, Math.max(x0, 0) + 6, y + LANE_H / 2 + 0.5);
      }
    }

    // Requests: dots, stacked per 4-px column so a burst shows as a column.
    const stacks = new Map();
    for (const r of this.requests) {
      const rx = x(r.start);
      if (rx < -4 || rx > w + 4) continue;
      const col = Math.round(rx / 4);
      const n = stacks.get(col) ?? 0;
      stacks.set(col, n + 1);
      const cy = REQ_Y + (n % 7) * (DOT * 2 + 1);
      const cx = rx + Math.floor(n / 7) * (DOT * 2 + 1);
      ctx.fillStyle = COLORS[r.outcome] ?? COLORS.ok;
      ctx.beginPath();
      ctx.arc(cx, cy, DOT, 0, Math.PI * 2);
      ctx.fill();
    }

    // Event ticks.
    ctx.textBaseline = 'top';
    for (const m of this.marks) {
      const mx = Math.round(x(m.t)) + 0.5;
      if (mx < -2 || mx > w + 2) continue;
      const color = { refresh: COLORS.refresh, error: COLORS.error, expire: COLORS.expire,
        revoke: COLORS.revoke, 'session-end': COLORS.expire, login: COLORS.axis }[m.kind] ?? COLORS.axis;
      ctx.strokeStyle = color;
      ctx.lineWidth = m.kind === 'session-end' ? 3 : 2;
      ctx.setLineDash(m.kind === 'expire' || m.kind === 'revoke' ? [3, 3] : []);
      ctx.beginPath();
      ctx.moveTo(mx, 16);
      ctx.lineTo(mx, LANE_Y[1] + LANE_H + 6);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.moveTo(mx - 4, 14);
      ctx.lineTo(mx + 4, 14);
      ctx.lineTo(mx, 20);
      ctx.closePath();
      ctx.fill();
    }

    // Now.
    ctx.strokeStyle = COLORS.now;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(Math.round(nowX) + 0.5, 12);
    ctx.lineTo(Math.round(nowX) + 0.5, h - 2);
    ctx.stroke();
    ctx.fillStyle = COLORS.now;
    ctx.font = '600 10px ui-monospace, "DejaVu Sans Mono", monospace';
    ctx.textAlign = 'center';
    ctx.fillText('now', nowX, 1);
  }
}

function roundRect(ctx, x, y, w, h, r, roundLeft, roundRight) {
  const rl = roundLeft ? Math.min(r, w / 2, h / 2) : 0;
  const rr = roundRight ? Math.min(r, w / 2, h / 2) : 0;
  ctx.beginPath();
  ctx.moveTo(x + rl, y);
  ctx.lineTo(x + w - rr, y);
  if (rr) ctx.arcTo(x + w, y, x + w, y + rr, rr); else ctx.lineTo(x + w, y);
  ctx.lineTo(x + w, y + h - rr);
  if (rr) ctx.arcTo(x + w, y + h, x + w - rr, y + h, rr); else ctx.lineTo(x + w, y + h);
  ctx.lineTo(x + rl, y + h);
  if (rl) ctx.arcTo(x, y + h, x, y + h - rl, rl); else ctx.lineTo(x, y + h);
  ctx.lineTo(x, y + rl);
  if (rl) ctx.arcTo(x, y, x + rl, y, rl); else ctx.lineTo(x, y);
  ctx.closePath();
  ctx.fill();
}
