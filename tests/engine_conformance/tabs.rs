//! The cross-tab scenarios (`crossTab`, steps with `tab`) for the engine runner: one engine
//! per tab (each a [`Run`], which records what that tab's face observes) on one virtual
//! clock, and the cross-tab protocol's I/O simulated here as the two faces carry it out
//! (`js/tabs.js` with `js/refresher.js`; `src/web/tabs.rs` with `src/web/refresher.rs` and
//! `src/web/storage.rs`; the protocol is written down at the top of `src/web/tabs.rs`):
//!
//! - the Web Lock `freshtoken:<key>`: one holder, a queue in request order, a request
//!   withdrawn when its refresh is dropped, a wait bounded by `refreshTimeoutMs + 5000`
//!   and then a steal; a closed tab's locks are released;
//! - the generation markers: the shared lock `freshtoken:<key>:gen:<N>` a tab holds after
//!   publishing generation N (its older one let go), which the next holder of the lock
//!   queries; and the failure markers: `freshtoken:<key>:failed:<G>:<until>:<status>:<code>`,
//!   held by a tab whose refresh from generation G failed transiently (until its next
//!   result), so that the next holder takes that failure instead of calling again before
//!   the retry point `until`;
//! - the BroadcastChannel `freshtoken:<key>`: a message reaches every other open tab of the
//!   key, in the order sent. A lock grant and a message travel apart, so every scenario is
//!   played twice: once with a lock grant overtaking the messages still on their way (the
//!   order the SPEC warns of: the next holder of the lock learns of the previous holder's
//!   result from the lock manager, not from the message), once with everything delivered in
//!   the order it was sent;
//! - localStorage: one entry per key, a tab's write read at once by that tab and
//!   `storageLag` ms later by the others (tabs live in separate processes);
//! - the messages `tokens` (a record), `hello`, `logout` (an epoch) and `expired` (a
//!   reason and an epoch), the record `{accessToken, refreshToken, expiresAt, expiresIn,
//!   receivedAt, epoch, gen}` and the logout marker `{out: true, epoch}`.
//!
//! Every decision (which epoch a login, logout or refresh result takes, which record is
//! adopted, which message is dropped, whether storage may be written, whether another tab
//! already refreshed) is `freshtoken::engine::tabs`'s: this file keeps the numbers and
//! moves the records, as a face does.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use freshtoken::engine::tabs::{ends_wait, failed_elsewhere, failure_marker, refreshed_elsewhere, stores_rotated, CallFailed, Epochs};
use freshtoken::engine::{Abort, Config, RefreshFailure};
use freshtoken::session::Grant;
use serde_json::{Map, Value};

use super::{num, obj, only_keys, opt_str, Answer, Outcome, Run, NOW0, WALL0};

/// How often a tab waiting for another tab's record looks at storage (`awaitRecord`).
const POLL_MS: f64 = 25.0;

/// A session record or a logout marker, as stored and broadcast.
#[derive(Clone, Debug, Default)]
struct Record {
    out: bool,
    access: Option<String>,
    refresh: Option<String>,
    expires_at: Option<f64>,
    expires_in: Option<f64>,
    received_at: Option<f64>,
    epoch: Option<f64>,
    gen: Option<f64>,
}

impl Record {
    fn out(epoch: f64) -> Record {
        Record { out: true, epoch: Some(epoch), ..Record::default() }
    }
    /// A stored JSON value as the faces read it: each field only with its own type.
    fn of_json(v: &Value) -> Record {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let number = |k: &str| v.get(k).and_then(Value::as_f64);
        Record {
            out: v.get("out") == Some(&Value::Bool(true)),
            access: text("accessToken"),
            refresh: text("refreshToken"),
            expires_at: number("expiresAt"),
            expires_in: number("expiresIn"),
            received_at: number("receivedAt"),
            epoch: number("epoch"),
            gen: number("gen"),
        }
    }
    fn grant(&self) -> Grant {
        Grant {
            access_token: self.access.clone().unwrap_or_default(),
            refresh_token: self.refresh.clone(),
            expires_at_ms: self.expires_at,
            expires_in_s: self.expires_in,
        }
    }
}

