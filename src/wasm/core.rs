//! `Core`: one [`Engine`] as the JS `Refresher` drives it (through the functions of
//! `wasm/cores.rs`, which hold every live `Core` by handle). The engine decides everything;
//! this only turns JS numbers and texts into its inputs, and its [`Output`]s into a kind
//! number, a few figures in wasm memory and texts JS reads one at a time (`Core::text`).

use wasm_bindgen::JsValue;

use crate::engine::preset::{self, Preset};
use crate::engine::{Abort, Config, ConfigError, Engine, ErrorClass, Event, Output, Refused, Request, RefreshFailure};
use crate::session::{Grant, State};

/// One session's engine, the output JS is reading, and the figures it reads them from.
pub(crate) struct Core {
    engine: Engine,
    /// The output last polled: `Core::text` reads its texts.
    last: Option<Output>,
    /// `Core::figures` writes here; `Core::poll` writes an output's numbers into `out`.
    figures: [f64; 6],
    out: [f64; 4],
    /// The last request's facts (its origin kept for the next one).
    req: Request,
    /// Counts the inputs that may have changed the session's access token (only new tokens
    /// and refresh answers put one in the engine; every other input can only drop it): a
    /// `Send` of that token says this number (`out[3]`), so JS decodes a token's text once,
    /// not per request.
    serial: f64,
}

/// An optional number as it crosses the boundary: NaN (what JS's `+undefined` gives) when absent.
pub(crate) fn given(x: f64) -> Option<f64> {
    if x.is_nan() { None } else { Some(x) }
}

fn grant(access: String, refresh: Option<String>, expires_at: f64, expires_in: f64) -> Grant {
    Grant { access_token: access, refresh_token: refresh, expires_at_ms: given(expires_at), expires_in_s: given(expires_in) }
}

fn statuses(line: &str) -> Vec<u16> {
    // Space-separated decimal statuses; one that is no u16 becomes 0, which the engine
    // refuses by name. One pass over the bytes (a trailing space ends the last).
    let mut out = Vec::new();
    let (mut n, mut len, mut bad) = (0u32, 0, false);
    for b in line.bytes().chain([b' ']) {
        if b != b' ' {
            len += 1;
            bad |= !b.is_ascii_digit() || len > 5;
            n = n.wrapping_mul(10).wrapping_add(u32::from(b.wrapping_sub(b'0')));
        } else if len > 0 {
            out.push(if bad { 0 } else { u16::try_from(n).unwrap_or(0) });
            (n, len, bad) = (0, 0, false);
        }
    }
    out
}

fn some(line: &str) -> Option<String> {
    (!line.is_empty()).then(|| line.to_owned())
}

