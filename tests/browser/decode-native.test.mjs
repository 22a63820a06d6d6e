// decodeToken in Chromium, where the JSON of a JWT is parsed by the browser's own
// JSON.parse (src/json/browser.rs) instead of the hand-written reader the host tests run.
// The checks JSON.parse does not make are the wasm's (src/json.rs `prescan`, token.rs range
// checks); this file pins them in the browser with the same codes and messages as the host
// decoder gives (tests/decode.rs, src/error.rs): nesting depth, exp/iat/nbf kinds and
// ranges, lone surrogates, too-large tokens, non-objects, and that the claims object comes
// back whole. It also checks a PubNub token's fields, which js/cbor.js reads into JS values
// once the wasm accepted the token: exact floats, and on a corpus of 300 tokens with every
// kind of CBOR item (tests/fixtures/pubnub-claims.json, kept by tests/pubnub_corpus.rs) the
// very values JSON.parse makes of the claims text the Rust decoder writes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer } from '../support/server.mjs';
import { launchBrowser } from '../support/browser.mjs';

let srv;
let browser;
let tab;
before(async () => {
  srv = await startServer({ lifetime: 60 });
  browser = await launchBrowser();
  tab = await browser.open(srv.url + '/test.html');
});
after(async () => {
  await tab?.close();
  await browser?.close();
  await srv?.close();
});

const b64 = (s) => Buffer.from(s).toString('base64url');
const HEADER = b64('{"alg":"none"}');
const jwt = (payload, header = HEADER) => `${header}.${b64(payload)}.`;

/** decodeToken in the page: the info, or the error's name/code/message. */
async function decodeAll(tokens, setup = '') {
  return tab.page.evaluate(({ tokens, setup }) => {
    // eslint-disable-next-line no-new-func
    const undo = new Function(setup)();
    try {
      return tokens.map((t) => {
        try {
          const info = ft.decodeToken(t);
          return { ok: true, ...info, expiresAt: Object.is(info.expiresAt, -0) ? 0 : info.expiresAt };
        } catch (e) {
          return { ok: false, name: e.name, code: e.code, message: e.message };
        }
      });
    } finally {
      if (typeof undo === 'function') undo();
    }
  }, { tokens, setup });
}

const refused = (code, message) => ({ ok: false, name: 'TokenDecodeError', code, message });

const PAYLOAD_DEEP = refused('bad-json', 'JWT payload JSON is nested too deep (more than 64 levels)');
const PAYLOAD_SYNTAX = refused('bad-json', 'JWT payload is not valid JSON');
const PAYLOAD_NOT_OBJECT = refused('bad-json', 'JWT payload is not a JSON object');

test('nesting: 64 levels pass, 65 are refused before JSON.parse sees them (also 100,000 deep)', async () => {
  const arrays = (n) => `{"exp":1,"a":${'['.repeat(n)}1${']'.repeat(n)}}`;
  const objects = (n) => `${'{"exp":1,"a":'.repeat(n - 1)}{"exp":1}${'}'.repeat(n - 1)}`;
  const out = await decodeAll([
    jwt(arrays(63)), jwt(arrays(64)), jwt(objects(64)), jwt(objects(65)),
    jwt(`{"exp":1,"a":${'['.repeat(100_000)}}`),
    jwt(`{"exp":1,"s":"${'['.repeat(200)}"}`),
    jwt('{"exp":1}', b64(`{"alg":${'['.repeat(64)}1${']'.repeat(64)}}`)),
  ]);
  assert.equal(out[0].ok, true);
  assert.equal(out[0].expiresAt, 1000);
  assert.deepEqual(out[1], PAYLOAD_DEEP);
  assert.equal(out[2].ok, true);
  assert.deepEqual(out[3], PAYLOAD_DEEP);
  assert.deepEqual(out[4], PAYLOAD_DEEP);
  assert.equal(out[5].ok, true, 'brackets inside strings do not count');
  assert.deepEqual(out[6], refused('bad-json', 'JWT header JSON is nested too deep (more than 64 levels)'));
});

test('surrogates: an escaped lone surrogate is refused (JSON.parse would accept it), a pair is read', async () => {
  const out = await decodeAll([
    jwt('{"exp":1,"a":"\\ud800"}'),
    jwt('{"exp":1,"a":"\\udc00"}'),
    jwt('{"exp":1,"a":"\\ud800\\u0041"}'),
    jwt('{"exp":1,"a":"\\ud800\\\\udc00"}'),
    jwt('{"exp":1,"\\ud83d\\ude00":"\\uD83D\\uDE00","b":"\\\\ud800"}'),
  ]);
  for (const r of out.slice(0, 4)) assert.deepEqual(r, PAYLOAD_SYNTAX);
  assert.equal(out[4].ok, true);
  assert.deepEqual(out[4].claims, { exp: 1, '😀': '😀', b: '\\ud800' });
});

