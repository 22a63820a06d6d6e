//! A minimal CBOR (RFC 8949) reader for PubNub Access Manager v3 tokens. It builds no tree:
//! what it reads goes straight to a [`Sink`], which writes JSON text ([`JsonText`]) or, in
//! the npm package's wasm, nothing (the wasm only checks the map there; `js/cbor.js` reads
//! the fields of a token the wasm accepted into JS values).
//!
//! Supported: definite-length unsigned and negative integers, byte and text strings,
//! arrays, maps, `false`/`true`/`null`/`undefined`, half/single/double floats; tags are
//! skipped and the tagged item read. Rejected with [`DecodeErrorCode::BadCbor`]:
//! indefinite-length items, reserved additional-information values, other simple values,
//! text that is not UTF-8, map keys that are not strings or integers, nesting deeper than
//! [`MAX_DEPTH`], bytes after the top-level map, and any length or count larger than what
//! is left of the input (so a claimed length of 2^60 fails at once and nothing is ever
//! allocated from a claimed length).
//!
//! Hand-written rather than `minicbor` because it is smaller: measured for wasm32 (opt-level
//! z, LTO, immediate-abort panics, `wasm-opt -Oz`), reading a token map and writing it as
//! JSON costs about half the gzipped bytes of the same job done with `minicbor` 2.3.
//!
//! JSON mapping (`js/cbor.js` makes the same values): integers as decimal; byte strings as
//! their text when it is UTF-8, else unpadded base64url; map keys as strings; `undefined`
//! and non-finite floats as `null`.

use crate::error::{self, DecodeError};
#[cfg(test)]
use crate::error::DecodeErrorCode;
use crate::json;

#[cfg(any(not(target_arch = "wasm32"), feature = "web"))]
mod json_text;
#[cfg(any(not(target_arch = "wasm32"), feature = "web"))]
pub(crate) use json_text::JsonText;

/// The deepest nesting of arrays and maps accepted (the top-level map is depth 1).
pub(crate) const MAX_DEPTH: u32 = 64;

const TRUNCATED: DecodeError = error::CBOR_TRUNCATED;
const INDEFINITE: DecodeError = error::CBOR_INDEFINITE;
const RESERVED: DecodeError = error::CBOR_RESERVED;
const TOO_DEEP: DecodeError = error::CBOR_TOO_DEEP;
const NOT_UTF8: DecodeError = error::CBOR_NOT_UTF8;
const BAD_KEY: DecodeError = error::CBOR_BAD_KEY;
const TRAILING: DecodeError = error::CBOR_TRAILING;
const NOT_MAP: DecodeError = error::CBOR_NOT_MAP;

/// What a watched top-level field of the map holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    /// The key does not occur.
    Absent,
    /// The (last) value is an unsigned integer.
    Uint(u64),
    /// The (last) value is anything else.
    Other,
}

