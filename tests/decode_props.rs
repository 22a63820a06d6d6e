//! Property tests of the token decoder (issue 5, item 4), with `proptest`.
//!
//! Generated inputs: structured near-valid JWTs (varied claims and JSON value kinds,
//! integer/float/exponent/negative/huge numbers, string escapes, padded or unpadded
//! base64url, the standard alphabet), PubNub v3 tokens (CBOR maps with byte or text keys,
//! every integer width, nested values, floats), mutations of both, and raw bytes.
//! Properties: nothing panics; `decode` and `inspect` agree; every error has a code and a
//! message; a valid-looking token decodes to the figures its claims give
//! (`expires_at_ms = exp * 1000`, PubNub `(t + ttl * 60) * 1000`), and an out-of-range
//! claim is refused as `bad-claim`.
//!
//! `cargo test --test decode_props` runs 2,048 cases per property (a few seconds). Longer by
//! hand: `PROPTEST_CASES=200000 cargo test --release --test decode_props`. A failure prints
//! the shrunk input (nothing is written to the tree). The cargo-fuzz target in `fuzz/`
//! runs the same decoder on coverage-guided input for as long as one likes.

use freshtoken::{decode, inspect, DecodeErrorCode, TokenFormat, TokenInfo};
use proptest::prelude::*;
use proptest::test_runner::Config;

// ---------------------------------------------------------------------------------------
// Encoders (test-only)
// ---------------------------------------------------------------------------------------

fn b64(bytes: &[u8], standard: bool, padded: bool) -> String {
    let alphabet: &[u8; 64] = if standard {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    };
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let mut v = [0u8; 3];
        v[..chunk.len()].copy_from_slice(chunk);
        let n = (u32::from(v[0]) << 16) | (u32::from(v[1]) << 8) | u32::from(v[2]);
        for i in 0..=chunk.len() {
            out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    while padded && out.len() % 4 != 0 {
        out.push('=');
    }
    out
}

/// CBOR head for major type `major` and argument `n`, in the shortest or a wider width.
fn cbor_head(major: u8, n: u64, wide: bool) -> Vec<u8> {
    let m = major << 5;
    match n {
        _ if wide => {
            let mut v = vec![m | 27];
            v.extend(n.to_be_bytes());
            v
        }
        0..=23 => vec![m | n as u8],
        24..=0xff => vec![m | 24, n as u8],
        0x100..=0xffff => {
            let mut v = vec![m | 25];
            v.extend((n as u16).to_be_bytes());
            v
        }
        0x1_0000..=0xffff_ffff => {
            let mut v = vec![m | 26];
            v.extend((n as u32).to_be_bytes());
            v
        }
        _ => {
            let mut v = vec![m | 27];
            v.extend(n.to_be_bytes());
            v
        }
    }
}

fn cbor_str(major: u8, s: &[u8]) -> Vec<u8> {
    let mut v = cbor_head(major, s.len() as u64, false);
    v.extend_from_slice(s);
    v
}

// ---------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------

/// A JSON string literal with escapes of every kind (including surrogate pairs).
fn json_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9 ]{0,6}",
        Just(r#"\""#.to_string()),
        Just(r"\\".to_string()),
        Just(r"\/".to_string()),
        Just(r"\n\t\r\b\f".to_string()),
        Just(r"\u00e9".to_string()),
        Just(r"\ud83d\ude00".to_string()),
        Just("é漢😀".to_string()),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|p| format!("\"{}\"", p.concat()))
}

/// A JSON number text in one of its many spellings.
fn json_number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (0u64..=10_000_000_000_000).prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(|x| format!("{x:?}")),
        (0u32..2_000_000_000, 0u32..1000).prop_map(|(a, b)| format!("{a}.{b:03}")),
        (1u32..10, 0u32..20).prop_map(|(m, e)| format!("{m}e{e}")),
        (1u32..10, 0u32..400).prop_map(|(m, e)| format!("{m}.5E+{e}")),
        (1u32..10, 0u32..400).prop_map(|(m, e)| format!("-{m}e-{e}")),
        Just("1e400".to_string()),
        Just("-0".to_string()),
        Just("0.0".to_string()),
    ]
}

