//! Route patterns and matching, shared by the agent gate (route tables such as
//! `"POST /tasks"`) and the backend's endpoint check (`{"POST": "https://host/tasks/:id"}`).
//!
//! Syntax: `"METHOD /path"` or `"/path"` (any method); a segment `:name`
//! matches one segment; `*` as the last segment matches the rest (zero or
//! more segments), elsewhere exactly one. Paths are compared after
//! [`normalize_path`], ASCII-case-insensitively unless asked otherwise. `HEAD`
//! requests match `GET` routes (a HEAD runs the GET handler).
//! When several routes match, the most specific path wins (literal segments
//! over `:params` over `*`, segment by segment, then the longer pattern), then
//! a named method over any method; remaining ties go to the route declared first.

use super::url::{normalize_path, percent_decode};
use crate::error::{Error, Result};

/// The methods a route may name.
pub const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param,
    AnyOne,
    Rest,
}

/// A compiled path pattern.
///
/// ```
/// use nvm_x402::protocol::routes::PathPattern;
/// let p = PathPattern::parse("/items/:id", false).unwrap();
/// assert!(p.matches("/items/42") && p.matches("/ITEMS/42/") && !p.matches("/items"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    segments: Vec<Segment>,
    case_sensitive: bool,
}

impl PathPattern {
    /// Compiles a pattern (it is normalised like a request path first).
    pub fn parse(pattern: &str, case_sensitive: bool) -> Result<Self> {
        if !pattern.starts_with('/') && pattern != "*" {
            return Err(Error::validation(format!(
                "route path \"{pattern}\" must start with '/'"
            )));
        }
        let normalized = normalize_path(pattern);
        let raw: Vec<&str> = normalized.split('/').filter(|s| !s.is_empty()).collect();
        let mut segments = Vec::with_capacity(raw.len());
        for (i, seg) in raw.iter().enumerate() {
            segments.push(match *seg {
                "*" if i + 1 == raw.len() => Segment::Rest,
                "*" => Segment::AnyOne,
                s if s.starts_with(':') => {
                    if s.len() == 1 {
                        return Err(Error::validation(format!(
                            "route path \"{pattern}\" has a ':' without a name"
                        )));
                    }
                    Segment::Param
                }
                s if case_sensitive => Segment::Literal(s.to_owned()),
                s => Segment::Literal(s.to_ascii_lowercase()),
            });
        }
        Ok(PathPattern {
            segments,
            case_sensitive,
        })
    }

    /// Whether a request path (raw or normalised) matches: in its normalised
    /// form, or — for a pattern with `:params` — segment by segment as an
    /// application's router sees it (each segment decoded on its own, so
    /// `/files/a%2Fb` is the one segment `a/b` that `/files/:name` matches;
    /// decoded whole it would be two). Either match protects the request.
    pub fn matches(&self, path: &str) -> bool {
        self.matches_request(&RequestPath::new(path))
    }

    fn matches_request(&self, path: &RequestPath<'_>) -> bool {
        if self.matches_parts(path.normalized.split('/').filter(|s| !s.is_empty())) {
            return true;
        }
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Param | Segment::AnyOne))
            && self.matches_parts(path.segments().iter().map(String::as_str))
    }

    fn matches_parts<'a>(&self, mut parts: impl Iterator<Item = &'a str>) -> bool {
        for seg in &self.segments {
            match seg {
                Segment::Rest => return true,
                Segment::Literal(lit) => {
                    let matched = parts.next().is_some_and(|p| {
                        if self.case_sensitive {
                            p == lit
                        } else {
                            p.eq_ignore_ascii_case(lit)
                        }
                    });
                    if !matched {
                        return false;
                    }
                }
                Segment::Param | Segment::AnyOne => {
                    if parts.next().is_none() {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }

    /// Specificity, compared lexicographically (higher wins).
    fn rank(&self) -> Vec<u8> {
        let mut rank: Vec<u8> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 3,
                Segment::Param => 2,
                Segment::AnyOne => 1,
                Segment::Rest => 0,
            })
            .collect();
        // A longer pattern is more specific than its prefix.
        rank.push(u8::from(!matches!(
            self.segments.last(),
            Some(Segment::Rest)
        )));
        rank
    }
}

/// A request path in the two forms patterns are matched against, each made
/// once per request (not once per route): normalised, and (only when a
/// `:param` pattern asks) split into segments decoded one by one.
struct RequestPath<'a> {
    raw: &'a str,
    normalized: String,
    segments: std::cell::OnceCell<Vec<String>>,
}

