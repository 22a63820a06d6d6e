//! The built-in presets (SPEC "Server contracts"): what each refresh call sends, and what it
//! cannot do without. Both faces build their refresh request here and only send it; the
//! answer is read by [`super::answer`].
//!
//! | preset | method | sends |
//! |---|---|---|
//! | `json` (seed 001, Express) | POST | JSON `{...params, "refreshToken"}` |
//! | `sanic-jwt` (seed 002) | POST | `Authorization: Bearer <access>`, JSON `{...params, "refresh_token"}` |
//! | `bearer-put` (seed 000, Grape) | PUT | `Authorization: Bearer <access>` |
//! | `oauth2` (RFC 6749 §6) | POST | form: params, `client_id`, `scope`, `resource`s, `grant_type=refresh_token`, `refresh_token` |

use super::config::Needs;
use crate::json;

/// A server contract of the built-in refresh call (SPEC "Server contracts"); the Rust face's
/// `web::Preset` is this type, named in its options as `json`, `sanic-jwt`, `bearer-put`,
/// `oauth2`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(all(feature = "web", target_arch = "wasm32"), derive(serde::Serialize, serde::Deserialize), serde(rename_all = "kebab-case"))]
pub enum Preset {
    /// `POST {"refreshToken"}` → `accessToken`, `refreshToken`, `expiresIn`, `expiresAt`.
    #[default]
    Json,
    /// `POST` with `Authorization: Bearer <access>` and `{"refresh_token"}` → `access_token`, `refresh_token`.
    SanicJwt,
    /// `PUT` with `Authorization: Bearer <access>` → `token`, `expiresIn` (or `expires_in`).
    BearerPut,
    /// RFC 6749 §6 form → `access_token`, `refresh_token`, `expires_in`.
    Oauth2,
}

impl Preset {
    /// The presets in the order the npm boundary numbers them (0 `json` ... 3 `oauth2`).
    pub const ALL: [Preset; 4] = [Preset::Json, Preset::SanicJwt, Preset::BearerPut, Preset::Oauth2];

    /// The preset's name in the options (`json`, `sanic-jwt`, `bearer-put`, `oauth2`).
    pub fn name(self) -> &'static str {
        match self {
            Preset::Json => "json",
            Preset::SanicJwt => "sanic-jwt",
            Preset::BearerPut => "bearer-put",
            Preset::Oauth2 => "oauth2",
        }
    }

    /// The method the call uses unless `endpoint.method` says otherwise.
    pub fn method(self) -> &'static str {
        match self {
            Preset::BearerPut => "PUT",
            _ => "POST",
        }
    }

    /// What the call cannot do without: the access token for `bearer-put`, else the refresh token.
    pub fn needs(self) -> Needs {
        match self {
            Preset::BearerPut => Needs::AccessToken,
            _ => Needs::RefreshToken,
        }
    }

    /// Whether an error answer is read as an OAuth 2 error (RFC 6749 §5.2): `oauth2` only;
    /// the other presets' error bodies are not read.
    pub fn reads_oauth_errors(self) -> bool {
        self == Preset::Oauth2
    }

    /// Whether the call carries `Authorization: Bearer <access token>`.
    pub fn sends_bearer(self) -> bool {
        matches!(self, Preset::SanicJwt | Preset::BearerPut)
    }
}

/// What a refresh call needs: nothing the session holds with the app's own function
/// (`preset` none) or when cookies carry the session (`credentials: 'include'`), else
/// what the preset needs.
///
/// # Example
/// ```
/// use freshtoken::engine::preset::{needs, Preset};
/// use freshtoken::engine::Needs;
/// assert_eq!(needs(Some(Preset::BearerPut), false), Needs::AccessToken);
/// assert_eq!(needs(Some(Preset::Json), true), Needs::Nothing);
/// assert_eq!(needs(None, false), Needs::Nothing);
/// ```
pub fn needs(preset: Option<Preset>, cookies: bool) -> Needs {
    match preset {
        Some(p) if !cookies => p.needs(),
        _ => Needs::Nothing,
    }
}

