//! The engine: every rule of a refresher's session, sans I/O, in the style of
//! matrix-sdk-crypto's `OlmMachine` and quinn-proto. The face (the npm package's JS, the
//! `web` feature) turns what happens in the browser into calls here — tokens set, a request
//! about to be sent (with the origin the browser will send it to), its answer, a refresh
//! call's outcome, a timer, `online`, a `Date` header — each with `now`, and carries out
//! the [`Output`]s it then drains with [`Engine::poll`]: start or abort the refresh call,
//! send a request with this token (or untouched), hand an answer back, settle a caller,
//! emit an event, aim the timer. Nothing here does I/O or reads a clock, so every rule is
//! proven on a virtual clock by `cargo test` (tests/engine_conformance.rs runs the
//! conformance table of tests/scenarios/).
//!
//! Rules owned here: the session (schedule, floors, backoff, state: [`crate::session`]),
//! the single flight and the fate of every waiting request and caller ([`waiters`]), the
//! replay-once and 403 rules, the session line a request belongs to (a logout while it
//! waits settles it, never with the next login's token), where the token and the refresh
//! call may go ([`origins`]), the server clock ([`server_clock`], [`http_date`]), the
//! option checks ([`Config::check`]), and the presets: the request each sends
//! ([`preset`]) and how its answer is read ([`answer`], [`oauth_error`]).

pub mod answer;
pub mod config;
pub mod dpop;
pub mod http_date;
pub mod oauth_error;
pub mod option_shapes;
pub mod origins;
pub mod preset;
pub mod refresh_status;
pub mod server_clock;
pub mod session_clock;
pub mod tabs;
mod waiters;

pub use config::{Config, ConfigError, Needs};
use origins::Origins;
use server_clock::ServerClock;
use waiters::{Kind, Waiter};

use std::fmt;

use crate::redacted::Hidden;
use crate::schedule::Policy;
use crate::session::{BadClaim, Failure, FailureOutcome, Grant, Landed, Session, State};
use crate::token;

/// Why [`Engine::set_tokens`] refused tokens (nothing changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// An empty token, or an access token whose expiry claim is malformed (or a JWT-shaped
    /// token the decoder refuses).
    BadClaim,
    /// The refresher was disposed: it takes no session and starts nothing.
    Disposed,
    /// A token longer than any the decoder reads (256 KiB, [`crate::token::MAX_TOKEN_LEN`]):
    /// refused rather than kept (and copied into every request).
    TooLarge,
}

/// Names a request or caller for as long as the engine knows it; chosen by the face.
pub type RequestId = u64;

/// Which error class a settled caller gets (the npm package's classes of the same name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// The session is over, absent, or ended while the caller waited.
    Session,
    /// A refresh failed (transiently) or a wait outlasted `refreshTimeoutMs`.
    Refresh,
    /// The refresher was disposed.
    Freshtoken,
}

/// Why a caller was settled without a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed {
    /// The error's class.
    pub class: ErrorClass,
    /// Its stable code (`logged-out`, `session-expired`, `no-session`, `timeout`, a refresh
    /// failure's code, `disposed`).
    pub code: String,
    /// True when a request's wait outlasted `refreshTimeoutMs`.
    pub late: bool,
    /// The HTTP status of the refresh failure it reports, if any.
    pub status: Option<u16>,
}

impl Failed {
    fn session(code: &str) -> Failed {
        Failed { class: ErrorClass::Session, code: code.to_owned(), late: false, status: None }
    }
}

/// Why the refresh call in flight must be aborted (its `signal`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abort {
    /// New tokens, a logout or a session end replaced its session.
    Superseded,
    /// The refresher was disposed.
    Disposed,
    /// It did not answer within `refreshTimeoutMs`: a transient `timeout` failure.
    Timeout,
}

/// What the app is told.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// New tokens arrived by a refresh.
    Refresh,
    /// A refresh failed transiently, or its answer was taken only in part: `code` says
    /// why, the next attempt is in `retry_in_ms`, `attempt` counts consecutive failures.
    RefreshError {
        /// The failure's code.
        code: String,
        /// ms until the next automatic attempt.
        retry_in_ms: f64,
        /// Consecutive failures so far.
        attempt: u32,
    },
    /// The session is over (told once): `refresh-rejected`, `client-rejected` (an OAuth
    /// client-configuration error), `no-refresh-token`, `request-rejected`.
    SessionExpired {
        /// Why.
        reason: &'static str,
    },
    /// The app logged out a session that existed.
    Logout,
    /// The schedule changed (read [`Engine::expires_at`] and [`Engine::next_refresh_at`]).
    Schedule,
    /// A replay with a fresh token was refused again by a status that does not end the session.
    Forbidden {
        /// That status.
        status: u16,
    },
}

