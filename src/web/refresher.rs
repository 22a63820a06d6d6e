//! The web [`Refresher`]: the core [`crate::refresher::Refresher`] (session, schedule,
//! backoff, single flight) with the browser's clock, the built-in or custom refresh call,
//! storage, the timer, and the events.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsValue;

use super::options::{Options, Preset, StorageKind, TokenSet};
use super::storage::{next_epoch, Line, Record, Saved, Store};
use super::tabs::{Call, Flight, Heard, Tabs};
use super::timer::Timer;
use super::dpop::Dpop;
use super::transport::{Extras, Outcome};
use super::wake::Wake;
use super::{origins, transport, Error};
use crate::engine::option_shapes::{self, EndpointShape};
use crate::engine::preset;
use crate::engine::{Abort, Config, RefreshFailure};
use crate::refresher::{Event, Hooks, Landing, RefreshContext, Refresher as Core};
use crate::schedule::DEFAULT_LIFETIME_MS;
use crate::session::{Failure, State};

pub(crate) struct Shared {
    /// The session line: epoch, generation, the record's fields, storage (SPEC behaviour 3).
    line: Rc<Line>,
    /// The other tabs (crossTab); the refresh call reads the same slot.
    tabs: Rc<RefCell<Option<Rc<Tabs>>>>,
    /// Set while taking what another tab announced, so it is not announced back.
    quiet: Cell<bool>,
    timer: Rc<Timer>,
    /// The session listener `follow_session` added (it holds the core: removed by `dispose`).
    follower: Cell<Option<u32>>,
    /// visibilitychange, focus and online listeners (removed by `dispose`).
    wake: RefCell<Option<Wake>>,
    /// Set by `dispose`: no timer starts again.
    disposed: Cell<bool>,
    /// The refresh endpoint's URL as given (a request to it is the refresh's own traffic).
    pub(crate) endpoint_url: Option<String>,
    /// The core, for the refresh call's lock wait (`refresh_waits`); emptied by `dispose`.
    core_slot: Rc<RefCell<Option<Core>>>,
    /// DPoP (`dpop: true`): the key, kept in IndexedDB under the storageKey.
    pub(crate) dpop: Option<Rc<Dpop>>,
    /// The refresh call's answer's other fields, written by the call (`None` first) and
    /// taken as [`Refresher::token_response`] when its refresh lands.
    pending_response: Rc<RefCell<Option<JsValue>>>,
    /// The last refresh answer's other fields (`tokenResponse`).
    token_response: RefCell<Option<JsValue>>,
}

/// One session for a Rust wasm app, kept fresh on its own. Cloning gives another handle to
/// the same session (hand one to each component).
///
/// # Example
/// ```no_run
/// # #[cfg(all(feature = "web", target_arch = "wasm32"))] {
/// use freshtoken::web::{Event, Options, Preset, Refresher, TokenSet};
/// # async fn demo(login: TokenSet) -> Result<(), freshtoken::web::Error> {
/// let refresher = Refresher::new(Options::default().endpoint("/auth/refresh", Preset::Json))?;
/// refresher.set_tokens(login);
/// refresher.on(|e| if let Event::SessionExpired { .. } = e { /* show the login view */ }).forget();
/// let res = refresher.get("/api/me").await?; // Bearer attached, 401 replayed once
/// # Ok(()) }
/// # }
/// ```
#[derive(Clone)]
pub struct Refresher {
    pub(crate) core: Core,
    pub(crate) shared: Rc<Shared>,
}

