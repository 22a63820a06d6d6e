//! DPoP (RFC 9449) for the Rust face: the key and the signature, nothing else, exactly as the
//! npm face's `js/dpop.js`. What a proof states (its claims, the nonce, `iat` on the server's
//! clock) and when an answer asks for the one nonce retry are the engine's
//! ([`crate::engine::dpop`]).
//!
//! The key: an ECDSA P-256 pair made by WebCrypto with a non-extractable private key, kept in
//! IndexedDB (database `freshtoken`, object store `dpop`, key = the `storageKey`, value
//! `{ privateKey, jwk }` with `jwk` the JSON text of `{crv, kty, x, y}`), so a reload keeps the
//! binding and an npm tab and a Rust tab with the same `storageKey` share one key. It is made
//! under the Web Lock `freshtoken:<key>:dpop` (two tabs opening at once do not make two) and
//! deleted on logout; the next proof makes a new one.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{CryptoKey, EcKeyGenParams, EcdsaParams, IdbObjectStore, IdbRequest, IdbTransactionMode, Response};

use super::origins::{href_of, origin_of};
use super::Error;
use crate::refresher::{Refresher as Core, TokenError};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["navigator", "locks"], js_name = request, catch)]
    fn dpop_lock(name: &str, callback: &js_sys::Function) -> Result<Promise, JsValue>;
}

/// base64url without padding.
fn b64(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 4 / 3 + 3);
    crate::base64url::encode_into(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

fn subtle() -> Result<web_sys::SubtleCrypto, JsValue> {
    let w = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    Ok(w.crypto()?.subtle())
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Runs `op(store)` in a transaction on the key store; resolves with its request's result
/// once the transaction completes (as `idb` in js/dpop.js).
async fn idb(write: bool, op: impl FnOnce(&IdbObjectStore) -> Result<IdbRequest, JsValue> + 'static) -> Result<JsValue, JsValue> {
    let factory = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?.indexed_db()?.ok_or_else(|| JsValue::from_str("no IndexedDB"))?;
    let open = factory.open_with_u32("freshtoken", 1)?;
    let mut op = Some(op);
    let promise = Promise::new(&mut |resolve, reject| {
        let op = op.take();
        let upgrade_req = open.clone();
        let upgrade = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            if let Ok(db) = upgrade_req.result() {
                let _ = db.unchecked_into::<web_sys::IdbDatabase>().create_object_store("dpop");
            }
        });
        open.set_onupgradeneeded(Some(upgrade.into_js_value().unchecked_ref()));
        let (open_req, reject_open) = (open.clone(), reject.clone());
        let failed = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            let _ = reject_open.call1(&JsValue::NULL, &open_req.error().ok().flatten().map_or(JsValue::NULL, JsValue::from));
        });
        open.set_onerror(Some(failed.into_js_value().unchecked_ref()));
        let open_req = open.clone();
        let mut op = op;
        let success = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            let mut run = || -> Result<(), JsValue> {
                let db: web_sys::IdbDatabase = open_req.result()?.unchecked_into();
                let mode = if write { IdbTransactionMode::Readwrite } else { IdbTransactionMode::Readonly };
                let tx = match db.transaction_with_str_and_mode("dpop", mode) {
                    Ok(tx) => tx,
                    Err(e) => {
                        db.close();
                        return Err(e);
                    }
                };
                let req = match op.take().map(|f| tx.object_store("dpop").and_then(|s| f(&s))) {
                    Some(Ok(req)) => req,
                    Some(Err(e)) => {
                        db.close();
                        return Err(e);
                    }
                    None => return Ok(()),
                };
                let (db2, resolve) = (db.clone(), resolve.clone());
                let done = Closure::<dyn FnMut(JsValue)>::new(move |_| {
                    db2.close();
                    let _ = resolve.call1(&JsValue::NULL, &req.result().unwrap_or(JsValue::UNDEFINED));
                });
                tx.set_oncomplete(Some(done.into_js_value().unchecked_ref()));
                let (tx2, reject) = (tx.clone(), reject.clone());
                let fail = Closure::<dyn FnMut(JsValue)>::new(move |_| {
                    db.close();
                    let _ = reject.call1(&JsValue::NULL, &tx2.error().map_or(JsValue::NULL, JsValue::from));
                })
                .into_js_value();
                tx.set_onerror(Some(fail.unchecked_ref()));
                tx.set_onabort(Some(fail.unchecked_ref()));
                Ok(())
            };
            if let Err(e) = run() {
                let _ = reject.call1(&JsValue::NULL, &e);
            }
        });
        open.set_onsuccess(Some(success.into_js_value().unchecked_ref()));
    });
    JsFuture::from(promise).await
}

/// The key of `storage_key` from IndexedDB, or a new one made and stored there.
async fn load_or_make(storage_key: String) -> Result<JsValue, JsValue> {
    let k = storage_key.clone();
    let found = idb(false, move |s| s.get(&JsValue::from_str(&k))).await?;
    if found.is_object() && get(&found, "privateKey").is_object() && get(&found, "jwk").is_string() {
        return Ok(found);
    }
    let subtle = subtle()?;
    let usages = js_sys::Array::of2(&"sign".into(), &"verify".into());
    let params = EcKeyGenParams::new("ECDSA", "P-256");
    let pair = JsFuture::from(subtle.generate_key_with_object(&params, false, &usages)?).await?;
    let public: CryptoKey = get(&pair, "publicKey").unchecked_into();
    let jwk = JsFuture::from(subtle.export_key("jwk", &public)?).await?;
    // JSON text of {crv, kty, x, y}, in that order (as js/dpop.js writes it).
    let picked = Object::new();
    for f in ["crv", "kty", "x", "y"] {
        Reflect::set(&picked, &f.into(), &get(&jwk, f))?;
    }
    let value = Object::new();
    Reflect::set(&value, &"privateKey".into(), &get(&pair, "privateKey"))?;
    Reflect::set(&value, &"jwk".into(), &js_sys::JSON::stringify(&picked)?.into())?;
    let (k, v) = (storage_key, JsValue::from(value.clone()));
    idb(true, move |s| s.put_with_key(&v, &JsValue::from_str(&k))).await?;
    Ok(value.into())
}

