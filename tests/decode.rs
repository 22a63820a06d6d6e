//! Integration tests of the token decoder: valid JWTs, valid PubNub v3 tokens, a table of
//! malformed tokens (one or more per error code), and a bounded fuzz run that must never
//! panic.

use freshtoken::{decode, inspect, DecodeErrorCode, TokenFormat, TokenInfo};

// ---------------------------------------------------------------------------------------
// Test-only encoders
// ---------------------------------------------------------------------------------------

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let mut v = [0u8; 3];
        v[..chunk.len()].copy_from_slice(chunk);
        let n = (u32::from(v[0]) << 16) | (u32::from(v[1]) << 8) | u32::from(v[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn b64url_padded(bytes: &[u8]) -> String {
    let mut s = b64url(bytes);
    while s.len() % 4 != 0 {
        s.push('=');
    }
    s
}

fn b64url_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => panic!("not base64url"),
    };
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        acc = (acc << 6) | u32::from(val(c));
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// `{"alg":"none"}`
const NONE_HEADER: &str = "eyJhbGciOiJub25lIn0";

fn jwt(payload_json: &str) -> String {
    format!("{NONE_HEADER}.{}.", b64url(payload_json.as_bytes()))
}

fn jwt_hs256(payload_json: &str) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    format!(
        "{header}.{}.{}",
        b64url(payload_json.as_bytes()),
        b64url(&[0x5a; 32])
    )
}

/// A tiny CBOR encoder (definite lengths only).
mod cbor {
    pub fn head(major: u8, n: u64) -> Vec<u8> {
        let m = major << 5;
        let mut v = Vec::new();
        if n < 24 {
            v.push(m | n as u8);
        } else if n < 0x100 {
            v.extend([m | 24, n as u8]);
        } else if n < 0x1_0000 {
            v.push(m | 25);
            v.extend((n as u16).to_be_bytes());
        } else if n < 0x1_0000_0000 {
            v.push(m | 26);
            v.extend((n as u32).to_be_bytes());
        } else {
            v.push(m | 27);
            v.extend(n.to_be_bytes());
        }
        v
    }
    pub fn uint(n: u64) -> Vec<u8> {
        head(0, n)
    }
    /// The CBOR negative integer `-1 - n`.
    pub fn neg(n: u64) -> Vec<u8> {
        head(1, n)
    }
    pub fn bytes(b: &[u8]) -> Vec<u8> {
        let mut v = head(2, b.len() as u64);
        v.extend_from_slice(b);
        v
    }
    pub fn text(s: &str) -> Vec<u8> {
        let mut v = head(3, s.len() as u64);
        v.extend_from_slice(s.as_bytes());
        v
    }
    pub fn key(s: &str) -> Vec<u8> {
        bytes(s.as_bytes())
    }
    pub fn array(items: &[Vec<u8>]) -> Vec<u8> {
        let mut v = head(4, items.len() as u64);
        for i in items {
            v.extend_from_slice(i);
        }
        v
    }
    pub fn map(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        let mut v = head(5, entries.len() as u64);
        for (k, val) in entries {
            v.extend_from_slice(k);
            v.extend_from_slice(val);
        }
        v
    }
    pub fn f64(x: f64) -> Vec<u8> {
        let mut v = vec![0xfb];
        v.extend(x.to_be_bytes());
        v
    }
    pub fn f32(x: f32) -> Vec<u8> {
        let mut v = vec![0xfa];
        v.extend(x.to_be_bytes());
        v
    }
}

/// A PubNub-shaped token map with the usual fields; `extra` entries are appended.
fn pubnub_map(t: Option<u64>, ttl: Option<u64>, extra: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut entries = vec![(cbor::key("v"), cbor::uint(2))];
    if let Some(t) = t {
        entries.push((cbor::key("t"), cbor::uint(t)));
    }
    if let Some(ttl) = ttl {
        entries.push((cbor::key("ttl"), cbor::uint(ttl)));
    }
    entries.push((
        cbor::key("res"),
        cbor::map(&[(
            cbor::key("chan"),
            cbor::map(&[(cbor::text("room-1"), cbor::uint(3))]),
        )]),
    ));
    entries.push((cbor::key("pat"), cbor::map(&[])));
    entries.extend_from_slice(extra);
    entries.push((cbor::key("sig"), cbor::bytes(&[0xde, 0xad, 0xbe, 0xef])));
    cbor::map(&entries)
}

