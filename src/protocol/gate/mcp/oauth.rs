//! An MCP server's OAuth documents: RFC 9728 protected-resource metadata (of
//! the server and of its `/mcp` endpoint), RFC 8414 authorization-server
//! metadata, OpenID Connect discovery, and the server info the official
//! router serves at `/`. Written once: the official SDK's pure builders
//! (`src/mcp/http/oauth-metadata.ts`: `getOAuthUrls`,
//! `buildProtectedResourceMetadata`, ...; `nvm-x402/mcp` exports them under
//! those names, [`build`]) and what `payments.mcp.discovery()` serves
//! ([`discovery_document`]) are these functions. The one difference:
//! `discovery()` serves no `POST /register` (dynamic client registration), so
//! its documents don't name one; the builders name `<baseUrl>/register` as the
//! official's do, for a server that serves it.

use crate::error::{Error, Result};
use crate::protocol::json::{self, Object, ObjectBuilder, Value};
use crate::protocol::url::Url;
use crate::protocol::Environment;

/// The OAuth scopes the official SDK advertises by default.
const DEFAULT_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "credits",
    "mcp:read",
    "mcp:write",
    "mcp:tools",
];

/// The MCP revisions the paywall serves (#22): advertised in `protocol_versions`
/// unless the caller names others. The official advertises only `protocol_version`,
/// `2024-11-05` by default, a revision older than any its own server speaks.
const SPOKEN_PROTOCOL_VERSIONS: [&str; 2] = ["2026-07-28", "2025-11-25"];
/// `mcp_capabilities.protocol_version` when no listed revision is negotiated with `initialize`.
const DEFAULT_PROTOCOL_VERSION: &str = "2025-11-25";
/// The first MCP revision negotiated without `initialize` (revisions are dates: they compare as text).
const FIRST_MODERN_PROTOCOL_VERSION: &str = "2026-07-28";

/// `getOAuthUrls`'s fields, in the official's order.
const URL_FIELDS: [&str; 5] = [
    "issuer",
    "authorizationUri",
    "tokenUri",
    "jwksUri",
    "userinfoUri",
];

/// Where an environment's OAuth lives, as `getOAuthUrls` answers it: the
/// issuer and the authorization page on the web app, the token endpoint, the
/// JWKS and userinfo on the backend (in [`URL_FIELDS`] order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthUrls {
    urls: [String; 5],
    /// The authorization server of the protected-resource documents: the
    /// origin of the token endpoint (the backend, which serves RFC 8414
    /// metadata; never the web app), else the environment's.
    authorization_server: String,
}

impl OAuthUrls {
    /// The official `buildOAuthUrls`: `frontend` issues and authorizes,
    /// `backend` has the rest (trailing slashes dropped).
    pub fn new(frontend: &str, backend: &str) -> Self {
        let (front, back) = (
            frontend.trim_end_matches('/'),
            backend.trim_end_matches('/'),
        );
        let urls = [
            front.to_owned(),
            format!("{front}/oauth/authorize"),
            format!("{back}/oauth/token"),
            format!("{back}/.well-known/jwks.json"),
            format!("{back}/oauth/userinfo"),
        ];
        let authorization_server = origin(&urls[2]).unwrap_or_else(|| back.to_owned());
        OAuthUrls {
            urls,
            authorization_server,
        }
    }

