//! How nvm-local is started: [`Config`] for the server, and the command line
//! (`nvm-local [--port N] [--listen ADDR] [--db PATH | --memory] [--agent-url URL] [--no-mpp]`,
//! `nvm-local account create NAME [--db PATH]`).

use crate::store::DbLocation;
use crate::world::DEFAULT_AGENT_URL;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The port nvm-local listens on by default (the official SDKs' custom backend default).
pub const DEFAULT_PORT: u16 = 3001;
/// The database file used when none is named.
pub const DEFAULT_DB: &str = ".nvm-local.sqlite";

/// A server's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address and port to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// Where the state lives.
    pub db: DbLocation,
    /// The seeded demo agent's base URL (used only when a database is first seeded).
    pub agent_url: String,
    /// The seeded demo MCP server's base URL (its endpoint is `<url>/mcp`).
    pub mcp_url: String,
    /// The seeded demo A2A server's base URL (its endpoint is `<url>/a2a`).
    pub a2a_url: String,
    /// Threads serving requests.
    pub worker_threads: usize,
    /// Open connections at most; at the cap (or when the process runs out of
    /// file descriptors) the connection idle longest is closed for a new one.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, and how long a
    /// kept-alive connection may sit idle (a silent or slow-loris client is cut off).
    pub header_timeout: Duration,
    /// How long one request may take once its headers are in (body and handler): then 408.
    pub request_timeout: Duration,
    /// Origins (besides this machine's) the sign-in and card-setup pages may
    /// return to (`--allow-origin`, repeatable): `scheme://host[:port]`.
    pub allowed_origins: Vec<String>,
    /// Whether the MPP endpoints (`api/v1/mpp/*`) answer; off (`--no-mpp`),
    /// all four answer `BCK.MPP.0002` (503), as the hosted backend does when
    /// a deployment has no MPP secret.
    pub mpp: bool,
}

/// Default [`Config::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default [`Config::header_timeout`].
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`Config::request_timeout`].
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for Config {
    /// `127.0.0.1:3001`, `./.nvm-local.sqlite`, agent at `http://127.0.0.1:8787`.
    fn default() -> Self {
        Config {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT),
            db: DbLocation::File(PathBuf::from(DEFAULT_DB)),
            agent_url: DEFAULT_AGENT_URL.to_owned(),
            mcp_url: crate::world::DEFAULT_MCP_URL.to_owned(),
            a2a_url: crate::world::DEFAULT_A2A_URL.to_owned(),
            worker_threads: std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .clamp(2, 8),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            allowed_origins: Vec::new(),
            mpp: true,
        }
    }
}