/// A message on the channel.
#[derive(Clone, Debug)]
enum Msg {
    Tokens(Record),
    Hello,
    Logout(f64),
    Expired(&'static str, f64),
}

/// Something on its way to a tab, delivered in order.
enum Delivery {
    Msg { to: usize, msg: Msg },
    /// The lock was granted to refresh `flight` of tab `to` (its callback runs).
    Granted { to: usize, flight: u64 },
    /// The server's standing answer (`server` step) to call `call`.
    Answer { call: usize },
}

struct Write {
    key: String,
    at: f64,
    tab: usize,
    rec: Record,
}

#[derive(Default)]
struct Lock {
    holder: Option<(usize, u64)>,
    queue: VecDeque<(usize, u64)>,
}

/// A refresh call a tab made (the calls of every tab, in order).
pub(super) struct Call {
    tab: usize,
    pub(super) access: Option<String>,
    pub(super) refresh: Option<String>,
    pub(super) in_flight: bool,
}

/// What the tabs share: the lock manager, the channel, storage, the refresh endpoint.
#[derive(Default)]
pub(super) struct World {
    lag: f64,
    now: f64,
    writes: Vec<Write>,
    locks: HashMap<String, Lock>,
    /// Generation markers held: (tab, key, generation).
    markers: Vec<(usize, String, f64)>,
    /// Failure markers held: (tab, key, generation, retry point, status, code).
    failures: Vec<(usize, String, f64, f64, Option<u16>, String)>,
    /// Open channels: (tab, key).
    channels: Vec<(usize, String)>,
    queue: VecDeque<Delivery>,
    pub(super) calls: Vec<Call>,
    server: Option<Value>,
    flights: u64,
    /// A lock grant overtakes the messages on their way (else: the order sent).
    grants_first: bool,
}

impl World {
    /// The entry under `key` as tab `tab` reads it now: a session or a logout marker.
    fn load(&self, key: &str, tab: usize) -> Option<Record> {
        let w = self.writes.iter().rev().find(|w| w.key == key && (w.tab == tab || w.at + self.lag <= self.now))?;
        let session = w.rec.access.as_deref().is_some_and(|t| !t.is_empty());
        (w.rec.out || session).then(|| w.rec.clone())
    }
    fn save(&mut self, key: &str, tab: usize, rec: Record) {
        self.writes.push(Write { key: key.to_owned(), at: self.now, tab, rec });
    }
    fn post(&mut self, from: usize, key: &str, msg: &Msg) {
        let to: Vec<usize> = self.channels.iter().filter(|(t, k)| *t != from && k == key).map(|(t, _)| *t).collect();
        for t in to {
            self.queue.push_back(Delivery::Msg { to: t, msg: msg.clone() });
        }
    }
    fn request(&mut self, key: &str, tab: usize, flight: u64) {
        let lock = self.locks.entry(key.to_owned()).or_default();
        if lock.holder.is_none() && lock.queue.is_empty() {
            lock.holder = Some((tab, flight));
            self.queue.push_back(Delivery::Granted { to: tab, flight });
        } else {
            lock.queue.push_back((tab, flight));
        }
    }
    fn withdraw(&mut self, key: &str, tab: usize, flight: u64) {
        if let Some(lock) = self.locks.get_mut(key) {
            lock.queue.retain(|q| *q != (tab, flight));
        }
    }
    fn release(&mut self, key: &str, tab: usize, flight: u64) {
        let Some(lock) = self.locks.get_mut(key) else { return };
        if lock.holder != Some((tab, flight)) {
            return; // stolen meanwhile
        }
        lock.holder = lock.queue.pop_front();
        if let Some((to, flight)) = lock.holder {
            self.queue.push_back(Delivery::Granted { to, flight });
        }
    }
    fn steal(&mut self, key: &str, tab: usize, flight: u64) {
        let lock = self.locks.entry(key.to_owned()).or_default();
        lock.queue.retain(|q| *q != (tab, flight));
        lock.holder = Some((tab, flight));
        self.queue.push_back(Delivery::Granted { to: tab, flight });
    }
    /// The highest generation marker held for `key` (0 without one): `latestGen`.
    fn latest(&self, key: &str) -> f64 {
        self.markers.iter().filter(|(_, k, g)| k == key && freshtoken::engine::tabs::valid_epoch(*g)).map(|(_, _, g)| *g).fold(0.0, f64::max)
    }
    /// Tab `tab` published generation `gen` (its older markers let go, a failure's too).
    fn mark(&mut self, tab: usize, key: &str, gen: f64) {
        self.markers.retain(|(t, _, _)| *t != tab);
        self.failures.retain(|f| f.0 != tab);
        self.markers.push((tab, key.to_owned(), gen));
    }
    /// Tab `tab`'s refresh from generation `gen` failed transiently (its older failure let go).
    fn mark_failed(&mut self, tab: usize, key: &str, gen: f64, until: f64, failure: &RefreshFailure) {
        self.failures.retain(|f| f.0 != tab);
        self.failures.push((tab, key.to_owned(), gen, until, failure.status, failure.code.clone()));
    }
    /// A tab closed (or disposed): its channel, markers and locks let go.
    fn leave(&mut self, tab: usize) {
        self.channels.retain(|(t, _)| *t != tab);
        self.markers.retain(|(t, _, _)| *t != tab);
        self.failures.retain(|f| f.0 != tab);
        let keys: Vec<String> = self.locks.keys().cloned().collect();
        for key in keys {
            let lock = self.locks.get_mut(&key).expect("a lock");
            lock.queue.retain(|(t, _)| *t != tab);
            if let Some((t, f)) = lock.holder.filter(|(t, _)| *t == tab) {
                self.release(&key, t, f);
            }
        }
    }
}

/// Where a refresh of this tab stands in the protocol.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Waiting for the lock; stolen at `steal_at`.
    Queued { steal_at: f64 },
    /// Holding the lock, waiting for another tab's record of generation `gen` (`awaitRecord`).
    Awaiting { gen: f64, latest: f64, next_poll: f64, deadline: f64 },
    /// Holding the lock; the refresh call `call` is made.
    Calling { call: usize, latest: f64 },
}

#[derive(Clone, Debug)]
struct Flight {
    id: u64,
    ticket: u32,
    epoch: f64,
    start_gen: f64,
    access: Option<String>,
    refresh: Option<String>,
    /// The engine dropped it (superseded, timeout, disposed): its outcome counts no more.
    dropped: bool,
    phase: Phase,
}

/// One tab's end of the protocol: what a face keeps besides its engine.
pub(super) struct TabIo {
    idx: usize,
    key: String,
    world: Rc<RefCell<World>>,
    me: Epochs,
    /// expiresAt, expiresIn, receivedAt (wall) of the tokens held: the record's other fields.
    saved: (Option<f64>, Option<f64>, f64),
    /// Taking a session end another tab told: not told back.
    quiet: bool,
    lock_wait_ms: f64,
    flights: Vec<Flight>,
    closed: bool,
    /// The last record another tab broadcast (where a rotated refresh token kept from an
    /// unusable answer also reaches this tab).
    heard: Option<Record>,
}