/// The session clock (SPEC behaviour 2), as the npm package's `js/clock.js`: durations run
/// on the monotonic clock (`performance.now()`), so a wall clock set back or forward moves
/// no refresh point; but when the wall clock moved further than the monotonic one, the
/// machine slept (Chromium's monotonic clock stops during suspend on some systems) and that
/// time passed for the token too. It never goes backwards; its readings are close to ms
/// since epoch.
fn session_clock() -> impl Fn() -> f64 {
    let perf = web_sys::window().and_then(|w| w.performance());
    let mono = move || perf.as_ref().map_or_else(js_sys::Date::now, |p| p.now());
    // The rule (what counts as a sleep) is the engine's: `engine::session_clock`.
    let clock = Cell::new(crate::engine::session_clock::SessionClock::new(js_sys::Date::now(), mono()));
    move || {
        let mut c = clock.get();
        // The wall clock first: a pause between the two readings shortens the lead seen
        // instead of adding to it for good.
        let wall = js_sys::Date::now();
        let t = c.read(wall, mono());
        clock.set(c);
        t
    }
}

/// The engine's options from the app's: what the refresh call needs, the statuses, where
/// the token and the refresh call may go (checked: a bad entry is named).
fn config(options: &Options) -> Result<Config, Error> {
    // What the call needs and whether it reads OAuth errors: the engine's, from the preset.
    let ep = options.endpoint.as_ref().filter(|_| options.refresh.is_none());
    let rules = ep.map(|e| e.preset);
    let needs = preset::needs(rules, ep.is_some_and(|e| e.credentials.as_deref() == Some("include")));
    // The shapes the engine's numbers do not cover (empty names, the call's method and
    // credentials, OAuth settings without the oauth2 preset): the engine's words, at once.
    let endpoint = options.endpoint.as_ref().map(|e| EndpointShape {
        url: &e.url,
        method: e.method.as_deref(),
        credentials: e.credentials.as_deref(),
        preset: e.preset,
        client_id: e.client_id.as_deref(),
        scope: e.scope.as_deref(),
        revoke_url: e.revoke_url.as_deref(),
        resource: &e.resource,
    });
    option_shapes::check(options.storage_key.as_deref(), options.login_url.as_deref(), endpoint.as_ref()).map_err(Error::Options)?;
    let defaults = Config::default();
    let config = Config {
        refresh_at: options.refresh_at.unwrap_or(defaults.refresh_at),
        default_lifetime_ms: options.default_lifetime_ms.unwrap_or(DEFAULT_LIFETIME_MS),
        retry_statuses: options.retry_statuses.clone().unwrap_or(defaults.retry_statuses),
        end_session_statuses: options.end_session_statuses.clone().unwrap_or(defaults.end_session_statuses),
        origins: options.origins.clone(),
        page_origin: origins::page_origin(),
        endpoint_url: options.endpoint.as_ref().map(|e| e.url.clone()),
        refresh_timeout_ms: options.refresh_timeout_ms.unwrap_or(defaults.refresh_timeout_ms),
        needs,
        revoke: options.endpoint.as_ref().is_some_and(|e| e.preset == Preset::Oauth2 && e.revoke_url.is_some()),
        oauth: rules.is_some_and(preset::Preset::reads_oauth_errors),
        dpop: options.dpop,
        bearer_refresh: rules.is_some_and(preset::Preset::sends_bearer),
        // As `location.assign` resolves it (one the parser refuses: no URL, refused).
        login_url: options.login_url.as_deref().map(|u| origins::href_of(u).unwrap_or_default()),
        revoke_url: ep.and_then(|e| e.revoke_url.as_deref()).map(|u| origins::href_of(u).unwrap_or_default()),
    };
    config.check().map_err(|e| Error::Options(e.message()))?;
    Ok(config)
}

