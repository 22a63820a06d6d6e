# Sourced by the wasm builds (scripts/build.sh, scripts/rust-apps.sh): sets wasm_cargo to the
# cargo that can build wasm32: rustup's when it has the target and rust-src, otherwise
# Debian's (TOOLCHAIN.md §1). PATH lists rustup's ~/.cargo/bin first, so the Debian one is
# named by path, with its own rustc.
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown &&
   rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  wasm_cargo=(cargo)
elif [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ]; then
  wasm_cargo=(env RUSTC=/usr/bin/rustc /usr/bin/cargo)
else
  echo "no cargo that can build wasm32-unknown-unknown; run scripts/setup.sh" >&2
  exit 1
fi