fn io(run: &mut Run) -> &mut TabIo {
    run.tab.as_mut().expect("a tab")
}

fn world(run: &Run) -> Rc<RefCell<World>> {
    run.tab.as_ref().expect("a tab").world.clone()
}

/// The session as stored and shared (`_record`), or `None` without a token.
fn record(run: &Run) -> Option<Record> {
    let t = run.tab.as_ref()?;
    let access = run.engine.access_token()?.to_owned();
    Some(Record {
        out: false,
        access: Some(access),
        refresh: run.engine.refresh_token().map(str::to_owned),
        expires_at: t.saved.0,
        expires_in: t.saved.1,
        received_at: Some(t.saved.2),
        epoch: Some(t.me.epoch),
        gen: Some(t.me.gen),
    })
}

/// Writes `rec` unless storage (as this tab reads it) holds a later epoch, or (a session
/// record) a rotated refresh token another tab kept in this very generation (`_persist`).
fn persist(run: &Run, rec: Record) {
    persist_as(run, rec, false);
}

/// `_persist(rec, own)`: `own`, the rotated refresh token this tab kept, written under the lock.
fn persist_as(run: &Run, rec: Record, own: bool) {
    let t = run.tab.as_ref().expect("a tab");
    let mut w = t.world.borrow_mut();
    if let Some(cur) = w.load(&t.key, t.idx) {
        let epoch = rec.epoch.unwrap_or(0.0);
        let differs = !own && !rec.out && differs(&cur, rec.refresh.as_deref());
        if !(Epochs { epoch, gen: rec.gen.unwrap_or(epoch) }).may_overwrite(cur.out, cur.epoch, cur.gen, differs) {
            return;
        }
    }
    w.save(&t.key, t.idx, rec);
}

/// Whether stored record `rec` carries a refresh token other than `held`.
fn differs(rec: &Record, held: Option<&str>) -> bool {
    rec.refresh.as_deref().is_some_and(|r| !r.is_empty() && Some(r) != held)
}

fn post(run: &Run, msg: Msg) {
    let t = run.tab.as_ref().expect("a tab");
    t.world.borrow_mut().post(t.idx, &t.key, &msg);
}

/// The engine's `Schedule` and `Logout`: the tokens held are stored (`_sync`).
pub(super) fn sync(run: &mut Run) {
    if let Some(rec) = record(run) {
        persist(run, rec);
    }
}

/// The engine's `SessionExpired`: the marker stored, the other tabs told (`_sessionEnded`).
pub(super) fn ended(run: &mut Run, reason: &'static str) {
    let (epoch, quiet) = (io(run).me.epoch, io(run).quiet);
    persist(run, Record::out(epoch));
    if !quiet {
        post(run, Msg::Expired(reason, epoch));
    }
}

/// Puts tokens into the engine as epoch `epoch`, generation `gen`, received at wall `wall` (`_take`).
fn take(run: &mut Run, grant: Grant, wall: f64, epoch: f64, gen: f64, restored: bool) -> Outcome<bool> {
    let t = io(run);
    let was = (t.me, t.saved);
    t.me = Epochs { epoch, gen };
    t.saved = (grant.expires_at_ms, grant.expires_in_s, wall);
    let received = run.now - (run.wall - wall).max(0.0);
    if run.engine.set_tokens_received(grant, restored, received, wall, run.now).is_err() {
        let t = io(run);
        (t.me, t.saved) = was;
        return Ok(false);
    }
    run.drain()?;
    Ok(true)
}

/// A record from storage or another tab, taken only when newer (`_adopt`).
fn adopt(run: &mut Run, rec: &Record, from_other_tab: bool) -> Outcome<bool> {
    let holding = run.engine.access_token().is_some();
    let has_token = rec.access.is_some();
    if !io(run).me.adopts(rec.out, has_token, rec.epoch, rec.gen, holding) {
        return Ok(false);
    }
    let epoch = rec.epoch.unwrap_or(0.0);
    let gen = rec.gen.unwrap_or(epoch);
    let wall = rec.received_at.map_or(run.wall, |r| r.min(run.wall));
    if !take(run, rec.grant(), wall, epoch, gen, false)? {
        return Ok(false);
    }
    if from_other_tab {
        // The face tells the app: a refresh (from another tab).
        run.events.push("refresh".into());
    }
    Ok(true)
}

/// A tab opens its refresher: joins the channel, reads storage, asks the others (`hello`).
pub(super) fn open(run: &mut Run) -> Outcome<()> {
    let (idx, key, w) = {
        let t = io(run);
        (t.idx, t.key.clone(), t.world.clone())
    };
    w.borrow_mut().channels.push((idx, key.clone()));
    let saved = w.borrow().load(&key, idx);
    match saved {
        // A logout marker: this tab starts at its epoch.
        Some(rec) if rec.out => {
            if let Some(e) = rec.epoch.filter(|e| io(run).me.takes_logout(*e)) {
                io(run).me.epoch = e;
            }
        }
        Some(rec) => {
            adopt(run, &rec, false)?;
        }
        None => {}
    }
    post(run, Msg::Hello);
    Ok(())
}

/// `setTokens` in a tab: a new epoch, told to the others.
pub(super) fn set_tokens(run: &mut Run, v: &Value, refused: bool) -> Outcome<()> {
    let grant = run.token_set(v)?;
    let restored = grant.expires_in_s.is_none();
    let wall = run.wall;
    let epoch = io(run).me.next(wall);
    let taken = take(run, grant, run.wall, epoch, epoch, restored)?;
    if taken == refused {
        bail!("setTokens was {} but the table says refused: {refused}", if taken { "taken" } else { "refused" });
    }
    if let Some(rec) = record(run) {
        post(run, Msg::Tokens(rec));
    }
    Ok(())
}