/// The refresh call: the app's own function, or the endpoint's preset. `why` is where the
/// engine's reason for aborting the call in flight is left for the call to hand its signal.
fn refresh_call(options: &Options, why: Rc<Cell<Option<Abort>>>, extras: Extras) -> Result<Call, Error> {
    if let Some(custom) = options.refresh.clone() {
        return Ok(Rc::new(move |ctx: RefreshContext| {
            let answer = custom(ctx);
            Box::pin(async move {
                let result = match answer.await {
                    // Checked by the engine as an answer is (an empty token, a negative expiry).
                    Ok(tokens) => transport::check_own(tokens),
                    Err(Failure::Rejected) => Err(RefreshFailure { rejected: true, code: "rejected".into(), ..Default::default() }),
                    Err(Failure::Transient { retry_after_ms }) => Err(RefreshFailure { code: "failed".into(), retry_after_ms, ..Default::default() }),
                };
                Outcome { result, date: None }
            })
        }));
    }
    let Some(endpoint) = options.endpoint.clone() else {
        return Err(Error::Options("give `endpoint` or a custom `refresh`".into()));
    };
    let endpoint = Rc::new(endpoint);
    Ok(Rc::new(move |ctx: RefreshContext| {
        let (endpoint, why, extras) = (endpoint.clone(), why.clone(), extras.clone());
        Box::pin(async move { transport::call(&endpoint, ctx, why, extras).await })
    }))
}