/// What the face must do, in order. Its `Debug` never shows a token.
#[derive(Clone, PartialEq)]
pub enum Output {
    /// Make the refresh call now with these tokens (captured when the flight started; never
    /// read again later), then report it with [`Engine::refresh_answered`] or
    /// [`Engine::refresh_failed`].
    StartRefresh {
        /// Names this flight.
        ticket: u32,
        /// The access token to send (presets that send it).
        access_token: Option<String>,
        /// The refresh token to send.
        refresh_token: Option<String>,
    },
    /// Abort the refresh call in flight (its `signal`); its outcome will be ignored.
    AbortRefresh {
        /// The flight.
        ticket: u32,
        /// Why.
        reason: Abort,
    },
    /// Send request `id` now, with `Authorization: Bearer <token>`, or untouched (`None`).
    /// A send with a token is answered through [`Engine::response`].
    Send {
        /// The request.
        id: RequestId,
        /// The token to attach, or none.
        token: Option<String>,
        /// True when this is the one replay.
        replay: bool,
    },
    /// Hand request `id`'s last answer back to its caller.
    Return {
        /// The request.
        id: RequestId,
    },
    /// Resolve caller `id` (`getAccessToken`, `refresh`) with this token.
    Token {
        /// The caller.
        id: RequestId,
        /// The token.
        token: String,
    },
    /// Settle request or caller `id` with an error.
    Fail {
        /// The request or caller.
        id: RequestId,
        /// The error.
        error: Failed,
    },
    /// Tell the app.
    Event(Event),
    /// Revoke this refresh token at the provider (RFC 7009), best effort: the app logged
    /// out in this tab and a revocation endpoint is configured.
    Revoke {
        /// The refresh token the session held.
        refresh_token: String,
    },
    /// Call [`Engine::timeout`] at this instant (session clock); `None`: no timer needed.
    Timer(Option<f64>),
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::StartRefresh { ticket, access_token, refresh_token } => f
                .debug_struct("StartRefresh")
                .field("ticket", ticket)
                .field("access_token", &Hidden(access_token.as_deref()))
                .field("refresh_token", &Hidden(refresh_token.as_deref()))
                .finish(),
            Output::AbortRefresh { ticket, reason } => f.debug_struct("AbortRefresh").field("ticket", ticket).field("reason", reason).finish(),
            Output::Send { id, token, replay } => f.debug_struct("Send").field("id", id).field("token", &Hidden(token.as_deref())).field("replay", replay).finish(),
            Output::Return { id } => f.debug_struct("Return").field("id", id).finish(),
            Output::Token { id, token } => f.debug_struct("Token").field("id", id).field("token", &Hidden::of(token)).finish(),
            Output::Fail { id, error } => f.debug_struct("Fail").field("id", id).field("error", error).finish(),
            Output::Event(e) => f.debug_tuple("Event").field(e).finish(),
            Output::Revoke { refresh_token } => f.debug_struct("Revoke").field("refresh_token", &Hidden::of(refresh_token)).finish(),
            Output::Timer(at) => f.debug_tuple("Timer").field(at).finish(),
        }
    }
}

/// What the face knows of a request about to be sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// The origin the browser will send it to (resolved by the face exactly as the browser
    /// resolves it); `None` when it does not parse or is opaque.
    pub origin: Option<String>,
    /// The caller set its own non-Bearer `Authorization` (Basic, ...): theirs, left alone.
    pub own_credentials: bool,
    /// The request belongs to a refresh call (never held, never replayed).
    pub refresh_traffic: bool,
    /// The request opted out of refresh-and-replay (`skipAuthRefresh`).
    pub skip_replay: bool,
}

/// How a refresh call failed, as the face saw it. Its `Debug` never shows the rotated
/// refresh token.
#[derive(Clone, Default, PartialEq)]
pub struct RefreshFailure {
    /// The server refused the session (400/401/403, or `sessionExpired` from the app's function).
    pub rejected: bool,
    /// The failure's code (`network`, `timeout`, `http`, `bad-response`, ...).
    pub code: String,
    /// The HTTP status, if one came.
    pub status: Option<u16>,
    /// The server's `Retry-After`, in ms.
    pub retry_after_ms: Option<f64>,
    /// A rotated refresh token that came with an unusable answer: kept, never spent twice.
    pub rotated_refresh_token: Option<String>,
    /// The OAuth `error` code of the answer (RFC 6749 §5.2), if it had one.
    pub oauth_error: Option<String>,
}

impl fmt::Debug for RefreshFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshFailure")
            .field("rejected", &self.rejected)
            .field("code", &self.code)
            .field("status", &self.status)
            .field("retry_after_ms", &self.retry_after_ms)
            .field("rotated_refresh_token", &Hidden(self.rotated_refresh_token.as_deref()))
            .field("oauth_error", &self.oauth_error)
            .finish()
    }
}

/// A request sent with a token, until its answer (its `Debug` without the token).
#[derive(Clone)]
struct InAir {
    id: RequestId,
    token: String,
    line: u32,
    replay: bool,
    skip: bool,
    /// Its one DPoP nonce retry is spent (it lasts the whole request, its replay included).
    nonce_spent: bool,
}

impl fmt::Debug for InAir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InAir")
            .field("id", &self.id)
            .field("token", &Hidden::of(&self.token))
            .field("line", &self.line)
            .field("replay", &self.replay)
            .field("skip", &self.skip)
            .field("nonce_spent", &self.nonce_spent)
            .finish()
    }
}

