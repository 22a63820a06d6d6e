// `npm run bench` (after scripts/setup.sh and scripts/build.sh): measures SPEC's performance
// budgets P1-P6 in headless Chromium against a loopback server, beside the anchors, and
// writes bench/RESULTS.md (the table the README embeds). Every figure is measured in this
// run: P1 from esbuild bundles of bench/anchors/*.js, P2-P6 in the page bench/page/main.js.
//
// Passes (PASSES, default 3) each open a fresh page and run P2, P3, P4, P6 in a rotated
// order, then P5 in a page of its own; inside a pass the methods are interleaved in rounds.
// Ratios and overheads are computed within a round (same page, same moment) and then
// summarised as median [p25-p75] over all rounds of all passes.
//
// P3 races decodeToken against the jwt-decode package itself (node_modules, bundled into the
// page) on three payload shapes (minimal: sub/iat/exp; short: nine claims, non-ASCII names
// in half; ~4 KB), each as 8 distinct tokens cycled and as 1,000 distinct tokens. The
// budget row reads the 1,000-token figures. bench/decode-quick.mjs runs P3 alone.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync, rmSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { launchBrowser } from '../tests/support/browser.mjs';
import { startBenchServer } from './server.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const OUT = join(ROOT, 'bench/out');
const PASSES = Number(process.env.PASSES ?? 3);
const QUICK = process.env.QUICK === '1'; // smaller loads, for working on the bench itself
const KB = 1024;

const CFG = {
  p2: QUICK ? { rounds: 4, seq: 20, conc: 20, batches: 2, warmup: 10 } : { rounds: 12, seq: 40, conc: 20, batches: 3, warmup: 20 },
  p2stub: QUICK ? { rounds: 4, iters: 2000 } : { rounds: 10, iters: 5000 },
  p2cold: QUICK ? { rounds: 3, n: 30, gap: 3 } : { rounds: 6, n: 60, gap: 3 },
  // Decodes per timing, cycling through the set, by shape (the same for 8 and 1,000 tokens):
  // per pass each of the 1,000 minimal or short tokens is decoded 50 times (50,000 decodes),
  // each 4 KB one 10 times. QUICK's 4 KB timings reach only the first 200 of the 1,000.
  p3: QUICK ? { rounds: 3, iters: { minimal: 2000, short: 2000, long: 200 } } : { rounds: 10, iters: { minimal: 5000, short: 5000, long: 1000 } },
  p4: { n: 1000, reps: 1 },
  p5: { cycles: 10000 },
  p6: QUICK ? { n: 10, warmup: 2 } : { n: 30, warmup: 3 },
};

const log = (...a) => console.error('bench:', ...a);
const version = (pkg) => JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;

// --- statistics ----------------------------------------------------------------------------

function quantile(sorted, q) {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p25: quantile(s, 0.25), p75: quantile(s, 0.75), min: s[0], max: s[s.length - 1], n: s.length };
}
const fx = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : String(v));
const spread = (st, d = 2) => `${fx(st.median, d)} [${fx(st.p25, d)}–${fx(st.p75, d)}]`;
const kb = (bytes) => (bytes / KB).toFixed(1);

// --- P1: sizes -------------------------------------------------------------------------------

const ANCHORS = [
  { name: 'freshtoken', file: 'freshtoken.js', version: () => JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version, wasm: true },
  { name: 'jwt-decode', file: 'jwt-decode.js', version: () => version('jwt-decode') },
  { name: 'axios-auth-refresh + axios', file: 'axios-auth-refresh.js', version: () => `${version('axios-auth-refresh')} + ${version('axios')}` },
  { name: 'keycloak-js', file: 'keycloak-js.js', version: () => version('keycloak-js') },
  { name: 'oidc-client-ts', file: 'oidc-client-ts.js', version: () => version('oidc-client-ts') },
  { name: '@supabase/auth-js', file: 'supabase-auth-js.js', version: () => version('@supabase/auth-js') },
  { name: '@auth0/auth0-spa-js', file: 'auth0-spa-js.js', version: () => version('@auth0/auth0-spa-js') },
];

function compressed(data) {
  return {
    raw: data.length,
    gzip: gzipSync(data, { level: 9 }).length,
    brotli: brotliCompressSync(data, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
    }).length,
  };
}

const ESBUILD = { bundle: true, minify: true, format: 'esm', platform: 'browser', logLevel: 'warning' };