impl Refresher {
    /// A refresher from `options` (the npm package's names and defaults). With `tokens`, or
    /// a session found in `storage`, it starts keeping it fresh at once.
    pub fn new(options: Options) -> Result<Refresher, Error> {
        let engine_config = config(&options)?;
        // `loginUrl` visited as the engine judged it (resolved once, in `config`).
        let login_url = engine_config.login_url.clone();
        // Whether this refresher joins the other tabs is the engine's rule (SPEC 3): as asked,
        // else on with every storage but memory.
        let cross_tab = crate::engine::config::cross_tab(options.cross_tab, options.storage == StorageKind::Memory);
        let why: Rc<Cell<Option<Abort>>> = Rc::default();
        let key = options.storage_key.as_deref().unwrap_or("freshtoken");
        let core_slot: Rc<RefCell<Option<Core>>> = Rc::default();
        let dpop = options.dpop.then(|| Rc::new(Dpop::new(key, core_slot.clone())));
        let pending_response: Rc<RefCell<Option<JsValue>>> = Rc::default();
        // Where the refresh call may go is the engine's to say, asked at the send itself.
        let allowed = {
            let core_slot = core_slot.clone();
            Rc::new(move |origin: &str| core_slot.borrow().as_ref().is_some_and(|core: &Core| core.allows_refresh_to(origin)))
        };
        let extras = Extras { dpop: dpop.clone(), token_response: pending_response.clone(), allowed };
        let call = refresh_call(&options, why.clone(), extras)?;
        let store = Store::open(options.storage, key).map(Rc::new);
        let line = Rc::new(Line::new(store.clone()));
        // As js/tabs.js: the lock is waited for at most refreshTimeoutMs + 5 s, then stolen.
        let lock_wait_ms = engine_config.refresh_timeout_ms + 5_000.0;
        // The tabs are joined once the refresher exists (they tell it what they hear); the
        // refresh call finds them here.
        let tabs_slot: Rc<RefCell<Option<Rc<Tabs>>>> = Rc::default();
        let (tabs_for_call, line_for_call, core_for_call) = (tabs_slot.clone(), line.clone(), core_slot.clone());
        let pending_for_call = pending_response.clone();
        let why_for_call = why.clone();
        let core = Core::with_call(engine_config, session_clock(), move |ctx| {
            let tabs = tabs_for_call.borrow().clone();
            let (call, line, core, why) = (call.clone(), line_for_call.clone(), core_for_call.clone(), why_for_call.clone());
            // What this call's answer says besides the tokens, or nothing (another tab's record).
            pending_for_call.borrow_mut().take();
            async move {
                let out = match tabs {
                    Some(tabs) => {
                        let engine = core.clone();
                        let waits = Box::new(move |waiting| {
                            let core = core.borrow().clone();
                            if let Some(core) = core {
                                core.refresh_waits(waiting);
                            }
                        });
                        let retry_in = { let engine = engine.clone(); Box::new(move || engine.borrow().clone().and_then(|core| core.retry_in())) };
                        let held = { let engine = engine.clone(); Box::new(move || engine.borrow().clone().and_then(|core| core.held()).and_then(|g| g.refresh_token)) };
                        let take = Box::new(move |token| {
                            if let Some(core) = engine.borrow().clone() {
                                core.refresh_token_taken(token);
                            }
                        });
                        tabs.exclusive(ctx, call, Rc::new(Flight { waits, retry_in, why, held, take })).await
                    }
                    None => {
                        let out = call(ctx).await;
                        if let Ok((tokens, _)) = &out.result {
                            line.set_saved(Saved { expires_at: tokens.expires_at, expires_in: tokens.expires_in, received_at: js_sys::Date::now() });
                        }
                        out
                    }
                };
                Landing { result: Some(out.result.map(|(tokens, problems)| (tokens.into(), problems))), date: out.date }
            }
        });
        *core_slot.borrow_mut() = Some(core.clone());
        // The browser's wall clock and Math.random; the abort reason for the call's signal;
        // where the refresh call goes now (a relative URL moves with <base href>).
        let endpoint_url = options.refresh.is_none().then(|| options.endpoint.as_ref().map(|e| e.url.clone())).flatten();
        core.set_hooks(Hooks {
            wall: Some(Box::new(js_sys::Date::now)),
            random: Some(Box::new(js_sys::Math::random)),
            on_abort: Some(Box::new(move |reason| why.set(Some(reason)))),
            refresh_origin: endpoint_url.clone().map(|url| Box::new(move || origins::origin_of(&url)) as Box<dyn Fn() -> Option<String>>),
            on_revoke: revoke_hook(&options, dpop.clone()),
        });
        let shared = Rc::new(Shared {
            line: line.clone(),
            tabs: tabs_slot,
            quiet: Cell::new(false),
            timer: Rc::default(),
            follower: Cell::new(None),
            wake: RefCell::new(None),
            disposed: Cell::new(false),
            endpoint_url,
            core_slot,
            dpop,
            pending_response,
            token_response: RefCell::new(None),
        });
        let refresher = Refresher { core, shared };
        if cross_tab {
            let weak = Rc::downgrade(&refresher.shared);
            let core = refresher.core.clone();
            let tabs = Tabs::join(key, line, lock_wait_ms, move |heard| {
                if let Some(shared) = weak.upgrade() {
                    Refresher { core: core.clone(), shared }.hear(heard);
                }
            });
            *refresher.shared.tabs.borrow_mut() = tabs;
        }
        // The URL judged (checked above): a `<base href>` injected later does not move it.
        refresher.follow_session(login_url);
        // The page waking up or coming back online: the engine looks again, and the timer
        // loop restarts so that a refresh it starts is driven at once.
        let (weak, core) = (Rc::downgrade(&refresher.shared), refresher.core.clone());
        *refresher.shared.wake.borrow_mut() = Some(Wake::listen(move |online| {
            if let Some(shared) = weak.upgrade().filter(|s| !s.disposed.get()) {
                core.wake(online);
                shared.timer.restart(&core);
            }
        }));
        if let Some(tokens) = options.tokens.clone() {
            refresher.set_tokens(tokens);
        } else {
            refresher.restore();
        }
        // A tab opened later asks the others for the session (js/tabs.js `hello`).
        if let Some(tabs) = refresher.tabs() {
            tabs.hello();
        }
        Ok(refresher)
    }

    /// Takes the session found in storage, if any (a logout marker: its epoch).
    fn restore(&self) {
        let Some(rec) = self.shared.line.store.as_ref().and_then(|s| s.load()) else { return };
        if rec.is_out() {
            // A logout marker: this tab starts at its epoch (one the protocol could make).
            if self.epochs().takes_logout(rec.epoch()) {
                self.shared.line.set_epoch(rec.epoch());
            }
        } else {
            self.adopt(&rec, false);
        }
    }

