//! Prints the wire shapes as TypeScript declarations (see `nvm_x402_types::typescript`).
fn main() {
    print!("{}", nvm_x402_types::typescript());
}
