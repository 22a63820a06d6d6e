#!/usr/bin/env bash
# Runs the benchmark (SPEC "Performance budgets" P1-P6) in headless Chromium against a
# loopback server, prints the table and writes bench/RESULTS.md. Assumes scripts/setup.sh
# and scripts/build.sh ran (`npm run bench` does both first).
# PASSES=n (default 3) repeats the passes; QUICK=1 runs small loads and writes no RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f pkg/freshtoken_bg.wasm ]; then
  echo "bench: pkg/ is not built; run scripts/build.sh (npm run bench does)" >&2
  exit 1
fi
exec node bench/run.mjs