/// A scalar the reader hands its [`Sink`]: a map key, or a value that is not a map or array.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Scalar<'a> {
    /// An unsigned integer (major type 0).
    Uint(u64),
    /// The negative integer `-1 - n` (major type 1).
    Negative(u64),
    /// A text string, or a byte string read as text (it is UTF-8).
    Text(&'a str),
    /// A byte string, to be written as unpadded base64url.
    Base64(&'a [u8]),
    /// `false` or `true`.
    Bool(bool),
    /// `null` or `undefined`.
    Null,
    /// A half, single or double float (may be NaN or infinite).
    Float(f64),
}

/// What the reader reports, in document order. [`JsonText`] writes it as JSON text; `()`
/// ignores it (the npm package's wasm only checks the map: `js/cbor.js` reads the fields
/// into JS values once the wasm has accepted the token).
pub(crate) trait Sink {
    /// A map (`map`) or an array opens.
    fn open(&mut self, map: bool);
    /// The innermost open map (`map`) or array closes.
    fn close(&mut self, map: bool);
    /// The next entry's key in the innermost open map.
    fn key(&mut self, key: Scalar<'_>);
    /// A scalar value: the innermost map's entry value, the array's next element, or the whole item.
    fn scalar(&mut self, value: Scalar<'_>);
}

impl Sink for () {
    fn open(&mut self, _map: bool) {}
    fn close(&mut self, _map: bool) {}
    fn key(&mut self, _key: Scalar<'_>) {}
    fn scalar(&mut self, _value: Scalar<'_>) {}
}

/// Reads `data`, which must be exactly one CBOR map, into `sink`. Returns what the
/// top-level keys in `watch` hold (the last occurrence wins, as in `JSON.parse`). The
/// byte-string value of the top-level key `raw_key` is always base64url, even when it
/// happens to be UTF-8.
pub(crate) fn read_map<const N: usize>(
    data: &[u8],
    watch: [&[u8]; N],
    raw_key: &[u8],
    sink: &mut impl Sink,
) -> Result<[Field; N], DecodeError> {
    let mut r = Reader { data, pos: 0 };
    let (major, info) = r.head()?;
    if major != 5 {
        return Err(NOT_MAP);
    }
    let n = r.length(info, 2)?;
    let mut found = [Field::Absent; N];
    sink.open(true);
    for _ in 0..n {
        let key = r.key(sink)?;
        let value = r.item(sink, 2, key != Some(raw_key))?;
        if let Some(key) = key {
            for (name, slot) in watch.iter().zip(found.iter_mut()) {
                if *name == key {
                    *slot = value;
                }
            }
        }
    }
    sink.close(true);
    if r.pos != data.len() {
        return Err(TRAILING);
    }
    Ok(found)
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// The next `n` bytes, if that many are left.
    fn take(&mut self, n: u64) -> Result<&'a [u8], DecodeError> {
        let n = usize::try_from(n).map_err(|_| TRUNCATED)?;
        let end = self.pos.checked_add(n).ok_or(TRUNCATED)?;
        let bytes = self.data.get(self.pos..end).ok_or(TRUNCATED)?;
        self.pos = end;
        Ok(bytes)
    }

    /// A big-endian unsigned integer of `n` (at most 8) bytes.
    fn be(&mut self, n: u64) -> Result<u64, DecodeError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// The major type and additional information of the next item, tags skipped.
    fn head(&mut self) -> Result<(u8, u8), DecodeError> {
        loop {
            let initial = self.be(1)? as u8;
            let (major, info) = (initial >> 5, initial & 0x1f);
            if major != 6 {
                return Ok((major, info));
            }
            // A tag: skip its number, then read the tagged item.
            self.argument(info)?;
        }
    }

    /// The argument of a head whose additional information is `info`.
    fn argument(&mut self, info: u8) -> Result<u64, DecodeError> {
        match info {
            0..=23 => Ok(u64::from(info)),
            24 => self.be(1),
            25 => self.be(2),
            26 => self.be(4),
            27 => self.be(8),
            31 => Err(INDEFINITE),
            _ => Err(RESERVED),
        }
    }

    /// A length or count, which can never exceed the bytes left: each byte of a string
    /// takes a byte, each element of an array at least one, each map entry at least two.
    fn length(&mut self, info: u8, bytes_per_element: u64) -> Result<u64, DecodeError> {
        let n = self.argument(info)?;
        let left = self.data.len().saturating_sub(self.pos) as u64;
        match n.checked_mul(bytes_per_element) {
            Some(need) if need <= left => Ok(n),
            _ => Err(TRUNCATED),
        }
    }

    /// The contents of a byte (major 2) or text (major 3) string.
    fn string(&mut self, major: u8, info: u8) -> Result<&'a [u8], DecodeError> {
        let n = self.length(info, 1)?;
        let bytes = self.take(n)?;
        if major == 3 && !json::is_utf8(bytes) {
            return Err(NOT_UTF8);
        }
        Ok(bytes)
    }

    /// Reads a map key into `sink`; returns its bytes when it is a string.
    fn key(&mut self, sink: &mut impl Sink) -> Result<Option<&'a [u8]>, DecodeError> {
        let (major, info) = self.head()?;
        match major {
            0 | 1 => {
                sink.key(self.integer(major, info)?);
                Ok(None)
            }
            2 | 3 => {
                let bytes = self.string(major, info)?;
                sink.key(bytes_scalar(bytes, true));
                Ok(Some(bytes))
            }
            _ => Err(BAD_KEY),
        }
    }

    /// An integer (major 0 or 1).
    fn integer(&mut self, major: u8, info: u8) -> Result<Scalar<'a>, DecodeError> {
        let n = self.argument(info)?;
        Ok(if major == 0 { Scalar::Uint(n) } else { Scalar::Negative(n) })
    }

    /// Reads the next item, at nesting `depth`, into `sink`. Byte strings are text when
    /// `bytes_as_text` and they are UTF-8.
    fn item(
        &mut self,
        sink: &mut impl Sink,
        depth: u32,
        bytes_as_text: bool,
    ) -> Result<Field, DecodeError> {
        let (major, info) = self.head()?;
        let scalar = match major {
            0 | 1 => {
                let n = self.integer(major, info)?;
                sink.scalar(n);
                return Ok(match n {
                    Scalar::Uint(n) => Field::Uint(n),
                    _ => Field::Other,
                });
            }
            2 | 3 => bytes_scalar(self.string(major, info)?, bytes_as_text),
            4 | 5 => {
                if depth > MAX_DEPTH {
                    return Err(TOO_DEEP);
                }
                let map = major == 5;
                let n = self.length(info, if map { 2 } else { 1 })?;
                sink.open(map);
                for _ in 0..n {
                    if map {
                        self.key(sink)?;
                    }
                    self.item(sink, depth + 1, true)?;
                }
                sink.close(map);
                return Ok(Field::Other);
            }
            _ => match info {
                20 | 21 => Scalar::Bool(info == 21),
                22 | 23 => Scalar::Null,
                25 => Scalar::Float(half_to_f64(self.be(2)? as u16)),
                26 => Scalar::Float(f64::from(f32::from_bits(self.be(4)? as u32))),
                27 => Scalar::Float(f64::from_bits(self.be(8)?)),
                31 => return Err(INDEFINITE),
                _ => return Err(RESERVED),
            },
        };
        sink.scalar(scalar);
        Ok(Field::Other)
    }
}

/// Converts an IEEE 754 half-precision float.
fn half_to_f64(h: u16) -> f64 {
    let exponent = u64::from((h >> 10) & 0x1f);
    let fraction = f64::from(h & 0x3ff);
    let magnitude = match exponent {
        // Subnormal: fraction * 2^-24.
        0 => fraction * f64::from_bits((1023 - 24) << 52),
        31 if fraction == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        // (1024 + fraction) * 2^(exponent - 25).
        _ => (1024.0 + fraction) * f64::from_bits((exponent + 1023 - 25) << 52),
    };
    if h & 0x8000 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// A byte string as the sink gets it: text when UTF-8 and `as_text`, else base64url.
fn bytes_scalar(bytes: &[u8], as_text: bool) -> Scalar<'_> {
    match json::utf8_str(bytes) {
        Some(text) if as_text => Scalar::Text(text),
        _ => Scalar::Base64(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        s.chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    /// Any single item as JSON (the public entry point takes maps only).
    fn item_json(bytes: &[u8]) -> Result<String, DecodeError> {
        let mut r = Reader {
            data: bytes,
            pos: 0,
        };
        let mut s = JsonText::with_capacity(0);
        r.item(&mut s, 1, true)?;
        if r.pos != bytes.len() {
            return Err(TRAILING);
        }
        Ok(String::from_utf8(s.out).unwrap())
    }

    fn map_json(bytes: &[u8]) -> Result<(String, [Field; 2]), DecodeError> {
        let mut s = JsonText::with_capacity(0);
        let found = read_map(bytes, [b"t", b"ttl"], b"sig", &mut s)?;
        Ok((String::from_utf8(s.out).unwrap(), found))
    }

    #[test]
    fn rfc8949_appendix_a_examples() {
        let cases: [(&str, &str); 27] = [
            ("00", "0"),
            ("17", "23"),
            ("1818", "24"),
            ("1903e8", "1000"),
            ("1a000f4240", "1000000"),
            ("1bffffffffffffffff", "18446744073709551615"),
            ("20", "-1"),
            ("3863", "-100"),
            ("3bffffffffffffffff", "-18446744073709551616"),
            ("f90000", "0"),
            ("f93c00", "1"),
            ("f93e00", "1.5"),
            ("f97bff", "65504"),
            ("f90001", "5.96046447753906e-8"),
            ("f9c400", "-4"),
            ("f97c00", "null"),
            ("fa47c35000", "100000"),
            ("fb3ff199999999999a", "1.1"),
            ("fb7e37e43c8800759c", "1e300"),
            ("f4", "false"),
            ("f5", "true"),
            ("f6", "null"),
            ("f7", "null"),
            (
                "c074323031332d30332d32315432303a30343a30305a",
                "\"2013-03-21T20:04:00Z\"",
            ),
            ("8301820203820405", "[1,[2,3],[4,5]]"),
            ("a26161016162820203", "{\"a\":1,\"b\":[2,3]}"),
            ("826161a161626163", "[\"a\",{\"b\":\"c\"}]"),
        ];
        for (h, want) in cases {
            assert_eq!(item_json(&hex(h)).unwrap(), want, "{h}");
        }
    }

    #[test]
    fn maps_keys_and_watched_fields() {
        // {h'74': 1, "t": 2, h'ff00': h'ff00', 7: "x", -2: h'6869', "ttl": "60", h'736967': h'6869'}
        let bytes = hex(
            "a7 4174 01 6174 02 42ff00 42ff00 07 6178 21 426869 6374746c 623630 43736967 426869",
        );
        let (json, found) = map_json(&bytes).unwrap();
        assert_eq!(
            json,
            r#"{"t":1,"t":2,"_wA":"_wA","7":"x","-2":"hi","ttl":"60","sig":"aGk"}"#
        );
        assert_eq!(found, [Field::Uint(2), Field::Other]);
        let (json, found) = map_json(&hex("a0")).unwrap();
        assert_eq!(json, "{}");
        assert_eq!(found, [Field::Absent, Field::Absent]);
        // Tagged values are read through.
        let (_, found) = map_json(&hex("a1 6174 c1 1a65000000")).unwrap();
        assert_eq!(found, [Field::Uint(0x6500_0000), Field::Absent]);
        assert_eq!(map_json(&hex("80")).unwrap_err(), NOT_MAP);
    }

    #[test]
    fn rejects_malformed_input() {
        let cases: [(&str, DecodeError); 21] = [
            ("", TRUNCATED),
            ("1a0000", TRUNCATED),
            ("a2 4174 01", TRUNCATED),
            ("5f", INDEFINITE),
            ("9f01ff", INDEFINITE),
            ("bf", INDEFINITE),
            ("ff", INDEFINITE),
            ("1c", RESERVED),
            ("f0", RESERVED),
            ("f820", RESERVED),
            ("62c328", NOT_UTF8),
            ("a1 62c328 01", NOT_UTF8),
            ("a1 f6 01", BAD_KEY),
            ("a1 80 01", BAD_KEY),
            ("0000", TRAILING),
            // Claimed lengths and counts far beyond the input fail before anything else.
            ("5b1000000000000000 00", TRUNCATED),
            ("7bffffffffffffffff", TRUNCATED),
            ("9bffffffffffffffff 00", TRUNCATED),
            ("bb8000000000000000 00", TRUNCATED),
            ("bb4000000000000000 00", TRUNCATED),
            ("a2 01 02 03", TRUNCATED),
        ];
        for (h, want) in cases {
            assert_eq!(item_json(&hex(h)).unwrap_err(), want, "{h}");
        }
        assert_eq!(map_json(&hex("a0 00")).unwrap_err(), TRAILING);
        assert_eq!(map_json(&hex("bf ff")).unwrap_err(), INDEFINITE);
        for e in [
            TRUNCATED, INDEFINITE, RESERVED, TOO_DEEP, NOT_UTF8, BAD_KEY, TRAILING, NOT_MAP,
        ] {
            assert_eq!(e.code(), DecodeErrorCode::BadCbor);
        }
    }

    #[test]
    fn limits_nesting_and_skips_tags() {
        let nested = |n: usize| {
            let mut v = vec![0x81u8; n - 1];
            v.push(0x80);
            v
        };
        assert!(item_json(&nested(64)).is_ok());
        assert_eq!(item_json(&nested(65)).unwrap_err(), TOO_DEEP);
        assert_eq!(item_json(&nested(100_000)).unwrap_err(), TOO_DEEP);
        let mut in_map = vec![0xa1, 0x41, b'a'];
        in_map.extend(nested(63));
        assert!(map_json(&in_map).is_ok());
        let mut in_map = vec![0xa1, 0x41, b'a'];
        in_map.extend(nested(64));
        assert_eq!(map_json(&in_map).unwrap_err(), TOO_DEEP);
        let mut tagged = vec![0xc6u8; 10_000];
        tagged.push(0x01);
        assert_eq!(item_json(&tagged).unwrap(), "1");
        assert_eq!(item_json(&[0xc6; 100]).unwrap_err(), TRUNCATED);
    }

    #[test]
    fn half_floats() {
        assert_eq!(half_to_f64(0x3c00), 1.0);
        assert_eq!(half_to_f64(0xc000), -2.0);
        assert_eq!(half_to_f64(0x0400), 6.103515625e-5);
        assert_eq!(half_to_f64(0x0001), 5.960464477539063e-8);
        assert!(half_to_f64(0x7e00).is_nan());
        assert_eq!(half_to_f64(0xfc00), f64::NEG_INFINITY);
    }
}