    /// `getOAuthUrls(environment, overrides?)`: the environment's URLs (an
    /// unknown or missing name is `sandbox`, as the official's; `local` is
    /// nvm-local's), each replaced by its override. `custom` has no URLs of
    /// its own: each must be given (the official reads `NVM_*_URL` variables
    /// or says `localhost`; a Worker or a browser has no such variables).
    pub fn of_environment(environment: &Value, overrides: &Value) -> Result<Self> {
        const WHAT: &str = "oauthUrls";
        let env = environment
            .as_str()
            .and_then(Environment::from_name)
            .unwrap_or(Environment::Sandbox);
        let defaults = env
            .backend_url()
            .map(|back| Self::new(env.frontend_url().unwrap_or(back), back));
        let given = json::opt_object(Some(overrides), WHAT)?;
        let mut urls = defaults.clone().map(|d| d.urls).unwrap_or_default();
        for (url, key) in urls.iter_mut().zip(URL_FIELDS) {
            match given.map(|o| json::opt_str(o, key, WHAT)).transpose()? {
                Some(Some(value)) => *url = value.to_owned(),
                _ if defaults.is_some() => {}
                _ => {
                    let mut message =
                        String::from("The custom environment has no OAuth URLs: pass oauthUrls.");
                    message.push_str(key);
                    return Err(Error::misuse(message, "Pass oauthUrls with issuer, authorizationUri, tokenUri, jwksUri and userinfoUri (the official SDK reads them from NVM_FRONTEND_URL and NVM_BACKEND_URL)."));
                }
            }
        }
        // A token endpoint that is no URL can't say where the server is: the environment's.
        let authorization_server = origin(&urls[2])
            .or_else(|| defaults.map(|d| d.authorization_server))
            .unwrap_or_else(|| urls[2].clone());
        Ok(OAuthUrls {
            urls,
            authorization_server,
        })
    }

    /// `{issuer, authorizationUri, tokenUri, jwksUri, userinfoUri}`.
    pub fn to_json(&self) -> Value {
        let mut doc = ObjectBuilder::new();
        for (key, url) in URL_FIELDS.iter().zip(&self.urls) {
            doc = doc.put(key, url.as_str());
        }
        doc.build()
    }
}

/// The WHATWG origin of `url`, if it is one.
fn origin(url: &str) -> Option<String> {
    Url::parse(url).map(|u| u.origin())
}

/// One of the documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// `/.well-known/oauth-protected-resource` (`buildProtectedResourceMetadata`).
    ProtectedResource,
    /// `/.well-known/oauth-protected-resource/mcp` (`buildMcpProtectedResourceMetadata`).
    McpProtectedResource,
    /// `/.well-known/oauth-authorization-server` (`buildAuthorizationServerMetadata`).
    AuthorizationServer,
    /// `/.well-known/openid-configuration` (`buildOidcConfiguration`).
    OpenIdConfiguration,
    /// `/` (`buildServerInfoResponse`).
    ServerInfo,
}

impl Document {
    /// The document a builder named by the official SDK makes.
    pub fn of_builder(name: &str) -> Option<Self> {
        Some(match name {
            "buildProtectedResourceMetadata" => Self::ProtectedResource,
            "buildMcpProtectedResourceMetadata" => Self::McpProtectedResource,
            "buildAuthorizationServerMetadata" => Self::AuthorizationServer,
            "buildOidcConfiguration" => Self::OpenIdConfiguration,
            "buildServerInfoResponse" => Self::ServerInfo,
            _ => return None,
        })
    }

    /// The document served at `path` (a trailing `/` ignored); not the server info.
    pub fn at(path: &str) -> Option<Self> {
        Some(match path.trim_end_matches('/') {
            "/.well-known/oauth-protected-resource" => Self::ProtectedResource,
            "/.well-known/oauth-protected-resource/mcp" => Self::McpProtectedResource,
            "/.well-known/oauth-authorization-server" => Self::AuthorizationServer,
            "/.well-known/openid-configuration" => Self::OpenIdConfiguration,
            _ => return None,
        })
    }
}

/// A server's documents: where it is and who authorizes it.
#[derive(Debug)]
pub struct Server<'a> {
    /// The server's public URL (its origin, or the URL it is mounted at).
    pub base_url: &'a str,
    /// The environment's OAuth URLs.
    pub urls: &'a OAuthUrls,
    /// `{scopes?, tools?, resources?, prompts?, serverName?, agentId?,
    /// protocolVersion?, protocolVersions?}` (the official `OAuthConfig`'s
    /// fields, and `protocolVersions`).
    pub options: &'a Object,
    /// Whether the server serves `POST /register` (the documents name it).
    pub registration: bool,
    /// What `options` is called in an error.
    pub what: &'a str,
}

