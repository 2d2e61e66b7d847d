//! The URL handling x402 needs, without a URL crate (size matters in the
//! .wasm): parse an absolute `http(s)`/`ws(s)` URL exactly as the WHATWG URL
//! Standard does (the parser `fetch` uses), tell https/loopback from plain
//! http, and normalise a request path so `//tasks`, `/tasks/` and `/%74asks`
//! are all `/tasks` for route matching.
//!
//! Every security decision (may a token or key go to this URL? is this
//! request's path a paid route?) reads the host and path from [`Url::parse`],
//! so it names the host `fetch` would connect to: `http://evil.example\@127.0.0.1/`
//! is `evil.example` (a `\` ends the authority), `http://127.1/` and
//! `http://0x7f.1/` are `127.0.0.1`, tabs and newlines are ignored. The one
//! deliberate difference: a host that is not ASCII after percent-decoding
//! (which WHATWG maps through IDNA/UTS #46, tables too large for the .wasm)
//! does not parse at all, so it is refused, never misread. The tests compare
//! this parser with the `url` crate and, in JavaScript, with `new URL`.
//!
//! Measured: the `url` crate (2.5, with idna) in place of this parser made
//! the .wasm 73 KB larger gzipped (86,812 -> 159,920 B; bench/README.md).

/// A parsed host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// An ASCII domain, lower-cased (`example.com`, `localhost`).
    Domain(String),
    /// An IPv4 address (`127.1` and `0x7f.0.0.1` are both `127.0.0.1`).
    Ipv4(u32),
    /// An IPv6 address, as eight 16-bit pieces.
    Ipv6([u16; 8]),
}

impl Host {
    /// The WHATWG serialization: `example.com`, `127.0.0.1`, `[::1]`.
    pub fn serialize(&self) -> String {
        match self {
            Host::Domain(d) => d.clone(),
            Host::Ipv4(a) => {
                let mut out = String::with_capacity(15);
                for (i, b) in a.to_be_bytes().iter().enumerate() {
                    if i > 0 {
                        out.push('.');
                    }
                    push_decimal(&mut out, u32::from(*b));
                }
                out
            }
            Host::Ipv6(pieces) => serialize_ipv6(pieces),
        }
    }

    /// Whether it is this machine: `localhost`, `127.0.0.0/8` or `::1`.
    /// `*.localhost` and `localhost.` are not: outside a browser nothing
    /// guarantees they resolve to the loopback interface.
    pub fn is_loopback(&self) -> bool {
        match self {
            Host::Domain(d) => d == "localhost",
            Host::Ipv4(a) => a >> 24 == 127,
            Host::Ipv6(p) => *p == [0, 0, 0, 0, 0, 0, 0, 1],
        }
    }
}

/// An absolute URL with a special scheme (`http`, `https`, `ws`, `wss`,
/// `ftp`), parsed as the WHATWG URL Standard parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Lower-cased scheme, without `:`.
    pub scheme: String,
    /// Whether a username or password was given (`user:pass@`).
    pub has_credentials: bool,
    /// The host.
    pub host: Host,
    /// The port, when given and not the scheme's default.
    pub port: Option<u16>,
    /// The path as written (`/` when empty; still percent-encoded, dot
    /// segments not yet resolved; `\` is read as `/` by [`normalize_path`]).
    pub path: String,
    /// The query without `?`, if any.
    pub query: Option<String>,
    /// Whether a `#fragment` was given.
    pub has_fragment: bool,
}

fn default_port(scheme: &str) -> Option<Option<u16>> {
    Some(match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => return None,
    })
}

