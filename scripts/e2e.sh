#!/usr/bin/env bash
# End-to-end suite: the demo server, Express + jsonwebtoken (seed 001), sanic-jwt (seed 002)
# and the PubNub v3 / bearer-put flow (seed 000), each driven from headless Chromium, plus a
# 40-second soak (25 refresh cycles of 2 s tokens) and a 30-second flaky-network run (2.5 s
# tokens, every refresh fault kind). Installs only what scripts/setup.sh does not: a Python virtualenv (.venv/)
# with sanic + sanic-jwt, skipped when already there. Run scripts/setup.sh and
# scripts/build.sh first (scripts/test.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."

SANIC=25.12.1
SANIC_JWT=1.8.0

venv_ok() {
  [ -x .venv/bin/python ] &&
    .venv/bin/python - "$SANIC" "$SANIC_JWT" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("sanic"), version("sanic-jwt")) == (sys.argv[1], sys.argv[2]) else 1)
PY
}

if venv_ok; then
  echo "e2e: skip  .venv (sanic $SANIC, sanic-jwt $SANIC_JWT installed)"
else
  echo "e2e: python3 -m venv .venv && pip install sanic==$SANIC sanic-jwt==$SANIC_JWT"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install --disable-pip-version-check -q "sanic==$SANIC" "sanic-jwt==$SANIC_JWT"
fi

if [ ! -f pkg/freshtoken_bg.wasm ]; then
  echo "e2e: pkg/ is missing: run scripts/setup.sh && scripts/build.sh first" >&2
  exit 1
fi
for m in express jsonwebtoken pubnub playwright-core; do
  if [ ! -d "node_modules/$m" ]; then
    echo "e2e: node_modules/$m is missing: run scripts/setup.sh (npm ci)" >&2
    exit 1
  fi
done

echo "e2e: node --test --test-concurrency=1 tests/e2e/"
exec node --test --test-concurrency=1 tests/e2e/
