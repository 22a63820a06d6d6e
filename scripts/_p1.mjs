import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
const root = '/work/main/';
const r = await build({ entryPoints: [root + 'js/index.js'], bundle: true, minify: true, format: 'esm', platform: 'browser', splitting: true, outdir: '/tmp/ft/out', write: true, metafile: true, logLevel: 'warning' });
for (const [f, o] of Object.entries(r.metafile.outputs)) {
  console.log(f, o.bytes, o.entryPoint ? 'ENTRY' : '');
  const ins = Object.entries(o.inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput);
  for (const [i, v] of ins) console.log('   ', i.replace(root, ''), v.bytesInOutput);
}
