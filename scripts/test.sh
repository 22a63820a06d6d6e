#!/usr/bin/env bash
# The one test command (`npm test`): set-up, host Rust tests, release build, browser tests,
# end-to-end tests against the real servers, the packaging test (npm pack into Vite, webpack
# and plain-HTML apps) and the Rust apps. Runs every stage it can and exits non-zero if any
# failed. The last line is the plain total: `N passed, N failed`.
#
# To fit a 2-core machine, stages that mostly wait on real time overlap, and the CPU-bound
# builds run under `nice -n 10` behind them:
#   - once the wasm build is done, scripts/rust-apps.sh (the Rust apps' cargo build, whatever
#     it runs) and scripts/packaging.sh prepare (npm pack, each app's install and build) start
#     in the background;
#   - the browser tests and the end-to-end tests run side by side;
#   - the packaging and Rust-app tests run once their builds are done.
# A stage that runs in the background writes its output to target/test-logs/<stage>.log,
# printed whole, under the stage's heading, when the stage is reported. Each stage's time in
# the summary is its own wall time (overlapping stages say so), and the total is the run's.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
passed=0
failed_count=0
times=()   # "stage: N s", printed in the summary
section() { printf '\n======== %s ========\n' "$*"; }
LOGS=target/test-logs

# Adds node's / cargo's test counts in log $2 to the totals of stage $1, whose command exited
# with $3 after $4 seconds ($5: a note for the summary).
tally() {
  local name=$1 log=$2 rc=$3 secs=$4 note=${5:-}
  times+=("$name: ${secs} s${note:+ ($note)}")
  local p f
  # node --test: "# pass N" / "# fail N"; cargo: "test result: ok. N passed; M failed".
  p=$(awk '/^# pass [0-9]+$/ { s += $3 } /^test result: / { for (i = 1; i <= NF; i++) if ($i ~ /^passed;?$/) s += $(i-1) } END { print s + 0 }' "$log")
  f=$(awk '/^# fail [0-9]+$/ { s += $3 } /^test result: / { for (i = 1; i <= NF; i++) if ($i ~ /^failed;?$/) s += $(i-1) } END { print s + 0 }' "$log")
  passed=$((passed + p))
  failed_count=$((failed_count + f))
  if [ "$rc" -ne 0 ]; then
    failed+=("$name")
    [ "$f" -eq 0 ] && failed_count=$((failed_count + 1))  # a stage that failed outside its tests
  fi
}

# Runs a stage in the foreground, echoing its output, and adds its test counts to the totals.
# Its time runs from $stage_t0 when set (a wait for its background part came first).
stage() {
  local name=$1; shift
  local log start=${stage_t0:-$SECONDS}
  stage_t0=
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  tally "$name" "$log" "$rc" $((SECONDS - start)) "${stage_note:-}"
  stage_note=
  rm -f "$log"
  return "$rc"
}

# start_bg KEY CMD...: runs CMD in the background now (its own process group, stdin closed),
# its output to $LOGS/KEY.log; its exit code and wall time go to $LOGS/KEY.rc and
# $LOGS/KEY.secs when it ends. join_bg KEY waits for it (in this shell: a stage's pipeline
# cannot wait for this shell's children) and returns its exit code.
declare -A bg_pid=()
start_bg() {
  local key=$1; shift
  rm -f "$LOGS/$key".{rc,secs,cpu,times}
  set -m
  (
    t0=$(date +%s)
    "$@" < /dev/null > "$LOGS/$key.log" 2>&1
    rc=$?
    # Wall time, then the CPU time (user + sys) of what it ran, from `times`.
    times > "$LOGS/$key.times"   # a builtin in this shell: a pipe would run it in a fresh one
    awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } } END { printf "%d\n", s }' "$LOGS/$key.times" > "$LOGS/$key.cpu"
    echo "$(( $(date +%s) - t0 ))" > "$LOGS/$key.secs"
    echo "$rc" > "$LOGS/$key.rc"
  ) &
  bg_pid[$key]=$!
  set +m
}
join_bg() {
  wait "${bg_pid[$1]}"
  unset "bg_pid[$1]"
  return "$(cat "$LOGS/$1.rc" 2>/dev/null || echo 1)"
}
bg_secs() { cat "$LOGS/$1.secs" 2>/dev/null || echo '?'; }
bg_cpu() { cat "$LOGS/$1.cpu" 2>/dev/null || echo '?'; }
# An interrupted run takes its background jobs down with it.
trap 'for p in "${bg_pid[@]}"; do kill -- -"$p" 2>/dev/null; done; exit 130' INT TERM
# report_bg NAME KEY [NOTE]: a stage that ran whole in the background: its log under its
# heading (the section printed before), its counts and time.
report_bg() {
  local name=$1 key=$2 note=${3:-} rc
  join_bg "$key"; rc=$?
  cat "$LOGS/$key.log"
  tally "$name" "$LOGS/$key.log" "$rc" "$(bg_secs "$key")" "${note:+$note, }CPU $(bg_cpu "$key") s"
}

