#!/usr/bin/env bash
# The packaging test: `npm pack` the package as it would be published, install the tarball
# into fresh apps (tests/packaging/<app>/, each with a pinned package.json and a committed
# lock), build each with its own tools, then drive them (tests/packaging/*.test.mjs):
#   vite-react, vite-vue, webpack5, plain-html  built apps in headless Chromium (packaging.test.mjs)
#   node20      a Node 20 script against the real test server (node20.test.mjs)
#   vitest      Vitest 4 + happy-dom tests creating a refresher (vitest.test.mjs)
#   vite7-dev, vite8-dev, webpack-dev  Vite 7/8 and webpack dev servers in Chromium (dev-servers.test.mjs)
#   next16      Next.js 16 app router: next build, next start, SSR + hydration in Chromium (next16.test.mjs)
#   nuxt4       Nuxt 4: nuxt build, the Nitro node server, SSR + hydration in Chromium (nuxt4.test.mjs)
#   workers     a dedicated worker and a module service worker with crossTab (workers.test.mjs)
# PACKAGING_APPS="node20 vitest" runs only those apps (and their test files).
# `scripts/packaging.sh prepare` only packs, installs and builds; `scripts/packaging.sh test`
# only runs the test files on what prepare left (scripts/test.sh runs prepare in the
# background while other stages run); no argument does both.
# Each app's own dependencies come from its committed lock, installed once and skipped when the
# lock has not changed since (a stamp in node_modules/); the tarball is installed every run.
# Run scripts/setup.sh and scripts/build.sh first (scripts/test.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."

step=${1:-all}
case $step in
  all|prepare|test) ;;
  *) echo "usage: scripts/packaging.sh [prepare|test]" >&2; exit 2 ;;
esac
all_apps="vite-react vite-vue webpack5 plain-html node20 vitest vite7-dev vite8-dev webpack-dev next16 nuxt4 workers"
apps=${PACKAGING_APPS:-$all_apps}

# ---- prepare: pack, install, build
if [ "$step" != test ]; then
if [ ! -f pkg/freshtoken_bg.wasm ]; then
  echo "packaging: pkg/ is not built; run scripts/build.sh" >&2
  exit 1
fi

out=target/packaging
rm -rf "$out" && mkdir -p "$out"
tarball=$(npm pack --silent --pack-destination "$out" 2>/dev/null | tail -1)
tarball=$(cd "$out" && pwd)/$tarball
echo "packaging: npm pack -> $tarball ($(wc -c < "$tarball") bytes, $(tar tzf "$tarball" | wc -l) files)"

for app in $apps; do
  started=$SECONDS
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
    next16) (cd "$dir" && NEXT_TELEMETRY_DISABLED=1 ./node_modules/.bin/next build) ;;
    nuxt4) (cd "$dir" && NUXT_TELEMETRY_DISABLED=1 ./node_modules/.bin/nuxt build --logLevel=warn) ;;
    *) : ;;  # served or run as it is: plain-html, node20, vitest, the dev servers
  esac
  echo "packaging: ready $app ($((SECONDS - started)) s)"
done
fi
[ "$step" = prepare ] && exit 0

# ---- test

# The test files of the apps asked for.
files=()
for app in $apps; do
  case $app in
    vite-react|vite-vue|webpack5|plain-html) f=tests/packaging/packaging.test.mjs ;;
    vite7-dev|vite8-dev|webpack-dev) f=tests/packaging/dev-servers.test.mjs ;;
    *) f=tests/packaging/$app.test.mjs ;;
  esac
  [[ " ${files[*]} " == *" $f "* ]] || files+=("$f")
done
PACKAGING_APPS="$apps" node --test --test-concurrency=1 "${files[@]}"
