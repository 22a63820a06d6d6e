// Prints raw / gzip -9 / brotli (quality 11) sizes of what the npm package ships:
// the wasm, its wasm-bindgen glue, and the hand-written JS in js/.
// "core" is what `import 'freshtoken'` loads (js/index.js, what it imports, pkg/), as shipped
// (unminified, comments and all). SPEC's P1 is what an app ships: the main entry bundled and
// minified (esbuild, code splitting on as Vite and webpack do, so the crossTab chunk loads
// only when used) plus the wasm; `npm run bench` measures it the same way beside the anchors.
// The last line, `gzip total: N bytes`, is the gzip size of every shipped file
// (summed per file, as a browser fetches them).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;

function jsFiles(dir) {
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.m?js$/.test(e.name))
    .map((e) => relative(root, join(e.parentPath ?? e.path, e.name)))
    .sort();
}

const files = [
  'pkg/freshtoken_bg.wasm',
  'pkg/freshtoken.js',
  ...jsFiles('pkg/snippets'),
  ...jsFiles('js'),
].filter((f) => existsSync(join(root, f)));

function sizes(file) {
  const data = readFileSync(join(root, file));
  return {
    raw: data.length,
    gzip: gzipSync(data, { level: 9 }).length,
    brotli: brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    }).length,
  };
}

const rows = files.map((f) => ({ file: f, ...sizes(f) }));
const sum = (list) =>
  list.reduce((a, r) => ({ raw: a.raw + r.raw, gzip: a.gzip + r.gzip, brotli: a.brotli + r.brotli }),
    { raw: 0, gzip: 0, brotli: 0 });
// What `import 'freshtoken'` loads: js/index.js and the relative imports it reaches.
function importClosure(entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file) || !existsSync(join(root, file))) return;
    seen.add(file);
    const src = readFileSync(join(root, file), 'utf8');
    for (const m of src.matchAll(/(?:import|export)\s*(?:[\w*{}\s,]*from\s*)?['"](\.{1,2}\/[^'"]+)['"]/g)) {
      visit(relative(root, join(root, file, '..', m[1])));
    }
  };
  visit(entry);
  return seen;
}
// SPEC P1: wasm + JS glue + main entry (with what it imports).
const loaded = importClosure('js/index.js');
const core = sum(rows.filter((r) => r.file.startsWith('pkg/') || loaded.has(r.file)));
const total = sum(rows);

const width = Math.max(28, ...files.map((f) => f.length));
const line = (name, s) =>
  `${name.padEnd(width)} ${String(s.raw).padStart(9)} ${String(s.gzip).padStart(9)} ${String(s.brotli).padStart(9)}`;
console.log(`${'file'.padEnd(width)} ${'raw'.padStart(9)} ${'gzip -9'.padStart(9)} ${'brotli'.padStart(9)}`);
for (const r of rows) console.log(line(r.file, r));
console.log('-'.repeat(width + 30));
console.log(line('core (import of js/index.js)', core));
console.log(line('shipped total', total));
console.log(line('wasm + glue', sum(rows.filter((r) => r.file.startsWith('pkg/')))));

// P1 as an app ships it: the bundler's minified main chunk, plus the wasm.
const { outputFiles, metafile } = await build({
  entryPoints: [join(root, 'js/index.js')], bundle: true, minify: true, format: 'esm', platform: 'browser',
  splitting: true, outdir: '/p1', write: false, metafile: true, logLevel: 'warning',
});
const byPath = new Map(outputFiles.map((f) => [basename(f.path), f.contents]));
const outputs = metafile.outputs;
const entry = Object.keys(outputs).find((f) => outputs[f].entryPoint);
const main = new Set();
const walk = (f) => {
  if (main.has(f)) return;
  main.add(f);
  for (const i of outputs[f].imports) if (i.kind === 'import-statement' && outputs[i.path]) walk(i.path);
};
walk(entry);
const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const mainGzip = [...main].reduce((n, f) => n + gz(byPath.get(basename(f))), 0);
const lazy = Object.keys(outputs).filter((f) => !main.has(f) && f.endsWith('.js'));
const lazyGzip = lazy.reduce((n, f) => n + gz(byPath.get(basename(f))), 0);
const lazyEach = lazy.map((f) => `${basename(f)} ${gz(byPath.get(basename(f)))}`).join(', ');
const wasmGzip = rows.find((r) => r.file === 'pkg/freshtoken_bg.wasm').gzip;
console.log(`P1: main entry minified ${mainGzip} + wasm ${wasmGzip} = ${mainGzip + wasmGzip} bytes gzip -9 `
  + `(budget 20480, aim 15360); lazy chunks ${lazyGzip} more (${lazyEach}: crossTab and dpop only)`);
console.log(`gzip total: ${total.gzip} bytes`);