impl Url {
    /// Parses an absolute URL as WHATWG does; `None` where WHATWG fails, for
    /// schemes other than `http`, `https`, `ws`, `wss` and `ftp`, and for
    /// non-ASCII hosts.
    ///
    /// ```
    /// use nvm_x402::protocol::url::{Host, Url};
    /// let u = Url::parse(" HTTP://user@Example.COM:8443/a/b?x=1#f").unwrap();
    /// assert_eq!((u.scheme.as_str(), u.host.serialize(), u.port, u.path.as_str(), u.query.as_deref()), ("http", "example.com".to_owned(), Some(8443), "/a/b", Some("x=1")));
    /// assert_eq!(Url::parse("http://evil.example\\@127.0.0.1/").unwrap().host, Host::Domain("evil.example".into()));
    /// assert_eq!(Url::parse("http://0x7f.1/").unwrap().host, Host::Ipv4(0x7f00_0001));
    /// assert!(Url::parse("/relative").is_none());
    /// ```
    pub fn parse(input: &str) -> Option<Url> {
        // Leading and trailing C0 controls and spaces are dropped, and every tab and newline.
        // (Byte loops, not char-pattern searches: those bring core's searchers into the .wasm.)
        let bytes = input.as_bytes();
        let start = bytes.iter().position(|b| *b > b' ').unwrap_or(bytes.len());
        let end = bytes
            .iter()
            .rposition(|b| *b > b' ')
            .map_or(start, |i| i + 1);
        let kept: Vec<u8> = bytes
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .copied()
            .filter(|b| !matches!(b, b'\t' | b'\n' | b'\r'))
            .collect();
        let input = String::from_utf8(kept).ok()?;
        let (scheme, rest) = input.split_once(':')?;
        let mut bytes = scheme.bytes();
        if !bytes.next()?.is_ascii_alphabetic()
            || !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
        {
            return None;
        }
        let scheme = scheme.to_ascii_lowercase();
        let default = default_port(&scheme)?;
        // Special schemes skip any run of '/' and '\' before the authority ("http:/x" is host x).
        let slashes = rest
            .bytes()
            .position(|b| b != b'/' && b != b'\\')
            .unwrap_or(rest.len());
        let rest = rest.get(slashes..)?;
        let end = rest
            .bytes()
            .position(|b| matches!(b, b'/' | b'\\' | b'?' | b'#'))
            .unwrap_or(rest.len());
        let (authority, tail) = rest.split_at_checked(end)?;
        // The last '@' ends the userinfo.
        let at = authority.bytes().rposition(|b| b == b'@');
        let (userinfo, host_port) = match at {
            Some(i) => (authority.get(..i)?, authority.get(i + 1..)?),
            None => ("", authority),
        };
        if at.is_some() && host_port.is_empty() {
            return None;
        }
        let has_credentials = !userinfo.is_empty() && userinfo != ":";
        // The port starts at the first ':' outside brackets.
        let mut in_brackets = false;
        let colon = host_port.bytes().position(|b| {
            match b {
                b'[' => in_brackets = true,
                b']' => in_brackets = false,
                b':' if !in_brackets => return true,
                _ => {}
            }
            false
        });
        let (host_text, port_text) = match colon {
            Some(i) => (host_port.get(..i)?, Some(host_port.get(i + 1..)?)),
            None => (host_port, None),
        };
        if host_text.is_empty() {
            return None;
        }
        let host = parse_host(host_text)?;
        let port = match port_text {
            None | Some("") => None,
            Some(p) => {
                if !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let digits = p.trim_start_matches('0');
                let n: u16 = if digits.is_empty() {
                    0
                } else if digits.len() > 5 {
                    return None;
                } else {
                    digits.parse().ok()?
                };
                Some(n).filter(|n| Some(*n) != default)
            }
        };
        let (before_fragment, has_fragment) = match tail.split_once('#') {
            Some((b, _)) => (b, true),
            None => (tail, false),
        };
        let (path, query) = match before_fragment.split_once('?') {
            Some((p, q)) => (p, Some(q.to_owned())),
            None => (before_fragment, None),
        };
        Some(Url {
            scheme,
            has_credentials,
            host,
            port,
            path: if path.is_empty() {
                "/".to_owned()
            } else {
                path.to_owned()
            },
            query,
            has_fragment,
        })
    }

