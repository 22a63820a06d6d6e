//! An async [`Refresher`] for Rust apps: Leptos, Yew, Dioxus, or anything with an executor.
//!
//! It is a driver of the [`Engine`](crate::engine::Engine), the one place every rule of a
//! session lives (the npm package drives the same rules): it turns calls and futures into
//! the engine's inputs, with the clock you give it, and carries out the engine's outputs —
//! it makes the refresh call when the engine says so, with the tokens the engine captured,
//! hands each waiting future its token or its error, and tells your listeners. It decides
//! nothing itself:
//!
//! - [`Refresher::access_token`] gives a token that is not past its refresh point,
//!   refreshing first when it is (during a backoff, a token that has not expired is given
//!   and no refresh starts; an expired one waits for the retry, up to the refresh timeout);
//! - [`Refresher::refresh`] is single-flight: every caller while a refresh is in flight
//!   awaits the same call, which runs once, however many futures poll it and whichever of
//!   them is dropped;
//! - [`Refresher::keep_fresh`] is the timer: a future that wakes the engine when it asked
//!   to be woken (each refresh point, each end of a backoff, each waiting request's
//!   deadline), sleeping through the `sleep` function you give it in steps of at most
//!   [`MAX_STEP_MS`] (so a 30-day token never overflows `setTimeout`, and a laptop waking
//!   from sleep is noticed within one step).
//!
//! Nothing here is tied to the browser: the clock, the refresh call and the sleep are
//! yours, so it runs (and is tested) on any target.
//!
//! In a browser app, use the `web` feature's `freshtoken::web::Refresher`: it wraps this one
//! with the browser's monotonic clock, the presets' refresh calls, a `fetch` that attaches and
//! replays, storage, events and a gloo timer (the README's "Rust API" shows the example apps'
//! code, which `scripts/rust-apps.sh` compiles and `tests/rust-apps/` drives in Chromium).
//!
//! # Example
//! On the host, with any executor:
//! ```
//! use freshtoken::refresher::{Refresher, TokenError};
//! use freshtoken::schedule::Policy;
//! use freshtoken::session::{Failure, Grant, State};
//! use std::future::Future;
//! use std::task::{Context, Poll, Waker};
//!
//! let r = Refresher::new(Policy::default(), || 1_000.0, |ctx| async move {
//!     assert_eq!(ctx.refresh_token.as_deref(), Some("r1"));
//!     Ok::<_, Failure>(Grant { access_token: "a2".into(), expires_in_s: Some(60.0), ..Default::default() })
//! });
//! r.set_tokens(Grant { access_token: "a1".into(), refresh_token: Some("r1".into()), expires_in_s: Some(0.0), ..Default::default() });
//! // The token is past its refresh point: access_token() refreshes first.
//! let mut fut = std::pin::pin!(r.access_token());
//! let token = match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
//!     Poll::Ready(t) => t,
//!     Poll::Pending => unreachable!("the refresh above answers at once"),
//! };
//! assert_eq!(token, Ok("a2".to_string()));
//! assert_eq!(r.state(), State::Fresh);
//! assert_eq!(r.next_refresh_at(), Some(1_000.0 + 48_000.0));
//! ```

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use crate::redacted::Hidden;
use crate::engine::{self, Abort, Config, Engine, ErrorClass, Failed, Needs, Output, RefreshFailure, Refused, RequestId};
use crate::schedule::{next_wake, Policy, Wake as Step};
use crate::session::{BadClaim, Failure, Grant, State};

/// This API's answer to the engine's refusal: a disposed refresher's `set_tokens` is a no-op
/// here (the web face says `disposed` itself); malformed tokens are [`BadClaim`].
fn refused(r: Refused) -> Result<(), BadClaim> {
    match r {
        Refused::Disposed => Ok(()),
        Refused::BadClaim | Refused::TooLarge => Err(BadClaim),
    }
}

pub use crate::schedule::MAX_STEP_MS;

/// What the refresh call gets: the tokens held when it starts. Its `Debug` shows whether
/// each is there, never the token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RefreshContext {
    /// The access token held (possibly expired), e.g. for sanic-jwt's `Authorization` header.
    pub access_token: Option<String>,
    /// The refresh token held.
    pub refresh_token: Option<String>,
}

impl fmt::Debug for RefreshContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshContext")
            .field("access_token", &Hidden(self.access_token.as_deref()))
            .field("refresh_token", &Hidden(self.refresh_token.as_deref()))
            .finish()
    }
}

/// Why no token could be given.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TokenError {
    /// No tokens were ever set.
    NoSession,
    /// The server refused to refresh: the user must log in again.
    Expired,
    /// The app logged out.
    LoggedOut,
    /// The refresh failed transiently (network, 5xx, ...) and the token held has expired;
    /// the session is kept and retried after `retry_in_ms`.
    Transient {
        /// When the backoff retries, ms from the failure.
        retry_in_ms: f64,
        /// The failure's code (`network`, `timeout`, `http`, `bad-response`, `failed`, ...).
        code: String,
        /// The refresh endpoint's HTTP status, if one came.
        status: Option<u16>,
        /// True when a request's wait outlasted `refreshTimeoutMs` (it gave up late).
        late: bool,
    },
    /// The refresher was disposed.
    Disposed,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::NoSession => f.write_str("there is no session: set tokens after login"),
            TokenError::Expired => f.write_str("the session has expired: the user must log in again"),
            TokenError::LoggedOut => f.write_str("the session was logged out"),
            TokenError::Transient { retry_in_ms, code, .. } => {
                write!(f, "the refresh failed for now ({code}) and the token has expired; retrying in {retry_in_ms} ms")
            }
            TokenError::Disposed => f.write_str("the refresher was disposed"),
        }
    }
}

impl std::error::Error for TokenError {}

/// What happened to the session, as told to [`Refresher::on_event`] listeners. Never
/// carries a token.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A refresh succeeded; the new token expires at `expires_at` (local clock, ms).
    Refreshed {
        /// When the new token expires, ms since epoch on the refresher's clock.
        expires_at: Option<f64>,
    },
    /// A refresh failed transiently (or its answer was taken only in part); the session is
    /// kept and retried in `retry_in_ms`.
    RefreshFailed {
        /// When the backoff retries, ms from the failure.
        retry_in_ms: f64,
        /// Why: `network`, `timeout`, `http`, `bad-response` (an answer taken in part or not
        /// at all), `refused-origin`, `failed` (the app's own refresh function).
        code: String,
    },
    /// The session ended: the user must log in again. Told once per session.
    SessionExpired {
        /// `"refresh-rejected"` (the refresh endpoint refused it), `"no-refresh-token"`, or
        /// `"request-rejected"` (a request was refused again right after a refresh).
        reason: &'static str,
    },
    /// The app logged out.
    LoggedOut,
    /// A request was refused again with a fresh token by a status that does not end the
    /// session (a 403 after the replay: "forbidden", not "log in again").
    Forbidden {
        /// The replay's status.
        status: u16,
    },
    /// The schedule changed (new tokens, a refresh): when the token expires and when the
    /// next refresh is planned, ms since epoch on the refresher's clock.
    Schedule {
        /// When the token expires.
        expires_at: Option<f64>,
        /// When the next refresh is planned.
        next_refresh_at: Option<f64>,
    },
}

