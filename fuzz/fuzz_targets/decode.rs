//! Fuzzes the token decoder: any bytes, as text, must give a `TokenInfo` or a
//! `DecodeError` with a code and a message, never a panic; `decode` and `inspect` agree.
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