impl Config {
    /// An in-memory server on a free loopback port (tests, benchmarks).
    ///
    /// ```
    /// let config = nvm_local::Config::in_memory();
    /// assert_eq!(config.listen.port(), 0);
    /// ```
    pub fn in_memory() -> Self {
        Config {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            db: DbLocation::Memory,
            ..Config::default()
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the server.
    Serve(Config),
    /// Create an account (or a new key for an existing name) and print its key.
    CreateAccount {
        /// The account name.
        name: String,
        /// The database.
        db: PathBuf,
    },
    /// Print the usage.
    Help,
    /// Print the version.
    Version,
}

/// The usage text.
pub const USAGE: &str = "\
nvm-local: a local backend that speaks the Nevermined API

USAGE:
    nvm-local [--port N] [--listen ADDR] [--db PATH | --memory] [--agent-url URL] [--mcp-url URL] [--a2a-url URL] [--no-mpp]
    nvm-local account create NAME [--db PATH]

OPTIONS:
    --port N          port to listen on (default 3001; 0 picks a free one)
    --listen ADDR     address to listen on, IP or IP:PORT (default 127.0.0.1)
    --db PATH         SQLite file holding the state (default ./.nvm-local.sqlite)
    --memory          keep the state in memory only (gone on exit)
    --agent-url URL   base URL of the seeded demo agent (default http://127.0.0.1:8787)
    --mcp-url URL     base URL of the seeded demo MCP server (default http://127.0.0.1:8788)
    --a2a-url URL     base URL of the seeded demo A2A server (default http://127.0.0.1:8789)
    --allow-origin O  an origin (https://app.example) the sign-in and card pages may return
                      to, besides this machine's (repeatable)
    --no-mpp          switch MPP off: api/v1/mpp/* answer BCK.MPP.0002 (503)
    -h, --help        this text
    -V, --version     the version
";

/// Parses the arguments after the program name.
///
/// ```
/// use nvm_local::config::{parse_args, Command};
/// let Command::Serve(c) = parse_args(["--port", "0", "--memory"]).unwrap() else { panic!() };
/// assert_eq!(c.listen.port(), 0);
/// assert!(parse_args(["--port", "x"]).is_err());
/// ```
pub fn parse_args<I, S>(args: I) -> Result<Command, String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let args: Vec<String> = args.into_iter().map(Into::into).collect();
    let mut config = Config::default();
    let mut port: Option<u16> = None;
    let mut db: Option<PathBuf> = None;
    let mut memory = false;
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg, None),
        };
        let mut value = || -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--port" => {
                port = Some(
                    value()?
                        .parse()
                        .map_err(|_| "--port takes a port number (0-65535)".to_owned())?,
                )
            }
            "--listen" => {
                let v = value()?;
                config.listen = match (v.parse::<SocketAddr>(), v.parse::<IpAddr>()) {
                    (Ok(addr), _) => addr,
                    (_, Ok(ip)) => SocketAddr::new(ip, config.listen.port()),
                    _ => {
                        return Err(format!(
                            "--listen takes an IP address or IP:PORT (got {v:?})"
                        ))
                    }
                }
            }
            "--db" => db = Some(PathBuf::from(value()?)),
            "--allow-origin" => {
                let v = value()?;
                match nvm_x402::protocol::url::Url::parse(&v) {
                    Some(u)
                        if (u.scheme == "http" || u.scheme == "https")
                            && u.origin() == v.trim_end_matches('/') =>
                    {
                        config.allowed_origins.push(u.origin())
                    }
                    _ => {
                        return Err(format!(
                            "--allow-origin takes an origin, scheme://host[:port] (got {v:?})"
                        ))
                    }
                }
            }
            "--memory" => memory = true,
            "--no-mpp" => config.mpp = false,
            "--agent-url" | "--mcp-url" | "--a2a-url" => {
                let v = value()?;
                if !(v.starts_with("http://") || v.starts_with("https://"))
                    || nvm_x402::protocol::url::Url::parse(&v).is_none()
                {
                    return Err(format!("{arg} takes an http(s) URL (got {v:?})"));
                }
                let v = v.trim_end_matches('/').to_owned();
                match arg {
                    "--agent-url" => config.agent_url = v,
                    "--mcp-url" => config.mcp_url = v,
                    _ => config.a2a_url = v,
                }
            }
            f if f.starts_with('-') => return Err(format!("unknown option {f}")),
            _ => positional.push(arg.to_owned()),
        }
        i += 1;
    }
    if let Some(p) = port {
        config.listen.set_port(p);
    }
    match positional.as_slice() {
        [] => {
            if memory && db.is_some() {
                return Err("--memory and --db exclude each other".into());
            }
            config.db = if memory {
                DbLocation::Memory
            } else {
                DbLocation::File(db.unwrap_or_else(|| PathBuf::from(DEFAULT_DB)))
            };
            Ok(Command::Serve(config))
        }
        [a, c, name] if a == "account" && c == "create" => {
            if memory {
                return Err("account create needs a database file (--db), not --memory".into());
            }
            Ok(Command::CreateAccount {
                name: name.clone(),
                db: db.unwrap_or_else(|| PathBuf::from(DEFAULT_DB)),
            })
        }
        other => Err(format!("unexpected arguments: {}", other.join(" "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_options() {
        let Command::Serve(c) = parse_args(Vec::<String>::new()).unwrap() else {
            panic!()
        };
        assert_eq!(
            (c.listen.to_string().as_str(), &c.db),
            (
                "127.0.0.1:3001",
                &DbLocation::File(PathBuf::from(DEFAULT_DB))
            )
        );
        let Command::Serve(c) = parse_args([
            "--listen",
            "0.0.0.0:9",
            "--port=4000",
            "--db",
            "x.sqlite",
            "--agent-url",
            "http://localhost:9000/",
            "--mcp-url",
            "http://localhost:9001",
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            (c.listen.to_string().as_str(), c.agent_url.as_str()),
            ("0.0.0.0:4000", "http://localhost:9000")
        );
        assert_eq!(c.db, DbLocation::File(PathBuf::from("x.sqlite")));
        assert_eq!(c.mcp_url, "http://localhost:9001");
        assert!(c.mpp);
        let Command::Serve(c) = parse_args(["--no-mpp"]).unwrap() else {
            panic!()
        };
        assert!(!c.mpp);
        let Command::Serve(c) = parse_args(["--listen", "::1"]).unwrap() else {
            panic!()
        };
        assert_eq!(c.listen.to_string(), "[::1]:3001");
    }

    #[test]
    fn account_command_and_errors() {
        assert_eq!(
            parse_args(["account", "create", "alice", "--db", "d"]).unwrap(),
            Command::CreateAccount {
                name: "alice".into(),
                db: PathBuf::from("d")
            }
        );
        assert_eq!(parse_args(["--help"]).unwrap(), Command::Help);
        for bad in [
            &["--port", "70000"][..],
            &["--port"],
            &["--bogus"],
            &["serve"],
            &["--memory", "--db", "x"],
            &["--agent-url", "ftp://x"],
            &["account", "create", "a", "--memory"],
        ] {
            assert!(parse_args(bad.iter().copied()).is_err(), "{bad:?}");
        }
    }
}
