#!/usr/bin/env bash
# Builds the release wasm and pkg/ (wasm-bindgen --target web + wasm-opt -O3 -Oz), then prints
# the sizes of what ships. Skips the build when pkg/freshtoken_bg.wasm is newer than every
# input (src/**, Cargo.toml, Cargo.lock, this script). FORCE=1 rebuilds anyway.
# Run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

out=pkg/freshtoken_bg.wasm

newer_input() {
  find src Cargo.toml Cargo.lock scripts/build.sh -newer "$out" -print -quit 2>/dev/null | grep -q .
}

if [ "${FORCE:-}" != 1 ] && [ -f "$out" ] && [ -f pkg/freshtoken.js ] && ! newer_input; then
  echo "build: skip  wasm build (pkg/ is newer than src/, Cargo.toml, Cargo.lock)"
else
  # The cargo that can build wasm32 (rustup's with the target, else Debian's): wasm_cargo.
  source scripts/wasm-cargo.sh

  echo "build: cargo build --release --features npm (wasm32-unknown-unknown, std from source, panic=immediate-abort)"
  # --features npm: the npm boundary (src/wasm/: the exports, the allocator) exists only in
  # this build, never for a Rust app using the `web` feature.
  # -Cpanic=immediate-abort (TOOLCHAIN.md §6b): panics trap without a message, which is
  # why the wasm code must not panic at all. Without the reference-types and multivalue
  # features (on by default since Rust 1.82) wasm-bindgen keeps JS values in its JS-side
  # slab instead of an externref table and returns pairs through memory; both glue and
  # wasm come out smaller, and the module also loads in older engines.
  # -inline-threshold=0: LLVM inlines a call only where that makes the code no larger
  # (with opt-level 2 then, see Cargo.toml; measured gzip -9 of the shipped wasm at one
  # source: 10,695 B with the default threshold, 10,125 B at 25, 10,080 B at 10, 10,037 B
  # at 0; with opt-level 3 now: 10,457 B default, 9,444 B at 0).
  RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none -Ctarget-feature=-reference-types,-multivalue -Cllvm-args=-inline-threshold=0" \
    "${wasm_cargo[@]}" build --release --lib --target wasm32-unknown-unknown --features npm \
    -Zbuild-std=std,panic_abort

  echo "build: wasm-bindgen --target web --encode-into always --out-dir pkg"
  # --encode-into always: strings go into wasm memory by TextEncoder.encodeInto alone (every
  # browser since 2019 has it), without the fallback to TextEncoder.encode.
  wasm-bindgen --target web --encode-into always --out-dir pkg target/wasm32-unknown-unknown/release/freshtoken.wasm

  echo "build: wasm-opt -O3 -Oz (binaryen $(node -p "require('binaryen/package.json').version"), npm)"
  # npm's binaryen, not Debian's 108 (108 broke wasm-bindgen's externref table when
  # reference-types were on). The features are the ones Rust 1.9x emits (TOOLCHAIN.md §6)
  # minus the two turned off above. --converge repeats -Oz until it stops shrinking; the
  # producers and target_features sections are metadata no browser reads (-214 B gzip
  # together). -O4 first, then -Oz: with the engine (ae2abfd, opt-level 2) 29,578 B gzip
  # against 29,641 B for -O3 -Oz and 29,595 B for -Oz alone. --low-memory-unused (-112 B):
  # rustc links wasm32 with the stack first (1 MiB, growing down to 0) and data after it,
  # so the low 1 KiB is reached only by a stack 1 KiB short of overflowing. Not taken:
  # --traps-never-happen (-169 B more), which would let a check that traps be optimised
  # away: a trap is how this build stops on a broken invariant.
  node_modules/.bin/wasm-opt -O4 -Oz --low-memory-unused --converge --strip-producers --strip-target-features --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals \
    "$out" -o "$out"
fi

node scripts/size.mjs
