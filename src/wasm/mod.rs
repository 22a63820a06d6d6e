//! The browser boundary: converts types and errors between JS and the pure core, and
//! owns the one timer each session needs. Nothing here decides policy.

mod core;
mod cores;
mod decode;
mod timer;
mod alloc;
mod buffer;

#[global_allocator]
static ALLOC: alloc::SizeClasses = alloc::SizeClasses::new();