impl<'a> RequestPath<'a> {
    fn new(raw: &'a str) -> Self {
        RequestPath {
            raw,
            normalized: normalize_path(raw),
            segments: std::cell::OnceCell::new(),
        }
    }

    fn segments(&self) -> &[String] {
        self.segments.get_or_init(|| {
            self.raw
                .split(['?', '#'])
                .next()
                .unwrap_or("")
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(&percent_decode(s)).into_owned())
                .collect()
        })
    }
}

/// A route key: an optional method and a path pattern.
///
/// ```
/// use nvm_x402::protocol::routes::RoutePattern;
/// let r = RoutePattern::parse("post /tasks", false).unwrap();
/// assert!(r.matches("POST", "/tasks/") && !r.matches("GET", "/tasks"));
/// assert!(RoutePattern::parse("GET /files/*", false).unwrap().matches("HEAD", "/files/a/b"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    method: Option<String>,
    path: PathPattern,
    key: String,
}

impl RoutePattern {
    /// Parses `"METHOD /path"`, `"/path"` or `"*"`.
    pub fn parse(key: &str, case_sensitive: bool) -> Result<Self> {
        let trimmed = key.trim();
        let (method, path) = match trimmed.split_once(char::is_whitespace) {
            Some((m, p)) => {
                let m = m.to_ascii_uppercase();
                if !METHODS.contains(&m.as_str()) {
                    return Err(Error::validation(format!(
                        "route \"{key}\": \"{m}\" is not an HTTP method"
                    )));
                }
                (Some(m), p.trim())
            }
            None => (None, trimmed),
        };
        if path.is_empty() {
            return Err(Error::validation(format!("route \"{key}\" has no path")));
        }
        let path = PathPattern::parse(path, case_sensitive)
            .map_err(|e| Error::validation(format!("route \"{key}\": {e}")))?;
        Ok(RoutePattern {
            method,
            path,
            key: trimmed.to_owned(),
        })
    }

    /// Whether a request matches (`HEAD` matches `GET` routes).
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.method_matches(method) && self.path.matches(path)
    }

    fn matches_request(&self, method: &str, path: &RequestPath<'_>) -> bool {
        self.method_matches(method) && self.path.matches_request(path)
    }

    fn method_matches(&self, method: &str) -> bool {
        match &self.method {
            None => true,
            Some(m) => {
                m.eq_ignore_ascii_case(method)
                    || (m == "GET" && method.eq_ignore_ascii_case("HEAD"))
            }
        }
    }

    /// The key as written (trimmed).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The method, if the route names one.
    pub fn method(&self) -> Option<&str> {
        self.method.as_deref()
    }
}

/// Routes with values, matched most-specific-first.
///
/// ```
/// use nvm_x402::protocol::routes::RouteTable;
/// let table = RouteTable::new(vec![("/items/*", 1), ("GET /items/special", 2)], false).unwrap();
/// assert_eq!(table.find("GET", "/items/special").map(|(_, v)| *v), Some(2));
/// assert_eq!(table.find("POST", "/items/special").map(|(_, v)| *v), Some(1));
/// assert!(table.find("GET", "/other").is_none());
/// ```
#[derive(Debug, Clone)]
pub struct RouteTable<T> {
    routes: Vec<(RoutePattern, T)>,
}

