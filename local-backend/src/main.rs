//! nvm-local: a stateful, Nevermined-API-compatible backend on 127.0.0.1.
fn main() {
    eprintln!("nvm-local: not built yet");
    std::process::exit(1);
}