/// One refresher's session and every rule around it.
#[derive(Debug)]
pub struct Engine {
    cfg: Config,
    origins: Origins,
    session: Session,
    clock: ServerClock,
    /// Bumped when a session ends (logout, expiry): a request belongs to the line it began in.
    line: u32,
    ended: &'static str,
    flight: Option<u32>,
    /// When the refresh call in flight times out (`refreshTimeoutMs` after it started).
    flight_deadline: f64,
    /// The refresh call in flight spent its one DPoP nonce retry.
    flight_nonce_spent: bool,
    last_error: Option<(String, Option<u16>)>,
    waiters: Vec<Waiter>,
    in_air: Vec<InAir>,
    out: Outputs,
    timer: Option<f64>,
    disposed: bool,
    /// The DPoP nonces this refresher's servers gave.
    nonces: dpop::Nonces,
}

impl Engine {
    /// An engine with no session, after checking `cfg` ([`Config::check`]).
    pub fn new(cfg: Config) -> Result<Engine, ConfigError> {
        let origins = cfg.check()?;
        let policy = Policy::new(cfg.refresh_at, cfg.default_lifetime_ms).map_err(|_| ConfigError::RefreshAt(cfg.refresh_at))?;
        Ok(Engine {
            cfg,
            origins,
            session: Session::new(policy),
            clock: ServerClock::default(),
            line: 0,
            ended: "logged-out",
            flight: None,
            flight_deadline: f64::INFINITY,
            flight_nonce_spent: false,
            last_error: None,
            waiters: Vec::new(),
            in_air: Vec::new(),
            out: Outputs::default(),
            timer: None,
            disposed: false,
            nonces: dpop::Nonces::default(),
        })
    }

    /// The next thing to do, in order; `None` when there is nothing left.
    pub fn poll(&mut self) -> Option<Output> {
        self.out.next()
    }

    /// Whether `poll` has an output to give (a face may stop polling when it has none).
    pub fn pending(&self) -> bool {
        self.out.read < self.out.queue.len()
    }

    // --- what the face reads ---------------------------------------------------------

    /// Where the session stands.
    pub fn state(&self) -> State {
        if self.disposed { State::LoggedOut } else { self.session.state() }
    }
    /// The session (its schedule, failures, backoff).
    pub fn session(&self) -> &Session {
        &self.session
    }
    /// The access token held.
    pub fn access_token(&self) -> Option<&str> {
        self.session.access_token()
    }
    /// The refresh token held.
    pub fn refresh_token(&self) -> Option<&str> {
        self.session.refresh_token()
    }
    /// When the token expires (session clock).
    pub fn expires_at(&self) -> Option<f64> {
        self.session.expires_at()
    }
    /// When the next refresh is planned (session clock).
    pub fn next_refresh_at(&self) -> Option<f64> {
        self.session.next_refresh_at()
    }
    /// Whether the token may go to `origin` (the face resolved it as the browser will send).
    pub fn allows(&self, origin: &str) -> bool {
        self.origins.allows(origin)
    }
    /// Whether the refresh call may go to `origin`, where `endpoint.url` resolves now.
    pub fn allows_refresh_to(&self, origin: &str) -> bool {
        self.origins.allows_refresh_to(origin)
    }
    /// The server's clock at local wall time `wall`, as best known.
    pub fn server_now(&self, wall: f64) -> f64 {
        self.clock.now(wall)
    }
    /// When the timer should call [`Engine::timeout`] (the last [`Output::Timer`]).
    pub fn timer(&self) -> Option<f64> {
        self.timer
    }
    /// The earliest a refresh may begin other than at the app's request (the end of a
    /// backoff, or the one-second floor), when something holds attempts back.
    pub fn next_attempt_at(&self) -> Option<f64> {
        self.session.next_attempt_at()
    }

    // --- inputs ----------------------------------------------------------------------

    /// New tokens from the app (after login): a new session epoch. `restored`: the tokens may
    /// have waited since they were issued (no `expiresIn` from a fresh answer): an expiry
    /// already past by the server's clock makes them due at once. A refresh in flight for
    /// the previous session is aborted; its callers get the new token.
    pub fn set_tokens(&mut self, grant: Grant, restored: bool, now: f64, wall: f64) -> Result<(), Refused> {
        self.set_tokens_received(grant, restored, now, wall, now)
    }

    /// [`Engine::set_tokens`] for tokens received earlier than `now`: at `received` on the
    /// session clock, `wall` on the wall clock (a record from storage or another tab). Their
    /// schedule counts from then; what waits is decided at `now`.
    pub fn set_tokens_received(&mut self, grant: Grant, restored: bool, received: f64, wall: f64, now: f64) -> Result<(), Refused> {
        if self.disposed {
            // A disposed refresher takes no session: said, not swallowed (a login that
            // lands after the component went away must not look as if it was kept).
            return Err(Refused::Disposed);
        }
        if grant.access_token.is_empty() || grant.refresh_token.as_deref() == Some("") {
            return Err(Refused::BadClaim);
        }
        let max = crate::token::MAX_TOKEN_LEN;
        if grant.access_token.len() > max || grant.refresh_token.as_ref().is_some_and(|r| r.len() > max) {
            return Err(Refused::TooLarge);
        }
        let server = restored.then(|| self.clock.now(wall));
        self.session.set_tokens_at(grant, received, wall, server).map_err(|BadClaim| Refused::BadClaim)?;
        self.drop_flight(Abort::Superseded);
        self.out.push(Output::Event(Event::Schedule));
        self.pump(now);
        Ok(())
    }

