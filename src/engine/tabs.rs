//! The cross-tab protocol's decisions (SPEC behaviour 3), for both faces: which session
//! epoch a login or logout takes, which record a tab adopts, which messages it takes, when
//! storage may be written, whether another tab already refreshed, whether another tab's
//! transient failure holds this one back, and whether a rotated refresh token another tab kept
//! from an unusable answer is taken. The faces do the I/O
//! (Web Locks, BroadcastChannel, storage) and keep the numbers; every comparison is here.
//!
//! A session *epoch* is taken at each login and logout, above every one known:
//! `max(known + 1, Date.now())`, so a login in a tab that has seen nothing yet still
//! outranks an older session of another tab. A refresh result carries a *generation* taken
//! the same way. Anything of an older epoch is dropped: a logout stays a logout, and user 2
//! never gets user 1's session.

use super::Abort;
use crate::backoff::MAX_RETRY_AFTER_MS;

/// The largest epoch or generation a tab takes from storage, a message or a lock name:
/// 2^53 - 2^32. A tab's own are `Date.now()` or one above one known (8.64e15 at the
/// latest instant a JS `Date` holds), and `+ 1` stays exact up to here. Anything above (a
/// planted `epoch: 1e300`, another library's bug) is no epoch of this protocol: taken, it
/// would outrank every later login and logout for good (nothing stored again, a logout
/// never heard), and `1e300 + 1 == 1e300`.
pub const MAX_EPOCH: f64 = 9_007_194_959_773_696.0;

/// Whether `e`, read from another tab or storage, is an epoch or generation of this
/// protocol: a number in `[0, MAX_EPOCH]` (NaN is not).
pub fn valid_epoch(e: f64) -> bool {
    (0.0..=MAX_EPOCH).contains(&e)
}

/// A record's epoch and generation as read: present and out of range is corrupt (`Err`).
fn read(epoch: Option<f64>, gen: Option<f64>) -> Result<(f64, f64), ()> {
    if [epoch, gen].iter().flatten().all(|e| valid_epoch(*e)) {
        let epoch = epoch.unwrap_or(0.0);
        Ok((epoch, gen.unwrap_or(epoch)))
    } else {
        Err(())
    }
}

/// A tab's place in the protocol: its session epoch and the latest generation it holds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Epochs {
    /// The session epoch (a login or logout).
    pub epoch: f64,
    /// The refresh generation within it.
    pub gen: f64,
}

impl Epochs {
    /// The epoch (or generation) a new login, logout or refresh result takes at wall time `wall`.
    ///
    /// # Example
    /// ```
    /// use freshtoken::engine::tabs::Epochs;
    /// assert_eq!(Epochs { epoch: 5.0, gen: 9.0 }.next(3.0), 10.0);
    /// assert_eq!(Epochs::default().next(1_796_601_600_000.0), 1_796_601_600_000.0);
    /// ```
    pub fn next(&self, wall: f64) -> f64 {
        (self.epoch.max(self.gen) + 1.0).max(wall)
    }

    /// Whether a session record (from storage or another tab) is adopted: not a logout
    /// marker, with a token, of this epoch or a later one, and newer than what this tab
    /// holds (`holding`: it has a token). A record without an epoch counts as epoch 0, one
    /// without a generation as its epoch; one whose epoch or generation is out of range
    /// ([`valid_epoch`]) is never adopted.
    ///
    /// # Example
    /// ```
    /// use freshtoken::engine::tabs::Epochs;
    /// let fresh = Epochs::default();
    /// assert!(fresh.adopts(false, true, Some(5.0), None, false));
    /// assert!(!fresh.adopts(false, true, Some(1e300), None, false));
    /// ```
    pub fn adopts(&self, marker: bool, has_token: bool, epoch: Option<f64>, gen: Option<f64>, holding: bool) -> bool {
        let Ok((epoch, gen)) = read(epoch, gen) else { return false };
        !(marker || !has_token || epoch < self.epoch || (epoch == self.epoch && gen <= self.gen && holding))
    }

    /// Whether a broadcast record is of a session this tab has left (then it is dropped and
    /// storage, which its late writer may just have overwritten, is put back); one of an
    /// epoch out of range too.
    pub fn is_left(&self, epoch: Option<f64>) -> bool {
        !epoch.is_some_and(|e| e >= self.epoch && valid_epoch(e))
    }

    /// Whether another tab's logout of `epoch` is taken here (never one out of range).
    pub fn takes_logout(&self, epoch: f64) -> bool {
        epoch >= self.epoch && valid_epoch(epoch)
    }

