//! The conformance table (tests/scenarios/engine.json) against the sans-I/O engine
//! (`freshtoken::engine`) on a virtual clock: the whole table in well under a second.
//!
//! This file is the engine's face for the table, as dull as a face should be: it turns each
//! step into the engine input a browser face would push (with `now` and `wall`), drains the
//! engine's outputs, records what a face runner would observe through the public API (the
//! refresh calls made and their captured tokens, aborts, every request's and caller's
//! fate, events), and fires the timer the engine asked for when the virtual clock reaches it.
//! What a face asks of the engine's other modules, this asks too: the refresh request the
//! preset sends (`engine::preset::request`), the reading of a refresh answer's text or of
//! the app's function's token set (`engine::answer::read`), the status classification of
//! the refresh endpoint (`engine::refresh_status`), `Retry-After`
//! (`engine::http_date::retry_after_ms`), the refresh call's origin (asked of
//! `Engine::allows_refresh_to`); and `restored` (tokens given without `expiresIn`) as the
//! faces do it.
//!
//! The cross-tab scenarios (`crossTab`, steps in tabs A, B, C) run one engine per tab on the one
//! virtual clock, with the protocol's I/O (the lock, the markers, the channel, storage with its
//! lag) simulated as the faces carry it out and every decision `engine::tabs`'s: see
//! `engine_conformance/tabs.rs`.
//!
//! Scenarios marked `needs` (a capability this runner lacks) are skipped with the reason printed; scenarios marked `known_gap` are run and reported apart
//! without failing the test (one that starts passing is reported too: remove its mark).
//! The format is documented in the file's `about`.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

use freshtoken::engine::dpop::asks_for_nonce;
use freshtoken::engine::http_date::retry_after_ms;
use freshtoken::engine::origins::origin_of_absolute;
use freshtoken::engine::answer::{self, Source};
use freshtoken::engine::option_shapes::{self, EndpointShape};
use freshtoken::engine::preset::{self, Client, Preset};
use freshtoken::engine::{Abort, Config, Engine, ErrorClass, Event, Failed, Output, RefreshFailure, Request, RequestId};
use freshtoken::engine::oauth_error::read_error;
use freshtoken::engine::refresh_status::{error_answer_status, refresh_status, RefreshStatus};
use freshtoken::session::Grant;
use serde_json::{Map, Value};

const TABLE: &str = include_str!("scenarios/engine.json");

/// Capabilities this runner can play; a scenario that `needs` anything else is skipped.
const SUPPORTED: &[&str] = &[];

/// The virtual session clock (`performance.now()`) and wall clock (`Date.now()`) at the start
/// of every scenario: Mon, 07 Dec 2026 00:00:00 GMT.
const NOW0: f64 = 0.0;
const WALL0: f64 = 1_796_601_600_000.0;
const PAGE: &str = "https://app.example";

type Outcome<T> = Result<T, String>;

macro_rules! bail {
    ($($t:tt)*) => { return Err(format!($($t)*)) };
}

/// The cross-tab scenarios: one `Run` per tab, the protocol's I/O simulated (tests/engine_conformance/tabs.rs).
#[path = "engine_conformance/tabs.rs"]
mod tabs;

// --- a tiny base64url for the runner's JWTs ------------------------------------------------

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..chunk.len() + 1 {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

// --- the run of one scenario ---------------------------------------------------------------

/// A refresh call the face made.
struct Call {
    ticket: u32,
    access: Option<String>,
    refresh: Option<String>,
    /// The request as sent (`lastRequest`): none for the app's own function.
    request: Value,
}

struct Run {
    engine: Engine,
    /// `dpop: true`: an answer's nonce demand is the engine's to grant (the face's tokens
    /// go as `DPoP`; the proofs themselves are the browser runners' to check).
    dpop: bool,
    /// Requests whose last answer asked for a nonce: their next send is noted `nonce <token>`.
    nonce_asked: std::collections::HashSet<RequestId>,
    now: f64,
    wall: f64,
    /// How far the wall clock is behind the most it ever led the monotonic one by (a clock
    /// set back): a forward jump counts only beyond it (engine::session_clock).
    wall_behind: f64,
    random: f64,
    page: String,
    endpoint_url: Option<String>,
    /// The endpoint's preset and settings (`None`: the app's own `refresh` function).
    preset: Option<(Preset, Client)>,
    base: Option<String>,
    /// The armed timer (session clock), as the engine last asked.
    timer: Option<f64>,
    timer_fires: u32,
    /// Request and caller names <-> engine ids.
    ids: HashMap<String, RequestId>,
    names: Vec<String>,
    /// Where each request went (its origin), for `respond`.
    origin_of: HashMap<RequestId, Option<String>>,
    /// Every request's and caller's observed fate, in order.
    history: BTreeMap<String, Vec<String>>,
    events: Vec<String>,
    schedules: u32,
    retry_delays: Vec<f64>,
    calls: Vec<Call>,
    refused_calls: u32,
    aborts: Vec<String>,
    /// The refresh tokens revocation calls were made with (names).
    revoked: Vec<String>,
    /// The last proof a `dpopProof` step made (`lastProof`): its claims read, or "refused".
    last_proof: Value,
    /// The refresh call in flight (started, neither answered nor aborted).
    flight: Option<u32>,
    /// The server's standing answer to every refresh call (`server` step), if any.
    server: Option<Value>,
    /// JWTs built by the runner, by their text: their names.
    token_names: HashMap<String, String>,
    /// Refresh calls to answer once the outputs are drained (the face's fetch resolves later).
    pending_auto: Vec<u32>,
    /// This tab's end of the cross-tab protocol (`crossTab` scenarios): see `tabs`.
    tab: Option<tabs::TabIo>,
}

fn class_name(c: ErrorClass) -> &'static str {
    match c {
        ErrorClass::Session => "SessionError",
        ErrorClass::Refresh => "RefreshError",
        ErrorClass::Freshtoken => "FreshtokenError",
    }
}

fn event_text(e: &Event) -> Option<String> {
    Some(match e {
        Event::Refresh => "refresh".into(),
        Event::RefreshError { code, .. } => format!("refresh-error {code}"),
        Event::SessionExpired { reason } => format!("session-expired {reason}"),
        Event::Logout => "logout".into(),
        Event::Schedule => return None,
        Event::Forbidden { status } => format!("forbidden {status}"),
    })
}

fn failed_text(f: &Failed) -> String {
    let mut s = format!("fail {} {}", class_name(f.class), f.code);
    if let Some(status) = f.status {
        s += &format!(" {status}");
    }
    if f.late {
        s += " late";
    }
    s
}

fn obj<'a>(v: &'a Value, what: &str) -> Outcome<&'a Map<String, Value>> {
    v.as_object().ok_or_else(|| format!("{what} must be an object, not {v}"))
}

fn only_keys(m: &Map<String, Value>, allowed: &[&str], what: &str) -> Outcome<()> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            bail!("{what}: unknown field {k:?} (allowed: {allowed:?})");
        }
    }
    Ok(())
}

