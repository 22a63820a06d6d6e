//! Property tests and hostile bodies of the refresh answer reader (`engine::answer::read`,
//! on `json::each`): against a model made of `serde_json` (whose objects keep the last of
//! duplicate keys, as `JSON.parse` does) and the rules of `js/transport.js`'s former
//! `checkTokenSet`. Generated answers have every preset's field names with every kind of
//! value, keys and strings escaped at random (`\uXXXX`, surrogate pairs for characters
//! beyond the BMP, short escapes), duplicate keys, nested values and hostile numbers.

use freshtoken::engine::answer::{read, Source, Tokens, Unusable};
use freshtoken::engine::preset::Preset;
use proptest::prelude::*;
use serde_json::Value;

/// `s` as a JSON string literal, each character escaped or not as `mask` says.
fn escaped(s: &str, mask: u64) -> String {
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        let escape = mask >> (i % 64) & 1 == 1;
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if escape => out.push_str("\\n"),
            c if (c as u32) < 0x20 || escape => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{:04X}", u));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The model: what `checkTokenSet` took from a parsed answer.
fn model(source: Source, v: &Value) -> Result<(String, Option<String>, Option<f64>, Option<f64>, bool), Option<String>> {
    let names: [Option<&str>; 4] = match source {
        Source::Preset(Preset::Json) | Source::Function => [Some("accessToken"), Some("refreshToken"), Some("expiresIn"), Some("expiresAt")],
        Source::Preset(Preset::SanicJwt) => [Some("access_token"), Some("refresh_token"), None, None],
        Source::Preset(Preset::BearerPut) => [Some("token"), None, Some("expiresIn"), None],
        Source::Preset(Preset::Oauth2) => [Some("access_token"), Some("refresh_token"), Some("expires_in"), None],
    };
    let Some(m) = v.as_object() else { return Err(None) };
    let get = |i: usize| names[i].and_then(|k| m.get(k)).filter(|v| !v.is_null());
    let mut problems = false;
    let refresh = match get(1) {
        None => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => {
            problems = true;
            None
        }
    };
    let access = match get(0) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(refresh),
    };
    let mut number = |v: Option<&Value>| match v {
        None => None,
        Some(Value::Number(n)) if n.as_f64().is_some_and(|x| x.is_finite() && x >= 0.0) => n.as_f64(),
        Some(_) => {
            problems = true;
            None
        }
    };
    let in_field = match source {
        Source::Preset(Preset::BearerPut) => get(2).or_else(|| m.get("expires_in").filter(|v| !v.is_null())),
        _ => get(2),
    };
    let expires_in = number(in_field);
    let expires_at = number(get(3));
    Ok((access, refresh, expires_in, expires_at, problems))
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b || ((a - b) / b).abs() < 1e-14,
        (None, None) => true,
        _ => false,
    }
}

