//! The token buffer: every token enters the wasm through it. JS encodes the token into it
//! by one native `TextEncoder.encodeInto` (`js/buffer.js`), instead of wasm-bindgen's
//! string copy, which walks ASCII in a JS loop first and ships its own copier in the glue.
//! `decodeToken` writes one token; the session's calls write the access token and the
//! refresh token one after the other.

use core::cell::UnsafeCell;

use wasm_bindgen::prelude::*;

use crate::json;

struct Buffer(UnsafeCell<Vec<u8>>);

// SAFETY: wasm32 without the `atomics` target feature (how this crate is built) has one
// thread; the buffer is only touched by `token_buffer` and `take`, never at once.
#[cfg(not(target_feature = "atomics"))]
unsafe impl Sync for Buffer {}

static BUFFER: Buffer = Buffer(UnsafeCell::new(Vec::new()));

/// Makes room for `capacity` bytes of tokens and returns where to write them (valid until
/// the next call into the module).
#[wasm_bindgen(js_name = tokenBuffer)]
pub fn token_buffer(capacity: usize) -> *mut u8 {
    // SAFETY: single-threaded (see `Buffer`), and no reference to the buffer outlives a call.
    let buffer = unsafe { &mut *BUFFER.0.get() };
    *buffer = vec![0; capacity];
    buffer.as_mut_ptr()
}

/// The buffer's bytes, leaving it empty (the allocator zeroes the block once they drop).
pub(crate) fn take() -> Vec<u8> {
    // SAFETY: as in `token_buffer`.
    core::mem::take(unsafe { &mut *BUFFER.0.get() })
}

/// The access token (`access_len` bytes) and the refresh token after it (`refresh_len`
/// bytes; negative when there is none) that JS wrote. `encodeInto` writes UTF-8 only
/// (a lone surrogate becomes U+FFFD, as in wasm-bindgen's copy); were a length ever wrong,
/// the token would come out empty or cut, never read out of bounds.
pub(crate) fn take_tokens(access_len: usize, refresh_len: i32) -> (String, Option<String>) {
    let mut bytes = take();
    let mut refresh = bytes.split_off(access_len.min(bytes.len()));
    let refresh = usize::try_from(refresh_len).ok().map(|n| {
        refresh.truncate(n);
        text(refresh)
    });
    (text(bytes), refresh)
}

/// Three texts JS wrote one after another (negative lengths: absent), as `take_tokens` reads two.
pub(crate) fn take_three(a: i32, b: i32, c: i32) -> [Option<String>; 3] {
    let mut bytes = take();
    let mut cut = |n: i32| {
        let n = usize::try_from(n).ok()?;
        let rest = bytes.split_off(n.min(bytes.len()));
        Some(text(core::mem::replace(&mut bytes, rest)))
    };
    [cut(a), cut(b), cut(c)]
}

fn text(bytes: Vec<u8>) -> String {
    json::utf8_string(bytes).unwrap_or_default()
}

/// `text` cut at each `sep` (an ASCII byte, so a cut never splits a character), as
/// `str::split` would: a byte search here instead of the char searcher's code in the wasm.
pub(crate) fn cut(text: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    core::iter::from_fn(move || {
        let s = rest?;
        match s.bytes().position(|b| b == sep) {
            Some(i) => {
                rest = s.get(i + 1..);
                s.get(..i)
            }
            None => rest.take(),
        }
    })
}