fn num(v: &Value, what: &str) -> Outcome<f64> {
    v.as_f64().ok_or_else(|| format!("{what} must be a number, not {v}"))
}

fn opt_str(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

/// `url` resolved against the page as a face's URL parser resolves it, for what the table
/// holds: tabs and line breaks dropped, leading and trailing spaces and controls trimmed; a
/// URL with a scheme as it is, a path after the page's origin.
fn resolve(url: &str, page: &str) -> String {
    let url: String = url.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let url = url.trim_matches(|c: char| c <= ' ');
    let scheme = url.find(':').is_some_and(|i| i > 0 && url[..i].bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)));
    match () {
        _ if scheme => url.to_owned(),
        _ if url.starts_with('/') => format!("{page}{url}"),
        _ => format!("{page}/{url}"),
    }
}

/// The config of a scenario's `options`, and its endpoint's preset and settings.
fn config(options: Option<&Value>, page: &str) -> Outcome<(Config, Option<(Preset, Client)>)> {
    let mut cfg = Config { page_origin: Some(page.to_owned()), endpoint_url: Some("/auth/refresh".into()), ..Config::default() };
    let mut endpoint = Some((Preset::Json, Client::default()));
    let Some(options) = options else { return Ok((cfg, endpoint)) };
    let m = obj(options, "options")?;
    only_keys(
        m,
        &["origins", "refreshAt", "defaultLifetimeMs", "refreshTimeoutMs", "retryStatuses", "endSessionStatuses", "endpoint", "refresh", "crossTab", "storage", "storageKey", "dpop", "loginUrl"],
        "options",
    )?;
    if let Some(v) = m.get("loginUrl") {
        cfg.login_url = Some(resolve(v.as_str().ok_or("loginUrl must be a string")?, page));
    }
    let statuses = |v: &Value, what: &str| -> Outcome<Vec<u16>> {
        v.as_array().ok_or(format!("{what} must be an array"))?.iter().map(|s| num(s, what).map(|n| n as u16)).collect()
    };
    if let Some(v) = m.get("origins") {
        cfg.origins = Some(v.as_array().ok_or("origins must be an array")?.iter().map(|s| s.as_str().unwrap_or("").to_owned()).collect());
    }
    if let Some(v) = m.get("refreshAt") {
        cfg.refresh_at = num(v, "refreshAt")?;
    }
    if let Some(v) = m.get("defaultLifetimeMs") {
        cfg.default_lifetime_ms = num(v, "defaultLifetimeMs")?;
    }
    if let Some(v) = m.get("refreshTimeoutMs") {
        cfg.refresh_timeout_ms = num(v, "refreshTimeoutMs")?;
    }
    if let Some(v) = m.get("retryStatuses") {
        cfg.retry_statuses = statuses(v, "retryStatuses")?;
    }
    if let Some(v) = m.get("endSessionStatuses") {
        cfg.end_session_statuses = statuses(v, "endSessionStatuses")?;
    }
    if let Some(ep) = m.get("endpoint") {
        let ep = obj(ep, "endpoint")?;
        only_keys(ep, &["url", "preset", "credentials", "clientId", "revokeUrl", "method", "params", "scope", "resource"], "endpoint")?;
        cfg.revoke = ep.get("revokeUrl").is_some();
        if let Some(v) = ep.get("revokeUrl") {
            cfg.revoke_url = Some(resolve(v.as_str().ok_or("endpoint.revokeUrl must be a string")?, page));
        }
        if let Some(url) = ep.get("url") {
            cfg.endpoint_url = Some(url.as_str().ok_or("endpoint.url must be a string")?.to_owned());
        }
        let name = ep.get("preset").and_then(Value::as_str).unwrap_or("json");
        let p = *Preset::ALL.iter().find(|p| p.name() == name).ok_or(format!("unknown preset {name:?}"))?;
        let text = |k: &str| ep.get(k).and_then(Value::as_str).map(str::to_owned);
        let client = Client {
            method: text("method"),
            params: ep.get("params").and_then(Value::as_object).map_or(Vec::new(), |m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect()),
            client_id: text("clientId"),
            scope: text("scope"),
            resource: match ep.get("resource") {
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                Some(Value::String(r)) => vec![r.clone()],
                _ => Vec::new(),
            },
        };
        // What the call needs and whether it reads OAuth errors: the engine's, from the preset.
        cfg.needs = preset::needs(Some(p), text("credentials").as_deref() == Some("include"));
        cfg.oauth = p.reads_oauth_errors();
        cfg.bearer_refresh = p.sends_bearer();
        endpoint = Some((p, client));
    }
    if let Some(v) = m.get("refresh") {
        if v.as_str() != Some("custom") {
            bail!("options.refresh must be \"custom\" (the app's own refresh function)");
        }
        cfg.endpoint_url = None;
        cfg.needs = preset::needs(None, false);
        cfg.bearer_refresh = false;
        endpoint = None;
    }
    cfg.dpop = m.get("dpop") == Some(&Value::Bool(true));
    Ok((cfg, endpoint))
}

/// How a refresh call ended, as the face saw it.
enum Answer {
    Tokens(Grant, Option<String>),
    Failed(RefreshFailure),
    Hang,
}

impl Run {
    fn new(scenario: &Value) -> Outcome<Run> {
        let page = opt_str(scenario.get("page")).unwrap_or_else(|| PAGE.to_owned());
        let (cfg, preset) = config(scenario.get("options"), &page)?;
        let endpoint_url = cfg.endpoint_url.clone();
        let engine = Engine::new(cfg).map_err(|e| format!("the options were refused: {}", e.message()))?;
        let dpop = scenario.get("options").and_then(|o| o.get("dpop")) == Some(&Value::Bool(true));
        Ok(Run {
            engine,
            dpop,
            nonce_asked: Default::default(),
            now: NOW0,
            wall: WALL0,
            wall_behind: 0.0,
            random: scenario.get("random").and_then(Value::as_f64).unwrap_or(0.5),
            page,
            endpoint_url,
            preset,
            base: None,
            timer: None,
            timer_fires: 0,
            ids: HashMap::new(),
            names: Vec::new(),
            origin_of: HashMap::new(),
            history: BTreeMap::new(),
            events: Vec::new(),
            schedules: 0,
            retry_delays: Vec::new(),
            calls: Vec::new(),
            refused_calls: 0,
            aborts: Vec::new(),
            revoked: Vec::new(),
            last_proof: Value::Null,
            flight: None,
            server: None,
            token_names: HashMap::new(),
            pending_auto: Vec::new(),
            tab: None,
        })
    }

    fn id(&mut self, name: &str) -> RequestId {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as RequestId + 1;
        self.ids.insert(name.to_owned(), id);
        self.names.push(name.to_owned());
        self.history.entry(name.to_owned()).or_default();
        id
    }