fn agrees(source: Source, text: &str) -> Result<(), TestCaseError> {
    let got = read(source, text);
    match serde_json::from_str::<Value>(text) {
        // serde_json refuses a number beyond f64 (JSON.parse makes it Infinity): not a model.
        Err(e) if e.to_string().contains("out of range") => {}
        Err(_) => prop_assert!(matches!(got, Err(Unusable { rotated_refresh_token: None, .. })), "{text}: {got:?}"),
        Ok(v) => match (model(source, &v), got) {
            (Ok((a, r, i, at, p)), Ok(Tokens { access_token, refresh_token, expires_in, expires_at, problems })) => {
                prop_assert_eq!(a, access_token, "{}", text);
                prop_assert_eq!(r, refresh_token, "{}", text);
                prop_assert!(close(i, expires_in.map(|x| x.0)), "{text}: {i:?} {expires_in:?}");
                prop_assert!(close(at, expires_at.map(|x| x.0)), "{text}: {at:?} {expires_at:?}");
                prop_assert_eq!(p, problems.is_some(), "{}", text);
            }
            (Err(rotated), Err(u)) => prop_assert_eq!(rotated, u.rotated_refresh_token, "{}", text),
            (want, got) => prop_assert!(false, "{text}: model {want:?}, read {got:?}"),
        },
    }
    Ok(())
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("accessToken".to_string()),
        Just("refreshToken".to_string()),
        Just("expiresIn".to_string()),
        Just("expiresAt".to_string()),
        Just("access_token".to_string()),
        Just("refresh_token".to_string()),
        Just("expires_in".to_string()),
        Just("token".to_string()),
        Just("id_token".to_string()),
        "[a-z_]{0,6}",
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-zA-Z0-9._-]{1,12}", any::<String>(), "[\u{0}-\u{7f}]{0,8}", "[\u{1F600}-\u{1F64F}é€\"\\\\/]{1,6}"]
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..10_000_000_000_000).prop_map(|n| n.to_string()),
        any::<i32>().prop_map(|n| n.to_string()),
        (0u32..100_000, 0u32..1000).prop_map(|(a, b)| format!("{a}.{b}")),
        (1u32..10, -400i32..400).prop_map(|(a, e)| format!("{a}e{e}")),
        Just("1e400".to_string()),
        Just("-0".to_string()),
        Just("123456789012345678901234567890".to_string()),
        Just("0.0000000000000000000000000001".to_string()),
    ]
}

fn value(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        (text(), any::<u64>()).prop_map(|(s, m)| escaped(&s, m)),
        number(),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        4 => leaf,
        1 => prop::collection::vec(value(depth - 1), 0..3).prop_map(|v| format!("[{}]", v.join(","))),
        1 => prop::collection::vec((key(), value(depth - 1)), 0..3)
            .prop_map(|v| format!("{{{}}}", v.iter().map(|(k, x)| format!("{}:{x}", escaped(k, 0))).collect::<Vec<_>>().join(","))),
    ]
    .boxed()
}

fn answer() -> impl Strategy<Value = String> {
    prop::collection::vec((key(), any::<u64>(), value(2), " ?\n?"), 0..8).prop_map(|members| {
        let body: Vec<String> = members.iter().map(|(k, m, v, ws)| format!("{ws}{}{ws}:{ws}{v}", escaped(k, *m))).collect();
        format!("{{{}}}", body.join(","))
    })
}

