// Quick P3 check (not the full `npm run bench`): decodeToken on the benchmark's short and
// ~4 KB-payload JWTs in headless Chromium, µs per decode, median of ROUNDS rounds.
//
//   node bench/decode-quick.mjs            # ROUNDS=15 by default
import { startServer } from '../tests/support/server.mjs';
import { launchBrowser } from '../tests/support/browser.mjs';

const rounds = Number(process.env.ROUNDS ?? 15);
const srv = await startServer({ lifetime: 60 });
const browser = await launchBrowser();
try {
  const tab = await browser.open(srv.url + '/test.html');
  const out = await tab.page.evaluate((rounds) => {
    const b64url = (s) => btoa(String.fromCharCode(...new TextEncoder().encode(s)))
      .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const SIG = 'c2lnbmF0dXJlLW5vdC1jaGVja2VkLWJ5LWRlY29kZXJzLWp1c3QtYnl0ZXMtMzJi';
    const jwt = (p) => `${HEADER}.${b64url(JSON.stringify(p))}.${SIG}`;
    const now = Math.floor(Date.now() / 1000);
    const short = [];
    const long = [];
    for (let i = 0; i < 8; i++) {
      const base = {
        sub: `user-${1000 + i}`, name: i % 2 ? 'Zoë Müller' : 'Ada Lovelace', email: `user${i}@example.com`,
        iss: 'https://auth.example.com/', aud: 'api://default', iat: now, exp: now + 3600 + i, jti: `jti-${i}-${now}`,
        roles: ['reader', 'writer'],
      };
      short.push(jwt(base));
      const permissions = [];
      while (JSON.stringify({ ...base, permissions }).length < 4096) permissions.push(`scope:resource-${permissions.length}:read-write`);
      long.push(jwt({ ...base, permissions }));
    }
    for (const t of [...short, ...long]) {
      const a = JSON.stringify(ft.decodeToken(t).claims);
      const b = JSON.stringify(JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)))));
      if (a !== b) throw new Error('claims differ');
    }
    // jwt-decode 4.0.0's algorithm, inline (the test server serves only /js and /pkg), as a
    // yardstick that makes figures from a loaded machine comparable.
    const b64DecodeUnicode = (str) => decodeURIComponent(atob(str).replace(/(.)/g, (m, p) => {
      let code = p.charCodeAt(0).toString(16).toUpperCase();
      if (code.length < 2) code = '0' + code;
      return '%' + code;
    }));
    const jwtDecode = (token) => {
      let out = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      if (out.length % 4 === 2) out += '=='; else if (out.length % 4 === 3) out += '=';
      return JSON.parse(b64DecodeUnicode(out));
    };
    let sink = 0;
    const decoders = { ft: (t) => ft.decodeToken(t).expiresAt, jd: (t) => jwtDecode(t).exp };
    const time = (f, tokens, iters) => {
      const t0 = performance.now();
      for (let i = 0; i < iters; i++) sink += f(tokens[i % 8]);
      return ((performance.now() - t0) * 1000) / iters;
    };
    const s = { ft: [], jd: [], ratio: [] };
    const l = { ft: [], jd: [], ratio: [] };
    for (let r = -1; r < rounds; r++) {
      const row = { s: {}, l: {} };
      for (const name of r % 2 ? ['ft', 'jd'] : ['jd', 'ft']) {
        row.s[name] = time(decoders[name], short, 20000);
        row.l[name] = time(decoders[name], long, 1000);
      }
      if (r >= 0) {
        for (const [set, dst] of [[row.s, s], [row.l, l]]) {
          dst.ft.push(set.ft); dst.jd.push(set.jd); dst.ratio.push(set.jd / set.ft);
        }
      }
    }
    const med = (v) => v.sort((x, y) => x - y)[v.length >> 1];
    const sum = (o) => ({ ft: med(o.ft), jd: med(o.jd), ratio: med(o.ratio) });
    return { short: sum(s), long: sum(l), sink: sink > 0 };
  }, rounds);
  const f = (o) => `decodeToken ${o.ft.toFixed(2)} us, jwt-decode ${o.jd.toFixed(2)} us, ${o.ratio.toFixed(1)}x`;
  console.log(`short: ${f(out.short)}; 4 KB payload: ${f(out.long)} (medians of ${rounds} rounds, Chromium)`);
  await tab.close();
} finally {
  await browser.close();
  await srv.close();
}
