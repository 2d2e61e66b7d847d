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
            let db = config.db.clone();
            let server = match Server::start(config) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("nvm-local: {e}");
                    return ExitCode::FAILURE;
                }
            };
            println!("nvm-local listening on {}", server.url());
            match db {
                DbLocation::File(path) => println!("State: {} (SQLite)", path.display()),
                DbLocation::Memory => println!("State: in memory (gone on exit)"),
            }
            print!("{}", world::describe(server.demo_world()));
            use std::io::Write;
            let _ = std::io::stdout().flush();
            wait_for_signal();
            eprintln!("nvm-local: stopping");
            server.shutdown();
        }
    }
    ExitCode::SUCCESS
}

/// Blocks until SIGINT (Ctrl-C) or SIGTERM.
fn wait_for_signal() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a signal-only runtime starts");
    runtime.block_on(async {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM can be handled");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    });
}
