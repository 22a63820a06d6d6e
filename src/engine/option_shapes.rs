//! The options' shapes the engine's rules do not run on (those are [`super::config`]'s: the
//! numbers, the statuses, the origins, where `loginUrl` resolves), checked so that a wrong one
//! is refused at once, named, rather than met later as a refresh call that fails for good: a
//! name that must not be empty, the refresh call's method and credentials, and the OAuth 2
//! settings, which only the `oauth2` preset sends. The npm face says the same in
//! `js/options.js`, beside its JS type checks; the Rust face asks here.
//!
//! A message names the option and what it must be, never the value refused (a string could
//! be a secret put in the wrong place).

use super::preset::Preset;

/// An option that must be a non-empty string when it is given (`storageKey`, `loginUrl`).
///
/// # Example
/// ```
/// use freshtoken::engine::option_shapes::non_empty;
/// assert!(non_empty("storageKey", Some("app")).is_ok() && non_empty("storageKey", None).is_ok());
/// assert_eq!(non_empty("storageKey", Some("")).unwrap_err(), "storageKey must be a non-empty string");
/// ```
pub fn non_empty(name: &str, value: Option<&str>) -> Result<(), String> {
    match value {
        Some("") => Err(format!("{name} must be a non-empty string")),
        _ => Ok(()),
    }
}

/// The built-in refresh endpoint as given.
#[derive(Clone, Copy, Debug, Default)]
pub struct EndpointShape<'a> {
    /// `endpoint.url`.
    pub url: &'a str,
    /// `endpoint.method`.
    pub method: Option<&'a str>,
    /// `endpoint.credentials`.
    pub credentials: Option<&'a str>,
    /// `endpoint.preset`.
    pub preset: Preset,
    /// `endpoint.clientId`, `scope` and `revokeUrl` (the OAuth 2 settings that are one string).
    pub client_id: Option<&'a str>,
    /// `endpoint.scope`.
    pub scope: Option<&'a str>,
    /// `endpoint.revokeUrl`.
    pub revoke_url: Option<&'a str>,
    /// `endpoint.resource` (RFC 8707), each entry.
    pub resource: &'a [String],
}

/// Checks the endpoint's shape: a non-empty `url`, `method` `POST` or `PUT`, `credentials` one
/// of fetch's three, and OAuth 2 settings only with `preset: 'oauth2'`, each non-empty.
///
/// # Example
/// ```
/// use freshtoken::engine::option_shapes::{check_endpoint, EndpointShape};
/// use freshtoken::engine::preset::Preset;
/// assert!(check_endpoint(&EndpointShape { url: "/auth/refresh", ..Default::default() }).is_ok());
/// let get = EndpointShape { url: "/auth/refresh", method: Some("GET"), ..Default::default() };
/// assert_eq!(check_endpoint(&get).unwrap_err(), "endpoint.method must be \"POST\" or \"PUT\"");
/// let client = EndpointShape { url: "/t", client_id: Some("app"), ..Default::default() };
/// assert!(check_endpoint(&client).unwrap_err().contains("needs preset: 'oauth2'"));
/// assert!(check_endpoint(&EndpointShape { preset: Preset::Oauth2, ..client }).is_ok());
/// ```
pub fn check_endpoint(e: &EndpointShape<'_>) -> Result<(), String> {
    if e.url.is_empty() {
        return Err("endpoint.url must be a non-empty string".into());
    }
    if e.method.is_some_and(|m| m != "POST" && m != "PUT") {
        return Err("endpoint.method must be \"POST\" or \"PUT\"".into());
    }
    if e.credentials.is_some_and(|c| !["omit", "same-origin", "include"].contains(&c)) {
        return Err("endpoint.credentials must be \"omit\", \"same-origin\" or \"include\"".into());
    }
    let resource = (!e.resource.is_empty()).then_some(e.resource.iter().all(|r| !r.is_empty()));
    let given = [
        ("clientId", e.client_id.map(|v| !v.is_empty())),
        ("scope", e.scope.map(|v| !v.is_empty())),
        ("resource", resource),
        ("revokeUrl", e.revoke_url.map(|v| !v.is_empty())),
    ];
    for (name, ok) in given {
        let Some(ok) = ok else { continue };
        if e.preset != Preset::Oauth2 {
            return Err(format!("endpoint.{name} is an OAuth 2 setting: it needs preset: 'oauth2'"));
        }
        if !ok {
            return Err(format!("endpoint.{name} must be a non-empty string{}", if name == "resource" { " or an array of them" } else { "" }));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wrong_shape_is_named() {
        let ok = EndpointShape { url: "/t", preset: Preset::Oauth2, ..Default::default() };
        let cases: [(EndpointShape<'_>, &str); 6] = [
            (EndpointShape { url: "", ..ok }, "endpoint.url"),
            (EndpointShape { method: Some("get"), ..ok }, "endpoint.method"),
            (EndpointShape { credentials: Some("all"), ..ok }, "endpoint.credentials"),
            (EndpointShape { scope: Some(""), ..ok }, "endpoint.scope must be a non-empty"),
            (EndpointShape { revoke_url: Some("/r"), preset: Preset::Json, ..ok }, "endpoint.revokeUrl is an OAuth 2 setting"),
            (EndpointShape { resource: &[String::new()], ..ok }, "endpoint.resource must be a non-empty string or an array"),
        ];
        for (shape, named) in cases {
            assert!(check_endpoint(&shape).unwrap_err().starts_with(named), "{shape:?}");
        }
        let full = [String::from("https://api.example/")];
        assert!(check_endpoint(&EndpointShape { method: Some("PUT"), credentials: Some("include"), client_id: Some("app"), resource: &full, ..ok }).is_ok());
    }
}
