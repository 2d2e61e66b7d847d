#!/usr/bin/env bash
# Installs what the build and tests need, skipping anything already present.
# Idempotent; safe to run on every build. Sourced or run:
#   scripts/setup.sh            # Rust target, wasm-bindgen CLI, npm packages, payments-py venv
#   scripts/setup.sh chromium   # ... and Debian's chromium (browser tests, demo screenshots)
# Everything comes from the package registries (crates.io, npm, Debian).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[2m[setup]\033[0m %s\n' "$*" >&2; }

need() { command -v "$1" >/dev/null 2>&1 || { echo "error: $1 is required ($2)" >&2; exit 1; }; }
need cargo "install Rust with rustup: https://rustup.rs"
need node "install Node.js 20 or newer"
need npm "it comes with Node.js"

# 1. The wasm32 target.
if command -v rustup >/dev/null 2>&1; then
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown >&2
  fi
fi

# 2. wasm-bindgen CLI at exactly the version of the wasm-bindgen crate in Cargo.lock.
WBG_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
if [ -z "$WBG_VERSION" ]; then
  echo "error: wasm-bindgen not found in Cargo.lock" >&2; exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WBG_VERSION" ]; then
  # --debug builds in ~1 min instead of ~3 with identical output; no --locked (a pinned dependency is gone from the registry).
  say "installing wasm-bindgen-cli $WBG_VERSION (about a minute)"
  cargo install wasm-bindgen-cli --version "$WBG_VERSION" --debug --quiet >&2
fi

# 3. npm packages (wasm-opt from binaryen, wrangler/workerd, playwright-core, hono).
stamp="node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

# 4. The official Python SDK, pinned, in a venv in the project's cache: the parity test
#    (tests/js/node/parity.test.mjs) and nvm-local's SDK check drive it.
PAYMENTS_PY_VERSION="1.18.0"
VENV="$ROOT/.cache/payments-py"
if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('payments-py') != '$PAYMENTS_PY_VERSION')" 2>/dev/null; then
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" 2>/dev/null; then
    say "installing python3-venv from Debian"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-venv >&2
  fi
  say "installing payments-py $PAYMENTS_PY_VERSION into .cache/payments-py (the official Python SDK)"
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "payments-py==$PAYMENTS_PY_VERSION" >&2
fi

# 5. Chromium, only when asked (tests and screenshots drive it headless).
if [ "${1:-}" = "chromium" ] && [ ! -x /usr/bin/chromium ]; then
  say "installing chromium from Debian (about a minute)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >&2
fi