impl Server<'_> {
    /// A list option: `default` when absent (or `null`), else the names given.
    fn list(&self, key: &str, default: &[&str]) -> Result<Value> {
        Ok(match json::present(self.options, key) {
            None => strings(default),
            Some(_) => json::opt_ids(self.options, key, self.what)?
                .into_iter()
                .map(Value::from)
                .collect(),
        })
    }

    /// `<base>/<path>`.
    fn at(&self, path: &str) -> String {
        let mut url = self.base_url.trim_end_matches('/').to_owned();
        url.push_str(path);
        url
    }

    /// `document` for this server; `info`: `buildServerInfoResponse`'s `{version?, description?}`.
    pub fn document(&self, document: Document, info: &Value) -> Result<Value> {
        let scopes = self.list("scopes", &DEFAULT_SCOPES)?;
        let url = |i: usize| self.urls.urls[i].as_str();
        let registration = Some(self.at("/register")).filter(|_| self.registration);
        Ok(match document {
            Document::ProtectedResource | Document::McpProtectedResource => {
                let mcp = document == Document::McpProtectedResource;
                let mut doc = ObjectBuilder::new()
                    .put("resource", self.at(if mcp { "/mcp" } else { "" }))
                    .put(
                        "authorization_servers",
                        strings(&[self.urls.authorization_server.as_str()]),
                    )
                    .put("scopes_supported", scopes.clone());
                if mcp {
                    doc = doc.put("scopes_required", scopes);
                }
                doc = doc
                    .put("bearer_methods_supported", strings(&["header"]))
                    .put("resource_documentation", self.at("/"));
                if mcp {
                    doc = doc.put("mcp_capabilities", self.capabilities()?);
                }
                doc.build()
            }
            Document::AuthorizationServer | Document::OpenIdConfiguration => {
                let oidc = document == Document::OpenIdConfiguration;
                let mut doc = ObjectBuilder::new()
                    .put("issuer", url(0))
                    .put("authorization_endpoint", url(1))
                    .put("token_endpoint", url(2))
                    .put("jwks_uri", url(3));
                if oidc {
                    doc = doc.put("userinfo_endpoint", url(4));
                }
                doc.put_opt("registration_endpoint", registration)
                    .put("response_types_supported", strings(&["code"]))
                    .put(
                        "grant_types_supported",
                        strings(&["authorization_code", "refresh_token"]),
                    )
                    .put("code_challenge_methods_supported", strings(&["S256"]))
                    .put(
                        "scopes_supported",
                        if oidc { with_openid(scopes) } else { scopes },
                    )
                    .put(
                        "token_endpoint_auth_methods_supported",
                        strings(if oidc {
                            &["none", "client_secret_post"]
                        } else {
                            &["client_secret_post"]
                        }),
                    )
                    .put("subject_types_supported", strings(&["public"]))
                    .rest(&if oidc {
                        ObjectBuilder::new()
                            .put(
                                "id_token_signing_alg_values_supported",
                                strings(&["RS256", "HS256"]),
                            )
                            .put(
                                "claims_supported",
                                strings(&["sub", "iss", "aud", "exp", "iat", "name", "email"]),
                            )
                            .into_map()
                    } else {
                        Object::new()
                    })
                    .build()
            }
            Document::ServerInfo => {
                let info = json::opt_object(Some(info), "buildServerInfoResponse options")?;
                let text = |o: Option<&Object>, key: &str, default: &str| -> Result<String> {
                    let given = o.map(|o| json::opt_str(o, key, self.what)).transpose()?;
                    // `||`, as the official's: an empty string is the default too.
                    Ok(given
                        .flatten()
                        .filter(|s| !s.is_empty())
                        .unwrap_or(default)
                        .to_owned())
                };
                let oauth = ObjectBuilder::new()
                    .put(
                        "authorization_server_metadata",
                        self.at("/.well-known/oauth-authorization-server"),
                    )
                    .put(
                        "protected_resource_metadata",
                        self.at("/.well-known/oauth-protected-resource"),
                    )
                    .put(
                        "openid_configuration",
                        self.at("/.well-known/openid-configuration"),
                    )
                    .put("authorization_endpoint", url(1))
                    .put("token_endpoint", url(2))
                    .put("jwks_uri", url(3))
                    .put_opt("registration_endpoint", registration.clone())
                    .put_opt(
                        "client_id",
                        json::opt_id(self.options, "agentId", self.what)?,
                    )
                    .put("scopes", scopes)
                    .build();
                let mut endpoints = ObjectBuilder::new()
                    .put("mcp", self.at("/mcp"))
                    .put("health", self.at("/health"));
                endpoints = endpoints.put_opt("register", registration);
                ObjectBuilder::new()
                    .put(
                        "name",
                        text(Some(self.options), "serverName", "MCP Server")?,
                    )
                    .put("version", text(info, "version", "1.0.0")?)
                    .put(
                        "description",
                        text(
                            info,
                            "description",
                            "MCP server with Nevermined OAuth integration via Streamable HTTP",
                        )?,
                    )
                    .put("endpoints", endpoints.build())
                    .put("oauth", oauth)
                    .put("tools", self.list("tools", &[])?)
                    .put("resources", self.list("resources", &[])?)
                    .put("prompts", self.list("prompts", &[])?)
                    .build()
            }
        })
    }

    /// `mcp_capabilities`: the tools, `protocol_versions` (the MCP revisions the
    /// server speaks: `protocolVersions`, else the paywall's own, 2026-07-28 and
    /// 2025-11-25; not the official's) and `protocol_version` (`protocolVersion`,
    /// else the first of them negotiated with `initialize`).
    fn capabilities(&self) -> Result<Value> {
        let version = json::opt_str(self.options, "protocolVersion", self.what)?;
        let versions = self.list("protocolVersions", &SPOKEN_PROTOCOL_VERSIONS)?;
        let version = version.unwrap_or_else(|| {
            json::items(Some(&versions))
                .iter()
                .filter_map(Value::as_str)
                .find(|v| *v < FIRST_MODERN_PROTOCOL_VERSION)
                .unwrap_or(DEFAULT_PROTOCOL_VERSION)
        });
        Ok(ObjectBuilder::new()
            .put("tools", self.list("tools", &[])?)
            .put("protocol_version", version)
            .put("protocol_versions", versions)
            .build())
    }
}

