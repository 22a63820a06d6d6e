//! The engine's rules on a virtual clock. The conformance table (tests/scenarios/, run by
//! tests/engine_conformance.rs) covers them scenario by scenario; these pin the mechanics.

use super::*;

const T0: f64 = 1_000_000.0;

fn engine() -> Engine {
    let cfg = Config { page_origin: Some("https://app.example".into()), ..Config::default() };
    Engine::new(cfg).unwrap()
}

fn grant(access: &str, refresh: &str, expires_in_s: f64) -> Grant {
    Grant { access_token: access.into(), refresh_token: Some(refresh.into()), expires_in_s: Some(expires_in_s), ..Default::default() }
}

fn drain(e: &mut Engine) -> Vec<Output> {
    std::iter::from_fn(|| e.poll()).filter(|o| !matches!(o, Output::Timer(_))).collect()
}

fn api() -> Request {
    Request { origin: Some("https://app.example".into()), ..Request::default() }
}

fn send(id: RequestId, token: &str, replay: bool) -> Output {
    Output::Send { id, token: Some(token.into()), replay }
}

#[test]
fn a_fresh_token_is_attached_at_once_and_other_origins_get_nothing() {
    let mut e = engine();
    e.set_tokens(grant("a1", "r1", 60.0), false, T0, T0).unwrap();
    drain(&mut e);
    e.request(1, &api(), T0);
    e.request(2, &Request { origin: Some("https://evil.example".into()), ..api() }, T0);
    e.request(3, &Request { own_credentials: true, ..api() }, T0);
    assert_eq!(drain(&mut e), vec![
        send(1, "a1", false),
        Output::Send { id: 2, token: None, replay: false },
        Output::Send { id: 3, token: None, replay: false },
    ]);
}

#[test]
fn concurrent_requests_on_a_due_token_share_one_refresh_with_captured_tokens() {
    let mut e = engine();
    e.set_tokens(grant("a1", "r1", 60.0), false, T0, T0).unwrap();
    drain(&mut e);
    let due = T0 + 48_000.0;
    for id in 1..=100 {
        e.request(id, &api(), due);
    }
    let out = drain(&mut e);
    assert_eq!(out, vec![Output::StartRefresh { ticket: out_ticket(&out), access_token: Some("a1".into()), refresh_token: Some("r1".into()) }]);
    e.refresh_answered(out_ticket(&out), grant("a2", "r2", 60.0), None, due + 50.0, due + 50.0, 0.5);
    let out = drain(&mut e);
    let sends = out.iter().filter(|o| matches!(o, Output::Send { token: Some(t), .. } if t == "a2")).count();
    assert_eq!(sends, 100);
    assert!(out.contains(&Output::Event(Event::Refresh)));
}

fn out_ticket(out: &[Output]) -> u32 {
    out.iter().find_map(|o| if let Output::StartRefresh { ticket, .. } = o { Some(*ticket) } else { None }).expect("a refresh started")
}

#[test]
fn a_401_is_refreshed_and_replayed_once_and_a_second_401_ends_the_session() {
    let mut e = engine();
    e.set_tokens(grant("a1", "r1", 60.0), false, T0, T0).unwrap();
    e.request(1, &api(), T0);
    drain(&mut e);
    e.response(1, 401, true, T0 + 10.0);
    let out = drain(&mut e);
    let ticket = out_ticket(&out);
    e.refresh_answered(ticket, grant("a2", "r2", 60.0), None, T0 + 20.0, T0 + 20.0, 0.5);
    assert!(drain(&mut e).contains(&send(1, "a2", true)));
    e.response(1, 401, true, T0 + 30.0);
    let out = drain(&mut e);
    assert!(out.contains(&Output::Event(Event::SessionExpired { reason: "request-rejected" })));
    assert!(out.contains(&Output::Return { id: 1 }));
    assert_eq!(e.state(), State::Expired);
}

#[test]
fn a_403_after_the_replay_is_forbidden_and_the_session_kept() {
    let mut e = engine();
    e.set_tokens(grant("a1", "r1", 60.0), false, T0, T0).unwrap();
    e.request(1, &api(), T0);
    drain(&mut e);
    e.response(1, 403, true, T0);
    let ticket = out_ticket(&drain(&mut e));
    e.refresh_answered(ticket, grant("a2", "r2", 60.0), None, T0, T0, 0.5);
    drain(&mut e);
    e.response(1, 403, true, T0);
    assert_eq!(drain(&mut e), vec![Output::Event(Event::Forbidden { status: 403 }), Output::Return { id: 1 }]);
    assert_eq!(e.state(), State::Fresh);
}