fn sources() -> [Source; 5] {
    [Source::Preset(Preset::Json), Source::Preset(Preset::SanicJwt), Source::Preset(Preset::BearerPut), Source::Preset(Preset::Oauth2), Source::Function]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn reads_answers_as_the_model(text in answer()) {
        for s in sources() {
            agrees(s, &text)?;
        }
    }

    #[test]
    fn mutated_answers_never_panic_and_agree(text in answer(), at in any::<prop::sample::Index>(), b in any::<u8>()) {
        let mut bytes = text.into_bytes();
        if !bytes.is_empty() {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if let Ok(text) = String::from_utf8(bytes) {
            for s in sources() {
                agrees(s, &text)?;
            }
        }
    }
}

#[test]
fn hostile_bodies() {
    let json = Source::Preset(Preset::Json);
    // Duplicate keys: the last counts, as in JSON.parse.
    let t = read(json, r#"{"accessToken":"a1","accessToken":"a2","expiresIn":"x","expiresIn":60}"#).unwrap();
    assert_eq!((t.access_token.as_str(), t.expires_in.map(|x| x.0), t.problems), ("a2", Some(60.0), None));
    assert!(read(json, r#"{"accessToken":"a2","accessToken":5}"#).is_err());
    // Escapes: keys and values unescaped, surrogate pairs joined.
    let t = read(json, r#"{"acc\u0065ssToken":"a\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00x","refreshToken":"\u0000"}"#).unwrap();
    assert_eq!(t.access_token, "a\"\\/\u{8}\u{c}\n\r\té😀x");
    assert_eq!(t.refresh_token.as_deref(), Some("\0"));
    // A lone surrogate is not Unicode text: the body is not taken.
    assert!(read(json, r#"{"accessToken":"\ud800"}"#).unwrap_err().message.contains("not JSON"));
    // Deep nesting: up to 64 levels, then not JSON (JSON.parse would take it; no token lies there).
    let deep = |n: usize| format!(r#"{{"accessToken":"a","x":{}1{}}}"#, "[".repeat(n), "]".repeat(n));
    assert!(read(json, &deep(63)).is_ok());
    assert!(read(json, &deep(64)).is_err());
    assert!(read(json, &deep(100_000)).is_err());
    // Huge numbers: infinite is not a number the schedule can use (dropped, named).
    let t = read(json, r#"{"accessToken":"a","expiresIn":1e400,"expiresAt":123456789012345678901234567890}"#).unwrap();
    assert_eq!(t.expires_in, None);
    assert_eq!(t.expires_at.map(|x| x.1), Some("123456789012345678901234567890"));
    assert!(t.problems.unwrap().contains("`expiresIn` is not a non-negative number"));
    // Not an object, not JSON, trailing text, an empty body.
    for (text, why) in [("[1]", "not a JSON object"), ("\"a\"", "not JSON"), ("<html>", "not JSON"), ("{} x", "not JSON"), ("", "not JSON"), ("{\"accessToken\":\"a\",}", "not JSON")] {
        let e = read(json, text).unwrap_err();
        assert!(e.message.contains(why) && e.message.contains("`accessToken`"), "{text}: {}", e.message);
    }
    // A 1 MB fieldless body (just under MAX_ANSWER_LEN: read, and unusable for what it lacks).
    let big = format!(r#"{{"junk":"{}"}}"#, "x".repeat((1 << 20) - 11));
    assert_eq!(big.len(), 1 << 20);
    assert!(read(json, &big).unwrap_err().message.contains("has no access token string"));
    // One byte more is not read at all, tokens or not (red2 6).
    let over = format!(r#"{{"accessToken":"a","junk":"{}"}}"#, "x".repeat((1 << 20) - 28));
    assert_eq!(over.len(), (1 << 20) + 1);
    assert!(read(json, &over).unwrap_err().message.contains("larger than 1 MiB"));
    // The app's function: not an object.
    assert_eq!(read(Source::Function, "null").unwrap_err().message, "the refresh function did not give an object with the new tokens");
}

#[test]
fn what_each_preset_reads() {
    fn r(p: Preset, text: &str) -> Result<Tokens<'_>, Unusable> {
        read(Source::Preset(p), text)
    }
    let t = r(Preset::SanicJwt, r#"{"access_token":"a","refresh_token":"r","expires_in":"x"}"#).unwrap();
    assert_eq!((t.refresh_token.as_deref(), t.expires_in, t.problems), (Some("r"), None, None));
    let t = r(Preset::BearerPut, r#"{"token":"a","expires_in":30,"refreshToken":"r"}"#).unwrap();
    assert_eq!((t.refresh_token, t.expires_in), (None, Some((30.0, "30"))));
    let t = r(Preset::BearerPut, r#"{"token":"a","expiresIn":null,"expires_in":30}"#).unwrap();
    assert_eq!(t.expires_in, Some((30.0, "30")));
    let e = r(Preset::Oauth2, r#"{"accessToken":"a","refresh_token":"r2"}"#).unwrap_err();
    assert_eq!(e.rotated_refresh_token.as_deref(), Some("r2"));
    assert_eq!(e.message, "the refresh response (preset 'oauth2', expected field `access_token`) has no access token string");
    let t = r(Preset::Json, r#"{"accessToken":"a","refreshToken":7,"expiresAt":-1}"#).unwrap();
    assert_eq!(t.problems.as_deref(), Some("the refresh response (preset 'json', expected field `accessToken`): `refreshToken` is not a string (ignored); `expiresAt` is not a non-negative number (ignored); the tokens were taken"));
}