/**
 * The page bundle: freshtoken + the anchors it races, with the wasm where its default URL
 * (`new URL('../pkg/freshtoken_bg.wasm', import.meta.url)`, which esbuild leaves alone)
 * points: `dir`/js/page.js and `dir`/pkg/freshtoken_bg.wasm. `entry` is an esbuild entry
 * point (bench/page/main.js by default) or { contents } of one in bench/page.
 */
export async function buildPage(dir, entry = join(ROOT, 'bench/page/main.js')) {
  const from = typeof entry === 'string'
    ? { entryPoints: [entry] }
    : { stdin: { contents: entry.contents, resolveDir: join(ROOT, 'bench/page'), sourcefile: 'entry.js', loader: 'js' } };
  await build({ ...ESBUILD, ...from, outfile: join(dir, 'js/page.js') });
  mkdirSync(join(dir, 'pkg'), { recursive: true });
  copyFileSync(join(ROOT, 'pkg/freshtoken_bg.wasm'), join(dir, 'pkg/freshtoken_bg.wasm'));
}

async function buildAll() {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(join(OUT, 'size'), { recursive: true });
  const sizes = [];
  for (const a of ANCHORS) {
    // Code splitting on, as Vite and webpack do: what a dynamic import() loads is a lazy
    // chunk, fetched only by apps that use it (freshtoken's crossTab code), and is reported
    // beside the main entry, not in it. The main entry is the entry chunk plus every chunk
    // it imports statically.
    const outdir = join(OUT, 'size', a.file.replace(/\.js$/, ''));
    const { metafile } = await build({ ...ESBUILD, splitting: true, metafile: true, entryPoints: [join(ROOT, 'bench/anchors', a.file)], outdir });
    const outputs = metafile.outputs;
    const entry = Object.keys(outputs).find((f) => outputs[f].entryPoint && f.endsWith('.js'));
    const main = new Set();
    const walk = (f) => {
      if (main.has(f)) return;
      main.add(f);
      for (const i of outputs[f].imports) if (i.kind === 'import-statement' && outputs[i.path]) walk(i.path);
    };
    walk(entry);
    const sum = (files) => files.map((f) => compressed(readFileSync(f)))
      .reduce((t, c) => ({ raw: t.raw + c.raw, gzip: t.gzip + c.gzip, brotli: t.brotli + c.brotli }), { raw: 0, gzip: 0, brotli: 0 });
    const js = sum([...main]);
    const lazyFiles = Object.keys(outputs).filter((f) => f.endsWith('.js') && !main.has(f));
    const lazy = lazyFiles.length ? sum(lazyFiles) : null;
    const wasm = a.wasm ? compressed(readFileSync(join(ROOT, 'pkg/freshtoken_bg.wasm'))) : null;
    const total = wasm ? { raw: js.raw + wasm.raw, gzip: js.gzip + wasm.gzip, brotli: js.brotli + wasm.brotli } : js;
    sizes.push({ name: a.name, version: a.version(), js, wasm, total, lazy });
  }
  await buildPage(OUT);
  return sizes;
}

/**
 * Stops echoing the page's console: Chromium logs every 401 the anchors provoke as a
 * console error. Uncaught page errors are still reported.
 */
function quiet(tab) {
  tab.page.removeAllListeners('console');
  return tab;
}