    /// The app logged out: every waiting request of this session is settled without a token.
    pub fn logout(&mut self, now: f64) {
        self.logout_here(true, now);
    }

    /// [`Engine::logout`]; `here` false when another tab logged out (that tab revokes).
    pub fn logout_here(&mut self, here: bool, now: f64) {
        if self.disposed {
            return;
        }
        if let Some(refresh_token) = self.session.refresh_token().filter(|_| here && self.cfg.revoke) {
            self.out.push(Output::Revoke { refresh_token: refresh_token.to_owned() });
        }
        self.end_line("logged-out");
        let had = self.session.logout();
        self.drop_flight(Abort::Superseded);
        if had {
            self.out.push(Output::Event(Event::Logout));
        }
        self.pump(now);
    }

    /// The session is over because a request was refused again right after a refresh, or
    /// another tab said so: told once.
    pub fn expire(&mut self, reason: &'static str, now: f64) {
        if self.disposed || !self.session.expire() {
            return;
        }
        self.end_line("session-expired");
        self.drop_flight(Abort::Superseded);
        self.out.push(Output::Event(Event::SessionExpired { reason }));
        self.pump(now);
    }

    /// The app asks for a refresh (`refresh()`): caller `id` shares the flight in progress or
    /// starts one, and is settled when it ends.
    pub fn refresh(&mut self, id: RequestId, now: f64) {
        if self.disposed {
            return self.fail(id, Failed { class: ErrorClass::Freshtoken, code: "disposed".into(), late: false, status: None });
        }
        if self.flight.is_none() {
            if self.session.state() == State::Idle && !self.can_refresh() {
                return self.fail(id, Failed::session("no-session"));
            }
            if let Err(e) = self.start_refresh(now) {
                return self.fail(id, e);
            }
        }
        self.waiters.push(Waiter { id, kind: Kind::Refresh, line: self.line, deadline: f64::INFINITY });
        self.rearm(now);
    }

    /// Caller `id` wants a token not past its refresh point (`getAccessToken`).
    pub fn get_token(&mut self, id: RequestId, now: f64) {
        if self.disposed {
            return self.fail(id, Failed { class: ErrorClass::Freshtoken, code: "disposed".into(), late: false, status: None });
        }
        self.wait(id, Kind::Token, self.line, now);
    }

    /// Caller `id` holds `used`, which a server refused: it wants another token to retry
    /// with, refreshing (shared) only while `used` is still the session's. Answered with
    /// [`Output::Send`] (`replay: true`), or [`Output::Return`] when its session ended.
    pub fn token_after_rejection(&mut self, id: RequestId, used: String, now: f64) {
        self.wait(id, Kind::Replay { used, nonce_spent: false }, self.line, now);
    }

    /// Request `id` is about to be sent: the engine answers with [`Output::Send`] (at once,
    /// or after a refresh), or settles it.
    pub fn request(&mut self, id: RequestId, req: &Request, now: f64) {
        if self.disposed {
            return self.fail(id, Failed { class: ErrorClass::Freshtoken, code: "disposed".into(), late: false, status: None });
        }
        let ours = req.origin.as_deref().is_some_and(|o| self.origins.allows(o));
        if !ours || req.own_credentials || req.refresh_traffic {
            self.out.push(Output::Send { id, token: None, replay: false });
            return;
        }
        self.wait(id, Kind::Send { skip: req.skip_replay }, self.line, now);
    }

    /// The answer to request `id` (sent with a token): `answered_by_origin` false when it
    /// came from another origin than the one the token went to (a redirect). The engine
    /// then hands it back, or replays the request once after a (shared) refresh.
    pub fn response(&mut self, id: RequestId, status: u16, answered_by_origin: bool, now: f64) {
        let Some(i) = self.in_air.iter().position(|a| a.id == id) else {
            return self.out.push(Output::Return { id });
        };
        let sent = self.in_air.swap_remove(i);
        let retry = self.cfg.retry_statuses.iter().any(|&s| s == status);
        if sent.replay {
            // After the replay: a refusal of the current token ends the session (end-session
            // statuses) or is "forbidden"; an older token's refusal says nothing of a newer session.
            if answered_by_origin && retry && self.session.access_token() == Some(sent.token.as_str()) {
                if self.cfg.end_session_statuses.iter().any(|&s| s == status) {
                    self.expire("request-rejected", now);
                } else {
                    self.out.push(Output::Event(Event::Forbidden { status }));
                }
            }
            return self.out.push(Output::Return { id });
        }
        if !retry || !answered_by_origin || sent.skip {
            return self.out.push(Output::Return { id });
        }
        self.wait(id, Kind::Replay { used: sent.token, nonce_spent: sent.nonce_spent }, sent.line, now);
    }

    /// The refresh call in flight was answered with a DPoP nonce demand (a token endpoint's
    /// 400 `use_dpop_nonce`, [`dpop::asks_for_nonce`]; its `DPoP-Nonce` noted): whether the
    /// face sends it once more now, with a proof carrying the nonce. True once per refresh
    /// call (RFC 9449 §8); after that the answer counts as what it is, reported with
    /// [`Engine::refresh_failed`] (a transient failure: a nonce demand never ends a session).
    pub fn refresh_nonce_demanded(&mut self) -> bool {
        let retry = self.flight.is_some() && !self.flight_nonce_spent;
        self.flight_nonce_spent |= retry;
        retry
    }

