//! Where the session survives a reload: `localStorage` or `sessionStorage`, one JSON entry
//! under `storageKey`. Memory keeps nothing.
//!
//! The entry is the npm package's record (`js/storage.js`, `js/refresher.js` `_record`), so
//! an npm tab and a Rust tab read each other's: a session
//! `{accessToken, refreshToken, expiresAt, expiresIn, receivedAt, epoch, gen}` (absent fields
//! left out, as `JSON.stringify` leaves out `undefined`), or the marker a logout or an ended
//! session leaves, `{out: true, epoch}`, never a token. A write never replaces a record of a
//! newer epoch (a later login or logout in another tab): see [`Store::persist`].

use crate::engine::tabs::Epochs;
use std::cell::Cell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::options::{StorageKind, TokenSet};

/// A session record or a logout marker, as stored and as broadcast (`{type: 'tokens', rec}`).
/// Every field is optional on reading: a record is taken when it has a non-empty
/// `accessToken` or is a marker (`out: true`), as `js/storage.js` does.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Record {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) out: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token: Option<String>,
    /// Expiry instant from the server, ms since epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires_at: Option<f64>,
    /// Expiry from the server, seconds after `receivedAt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires_in: Option<f64>,
    /// When the tokens were received, ms since epoch (wall clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) received_at: Option<f64>,
    /// The session epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) epoch: Option<f64>,
    /// The refresh generation within the epoch (crossTab).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) gen: Option<f64>,
}

impl Record {
    /// The marker a logout or an ended session leaves: `{out: true, epoch}`.
    pub(crate) fn out(epoch: f64) -> Record {
        Record { out: Some(true), epoch: Some(epoch), ..Record::default() }
    }

    /// Whether this is a logout marker.
    pub(crate) fn is_out(&self) -> bool {
        self.out == Some(true)
    }

    /// Its tokens, when it is a session (a non-empty access token).
    pub(crate) fn tokens(&self) -> Option<TokenSet> {
        let access_token = self.access_token.clone().filter(|t| !t.is_empty())?;
        Some(TokenSet { access_token, refresh_token: self.refresh_token.clone(), expires_at: self.expires_at, expires_in: self.expires_in })
    }

    /// Its epoch (0 when absent, as `js/refresher.js` `_adopt` reads it).
    pub(crate) fn epoch(&self) -> f64 {
        self.epoch.unwrap_or(0.0)
    }

    /// Its generation (its epoch when absent).
    pub(crate) fn gen(&self) -> f64 {
        self.gen.unwrap_or_else(|| self.epoch())
    }

    /// Whether it carries a refresh token other than `held`.
    pub(crate) fn refresh_differs(&self, held: Option<&str>) -> bool {
        self.refresh_token.as_deref().is_some_and(|r| !r.is_empty() && Some(r) != held)
    }
}

/// A new session epoch or refresh generation above every one `known` (SPEC behaviour 3):
/// `max(known + 1, Date.now())`, as `nextEpoch` in `js/refresher.js`. Time-based, so a login
/// in a tab that has seen nothing yet still outranks an older session of another tab.
pub(crate) fn next_epoch(known: f64) -> f64 {
    Epochs { epoch: known, gen: known }.next(js_sys::Date::now())
}

/// What a session's record says of its tokens besides the tokens (set when they are taken).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Saved {
    pub(crate) expires_at: Option<f64>,
    pub(crate) expires_in: Option<f64>,
    pub(crate) received_at: f64,
}

/// This tab's session line: its epoch and generation (the npm refresher's `_epoch`, `_gen`)
/// and what its record says of the tokens held (`_saved`), with the storage it writes to.
pub(crate) struct Line {
    pub(crate) store: Option<Rc<Store>>,
    /// crossTab joined: a refresh token changes within a generation only under the lock.
    pub(crate) tabs: Cell<bool>,
    epoch: Cell<f64>,
    gen: Cell<f64>,
    saved: Cell<Saved>,
}

