//! Where a request goes, as the browser will send it (the URL parser, relative to
//! `document.baseURI`): the face's half of the origin decision. Whether that origin gets the
//! token is the engine's ([`crate::engine::origins`]). A string the parser refuses, or an
//! opaque origin, gets no token.

/// The serialized origin a request to `input` goes to, or `None` when it does not parse or
/// has an opaque origin (`data:`, `about:blank`).
///
/// # Example
/// ```no_run
/// # #[cfg(all(feature = "web", target_arch = "wasm32"))] {
/// use freshtoken::web::origin_of;
/// assert_eq!(origin_of("https://api.example.com:443/x").as_deref(), Some("https://api.example.com"));
/// // The parser reads `\` as `/` and drops tabs, exactly as fetch does.
/// assert_eq!(origin_of("/\t/evil.example/x").as_deref(), Some("https://evil.example"));
/// assert_eq!(origin_of("http://[::1"), None);
/// # }
/// ```
pub fn origin_of(input: &str) -> Option<String> {
    let origin = parse(input)?.origin();
    (origin != "null").then_some(origin)
}

/// `input` parsed as fetch will parse it (relative to `document.baseURI`).
fn parse(input: &str) -> Option<web_sys::Url> {
    let base = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.base_uri().ok().flatten())
        .or_else(|| web_sys::window().and_then(|w| w.location().href().ok()));
    match base {
        Some(base) => web_sys::Url::new_with_base(input, &base),
        None => web_sys::Url::new(input),
    }
    .ok()
}

/// Where a call to `input` goes now, resolved once: its whole URL and its origin, or `None`
/// when it does not parse or has an opaque origin. A call judged by this origin must be sent
/// to this URL, never to `input` again: a `<base href>` injected in between would move it.
pub(crate) fn resolved(input: &str) -> Option<(String, String)> {
    let url = parse(input)?;
    let origin = url.origin();
    (origin != "null").then(|| (url.href(), origin))
}

/// The whole URL `input` resolves to now (the refresh endpoint's, to know its traffic).
pub(crate) fn href_of(input: &str) -> Option<String> {
    parse(input).map(|u| u.href())
}

/// The page's own origin, the default of `origins`.
pub(crate) fn page_origin() -> Option<String> {
    let origin = web_sys::window()?.location().origin().ok()?;
    (origin != "null").then_some(origin)
}

/// Whether an answer came from `origin` (an empty `url` is a synthetic response).
pub(crate) fn answered_by(response_url: &str, origin: &str) -> bool {
    response_url.is_empty() || origin_of(response_url).as_deref() == Some(origin)
}
