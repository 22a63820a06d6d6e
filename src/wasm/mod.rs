//! The npm package's browser boundary: converts types and errors between JS and the pure
//! core (its engine, src/engine/). Nothing here decides policy. Compiled
//! only for the npm build (wasm32 with the `npm` feature, set by scripts/build.sh): its
//! exports and its `#[global_allocator]` never reach a Rust app using the `web` feature.

mod core;
mod cores;
mod decode;
mod preset;
mod alloc;
mod buffer;

#[global_allocator]
static ALLOC: alloc::SizeClasses = alloc::SizeClasses::new();
