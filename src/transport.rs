//! The one I/O seam. Everything that touches the outside world — HTTP, the
//! clock, randomness, warnings — goes through [`Transport`], so the rest of
//! the crate is testable with a recording mock. In WebAssembly the
//! implementation calls the global `fetch` (or one the caller injects); it
//! lives in `src/wasm/` with the other JS bindings. No `Send` bound: JS
//! runtimes are single-threaded.

use crate::error::Result;

/// An HTTP request as a plain value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// The absolute URL.
    pub url: String,
    /// Header names and values, in the order sent.
    pub headers: Vec<(&'static str, String)>,
    /// The body (JSON text), if any.
    pub body: Option<String>,
}

impl HttpRequest {
    /// The value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP response as a plain value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body as text.
    pub body: String,
}

/// Sends requests and provides the other host facilities the core needs.
///
/// ```
/// use nvm_x402::transport::{HttpRequest, HttpResponse, Transport};
/// struct Canned;
/// impl Transport for Canned {
///     async fn send(&self, _: HttpRequest) -> nvm_x402::Result<HttpResponse> {
///         Ok(HttpResponse { status: 200, body: "{}".into() })
///     }
///     fn now_ms(&self) -> u64 { 0 }
/// }
/// ```
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Sends one request. A transport error (`network_error`, `timeout`) is an
    /// `Err`; any HTTP answer, whatever its status, is an `Ok`.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse>;

    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;

    /// 64 random bits (nonces). The default mixes the clock; hosts should override.
    fn random_u64(&self) -> u64 {
        let t = self.now_ms();
        t.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (t >> 29)
    }

    /// Shows a warning to the developer (deprecations). Default: nothing.
    fn warn(&self, _message: &str) {}
}

/// A scripted, recording transport for tests.
#[cfg(test)]
pub(crate) mod mock {
    use super::{HttpRequest, HttpResponse, Transport};
    use crate::error::{Error, Result};
    use std::cell::{Cell, RefCell};

    type Answer = Box<dyn Fn(&HttpRequest) -> Result<HttpResponse>>;

    /// Answers by (method, path suffix); records every request.
    #[derive(Default)]
    pub struct MockTransport {
        routes: RefCell<Vec<(&'static str, String, Answer)>>,
        pub sent: RefCell<Vec<HttpRequest>>,
        pub warnings: RefCell<Vec<String>>,
        pub now: Cell<u64>,
    }

    impl MockTransport {
        pub fn new() -> Self {
            Self::default()
        }

        /// Answers `method` requests whose URL path ends with `path` (later routes win).
        pub fn on(
            &self,
            method: &'static str,
            path: &str,
            answer: impl Fn(&HttpRequest) -> Result<HttpResponse> + 'static,
        ) -> &Self {
            self.routes
                .borrow_mut()
                .push((method, path.to_owned(), Box::new(answer)));
            self
        }

        /// Answers with a JSON body.
        pub fn json(
            &self,
            method: &'static str,
            path: &str,
            status: u16,
            body: crate::protocol::json::Value,
        ) -> &Self {
            self.on(method, path, move |_| {
                Ok(HttpResponse {
                    status,
                    body: body.to_string(),
                })
            })
        }

        /// The JSON body of the last request sent to a path ending with `path`.
        pub fn last_body(&self, path: &str) -> crate::protocol::json::Value {
            let sent = self.sent.borrow();
            let request = sent
                .iter()
                .rev()
                .find(|r| r.url.split('?').next().unwrap_or("").ends_with(path))
                .unwrap_or_else(|| panic!("nothing was sent to {path}"));
            crate::protocol::json::parse(request.body.as_deref().unwrap_or("null"))
                .expect("a JSON body")
        }

        /// A client with this API key over a fresh mock.
        pub fn client(key: &str) -> crate::Payments<MockTransport> {
            let options = crate::protocol::PaymentsOptions {
                nvm_api_key: Some(key.into()),
                ..Default::default()
            };
            crate::Payments::new(&options, MockTransport::new()).expect("a valid test key")
        }

        /// Requests sent to paths ending with `path`.
        pub fn count(&self, path: &str) -> usize {
            self.sent
                .borrow()
                .iter()
                .filter(|r| r.url.split('?').next().unwrap_or("").ends_with(path))
                .count()
        }
    }

    impl Transport for MockTransport {
        async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
            self.sent.borrow_mut().push(request.clone());
            let path = request.url.split('?').next().unwrap_or("").to_owned();
            let routes = self.routes.borrow();
            let route = routes
                .iter()
                .rev()
                .find(|(m, p, _)| *m == request.method && path.ends_with(p.as_str()));
            match route {
                Some((_, _, answer)) => answer(&request),
                None => Err(Error::Network(format!(
                    "no scripted answer for {} {path}",
                    request.method
                ))),
            }
        }

        fn now_ms(&self) -> u64 {
            self.now.get()
        }

        fn warn(&self, message: &str) {
            self.warnings.borrow_mut().push(message.to_owned());
        }
    }
}