/// The endpoint's settings a request is built from (besides the preset and the tokens).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Client {
    /// `endpoint.method` (`POST` or `PUT`), when given.
    pub method: Option<String>,
    /// `endpoint.params`: the app's own fields, in order (the JSON body's or the form's).
    pub params: Vec<(String, String)>,
    /// `oauth2`: `client_id`.
    pub client_id: Option<String>,
    /// `oauth2`: `scope`.
    pub scope: Option<String>,
    /// `oauth2`: `resource` (RFC 8707), one form field each.
    pub resource: Vec<String>,
}

/// A request to send: the method, the two headers the preset sets (besides the app's
/// `endpoint.headers`), and the body text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// `POST` or `PUT`.
    pub method: String,
    /// `application/json` or `application/x-www-form-urlencoded`; none without a body.
    pub content_type: Option<&'static str>,
    /// `Bearer <access token>` for the presets that send it (when there is one).
    pub authorization: Option<String>,
    /// The body text.
    pub body: Option<String>,
}

/// The refresh call of `preset` with the tokens the engine captured for it. A field of
/// the app's `params` with the name of a field the preset sets gives way to it.
///
/// # Example
/// ```
/// use freshtoken::engine::preset::{request, Client, Preset};
/// let client = Client { params: vec![("device".into(), "d1".into())], ..Client::default() };
/// let call = request(Preset::SanicJwt, Some("a1"), Some("r1"), &client);
/// assert_eq!(call.method, "POST");
/// assert_eq!(call.authorization.as_deref(), Some("Bearer a1"));
/// assert_eq!(call.body.as_deref(), Some(r#"{"device":"d1","refresh_token":"r1"}"#));
/// let client = Client { client_id: Some("app".into()), scope: Some("openid api".into()), ..Client::default() };
/// let call = request(Preset::Oauth2, None, Some("r/1"), &client);
/// assert_eq!(call.body.as_deref(), Some("client_id=app&scope=openid+api&grant_type=refresh_token&refresh_token=r%2F1"));
/// ```
pub fn request(preset: Preset, access: Option<&str>, refresh: Option<&str>, client: &Client) -> Call {
    let (content_type, body) = match preset {
        Preset::Json | Preset::SanicJwt => {
            let field = if preset == Preset::Json { "refreshToken" } else { "refresh_token" };
            let mut out = vec![b'{'];
            let own = refresh.map(|r| (field, r));
            let params = client.params.iter().map(|(k, v)| (k.as_str(), v.as_str())).filter(|(k, _)| own.is_none() || *k != field);
            for (i, (k, v)) in params.chain(own).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json::write_str(&mut out, k);
                out.push(b':');
                json::write_str(&mut out, v);
            }
            out.push(b'}');
            (Some("application/json"), Some(json::utf8_string(out).unwrap_or_default()))
        }
        Preset::BearerPut => (None, None),
        Preset::Oauth2 => {
            let mut form: Vec<(&str, &str)> = client.params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            if let Some(c) = &client.client_id {
                set(&mut form, "client_id", c);
            }
            if let Some(s) = &client.scope {
                set(&mut form, "scope", s);
            }
            form.extend(client.resource.iter().map(|r| ("resource", r.as_str())));
            set(&mut form, "grant_type", "refresh_token");
            set(&mut form, "refresh_token", refresh.unwrap_or(""));
            (Some("application/x-www-form-urlencoded"), Some(urlencoded(&form)))
        }
    };
    Call {
        method: client.method.clone().unwrap_or_else(|| preset.method().to_owned()),
        content_type,
        authorization: access.filter(|_| preset.sends_bearer()).map(|a| String::from("Bearer ") + a),
        body,
    }
}

/// The revocation call of `token` (RFC 7009): `token`, `token_type_hint=refresh_token` and
/// the `client_id` when there is one, as a form.
///
/// # Example
/// ```
/// use freshtoken::engine::preset::revocation;
/// assert_eq!(revocation("r1", Some("app")).body.as_deref(), Some("token=r1&token_type_hint=refresh_token&client_id=app"));
/// ```
pub fn revocation(token: &str, client_id: Option<&str>) -> Call {
    let mut form = vec![("token", token), ("token_type_hint", "refresh_token")];
    form.extend(client_id.map(|c| ("client_id", c)));
    Call { method: "POST".into(), content_type: Some("application/x-www-form-urlencoded"), authorization: None, body: Some(urlencoded(&form)) }
}