// --- the run ---------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const loadStart = os.loadavg();
  log('bundling with esbuild (minified, ESM, browser)');
  const sizes = await buildAll();

  const srv = await startBenchServer();
  const browser = await launchBrowser();
  const chromium = browser.browser.version();
  const raw = { p2: [], p2stub: [], p2cold: [], p3: [], p4: [], p5: [], p6: [] };
  try {
    for (let pass = 0; pass < PASSES; pass++) {
      const tab = quiet(await browser.open(`${srv.url}/bench.html`));
      const sections = {
        P2: async () => {
          raw.p2.push(await tab.page.evaluate((c) => B.p2(c), { ...CFG.p2, offset: pass }));
          raw.p2stub.push(await tab.page.evaluate((c) => B.p2stub(c), { ...CFG.p2stub, offset: pass }));
          raw.p2cold.push(await tab.page.evaluate((c) => B.p2cold(c), CFG.p2cold));
        },
        P3: async () => raw.p3.push(await tab.page.evaluate((c) => B.p3(c), { ...CFG.p3, offset: pass })),
        P4: async () => {
          for (let rep = 0; rep < CFG.p4.reps; rep++) {
            raw.p4.push(await tab.page.evaluate((c) => B.p4(c), { n: CFG.p4.n, offset: pass * CFG.p4.reps + rep }));
          }
        },
        P6: async () => raw.p6.push(await tab.page.evaluate((c) => B.p6(c), CFG.p6)),
      };
      const names = Object.keys(sections);
      for (let i = 0; i < names.length; i++) {
        const name = names[(i + pass) % names.length];
        log(`pass ${pass + 1}/${PASSES}: ${name}`);
        await sections[name]();
      }
      await tab.close();

      log(`pass ${pass + 1}/${PASSES}: P5 (fresh page)`);
      const tab5 = quiet(await browser.open(`${srv.url}/bench.html`));
      const cdp = await tab5.page.context().newCDPSession(tab5.page);
      const heap = async () => {
        await cdp.send('HeapProfiler.collectGarbage');
        await cdp.send('HeapProfiler.collectGarbage');
        return (await cdp.send('Runtime.getHeapUsage')).usedSize;
      };
      const before = await tab5.page.evaluate(() => B.p5prepare());
      const heapBefore = await heap();
      const run = await tab5.page.evaluate((n) => B.p5run(n), CFG.p5.cycles);
      const heapAfter = await heap();
      // A second batch: JIT code and inline caches settle during the first one.
      const run2 = await tab5.page.evaluate((n) => B.p5run(n), CFG.p5.cycles);
      const heapAfter2 = await heap();
      const disposed = await tab5.page.evaluate(() => B.p5dispose());
      const heapDisposed = await heap();
      raw.p5.push({ before: before.wasmBytes, after: run.wasmBytes, after2: run2.wasmBytes, disposed: disposed.wasmBytes,
        heapBefore, heapAfter, heapAfter2, heapDisposed, ms: run.ms, state: run.state });
      await cdp.detach();
      await tab5.close();
    }
  } finally {
    await browser.close();
    await srv.close();
  }
  const loadEnd = os.loadavg();
  const results = summarise(raw, sizes);
  const md = report(results, { chromium, started, loadStart, loadEnd, seconds: (Date.now() - started) / 1000 });
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'raw.json'), JSON.stringify({ raw, sizes, CFG }, null, 1));
  if (!QUICK && process.env.BENCH_NO_WRITE !== '1') writeFileSync(join(ROOT, 'bench/RESULTS.md'), md);
  console.log(md);
  if (QUICK) log('QUICK=1: bench/RESULTS.md not written');
}

// --- summary ---------------------------------------------------------------------------------

const P2_METHODS = ['native', 'native again (A/A)', 'refresher.fetch', 'interceptor', 'axios+auth-refresh'];

function summarise(raw, sizes) {
  const p2 = {};
  for (const load of ['sequential', 'concurrent']) {
    const rounds = raw.p2.flatMap((r) => r[load]);
    p2[load] = Object.fromEntries(P2_METHODS.map((m) => [m, {
      time: stats(rounds.map((r) => r[m])),
      overhead: stats(rounds.map((r) => r[m] - r.native)),
      ratio: stats(rounds.map((r) => r[m] / r.native)),
    }]));
  }

  for (const [key, rows] of [['stub', raw.p2stub.flat()], ['cold', raw.p2cold.flat()]]) {
    p2[key] = Object.fromEntries(['native', 'refresher.fetch', 'interceptor'].map((m) => [m, {
      time: stats(rows.map((r) => r[m])),
      overhead: stats(rows.map((r) => r[m] - r.native)),
    }]));
  }

  const p3 = summariseP3(raw.p3);

  const variants = Object.keys(raw.p4[0]);
  const p4 = { reps: raw.p4.length, variants: {} };
  for (const v of variants) {
    const reps = raw.p4.map((r) => r[v]);
    p4.variants[v] = {
      ms: stats(reps.map((r) => r.ms)),
      refreshCalls: stats(reps.map((r) => r.refreshCalls)),
      failed: stats(reps.map((r) => r.failed)),
      rejected: stats(reps.map((r) => r.rejected ?? 0)),
      served: stats(reps.map((r) => r.served ?? 0)),
      statuses: reps.map((r) => r.statuses),
    };
  }
  // Per repetition: settle time / (native valid-token time + one refresh round trip).
  p4.target = stats(raw.p4.map((r) => r['native (valid token)'].ms + r['refresh round trip'].ms));
  for (const v of ['refresher.fetch', 'refresher.fetch, restored stale token', 'interceptor']) {
    p4.variants[v].vsTarget = stats(raw.p4.map((r) => r[v].ms / (r['native (valid token)'].ms + r['refresh round trip'].ms)));
  }

  const p5 = {
    growth: stats(raw.p5.map((r) => r.after - r.before)),
    before: stats(raw.p5.map((r) => r.before)),
    after: stats(raw.p5.map((r) => r.after)),
    heapBefore: stats(raw.p5.map((r) => r.heapBefore)),
    heapAfter: stats(raw.p5.map((r) => r.heapAfter)),
    heapGrowth: stats(raw.p5.map((r) => r.heapAfter - r.heapBefore)),
    growth2: stats(raw.p5.map((r) => r.after2 - r.after)),
    heapGrowth2: stats(raw.p5.map((r) => r.heapAfter2 - r.heapAfter)),
    heapDisposed: stats(raw.p5.map((r) => r.heapDisposed)),
    perCycleUs: stats(raw.p5.map((r) => (r.ms * 1000) / CFG.p5.cycles)),
    states: [...new Set(raw.p5.map((r) => r.state))],
  };

  const p6 = {
    init: stats(raw.p6.flatMap((r) => r.init)),
    compile: stats(raw.p6.flatMap((r) => r.compile)),
    perPass: raw.p6.map((r) => stats(r.init).median),
  };
  return { sizes, p2, p3, p4, p5, p6 };
}