    fn name_of(&self, id: RequestId) -> String {
        self.names.get(id as usize - 1).cloned().unwrap_or_else(|| format!("#{id}"))
    }

    /// A token as the table names it (a runner-built JWT by its name).
    fn tname(&self, token: &str) -> String {
        self.token_names.get(token).cloned().unwrap_or_else(|| token.to_owned())
    }

    fn note(&mut self, id: RequestId, what: String) {
        let name = self.name_of(id);
        self.history.entry(name).or_default().push(what);
    }

    /// The origin the refresh call resolves to now (an absolute `endpoint.url`'s, else the
    /// document's base: the page, or an injected `<base href>`).
    fn refresh_origin(&self) -> Option<String> {
        match &self.endpoint_url {
            None => None, // the app's own function: no URL of ours
            Some(url) => origin_of_absolute(url).or_else(|| self.base.clone().or_else(|| Some(self.page.clone()))),
        }
    }

    /// Carries out everything the engine asked, until it asks nothing more.
    fn drain(&mut self) -> Outcome<()> {
        let mut guard = 0u32;
        loop {
            while let Some(out) = self.engine.poll() {
                guard += 1;
                if guard > 1_000_000 {
                    bail!("the engine keeps producing outputs (a loop?)");
                }
                self.carry_out(out)?;
            }
            if self.pending_auto.is_empty() {
                return Ok(());
            }
            for ticket in std::mem::take(&mut self.pending_auto) {
                if self.flight == Some(ticket) {
                    if let Some(answer) = self.server.clone() {
                        self.answer(ticket, &answer, None)?;
                    }
                }
            }
        }
    }

    fn carry_out(&mut self, out: Output) -> Outcome<()> {
        match out {
            Output::StartRefresh { ticket, access_token, refresh_token } if self.tab.is_some() => {
                // crossTab: the call waits for the tabs' lock (see `tabs`).
                tabs::start(self, ticket, access_token, refresh_token)?;
            }
            Output::StartRefresh { ticket, access_token, refresh_token } => {
                if let Some(prev) = self.flight {
                    bail!("a second refresh call (ticket {ticket}) while ticket {prev} is in flight: single flight broken");
                }
                if self.refresh_origin().is_some_and(|o| !self.engine.allows_refresh_to(&o)) {
                    // The face does not make it: the tokens would go to an origin not allowed.
                    self.refused_calls += 1;
                    let failure = RefreshFailure { code: "refused-origin".into(), ..Default::default() };
                    self.engine.refresh_failed(ticket, failure, self.now, self.random);
                    return Ok(());
                }
                let access = access_token.as_deref().map(|t| self.tname(t));
                let refresh = refresh_token.as_deref().map(|t| self.tname(t));
                // What the face sends is the engine's (the app's own function: nothing of ours).
                let request = self.preset.as_ref().map_or(Value::Null, |(p, client)| {
                    let c = preset::request(*p, access_token.as_deref(), refresh_token.as_deref(), client);
                    serde_json::json!({"method": c.method, "contentType": c.content_type, "authorization": c.authorization, "body": c.body})
                });
                self.calls.push(Call { ticket, access, refresh, request });
                self.flight = Some(ticket);
                if self.server.is_some() {
                    self.pending_auto.push(ticket);
                }
            }
            Output::Revoke { refresh_token } => {
                let name = self.tname(&refresh_token);
                self.revoked.push(name);
            }
            Output::AbortRefresh { ticket, reason } if self.tab.is_some() => tabs::abort(self, ticket, reason)?,
            Output::AbortRefresh { ticket, reason } => {
                self.aborts.push(match reason {
                    Abort::Superseded => "superseded".into(),
                    Abort::Disposed => "disposed".into(),
                    Abort::Timeout => "timeout".into(),
                });
                if self.flight == Some(ticket) {
                    self.flight = None;
                }
            }
            Output::Send { id, token: Some(t), .. } if self.nonce_asked.remove(&id) => {
                let what = format!("nonce {}", self.tname(&t));
                self.note(id, what);
            }
            Output::Send { id, token, replay } => {
                let what = match (&token, replay) {
                    (Some(t), true) => format!("replay {}", self.tname(t)),
                    (Some(t), false) => format!("send {}", self.tname(t)),
                    (None, true) => "replay -".into(),
                    (None, false) => "send -".into(),
                };
                self.note(id, what);
            }
            Output::Return { id } => self.note(id, "return".into()),
            Output::Token { id, token } => {
                let t = self.tname(&token);
                self.note(id, format!("token {t}"));
            }
            Output::Fail { id, error } => self.note(id, failed_text(&error)),
            Output::Event(e) => {
                if let Event::RefreshError { retry_in_ms, .. } = &e {
                    self.retry_delays.push(*retry_in_ms);
                }
                match event_text(&e) {
                    Some(t) => self.events.push(t),
                    None => self.schedules += 1,
                }
                if self.tab.is_some() {
                    // What the face does with the tabs on the session's events.
                    match e {
                        Event::Schedule | Event::Logout => tabs::sync(self),
                        Event::SessionExpired { reason } => tabs::ended(self, reason),
                        _ => {}
                    }
                }
            }
            Output::Timer(at) => self.timer = at,
        }
        Ok(())
    }

    /// Fires the timer while it is due at or before `until`, moving the clocks to it.
    fn run_timers(&mut self, until: f64) -> Outcome<()> {
        while let Some(at) = self.timer.filter(|at| *at <= until) {
            self.timer_fires += 1;
            if self.timer_fires > 200_000 {
                bail!("the timer fired over 200,000 times: a timer storm");
            }
            if at > self.now {
                self.wall += at - self.now;
                self.now = at;
            }
            self.timer = None;
            self.engine.timeout(self.now);
            self.drain()?;
        }
        Ok(())
    }

    fn advance(&mut self, ms: f64) -> Outcome<()> {
        let target = self.now + ms;
        self.run_timers(target)?;
        self.wall += target - self.now;
        self.now = target;
        Ok(())
    }

    // --- tokens ----------------------------------------------------------------------------

