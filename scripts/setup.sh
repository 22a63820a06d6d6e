#!/usr/bin/env bash
# Installs what building and testing freshtoken needs, and nothing that is already there.
#
#   - a Rust toolchain that can build wasm32-unknown-unknown (rustup's, if it has the
#     target and rust-src; otherwise Debian's rustc-web 1.96 with its std sources + lld);
#   - the wasm-bindgen CLI at exactly the wasm-bindgen version in Cargo.lock;
#   - Chromium + chromedriver (Debian);
#   - node_modules (npm ci): playwright-core, and binaryen 132 for wasm-opt. Debian's binaryen
#     108 is not used: it rewrites the export of wasm-bindgen's externref table to point at the
#     funcref table (even with no passes), and the module then fails to instantiate.
#
# Idempotent: a second run only checks, and says what it skipped.
# Never runs `rustup target add` (it hangs on the offline machines; see TOOLCHAIN.md).
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
say()  { printf 'setup: %s\n' "$*"; }
skip() { printf 'setup: skip  %s\n' "$*"; }

SUDO=
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=sudo; fi

# ---------------------------------------------------------------- Debian packages
apt_wanted=()
want_deb() {  # want_deb PACKAGE... : queue the packages dpkg does not have installed
  local p
  for p in "$@"; do
    if dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
      skip "apt $p (installed)"
    else
      apt_wanted+=("$p")
    fi
  done
}

# The wasm toolchain: rustup's if it can build wasm32 with -Zbuild-std, else Debian's.
rustup_has_wasm() {
  command -v rustup >/dev/null 2>&1 &&
    rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown &&
    rustup component list --installed 2>/dev/null | grep -q '^rust-src'
}
if rustup_has_wasm; then
  skip "Debian rust toolchain (rustup has wasm32-unknown-unknown and rust-src)"
else
  want_deb rustc-web cargo-web rust-web-src rust-web-llvm lld-22
fi
if [ -x /usr/bin/chromium ]; then
  skip "apt chromium chromium-driver (/usr/bin/chromium exists)"
else
  apt_wanted+=(chromium chromium-driver)
fi

if [ ${#apt_wanted[@]} -gt 0 ]; then
  say "apt-get install ${apt_wanted[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q "${apt_wanted[@]}"
fi

# ---------------------------------------------------------------- wasm-bindgen CLI
if [ ! -f Cargo.lock ]; then
  say "no Cargo.lock: cargo generate-lockfile"
  cargo generate-lockfile
fi
wb_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$wb_version" ]; then
  echo "setup: Cargo.lock names no wasm-bindgen package" >&2
  exit 1
fi

wb_installed() { command -v wasm-bindgen >/dev/null 2>&1 && [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $wb_version" ]; }
if ! wb_installed; then
  # Another process may be installing it already (two concurrent installs fight over
  # ~/.cargo/bin): wait for that one rather than start a second.
  waited=0
  while pgrep -f 'cargo install wasm-bindgen-cli' >/dev/null 2>&1; do
    [ $waited -eq 0 ] && say "waiting for a running 'cargo install wasm-bindgen-cli' to finish"
    sleep 5; waited=$((waited + 5))
    if [ $waited -ge 900 ]; then echo "setup: gave up waiting for the other install" >&2; exit 1; fi
  done
fi
if wb_installed; then
  skip "wasm-bindgen-cli $wb_version (installed)"
else
  say "cargo install wasm-bindgen-cli --version $wb_version (about 2.5 minutes)"
  # No --locked: the registry copy lacks some versions the CLI's own lock file names.
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

# ---------------------------------------------------------------- node packages
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
else
  skip "npm ci (node_modules is newer than package-lock.json)"
fi

say "done in $((SECONDS - start)) s"
