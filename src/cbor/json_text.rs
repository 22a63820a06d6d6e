//! The [`Sink`] that writes JSON text: a PubNub token's fields as `TokenInfo::claims_json`.

use super::{Scalar, Sink};
use crate::base64url;
use crate::json;

/// JSON text (UTF-8 bytes: see [`json::write_str`]): integers as decimal, byte strings as
/// base64url strings, map keys as strings, `undefined` and non-finite floats as `null`.
pub(crate) struct JsonText {
    /// The text so far.
    pub(crate) out: Vec<u8>,
    /// Whether a value ended last (the next key or element needs a comma).
    comma: bool,
}

impl JsonText {
    /// An empty text with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> JsonText {
        JsonText { out: Vec::with_capacity(capacity), comma: false }
    }

    fn separate(&mut self) {
        if self.comma {
            self.out.push(b',');
        }
    }

    fn write(&mut self, value: Scalar<'_>) {
        let out = &mut self.out;
        match value {
            Scalar::Uint(n) => json::write_u64(out, n),
            Scalar::Negative(n) => json::write_negative(out, n),
            Scalar::Text(s) => json::write_str(out, s),
            Scalar::Base64(bytes) => {
                out.push(b'"');
                base64url::encode_into(bytes, out);
                out.push(b'"');
            }
            Scalar::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Scalar::Null => out.extend_from_slice(b"null"),
            Scalar::Float(x) => json::write_f64(out, x),
        }
    }
}

impl Sink for JsonText {
    fn open(&mut self, map: bool) {
        self.separate();
        self.out.push(if map { b'{' } else { b'[' });
        self.comma = false;
    }

    fn close(&mut self, map: bool) {
        self.out.push(if map { b'}' } else { b']' });
        self.comma = true;
    }

    fn key(&mut self, key: Scalar<'_>) {
        self.separate();
        match key {
            Scalar::Uint(_) | Scalar::Negative(_) => {
                self.out.push(b'"');
                self.write(key);
                self.out.push(b'"');
            }
            _ => self.write(key),
        }
        self.out.push(b':');
        self.comma = false;
    }

    fn scalar(&mut self, value: Scalar<'_>) {
        self.separate();
        self.write(value);
        self.comma = true;
    }
}
