#!/usr/bin/env bash
# Builds the Rust example crates to wasm32 with the crate's `web` feature and runs wasm-bindgen
# --target web into examples/<app>/dist/ (app.js, app_bg.wasm, index.html):
#   leptos, yew    the example apps (tests/rust-apps/apps.test.mjs); each one's wasm size (raw,
#                  gzip -9) is printed
#   conformance    the `web` face's thin JS handle (the conformance table's third runner, the
#                  DPoP and mixed-tab tests); scripts/web-conformance.sh builds it alone too
# A crate whose dist/app_bg.wasm is newer than every input (src/, Cargo.toml, Cargo.lock, its
# own files, this script and scripts/web-conformance.sh) is skipped; FORCE=1 rebuilds;
# RUST_APPS="leptos yew conformance" picks.
#
# One cargo build for all of them. Each example is a workspace of its own (a user copies one
# alone), and built one by one they shared only the std: every app's proc-macros ask `syn` for
# other features, so `wasm-bindgen` and everything on it (js-sys, web-sys, serde, freshtoken)
# compiled once per app (644 s of CPU for the three, leptos 348, yew 147, conformance 150).
# Here they are the members of one generated workspace, target/rust-apps/ws/: each example's
# manifest without its [workspace] and [profile] tables, its src/ linked, and as the lock the
# union of the examples' Cargo.lock files (the versions the apps pin; the build says so if
# cargo had to change it). Each crate compiles once, with the union of the features the apps
# ask for; those are additive (more web-sys bindings, serde's `rc`, futures' executor).
#
# Profile: the apps' release profile (opt-level "z", LTO, one codegen unit, panic abort; the
# leptos and yew manifests must agree), the conformance crate's opt-level 1 as a package
# override, with the std built from source when the cargo has no prebuilt wasm32 std
# (TOOLCHAIN.md §1-2).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wasm-cargo.sh
export CARGO_TARGET_DIR="$PWD/target/rust-apps"
ws=$CARGO_TARGET_DIR/ws

apps=${RUST_APPS:-leptos yew conformance}
stale=()
for app in $apps; do
  dir=examples/$app
  out=$dir/dist/app_bg.wasm
  if [ "${FORCE:-}" != 1 ] && [ -f "$out" ] && [ -f "$dir/dist/index.html" ] &&
     ! find src Cargo.toml Cargo.lock "$dir/src" "$dir/Cargo.toml" "$dir/Cargo.lock" "$dir/index.html" \
       scripts/rust-apps.sh scripts/web-conformance.sh -newer "$out" -print -quit | grep -q .; then
    echo "rust-apps: skip  $app (dist/ is newer than its inputs)"
  else
    stale+=("$app")
  fi
done

