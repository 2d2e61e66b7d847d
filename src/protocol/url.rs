//! The little URL handling x402 needs, without a URL crate (size matters in
//! the .wasm): split an absolute URL, tell https/loopback from plain http,
//! and normalise a request path so `//tasks`, `/tasks/` and `/%74asks` are all
//! `/tasks` for route matching.

/// The parts of an absolute `scheme://authority/path?query#fragment` URL we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// Lower-cased scheme, without `:`.
    pub scheme: String,
    /// Host without brackets, port or userinfo, lower-cased.
    pub host: String,
    /// The port, if written.
    pub port: Option<&'a str>,
    /// The path (`/` when empty), still percent-encoded.
    pub path: &'a str,
    /// The query without `?`, if any.
    pub query: Option<&'a str>,
}

/// Splits an absolute URL; `None` for a relative or unparsable one.
///
/// ```
/// let u = nvm_x402::protocol::url::split("https://user@Example.com:8443/a/b?x=1#f").unwrap();
/// assert_eq!((u.scheme.as_str(), u.host.as_str(), u.port, u.path, u.query), ("https", "example.com", Some("8443"), "/a/b", Some("x=1")));
/// ```
pub fn split(url: &str) -> Option<UrlParts<'_>> {
    // split_once(':') then "//", not split_once("://"): a string needle
    // brings core's two-way substring searcher into the WebAssembly.
    let (scheme, rest) = url.split_once(':')?;
    let rest = rest.strip_prefix("//")?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
    {
        return None;
    }
    let rest = rest.split('#').next().unwrap_or("");
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    // split_at_checked, not [..]: auth_end is a char boundary (from find),
    // and str slicing would keep core's slice-panic formatting in the .wasm.
    let (authority, after) = rest.split_at_checked(auth_end).unwrap_or((rest, ""));
    let (path, query) = match after.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (after, None),
    };
    // Byte searches from the end instead of rsplit/rsplit_once (which bring a
    // reverse char searcher into the .wasm); '@' and ':' are ASCII.
    let last = |s: &str, b: u8| s.bytes().rposition(|x| x == b);
    let host_port = match last(authority, b'@') {
        Some(i) => authority.get(i + 1..).unwrap_or(""),
        None => authority,
    };
    let (host, port) = if let Some(stripped) = host_port.strip_prefix('[') {
        let (h, tail) = stripped.split_once(']')?;
        (h, tail.strip_prefix(':'))
    } else {
        match last(host_port, b':') {
            Some(i) => (host_port.get(..i).unwrap_or(""), host_port.get(i + 1..)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    Some(UrlParts {
        scheme: scheme.to_ascii_lowercase(),
        host: host.to_ascii_lowercase(),
        port: port.filter(|p| !p.is_empty()),
        path: if path.is_empty() { "/" } else { path },
        query,
    })
}

/// Whether a host name is the local machine: `localhost` (and `*.localhost`),
/// `127.0.0.0/8`, or `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if host == "localhost"
        || host.ends_with(".localhost")
        || host == "::1"
        || host == "0:0:0:0:0:0:0:1"
    {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets[0] == "127"
        && octets
            .iter()
            .all(|o| !o.is_empty() && o.len() <= 3 && o.parse::<u8>().is_ok())
}

/// Whether a secret (token, API key) may be sent to this URL: `https:`, or
/// `http:` to a loopback host.
///
/// ```
/// use nvm_x402::protocol::url::may_carry_secrets;
/// assert!(may_carry_secrets("https://agent.example/tasks"));
/// assert!(may_carry_secrets("http://127.0.0.1:8787/tasks"));
/// assert!(!may_carry_secrets("http://agent.example/tasks"));
/// ```
pub fn may_carry_secrets(url: &str) -> bool {
    match split(url) {
        Some(u) if u.scheme == "https" || u.scheme == "wss" => true,
        Some(u) if u.scheme == "http" || u.scheme == "ws" => is_loopback_host(&u.host),
        _ => false,
    }
}

/// Normalises a request path for route matching: percent-decodes every
/// escape (an encoded `/` included), reads `\` as `/`, resolves `.` and `..`,
/// collapses repeated `/` and drops a trailing `/`. It never fails: a path is
/// matched in the most decoded form an application could see, so an encoding
/// trick can make the gate protect more, never less.
///
/// ```
/// use nvm_x402::protocol::url::normalize_path;
/// assert_eq!(normalize_path("//tasks/"), "/tasks");
/// assert_eq!(normalize_path("/%74asks"), "/tasks");
/// assert_eq!(normalize_path("/a/./b/../tasks"), "/a/tasks");
/// assert_eq!(normalize_path("/%2Ftasks"), "/tasks");
/// ```
pub fn normalize_path(path: &str) -> String {
    let decoded = percent_decode_lossy(path).replace('\\', "/");
    let mut segments: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    if segments.is_empty() {
        return "/".to_owned();
    }
    let mut out = String::with_capacity(decoded.len() + 1);
    for seg in &segments {
        out.push('/');
        out.push_str(seg);
    }
    out
}

/// Decodes every valid `%XX` escape; malformed escapes stay as written and
/// invalid UTF-8 becomes U+FFFD.
fn percent_decode_lossy(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Joins a relative API path onto a base URL that ends with `/`.
///
/// ```
/// assert_eq!(nvm_x402::protocol::url::join("http://127.0.0.1:3001/", "api/v1/x402/verify"), "http://127.0.0.1:3001/api/v1/x402/verify");
/// ```
pub fn join(base: &str, path: &str) -> String {
    let mut out = String::with_capacity(base.len() + path.len());
    out.push_str(base.trim_end_matches('/'));
    out.push('/');
    out.push_str(path.trim_start_matches('/'));
    out
}

/// Percent-encodes one path segment (an id put into a URL path).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(
                char::from_digit(u32::from(b >> 4), 16)
                    .unwrap_or('0')
                    .to_ascii_uppercase(),
            );
            out.push(
                char::from_digit(u32::from(b & 15), 16)
                    .unwrap_or('0')
                    .to_ascii_uppercase(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls() {
        let u = split("http://[::1]:3001").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path, u.query),
            ("::1", Some("3001"), "/", None)
        );
        let u = split("HTTP://LocalHost/x?y#z").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.host.as_str(), u.path, u.query),
            ("http", "localhost", "/x", Some("y"))
        );
        assert_eq!(split("/relative/path"), None);
        assert_eq!(split("http:///nohost"), None);
        assert_eq!(split("://x"), None);
    }

    #[test]
    fn loopback_is_only_the_local_machine() {
        for ok in [
            "http://localhost:1/",
            "http://127.0.0.1/",
            "http://127.1.2.3:9/",
            "http://[::1]:3001/",
            "http://api.localhost/",
            "https://anything.example/",
        ] {
            assert!(may_carry_secrets(ok), "{ok}");
        }
        for bad in [
            "http://127.0.0.1.evil.example/",
            "http://localhost.evil.example/",
            "http://10.0.0.1/",
            "http://evil.example/",
            "http://user@evil.example/@127.0.0.1",
            "ftp://127.0.0.1/",
            "not a url",
            "http://1270.0.0.1/",
            "http://127.0.0.256/",
        ] {
            assert!(!may_carry_secrets(bad), "{bad}");
        }
    }

    #[test]
    fn normalises_bypass_attempts_to_the_same_path() {
        for p in [
            "/tasks",
            "//tasks",
            "/tasks/",
            "/%74asks",
            "/%74%61sks//",
            "/x/../tasks",
            "/./tasks",
            "/%2ftasks",
            "\\tasks",
            "/x/%2e%2e/tasks",
            "/tasks%2F",
        ] {
            assert_eq!(normalize_path(p), "/tasks", "{p}");
        }
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_path("/.."), "/");
        assert_eq!(normalize_path("/%zz/%7"), "/%zz/%7");
        assert_eq!(normalize_path("/%ff"), "/\u{fffd}");
    }

    #[test]
    fn joins_and_encodes() {
        assert_eq!(
            join("https://api.sandbox.nevermined.app/", "/api/v1/x"),
            "https://api.sandbox.nevermined.app/api/v1/x"
        );
        assert_eq!(encode_segment("did:nv:ab/c d"), "did:nv:ab%2Fc%20d");
    }
}
