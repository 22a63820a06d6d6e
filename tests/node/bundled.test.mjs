// The package bundled by esbuild, which leaves `new URL('../pkg/freshtoken_bg.wasm',
// import.meta.url)` alone: with the wasm copied beside the bundle (where wasm-bindgen
// packages have it), init() finds it there; without it, init() rejects naming the URL it
// asked for first. Each bundle is a module instance of its own (its own glue and wasm).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function bundle(withWasm) {
  const dir = mkdtempSync(join(tmpdir(), 'freshtoken-esbuild-'));
  await build({ entryPoints: [join(ROOT, 'js/index.js')], bundle: true, format: 'esm', platform: 'browser', outfile: join(dir, 'app.mjs'), logLevel: 'silent' });
  if (withWasm) copyFileSync(join(ROOT, 'pkg/freshtoken_bg.wasm'), join(dir, 'freshtoken_bg.wasm'));
  return { dir, ft: await import(pathToFileURL(join(dir, 'app.mjs')).href) };
}

const jwt = (claims) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

test('esbuild bundle with the wasm beside it: init() falls back to it and decodes', { timeout: 30_000 }, async () => {
  const { dir, ft } = await bundle(true);
  try {
    await ft.init();
    assert.equal(ft.decodeToken(jwt({ exp: 2_000_000_000 })).expiresAt, 2e12);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('esbuild bundle without the wasm: wasm-load-failed names the URL asked for first', { timeout: 30_000 }, async () => {
  const { dir, ft } = await bundle(false);
  try {
    const first = new URL('../pkg/freshtoken_bg.wasm', pathToFileURL(join(dir, 'app.mjs'))).href;
    await assert.rejects(ft.init(), (e) => {
      assert.equal(e.code, 'wasm-load-failed');
      assert.ok(e.message.startsWith(`freshtoken could not load its WebAssembly module from ${first}: ENOENT`), e.message);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