#[test]
fn a_request_waiting_when_the_app_logs_out_never_gets_the_next_users_token() {
    let mut e = engine();
    e.set_tokens(grant("a1", "r1", 60.0), false, T0, T0).unwrap();
    let due = T0 + 50_000.0;
    e.request(1, &api(), due);
    drain(&mut e);
    e.logout(due + 10.0);
    e.set_tokens(grant("b1", "s1", 60.0), false, due + 10.0, due + 10.0).unwrap();
    let out = drain(&mut e);
    assert!(out.contains(&Output::Fail { id: 1, error: Failed::session("logged-out") }), "{out:?}");
    assert!(!out.iter().any(|o| matches!(o, Output::Send { token: Some(t), .. } if t == "b1")));
}

#[test]
fn a_plain_set_tokens_hands_waiting_requests_the_new_token_at_once() {
    let mut e = engine();
    e.set_tokens(grant("a1", "r1", 60.0), false, T0, T0).unwrap();
    let due = T0 + 50_000.0;
    e.request(1, &api(), due);
    let ticket = out_ticket(&drain(&mut e));
    e.set_tokens(grant("b1", "s1", 60.0), false, due + 10.0, due + 10.0).unwrap();
    let out = drain(&mut e);
    assert!(out.contains(&Output::AbortRefresh { ticket, reason: Abort::Superseded }));
    assert!(out.contains(&send(1, "b1", false)));
}

#[test]
fn a_transient_failure_backs_off_and_no_request_starts_a_refresh_meanwhile() {
    let mut e = engine();
    e.set_tokens(grant("a1", "r1", 60.0), false, T0, T0).unwrap();
    let due = T0 + 50_000.0;
    e.timeout(due);
    let ticket = out_ticket(&drain(&mut e));
    let failure = RefreshFailure { code: "http".into(), status: Some(503), retry_after_ms: Some(30_000.0), ..Default::default() };
    e.refresh_failed(ticket, failure, due + 10.0, 0.5);
    let out = drain(&mut e);
    assert!(matches!(&out[0], Output::Event(Event::RefreshError { code, retry_in_ms, attempt: 1 }) if code == "http" && *retry_in_ms == 30_000.0));
    for id in 0..10 {
        e.request(id, &api(), due + 100.0 * id as f64);
    }
    let out = drain(&mut e);
    // The token is still usable: used as is; no refresh call during the backoff.
    assert_eq!(out.iter().filter(|o| matches!(o, Output::StartRefresh { .. })).count(), 0);
    assert_eq!(out.iter().filter(|o| matches!(o, Output::Send { token: Some(t), .. } if t == "a1")).count(), 10);
}

#[test]
fn a_request_whose_token_expired_during_a_long_backoff_fails_late_with_the_reason() {
    let mut e = engine();
    e.set_tokens(grant("a1", "r1", 10.0), false, T0, T0).unwrap();
    e.timeout(T0 + 8_000.0);
    let ticket = out_ticket(&drain(&mut e));
    let failure = RefreshFailure { code: "http".into(), status: Some(503), retry_after_ms: Some(60_000.0), ..Default::default() };
    e.refresh_failed(ticket, failure, T0 + 8_010.0, 0.5);
    drain(&mut e);
    e.request(1, &api(), T0 + 11_000.0);
    let out = drain(&mut e);
    assert_eq!(out, vec![Output::Fail { id: 1, error: Failed { class: ErrorClass::Refresh, code: "http".into(), late: true, status: Some(503) } }]);
}

#[test]
fn a_rejected_refresh_ends_the_session_once_and_callers_learn_it() {
    let mut e = engine();
    e.set_tokens(grant("a1", "r1", 60.0), false, T0, T0).unwrap();
    e.refresh(7, T0);
    e.refresh(8, T0);
    let out = drain(&mut e);
    assert_eq!(out.iter().filter(|o| matches!(o, Output::StartRefresh { .. })).count(), 1);
    e.refresh_failed(out_ticket(&out), RefreshFailure { rejected: true, code: "rejected".into(), status: Some(401), ..Default::default() }, T0 + 5.0, 0.5);
    let out = drain(&mut e);
    assert_eq!(out.iter().filter(|o| matches!(o, Output::Event(Event::SessionExpired { reason: "refresh-rejected" }))).count(), 1);
    assert!(out.contains(&Output::Fail { id: 7, error: Failed::session("session-expired") }));
    assert!(out.contains(&Output::Fail { id: 8, error: Failed::session("session-expired") }));
}