    /// The answer to request `id` (sent with a DPoP-bound token) asks for a nonce
    /// ([`dpop::asks_for_nonce`], from the origin the token went to, its `DPoP-Nonce` noted
    /// with [`Engine::note_dpop_nonce`]). RFC 9449 §9: the request's one nonce retry,
    /// [`Output::Send`] again with the same token (its new proof carries the nonce), which is
    /// neither the replay nor a refresh; once that is spent (for the request, its replay
    /// included), [`Output::Return`]: the answer is handed back as it is, the session kept.
    pub fn nonce_demanded(&mut self, id: RequestId) {
        let Some(i) = self.in_air.iter().position(|a| a.id == id) else {
            return self.out.push(Output::Return { id });
        };
        if self.in_air[i].nonce_spent {
            self.in_air.swap_remove(i);
            return self.out.push(Output::Return { id });
        }
        let a = &mut self.in_air[i];
        a.nonce_spent = true;
        self.out.push(Output::Send { id, token: Some(a.token.clone()), replay: a.replay });
    }

    /// The refresh call `ticket` waits for something outside it that bounds its own wait (a
    /// cross-tab lock, another tab's record: `waiting` true), so `refreshTimeoutMs` does not
    /// run; or it really begins now (`waiting` false): `refreshTimeoutMs` counts from `now`.
    pub fn refresh_waits(&mut self, ticket: u32, waiting: bool, now: f64) {
        if self.flight == Some(ticket) {
            self.flight_deadline = if waiting { f64::INFINITY } else { now + self.cfg.refresh_timeout_ms };
            self.rearm(now);
        }
    }

    /// The refresh call `ticket`, holding the cross-tab lock, takes the rotated refresh token
    /// another tab kept ([`tabs::Epochs::takes_rotated`]) before it spends its own: the
    /// session's refresh token, for this call and after; its access token and schedule stay.
    pub fn refresh_token_taken(&mut self, ticket: u32, refresh_token: String) {
        if self.flight == Some(ticket) && !refresh_token.is_empty() {
            self.session.keep_refresh_token(crate::session::Ticket(ticket), refresh_token);
        }
    }

    /// Request or caller `id` gave up (its `signal` aborted): forgotten.
    pub fn cancel(&mut self, id: RequestId, now: f64) {
        self.waiters.retain(|w| w.id != id);
        self.in_air.retain(|a| a.id != id);
        self.rearm(now);
    }

    /// The refresh call `ticket` answered with tokens (already read by the preset);
    /// `problems` says what of the answer was dropped (a badly typed optional field).
    pub fn refresh_answered(&mut self, ticket: u32, grant: Grant, problems: Option<String>, now: f64, wall: f64, random: f64) {
        self.refresh_answered_received(ticket, grant, problems, now, wall, now, random);
    }

    /// [`Engine::refresh_answered`] with tokens received earlier than `now` (at `received`
    /// on the session clock, `wall` on the wall clock: another tab's refresh, adopted).
    #[allow(clippy::too_many_arguments)]
    pub fn refresh_answered_received(&mut self, ticket: u32, grant: Grant, problems: Option<String>, received: f64, wall: f64, now: f64, random: f64) {
        if self.flight != Some(ticket) {
            return;
        }
        // A token longer than any the decoder reads ([`Refused::TooLarge`], as for
        // `set_tokens`): the answer is unusable (a transient `too-large`), the session kept,
        // and a rotated refresh token of a size to hold still kept (the old one is spent).
        let fits = |t: &str| t.len() <= crate::token::MAX_TOKEN_LEN;
        if !fits(&grant.access_token) || !grant.refresh_token.as_deref().map_or(true, fits) {
            let failure = RefreshFailure { rejected: false, code: "too-large".into(), status: None, retry_after_ms: None, rotated_refresh_token: grant.refresh_token, oauth_error: None };
            return self.refresh_failed(ticket, failure, now, random);
        }
        self.flight = None;
        let refused = token::inspect(&grant.access_token).err().map(|e| e.code().as_str());
        let landed = self.session.refresh_landed(crate::session::Ticket(ticket), grant, received, wall, random);
        match landed {
            Landed::Stale => {}
            Landed::BadToken(delay) => {
                let code = refused.unwrap_or("bad-claim").to_owned();
                self.report(&code, None, delay);
                self.settle_callers(Err(Failed { class: ErrorClass::Refresh, code, late: false, status: None }));
            }
            landed => {
                if problems.is_none() && landed == Landed::Fresh {
                    self.last_error = None;
                }
                self.out.push(Output::Event(Event::Refresh));
                self.out.push(Output::Event(Event::Schedule));
                let retry_in = self.retry_in(now);
                if problems.is_some() {
                    self.report("bad-response", None, retry_in);
                }
                if matches!(landed, Landed::ExpiryIgnored | Landed::ImplausibleExpiry(_)) {
                    self.report("bad-expiry", None, retry_in);
                }
                let token = self.session.access_token().map(str::to_owned);
                self.settle_callers(token.ok_or_else(|| Failed::session("no-session")));
            }
        }
        self.pump(now);
    }