/// The official builder `name` (`getOAuthUrls` or one of [`Document::of_builder`]'s)
/// with its arguments: `getOAuthUrls(environment, overrides?)`, the others
/// `(config, options?)` where `config` is the official `OAuthConfig`
/// (`{baseUrl, environment, oauthUrls?, agentId?, scopes?, serverName?, tools?,
/// resources?, prompts?, protocolVersion?}`; and `protocolVersions`).
pub fn build(name: &str, first: &Value, second: &Value) -> Result<Value> {
    let Some(document) = Document::of_builder(name) else {
        return match name {
            "getOAuthUrls" => OAuthUrls::of_environment(first, second).map(|urls| urls.to_json()),
            "requireAuth" => Ok(require_auth(first, second)),
            _ => Err(Error::validation("unknown OAuth builder")),
        };
    };
    let mut what = String::from(name);
    what.push_str(" config");
    let config = json::object(first, &what)?;
    let base_url = json::opt_str(config, "baseUrl", &what)?
        .ok_or_else(|| json::wrong(&what, "baseUrl", "the server's URL"))?;
    let urls = OAuthUrls::of_environment(
        config.get("environment").unwrap_or(&Value::Null),
        config.get("oauthUrls").unwrap_or(&Value::Null),
    )?;
    Server {
        base_url,
        urls: &urls,
        options: config,
        registration: true,
        what: &what,
    }
    .document(document, second)
}