    /// A token of the table: a string as is, or `{"jwt": {...}}` built here.
    fn token(&mut self, v: &Value, what: &str) -> Outcome<String> {
        if let Some(s) = v.as_str() {
            return Ok(s.to_owned());
        }
        if let Some(r) = v.get("repeat") {
            only_keys(obj(v, what)?, &["repeat", "times"], "repeat")?;
            return Ok(r.as_str().ok_or("repeat must be a string")?.repeat(num(v.get("times").ok_or("repeat needs times")?, "times")? as usize));
        }
        let spec = obj(v.get("jwt").ok_or(format!("{what}: a string or {{\"jwt\": ...}}"))?, "jwt")?;
        only_keys(spec, &["name", "iat", "exp", "claims"], "jwt")?;
        let name = spec.get("name").and_then(Value::as_str).ok_or("jwt.name is required")?.to_owned();
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::String(name.clone()));
        let secs = (self.wall / 1000.0).floor();
        for k in ["iat", "exp"] {
            if let Some(rel) = spec.get(k) {
                claims.insert(k.into(), Value::from((secs + num(rel, k)?) as i64));
            }
        }
        if let Some(extra) = spec.get("claims") {
            for (k, v) in obj(extra, "claims")? {
                claims.insert(k.clone(), v.clone());
            }
        }
        let jwt = format!("{}.{}.", b64url(br#"{"alg":"none","typ":"JWT"}"#), b64url(Value::Object(claims).to_string().as_bytes()));
        self.token_names.insert(jwt.clone(), name);
        Ok(jwt)
    }

    /// `accessToken`, `refreshToken`, `expiresIn` (s), `expiresAt` (ms since epoch) or
    /// `expiresAtIn` (ms after the wall clock now), as an app hands them to `setTokens`.
    fn token_set(&mut self, v: &Value) -> Outcome<Grant> {
        let m = obj(v, "setTokens")?;
        only_keys(m, &["accessToken", "refreshToken", "expiresIn", "expiresAt", "expiresAtIn"], "setTokens")?;
        let refresh = match m.get("refreshToken") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => bail!("setTokens.refreshToken must be a string, not {other}"),
        };
        let access = match m.get("accessToken") {
            Some(v @ (Value::String(_) | Value::Object(_))) => self.token(v, "accessToken")?,
            other => bail!("setTokens.accessToken is required, not {other:?}"),
        };
        let mut grant = Grant { access_token: access, refresh_token: refresh, ..Default::default() };
        let field = |k: &str| -> Outcome<Option<f64>> {
            match m.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_f64().filter(|n| n.is_finite() && *n >= 0.0).map(Some).ok_or(format!("setTokens.{k} must be a number >= 0")),
            }
        };
        grant.expires_in_s = field("expiresIn")?;
        grant.expires_at_ms = field("expiresAt")?;
        if let Some(rel) = m.get("expiresAtIn") {
            grant.expires_at_ms = Some(self.wall + num(rel, "expiresAtIn")?);
        }
        Ok(grant)
    }

    /// The text of a refresh answer (`ok`: a token set, in the preset's field names; `body`:
    /// as given), or of the app's function's result: JWTs built, `expiresAtIn` made absolute.
    fn answer_text(&mut self, v: &Value, ok: bool) -> Outcome<String> {
        let Some(m) = v.as_object() else { return Ok(v.to_string()) };
        let mut t = Map::new();
        for (k, x) in m {
            match k.as_str() {
                "accessToken" | "refreshToken" if x.is_object() => {
                    let token = self.token(x, k)?;
                    t.insert(k.clone(), Value::String(token));
                }
                "expiresAtIn" => {
                    t.insert("expiresAt".into(), Value::from(self.wall + num(x, "expiresAtIn")?));
                }
                _ if x.get("repeat").is_some() => {
                    let text = self.token(x, k)?;
                    t.insert(k.clone(), Value::String(text));
                }
                _ => {
                    t.insert(k.clone(), x.clone());
                }
            }
        }
        let names: &[(&str, &str)] = match self.preset.as_ref().map(|p| p.0) {
            _ if !ok => &[],
            None | Some(Preset::Json) => &[],
            Some(Preset::SanicJwt) => &[("accessToken", "access_token"), ("refreshToken", "refresh_token")],
            Some(Preset::BearerPut) => &[("accessToken", "token"), ("expiresIn", "expiresIn")],
            Some(Preset::Oauth2) => &[("accessToken", "access_token"), ("refreshToken", "refresh_token"), ("expiresIn", "expires_in")],
        };
        if !names.is_empty() {
            t = names.iter().filter_map(|(from, to)| t.get(*from).map(|x| (to.to_string(), x.clone()))).collect();
        }
        Ok(Value::Object(t).to_string())
    }

    /// What the refresh endpoint (or the app's function) answered, as the face reports it.
    fn classify(&mut self, v: &Value) -> Outcome<Answer> {
        let fail = |code: &str, status: Option<u16>| RefreshFailure { code: code.into(), status, ..Default::default() };
        if let Some(s) = v.as_str() {
            return Ok(match s {
                "transient" | "network" => Answer::Failed(fail("network", None)),
                "timeout" => Answer::Failed(fail("timeout", None)),
                "rejected" => Answer::Failed(RefreshFailure { rejected: true, ..fail("rejected", Some(401)) }),
                "hang" => Answer::Hang,
                other => bail!("unknown refresh answer {other:?}"),
            });
        }
        let m = obj(v, "refresh answer")?;
        if m.len() != 1 {
            bail!("a refresh answer has one key: ok | body | padded | http | oauth | fnError, not {v}");
        }
        let (k, x) = m.iter().next().unwrap();
        Ok(match k.as_str() {
            "ok" | "body" | "padded" => {
                // Read by the engine, as both faces read it.
                let text = if k == "padded" {
                    // `body` with one more member, "padding", making the text `bytes` long.
                    let p = obj(x, "padded")?;
                    only_keys(p, &["body", "bytes"], "padded")?;
                    let text = self.answer_text(p.get("body").ok_or("padded.body")?, false)?;
                    let open = text.strip_suffix('}').ok_or("padded.body: an object")?.to_owned() + if text == "{}" { "" } else { "," } + "\"padding\":\"";
                    let n = (num(p.get("bytes").ok_or("padded.bytes")?, "padded.bytes")? as usize).saturating_sub(open.len() + 2);
                    open + &"x".repeat(n) + "\"}"
                } else {
                    self.answer_text(x, k == "ok")?
                };
                let source = self.preset.as_ref().map_or(Source::Function, |p| Source::Preset(p.0));
                match answer::read(source, &text) {
                    Ok(t) => {
                        let grant = Grant {
                            access_token: t.access_token,
                            refresh_token: t.refresh_token,
                            expires_in_s: t.expires_in.map(|x| x.0),
                            expires_at_ms: t.expires_at.map(|x| x.0),
                        };
                        Answer::Tokens(grant, t.problems)
                    }
                    Err(u) => Answer::Failed(RefreshFailure { code: "bad-response".into(), rotated_refresh_token: u.rotated_refresh_token, ..Default::default() }),
                }
            }
            "http" => {
                let h = obj(x, "http")?;
                only_keys(h, &["status", "retryAfter"], "http")?;
                let status = num(h.get("status").ok_or("http.status")?, "http.status")? as u16;
                match refresh_status(status) {
                    RefreshStatus::Rejected => Answer::Failed(RefreshFailure { rejected: true, ..fail("rejected", Some(status)) }),
                    RefreshStatus::Redirect => Answer::Failed(fail("bad-response", Some(status))),
                    RefreshStatus::Ok => bail!("http {status}: use ok or body for a 2xx"),
                    RefreshStatus::Transient => {
                        let year = 1970 + (self.wall / 31_556_952_000.0).floor() as i64;
                        let retry_after = opt_str(h.get("retryAfter")).and_then(|ra| retry_after_ms(&ra, self.wall, year));
                        Answer::Failed(RefreshFailure { retry_after_ms: retry_after, ..fail("http", Some(status)) })
                    }
                }
            }
            "oauth" => {
                // The oauth2 preset's error answer (RFC 6749 §5.2): its `error` read, not flattened.
                let h = obj(x, "oauth")?;
                only_keys(h, &["status", "error", "error_description", "descriptionBytes"], "oauth")?;
                let status = num(h.get("status").ok_or("oauth.status")?, "oauth.status")? as u16;
                // Its text, read by the engine as both faces read it.
                let mut body = Map::new();
                body.insert("error".into(), h.get("error").cloned().unwrap_or(Value::Null));
                if let Some(d) = h.get("error_description") {
                    body.insert("error_description".into(), d.clone());
                }
                if let Some(n) = h.get("descriptionBytes") {
                    body.insert("error_description".into(), Value::String("x".repeat(num(n, "descriptionBytes")? as usize)));
                }
                let oauth_error = read_error(&Value::Object(body).to_string()).0;
                match error_answer_status(status, oauth_error.as_deref()) {
                    RefreshStatus::Rejected => Answer::Failed(RefreshFailure { rejected: true, oauth_error, ..fail("rejected", Some(status)) }),
                    RefreshStatus::Transient => Answer::Failed(RefreshFailure { oauth_error, ..fail("http", Some(status)) }),
                    _ => bail!("oauth {status}: an OAuth error answer is a 4xx or 5xx"),
                }
            }
            "fnError" => {
                let f = obj(x, "fnError")?;
                if f.get("sessionExpired") == Some(&Value::Bool(true)) {
                    Answer::Failed(RefreshFailure { rejected: true, ..fail("rejected", None) })
                } else {
                    Answer::Failed(fail("failed", None))
                }
            }
            other => bail!("unknown refresh answer {other:?}"),
        })
    }

    fn answer(&mut self, ticket: u32, v: &Value, date: Option<&str>) -> Outcome<()> {
        if let Some(date) = date {
            if let Some(origin) = self.refresh_origin() {
                self.engine.note_date(&origin, date, self.wall);
            }
        }
        match self.classify(v)? {
            Answer::Hang => return Ok(()),
            Answer::Tokens(grant, problems) => {
                if self.flight == Some(ticket) {
                    self.flight = None;
                }
                self.engine.refresh_answered(ticket, grant, problems, self.now, self.wall, self.random);
            }
            Answer::Failed(failure) => {
                // With DPoP a token endpoint's nonce demand may cost the call one more send,
                // as the engine grants: the same call again (a new proof carries the nonce).
                let nonce = self.dpop && asks_for_nonce(failure.status.unwrap_or(0), None, failure.oauth_error.as_deref());
                if nonce && self.flight == Some(ticket) && self.engine.refresh_nonce_demanded() {
                    let again = self.calls.iter().rev().find(|c| c.ticket == ticket).map(|c| Call { ticket, access: c.access.clone(), refresh: c.refresh.clone(), request: c.request.clone() });
                    self.calls.extend(again);
                    return self.drain();
                }
                if self.flight == Some(ticket) {
                    self.flight = None;
                }
                self.engine.refresh_failed(ticket, failure, self.now, self.random);
            }
        }
        self.drain()
    }

    // --- steps -----------------------------------------------------------------------------

    fn step(&mut self, step: &Value) -> Outcome<()> {
        let m = obj(step, "a step")?;
        const STEPS: &[&str] = &[
            "setTokens", "request", "respond", "getToken", "refresh", "cancel", "refreshAnswer", "server", "date", "baseHref",
            "advance", "sleep", "wallJump", "visible", "online", "logout", "dispose", "random", "accessDenied", "dpopProof", "expect",
        ];
        let Some(key) = STEPS.iter().find(|k| m.contains_key(**k)).map(|k| k.to_string()) else {
            only_keys(m, &["note"], "a step")?;
            return Ok(()); // a note
        };
        let v = &m[&key];
        match key.as_str() {
            "setTokens" => {
                only_keys(m, &["setTokens", "refused", "note"], "setTokens step")?;
                let grant = self.token_set(v)?;
                // The face's rule: tokens handed over without `expiresIn` may have waited
                // since they were issued (restored by the app, or from storage).
                let restored = grant.expires_in_s.is_none();
                let refused = m.get("refused").and_then(Value::as_bool).unwrap_or(false);
                let result = self.engine.set_tokens(grant, restored, self.now, self.wall);
                if result.is_err() != refused {
                    bail!("setTokens was {} but the table says refused: {refused}", if result.is_err() { "refused" } else { "taken" });
                }
                self.drain()?;
            }
            "request" => {
                only_keys(m, &["request", "note"], "request step")?;
                let r = obj(v, "request")?;
                only_keys(r, &["id", "origin", "ownCredentials", "skipAuthRefresh", "refreshTraffic", "count"], "request")?;
                let name = opt_str(r.get("id")).ok_or("request.id")?;
                let origin = match r.get("origin") {
                    None => Some(self.page.clone()),
                    Some(Value::Null) => None,
                    Some(o) => Some(o.as_str().ok_or("request.origin")?.to_owned()),
                };
                let req = Request {
                    origin: origin.clone(),
                    own_credentials: r.get("ownCredentials").and_then(Value::as_bool).unwrap_or(false),
                    refresh_traffic: r.get("refreshTraffic").and_then(Value::as_bool).unwrap_or(false),
                    skip_replay: r.get("skipAuthRefresh").and_then(Value::as_bool).unwrap_or(false),
                };
                let names: Vec<String> = match r.get("count") {
                    None => vec![name],
                    Some(n) => (1..=num(n, "count")? as u32).map(|i| format!("{name}{i}")).collect(),
                };
                for n in names {
                    let id = self.id(&n);
                    self.origin_of.insert(id, origin.clone());
                    self.engine.request(id, &req, self.now);
                    self.drain()?;
                }
            }
            "respond" => {
                only_keys(m, &["respond", "note"], "respond step")?;
                let r = obj(v, "respond")?;
                only_keys(r, &["id", "status", "redirectedTo", "date", "dpopNonce"], "respond")?;
                // `dpopNonce`: the answer says `WWW-Authenticate: DPoP error="use_dpop_nonce"`
                // and carries that `DPoP-Nonce`.
                let nonce = opt_str(r.get("dpopNonce"));
                let name = opt_str(r.get("id")).ok_or("respond.id")?;
                let status = num(r.get("status").ok_or("respond.status")?, "respond.status")? as u16;
                let targets: Vec<String> = match name.strip_suffix('*') {
                    Some(prefix) => self.names.iter().filter(|n| n.starts_with(prefix)).cloned().collect(),
                    None => vec![name],
                };
                for n in targets {
                    let id = *self.ids.get(&n).ok_or(format!("respond: no request {n:?}"))?;
                    let sent_to = self.origin_of.get(&id).cloned().flatten();
                    let answered_from = opt_str(r.get("redirectedTo")).map(|u| origin_of_absolute(&u).unwrap_or(u)).or(sent_to.clone());
                    if let (Some(date), Some(from)) = (opt_str(r.get("date")), &answered_from) {
                        self.engine.note_date(from, &date, self.wall);
                    }
                    let by_origin = answered_from == sent_to;
                    let www = nonce.as_ref().map(|_| "DPoP error=\"use_dpop_nonce\"");
                    if let (true, true, Some(n), Some(from)) = (self.dpop, by_origin, &nonce, &answered_from) {
                        self.engine.note_dpop_nonce(from, n);
                    }
                    if self.dpop && by_origin && asks_for_nonce(status, www, None) {
                        self.nonce_asked.insert(id);
                        self.engine.nonce_demanded(id);
                    } else {
                        self.engine.response(id, status, by_origin, self.now);
                    }
                    self.drain()?;
                }
            }
            "getToken" | "refresh" => {
                only_keys(m, &[key.as_str(), "note"], "caller step")?;
                let names: Vec<String> = match v {
                    Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                    _ => vec![opt_str(obj(v, &key)?.get("id")).ok_or("id")?],
                };
                for n in names {
                    let id = self.id(&n);
                    if key == "getToken" {
                        self.engine.get_token(id, self.now);
                    } else {
                        self.engine.refresh(id, self.now);
                    }
                    self.drain()?;
                }
            }
            "cancel" => {
                let id = *self.ids.get(v.as_str().ok_or("cancel: an id")?).ok_or("cancel: unknown id")?;
                self.engine.cancel(id, self.now);
                self.drain()?;
            }
            "refreshAnswer" => {
                only_keys(m, &["refreshAnswer", "late", "date", "note"], "refreshAnswer step")?;
                let late = m.get("late").and_then(Value::as_bool).unwrap_or(false);
                let ticket = match (self.flight, late) {
                    (Some(t), false) => t,
                    (_, true) => self.calls.last().map(|c| c.ticket).ok_or("refreshAnswer: no refresh call was ever made")?,
                    (None, false) => bail!("refreshAnswer: no refresh call in flight"),
                };
                if late && self.flight == Some(ticket) {
                    bail!("refreshAnswer late: the last call is still in flight (not late)");
                }
                let date = opt_str(m.get("date"));
                self.answer(ticket, v, date.as_deref())?;
            }
            "server" => {
                self.server = if v.is_null() { None } else { Some(v.clone()) };
                if let (Some(t), Some(_)) = (self.flight, &self.server) {
                    self.pending_auto.push(t);
                    self.drain()?;
                }
            }
            "date" => {
                let d = obj(v, "date")?;
                only_keys(d, &["origin", "value"], "date")?;
                let origin = opt_str(d.get("origin")).unwrap_or_else(|| self.page.clone());
                let value = opt_str(d.get("value")).ok_or("date.value")?;
                self.engine.note_date(&origin, &value, self.wall);
            }
            "baseHref" => self.base = Some(origin_of_absolute(v.as_str().ok_or("baseHref")?).ok_or("baseHref: an absolute URL")?),
            "advance" => self.advance(num(v, "advance")?)?,
            "sleep" => {
                // The machine slept: both clocks moved, no timer ran; it fires on waking.
                let ms = num(v, "sleep")?;
                self.now += ms;
                self.wall += ms;
            }
            "wallJump" => {
                // The wall clock moved and the monotonic clock did not. The session clock, as
                // both faces keep it (engine::session_clock; js/clock.js), counts a jump forward
                // beyond the wall clock's greatest lead so far as a sleep the monotonic clock
                // missed, and never goes back. The face looks again.
                let jump = num(v, "wallJump")?;
                self.wall += jump;
                // engine::session_clock: only a lead beyond any before counts.
                self.wall_behind -= jump;
                if self.wall_behind < 0.0 {
                    self.now -= self.wall_behind;
                    self.wall_behind = 0.0;
                }
                self.engine.timeout(self.now);
                self.drain()?;
            }
            "accessDenied" => {
                // A PubNub status said access denied for this token (SPEC 8).
                let d = obj(v, "accessDenied")?;
                only_keys(d, &["id", "token"], "accessDenied")?;
                let name = opt_str(d.get("id")).ok_or("accessDenied.id")?;
                let used = opt_str(d.get("token")).ok_or("accessDenied.token")?;
                let used = self.token_names.iter().find(|(_, n)| **n == used).map_or(used, |(t, _)| t.clone());
                let id = self.id(&name);
                self.engine.token_after_rejection(id, used, self.now);
                self.drain()?;
            }
            "visible" => {
                self.engine.timeout(self.now);
                self.drain()?;
            }
            "online" => {
                self.engine.online(self.now);
                self.drain()?;
            }
            "logout" => {
                self.engine.logout(self.now);
                self.drain()?;
            }
            "dispose" => {
                self.engine.dispose();
                self.drain()?;
            }
            "random" => self.random = num(v, "random")?,
            "dpopProof" => {
                // The app's own call (`dpopProof(method, url)`): the proof's claims as the engine
                // states them for the URL's origin (the face resolves a path against the page).
                let d = obj(v, "dpopProof")?;
                only_keys(d, &["method", "url"], "dpopProof")?;
                let method = opt_str(d.get("method")).ok_or("dpopProof.method")?;
                let mut url = opt_str(d.get("url")).ok_or("dpopProof.url")?;
                if url.starts_with('/') {
                    url = self.page.clone() + &url;
                }
                let origin = origin_of_absolute(&url).unwrap_or_default();
                self.last_proof = match self.engine.dpop_proof(&method, &url, &origin, "{}", "jti", None, None, self.wall) {
                    None => Value::from("refused"),
                    Some((_, claims)) => {
                        let c: Value = serde_json::from_str(&claims).map_err(|e| format!("the proof's claims: {e}"))?;
                        let iat = c.get("iat").and_then(Value::as_f64).ok_or("the proof has no iat")?;
                        serde_json::json!({
                            "htm": c["htm"], "htu": c["htu"], "iatIn": iat - (self.wall / 1000.0).floor(),
                            "nonce": c.get("nonce").cloned().unwrap_or(Value::Null),
                        })
                    }
                };
            }
            "expect" => self.expect(obj(v, "expect")?)?,
            other => bail!("unknown step {other:?}"),
        }
        // What a face's timer of 0 ms does before the next step (with tabs: every tab's, see `tabs`).
        if self.tab.is_some() {
            return Ok(());
        }
        self.run_timers(self.now)
    }

    fn expect(&self, x: &Map<String, Value>) -> Outcome<()> {
        only_keys(
            x,
            &[
                "state", "token", "refreshToken", "refreshCalls", "inFlight", "lastCall", "lastRequest", "calls", "aborts", "revoked", "refusedCalls", "events",
                "count", "retryDelays", "outcomes", "nextRefreshInMs", "expiresInMs", "timerInMs", "lastProof",
            ],
            "expect",
        )?;
        let mut errors = Vec::new();
        fn check_into(errors: &mut Vec<String>, what: &str, got: Value, want: &Value) {
            if !same(&got, want) {
                errors.push(format!("{what}: got {got}, want {want}"));
            }
        }
        macro_rules! check {
            ($what:expr, $got:expr, $want:expr) => {
                check_into(&mut errors, $what, $got, $want)
            };
        }
        let opt = |v: Option<String>| v.map_or(Value::Null, Value::String);
        let rel = |at: Option<f64>| at.map_or(Value::Null, |a| Value::from(a - self.now));
        let call_json = |c: &Call| serde_json::json!({"accessToken": c.access, "refreshToken": c.refresh});
        for (k, want) in x {
            match k.as_str() {
                "state" => check!(k, Value::from(self.engine.state().as_str()), want),
                "token" => check!(k, opt(self.engine.access_token().map(|t| self.tname(t))), want),
                "refreshToken" => check!(k, opt(self.engine.refresh_token().map(|t| self.tname(t))), want),
                "refreshCalls" => check!(k, Value::from(self.calls.len()), want),
                "refusedCalls" => check!(k, Value::from(self.refused_calls), want),
                "inFlight" => check!(k, Value::from(self.flight.is_some()), want),
                "lastCall" => check!(k, self.calls.last().map_or(Value::Null, call_json), want),
                "lastRequest" => check!(k, self.calls.last().map_or(Value::Null, |c| c.request.clone()), want),
                "calls" => check!(k, Value::Array(self.calls.iter().map(call_json).collect()), want),
                "aborts" => check!(k, serde_json::json!(self.aborts), want),
                "revoked" => check!(k, serde_json::json!(self.revoked), want),
                "lastProof" => check!(k, self.last_proof.clone(), want),
                "events" => check!(k, serde_json::json!(self.events), want),
                "count" => {
                    for (name, n) in obj(want, "count").map_err(|e| e.to_string())? {
                        let got = self.events.iter().filter(|e| e.split(' ').next() == Some(name.as_str()) || *e == name).count();
                        check!(&format!("count of {name}"), Value::from(got), n);
                    }
                }
                "retryDelays" => check!(k, serde_json::json!(self.retry_delays), want),
                "nextRefreshInMs" => check!(k, rel(self.engine.next_refresh_at()), want),
                "expiresInMs" => check!(k, rel(self.engine.expires_at()), want),
                "timerInMs" => check!(k, rel(self.timer), want),
                "outcomes" => {
                    for (name, w) in obj(want, "outcomes")? {
                        match name.strip_suffix('*') {
                            Some(prefix) => {
                                let matching: Vec<_> = self.history.iter().filter(|(n, _)| n.starts_with(prefix)).collect();
                                if matching.is_empty() {
                                    errors.push(format!("outcomes of {name}: no such requests"));
                                }
                                for (n, h) in matching {
                                    check!(&format!("outcome of {n}"), serde_json::json!(h), w);
                                }
                            }
                            None => {
                                let h = self.history.get(name).ok_or(format!("outcomes: no request or caller {name:?}"))?;
                                check!(&format!("outcome of {name}"), serde_json::json!(h), w);
                            }
                        }
                    }
                }
                _ => unreachable!(),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

/// JSON equality with numbers compared as numbers (`48000.0` is `48000`), to a microsecond.
fn same(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Number(a), Value::Number(b)) => (a.as_f64().unwrap_or(f64::NAN) - b.as_f64().unwrap_or(f64::NAN)).abs() < 1e-3,
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (Value::Object(a), Value::Object(b)) => a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| same(x, y))),
        _ => got == want,
    }
}