if [ ${#stale[@]} -gt 0 ]; then
  # The workspace of the stale crates (the first app's profile is the workspace's).
  rm -rf "$ws"
  members=(); for a in leptos yew conformance; do [[ " ${stale[*]} " == *" $a "* ]] && members+=("$a"); done
  node --input-type=module - "$ws" "${members[@]}" <<'EOF'
import { readFileSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { resolve, join } from 'node:path';

const [out, ...apps] = process.argv.slice(2);
const repo = resolve('.');
const tables = (text) => text.split(/^(?=\[)/m);                 // each table with its lines
const tableName = (t) => t.match(/^\[+([^\]]+)\]+/)?.[1].trim() ?? '';
const field = (t, k) => t.match(new RegExp(`^${k} = "([^"]*)"`, 'm'))?.[1];
const keys = (t) => Object.fromEntries([...(t ?? '').matchAll(/^([a-z-]+)\s*=\s*(.+?)\s*$/gm)].map((m) => [m[1], m[2]]));

let profile = null;        // [profile.release] of the apps, verbatim
const overrides = [];      // per-package settings of the others
const packages = new Map(); // "name version" -> { name, version, lines, deps }
for (const app of apps) {
  const dir = join(repo, 'examples', app);
  const manifest = tables(readFileSync(join(dir, 'Cargo.toml'), 'utf8'));
  const pkgName = field(manifest.find((t) => tableName(t) === 'package'), 'name');
  const own = manifest.find((t) => tableName(t) === 'profile.release');
  if (app !== 'conformance') {
    const body = (t) => (t ?? '').replace(/^#.*\n/gm, '').trim();
    if (profile === null) profile = body(own);
    else if (body(own) !== profile) throw new Error(`examples/${app}: its [profile.release] differs from the other app's; one workspace cannot build both`);
  } else {
    // A package can set its own opt-level and debug; LTO and panic are the workspace's.
    const k = keys(own?.replace(/^\[.*\n/, '').replace(/#.*$/gm, ''));
    const set = Object.entries(k).filter(([n]) => ['opt-level', 'debug'].includes(n)).map(([n, v]) => `${n} = ${v}\n`).join('');
    if (set) overrides.push(`\n# examples/${app}/Cargo.toml's own profile, as far as a package can have one.\n[profile.release.package.${pkgName}]\n${set}`);
  }
  const kept = manifest.filter((t) => tableName(t) !== 'workspace' && !tableName(t).startsWith('profile'));
  mkdirSync(join(out, app), { recursive: true });
  writeFileSync(join(out, app, 'Cargo.toml'), kept.join('').replaceAll('path = "../.."', `path = ${JSON.stringify(repo)}`));
  symlinkSync(join(dir, 'src'), join(out, app, 'src'));

  // Its lock: each [[package]], its unqualified references qualified with this lock's version.
  const lock = tables(readFileSync(join(dir, 'Cargo.lock'), 'utf8')).filter((t) => tableName(t) === 'package');
  const versionOf = new Map();
  for (const t of lock) versionOf.set(field(t, 'name'), versionOf.has(field(t, 'name')) ? null : field(t, 'version'));
  for (const t of lock) {
    const key = `${field(t, 'name')} ${field(t, 'version')}`;
    const deps = [...(t.match(/^dependencies = \[\n([\s\S]*?)^\]/m)?.[1] ?? '').matchAll(/"([^"]+)"/g)]
      .map(([, d]) => (d.includes(' ') ? d : `${d} ${versionOf.get(d)}`));
    if (deps.some((d) => d.endsWith(' null'))) throw new Error(`examples/${app}/Cargo.lock: an ambiguous reference in ${key}`);
    const lines = t.replace(/^dependencies = \[\n[\s\S]*?^\]\n/m, '').trimEnd();
    const prev = packages.get(key);
    if (prev && prev.lines !== lines) throw new Error(`${key}: the examples' locks disagree (source or checksum)`);
    // A lock lists only the dependencies its features enable: the union of them.
    packages.set(key, { name: field(t, 'name'), version: field(t, 'version'), lines, deps: [...new Set([...(prev?.deps ?? []), ...deps])] });
  }
}
writeFileSync(join(out, 'Cargo.toml'), '# Generated by scripts/rust-apps.sh: the example crates as one workspace.\n'
  + `[workspace]\nresolver = "2"\nmembers = [${apps.map((a) => JSON.stringify(a)).join(', ')}]\n`
  + (profile ? `\n${profile}\n` : '') + overrides.join(''));

// Written as cargo writes it: sorted by name and version, a name with one version unqualified.
const count = new Map();
for (const p of packages.values()) count.set(p.name, (count.get(p.name) ?? 0) + 1);
const ref = (d) => (count.get(d.split(' ')[0]) > 1 ? d : d.split(' ')[0]);
const semver = (v) => v.split(/[.+-]/).slice(0, 3).map(Number);
const order = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1
  : semver(a.version).reduce((r, x, i) => r || x - semver(b.version)[i], 0));
let lock = '# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n';
for (const p of [...packages.values()].sort(order)) {
  lock += `\n${p.lines}\n`;
  if (p.deps.length) lock += `dependencies = [\n${p.deps.sort().map((d) => ` "${ref(d)}",\n`).join('')}]\n`;
}
writeFileSync(join(out, 'Cargo.lock'), lock);
EOF
  cp "$ws/Cargo.lock" "$ws/Cargo.lock.examples"
  echo "rust-apps: cargo build --release --target wasm32-unknown-unknown (${members[*]}: one workspace, $ws)"
  RUSTC_BOOTSTRAP=1 "${wasm_cargo[@]}" build --release --target wasm32-unknown-unknown \
    -Zbuild-std=std,panic_abort --manifest-path "$ws/Cargo.toml" --workspace
  if ! cmp -s "$ws/Cargo.lock" "$ws/Cargo.lock.examples"; then
    echo "rust-apps: warning: cargo changed the examples' pinned versions (an example's Cargo.lock is out of date with its Cargo.toml):"
    diff "$ws/Cargo.lock.examples" "$ws/Cargo.lock" | grep -E '^[<>] (name|version) ' || true
  fi
  for app in "${members[@]}"; do
    dir=examples/$app
    if [ -f "$dir/src/main.rs" ]; then wasm=freshtoken-$app-example.wasm; else wasm=freshtoken_${app}_example.wasm; fi
    echo "rust-apps: wasm-bindgen --target web --out-dir $dir/dist"
    wasm-bindgen --target web --no-typescript --out-name app --out-dir "$dir/dist" \
      "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/$wasm"
    cp "$dir/index.html" "$dir/dist/index.html"
  done
fi

for app in $apps; do
  out=examples/$app/dist/app_bg.wasm
  [ "$app" = conformance ] && { echo "rust-apps: conformance built ($out, $(wc -c < "$out") bytes)"; continue; }
  raw=$(wc -c < "$out")
  gz=$(gzip -9 -c "$out" | wc -c)
  echo "rust-apps: $app wasm $raw bytes, $gz bytes gzip -9 ($out)"
done
