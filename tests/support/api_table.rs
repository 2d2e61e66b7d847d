//! Prints the JS API's names from the core's method table (src/bridge.rs), and
//! the core's error codes (src/error.rs), as JSON, for the JS test that holds
//! core.js and index.d.ts to them:
//! `cargo run --quiet --example api-table`.
use nvm_x402::bridge;
use nvm_x402::protocol::json::{to_text, ObjectBuilder, Value};

fn list(names: impl Iterator<Item = &'static str>) -> Value {
    Value::Array(names.map(Value::from).collect())
}

fn main() {
    let internal = bridge::INTERNAL_FUNCTIONS.iter();
    let table = ObjectBuilder::new()
        .put("methods", list(bridge::methods()))
        .put("functions", list(bridge::functions()))
        .put("internal", list(internal.copied()))
        .put("errorCodes", list(nvm_x402::error::CODES.iter().copied()))
        .build();
    println!("{}", to_text(&table));
}