/**
 * P3 per set (shape x distinct-token count), over every round of every pass: us per decode
 * for each decoder and the ratio jwt-decode / decodeToken taken within each round.
 */
export function summariseP3(p3raw) {
  const rows = p3raw.flatMap((r) => r.rows);
  return p3raw[0].sets.map((set) => ({
    ...set,
    decodeToken: stats(rows.map((r) => r[set.key].decodeToken)),
    jwtDecode: stats(rows.map((r) => r[set.key].jwtDecode)),
    ratio: stats(rows.map((r) => r[set.key].jwtDecode / r[set.key].decodeToken)),
  }));
}

// SPEC's P3 aims by shape: 3x on short tokens (minimal ones are short), 20x on 4 KB payloads.
const P3_AIM = { minimal: 3, short: 3, long: 20 };
const P3_NAME = { minimal: 'minimal', short: 'short', long: '4 KB' };
const aimMet = (set) => set.ratio.median >= P3_AIM[set.shape];

/** The P3 budget cell: each shape's ratio on 1,000 distinct tokens, against its aim. */
export function p3Budget(p3) {
  const many = p3.filter((s) => s.count === 1000 && !s.kids);
  const order = ['short', 'minimal', 'long'];
  many.sort((a, b) => order.indexOf(a.shape) - order.indexOf(b.shape));
  const cell = many.map((s) => `${P3_NAME[s.shape]}${s.shape === 'long' ? '' : ` (${s.claims} claims)`} ` +
    `${fx(s.ratio.median, 1)}x, ${P3_AIM[s.shape]}x aim ${aimMet(s) ? 'met' : '**not met**'}`).join('; ');
  return { cell, met: p3.every((s) => s.ratio.median >= 1) };
}

