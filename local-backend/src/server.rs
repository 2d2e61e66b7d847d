//! [`Server`]: starts nvm-local on its own thread and Tokio runtime, so a
//! test (or `main`) gets a running server and its real address back at once,
//! and stops it with [`ServerHandle::shutdown`].

use crate::backend::Backend;
use crate::config::Config;
use crate::http::{router, App, PeerAddr};
use axum::body::Body;
use axum::http::StatusCode;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::Value;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;
use std::time::Instant;
use tokio::sync::watch;
use tokio::sync::Notify;
use tower_http::timeout::TimeoutLayer;

/// How long a stopping server waits for requests in flight.
const GRACE: Duration = Duration::from_secs(5);

/// Starts servers.
pub struct Server;

/// A running server. Dropping it stops it.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    demo_world: Value,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Opens the database (seeding the demo world on first use), binds the
    /// address and serves on a background thread.
    ///
    /// ```
    /// let server = nvm_local::Server::start(nvm_local::Config::in_memory()).unwrap();
    /// assert_ne!(server.addr().port(), 0);
    /// server.shutdown();
    /// ```
    pub fn start(config: Config) -> io::Result<ServerHandle> {
        let backend = Backend::open(&config.db)
            .map_err(|e| io::Error::other(format!("cannot open the database: {e}")))?;
        let demo_world = backend
            .seed_demo_world(&config.agent_url, &config.mcp_url, &config.a2a_url)
            .map_err(|e| io::Error::other(format!("cannot seed the demo world: {e}")))?;
        let listener = std::net::TcpListener::bind(config.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let app = Arc::new(App {
            backend,
            bound: addr,
            order_reads: Default::default(),
            allowed_origins: config.allowed_origins.clone(),
            mpp: config.mpp,
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.worker_threads.max(1))
            .thread_name("nvm-local-worker")
            .enable_all()
            .build()?;
        let (stop, stopped) = watch::channel(false);
        let serve_config = config.clone();
        let thread = std::thread::Builder::new()
            .name("nvm-local".into())
            .spawn(move || {
                runtime.block_on(serve(listener, app, serve_config, stopped));
                runtime.shutdown_timeout(Duration::from_secs(1));
            })?;
        Ok(ServerHandle {
            addr,
            demo_world,
            stop,
            thread: Some(thread),
        })
    }
}

/// What the accept loop knows of each open connection: since when it has been
/// idle (no request in flight; `None` while one is), and how to close it.
struct Connections {
    slots: Mutex<Vec<Slot>>,
    next_id: AtomicU64,
}

struct Slot {
    id: u64,
    idle_since: Option<Instant>,
    close: Arc<Notify>,
}

impl Connections {
    fn open(&self) -> (u64, Arc<Notify>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let close = Arc::new(Notify::new());
        self.lock().push(Slot {
            id,
            idle_since: Some(Instant::now()),
            close: close.clone(),
        });
        (id, close)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_idle(&self, id: u64, idle: bool) {
        if let Some(slot) = self.lock().iter_mut().find(|s| s.id == id) {
            slot.idle_since = idle.then(Instant::now);
        }
    }

    fn closed(&self, id: u64) {
        self.lock().retain(|s| s.id != id);
    }

    fn count(&self) -> usize {
        self.lock().len()
    }

    /// Closes the connection idle longest (a silent client, or a kept-alive one
    /// nobody uses); false when every connection has a request in flight.
    fn evict_idlest(&self) -> bool {
        let slots = self.lock();
        match slots
            .iter()
            .filter_map(|s| s.idle_since.map(|t| (t, s)))
            .min_by_key(|(t, _)| *t)
        {
            Some((_, slot)) => {
                slot.close.notify_one();
                true
            }
            None => false,
        }
    }

    fn close_all(&self) {
        for slot in self.lock().iter() {
            slot.close.notify_one();
        }
    }
}

/// Marks its connection busy while a request is in flight.
struct InFlight {
    connections: Arc<Connections>,
    id: u64,
}

impl InFlight {
    fn new(connections: &Arc<Connections>, id: u64) -> Self {
        connections.set_idle(id, false);
        InFlight {
            connections: connections.clone(),
            id,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.connections.set_idle(self.id, true);
    }
}

/// The accept loop: hyper's http1 server with a header-read (and keep-alive
/// idle) timeout, a per-request timeout, and a connection cap that closes the
/// idlest connection rather than make new clients wait, so silent or
/// slow-loris clients can't lock others out.
async fn serve(
    listener: std::net::TcpListener,
    app: Arc<App>,
    config: Config,
    mut stopped: watch::Receiver<bool>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("nvm-local: cannot serve: {e}");
            return;
        }
    };
    let router = router(app).layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        config.request_timeout,
    ));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .keep_alive(true);
    let connections = Arc::new(Connections {
        slots: Mutex::new(Vec::new()),
        next_id: AtomicU64::new(0),
    });
    let mut tasks = tokio::task::JoinSet::new();
    let max = config.max_connections.max(1);
    loop {
        let accepted = tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => break,
            accepted = listener.accept() => accepted,
        };
        while tasks.try_join_next().is_some() {}
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors (EMFILE/ENFILE): free one from an idle client.
                if matches!(e.raw_os_error(), Some(23 | 24)) {
                    connections.evict_idlest();
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if connections.count() >= max && !connections.evict_idlest() {
            drop(tcp); // every connection is busy: refuse rather than queue
            continue;
        }
        // Small JSON answers on keep-alive connections: don't wait for Nagle.
        let _ = tcp.set_nodelay(true);
        let (id, close) = connections.open();
        let service = {
            let (router, connections) = (router.clone(), connections.clone());
            hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
                let guard = InFlight::new(&connections, id);
                let mut router = router.clone();
                request.extensions_mut().insert(PeerAddr(peer));
                async move {
                    let response = tower::Service::call(&mut router, request.map(Body::new)).await;
                    drop(guard);
                    response
                }
            })
        };
        let conn = http.serve_connection(TokioIo::new(tcp), service);
        let connections = connections.clone();
        tasks.spawn(async move {
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = close.notified() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            connections.closed(id);
        });
    }
    // Stopping: no new connections; idle ones close now, busy ones after their answer.
    connections.close_all();
    let drained = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(GRACE, drained).await.is_err() {
        eprintln!("nvm-local: requests still running after {GRACE:?}; stopping anyway");
    }
}

impl ServerHandle {
    /// The address it listens on (the real port when started with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The seeded demo world (without `backendUrl`).
    pub fn demo_world(&self) -> &Value {
        &self.demo_world
    }

    /// Stops accepting connections, lets requests in flight finish (up to 5 s) and waits for the thread.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
