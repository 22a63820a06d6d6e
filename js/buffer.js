// Tokens enter the wasm one way: encoded by one native TextEncoder.encodeInto into the
// module's token buffer (src/wasm/buffer.rs), not by wasm-bindgen's string copy, which
// walks ASCII in a JS loop first. Lone surrogates become U+FFFD, as there.
import { bindings, memory } from './wasm.js';

const encoder = new TextEncoder();
// A view of the wasm memory, made again after the memory grew (the old buffer detaches).
let bytes = new Uint8Array(0);

/**
 * Writes `tokens` one after another into the token buffer, which holds at most `limit`
 * bytes; returns each one's length in bytes: -1 for an absent one (null or undefined), and
 * `limit + 1` for one that did not fit (so the wasm refuses it as too large).
 * @param {(string|null|undefined)[]} tokens
 * @param {number} [limit]
 * @returns {number[]}
 */
export function writeTokens(tokens, limit = Infinity) {
  const capacity = Math.min(tokens.reduce((n, t) => n + (t?.length ?? 0) * 3, 0), limit);
  let at = bindings().tokenBuffer(capacity);
  if (bytes.buffer !== memory().buffer) bytes = new Uint8Array(memory().buffer);
  const end = at + capacity;
  return tokens.map((t) => {
    if (t == null) return -1;
    const { read, written } = encoder.encodeInto(t, bytes.subarray(at, end));
    at += written;
    return read < t.length ? limit + 1 : written;
  });
}
