//! Environments (sandbox, live, staging, local, custom), their backend URLs and
//! default networks, and how a client's configuration is derived from its
//! options and API key. No global state: everything comes from the options.

use super::api_key::ApiKey;
use super::json;
use super::redact::quote_input;
use super::url::Url;
use crate::error::{Error, Result};
use std::cell::RefCell;

/// A Nevermined environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// `https://api.sandbox.nevermined.app/` (testnet, Base Sepolia).
    Sandbox,
    /// `https://api.live.nevermined.app/` (mainnet, Base).
    Live,
    /// `https://api.sandbox.nevermined.dev/`.
    StagingSandbox,
    /// `https://api.live.nevermined.dev/`.
    StagingLive,
    /// The local backend, nvm-local: `http://127.0.0.1:3001/`.
    Local,
    /// Any other backend; its URL must be given.
    Custom,
}

/// Network of `nvm:erc4337` on testnets.
pub const NETWORK_BASE_SEPOLIA: &str = "eip155:84532";
/// Network of `nvm:erc4337` on mainnet.
pub const NETWORK_BASE: &str = "eip155:8453";

impl Environment {
    /// Every environment, in documentation order.
    pub const ALL: [Environment; 6] = [
        Self::Sandbox,
        Self::Live,
        Self::StagingSandbox,
        Self::StagingLive,
        Self::Local,
        Self::Custom,
    ];

    /// The environment an API key prefix selects (case-insensitive); `None` for an unknown prefix.
    ///
    /// ```
    /// use nvm_x402::protocol::Environment;
    /// assert_eq!(Environment::from_key_prefix("Sandbox-Staging"), Some(Environment::StagingSandbox));
    /// assert_eq!(Environment::from_key_prefix("nvm"), None);
    /// ```
    pub fn from_key_prefix(prefix: &str) -> Option<Self> {
        Some(match prefix.to_ascii_lowercase().as_str() {
            "sandbox" => Self::Sandbox,
            "live" => Self::Live,
            "sandbox-staging" => Self::StagingSandbox,
            "live-staging" => Self::StagingLive,
            "local" => Self::Local,
            _ => return None,
        })
    }

    /// Parses an `environment` option: the official names (`staging_sandbox`, ...)
    /// and the key prefixes (`sandbox-staging`, ...) are both accepted.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "staging_sandbox" => Some(Self::StagingSandbox),
            "staging_live" => Some(Self::StagingLive),
            "custom" => Some(Self::Custom),
            other => Self::from_key_prefix(other),
        }
    }

    /// The official name (`sandbox`, `live`, `staging_sandbox`, `staging_live`, `local`, `custom`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sandbox => "sandbox",
            Self::Live => "live",
            Self::StagingSandbox => "staging_sandbox",
            Self::StagingLive => "staging_live",
            Self::Local => "local",
            Self::Custom => "custom",
        }
    }

    /// The backend base URL (ending in `/`); `None` for `custom`.
    pub fn backend_url(self) -> Option<&'static str> {
        Some(match self {
            Self::Sandbox => "https://api.sandbox.nevermined.app/",
            Self::Live => "https://api.live.nevermined.app/",
            Self::StagingSandbox => "https://api.sandbox.nevermined.dev/",
            Self::StagingLive => "https://api.live.nevermined.dev/",
            Self::Local => "http://127.0.0.1:3001/",
            Self::Custom => return None,
        })
    }

    /// The web app (the OAuth issuer and authorization page) of a hosted
    /// environment, as the official SDK's `Environments[...].frontend`; the
    /// backend itself for `local` and `custom`.
    pub fn frontend_url(self) -> Option<&'static str> {
        Some(match self {
            Self::Sandbox | Self::Live => "https://nevermined.app",
            Self::StagingSandbox | Self::StagingLive => "https://nevermined.dev",
            Self::Local | Self::Custom => return None,
        })
    }

    /// The embed app (card setup) of a hosted environment, as the official
    /// SDK's `Environments[...].embed`; `None` for `local` (nvm-local's own
    /// origin) and `custom`.
    pub fn embed_url(self) -> Option<&'static str> {
        Some(match self {
            Self::Sandbox | Self::Live => "https://embed.nevermined.app",
            Self::StagingSandbox | Self::StagingLive => "https://embed.nevermined.dev",
            Self::Local | Self::Custom => return None,
        })
    }

    /// The default network of a scheme in this environment.
    ///
    /// ```
    /// use nvm_x402::protocol::Environment;
    /// assert_eq!(Environment::Live.default_network("nvm:erc4337"), "eip155:8453");
    /// assert_eq!(Environment::Local.default_network("nvm:card-delegation"), "stripe");
    /// ```
    pub fn default_network(self, scheme: &str) -> &'static str {
        if scheme == super::SCHEME_CARD_DELEGATION {
            return "stripe";
        }
        match self {
            Self::Live | Self::StagingLive => NETWORK_BASE,
            _ => NETWORK_BASE_SEPOLIA,
        }
    }
}

