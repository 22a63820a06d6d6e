//! `crossTab` (SPEC behaviour 3): one refresh call per `storageKey` across the tabs of a
//! browser, its result reaching every tab, and logout / expiry reaching them too. This is the
//! npm package's protocol (`js/tabs.js` with the records and epochs of `js/refresher.js`),
//! spoken exactly, so that an npm tab and a Rust tab sharing a `storageKey` coordinate as
//! two npm tabs do. The npm face is the reference; this is what it does:
//!
//! **Names.** With `key` the `storageKey`: the Web Lock `freshtoken:<key>` (one refresh call
//! at a time), the BroadcastChannel `freshtoken:<key>`, and the generation markers, shared
//! locks `freshtoken:<key>:gen:<N>`.
//!
//! **Epochs and generations.** Every tab keeps a session epoch and a refresh generation
//! (both 0 at first). `setTokens` (a login) takes epoch `E = max(max(epoch, gen) + 1,
//! Date.now())` and generation `E`; `logout()` takes a new epoch the same way. A refresh
//! made under the lock takes generation `max(max(latestMarker, gen) + 1, Date.now())`.
//!
//! **The record** (storage, and broadcasts): `{accessToken, refreshToken, expiresAt,
//! expiresIn, receivedAt, epoch, gen}` (`expiresAt` ms since epoch, `expiresIn` seconds after
//! `receivedAt`, `receivedAt` wall-clock ms; absent values left out), or after a logout or an
//! ended session the marker `{out: true, epoch}`. A tab writes the record whenever its
//! tokens change (login, refresh, a record adopted), the marker at logout / session end, and
//! never over a stored record whose `epoch` is greater than the one it writes (see
//! [`super::storage`]). A stored record is read when it has a non-empty `accessToken` or is
//! a marker.
//!
//! **Messages** on the channel:
//! - `{type: 'tokens', rec}`: a login or a refresh result (sent by the tab that made it, after
//!   storing it), or the answer to a `hello`. A receiver whose epoch is greater than
//!   `rec.epoch` (or `rec.epoch` not a number) drops it and writes its own record (or its
//!   marker) back to storage, which the late sender may just have overwritten. Otherwise it
//!   adopts `rec` unless it is a marker, has no access token, or is of the receiver's epoch
//!   with a generation not above the receiver's while the receiver holds a token. Adopting
//!   takes the epoch, generation and tokens (scheduled from `receivedAt`), supersedes a
//!   refresh in flight (its callers get these tokens), stores the record, and tells the app
//!   (`refresh`, from another tab).
//! - `{type: 'hello'}`: sent by a tab when it starts (after reading storage); every tab
//!   holding a token answers with `{type: 'tokens', rec}`, so `storage: 'memory'` works too.
//! - `{type: 'logout', epoch}`: a receiver whose epoch is not greater takes that epoch,
//!   writes the marker and logs out (without telling the tabs again).
//! - `{type: 'expired', reason, epoch}`: a receiver of exactly that epoch ends its session
//!   with `reason` (told once, written as the marker, not told back).
//!
//! **A refresh call** (the engine decided it): the tab notes the epoch `E` and generation
//! `G0` it starts from and asks for the lock, waiting at most `lockWaitMs =
//! refreshTimeoutMs + 5000` (meanwhile the engine's `refreshTimeoutMs` does not run); past
//! that it takes the lock with `steal: true` (a frozen holder). Holding the lock, it gives up
//! if the epoch changed or the call was dropped; it asks the lock manager (not storage, whose
//! writes can reach other tabs late) for the highest held marker `L`. If `max(L, gen) > G0`
//! another tab refreshed meanwhile: it waits up to `lockWaitMs` for the record of epoch `E`
//! with a generation of at least `max(L, gen)` (a broadcast, or storage, polled every 25 ms)
//! and takes it instead of spending the refresh token again (rotating refresh tokens are
//! single use). Otherwise (or when that record never comes) it makes the call, with the
//! tokens of a newer generation if it adopted one meanwhile. With the answer, if the epoch
//! is still `E`, it takes generation `N = max(max(L, gen) + 1, Date.now())`, stores the
//! record `{…, epoch: E, gen: N}` (the answer's refresh token, else the one held), broadcasts
//! it, and holds the marker `freshtoken:<key>:gen:<N>` in shared mode (releasing its older
//! one) before it lets the lock go; an answer whose epoch has been left is dropped
//! unpublished. A transient failure is published the same way: before letting the lock go
//! the tab holds `freshtoken:<key>:failed:<G0>:<until>:<status>:<code>` (`until` its retry
//! point, [`crate::engine::tabs::retry_point`]: the answer's Retry-After, at least a second;
//! status 0 when none), and releases it with its next marker. So is a call the engine
//! aborted at `refreshTimeoutMs` (code `timeout`, status 0, `until` the engine's own next
//! attempt, from its backoff). Whether a failure is published, and its `until`, is the
//! engine's rule ([`crate::engine::tabs::failure_marker`]): never a rejection, a call
//! superseded or disposed, or one whose session the tab left. A holder of the lock that
//! started from `G0` too and finds such a failure marker before `until` takes that failure
//! (`retry_after_ms` up to `until`) instead of calling: the session backs off in every tab.
//! A refresh answer that is unusable yet carries a rotated refresh token (the engine keeps
//! it: the old one is spent) is stored as the tab's record, same epoch and generation, and
//! broadcast, before the lock is let go ([`crate::engine::tabs::stores_rotated`]). Every
//! holder of the lock first reads storage, and the last record it heard (where the keeper
//! cannot write its storage: memory, a `sessionStorage` of its own): a record of its own epoch
//! and generation (not a marker) whose refresh token differs from its own gives it that
//! refresh token (its access token and schedule kept), before it spends its own
//! ([`crate::engine::tabs::Epochs::takes_rotated`]); and with crossTab no write of a record
//! of that generation replaces it with another refresh token
//! ([`crate::engine::tabs::Epochs::may_overwrite`]), except the rotating tab's own.
//! A closed or crashed tab's locks are released by the browser.
//!
//! Differences from the npm face, none of them on the wire: a Rust tab that finds the
//! logout marker in storage at start takes its epoch (an npm tab stays at epoch 0 until it
//! hears of a newer one), so a late broadcast of the ended session is dropped there too.
//!
//! The lock manager is bound directly (`navigator.locks`), as gloo binds its globals:
//! web-sys has it only behind `web_sys_unstable_apis`.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use gloo_timers::future::TimeoutFuture;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{AbortController, BroadcastChannel, MessageEvent};

