//! Who waits on the engine, and for what. A waiter belongs to the session line it began
//! in (the engine's line, bumped each time a session ends): when that session ends while it waits, it is settled
//! without a token (a request before its first send fails, one waiting to be replayed gets
//! its refusal back), never served with a later login's token. Its deadline is
//! `refreshTimeoutMs` after it began waiting; `refresh()` callers wait for their flight alone.

use super::RequestId;

/// What a waiter waits for (its `Debug` without the token a replay was refused with).
#[derive(Clone, PartialEq, Eq)]
pub(super) enum Kind {
    /// A request's first send: a token not past its refresh point (`skip`: it opted out of
    /// the replay).
    Send { skip: bool },
    /// A request refused with `used`: a token other than that one, to replay it once with
    /// (`nonce_spent`: its one DPoP nonce retry was spent before).
    Replay { used: String, nonce_spent: bool },
    /// `getAccessToken()`: a token not past its refresh point.
    Token,
    /// `refresh()`: the outcome of the flight in progress.
    Refresh,
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Send { skip } => f.debug_struct("Send").field("skip", skip).finish(),
            Kind::Replay { used, nonce_spent } => f.debug_struct("Replay").field("used", &crate::redacted::Hidden::of(used)).field("nonce_spent", nonce_spent).finish(),
            Kind::Token => f.write_str("Token"),
            Kind::Refresh => f.write_str("Refresh"),
        }
    }
}

/// One waiting request or caller.
#[derive(Clone, Debug)]
pub(super) struct Waiter {
    pub(super) id: RequestId,
    pub(super) kind: Kind,
    pub(super) line: u32,
    pub(super) deadline: f64,
}
