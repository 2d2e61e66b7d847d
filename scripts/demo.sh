#!/usr/bin/env bash
# Builds everything, starts nvm-local (the local backend) and prints its URL.
# Ctrl-C stops everything this script started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/build.sh" --all

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

BACKEND_PORT="${NVM_LOCAL_PORT:-3001}"
target/release/nvm-local --port "$BACKEND_PORT" --db "$ROOT/.nvm-local.sqlite" &
PIDS+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$BACKEND_PORT/health" >/dev/null && break; sleep 0.1; done

printf '\n  nvm-local: http://127.0.0.1:%s/  (demo accounts: http://127.0.0.1:%s/local/v1/demo)\n\n  Ctrl-C to stop.\n' "$BACKEND_PORT" "$BACKEND_PORT"
wait
