#!/usr/bin/env bash
# Makes sure the headless Chromium the browser tests drive is installed (Debian's `chromium` package).
# Installs it with apt-get when we are root; otherwise says what to install. Fails only under CI=true.
set -euo pipefail

chromium=${CHROMIUM:-/usr/bin/chromium}

if [ -x "$chromium" ]; then
  exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium for the browser tests (apt-get)…"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; then
    [ -x "$chromium" ] && exit 0
  fi
fi

cat >&2 <<MSG
warning: $chromium is missing, so the browser tests of the website widget will be skipped.
  Install it with:  sudo apt-get install chromium   (Debian/Ubuntu package name: chromium)
  or point CHROMIUM at an existing Chromium/Chrome binary.
MSG
if [ "${CI:-}" = "true" ]; then
  echo "error: CI=true and no chromium: the browser tests cannot run" >&2
  exit 1
fi
exit 0
