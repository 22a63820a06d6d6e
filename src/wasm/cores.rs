//! Every live [`Core`], by handle: what the JS `Refresher` holds is a number, and each
//! call names its session by it. Plain functions, not a wasm-bindgen class: a class wraps
//! every method in a borrow check and its glue in a JS class with a finalizer (0.6 KB of
//! the shipped gzip, measured), where one table and one reentrancy flag do the same here.
//! The finalizer never ran anyway: the timer's `tick` function, held by the wasm, keeps
//! its refresher alive until `dispose()`, which calls [`core_free`].
//!
//! Answers for a freed handle (never asked by the JS, which checks `dispose()` first) are
//! those of an ended session: no ticket, stale, not due, logged out.

use core::cell::{Cell, UnsafeCell};

use wasm_bindgen::prelude::*;

use super::buffer::take_tokens;
use super::core::Core;

struct Table {
    cores: UnsafeCell<Vec<Option<Box<Core>>>>,
    /// A call is running: a second one that JS code reached from inside it (say, through
    /// a `setTimeout` an app replaced with one that runs its callback at once) is refused
    /// rather than given a second `&mut` to the same table.
    busy: Cell<bool>,
}

// SAFETY: wasm32 without the `atomics` target feature (how this crate is built) has one
// thread; `busy` keeps every reference to `cores` inside one call at a time.
#[cfg(not(target_feature = "atomics"))]
unsafe impl Sync for Table {}

static TABLE: Table = Table { cores: UnsafeCell::new(Vec::new()), busy: Cell::new(false) };

/// Runs `f` on the table, unless a call is already running (then `None`).
fn with_table<R>(f: impl FnOnce(&mut Vec<Option<Box<Core>>>) -> R) -> Option<R> {
    if TABLE.busy.replace(true) {
        return None;
    }
    // SAFETY: single-threaded, and `busy` was false: no other reference to `cores` is live.
    let r = f(unsafe { &mut *TABLE.cores.get() });
    TABLE.busy.set(false);
    Some(r)
}

/// Runs `f` on the session `handle` names (`None` when freed, or during another call).
fn with<R>(handle: u32, f: impl FnOnce(&mut Core) -> R) -> Option<R> {
    with_table(|cores| cores.get_mut(handle as usize)?.as_deref_mut().map(f)).flatten()
}

/// A new session (see `Core::new`); returns its handle, a free slot's when there is one.
#[wasm_bindgen(js_name = coreNew)]
pub fn core_new(refresh_at: f64, default_lifetime_ms: f64, tick: JsValue) -> u32 {
    let core = Core::new(refresh_at, default_lifetime_ms, tick);
    with_table(|cores| {
        let slot = cores.iter().position(Option::is_none).unwrap_or(cores.len());
        if slot == cores.len() {
            cores.push(None);
        }
        if let Some(free) = cores.get_mut(slot) {
            *free = Some(Box::new(core));
        }
        slot as u32
    })
    .unwrap_or(u32::MAX)
}

/// Frees the session: its timer is cleared, its tokens' bytes wiped (the allocator zeroes
/// every block it takes back), its slot reused.
#[wasm_bindgen(js_name = coreFree)]
pub fn core_free(handle: u32) {
    // Dropped outside the table call: dropping the timer calls `clearTimeout`.
    let core = with_table(|cores| cores.get_mut(handle as usize).and_then(Option::take));
    drop(core);
}

/// `Core::set_tokens`, with the tokens in the token buffer (`access_len` bytes, then
/// `refresh_len`, negative for none: see `buffer::take_tokens`).
#[wasm_bindgen(js_name = coreSetTokens)]
#[allow(clippy::too_many_arguments)]
pub fn core_set_tokens(handle: u32, access_len: usize, refresh_len: i32, expires_at: f64, expires_in: f64, now: f64, wall: f64, server: f64) -> bool {
    let (access, refresh) = take_tokens(access_len, refresh_len);
    with(handle, |c| c.set_tokens(access, refresh, expires_at, expires_in, now, wall, server)) == Some(true)
}

/// `Core::begin`.
#[wasm_bindgen(js_name = coreBegin)]
pub fn core_begin(handle: u32, now: f64) -> f64 {
    with(handle, |c| c.begin(now)).unwrap_or(-2.0)
}

/// `Core::succeed`, with the tokens in the token buffer (as for `coreSetTokens`).
#[wasm_bindgen(js_name = coreSucceed)]
#[allow(clippy::too_many_arguments)]
pub fn core_succeed(handle: u32, ticket: u32, access_len: usize, refresh_len: i32, expires_at: f64, expires_in: f64, now: f64, wall: f64, random: f64) -> u32 {
    let (access, refresh) = take_tokens(access_len, refresh_len);
    with(handle, |c| c.succeed(ticket, access, refresh, expires_at, expires_in, now, wall, random)).unwrap_or(4)
}

/// `Core::fail`, with a rotated refresh token in the token buffer (`rotated_len` bytes,
/// negative for none).
#[wasm_bindgen(js_name = coreFail)]
pub fn core_fail(handle: u32, ticket: u32, rejected: bool, retry_after_ms: f64, now: f64, random: f64, rotated_len: i32) -> f64 {
    let (_, rotated) = take_tokens(0, rotated_len);
    with(handle, |c| c.fail(ticket, rejected, retry_after_ms, now, random, rotated)).unwrap_or(-2.0)
}

/// `Core::end`.
#[wasm_bindgen(js_name = coreEnd)]
pub fn core_end(handle: u32, logout: bool) -> bool {
    with(handle, |c| c.end(logout)) == Some(true)
}

/// `Core::wake`.
#[wasm_bindgen(js_name = coreWake)]
pub fn core_wake(handle: u32, online: bool, now: f64) {
    with(handle, |c| c.wake(online, now));
}

/// `Core::tick`.
#[wasm_bindgen(js_name = coreTick)]
pub fn core_tick(handle: u32, now: f64) -> bool {
    with(handle, |c| c.tick(now)) == Some(true)
}

/// `Core::figures`: the address of the session's 8 figures (JS reads them as `f64`s).
#[wasm_bindgen(js_name = coreFigures)]
pub fn core_figures(handle: u32, now: f64) -> *const f64 {
    with(handle, |c| c.figures(now)).unwrap_or(ENDED.as_ptr())
}

/// `Core::token`: the access token held (`refresh` false) or the refresh token, as a JS
/// string, or null. (A JS value rather than a `String`: returned as one handle, with no
/// pointer-and-length pair passed back through the stack.)
#[wasm_bindgen(js_name = coreToken)]
pub fn core_token(handle: u32, refresh: bool) -> JsValue {
    with(handle, |c| c.token(refresh).map(JsValue::from_str)).flatten().unwrap_or(JsValue::NULL)
}

/// The figures of an ended session: logged out, nothing planned, not due, not usable.
static ENDED: [f64; 8] = [4.0, f64::NAN, f64::NAN, f64::NAN, f64::NAN, 0.0, 0.0, 0.0];