/// The options of `Payments.getInstance` that the core reads (JS names).
/// Unknown options (such as the official SDK's `appId`) are ignored.
#[derive(Debug, Clone, Default)]
pub struct PaymentsOptions {
    /// `nvmApiKey`: `<prefix>:<JWT>`.
    pub nvm_api_key: Option<String>,
    /// `environment`: used when the key's prefix is not a known environment.
    pub environment: Option<String>,
    /// `backendUrl`: overrides the environment's backend URL (required for `custom`).
    pub backend_url: Option<String>,
    /// `organizationId`: sent as `X-Current-Org-Id`.
    pub organization_id: Option<String>,
    /// `timeoutMs`: per-request time limit for backend calls (default 30 000 ms).
    pub timeout_ms: Option<u64>,
    /// `version`: the backend API version (`MAJOR.MINOR`) sent as
    /// `Nevermined-Version` (default [`LOCKED_API_VERSION`]).
    pub version: Option<String>,
    /// `scheme`: only `nvm` (the official SDK's migration error for `visa`).
    pub scheme: Option<String>,
    /// `isBrowserInstance` (set by `getBrowserInstance`): without a key the
    /// client is made signed out (every call `not_logged_in`) instead of failing.
    #[cfg(feature = "browser")]
    pub browser: bool,
}

impl PaymentsOptions {
    /// Reads the options object (`null` is "no options").
    pub fn from_json(v: &crate::protocol::json::Value) -> Result<Self> {
        const WHAT: &str = "options";
        let Some(o) = json::opt_object(Some(v), WHAT)? else {
            return Ok(PaymentsOptions::default());
        };
        let text = |key: &str| json::opt_str(o, key, WHAT).map(|s| s.map(str::to_owned));
        Ok(PaymentsOptions {
            nvm_api_key: text("nvmApiKey")?,
            environment: text("environment")?,
            backend_url: text("backendUrl")?,
            organization_id: json::opt_id(o, "organizationId", WHAT)?,
            timeout_ms: crate::protocol::uint::opt_count(o, "timeoutMs", WHAT)?,
            version: text("version")?,
            scheme: text("scheme")?,
            #[cfg(feature = "browser")]
            browser: json::opt_bool(o, "isBrowserInstance", WHAT)?.unwrap_or(false),
        })
    }
}

/// Default time limit of one backend call.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// The backend API version (`MAJOR.MINOR`) this package is built and tested
/// against, sent on every backend call as `Nevermined-Version` unless the
/// `version` option pins another (the official SDK's `LOCKED_API_VERSION`).
pub const LOCKED_API_VERSION: &str = "1.1";

/// Whether `v` is a backend API version as the official SDK accepts it: `MAJOR.MINOR`, digits only.
fn is_api_version(v: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    v.split_once('.')
        .is_some_and(|(major, minor)| digits(major) && digits(minor))
}