/// `engine::option_shapes::check` on a scenario's options as given.
fn shapes(options: Option<&Value>) -> Result<(), String> {
    fn text<'a>(v: Option<&'a Value>, k: &str) -> Option<&'a str> {
        v.and_then(|o| o.get(k)).and_then(Value::as_str)
    }
    let ep = options.and_then(|o| o.get("endpoint"));
    let resource: Vec<String> = match ep.and_then(|e| e.get("resource")) {
        Some(Value::Array(a)) => a.iter().map(|r| r.as_str().unwrap_or("").to_owned()).collect(),
        Some(r) => vec![r.as_str().unwrap_or("").to_owned()],
        None => Vec::new(),
    };
    let preset = if text(ep, "preset") == Some("oauth2") { Preset::Oauth2 } else { Preset::Json };
    let custom = options.and_then(|o| o.get("refresh")).is_some();
    let endpoint = (!custom).then(|| EndpointShape {
        url: text(ep, "url").unwrap_or("/auth/refresh"),
        method: text(ep, "method"),
        credentials: text(ep, "credentials"),
        preset,
        client_id: text(ep, "clientId"),
        scope: text(ep, "scope"),
        revoke_url: text(ep, "revokeUrl"),
        resource: &resource,
    });
    option_shapes::check(text(options, "storageKey"), text(options, "loginUrl"), endpoint.as_ref())
}

