// What the shipped wasm would weigh without some of its exports: the question a split (a
// second, lazily loaded wasm) or a dropped feature must answer first. Removes the named
// exports with binaryen's wasm-metadce (everything only they reach goes too), optimizes
// again as scripts/build.sh does, and prints raw and gzip -9 sizes beside the wasm as built.
//   node scripts/size-without.mjs presetRule coreDpopProof coreDpopNonce coreDpopRetry
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const wasm = join(root, 'pkg/freshtoken_bg.wasm');
const bin = (name) => join(root, 'node_modules/.bin', name);
const drop = process.argv.slice(2);
const bytes = readFileSync(wasm);
const mod = await WebAssembly.compile(bytes);
const exports = WebAssembly.Module.exports(mod).map((e) => e.name);
const unknown = drop.filter((n) => !exports.includes(n));
if (!drop.length || unknown.length) {
  console.error(`usage: node scripts/size-without.mjs <export>...; ${unknown.length ? `not exports: ${unknown.join(', ')}; ` : ''}exports: ${exports.join(' ')}`);
  process.exit(2);
}
const kept = exports.filter((n) => !drop.includes(n));
const graph = [
  { name: 'root', root: true, reaches: kept.map((n) => `e:${n}`) },
  ...kept.map((n) => ({ name: `e:${n}`, export: n })),
  ...WebAssembly.Module.imports(mod).map((i, k) => ({ name: `i:${k}`, import: [i.module, i.name] })),
];
const dir = mkdtempSync(join(tmpdir(), 'size-without-'));
writeFileSync(join(dir, 'graph.json'), JSON.stringify(graph));
const features = ['--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext', '--enable-mutable-globals'];
execFileSync(bin('wasm-metadce'), ['-f', join(dir, 'graph.json'), wasm, '-o', join(dir, 'dce.wasm'), ...features], { stdio: ['ignore', 'ignore', 'inherit'] });
execFileSync(bin('wasm-opt'), ['-O4', '-Oz', '--low-memory-unused', '--converge', ...features, join(dir, 'dce.wasm'), '-o', join(dir, 'out.wasm')]);
const out = readFileSync(join(dir, 'out.wasm'));
const gz = (b) => gzipSync(b, { level: 9 }).length;
console.log(`wasm as built: ${bytes.length} B raw, ${gz(bytes)} B gzip -9`);
console.log(`without ${drop.join(', ')}: ${out.length} B raw, ${gz(out)} B gzip -9 (${gz(out) - gz(bytes)} B)`);