impl Core {
    /// An engine for the options in `text`: lines `page origin`, `endpoint.url`,
    /// `retryStatuses`, `endSessionStatuses` (space-separated), `loginUrl` and `endpoint.revokeUrl` resolved, then the `origins` entries
    /// (`origins` false: the option was not given). `origins_count` is how many entries JS
    /// gave: an entry holding a line break is refused, never read as two.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(text: &str, origins: bool, origins_count: usize, refresh_at: f64, default_lifetime_ms: f64, refresh_timeout_ms: f64, needs: u32) -> Result<Core, ConfigError> {
        let mut lines = super::buffer::cut(text, b'\n');
        let page_origin = lines.next().and_then(some);
        let endpoint_url = lines.next().and_then(some);
        let retry_statuses = statuses(lines.next().unwrap_or(""));
        let end_session_statuses = statuses(lines.next().unwrap_or(""));
        // `loginUrl` as resolved (a line `-`: the parser refused it; none: not given).
        let login_url = lines.next().and_then(some);
        let revoke_url = lines.next().and_then(some);
        let entries: Vec<String> = lines.map(str::to_owned).collect();
        if origins && entries.len() != origins_count {
            let joined = entries.join("\n");
            return Err(ConfigError::Origin(crate::engine::origins::NotAnOrigin(joined)));
        }
        // `needs`: bits 0-1 the preset (`Preset::ALL`), bit 2 none (the app's own `refresh`
        // function), bit 3 a revocation endpoint, bit 4 `credentials: 'include'` (cookies),
        // bit 5 `dpop: true`.
        let preset = Preset::ALL.get((needs & 3) as usize).copied().filter(|_| needs & 4 == 0);
        let (oauth, revoke, dpop) = (preset.is_some_and(Preset::reads_oauth_errors), needs & 8 != 0, needs & 32 != 0);
        let bearer_refresh = preset.is_some_and(Preset::sends_bearer);
        let needs = preset::needs(preset, needs & 16 != 0);
        let cfg = Config {
            refresh_at,
            default_lifetime_ms,
            retry_statuses,
            end_session_statuses,
            origins: origins.then_some(entries),
            page_origin,
            endpoint_url,
            refresh_timeout_ms,
            needs,
            revoke,
            oauth,
            dpop,
            bearer_refresh,
            login_url,
            revoke_url,
        };
        Ok(Core { engine: Engine::new(cfg)?, last: None, figures: [f64::NAN; 6], out: [f64::NAN; 4], req: Request::default(), serial: 0.0 })
    }

    pub(crate) fn engine(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// New tokens (received at `received`/`wall`; `restored`: checked against the server clock).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn set_tokens(&mut self, access: String, refresh: Option<String>, expires_at: f64, expires_in: f64, restored: bool, received: f64, wall: f64, now: f64) -> u32 {
        self.serial += 1.0;
        match self.engine.set_tokens_received(grant(access, refresh, expires_at, expires_in), restored, received, wall, now) {
            Ok(()) => 0,
            Err(Refused::BadClaim | Refused::Disposed) => 1,
            Err(Refused::TooLarge) => 2,
        }
    }

    /// The refresh call `ticket` answered with these tokens.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn answered(&mut self, ticket: u32, access: String, refresh: Option<String>, expires_at: f64, expires_in: f64, problems: bool, received: f64, wall: f64, now: f64, random: f64) {
        let problems = problems.then(String::new);
        self.serial += 1.0;
        self.engine.refresh_answered_received(ticket, grant(access, refresh, expires_at, expires_in), problems, received, wall, now, random);
    }

    /// The refresh call `ticket` failed: `code`, `status` (0: none), the server's
    /// `Retry-After` in ms, a rotated refresh token to keep, the answer's OAuth `error`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn failed(&mut self, ticket: u32, rejected: bool, code: String, status: u16, retry_after_ms: Option<f64>, rotated: Option<String>, oauth_error: Option<String>, now: f64, random: f64) {
        let failure = RefreshFailure { rejected, code, status: (status != 0).then_some(status), retry_after_ms, rotated_refresh_token: rotated, oauth_error };
        self.engine.refresh_failed(ticket, failure, now, random);
    }

    /// Request `id` is about to go to `origin` (none: no http(s) origin; `None`: the same
    /// origin as the last request's).
    /// `flags` 8: not a request but `Engine::token_after_rejection`, `origin` the refused token.
    pub(crate) fn request(&mut self, id: u64, origin: Option<Option<String>>, flags: u32, now: f64) {
        if flags & 8 != 0 {
            return self.engine.token_after_rejection(id, origin.flatten().unwrap_or_default(), now);
        }
        if let Some(origin) = origin {
            self.req.origin = origin;
        }
        self.req.own_credentials = flags & 1 != 0;
        self.req.refresh_traffic = flags & 2 != 0;
        self.req.skip_replay = flags & 4 != 0;
        self.engine.request(id, &self.req, now);
    }

    /// The next output: its kind (0 when none is left), its numbers in `out`.
    ///
    /// Kinds: 1 start the refresh call (`out[0]` its ticket; texts 0 and 1 the access and
    /// refresh tokens); 2 abort it (`out[0]` ticket, `out[1]` 0 superseded, 1 disposed,
    /// 2 timeout); 3 send (`out[0]` id, `out[1]` 1 with a token (text 0), `out[2]` 1 for the
    /// replay, `out[3]` the serial when the token is the session's: the same serial, the same text); 4 hand the answer back (`out[0]` id); 5 a token for caller `out[0]` (text 0);
    /// 6 settle `out[0]` with an error (`out[1]` class 0 session, 1 refresh, 2 disposed;
    /// `out[2]` 1 when late; `out[3]` status or NaN; text 0 the code); events: 7 refresh,
    /// 8 refresh-error (`out[0]` retryIn, `out[1]` attempt, text 0 the code),
    /// 9 session-expired (text 0 the reason), 10 logout, 11 schedule, 12 forbidden (`out[0]`
    /// status); 13 aim the timer at `out[0]` (NaN: off); 14 revoke the refresh token (text 0).
    /// Plus 32 when another output waits.
    pub(crate) fn poll(&mut self) -> u32 {
        let kind = self.next();
        // 32 when another output waits: JS polls again only then.
        if self.engine.pending() { kind | 32 } else { kind }
    }

    fn next(&mut self) -> u32 {
        let out = &mut self.out;
        *out = [f64::NAN; 4];
        self.last = self.engine.poll();
        let Some(o) = &self.last else { return 0 };
        match o {
            Output::StartRefresh { ticket, .. } => {
                out[0] = *ticket as f64;
                1
            }
            Output::AbortRefresh { ticket, reason } => {
                out[0] = *ticket as f64;
                out[1] = match reason {
                    Abort::Superseded => 0.0,
                    Abort::Disposed => 1.0,
                    Abort::Timeout => 2.0,
                };
                2
            }
            Output::Send { id, token, replay } => {
                out[0] = *id as f64;
                out[1] = token.is_some() as u8 as f64;
                out[2] = *replay as u8 as f64;
                if token.is_some() && token.as_deref() == self.engine.access_token() {
                    out[3] = self.serial;
                }
                3
            }
            Output::Return { id } => {
                out[0] = *id as f64;
                4
            }
            Output::Token { id, .. } => {
                out[0] = *id as f64;
                5
            }
            Output::Fail { id, error } => {
                out[0] = *id as f64;
                out[1] = match error.class {
                    ErrorClass::Session => 0.0,
                    ErrorClass::Refresh => 1.0,
                    ErrorClass::Freshtoken => 2.0,
                };
                out[2] = error.late as u8 as f64;
                out[3] = error.status.map_or(f64::NAN, f64::from);
                6
            }
            Output::Event(e) => match e {
                Event::Refresh => 7,
                Event::RefreshError { retry_in_ms, attempt, .. } => {
                    out[0] = *retry_in_ms;
                    out[1] = f64::from(*attempt);
                    8
                }
                Event::SessionExpired { .. } => 9,
                Event::Logout => 10,
                Event::Schedule => 11,
                Event::Forbidden { status } => {
                    out[0] = f64::from(*status);
                    12
                }
            },
            Output::Timer(at) => {
                out[0] = at.unwrap_or(f64::NAN);
                13
            }
            Output::Revoke { .. } => 14,
        }
    }

    /// Where `poll` leaves an output's numbers.
    pub(crate) fn out(&self) -> *const f64 {
        self.out.as_ptr()
    }

    /// Text `i` of the output last polled (see `poll`), or none.
    pub(crate) fn text(&self, i: u32) -> Option<&str> {
        match (self.last.as_ref()?, i) {
            (Output::StartRefresh { access_token, .. }, 0) => access_token.as_deref(),
            (Output::StartRefresh { refresh_token, .. }, _) => refresh_token.as_deref(),
            (Output::Send { token, .. }, _) => token.as_deref(),
            (Output::Token { token, .. }, _) => Some(token),
            (Output::Fail { error, .. }, _) => Some(&error.code),
            (Output::Event(Event::RefreshError { code, .. }), _) => Some(code),
            (Output::Event(Event::SessionExpired { reason }), _) => Some(reason),
            (Output::Revoke { refresh_token }, _) => Some(refresh_token),
            _ => None,
        }
    }

    /// The session's figures, written into a buffer in wasm memory whose address is
    /// returned (JS reads 6 `f64`s, no copy through the glue): `[state, expiresAt,
    /// nextRefreshAt, receivedAt, nextAttemptAt, failures]`, times on the session clock,
    /// NaN when absent; state 0 idle, 1 fresh, 2 refreshing, 3 expired, 4 logged-out.
    pub(crate) fn figures(&mut self) -> *const f64 {
        let s = self.engine.session();
        let state = match self.engine.state() {
            State::Idle => 0.0,
            State::Fresh => 1.0,
            State::Refreshing => 2.0,
            State::Expired => 3.0,
            State::LoggedOut => 4.0,
        };
        let schedule = s.schedule();
        self.figures = [
            state,
            schedule.map_or(f64::NAN, |x| x.expires_at),
            schedule.map_or(f64::NAN, |x| x.refresh_at),
            schedule.map_or(f64::NAN, |x| x.received_at),
            s.next_attempt_at().unwrap_or(f64::NAN),
            s.failures() as f64,
        ];
        self.figures.as_ptr()
    }

    /// The access token held (`refresh` false) or the refresh token (`refresh` true).
    pub(crate) fn token(&self, refresh: bool) -> Option<&str> {
        if refresh { self.engine.refresh_token() } else { self.engine.access_token() }
    }
}

/// `JsValue` of an optional text.
pub(crate) fn js_text(t: Option<&str>) -> JsValue {
    t.map_or(JsValue::NULL, JsValue::from_str)
}
