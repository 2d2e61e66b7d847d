//! Redaction of secrets (access tokens, API keys) for logs, errors and `Debug`:
//! at most the first 6 and last 4 characters ever leave.

/// Shows a secret as `abcdef…wxyz`; short secrets (under 20 characters) as `[redacted]`.
///
/// ```
/// use nvm_x402::protocol::redact::redact;
/// assert_eq!(redact("eyJ4NDAyVmVyc2lvbiI6Mn0abcd"), "eyJ4ND…abcd");
/// assert_eq!(redact("short-secret"), "[redacted]");
/// ```
pub fn redact(secret: &str) -> String {
    let count = secret.chars().count();
    if count < 20 {
        return "[redacted]".to_owned();
    }
    // Byte offsets of the n-th character (no Vec<char>: smaller in the .wasm).
    let at = |n: usize| {
        secret
            .char_indices()
            .nth(n)
            .map_or(secret.len(), |(i, _)| i)
    };
    let head = secret.get(..at(6)).unwrap_or_default();
    let tail = secret.get(at(count - 4)..).unwrap_or_default();
    format!("{head}…{tail}")
}

/// Where `needle` first occurs in `text` (a window scan: `str::find` and
/// `str::contains` with a `&str` would add core's substring searcher to the
/// .wasm). An empty needle occurs nowhere.
pub fn find(text: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    text.as_bytes()
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
}

/// `text` with every occurrence of `secret` shown redacted (a runtime's
/// message may quote a header value).
///
/// ```
/// use nvm_x402::protocol::redact::redact_within;
/// let token = "eyJ4NDAyVmVyc2lvbiI6Mn0abcd";
/// assert_eq!(redact_within(&format!("bad value \"{token}\" here"), token), "bad value \"eyJ4ND…abcd\" here");
/// ```
pub fn redact_within(text: &str, secret: &str) -> String {
    let shown = redact(secret);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find(rest, secret) {
        // (a match of a whole str starts and ends on character boundaries; `get`, not `[..]`:
        // no panic formatting in the .wasm)
        out.push_str(rest.get(..at).unwrap_or_default());
        out.push_str(&shown);
        rest = rest.get(at + secret.len()..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// Shows a caller's input in an error message: quoted when it is short, else
/// redacted — a long value in the wrong place may be a secret (an API key or
/// token passed as the wrong argument).
///
/// ```
/// use nvm_x402::protocol::redact::quote_input;
/// assert_eq!(quote_input("mars"), "\"mars\"");
/// assert_eq!(quote_input("sandbox:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln"), "sandbo…c2ln");
/// ```
pub fn quote_input(value: &str) -> String {
    if value.chars().count() <= 42 {
        format!("\"{value}\"")
    } else {
        redact(value)
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn never_reveals_more_than_ten_characters() {
        let secret = "sandbox:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweDEyMyJ9.c2lnbmF0dXJl";
        let shown = redact(secret);
        assert_eq!(shown.chars().filter(|c| *c != '…').count(), 10);
        assert!(secret.starts_with(&shown[..6]) && secret.ends_with(&shown[shown.len() - 4..]));
        assert_eq!(redact(""), "[redacted]");
        assert_eq!(redact("ééééééééééééééééééééé"), "éééééé…éééé");
    }
}
