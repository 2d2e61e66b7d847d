//! The `nvm-local` command: run the server, or create an account.

use nvm_local::backend::Backend;
use nvm_local::config::{parse_args, Command, USAGE};
use nvm_local::store::DbLocation;
use nvm_local::{world, Server};
use std::process::ExitCode;

fn main() -> ExitCode {
    let command = match parse_args(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("nvm-local: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Help => print!("{USAGE}"),
        Command::Version => println!("nvm-local {}", env!("CARGO_PKG_VERSION")),
        Command::CreateAccount { name, db } => {
            let created = Backend::open(&DbLocation::File(db.clone()))
                .map_err(|e| e.to_string())
                .and_then(|b| b.create_account(&name).map_err(|e| e.to_string()));
            match created {
                Ok(issued) => {
                    let verb = if issued.created {
                        "created"
                    } else {
                        "exists; new key issued for"
                    };
                    eprintln!(
                        "account {:?} {verb} {} in {}",
                        issued.account.name,
                        issued.account.address,
                        db.display()
                    );
                    println!("{}", issued.api_key);
                }
                Err(e) => {
                    eprintln!("nvm-local: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        Command::Serve(config) => {
            // Listen for signals before anything is printed: whoever reads the
            // first line may send SIGTERM right away.
            let signals = match Signals::install() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("nvm-local: cannot handle signals: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let db = config.db.clone();
            let server = match Server::start(config) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("nvm-local: {e}");
                    return ExitCode::FAILURE;
                }
            };
            // writeln!, not println!: a reader that went away (a closed pipe) must not stop the server.
            use std::io::Write;
            let mut out = std::io::stdout();
            let _ = writeln!(out, "nvm-local listening on {}", server.url());
            let _ = match db {
                DbLocation::File(path) => writeln!(out, "State: {} (SQLite)", path.display()),
                DbLocation::Memory => writeln!(out, "State: in memory (gone on exit)"),
            };
            let _ = write!(out, "{}", world::describe(server.demo_world()));
            let _ = out.flush();
            signals.wait();
            eprintln!("nvm-local: stopping");
            server.shutdown();
        }
    }
    ExitCode::SUCCESS
}

/// SIGINT (Ctrl-C) and SIGTERM, registered up front.
struct Signals {
    runtime: tokio::runtime::Runtime,
    #[cfg(unix)]
    streams: (tokio::signal::unix::Signal, tokio::signal::unix::Signal),
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        #[cfg(unix)]
        let streams = {
            use tokio::signal::unix::{signal, SignalKind};
            let _guard = runtime.enter();
            (
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            )
        };
        Ok(Signals {
            runtime,
            #[cfg(unix)]
            streams,
        })
    }

    /// Blocks until one arrives.
    fn wait(self) {
        #[cfg(unix)]
        {
            let (mut interrupt, mut terminate) = self.streams;
            self.runtime.block_on(async {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            });
        }
        #[cfg(not(unix))]
        self.runtime.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
    }
}
