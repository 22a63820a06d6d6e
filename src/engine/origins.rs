//! Where the token may go (SPEC behaviour 6), decided on origins the face resolved exactly as
//! the browser will send the request (`new Request(input).url` against `document.baseURI`):
//! the engine never parses a request URL itself, so a string test cannot be fooled.
//!
//! - The `origins` option: each entry an http(s) origin written with its scheme and nothing
//!   after the host but an optional `/` (`"api.example.com"`, `ftp:`, `wss:`, a path, a
//!   query or credentials are refused and named); default the page's own origin.
//! - A request gets the token only when its origin is allowed.
//! - The refresh call goes, with any token, only to the page's origin, an allowed one, or
//!   the origin of an absolute `endpoint.url`, decided at every call on where it resolves now.

/// An `origins` entry that is not an http(s) origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAnOrigin(pub String);

impl NotAnOrigin {
    /// What is wrong, naming the entry (an origin is no secret).
    pub fn message(&self) -> String {
        let mut m = String::from("origins: \"");
        m.push_str(&self.0);
        m.push_str("\" is not an http(s) origin; write the scheme and host only, e.g. \"https://api.example.com\"");
        m
    }
}

/// `n` in decimal after `out` (no `core::fmt` in the wasm: it costs kilobytes there).
pub(crate) fn push_number(out: &mut String, n: u32) {
    if n >= 10 {
        push_number(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// The serialized origin of an absolute http(s) URL's prefix `scheme://host[:port]`
/// (scheme and host lowercased, a default port dropped), and what follows it.
fn split_origin(url: &str) -> Option<(String, &str)> {
    let at = url.as_bytes().windows(3).position(|w| w == b"://")?;
    let (scheme, rest) = (url[..at].to_ascii_lowercase(), &url[at + 3..]);
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let end = rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    // Byte tests, not str searchers (each costs the wasm its own search code); the bytes
    // sought are ASCII, so a cut never splits a character.
    let has = |s: &str, c: u8| s.bytes().any(|b| b == c);
    if authority.is_empty() || has(authority, b'@') {
        return None;
    }
    let (host, port) = match authority.bytes().rposition(|b| b == b':') {
        Some(i) if !has(&authority[i..], b']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    let host_ok = if let Some(v6) = host.strip_prefix('[') {
        v6.strip_suffix(']').is_some_and(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.'))
    } else {
        !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    if !host_ok {
        return None;
    }
    let mut origin = scheme;
    origin.push_str("://");
    origin.push_str(&host.to_ascii_lowercase());
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n = p.bytes().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
        if n > 65_535 {
            return None;
        }
        if n != default_port {
            origin.push(':');
            push_number(&mut origin, n);
        }
    }
    Some((origin, tail))
}

/// An `origins` entry as a serialized origin, or why it is none.
///
/// # Example
/// ```
/// use freshtoken::engine::origins::parse_entry;
/// assert_eq!(parse_entry("HTTPS://API.Example.com:443/").unwrap(), "https://api.example.com");
/// assert!(parse_entry("api.example.com").is_err());
/// assert!(parse_entry("wss://socket.example.com").is_err());
/// assert!(parse_entry("https://api.example.com/v1").is_err());
/// ```
pub fn parse_entry(entry: &str) -> Result<String, NotAnOrigin> {
    match split_origin(entry) {
        Some((origin, "" | "/")) => Ok(origin),
        _ => Err(NotAnOrigin(entry.to_owned())),
    }
}

/// The origin of an absolute http(s) URL (`endpoint.url`), or `None` for a relative one.
pub fn origin_of_absolute(url: &str) -> Option<String> {
    split_origin(url.trim_ascii()).map(|(o, _)| o)
}

/// The origins a refresher's token may go to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origins {
    allowed: Vec<String>,
    page: Option<String>,
    endpoint: Option<String>,
}

impl Origins {
    /// From the `origins` option (`None`: the page's own origin), the page's origin (none in
    /// node or an opaque origin) and `endpoint.url` as given.
    pub fn new(entries: Option<&[String]>, page: Option<&str>, endpoint_url: Option<&str>) -> Result<Origins, NotAnOrigin> {
        let page = page.filter(|p| *p != "null").map(str::to_owned);
        let allowed = match entries {
            None => page.iter().cloned().collect(),
            Some(list) => list.iter().map(|e| parse_entry(e)).collect::<Result<_, _>>()?,
        };
        Ok(Origins { allowed, page, endpoint: endpoint_url.and_then(origin_of_absolute) })
    }

    /// Whether a request to `origin` (as the browser will send it) gets the token.
    pub fn allows(&self, origin: &str) -> bool {
        self.allowed.iter().any(|a| a == origin)
    }

    /// Whether the refresh call may go to `origin`, where `endpoint.url` resolves now.
    pub fn allows_refresh_to(&self, origin: &str) -> bool {
        self.allows(origin) || self.page.as_deref() == Some(origin) || self.endpoint.as_deref() == Some(origin)
    }

    /// The refresh endpoint's origin: an absolute `endpoint.url`'s, else the page's.
    pub fn refresh_origin(&self) -> Option<&str> {
        self.endpoint.as_deref().or(self.page.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_origins_or_refused_by_name() {
        for (entry, origin) in [
            ("https://api.example.com", "https://api.example.com"),
            ("https://api.example.com/", "https://api.example.com"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://localhost:80", "http://localhost"),
            ("https://[::1]:8443", "https://[::1]:8443"),
            ("HTTPS://API.Example.com", "https://api.example.com"),
        ] {
            assert_eq!(parse_entry(entry).as_deref(), Ok(origin), "{entry}");
        }
        for bad in [
            "api.example.com", "//api.example.com", "ftp://files.example.com", "wss://socket.example.com",
            "javascript:alert(1)", "https://api.example.com/v1", "https://api.example.com?x=1",
            "https://api.example.com#a", "https://user:pw@api.example.com", "", "https://", "https://a b.com",
            "https://api.example.com:99999", "https://api.example.com:",
        ] {
            let err = parse_entry(bad).unwrap_err();
            assert!(err.message().contains(&format!("{bad:?}")), "{}", err.message());
        }
    }

    #[test]
    fn the_refresh_call_goes_to_the_page_an_allowed_origin_or_the_absolute_endpoint() {
        let o = Origins::new(Some(&["https://api.example.com".into()]), Some("https://app.example.com"), Some("https://auth.example.com/token")).unwrap();
        assert!(o.allows("https://api.example.com") && !o.allows("https://app.example.com"));
        for ok in ["https://api.example.com", "https://app.example.com", "https://auth.example.com"] {
            assert!(o.allows_refresh_to(ok), "{ok}");
        }
        // An injected <base href> moved a relative endpoint.url there.
        assert!(!o.allows_refresh_to("https://evil.example"));
        let relative = Origins::new(None, Some("https://app.example.com"), Some("/auth/refresh")).unwrap();
        assert!(relative.allows("https://app.example.com") && !relative.allows_refresh_to("https://evil.example"));
        assert!(!Origins::new(None, None, None).unwrap().allows("null"));
    }
}