    /// Whether another tab's session end of `epoch` is taken here (only this very session's).
    pub fn takes_end(&self, epoch: Option<f64>) -> bool {
        epoch == Some(self.epoch)
    }

    /// Whether this tab, holding the refresh lock, takes the refresh token of the record it
    /// finds in storage before it spends its own: a session record (not a logout marker) of
    /// this very epoch and generation whose refresh token `differs` from the one held. Such a
    /// record was written under the lock by a tab whose refresh answer was unusable yet
    /// carried a rotated refresh token (kept, the old one being spent): the access token and
    /// the schedule stay this tab's. Never a newer epoch (another user's), an older
    /// generation, or a newer one (that is a refresh result, adopted whole).
    ///
    /// # Example
    /// ```
    /// use freshtoken::engine::tabs::Epochs;
    /// let me = Epochs { epoch: 5.0, gen: 9.0 };
    /// assert!(me.takes_rotated(false, Some(5.0), Some(9.0), true));
    /// assert!(!me.takes_rotated(false, Some(5.0), Some(8.0), true));
    /// ```
    pub fn takes_rotated(&self, marker: bool, epoch: Option<f64>, gen: Option<f64>, differs: bool) -> bool {
        !marker && differs && epoch == Some(self.epoch) && gen.or(epoch) == Some(self.gen)
    }

    /// Whether a session record of this epoch and generation (`self`, the writer's) may be
    /// written over the stored record (a `marker` or not, of `epoch`, `gen`, its refresh token
    /// `differs` from the writer's): [`may_store`], and never over a rotated refresh token
    /// another tab kept (what [`Epochs::takes_rotated`] takes), which would put the spent one
    /// back. The tab that kept it writes it under the lock with [`may_store`] alone; a logout
    /// or session-end marker too.
    pub fn may_overwrite(&self, marker: bool, epoch: Option<f64>, gen: Option<f64>, differs: bool) -> bool {
        may_store(epoch, self.epoch) && !self.takes_rotated(marker, epoch, gen, differs)
    }
}

/// Whether a record of `epoch` may be written over what storage holds (`stored`): never
/// over a later login or logout. A stored epoch out of range is no login or logout of
/// this protocol: written over, so one planted record cannot keep every later session out
/// of storage.
///
/// # Example
/// ```
/// use freshtoken::engine::tabs::may_store;
/// assert!(may_store(Some(4.0), 5.0) && !may_store(Some(6.0), 5.0));
/// assert!(may_store(Some(1e300), 5.0));
/// ```
pub fn may_store(stored: Option<f64>, epoch: f64) -> bool {
    !stored.is_some_and(|s| s > epoch && valid_epoch(s))
}

/// Whether a record (a logout `marker` or not, `has_token` or not, of `epoch`/`gen`, from
/// storage, a broadcast or the tab itself) ends a tab's wait, under the lock, for another
/// tab's result of session `want_epoch` at generation `want_gen` or later: a session record
/// of that very epoch, of that generation or a later one the protocol could make
/// ([`valid_epoch`]). A record without a generation never does.
///
/// # Example
/// ```
/// use freshtoken::engine::tabs::ends_wait;
/// assert!(ends_wait(5.0, 9.0, false, true, Some(5.0), Some(9.0)));
/// assert!(!ends_wait(5.0, 9.0, false, true, Some(5.0), Some(8.0)));
/// assert!(!ends_wait(5.0, 9.0, false, true, Some(6.0), Some(9.0)));
/// assert!(!ends_wait(5.0, 9.0, false, true, Some(5.0), Some(1e300)));
/// assert!(!ends_wait(5.0, 9.0, true, false, Some(5.0), Some(9.0)));
/// ```
pub fn ends_wait(want_epoch: f64, want_gen: f64, marker: bool, has_token: bool, epoch: Option<f64>, gen: Option<f64>) -> bool {
    !marker && has_token && epoch == Some(want_epoch) && gen.is_some_and(|g| g >= want_gen && valid_epoch(g))
}

/// Whether another tab refreshed since this tab decided to (under the lock): the latest
/// generation the lock manager's markers show, or this tab holds, is above the one it
/// started from. Then it waits for that record instead of spending the refresh token again.
/// A marker out of range (a lock name no tab of this protocol holds) is not counted: it
/// would send every refresh to wait for a record that never comes.
pub fn refreshed_elsewhere(latest_marker: f64, gen: f64, start_gen: f64) -> bool {
    let latest = if valid_epoch(latest_marker) { latest_marker } else { 0.0 };
    latest.max(gen) > start_gen
}