/// Any JSON value, nested a little.
fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        json_number(),
        json_string(),
        Just("true".to_string()),
        Just("false".to_string()),
        Just("null".to_string()),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((json_string(), inner), 0..4).prop_map(|kv| {
                let body: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
    })
}

/// What a JWT's `exp` (or `iat`) claim is: absent, a number with its value, or something else.
#[derive(Clone, Debug)]
enum Time {
    Absent,
    Number(String, f64),
    Other(String),
}

fn time_claim() -> impl Strategy<Value = Time> {
    prop_oneof![
        1 => Just(Time::Absent),
        4 => (0u64..=10_000_000_000_000).prop_map(|n| Time::Number(n.to_string(), n as f64)),
        2 => (0u32..2_000_000_000, 1u32..1000).prop_map(|(a, b)| {
            let s = format!("{a}.{b:03}");
            let v = s.parse().unwrap();
            Time::Number(s, v)
        }),
        1 => (1u32..10, 0u32..12).prop_map(|(m, e)| {
            let s = format!("{m}e{e}");
            let v = s.parse().unwrap();
            Time::Number(s, v)
        }),
        1 => (1u64..1_000_000_000).prop_map(|n| Time::Number(format!("-{n}"), -(n as f64))),
        1 => Just(Time::Number("1e300".into(), 1e300)),
        1 => json_string().prop_map(Time::Other),
        1 => Just(Time::Other("null".into())),
        1 => Just(Time::Other("[1700000000]".into())),
    ]
}

/// A JWT payload: time claims, other claims, in a shuffled order, with its expected figures.
#[derive(Clone, Debug)]
struct JwtCase {
    token: String,
    exp: Time,
    iat: Time,
}

fn jwt_case() -> impl Strategy<Value = JwtCase> {
    (
        time_claim(),
        time_claim(),
        prop::collection::vec(("[a-z_]{1,8}", json_value()), 0..6),
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(vec![r#"{"alg":"HS256","typ":"JWT"}"#, r#"{"alg":"none"}"#, r#"{"alg":"RS256","kid":"k\u0031"}"#]),
        "[A-Za-z0-9_-]{0,40}",
    )
        .prop_map(|(exp, iat, others, standard, padded, header, sig)| {
            let mut fields: Vec<String> = others
                .into_iter()
                // Only the tested claims may carry these names (the last duplicate wins).
                .filter(|(k, _)| !matches!(k.as_str(), "exp" | "iat" | "nbf"))
                .map(|(k, v)| format!("\"{k}\":{v}"))
                .collect();
            for (name, t) in [("exp", &exp), ("iat", &iat)] {
                match t {
                    Time::Absent => {}
                    Time::Number(s, _) | Time::Other(s) => fields.insert(fields.len() / 2, format!("\"{name}\":{s}")),
                }
            }
            let payload = format!("{{{}}}", fields.join(","));
            let token = format!(
                "{}.{}.{}",
                b64(header.as_bytes(), standard, padded),
                b64(payload.as_bytes(), standard, padded),
                sig
            );
            JwtCase { token, exp, iat }
        })
}

/// A PubNub v3 token: the CBOR map, the `t` and `ttl` given, and whether they are ints.
#[derive(Clone, Debug)]
struct PubNubCase {
    token: String,
    t: Option<u64>,
    ttl: Option<u64>,
}

fn cbor_extra() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        any::<u64>().prop_map(|n| cbor_head(0, n, false)),
        any::<u64>().prop_map(|n| cbor_head(1, n, false)),
        prop::collection::vec(any::<u8>(), 0..12).prop_map(|b| cbor_str(2, &b)),
        "[a-zé😀 ]{0,8}".prop_map(|s| cbor_str(3, s.as_bytes())),
        any::<f64>().prop_map(|x| {
            let mut v = vec![0xfb];
            v.extend(x.to_be_bytes());
            v
        }),
        Just(vec![0xf4]),
        Just(vec![0xf5]),
        Just(vec![0xf6]),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|items| {
                let mut v = cbor_head(4, items.len() as u64, false);
                items.iter().for_each(|i| v.extend(i));
                v
            }),
            prop::collection::vec(("[a-z]{1,5}", inner), 0..3).prop_map(|kv| {
                let mut v = cbor_head(5, kv.len() as u64, false);
                for (k, val) in kv {
                    v.extend(cbor_str(3, k.as_bytes()));
                    v.extend(val);
                }
                v
            }),
        ]
    })
}

