//! The URL parser against the WHATWG reference (the `url` crate, a
//! dev-dependency only): a corpus of host-confusion tricks plus random texts
//! built from URL pieces must parse to the same scheme, host, port, userinfo,
//! query and normalised path, or fail in both. The one allowed difference is
//! the documented one: a non-ASCII host (IDNA) is refused here (and an
//! `xn--` label is not punycode-checked).

use super::*;
use crate::fuzz;
use proptest::prelude::*;

/// Texts that have fooled URL parsers (shared with the JS test against `new URL`).
fn corpus() -> Vec<String> {
    let text = include_str!("../../../tests/vectors/urls.json");
    let parsed = crate::protocol::json::parse(text).expect("urls.json is JSON");
    parsed["urls"]
        .as_array()
        .expect("a list of URLs")
        .iter()
        .map(|u| u.as_str().expect("a URL string").to_owned())
        .collect()
}

fn reference_host(h: url::Host<&str>) -> Host {
    match h {
        url::Host::Domain(d) => Host::Domain(d.to_owned()),
        url::Host::Ipv4(a) => Host::Ipv4(u32::from(a)),
        url::Host::Ipv6(a) => Host::Ipv6(a.segments()),
    }
}

/// Checks one text; panics with the difference. True when both parsed it.
fn agrees(text: &str) -> bool {
    let ours = Url::parse(text);
    let reference = url::Url::parse(text)
        .ok()
        .filter(|u| ["http", "https", "ws", "wss", "ftp"].contains(&u.scheme()));
    let decoded = String::from_utf8_lossy(&percent_decode(text)).into_owned();
    match (&ours, &reference) {
        (Some(o), Some(r)) => {
            let host = r.host().map(reference_host);
            assert_eq!(Some(&o.host), host.as_ref(), "host of {text:?}");
            assert_eq!(o.scheme, r.scheme(), "scheme of {text:?}");
            assert_eq!(o.port, r.port(), "port of {text:?}");
            assert_eq!(
                o.has_credentials,
                !r.username().is_empty() || r.password().is_some(),
                "userinfo of {text:?}"
            );
            assert_eq!(o.query.is_some(), r.query().is_some(), "query of {text:?}");
            assert_eq!(
                o.has_fragment,
                r.fragment().is_some(),
                "fragment of {text:?}"
            );
            assert_eq!(
                normalize_path(&o.path),
                normalize_path(r.path()),
                "path of {text:?}"
            );
            assert_eq!(
                o.origin(),
                r.origin().ascii_serialization(),
                "origin of {text:?}"
            );
            assert_eq!(o.port_or_default(), r.port_or_known_default().unwrap_or(0));
            return true;
        }
        (None, None) => {}
        // WHATWG maps a non-ASCII host through IDNA; we refuse it instead.
        (None, Some(_)) if !decoded.is_ascii() => {}
        // We don't punycode-check xn-- labels (such a host is never loopback).
        (Some(_), None) if text.to_ascii_lowercase().contains("xn--") => {}
        _ => panic!(
            "{text:?}: ours {:?}, WHATWG {:?}",
            ours.as_ref().map(|u| (u.host.serialize(), u.port)),
            reference.as_ref().map(|u| u.as_str().to_owned())
        ),
    }
    false
}

#[test]
fn corpus_agrees_with_whatwg() {
    let parsed = corpus().iter().filter(|t| agrees(t)).count();
    assert!(parsed > 80, "only {parsed} corpus URLs parse");
}

#[test]
fn secrets_go_only_where_fetch_would_reach_the_loopback() {
    for text in &corpus() {
        let text = text.as_str();
        let reference = url::Url::parse(text).ok();
        let expected = reference.is_some_and(|u| match u.scheme() {
            "https" | "wss" => true,
            "http" | "ws" => u
                .host()
                .map(reference_host)
                .is_some_and(|h| h.is_loopback()),
            _ => false,
        });
        let decoded = String::from_utf8_lossy(&percent_decode(text)).into_owned();
        if decoded.is_ascii() {
            assert_eq!(may_carry_secrets(text), expected, "{text:?}");
        } else {
            assert!(!may_carry_secrets(text) || expected, "{text:?}");
        }
    }
    assert!(!may_carry_secrets("http://evil.example\\@127.0.0.1/"));
    assert!(!may_carry_secrets("http://localhost./"));
    assert!(!may_carry_secrets("http://app.localhost/"));
    assert!(may_carry_secrets("http://0x7f.1/"));
    assert!(may_carry_secrets("http://[0::1]:3001/"));
}

#[test]
fn serializes_hosts_as_whatwg() {
    for (text, host) in [
        ("http://127.1/", "127.0.0.1"),
        ("http://[0:0:0:0:0:0:0:1]/", "[::1]"),
        ("http://[1:0:0:2:0:0:0:3]/", "[1:0:0:2::3]"),
        ("http://[1:0:0:0:2:0:0:3]/", "[1::2:0:0:3]"),
        ("http://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]"),
        ("http://[1:2:3:4:5:6:7:0]/", "[1:2:3:4:5:6:7:0]"),
        ("http://LocalHost/", "localhost"),
    ] {
        assert_eq!(Url::parse(text).unwrap().host.serialize(), host, "{text}");
        assert_eq!(
            url::Url::parse(text).unwrap().host_str().unwrap(),
            host,
            "{text}"
        );
    }
}

/// Pieces random URLs are made of: the characters and runs parsers disagree on.
const PIECES: &[&str] = &[
    "http:",
    "https:",
    "HTTP:",
    "ws:",
    "ftp:",
    "file:",
    "x:",
    "/",
    "//",
    "\\",
    "@",
    ":",
    "::",
    "[",
    "]",
    "?",
    "#",
    ".",
    "..",
    "%",
    "%2e",
    "%2E",
    "%40",
    "%5c",
    "%2f",
    "%3a",
    "%31",
    "%6c",
    "%00",
    "%ff",
    "%C3%BC",
    "\t",
    "\n",
    " ",
    "\u{0}",
    "0",
    "1",
    "7f",
    "0x",
    "0X7f",
    "127",
    "255",
    "256",
    "4294967295",
    "0177",
    "08",
    "ff",
    "ffff",
    "1.2.3.4",
    "a",
    "localhost",
    "LOCALHOST",
    "evil.example",
    "xn--a",
    "ü",
    "ⓛ",
    "80",
    "65536",
    "-",
    "_",
    "~",
    "^",
    "|",
    "<",
];

fn pieces(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..max).prop_map(|p| p.concat())
}

#[test]
fn random_urls_agree_with_whatwg() {
    let parsed = fuzz::run(6000, pieces(14), |text| agrees(&text));
    assert!(parsed > 40, "only {parsed} random texts parse as URLs");
}

#[test]
fn random_http_urls_agree_with_whatwg() {
    let scheme = prop::sample::select(&["http://", "https://", "http:", "HTTP:\\\\", " ws://"][..]);
    let parsed = fuzz::run(6000, (scheme, pieces(10)), |(s, rest)| {
        agrees(&(s.to_owned() + &rest))
    });
    assert!(parsed > 800, "only {parsed} random http URLs parse");
}

#[test]
fn arbitrary_text_never_panics_and_agrees() {
    fuzz::run(4000, any::<String>(), |text| {
        let _ = normalize_path(&text);
        agrees(&text)
    });
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
    assert_eq!(normalize_path("/%+74asks"), "/%+74asks");
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