/// The instant (wall clock) before which no tab attempts a refresh again from the generation
/// whose refresh failed transiently at wall time `at`: the answer's `Retry-After`, and at
/// least the one-second floor (one automatic attempt per second per session, SPEC 2). The
/// tab that failed publishes it, with the failure, before it lets the lock go.
///
/// # Example
/// ```
/// use freshtoken::engine::tabs::retry_point;
/// assert_eq!(retry_point(1_000.0, Some(30_000.0)), 31_000.0);
/// assert_eq!(retry_point(1_000.0, None), 2_000.0);
/// ```
/// At most [`MAX_RETRY_AFTER_MS`] on: no backoff of the engine is longer.
pub fn retry_point(at: f64, retry_after_ms: Option<f64>) -> f64 {
    at + retry_after_ms.unwrap_or(0.0).clamp(1_000.0, MAX_RETRY_AFTER_MS)
}

/// How a tab's refresh call, made under the lock, ended without tokens: the facts its face
/// has when the call settles (before it lets the lock go).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CallFailed {
    /// The server refused the session (400/401/403, or `sessionExpired` from the app's
    /// function): the face's [`RefreshFailure::rejected`](super::RefreshFailure::rejected).
    pub rejected: bool,
    /// The engine aborted the call ([`Output::AbortRefresh`](super::Output::AbortRefresh)),
    /// for this reason.
    pub aborted: Option<Abort>,
    /// The tab left the session meanwhile (a logout, a login, its refresher disposed or its
    /// tab closed).
    pub left: bool,
    /// When the session may try again, in ms from now: the answer's `Retry-After`, or, for a
    /// call the engine timed out (whose failure it has already taken), the engine's own next
    /// attempt ([`Engine::next_attempt_at`](super::Engine::next_attempt_at) minus now).
    pub retry_in_ms: Option<f64>,
}

/// Whether a tab publishes a failure marker for a refresh call of its that ended without
/// tokens at wall time `wall`, and with which retry point: `Some(until)` ([`retry_point`]
/// of `retry_in_ms`), or `None`. A transient failure is published, and so is a call the
/// engine aborted at `refreshTimeoutMs` (a server that does not answer is not asked again by
/// the next tab at once); a rejection is not (it ends the session, which the `expired`
/// message tells), nor a call the engine superseded or disposed, nor one whose session the
/// tab has left (it says nothing of the session the other tabs hold).
///
/// # Example
/// ```
/// use freshtoken::engine::tabs::{failure_marker, CallFailed};
/// use freshtoken::engine::Abort;
/// let failed = CallFailed { retry_in_ms: Some(30_000.0), ..CallFailed::default() };
/// assert_eq!(failure_marker(failed, 1_000.0), Some(31_000.0));
/// let timed_out = CallFailed { aborted: Some(Abort::Timeout), retry_in_ms: Some(2_000.0), ..CallFailed::default() };
/// assert_eq!(failure_marker(timed_out, 1_000.0), Some(3_000.0));
/// assert_eq!(failure_marker(CallFailed { rejected: true, ..CallFailed::default() }, 1_000.0), None);
/// ```
pub fn failure_marker(call: CallFailed, wall: f64) -> Option<f64> {
    let transient = match call.aborted {
        None => !call.rejected,
        Some(reason) => reason == Abort::Timeout,
    };
    (transient && !call.left).then(|| retry_point(wall, call.retry_in_ms))
}

/// Whether a tab stores, under the lock and before it lets the lock go, the rotated refresh
/// token that came with an unusable answer to its refresh call (`rotated`: the answer carried
/// a non-empty one), for the next lock holder to take ([`Epochs::takes_rotated`]) instead of
/// spending the old one again: only from an answer the server gave (not a call the engine
/// aborted), that did not end the session (a rejection), in a session the tab still holds.
///
/// # Example
/// ```
/// use freshtoken::engine::tabs::{stores_rotated, CallFailed};
/// assert!(stores_rotated(CallFailed::default(), true));
/// assert!(!stores_rotated(CallFailed { rejected: true, ..CallFailed::default() }, true));
/// assert!(!stores_rotated(CallFailed { left: true, ..CallFailed::default() }, true));
/// assert!(!stores_rotated(CallFailed::default(), false));
/// ```
pub fn stores_rotated(call: CallFailed, rotated: bool) -> bool {
    rotated && !call.rejected && call.aborted.is_none() && !call.left
}