/// The DPoP key of one refresher (`storageKey`), and the engine that says what a proof states.
pub(crate) struct Dpop {
    storage_key: String,
    /// The key being loaded or loaded: a promise of `{ privateKey, jwk }` (shared by every
    /// proof, and taken as it is by the revocation's proof before a logout deletes the key).
    key: RefCell<Option<Promise>>,
    /// The core (emptied by `dispose`).
    core: Rc<RefCell<Option<Core>>>,
}

impl Dpop {
    pub(crate) fn new(storage_key: &str, core: Rc<RefCell<Option<Core>>>) -> Dpop {
        Dpop { storage_key: storage_key.to_owned(), key: RefCell::new(None), core }
    }

    /// The refresh call in flight was asked for a nonce: whether it sends once more (the
    /// engine's rule, once per refresh call; false once disposed).
    pub(crate) fn refresh_nonce_demanded(&self) -> bool {
        self.core.borrow().as_ref().is_some_and(Core::refresh_nonce_demanded)
    }

    /// The key promise: the one loading or loaded, else a new load under the Web Lock.
    fn load(&self) -> Promise {
        if let Some(p) = self.key.borrow().clone() {
            return p;
        }
        let name = format!("freshtoken:{}:dpop", self.storage_key);
        let k = self.storage_key.clone();
        let make = {
            let k = k.clone();
            Closure::once_into_js(move |_lock: JsValue| future_to_promise(load_or_make(k)))
        };
        let p = match dpop_lock(&name, make.unchecked_ref()) {
            Ok(p) => p,
            // No lock manager: made without one.
            Err(_) => future_to_promise(load_or_make(k)),
        };
        *self.key.borrow_mut() = Some(p.clone());
        p
    }

    /// The key promise held now, if any (the revocation's proof takes it before the logout
    /// drops it; none is loaded for it, lest a load race the logout's delete and store a key).
    pub(crate) fn held(&self) -> Option<Promise> {
        self.key.borrow().clone()
    }

    /// Forgets the key and deletes it from IndexedDB (logout); the next proof makes a new one.
    pub(crate) fn drop_key(&self) {
        self.key.borrow_mut().take();
        let k = self.storage_key.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = idb(true, move |s| s.delete(&JsValue::from_str(&k))).await;
        });
    }

    /// A proof for `method` `url` (with `ath` for `token`), signed with the key of `key`
    /// (default: the session's); `nonce`: one the server just gave for a call of the app's own.
    pub(crate) async fn proof(&self, method: &str, url: &str, token: Option<&str>, nonce: Option<&str>, key: Option<Promise>) -> Result<String, Error> {
        let promise = key.unwrap_or_else(|| self.load());
        let k = match JsFuture::from(promise.clone()).await {
            Ok(k) => k,
            Err(e) => {
                // A failed load is not kept: the next proof tries again.
                let same = self.key.borrow().as_ref().is_some_and(|p| Object::is(p, &promise));
                if same {
                    self.key.borrow_mut().take();
                }
                return Err(Error::from_js(e));
            }
        };
        let jwk = get(&k, "jwk").as_string().unwrap_or_default();
        let private: CryptoKey = get(&k, "privateKey").unchecked_into();
        let subtle = subtle().map_err(Error::from_js)?;
        let ath = match token {
            Some(t) => {
                let digest = JsFuture::from(subtle.digest_with_str_and_u8_array("SHA-256", t.as_bytes()).map_err(Error::from_js)?).await.map_err(Error::from_js)?;
                Some(b64(&Uint8Array::new(&digest).to_vec()))
            }
            None => None,
        };
        let href = href_of(url).ok_or_else(|| Error::Options("a DPoP proof needs an http(s) URL".into()))?;
        let origin = origin_of(&href).ok_or_else(|| Error::Options("a DPoP proof needs an http(s) URL".into()))?;
        // fetch upper-cases these six methods, and sends any other as given.
        let htm = match method.to_ascii_uppercase().as_str() {
            m @ ("DELETE" | "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT") => m.to_owned(),
            _ => method.to_owned(),
        };
        let jti = web_sys::window().and_then(|w| w.crypto().ok()).map(|c| c.random_uuid()).unwrap_or_default();
        let core = self.core.borrow().clone().ok_or(Error::Token(TokenError::Disposed))?;
        let (header, claims) = core.dpop_proof(&htm, &href, &origin, &jwk, &jti, ath.as_deref(), nonce).ok_or_else(|| Error::Options("a DPoP proof needs an http(s) URL".into()))?;
        let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
        let params = EcdsaParams::new_with_str("ECDSA", "SHA-256");
        let sig = JsFuture::from(subtle.sign_with_object_and_u8_array(&params, &private, input.as_bytes()).map_err(Error::from_js)?)
            .await
            .map_err(Error::from_js)?;
        Ok(format!("{input}.{}", b64(&Uint8Array::new(&sig).to_vec())))
    }

    /// An answer's `DPoP-Nonce` from `origin`, kept by the engine for the next proof there.
    pub(crate) fn note_nonce(&self, origin: &str, res: &Response) {
        let Some(nonce) = res.headers().get("dpop-nonce").ok().flatten() else { return };
        if let Some(core) = self.core.borrow().clone() {
            core.note_dpop_nonce(origin, &nonce);
        }
    }
}