/// Runs one scenario: `Ok` when every expectation held.
fn run(scenario: &Value) -> Outcome<()> {
    let s = obj(scenario, "a scenario")?;
    only_keys(s, &["name", "rows", "steps", "options", "page", "random", "needs", "known_gap", "divergence", "optionsRefused"], "scenario")?;
    if let Some(want) = s.get("optionsRefused") {
        let want = want.as_str().ok_or("optionsRefused: the text the message must contain")?;
        let page = opt_str(s.get("page")).unwrap_or_else(|| PAGE.to_owned());
        // The options' shapes first, as both faces check them (engine::option_shapes).
        if let Err(m) = shapes(s.get("options")) {
            return if m.contains(want) { Ok(()) } else { Err(format!("refused with {m:?}; the table says the message contains {want:?}")) };
        }
        return match Engine::new(config(s.get("options"), &page)?.0) {
            Ok(_) => Err(format!("the options were taken; the table says refused with {want:?}")),
            Err(e) if e.message().contains(want) => Ok(()),
            Err(e) => Err(format!("refused with {:?}; the table says the message contains {want:?}", e.message())),
        };
    }
    if s.get("options").and_then(|o| o.get("crossTab")) == Some(&Value::Bool(true)) {
        return tabs::play(scenario);
    }
    let mut r = Run::new(scenario)?;
    for (i, step) in s.get("steps").and_then(Value::as_array).ok_or("steps")?.iter().enumerate() {
        r.step(step).map_err(|e| format!("step {i} {step}: {e}"))?;
    }
    Ok(())
}

