//! Every live [`Core`], by handle: what the JS `Refresher` holds is a number, and each
//! call names its session by it. Plain functions, not a wasm-bindgen class: a class wraps
//! every method in a borrow check and its glue in a JS class with a finalizer (0.6 KB of
//! the shipped gzip, measured), where one table and one reentrancy flag do the same here.
//! JS frees a session with `dispose()`, which calls [`core_free`].
//!
//! Answers for a freed handle (never asked by the JS, which checks `dispose()` first) are
//! those of an ended session: nothing to do, logged out.

use core::cell::{Cell, UnsafeCell};

use wasm_bindgen::prelude::*;

use super::buffer::{take_three, take_tokens};
use super::core::{given, js_text, Core};
use crate::engine::http_date;

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

/// The session `handle` names, with the table marked busy until [`with`] clears it (`None`
/// when freed, or during another call). One copy, not one per call site of [`with`].
#[inline(never)]
fn enter(handle: u32) -> Option<&'static mut Core> {
    if TABLE.busy.replace(true) {
        return None;
    }
    // SAFETY: single-threaded, and `busy` was false: no other reference to `cores` is live;
    // the one handed out is used only inside `with`, which clears `busy` after it.
    let core = unsafe { &mut *TABLE.cores.get() }.get_mut(handle as usize).and_then(|c| c.as_deref_mut());
    if core.is_none() {
        TABLE.busy.set(false);
    }
    core
}

/// Runs `f` on the session `handle` names (`None` when freed, or during another call).
fn with<R>(handle: u32, f: impl FnOnce(&mut Core) -> R) -> Option<R> {
    let core = enter(handle)?;
    let r = f(core);
    TABLE.busy.set(false);
    Some(r)
}

/// A new session's engine (see `Core::new`; its options' text in the token buffer,
/// `text_len` bytes): its handle (a free slot's when there is one), or the message of
/// the option the engine refuses.
#[wasm_bindgen(js_name = coreNew)]
#[allow(clippy::too_many_arguments)]
pub fn core_new(text_len: usize, origins: bool, origins_count: usize, refresh_at: f64, default_lifetime_ms: f64, refresh_timeout_ms: f64, needs: u32) -> JsValue {
    let (text, _) = take_tokens(text_len, -1);
    let core = match Core::new(&text, origins, origins_count, refresh_at, default_lifetime_ms, refresh_timeout_ms, needs) {
        Ok(core) => core,
        Err(e) => return JsValue::from_str(&e.rule()),
    };
    with_table(|cores| {
        let slot = cores.iter().position(Option::is_none).unwrap_or(cores.len());
        if slot == cores.len() {
            cores.push(None);
        }
        if let Some(free) = cores.get_mut(slot) {
            *free = Some(Box::new(core));
        }
        JsValue::from(slot as u32)
    })
    .unwrap_or(JsValue::NULL)
}

/// Frees the session: its tokens' bytes wiped (the allocator zeroes every block it takes
/// back), its slot reused.
#[wasm_bindgen(js_name = coreFree)]
pub fn core_free(handle: u32) {
    let core = with_table(|cores| cores.get_mut(handle as usize).and_then(Option::take));
    drop(core);
}

/// `Core::set_tokens`, with the tokens in the token buffer (`access_len` bytes, then
/// `refresh_len`, negative for none: see `buffer::take_tokens`): 0 taken, 1 refused (a
/// malformed token), 2 refused as too large.
#[wasm_bindgen(js_name = coreSetTokens)]
#[allow(clippy::too_many_arguments)]
pub fn core_set_tokens(handle: u32, access_len: usize, refresh_len: i32, expires_at: f64, expires_in: f64, restored: bool, received: f64, wall: f64, now: f64) -> u32 {
    let (access, refresh) = take_tokens(access_len, refresh_len);
    with(handle, |c| c.set_tokens(access, refresh, expires_at, expires_in, restored, received, wall, now)).unwrap_or(1)
}

/// `Core::answered`, with the tokens in the token buffer (as for `coreSetTokens`).
#[wasm_bindgen(js_name = coreAnswered)]
#[allow(clippy::too_many_arguments)]
pub fn core_answered(handle: u32, ticket: u32, access_len: usize, refresh_len: i32, expires_at: f64, expires_in: f64, problems: bool, received: f64, wall: f64, now: f64, random: f64) {
    let (access, refresh) = take_tokens(access_len, refresh_len);
    with(handle, |c| c.answered(ticket, access, refresh, expires_at, expires_in, problems, received, wall, now, random));
}