section "setup (scripts/setup.sh)"
if ! bash scripts/setup.sh; then
  echo "test: set-up failed; nothing else can run" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
rm -rf "$LOGS" && mkdir -p "$LOGS"

setup_s=$SECONDS
section "host Rust tests (cargo test, the engine's conformance table included)"
stage "cargo test" cargo test

section "wasm build (scripts/build.sh)"
build_start=$SECONDS
bash scripts/build.sh
build_rc=$?

# The Rust apps' build needs nothing from the wasm build: it starts now whatever the build
# gave, and runs behind the test stages that follow (its log is printed in its own stage).
echo "test: scripts/rust-apps.sh started in the background (nice -n 10; log: $LOGS/rust-apps-build.log)"
start_bg rust-apps-build nice -n 10 bash scripts/rust-apps.sh

if [ "$build_rc" -eq 0 ]; then
  times+=("build: $((SECONDS - build_start)) s")
  if [ -f scripts/packaging.sh ]; then
    echo "test: scripts/packaging.sh prepare started in the background (nice -n 10; log: $LOGS/packaging-prepare.log)"
    start_bg packaging-prepare nice -n 10 bash scripts/packaging.sh prepare
  fi

  section "type tests (node --test tests/types/: tsc on a typed usage file, misuse refused, exports)"
  stage "type tests" node --test tests/types/

  section "node tests (node --test tests/node/: the package in node 20, errors, SSR rendering)"
  stage "node tests" node --test --test-concurrency=1 tests/node/

  # Both mostly wait on real time (timers, tokens expiring): side by side, each in its own
  # Chromium, at normal priority ahead of the niced builds.
  echo
  echo "test: browser tests and end-to-end tests run side by side (logs: $LOGS/browser.log, $LOGS/e2e.log)"
  start_bg browser node --test --test-concurrency=1 tests/browser/
  start_bg e2e bash scripts/e2e.sh

  section "browser tests (node --test tests/browser/, headless Chromium)"
  report_bg "browser tests" browser "alongside e2e"

  section "end-to-end tests (scripts/e2e.sh: demo, Express, sanic-jwt, PubNub, soak, flaky network)"
  report_bg "e2e tests" e2e "alongside browser tests"

  if [ -f scripts/packaging.sh ]; then
    section "packaging test (scripts/packaging.sh: npm pack into Vite, webpack and plain-HTML apps)"
    stage_t0=$SECONDS
    join_bg packaging-prepare; prepare_rc=$?
    packaging_stage() {
      echo "test: scripts/packaging.sh prepare ran in the background ($(bg_secs packaging-prepare) s, CPU $(bg_cpu packaging-prepare) s); its output:"
      cat "$LOGS/packaging-prepare.log"
      if [ "$prepare_rc" -ne 0 ]; then echo "test: scripts/packaging.sh prepare failed" >&2; return 1; fi
      bash scripts/packaging.sh test
    }
    stage_note="+ prepare $(bg_secs packaging-prepare) s, CPU $(bg_cpu packaging-prepare) s, in the background"
    stage "packaging test" packaging_stage
  fi
else
  failed+=("build")
  failed_count=$((failed_count + 1))
  echo "test: build failed; browser, e2e and packaging tests not run" >&2
fi

section "Rust apps (scripts/rust-apps.sh + node --test tests/rust-apps/: Leptos and Yew in Chromium)"
stage_t0=$SECONDS
join_bg rust-apps-build; rust_build_rc=$?
rust_apps_stage() {
  echo "test: scripts/rust-apps.sh ran in the background ($(bg_secs rust-apps-build) s, CPU $(bg_cpu rust-apps-build) s); its output:"
  cat "$LOGS/rust-apps-build.log"
  if [ "$rust_build_rc" -ne 0 ]; then echo "test: scripts/rust-apps.sh failed" >&2; return 1; fi
  node --test --test-concurrency=1 tests/rust-apps/
}
stage_note="+ scripts/rust-apps.sh $(bg_secs rust-apps-build) s, CPU $(bg_cpu rust-apps-build) s, in the background"
stage "Rust apps" rust_apps_stage

section "summary"
echo "stage times: setup: ${setup_s} s; $(IFS=';'; echo "${times[*]}" | sed 's/;/; /g'); total: ${SECONDS} s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  echo "${passed} passed, ${failed_count} failed"
  exit 1
fi
echo "all stages passed"
echo "${passed} passed, ${failed_count} failed"
