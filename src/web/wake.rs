//! The page waking up (SPEC behaviour 2): the tab becoming visible (`visibilitychange`),
//! `focus`, and the browser coming back `online` (a backoff is cut short, the one-second
//! floor still holds). These only tell the engine to look again; what it does is its rule.

use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::EventTarget;

/// The listeners of one refresher; removed when dropped (on `dispose`).
pub(crate) struct Wake {
    listeners: Vec<(EventTarget, &'static str, Closure<dyn FnMut()>)>,
}

impl Wake {
    /// Calls `on_wake(online)` on each wake-up: `online` true when the browser came back online.
    pub(crate) fn listen(on_wake: impl Fn(bool) + 'static) -> Wake {
        let on_wake = Rc::new(on_wake);
        let mut listeners = Vec::new();
        let Some(window) = web_sys::window() else { return Wake { listeners } };
        let document: Option<EventTarget> = window.document().map(Into::into);
        let window: EventTarget = window.into();
        let targets = [(Some(window.clone()), "online", true), (Some(window), "focus", false), (document, "visibilitychange", false)];
        for (target, name, online) in targets {
            let Some(target) = target else { continue };
            let f = on_wake.clone();
            let closure = Closure::<dyn FnMut()>::new(move || f(online));
            if target.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref()).is_ok() {
                listeners.push((target, name, closure));
            }
        }
        Wake { listeners }
    }
}

impl Drop for Wake {
    fn drop(&mut self) {
        for (target, name, closure) in &self.listeners {
            let _ = target.remove_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
        }
    }
}