impl Event {
    /// The SPEC event name: `refresh`, `refresh-error`, `session-expired`, `logout`,
    /// `forbidden`, `schedule`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Refreshed { .. } => "refresh",
            Event::RefreshFailed { .. } => "refresh-error",
            Event::SessionExpired { .. } => "session-expired",
            Event::LoggedOut => "logout",
            Event::Forbidden { .. } => "forbidden",
            Event::Schedule { .. } => "schedule",
        }
    }
}

type BoxedRefresh = Pin<Box<dyn Future<Output = Landing>>>;

/// How one refresh call ended, in the engine's terms (what a face's transport saw).
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(not(all(feature = "web", target_arch = "wasm32")), allow(dead_code))]
pub(crate) struct Landing {
    /// The tokens (and what of the answer was dropped), or how it failed.
    pub(crate) result: Option<Result<(Grant, Option<String>), RefreshFailure>>,
    /// The answer's `Date` header, with the origin that answered.
    pub(crate) date: Option<(String, String)>,
}

impl Landing {
    fn from_result(r: Result<Grant, Failure>) -> Landing {
        let result = match r {
            Ok(grant) => Ok((grant, None)),
            Err(Failure::Rejected) => Err(RefreshFailure { rejected: true, code: "rejected".into(), ..Default::default() }),
            Err(Failure::Transient { retry_after_ms }) => Err(RefreshFailure { code: "failed".into(), retry_after_ms, ..Default::default() }),
        };
        Landing { result: Some(result), date: None }
    }
}

/// What a face plugs into the driver besides its clock and refresh call.
#[derive(Default)]
#[cfg_attr(not(all(feature = "web", target_arch = "wasm32")), allow(dead_code))]
pub(crate) struct Hooks {
    /// The wall clock (`Date.now()`): expiresAt and the server's `Date` are read on it.
    pub(crate) wall: Option<Box<dyn Fn() -> f64>>,
    /// The backoff's jitter sample (`Math.random()`).
    pub(crate) random: Option<Box<dyn Fn() -> f64>>,
    /// Told why the refresh call in flight is aborted, just before it is dropped.
    pub(crate) on_abort: Option<Box<dyn Fn(Abort)>>,
    /// The origin the refresh call would go to now (its URL resolved), if it has one.
    pub(crate) refresh_origin: Option<Box<dyn Fn() -> Option<String>>>,
    /// Revokes a refresh token (RFC 7009), given whether an origin may receive it.
    pub(crate) on_revoke: Option<Box<dyn Fn(String, &dyn Fn(&str) -> bool)>>,
}
type Outcome = Result<String, TokenError>;

/// What the engine decided for a request (see [`Refresher::request`], [`Refresher::answered`]).
/// Its `Debug` never shows the token.
#[derive(Clone, PartialEq)]
pub enum Decision {
    /// Send it with `Authorization: Bearer <token>` (`replay`: the one replay).
    Send {
        /// The token to attach.
        token: String,
        /// True for the replay.
        replay: bool,
    },
    /// Send it as it is, without a token (another origin, the caller's own credentials, the
    /// refresh's own traffic, no session); its answer is the caller's.
    Untouched,
    /// Hand the last answer back to the caller.
    Return,
}

impl fmt::Debug for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Send { token, replay } => f.debug_struct("Send").field("token", &Hidden::of(token)).field("replay", replay).finish(),
            Decision::Untouched => f.write_str("Untouched"),
            Decision::Return => f.write_str("Return"),
        }
    }
}

/// What the engine settled a caller with.
#[derive(Clone, Debug, PartialEq)]
enum Settlement {
    Decided(Decision),
    Failed(TokenError),
}
type RefreshFn = Box<dyn Fn(RefreshContext) -> BoxedRefresh>;
type Listener = Rc<dyn Fn(&Event)>;

/// Wakes every future waiting on the session, whichever of them polled the flight last.
struct WakeAll(Mutex<Vec<Waker>>);

impl WakeAll {
    fn add(&self, waker: &Waker) {
        let mut list = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !list.iter().any(|w| w.will_wake(waker)) {
            list.push(waker.clone());
        }
    }
}

impl Wake for WakeAll {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let list = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        for w in list {
            w.wake();
        }
    }
}

struct Inner {
    engine: RefCell<Engine>,
    clock: Box<dyn Fn() -> f64>,
    hooks: RefCell<Hooks>,
    call: RefreshFn,
    /// The refresh call the engine started: its ticket and future (taken while polled).
    flight: RefCell<Option<(u32, Option<BoxedRefresh>)>>,
    /// What the engine settled each waiting future with.
    settled: RefCell<HashMap<RequestId, Settlement>>,
    /// True while the refresh call is being polled: what it sends is its own traffic.
    in_refresh: Cell<bool>,
    wakers: Arc<WakeAll>,
    next_id: Cell<RequestId>,
    rng: Cell<u64>,
    listeners: RefCell<Vec<(u32, Listener)>>,
    next_listener: Cell<u32>,
}

/// One session, refreshed on time and shared by every caller. Cloning gives another
/// handle to the same session.
#[derive(Clone)]
pub struct Refresher {
    inner: Rc<Inner>,
}

impl fmt::Debug for Refresher {
    /// Shows the state and times, never a token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refresher")
            .field("state", &self.state())
            .field("expires_at", &self.expires_at())
            .field("next_refresh_at", &self.next_refresh_at())
            .finish()
    }
}