/// `URLSearchParams.set` on fields with distinct names (the app's `params` are an object):
/// the field named `key` takes `value`, or it is appended.
fn set<'a>(form: &mut Vec<(&'a str, &'a str)>, key: &'a str, value: &'a str) {
    match form.iter_mut().find(|(k, _)| *k == key) {
        Some(field) => field.1 = value,
        None => form.push((key, value)),
    }
}

/// The `application/x-www-form-urlencoded` serialisation (the URL Standard's, as
/// `URLSearchParams.toString()` writes it): `*-._`, digits and letters as they are, a space
/// as `+`, every other byte of the UTF-8 as `%XX`.
fn urlencoded(form: &[(&str, &str)]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::new();
    for (i, (k, v)) in form.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        for (j, part) in [k, v].into_iter().enumerate() {
            if j > 0 {
                out.push(b'=');
            }
            for &b in part.as_bytes() {
                match b {
                    b'*' | b'-' | b'.' | b'_' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => out.push(b),
                    b' ' => out.push(b'+'),
                    _ => out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]),
                }
            }
        }
    }
    json::utf8_string(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::default()
    }

    #[test]
    fn each_preset_sends_what_its_server_reads() {
        let c = request(Preset::Json, Some("a1"), Some("r1"), &client());
        assert_eq!((c.method.as_str(), c.content_type, c.authorization.as_deref(), c.body.as_deref()), ("POST", Some("application/json"), None, Some(r#"{"refreshToken":"r1"}"#)));
        let c = request(Preset::SanicJwt, Some("a1"), Some("r1"), &client());
        assert_eq!((c.method.as_str(), c.authorization.as_deref(), c.body.as_deref()), ("POST", Some("Bearer a1"), Some(r#"{"refresh_token":"r1"}"#)));
        let c = request(Preset::BearerPut, Some("a1"), None, &client());
        assert_eq!((c.method.as_str(), c.content_type, c.authorization.as_deref(), c.body), ("PUT", None, Some("Bearer a1"), None));
        let c = request(Preset::Oauth2, Some("a1"), Some("r1"), &client());
        assert_eq!((c.content_type, c.authorization, c.body.as_deref()), (Some("application/x-www-form-urlencoded"), None, Some("grant_type=refresh_token&refresh_token=r1")));
        // No token to send: no field (json), no header (bearer-put).
        assert_eq!(request(Preset::Json, None, None, &client()).body.as_deref(), Some("{}"));
        assert_eq!(request(Preset::BearerPut, None, None, &client()).authorization, None);
        let put = Client { method: Some("PUT".into()), ..client() };
        assert_eq!(request(Preset::Json, None, Some("r"), &put).method, "PUT");
    }

    #[test]
    fn params_give_way_to_the_presets_fields() {
        let c = Client { params: vec![("refreshToken".into(), "app's".into()), ("a".into(), "\"q\"\n".into())], ..client() };
        assert_eq!(request(Preset::Json, None, Some("r1"), &c).body.as_deref(), Some(r#"{"a":"\"q\"\u000a","refreshToken":"r1"}"#));
        // Without a refresh token to send, the app's field stays (as `{...params}` keeps it).
        assert_eq!(request(Preset::Json, None, None, &c).body.as_deref(), Some(r#"{"refreshToken":"app's","a":"\"q\"\u000a"}"#));
        let c = Client {
            params: vec![("grant_type".into(), "x".into()), ("audience".into(), "api é".into())],
            client_id: Some("app".into()),
            scope: Some("openid offline_access".into()),
            resource: vec!["https://api.example/".into(), "urn:x".into()],
            ..client()
        };
        assert_eq!(
            request(Preset::Oauth2, None, Some("r+1&x"), &c).body.as_deref(),
            Some("grant_type=refresh_token&audience=api+%C3%A9&client_id=app&scope=openid+offline_access&resource=https%3A%2F%2Fapi.example%2F&resource=urn%3Ax&refresh_token=r%2B1%26x")
        );
    }

    #[test]
    fn needs_and_oauth() {
        for p in Preset::ALL {
            assert_eq!(needs(Some(p), false), if p == Preset::BearerPut { Needs::AccessToken } else { Needs::RefreshToken });
            assert_eq!(needs(Some(p), true), Needs::Nothing);
            assert_eq!(p.reads_oauth_errors(), p == Preset::Oauth2);
        }
        assert_eq!(revocation("r 1", None).body.as_deref(), Some("token=r+1&token_type_hint=refresh_token"));
    }
}
