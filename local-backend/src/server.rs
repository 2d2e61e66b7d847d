//! [`Server`]: starts nvm-local on its own thread and Tokio runtime, so a
//! test (or `main`) gets a running server and its real address back at once,
//! and stops it with [`ServerHandle::shutdown`].

use crate::backend::Backend;
use crate::config::Config;
use crate::http::{router, App};
use axum::serve::ListenerExt;
use serde_json::Value;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::watch;

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
            .seed_demo_world(&config.agent_url)
            .map_err(|e| io::Error::other(format!("cannot seed the demo world: {e}")))?;
        let listener = std::net::TcpListener::bind(config.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let app = Arc::new(App {
            backend,
            bound: addr,
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.worker_threads.max(1))
            .thread_name("nvm-local-worker")
            .enable_all()
            .build()?;
        let (stop, stopped) = watch::channel(false);
        let thread = std::thread::Builder::new()
            .name("nvm-local".into())
            .spawn(move || {
                runtime.block_on(serve(listener, app, stopped));
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

async fn serve(listener: std::net::TcpListener, app: Arc<App>, mut stopped: watch::Receiver<bool>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l.tap_io(|tcp| {
            // Small JSON answers on keep-alive connections: don't wait for Nagle.
            let _ = tcp.set_nodelay(true);
        }),
        Err(e) => {
            eprintln!("nvm-local: cannot serve: {e}");
            return;
        }
    };
    let mut signal = stopped.clone();
    let server = axum::serve(listener, router(app)).with_graceful_shutdown(async move {
        let _ = signal.wait_for(|stop| *stop).await;
    });
    let grace = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
        tokio::time::sleep(GRACE).await;
    };
    tokio::select! {
        result = server => if let Err(e) = result { eprintln!("nvm-local: server error: {e}") },
        _ = grace => eprintln!("nvm-local: requests still running after {GRACE:?}; stopping anyway"),
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
