//! Fuzzes the token decoder: any bytes, as text, must give a `TokenInfo` or a
//! `DecodeError` with a code and a message, never a panic; `decode` and `inspect` agree.
//! Everything the browser build runs in wasm is exercised here (size check, base64url,
//! UTF-8, CBOR, the JSON prescan and the claim range checks); only the JSON grammar is
//! `JSON.parse`'s in the browser and the hand-written reader's here, and
//! tests/browser/decode-native.test.mjs pins both to the same answers.
//!
//!   cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run decode -- -max_total_time=600
#![no_main]

use freshtoken::{decode, inspect, DecodeErrorCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let decoded = decode(&text);
    let inspected = inspect(&text);
    match (&decoded, &inspected) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(e), Ok(_)) => assert_eq!(e.code(), DecodeErrorCode::NoExpiry),
        (Err(a), Err(b)) => assert_eq!(a, b),
        (Ok(_), Err(_)) => panic!("decode accepted what inspect refused"),
    }
    match inspected {
        Ok(info) => {
            for t in [info.expires_at_ms, info.issued_at_ms, info.not_before_ms].into_iter().flatten() {
                assert!(t.is_finite() && t >= 0.0);
            }
        }
        Err(e) => assert!(!e.message().is_empty()),
    }
});