/// Checks that `claims_json` is a JSON object by reading it back inside a JWT payload
/// (nested one level down, so that its own `exp`/`iat`/`nbf` keys are not checked).
fn assert_json_object(claims_json: &str) {
    assert!(claims_json.starts_with('{'), "not an object: {claims_json}");
    if let Err(e) = inspect(&jwt(&format!(r#"{{"o":{claims_json}}}"#))) {
        panic!(
            "claims_json is not a JSON object ({}): {claims_json}",
            e.message()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Valid JWTs
// ---------------------------------------------------------------------------------------

#[test]
fn jwt_with_exp_iat_nbf() {
    let payload = r#"{"sub":"user-1","iat":1700000000,"nbf":1700000001,"exp":1700003600}"#;
    let info = decode(&jwt_hs256(payload)).unwrap();
    assert_eq!(
        info,
        TokenInfo {
            format: TokenFormat::Jwt,
            expires_at_ms: Some(1_700_003_600_000.0),
            issued_at_ms: Some(1_700_000_000_000.0),
            not_before_ms: Some(1_700_000_001_000.0),
            claims_json: payload.to_string(),
        }
    );
    assert_eq!(info.format.as_str(), "jwt");
}

#[test]
fn jwt_padding_is_optional() {
    // Lengths chosen so that both parts need padding.
    let payload = r#"{"exp":1700000000,"a":"xy"}"#;
    let unpadded = jwt(payload);
    let padded = format!(
        "{}.{}.",
        b64url_padded(br#"{"alg":"none"}"#),
        b64url_padded(payload.as_bytes())
    );
    assert!(padded.contains('='));
    assert_eq!(decode(&unpadded).unwrap(), decode(&padded).unwrap());
}

#[test]
fn jwt_standard_alphabet_is_accepted() {
    let payload = r#"{"exp":1700000000,"s":"~~~???>>>"}"#;
    let url = jwt(payload);
    assert!(url.contains('-') || url.contains('_'));
    let std_alphabet = url.replace('-', "+").replace('_', "/");
    assert_eq!(decode(&std_alphabet).unwrap().claims_json, payload);
}

#[test]
fn jwt_numeric_forms() {
    let cases: [(&str, f64); 8] = [
        (r#"{"exp":1700000000.5}"#, 1_700_000_000_500.0),
        (r#"{"exp":1.7e9}"#, 1_700_000_000_000.0),
        (r#"{"exp":1.7E+9}"#, 1_700_000_000_000.0),
        (r#"{"exp":17000000000e-1}"#, 1_700_000_000_000.0),
        (r#"{"exp":1700000000.123}"#, 1_700_000_000_123.0),
        (r#"{"exp":0}"#, 0.0),
        (r#"{"exp":-0}"#, 0.0),
        (r#"{"exp":1e13}"#, 1e16),
    ];
    for (payload, want) in cases {
        let got = decode(&jwt(payload)).unwrap().expires_at_ms.unwrap();
        assert!((got - want).abs() < 0.001, "{payload}: {got}");
    }
}

#[test]
fn jwt_keys_are_unescaped_and_last_duplicate_wins() {
    let info = decode(&jwt(r#"{"\u0065xp":1700000000,"i\u0061t":1600000000}"#)).unwrap();
    assert_eq!(info.expires_at_ms, Some(1_700_000_000_000.0));
    assert_eq!(info.issued_at_ms, Some(1_600_000_000_000.0));
    let info = decode(&jwt(r#"{"exp":"later","exp":1700000000}"#)).unwrap();
    assert_eq!(info.expires_at_ms, Some(1_700_000_000_000.0));
    // Only top-level keys count.
    let info = decode(&jwt(
        r#"{"ctx":{"exp":1,"iat":"x"},"exp":2,"list":[{"exp":3}]}"#,
    ))
    .unwrap();
    assert_eq!(info.expires_at_ms, Some(2000.0));
    assert_eq!(info.issued_at_ms, None);
}

#[test]
fn jwt_alg_none_and_signatures() {
    let payload = r#"{"exp":1700000000}"#;
    assert!(decode(&jwt(payload)).is_ok());
    assert!(decode(&jwt_hs256(payload)).is_ok());
    // The signature is not read, whatever it holds.
    let odd_sig = format!(
        "{NONE_HEADER}.{}.not base64 at all!",
        b64url(payload.as_bytes())
    );
    assert!(decode(&odd_sig).is_ok());
}

#[test]
fn jwt_claims_json_is_the_payload_text() {
    let payload =
        " {\n \"exp\" : 1700000000 , \"name\":\"Zoë 😀\", \"n\":[1,2.5e-3,{\"a\":null}] } ";
    let info = decode(&jwt(payload)).unwrap();
    assert_eq!(info.claims_json, payload);
    let big = format!(r#"{{"exp":1700000000,"blob":"{}"}}"#, "x".repeat(4096));
    assert_eq!(decode(&jwt(&big)).unwrap().claims_json, big);
}

#[test]
fn jwt_without_exp() {
    let token = jwt(r#"{"sub":"x","iat":1700000000}"#);
    let err = decode(&token).unwrap_err();
    assert_eq!(err.code(), DecodeErrorCode::NoExpiry);
    let info = inspect(&token).unwrap();
    assert_eq!(info.expires_at_ms, None);
    assert_eq!(info.issued_at_ms, Some(1_700_000_000_000.0));
    // A present but malformed exp is a different error from a missing one.
    assert_eq!(
        decode(&jwt(r#"{"exp":"1700000000"}"#)).unwrap_err().code(),
        DecodeErrorCode::BadClaim
    );
    assert_eq!(
        inspect(&jwt(r#"{"exp":"1700000000"}"#)).unwrap_err().code(),
        DecodeErrorCode::BadClaim
    );
}

#[test]
fn size_limit_is_inclusive() {
    let at_limit = "A".repeat(freshtoken::token::MAX_TOKEN_LEN);
    assert_ne!(
        decode(&at_limit).unwrap_err().code(),
        DecodeErrorCode::TooLarge
    );
    let over = "A".repeat(freshtoken::token::MAX_TOKEN_LEN + 1);
    assert_eq!(decode(&over).unwrap_err().code(), DecodeErrorCode::TooLarge);
}

// ---------------------------------------------------------------------------------------
// Valid PubNub tokens
// ---------------------------------------------------------------------------------------

/// The v3 token from PubNub's documentation (parseToken example).
const PUBNUB_DOCS_TOKEN: &str = "qEF2AkF0GmEI03xDdHRsGDxDcmVzpURjaGFuoWljaGFubmVsLTEY70NncnChb2NoYW5uZWxfZ3JvdXAtMQVDdXNyoENzcGOgRHV1aWShZnV1aWQtMRhoQ3BhdKVEY2hhbqFtXmNoYW5uZWwtXFMqJBjvQ2dycKF0XjpjaGFubmVsX2dyb3VwLVxTKiQFQ3VzcqBDc3BjoER1dWlkoWpedXVpZC1cUyokGGhEbWV0YaBEdXVpZHR0ZXN0LWF1dGhvcml6ZWQtdXVpZENzaWdYIPpU-vCe9rkpYs87YUrFNWkyNq8CVvmKwEjVinnDrJJc";

#[test]
fn pubnub_docs_token() {
    let info = decode(PUBNUB_DOCS_TOKEN).unwrap();
    assert_eq!(info.format, TokenFormat::PubNub);
    assert_eq!(info.format.as_str(), "pubnub");
    // t = 1627968380, ttl = 60 minutes.
    assert_eq!(info.issued_at_ms, Some(1_627_968_380_000.0));
    assert_eq!(
        info.expires_at_ms,
        Some((1_627_968_380.0 + 3600.0) * 1000.0)
    );
    assert_eq!(info.not_before_ms, None);
    assert_eq!(
        info.claims_json,
        concat!(
            r#"{"v":2,"t":1627968380,"ttl":60,"#,
            r#""res":{"chan":{"channel-1":239},"grp":{"channel_group-1":5},"usr":{},"spc":{},"uuid":{"uuid-1":104}},"#,
            r#""pat":{"chan":{"^channel-\\S*$":239},"grp":{"^:channel_group-\\S*$":5},"usr":{},"spc":{},"uuid":{"^uuid-\\S*$":104}},"#,
            r#""meta":{},"uuid":"test-authorized-uuid","sig":"-lT68J72uSlizzthSsU1aTI2rwJW-YrASNWKecOsklw"}"#
        )
    );
    assert_json_object(&info.claims_json);
    assert_eq!(inspect(PUBNUB_DOCS_TOKEN).unwrap(), info);
}

#[test]
fn pubnub_alphabets_and_padding() {
    let info = decode(PUBNUB_DOCS_TOKEN).unwrap();
    let std_alphabet = PUBNUB_DOCS_TOKEN.replace('-', "+").replace('_', "/");
    assert_ne!(std_alphabet, PUBNUB_DOCS_TOKEN);
    assert_eq!(decode(&std_alphabet).unwrap(), info);
    // A token whose length needs padding, with and without it.
    let bytes = pubnub_map(
        Some(1_700_000_000),
        Some(60),
        &[(cbor::key("x"), cbor::uint(1))],
    );
    let bytes = if bytes.len() % 3 == 0 {
        pubnub_map(
            Some(1_700_000_000),
            Some(60),
            &[(cbor::key("xy"), cbor::uint(1))],
        )
    } else {
        bytes
    };
    assert!(b64url_padded(&bytes).ends_with('='));
    assert_eq!(
        decode(&b64url(&bytes)).unwrap(),
        decode(&b64url_padded(&bytes)).unwrap()
    );
}

#[test]
fn pubnub_thirty_day_ttl_and_meta() {
    let t = 1_700_000_000u64;
    let meta = cbor::map(&[
        (cbor::text("score"), cbor::f64(1.5)),
        (cbor::text("ratio"), cbor::f32(0.25)),
        (cbor::text("whole"), cbor::f64(3.0)),
        (cbor::text("tiny"), cbor::f64(1.25e-7)),
        (cbor::text("neg"), cbor::neg(41)),
        (
            cbor::text("flags"),
            cbor::array(&[vec![0xf5], vec![0xf4], vec![0xf6], vec![0xf7]]),
        ),
        (cbor::text("quote\"d\n"), cbor::text("tab\there")),
        (cbor::text("raw"), cbor::bytes(&[0xff, 0x00, 0x10])),
        (cbor::text("tagged"), [vec![0xc1], cbor::uint(7)].concat()),
    ]);
    let bytes = pubnub_map(
        Some(t),
        Some(43_200),
        &[
            (cbor::key("meta"), meta),
            (cbor::key("uuid"), cbor::key("user-42")),
        ],
    );
    let info = decode(&b64url(&bytes)).unwrap();
    assert_eq!(info.issued_at_ms, Some(t as f64 * 1000.0));
    assert_eq!(info.expires_at_ms, Some((t + 43_200 * 60) as f64 * 1000.0));
    assert_eq!(
        info.claims_json,
        concat!(
            r#"{"v":2,"t":1700000000,"ttl":43200,"res":{"chan":{"room-1":3}},"pat":{},"#,
            r#""meta":{"score":1.5,"ratio":0.25,"whole":3,"tiny":1.25e-7,"neg":-42,"#,
            r#""flags":[true,false,null,null],"quote\"d\u000a":"tab\u0009here","raw":"_wAQ","tagged":7},"#,
            r#""uuid":"user-42","sig":"3q2-7w"}"#
        )
    );
    assert_json_object(&info.claims_json);
}

#[test]
fn pubnub_text_keys_and_utf8_signature_bytes() {
    // Text-string keys are accepted; `sig` is base64url even when its bytes are UTF-8.
    let bytes = cbor::map(&[
        (cbor::text("v"), cbor::uint(2)),
        (cbor::text("t"), cbor::uint(1_000)),
        (cbor::text("ttl"), cbor::uint(1)),
        (cbor::text("sig"), cbor::bytes(b"abc")),
    ]);
    let info = decode(&b64url(&bytes)).unwrap();
    assert_eq!(info.expires_at_ms, Some(1_060_000.0));
    assert_eq!(info.claims_json, r#"{"v":2,"t":1000,"ttl":1,"sig":"YWJj"}"#);
}

#[test]
fn pubnub_without_ttl_can_be_inspected() {
    let token = b64url(&pubnub_map(Some(1_700_000_000), None, &[]));
    assert_eq!(
        decode(&token).unwrap_err().code(),
        DecodeErrorCode::NoExpiry
    );
    let info = inspect(&token).unwrap();
    assert_eq!(info.expires_at_ms, None);
    assert_eq!(info.issued_at_ms, Some(1_700_000_000_000.0));
}

// ---------------------------------------------------------------------------------------
// Malformed tokens
// ---------------------------------------------------------------------------------------

fn malformed() -> Vec<(&'static str, String, DecodeErrorCode)> {
    use DecodeErrorCode::*;
    let p = |json: &str| jwt(json);
    let pn = |bytes: Vec<u8>| b64url(&bytes);
    let valid = jwt(r#"{"exp":1700000000}"#);
    let docs_bytes = b64url_decode(PUBNUB_DOCS_TOKEN);
    let mut huge_length = cbor::map(&[(cbor::key("v"), cbor::uint(2))]);
    huge_length[0] = 0xa2;
    huge_length.extend(cbor::key("x"));
    huge_length.extend([0x5b, 0x10, 0, 0, 0, 0, 0, 0, 0]); // byte string of 2^60 bytes
    huge_length.extend([0u8; 16]);
    let mut huge_count = vec![0xbb, 0x10, 0, 0, 0, 0, 0, 0, 0]; // map of 2^60 entries
    huge_count.extend([0u8; 16]);
    let deep_object = format!(
        r#"{{"exp":1,"a":{}1{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let mut trailing = pubnub_map(Some(1), Some(1), &[]);
    trailing.push(0x00);
    vec![
        ("empty", String::new(), BadFormat),
        ("spaces", "   ".into(), BadFormat),
        ("whitespace only", " \t\r\n ".into(), BadFormat),
        ("bearer prefix", format!("Bearer {valid}"), BadFormat),
        (
            "lowercase bearer prefix",
            format!("bearer {valid}"),
            BadFormat,
        ),
        ("leading space", format!(" {valid}"), BadFormat),
        ("trailing newline", format!("{valid}\n"), BadFormat),
        (
            "two segments",
            format!("{NONE_HEADER}.{}", b64url(br#"{"exp":1}"#)),
            BadFormat,
        ),
        ("four segments", format!("{valid}.extra"), BadFormat),
        (
            "five segments (JWE)",
            "eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y2lwaGVy.dGFn".into(),
            Encrypted,
        ),
        ("five empty segments", "....".into(), Encrypted),
        ("six segments", "a.b.c.d.e.f".into(), BadFormat),
        ("dots only", "..".into(), BadFormat),
        (
            "empty header",
            format!(".{}.", b64url(br#"{"exp":1}"#)),
            BadFormat,
        ),
        ("empty payload", format!("{NONE_HEADER}..sig"), BadFormat),
        (
            "bad base64 chars in payload",
            format!("{NONE_HEADER}.eyJle*AiOjF9."),
            BadBase64,
        ),
        (
            "space inside payload",
            format!("{NONE_HEADER}.eyJle AiOjF9."),
            BadBase64,
        ),
        (
            "bad base64 chars in header",
            format!("eyJh!GciOiJub25lIn0.{}.", b64url(br#"{"exp":1}"#)),
            BadBase64,
        ),
        (
            "payload length % 4 == 1",
            format!("{NONE_HEADER}.eyJhb."),
            BadBase64,
        ),
        ("bad padding", format!("{NONE_HEADER}.e30==."), BadBase64),
        (
            "padding in the middle",
            format!("{NONE_HEADER}.e3=0."),
            BadBase64,
        ),
        (
            "non-UTF-8 payload",
            format!("{NONE_HEADER}.{}.", b64url(&[b'{', 0xff, 0xfe, b'}'])),
            BadUtf8,
        ),
        (
            "non-UTF-8 header",
            format!("{}.{}.", b64url(&[0xc3, 0x28]), b64url(b"{}")),
            BadUtf8,
        ),
        (
            "header not JSON",
            format!("{}.{}.", b64url(b"alg=none"), b64url(br#"{"exp":1}"#)),
            BadJson,
        ),
        (
            "header is an array",
            format!("{}.{}.", b64url(b"[]"), b64url(br#"{"exp":1}"#)),
            BadJson,
        ),
        ("payload []", p("[]"), BadJson),
        ("payload \"x\"", p("\"x\""), BadJson),
        ("payload number", p("1700000000"), BadJson),
        ("truncated JSON", p(r#"{"exp":1700000000"#), BadJson),
        ("trailing garbage", p(r#"{"exp":1700000000}x"#), BadJson),
        ("two objects", p(r#"{"exp":1}{"exp":2}"#), BadJson),
        ("trailing comma", p(r#"{"exp":1,}"#), BadJson),
        ("single quotes", p("{'exp':1}"), BadJson),
        (
            "lone surrogate escape",
            p(r#"{"exp":1,"a":"\ud800"}"#),
            BadJson,
        ),
        (
            "raw control character",
            p("{\"exp\":1,\"a\":\"x\u{1}y\"}"),
            BadJson,
        ),
        ("bad escape", p(r#"{"exp":1,"a":"\q"}"#), BadJson),
        ("bad number 01", p(r#"{"exp":01}"#), BadJson),
        ("bad number 1.", p(r#"{"exp":1.}"#), BadJson),
        ("bad number -", p(r#"{"exp":-}"#), BadJson),
        ("bad number 1e", p(r#"{"exp":1e}"#), BadJson),
        ("NaN", p(r#"{"exp":NaN}"#), BadJson),
        ("deep nesting 10,000 [", p(&"[".repeat(10_000)), BadJson),
        ("deep nesting inside the payload", p(&deep_object), BadJson),
        ("exp string", p(r#"{"exp":"1700000000"}"#), BadClaim),
        ("exp negative", p(r#"{"exp":-1}"#), BadClaim),
        ("exp null", p(r#"{"exp":null}"#), BadClaim),
        ("exp object", p(r#"{"exp":{"at":1}}"#), BadClaim),
        ("exp true", p(r#"{"exp":true}"#), BadClaim),
        ("exp absurd", p(r#"{"exp":1e14}"#), BadClaim),
        ("exp overflowing", p(r#"{"exp":1e999}"#), BadClaim),
        (
            "iat string",
            p(r#"{"exp":1700000000,"iat":"yesterday"}"#),
            BadClaim,
        ),
        ("nbf array", p(r#"{"exp":1700000000,"nbf":[1]}"#), BadClaim),
        ("no exp", p(r#"{"sub":"x"}"#), NoExpiry),
        ("empty claims", p("{}"), NoExpiry),
        (
            "300 KB token",
            jwt(&format!(r#"{{"exp":1,"pad":"{}"}}"#, "x".repeat(300_000))),
            TooLarge,
        ),
        ("300 KB of garbage", "\u{1}".repeat(300_000), TooLarge),
        (
            "PubNub truncated CBOR",
            b64url(&docs_bytes[..docs_bytes.len() - 10]),
            BadCbor,
        ),
        ("PubNub cut after the head", pn(vec![0xa8]), BadCbor),
        ("PubNub huge claimed length", pn(huge_length), BadCbor),
        ("PubNub huge claimed count", pn(huge_count), BadCbor),
        (
            "PubNub indefinite-length map",
            pn(vec![0xbf, 0x41, b'v', 0x02, 0xff]),
            BadCbor,
        ),
        ("PubNub trailing bytes", pn(trailing), BadCbor),
        (
            "PubNub text not UTF-8",
            pn(cbor::map(&[(cbor::key("v"), vec![0x62, 0xc3, 0x28])])),
            BadCbor,
        ),
        (
            "PubNub wrong version",
            pn(cbor::map(&[(cbor::key("v"), cbor::uint(3))])),
            BadVersion,
        ),
        (
            "PubNub version as text",
            pn(cbor::map(&[(cbor::key("v"), cbor::text("2"))])),
            BadVersion,
        ),
        (
            "PubNub missing version",
            pn(cbor::map(&[(cbor::key("t"), cbor::uint(1))])),
            BadVersion,
        ),
        (
            "PubNub missing ttl",
            pn(pubnub_map(Some(1_700_000_000), None, &[])),
            NoExpiry,
        ),
        (
            "PubNub missing t",
            pn(pubnub_map(None, Some(60), &[])),
            NoExpiry,
        ),
        (
            "PubNub ttl as text",
            pn(pubnub_map(
                Some(1),
                None,
                &[(cbor::key("ttl"), cbor::text("60"))],
            )),
            BadClaim,
        ),
        (
            "PubNub negative t",
            pn(pubnub_map(
                None,
                Some(60),
                &[(cbor::key("t"), cbor::neg(0))],
            )),
            BadClaim,
        ),
        (
            "PubNub absurd t",
            pn(pubnub_map(Some(u64::MAX), Some(60), &[])),
            BadClaim,
        ),
        (
            "PubNub absurd ttl",
            pn(pubnub_map(Some(1), Some(u64::MAX), &[])),
            BadClaim,
        ),
        (
            "opaque UUID",
            "550e8400-e29b-41d4-a716-446655440000".into(),
            BadFormat,
        ),
        (
            "opaque hex",
            "a3f9c2d17be04e5f8a6b9c0d1e2f3a4b".into(),
            BadFormat,
        ),
        ("not base64, no dots", "%%%%$$$$####".into(), BadFormat),
        (
            "random garbage bytes",
            String::from_utf8_lossy(&[0x8f, 0x00, 0x3b, 0xfe, 0x41, 0x7f]).into_owned(),
            BadFormat,
        ),
        (
            "base64 of a CBOR integer",
            pn(cbor::uint(1_700_000_000)),
            BadFormat,
        ),
        (
            "base64 of a CBOR array",
            pn(cbor::array(&[cbor::uint(2)])),
            BadFormat,
        ),
        ("single character", "x".into(), BadFormat),
    ]
}

#[test]
fn malformed_tokens_get_the_right_code() {
    let rows = malformed();
    assert!(rows.len() >= 35);
    let mut seen = Vec::new();
    for (name, input, code) in &rows {
        let err = match decode(input) {
            Ok(info) => panic!("{name}: decoded as {:?}", info.format),
            Err(e) => e,
        };
        assert_eq!(err.code(), *code, "{name}: {}", err.message());
        assert!(!err.message().is_empty(), "{name}");
        assert_eq!(err.to_string(), err.message(), "{name}");
        if input.len() > 3 {
            assert!(
                !err.message().contains(input.as_str()),
                "{name}: message quotes the token"
            );
        }
        // No run of 8 characters of the token appears in the message either.
        let chars: Vec<char> = input.chars().collect();
        for window in chars.windows(8).take(2_000) {
            let w: String = window.iter().collect();
            assert!(!err.message().contains(&w), "{name}: message quotes {w:?}");
        }
        if !seen.contains(code) {
            seen.push(*code);
        }
        // inspect agrees, except that a missing expiry is fine there.
        match inspect(input) {
            Ok(_) => assert_eq!(*code, DecodeErrorCode::NoExpiry, "{name}"),
            Err(e) => assert_eq!(e, err, "{name}"),
        }
    }
    assert_eq!(seen.len(), 10, "every code is covered: {seen:?}");
}

// ---------------------------------------------------------------------------------------
// Bounded fuzzing: never panic
// ---------------------------------------------------------------------------------------

/// Iterations per fuzz test: 20,000, or `FRESHTOKEN_FUZZ_ITERATIONS` for a longer run.
fn iterations() -> usize {
    std::env::var("FRESHTOKEN_FUZZ_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000)
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// Feeds one input to both entry points; they must return, and agree.
fn check(input: &str) -> Option<TokenInfo> {
    let decoded = decode(input);
    let inspected = inspect(input);
    match (&decoded, &inspected) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(e), Ok(_)) => assert_eq!(e.code(), DecodeErrorCode::NoExpiry),
        (Err(a), Err(b)) => assert_eq!(a, b),
        (Ok(_), Err(_)) => panic!("decode accepted what inspect refused"),
    }
    if let Err(e) = &inspected {
        assert!(!e.message().is_empty());
    }
    let info = inspected.ok()?;
    for t in [info.expires_at_ms, info.issued_at_ms, info.not_before_ms]
        .into_iter()
        .flatten()
    {
        assert!(t.is_finite() && t >= 0.0);
    }
    Some(info)
}

fn seeds() -> Vec<Vec<u8>> {
    let meta = cbor::map(&[
        (cbor::text("f"), cbor::f64(2.5)),
        (cbor::text("h"), vec![0xf9, 0x3e, 0x00]),
        (
            cbor::text("a"),
            cbor::array(&[cbor::neg(5), cbor::text("é"), cbor::bytes(&[0x80])]),
        ),
    ]);
    vec![
        b64url_decode(PUBNUB_DOCS_TOKEN),
        pubnub_map(
            Some(1_700_000_000),
            Some(43_200),
            &[(cbor::key("meta"), meta)],
        ),
        pubnub_map(Some(1), Some(1), &[]),
    ]
}

#[test]
fn random_inputs_never_panic() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    const ALPHABET: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. \t";
    for i in 0..iterations() {
        let len = rng.below(if i % 100 == 0 { 4_000 } else { 120 });
        let bytes: Vec<u8> = if i % 2 == 0 {
            (0..len).map(|_| rng.byte()).collect()
        } else {
            (0..len)
                .map(|_| ALPHABET[rng.below(ALPHABET.len())])
                .collect()
        };
        check(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn mutated_tokens_never_panic() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let jwts = [
        jwt(
            r#"{"exp":1700000000,"iat":1.6e9,"nbf":1600000000.25,"a":[1,{"b":"\u00e9\ud83d\ude00"}],"c":null}"#,
        ),
        jwt_hs256(
            r#"{"sub":"x","exp":1700000000,"roles":["a","b"],"n":-0.5e-3,"t":true,"f":false}"#,
        ),
    ];
    let cbor_seeds = seeds();
    let mut accepted = 0;
    let n = iterations();
    for i in 0..n {
        let token = match i % 4 {
            // Character-level mutation of a JWT or a PubNub token.
            0 | 1 => {
                let base = if i % 4 == 0 {
                    jwts[rng.below(jwts.len())].clone()
                } else {
                    b64url(&cbor_seeds[rng.below(cbor_seeds.len())])
                };
                let mut chars: Vec<u8> = base.into_bytes();
                for _ in 0..=rng.below(4) {
                    let at = rng.below(chars.len() + 1);
                    match rng.below(4) {
                        0 if at < chars.len() => chars[at] = rng.byte() & 0x7f,
                        1 if at < chars.len() => {
                            chars.remove(at);
                        }
                        2 => chars.insert(at, b"A.=_-+/ \"{"[rng.below(10)]),
                        _ => chars.truncate(at),
                    }
                }
                String::from_utf8_lossy(&chars).into_owned()
            }
            // Byte-level mutation of the CBOR inside a PubNub token.
            2 => {
                let mut bytes = cbor_seeds[rng.below(cbor_seeds.len())].clone();
                for _ in 0..=rng.below(3) {
                    let at = rng.below(bytes.len());
                    match rng.below(3) {
                        0 => bytes[at] = rng.byte(),
                        1 => bytes[at] ^= 1 << rng.below(8),
                        _ => bytes.truncate(at.max(1)),
                    }
                }
                b64url(&bytes)
            }
            // Byte-level mutation of a JWT payload's JSON.
            _ => {
                let payload =
                    br#"{"exp":1700000000,"iat":1.6e9,"s":"a\"b\\c\u0041","n":[1e5,-2,{"x":{}}]}"#;
                let mut bytes = payload.to_vec();
                let at = rng.below(bytes.len());
                match rng.below(3) {
                    0 => {
                        const JSONISH: &[u8] = b"{}[]\":,.-+eE0123456789\\u tfn";
                        bytes[at] = JSONISH[rng.below(JSONISH.len())];
                    }
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, rng.byte()),
                }
                format!("{NONE_HEADER}.{}.", b64url(&bytes))
            }
        };
        if let Some(info) = check(&token) {
            accepted += 1;
            if info.format == TokenFormat::PubNub {
                assert_json_object(&info.claims_json);
            }
        }
    }
    // The mutations are mild enough that a fair share still decodes.
    assert!(
        accepted > n / 20,
        "only {accepted} of {n} mutated tokens decoded"
    );
}

/// The cases `tests/browser/decode-native.test.mjs` runs in Chromium, where `JSON.parse`
/// reads the JSON: the host decoder (hand-written reader) must give the same answers, so
/// both builds are pinned to one behaviour.
#[test]
fn the_browser_tests_cases_decode_the_same_on_the_host() {
    let range = |c: &str| format!("JWT claim `{c}` is out of range (negative or above 1e13 seconds)");
    let kind = |c: &str| format!("JWT claim `{c}` must be a number of seconds");
    let deep = "JWT payload JSON is nested too deep (more than 64 levels)".to_string();
    let syntax = "JWT payload is not valid JSON".to_string();
    let not_object = "JWT payload is not a JSON object".to_string();
    let arrays = |n: usize| format!(r#"{{"exp":1,"a":{}1{}}}"#, "[".repeat(n), "]".repeat(n));
    let objects =
        |n: usize| format!(r#"{}{{"exp":1}}{}"#, r#"{"exp":1,"a":"#.repeat(n - 1), "}".repeat(n - 1));
    let cases: Vec<(String, Result<f64, String>)> = vec![
        (arrays(63), Ok(1000.0)),
        (arrays(64), Err(deep.clone())),
        (objects(64), Ok(1000.0)),
        (objects(65), Err(deep.clone())),
        (format!(r#"{{"exp":1,"a":{}}}"#, "[".repeat(100_000)), Err(deep.clone())),
        (format!(r#"{{"exp":1,"s":"{}"}}"#, "[".repeat(200)), Ok(1000.0)),
        (r#"{"exp":1,"a":"\ud800"}"#.into(), Err(syntax.clone())),
        (r#"{"exp":1,"a":"\udc00"}"#.into(), Err(syntax.clone())),
        (r#"{"exp":1,"a":"\ud800\u0041"}"#.into(), Err(syntax.clone())),
        (r#"{"exp":1,"a":"\ud800\\udc00"}"#.into(), Err(syntax.clone())),
        (r#"{"exp":1,"\ud83d\ude00":"\uD83D\uDE00","b":"\\ud800"}"#.into(), Ok(1000.0)),
        (r#"{"exp":1700000000,"iat":1699999000}"#.into(), Ok(1_700_000_000_000.0)),
        (r#"{"exp":1.5}"#.into(), Ok(1500.0)),
        (r#"{"exp":1.7e9}"#.into(), Ok(1.7e12)),
        (r#"{"exp":0}"#.into(), Ok(0.0)),
        (r#"{"exp":-0}"#.into(), Ok(0.0)),
        (r#"{"exp":10000000000000}"#.into(), Ok(1e16)),
        (r#"{"exp":10000000000001}"#.into(), Err(range("exp"))),
        (r#"{"exp":-1}"#.into(), Err(range("exp"))),
        (r#"{"exp":1e400}"#.into(), Err(range("exp"))),
        (r#"{"exp":-1e400}"#.into(), Err(range("exp"))),
        (r#"{"exp":"1700000000"}"#.into(), Err(kind("exp"))),
        (r#"{"exp":null}"#.into(), Err(kind("exp"))),
        (r#"{"exp":[1]}"#.into(), Err(kind("exp"))),
        (r#"{"exp":{}}"#.into(), Err(kind("exp"))),
        (r#"{"exp":true}"#.into(), Err(kind("exp"))),
        (r#"{"exp":1,"iat":-5}"#.into(), Err(range("iat"))),
        (r#"{"exp":1,"iat":"x"}"#.into(), Err(kind("iat"))),
        (r#"{"exp":1,"nbf":1e14}"#.into(), Err(range("nbf"))),
        (r#"{"exp":1,"nbf":false}"#.into(), Err(kind("nbf"))),
        (r#"{"sub":"no exp"}"#.into(), Err("JWT has no `exp` claim".into())),
        (r#"{"\u0065xp":5,"ex\u0070":6}"#.into(), Ok(6000.0)),
        (r#"{"exp":"x","exp":7}"#.into(), Ok(7000.0)),
        (r#"{"exp":7,"exp":"x"}"#.into(), Err(kind("exp"))),
        (r#"{"a":{"exp":"x"},"exp":2}"#.into(), Ok(2000.0)),
        (r#"{"éxp":"x","exp":3}"#.into(), Ok(3000.0)),
        ("[]".into(), Err(not_object.clone())),
        ("null".into(), Err(not_object.clone())),
        (r#""x""#.into(), Err(not_object.clone())),
        ("1".into(), Err(not_object.clone())),
        ("\u{feff}{\"exp\":1}".into(), Err(not_object.clone())),
        (r#"{"exp":1,}"#.into(), Err(syntax.clone())),
        (r#"{"exp":1} x"#.into(), Err(syntax.clone())),
        (r#"{"exp":01}"#.into(), Err(syntax.clone())),
        (r#"{"exp":NaN}"#.into(), Err(syntax.clone())),
        ("{'exp':1}".into(), Err(syntax.clone())),
        (r#"{"exp":1"#.into(), Err(syntax.clone())),
        ("{\"a\":\"tab\there\",\"exp\":1}".into(), Err(syntax.clone())),
        (r#"{"exp":.5}"#.into(), Err(syntax.clone())),
        (" \t\r\n{\"exp\":1} \n".into(), Ok(1000.0)),
    ];
    for (payload, want) in cases {
        let got = decode(&jwt(&payload)).map(|i| i.expires_at_ms.unwrap_or(f64::NAN));
        let got = got.map_err(|e| e.message().to_string());
        assert_eq!(got, want, "{}", payload.chars().take(80).collect::<String>());
    }
    let header_deep = format!(r#"{{"alg":{}1{}}}"#, "[".repeat(64), "]".repeat(64));
    let header = |h: &str| format!("{}.{}.", b64url(h.as_bytes()), b64url(br#"{"exp":1}"#));
    for (h, want) in [
        (header_deep.as_str(), "JWT header JSON is nested too deep (more than 64 levels)"),
        ("[]", "JWT header is not a JSON object"),
        (r#"{"alg":"none",}"#, "JWT header is not valid JSON"),
    ] {
        assert_eq!(decode(&header(h)).unwrap_err().message(), want);
    }
}
