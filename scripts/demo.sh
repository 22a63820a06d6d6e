#!/usr/bin/env bash
# Runs the demo (`npm start` runs this): set-up and build when needed (both skip what is
# already done), then the demo server. PORT (default 8080; 0 picks a free port) and
# TOKEN_TTL (access-token lifetime in seconds, default 20) are passed through.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh
echo
exec node www/server.mjs
