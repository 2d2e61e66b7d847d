#!/usr/bin/env bash
# Settle throughput of nvm-local: N concurrent keep-alive clients for S seconds
# against an in-memory server; prints settles/s, latency percentiles and the
# zero-overspend check. Usage: bench/settles.sh [--clients N] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --release -p nvm-local --example settle_bench -- "$@"