impl Line {
    pub(crate) fn new(store: Option<Rc<Store>>) -> Line {
        Line { store, tabs: Cell::new(false), epoch: Cell::new(0.0), gen: Cell::new(0.0), saved: Cell::default() }
    }
    pub(crate) fn epoch(&self) -> f64 {
        self.epoch.get()
    }
    pub(crate) fn gen(&self) -> f64 {
        self.gen.get()
    }
    pub(crate) fn set_epoch(&self, epoch: f64) {
        self.epoch.set(epoch);
    }
    pub(crate) fn set_gen(&self, gen: f64) {
        self.gen.set(gen);
    }
    pub(crate) fn set_saved(&self, saved: Saved) {
        self.saved.set(saved);
    }
    /// Epoch, generation and saved, to put back when the tokens are refused.
    pub(crate) fn snapshot(&self) -> (f64, f64, Saved) {
        (self.epoch.get(), self.gen.get(), self.saved.get())
    }
    pub(crate) fn restore(&self, (epoch, gen, saved): (f64, f64, Saved)) {
        self.epoch.set(epoch);
        self.gen.set(gen);
        self.saved.set(saved);
    }

    /// The record of the tokens held (`js/refresher.js` `_record`).
    pub(crate) fn record(&self, access_token: String, refresh_token: Option<String>) -> Record {
        let saved = self.saved.get();
        Record {
            out: None,
            access_token: Some(access_token),
            refresh_token,
            expires_at: saved.expires_at,
            expires_in: saved.expires_in,
            received_at: Some(saved.received_at),
            epoch: Some(self.epoch.get()),
            gen: Some(self.gen.get()),
        }
    }

    /// Writes `rec` to storage unless storage holds a newer epoch, or a rotated refresh token
    /// another tab kept in this very generation (`_persist`).
    pub(crate) fn persist(&self, rec: &Record) {
        self.persist_as(rec, false);
    }

    /// [`Line::persist`]; `own`: the rotated refresh token this tab kept, written under the
    /// lock (`_persist(rec, true)`). Without crossTab no other tab's rotation is guarded.
    pub(crate) fn persist_as(&self, rec: &Record, own: bool) {
        if let Some(store) = &self.store {
            store.persist(rec, own || !self.tabs.get());
        }
    }
}

/// One storage entry.
pub(crate) struct Store {
    storage: web_sys::Storage,
    key: String,
}

impl Store {
    /// The store for `kind`, or `None` for memory (or a browser that refuses storage).
    pub(crate) fn open(kind: StorageKind, key: &str) -> Option<Store> {
        let window = web_sys::window()?;
        let storage = match kind {
            StorageKind::Memory => return None,
            StorageKind::LocalStorage => window.local_storage(),
            StorageKind::SessionStorage => window.session_storage(),
        }
        .ok()??;
        Some(Store { storage, key: key.to_owned() })
    }

    /// The stored record, if one is there and readable: a session (a non-empty
    /// `accessToken`) or a logout marker (`out: true`).
    pub(crate) fn load(&self) -> Option<Record> {
        let text = self.storage.get_item(&self.key).ok()??;
        let value = js_sys::JSON::parse(&text).ok()?;
        let rec: Record = serde_wasm_bindgen::from_value(value).ok()?;
        (rec.is_out() || rec.access_token.as_deref().is_some_and(|t| !t.is_empty())).then_some(rec)
    }

    /// Stores `rec` (best effort: a full or refused storage keeps the session in memory).
    pub(crate) fn save(&self, rec: &Record) {
        let text = serde_wasm_bindgen::to_value(rec).ok().and_then(|v| js_sys::JSON::stringify(&v).ok());
        if let Some(text) = text {
            let _ = self.storage.set_item(&self.key, &String::from(text));
        }
    }

    /// [`Store::save`] unless storage holds a record of a newer epoch, or (unless `own`) a
    /// rotated refresh token another tab kept in the generation `rec` is of
    /// ([`Epochs::may_overwrite`]).
    pub(crate) fn persist(&self, rec: &Record, own: bool) {
        if let Some(cur) = self.load() {
            let differs = !own && !rec.is_out() && cur.refresh_differs(rec.refresh_token.as_deref());
            if !(Epochs { epoch: rec.epoch(), gen: rec.gen() }).may_overwrite(cur.is_out(), cur.epoch, cur.gen, differs) {
                return;
            }
        }
        self.save(rec);
    }
}