/// `Core::failed`, with texts in the token buffer: the code (`code_len` bytes), a rotated
/// refresh token, the answer's OAuth `error` (negative lengths: none); `retry_after_ms` NaN
/// when none.
#[wasm_bindgen(js_name = coreFailed)]
#[allow(clippy::too_many_arguments)]
pub fn core_failed(handle: u32, ticket: u32, rejected: bool, status: u16, code_len: i32, rotated_len: i32, oauth_len: i32, retry_after_ms: f64, now: f64, random: f64) {
    let [code, rotated, oauth_error] = take_three(code_len, rotated_len, oauth_len);
    with(handle, |c| c.failed(ticket, rejected, code.unwrap_or_default(), status, given(retry_after_ms), rotated, oauth_error, now, random));
}

/// A `Retry-After` header's value (in the token buffer, `len` bytes) in ms from local wall
/// time `wall` (RFC 9110: delay-seconds or an HTTP-date), or NaN when it is neither.
#[wasm_bindgen(js_name = coreRetryAfter)]
pub fn core_retry_after(len: usize, wall: f64) -> f64 {
    let (value, _) = take_tokens(len, -1);
    http_date::retry_after_ms(&value, wall, http_date::year_of(wall)).unwrap_or(f64::NAN)
}

/// How a refresh endpoint's status is taken (`engine::refresh_status`): 0 read the body,
/// 1 the session is over, 2 a redirect (never followed; 0 is an opaque one), 3 transient.
/// `oauth_len` >= 0: an error answer whose OAuth `error` is in the token buffer
/// (`error_answer_status`); negative: the status alone.
#[wasm_bindgen(js_name = coreStatus)]
pub fn core_status(status: u16, oauth_len: i32) -> u32 {
    use crate::engine::refresh_status::{error_answer_status, refresh_status, RefreshStatus};
    let class = if oauth_len < 0 {
        refresh_status(status)
    } else {
        let [oauth, _, _] = take_three(oauth_len, -1, -1);
        error_answer_status(status, oauth.as_deref())
    };
    match class {
        RefreshStatus::Ok => 0,
        RefreshStatus::Rejected => 1,
        RefreshStatus::Redirect => 2,
        RefreshStatus::Transient => 3,
    }
}

/// `Engine::request`: request `id` goes to the origin in the token buffer (`origin_len`
/// bytes; -1: none; -2: the same as this engine's last request); `flags` 1 own credentials, 2 refresh traffic, 4 skipAuthRefresh;
/// 8: `Engine::token_after_rejection` for caller `id`, the buffer holding the refused token.
#[wasm_bindgen(js_name = coreRequest)]
pub fn core_request(handle: u32, id: f64, origin_len: i32, flags: u32, now: f64) {
    // -2: the origin of this engine's last request again (nothing was written).
    let origin = if origin_len == -2 { None } else { Some(take_tokens(0, origin_len).1) };
    with(handle, |c| c.request(id as u64, origin, flags, now));
}

/// What a face reports of a session or a request (`what`): 0 logout (`id` 1: another
/// tab's, which that tab revokes), 1 the session
/// expired (`id` indexes `REASONS`: another tab said so),
/// 2 `refresh()` by caller `id`, 3 `getAccessToken()` by caller `id`, 4 caller `id` gave
/// up, 5 the timer fired, 6 back online, 7 dispose, 8 the answer to request `id` came,
/// `status`, `flags` 1 when from the origin the token went to; 9 the refresh call `id`
/// waits for the tabs' lock (`status` 1) or begins now (0); 10 the answer to request `id`
/// asks for a DPoP nonce; 11 the refresh call in flight was asked for a DPoP nonce: answers
/// whether to send it once more (else false); 12 the refresh call `id`, holding the tabs'
/// lock, takes the rotated refresh token in the token buffer (`flags` bytes) another tab kept.
#[wasm_bindgen(js_name = coreInput)]
pub fn core_input(handle: u32, what: u32, id: f64, status: u16, flags: u32, now: f64) -> bool {
    with(handle, |c| {
        let e = c.engine();
        let id = id as u64;
        match what {
            0 => e.logout_here(id == 0, now),
            1 => e.expire(REASONS[(id as usize).min(3)], now),
            2 => e.refresh(id, now),
            3 => e.get_token(id, now),
            4 => e.cancel(id, now),
            5 => e.timeout(now),
            6 => e.online(now),
            7 => e.dispose(),
            9 => e.refresh_waits(id as u32, status != 0, now),
            10 => e.nonce_demanded(id),
            11 => return e.refresh_nonce_demanded(),
            12 => e.refresh_token_taken(id as u32, take_tokens(0, flags as i32).1.unwrap_or_default()),
            _ => e.response(id, status, flags & 1 != 0, now),
        }
        false
    })
    .unwrap_or(false)
}

