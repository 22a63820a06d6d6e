//! The schedule's timer: the core's [`keep_fresh`](crate::refresher::Refresher::keep_fresh)
//! loop (chained steps of at most `MAX_STEP_MS`), sleeping on gloo-timers, run by
//! `spawn_local`, and replaced whenever new tokens start a new session.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use gloo_timers::future::TimeoutFuture;

use crate::refresher::Refresher as Core;

/// Owns the one running timer loop.
#[derive(Default)]
pub(crate) struct Timer {
    generation: Cell<u32>,
    waker: RefCell<Option<Waker>>,
}

impl Timer {
    /// Stops the running loop (at once: its pending sleep is dropped, which clears the
    /// `setTimeout`) and starts a new one for `core`.
    pub(crate) fn restart(self: &Rc<Self>, core: &Core) {
        self.stop();
        let core = core.clone();
        let run = Box::pin(async move { core.keep_fresh(TimeoutFuture::new).await });
        wasm_bindgen_futures::spawn_local(Guarded { timer: self.clone(), mine: self.generation.get(), run });
    }

    /// Stops the running loop, if any.
    pub(crate) fn stop(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

/// A timer loop that ends as soon as its generation is over.
struct Guarded {
    timer: Rc<Timer>,
    mine: u32,
    run: Pin<Box<dyn Future<Output = ()>>>,
}

impl Future for Guarded {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.timer.generation.get() != self.mine {
            return Poll::Ready(());
        }
        *self.timer.waker.borrow_mut() = Some(cx.waker().clone());
        self.run.as_mut().poll(cx)
    }
}