    /// The refresh call `ticket` failed.
    pub fn refresh_failed(&mut self, ticket: u32, failure: RefreshFailure, now: f64, random: f64) {
        self.land_failure(ticket, failure, now, random);
        self.pump(now);
    }

    /// [`Engine::refresh_failed`] without deciding the waiters (the caller does).
    fn land_failure(&mut self, ticket: u32, failure: RefreshFailure, now: f64, random: f64) {
        if self.flight != Some(ticket) {
            return;
        }
        self.flight = None;
        let t = crate::session::Ticket(ticket);
        // A rotated refresh token too large to hold is not kept (`Refused::TooLarge`).
        if let Some(rotated) = failure.rotated_refresh_token.filter(|r| !r.is_empty() && r.len() <= crate::token::MAX_TOKEN_LEN) {
            self.session.keep_refresh_token(t, rotated);
        }
        // Only a preset that speaks OAuth 2 has its `error` read; the others keep the status rules.
        let oauth_error = failure.oauth_error.clone().filter(|_| self.cfg.oauth);
        // `use_dpop_nonce` is answered with a 400, yet it ends nothing.
        let nonce = oauth_error.as_deref().map(oauth_error::oauth_error_class) == Some(oauth_error::OAuthErrorClass::Nonce);
        let kind = if failure.rejected && !nonce { Failure::Rejected } else { Failure::Transient { retry_after_ms: failure.retry_after_ms } };
        match self.session.refresh_failed(t, kind, now, random) {
            FailureOutcome::Stale => {}
            FailureOutcome::Expired => {
                self.end_line("session-expired");
                let reason = if failure.code == "no-refresh-token" {
                    "no-refresh-token"
                } else {
                    oauth_error::rejection_reason(oauth_error.as_deref())
                };
                self.out.push(Output::Event(Event::SessionExpired { reason }));
                self.settle_callers(Err(Failed::session("session-expired")));
            }
            FailureOutcome::RetryIn(_) => {
                // The time to the next attempt as it will happen (the one-second floor included).
                let retry_in = self.retry_in(now);
                self.report(&failure.code, failure.status, retry_in);
                self.settle_callers(Err(Failed { class: ErrorClass::Refresh, code: failure.code, late: false, status: failure.status }));
            }
        }
    }

    /// A `Date` header of an answer from `origin`: noted only for this refresher's own
    /// origins (allowed, the page's, the refresh endpoint's) and only when it is an HTTP-date.
    pub fn note_date(&mut self, origin: &str, date: &str, wall: f64) {
        if self.origins.allows_refresh_to(origin) {
            self.clock.note(origin, date, wall);
        }
    }

    /// A `DPoP-Nonce` header of an answer from `origin`: kept for the next proof to that
    /// origin, for this refresher's own origins only.
    pub fn note_dpop_nonce(&mut self, origin: &str, nonce: &str) {
        if self.origins.allows_refresh_to(origin) {
            self.nonces.note(origin, nonce);
        }
    }

    /// A DPoP proof's header and claims (JSON texts) for `htm` `url` at `origin`, made with
    /// the public key `jwk`: `iat` on that origin's clock at local wall time `wall` (its own
    /// `Date`s; one that never sent one, on the refresh endpoint's, else the local clock: an
    /// allowed API's clock never dates another's proofs), the origin's last nonce (or `nonce`,
    /// when the face was just given one for a call of its own), `ath` on resource requests.
    /// `None` when `url` is not an absolute http(s) URL (`javascript:`, `data:`, `blob:`,
    /// `ftp:`): no proof names anything else.
    #[allow(clippy::too_many_arguments)]
    pub fn dpop_proof(&self, htm: &str, url: &str, origin: &str, jwk: &str, jti: &str, ath: Option<&str>, nonce: Option<&str>, wall: f64) -> Option<(String, String)> {
        origins::origin_of_absolute(url)?;
        let nonce = nonce.filter(|n| dpop::is_nonce(n)).or_else(|| self.nonces.get(origin));
        let server = self.clock.now_at(origin, wall).or_else(|| self.clock.now_at(self.origins.refresh_origin()?, wall));
        let iat = (server.unwrap_or(wall) / 1000.0).floor().max(0.0) as u64;
        let claims = dpop::Claims { htm, url, iat, jti, ath, nonce };
        Some((dpop::header(jwk), dpop::payload(&claims)))
    }

    /// The timer the engine asked for ([`Output::Timer`]) fired, or the page woke up
    /// (visible, focus, a wall-clock jump): an automatic refresh when due, waits that ran out.
    pub fn timeout(&mut self, now: f64) {
        if self.disposed {
            return;
        }
        if let Some(ticket) = self.flight.filter(|_| self.flight_deadline <= now) {
            // The refresh call did not answer in time: aborted, a transient failure.
            self.out.push(Output::AbortRefresh { ticket, reason: Abort::Timeout });
            self.land_failure(ticket, RefreshFailure { code: "timeout".into(), ..Default::default() }, now, 0.5);
        }
        let due = self.session.due().is_some_and(|at| at <= now);
        if due && self.flight.is_none() && matches!(self.session.state(), State::Idle | State::Fresh) {
            let _ = self.start_refresh(now);
        }
        self.pump(now);
    }

