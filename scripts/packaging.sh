#!/usr/bin/env bash
# The packaging test: `npm pack` the package as it would be published, install the tarball
# into four fresh apps (tests/packaging/: Vite + React, Vite + Vue, webpack 5 + axios, a plain
# HTML page with an import map), build each with no plugin or configuration for freshtoken,
# then drive the built apps in headless Chromium (tests/packaging/packaging.test.mjs).
# Each app's own dependencies come from its committed lock, installed once and skipped when the
# lock has not changed since (a stamp in node_modules/); the tarball is installed every run.
# Run scripts/setup.sh and scripts/build.sh first (scripts/test.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f pkg/freshtoken_bg.wasm ]; then
  echo "packaging: pkg/ is not built; run scripts/build.sh" >&2
  exit 1
fi

out=target/packaging
rm -rf "$out" && mkdir -p "$out"
tarball=$(npm pack --silent --pack-destination "$out" 2>/dev/null | tail -1)
tarball=$(cd "$out" && pwd)/$tarball
echo "packaging: npm pack -> $tarball ($(wc -c < "$tarball") bytes, $(tar tzf "$tarball" | wc -l) files)"

for app in vite-react vite-vue webpack5 plain-html; do
  dir=tests/packaging/$app
  stamp=$dir/node_modules/.lock-sha256
  want=$( [ -f "$dir/package-lock.json" ] && sha256sum "$dir/package-lock.json" | cut -d' ' -f1 || echo none)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "packaging: skip  npm install in $dir (lock unchanged since the last install)"
  else
    # `npm install --no-save` from the committed lock, not `npm ci`: the registry this runs
    # against lacks rollup's foreign-platform optional packages, so no lock it writes
    # satisfies `npm ci`'s sync check; the lock still pins every version installed.
    echo "packaging: npm install --no-save in $dir (from its package-lock.json)"
    (cd "$dir" && npm install --no-save --no-audit --no-fund --loglevel=error)
    mkdir -p "$dir/node_modules" && echo "$want" > "$stamp"
  fi
  # The package as a user gets it: unpacked from the tarball, never linked to the repo.
  rm -rf "$dir/node_modules/freshtoken" && mkdir -p "$dir/node_modules/freshtoken"
  tar xzf "$tarball" -C "$dir/node_modules/freshtoken" --strip-components=1
  case $app in
    vite-react|vite-vue) (cd "$dir" && ./node_modules/.bin/vite build --logLevel warn) ;;
    webpack5) (cd "$dir" && ./node_modules/.bin/webpack --no-stats && cp index.html dist/) ;;
    plain-html) : ;;  # served as it is, node_modules and all
  esac
  echo "packaging: built $app"
done

node --test --test-concurrency=1 tests/packaging/
