#!/usr/bin/env bash
# Builds the Rust example apps (examples/leptos, examples/yew) to wasm32 with the crate's
# `web` feature, runs wasm-bindgen --target web into examples/<app>/dist/ (app.js,
# app_bg.wasm, index.html) and prints each app's wasm size (raw, gzip -9). An app whose
# dist/app_bg.wasm is newer than every input (src/, Cargo.toml, Cargo.lock, the app's own
# files, this script) is skipped; FORCE=1 rebuilds. Both apps share one target directory
# (target/rust-apps), so the crates they share are built once.
#
# Profile: release (opt-level "z", LTO, one codegen unit, panic abort), with the std built
# from source when the cargo has no prebuilt wasm32 std (TOOLCHAIN.md §1-2).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wasm-cargo.sh
export CARGO_TARGET_DIR="$PWD/target/rust-apps"

apps=${RUST_APPS:-leptos yew}
for app in $apps; do
  dir=examples/$app
  out=$dir/dist/app_bg.wasm
  if [ "${FORCE:-}" != 1 ] && [ -f "$out" ] && [ -f "$dir/dist/index.html" ] &&
     ! find src Cargo.toml Cargo.lock "$dir/src" "$dir/Cargo.toml" "$dir/Cargo.lock" "$dir/index.html" scripts/rust-apps.sh \
       -newer "$out" -print -quit | grep -q .; then
    echo "rust-apps: skip  $app (dist/ is newer than its inputs)"
  else
    echo "rust-apps: cargo build --release --target wasm32-unknown-unknown ($app)"
    RUSTC_BOOTSTRAP=1 "${wasm_cargo[@]}" build --release --target wasm32-unknown-unknown \
      -Zbuild-std=std,panic_abort --manifest-path "$dir/Cargo.toml"
    echo "rust-apps: wasm-bindgen --target web --out-dir $dir/dist"
    wasm-bindgen --target web --no-typescript --out-name app --out-dir "$dir/dist" \
      "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/freshtoken-$app-example.wasm"
    cp "$dir/index.html" "$dir/dist/index.html"
  fi
  raw=$(wc -c < "$out")
  gz=$(gzip -9 -c "$out" | wc -c)
  echo "rust-apps: $app wasm $raw bytes, $gz bytes gzip -9 ($out)"
done

# The conformance app of the `web` feature (examples/conformance: the table's third runner and
# the Rust face's DPoP and mixed-tab tests drive it); built here too so that `npm test` builds
# it in the background with the example apps (its tests' before hook then finds it fresh).
bash scripts/web-conformance.sh
