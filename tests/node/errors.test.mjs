// The error classes, in node: every error freshtoken throws is an instance of the class its
// `name` names (exported from 'freshtoken'), with a stable `name` and `code`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createRefresher, decodeToken, FreshtokenError, OptionsError, TokenDecodeError, RefreshError, SessionError,
} from '../../js/index.js';
import { makeError, optionsError } from '../../js/errors.js';

const CLASSES = { FreshtokenError, OptionsError, TokenDecodeError, RefreshError, SessionError };

test('each class extends FreshtokenError and Error, with its name on the instance and a code', () => {
  for (const [name, Class] of Object.entries(CLASSES)) {
    const e = new Class('some-code', 'what is wrong', { status: 503 });
    assert.ok(e instanceof Class && e instanceof FreshtokenError && e instanceof Error, name);
    assert.equal(e.name, name);
    assert.equal(e.code, 'some-code');
    assert.equal(e.status, 503);
    assert.equal(e.message, 'what is wrong');
    assert.match(String(e), new RegExp(`^${name}: what is wrong`));
    assert.equal(JSON.parse(JSON.stringify(e)).name, name, 'name is an own property, as before');
  }
  for (const Sub of [OptionsError, TokenDecodeError, RefreshError, SessionError]) {
    assert.equal(new Sub('x', 'y') instanceof SessionError, Sub === SessionError);
  }
});

test('makeError(name, code, message, props) and optionsError(message) build the class the name names', () => {
  for (const [name, Class] of Object.entries(CLASSES)) {
    const e = makeError(name, 'c', 'm', { rejected: true });
    assert.ok(e instanceof Class, name);
    assert.equal(e.constructor, Class);
    assert.deepEqual([e.name, e.code, e.message, e.rejected], [name, 'c', 'm', true]);
  }
  const o = optionsError('refreshAt must be a number');
  assert.ok(o instanceof OptionsError);
  assert.deepEqual([o.name, o.code], ['OptionsError', 'bad-option']);
  // An unknown name still gives a FreshtokenError, renamed (nothing in js/ does this today).
  const odd = makeError('OtherError', 'c', 'm');
  assert.ok(odd instanceof FreshtokenError);
  assert.equal(odd.name, 'OtherError');
});

test('what the API throws is instanceof: createRefresher with a bad option, decodeToken before init()', async () => {
  // A wrong type is refused before the wasm loads; a value out of range by the engine, after.
  await assert.rejects(createRefresher({ refreshAt: 'soon', refresh: async () => ({ accessToken: 'a' }) }), (e) => {
    assert.ok(e instanceof OptionsError && e instanceof FreshtokenError);
    assert.equal(e.code, 'bad-option');
    return true;
  });
  assert.throws(() => decodeToken('a.b.c'), (e) => {
    assert.ok(e instanceof FreshtokenError && !(e instanceof TokenDecodeError));
    assert.equal(e.code, 'not-initialized');
    return true;
  });
  await assert.rejects(createRefresher({ refreshAt: 2, refresh: async () => ({ accessToken: 'a' }) }), (e) => {
    assert.ok(e instanceof OptionsError && e instanceof FreshtokenError);
    assert.equal(e.code, 'bad-option');
    assert.match(e.message, /^refreshAt must be a number greater than 0 and less than 1/);
    return true;
  });
});
