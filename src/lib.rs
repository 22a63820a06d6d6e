//! freshtoken: keeps a web app's access token fresh.
//!
//! The pure core — token decoding ([`token`]), the refresh schedule ([`schedule`]),
//! the retry backoff ([`backoff`]) and the session state machine ([`session`]) — has no
//! dependency on wasm-bindgen and takes the current time as an argument, so it runs
//! and is tested on any target. The npm package's browser boundary (its exports and its
//! `#[global_allocator]`) lives in `wasm` and is compiled only for the npm build: wasm32
//! with the `npm` feature, which `scripts/build.sh` sets. A Rust app using the `web`
//! feature gets neither: its JS module exports only its own functions, and it keeps its
//! own (or the default) allocator.
#![deny(missing_docs)]

pub mod backoff;
mod base64url;
mod cbor;
// The engine and the async Refresher that drives it serve the Rust face and the host; the
// npm build does not use them yet (its JS still holds those rules) and leaving them out
// keeps 79 B of gzip out of its wasm (measured with scripts/build.sh).
pub mod engine;
pub mod error;
mod json;
mod redacted;
#[cfg(any(not(feature = "npm"), feature = "web"))]
pub mod refresher;
pub mod schedule;
pub mod session;
pub mod token;

#[cfg(all(feature = "npm", target_arch = "wasm32"))]
mod wasm;

#[cfg(all(feature = "web", target_arch = "wasm32"))]
pub mod web;

pub use error::{DecodeError, DecodeErrorCode};
#[cfg(any(not(feature = "npm"), feature = "web"))]
pub use refresher::{Event, Refresher, RefreshContext, TokenError};
pub use token::{decode, inspect, TokenFormat, TokenInfo};
