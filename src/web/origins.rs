//! Where the token may go (SPEC behaviour 6): one origin decision, made as the browser will
//! send the request (the URL parser, relative to `document.baseURI`), compared as a whole
//! origin. A string the parser refuses, or an opaque origin, gets no token.

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
    let base = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.base_uri().ok().flatten())
        .or_else(|| web_sys::window().and_then(|w| w.location().href().ok()));
    let url = match base {
        Some(base) => web_sys::Url::new_with_base(input, &base),
        None => web_sys::Url::new(input),
    }
    .ok()?;
    let origin = url.origin();
    (origin != "null").then_some(origin)
}

/// The page's own origin, the default of `origins`.
pub(crate) fn page_origin() -> Option<String> {
    let origin = web_sys::window()?.location().origin().ok()?;
    (origin != "null").then_some(origin)
}

/// Normalises the `origins` option: each entry parsed as a URL, kept as its origin.
pub(crate) fn allowed(list: Option<&[String]>) -> Result<Vec<String>, String> {
    let Some(list) = list else { return Ok(page_origin().into_iter().collect()) };
    list.iter()
        .map(|item| origin_of(item).ok_or_else(|| format!("origins: {item:?} is not an http(s) origin")))
        .collect()
}

/// Whether an answer came from `origin` (an empty `url` is a synthetic response).
pub(crate) fn answered_by(response_url: &str, origin: &str) -> bool {
    response_url.is_empty() || origin_of(response_url).as_deref() == Some(origin)
}
