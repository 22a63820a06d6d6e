//! The session's one timer: a value that owns its `setTimeout` closure (through gloo's
//! `Timeout`, which cancels on drop) and chains steps of at most `MAX_STEP_MS`, so a
//! 30-day token never hands `setTimeout` a delay it would overflow, and a wall-clock
//! jump (sleep) is noticed at the next step.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use js_sys::{Date, Function};
use wasm_bindgen::JsValue;

use crate::schedule::{next_wake, Wake};

struct Inner {
    due: f64,
    timeout: Option<Timeout>,
    callback: Function,
}

/// Calls `callback` (with no arguments) once `Date.now()` reaches the armed instant.
/// Dropping the timer cancels it.
pub(crate) struct Timer {
    inner: Rc<RefCell<Inner>>,
}

impl Timer {
    pub(crate) fn new(callback: Function) -> Timer {
        Timer { inner: Rc::new(RefCell::new(Inner { due: f64::NAN, timeout: None, callback })) }
    }

    /// Aims the timer at `due` (ms since epoch), or disarms it with `None`. The callback
    /// always runs from a fresh task, never inside this call, even when `due` is past.
    pub(crate) fn arm(&self, due: Option<f64>) {
        match due {
            Some(due) => {
                if let Ok(mut inner) = self.inner.try_borrow_mut() {
                    inner.due = due;
                }
                step(&self.inner);
            }
            None => {
                if let Ok(mut inner) = self.inner.try_borrow_mut() {
                    inner.timeout = None;
                }
            }
        }
    }
}

fn step(rc: &Rc<RefCell<Inner>>) {
    let Ok(mut inner) = rc.try_borrow_mut() else { return };
    let wait = match next_wake(inner.due, Date::now()) {
        Wake::Fire => 0,
        Wake::Sleep(ms) => ms,
    };
    let weak = Rc::downgrade(rc);
    // Replacing the previous timeout drops it, which clears it.
    inner.timeout = Some(Timeout::new(wait, move || tick(weak)));
}

fn tick(weak: Weak<RefCell<Inner>>) {
    let Some(rc) = weak.upgrade() else { return };
    let callback = {
        let Ok(inner) = rc.try_borrow() else { return };
        match next_wake(inner.due, Date::now()) {
            Wake::Fire => inner.callback.clone(),
            Wake::Sleep(_) => {
                drop(inner);
                step(&rc);
                return;
            }
        }
    };
    // No borrow is held here: the callback may re-arm this very timer.
    let _ = callback.call0(&JsValue::UNDEFINED);
}