/// Logs out as epoch `epoch` (`_logout`); `here`: this tab's own logout, told to the others.
fn logout_at(run: &mut Run, epoch: f64, here: bool) -> Outcome<()> {
    if !io(run).me.takes_logout(epoch) {
        return Ok(());
    }
    io(run).me.epoch = epoch;
    persist(run, Record::out(epoch));
    if here {
        post(run, Msg::Logout(epoch));
    }
    run.engine.logout_here(here, run.now);
    run.drain()
}

/// `logout()` in a tab.
pub(super) fn logout(run: &mut Run) -> Outcome<()> {
    let wall = run.wall;
    let epoch = io(run).me.next(wall);
    logout_at(run, epoch, true)
}

/// The tab closes, or its refresher is disposed: it leaves the channel, its marker and
/// its locks (the browser releases a closed tab's).
pub(super) fn leave(run: &mut Run) {
    let t = io(run);
    t.closed = true;
    t.flights.clear();
    let (w, idx) = (t.world.clone(), t.idx);
    w.borrow_mut().leave(idx);
}

/// A message from another tab (`receive`).
fn receive(run: &mut Run, msg: Msg) -> Outcome<()> {
    match msg {
        Msg::Tokens(rec) => {
            if io(run).me.is_left(rec.epoch) {
                // A late record of a session this tab left: dropped, and storage (which its
                // late writer may just have overwritten) put back.
                let epoch = io(run).me.epoch;
                let own = record(run).unwrap_or_else(|| Record::out(epoch));
                persist(run, own);
                return Ok(());
            }
            io(run).heard = Some(rec.clone());
            if adopt(run, &rec, true)? {
                // A refresh waiting for this record takes it (`awaitRecord`'s waiters).
                let waiting: Vec<u64> = io(run)
                    .flights
                    .iter()
                    .filter(|f| matches!(f.phase, Phase::Awaiting { gen, .. } if ends_wait(f.epoch, gen, rec.out, rec.access.is_some(), rec.epoch, rec.gen)))
                    .map(|f| f.id)
                    .collect();
                for id in waiting {
                    land_record(run, id, rec.clone())?;
                }
            }
            Ok(())
        }
        Msg::Hello => {
            if let Some(rec) = record(run) {
                post(run, Msg::Tokens(rec));
            }
            Ok(())
        }
        Msg::Logout(epoch) => logout_at(run, epoch, false),
        Msg::Expired(reason, epoch) => {
            if io(run).me.takes_end(Some(epoch)) {
                io(run).quiet = true;
                run.engine.expire(reason, run.now);
                let r = run.drain();
                io(run).quiet = false;
                r?;
            }
            Ok(())
        }
    }
}

// --- the refresh under the lock (`exclusive`) -----------------------------------------------

fn flight(run: &mut Run, id: u64) -> Option<&mut Flight> {
    io(run).flights.iter_mut().find(|f| f.id == id)
}

fn release(run: &mut Run, id: u64) {
    let t = io(run);
    t.flights.retain(|f| f.id != id);
    let (w, key, idx) = (t.world.clone(), t.key.clone(), t.idx);
    w.borrow_mut().release(&key, idx, id);
}

/// The engine started refresh `ticket`: the face asks for the lock, its wait bounded by the
/// face (the engine's own timeout stops meanwhile: `refresh_waits`).
pub(super) fn start(run: &mut Run, ticket: u32, access: Option<String>, refresh: Option<String>) -> Outcome<()> {
    let (now, w) = (run.now, world(run));
    let id = {
        let mut w = w.borrow_mut();
        w.flights += 1;
        w.flights
    };
    let t = io(run);
    let f = Flight {
        id,
        ticket,
        epoch: t.me.epoch,
        start_gen: t.me.gen,
        access,
        refresh,
        dropped: false,
        phase: Phase::Queued { steal_at: now + t.lock_wait_ms },
    };
    t.flights.push(f);
    let (key, idx) = (t.key.clone(), t.idx);
    run.engine.refresh_waits(ticket, true, now);
    w.borrow_mut().request(&key, idx, id);
    Ok(())
}

/// The engine dropped refresh `ticket`: its lock request withdrawn, or its call aborted.
pub(super) fn abort(run: &mut Run, ticket: u32, reason: Abort) -> Outcome<()> {
    let Some(f) = io(run).flights.iter_mut().find(|f| f.ticket == ticket && !f.dropped) else { return Ok(()) };
    f.dropped = true;
    let f = f.clone();
    match f.phase {
        Phase::Queued { .. } => {
            io(run).flights.retain(|x| x.id != f.id);
            let (key, idx) = (io(run).key.clone(), io(run).idx);
            // A grant already on its way finds the flight gone and lets the lock go.
            world(run).borrow_mut().withdraw(&key, idx, f.id);
            if world(run).borrow().locks.get(&key).is_some_and(|l| l.holder == Some((idx, f.id))) {
                world(run).borrow_mut().release(&key, idx, f.id);
            }
        }
        // `awaitRecord` notices at its next look (or a record's arrival).
        Phase::Awaiting { .. } => {}
        Phase::Calling { call, .. } => {
            world(run).borrow_mut().calls[call].in_flight = false;
            // A call the engine timed out is published as a transient failure, with the
            // engine's own retry point (it took the failure already), before the lock is let go.
            let retry_in_ms = run.engine.next_attempt_at().map(|at| (at - run.now).max(0.0));
            let left = io(run).closed || io(run).me.epoch != f.epoch;
            if let Some(until) = failure_marker(CallFailed { aborted: Some(reason), left, retry_in_ms, ..CallFailed::default() }, run.wall) {
                let failure = RefreshFailure { code: "timeout".into(), ..RefreshFailure::default() };
                let t = io(run);
                t.world.borrow_mut().mark_failed(t.idx, &t.key, f.start_gen, until, &failure);
            }
            run.aborts.push(
                match reason {
                    Abort::Superseded => "superseded",
                    Abort::Disposed => "disposed",
                    Abort::Timeout => "timeout",
                }
                .into(),
            );
            release(run, f.id);
        }
    }
    Ok(())
}

