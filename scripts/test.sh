#!/usr/bin/env bash
# The one test command (`npm test`): set-up, host Rust tests, release build, browser tests.
# Runs every stage it can and exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
section() { printf '\n======== %s ========\n' "$*"; }

section "setup (scripts/setup.sh)"
if ! bash scripts/setup.sh; then
  echo "test: set-up failed; nothing else can run" >&2
  exit 1
fi

section "host Rust tests (cargo test)"
cargo test || failed+=("cargo test")

section "wasm build (scripts/build.sh)"
if bash scripts/build.sh; then
  section "browser tests (node --test tests/browser/, headless Chromium)"
  node --test --test-concurrency=1 tests/browser/ || failed+=("browser tests")
else
  failed+=("build")
  echo "test: build failed; browser tests not run" >&2
fi

section "summary"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all passed"
