//! A minimal CBOR (RFC 8949) reader for PubNub Access Manager v3 tokens that writes what
//! it reads straight out as JSON text, building no tree.
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
//! JSON mapping: integers as decimal; byte strings as their text when it is UTF-8, else
//! unpadded base64url; map keys as strings; `undefined` and non-finite floats as `null`.

use crate::base64url;
use crate::error::{self, DecodeError};
#[cfg(test)]
use crate::error::DecodeErrorCode;
use crate::json;

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

/// Reads `data`, which must be exactly one CBOR map, and appends it to `out` as a JSON
/// object (UTF-8 text: see [`json::write_str`]). Returns what the top-level keys in `watch` hold (the last occurrence wins, as
/// in `JSON.parse`). The byte-string value of the top-level key `raw_key` is always
/// written as base64url, even when it happens to be UTF-8.
pub(crate) fn map_to_json<const N: usize>(
    data: &[u8],
    watch: [&[u8]; N],
    raw_key: &[u8],
    out: &mut Vec<u8>,
) -> Result<[Field; N], DecodeError> {
    let mut r = Reader { data, pos: 0 };
    let (major, info) = r.head()?;
    if major != 5 {
        return Err(NOT_MAP);
    }
    let n = r.length(info, 2)?;
    let mut found = [Field::Absent; N];
    out.push(b'{');
    for i in 0..n {
        if i > 0 {
            out.push(b',');
        }
        let key = r.key(out)?;
        out.push(b':');
        let value = r.item(out, 2, key != Some(raw_key))?;
        if let Some(key) = key {
            for (name, slot) in watch.iter().zip(found.iter_mut()) {
                if *name == key {
                    *slot = value;
                }
            }
        }
    }
    out.push(b'}');
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

    /// Writes a map key as a JSON string; returns its bytes when it is a string.
    fn key(&mut self, out: &mut Vec<u8>) -> Result<Option<&'a [u8]>, DecodeError> {
        let (major, info) = self.head()?;
        match major {
            0 | 1 => {
                out.push(b'"');
                self.scalar(out, major, info)?;
                out.push(b'"');
                Ok(None)
            }
            2 | 3 => {
                let bytes = self.string(major, info)?;
                write_bytes(out, bytes, true);
                Ok(Some(bytes))
            }
            _ => Err(BAD_KEY),
        }
    }

    /// Writes an integer (major 0 or 1).
    fn scalar(&mut self, out: &mut Vec<u8>, major: u8, info: u8) -> Result<u64, DecodeError> {
        let n = self.argument(info)?;
        if major == 0 {
            json::write_u64(out, n);
        } else {
            json::write_negative(out, n);
        }
        Ok(n)
    }

    /// Writes the next item, at nesting `depth`, as JSON. Byte strings are written as
    /// text when `bytes_as_text` and they are UTF-8.
    fn item(
        &mut self,
        out: &mut Vec<u8>,
        depth: u32,
        bytes_as_text: bool,
    ) -> Result<Field, DecodeError> {
        let (major, info) = self.head()?;
        match major {
            0 => return Ok(Field::Uint(self.scalar(out, major, info)?)),
            1 => {
                self.scalar(out, major, info)?;
            }
            2 | 3 => write_bytes(out, self.string(major, info)?, bytes_as_text),
            4 | 5 => {
                if depth > MAX_DEPTH {
                    return Err(TOO_DEEP);
                }
                let map = major == 5;
                let n = self.length(info, if map { 2 } else { 1 })?;
                out.push(if map { b'{' } else { b'[' });
                for i in 0..n {
                    if i > 0 {
                        out.push(b',');
                    }
                    if map {
                        self.key(out)?;
                        out.push(b':');
                    }
                    self.item(out, depth + 1, true)?;
                }
                out.push(if map { b'}' } else { b']' });
            }
            _ => match info {
                20..=23 => out.extend_from_slice(match info {
                    20 => &b"false"[..],
                    21 => b"true",
                    _ => b"null",
                }),
                25..=27 => {
                    let x = match info {
                        25 => half_to_f64(self.be(2)? as u16),
                        26 => f64::from(f32::from_bits(self.be(4)? as u32)),
                        _ => f64::from_bits(self.be(8)?),
                    };
                    json::write_f64(out, x);
                }
                31 => return Err(INDEFINITE),
                _ => return Err(RESERVED),
            },
        }
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

/// Appends a byte string as a JSON string: its text when UTF-8 and `as_text`, else its
/// unpadded base64url encoding.
fn write_bytes(out: &mut Vec<u8>, bytes: &[u8], as_text: bool) {
    match json::utf8_str(bytes) {
        Some(text) if as_text => json::write_str(out, text),
        _ => {
            out.push(b'"');
            base64url::encode_into(bytes, out);
            out.push(b'"');
        }
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
        let mut s = Vec::new();
        r.item(&mut s, 1, true)?;
        if r.pos != bytes.len() {
            return Err(TRAILING);
        }
        Ok(String::from_utf8(s).unwrap())
    }

    fn map_json(bytes: &[u8]) -> Result<(String, [Field; 2]), DecodeError> {
        let mut s = Vec::new();
        let found = map_to_json(bytes, [b"t", b"ttl"], b"sig", &mut s)?;
        Ok((String::from_utf8(s).unwrap(), found))
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