/// The record of `epoch` with a generation of at least `gen`, held here or in storage.
fn find(run: &Run, epoch: f64, gen: f64) -> Option<Record> {
    let t = run.tab.as_ref()?;
    if ends_wait(epoch, gen, false, true, Some(t.me.epoch), Some(t.me.gen)) {
        return record(run);
    }
    let rec = t.world.borrow().load(&t.key, t.idx)?;
    ends_wait(epoch, gen, rec.out, rec.access.is_some(), rec.epoch, rec.gen).then_some(rec)
}

/// The lock is granted to flight `id`: another tab's result taken, or the call made.
fn granted(run: &mut Run, id: u64) -> Outcome<()> {
    let Some(f) = flight(run, id).cloned() else {
        let (key, idx) = (io(run).key.clone(), io(run).idx);
        world(run).borrow_mut().release(&key, idx, id);
        return Ok(());
    };
    if f.dropped || io(run).me.epoch != f.epoch {
        release(run, id); // superseded
        return Ok(());
    }
    // A rotated refresh token another tab kept from an unusable answer, in this very
    // generation (written under this lock, and broadcast): taken before this tab spends its own.
    let (stored, heard) = {
        let t = io(run);
        (t.world.borrow().load(&t.key, t.idx), t.heard.clone())
    };
    let held = run.engine.refresh_token().map(str::to_owned);
    let me = io(run).me;
    if let Some(rec) = [stored, heard].into_iter().flatten().find(|r| me.takes_rotated(r.out, r.epoch, r.gen, differs(r, held.as_deref()))) {
        let taken = rec.refresh.clone().unwrap_or_default();
        run.engine.refresh_token_taken(f.ticket, taken.clone());
        if let Some(f) = flight(run, id) {
            f.refresh = Some(taken);
        }
    }
    let latest = {
        let t = io(run);
        t.world.borrow().latest(&t.key)
    };
    let gen = io(run).me.gen;
    if refreshed_elsewhere(latest, gen, f.start_gen) {
        // Another tab refreshed since this one decided to: its record, not a second call.
        let want = latest.max(gen);
        if let Some(rec) = find(run, f.epoch, want) {
            return land_record(run, id, rec);
        }
        let (now, wait) = (run.now, io(run).lock_wait_ms);
        if let Some(f) = flight(run, id) {
            f.phase = Phase::Awaiting { gen: want, latest, next_poll: now + POLL_MS, deadline: now + wait };
        }
        return Ok(());
    }
    // Another tab's refresh from this generation failed and its retry point is ahead: that
    // failure is this tab's too (its engine backs off to the same point), not a second call.
    let failed = {
        let wall = run.wall;
        let t = io(run);
        let w = t.world.borrow();
        w.failures.iter().find(|x| x.1 == t.key && failed_elsewhere(x.2, x.3, f.start_gen, wall)).cloned()
    };
    if let Some((_, _, _, until, status, code)) = failed {
        release(run, id);
        let failure = RefreshFailure { code, status, retry_after_ms: Some(until - run.wall), ..Default::default() };
        run.engine.refresh_failed(f.ticket, failure, run.now, run.random);
        return run.drain();
    }
    call(run, id, latest)
}

/// Flight `id` takes another tab's record (`{...rec, adopted: true}`); the lock let go.
fn land_record(run: &mut Run, id: u64, rec: Record) -> Outcome<()> {
    let Some(f) = flight(run, id).cloned() else { return Ok(()) };
    release(run, id);
    if f.dropped {
        return Ok(());
    }
    if let Some(g) = rec.gen {
        io(run).me.gen = g;
    }
    let wall = rec.received_at.map_or(run.wall, |r| r.min(run.wall));
    io(run).saved = (rec.expires_at, rec.expires_in, wall);
    let received = run.now - (run.wall - wall).max(0.0);
    run.engine.refresh_answered_received(f.ticket, rec.grant(), None, received, wall, run.now, run.random);
    run.drain()
}

/// Flight `id` makes the refresh call, holding the lock.
fn call(run: &mut Run, id: u64, latest: f64) -> Outcome<()> {
    let Some(f) = flight(run, id).cloned() else { return Ok(()) };
    // The tokens it started with, unless this tab took a newer generation meanwhile.
    let (access, refresh) = if io(run).me.gen > f.start_gen {
        (run.engine.access_token().map(str::to_owned), run.engine.refresh_token().map(str::to_owned))
    } else {
        (f.access.clone(), f.refresh.clone())
    };
    run.engine.refresh_waits(f.ticket, false, run.now);
    let (access, refresh) = (access.map(|t| run.tname(&t)), refresh.map(|t| run.tname(&t)));
    let w = world(run);
    let call = {
        let mut w = w.borrow_mut();
        w.calls.push(Call { tab: io(run).idx, access, refresh, in_flight: true });
        let call = w.calls.len() - 1;
        if w.server.is_some() {
            w.queue.push_back(Delivery::Answer { call });
        }
        call
    };
    if let Some(f) = flight(run, id) {
        f.phase = Phase::Calling { call, latest };
    }
    run.drain()
}

