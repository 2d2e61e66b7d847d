#!/usr/bin/env bash
# The one way to build nvm-x402: the wasm package into pkg/ (and, with --all,
# the nvm-local binary). Every other entry point (tests, demo, CI) calls this.
#   scripts/build.sh          # pkg/
#   scripts/build.sh --all    # pkg/ and target/release/nvm-local
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"

say() { printf '\033[2m[build]\033[0m %s\n' "$*" >&2; }

say "compiling the core to wasm32 (profile wasm-release)"
# Short source paths in the few panic locations the .wasm keeps (they are data, and long).
REGISTRY="${CARGO_HOME:-$HOME/.cargo}/registry/src"
RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=$REGISTRY= --remap-path-prefix=$ROOT=nvm-x402" \
  cargo build --quiet --target wasm32-unknown-unknown -p nvm-x402 --profile wasm-release
WASM="target/wasm32-unknown-unknown/wasm-release/nvm_x402.wasm"

OUT="$ROOT/pkg"
STAGE="$(mktemp -d "$ROOT/target/pkg.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT

say "generating JS bindings (wasm-bindgen --target web)"
# No default module path: every entry-*.js passes the .wasm (or its URL) explicitly.
wasm-bindgen --target web --omit-default-module-path --out-dir "$STAGE" --out-name nvm_x402 "$WASM"
# The generated glue is shipped minified (about 1.7 KB less gzipped); the hand-written
# facade (core.js) and the types are shipped as written.
node_modules/.bin/esbuild "$STAGE/nvm_x402.js" --minify --format=esm --log-level=warning \
  --outfile="$STAGE/nvm_x402.min.js"
mv "$STAGE/nvm_x402.min.js" "$STAGE/nvm_x402.js"

say "optimising for size (wasm-opt -Oz)"
# --converge repeats -Oz until it stops shrinking; no custom sections are kept.
node_modules/.bin/wasm-opt -Oz --converge --strip-debug --strip-producers --strip-target-features \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$STAGE/nvm_x402_bg.wasm" -o "$STAGE/nvm_x402_bg.opt.wasm"
mv "$STAGE/nvm_x402_bg.opt.wasm" "$STAGE/nvm_x402_bg.wasm"

# The generated .d.ts files are replaced by the hand-owned types in pkg-template/.
rm -f "$STAGE/nvm_x402.d.ts" "$STAGE/nvm_x402_bg.wasm.d.ts"
cp -R pkg-template/. "$STAGE/"
cp LICENSE "$STAGE/"

say "embedding the core for the universal entry, and the CommonJS entry"
# index.js (every bundler and runtime) takes the core from wasm-inline.js: deflated, base64,
# inflated on first use by inflate.js (fflate's inflateSync, bundled; MIT).
node scripts/pkg/embed-wasm.mjs "$STAGE"
node_modules/.bin/esbuild scripts/pkg/inflate.js --bundle --minify --format=esm --log-level=warning \
  --banner:js="/*! inflateSync from fflate 0.8.3, (c) Arjun Barrett, MIT License: https://github.com/101arrowz/fflate */" \
  --outfile="$STAGE/inflate.js"
# require('nvm-x402'): the universal entry as one CommonJS file (Node 20 before 20.19 can't require ESM).
node_modules/.bin/esbuild "$STAGE/index.js" --bundle --minify --format=cjs --platform=neutral --log-level=warning \
  --outfile="$STAGE/index.cjs"
cp "$STAGE/index.d.ts" "$STAGE/index.d.cts"

rm -rf "$OUT"
mv "$STAGE" "$OUT"
trap - EXIT
# Tests, the Worker example and the demo import the package by name, as npm users do.
ln -sfn ../pkg node_modules/nvm-x402
say "pkg/ ready ($(du -sh "$OUT" | cut -f1))"

if [ "${1:-}" = "--all" ]; then
  say "compiling nvm-local (release)"
  cargo build --quiet --release -p nvm-local
fi