/// The warning the official SDK logs (once per process) when `environment` is
/// passed: the key's prefix now says which environment a key is for.
pub fn environment_deprecation(options: &PaymentsOptions, cfg: &ClientConfig) -> Option<String> {
    // A browser instance names its environment before any key can.
    #[cfg(feature = "browser")]
    if options.browser {
        return None;
    }
    options.environment.as_deref().filter(|e| !e.is_empty())?;
    let mut out = String::from("[DEPRECATED] The 'environment' option is deprecated; the environment is now derived from the NVM API key prefix.");
    let from_key = cfg.api_key.prefix().and_then(Environment::from_key_prefix);
    if let Some(env) = from_key.filter(|env| {
        options
            .environment
            .as_deref()
            .and_then(Environment::from_name)
            != Some(*env)
    }) {
        out.push_str(" It is ignored in favor of the environment derived from the API key ('");
        out.push_str(env.name());
        out.push_str("').");
    }
    out.push_str(" Remove the 'environment' option to silence this warning.");
    Some(out)
}

/// A client's resolved configuration.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The API key (its `Debug` is redacted).
    pub api_key: ApiKey,
    /// The environment.
    pub environment: Environment,
    /// The backend base URL, ending in `/`.
    pub backend_url: String,
    /// `X-Current-Org-Id`, if pinned (`setOrganizationId` changes it).
    pub organization_id: RefCell<Option<String>>,
    /// Time limit of one backend call.
    pub timeout_ms: u64,
    /// `Nevermined-Version`: the `version` option or [`LOCKED_API_VERSION`].
    pub version: String,
}