impl Refresher {
    /// A refresher with no session yet. `clock` gives the local time in ms since epoch
    /// (`js_sys::Date::now` in a browser); `refresh` makes the refresh call, answering
    /// [`Failure::Rejected`] when the server refuses the session (400/401/403) and
    /// [`Failure::Transient`] for anything that may pass (network, timeout, 5xx, 429).
    /// A policy the engine refuses falls back to the default one.
    pub fn new<F, Fut>(policy: Policy, clock: impl Fn() -> f64 + 'static, refresh: F) -> Refresher
    where
        F: Fn(RefreshContext) -> Fut + 'static,
        Fut: Future<Output = Result<Grant, Failure>> + 'static,
    {
        Refresher::with_config(Config { refresh_at: policy.refresh_at, default_lifetime_ms: policy.default_lifetime_ms, needs: Needs::Nothing, ..Config::default() }, clock, refresh)
    }

    /// [`Refresher::new`] with every option of the engine ([`Config`]: statuses, origins,
    /// the refresh timeout, what the refresh call needs).
    pub fn with_config<F, Fut>(config: Config, clock: impl Fn() -> f64 + 'static, refresh: F) -> Refresher
    where
        F: Fn(RefreshContext) -> Fut + 'static,
        Fut: Future<Output = Result<Grant, Failure>> + 'static,
    {
        Refresher::with_call(config, clock, move |ctx| {
            let answer = refresh(ctx);
            async move { Landing::from_result(answer.await) }
        })
    }

    /// [`Refresher::with_config`] with a refresh call that reports in the engine's terms
    /// (the failure's code and status, what of an answer was dropped, its `Date`).
    pub(crate) fn with_call<F, Fut>(config: Config, clock: impl Fn() -> f64 + 'static, refresh: F) -> Refresher
    where
        F: Fn(RefreshContext) -> Fut + 'static,
        Fut: Future<Output = Landing> + 'static,
    {
        let engine = Engine::new(config).unwrap_or_else(|_| Engine::new(Config { needs: Needs::Nothing, ..Config::default() }).expect("the default config"));
        let seed = clock().to_bits() | 1;
        Refresher {
            inner: Rc::new(Inner {
                engine: RefCell::new(engine),
                clock: Box::new(clock),
                hooks: RefCell::new(Hooks::default()),
                call: Box::new(move |ctx| Box::pin(refresh(ctx))),
                flight: RefCell::new(None),
                settled: RefCell::new(HashMap::new()),
                in_refresh: Cell::new(false),
                wakers: Arc::new(WakeAll(Mutex::new(Vec::new()))),
                next_id: Cell::new(1),
                rng: Cell::new(seed),
                listeners: RefCell::new(Vec::new()),
                next_listener: Cell::new(0),
            }),
        }
    }

    /// The refresher's clock now (the session clock in a browser): the scale of
    /// [`Refresher::expires_at`] and [`Refresher::next_refresh_at`].
    pub fn now(&self) -> f64 {
        (self.inner.clock)()
    }

    /// The wall clock (the face's, else the refresher's clock).
    fn wall(&self) -> f64 {
        match &self.inner.hooks.borrow().wall {
            Some(wall) => wall(),
            None => self.now(),
        }
    }

    /// Plugs in what a face gives besides its clock and call (see [`Hooks`]).
    #[cfg_attr(not(all(feature = "web", target_arch = "wasm32")), allow(dead_code))]
    pub(crate) fn set_hooks(&self, hooks: Hooks) {
        *self.inner.hooks.borrow_mut() = hooks;
    }

    /// A uniform sample in [0, 1) for the backoff's jitter (the face's, else xorshift64).
    fn random(&self) -> f64 {
        if let Some(random) = &self.inner.hooks.borrow().random {
            return random();
        }
        let mut x = self.inner.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.inner.rng.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    fn id(&self) -> RequestId {
        let id = self.inner.next_id.get();
        self.inner.next_id.set(id + 1);
        id
    }

    /// Gives `f` the engine (at `now`), then carries out what it asks for.
    fn with_engine<T>(&self, f: impl FnOnce(&mut Engine, f64) -> T) -> T {
        let now = self.now();
        let out = f(&mut self.inner.engine.borrow_mut(), now);
        self.drive();
        out
    }

    /// Carries out the engine's outputs. The engine is not borrowed while the app's code
    /// (the refresh call's constructor, listeners) runs.
    fn drive(&self) {
        loop {
            let Some(output) = self.inner.engine.borrow_mut().poll() else { break };
            match output {
                Output::StartRefresh { ticket, access_token, refresh_token } => {
                    let origin = self.inner.hooks.borrow().refresh_origin.as_ref().and_then(|f| f());
                    let refused = origin.is_some_and(|o| !self.inner.engine.borrow().allows_refresh_to(&o));
                    if refused {
                        // Not made: its tokens would go to an origin not allowed (SPEC 6).
                        let failure = RefreshFailure { code: "refused-origin".into(), ..Default::default() };
                        let (now, random) = (self.now(), self.random());
                        self.inner.engine.borrow_mut().refresh_failed(ticket, failure, now, random);
                        continue;
                    }
                    let call = (self.inner.call)(RefreshContext { access_token, refresh_token });
                    *self.inner.flight.borrow_mut() = Some((ticket, Some(call)));
                    self.inner.wakers.wake_by_ref();
                }
                Output::AbortRefresh { ticket, reason } => {
                    let aborted = {
                        let mut flight = self.inner.flight.borrow_mut();
                        if flight.as_ref().is_some_and(|(t, _)| *t == ticket) { flight.take() } else { None }
                    };
                    if aborted.is_some() {
                        if let Some(f) = &self.inner.hooks.borrow().on_abort {
                            f(reason);
                        }
                    }
                    // Dropped here, outside every borrow: the call's own clean-up may call out.
                    drop(aborted);
                }
                Output::Token { id, token } => self.settle(id, Settlement::Decided(Decision::Send { token, replay: false })),
                Output::Send { id, token: Some(token), replay } => self.settle(id, Settlement::Decided(Decision::Send { token, replay })),
                Output::Send { id, token: None, .. } => self.settle(id, Settlement::Decided(Decision::Untouched)),
                Output::Return { id } => self.settle(id, Settlement::Decided(Decision::Return)),
                Output::Fail { id, error } => {
                    let err = self.token_error(&error);
                    self.settle(id, Settlement::Failed(err));
                }
                Output::Event(event) => {
                    let event = self.event(event);
                    self.emit(&event);
                }
                Output::Timer(_) => self.inner.wakers.wake_by_ref(),
                Output::Revoke { refresh_token } => {
                    let allowed = |origin: &str| self.inner.engine.borrow().allows_refresh_to(origin);
                    if let Some(revoke) = self.inner.hooks.borrow().on_revoke.as_ref() {
                        revoke(refresh_token, &allowed);
                    }
                }
            }
        }
    }

    fn settle(&self, id: RequestId, outcome: Settlement) {
        self.inner.settled.borrow_mut().insert(id, outcome);
        self.inner.wakers.wake_by_ref();
    }

    fn event(&self, event: engine::Event) -> Event {
        match event {
            engine::Event::Refresh => Event::Refreshed { expires_at: self.expires_at() },
            engine::Event::RefreshError { retry_in_ms, code, .. } => Event::RefreshFailed { retry_in_ms, code },
            engine::Event::SessionExpired { reason } => Event::SessionExpired { reason },
            engine::Event::Logout => Event::LoggedOut,
            engine::Event::Forbidden { status } => Event::Forbidden { status },
            engine::Event::Schedule => Event::Schedule { expires_at: self.expires_at(), next_refresh_at: self.next_refresh_at() },
        }
    }

    fn token_error(&self, error: &Failed) -> TokenError {
        match (error.class, error.code.as_str()) {
            (ErrorClass::Freshtoken, _) => TokenError::Disposed,
            (ErrorClass::Session, "logged-out") => TokenError::LoggedOut,
            (ErrorClass::Session, "no-session") => TokenError::NoSession,
            (ErrorClass::Session, _) => TokenError::Expired,
            (ErrorClass::Refresh, _) => {
                let now = self.now();
                let at = self.inner.engine.borrow().next_attempt_at();
                TokenError::Transient { retry_in_ms: at.map_or(0.0, |at| (at - now).max(0.0)), code: error.code.clone(), status: error.status, late: error.late }
            }
        }
    }

    /// The error of a caller left without a token because the session is over or absent.
    fn over_error(&self) -> TokenError {
        match self.state() {
            State::LoggedOut => TokenError::LoggedOut,
            State::Idle => TokenError::NoSession,
            _ => TokenError::Expired,
        }
    }

    /// Drives the refresh call in flight (whoever polls), landing its answer in the engine.
    fn poll_flight(&self, cx: &mut Context<'_>) {
        self.inner.wakers.add(cx.waker());
        let (ticket, mut call) = {
            let mut guard = self.inner.flight.borrow_mut();
            let Some((ticket, slot)) = guard.as_mut() else { return };
            // None: it is being polled further up this very stack; the waker is registered.
            let Some(call) = slot.take() else { return };
            (*ticket, call)
        };
        let waker = Waker::from(self.inner.wakers.clone());
        self.inner.in_refresh.set(true);
        let polled = call.as_mut().poll(&mut Context::from_waker(&waker));
        self.inner.in_refresh.set(false);
        match polled {
            Poll::Pending => {
                if let Some((t, slot)) = self.inner.flight.borrow_mut().as_mut() {
                    if *t == ticket {
                        *slot = Some(call);
                    }
                }
            }
            Poll::Ready(landing) => {
                {
                    let mut flight = self.inner.flight.borrow_mut();
                    if flight.as_ref().is_some_and(|(t, _)| *t == ticket) {
                        *flight = None;
                    }
                }
                let (random, wall) = (self.random(), self.wall());
                self.with_engine(|e, now| {
                    if let Some((origin, date)) = &landing.date {
                        e.note_date(origin, date, wall);
                    }
                    match landing.result {
                        Some(Ok((grant, problems))) => e.refresh_answered(ticket, grant, problems, now, wall, random),
                        Some(Err(failure)) => e.refresh_failed(ticket, failure, now, random),
                        None => {} // no outcome: the call was superseded (another tab's lock, say)
                    }
                });
            }
        }
    }

    /// The future of caller `id`: drives the flight until the engine settles it.
    fn settled(&self, id: RequestId) -> Settled {
        Settled { r: self.clone(), id, done: None }
    }

    /// A token for caller `id` once the engine settles it.
    async fn token_for(&self, id: RequestId) -> Result<String, TokenError> {
        match self.settled(id).await {
            Settlement::Decided(Decision::Send { token, .. }) => Ok(token),
            Settlement::Decided(_) => Err(self.over_error()),
            Settlement::Failed(e) => Err(e),
        }
    }

    /// Whether the refresh call is running right now (a request it makes is its own: sent
    /// untouched, never held — a refresh never waits for itself).
    pub fn in_refresh(&self) -> bool {
        self.inner.in_refresh.get()
    }

    /// A request is about to be sent (`req`: the origin the browser will send it to, and
    /// what the caller set): the engine's decision, after waiting for a refresh when the
    /// token is due. Answer a [`Decision::Send`] with [`Refresher::answered`] under `id`.
    pub async fn request(&self, req: &engine::Request) -> (RequestId, Result<Decision, TokenError>) {
        let id = self.id();
        self.with_engine(|e, now| e.request(id, req, now));
        let out = match self.settled(id).await {
            Settlement::Decided(d) => Ok(d),
            Settlement::Failed(e) => Err(e),
        };
        (id, out)
    }

    /// The answer to request `id` (sent with a token) came: `status`, and whether it came
    /// from the origin the token went to. The engine's decision: [`Decision::Return`] it, or
    /// [`Decision::Send`] the one replay (after a shared refresh); after the replay's answer
    /// it ends the session or tells `forbidden` as the rules say.
    pub async fn answered(&self, id: RequestId, status: u16, answered_by_origin: bool) -> Result<Decision, TokenError> {
        self.with_engine(|e, now| e.response(id, status, answered_by_origin, now));
        match self.settled(id).await {
            Settlement::Decided(d) => Ok(d),
            Settlement::Failed(e) => Err(e),
        }
    }

    /// The refresh call in flight was asked for a DPoP nonce: whether it sends once more
    /// (the engine's `refresh_nonce_demanded`: once per refresh call).
    #[cfg_attr(not(all(feature = "web", target_arch = "wasm32")), allow(dead_code))]
    pub(crate) fn refresh_nonce_demanded(&self) -> bool {
        self.with_engine(|e, _| e.refresh_nonce_demanded())
    }

    /// The answer to request `id` asks for a DPoP nonce (`engine::dpop::asks_for_nonce`): the
    /// engine's decision, [`Decision::Send`] for the request's one nonce retry (same token,
    /// a new proof) or [`Decision::Return`] (hand the answer back).
    pub async fn nonce_demanded(&self, id: RequestId) -> Result<Decision, TokenError> {
        self.with_engine(|e, _| e.nonce_demanded(id));
        match self.settled(id).await {
            Settlement::Decided(d) => Ok(d),
            Settlement::Failed(e) => Err(e),
        }
    }

    /// Takes new tokens (after login). A refresh in flight is superseded: its callers get
    /// these tokens. Tokens the engine refuses (empty, or a JWT whose expiry claim is
    /// malformed) change nothing.
    pub fn set_tokens(&self, tokens: Grant) {
        let _ = self.try_set_tokens(tokens, false);
    }

    /// [`Refresher::set_tokens`] (or, `restored`, [`Refresher::restore_tokens`]) that says
    /// whether the tokens were taken: empty tokens, or a JWT whose expiry claim is malformed,
    /// are refused and change nothing.
    pub fn try_set_tokens(&self, tokens: Grant, restored: bool) -> Result<(), BadClaim> {
        let wall = self.wall();
        self.with_engine(|e, now| e.set_tokens(tokens, restored, now, wall)).or_else(refused)
    }

    /// [`Refresher::try_set_tokens`] for tokens received earlier, at wall time `received`
    /// (a record from storage or another tab, web face `crossTab`): their schedule counts
    /// from then.
    #[cfg_attr(not(all(feature = "web", target_arch = "wasm32")), allow(dead_code))]
    pub(crate) fn try_set_tokens_received(&self, tokens: Grant, restored: bool, received: f64) -> Result<(), BadClaim> {
        let wall = self.wall();
        let received = received.min(wall);
        self.with_engine(|e, now| e.set_tokens_received(tokens, restored, now - (wall - received), received, now)).or_else(refused)
    }

    /// The refresh call in flight waits for something that bounds its own wait (`waiting`:
    /// the cross-tab lock, another tab's record), or really begins now: the engine's
    /// `refresh_waits` (refreshTimeoutMs counts from the call itself).
    #[cfg_attr(not(all(feature = "web", target_arch = "wasm32")), allow(dead_code))]
    pub(crate) fn refresh_waits(&self, waiting: bool) {
        let ticket = self.inner.flight.borrow().as_ref().map(|(t, _)| *t);
        if let Some(ticket) = ticket {
            self.with_engine(|e, now| e.refresh_waits(ticket, waiting, now));
        }
    }

    /// The refresh call in flight, holding the cross-tab lock, takes the rotated refresh token
    /// another tab kept (`Engine::refresh_token_taken`).
    #[cfg_attr(not(all(feature = "web", target_arch = "wasm32")), allow(dead_code))]
    pub(crate) fn refresh_token_taken(&self, refresh_token: String) {
        let ticket = self.inner.flight.borrow().as_ref().map(|(t, _)| *t);
        if let Some(ticket) = ticket {
            self.with_engine(|e, _| e.refresh_token_taken(ticket, refresh_token));
        }
    }

    /// ms until the engine's next attempt, while a backoff (or the one-second floor) holds
    /// attempts back: where a failure it took puts the session's retry.
    #[cfg_attr(not(all(feature = "web", target_arch = "wasm32")), allow(dead_code))]
    pub(crate) fn retry_in(&self) -> Option<f64> {
        let now = self.now();
        self.inner.engine.borrow().next_attempt_at().map(|at| (at - now).max(0.0))
    }

    /// Whether the refresh call may go to `origin` (the engine's rule, SPEC 6): asked by a
    /// face's refresh call at the moment it sends, on the very URL it sends to.
    #[cfg_attr(not(all(feature = "web", target_arch = "wasm32")), allow(dead_code))]
    pub(crate) fn allows_refresh_to(&self, origin: &str) -> bool {
        self.inner.engine.try_borrow().is_ok_and(|e| e.allows_refresh_to(origin))
    }

    /// The `Date` header of an answer from `origin`: the server's clock, noted only for this
    /// refresher's own origins and only when it is an HTTP-date (restored tokens are read on it).
    pub fn note_date(&self, origin: &str, date: &str) {
        let wall = self.wall();
        self.with_engine(|e, _| e.note_date(origin, date, wall));
    }

    /// A DPoP proof's header and claims (JSON texts) for `htm` `url` at `origin` with the
    /// public key `jwk` (the engine's [`Engine::dpop_proof`]: `iat` on the server's clock, the
    /// origin's last nonce or `nonce`, `ath` on resource requests). The face signs them.
    /// `None` for a URL that is not http(s). Never drives the engine (a refresh call in
    /// flight asks for proofs).
    #[allow(clippy::too_many_arguments)]
    pub fn dpop_proof(&self, htm: &str, url: &str, origin: &str, jwk: &str, jti: &str, ath: Option<&str>, nonce: Option<&str>) -> Option<(String, String)> {
        let wall = self.wall();
        self.inner.engine.borrow().dpop_proof(htm, url, origin, jwk, jti, ath, nonce, wall)
    }

    /// A `DPoP-Nonce` header of an answer from `origin`: kept by the engine for the next proof
    /// to that origin (this refresher's own origins only). Never drives the engine.
    pub fn note_dpop_nonce(&self, origin: &str, nonce: &str) {
        if let Ok(mut e) = self.inner.engine.try_borrow_mut() {
            e.note_dpop_nonce(origin, nonce);
        }
    }

    /// Forgets request `id` (its send failed, or its answer is handed back without a word to
    /// the engine: a second DPoP nonce demand): it waits for nothing any more.
    pub fn forget(&self, id: RequestId) {
        self.with_engine(|e, now| e.cancel(id, now));
    }

    /// Disposes of the session's driver: every waiting caller fails with
    /// [`TokenError::Disposed`], the refresh in flight is aborted, no timer runs again, and
    /// new tokens are not taken.
    pub fn dispose(&self) {
        self.with_engine(|e, _| e.dispose());
    }

    /// Takes tokens that may have waited since they were issued (restored from storage):
    /// as [`Refresher::set_tokens`], but a token is planned by what is left of it now, so a
    /// stale one is refreshed at once.
    pub fn restore_tokens(&self, tokens: Grant) {
        let _ = self.try_set_tokens(tokens, true);
    }

    /// Ends the session; callers waiting on a refresh get [`TokenError::LoggedOut`].
    pub fn logout(&self) {
        self.with_engine(|e, now| e.logout(now));
    }

    /// [`Refresher::logout`] because another tab logged out (that tab revokes, not this one).
    #[cfg_attr(not(all(feature = "web", target_arch = "wasm32")), allow(dead_code))]
    pub(crate) fn logout_heard(&self) {
        self.with_engine(|e, now| e.logout_here(false, now));
    }

    /// Ends the session because the server will not take its tokens (`reason`, e.g.
    /// `"request-rejected"`): tokens dropped, waiters get [`TokenError::Expired`], and
    /// [`Event::SessionExpired`] is told once, however many requests report it.
    pub fn expire(&self, reason: &'static str) {
        self.with_engine(|e, now| e.expire(reason, now));
    }

    /// Forces a refresh. Every call while one is in flight shares it: one call to the
    /// server, one outcome for all.
    pub fn refresh(&self) -> Refresh {
        let id = self.id();
        self.with_engine(|e, now| e.refresh(id, now));
        Refresh(self.settled(id))
    }

    fn outcome(&self, s: Settlement) -> Outcome {
        match s {
            Settlement::Decided(Decision::Send { token, .. }) => Ok(token),
            Settlement::Decided(_) => Err(self.over_error()),
            Settlement::Failed(e) => Err(e),
        }
    }

    /// A token not past its refresh point, refreshing first when needed. While refreshes
    /// fail transiently, a token that has not yet expired is still given.
    pub async fn access_token(&self) -> Result<String, TokenError> {
        let id = self.id();
        self.with_engine(|e, now| e.get_token(id, now));
        self.token_for(id).await
    }

    /// The token to replay a request with after the server refused `used` (SPEC
    /// behaviour 5): a refresh (shared with every other caller) only if `used` is still the
    /// current token; otherwise the token that has replaced it already.
    pub async fn token_after_rejection(&self, used: &str) -> Result<String, TokenError> {
        let id = self.id();
        let used = used.to_owned();
        self.with_engine(|e, now| e.token_after_rejection(id, used, now));
        self.token_for(id).await
    }

    /// Keeps the session fresh: wakes the engine whenever it asked to be woken (refresh
    /// points, ends of a backoff, waiting requests' deadlines), sleeping with `sleep(ms)`
    /// (at most [`MAX_STEP_MS`] at a time) in between, and drives a refresh in flight.
    /// Ends when the session expires or is logged out. Spawn it once per session.
    pub async fn keep_fresh<S, SF>(&self, sleep: S)
    where
        S: Fn(u32) -> SF,
        SF: Future<Output = ()>,
    {
        loop {
            if matches!(self.state(), State::Expired | State::LoggedOut) {
                return;
            }
            let at = self.inner.engine.borrow().timer();
            let ms = match at.map(|at| next_wake(at, self.now())) {
                Some(Step::Fire) => {
                    self.with_engine(|e, now| e.timeout(now));
                    continue;
                }
                Some(Step::Sleep(ms)) => ms,
                None => MAX_STEP_MS,
            };
            // Sleep, driving the refresh in flight meanwhile (even if whoever started it has
            // gone away); its deadline and the waiters' are the engine's timer too, so a new
            // timer (or the session's end) ends the sleep and the loop looks again.
            let nap = std::pin::pin!(sleep(ms));
            Nap { r: self.clone(), timer: at, sleep: nap }.await;
        }
    }

    /// The page woke up (visible, focus) or came back online (`online`: a backoff is cut
    /// short, the one-second floor holds): the engine looks at the clock again.
    pub fn wake(&self, online: bool) {
        self.with_engine(|e, now| if online { e.online(now) } else { e.timeout(now) });
    }

    /// Listens to every [`Event`]; returns an id for [`Refresher::off`].
    pub fn on_event(&self, f: impl Fn(&Event) + 'static) -> u32 {
        let id = self.inner.next_listener.get();
        self.inner.next_listener.set(id.wrapping_add(1));
        self.inner.listeners.borrow_mut().push((id, Rc::new(f)));
        id
    }

    /// Removes the listener [`Refresher::on_event`] returned `id` for.
    pub fn off(&self, id: u32) {
        self.inner.listeners.borrow_mut().retain(|(i, _)| *i != id);
    }

    /// Tells every listener (a copy of the list: a listener may add or remove listeners).
    pub(crate) fn emit(&self, event: &Event) {
        let listeners: Vec<_> = self.inner.listeners.borrow().iter().map(|(_, f)| f.clone()).collect();
        for f in listeners {
            f(event);
        }
    }

    /// Calls `f` (with the reason, `"refresh-rejected"`) when the server ends the session.
    pub fn on_session_expired(&self, f: impl Fn(&str) + 'static) {
        self.on_event(move |e| {
            if let Event::SessionExpired { reason } = e {
                f(reason)
            }
        });
    }

    /// Where the session stands.
    pub fn state(&self) -> State {
        self.inner.engine.borrow().state()
    }

    /// Whether the token may go to `origin` (resolved as the browser will send the request).
    pub fn allows(&self, origin: &str) -> bool {
        self.inner.engine.borrow().allows(origin)
    }

    /// The access token held, without refreshing (may be past its refresh point).
    pub fn current_token(&self) -> Option<String> {
        self.inner.engine.borrow().access_token().map(str::to_owned)
    }

    /// The tokens held (for storage), with their local expiry.
    #[cfg_attr(not(all(feature = "web", target_arch = "wasm32")), allow(dead_code))]
    pub(crate) fn held(&self) -> Option<Grant> {
        let e = self.inner.engine.borrow();
        Some(Grant {
            access_token: e.access_token()?.to_owned(),
            refresh_token: e.refresh_token().map(str::to_owned),
            expires_at_ms: e.expires_at(),
            expires_in_s: None,
        })
    }

    /// When the token held expires, ms since epoch on the local clock.
    pub fn expires_at(&self) -> Option<f64> {
        self.inner.engine.borrow().expires_at()
    }

    /// When the next refresh is planned, ms since epoch on the local clock.
    pub fn next_refresh_at(&self) -> Option<f64> {
        self.inner.engine.borrow().next_refresh_at()
    }
}

/// A caller waiting for the engine to settle it; drives the refresh in flight meanwhile.
/// Once settled it keeps its outcome (polled again, it answers the same).
struct Settled {
    r: Refresher,
    id: RequestId,
    done: Option<Settlement>,
}

impl Future for Settled {
    type Output = Settlement;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Settlement> {
        if self.done.is_none() {
            let taken = self.r.inner.settled.borrow_mut().remove(&self.id);
            self.done = taken;
        }
        if self.done.is_none() {
            self.r.poll_flight(cx);
            let taken = self.r.inner.settled.borrow_mut().remove(&self.id);
            self.done = taken;
        }
        match &self.done {
            Some(outcome) => Poll::Ready(outcome.clone()),
            None => Poll::Pending,
        }
    }
}

impl Drop for Settled {
    /// A caller that went away is forgotten (it would otherwise wait in the engine).
    fn drop(&mut self) {
        if self.done.is_none() {
            if let Ok(mut e) = self.r.inner.engine.try_borrow_mut() {
                let now = (self.r.inner.clock)();
                e.cancel(self.id, now);
            }
            self.r.inner.settled.borrow_mut().remove(&self.id);
        }
    }
}

/// One sleep of [`Refresher::keep_fresh`]: drives the refresh in flight meanwhile, and ends
/// early when the engine asks for another timer or the session ends.
struct Nap<'a, SF> {
    r: Refresher,
    timer: Option<f64>,
    sleep: Pin<&'a mut SF>,
}

impl<SF: Future<Output = ()>> Future for Nap<'_, SF> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.r.inner.flight.borrow().is_some() {
            self.r.poll_flight(cx);
        }
        let timer = self.r.inner.engine.borrow().timer();
        if timer != self.timer || matches!(self.r.state(), State::Expired | State::LoggedOut) {
            return Poll::Ready(());
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(()),
            Poll::Pending => {
                // Woken too by a new flight, a new timer, or the session's end.
                self.r.inner.wakers.add(cx.waker());
                Poll::Pending
            }
        }
    }
}