use super::storage::{next_epoch, Line, Record, Saved};
use crate::engine::tabs::{failure_marker, stores_rotated, CallFailed};
use crate::engine::Abort;
use super::transport::Outcome;
use crate::refresher::RefreshContext;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["navigator", "locks"], js_name = request, catch)]
    fn lock_request(name: &str, options: &JsValue, callback: &js_sys::Function) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["navigator", "locks"], js_name = query, catch)]
    fn lock_query() -> Result<js_sys::Promise, JsValue>;
}

/// A call that could not be made under the lock (the lock manager refused it), or one whose
/// session was left meanwhile (the engine has dropped it already).
fn refused() -> Outcome {
    Outcome::failed("network")
}

const MARKER: &str = ":gen:";
const FAILED: &str = ":failed:";

/// A transient failure another tab published (its failure marker).
struct Failed {
    gen: f64,
    until: f64,
    status: Option<u16>,
    code: String,
}

/// A message on the channel, as `js/tabs.js` sends it: `{type: 'tokens', rec}`,
/// `{type: 'hello'}`, `{type: 'logout', epoch}`, `{type: 'expired', reason, epoch}`.
/// A flat struct rather than a tagged enum: serde's internally tagged enums buffer every
/// field (measured: the Leptos example app is 10.9 KB gzip smaller this way).
#[derive(Serialize, Deserialize)]
struct Wire {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rec: Option<Record>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    epoch: Option<f64>,
}