/// The refresh endpoint answered call `call` of this tab.
pub(super) fn answer(run: &mut Run, call: usize, v: &Value, date: Option<&str>) -> Outcome<()> {
    let answer = run.classify(v)?;
    if matches!(answer, Answer::Hang) {
        return Ok(());
    }
    let w = world(run);
    let was_in_flight = std::mem::replace(&mut w.borrow_mut().calls[call].in_flight, false);
    if let (Some(date), Some(origin)) = (date, run.refresh_origin()) {
        run.engine.note_date(&origin, date, run.wall);
    }
    let found = io(run).flights.iter().find(|f| matches!(f.phase, Phase::Calling { call: c, .. } if c == call)).cloned();
    let (Some(f), true) = (found, was_in_flight) else {
        return Ok(()); // aborted: the face's fetch rejected already, the answer reaches nothing
    };
    let Phase::Calling { latest, .. } = f.phase else { unreachable!() };
    match answer {
        Answer::Hang => Ok(()),
        Answer::Tokens(grant, problems) => {
            // Published before the lock is let go: stored, broadcast, the marker held.
            let known = latest.max(io(run).me.gen);
            let gen = Epochs { epoch: known, gen: known }.next(run.wall);
            let rec = Record {
                out: false,
                access: Some(grant.access_token.clone()),
                refresh: grant.refresh_token.clone().or_else(|| run.engine.refresh_token().map(str::to_owned)),
                expires_at: grant.expires_at_ms,
                expires_in: grant.expires_in_s,
                received_at: Some(run.wall),
                epoch: Some(f.epoch),
                gen: Some(gen),
            };
            persist(run, rec.clone());
            post(run, Msg::Tokens(rec));
            {
                let t = io(run);
                t.world.borrow_mut().mark(t.idx, &t.key, gen);
            }
            release(run, f.id);
            io(run).me.gen = gen;
            io(run).saved = (grant.expires_at_ms, grant.expires_in_s, run.wall);
            run.engine.refresh_answered(f.ticket, grant, problems, run.now, run.wall, run.random);
            run.drain()
        }
        Answer::Failed(failure) => {
            // Published before the lock is let go when the engine's rule says so (a
            // transient failure; a rejection ends the session, which `expired` tells).
            let left = io(run).me.epoch != f.epoch;
            let facts = CallFailed { rejected: failure.rejected, left, retry_in_ms: failure.retry_after_ms, ..CallFailed::default() };
            // A rotated refresh token the unusable answer carried (the engine keeps it): stored
            // under the lock, so the next holder takes it instead of spending the old one.
            let rotated = failure.rotated_refresh_token.clone().filter(|r| !r.is_empty());
            if let (true, Some(rotated), Some(rec)) = (stores_rotated(facts, rotated.is_some()), rotated, record(run)) {
                let rec = Record { refresh: Some(rotated), ..rec };
                persist_as(run, rec.clone(), true);
                post(run, Msg::Tokens(rec));
            }
            if let Some(until) = failure_marker(facts, run.wall) {
                let t = io(run);
                t.world.borrow_mut().mark_failed(t.idx, &t.key, f.start_gen, until, &failure);
            }
            release(run, f.id);
            run.engine.refresh_failed(f.ticket, failure, run.now, run.random);
            run.drain()
        }
    }
}

/// When this tab's protocol next needs the clock (a steal, a look at storage), if ever.
fn next_timer(run: &Run) -> Option<f64> {
    let t = run.tab.as_ref()?;
    if t.closed {
        return None;
    }
    t.flights
        .iter()
        .filter_map(|f| match f.phase {
            Phase::Queued { steal_at } if !f.dropped => Some(steal_at),
            Phase::Awaiting { next_poll, deadline, .. } => Some(next_poll.min(deadline)),
            _ => None,
        })
        .reduce(f64::min)
}

/// The protocol's timers due now: a steal after the bounded wait, a look at storage.
fn fire(run: &mut Run) -> Outcome<()> {
    let now = run.now;
    let due: Vec<Flight> = io(run).flights.iter().filter(|f| matches!(f.phase,
        Phase::Queued { steal_at } if steal_at <= now && !f.dropped)
        || matches!(f.phase, Phase::Awaiting { next_poll, deadline, .. } if next_poll.min(deadline) <= now)).cloned().collect();
    for f in due {
        match f.phase {
            Phase::Queued { .. } => {
                // The holder did not let go in time (a frozen tab): the lock is taken from it.
                if let Some(x) = flight(run, f.id) {
                    x.phase = Phase::Queued { steal_at: f64::INFINITY };
                }
                let (key, idx) = (io(run).key.clone(), io(run).idx);
                world(run).borrow_mut().steal(&key, idx, f.id);
            }
            Phase::Awaiting { gen, latest, next_poll, deadline } => {
                if let Some(rec) = find(run, f.epoch, gen) {
                    land_record(run, f.id, rec)?;
                } else if f.dropped || io(run).me.epoch != f.epoch {
                    release(run, f.id); // the session was left: superseded
                } else if deadline <= now {
                    call(run, f.id, latest)?; // the record never came: the call after all
                } else if let Some(x) = flight(run, f.id) {
                    x.phase = Phase::Awaiting { gen, latest, next_poll: next_poll + POLL_MS, deadline };
                }
            }
            Phase::Calling { .. } => {}
        }
    }
    Ok(())
}

// --- the scenario ------------------------------------------------------------------------------

/// The tabs of one scenario, on one clock.
struct Tabs<'a> {
    sc: &'a Value,
    world: Rc<RefCell<World>>,
    tabs: Vec<(String, Run)>,
    now: f64,
    wall: f64,
    fires: u32,
}

