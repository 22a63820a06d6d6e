//! Just enough JSON: how a JWT header or payload is read, and the writers that turn a
//! PubNub token's fields into JSON text.
//!
//! Reading is split in two. [`prescan`] makes the checks that do not depend on who parses:
//! the text must be an object, arrays and objects may nest at most [`MAX_DEPTH`] deep, and
//! an escaped surrogate must be a high one followed by an escaped low one (`"\ud800"` is
//! not Unicode text). Then the text is parsed: in the browser (wasm32) by the browser's own
//! `JSON.parse` (`json/browser.rs`), whose object becomes the `claims` handed back to JS as
//! is; on any other target by the hand-written reader below, which checks the whole RFC 8259
//! grammar without building a tree. Both builds run the same prescan first, so they refuse
//! the same texts with the same error; after it, the grammar both parsers accept is the
//! same (RFC 8259 is `JSON.parse`'s grammar too). Either way only the top-level `exp`, `iat`
//! and `nbf` claims are extracted, matching keys after unescaping (`"\u0065xp"` is `exp`)
//! and keeping the last of duplicate keys, as `JSON.parse` does.
//!
//! The hand-written reader converts numbers to `f64` by hand (no `str::parse::<f64>`,
//! whose correctly-rounded algorithm is large): up to 18 significant digits are kept
//! exactly and scaled by an exact power of ten, which is exact for every realistic
//! timestamp and within a few ulps otherwise (`JSON.parse` rounds correctly).

#[cfg(target_arch = "wasm32")]
mod browser;

/// The deepest nesting of arrays and objects accepted (the top-level object is depth 1).
pub(crate) const MAX_DEPTH: u32 = 64;

/// Why a text is not an acceptable JSON object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Error {
    /// The text does not start with `{` (after whitespace).
    NotObject,
    /// The text ends in the middle of a value.
    End,
    /// A character that cannot appear where it does.
    Unexpected,
    /// A bad escape, a raw control character or a lone surrogate in a string.
    BadString,
    /// A number that breaks the grammar (`01`, `1.`, `-`, `1e`).
    BadNumber,
    /// Something other than whitespace after the object.
    Trailing,
    /// Arrays and objects nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// What a top-level time claim holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Claim {
    /// The key does not occur.
    Absent,
    /// The (last) value is a number.
    Number(f64),
    /// The (last) value is a string, literal, array or object.
    NotNumber,
}

/// The top-level time claims of a JSON object.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Claims {
    /// `exp`: expiry, seconds since the epoch.
    pub exp: Claim,
    /// `iat`: issued at, seconds since the epoch.
    pub iat: Claim,
    /// `nbf`: not before, seconds since the epoch.
    pub nbf: Claim,
}

/// A parsed JSON object as the build holds it: nothing on the host (the hand-written reader
/// builds no tree), the object `JSON.parse` made in the browser.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) type Object = ();
/// A parsed JSON object as the build holds it: nothing on the host (the hand-written reader
/// builds no tree), the object `JSON.parse` made in the browser.
#[cfg(target_arch = "wasm32")]
pub(crate) type Object = wasm_bindgen::JsValue;

/// Validates that `text` is exactly one JSON object; returns its time claims and the object.
pub(crate) fn read_object(text: &str) -> Result<(Claims, Object), Error> {
    prescan(text.as_bytes())?;
    #[cfg(target_arch = "wasm32")]
    let read = browser::parse_object(text);
    #[cfg(not(target_arch = "wasm32"))]
    let read = parse_object(text.as_bytes()).map(|claims| (claims, ()));
    read
}

/// The object of a JSON text this crate wrote itself (a PubNub token's fields).
#[cfg(all(target_arch = "wasm32", feature = "web"))]
pub(crate) fn object_from_own_text(text: &str) -> Object {
    browser::parse_own(text)
}

/// The object of a JSON text this crate wrote itself (nothing on the host).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn object_from_own_text(_text: &str) -> Object {}