/// What a tab hears from the others (checked against this tab's session by the refresher).
pub(crate) enum Heard {
    /// A record: a login or refresh in another tab, or an answer to `hello`.
    Tokens(Record),
    /// A tab started and asks for the session.
    Hello,
    /// Another tab logged out, starting `epoch`.
    Logout(f64),
    /// The session of `epoch` ended in another tab (-1: no epoch given).
    Expired { reason: String, epoch: f64 },
}

impl Heard {
    fn from_wire(w: Wire) -> Option<Heard> {
        let epoch = w.epoch.unwrap_or(-1.0);
        match w.kind.as_str() {
            "tokens" => w.rec.map(Heard::Tokens),
            "hello" => Some(Heard::Hello),
            "logout" => Some(Heard::Logout(epoch)),
            "expired" => Some(Heard::Expired { reason: w.reason.unwrap_or_default(), epoch }),
            _ => None,
        }
    }
}

/// The refresh call, as the refresher makes it (the preset's, or the app's own).
pub(crate) type Call = Rc<dyn Fn(RefreshContext) -> Pin<Box<dyn Future<Output = Outcome>>>>;

/// What a refresh call under the lock needs of this tab's engine.
pub(crate) struct Flight {
    /// `waits(true)`: the call waits for the lock (the engine's own timeout stops);
    /// `waits(false)`: the call itself begins.
    pub(crate) waits: Box<dyn Fn(bool)>,
    /// ms until the engine's next attempt, once it took a failure (its backoff).
    pub(crate) retry_in: Box<dyn Fn() -> Option<f64>>,
    /// Why the engine aborted the call, set as it aborts it.
    pub(crate) why: Rc<Cell<Option<Abort>>>,
    /// The refresh token the engine holds.
    pub(crate) held: Box<dyn Fn() -> Option<String>>,
    /// The engine takes a rotated refresh token another tab kept (`refresh_token_taken`).
    pub(crate) take: Box<dyn Fn(String)>,
}

/// This tab's end of the cross-tab session.
pub(crate) struct Tabs {
    lock: String,
    lock_wait_ms: f64,
    channel: BroadcastChannel,
    line: Rc<Line>,
    /// The last record this tab adopted or published (what `awaitRecord` finds "in this tab").
    last: RefCell<Option<Record>>,
    /// The last record another tab broadcast: where a rotated refresh token kept from an
    /// unusable answer reaches a tab whose storage the keeper cannot write (memory, or a
    /// `sessionStorage` of its own).
    heard: RefCell<Option<Record>>,
    release_marker: RefCell<Option<js_sys::Function>>,
    release_failed: RefCell<Option<js_sys::Function>>,
    closed: Cell<bool>,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
}

/// Set when the refresh call's future is dropped (the engine superseded, aborted or
/// disposed it): the lock request still queued is withdrawn, and a lock granted later does
/// nothing.
struct Dropped {
    flag: Rc<Flag>,
    ctl: AbortController,
    why: Rc<Cell<Option<Abort>>>,
}

impl Drop for Dropped {
    fn drop(&mut self) {
        self.flag.why.set(self.why.get());
        self.flag.set();
        self.ctl.abort();
    }
}

/// The dropped switch, with the waker of the call it stops.
#[derive(Default)]
struct Flag {
    on: Cell<bool>,
    /// Why the engine dropped the call (its abort reason), when it did.
    why: Cell<Option<Abort>>,
    waker: RefCell<Option<Waker>>,
}

impl Flag {
    fn get(&self) -> bool {
        self.on.get()
    }
    fn set(&self) {
        self.on.set(true);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

/// The refresh call, dropped (its fetch aborted with the engine's reason, as the npm face
/// aborts its signal) as soon as the engine drops this tab's flight: `None` then.
struct Unless<'a> {
    flag: &'a Flag,
    call: Pin<Box<dyn Future<Output = Outcome>>>,
}

impl Future for Unless<'_> {
    type Output = Option<Outcome>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Outcome>> {
        if self.flag.get() {
            return Poll::Ready(None);
        }
        *self.flag.waker.borrow_mut() = Some(cx.waker().clone());
        self.call.as_mut().poll(cx).map(Some)
    }
}