    fn tabs(&self) -> Option<Rc<Tabs>> {
        self.shared.tabs.borrow().clone()
    }

    /// The session as stored and shared between tabs (`_record`), or `None` without a token.
    fn record(&self) -> Option<Record> {
        let held = self.core.held()?;
        Some(self.shared.line.record(held.access_token, held.refresh_token))
    }

    /// Stores the session held (`_sync`): after every change of the tokens.
    fn sync(&self) {
        if let Some(rec) = self.record() {
            self.shared.line.persist(&rec);
        }
    }

    /// A session record from storage or another tab (`_adopt`): taken only when newer than
    /// the session held (SPEC behaviour 3). Says whether it was taken.
    /// This tab's place in the cross-tab protocol, for the engine's decisions (`engine::tabs`).
    fn epochs(&self) -> crate::engine::tabs::Epochs {
        crate::engine::tabs::Epochs { epoch: self.shared.line.epoch(), gen: self.shared.line.gen() }
    }

    fn adopt(&self, rec: &Record, from_other_tab: bool) -> bool {
        let line = &self.shared.line;
        if rec.is_out() || self.shared.disposed.get() {
            return false;
        }
        let Some(tokens) = rec.tokens() else { return false };
        let (epoch, gen) = (rec.epoch(), rec.gen());
        if !self.epochs().adopts(false, true, rec.epoch, rec.gen, self.core.current_token().is_some()) {
            return false;
        }
        let now = js_sys::Date::now();
        let received = rec.received_at.map_or(now, |t| t.min(now));
        let was = line.snapshot();
        line.set_epoch(epoch);
        line.set_gen(gen);
        line.set_saved(Saved { expires_at: tokens.expires_at, expires_in: tokens.expires_in, received_at: received });
        // Restored (read on the server's clock) only when the record does not say when its
        // tokens were received; every record written by either face does.
        if self.core.try_set_tokens_received(tokens.into(), rec.received_at.is_none(), received).is_err() {
            line.restore(was);
            return false; // a record with a malformed token: not adopted
        }
        if let Some(tabs) = self.tabs() {
            tabs.took(rec);
        }
        self.shared.timer.restart(&self.core);
        if from_other_tab {
            // Another tab's answer: its other fields are that tab's (none here).
            self.shared.pending_response.borrow_mut().take();
            self.core.emit(&Event::Refreshed { expires_at: self.core.expires_at() });
        }
        true
    }

    /// What another tab said (`js/tabs.js` `receive`): checked against this tab's epoch,
    /// taken quietly (not told back).
    fn hear(&self, heard: Heard) {
        if self.shared.disposed.get() {
            return;
        }
        let line = &self.shared.line;
        match heard {
            Heard::Tokens(rec) => {
                // `!(rec.epoch >= epoch)`: a late answer from a session this tab has left is
                // dropped, and storage (which the late writer may have just overwritten) is
                // put back to this tab's newer epoch.
                if self.epochs().is_left(rec.epoch) {
                    line.persist(&self.record().unwrap_or_else(|| Record::out(line.epoch())));
                    return;
                }
                self.adopt(&rec, true);
            }
            Heard::Hello => {
                if let (Some(tabs), Some(rec)) = (self.tabs(), self.record()) {
                    tabs.announce(&rec);
                }
            }
            Heard::Logout(epoch) => self.logout_at(epoch, false),
            Heard::Expired { reason, epoch } if self.epochs().takes_end(Some(epoch)) => {
                let reason = match reason.as_str() {
                    "refresh-rejected" => "refresh-rejected",
                    "no-refresh-token" => "no-refresh-token",
                    "client-rejected" => "client-rejected",
                    _ => "request-rejected",
                };
                self.shared.quiet.set(true);
                self.core.expire(reason);
                self.shared.quiet.set(false);
            }
            Heard::Expired { .. } => {}
        }
    }