/// `Engine::note_date`: a `Date` header from an origin (both in the token buffer).
#[wasm_bindgen(js_name = coreDate)]
pub fn core_date(handle: u32, origin_len: usize, date_len: i32, wall: f64) {
    let (origin, date) = take_tokens(origin_len, date_len);
    if let Some(date) = date {
        with(handle, |c| c.engine().note_date(&origin, &date, wall));
    }
}

/// `Engine::allows_refresh_to`: whether the refresh call may go to the origin in the token
/// buffer (`origin_len` bytes; negative: none, refused).
#[wasm_bindgen(js_name = coreRefreshTo)]
pub fn core_refresh_to(handle: u32, origin_len: i32) -> bool {
    let (_, origin) = take_tokens(0, origin_len);
    origin.is_some_and(|o| with(handle, |c| c.engine().allows_refresh_to(&o)) == Some(true))
}

/// `Engine::dpop_proof`: the texts in the token buffer (`len` bytes), one per line: the
/// method, the URL, its origin, the public JWK, the jti, the `ath` and a nonce of the
/// face's own (each line empty when none). Answers the header and the claims, one per line,
/// or null for a URL that is not http(s).
#[wasm_bindgen(js_name = coreDpopProof)]
pub fn core_dpop_proof(handle: u32, len: usize, wall: f64) -> JsValue {
    let (text, _) = take_tokens(len, -1);
    let mut l = super::buffer::cut(&text, b'\n');
    let mut next = || l.next().unwrap_or("");
    let (htm, url, origin, jwk, jti, ath, nonce) = (next(), next(), next(), next(), next(), next(), next());
    with(handle, |c| {
        let (h, p) = c.engine().dpop_proof(htm, url, origin, jwk, jti, (!ath.is_empty()).then_some(ath), (!nonce.is_empty()).then_some(nonce), wall)?;
        Some(JsValue::from_str(&(h + "\n" + &p)))
    })
    .flatten()
    .unwrap_or(JsValue::NULL)
}

/// `Engine::note_dpop_nonce`: an answer's `DPoP-Nonce` from an origin (both in the token buffer).
#[wasm_bindgen(js_name = coreDpopNonce)]
pub fn core_dpop_nonce(handle: u32, origin_len: usize, nonce_len: i32) {
    let (origin, nonce) = take_tokens(origin_len, nonce_len);
    if let Some(nonce) = nonce {
        with(handle, |c| c.engine().note_dpop_nonce(&origin, &nonce));
    }
}

/// `dpop::asks_for_nonce`: whether an answer `status` (with its `WWW-Authenticate` and its
/// OAuth `error`, in the token buffer; negative lengths: none) asks for one nonce retry.
#[wasm_bindgen(js_name = coreDpopRetry)]
pub fn core_dpop_retry(status: u16, www_len: i32, oauth_len: i32) -> bool {
    let [www, oauth, _] = take_three(www_len, oauth_len, -1);
    crate::engine::dpop::asks_for_nonce(status, www.as_deref(), oauth.as_deref())
}