#[test]
fn a_rotated_refresh_token_of_an_unusable_answer_is_kept_for_the_retry() {
    let mut e = engine();
    e.set_tokens(grant("a1", "r1", 60.0), false, T0, T0).unwrap();
    e.refresh(1, T0);
    let ticket = out_ticket(&drain(&mut e));
    let failure = RefreshFailure { code: "bad-response".into(), rotated_refresh_token: Some("r2".into()), ..Default::default() };
    e.refresh_failed(ticket, failure, T0 + 5.0, 0.5);
    drain(&mut e);
    e.refresh(2, T0 + 2_000.0);
    let out = drain(&mut e);
    assert!(matches!(&out[0], Output::StartRefresh { refresh_token: Some(r), .. } if r == "r2"));
}

#[test]
fn a_dpop_proof_is_dated_on_its_own_origins_clock_and_names_only_http_urls() {
    let cfg = Config { page_origin: Some("https://app.example".into()), origins: Some(vec!["https://app.example".into(), "https://api.example".into()]), ..Config::default() };
    let mut e = Engine::new(cfg).unwrap();
    let wall = 1_796_572_745_000.0; // Sun, 06 Dec 2026 15:59:05 GMT
    let iat = |e: &Engine, url: &str, origin: &str| {
        let (_, claims) = e.dpop_proof("POST", url, origin, "{}", "j", None, None, wall).unwrap();
        let at = claims.find("\"iat\":").unwrap() + 6;
        claims[at..].split([',', '}']).next().unwrap().parse::<f64>().unwrap()
    };
    // An allowed API an hour ahead: its own proofs move, the token endpoint's do not.
    e.note_date("https://api.example", "Sun, 06 Dec 2026 16:59:05 GMT", wall);
    assert_eq!(iat(&e, "https://api.example/x", "https://api.example"), 1_796_576_345.0);
    assert_eq!(iat(&e, "https://app.example/auth/token", "https://app.example"), 1_796_572_745.0);
    // An origin never heard from: the refresh endpoint's clock (not seen yet: the local one).
    assert_eq!(iat(&e, "https://other.example/x", "https://other.example"), 1_796_572_745.0);
    // The restored-token rule still reads the last Date seen.
    assert_eq!(e.server_now(wall), wall + 3_600_500.0);
    e.note_date("https://app.example", "Sun, 06 Dec 2026 15:49:05 GMT", wall);
    assert_eq!(iat(&e, "https://app.example/auth/token", "https://app.example"), 1_796_572_145.0);
    assert_eq!(iat(&e, "https://api.example/x", "https://api.example"), 1_796_576_345.0);
    assert_eq!(iat(&e, "https://other.example/x", "https://other.example"), 1_796_572_145.0);
    for url in ["javascript:alert(1)", "data:,x", "blob:https://app.example/1", "ftp://files.example/x", "/relative"] {
        assert_eq!(e.dpop_proof("POST", url, "https://app.example", "{}", "j", None, None, wall), None, "{url}");
    }
}

#[test]
fn the_server_clock_comes_only_from_own_origins_and_valid_dates() {
    let mut e = engine();
    let wall = 1_796_572_745_000.0; // Sun, 06 Dec 2026 15:59:05 GMT
    e.note_date("https://other.example", "Sun, 06 Dec 2026 17:59:05 GMT", wall);
    e.note_date("https://app.example", "2099", wall);
    assert_eq!(e.server_now(wall), wall);
    e.note_date("https://app.example", "Sun, 06 Dec 2026 17:59:05 GMT", wall);
    assert_eq!(e.server_now(wall), wall + 7_200_500.0);
}

#[test]
fn empty_tokens_are_refused() {
    let mut e = engine();
    assert_eq!(e.set_tokens(grant("", "r1", 60.0), false, T0, T0), Err(Refused::BadClaim));
    assert_eq!(e.set_tokens(grant("a1", "", 60.0), false, T0, T0), Err(Refused::BadClaim));
    assert_eq!(e.state(), State::Idle);
}

