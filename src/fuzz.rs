//! Property-based fuzzing for the test suite: proptest with a fixed seed, so
//! every run tries the same thousands of cases (a failure reproduces, shrunk
//! to a minimal input) and no file is written next to the sources.

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use std::cell::Cell;

/// A proptest configuration: `cases` cases from a fixed seed, no persisted failures.
pub fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x6e76_6d2d_7834_3032),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Runs `check` on `cases` values of `strategy` (panicking with the shrunk
/// input when it panics) and returns how many it counted as interesting
/// (returned `true` for), so a test can assert the fuzzer reached the cases
/// it is about.
pub fn run<S: Strategy>(cases: u32, strategy: S, check: impl Fn(S::Value) -> bool) -> u32 {
    let counted = Cell::new(0);
    let mut runner = TestRunner::new(config(cases));
    let result = runner.run(&strategy, |value| {
        if check(value) {
            counted.set(counted.get() + 1);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    counted.get()
}