impl Tabs {
    /// Joins the tabs sharing `key`; `heard` is told every message they send.
    pub(crate) fn join(key: &str, line: Rc<Line>, lock_wait_ms: f64, heard: impl Fn(Heard) + 'static) -> Option<Rc<Tabs>> {
        let lock = format!("freshtoken:{key}");
        let channel = BroadcastChannel::new(&lock).ok()?;
        line.tabs.set(true);
        Some(Rc::new_cyclic(|me: &Weak<Tabs>| {
            let me = me.clone();
            let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                let msg = serde_wasm_bindgen::from_value::<Wire>(e.data()).ok().and_then(Heard::from_wire);
                if let (Some(tabs), Some(msg)) = (me.upgrade(), msg) {
                    if !tabs.closed.get() {
                        if let Heard::Tokens(rec) = &msg {
                            tabs.heard.replace(Some(rec.clone()));
                        }
                        heard(msg);
                    }
                }
            });
            channel.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
            Tabs {
                lock,
                lock_wait_ms,
                channel,
                line,
                last: RefCell::new(None),
                heard: RefCell::new(None),
                release_marker: RefCell::new(None),
                release_failed: RefCell::new(None),
                closed: Cell::new(false),
                _onmessage: onmessage,
            }
        }))
    }

    /// Leaves the other tabs: the channel closed, this tab's generation marker released.
    pub(crate) fn close(&self) {
        self.closed.set(true);
        self.channel.set_onmessage(None);
        self.channel.close();
        for slot in [&self.release_marker, &self.release_failed] {
            if let Some(release) = slot.borrow_mut().take() {
                let _ = release.call0(&JsValue::NULL);
            }
        }
    }

    fn post(&self, wire: &Wire) {
        if self.closed.get() {
            return;
        }
        if let Ok(value) = serde_wasm_bindgen::to_value(wire) {
            let _ = self.channel.post_message(&value);
        }
    }

    /// This tab took `rec` (adopted it, or made it): what a refresh waiting for it finds.
    pub(crate) fn took(&self, rec: &Record) {
        *self.last.borrow_mut() = Some(rec.clone());
    }

    /// Asks the other tabs for their session.
    pub(crate) fn hello(&self) {
        self.post(&Wire { kind: "hello".into(), rec: None, reason: None, epoch: None });
    }

    /// Tells the other tabs about a record this tab made (login, refresh), or answers `hello`.
    pub(crate) fn announce(&self, rec: &Record) {
        self.took(rec);
        self.post(&Wire { kind: "tokens".into(), rec: Some(rec.clone()), reason: None, epoch: None });
    }

    /// This tab logged out, starting `epoch`.
    pub(crate) fn logout(&self, epoch: f64) {
        self.post(&Wire { kind: "logout".into(), rec: None, reason: None, epoch: Some(epoch) });
    }

    /// The session of `epoch` ended in this tab.
    pub(crate) fn expired(&self, reason: &str, epoch: f64) {
        self.post(&Wire { kind: "expired".into(), rec: None, reason: Some(reason.into()), epoch: Some(epoch) });
    }

    /// What the tabs have published, per the lock manager: the highest generation (0 without
    /// one) and the transient failures held.
    async fn markers(&self) -> (f64, Vec<Failed>) {
        let Ok(promise) = lock_query() else { return (0.0, Vec::new()) };
        let Ok(snapshot) = JsFuture::from(promise).await else { return (0.0, Vec::new()) };
        let held = js_sys::Reflect::get(&snapshot, &"held".into()).unwrap_or_default();
        if !held.is_object() {
            return (0.0, Vec::new());
        }
        let (prefix, failure) = (format!("{}{MARKER}", self.lock), format!("{}{FAILED}", self.lock));
        let names: Vec<String> = js_sys::Array::from(&held).iter().filter_map(|l| js_sys::Reflect::get(&l, &"name".into()).ok()?.as_string()).collect();
        let gen = names
            .iter()
            .filter_map(|name| name.strip_prefix(&prefix)?.parse::<f64>().ok().filter(|g| crate::engine::tabs::valid_epoch(*g)))
            .fold(0.0, f64::max);
        let failed = names
            .iter()
            .filter_map(|name| {
                let mut parts = name.strip_prefix(&failure)?.splitn(4, ':');
                let gen = parts.next()?.parse::<f64>().ok()?;
                let until = parts.next()?.parse::<f64>().ok()?;
                let status = parts.next()?.parse::<u16>().ok().filter(|s| *s != 0);
                Some(Failed { gen, until, status, code: parts.next()?.to_owned() })
            })
            .collect();
        (gen, failed)
    }

    /// Holds the shared marker lock of generation `gen` (so every tab's lock query sees
    /// it), then drops this tab's older marker (and its failure marker).
    async fn mark(&self, gen: f64) {
        self.hold(format!("{}{MARKER}{gen}", self.lock), &self.release_marker).await;
        if let Some(release) = self.release_failed.borrow_mut().take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }

    /// Holds the marker of a failure (`status`, `code`) of a refresh from generation `gen`
    /// when the engine's rule says to publish it ([`failure_marker`] of `facts`), then drops
    /// this tab's older failure marker.
    async fn mark_failed(&self, gen: f64, facts: CallFailed, status: Option<u16>, code: &str) {
        if let Some(until) = failure_marker(facts, js_sys::Date::now()) {
            let name = format!("{}{FAILED}{gen}:{until}:{}:{code}", self.lock, status.unwrap_or(0));
            self.hold(name, &self.release_failed).await;
        }
    }

    /// Holds the shared lock `name` (kept in `keep_in` until released), then lets go of what
    /// `keep_in` held before.
    async fn hold(&self, name: String, keep_in: &RefCell<Option<js_sys::Function>>) {
        let previous = keep_in.borrow_mut().take();
        let slot: Rc<RefCell<Option<js_sys::Function>>> = Rc::default();
        let keep = slot.clone();
        let granted = js_sys::Promise::new(&mut |granted: js_sys::Function, _| {
            let (on_grant, keep) = (granted.clone(), keep.clone());
            let callback = Closure::once_into_js(move |_lock: JsValue| {
                let _ = on_grant.call0(&JsValue::NULL);
                js_sys::Promise::new(&mut |release, _| *keep.borrow_mut() = Some(release))
            });
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"mode".into(), &"shared".into());
            match lock_request(&name, &options, callback.unchecked_ref()) {
                Ok(p) => {
                    // Refused (no lock manager): go on without the marker, as js/tabs.js.
                    let on_fail = granted.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        if JsFuture::from(p).await.is_err() {
                            let _ = on_fail.call0(&JsValue::NULL);
                        }
                    });
                }
                Err(_) => {
                    let _ = granted.call0(&JsValue::NULL);
                }
            }
        });
        let _ = JsFuture::from(granted).await;
        let release = slot.borrow_mut().take();
        if self.closed.get() {
            // Closed meanwhile: nothing else would let go of it.
            if let Some(r) = release {
                let _ = r.call0(&JsValue::NULL);
            }
        } else {
            *keep_in.borrow_mut() = release;
        }
        if let Some(release) = previous {
            let _ = release.call0(&JsValue::NULL);
        }
    }

    /// The record of `epoch` with a generation of at least `gen`, taken by this tab or found
    /// in storage, within `lockWaitMs`; `None` once the epoch is left.
    async fn await_record(&self, epoch: f64, gen: f64, dropped: &Flag) -> Option<Record> {
        let fits = |r: &Record| crate::engine::tabs::ends_wait(epoch, gen, r.is_out(), r.access_token.is_some(), r.epoch, r.gen);
        let end = js_sys::Date::now() + self.lock_wait_ms;
        loop {
            let mine = crate::engine::tabs::ends_wait(epoch, gen, false, true, Some(self.line.epoch()), Some(self.line.gen()));
            let here = if mine { self.last.borrow().clone().filter(fits) } else { None };
            let found = here.or_else(|| self.line.store.as_ref().and_then(|s| s.load()).filter(fits));
            if found.is_some() {
                return found;
            }
            if self.line.epoch() != epoch || dropped.get() || self.closed.get() || js_sys::Date::now() >= end {
                return None;
            }
            TimeoutFuture::new(25).await;
        }
    }

    /// Runs `call(ctx)` (the refresh) under the cross-tab lock, unless another tab already
    /// produced a newer generation of this session, whose tokens are taken instead. The result
    /// is stored and announced before the lock is released, unless the session's epoch changed
    /// meanwhile. `flight` is what the call needs of the engine (see [`Flight`]).
    pub(crate) async fn exclusive(self: Rc<Self>, ctx: RefreshContext, call: Call, flight: Rc<Flight>) -> Outcome {
        let (epoch, start_gen) = (self.line.epoch(), self.line.gen());
        let Ok(ctl) = AbortController::new() else { return refused() };
        let guard = Dropped { flag: Rc::default(), ctl: ctl.clone(), why: flight.why.clone() };
        let dropped = guard.flag.clone();
        (flight.waits)(true);
        let result: Rc<RefCell<Option<Outcome>>> = Rc::default();
        let run = {
            let (tabs, ctx, call, flight, result, dropped) = (self.clone(), ctx, call, flight, result.clone(), dropped.clone());
            move || {
                let (tabs, ctx, call, flight, result, dropped) = (tabs.clone(), ctx.clone(), call.clone(), flight.clone(), result.clone(), dropped.clone());
                Closure::once_into_js(move |_lock: JsValue| {
                    future_to_promise(async move {
                        let out = tabs.locked(epoch, start_gen, ctx, call, &flight, &dropped).await;
                        *result.borrow_mut() = Some(out);
                        Ok(JsValue::UNDEFINED)
                    })
                })
            }
        };
        // The bounded wait: past lockWaitMs the request is withdrawn, and the lock stolen.
        let expired = Rc::new(Cell::new(false));
        let timer = {
            let (ctl, expired) = (ctl.clone(), expired.clone());
            gloo_timers::callback::Timeout::new(self.lock_wait_ms.min(2_147_483_647.0) as u32, move || {
                expired.set(true);
                ctl.abort();
            })
        };
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"signal".into(), &ctl.signal());
        let Ok(promise) = lock_request(&self.lock, &options, run().unchecked_ref()) else { return refused() };
        let granted = JsFuture::from(promise).await;
        drop(timer);
        if granted.is_err() {
            if !expired.get() || dropped.get() || self.line.epoch() != epoch {
                return refused();
            }
            // The holder did not let go in time (a frozen tab): take the lock from it.
            let steal = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&steal, &"steal".into(), &JsValue::TRUE);
            let Ok(promise) = lock_request(&self.lock, &steal, run().unchecked_ref()) else { return refused() };
            if JsFuture::from(promise).await.is_err() {
                return refused();
            }
        }
        drop(guard);
        let outcome = result.borrow_mut().take();
        outcome.unwrap_or_else(refused)
    }

    /// The refresh, holding the lock (`js/tabs.js` `run`).
    async fn locked(&self, epoch: f64, start_gen: f64, ctx: RefreshContext, call: Call, flight: &Flight, dropped: &Flag) -> Outcome {
        let gone = || self.closed.get() || self.line.epoch() != epoch;
        let left = || dropped.get() || gone();
        if left() {
            return refused(); // superseded: the engine has dropped this call already
        }
        // A rotated refresh token another tab kept from an unusable answer (stored under this
        // lock, in this tab's generation, and broadcast): taken before this tab spends its own.
        let mut ctx = ctx;
        let me = crate::engine::tabs::Epochs { epoch: self.line.epoch(), gen: self.line.gen() };
        let held = (flight.held)();
        let stored = self.line.store.as_ref().and_then(|s| s.load());
        let heard = self.heard.borrow().clone();
        if let Some(rec) = [stored, heard].into_iter().flatten().find(|r| me.takes_rotated(r.is_out(), r.epoch, r.gen, r.refresh_differs(held.as_deref()))) {
            ctx.refresh_token = rec.refresh_token.clone();
            (flight.take)(rec.refresh_token.unwrap_or_default());
        }
        let (latest, failed) = self.markers().await;
        let known = latest.max(self.line.gen());
        if crate::engine::tabs::refreshed_elsewhere(latest, self.line.gen(), start_gen) {
            // Another tab refreshed since this one decided to: take its result.
            if let Some(rec) = self.await_record(epoch, known, dropped).await {
                if let Some(tokens) = rec.tokens() {
                    if !left() {
                        self.line.set_gen(rec.gen());
                        self.line.set_saved(Saved { expires_at: rec.expires_at, expires_in: rec.expires_in, received_at: rec.received_at.unwrap_or_else(js_sys::Date::now) });
                        self.took(&rec);
                    }
                    return Outcome { result: Ok((tokens, None)), date: None };
                }
            }
        }
        if left() {
            return refused();
        }
        // Another tab's refresh from this generation failed and its retry point is ahead: its
        // failure is this tab's too (the engine backs off to that point), not a second call.
        let now = js_sys::Date::now();
        if let Some(f) = failed.iter().find(|f| crate::engine::tabs::failed_elsewhere(f.gen, f.until, start_gen, now)) {
            let failure = crate::engine::RefreshFailure { code: f.code.clone(), status: f.status, retry_after_ms: Some((f.until - now).max(0.0)), ..Default::default() };
            return Outcome { result: Err(failure), date: None };
        }
        // The tokens this refresh started with, unless this tab adopted a newer generation of
        // the same session while it waited: another tab rotated them.
        let ctx = match self.last.borrow().as_ref().filter(|_| self.line.gen() > start_gen).and_then(|r| r.tokens()) {
            Some(t) => RefreshContext { access_token: Some(t.access_token), refresh_token: t.refresh_token },
            None => ctx,
        };
        let (held_access, held_refresh) = (ctx.access_token.clone(), ctx.refresh_token.clone());
        (flight.waits)(false);
        let Some(out) = (Unless { flag: dropped, call: call(ctx) }).await else {
            // The engine dropped the call. One it timed out is published as a transient
            // failure, with the engine's retry point (the engine's rule), before the lock is
            // let go.
            let facts = CallFailed { aborted: Some(dropped.why.get().unwrap_or(Abort::Superseded)), left: gone(), retry_in_ms: (flight.retry_in)(), ..CallFailed::default() };
            self.mark_failed(start_gen, facts, None, "timeout").await;
            return refused();
        };
        let (tokens, _) = match &out.result {
            Ok(t) => t,
            Err(failure) => {
                // A rotated refresh token the unusable answer carried (the engine keeps it):
                // stored before the lock is let go, for the next holder to take, when the
                // engine's rule says so (`stores_rotated`).
                let facts = CallFailed { rejected: failure.rejected, left: left(), retry_in_ms: failure.retry_after_ms, ..CallFailed::default() };
                let rotated = failure.rotated_refresh_token.clone().filter(|r| !r.is_empty());
                if let (true, Some(rotated), Some(access)) = (stores_rotated(facts, rotated.is_some()), rotated, held_access) {
                    let rec = self.line.record(access, Some(rotated));
                    self.line.persist_as(&rec, true);
                    self.announce(&rec);
                }
                // Published before the lock is let go when the engine's rule says so (a
                // transient failure; a rejection ends the session, which `expired` tells).
                self.mark_failed(start_gen, facts, failure.status, &failure.code).await;
                return out;
            }
        };
        if left() {
            return refused();
        }
        let gen = next_epoch(latest.max(self.line.gen()));
        let received_at = js_sys::Date::now();
        let rec = Record {
            out: None,
            access_token: Some(tokens.access_token.clone()),
            refresh_token: tokens.refresh_token.clone().or(held_refresh),
            expires_at: tokens.expires_at,
            expires_in: tokens.expires_in,
            received_at: Some(received_at),
            epoch: Some(epoch),
            gen: Some(gen),
        };
        self.line.set_gen(gen);
        self.line.set_saved(Saved { expires_at: tokens.expires_at, expires_in: tokens.expires_in, received_at });
        self.line.persist(&rec);
        self.announce(&rec);
        self.mark(gen).await;
        out
    }
}