/// Whether `bytes` are UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
/// U+10FFFF), byte by byte. `core::str::from_utf8` says the same (a test compares them on
/// every 1- and 2-byte input and on millions of longer ones) but is built for speed with
/// word-at-a-time scans, and cost 221 B more wasm (gzip).
pub(crate) fn is_utf8(bytes: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&lead) = bytes.get(i) {
        if lead < 0x80 {
            // ASCII, most of a token's text: eight bytes at a time while no high bit is set.
            i += 1;
            while let Some(w) = bytes.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
                if u64::from_le_bytes(w) & 0x8080_8080_8080_8080 != 0 {
                    break;
                }
                i += 8;
            }
            continue;
        }
        i += 1;
        let (more, min) = match lead {
            0xC2..=0xDF => (1, 0x80),
            0xE0..=0xEF => (2, 0x800),
            0xF0..=0xF4 => (3, 0x1_0000),
            _ => return false,
        };
        let mut cp = u32::from(lead) & (0x3F >> more);
        for _ in 0..more {
            match bytes.get(i) {
                Some(&c) if c & 0xC0 == 0x80 => cp = (cp << 6) | u32::from(c & 0x3F),
                _ => return false,
            }
            i += 1;
        }
        if cp < min || cp > 0x10_FFFF || (0xD800..0xE000).contains(&cp) {
            return false;
        }
    }
    true
}

/// `bytes` as text, if they are UTF-8 ([`is_utf8`]).
pub(crate) fn utf8_str(bytes: &[u8]) -> Option<&str> {
    // SAFETY: `is_utf8` accepts exactly the well-formed UTF-8 `str` requires (tested
    // against `core::str::from_utf8`).
    is_utf8(bytes).then(|| unsafe { core::str::from_utf8_unchecked(bytes) })
}

/// `bytes` as a `String`, if they are UTF-8 ([`is_utf8`]).
pub(crate) fn utf8_string(bytes: Vec<u8>) -> Option<String> {
    // SAFETY: as in `utf8_str`.
    is_utf8(&bytes).then(|| unsafe { String::from_utf8_unchecked(bytes) })
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The value of four hex digits, if they are.
fn hex4_at(s: &[u8], i: usize) -> Option<u32> {
    let digits = s.get(i..i.checked_add(4)?)?;
    digits.iter().try_fold(0u32, |v, &c| {
        let d = char::from(c).to_digit(16)?;
        Some((v << 4) | d)
    })
}

/// Whether any of the eight bytes of `v` is `b` (the zero-byte test of a word XORed with `b`
/// in every byte).
fn has_byte(v: u64, b: u8) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let x = v ^ (ONES * u64::from(b));
    x.wrapping_sub(ONES) & !x & (ONES << 7) != 0
}

/// The checks `JSON.parse` does not make, run before any parser: `text` starts with `{`
/// (after whitespace), nests arrays and objects at most [`MAX_DEPTH`] deep, and escapes
/// surrogates only in high-low pairs. Grammar is left to the parser: on malformed text
/// this scan may pass or stop early, and never fails for a text the grammar accepts unless
/// one of those three checks does.
pub(crate) fn prescan(text: &[u8]) -> Result<(), Error> {
    let first = text.iter().copied().find(|&b| !is_ws(b));
    if first != Some(b'{') {
        return Err(Error::NotObject);
    }
    let mut depth = 0u32;
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        i += 1;
        match b {
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Error::TooDeep);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => loop {
                // Eight bytes at a time while none of them ends the string or escapes.
                while let Some(word) = text.get(i..i + 8) {
                    let v = u64::from_le_bytes(word.try_into().unwrap_or_default());
                    if has_byte(v, b'"') || has_byte(v, b'\\') {
                        break;
                    }
                    i += 8;
                }
                let Some(&c) = text.get(i) else { return Ok(()) };
                i += 1;
                if c == b'"' {
                    break;
                }
                if c != b'\\' {
                    continue;
                }
                // An escape: `\uXXXX` is checked, any other escaped byte skipped.
                let escaped = text.get(i).copied();
                i += 1;
                if escaped != Some(b'u') {
                    continue;
                }
                let Some(unit) = hex4_at(text, i) else { continue };
                i += 4;
                if (0xDC00..0xE000).contains(&unit) {
                    return Err(Error::BadString);
                }
                if (0xD800..0xDC00).contains(&unit) {
                    let low = match text.get(i..i + 2) {
                        Some(b"\\u") => hex4_at(text, i + 2),
                        _ => None,
                    };
                    match low {
                        Some(0xDC00..=0xDFFF) => i += 6,
                        _ => return Err(Error::BadString),
                    }
                }
            },
            _ => {}
        }
    }
    Ok(())
}