/// `createRequireAuthMiddleware(options)`'s decision for one request (the
/// official middleware's): `request` is `{authorization?, forwardedHost?,
/// host?, forwardedProto?, protocol?}` (the request's header values),
/// `options` `{baseUrl?, resourceMetadataPath?}`. `null`: a Bearer token is
/// present (its validity is the paywall's to decide); else the 401's
/// `{description, challenge?}`. The challenge (RFC 9728 §5.1) points at the
/// protected-resource metadata of `baseUrl` if pinned, else of the
/// forwarded (or own) host and protocol; a host that is not a plain name or
/// IP literal with a port (a quote would inject an auth-param), a protocol
/// other than http/https, or nothing to build from: no challenge. A
/// credential that was sent but is not `Bearer <token>` adds
/// `error="invalid_request"` (RFC 6750 §3.1); none sent, no `error` (§3).
pub fn require_auth(request: &Value, options: &Value) -> Value {
    fn text<'a>(o: &'a Value, key: &str) -> Option<&'a str> {
        o.get(key).and_then(Value::as_str).map(str::trim)
    }
    let (description, error) = match request.get("authorization").and_then(Value::as_str) {
        None | Some("") => ("Authorization header required", false),
        Some(a) => match a.strip_prefix("Bearer ") {
            None => ("Bearer token required", true),
            Some(token) if token.trim().is_empty() => ("Bearer token cannot be empty", true),
            Some(_) => return Value::Null,
        },
    };
    let path =
        text(options, "resourceMetadataPath").unwrap_or("/.well-known/oauth-protected-resource");
    let origin = match text(options, "baseUrl") {
        Some(base) => Some(base.trim_end_matches('/').to_owned()),
        None => {
            let host = text(request, "forwardedHost")
                .or_else(|| text(request, "host"))
                .filter(|h| safe_host(h));
            let proto = text(request, "forwardedProto")
                .and_then(|p| p.split(',').next())
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .or_else(|| text(request, "protocol").filter(|p| !p.is_empty()))
                .unwrap_or("https");
            host.filter(|_| proto == "http" || proto == "https")
                .map(|host| format!("{proto}://{host}"))
        }
    };
    let mut out = ObjectBuilder::new().put("description", description);
    // An operator's value with a quote, a backslash or a control character can't be quoted either.
    let quotable = |s: &str| {
        !s.bytes()
            .any(|b| b == b'"' || b == b'\\' || b < 0x20 || b == 0x7f)
    };
    if let Some(origin) = origin.filter(|o| !o.is_empty() && quotable(o) && quotable(path)) {
        let mut challenge = format!("Bearer resource_metadata=\"{origin}{path}\"");
        if error {
            challenge.push_str(", error=\"invalid_request\"");
        }
        out = out.put("challenge", challenge);
    }
    out.build()
}

/// The official `SAFE_HOST_RE`: `[IPv6]` or letters, digits, `.`, `_`, `-`,
/// then an optional `:` and 1 to 5 digits.
fn safe_host(host: &str) -> bool {
    let (name_ok, port) = match host.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, rest)) => (
                !addr.is_empty() && addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':'),
                (!rest.is_empty()).then_some(rest.strip_prefix(':')),
            ),
            None => return false,
        },
        None => {
            let (name, port) = host
                .split_once(':')
                .map_or((host, None), |(n, p)| (n, Some(p)));
            let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
            (!name.is_empty() && name.bytes().all(ok), port.map(Some))
        }
    };
    // None: no port; Some(None): something after the address that is not `:<port>`.
    let port_ok = match port {
        None => true,
        Some(Some(p)) => (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()),
        Some(None) => false,
    };
    name_ok && port_ok
}

/// The OAuth discovery document served at `path` for the MCP server at
/// `base_url` (its origin, or the URL it is mounted at): where MCP clients
/// learn who authorizes them. `issuer`: the environment's web app; `backend`:
/// its API (the token endpoint, the JWKS, the authorization server).
/// `options`: `{tools?, scopes?, protocolVersion?, protocolVersions?}`.
/// `None` for any other path. The documents are the builders' for the same
/// server, without a registration endpoint (none is served here).
pub fn discovery_document(
    path: &str,
    base_url: &str,
    issuer: &str,
    backend: &str,
    options: &Value,
) -> Result<Option<Value>> {
    const WHAT: &str = "mcp.discovery options";
    let Some(document) = Document::at(path) else {
        return Ok(None);
    };
    let empty = Object::new();
    let server = Server {
        base_url,
        urls: &OAuthUrls::new(issuer, backend),
        options: json::opt_object(Some(options), WHAT)?.unwrap_or(&empty),
        registration: false,
        what: WHAT,
    };
    server.document(document, &Value::Null).map(Some)
}