/// The future of [`Refresher::refresh`]: the shared outcome of the one refresh in flight.
#[must_use = "a refresh does nothing until awaited"]
pub struct Refresh(Settled);

impl Future for Refresh {
    type Output = Result<String, TokenError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let r = self.0.r.clone();
        Pin::new(&mut self.0).poll(cx).map(|s| r.outcome(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A refresh answer the test releases by hand.
    #[derive(Clone, Default)]
    struct Gate(Rc<RefCell<(Option<Result<Grant, Failure>>, Option<Waker>)>>);

    impl Gate {
        fn open(&self, answer: Result<Grant, Failure>) {
            let mut g = self.0.borrow_mut();
            g.0 = Some(answer);
            if let Some(w) = g.1.take() {
                w.wake();
            }
        }
    }

    impl Future for Gate {
        type Output = Result<Grant, Failure>;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let mut g = self.0.borrow_mut();
            match g.0.take() {
                Some(a) => Poll::Ready(a),
                None => {
                    g.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }

    struct Counter(std::sync::atomic::AtomicUsize);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn poll<F: Future>(f: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(waker))
    }

    fn grant(token: &str, secs: f64) -> Grant {
        Grant { access_token: token.into(), refresh_token: Some(format!("r-{token}")), expires_in_s: Some(secs), ..Default::default() }
    }

    /// A refresher at a clock the test moves, whose calls are gates the test opens.
    fn rig() -> (Refresher, Rc<Cell<f64>>, Rc<RefCell<VecDeque<(RefreshContext, Gate)>>>) {
        let clock = Rc::new(Cell::new(1_000_000.0));
        let calls = Rc::new(RefCell::new(VecDeque::new()));
        let (c, k) = (clock.clone(), calls.clone());
        // A preset's call: it needs the refresh token.
        let config = Config { needs: Needs::RefreshToken, ..Config::default() };
        let r = Refresher::with_config(config, move || c.get(), move |ctx| {
            let gate = Gate::default();
            k.borrow_mut().push_back((ctx, gate.clone()));
            gate
        });
        (r, clock, calls)
    }

    #[test]
    fn a_fresh_token_is_given_without_a_refresh() {
        let (r, _, calls) = rig();
        r.set_tokens(grant("a1", 100.0));
        let mut f = std::pin::pin!(r.access_token());
        assert_eq!(poll(f.as_mut(), Waker::noop()), Poll::Ready(Ok("a1".into())));
        assert!(calls.borrow().is_empty());
    }

    #[test]
    fn concurrent_callers_share_one_refresh_and_all_are_woken() {
        let (r, clock, calls) = rig();
        r.set_tokens(grant("a1", 100.0));
        clock.set(clock.get() + 80_000.0);
        let counter = Arc::new(Counter(0.into()));
        let waker = Waker::from(counter.clone());
        let mut futs: Vec<_> = (0..100).map(|_| Box::pin(r.access_token())).collect();
        for f in &mut futs {
            assert!(poll(f.as_mut(), &waker).is_pending());
        }
        assert_eq!(calls.borrow().len(), 1, "one refresh call for 100 callers");
        assert_eq!(r.state(), State::Refreshing);
        let (ctx, gate) = calls.borrow_mut().pop_front().unwrap();
        assert_eq!(ctx.refresh_token.as_deref(), Some("r-a1"));
        gate.open(Ok(grant("a2", 100.0)));
        assert!(counter.0.load(std::sync::atomic::Ordering::SeqCst) >= 1, "the waiters were woken");
        for f in &mut futs {
            assert_eq!(poll(f.as_mut(), &waker), Poll::Ready(Ok("a2".into())));
        }
        assert!(calls.borrow().is_empty());
        assert_eq!(r.next_refresh_at(), Some(clock.get() + 80_000.0));
    }

    #[test]
    fn the_refresh_runs_on_when_the_future_that_started_it_is_dropped() {
        let (r, _, calls) = rig();
        r.set_tokens(grant("a1", 100.0));
        let mut first = Box::pin(r.refresh());
        assert!(poll(first.as_mut(), Waker::noop()).is_pending());
        drop(first);
        let mut second = std::pin::pin!(r.refresh());
        assert!(poll(second.as_mut(), Waker::noop()).is_pending());
        assert_eq!(calls.borrow().len(), 1, "the second caller joined the same call");
        calls.borrow().front().unwrap().1.open(Ok(grant("a2", 10.0)));
        assert_eq!(poll(second.as_mut(), Waker::noop()), Poll::Ready(Ok("a2".into())));
    }

    #[test]
    fn a_transient_failure_keeps_a_usable_token_and_backs_off() {
        let (r, clock, calls) = rig();
        r.set_tokens(grant("a1", 100.0));
        clock.set(clock.get() + 85_000.0);
        let mut f = Box::pin(r.access_token());
        assert!(poll(f.as_mut(), Waker::noop()).is_pending());
        calls.borrow().front().unwrap().1.open(Err(Failure::Transient { retry_after_ms: Some(2_000.0) }));
        assert_eq!(poll(f.as_mut(), Waker::noop()), Poll::Ready(Ok("a1".into())), "still good for 15 s");
        assert_eq!(r.state(), State::Fresh);
        // Past expiry, a request waits for the retry (no refresh of its own meanwhile) up
        // to the refresh timeout (15 s), then gets the transient error: the session is kept.
        clock.set(clock.get() + 20_000.0);
        let mut f = Box::pin(r.access_token());
        assert!(poll(f.as_mut(), Waker::noop()).is_pending());
        calls.borrow().get(1).unwrap().1.open(Err(Failure::Transient { retry_after_ms: Some(5_000.0) }));
        assert!(poll(f.as_mut(), Waker::noop()).is_pending(), "waits for the retry");
        let mut g = Box::pin(r.access_token());
        assert!(poll(g.as_mut(), Waker::noop()).is_pending());
        assert_eq!(calls.borrow().len(), 2, "no request starts a refresh during the backoff");
        clock.set(clock.get() + 5_000.0);
        r.wake(false); // what keep_fresh does when the backoff ends
        assert_eq!(calls.borrow().len(), 3, "the retry, one for both waiters");
        calls.borrow().get(2).unwrap().1.open(Err(Failure::Transient { retry_after_ms: Some(30_000.0) }));
        // The next retry comes after their deadline: they get the transient error at once.
        for fut in [&mut f, &mut g] {
            match poll(fut.as_mut(), Waker::noop()) {
                Poll::Ready(Err(TokenError::Transient { retry_in_ms, .. })) => assert_eq!(retry_in_ms, 30_000.0),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(r.current_token().as_deref(), Some("a1"));
    }

    #[test]
    fn a_rejection_expires_the_session_once_and_tells_the_app() {
        let (r, _, calls) = rig();
        let told = Rc::new(RefCell::new(Vec::new()));
        let t = told.clone();
        r.on_session_expired(move |reason| t.borrow_mut().push(reason.to_owned()));
        r.set_tokens(grant("a1", 100.0));
        let mut a = Box::pin(r.refresh());
        let mut b = Box::pin(r.refresh());
        assert!(poll(a.as_mut(), Waker::noop()).is_pending());
        calls.borrow().front().unwrap().1.open(Err(Failure::Rejected));
        assert_eq!(poll(a.as_mut(), Waker::noop()), Poll::Ready(Err(TokenError::Expired)));
        assert_eq!(poll(b.as_mut(), Waker::noop()), Poll::Ready(Err(TokenError::Expired)));
        assert_eq!(*told.borrow(), ["refresh-rejected"]);
        assert_eq!((r.state(), r.current_token()), (State::Expired, None));
        let mut again = std::pin::pin!(r.access_token());
        assert_eq!(poll(again.as_mut(), Waker::noop()), Poll::Ready(Err(TokenError::Expired)));
        assert_eq!(calls.borrow().len(), 1, "no refresh after the session ended");
    }

    #[test]
    fn new_tokens_or_logout_settle_the_refresh_in_flight() {
        let (r, _, calls) = rig();
        r.set_tokens(grant("a1", 100.0));
        let mut f = Box::pin(r.refresh());
        assert!(poll(f.as_mut(), Waker::noop()).is_pending());
        r.set_tokens(grant("login", 100.0));
        assert_eq!(poll(f.as_mut(), Waker::noop()), Poll::Ready(Ok("login".into())));
        calls.borrow().front().unwrap().1.open(Ok(grant("late", 10.0)));
        assert_eq!(r.current_token().as_deref(), Some("login"), "the late answer is dropped");

        let mut f = Box::pin(r.refresh());
        assert!(poll(f.as_mut(), Waker::noop()).is_pending());
        r.logout();
        assert_eq!(poll(f.as_mut(), Waker::noop()), Poll::Ready(Err(TokenError::LoggedOut)));
        assert_eq!(r.state(), State::LoggedOut);
    }

    #[test]
    fn without_tokens_there_is_no_session() {
        let (r, _, calls) = rig();
        let mut f = std::pin::pin!(r.access_token());
        assert_eq!(poll(f.as_mut(), Waker::noop()), Poll::Ready(Err(TokenError::NoSession)));
        assert!(calls.borrow().is_empty());
    }

    #[test]
    fn keep_fresh_sleeps_in_capped_steps_then_refreshes_at_80_percent() {
        // A 30-day token: every sleep is at most MAX_STEP_MS, never one overflowing delay.
        let (r, clock, calls) = rig();
        let start = clock.get();
        r.set_tokens(grant("a1", 30.0 * 86_400.0));
        let slept = Rc::new(Cell::new(0u64));
        let (c, s, k) = (clock.clone(), slept.clone(), calls.clone());
        // Each sleep passes at once until the refresh call is made; then time stands still.
        let sleep = move |ms: u32| {
            assert!(ms <= MAX_STEP_MS && ms > 0);
            let passes = k.borrow().is_empty();
            if passes {
                c.set(c.get() + ms as f64);
                s.set(s.get() + 1);
            }
            std::future::poll_fn(move |_| if passes { Poll::Ready(()) } else { Poll::Pending })
        };
        let mut timer = Box::pin(r.keep_fresh(sleep));
        assert!(poll(timer.as_mut(), Waker::noop()).is_pending(), "waiting on the refresh call");
        assert_eq!(calls.borrow().len(), 1);
        assert!(clock.get() >= start + 0.8 * 30.0 * 86_400_000.0);
        assert!(slept.get() >= (0.8 * 30.0 * 86_400_000.0 / MAX_STEP_MS as f64) as u64);
        // The session is revoked: the timer ends.
        calls.borrow().front().unwrap().1.open(Err(Failure::Rejected));
        assert_eq!(poll(timer.as_mut(), Waker::noop()), Poll::Ready(()));
    }

    /// Every event told, by name.
    /// Every event but `schedule` (told at each change of the schedule; tested on its own).
    fn events(r: &Refresher) -> Rc<RefCell<Vec<Event>>> {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let s = seen.clone();
        r.on_event(move |e| if !matches!(e, Event::Schedule { .. }) { s.borrow_mut().push(e.clone()) });
        seen
    }

    #[test]
    fn the_schedule_event_tells_each_new_schedule() {
        let (r, _, calls) = rig();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let s = seen.clone();
        r.on_event(move |e| if let Event::Schedule { next_refresh_at, .. } = e { s.borrow_mut().push(*next_refresh_at) });
        r.set_tokens(grant("a1", 100.0));
        let mut f = Box::pin(r.refresh());
        assert!(poll(f.as_mut(), Waker::noop()).is_pending());
        calls.borrow().front().unwrap().1.open(Ok(grant("a2", 10.0)));
        assert!(poll(f.as_mut(), Waker::noop()).is_ready());
        assert_eq!(*seen.borrow(), [Some(1_080_000.0), Some(1_008_000.0)]);
    }

    #[test]
    fn events_tell_refresh_refresh_error_and_logout_and_off_removes_a_listener() {
        let (r, _, calls) = rig();
        let seen = events(&r);
        let gone = Rc::new(Cell::new(0));
        let g = gone.clone();
        let id = r.on_event(move |_| g.set(g.get() + 1));
        r.off(id);
        r.set_tokens(grant("a1", 100.0));
        let mut f = Box::pin(r.refresh());
        assert!(poll(f.as_mut(), Waker::noop()).is_pending());
        calls.borrow().front().unwrap().1.open(Err(Failure::Transient { retry_after_ms: Some(2_000.0) }));
        let _ = poll(f.as_mut(), Waker::noop());
        let mut f = Box::pin(r.refresh());
        assert!(poll(f.as_mut(), Waker::noop()).is_pending());
        calls.borrow().get(1).unwrap().1.open(Ok(grant("a2", 100.0)));
        let _ = poll(f.as_mut(), Waker::noop());
        let expires_at = r.expires_at();
        assert!(expires_at.is_some());
        r.logout();
        r.logout();
        let names: Vec<_> = seen.borrow().iter().map(Event::name).collect();
        assert_eq!(names, ["refresh-error", "refresh", "logout"], "a second logout is not told");
        assert_eq!(seen.borrow()[0], Event::RefreshFailed { retry_in_ms: 2_000.0, code: "failed".into() });
        assert_eq!(seen.borrow()[1], Event::Refreshed { expires_at });
        assert_eq!(gone.get(), 0);
    }

    #[test]
    fn expire_ends_the_session_once_and_settles_waiters() {
        let (r, _, _) = rig();
        let seen = events(&r);
        r.set_tokens(grant("a1", 100.0));
        let mut f = Box::pin(r.refresh());
        assert!(poll(f.as_mut(), Waker::noop()).is_pending());
        r.expire("replay-rejected");
        r.expire("replay-rejected");
        assert_eq!(poll(f.as_mut(), Waker::noop()), Poll::Ready(Err(TokenError::Expired)));
        assert_eq!(*seen.borrow(), [Event::SessionExpired { reason: "replay-rejected" }]);
        assert_eq!((r.state(), r.current_token()), (State::Expired, None));
    }

    #[test]
    fn a_rejected_token_is_refreshed_only_while_it_is_current() {
        let (r, _, calls) = rig();
        r.set_tokens(grant("a1", 100.0));
        // Two requests refused with a1: one shared refresh.
        let mut a = Box::pin(r.token_after_rejection("a1"));
        let mut b = Box::pin(r.token_after_rejection("a1"));
        assert!(poll(a.as_mut(), Waker::noop()).is_pending());
        assert!(poll(b.as_mut(), Waker::noop()).is_pending());
        assert_eq!(calls.borrow().len(), 1);
        calls.borrow().front().unwrap().1.open(Ok(grant("a2", 100.0)));
        assert_eq!(poll(a.as_mut(), Waker::noop()), Poll::Ready(Ok("a2".into())));
        assert_eq!(poll(b.as_mut(), Waker::noop()), Poll::Ready(Ok("a2".into())));
        // A late 401 for a1 (already replaced): no refresh, the current token.
        let mut late = Box::pin(r.token_after_rejection("a1"));
        assert_eq!(poll(late.as_mut(), Waker::noop()), Poll::Ready(Ok("a2".into())));
        assert_eq!(calls.borrow().len(), 1);
    }

    #[test]
    fn keep_fresh_drives_a_refresh_whose_starter_went_away() {
        let (r, _, calls) = rig();
        r.set_tokens(grant("a1", 100.0));
        let mut started = Box::pin(r.refresh());
        assert!(poll(started.as_mut(), Waker::noop()).is_pending());
        drop(started);
        calls.borrow().front().unwrap().1.open(Ok(grant("a2", 100.0)));
        let mut timer = Box::pin(r.keep_fresh(|_| std::future::pending::<()>()));
        assert!(poll(timer.as_mut(), Waker::noop()).is_pending());
        assert_eq!((r.state(), r.current_token().as_deref()), (State::Fresh, Some("a2")));
    }

    #[test]
    fn restored_tokens_are_planned_by_what_is_left_of_them() {
        let (r, clock, _) = rig();
        let now = clock.get();
        // Stored with 10 s left: a fresh restore would plan 10 s from now; a stale one (its
        // expiresAt already past) is due at once.
        r.restore_tokens(Grant { access_token: "a1".into(), expires_at_ms: Some(now + 10_000.0), ..Default::default() });
        assert_eq!(r.expires_at(), Some(now + 10_000.0));
        r.restore_tokens(Grant { access_token: "a2".into(), expires_at_ms: Some(now - 5_000.0), ..Default::default() });
        assert!(r.next_refresh_at().is_some_and(|t| t <= now), "a stale restored token is due at once");
        assert_eq!(r.current_token().as_deref(), Some("a2"));
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let (r, _, _) = rig();
        r.set_tokens(grant("secret-token-value", 100.0));
        let shown = format!("{r:?}");
        assert!(!shown.contains("secret-token-value"), "{shown}");
        assert!(shown.contains("Fresh"));
    }
}