    /// Logs out as epoch `epoch` (`_logout`): storage keeps only `{out: true, epoch}`; `here`
    /// tells the other tabs.
    fn logout_at(&self, epoch: f64, here: bool) {
        let line = &self.shared.line;
        if self.shared.disposed.get() || !self.epochs().takes_logout(epoch) {
            return;
        }
        line.set_epoch(epoch);
        line.persist(&Record::out(epoch));
        if let (true, Some(tabs)) = (here, self.tabs()) {
            tabs.logout(epoch);
        }
        self.shared.timer.stop();
        self.shared.quiet.set(!here);
        if here {
            self.core.logout();
        } else {
            self.core.logout_heard();
        }
        self.shared.quiet.set(false);
    }

    /// Storage, the other tabs and `loginUrl` follow the session's events.
    fn follow_session(&self, login_url: Option<String>) {
        let weak = Rc::downgrade(&self.shared);
        let core = self.core.clone();
        let id = self.core.on_event(move |event| {
            let Some(shared) = weak.upgrade() else { return };
            let me = Refresher { core: core.clone(), shared };
            match event {
                // The session ended here or in another tab (`_sessionEnded`): the marker
                // stored; told to the other tabs unless they told this one.
                Event::SessionExpired { reason } => {
                    me.forget_answer();
                    let epoch = me.shared.line.epoch();
                    me.shared.line.persist(&Record::out(epoch));
                    if let (false, Some(tabs)) = (me.shared.quiet.get(), me.tabs()) {
                        tabs.expired(reason, epoch);
                    }
                    if let (Some(url), Some(w)) = (&login_url, web_sys::window()) {
                        let _ = w.location().assign(url);
                    }
                }
                // Logout stored its marker itself (`logout_at`); the DPoP key is deleted (here
                // and in the tabs that heard: the next proof makes a new one).
                Event::LoggedOut => {
                    me.forget_answer();
                    if let Some(d) = &me.shared.dpop {
                        d.drop_key();
                    }
                }
                // A refresh landed: its answer's other fields are the tokenResponse now.
                Event::Refreshed { .. } => {
                    let taken = me.shared.pending_response.borrow_mut().take();
                    *me.shared.token_response.borrow_mut() = taken;
                    me.sync();
                }
                // New tokens, a refresh, or a failure that brought a rotated refresh token.
                _ => me.sync(),
            }
        });
        self.shared.follower.set(Some(id));
    }

    /// The session is over (logout, its end, dispose): the last refresh answer's other fields
    /// (an `id_token`, say) go with its tokens, as the npm face wipes `tokenResponse`.
    fn forget_answer(&self) {
        self.shared.token_response.borrow_mut().take();
        self.shared.pending_response.borrow_mut().take();
    }

    /// Takes new tokens (after login): a new session, kept fresh from now on (and, with
    /// `crossTab`, in every tab).
    ///
    /// Tokens without `expires_in` may have waited since they were issued (restored by the
    /// app): they are read on the server's clock, as a stored session is. Tokens the core
    /// refuses (an empty token, a JWT whose expiry claim is malformed) change nothing; see
    /// [`Refresher::try_set_tokens`]. After [`Refresher::dispose`] nothing is taken.
    pub fn set_tokens(&self, tokens: TokenSet) {
        let _ = self.try_set_tokens(tokens);
    }

