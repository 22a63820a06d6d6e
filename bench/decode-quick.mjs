// Quick P3 check (not the full `npm run bench`): the bench's own P3, decodeToken against the
// jwt-decode package itself (node_modules), on minimal, short and ~4 KB-payload JWTs, 8
// distinct tokens cycled and 1,000 distinct tokens, in headless Chromium. Prints the P3
// table of bench/RESULTS.md; ratios are taken within each round, so figures from a loaded
// machine stay comparable. Needs pkg/ built (scripts/build.sh).
//
//   node bench/decode-quick.mjs            # ROUNDS=5 rounds, PASSES=1 page by default
//
// It bundles a small page entry (P3 of bench/page/main.js, with jwt-decode from
// node_modules) the way bench/run.mjs bundles the page, into bench/out/quick/, and serves it
// from the bench server.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from '../tests/support/browser.mjs';
import { startBenchServer } from './server.mjs';
import { buildPage, summariseP3, p3Section } from './run.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const DIR = join(ROOT, 'bench/out/quick');
const cfg = {
  rounds: Number(process.env.ROUNDS ?? 5),
  iters: { minimal: 5000, short: 5000, long: 1000 },
};
const passes = Number(process.env.PASSES ?? 1);

await buildPage(DIR, { contents: "export { setup, p3 } from './main.js';" });
mkdirSync(DIR, { recursive: true });
// Served with the bench server's cross-origin isolation headers (5 us timer resolution).
writeFileSync(join(DIR, 'index.html'), `<!doctype html>
<html><head><meta charset="utf-8"><title>freshtoken P3</title><link rel="icon" href="data:,"></head>
<body><script type="module">
  try {
    window.B = await import('./js/page.js');
    await window.B.setup();
    window.ready = true;
  } catch (e) {
    window.initError = String((e && e.stack) || e);
  }
</script></body></html>`);

const srv = await startBenchServer();
const browser = await launchBrowser();
const raw = [];
try {
  for (let pass = 0; pass < passes; pass++) {
    const tab = await browser.open(`${srv.url}/bench/out/quick/index.html`);
    raw.push(await tab.page.evaluate((c) => window.B.p3(c), { ...cfg, offset: pass }));
    await tab.close();
  }
} finally {
  await browser.close();
  await srv.close();
}
console.log(p3Section(summariseP3(raw), cfg).join('\n'));
console.log(`(${passes} page${passes === 1 ? '' : 's'} x ${cfg.rounds} rounds, headless Chromium)`);