/// OpenID Connect scopes always include `openid` (first when added), as the official SDK's.
fn with_openid(scopes: Value) -> Value {
    let items = json::items(Some(&scopes));
    if items.iter().any(|s| s.as_str() == Some("openid")) {
        return scopes;
    }
    let mut all = Vec::with_capacity(items.len() + 1);
    all.push(Value::from("openid"));
    all.extend_from_slice(items);
    Value::Array(all)
}

fn strings(items: &[&str]) -> Value {
    items.iter().map(|s| Value::from(*s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    const PRM: &str = "/.well-known/oauth-protected-resource";

    fn challenge(request: Value, options: Value) -> Option<String> {
        require_auth(&request, &options)
            .get("challenge")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    #[test]
    fn require_auth_passes_any_bearer_token_and_says_why_otherwise() {
        let none = json!({});
        for ok in [
            "Bearer token-ABC",
            "Bearer   spaced",
            "Bearer invalid-but-present",
        ] {
            assert_eq!(
                require_auth(&json!({"authorization": ok}), &none),
                Value::Null,
                "{ok}"
            );
        }
        let long = format!("Bearer {}", "a".repeat(1000));
        assert_eq!(
            require_auth(&json!({"authorization": long}), &none),
            Value::Null
        );
        for (auth, why) in [
            (None, "Authorization header required"),
            (Some(""), "Authorization header required"),
            (Some("bearer token-xyz"), "Bearer token required"),
            (Some("Basic x"), "Bearer token required"),
            (Some("Bearer "), "Bearer token cannot be empty"),
            (Some("Bearer    "), "Bearer token cannot be empty"),
        ] {
            let request = json!({"authorization": auth, "host": "mcp.example.com"});
            assert_eq!(
                require_auth(&request, &none)["description"],
                json!(why),
                "{auth:?}"
            );
        }
    }

    #[test]
    fn the_challenge_points_at_the_metadata_only_where_it_can_be_trusted_to_be_quoted() {
        let none = json!({});
        let url = |origin: &str| format!("Bearer resource_metadata=\"{origin}{PRM}\"");
        // The host and protocol; forwarded ones first; a pinned baseUrl over all.
        assert_eq!(
            challenge(
                json!({"host": "mcp.example.com", "protocol": "https"}),
                none.clone()
            ),
            Some(url("https://mcp.example.com"))
        );
        assert_eq!(
            challenge(
                json!({"host": "internal:8080", "protocol": "http", "forwardedHost": "mcp.public.example", "forwardedProto": "https, http"}),
                none.clone()
            ),
            Some(url("https://mcp.public.example"))
        );
        assert_eq!(
            challenge(
                json!({"host": "evil.example", "protocol": "http"}),
                json!({"baseUrl": "https://mcp.pinned.example/"})
            ),
            Some(url("https://mcp.pinned.example"))
        );
        assert_eq!(
            challenge(json!({"host": "[::1]:8787"}), none.clone()),
            Some(url("https://[::1]:8787"))
        );
        assert_eq!(
            challenge(json!({"host": "mcp.example.com", "protocol": "https"}), json!({"resourceMetadataPath": "/.well-known/oauth-protected-resource/mcp"})),
            Some("Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\"".into())
        );
        // A sent but malformed credential adds the RFC 6750 error; none sent, no error.
        assert_eq!(
            challenge(
                json!({"authorization": "Basic x", "host": "a.example"}),
                none.clone()
            ),
            Some(format!(
                "{}, error=\"invalid_request\"",
                url("https://a.example")
            ))
        );
        // Nothing to build from, or nothing safe to quote: no challenge (still a 401).
        for request in [
            json!({"host": "evil.example\"; foo=\"bar"}),
            json!({"host": ""}),
            json!({}),
            json!({"host": "a.example:123456"}),
            json!({"host": "a.example:"}),
            json!({"host": "a.example:80:90"}),
            json!({"host": "[::1"}),
            json!({"host": "[::1]x"}),
            json!({"host": "a b.example"}),
            json!({"host": "a.example", "protocol": "ftp"}),
            json!({"host": "a.example", "forwardedProto": "javascript"}),
        ] {
            assert_eq!(challenge(request.clone(), none.clone()), None, "{request}");
            assert!(require_auth(&request, &none)["description"].is_string());
        }
        assert_eq!(
            challenge(json!({}), json!({"baseUrl": "https://x.example\", a=\"b"})),
            None
        );
    }

    fn discovered(path: &str, options: Value) -> Option<Value> {
        discovery_document(
            path,
            "https://mcp.example/",
            "https://nevermined.app",
            "https://api.sandbox.nevermined.app/",
            &options,
        )
        .unwrap()
    }

    #[test]
    fn discovery_serves_the_builders_documents_without_a_registration_endpoint() {
        let config = json!({"baseUrl": "https://mcp.example", "environment": "sandbox", "tools": ["echo"], "scopes": ["credits"]});
        let options = json!({"tools": ["echo"], "scopes": ["credits"]});
        for (path, builder) in [
            (
                "/.well-known/oauth-protected-resource",
                "buildProtectedResourceMetadata",
            ),
            (
                "/.well-known/oauth-protected-resource/mcp/",
                "buildMcpProtectedResourceMetadata",
            ),
            (
                "/.well-known/oauth-authorization-server",
                "buildAuthorizationServerMetadata",
            ),
            (
                "/.well-known/openid-configuration",
                "buildOidcConfiguration",
            ),
        ] {
            let mut built = build(builder, &config, &Value::Null).unwrap();
            let registration = built
                .as_object_mut()
                .unwrap()
                .remove("registration_endpoint");
            let is_as = path.ends_with("server") || path.ends_with("configuration");
            assert_eq!(registration.is_some(), is_as, "{builder}");
            assert_eq!(discovered(path, options.clone()), Some(built), "{path}");
        }
        assert_eq!(discovered("/mcp", Value::Null), None);
        assert_eq!(discovered("/.well-known/other", Value::Null), None);
        assert_eq!(
            discovered("/", Value::Null),
            None,
            "the server info is not served"
        );
    }

    #[test]
    fn discovery_names_the_backend_as_authorization_server_and_keeps_custom_scopes() {
        let prm = discovered("/.well-known/oauth-protected-resource", Value::Null).unwrap();
        assert_eq!(prm["resource"], json!("https://mcp.example"));
        assert_eq!(
            prm["authorization_servers"],
            json!(["https://api.sandbox.nevermined.app"])
        );
        assert_eq!(prm["scopes_supported"][2], json!("credits"));
        let asm = discovered(
            "/.well-known/oauth-authorization-server",
            json!({"scopes": ["credits"]}),
        )
        .unwrap();
        assert_eq!(asm["issuer"], json!("https://nevermined.app"));
        assert_eq!(
            asm["token_endpoint"],
            json!("https://api.sandbox.nevermined.app/oauth/token")
        );
        assert_eq!(asm["scopes_supported"], json!(["credits"]));
        assert_eq!(asm.get("registration_endpoint"), None);
        // OpenID Connect: `openid` is always among the scopes (added first, never twice).
        let oidc_scopes = |scopes: Value| {
            discovered(
                "/.well-known/openid-configuration",
                json!({"scopes": scopes}),
            )
            .unwrap()["scopes_supported"]
                .clone()
        };
        assert_eq!(
            oidc_scopes(json!(["credits", "mcp:tools"])),
            json!(["openid", "credits", "mcp:tools"])
        );
        assert_eq!(
            oidc_scopes(json!(["credits", "openid"])),
            json!(["credits", "openid"])
        );
        assert!(discovery_document(
            "/.well-known/oauth-protected-resource",
            "https://mcp.example",
            "https://nevermined.app",
            "https://api.sandbox.nevermined.app",
            &json!({"scopes": "credits"}),
        )
        .is_err());
    }

    #[test]
    fn protocol_versions_are_the_paywalls_unless_given() {
        let caps = |options: Value| {
            discovered("/.well-known/oauth-protected-resource/mcp", options).unwrap()
                ["mcp_capabilities"]
                .clone()
        };
        assert_eq!(
            caps(json!({"tools": ["echo"]})),
            json!({"tools": ["echo"], "protocol_version": "2025-11-25", "protocol_versions": ["2026-07-28", "2025-11-25"]})
        );
        assert_eq!(
            caps(json!({"protocolVersion": "2025-06-18", "protocolVersions": ["2025-06-18"]})),
            json!({"tools": [], "protocol_version": "2025-06-18", "protocol_versions": ["2025-06-18"]})
        );
        // With the revisions the server speaks: protocol_version is one negotiated with initialize.
        assert_eq!(
            caps(json!({"protocolVersions": ["2026-07-28", "2025-11-25"]})),
            json!({"tools": [], "protocol_version": "2025-11-25", "protocol_versions": ["2026-07-28", "2025-11-25"]})
        );
        assert_eq!(
            caps(json!({"protocolVersions": ["2026-07-28"]}))["protocol_version"],
            json!("2025-11-25")
        );
    }

    #[test]
    fn oauth_urls_of_each_environment_and_overrides() {
        let urls = |env: Value, overrides: Value| OAuthUrls::of_environment(&env, &overrides);
        let local = urls(json!("local"), Value::Null).unwrap();
        assert_eq!(
            local.to_json(),
            json!({"issuer": "http://127.0.0.1:3001", "authorizationUri": "http://127.0.0.1:3001/oauth/authorize",
                   "tokenUri": "http://127.0.0.1:3001/oauth/token", "jwksUri": "http://127.0.0.1:3001/.well-known/jwks.json",
                   "userinfoUri": "http://127.0.0.1:3001/oauth/userinfo"})
        );
        // An unknown or missing environment is sandbox, as the official's.
        let sandbox = urls(json!("sandbox"), Value::Null).unwrap();
        assert_eq!(urls(json!("nope"), Value::Null).unwrap(), sandbox);
        assert_eq!(urls(Value::Null, Value::Null).unwrap(), sandbox);
        // custom has no URLs: each must be given.
        let missing = urls(
            json!("custom"),
            json!({"tokenUri": "https://api.example/oauth/token"}),
        );
        assert_eq!(missing.unwrap_err().code(), "validation");
        let given = json!({"issuer": "https://app.example", "authorizationUri": "https://app.example/a",
                           "tokenUri": "https://api.example:8443/t", "jwksUri": "https://api.example/j", "userinfoUri": "https://api.example/u"});
        let custom = urls(json!("custom"), given.clone()).unwrap();
        assert_eq!(custom.to_json(), given);
        assert_eq!(custom.authorization_server, "https://api.example:8443");
        // A token endpoint that is no URL: the environment's authorization server.
        let odd = urls(json!("live"), json!({"tokenUri": "not a url"})).unwrap();
        assert_eq!(odd.authorization_server, "https://api.live.nevermined.app");
        assert!(urls(json!("live"), json!({"tokenUri": 5})).is_err());
        assert!(urls(json!("live"), json!("https://x.example")).is_err());
    }

    #[test]
    fn builders_check_their_config() {
        assert!(build("buildNothing", &Value::Null, &Value::Null).is_err());
        let err = |config: Value| {
            build("buildOidcConfiguration", &config, &Value::Null)
                .unwrap_err()
                .to_string()
        };
        assert!(err(Value::Null).contains("must be an object"));
        assert!(err(json!({"environment": "live"})).contains("baseUrl"));
        let info = |config: Value| build("buildServerInfoResponse", &config, &Value::Null);
        assert!(
            info(json!({"baseUrl": "https://a.example", "tools": "echo"}))
                .unwrap_err()
                .to_string()
                .contains("tools")
        );
        assert!(build(
            "buildServerInfoResponse",
            &json!({"baseUrl": "https://a.example"}),
            &json!(1)
        )
        .is_err());
    }
}
