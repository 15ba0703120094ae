#!/usr/bin/env bash
# Builds the website widget: web/dist/commonground-widget.js (one file, socket.io-client bundled in).
# Installs the npm dependencies exactly as locked (npm ci; npm install only when there is no lock yet)
# and does nothing when the bundle is newer than every source.
set -euo pipefail
cd "$(dirname "$0")/../web"

bundle=dist/commonground-widget.js
sources=(package.json build.mjs src)
[ -f package-lock.json ] && sources+=(package-lock.json)

if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm is missing; install Node.js 18+ with npm (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

# Install when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ] \
   || { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund
  else
    npm install --no-audit --no-fund
  fi
fi

if [ -f "$bundle" ] && [ -z "$(find "${sources[@]}" -newer "$bundle" -print -quit)" ]; then
  echo "widget bundle is up to date: web/$bundle"
  exit 0
fi
npm run build --silent
