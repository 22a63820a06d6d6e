//! The PubNub claims corpus (tests/fixtures/pubnub-claims.json): tokens with every kind of
//! CBOR item, and the claims text the Rust decoder writes for each (`TokenInfo::claims_json`).
//! The npm package reads those fields in JS instead (js/cbor.js);
//! tests/browser/decode-native.test.mjs checks in Chromium that `decodeToken(token).claims`
//! equals `JSON.parse(claims_json)` for every entry. This test keeps the file honest: it is
//! regenerated here and must match what is committed
//! (`FRESHTOKEN_WRITE_CORPUS=1 cargo test --test pubnub_corpus` rewrites it).

use freshtoken::inspect;
use serde_json::{json, Value};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pubnub-claims.json");

/// A small deterministic generator (xorshift64*), so the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend(n.to_be_bytes());
        }
    }
}

fn string(out: &mut Vec<u8>, major: u8, bytes: &[u8]) {
    head(out, major, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Floats the Rust writer prints exactly (at most 15 significant digits), in every width:
/// (half bits, or none; the value).
const FLOATS: [(Option<u16>, f64); 12] = [
    (Some(0x0000), 0.0),
    (Some(0x8000), -0.0),
    (Some(0x3800), 0.5),
    (Some(0x3e00), 1.5),
    (Some(0xc400), -4.0),
    (Some(0x7bff), 65504.0),
    (Some(0x1400), 0.0009765625),
    (Some(0x7e00), f64::NAN),
    (Some(0x7c00), f64::INFINITY),
    (Some(0xfc00), f64::NEG_INFINITY),
    (None, 1.1),
    (None, 1e300),
];

const TEXTS: [&str; 9] = ["", "a", "sig", "__proto__", "é€😀", "\u{feff}bom", "quote \" backslash \\ nl \n", "\u{1}\u{1f}", "constructor"];

fn float(out: &mut Vec<u8>, rng: &mut Rng) {
    let (half, x) = FLOATS[rng.below(FLOATS.len() as u64) as usize];
    match (half, rng.below(3)) {
        (Some(h), 0) => {
            out.push(0xf9);
            out.extend(h.to_be_bytes());
        }
        (_, 1) if (x as f32) as f64 == x || x.is_nan() => {
            out.push(0xfa);
            out.extend((x as f32).to_bits().to_be_bytes());
        }
        _ => {
            out.push(0xfb);
            out.extend(x.to_bits().to_be_bytes());
        }
    }
}

fn key(out: &mut Vec<u8>, rng: &mut Rng) {
    match rng.below(5) {
        0 => head(out, 0, rng.next() >> (rng.below(64) as u32)),
        1 => head(out, 1, rng.next() >> (rng.below(64) as u32)),
        2 => string(out, 2, TEXTS[rng.below(TEXTS.len() as u64) as usize].as_bytes()),
        _ => string(out, 3, TEXTS[rng.below(TEXTS.len() as u64) as usize].as_bytes()),
    }
}

fn item(out: &mut Vec<u8>, rng: &mut Rng, depth: u32) {
    let kinds = if depth >= 4 { 9 } else { 11 };
    match rng.below(kinds) {
        0 => head(out, 0, rng.next() >> (rng.below(64) as u32)),
        1 => head(out, 1, rng.next() >> (rng.below(64) as u32)),
        2 => string(out, 3, TEXTS[rng.below(TEXTS.len() as u64) as usize].as_bytes()),
        3 => {
            // A byte string: UTF-8 text (read as text) or not (base64url).
            let bytes: Vec<u8> = (0..rng.below(9)).map(|_| rng.next() as u8).collect();
            string(out, 2, &bytes);
        }
        4 => string(out, 2, TEXTS[rng.below(TEXTS.len() as u64) as usize].as_bytes()),
        5 => out.push(0xf4 + rng.below(4) as u8), // false, true, null, undefined
        6 | 7 => float(out, rng),
        8 => {
            head(out, 6, rng.below(300)); // a tag, read through
            item(out, rng, depth);
        }
        9 => {
            let n = rng.below(4);
            head(out, 4, n);
            for _ in 0..n {
                item(out, rng, depth + 1);
            }
        }
        _ => {
            let n = rng.below(4);
            head(out, 5, n);
            for _ in 0..n {
                key(out, rng);
                item(out, rng, depth + 1);
            }
        }
    }
}

/// A PubNub v3 token: `v`, `t`, `ttl`, some random entries (keys may repeat, even `sig`),
/// and `sig`.
fn token(rng: &mut Rng) -> Vec<u8> {
    let extra = rng.below(6);
    let mut out = Vec::new();
    head(&mut out, 5, 4 + extra);
    string(&mut out, 3, b"v");
    head(&mut out, 0, 2);
    string(&mut out, 3, b"t");
    head(&mut out, 0, 1_700_000_000 + rng.below(1000));
    string(&mut out, 2, b"ttl");
    head(&mut out, 0, 1 + rng.below(1440));
    for _ in 0..extra {
        key(&mut out, rng);
        item(&mut out, rng, 2);
    }
    string(&mut out, 3, b"sig");
    let sig: Vec<u8> = (0..1 + rng.below(40)).map(|_| rng.next() as u8).collect();
    string(&mut out, 2, if rng.below(4) == 0 { b"text" } else { &sig });
    out
}

fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = c.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=c.len() {
            s.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    s
}

fn corpus() -> Value {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let entries: Vec<Value> = (0..300)
        .map(|_| {
            let t = base64url(&token(&mut rng));
            let info = inspect(&t).expect("a generated token decodes");
            json!({ "token": t, "claims_json": info.claims_json })
        })
        .collect();
    json!({
        "about": "PubNub tokens and the claims text the Rust decoder writes for each; generated and checked by tests/pubnub_corpus.rs, read by tests/browser/decode-native.test.mjs",
        "entries": entries,
    })
}

#[test]
fn the_committed_corpus_is_what_the_rust_decoder_writes() {
    let want = serde_json::to_string_pretty(&corpus()).unwrap() + "\n";
    if std::env::var_os("FRESHTOKEN_WRITE_CORPUS").is_some() {
        std::fs::write(PATH, &want).unwrap();
    }
    let have = std::fs::read_to_string(PATH).expect("tests/fixtures/pubnub-claims.json");
    assert!(have == want, "tests/fixtures/pubnub-claims.json differs from what the decoder writes now; FRESHTOKEN_WRITE_CORPUS=1 cargo test --test pubnub_corpus rewrites it");
}
