#!/usr/bin/env bash
# Builds examples/conformance (a thin JS handle over freshtoken::web::Refresher) to wasm32 with
# the crate's `web` feature and runs wasm-bindgen --target web into examples/conformance/dist/
# (app.js, app_bg.wasm, index.html), for tests/rust-apps/web-conformance.test.mjs (the
# conformance table played against the `web` feature in headless Chromium). Skipped when
# dist/app_bg.wasm is newer than every input (src/, Cargo.toml, Cargo.lock, the example's own
# files, this script); FORCE=1 rebuilds. Shares target/rust-apps with scripts/rust-apps.sh.
#
# Profile: release at opt-level 1 (a test harness: panics keep their messages), with the std
# built from source when the cargo has no prebuilt wasm32 std (TOOLCHAIN.md §1-2).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=examples/conformance
out=$dir/dist/app_bg.wasm
if [ "${FORCE:-}" != 1 ] && [ -f "$out" ] && [ -f "$dir/dist/index.html" ] &&
   ! find src Cargo.toml Cargo.lock "$dir/src" "$dir/Cargo.toml" "$dir/Cargo.lock" "$dir/index.html" scripts/web-conformance.sh \
     -newer "$out" -print -quit | grep -q .; then
  echo "web-conformance: skip build (dist/ is newer than its inputs)"
  exit 0
fi
source scripts/wasm-cargo.sh
export CARGO_TARGET_DIR="$PWD/target/rust-apps"
echo "web-conformance: cargo build --release --target wasm32-unknown-unknown ($dir)"
RUSTC_BOOTSTRAP=1 nice -n 10 "${wasm_cargo[@]}" build --release --target wasm32-unknown-unknown \
  -Zbuild-std=std,panic_abort --manifest-path "$dir/Cargo.toml"
echo "web-conformance: wasm-bindgen --target web --out-dir $dir/dist"
wasm-bindgen --target web --no-typescript --out-name app --out-dir "$dir/dist" \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/freshtoken_conformance_example.wasm"
cp "$dir/index.html" "$dir/dist/index.html"
echo "web-conformance: built $out ($(wc -c < "$out") bytes)"
