#!/usr/bin/env bash
# Runs every test: Rust (core, nvm-local) and JS (the built package in Node,
# workerd, Deno, Bun and headless Chromium). Installs what is missing first
# (Deno and Bun from npm, on first use); idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf '\033[1m[test]\033[0m %s\n' "$*" >&2; }

"$ROOT/scripts/setup.sh" chromium
"$ROOT/scripts/build.sh" --all

say "Rust tests (workspace)"
cargo test --workspace --quiet

say "JS tests (Node, workerd, Deno, Bun, Chromium)"
node --test tests/js

say "all tests passed"
