//! Base64url (RFC 4648 §5) decoding and unpadded encoding.
//!
//! Decoding is deliberately lenient in the same ways as `jwt-decode` and PubNub's
//! `parseToken`: padding is optional, and the standard alphabet's `+` and `/` are accepted
//! as well as `-` and `_` (even mixed). It is strict about everything else: any other
//! character (including whitespace), padding that does not bring the length to a multiple
//! of four, more than two `=`, or a length that leaves a single dangling character
//! (`len % 4 == 1`) is an error. Unused low bits of the last character are ignored, as
//! `atob` does.

/// Why an input is not base64url.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Error {
    /// A character outside both alphabets, or misplaced padding.
    Char,
    /// A length no base64 encoding produces.
    Length,
}

/// Each byte's value as a base64 digit (either alphabet), or 255.
static DIGITS: [u8; 256] = {
    let mut t = [255u8; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'-' as usize] = 62;
    t[b'+' as usize] = 62;
    t[b'_' as usize] = 63;
    t[b'/' as usize] = 63;
    t
};

/// Decodes base64url (padding optional, `+`/`/` accepted) into bytes.
pub(crate) fn decode(input: &[u8]) -> Result<Vec<u8>, Error> {
    let body = input
        .strip_suffix(b"==")
        .or_else(|| input.strip_suffix(b"="))
        .unwrap_or(input);
    if body.len() != input.len() && input.len() % 4 != 0 {
        return Err(Error::Char);
    }
    if body.len() % 4 == 1 {
        return Err(Error::Length);
    }
    // The output is sized up front and written in place: this loop is the hot path of
    // decoding a large token, and the size-optimised build does not inline `Vec` growth.
    // Digits are not checked one by one: every table value is ORed into `seen`, whose top
    // bit is set once any byte was not a digit (255), and the verdict comes after the loop
    // (a bad byte garbles `out`, which is then dropped).
    let tail = match body.len() % 4 {
        2 => 1,
        3 => 2,
        _ => 0,
    };
    let mut out = vec![0u8; body.len() / 4 * 3 + tail];
    let mut seen = 0u8;
    let digit = |c: u8, seen: &mut u8| {
        let v = DIGITS[usize::from(c)];
        *seen |= v;
        u32::from(v)
    };
    // Four characters to three bytes at a time: no per-character branch in the hot loop.
    let mut quads = body.chunks_exact(4);
    for (q, o) in (&mut quads).zip(out.chunks_exact_mut(3)) {
        if let ([a, b, c, d], [x, y, z]) = (q, o) {
            let n = digit(*a, &mut seen) << 18 | digit(*b, &mut seen) << 12 | digit(*c, &mut seen) << 6 | digit(*d, &mut seen);
            *x = (n >> 16) as u8;
            *y = (n >> 8) as u8;
            *z = n as u8;
        }
    }
    let acc = quads.remainder().iter().fold(0u32, |acc, &c| (acc << 6) | digit(c, &mut seen));
    let at = body.len() / 4 * 3;
    match out.get_mut(at..) {
        Some([x]) => *x = (acc >> 4) as u8,
        Some([x, y]) => {
            *x = (acc >> 10) as u8;
            *y = (acc >> 2) as u8;
        }
        _ => {}
    }
    if seen & 0x80 != 0 {
        return Err(Error::Char);
    }
    Ok(out)
}

#[cfg(any(not(target_arch = "wasm32"), feature = "web"))]
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The base64url character for the low six bits of `v`.
#[cfg(any(not(target_arch = "wasm32"), feature = "web"))]
fn char_for(v: u32) -> u8 {
    ALPHABET[(v & 63) as usize]
}

/// Appends the unpadded base64url encoding of `bytes` to `out` (ASCII, as JSON text is
/// built: see [`crate::json::write_str`]). Not in the npm package's wasm (js/cbor.js
/// encodes a PubNub token's byte strings there).
#[cfg(any(not(target_arch = "wasm32"), feature = "web"))]
pub(crate) fn encode_into(bytes: &[u8], out: &mut Vec<u8>) {
    let mut chunks = bytes.chunks_exact(3);
    for chunk in &mut chunks {
        let v = chunk.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b));
        for shift in [18, 12, 6, 0] {
            out.push(char_for(v >> shift));
        }
    }
    let rest = chunks.remainder();
    let v = rest.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b));
    match rest.len() {
        1 => {
            out.push(char_for(v >> 2));
            out.push(char_for(v << 4));
        }
        2 => {
            out.push(char_for(v >> 10));
            out.push(char_for(v >> 4));
            out.push(char_for(v << 2));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(b: &[u8]) -> String {
        let mut s = Vec::new();
        encode_into(b, &mut s);
        String::from_utf8(s).unwrap()
    }

    #[test]
    fn rfc4648_vectors_roundtrip() {
        let cases: [(&str, &str); 7] = [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(enc(plain.as_bytes()), coded);
            assert_eq!(decode(coded.as_bytes()).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn padding_is_optional_but_must_be_right() {
        assert_eq!(decode(b"Zg==").unwrap(), b"f");
        assert_eq!(decode(b"Zm8=").unwrap(), b"fo");
        assert_eq!(decode(b"Zg=").unwrap_err(), Error::Char);
        assert_eq!(decode(b"Zm9v=").unwrap_err(), Error::Char);
        assert_eq!(decode(b"Z===").unwrap_err(), Error::Char);
        assert_eq!(decode(b"Zm=8").unwrap_err(), Error::Char);
    }

    #[test]
    fn both_alphabets() {
        assert_eq!(decode(b"-_-_").unwrap(), [0xfb, 0xff, 0xbf]);
        assert_eq!(decode(b"+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
        assert_eq!(decode(b"-/+_").unwrap(), [0xfb, 0xff, 0xbf]);
        assert_eq!(enc(&[0xfb, 0xff, 0xbf]), "-_-_");
    }

    #[test]
    fn rejects_bad_characters_and_lengths() {
        assert_eq!(decode(b"Zm9v Yg").unwrap_err(), Error::Char);
        assert_eq!(decode(b"Zm9v.").unwrap_err(), Error::Length);
        assert_eq!(decode(b"Zm9*").unwrap_err(), Error::Char);
        assert_eq!(decode(b"Zm9vY").unwrap_err(), Error::Length);
        assert_eq!(decode(b"A").unwrap_err(), Error::Length);
        assert_eq!(decode("Zm9vé".as_bytes()).unwrap_err(), Error::Char);
    }

    #[test]
    fn all_byte_values_roundtrip() {
        let bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for n in 0..bytes.len() {
            let s = enc(&bytes[..n]);
            assert!(!s.contains('='));
            assert_eq!(decode(s.as_bytes()).unwrap(), &bytes[..n]);
        }
    }
}