    /// `scheme://host[:port]`, serialized as WHATWG does.
    pub fn origin(&self) -> String {
        let mut out = self.scheme.clone();
        out.push_str("://");
        out.push_str(&self.host.serialize());
        if let Some(port) = self.port {
            out.push(':');
            push_decimal(&mut out, u32::from(port));
        }
        out
    }

    /// The port, with the scheme's default filled in.
    pub fn port_or_default(&self) -> u16 {
        self.port
            .or_else(|| default_port(&self.scheme).flatten())
            .unwrap_or(0)
    }
}

/// The host parser for special schemes: an IPv6 literal in brackets, else a
/// percent-decoded ASCII domain (lower-cased, no forbidden code point) that is
/// an IPv4 address when its last label is a number.
fn parse_host(input: &str) -> Option<Host> {
    if let Some(inner) = input.strip_prefix('[') {
        return parse_ipv6(inner.strip_suffix(']')?).map(Host::Ipv6);
    }
    let decoded = percent_decode(input);
    // Non-ASCII needs IDNA (UTS #46): refused rather than misread.
    let domain = String::from_utf8(decoded).ok().filter(|d| d.is_ascii())?;
    let domain = domain.to_ascii_lowercase();
    if domain.is_empty()
        || domain.bytes().any(|b| {
            b <= b' '
                || b == 0x7f
                || matches!(
                    b,
                    b'#' | b'%'
                        | b'/'
                        | b':'
                        | b'<'
                        | b'>'
                        | b'?'
                        | b'@'
                        | b'['
                        | b'\\'
                        | b']'
                        | b'^'
                        | b'|'
                )
        })
    {
        return None;
    }
    if ends_in_a_number(&domain) {
        return parse_ipv4(&domain).map(Host::Ipv4);
    }
    Some(Host::Domain(domain))
}

fn ends_in_a_number(domain: &str) -> bool {
    let mut parts: Vec<&str> = domain.split('.').collect();
    if parts.last() == Some(&"") {
        if parts.len() == 1 {
            return false;
        }
        parts.pop();
    }
    let last = parts.last().copied().unwrap_or("");
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())) || ipv4_number(last).is_some()
}

/// One part of an IPv4 address: decimal, `0x` hex or `0` octal; saturates (anything that big fails later).
fn ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() >= 2 && part.starts_with('0') {
            (part.get(1..)?, 8)
        } else {
            (part, 10)
        };
    let mut value: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        value = value
            .saturating_mul(u64::from(radix))
            .saturating_add(u64::from(d));
    }
    Some(value)
}

fn parse_ipv4(domain: &str) -> Option<u32> {
    let mut parts: Vec<&str> = domain.split('.').collect();
    if parts.last() == Some(&"") && parts.len() > 1 {
        parts.pop();
    }
    if parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(4);
    for part in &parts {
        numbers.push(ipv4_number(part)?);
    }
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|n| *n > 255) || *last >= 1u64 << (8 * (5 - numbers.len())) {
        return None;
    }
    let mut address = *last;
    for (i, n) in init.iter().enumerate() {
        address += n << (8 * (3 - i));
    }
    u32::try_from(address).ok()
}

