//! The package ships the data types [`nvm_x402_types::typescript`] prints as
//! `pkg-template/wire-types.d.ts` (checked in, so the build needs no native
//! compile): this test fails when that file is not what the Rust descriptions
//! say, so a field renamed, retyped or made optional here reaches the package
//! (and its diff) or fails.

#[test]
fn the_shipped_wire_types_are_the_generated_ones() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../pkg-template/wire-types.d.ts"
    );
    let shipped = std::fs::read_to_string(path).unwrap_or_default();
    let generated = nvm_x402_types::typescript();
    if shipped != generated {
        let line = shipped
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| shipped.lines().count().min(generated.lines().count()));
        panic!(
            "pkg-template/wire-types.d.ts is stale (first difference at line {}: {:?}, generated {:?}).\n\
             Regenerate it and review the diff (it is the package's public data types):\n  \
             cargo run -q -p nvm-x402-types --example ts-declarations > pkg-template/wire-types.d.ts",
            line + 1,
            shipped.lines().nth(line).unwrap_or(""),
            generated.lines().nth(line).unwrap_or(""),
        );
    }
}