/// The cross-tab protocol's decisions (`engine::tabs`) for a tab at `epoch`/`gen`; NaN for an
/// absent number. `what`: 0 the next epoch at wall time `a`; 1 whether a record is adopted
/// (`a` bits: 1 a logout marker, 2 it has a token, 4 this tab holds one; `b` its epoch, `c` its
/// generation); 2 whether a broadcast of epoch `b` is of a session left; 3 whether a logout of
/// epoch `b` is taken; 4 whether a session end of epoch `b` is; 5 whether a record of
/// `epoch`/`gen` may be written over storage's (`a` bits: 1 it is a logout marker, 2 its
/// refresh token differs from the writer's; `b` its epoch, `c` its generation); 9 whether
/// this tab, holding the lock, takes the refresh token of a stored record (the same facts);
/// 6 whether another tab refreshed (the lock's
/// latest marker `a`, the generation started from `b`); 7 whether another tab's transient
/// failure from generation `epoch` with retry point `gen` holds a refresh from generation `a`
/// back at wall time `b`; 8 the retry point of the failure marker to publish for a refresh
/// call that failed at wall time `a`, retrying in `b` ms (`c` bits: 1 rejected, 2 aborted by
/// the engine, 4 for a timeout, 8 the tab left the session), NaN for none; 10 whether the
/// rotated refresh token of that call's unusable answer is stored (the same bits, 16 it
/// carried one); 11 whether this refresher joins the other tabs (`crossTab` asked as 1/0 in
/// `a`, NaN when not given; `b` 1 for memory storage); 12 whether `a`, read from a lock name,
/// is an epoch or generation of the protocol; 13 whether a record (`a` bits: 1 a logout
/// marker, 2 it has a token; `b` its epoch, `c` its generation) ends a wait for another tab's
/// result of epoch `epoch` at generation `gen` or later. Answers the epoch or retry point, or 1/0.
#[wasm_bindgen(js_name = coreEpochs)]
pub fn core_epochs(what: u32, epoch: f64, gen: f64, a: f64, b: f64, c: f64) -> f64 {
    use crate::engine::tabs::{failed_elsewhere, failure_marker, refreshed_elsewhere, stores_rotated, CallFailed, Epochs};
    use crate::engine::Abort;
    let me = Epochs { epoch, gen };
    let yes = match what {
        0 => return me.next(a),
        1 => me.adopts(a as u32 & 1 != 0, a as u32 & 2 != 0, given(b), given(c), a as u32 & 4 != 0),
        2 => me.is_left(given(b)),
        3 => me.takes_logout(b),
        4 => me.takes_end(given(b)),
        5 => me.may_overwrite(a as u32 & 1 != 0, given(b), given(c), a as u32 & 2 != 0),
        9 => me.takes_rotated(a as u32 & 1 != 0, given(b), given(c), a as u32 & 2 != 0),
        7 => failed_elsewhere(epoch, gen, a, b),
        11 => crate::engine::config::cross_tab(given(a).map(|v| v != 0.0), b != 0.0),
        12 => crate::engine::tabs::valid_epoch(a),
        13 => crate::engine::tabs::ends_wait(epoch, gen, a as u32 & 1 != 0, a as u32 & 2 != 0, given(b), given(c)),
        8 | 10 => {
            let bits = c as u32;
            let aborted = (bits & 2 != 0).then_some(if bits & 4 != 0 { Abort::Timeout } else { Abort::Superseded });
            let call = CallFailed { rejected: bits & 1 != 0, aborted, left: bits & 8 != 0, retry_in_ms: given(b) };
            if what == 10 {
                stores_rotated(call, bits & 16 != 0)
            } else {
                return failure_marker(call, a).unwrap_or(f64::NAN);
            }
        }
        _ => refreshed_elsewhere(a, gen, b),
    };
    f64::from(u8::from(yes))
}

/// `Core::poll`: the next output's kind (0: none left).
#[wasm_bindgen(js_name = corePoll)]
pub fn core_poll(handle: u32) -> u32 {
    with(handle, Core::poll).unwrap_or(0)
}

/// Text `i` of the output last polled, or null.
#[wasm_bindgen(js_name = coreText)]
pub fn core_text(handle: u32, i: u32) -> JsValue {
    with(handle, |c| js_text(c.text(i))).unwrap_or(JsValue::NULL)
}

/// Where `corePoll` leaves an output's numbers (4 `f64`s).
#[wasm_bindgen(js_name = coreOut)]
pub fn core_out(handle: u32) -> *const f64 {
    with(handle, |c| c.out()).unwrap_or(ENDED.as_ptr())
}

/// `Core::figures`: the address of the session's 6 figures (JS reads them as `f64`s).
#[wasm_bindgen(js_name = coreFigures)]
pub fn core_figures(handle: u32) -> *const f64 {
    with(handle, Core::figures).unwrap_or(ENDED.as_ptr())
}

/// `Core::token`: the access token held (`refresh` false) or the refresh token, as a JS
/// string, or null. (A JS value rather than a `String`: returned as one handle, with no
/// pointer-and-length pair passed back through the stack.)
#[wasm_bindgen(js_name = coreToken)]
pub fn core_token(handle: u32, refresh: bool) -> JsValue {
    with(handle, |c| js_text(c.token(refresh))).unwrap_or(JsValue::NULL)
}

/// The reasons a session ends, as `coreInput(1)` numbers them.
const REASONS: [&str; 4] = ["request-rejected", "refresh-rejected", "no-refresh-token", "client-rejected"];

/// The figures of an ended session: logged out, nothing planned.
static ENDED: [f64; 6] = [4.0, f64::NAN, f64::NAN, f64::NAN, f64::NAN, 0.0];