test('exp/iat/nbf: kinds and ranges give the host decoder\'s codes and messages', async () => {
  const range = (c) => refused('bad-claim', `JWT claim \`${c}\` is out of range (negative or above 1e13 seconds)`);
  const kind = (c) => refused('bad-claim', `JWT claim \`${c}\` must be a number of seconds`);
  const cases = [
    ['{"exp":1700000000,"iat":1699999000}', { expiresAt: 1_700_000_000_000, issuedAt: 1_699_999_000_000, lifetimeMs: 1_000_000 }],
    ['{"exp":1.5}', { expiresAt: 1500 }],
    ['{"exp":1.7e9}', { expiresAt: 1.7e12 }],
    ['{"exp":0}', { expiresAt: 0 }],
    ['{"exp":-0}', { expiresAt: 0 }],
    ['{"exp":10000000000000}', { expiresAt: 1e16 }],
    ['{"exp":10000000000001}', range('exp')],
    ['{"exp":-1}', range('exp')],
    ['{"exp":1e400}', range('exp')],
    ['{"exp":-1e400}', range('exp')],
    ['{"exp":"1700000000"}', kind('exp')],
    ['{"exp":null}', kind('exp')],
    ['{"exp":[1]}', kind('exp')],
    ['{"exp":{}}', kind('exp')],
    ['{"exp":true}', kind('exp')],
    ['{"exp":1,"iat":-5}', range('iat')],
    ['{"exp":1,"iat":"x"}', kind('iat')],
    ['{"exp":1,"nbf":1e14}', range('nbf')],
    ['{"exp":1,"nbf":false}', kind('nbf')],
    ['{"sub":"no exp"}', refused('no-expiry', 'JWT has no `exp` claim')],
    ['{"\\u0065xp":5,"ex\\u0070":6}', { expiresAt: 6000 }],
    ['{"exp":"x","exp":7}', { expiresAt: 7000 }],
    ['{"exp":7,"exp":"x"}', kind('exp')],
    ['{"a":{"exp":"x"},"exp":2}', { expiresAt: 2000 }],
    ['{"éxp":"x","exp":3}', { expiresAt: 3000 }],
  ];
  const out = await decodeAll(cases.map(([p]) => jwt(p)));
  cases.forEach(([payload, want], i) => {
    if (want.ok === false) {
      assert.deepEqual(out[i], want, payload);
    } else {
      assert.equal(out[i].ok, true, `${payload}: ${out[i].message}`);
      for (const [k, v] of Object.entries(want)) assert.equal(out[i][k], v, `${payload}: ${k}`);
      assert.deepEqual(out[i].claims, JSON.parse(payload), payload);
    }
  });
});

test('claims are own properties of the token: a polluted Object.prototype.exp is not read', async () => {
  const setup = 'Object.prototype.exp = 123; Object.prototype.iat = 1; '
    + 'return () => { delete Object.prototype.exp; delete Object.prototype.iat; };';
  const out = await decodeAll([jwt('{"sub":"x"}'), jwt('{"exp":5}')], setup);
  assert.deepEqual(out[0], refused('no-expiry', 'JWT has no `exp` claim'));
  assert.equal(out[1].expiresAt, 5000);
  assert.equal(out[1].issuedAt, null);
});

test('not an object, or not JSON: the host\'s codes and messages', async () => {
  const cases = [
    ['[]', PAYLOAD_NOT_OBJECT], ['null', PAYLOAD_NOT_OBJECT], ['"x"', PAYLOAD_NOT_OBJECT], ['1', PAYLOAD_NOT_OBJECT],
    ['\ufeff{"exp":1}', PAYLOAD_NOT_OBJECT], ['', refused('bad-format', 'JWT payload is empty')],
    ['{"exp":1,}', PAYLOAD_SYNTAX], ['{"exp":1} x', PAYLOAD_SYNTAX], ['{"exp":01}', PAYLOAD_SYNTAX],
    ['{"exp":NaN}', PAYLOAD_SYNTAX], ["{'exp':1}", PAYLOAD_SYNTAX], ['{"exp":1', PAYLOAD_SYNTAX],
    ['{"a":"tab\there","exp":1}', PAYLOAD_SYNTAX], ['{"exp":.5}', PAYLOAD_SYNTAX],
    [' \t\r\n{"exp":1} \n', { ok: true }],
  ];
  const out = await decodeAll(cases.map(([p]) => jwt(p)));
  cases.forEach(([payload, want], i) => {
    if (want.ok) assert.equal(out[i].ok, true, payload);
    else assert.deepEqual(out[i], want, payload);
    if (!out[i].ok) assert.ok(!out[i].message.includes(b64(payload)) || payload === '', 'no token in the message');
  });
  const header = await decodeAll([jwt('{"exp":1}', b64('[]')), jwt('{"exp":1}', b64('{"alg":"none",}'))]);
  assert.deepEqual(header, [refused('bad-json', 'JWT header is not a JSON object'), refused('bad-json', 'JWT header is not valid JSON')]);
});