/** The P3 section: table and how it was measured (`cfg` is the p3 configuration used). */
export function p3Section(p3, cfg) {
  const L = [];
  L.push('### P3 — decodeToken vs the jwt-decode package, µs per token');
  L.push('');
  L.push('| payload | distinct tokens | decodeToken | jwt-decode | jwt-decode / decodeToken | aim | decodeToken tokens/s |');
  L.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const s of p3) {
    const what = s.kids ? `minimal, each under a header of its own (a \`kid\` each; ${Math.round(s.payloadBytes)} B)`
      : s.shape === 'minimal' ? `minimal: sub, iat, exp (${Math.round(s.payloadBytes)} B)`
      : s.shape === 'short' ? `short: ${s.claims} claims, non-ASCII names (${Math.round(s.payloadBytes)} B)`
        : `4 KB: ${s.claims} claims (${Math.round(s.payloadBytes)} B)`;
    const aim = s.kids ? '(no header memo)' : s.count === 1000 ? `${P3_AIM[s.shape]}x ${aimMet(s) ? 'met' : '**not met**'}` : '';
    L.push(`| ${what} | ${s.count.toLocaleString('en-US')} | ${spread(s.decodeToken)} | ${spread(s.jwtDecode)} | ` +
      `${spread(s.ratio, 1)}x | ${aim} | ${Math.round(1e6 / s.decodeToken.median).toLocaleString('en-US')} |`);
  }
  L.push('');
  const { version: jd } = JSON.parse(readFileSync(join(ROOT, 'node_modules/jwt-decode/package.json'), 'utf8'));
  const per = (shape) => cfg.iters[shape].toLocaleString('en-US');
  const times = (shape) => (cfg.iters[shape] >= 1000 ? fx((cfg.rounds * cfg.iters[shape]) / 1000, 0)
    : `only the first ${cfg.iters[shape]}, each ${cfg.rounds}`);
  L.push(`jwt-decode is the package itself (${jd}, from node_modules), bundled into the page with freshtoken by esbuild; ` +
    'both decoders\' claims are compared on every token before anything is timed. ' +
    `A timing is ${per('minimal')} decodes (minimal), ${per('short')} (short) or ${per('long')} (4 KB) cycling through the set, ` +
    'the two decoders back to back on the same set in alternating order, the sets in a rotated order; ' +
    `${cfg.rounds} rounds a pass, so each of the 1,000 distinct tokens is decoded ${times('minimal')} (minimal), ` +
    `${times('short')} (short) or ${times('long')} (4 KB) times a pass. ` +
    'Non-ASCII names (`Zoë Müller`) are in every other short and 4 KB token. ' +
    'The aims (3x on short tokens, minimal ones included; 20x on 4 KB payloads) are read on the 1,000 distinct tokens. ' +
    'Those share one header, as one issuer\'s tokens do, and the decoder keeps the last header it checked, so it reads ' +
    'each such header once; the `kid` row gives every token a header of its own, so every header is read and checked.');
  L.push('');
  return L;
}