fn pubnub_case() -> impl Strategy<Value = PubNubCase> {
    (
        prop::option::weighted(0.9, 0u64..=10_000_000_000_000),
        prop::option::weighted(0.9, prop_oneof![0u64..=43_200, 0u64..=200_000_000_000]),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(("[a-z]{2,6}", cbor_extra()), 0..4),
        any::<bool>(),
    )
        .prop_map(|(t, ttl, text_keys, wide, extra, padded)| {
            let key = |k: &str| if text_keys { cbor_str(3, k.as_bytes()) } else { cbor_str(2, k.as_bytes()) };
            let mut entries: Vec<(Vec<u8>, Vec<u8>)> = vec![(key("v"), cbor_head(0, 2, wide))];
            if let Some(t) = t {
                entries.push((key("t"), cbor_head(0, t, wide)));
            }
            if let Some(ttl) = ttl {
                entries.push((key("ttl"), cbor_head(0, ttl, wide)));
            }
            for (k, v) in extra {
                if !matches!(k.as_str(), "v" | "t" | "ttl" | "sig") {
                    entries.push((key(&k), v));
                }
            }
            entries.push((key("sig"), cbor_str(2, &[0xde, 0xad, 0xbe, 0xef, 0x00, 0xff])));
            let mut map = cbor_head(5, entries.len() as u64, false);
            for (k, v) in entries {
                map.extend(k);
                map.extend(v);
            }
            PubNubCase { token: b64(&map, false, padded), t, ttl }
        })
}

/// A token with a few characters changed, removed, inserted or cut off.
fn mutated(base: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (base, prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 1..5)).prop_map(|(s, edits)| {
        let mut b = s.into_bytes();
        for (at, op, byte) in edits {
            let i = at.index(b.len() + 1);
            match op {
                0 if i < b.len() => b[i] = byte,
                1 if i < b.len() => {
                    b.remove(i);
                }
                2 => b.insert(i, byte),
                _ => b.truncate(i),
            }
        }
        String::from_utf8_lossy(&b).into_owned()
    })
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

