//! The whole product for Rust wasm apps (Leptos, Yew, Dioxus): the `web` feature.
//!
//! The same session as the npm package, driven by the pure core
//! ([`crate::engine`], through the async [`crate::refresher::Refresher`]) and wired to the
//! browser with the design card's crates: `web-sys` (fetch, location, storage), `js-sys`
//! (the clock, JSON), `gloo-timers` (the schedule's timer, the refresh deadline), `serde` +
//! `serde-wasm-bindgen` (the presets' bodies, typed claims, options from JS).
//!
//! - [`Refresher::new`] from the same [`Options`] as `createRefresher` (presets, a custom
//!   refresh `async fn`, `origins`, `refreshAt`, `storage`); it keeps itself fresh;
//! - [`Refresher::access_token`] and [`Refresher::fetch`] (attach for allowed origins,
//!   replay once on 401/403 with the body intact);
//! - [`Refresher::on`] for the events (`refresh`, `refresh-error`, `session-expired`,
//!   `logout`, `forbidden`);
//! - [`decode_claims`] for typed claims.
//!
//! The example apps `examples/leptos` and `examples/yew` use exactly this API; the README's
//! "Rust API" section shows their code.

mod claims;
mod dpop;
mod error;
mod fetch;
mod option_errors;
mod options;
mod origins;
mod refresher;
mod storage;
mod tabs;
mod timer;
mod transport;
mod wake;

pub use claims::{claims_to_js, decode_claims, ClaimsError};
pub use error::Error;
pub use fetch::{send, text, FetchOptions};
pub use options::{Endpoint, Options, Preset, StorageKind, TokenSet};
pub use origins::origin_of;
pub use refresher::{Refresher, Subscription, TRANSIENT};
pub use crate::refresher::{Decision, Event, RefreshContext, TokenError};
pub use crate::session::Failure;