/// Validates that `text` is exactly one JSON object and returns its time claims: the
/// hand-written reader (the host's parser; the browser uses `JSON.parse`).
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn parse_object(text: &[u8]) -> Result<Claims, Error> {
    let text = utf8_str(text).ok_or(Error::BadString)?;
    let mut claims = Claims { exp: Claim::Absent, iat: Claim::Absent, nbf: Claim::Absent };
    let object = each(text, &mut |key, value| {
        let slot = match key {
            "exp" => &mut claims.exp,
            "iat" => &mut claims.iat,
            "nbf" => &mut claims.nbf,
            _ => return,
        };
        *slot = match value {
            Value::Num(x, _) => Claim::Number(x),
            _ => Claim::NotNumber,
        };
    })?;
    if object { Ok(claims) } else { Err(Error::NotObject) }
}

/// A member's (or an element's) value as [`each`] hands it over.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    /// `null`.
    Null,
    /// A string, unescaped (`"\u0041"` is `A`; an escaped surrogate pair is one character).
    Str(String),
    /// A number: its value (see [`number_value`]) and its text as written.
    Num(f64, &'a str),
    /// `true`, `false`, an array or an object: its text (validated; [`each`] reads it again).
    Other(&'a str),
}

/// Reads `text`, exactly one JSON object or array (RFC 8259 grammar, nested at most
/// [`MAX_DEPTH`] deep, surrogates escaped only in pairs), and hands each top-level member
/// to `f` in order: its key unescaped (`""` for an array's elements) and its value. A
/// duplicate key is handed over each time, so a caller that keeps what it is handed last
/// keeps the last, as `JSON.parse` does. Members are handed over as they are read: on an
/// error, what `f` was given must be dropped. Answers whether it was an object.
pub(crate) fn each<'a>(text: &'a str, f: &mut dyn FnMut(&str, Value<'a>)) -> Result<bool, Error> {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    p.ws();
    let object = p.peek() == Some(b'{');
    if !object && p.peek() != Some(b'[') {
        return Err(Error::NotObject);
    }
    p.container(1, Some(f))?;
    p.ws();
    if p.i < p.s.len() {
        return Err(Error::Trailing);
    }
    Ok(object)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// The error for an unexpected byte at the current position (or the end).
    fn unexpected(&self) -> Error {
        if self.i >= self.s.len() {
            Error::End
        } else {
            Error::Unexpected
        }
    }

    /// Reads the value at the current position, inside a container at `depth`. Returns the
    /// span of the value when it is a number.
    fn value(&mut self, depth: u32) -> Result<Option<(usize, usize)>, Error> {
        match self.peek() {
            Some(b'{' | b'[') => self.container(depth + 1, None)?,
            Some(b'"') => self.string(None)?,
            Some(b't') => self.literal(b"true")?,
            Some(b'f') => self.literal(b"false")?,
            Some(b'n') => self.literal(b"null")?,
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                self.number()?;
                return Ok(Some((start, self.i)));
            }
            _ => return Err(self.unexpected()),
        }
        Ok(None)
    }

    /// Reads an object or an array starting at its bracket, handing each member to `visit`
    /// when given (its key unescaped, `""` in an array; see [`each`]).
    fn container(&mut self, depth: u32, mut visit: Option<&mut dyn FnMut(&str, Value<'a>)>) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep);
        }
        let object = self.peek() == Some(b'{');
        let close = if object { b'}' } else { b']' };
        self.i += 1;
        self.ws();
        if self.eat(close) {
            return Ok(());
        }
        loop {
            self.ws();
            let mut key = Vec::new();
            if object {
                if self.peek() != Some(b'"') {
                    return Err(self.unexpected());
                }
                self.string(visit.is_some().then_some(&mut key))?;
                self.ws();
                if !self.eat(b':') {
                    return Err(self.unexpected());
                }
                self.ws();
            }
            match visit.as_deref_mut() {
                None => {
                    self.value(depth)?;
                }
                Some(f) => {
                    let value = self.member(depth)?;
                    f(utf8_str(&key).unwrap_or_default(), value);
                }
            }
            self.ws();
            match self.next() {
                Some(b',') => {}
                Some(c) if c == close => return Ok(()),
                Some(_) => return Err(Error::Unexpected),
                None => return Err(Error::End),
            }
        }
    }

    /// Reads a member's value as [`each`] hands it over.
    fn member(&mut self, depth: u32) -> Result<Value<'a>, Error> {
        if self.peek() == Some(b'"') {
            let mut out = Vec::new();
            self.string(Some(&mut out))?;
            return Ok(Value::Str(utf8_string(out).unwrap_or_default()));
        }
        let (s, start) = (self.s, self.i);
        let number = self.value(depth)?.is_some();
        let t = s.get(start..self.i).and_then(utf8_str).unwrap_or_default();
        Ok(match t {
            "null" => Value::Null,
            _ if number => Value::Num(number_value(t.as_bytes()), t),
            _ => Value::Other(t),
        })
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        let rest = self.s.get(self.i..).unwrap_or_default();
        if rest.starts_with(word) {
            self.i += word.len();
            Ok(())
        } else if word.starts_with(rest) {
            Err(Error::End)
        } else {
            Err(Error::Unexpected)
        }
    }

    /// Reads `[0-9]*` and returns how many digits there were.
    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    /// Validates `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<(), Error> {
        self.eat(b'-');
        match self.next() {
            Some(b'0') => {
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(Error::BadNumber);
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(Error::BadNumber),
        }
        if self.eat(b'.') && self.digits() == 0 {
            return Err(Error::BadNumber);
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return Err(Error::BadNumber);
            }
        }
        Ok(())
    }

    /// Four hex digits (the prescan's reader): a bad one is a bad string, too few the end.
    fn hex4(&mut self) -> Result<u32, Error> {
        let v = hex4_at(self.s, self.i).ok_or(if self.s.len() < self.i + 4 { Error::End } else { Error::BadString })?;
        self.i += 4;
        Ok(v)
    }

    /// Reads a string starting at `"`, appending its characters (unescaped, as UTF-8) to
    /// `out` when given.
    fn string(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<(), Error> {
        self.i += 1;
        loop {
            // Read in place rather than through `next()`: this loop sees most of a
            // token's bytes, and the size-optimised build would not inline the call.
            let Some(&byte) = self.s.get(self.i) else { return Err(Error::End) };
            self.i += 1;
            let unit: u32 = match byte {
                b'"' => return Ok(()),
                b'\\' => match self.next() {
                    None => return Err(Error::End),
                    Some(b'"') => 0x22,
                    Some(b'\\') => 0x5c,
                    Some(b'/') => 0x2f,
                    Some(b'b') => 0x08,
                    Some(b'f') => 0x0c,
                    Some(b'n') => 0x0a,
                    Some(b'r') => 0x0d,
                    Some(b't') => 0x09,
                    Some(b'u') => {
                        let cp = self.hex4()?;
                        if (0xD800..0xDC00).contains(&cp) {
                            if !(self.eat(b'\\') && self.eat(b'u')) {
                                return Err(Error::BadString);
                            }
                            let low = self.hex4()?;
                            if !(0xDC00..0xE000).contains(&low) {
                                return Err(Error::BadString);
                            }
                            0x1_0000 + ((cp - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00..0xE000).contains(&cp) {
                            return Err(Error::BadString);
                        } else {
                            cp
                        }
                    }
                    Some(_) => return Err(Error::BadString),
                },
                0..=0x1f => return Err(Error::BadString),
                // A byte of the text as it is (a multi-byte character's bytes one by one).
                b => {
                    if let Some(out) = out.as_deref_mut() {
                        out.push(b);
                    }
                    continue;
                }
            };
            if let Some(out) = out.as_deref_mut() {
                let mut buf = [0u8; 4];
                let c = char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER);
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

/// `10^n` for `n <= 22`, exactly (every step is an exact product).
fn pow10(n: i32) -> f64 {
    let mut p = 1.0;
    for _ in 0..n {
        p *= 10.0;
    }
    p
}

/// `v * 10^e`, using exact powers of ten in steps of at most `10^22`.
fn scale(mut v: f64, mut e: i32) -> f64 {
    while e > 22 {
        v *= 1e22;
        e -= 22;
    }
    while e < -22 {
        v /= 1e22;
        e += 22;
    }
    if e >= 0 {
        v * pow10(e)
    } else {
        v / pow10(-e)
    }
}

/// The value of a number already validated by [`Parser::number`].
pub(crate) fn number_value(text: &[u8]) -> f64 {
    let (negative, text) = match text.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut mantissa: u64 = 0;
    let mut exp10: i32 = 0;
    let mut bytes = text.iter().copied().peekable();
    let mut fraction = false;
    while let Some(c) = bytes.next_if(|c| c.is_ascii_digit() || *c == b'.') {
        if c == b'.' {
            fraction = true;
            continue;
        }
        if mantissa < 1_000_000_000_000_000_000 / 10 {
            mantissa = mantissa * 10 + u64::from(c - b'0');
            if fraction {
                exp10 -= 1;
            }
        } else if !fraction {
            // Beyond 18 digits: drop the digit, keep its magnitude.
            exp10 = exp10.saturating_add(1);
        }
    }
    if bytes.next().is_some() {
        // `e` or `E`, then an optional sign and digits.
        let mut sign = 1;
        let mut e: i32 = 0;
        for c in bytes {
            match c {
                b'-' => sign = -1,
                b'0'..=b'9' => {
                    e = e
                        .saturating_mul(10)
                        .saturating_add(i32::from(c - b'0'))
                        .min(100_000)
                }
                _ => {}
            }
        }
        exp10 = exp10.saturating_add(sign * e);
    }
    let v = if mantissa == 0 {
        0.0
    } else if exp10 > 400 {
        f64::INFINITY
    } else if exp10 < -400 {
        0.0
    } else {
        scale(mantissa as f64, exp10)
    };
    if negative {
        -v
    } else {
        v
    }
}

// The writers below build a PubNub token's claims text (src/cbor/json_text.rs): on the
// host and with the `web` feature; the npm package's wasm has none (js/cbor.js).
// JSON text is written as bytes: ASCII, except for the UTF-8 of strings copied whole, so
// the result is UTF-8 by construction. Pushing a byte, unlike `String::push(char)`, does
// not carry a UTF-8 encoder to every call site (about 0.25 KB of wasm, gzip).

/// Appends `s` as a JSON string literal, quotes included.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..=0x1f => out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]),
            // Any other byte, of ASCII or of a multi-byte character, is itself.
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// Appends `n` in decimal.
pub(crate) fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    out.extend_from_slice(buf.get(i..).unwrap_or_default());
}

/// Appends the CBOR negative integer `-1 - n` in decimal.
#[cfg(any(not(target_arch = "wasm32"), feature = "web"))]
pub(crate) fn write_negative(out: &mut Vec<u8>, n: u64) {
    out.push(b'-');
    match n.checked_add(1) {
        Some(m) => write_u64(out, m),
        None => out.extend_from_slice(b"18446744073709551616"),
    }
}

/// Appends `x` as a JSON number, non-finite as `null`: in the browser as `JSON.stringify`
/// writes it (the shortest text that reads back exactly), elsewhere by [`format_f64`].
#[cfg(any(not(target_arch = "wasm32"), feature = "web"))]
pub(crate) fn write_f64(out: &mut Vec<u8>, x: f64) {
    #[cfg(target_arch = "wasm32")]
    browser::write_f64(out, x);
    #[cfg(not(target_arch = "wasm32"))]
    format_f64(out, x);
}

/// Appends `x` as a JSON number: integral values below 1e15 as integers, others with at
/// most 15 significant digits (exponent form outside 1e-5..1e15), non-finite as `null`.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn format_f64(out: &mut Vec<u8>, x: f64) {
    if !x.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    if x == 0.0 {
        out.push(b'0');
        return;
    }
    if x < 0.0 {
        out.push(b'-');
    }
    let a = x.abs();
    if a < 1e15 && a.fract() == 0.0 {
        write_u64(out, a as u64);
        return;
    }
    // Decimal exponent: 10^e <= a < 10^(e+1).
    let mut e: i32 = 0;
    while e < 308 && a >= scale(1.0, e + 1) {
        e += 1;
    }
    while e > -324 && a < scale(1.0, e) {
        e -= 1;
    }
    // 15 significant digits as an integer in [1e14, 1e15].
    let mut m = (scale(a, 14 - e) + 0.5).floor() as u64;
    if m >= 1_000_000_000_000_000 {
        m /= 10;
        e += 1;
    }
    let mut digits = 15;
    while m % 10 == 0 && digits > 1 {
        m /= 10;
        digits -= 1;
    }
    let mut text = Vec::new();
    write_u64(&mut text, m);
    let digits = |r: core::ops::Range<usize>| text.get(r).unwrap_or_default();
    if (0..15).contains(&e) {
        let int_len = (e + 1) as usize;
        out.extend_from_slice(digits(0..int_len.min(text.len())));
        for _ in text.len()..int_len {
            out.push(b'0');
        }
        if text.len() > int_len {
            out.push(b'.');
            out.extend_from_slice(digits(int_len..text.len()));
        }
    } else if (-5..0).contains(&e) {
        out.extend_from_slice(b"0.");
        for _ in 0..(-e - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(&text);
    } else {
        out.extend_from_slice(digits(0..1));
        if text.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(digits(1..text.len()));
        }
        out.push(b'e');
        if e < 0 {
            out.push(b'-');
        }
        write_u64(out, u64::from(e.unsigned_abs()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Claims {
        parse_object(s.as_bytes()).unwrap_or_else(|e| panic!("{s:?}: {e:?}"))
    }

    fn err(s: &str) -> Error {
        parse_object(s.as_bytes()).unwrap_err()
    }

    #[test]
    fn accepts_the_grammar() {
        ok("{}");
        ok(" \t\r\n{ } \n");
        ok(
            r#"{"a":[],"b":{},"c":[1,-2,3.5,-0,0e0,1E+2,1e-2,true,false,null,"x"],"d":{"e":{"f":[[]]}}}"#,
        );
        ok(r#"{"s":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00 é 😀"}"#);
        ok(r#"{"":""}"#);
    }

    #[test]
    fn rejects_what_is_not_json() {
        assert_eq!(err(""), Error::NotObject);
        assert_eq!(err("[]"), Error::NotObject);
        assert_eq!(err("\"x\""), Error::NotObject);
        assert_eq!(err("{"), Error::End);
        assert_eq!(err("{\"a\":1"), Error::End);
        assert_eq!(err("{\"a\":tru"), Error::End);
        assert_eq!(err("{\"a\":trux}"), Error::Unexpected);
        assert_eq!(err("{\"a\" 1}"), Error::Unexpected);
        assert_eq!(err("{\"a\":1,}"), Error::Unexpected);
        assert_eq!(err("{\"a\":[1,]}"), Error::Unexpected);
        assert_eq!(err("{a:1}"), Error::Unexpected);
        assert_eq!(err("{'a':1}"), Error::Unexpected);
        assert_eq!(err("{} x"), Error::Trailing);
        assert_eq!(err("{}{}"), Error::Trailing);
        assert_eq!(err("{\"a\":01}"), Error::BadNumber);
        assert_eq!(err("{\"a\":1.}"), Error::BadNumber);
        assert_eq!(err("{\"a\":-}"), Error::BadNumber);
        assert_eq!(err("{\"a\":1e}"), Error::BadNumber);
        assert_eq!(err("{\"a\":.5}"), Error::Unexpected);
        assert_eq!(err("{\"a\":+1}"), Error::Unexpected);
        assert_eq!(err("{\"a\":\"\\x\"}"), Error::BadString);
        assert_eq!(err("{\"a\":\"\\ud800\"}"), Error::BadString);
        assert_eq!(err("{\"a\":\"\\udc00\"}"), Error::BadString);
        assert_eq!(err("{\"a\":\"\\ud800\\u0041\"}"), Error::BadString);
        assert_eq!(err("{\"a\":\"\\u12g4\"}"), Error::BadString);
        assert_eq!(err("{\"a\":\"tab\there\"}"), Error::BadString);
        assert_eq!(err("{\"a\":\"open"), Error::End);
        assert_eq!(err("{\"a\":NaN}"), Error::Unexpected);
    }

    #[test]
    fn limits_nesting() {
        let deep = |n: usize| format!("{{\"a\":{}1{}}}", "[".repeat(n), "]".repeat(n));
        ok(&deep(63));
        assert_eq!(err(&deep(64)), Error::TooDeep);
        assert_eq!(err(&deep(10_000)), Error::TooDeep);
        let objects = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
        ok(&objects(64));
        assert_eq!(err(&objects(65)), Error::TooDeep);
    }

    #[test]
    fn is_utf8_agrees_with_core() {
        let same = |b: &[u8]| assert_eq!(is_utf8(b), core::str::from_utf8(b).is_ok(), "{b:02x?}");
        same(b"");
        for a in 0..=255u8 {
            same(&[a]);
            for b in 0..=255u8 {
                same(&[a, b]);
                same(&[b'x', a, b]);
            }
        }
        // Longer inputs from bytes that matter (leads, continuations, boundaries), xorshift.
        const PICK: &[u8] = &[
            0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0,
            0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf8, 0xff,
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2_000_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 7) as usize;
            let bytes: Vec<u8> = (0..len).map(|k| PICK[((x >> (8 + 5 * k)) % PICK.len() as u64) as usize]).collect();
            same(&bytes);
        }
        for s in ["é", "€", "😀", "\u{10ffff}", "\u{d7ff}", "\u{e000}", "a\u{80}b\u{7ff}\u{800}\u{ffff}\u{10000}"] {
            assert!(is_utf8(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn prescan_makes_the_checks_json_parse_skips() {
        let scan = |s: &str| prescan(s.as_bytes());
        assert_eq!(scan(""), Err(Error::NotObject));
        assert_eq!(scan(" [1]"), Err(Error::NotObject));
        assert_eq!(scan("null"), Err(Error::NotObject));
        assert_eq!(scan(r#"{"a":"\ud800"}"#), Err(Error::BadString));
        assert_eq!(scan(r#"{"a":"\udc00\ud800"}"#), Err(Error::BadString));
        assert_eq!(scan(r#"{"a":"\ud800\u0041"}"#), Err(Error::BadString));
        assert_eq!(scan(r#"{"a":"\ud800\\udc00"}"#), Err(Error::BadString));
        assert_eq!(scan(r#"{"\uD83D\uDE00":"\\ud800 [[[ \" {"}"#), Ok(()));
        let deep = |n: usize| format!("{{\"a\":{}1{}}}", "[".repeat(n), "]".repeat(n));
        assert_eq!(scan(&deep(63)), Ok(()));
        assert_eq!(scan(&deep(64)), Err(Error::TooDeep));
        // Brackets inside strings do not count; grammar errors are the parser's to find.
        assert_eq!(scan(&format!("{{\"a\":\"{}\"}}", "[".repeat(100))), Ok(()));
        assert_eq!(scan("{\"a\":\"\\u12"), Ok(()));
        assert_eq!(scan("{]]]]"), Ok(()));
        // Where prescan passes, the reader never finds a depth or surrogate error.
        for text in [deep(63), r#"{"a":"\ud800"#.to_string(), "{\"\\ud800\\".to_string()] {
            if scan(&text).is_ok() {
                let e = parse_object(text.as_bytes()).err();
                assert!(!matches!(e, Some(Error::TooDeep | Error::NotObject)), "{text}");
            }
        }
    }

    #[test]
    fn extracts_claims() {
        let c = ok(r#"{"exp":1700000000,"iat":1.7e9,"nbf":"soon","x":{"exp":1}}"#);
        assert_eq!(c.exp, Claim::Number(1_700_000_000.0));
        assert_eq!(c.iat, Claim::Number(1_700_000_000.0));
        assert_eq!(c.nbf, Claim::NotNumber);
        let c = ok(r#"{"\u0065xp":5,"ex\u0070":6,"i\u0061t":null}"#);
        assert_eq!(c.exp, Claim::Number(6.0));
        assert_eq!(c.iat, Claim::NotNumber);
        assert_eq!(c.nbf, Claim::Absent);
        let c = ok(r#"{"exp":"x","exp":7,"expx":1,"ex":2,"nbf":[1],"nbf":{}}"#);
        assert_eq!(c.exp, Claim::Number(7.0));
        assert_eq!(c.nbf, Claim::NotNumber);
        let c = ok(r#"{"éxp":1,"exp":-1}"#);
        assert_eq!(c.exp, Claim::Number(-1.0));
    }

    #[test]
    fn numbers_are_accurate() {
        let cases: [(&str, f64); 14] = [
            ("0", 0.0),
            ("-0", 0.0),
            ("1700000000", 1_700_000_000.0),
            ("1700000000.123", 1_700_000_000.123),
            ("1.7e9", 1.7e9),
            ("17E8", 1.7e9),
            ("170000000000e-2", 1.7e9),
            ("0.000001", 1e-6),
            ("12345678901234567890123", 1.2345678901234568e22),
            ("1e400", f64::INFINITY),
            ("1e-400", 0.0),
            ("2.5", 2.5),
            ("-1.5e3", -1500.0),
            ("1e00000000000000000000000000000001", 10.0),
        ];
        for (text, want) in cases {
            let got = number_value(text.as_bytes());
            assert!(
                got == want || ((got - want) / want).abs() < 1e-15,
                "{text}: {got} != {want}"
            );
        }
        // Every millisecond timestamp of a realistic range is exact to the millisecond.
        for k in 0..2000u64 {
            let ms = 1_600_000_000_000 + k * 7_777_777;
            let text = format!("{}.{:03}", ms / 1000, ms % 1000);
            let got = number_value(text.as_bytes());
            assert!((got * 1000.0 - ms as f64).abs() < 0.01, "{text}");
        }
    }

    fn f(x: f64) -> String {
        let mut s = Vec::new();
        write_f64(&mut s, x);
        String::from_utf8(s).unwrap()
    }

    #[test]
    fn formats_floats() {
        assert_eq!(f(0.0), "0");
        assert_eq!(f(-0.0), "0");
        assert_eq!(f(1.0), "1");
        assert_eq!(f(-42.0), "-42");
        assert_eq!(f(1.5), "1.5");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(-0.25), "-0.25");
        assert_eq!(f(123.0625), "123.0625");
        assert_eq!(f(1700000000.5), "1700000000.5");
        assert_eq!(f(0.001), "0.001");
        assert_eq!(f(0.00001), "0.00001");
        assert_eq!(f(0.000001), "1e-6");
        assert_eq!(f(1.25e-7), "1.25e-7");
        assert_eq!(f(1e15), "1e15");
        assert_eq!(f(1e300), "1e300");
        assert_eq!(f(-1.5e300), "-1.5e300");
        assert_eq!(f(f64::MAX), "1.79769313486232e308");
        assert_eq!(f(5e-324), "4.94065645841247e-324");
        assert_eq!(f(1.0 / 3.0), "0.333333333333333");
        assert_eq!(f(2.0 / 3.0), "0.666666666666667");
        assert_eq!(f(123456.789), "123456.789");
        assert_eq!(f(99999999999999.9), "99999999999999.9");
        assert_eq!(f(f64::NAN), "null");
        assert_eq!(f(f64::INFINITY), "null");
        // Whatever is written reads back as (nearly) the same number.
        let mut x = 1.234_567e-30;
        while x < 1e300 {
            let s = f(x);
            let back: f64 = s.parse().unwrap();
            assert!(((back - x) / x).abs() < 1e-14, "{x} -> {s}");
            x *= 7.3;
        }
    }

    #[test]
    fn writes_integers_and_strings() {
        let mut s = Vec::new();
        write_u64(&mut s, 0);
        s.push(b' ');
        write_u64(&mut s, u64::MAX);
        s.push(b' ');
        write_negative(&mut s, 0);
        s.push(b' ');
        write_negative(&mut s, u64::MAX);
        assert_eq!(s, b"0 18446744073709551615 -1 -18446744073709551616");
        let mut s = Vec::new();
        write_str(&mut s, "a\"b\\c\n\u{1}\u{1f}é😀/");
        assert_eq!(String::from_utf8(s).unwrap(), r#""a\"b\\c\u000a\u0001\u001fé😀/""#);
    }
}