    /// [`Refresher::set_tokens`] that says whether the tokens were taken
    /// ([`Error::Tokens`] when refused, the session held untouched; `disposed`, code
    /// `"disposed"`, after [`Refresher::dispose`]).
    pub fn try_set_tokens(&self, tokens: TokenSet) -> Result<(), Error> {
        if self.shared.disposed.get() {
            // A disposed refresher takes no session and starts nothing, and says so (the
            // engine's `Refused::Disposed`).
            return Err(Error::Token(crate::refresher::TokenError::Disposed));
        }
        let restored = tokens.expires_in.is_none();
        // A new session epoch (set first: the record stored on the way carries it).
        let line = &self.shared.line;
        let was = line.snapshot();
        let epoch = next_epoch(line.epoch().max(line.gen()));
        line.set_epoch(epoch);
        line.set_gen(epoch);
        line.set_saved(Saved { expires_at: tokens.expires_at, expires_in: tokens.expires_in, received_at: js_sys::Date::now() });
        if self.core.try_set_tokens(tokens.into(), restored).is_err() {
            line.restore(was);
            return Err(Error::Tokens("an empty token, or a JWT whose expiry claim is malformed".into()));
        }
        if let (Some(tabs), Some(rec)) = (self.tabs(), self.record()) {
            tabs.announce(&rec);
        }
        self.shared.timer.restart(&self.core);
        Ok(())
    }

    /// Sends a login `request` with plain `fetch` (no token) and takes the tokens of its JSON
    /// answer (`accessToken`, `refreshToken`, `expiresIn`, `expiresAt`) as a new session.
    pub async fn login(&self, request: &web_sys::Request) -> Result<(), Error> {
        let res = super::send(request).await?;
        if !res.ok() {
            return Err(Error::Fetch(format!("the login answered HTTP {}", res.status())));
        }
        self.set_tokens(TokenSet::from_response(&res).await?);
        Ok(())
    }

    /// A token not past its refresh point, refreshing first (once, shared) when needed.
    pub async fn access_token(&self) -> Result<String, Error> {
        Ok(self.core.access_token().await?)
    }

    /// Forces a refresh; concurrent callers share one call.
    pub async fn refresh(&self) -> Result<String, Error> {
        Ok(self.core.refresh().await?)
    }

    /// Ends the session (callers waiting on a refresh get `logged-out`) and stops the timer.
    pub fn logout(&self) {
        let line = &self.shared.line;
        self.logout_at(next_epoch(line.epoch().max(line.gen())), true);
    }

    /// Stops the timer and leaves the other tabs; the session is kept in storage for the
    /// next page. Every request and caller still waiting fails with `disposed`, the refresh
    /// call in flight is aborted, and nothing starts again (new tokens are not taken).
    pub fn dispose(&self) {
        self.shared.disposed.set(true);
        self.shared.timer.stop();
        self.core.dispose();
        self.shared.wake.borrow_mut().take();
        // The listener holds a handle to the core, which holds the listener: let both go.
        if let Some(id) = self.shared.follower.take() {
            self.core.off(id);
        }
        if let Some(tabs) = self.shared.tabs.borrow_mut().take() {
            tabs.close();
        }
        self.shared.core_slot.borrow_mut().take();
        self.forget_answer();
    }

    /// Listens to the session's events; dropping the [`Subscription`] unsubscribes.
    #[must_use = "dropping the Subscription unsubscribes at once; call .forget() to keep it"]
    pub fn on(&self, f: impl Fn(&Event) + 'static) -> Subscription {
        Subscription { core: self.core.clone(), id: Some(self.core.on_event(f)) }
    }

    /// Where the session stands.
    pub fn state(&self) -> State {
        self.core.state()
    }

    /// The token held, without refreshing.
    pub fn current_token(&self) -> Option<String> {
        self.core.current_token()
    }

    /// When the token held expires, ms since epoch.
    pub fn expires_at(&self) -> Option<f64> {
        self.core.expires_at()
    }

    /// When the next refresh is planned, ms since epoch.
    pub fn next_refresh_at(&self) -> Option<f64> {
        self.core.next_refresh_at()
    }

    /// The session clock now, ms: the scale of [`Refresher::expires_at`],
    /// [`Refresher::next_refresh_at`] and the events' times (close to `Date.now()`, but it
    /// never goes back and counts a sleep the monotonic clock missed).
    pub fn now(&self) -> f64 {
        self.core.now()
    }