/// Whether a refresh from generation `start_gen`, about to be made under the lock at wall
/// time `wall`, takes instead the transient failure another tab's refresh from that same
/// generation met (published with its retry point `until`, see [`retry_point`]): the
/// session backs off in every tab, so no second call is made before that tab's own retry.
/// A retry point farther than any backoff ([`retry_point`]: at most
/// [`MAX_RETRY_AFTER_MS`] on) is not one a tab published: a marker planted with
/// `until` 1e300 would hold every refresh back until the session expired.
///
/// # Example
/// ```
/// use freshtoken::engine::tabs::failed_elsewhere;
/// assert!(failed_elsewhere(7.0, 31_000.0, 7.0, 1_000.0));
/// assert!(!failed_elsewhere(7.0, 1e300, 7.0, 1_000.0));
/// ```
pub fn failed_elsewhere(failed_gen: f64, until: f64, start_gen: f64, wall: f64) -> bool {
    failed_gen == start_gen && wall < until && until - wall <= MAX_RETRY_AFTER_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_out_of_range_are_no_epochs_of_the_protocol() {
        let me = Epochs { epoch: 1_796_601_600_000.0, gen: 1_796_601_600_005.0 };
        for bad in [1e300, MAX_EPOCH * 2.0, -1.0, f64::INFINITY, f64::NAN] {
            assert!(!me.adopts(false, true, Some(bad), None, true), "adopted epoch {bad}");
            assert!(!me.adopts(false, true, Some(me.epoch), Some(bad), true), "adopted generation {bad}");
            assert!(me.is_left(Some(bad)), "kept a message of epoch {bad}");
            assert!(!me.takes_logout(bad), "took a logout of epoch {bad}");
            assert!(may_store(Some(bad), me.epoch), "kept out by a stored epoch {bad}");
            assert!(!refreshed_elsewhere(bad, me.gen, me.gen), "a marker {bad} counted");
        }
        // The edge itself is an epoch; one above the tab's own still wins.
        assert!(valid_epoch(MAX_EPOCH) && !valid_epoch(MAX_EPOCH + 2.0));
        assert!(!may_store(Some(MAX_EPOCH), me.epoch));
        assert!(me.adopts(false, true, Some(MAX_EPOCH), None, true));
        assert_eq!(Epochs { epoch: MAX_EPOCH - 1.0, gen: 0.0 }.next(0.0), MAX_EPOCH);
    }

    #[test]
    fn a_retry_point_is_never_farther_than_the_longest_backoff() {
        assert_eq!(retry_point(0.0, Some(1e12)), MAX_RETRY_AFTER_MS);
        let wall = 1_796_601_600_000.0;
        assert!(failed_elsewhere(3.0, retry_point(wall, Some(1e12)), 3.0, wall));
        assert!(!failed_elsewhere(3.0, wall + MAX_RETRY_AFTER_MS + 1.0, 3.0, wall));
        assert!(!failed_elsewhere(3.0, f64::INFINITY, 3.0, wall));
    }

    #[test]
    fn records_of_older_epochs_or_generations_are_not_adopted() {
        let me = Epochs { epoch: 10.0, gen: 12.0 };
        assert!(!me.adopts(false, true, Some(9.0), Some(99.0), true), "an older epoch");
        assert!(!me.adopts(false, true, Some(10.0), Some(12.0), true), "the same generation");
        assert!(me.adopts(false, true, Some(10.0), Some(12.0), false), "the same generation, this tab holding nothing");
        assert!(me.adopts(false, true, Some(10.0), Some(13.0), true), "a newer generation");
        assert!(me.adopts(false, true, Some(11.0), None, true), "a newer epoch");
        assert!(!me.adopts(true, true, Some(11.0), None, true), "a logout marker");
        assert!(!me.adopts(false, false, Some(11.0), None, true), "no token");
        assert!(!me.adopts(false, true, None, None, false), "no epoch is epoch 0");
    }

    #[test]
    fn messages_and_storage_follow_the_epoch() {
        let me = Epochs { epoch: 10.0, gen: 10.0 };
        assert!(me.is_left(Some(9.0)) && me.is_left(None) && !me.is_left(Some(10.0)));
        assert!(me.takes_logout(10.0) && me.takes_logout(11.0) && !me.takes_logout(9.0));
        assert!(me.takes_end(Some(10.0)) && !me.takes_end(Some(11.0)) && !me.takes_end(None));
        assert!(may_store(None, 5.0) && may_store(Some(5.0), 5.0) && !may_store(Some(6.0), 5.0));
        assert!(refreshed_elsewhere(13.0, 12.0, 12.0) && !refreshed_elsewhere(0.0, 12.0, 12.0) && refreshed_elsewhere(0.0, 13.0, 12.0));
    }

    #[test]
    fn a_rotated_refresh_token_of_this_generation_is_taken_and_never_overwritten() {
        let me = Epochs { epoch: 10.0, gen: 12.0 };
        assert!(me.takes_rotated(false, Some(10.0), Some(12.0), true), "this epoch and generation, another refresh token");
        assert!(!me.takes_rotated(false, Some(10.0), Some(12.0), false), "the same refresh token");
        assert!(!me.takes_rotated(true, Some(10.0), Some(12.0), true), "a logout marker");
        assert!(!me.takes_rotated(false, Some(11.0), Some(12.0), true), "a newer epoch: another user");
        assert!(!me.takes_rotated(false, Some(10.0), Some(11.0), true), "an older generation");
        assert!(!me.takes_rotated(false, Some(10.0), Some(13.0), true), "a newer generation: adopted whole, not this way");
        assert!(!me.takes_rotated(false, None, None, true), "no epoch");
        assert!(Epochs { epoch: 10.0, gen: 10.0 }.takes_rotated(false, Some(10.0), None, true), "no generation is its epoch");
        assert!(!me.may_overwrite(false, Some(10.0), Some(12.0), true), "a stale write would put the spent token back");
        assert!(me.may_overwrite(false, Some(10.0), Some(12.0), false) && me.may_overwrite(false, Some(10.0), Some(11.0), true));
        assert!(me.may_overwrite(true, Some(10.0), None, true) && !me.may_overwrite(false, Some(11.0), Some(12.0), false));
    }

    #[test]
    fn a_transient_failure_holds_every_tab_back_until_its_retry_point() {
        let until = retry_point(100.0, Some(30_000.0));
        assert!(failed_elsewhere(12.0, until, 12.0, 100.0), "the same generation, within its Retry-After");
        assert!(failed_elsewhere(12.0, until, 12.0, 30_099.0));
        assert!(!failed_elsewhere(12.0, until, 12.0, 30_100.0), "its retry point reached: the call is made");
        assert!(!failed_elsewhere(12.0, until, 13.0, 100.0), "a failure from an older generation says nothing of this one");
        assert!(failed_elsewhere(12.0, retry_point(100.0, None), 12.0, 1_099.0) && !failed_elsewhere(12.0, retry_point(100.0, None), 12.0, 1_100.0), "the floor");
        assert_eq!(retry_point(0.0, Some(10.0)), 1_000.0, "a shorter Retry-After is held to the floor");
    }

    #[test]
    fn a_rotated_refresh_token_from_an_unusable_answer_is_stored_only_while_the_session_holds() {
        let failed = CallFailed { retry_in_ms: Some(5_000.0), ..CallFailed::default() };
        assert!(stores_rotated(failed, true), "a transient failure that carried one");
        assert!(!stores_rotated(failed, false), "none carried (or an empty one)");
        assert!(!stores_rotated(CallFailed { rejected: true, ..failed }, true), "a rejection ends the session");
        assert!(!stores_rotated(CallFailed { left: true, ..failed }, true), "a session the tab left: another user's storage");
        for reason in [Abort::Timeout, Abort::Superseded] {
            assert!(!stores_rotated(CallFailed { aborted: Some(reason), ..failed }, true), "an aborted call has no answer");
        }
    }

    #[test]
    fn a_transient_failure_or_a_timeout_is_published_a_rejection_or_a_drop_is_not() {
        let at = |retry_in_ms| CallFailed { retry_in_ms, ..CallFailed::default() };
        assert_eq!(failure_marker(at(Some(30_000.0)), 100.0), Some(30_100.0), "a 503 with Retry-After: 30");
        assert_eq!(failure_marker(at(None), 100.0), Some(1_100.0), "a network failure: the floor");
        let timeout = CallFailed { aborted: Some(Abort::Timeout), ..at(Some(4_000.0)) };
        assert_eq!(failure_marker(timeout, 100.0), Some(4_100.0), "timed out: the engine's backoff");
        assert_eq!(failure_marker(CallFailed { left: true, ..timeout }, 100.0), None, "timed out after the tab left the session");
        assert_eq!(failure_marker(CallFailed { rejected: true, ..at(None) }, 100.0), None, "a rejection ends the session instead");
        for reason in [Abort::Superseded, Abort::Disposed] {
            assert_eq!(failure_marker(CallFailed { aborted: Some(reason), ..at(None) }, 100.0), None, "{reason:?}");
        }
        assert_eq!(failure_marker(CallFailed { left: true, ..at(None) }, 100.0), None, "a failure of a session the tab left");
    }
}