    /// The browser came back online: a backoff is cut short (the one-second floor holds).
    pub fn online(&mut self, now: f64) {
        self.session.retry_now(now);
        self.timeout(now);
    }

    /// Every waiting caller is settled with `disposed`, the flight aborted, the timer off.
    pub fn dispose(&mut self) {
        if self.disposed {
            return;
        }
        self.disposed = true;
        self.drop_flight(Abort::Disposed);
        self.line = self.line.wrapping_add(1);
        let disposed = Failed { class: ErrorClass::Freshtoken, code: "disposed".into(), late: false, status: None };
        for w in std::mem::take(&mut self.waiters) {
            self.out.push(Output::Fail { id: w.id, error: disposed.clone() });
        }
        self.in_air.clear();
        self.session.logout();
        self.set_timer(None);
    }

    // --- internals -------------------------------------------------------------------

    fn can_refresh(&self) -> bool {
        match self.cfg.needs {
            Needs::RefreshToken => self.session.refresh_token().is_some(),
            Needs::AccessToken => self.session.access_token().is_some(),
            Needs::Nothing => true,
        }
    }

    fn end_line(&mut self, why: &'static str) {
        self.line = self.line.wrapping_add(1);
        self.ended = why;
    }

    fn fail(&mut self, id: RequestId, error: Failed) {
        self.out.push(Output::Fail { id, error });
    }

    fn report(&mut self, code: &str, status: Option<u16>, retry_in_ms: f64) {
        self.last_error = Some((code.to_owned(), status));
        let attempt = self.session.failures();
        self.out.push(Output::Event(Event::RefreshError { code: code.to_owned(), retry_in_ms, attempt }));
    }

    /// ms until the next automatic attempt.
    fn retry_in(&self, now: f64) -> f64 {
        self.session.next_attempt_at().or(self.session.next_refresh_at()).map_or(0.0, |at| (at - now).max(0.0))
    }

    /// Starts the refresh call with the tokens held now (captured: never read again later).
    fn start_refresh(&mut self, now: f64) -> Result<u32, Failed> {
        let ticket = match self.session.begin_refresh(now) {
            Ok(t) => t.0,
            Err(crate::session::BeginError::InFlight) => return self.flight.ok_or_else(|| Failed::session("no-session")),
            Err(crate::session::BeginError::Over) => return Err(Failed::session(session_code(self.session.state()))),
        };
        self.flight = Some(ticket);
        self.flight_deadline = now + self.cfg.refresh_timeout_ms;
        self.flight_nonce_spent = false;
        if !self.can_refresh() {
            // Nothing to refresh with: the session is over.
            let failure = RefreshFailure { rejected: true, code: "no-refresh-token".into(), ..Default::default() };
            self.land_failure(ticket, failure, now, 0.5);
            return Err(Failed::session("session-expired"));
        }
        self.out.push(Output::StartRefresh {
            ticket,
            access_token: self.session.access_token().map(str::to_owned),
            refresh_token: self.session.refresh_token().map(str::to_owned),
        });
        Ok(ticket)
    }

    /// The flight of a session that ended or was replaced: aborted; its callers get the
    /// current token, if any (a plain `setTokens`), else the session's end.
    fn drop_flight(&mut self, reason: Abort) {
        if let Some(ticket) = self.flight.take() {
            self.out.push(Output::AbortRefresh { ticket, reason });
            if reason == Abort::Superseded {
                let settle = match self.session.access_token() {
                    Some(t) => Ok(t.to_owned()),
                    None => Err(Failed::session(self.ended)),
                };
                self.settle_callers(settle);
            }
        }
    }

    /// The `refresh()` callers of the flight that just ended.
    fn settle_callers(&mut self, outcome: Result<String, Failed>) {
        let (callers, rest): (Vec<Waiter>, Vec<Waiter>) = std::mem::take(&mut self.waiters).into_iter().partition(|w| w.kind == Kind::Refresh);
        self.waiters = rest;
        for w in callers {
            self.out.push(match &outcome {
                Ok(token) => Output::Token { id: w.id, token: token.clone() },
                Err(e) => Output::Fail { id: w.id, error: e.clone() },
            });
        }
    }

    fn wait(&mut self, id: RequestId, kind: Kind, line: u32, now: f64) {
        self.waiters.push(Waiter { id, kind, line, deadline: now + self.cfg.refresh_timeout_ms });
        self.pump(now);
    }

    /// Decides every waiting request and caller at `now`, starting a refresh when one needs it.
    /// A decision can change what the others see (a refresh started, a session ended), so
    /// passes repeat until one changes nothing of that.
    fn pump(&mut self, now: f64) {
        loop {
            let before = (self.line, self.flight, self.session.state());
            let mut i = 0;
            while i < self.waiters.len() {
                match self.decide(i, now) {
                    Some(out) => {
                        let w = self.waiters.remove(i);
                        if let Output::Send { token: Some(token), replay, .. } = &out {
                            let skip = matches!(w.kind, Kind::Send { skip: true });
                            let nonce_spent = matches!(w.kind, Kind::Replay { nonce_spent: true, .. });
                            self.in_air.push(InAir { id: w.id, token: token.clone(), line: w.line, replay: *replay, skip, nonce_spent });
                        }
                        self.out.push(out);
                    }
                    None => i += 1,
                }
            }
            if before == (self.line, self.flight, self.session.state()) {
                break;
            }
        }
        self.rearm(now);
    }

