//! The hosted apps' sign-in, played by nvm-local for the local environment:
//! the web app's `GET /login?returnUrl=...` (a page: choose or create a local
//! account; its buttons `POST /login`) that returns to
//! `returnUrl?nvmApiKey=<key>&accountAddress=0x...`, and the CLI's
//! `GET /auth/cli?callback_url=...` (the official CLI and OpenClaw plugin)
//! that returns to `callback_url?nvm_api_key=<key>`.
//!
//! Rules: a page names the origin that asks; a key is issued only by a POST
//! from the page itself (a click: `Sec-Fetch-Site`/`Origin` say so; the page
//! can't be framed); the web sign-in returns only to this machine or an
//! origin given with `--allow-origin`, the CLI's only to loopback `http:`.
//! The pages are plain HTML: no script, no external asset.

use crate::checkout::escape;
use crate::error::*;
use axum::http::{header, HeaderMap};
use nvm_x402::protocol::url::Url;

/// Which page asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// The web app's `/login` (a page's `connect()`).
    Web,
    /// `/auth/cli` (a CLI with a loopback callback).
    Cli,
    /// The embed app's `/cards/setup`.
    Cards,
}

impl Flow {
    /// The parameter naming where to return.
    pub fn param(self) -> &'static str {
        match self {
            Flow::Web | Flow::Cards => "returnUrl",
            Flow::Cli => "callback_url",
        }
    }
}

/// What every return URL of nvm-local's pages must be (the sign-in, card and
/// order pages then each say where it may go): an absolute `http(s)` URL
/// without credentials or control characters; else why not.
pub fn return_url(url: &str) -> Result<Url, &'static str> {
    let u = Url::parse(url)
        .filter(|u| u.scheme == "http" || u.scheme == "https")
        .ok_or("not an absolute http(s) URL")?;
    if u.has_credentials {
        return Err("it carries a user name or password");
    }
    // A control character passes the URL parser but can't be a Location header:
    // refused here, before anything is acted on.
    if url.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("it holds a control character");
    }
    Ok(u)
}

/// Checks where a page may return: `http(s)` on this machine (any port), or,
/// except for the CLI (loopback `http:` only), an origin in `allowed`.
/// Answers the origin, to show on the page.
pub fn return_origin(url: &str, flow: Flow, allowed: &[String]) -> ApiResult<String> {
    let refused =
        |why: &str| RETURN_NOT_ALLOWED.with(format!("{} {}: {why}", flow.param(), shorten(url)));
    let u = return_url(url).map_err(refused)?;
    let origin = u.origin();
    let ok = match flow {
        Flow::Cli => u.scheme == "http" && u.host.is_loopback(),
        Flow::Web | Flow::Cards => u.host.is_loopback() || allowed.contains(&origin),
    };
    if !ok {
        return Err(refused(match flow {
            Flow::Cli => "the CLI sign-in returns only to http://localhost, 127.0.0.1 or [::1]",
            _ => "not this machine, and not an origin nvm-local was started with (--allow-origin)",
        }));
    }
    Ok(origin)
}

/// Whether a form was posted by a page of this server: its `Origin` is this
/// server's, or (no `Origin`) the browser says `Sec-Fetch-Site: same-origin`.
/// Anything else, a request with neither (a script, not a click) included, is refused.
pub fn posted_from(headers: &HeaderMap, own_origin: &str) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match get(header::ORIGIN.as_str()) {
        Some(origin) => origin == own_origin,
        None => get("sec-fetch-site") == Some("same-origin"),
    }
}