    /// A DPoP proof (RFC 9449) for a call the app makes itself with this refresher's key:
    /// the login's code exchange, so that the session's tokens are bound to the key the
    /// refresher then uses. `nonce`: the one the server just asked for (`use_dpop_nonce`);
    /// without it, the origin's last `DPoP-Nonce` this refresher saw. Needs `dpop: true`.
    pub async fn dpop_proof(&self, method: &str, url: &str, nonce: Option<&str>) -> Result<String, Error> {
        if self.shared.disposed.get() {
            return Err(Error::Token(crate::refresher::TokenError::Disposed));
        }
        let Some(d) = self.shared.dpop.clone() else {
            return Err(Error::Options("dpop_proof() needs the option dpop: true".into()));
        };
        d.proof(method, url, None, nonce, None).await
    }

    /// The last refresh answer's fields other than the tokens (`id_token`, `scope`,
    /// `token_type`, `expires_in`, any extension), as the npm face's `tokenResponse`: a plain
    /// JS object (a copy: changing it changes nothing here), read with `js_sys::Reflect` or
    /// `serde_wasm_bindgen::from_value`. `None` before the first refresh, after a custom
    /// `refresh` (it returns only tokens), after a refresh that came from another tab, and
    /// once disposed. Updated before the [`Event::Refreshed`] listeners run.
    pub fn token_response(&self) -> Option<JsValue> {
        if self.shared.disposed.get() {
            return None;
        }
        let held = self.shared.token_response.borrow().clone()?;
        js_sys::JSON::stringify(&held).ok().and_then(|t| js_sys::JSON::parse(&String::from(t)).ok())
    }

    /// The pure core underneath, for what the web face does not wrap.
    pub fn core(&self) -> &Core {
        &self.core
    }
}

/// A listener added by [`Refresher::on`]; removed when dropped.
#[must_use = "dropping the Subscription unsubscribes at once; call .forget() to keep it"]
pub struct Subscription {
    core: Core,
    id: Option<u32>,
}

impl Subscription {
    /// Keeps listening for the refresher's whole life.
    pub fn forget(mut self) {
        self.id = None;
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.core.off(id);
        }
    }
}

/// A [`Failure`] that may pass (network, 5xx): back off and retry.
pub const TRANSIENT: Failure = Failure::Transient { retry_after_ms: None };

/// The revocation of a logout (RFC 7009), with `endpoint.revokeUrl`: best effort, bounded by
/// `refreshTimeoutMs`, only where the refresh token may go (the engine says).
fn revoke_hook(options: &Options, dpop: Option<Rc<Dpop>>) -> Option<Box<dyn Fn(String, &dyn Fn(&str) -> bool)>> {
    let ep = options.endpoint.clone().filter(|e| e.preset == Preset::Oauth2 && e.revoke_url.is_some())?;
    let timeout_ms = options.refresh_timeout_ms.unwrap_or(Config::default().refresh_timeout_ms);
    Some(Box::new(move |token: String, allowed: &dyn Fn(&str) -> bool| {
        // Resolved once and sent there (the DPoP proof is awaited first: a `<base href>`
        // injected meanwhile must not move a relative revokeUrl after it was judged).
        let Some((url, _)) = ep.revoke_url.as_deref().and_then(origins::resolved).filter(|(_, o)| allowed(o)) else {
            return; // it resolves where the refresh token may not go: not revoked
        };
        // With DPoP the key is taken now, before the logout that follows deletes it.
        let proof_key = dpop.as_ref().map(|d| (d.clone(), d.held()));
        let ep = ep.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let proof = match proof_key {
                Some((d, Some(key))) => d.proof("POST", &url, None, None, Some(key)).await.ok(),
                _ => None,
            };
            super::transport::revoke(ep, url, token, timeout_ms, proof).await;
        });
    }))
}