#[test]
fn tokens_longer_than_the_decoder_reads_are_refused_and_the_session_kept() {
    let mut e = engine();
    e.set_tokens(grant("a1", "r1", 60.0), false, T0, T0).unwrap();
    let max = crate::token::MAX_TOKEN_LEN;
    let long = "x".repeat(max + 1);
    assert_eq!(e.set_tokens(grant(&long, "r2", 60.0), false, T0, T0), Err(Refused::TooLarge));
    assert_eq!(e.set_tokens(grant("a2", &long, 60.0), false, T0, T0), Err(Refused::TooLarge));
    assert_eq!((e.access_token(), e.refresh_token()), (Some("a1"), Some("r1")), "the session held is kept");
    let at_limit = "y".repeat(max);
    assert_eq!(e.set_tokens(grant(&at_limit, &at_limit, 60.0), false, T0, T0), Ok(()), "256 KiB each is taken");
}

#[test]
fn dispose_settles_every_waiter_and_aborts_the_flight() {
    let mut e = engine();
    e.set_tokens(grant("a1", "r1", 60.0), false, T0, T0).unwrap();
    e.request(1, &api(), T0 + 50_000.0);
    e.refresh(2, T0 + 50_000.0);
    let ticket = out_ticket(&drain(&mut e));
    e.dispose();
    let out = drain(&mut e);
    assert!(out.contains(&Output::AbortRefresh { ticket, reason: Abort::Disposed }));
    assert_eq!(out.iter().filter(|o| matches!(o, Output::Fail { error: Failed { code, .. }, .. } if code == "disposed")).count(), 2);
}

#[test]
fn a_dpop_nonce_demand_gets_one_more_send_per_request_never_a_refresh_or_a_second() {
    let mut e = engine();
    e.set_tokens(grant("a1", "r1", 60.0), false, T0, T0).unwrap();
    drain(&mut e);
    // The first send asks for a nonce: the same token again, not the replay.
    e.request(1, &api(), T0);
    assert_eq!(drain(&mut e), vec![send(1, "a1", false)]);
    e.nonce_demanded(1);
    assert_eq!(drain(&mut e), vec![send(1, "a1", false)]);
    // Asked again: handed back as it is; no refresh started, the session kept.
    e.nonce_demanded(1);
    assert_eq!(drain(&mut e), vec![Output::Return { id: 1 }]);
    assert_eq!(e.state(), State::Fresh);

    // Spent before the replay: the replay's own demand is handed back too.
    e.request(2, &api(), T0);
    drain(&mut e);
    e.nonce_demanded(2);
    assert_eq!(drain(&mut e), vec![send(2, "a1", false)]);
    e.response(2, 401, true, T0);
    let out = drain(&mut e);
    let ticket = out_ticket(&out);
    e.refresh_answered(ticket, grant("a2", "r2", 60.0), None, T0 + 10.0, T0 + 10.0, 0.5);
    assert!(drain(&mut e).contains(&send(2, "a2", true)));
    e.nonce_demanded(2);
    assert_eq!(drain(&mut e), vec![Output::Return { id: 2 }]);

    // Not spent before the replay: the replay may still take it, once.
    let later = T0 + 5_000.0; // past the one-second floor under attempts
    e.request(3, &api(), later);
    drain(&mut e);
    e.response(3, 401, true, later);
    let ticket = out_ticket(&drain(&mut e));
    e.refresh_answered(ticket, grant("a3", "r3", 60.0), None, later + 10.0, later + 10.0, 0.5);
    assert!(drain(&mut e).contains(&send(3, "a3", true)));
    e.nonce_demanded(3);
    assert_eq!(drain(&mut e), vec![send(3, "a3", true)]);
    e.nonce_demanded(3);
    assert_eq!(drain(&mut e), vec![Output::Return { id: 3 }]);
    // A request the engine does not hold (forgotten, or never sent with a token): handed back.
    e.nonce_demanded(99);
    assert_eq!(drain(&mut e), vec![Output::Return { id: 99 }]);
}

#[test]
fn a_token_endpoint_nonce_demand_gets_one_more_call_per_refresh_call() {
    let mut e = engine();
    // No refresh call in flight: nothing to send again.
    assert!(!e.refresh_nonce_demanded());
    e.set_tokens(grant("a1", "r1", 60.0), false, T0, T0).unwrap();
    drain(&mut e);
    e.refresh(1, T0);
    let ticket = out_ticket(&drain(&mut e));
    assert!(e.refresh_nonce_demanded(), "the first demand: one more call");
    assert!(!e.refresh_nonce_demanded(), "a second demand in the same call: no more");
    // The next refresh call has its own retry.
    e.refresh_failed(ticket, RefreshFailure { code: "http".into(), status: Some(400), ..Default::default() }, T0 + 10.0, 0.5);
    drain(&mut e);
    e.refresh(2, T0 + 5_000.0);
    drain(&mut e);
    assert!(e.refresh_nonce_demanded());
}