/// The WHATWG IPv6 parser (compression, embedded IPv4), on the text inside the brackets.
fn parse_ipv6(input: &str) -> Option<[u16; 8]> {
    let c: Vec<u8> = input.bytes().collect();
    let at = |i: usize| c.get(i).copied();
    let mut address = [0u16; 8];
    let mut piece = 0usize;
    let mut compress: Option<usize> = None;
    let mut p = 0usize;
    if at(0) == Some(b':') {
        if at(1) != Some(b':') {
            return None;
        }
        p = 2;
        piece = 1;
        compress = Some(1);
    }
    while p < c.len() {
        if piece == 8 {
            return None;
        }
        if at(p) == Some(b':') {
            if compress.is_some() {
                return None;
            }
            p += 1;
            piece += 1;
            compress = Some(piece);
            continue;
        }
        let mut value: u32 = 0;
        let mut length = 0;
        while length < 4 {
            match at(p).and_then(|b| (b as char).to_digit(16)) {
                Some(d) => {
                    value = value * 16 + d;
                    p += 1;
                    length += 1;
                }
                None => break,
            }
        }
        if at(p) == Some(b'.') {
            if length == 0 || piece > 6 {
                return None;
            }
            p -= length;
            let mut seen = 0;
            while p < c.len() {
                if seen > 0 {
                    if at(p) == Some(b'.') && seen < 4 {
                        p += 1;
                    } else {
                        return None;
                    }
                }
                if !at(p).is_some_and(|b| b.is_ascii_digit()) {
                    return None;
                }
                let mut part: Option<u32> = None;
                while let Some(d) = at(p).filter(u8::is_ascii_digit) {
                    let d = u32::from(d - b'0');
                    part = match part {
                        None => Some(d),
                        Some(0) => return None,
                        Some(v) => Some(v * 10 + d),
                    };
                    if part > Some(255) {
                        return None;
                    }
                    p += 1;
                }
                address[piece] = address[piece] * 0x100 + part? as u16;
                seen += 1;
                if seen == 2 || seen == 4 {
                    piece += 1;
                }
            }
            if seen != 4 {
                return None;
            }
            break;
        } else if at(p) == Some(b':') {
            p += 1;
            if p == c.len() {
                return None;
            }
        } else if p < c.len() {
            return None;
        }
        address[piece] = value as u16;
        piece += 1;
    }
    match compress {
        Some(start) => {
            let mut swaps = piece - start;
            let mut i = 7;
            while i != 0 && swaps > 0 {
                address.swap(i, start + swaps - 1);
                i -= 1;
                swaps -= 1;
            }
        }
        None if piece != 8 => return None,
        None => {}
    }
    Some(address)
}

/// `[a:b::c]`: the first longest run of two or more zero pieces is compressed.
fn serialize_ipv6(pieces: &[u16; 8]) -> String {
    let (mut best, mut best_len, mut i) = (None, 1, 0);
    while i < 8 {
        let start = i;
        while i < 8 && pieces[i] == 0 {
            i += 1;
        }
        if i - start > best_len {
            best = Some(start);
            best_len = i - start;
        }
        i += 1;
    }
    let mut out = String::from("[");
    let mut i = 0;
    while i < 8 {
        if Some(i) == best {
            out.push_str(if i == 0 { "::" } else { ":" });
            i += best_len;
            continue;
        }
        push_hex(&mut out, pieces[i]);
        if i < 7 {
            out.push(':');
        }
        i += 1;
    }
    out.push(']');
    out
}

/// Writes `n` in decimal (no `format!`: its machinery is large in the .wasm).
fn push_decimal(out: &mut String, n: u32) {
    if n >= 10 {
        push_decimal(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// Writes `n` in lower-case hex, shortest form.
fn push_hex(out: &mut String, n: u16) {
    if n >= 16 {
        push_hex(out, n / 16);
    }
    out.push(char::from_digit(u32::from(n % 16), 16).unwrap_or('0'));
}

pub(crate) fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
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
    out
}

/// Whether a secret (token, API key) may be sent to this URL: `https:`/`wss:`,
/// or `http:`/`ws:` to a loopback host (see [`Host::is_loopback`]), as `fetch`
/// would read the URL.
///
/// ```
/// use nvm_x402::protocol::url::may_carry_secrets;
/// assert!(may_carry_secrets("https://agent.example/tasks"));
/// assert!(may_carry_secrets("http://127.0.0.1:8787/tasks"));
/// assert!(!may_carry_secrets("http://agent.example/tasks"));
/// assert!(!may_carry_secrets("http://evil.example\\@127.0.0.1/"));
/// ```
pub fn may_carry_secrets(url: &str) -> bool {
    match Url::parse(url) {
        Some(u) if u.scheme == "https" || u.scheme == "wss" => true,
        Some(u) if u.scheme == "http" || u.scheme == "ws" => u.host.is_loopback(),
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
    let decoded = String::from_utf8_lossy(&percent_decode(path)).replace('\\', "/");
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
mod tests;