function git(...args) {
  try { return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { return '?'; }
}

function report(r, env) {
  const ft = r.sizes.find((s) => s.name === 'freshtoken');
  const seq = r.p2.sequential;
  const p4ft = r.p4.variants['refresher.fetch'];
  const p4ic = r.p4.variants.interceptor;
  const p4st = r.p4.variants['refresher.fetch, restored stale token'];
  const p4ok = [p4ft, p4ic, p4st].every((v) => v.refreshCalls.max === 1 && v.failed.max === 0);
  const yes = (ok) => (ok ? 'met' : '**not met**');
  const L = [];
  const date = new Date(env.started).toISOString().replace('T', ' ').slice(0, 16);
  const cpu = os.cpus();
  L.push('## Performance (`npm run bench`)');
  L.push('');
  L.push(`Measured ${date} UTC on ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `${os.type()} ${os.release()}; headless Chromium ${env.chromium}, node ${process.version}, esbuild ${version('esbuild')}; ` +
    `freshtoken ${git('rev-parse', '--short', 'HEAD')}. Load average ${env.loadStart.map((x) => x.toFixed(2)).join(' ')} at the start, ` +
    `${env.loadEnd.map((x) => x.toFixed(2)).join(' ')} at the end; ${PASSES} passes, ${fx(env.seconds, 0)} s. ` +
    'Figures are median [p25–p75] over rounds; ratios and overheads are taken within each round.');
  L.push('');
  L.push('| # | budget (aim) | measured | |');
  L.push('|---|---|---|---|');
  L.push(`| P1 | wasm + glue + main entry, gzip -9 <= 20 KB (15 KB) | ${kb(ft.total.gzip)} KB | ${yes(ft.total.gzip <= 20 * KB)} |`);
  // The loopback difference is read against the A/A difference (native vs native), which
  // is the noise floor of this machine at this moment; the stub figure is the SDK's cost.
  const aa = seq['native again (A/A)'].overhead;
  const loop = seq['refresher.fetch'].overhead;
  const ownMs = r.p2.stub['refresher.fetch'].overhead.median / 1000;
  const coldMs = r.p2.cold['refresher.fetch'].overhead.median / 1000;
  // Met only when the cost per request between real requests (the cold figure) is within
  // the budget too: a loopback median inside the A/A noise alone proves nothing either way.
  const p2met = ownMs <= 0.05 && coldMs <= 0.05 && (loop.median <= 0.05 || loop.median <= aa.p75);
  L.push(`| P2 | refresher.fetch overhead, sequential <= 0.05 ms (0.02 ms) | own cost ${fx(ownMs, 4)} ms (${fx(coldMs, 3)} ms after ${CFG.p2cold.gap} ms idle); loopback ${spread(loop, 3)} ms ` +
    `against an A/A noise floor of ${spread(aa, 3)} ms | ${yes(p2met)} |`);
  const p3 = p3Budget(r.p3);
  L.push(`| P3 | decodeToken vs jwt-decode >= 1x (3x short, 20x 4 KB), 1,000 distinct tokens | ${p3.cell} | ${yes(p3.met)} |`);
  L.push(`| P4 | 1,000 concurrent, expired token: 1 refresh, 0 failed (settled <= 1.2x native + 1 refresh) | ${fx(p4ft.refreshCalls.max, 0)} refresh, ${fx(p4ft.failed.max, 0)} failed (worst of ${r.p4.reps}); ${fx(p4ft.vsTarget.median)}x | ${yes(p4ok)} |`);
  L.push(`| P4 | the same with a restored stale token (iat 100 s ago, exp 10 s after): 1 refresh, 0 sent with it | ${fx(p4st.refreshCalls.max, 0)} refresh, ${fx(p4st.rejected.max, 0)} requests answered 401 (worst of ${r.p4.reps}); ${fx(p4st.vsTarget.median)}x | ${yes(p4st.refreshCalls.max === 1 && p4st.rejected.max === 0)} |`);
  L.push(`| P5 | 10,000 refresh cycles: wasm memory growth <= 64 KB (none) | ${fx(r.p5.growth.max / KB, 1)} KB (worst of ${r.p5.growth.n}) | ${yes(r.p5.growth.max <= 64 * KB)} |`);
  L.push(`| P6 | wasm compile + instantiate <= 5 ms median (2 ms) | ${spread(r.p6.init)} ms | ${yes(r.p6.init.median <= 5)} |`);
  L.push('');

  L.push('### P1 — size, bundled by esbuild (minified, ESM, browser), KB');
  L.push('');
  L.push('| package | version | raw | gzip -9 | brotli | lazy chunks, gzip -9 |');
  L.push('|---|---|---:|---:|---:|---:|');
  for (const s of r.sizes) {
    const what = s.wasm ? `${s.name} (JS ${kb(s.js.gzip)} + wasm ${kb(s.wasm.gzip)} gzip)` : s.name;
    const lazy = s.lazy ? `${kb(s.lazy.gzip)}${s.name === 'freshtoken' ? ' (crossTab only)' : ''}` : '—';
    L.push(`| ${what} | ${s.version} | ${kb(s.total.raw)} | ${kb(s.total.gzip)} | ${kb(s.total.brotli)} | ${lazy} |`);
  }
  L.push('');

  L.push('### P2 — per-request time, loopback GET /api/echo, ms');
  L.push('');
  L.push('| load | method | per request | overhead vs native | ratio to native |');
  L.push('|---|---|---:|---:|---:|');
  for (const load of ['sequential', 'concurrent']) {
    for (const m of P2_METHODS) {
      const x = r.p2[load][m];
      const over = m === 'native' ? '—' : spread(x.overhead, 3);
      const ratio = m === 'native' ? '1' : spread(x.ratio, 3);
      L.push(`| ${load === 'sequential' ? 'sequential' : `concurrent (${CFG.p2.conc} at once)`} | ${m} | ${spread(x.time, 3)} | ${over} | ${ratio} |`);
    }
  }
  L.push('');

  L.push(`The SDK's own cost, without loopback jitter: the same calls over a stub \`fetch\` that answers at once, µs per request (${CFG.p2stub.iters.toLocaleString('en-US')} sequential calls a round):`);
  L.push('');
  L.push('| method | per request | overhead vs calling the stub directly |');
  L.push('|---|---:|---:|');
  for (const [m, x] of Object.entries(r.p2.stub)) {
    L.push(`| ${m} | ${spread(x.time, 1)} | ${m === 'native' ? '—' : spread(x.overhead, 1)} |`);
  }
  L.push('');
  L.push(`The same calls with the page idle for ${CFG.p2cold.gap} ms before each one, as between real requests (caches gone cold; ` +
    `${CFG.p2cold.n} calls of each method a round, in random order, µs per call; timer resolution 5 µs). This, not the hot loop above, ` +
    'is what the loopback overhead is made of:');
  L.push('');
  L.push('| method | per call | overhead vs calling the stub directly |');
  L.push('|---|---:|---:|');
  for (const [m, x] of Object.entries(r.p2.cold)) {
    L.push(`| ${m} | ${spread(x.time, 1)} | ${m === 'native' ? '—' : spread(x.overhead, 1)} |`);
  }
  L.push('');

  L.push(...p3Section(r.p3, CFG.p3));

  L.push(`### P4 — 1,000 concurrent requests, ${r.p4.reps} repetitions`);
  L.push('');
  L.push('| variant | token | refresh calls | failed | requests the server saw (401s) | time to all settled, ms |');
  L.push('|---|---|---:|---:|---:|---:|');
  for (const [v, x] of Object.entries(r.p4.variants)) {
    if (v === 'refresh round trip') continue;
    const token = v.startsWith('native') ? 'valid' : v.includes('restored') ? 'restored, stale' : 'expired';
    const calls = x.refreshCalls.min === x.refreshCalls.max ? fx(x.refreshCalls.min, 0) : `${fx(x.refreshCalls.min, 0)}–${fx(x.refreshCalls.max, 0)}`;
    const failed = x.failed.min === x.failed.max ? fx(x.failed.min, 0) : `${fx(x.failed.min, 0)}–${fx(x.failed.max, 0)}`;
    L.push(`| ${v} | ${token} | ${calls} | ${failed} | ${fx(x.served.max, 0)} (${fx(x.rejected.max, 0)}) | ${spread(x.ms, 0)} |`);
  }
  L.push(`| one refresh round trip | | 1 | 0 | | ${spread(r.p4.variants['refresh round trip'].ms, 2)} |`);
  L.push('');
  L.push(`Aim: settled within 1.2x of (native with a valid token + one refresh round trip) = ${spread(r.p4.target, 0)} ms per repetition; ` +
    `refresher.fetch ${spread(p4ft.vsTarget)}x, restored stale token ${spread(p4st.vsTarget)}x, interceptor ${spread(p4ic.vsTarget)}x.`);
  L.push('');

  L.push(`### P5 — ${CFG.p5.cycles.toLocaleString('en-US')} refresh cycles (custom refresh function, new JWT each cycle), ${r.p5.growth.n} fresh pages`);
  L.push('');
  const kbStats = (st) => ({ ...st, median: st.median / KB, p25: st.p25 / KB, p75: st.p75 / KB });
  L.push('| wasm memory before | after | growth | growth in a second 10,000 | JS heap before (after GC) | after | growth | growth in a second 10,000 | per cycle |');
  L.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  L.push(`| ${kb(r.p5.before.median)} KB | ${kb(r.p5.after.median)} KB | ${fx(r.p5.growth.median / KB, 1)} KB (max ${fx(r.p5.growth.max / KB, 1)}) | ` +
    `${fx(r.p5.growth2.max / KB, 1)} KB (max) | ` +
    `${kb(r.p5.heapBefore.median)} KB | ${kb(r.p5.heapAfter.median)} KB | ${spread(kbStats(r.p5.heapGrowth), 1)} KB | ` +
    `${spread(kbStats(r.p5.heapGrowth2), 1)} KB | ${spread(r.p5.perCycleUs, 1)} µs |`);
  L.push('');
  const settles = r.p5.heapGrowth2.median < r.p5.heapGrowth.median / 4;
  L.push(settles
    ? `The JS heap grows in the first batch (compiled code and inline caches warming up) and by ${fx(r.p5.heapGrowth2.median / KB, 1)} KB in the second.`
    : `The JS heap still grows in the second batch: ${fx(r.p5.heapGrowth2.median / KB, 1)} KB per 10,000 cycles.`);
  L.push('');

  L.push(`### P6 — wasm compile + instantiate (${ft.wasm ? kb(ft.wasm.raw) : '?'} KB), ${r.p6.init.n} fresh loads`);
  L.push('');
  L.push('| glue init on the bytes (compile + instantiate + start) | WebAssembly.compile alone | per-pass medians |');
  L.push('|---:|---:|---|');
  L.push(`| ${spread(r.p6.init, 3)} ms | ${spread(r.p6.compile, 3)} ms | ${r.p6.perPass.map((x) => fx(x, 3)).join(', ')} ms |`);
  L.push('');
  return L.join('\n');
}

// Run as a script (`node bench/run.mjs`); bench/decode-quick.mjs imports the P3 pieces.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
