// init() failures in node (a process of their own: the glue instantiates once per process,
// and nothing here has loaded it before): a wasm that cannot be loaded rejects with a
// FreshtokenError that says what, from where, why and what to do; a failed load can be retried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import init, { FreshtokenError, decodeToken } from '../../js/index.js';

const T = { timeout: 20_000 };


test('a wasm that cannot be read from disk: FreshtokenError wasm-load-failed naming the module, the URL, the cause and the fix', T, async () => {
  const url = new URL('file:///nowhere/freshtoken_bg.wasm');
  await assert.rejects(init(url), (e) => {
    assert.ok(e instanceof FreshtokenError, 'instanceof FreshtokenError');
    assert.equal(e.code, 'wasm-load-failed');
    assert.match(e.message, /^freshtoken could not load its WebAssembly module from file:\/\/\/nowhere\/freshtoken_bg\.wasm: ENOENT/);
    assert.match(e.message, /pass its URL \(or its bytes\) to init\(\)/);
    return true;
  });
});

test('a URL that answers HTML (as a dev server fallback does): the error names the URL, and the Vite 7 line for .vite/deps; a 404 says so; nothing logged', T, async () => {
  const html = createServer((req, res) => {
    if (req.url.startsWith('/missing/')) { res.writeHead(404, 'Not Found'); res.end(); return; }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><p>app');
  });
  await new Promise((r) => html.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${html.address().port}/node_modules/.vite/deps/freshtoken_bg.wasm`;
  const warn = console.warn;
  const warned = [];
  console.warn = (...args) => warned.push(args); // nothing is logged: the rejection says it all
  try {
    await assert.rejects(init(url), (e) => {
      assert.ok(e instanceof FreshtokenError);
      assert.equal(e.code, 'wasm-load-failed');
      assert.ok(e.message.includes(`from ${url}:`), e.message);
      assert.ok(e.message.includes("optimizeDeps: { exclude: ['freshtoken'] }"), e.message);
      return true;
    });
    assert.deepEqual(warned, [], 'no console warning');
    // A 404 says so, with the URL.
    const missing = `http://127.0.0.1:${html.address().port}/missing/freshtoken_bg.wasm`;
    await assert.rejects(init(missing), (e) => {
      assert.equal(e.code, 'wasm-load-failed');
      assert.ok(e.message.startsWith(`freshtoken could not load its WebAssembly module from ${missing}: HTTP 404 Not Found.`), e.message);
      assert.ok(!e.message.includes('optimizeDeps'), 'no Vite line for a path that is not Vite\'s');
      return true;
    });
    // A failed load may be retried: the same init() then succeeds with the real bytes.
    const bytes = readFileSync(new URL('../../pkg/freshtoken_bg.wasm', import.meta.url));
    await init(bytes);
    assert.equal(decodeToken(`${'e30'}.${Buffer.from('{"exp":2000000000}').toString('base64url')}.s`).expiresAt, 2e12);
  } finally {
    console.warn = warn;
    html.close();
  }
});