/// Both entry points return (never panic) and agree; errors carry a code and a message;
/// any figure decoded is a finite non-negative time.
fn check(input: &str) -> Result<Option<TokenInfo>, TestCaseError> {
    let decoded = decode(input);
    let inspected = inspect(input);
    match (&decoded, &inspected) {
        (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
        (Err(e), Ok(_)) => prop_assert_eq!(e.code(), DecodeErrorCode::NoExpiry),
        (Err(a), Err(b)) => prop_assert_eq!(a, b),
        (Ok(_), Err(_)) => prop_assert!(false, "decode accepted what inspect refused"),
    }
    if let Err(e) = &inspected {
        prop_assert!(!e.message().is_empty() && !e.code().as_str().is_empty());
        // Errors never quote the token.
        prop_assert!(input.len() < 8 || !e.message().contains(input));
    }
    let Ok(info) = inspected else { return Ok(None) };
    for t in [info.expires_at_ms, info.issued_at_ms, info.not_before_ms].into_iter().flatten() {
        prop_assert!(t.is_finite() && t >= 0.0, "time {}", t);
    }
    Ok(Some(info))
}

/// `x` seconds in ms as the decoder should give it: exact for integers, within rounding otherwise.
fn assert_ms(got: Option<f64>, secs: f64) -> Result<(), TestCaseError> {
    let got = got.ok_or_else(|| TestCaseError::fail("no time decoded"))?;
    let want = secs * 1000.0;
    if secs.fract() == 0.0 && secs < 9e15 {
        prop_assert_eq!(got, want);
    } else {
        prop_assert!((got - want).abs() <= want.abs() * 1e-12, "{} vs {}", got, want);
    }
    Ok(())
}

fn in_range(v: f64) -> bool {
    (0.0..=1e13).contains(&v)
}

fn config() -> Config {
    // PROPTEST_CASES overrides the bounded default for a longer run by hand.
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(2048);
    Config { cases, failure_persistence: None, ..Config::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn jwts_decode_to_their_claims(case in jwt_case()) {
        let info = check(&case.token)?;
        let bad = |t: &Time| match t {
            Time::Absent => false,
            Time::Number(_, v) => !in_range(*v),
            Time::Other(_) => true,
        };
        if bad(&case.exp) || bad(&case.iat) {
            prop_assert!(info.is_none());
            prop_assert_eq!(inspect(&case.token).unwrap_err().code(), DecodeErrorCode::BadClaim);
            return Ok(());
        }
        let info = info.ok_or_else(|| TestCaseError::fail(format!("refused: {:?}", inspect(&case.token))))?;
        prop_assert_eq!(info.format, TokenFormat::Jwt);
        match &case.exp {
            Time::Number(_, v) => assert_ms(info.expires_at_ms, *v)?,
            _ => {
                prop_assert_eq!(info.expires_at_ms, None);
                prop_assert_eq!(decode(&case.token).unwrap_err().code(), DecodeErrorCode::NoExpiry);
            }
        }
        match &case.iat {
            Time::Number(_, v) => assert_ms(info.issued_at_ms, *v)?,
            _ => prop_assert_eq!(info.issued_at_ms, None),
        }
        let object = info.claims_json.starts_with('{') && info.claims_json.ends_with('}');
        prop_assert!(object, "claims are not an object");
    }

    #[test]
    fn pubnub_tokens_decode_to_t_plus_ttl(case in pubnub_case()) {
        let info = check(&case.token)?;
        let t_ok = case.t.is_none_or(|t| t <= 10_000_000_000_000);
        let ttl_ok = case.ttl.is_none_or(|m| m <= 10_000_000_000_000 / 60);
        if !(t_ok && ttl_ok) {
            prop_assert!(info.is_none());
            prop_assert_eq!(inspect(&case.token).unwrap_err().code(), DecodeErrorCode::BadClaim);
            return Ok(());
        }
        let info = info.ok_or_else(|| TestCaseError::fail(format!("refused: {:?}", inspect(&case.token))))?;
        prop_assert_eq!(info.format, TokenFormat::PubNub);
        prop_assert_eq!(info.issued_at_ms, case.t.map(|t| t as f64 * 1000.0));
        match (case.t, case.ttl) {
            (Some(t), Some(ttl)) => prop_assert_eq!(info.expires_at_ms, Some((t as f64 + ttl as f64 * 60.0) * 1000.0)),
            _ => {
                prop_assert_eq!(info.expires_at_ms, None);
                prop_assert_eq!(decode(&case.token).unwrap_err().code(), DecodeErrorCode::NoExpiry);
            }
        }
        let object = info.claims_json.starts_with('{');
        prop_assert!(object, "claims are not an object");
    }

    #[test]
    fn mutated_jwts_never_panic(token in mutated(jwt_case().prop_map(|c| c.token))) {
        check(&token)?;
    }

    #[test]
    fn mutated_pubnub_tokens_never_panic(token in mutated(pubnub_case().prop_map(|c| c.token))) {
        check(&token)?;
    }

    #[test]
    fn raw_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        check(&String::from_utf8_lossy(&bytes))?;
        // The same bytes as a PubNub token, and as a JWT payload.
        check(&b64(&bytes, false, false))?;
        check(&format!("eyJhbGciOiJub25lIn0.{}.", b64(&bytes, false, false)))?;
    }

    #[test]
    fn raw_token_text_never_panics(s in "[A-Za-z0-9_+/=.\\- ]{0,300}") {
        check(&s)?;
    }
}

#[test]
fn huge_inputs_are_refused_cheaply() {
    // 1 MB: too large before anything is decoded; exactly at the limit: read as usual.
    let big = format!("eyJhbGciOiJub25lIn0.{}.", "A".repeat(1 << 20));
    assert_eq!(decode(&big).unwrap_err().code(), DecodeErrorCode::TooLarge);
    let deep = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    let token = format!("eyJhbGciOiJub25lIn0.{}.", b64(format!("{{\"a\":{deep}}}").as_bytes(), false, false));
    assert_eq!(decode(&token).unwrap_err().code(), DecodeErrorCode::BadJson);
    let nested_cbor: Vec<u8> = std::iter::repeat_n(0x81u8, 100_000).chain([0x00]).collect();
    let mut map = vec![0xa2];
    map.extend(cbor_str(2, b"v"));
    map.extend(nested_cbor);
    assert!(decode(&b64(&map, false, false)).is_err());
}
