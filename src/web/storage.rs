//! Where the session survives a reload: `localStorage` or `sessionStorage`, one JSON entry
//! under `storageKey` (serde → `JSON.stringify`). Memory keeps nothing.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::options::StorageKind;

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

    /// The stored session (a `TokenSet`, or a cross-tab record), if one is there and readable.
    pub(crate) fn load<T: DeserializeOwned>(&self) -> Option<T> {
        let text = self.storage.get_item(&self.key).ok()??;
        let value = js_sys::JSON::parse(&text).ok()?;
        serde_wasm_bindgen::from_value(value).ok()
    }

    /// Stores `tokens` (best effort: a full or refused storage keeps the session in memory).
    pub(crate) fn save<T: Serialize>(&self, tokens: &T) {
        let text = serde_wasm_bindgen::to_value(tokens).ok().and_then(|v| js_sys::JSON::stringify(&v).ok());
        if let Some(text) = text {
            let _ = self.storage.set_item(&self.key, &String::from(text));
        }
    }

    /// Forgets the stored session.
    pub(crate) fn clear(&self) {
        let _ = self.storage.remove_item(&self.key);
    }
}
