//! The options' shapes the engine's rules do not run on (those are [`super::config`]'s: the
//! numbers, the statuses, the origins, where `loginUrl` resolves), checked so that a wrong one
//! is refused at once, named, rather than met later as a refresh call that fails for good: a
//! name that must not be empty, the refresh call's method and credentials, and the OAuth 2
//! settings, which only the `oauth2` preset sends. Both faces ask here ([`check`]) once their
//! own type checks passed (the npm face: `presetRule` 11, from `js/options.js`'s facts).
//!
//! The messages are built without `format!`: the npm wasm ships no `core::fmt`.
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
        Some("") => Err(String::from(name) + " must be a non-empty string"),
        _ => Ok(()),
    }
}

/// Every shape: `storageKey` and `loginUrl` non-empty when given, then the endpoint's
/// ([`check_endpoint`]) when there is one. The first wrong one, named.
///
/// # Example
/// ```
/// use freshtoken::engine::option_shapes::{check, EndpointShape};
/// assert!(check(Some("app"), None, Some(&EndpointShape { url: "/auth/refresh", ..Default::default() })).is_ok());
/// assert_eq!(check(None, Some(""), None).unwrap_err(), "loginUrl must be a non-empty string");
/// ```
pub fn check(storage_key: Option<&str>, login_url: Option<&str>, endpoint: Option<&EndpointShape<'_>>) -> Result<(), String> {
    non_empty("storageKey", storage_key)?;
    non_empty("loginUrl", login_url)?;
    endpoint.map_or(Ok(()), check_endpoint)
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
    let text = |v: Option<&str>| v.map(|v| !v.is_empty());
    let resource = (!e.resource.is_empty()).then(|| e.resource.iter().all(|r| !r.is_empty()));
    // Each option: whether it is as it must be (`None`: not given), what it must be, and
    // whether it is an OAuth 2 setting (refused outright without the oauth2 preset).
    let rules: [(&str, Option<bool>, &str, bool); 7] = [
        ("url", Some(!e.url.is_empty()), " must be a non-empty string", false),
        ("method", e.method.map(|m| m == "POST" || m == "PUT"), " must be \"POST\" or \"PUT\"", false),
        ("credentials", e.credentials.map(|c| matches!(c, "omit" | "same-origin" | "include")), " must be \"omit\", \"same-origin\" or \"include\"", false),
        ("clientId", text(e.client_id), " must be a non-empty string", true),
        ("scope", text(e.scope), " must be a non-empty string", true),
        ("resource", resource, " must be a non-empty string or an array of them", true),
        ("revokeUrl", text(e.revoke_url), " must be a non-empty string", true),
    ];
    for (name, ok, must, oauth) in rules {
        let Some(ok) = ok else { continue };
        let refused = if oauth && e.preset != Preset::Oauth2 { " is an OAuth 2 setting: it needs preset: 'oauth2'" } else if ok { continue } else { must };
        return Err(String::from("endpoint.") + name + refused);
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