/// Plays a cross-tab scenario (tab A opens first; B and C by `open` steps).
/// Both orders of delivery must meet the table (see the top).
pub(super) fn play(sc: &Value) -> Outcome<()> {
    for (grants_first, order) in [(true, "a lock grant overtaking messages"), (false, "everything in the order sent")] {
        let world = Rc::new(RefCell::new(World { grants_first, ..World::default() }));
        let mut t = Tabs { sc, world, tabs: Vec::new(), now: NOW0, wall: WALL0, fires: 0 };
        let mut play = || -> Outcome<()> {
            t.open("A", None)?;
            for (i, step) in sc.get("steps").and_then(Value::as_array).ok_or("steps")?.iter().enumerate() {
                t.step(step).map_err(|e| format!("step {i} {step}: {e}"))?;
            }
            Ok(())
        };
        play().map_err(|e| format!("({order}) {e}"))?;
    }
    Ok(())
}

impl Tabs<'_> {
    fn index(&self, name: &str) -> Outcome<usize> {
        match self.tabs.iter().position(|(n, _)| n == name) {
            Some(i) if !self.tabs[i].1.tab.as_ref().is_some_and(|t| t.closed) => Ok(i),
            Some(_) => bail!("tab {name} is closed"),
            None => bail!("tab {name} was never opened"),
        }
    }

    fn open(&mut self, name: &str, key: Option<String>) -> Outcome<()> {
        if self.tabs.iter().any(|(n, _)| n == name) {
            bail!("tab {name} is open already");
        }
        let options = self.sc.get("options").and_then(Value::as_object);
        let opt = |k: &str| options.and_then(|o| o.get(k));
        if opt("crossTab") != Some(&Value::Bool(true)) || opt("storage").and_then(Value::as_str) != Some("localStorage") {
            bail!("a scenario with tabs needs options crossTab: true and storage: \"localStorage\"");
        }
        let key = key.or_else(|| opt_str(opt("storageKey"))).unwrap_or_else(|| "freshtoken".into());
        let timeout = opt("refreshTimeoutMs").and_then(Value::as_f64).unwrap_or(Config::default().refresh_timeout_ms);
        let mut run = Run::new(self.sc)?;
        (run.now, run.wall) = (self.now, self.wall);
        let idx = self.tabs.len();
        run.tab = Some(TabIo {
            idx,
            key,
            world: self.world.clone(),
            me: Epochs::default(),
            saved: (None, None, self.wall),
            quiet: false,
            lock_wait_ms: timeout + 5_000.0,
            flights: Vec::new(),
            closed: false,
            heard: None,
        });
        self.tabs.push((name.to_owned(), run));
        open(&mut self.tabs[idx].1)
    }

    fn clocks(&mut self, now: f64, wall: f64) {
        (self.now, self.wall) = (now, wall);
        self.world.borrow_mut().now = now;
        for (_, run) in &mut self.tabs {
            (run.now, run.wall) = (now, wall);
        }
    }

    /// Delivers what is on its way (messages, lock grants), in order, until nothing is.
    fn settle(&mut self) -> Outcome<()> {
        for _ in 0..100_000 {
            let next = {
                let mut w = self.world.borrow_mut();
                match w.queue.iter().position(|d| matches!(d, Delivery::Granted { .. })).filter(|_| w.grants_first) {
                    Some(i) => w.queue.remove(i),
                    None => w.queue.pop_front(),
                }
            };
            let Some(d) = next else {
                return Ok(());
            };
            let to = match &d {
                Delivery::Msg { to, .. } | Delivery::Granted { to, .. } => *to,
                Delivery::Answer { call } => self.world.borrow().calls[*call].tab,
            };
            let run = &mut self.tabs[to].1;
            let closed = run.tab.as_ref().is_some_and(|t| t.closed);
            match d {
                Delivery::Granted { flight, .. } if closed => {
                    let key = io(run).key.clone();
                    self.world.borrow_mut().release(&key, to, flight);
                }
                _ if closed => {}
                Delivery::Msg { msg, .. } => receive(run, msg)?,
                Delivery::Granted { flight, .. } => granted(run, flight)?,
                Delivery::Answer { call } => {
                    let answer = self.world.borrow().server.clone();
                    if let Some(answer) = answer {
                        self.answer_call(call, &answer, None)?;
                    }
                }
            }
        }
        bail!("the tabs keep messaging each other (a loop?)")
    }

    fn answer_call(&mut self, call: usize, v: &Value, date: Option<&str>) -> Outcome<()> {
        let to = self.world.borrow().calls[call].tab;
        answer(&mut self.tabs[to].1, call, v, date)
    }

    /// Fires every timer (each tab's engine timer and protocol timers) due by `until`, in order.
    fn run_timers(&mut self, until: f64) -> Outcome<()> {
        loop {
            self.settle()?;
            let mut best: Option<(f64, usize, bool)> = None;
            for (i, (_, run)) in self.tabs.iter().enumerate() {
                if run.tab.as_ref().is_some_and(|t| t.closed) {
                    continue;
                }
                for (at, engine) in [(run.timer, true), (next_timer(run), false)] {
                    if let Some(at) = at {
                        if best.is_none_or(|(b, _, _)| at < b) {
                            best = Some((at, i, engine));
                        }
                    }
                }
            }
            let Some((at, i, engine)) = best.filter(|(at, _, _)| *at <= until) else { return Ok(()) };
            self.fires += 1;
            if self.fires > 200_000 {
                bail!("the timers fired over 200,000 times: a timer storm");
            }
            if at > self.now {
                self.clocks(at, self.wall + (at - self.now));
            }
            let run = &mut self.tabs[i].1;
            if engine {
                run.timer = None;
                run.engine.timeout(run.now);
                run.drain()?;
            } else {
                fire(run)?;
            }
        }
    }

    fn share_names(&mut self) {
        let all: HashMap<String, String> = self.tabs.iter().flat_map(|(_, r)| r.token_names.clone()).collect();
        for (_, run) in &mut self.tabs {
            run.token_names.extend(all.clone());
        }
    }

    fn step(&mut self, step: &Value) -> Outcome<()> {
        let m = obj(step, "a step")?;
        let name = opt_str(m.get("tab")).unwrap_or_else(|| "A".into());
        if !["A", "B", "C"].contains(&name.as_str()) {
            bail!("tab must be A, B or C, not {name:?}");
        }
        let mut rest: Map<String, Value> = m.clone();
        rest.remove("tab");
        if let Some(v) = m.get("storageLag") {
            only_keys(&rest, &["storageLag", "note"], "storageLag step")?;
            self.world.borrow_mut().lag = num(v, "storageLag")?;
        } else if let Some(v) = m.get("storageWrite") {
            only_keys(&rest, &["storageWrite", "storageKey", "note"], "storageWrite step")?;
            let options = self.sc.get("options").and_then(Value::as_object);
            let key = opt_str(m.get("storageKey")).or_else(|| opt_str(options.and_then(|o| o.get("storageKey")))).unwrap_or_else(|| "freshtoken".into());
            // Another writer's JSON, seen by every tab at once, read as the faces read it.
            self.world.borrow_mut().writes.push(Write { key, at: f64::NEG_INFINITY, tab: usize::MAX, rec: Record::of_json(v) });
        } else if m.get("open").is_some() {
            only_keys(&rest, &["open", "storageKey", "note"], "open step")?;
            self.open(&name, opt_str(m.get("storageKey")))?;
        } else if m.get("close").is_some() {
            only_keys(&rest, &["close", "note"], "close step")?;
            let i = self.index(&name)?;
            leave(&mut self.tabs[i].1);
        } else if let Some(v) = m.get("advance") {
            only_keys(&rest, &["advance", "note"], "advance step")?;
            let target = self.now + num(v, "advance")?;
            self.run_timers(target)?;
            self.clocks(target, self.wall + (target - self.now));
        } else if let Some(v) = m.get("refreshAnswer") {
            only_keys(&rest, &["refreshAnswer", "late", "date", "note"], "refreshAnswer step")?;
            let late = m.get("late").and_then(Value::as_bool).unwrap_or(false);
            let (n, in_flight) = {
                let w = self.world.borrow();
                (w.calls.len(), w.calls.last().is_some_and(|c| c.in_flight))
            };
            match (n, late, in_flight) {
                (0, true, _) => bail!("refreshAnswer: no refresh call was ever made"),
                (_, true, true) => bail!("refreshAnswer late: the last call is still in flight (not late)"),
                (_, false, false) => bail!("refreshAnswer: no refresh call in flight"),
                _ => self.answer_call(n - 1, v, opt_str(m.get("date")).as_deref())?,
            }
        } else if let Some(v) = m.get("server") {
            self.world.borrow_mut().server = (!v.is_null()).then(|| v.clone());
            let last = self.world.borrow().calls.iter().rposition(|c| c.in_flight);
            if let (Some(call), false) = (last, v.is_null()) {
                self.answer_call(call, v, None)?;
            }
        } else if let Some(x) = m.get("expect") {
            self.settle()?;
            self.expect(&name, obj(x, "expect")?)?;
        } else {
            let i = self.index(&name)?;
            let run = &mut self.tabs[i].1;
            let rest_v = Value::Object(rest.clone());
            if let Some(v) = m.get("setTokens") {
                only_keys(&rest, &["setTokens", "refused", "note"], "setTokens step")?;
                set_tokens(run, v, m.get("refused").and_then(Value::as_bool).unwrap_or(false))?;
            } else if m.get("logout").is_some() {
                logout(run)?;
            } else if ["sleep", "wallJump"].iter().any(|k| m.contains_key(*k)) {
                bail!("sleep and wallJump are not played with tabs (the clock is every tab's)");
            } else if m.get("dispose").is_some() {
                run.step(&rest_v)?;
                leave(run);
            } else {
                run.step(&rest_v)?;
            }
        }
        self.share_names();
        // What a timer of 0 ms does before the next step, in every tab.
        let now = self.now;
        self.run_timers(now)
    }

    /// The step's tab's expectations; refreshCalls, lastCall, calls and inFlight are of every tab.
    fn expect(&self, name: &str, x: &Map<String, Value>) -> Outcome<()> {
        let mut own = x.clone();
        let mut errors = Vec::new();
        {
            let w = self.world.borrow();
            let call_json = |c: &Call| serde_json::json!({"accessToken": c.access, "refreshToken": c.refresh});
            for k in ["refreshCalls", "lastCall", "calls", "inFlight"] {
                let Some(want) = own.remove(k) else { continue };
                let got = match k {
                    "refreshCalls" => Value::from(w.calls.len()),
                    "lastCall" => w.calls.last().map_or(Value::Null, call_json),
                    "calls" => Value::Array(w.calls.iter().map(call_json).collect()),
                    _ => Value::from(w.calls.last().is_some_and(|c| c.in_flight)),
                };
                if !super::same(&got, &want) {
                    errors.push(format!("{k} (every tab): got {got}, want {want}"));
                }
            }
        }
        if !own.is_empty() {
            let i = self.index(name)?;
            if let Err(e) = self.tabs[i].1.expect(&own) {
                errors.push(format!("tab {name}: {e}"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}