test('too large: more than 256 KiB of UTF-8 is refused before anything else; 256 KiB exactly is read', async () => {
  const fill = (n) => {
    // A JWT of exactly n bytes: the payload {"exp":1,"p":"xxx..."} padded to fit.
    let pad = '';
    let t = jwt(`{"exp":1,"p":"${pad}"}`);
    pad = 'x'.repeat(Math.floor(((n - t.length) * 3) / 4));
    t = jwt(`{"exp":1,"p":"${pad}"}`);
    while (t.length < n) { pad += 'x'; t = jwt(`{"exp":1,"p":"${pad}"}`); }
    return t;
  };
  const exact = fill(262_144);
  assert.equal(exact.length, 262_144);
  const out = await decodeAll([exact, exact + 'x', 'a'.repeat(262_145), '€'.repeat(87_382), '€'.repeat(87_381)]);
  assert.equal(out[0].ok, true, out[0].message);
  const tooLarge = refused('too-large', 'token is larger than 256 KiB');
  assert.deepEqual(out[1], tooLarge);
  assert.deepEqual(out[2], tooLarge);
  assert.deepEqual(out[3], tooLarge, '87,382 × 3 bytes > 256 KiB');
  assert.equal(out[4].code, 'bad-format', '87,381 × 3 bytes fit: read, then refused as no token');
});

/** Minimal CBOR for a PubNub v3 token with a few floats in `meta`. */
function pubnubToken() {
  const head = (major, n) => (n < 24 ? [(major << 5) | n] : n < 256 ? [(major << 5) | 24, n] : [(major << 5) | 25, n >> 8, n & 255]);
  const key = (s) => [...head(2, s.length), ...Buffer.from(s)];
  const f64 = (x) => { const b = Buffer.alloc(9); b[0] = 0xfb; b.writeDoubleBE(x, 1); return [...b]; };
  const f32 = (x) => { const b = Buffer.alloc(5); b[0] = 0xfa; b.writeFloatBE(x, 1); return [...b]; };
  const bytes = [
    ...head(5, 5),
    ...key('v'), ...head(0, 2),
    ...key('t'), ...head(0, 23), // t = 23 s
    ...key('ttl'), ...head(0, 2),
    ...key('meta'), ...head(5, 4),
    ...key('a'), ...f64(1.1), ...key('b'), ...f32(1.1), ...key('c'), ...f64(NaN), ...key('d'), ...f64(1e21),
    ...key('sig'), ...head(2, 3), 1, 2, 3,
  ];
  return Buffer.from(bytes).toString('base64url');
}

test('PubNub: floats in the claims read back exactly (beyond 15 digits: f32 1.1), NaN as null', async () => {
  const [info] = await decodeAll([pubnubToken()]);
  assert.equal(info.ok, true, info.message);
  assert.equal(info.format, 'pubnub');
  assert.equal(info.expiresAt, (23 + 2 * 60) * 1000);
  assert.equal(info.issuedAt, 23_000);
  assert.deepEqual(info.claims, {
    v: 2, t: 23, ttl: 2, meta: { a: 1.1, b: Math.fround(1.1), c: null, d: 1e21 }, sig: 'AQID',
  });
});

test('PubNub corpus: for 300 tokens with every kind of CBOR item, claims are exactly JSON.parse of the Rust decoder\'s claims text', async () => {
  const { entries } = JSON.parse(readFileSync(new URL('../fixtures/pubnub-claims.json', import.meta.url), 'utf8'));
  assert.equal(entries.length, 300);
  // Compared in the page: same own keys in the same order, same prototypes, numbers by Object.is.
  const out = await tab.page.evaluate((entries) => {
    const same = (a, b) => {
      if (typeof a !== typeof b) return false;
      if (typeof a !== 'object' || a === null || b === null) return Object.is(a, b);
      if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
      const ka = Reflect.ownKeys(a);
      const kb = Reflect.ownKeys(b);
      return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same(a[k], b[k]));
    };
    return entries.map(({ token, claims_json: text }) => {
      const info = ft.decodeToken(token);
      const want = JSON.parse(text);
      return {
        ok: info.format === 'pubnub' && same(info.claims, want) && info.expiresAt === (want.t + want.ttl * 60) * 1000,
        token,
        have: JSON.stringify(info.claims),
        text,
      };
    });
  }, entries);
  const bad = out.filter((e) => !e.ok);
  assert.deepEqual(bad, [], `${bad.length} of 300 differ`);
  // The corpus has what it claims to have (a generator bug would not go unnoticed).
  const all = entries.map((e) => e.claims_json).join('\n');
  for (const [what, re] of [['floats', /\d\.\d|e\+?\d/], ['nulls', /null/], ['arrays', /\[/], ['nested maps', /:\{/], ['__proto__ keys', /"__proto__":/],
    ['integer keys', /"-?\d+":/], ['big integers', /\d{17}/], ['booleans', /true|false/], ['escapes', /\\u0001|\\"/]]) {
    assert.match(all, re, `the corpus has ${what}`);
  }
});

test('the instance keeps working after every refusal above', async () => {
  const [info] = await decodeAll([jwt('{"exp":1700000000,"sub":"still here"}')]);
  assert.equal(info.expiresAt, 1_700_000_000_000);
  assert.equal(info.claims.sub, 'still here');
  assert.deepEqual(tab.errors, []);
});