    /// What becomes of waiter `i` now, or `None` while it waits.
    fn decide(&mut self, i: usize, now: f64) -> Option<Output> {
        let w = &self.waiters[i];
        let (id, line, deadline) = (w.id, w.line, w.deadline);
        let kind = w.kind.clone();
        if kind == Kind::Refresh {
            return None; // settled when its flight ends
        }
        let give = |token: Option<String>| match &kind {
            Kind::Send { .. } => Output::Send { id, token, replay: false },
            Kind::Replay { .. } => match token {
                Some(token) => Output::Send { id, token: Some(token), replay: true },
                None => Output::Return { id },
            },
            Kind::Token | Kind::Refresh => match token {
                Some(token) => Output::Token { id, token },
                None => Output::Fail { id, error: Failed::session("no-session") },
            },
        };
        // Its session ended while it waited: settled, never sent with a later login's token.
        if line != self.line {
            return Some(match kind {
                Kind::Replay { .. } => Output::Return { id },
                _ => Output::Fail { id, error: Failed::session(self.ended) },
            });
        }
        let token = self.session.access_token().map(str::to_owned);
        let good = match &kind {
            Kind::Replay { used, .. } => token.as_deref().is_some_and(|t| t != used),
            _ => self.session.is_usable(now),
        };
        let ready = self.flight.is_none() && !self.session.needs_refresh(now);
        if self.flight.is_none() && good && (ready || matches!(kind, Kind::Replay { .. })) {
            return Some(give(token));
        }
        if matches!(self.session.state(), State::Expired | State::LoggedOut) {
            return Some(match kind {
                Kind::Token => Output::Fail { id, error: Failed::session(session_code(self.session.state())) },
                _ => give(None),
            });
        }
        if self.flight.is_some() {
            return (deadline <= now).then(|| self.late(id));
        }
        match self.session.next_attempt_at() {
            // Backing off (or within the floor): a token still usable is used as is.
            Some(next) if next > now => {
                if good {
                    Some(give(token))
                } else if next >= deadline || deadline <= now {
                    Some(self.late(id))
                } else {
                    None
                }
            }
            _ => {
                if self.session.state() == State::Idle && !self.can_refresh() {
                    return Some(match kind {
                        Kind::Token => Output::Fail { id, error: Failed::session("no-session") },
                        _ => give(None),
                    });
                }
                match self.start_refresh(now) {
                    Ok(_) => None,
                    Err(_) if self.line != line => Some(match kind {
                        Kind::Replay { .. } => Output::Return { id },
                        _ => Output::Fail { id, error: Failed::session(self.ended) },
                    }),
                    Err(e) => Some(match kind {
                        Kind::Token => Output::Fail { id, error: e },
                        _ => give(None),
                    }),
                }
            }
        }
    }

    /// A wait that outlasted `refreshTimeoutMs`: why, from the last refresh failure.
    fn late(&self, id: RequestId) -> Output {
        let (code, status) = self.last_error.clone().unwrap_or(("timeout".into(), None));
        Output::Fail { id, error: Failed { class: ErrorClass::Refresh, code, late: true, status } }
    }

    /// Aims the timer at the next instant the engine must look again.
    fn rearm(&mut self, now: f64) {
        let mut at = self.session.due();
        if self.flight.is_some() {
            at = Some(at.map_or(self.flight_deadline, |a| a.min(self.flight_deadline)));
        }
        for w in &self.waiters {
            if w.kind == Kind::Refresh {
                continue;
            }
            at = Some(at.map_or(w.deadline, |a: f64| a.min(w.deadline)));
            if self.flight.is_none() {
                if let Some(next) = self.session.next_attempt_at().filter(|n| *n > now) {
                    at = Some(at.map_or(next, |a| a.min(next)));
                }
            }
        }
        self.set_timer(at.filter(|a| a.is_finite()));
    }

    fn set_timer(&mut self, at: Option<f64>) {
        if at != self.timer {
            self.timer = at;
            self.out.push(Output::Timer(at));
        }
    }
}

/// The outputs waiting to be polled, in order: one non-inlined push (a `VecDeque`'s
/// `push_back` was inlined, growth and all, at each of the engine's two dozen call sites).
#[derive(Clone, Debug, Default)]
struct Outputs {
    queue: Vec<Output>,
    /// How many of `queue` were polled already.
    read: usize,
}

impl Outputs {
    #[inline(never)]
    fn push(&mut self, o: Output) {
        self.queue.push(o);
    }

    fn next(&mut self) -> Option<Output> {
        let o = self.queue.get_mut(self.read).map(|o| core::mem::replace(o, Output::Timer(None)));
        self.read += 1;
        // Emptied as soon as the last one is taken: a face that stops polling when none is
        // left (`Engine::pending`) never lets the queue grow.
        if self.read >= self.queue.len() {
            self.queue.clear();
            self.read = 0;
        }
        o
    }
}

/// The code of the error a caller gets when there is no session to take a token from.
fn session_code(state: State) -> &'static str {
    match state {
        State::Expired => "session-expired",
        State::LoggedOut => "logged-out",
        _ => "no-session",
    }
}

#[cfg(test)]
mod tests;