/// A form post comes from the page itself ([`posted_from`]): never from another site's form.
pub fn check_same_origin(headers: &HeaderMap, own_origin: &str) -> ApiResult<()> {
    if posted_from(headers, own_origin) {
        Ok(())
    } else {
        Err(CROSS_SITE_SIGN_IN
            .with("This form was posted from another site; sign in from nvm-local's own page"))
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;line-height:1.45;color:#1b1b1f}\
h1{font-size:1.5rem}.asks{background:#eef3ff;border:1px solid #c9d6ff;border-radius:8px;padding:.7rem 1rem}\
ul{list-style:none;padding:0}li{margin:.4rem 0}button{font-size:1rem;padding:.5rem 1rem;cursor:pointer;border-radius:6px;border:1px solid #888;background:#fff}\
button.primary{background:#1d4ed8;color:#fff;border-color:#1d4ed8}input,select{font-size:1rem;padding:.45rem;border-radius:6px;border:1px solid #888}\
code{word-break:break-all}.error{color:#b00020}small{color:#555}";

/// A whole page around `body`.
pub fn page(title: &str, status: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\n<body><main data-status=\"{status}\">{body}\
         <p><small>nvm-local: a local stand-in for Nevermined's apps; nothing leaves this machine.</small></p></main></body></html>\n",
        title = escape(title)
    )
}

/// Hidden form fields (escaped): what a page posts back as it was given.
pub fn hidden_inputs(fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (name, value) in fields {
        out.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        ));
    }
    out
}

/// The sign-in page: who asks, the local accounts, a new one.
pub fn sign_in_page(
    flow: Flow,
    target: &str,
    origin: &str,
    accounts: &[(String, String)],
) -> String {
    let action = match flow {
        Flow::Cli => "/auth/cli",
        _ => "/login",
    };
    let who = match flow {
        Flow::Cli => format!("A program on this computer (<code>{}</code>) asks for an API key of the account you choose.", escape(origin)),
        _ => format!("<strong><code>{}</code></strong> asks you to sign in. It will get an API key of the account you choose.", escape(origin)),
    };
    let hidden = hidden_inputs(&[(flow.param(), target)]);
    let mut list = String::new();
    for (name, address) in accounts {
        list.push_str(&format!(
            "<li><form method=\"post\" action=\"{action}\">{hidden}<input type=\"hidden\" name=\"account\" value=\"{n}\">\
             <button type=\"submit\" class=\"primary\" data-account=\"{n}\">Sign in as {n}</button> <small><code>{a}</code></small></form></li>",
            n = escape(name),
            a = escape(address),
        ));
    }
    page(
        "Sign in to nvm-local",
        "open",
        &format!(
            "<h1>Sign in with Nevermined (local)</h1><p class=\"asks\">{who}</p>\
             <h2>Choose an account</h2><ul>{list}</ul>\
             <h2>Or create one</h2><form method=\"post\" action=\"{action}\">{hidden}\
             <label>Name <input name=\"account\" id=\"new-account\" required maxlength=\"64\" pattern=\"[A-Za-z0-9 ._\\-]+\"></label> \
             <button type=\"submit\" id=\"create\">Create and sign in</button></form>\
             <p><small>Not expecting this? Close the tab: nothing happens until you click.</small></p>"
        ),
    )
}

/// An error page: what went wrong and its code.
pub fn error_page(title: &str, e: &ApiError) -> String {
    page(
        title,
        "error",
        &format!(
            "<h1>{}</h1><p class=\"error\">{}</p><p><code>{}</code></p>",
            escape(title),
            escape(&e.message),
            e.code.code
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_go_to_this_machine_or_allowed_origins_and_the_cli_to_loopback_http_only() {
        let allowed = vec!["https://app.example".to_owned()];
        for (url, flow, ok) in [
            ("http://127.0.0.1:8080/app?x=1", Flow::Web, true),
            ("http://localhost:5/", Flow::Web, true),
            ("https://app.example/back", Flow::Web, true),
            ("https://app.example:444/back", Flow::Web, false),
            ("https://evil.example/", Flow::Web, false),
            ("http://evil.example\\@127.0.0.1/", Flow::Web, false),
            ("http://u:p@127.0.0.1/", Flow::Web, false),
            ("javascript:alert(1)", Flow::Web, false),
            ("/relative", Flow::Web, false),
            ("http://127.0.0.1:5/callback", Flow::Cli, true),
            ("http://[::1]:5/callback", Flow::Cli, true),
            ("https://app.example/cb", Flow::Cli, false),
            ("https://127.0.0.1:5/cb", Flow::Cli, false),
            // Passes the URL parser, can't be a Location header: refused before acting.
            ("http://127.0.0.1:8080/\u{1}", Flow::Web, false),
            ("http://127.0.0.1:5/cb\u{7f}", Flow::Cli, false),
        ] {
            let got = return_origin(url, flow, &allowed);
            assert_eq!(got.is_ok(), ok, "{url} {flow:?}");
            if let Err(e) = got {
                assert_eq!(e.code, RETURN_NOT_ALLOWED);
            }
        }
    }

    #[test]
    fn only_the_page_itself_may_post() {
        let own = "http://127.0.0.1:3001";
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, v.parse().unwrap());
            }
            h
        };
        assert!(check_same_origin(
            &headers(&[("sec-fetch-site", "same-origin"), ("origin", own)]),
            own
        )
        .is_ok());
        assert!(check_same_origin(&headers(&[("origin", own)]), own).is_ok());
        assert!(check_same_origin(&headers(&[("sec-fetch-site", "same-origin")]), own).is_ok());
        for bad in [
            // Neither header: a script's request, not a click on the page.
            headers(&[]),
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[("sec-fetch-site", "same-site")]),
            headers(&[("origin", "http://evil.example")]),
            headers(&[("origin", "null")]),
        ] {
            assert_eq!(
                check_same_origin(&bad, own).unwrap_err().code,
                CROSS_SITE_SIGN_IN
            );
        }
    }

    #[test]
    fn pages_escape_what_they_show() {
        let html = sign_in_page(
            Flow::Web,
            "http://127.0.0.1/\"><script>",
            "http://127.0.0.1",
            &[("<b>".into(), "0x1".into())],
        );
        assert!(!html.contains("<script>") && !html.contains("<b>"));
        assert!(
            !html.contains("src=") && !html.contains("href="),
            "no external assets"
        );
    }
}
