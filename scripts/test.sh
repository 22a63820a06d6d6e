#!/usr/bin/env bash
# The one test command (`npm test`): set-up, host Rust tests, release build, browser tests,
# end-to-end tests against the real servers, and the packaging test (npm pack into Vite,
# webpack and plain-HTML apps). Runs every stage it can and exits non-zero if any failed.
# The last line is the plain total: `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
passed=0
failed_count=0
times=()   # "stage: N s", printed in the summary
section() { printf '\n======== %s ========\n' "$*"; }

# Runs a stage, echoing its output, and adds node's / cargo's test counts to the totals.
stage() {
  local name=$1; shift
  local log start=$SECONDS
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  times+=("$name: $((SECONDS - start)) s")
  local p f
  # node --test: "# pass N" / "# fail N"; cargo: "test result: ok. N passed; M failed".
  p=$(awk '/^# pass [0-9]+$/ { s += $3 } /^test result: / { for (i = 1; i <= NF; i++) if ($i ~ /^passed;?$/) s += $(i-1) } END { print s + 0 }' "$log")
  f=$(awk '/^# fail [0-9]+$/ { s += $3 } /^test result: / { for (i = 1; i <= NF; i++) if ($i ~ /^failed;?$/) s += $(i-1) } END { print s + 0 }' "$log")
  rm -f "$log"
  passed=$((passed + p))
  failed_count=$((failed_count + f))
  if [ "$rc" -ne 0 ]; then
    failed+=("$name")
    [ "$f" -eq 0 ] && failed_count=$((failed_count + 1))  # a stage that failed outside its tests
  fi
  return "$rc"
}

section "setup (scripts/setup.sh)"
if ! bash scripts/setup.sh; then
  echo "test: set-up failed; nothing else can run" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

setup_s=$SECONDS
section "host Rust tests (cargo test, the engine's conformance table included)"
stage "cargo test" cargo test

section "wasm build (scripts/build.sh)"
build_start=$SECONDS
if bash scripts/build.sh; then
  times+=("build: $((SECONDS - build_start)) s")
  section "type tests (node --test tests/types/: tsc on a typed usage file, misuse refused, exports)"
  stage "type tests" node --test tests/types/

  section "node tests (node --test tests/node/: the package in node 20, errors, SSR rendering)"
  stage "node tests" node --test --test-concurrency=1 tests/node/

  section "browser tests (node --test tests/browser/, headless Chromium)"
  stage "browser tests" node --test --test-concurrency=1 tests/browser/

  section "end-to-end tests (scripts/e2e.sh: demo, Express, sanic-jwt, PubNub, soak)"
  stage "e2e tests" bash scripts/e2e.sh

  if [ -f scripts/packaging.sh ]; then
    section "packaging test (scripts/packaging.sh: npm pack into Vite, webpack and plain-HTML apps)"
    stage "packaging test" bash scripts/packaging.sh
  fi
else
  failed+=("build")
  failed_count=$((failed_count + 1))
  echo "test: build failed; browser, e2e and packaging tests not run" >&2
fi

section "Rust apps (scripts/rust-apps.sh + node --test tests/rust-apps/: Leptos and Yew in Chromium)"
stage "Rust apps" bash -c 'bash scripts/rust-apps.sh && node --test --test-concurrency=1 tests/rust-apps/'

section "summary"
echo "stage times: setup: ${setup_s} s; $(IFS=';'; echo "${times[*]}" | sed 's/;/; /g'); total: ${SECONDS} s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  echo "${passed} passed, ${failed_count} failed"
  exit 1
fi
echo "all stages passed"
echo "${passed} passed, ${failed_count} failed"