fn run_caught(scenario: &Value) -> Outcome<()> {
    match catch_unwind(AssertUnwindSafe(|| run(scenario))) {
        Ok(r) => r,
        Err(p) => Err(format!(
            "panicked: {}",
            p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
        )),
    }
}

fn needs(scenario: &Value) -> Vec<String> {
    match scenario.get("needs") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => vec![],
    }
}

/// Written past the test harness's capture, so `cargo test` shows it for a passing test too.
fn say(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

#[test]
fn engine_conformance_table_every_scenario_of_tests_scenarios_engine_json_runs_or_says_why_not() {
    let started = std::time::Instant::now();
    // CONFORMANCE_TABLE=/path/x.json plays another table (e.g. one changed to expect a wrong
    // answer, to see this runner fail), as the two browser runners do.
    let other = std::env::var("CONFORMANCE_TABLE").ok().map(|p| std::fs::read_to_string(&p).expect("CONFORMANCE_TABLE is readable"));
    let table: Value = serde_json::from_str(other.as_deref().unwrap_or(TABLE)).expect("the table is JSON");
    let rows: BTreeMap<String, String> = table["table"]
        .as_object()
        .expect("the table's rows")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
        .collect();
    let needs_why: HashMap<String, String> = table["needs"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect())
        .unwrap_or_default();
    let scenarios = table["scenarios"].as_array().expect("scenarios");

    let mut covered: BTreeMap<&str, u32> = rows.keys().map(|k| (k.as_str(), 0)).collect();
    let mut problems = Vec::new();
    let mut names = std::collections::HashSet::new();
    let (mut passed, mut skipped, mut gaps_failing, mut gaps_passing, mut failed) = (vec![], vec![], vec![], vec![], vec![]);
    for sc in scenarios {
        let name = sc["name"].as_str().unwrap_or("(unnamed)").to_owned();
        if !names.insert(name.clone()) {
            problems.push(format!("two scenarios are named {name:?}"));
        }
        let sc_rows: Vec<&str> = sc["rows"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        if sc_rows.is_empty() {
            problems.push(format!("{name:?} names no row of the table"));
        }
        for row in sc_rows {
            match covered.get_mut(row) {
                Some(n) => *n += 1,
                None => problems.push(format!("{name:?} names row {row:?}, which the table does not have")),
            }
        }
        let missing: Vec<String> = needs(sc).into_iter().filter(|n| !SUPPORTED.contains(&n.as_str())).collect();
        if !missing.is_empty() {
            let why: Vec<String> = missing.iter().map(|n| format!("needs {n}: {}", needs_why.get(n).map_or("not supported by this runner", String::as_str))).collect();
            skipped.push(format!("{name} ({})", why.join("; ")));
            continue;
        }
        let result = run_caught(sc);
        match (sc.get("known_gap").and_then(Value::as_str), result) {
            (None, Ok(())) => passed.push(name),
            (None, Err(e)) => failed.push(format!("{name}\n      {e}")),
            (Some(gap), Err(e)) => gaps_failing.push(format!("{name}\n      gap: {gap}\n      fails: {e}")),
            (Some(gap), Ok(())) => gaps_passing.push(format!("{name}\n      (marked known_gap: {gap})")),
        }
    }
    for (row, n) in &covered {
        if *n == 0 {
            problems.push(format!("row {row:?} ({}) is covered by no scenario", rows[*row]));
        }
    }

    let ran = passed.len() + failed.len() + gaps_failing.len() + gaps_passing.len();
    let mut report = format!(
        "\nengine conformance ({}): {} scenarios, {ran} ran ({} passed, {} failed, {} known gaps reported), {} skipped, in {:.0?}\n",
        std::env::var("CONFORMANCE_TABLE").unwrap_or_else(|_| "tests/scenarios/engine.json".into()),
        scenarios.len(),
        passed.len() + gaps_passing.len(),
        failed.len(),
        gaps_failing.len(),
        skipped.len(),
        started.elapsed()
    );
    for (title, list) in [
        ("skipped", &skipped),
        ("known gaps (the engine fails the table's expectation; not counted as failures)", &gaps_failing),
        ("known gaps that now PASS: remove their known_gap mark", &gaps_passing),
        ("FAILED", &failed),
    ] {
        if !list.is_empty() {
            report += &format!("  {title}:\n");
            for item in list {
                report += &format!("    - {item}\n");
            }
        }
    }
    say(&report);
    assert!(problems.is_empty(), "the table itself is wrong:\n  {}", problems.join("\n  "));
    assert!(failed.is_empty(), "{} scenario(s) failed:\n  {}", failed.len(), failed.join("\n  "));
}

/// The negative control: the scenarios tests/support/wrong-table.mjs changes for the two
/// browser runners (a wrong token, one refresh call too many across two tabs, a refusal
/// message no face gives), changed the same way here, fail on this runner, and pass as written.
#[test]
fn a_scenario_changed_to_expect_a_wrong_answer_fails_on_the_engine() {
    let table: Value = serde_json::from_str(TABLE).expect("the table is JSON");
    let scenarios = table["scenarios"].as_array().expect("scenarios");
    let expects = |sc: &Value| -> Vec<Value> {
        sc["steps"].as_array().map(|s| s.iter().filter_map(|st| st.get("expect").cloned()).collect()).unwrap_or_default()
    };
    let cross = |sc: &Value| sc["options"]["crossTab"] == Value::Bool(true);
    let single = scenarios
        .iter()
        .find(|sc| !cross(sc) && sc.get("needs").is_none() && expects(sc).iter().any(|e| e["token"].is_string()))
        .expect("a single-tab scenario expecting a token");
    let multi = scenarios.iter().find(|sc| cross(sc) && expects(sc).iter().any(|e| e["refreshCalls"].is_number())).expect("a multi-tab scenario counting refresh calls");
    let refused = scenarios.iter().find(|sc| sc["optionsRefused"].is_string()).expect("a scenario of refused options");

    // The same changes as tests/support/wrong-table.mjs: the last expected token, the first
    // expected refresh-call count, the refusal message.
    let mut wrong_token = single.clone();
    let steps = wrong_token["steps"].as_array_mut().expect("steps");
    let last = steps.iter_mut().rev().find(|st| st["expect"]["token"].is_string()).expect("an expected token");
    let token = format!("{}-wrong", last["expect"]["token"].as_str().unwrap_or_default());
    last["expect"]["token"] = Value::String(token);
    let mut wrong_count = multi.clone();
    let steps = wrong_count["steps"].as_array_mut().expect("steps");
    let first = steps.iter_mut().find(|st| st["expect"]["refreshCalls"].is_number()).expect("an expected count");
    let n = first["expect"]["refreshCalls"].as_u64().unwrap_or_default();
    first["expect"]["refreshCalls"] = Value::from(n + 1);
    let mut wrong_message = refused.clone();
    wrong_message["optionsRefused"] = Value::String("a message no face gives".into());

    for (right, wrong) in [(single, &wrong_token), (multi, &wrong_count), (refused, &wrong_message)] {
        let name = right["name"].as_str().unwrap_or_default();
        assert_eq!(run_caught(right), Ok(()), "{name}, as written");
        assert!(run_caught(wrong).is_err(), "{name}, changed to expect a wrong answer, passed");
    }
}