impl ClientConfig {
    /// Resolves options: a recognised key prefix wins over `environment`; then
    /// `environment`; then `custom`. `backendUrl` overrides the URL.
    ///
    /// ```
    /// use nvm_x402::protocol::{ClientConfig, Environment, PaymentsOptions};
    /// let key = "sandbox:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln";
    /// let cfg = ClientConfig::from_options(&PaymentsOptions { nvm_api_key: Some(key.into()), environment: Some("live".into()), ..Default::default() }).unwrap();
    /// assert_eq!(cfg.environment, Environment::Sandbox);
    /// assert_eq!(cfg.backend_url, "https://api.sandbox.nevermined.app/");
    /// ```
    pub fn from_options(options: &PaymentsOptions) -> Result<Self> {
        // The official SDK's checks, with its messages (a user may match on them).
        if let Some(scheme) = options
            .scheme
            .as_deref()
            .filter(|s| !s.is_empty() && *s != "nvm")
        {
            return Err(Error::validation(format!("scheme {} is no longer supported. Visa is now exposed as provider:'visa' on createDelegation; construct Payments without a scheme override.", quote_input(scheme))));
        }
        if let Some(version) = options.version.as_deref().filter(|v| !is_api_version(v)) {
            return Err(Error::validation(format!("Invalid 'version' option {}: expected a backend API version as MAJOR.MINOR (e.g. '1.1'). Omit it to use the SDK's default pin.", quote_input(version))));
        }
        let raw = options.nvm_api_key.as_deref().map(str::trim).unwrap_or("");
        let api_key = match raw {
            #[cfg(feature = "browser")]
            "" if options.browser => ApiKey::none(),
            "" => return Err(Error::validation("Nevermined API Key is required")),
            raw => ApiKey::parse(raw)?,
        };
        // A recognised key prefix wins; the option is only read (and checked) when it doesn't.
        let environment = match api_key.prefix().and_then(Environment::from_key_prefix) {
            Some(env) => env,
            None => match options.environment.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
                None => Environment::Custom,
                Some(name) => Environment::from_name(name).ok_or_else(|| {
                    Error::validation(format!(
                        "Unknown environment {}; expected one of sandbox, live, staging_sandbox, staging_live, local, custom",
                        quote_input(name)
                    ))
                })?,
            },
        };
        let base = match options.backend_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => url.to_owned(),
            None => environment
                .backend_url()
                .ok_or_else(|| Error::validation("backendUrl is required for the custom environment (for the local backend use a local: key or backendUrl: \"http://127.0.0.1:3001\")"))?
                .to_owned(),
        };
        let not_http = || {
            Error::validation(format!(
                "backendUrl {} is not an absolute http(s) URL",
                quote_input(&base)
            ))
        };
        // Read as fetch reads it (WHATWG), and stored in that form: what was checked is what is called.
        let parsed = Url::parse(&base)
            .filter(|u| u.scheme == "http" || u.scheme == "https")
            .ok_or_else(not_http)?;
        if parsed.has_credentials || parsed.query.is_some() || parsed.has_fragment {
            return Err(Error::validation(format!(
                "backendUrl {} must not carry a user name, password, query or fragment",
                quote_input(&base)
            )));
        }
        if parsed.scheme == "http" && !parsed.host.is_loopback() {
            return Err(Error::InsecureTransport(format!(
                "Refusing to send the API key over plain http to {}; use https",
                parsed.host.serialize()
            )));
        }
        let mut backend_url = parsed.origin();
        backend_url.push_str(&parsed.path.replace('\\', "/"));
        if !backend_url.ends_with('/') {
            backend_url.push('/');
        }
        Ok(ClientConfig {
            api_key,
            environment,
            backend_url,
            organization_id: RefCell::new(
                options
                    .organization_id
                    .clone()
                    .filter(|o| !o.trim().is_empty()),
            ),
            timeout_ms: options
                .timeout_ms
                .filter(|t| *t > 0)
                .unwrap_or(DEFAULT_TIMEOUT_MS),
            version: options
                .version
                .clone()
                .unwrap_or_else(|| LOCKED_API_VERSION.to_owned()),
        })
    }

    /// The default network for a scheme in this client's environment.
    pub fn default_network(&self, scheme: &str) -> &'static str {
        self.environment.default_network(scheme)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(prefix: &str) -> String {
        // {"sub":"0xabc","o11y":"x"}
        format!("{prefix}:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyIsIm8xMXkiOiJ4In0.c2ln")
    }

    fn cfg(key: &str, env: Option<&str>, url: Option<&str>) -> Result<ClientConfig> {
        ClientConfig::from_options(&PaymentsOptions {
            nvm_api_key: Some(key.into()),
            environment: env.map(Into::into),
            backend_url: url.map(Into::into),
            ..Default::default()
        })
    }

    #[test]
    fn prefix_picks_the_environment_case_insensitively() {
        for env in Environment::ALL {
            let prefix = match env {
                Environment::StagingSandbox => "SANDBOX-staging",
                Environment::StagingLive => "Live-Staging",
                Environment::Custom => continue,
                e => e.name(),
            };
            let c = cfg(&key(prefix), Some("live"), None).unwrap();
            assert_eq!(c.environment, env);
            assert_eq!(c.backend_url, env.backend_url().unwrap());
        }
    }

    #[test]
    fn unknown_prefix_falls_back_to_the_option_then_custom() {
        assert_eq!(
            cfg(&key("nvm"), Some("staging_live"), None)
                .unwrap()
                .environment,
            Environment::StagingLive
        );
        let err = cfg(&key("nvm"), None, None).unwrap_err();
        assert!(err.to_string().contains("backendUrl is required"), "{err}");
        let c = cfg(&key("nvm"), None, Some("http://127.0.0.1:4000")).unwrap();
        assert_eq!(
            (c.environment, c.backend_url.as_str()),
            (Environment::Custom, "http://127.0.0.1:4000/")
        );
        assert!(cfg(&key("nvm"), Some("mars"), None)
            .unwrap_err()
            .to_string()
            .contains("Unknown environment \"mars\""));
        // A recognised prefix wins, so a bad option is not even read.
        assert_eq!(
            cfg(&key("sandbox"), Some("mars"), None)
                .unwrap()
                .environment,
            Environment::Sandbox
        );
        // A key pasted into the wrong option is not echoed whole.
        for err in [
            cfg(&key("nvm"), Some(&key("sandbox")), None).unwrap_err(),
            cfg(&key("nvm"), None, Some(&key("sandbox"))).unwrap_err(),
        ] {
            assert!(
                !err.to_string()
                    .contains("eyJzdWIiOiIweGFiYyIsIm8xMXkiOiJ4In0"),
                "{err}"
            );
        }
    }

    #[test]
    fn backend_url_overrides_and_must_be_safe_for_the_key() {
        let c = cfg(&key("local"), None, Some("http://127.0.0.1:49152")).unwrap();
        assert_eq!(
            (c.environment, c.backend_url.as_str()),
            (Environment::Local, "http://127.0.0.1:49152/")
        );
        assert_eq!(
            cfg(&key("sandbox"), None, Some("http://backend.example"))
                .unwrap_err()
                .code(),
            "insecure_transport"
        );
        assert_eq!(
            cfg(&key("sandbox"), None, Some("not a url"))
                .unwrap_err()
                .code(),
            "validation"
        );
        assert_eq!(
            cfg(&key("sandbox"), None, Some("ftp://127.0.0.1/"))
                .unwrap_err()
                .code(),
            "validation"
        );
    }

    #[test]
    fn backend_url_is_read_as_fetch_reads_it_and_stored_that_way() {
        // Audit #9.5: fetch sends this to evil.example, whatever comes after the backslash.
        for tricky in [
            "http://evil.example\\@127.0.0.1/",
            "http://evil.example\\@127.0.0.1:3001/",
            "http://127.0.0.1.evil.example/",
            "http://localhost./",
            "http://app.localhost/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert_eq!(
                cfg(&key("local"), None, Some(tricky)).unwrap_err().code(),
                "insecure_transport",
                "{tricky}"
            );
        }
        for (given, stored) in [
            ("http://LOCALHOST:3001", "http://localhost:3001/"),
            ("http://127.1:3001/base", "http://127.0.0.1:3001/base/"),
            ("http://0x7f.1:80", "http://127.0.0.1/"),
            ("\thttp://[0::1]:3001/", "http://[::1]:3001/"),
            ("HTTPS://API.Example:443/v\\x/", "https://api.example/v/x/"),
            ("http:/127.0.0.1:9", "http://127.0.0.1:9/"),
        ] {
            assert_eq!(
                cfg(&key("local"), None, Some(given)).unwrap().backend_url,
                stored,
                "{given}"
            );
        }
        for refused in [
            "http://user:pw@127.0.0.1/",
            "http://u@localhost:3001/",
            "http://127.0.0.1:3001/?x=1",
            "http://127.0.0.1:3001/#x",
            "http://127.0.0.1:99999/",
            "http://bücher.example/",
        ] {
            assert_eq!(
                cfg(&key("local"), None, Some(refused)).unwrap_err().code(),
                "validation",
                "{refused}"
            );
        }
    }

    #[test]
    fn missing_and_undecodable_keys_give_the_spec_messages() {
        let missing = ClientConfig::from_options(&PaymentsOptions::default()).unwrap_err();
        assert_eq!(missing.to_string(), "Nevermined API Key is required");
        assert_eq!(
            cfg("  ", None, None).unwrap_err().to_string(),
            "Nevermined API Key is required"
        );
        for bad in [
            "sandbox:not-a-jwt",
            "sandbox:a.b.c",
            "sandbox:",
            "sandbox:eyJhbGciOiJIUzI1NiJ9.WzFd.c2ln",
        ] {
            assert_eq!(
                cfg(bad, None, None).unwrap_err().to_string(),
                "Invalid NVM API Key",
                "{bad}"
            );
        }
    }

    #[test]
    fn options_are_read_from_json() {
        let o = PaymentsOptions::from_json(&crate::json!({"nvmApiKey": "k", "timeoutMs": 500, "organizationId": 7, "appId": "ignored"})).unwrap();
        assert_eq!(
            (
                o.nvm_api_key.as_deref(),
                o.timeout_ms,
                o.organization_id.as_deref()
            ),
            (Some("k"), Some(500), Some("7"))
        );
        assert!(PaymentsOptions::from_json(&crate::json!({"nvmApiKey": 5}))
            .unwrap_err()
            .to_string()
            .contains("nvmApiKey"));
        assert!(
            PaymentsOptions::from_json(&crate::protocol::json::Value::Null)
                .unwrap()
                .nvm_api_key
                .is_none()
        );
    }

    #[test]
    fn networks_follow_the_environment() {
        assert_eq!(
            Environment::Sandbox.default_network("nvm:erc4337"),
            NETWORK_BASE_SEPOLIA
        );
        assert_eq!(
            Environment::StagingLive.default_network("nvm:erc4337"),
            NETWORK_BASE
        );
        assert_eq!(
            Environment::Live.default_network("nvm:card-delegation"),
            "stripe"
        );
    }
}
