//! The shared scenario table (tests/scenarios/refresher.json) against the Rust Refresher
//! (`freshtoken::refresher`, which the `web` feature wraps). tests/node/scenarios.test.mjs runs
//! the same table against the npm package's JS refresher: one engine, two faces, one table.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use freshtoken::refresher::{Event, Refresher};
use freshtoken::schedule::Policy;
use freshtoken::session::{Failure, Grant};
use serde_json::Value;

/// A refresh answer that is pending on its first poll (so concurrent callers meet it in
/// flight), then ready.
struct Answer(Option<Result<Grant, Failure>>, bool);

impl Future for Answer {
    type Output = Result<Grant, Failure>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.1 {
            self.1 = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(self.0.take().expect("polled after ready"))
    }
}

fn grant(v: &Value) -> Grant {
    Grant {
        access_token: v["accessToken"].as_str().expect("accessToken").to_owned(),
        expires_in_s: v["expiresIn"].as_f64(),
        ..Default::default()
    }
}

fn answer(v: &Value) -> Result<Grant, Failure> {
    match v.as_str() {
        Some("transient") => Err(Failure::Transient { retry_after_ms: None }),
        Some("rejected") => Err(Failure::Rejected),
        _ => Ok(grant(&v["ok"])),
    }
}

fn run(scenario: &Value) {
    let name = scenario["name"].as_str().unwrap_or("?");
    let next: Rc<RefCell<Option<Result<Grant, Failure>>>> = Rc::default();
    let calls = Rc::new(Cell::new(0u32));
    let (n, c) = (next.clone(), calls.clone());
    let r = Refresher::new(Policy::default(), || 1_000_000.0, move |_| {
        c.set(c.get() + 1);
        Answer(n.borrow_mut().take(), false)
    });
    let events = Rc::new(RefCell::new(Vec::<&'static str>::new()));
    let e = events.clone();
    // The events the table lists (as tests/node/scenarios.test.mjs listens): not `schedule`.
    r.on_event(move |event: &Event| if event.name() != "schedule" { e.borrow_mut().push(event.name()) });

    for (i, step) in scenario["steps"].as_array().expect("steps").iter().enumerate() {
        let at = format!("{name}, step {i}");
        if let Some(t) = step.get("setTokens") {
            r.set_tokens(grant(t));
        } else if let Some(call) = step.get("refresh") {
            *next.borrow_mut() = Some(answer(&call["answer"]));
            let n = call["concurrent"].as_u64().unwrap_or(1);
            let mut futures: Vec<_> = (0..n).map(|_| Box::pin(r.refresh())).collect();
            let mut cx = Context::from_waker(Waker::noop());
            assert!(futures[0].as_mut().poll(&mut cx).is_pending(), "{at}: in flight");
            let _ = futures.iter_mut().skip(1).map(|f| f.as_mut().poll(&mut cx)).count();
            for f in &mut futures {
                assert!(f.as_mut().poll(&mut cx).is_ready(), "{at}: settled");
            }
        } else if step.get("logout").is_some() {
            r.logout();
        } else if let Some(x) = step.get("expect") {
            assert_eq!(r.state().as_str(), x["state"].as_str().unwrap(), "{at}: state");
            assert_eq!(calls.get() as u64, x["calls"].as_u64().unwrap(), "{at}: refresh calls");
            let want: Vec<&str> = x["events"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
            assert_eq!(*events.borrow(), want, "{at}: events");
            assert_eq!(r.current_token().as_deref(), x["token"].as_str(), "{at}: token");
            if let Some(lead) = x.get("refreshLead").and_then(Value::as_f64) {
                let got = r.expires_at().zip(r.next_refresh_at()).map(|(e, n)| e - n);
                assert_eq!(got, Some(lead), "{at}: expiresAt - nextRefreshAt");
            }
        } else {
            panic!("{at}: unknown step {step}");
        }
    }
}

#[test]
fn the_shared_scenario_table_holds_for_the_rust_refresher() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios/refresher.json")).expect("the table");
    let table: Value = serde_json::from_str(&text).expect("JSON");
    let scenarios = table["scenarios"].as_array().expect("scenarios");
    assert!(scenarios.len() >= 3);
    for s in scenarios {
        run(s);
    }
}