impl<T> RouteTable<T> {
    /// Compiles every key; the first bad key is an error. Duplicate keys are refused.
    pub fn new<K: AsRef<str>>(entries: Vec<(K, T)>, case_sensitive: bool) -> Result<Self> {
        let mut routes: Vec<(RoutePattern, T)> = Vec::with_capacity(entries.len());
        let mut ranks = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let pattern = RoutePattern::parse(key.as_ref(), case_sensitive)?;
            if routes
                .iter()
                .any(|(p, _)| p.method == pattern.method && p.path == pattern.path)
            {
                return Err(Error::validation(format!(
                    "route \"{}\" is declared twice",
                    key.as_ref()
                )));
            }
            // Most specific first; ties keep declaration order. (An insertion
            // sort: a table has a handful of routes, and slice::sort_by would
            // add 4 KB to the .wasm.)
            let rank = (pattern.path.rank(), pattern.method.is_some());
            let at = ranks.iter().position(|r| *r < rank).unwrap_or(ranks.len());
            ranks.insert(at, rank);
            routes.insert(at, (pattern, value));
        }
        Ok(RouteTable { routes })
    }

    /// The most specific route matching a request.
    pub fn find(&self, method: &str, path: &str) -> Option<(&RoutePattern, &T)> {
        let path = RequestPath::new(path);
        self.routes
            .iter()
            .find(|(p, _)| p.matches_request(method, &path))
            .map(|(p, v)| (p, v))
    }

    /// Every route, most specific first.
    pub fn iter(&self) -> impl Iterator<Item = (&RoutePattern, &T)> {
        self.routes.iter().map(|(p, v)| (p, v))
    }

    /// How many routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_param_is_matched_as_a_router_sees_it_too_so_an_encoded_slash_cant_hide_it() {
        let p = PathPattern::parse("/files/:name", false).unwrap();
        // Decoded whole, a%2Fb is two segments and would not match; an application's
        // router hands the handler the one segment "a/b": the gate protects it.
        for path in [
            "/files/a%2Fb",
            "/files/a%2fb",
            "/FILES/a%2F..%2Fb",
            "/files/x%5Cy",
        ] {
            assert!(p.matches(path), "{path}");
        }
        assert!(!p.matches("/files"));
        assert!(!p.matches("/other/a%2Fb"));
        let literal = PathPattern::parse("/files/readme", true).unwrap();
        assert!(!literal.matches("/files/README"));
        assert!(literal.matches("/files/%72eadme"));
    }

    #[test]
    fn bypass_spellings_all_match() {
        let r = RoutePattern::parse("POST /tasks", false).unwrap();
        for path in [
            "/tasks",
            "//tasks",
            "/tasks/",
            "/%74asks",
            "/TASKS",
            "/Tasks//",
            "/x/../tasks",
            "/%2Ftasks",
        ] {
            assert!(r.matches("POST", path), "{path}");
            assert!(r.matches("post", path), "{path}");
        }
        assert!(!r.matches("GET", "/tasks"));
        assert!(!r.matches("POST", "/tasks/1"));
        assert!(!r.matches("POST", "/taskss"));
        let strict = RoutePattern::parse("POST /tasks", true).unwrap();
        assert!(strict.matches("POST", "/tasks/") && !strict.matches("POST", "/TASKS"));
    }

    #[test]
    fn params_and_wildcards() {
        let p = |s| PathPattern::parse(s, false).unwrap();
        assert!(p("/a/:id/b").matches("/a/1/b") && !p("/a/:id/b").matches("/a//b"));
        assert!(p("/files/*").matches("/files") && p("/files/*").matches("/files/x/y"));
        assert!(p("/a/*/c").matches("/a/b/c") && !p("/a/*/c").matches("/a/c"));
        assert!(p("*").matches("/anything/at/all") && p("/").matches("/") && !p("/").matches("/x"));
    }

    #[test]
    fn bad_keys_are_refused_at_construction() {
        for bad in ["FETCH /x", "POST", "POST tasks", "", "/a/:", "GET  "] {
            assert_eq!(
                RoutePattern::parse(bad, false).unwrap_err().code(),
                "validation",
                "{bad:?}"
            );
        }
        assert!(
            RouteTable::new(vec![("POST /a", 1), ("post /a/", 2)], false)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
    }

    #[test]
    fn most_specific_route_wins_regardless_of_order() {
        let table = RouteTable::new(
            vec![
                ("*", "all"),
                ("/api/*", "api"),
                ("GET /api/:id", "get-one"),
                ("GET /api/health", "health"),
                ("/api/:id", "any-one"),
                ("/api/status", "status"),
            ],
            false,
        )
        .unwrap();
        let find = |m, p| table.find(m, p).map(|(_, v)| *v);
        assert_eq!(find("GET", "/api/health"), Some("health"));
        assert_eq!(find("HEAD", "/api/7"), Some("get-one"));
        assert_eq!(find("POST", "/api/7"), Some("any-one"));
        assert_eq!(find("POST", "/api/7/x"), Some("api"));
        assert_eq!(find("DELETE", "/"), Some("all"));
        assert_eq!(find("GET", "/api/status"), Some("status"));
        assert_eq!(table.len(), 6);
    }

    #[test]
    fn equally_specific_routes_keep_declaration_order() {
        // A GET route also answers HEAD, so both keys match HEAD /x.
        for (first, second) in [("GET /x", "HEAD /x"), ("HEAD /x", "GET /x")] {
            let table = RouteTable::new(vec![(first, first), (second, second)], false).unwrap();
            assert_eq!(table.find("HEAD", "/x").map(|(_, v)| *v), Some(first));
            let order: Vec<&str> = table.iter().map(|(_, v)| *v).collect();
            assert_eq!(order, [first, second]);
        }
    }
}
