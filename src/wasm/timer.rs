//! The session's one timer: a value that owns its `setTimeout` handle (cleared when it is
//! re-aimed and in `Drop`) and chains steps of at most `MAX_STEP_MS`, so a 30-day token
//! never hands `setTimeout` a delay it would overflow, and a wall-clock jump (sleep) is
//! noticed at the next step.
//!
//! The timeout calls `tick`, a JS function given to `coreNew`, which calls `coreTick`
//! (that is [`Timer::fired`]) and runs the due work when it answers true. So the timer
//! holds no Rust closure: none of wasm-bindgen's closure machinery, js-sys or gloo-timers
//! ships in the wasm. `setTimeout`, `clearTimeout` and `Date.now` are bound here, as
//! globals, so the timer runs in workers too. Time is passed in: the session clock
//! (`js/clock.js`: monotonic, counting sleep), never read here.

use wasm_bindgen::prelude::*;

use crate::schedule::{next_wake, Wake};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &JsValue, ms: u32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// Calls `tick` from a fresh task once the session clock reaches the armed instant (and at
/// each intermediate step). Dropping the timer cancels it.
pub(crate) struct Timer {
    due: f64,
    handle: Option<JsValue>,
    tick: JsValue,
}

impl Timer {
    pub(crate) fn new(tick: JsValue) -> Timer {
        Timer { due: f64::NAN, handle: None, tick }
    }

    /// Aims the timer at `due` (ms since epoch), or disarms it with `None`. The tick
    /// always comes from a fresh task, never inside this call, even when `due` is past.
    pub(crate) fn arm(&mut self, due: Option<f64>, now: f64) {
        self.cancel();
        if let Some(due) = due {
            self.due = due;
            self.step(now);
        }
    }

    /// The timeout fired: true when the armed instant has come (the caller runs the due
    /// work), false when it was only a step and the timer is aimed at the next one.
    pub(crate) fn fired(&mut self, now: f64) -> bool {
        if self.handle.take().is_none() {
            return false; // disarmed meanwhile: nothing is due
        }
        match next_wake(self.due, now) {
            Wake::Fire => true,
            Wake::Sleep(_) => {
                self.step(now);
                false
            }
        }
    }

    fn step(&mut self, now: f64) {
        let wait = match next_wake(self.due, now) {
            Wake::Fire => 0,
            Wake::Sleep(ms) => ms,
        };
        self.handle = Some(set_timeout(&self.tick, wait));
    }

    fn cancel(&mut self) {
        if let Some(handle) = self.handle.take() {
            clear_timeout(&handle);
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.cancel();
    }
}
