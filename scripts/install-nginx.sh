#!/usr/bin/env bash
# Makes sure nginx is installed for the scale-out test (Debian's `nginx` package); the test runs it
# as its own foreground process with a generated config, so the system service is never started.
# Installs it with apt-get when we are root; otherwise says what to install. Fails only under CI=true.
set -euo pipefail

nginx=${NGINX:-nginx}

have_nginx() {  # on PATH, or in /usr/sbin, which is not on a normal user's PATH on Debian
  command -v "$nginx" >/dev/null 2>&1 || [ -x "/usr/sbin/$nginx" ]
}

if have_nginx; then
  exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing nginx for the scale-out test (apt-get)…"
  export DEBIAN_FRONTEND=noninteractive
  # policy-rc.d exit 101 keeps the package's post-install script from starting the system service.
  policy=/usr/sbin/policy-rc.d
  made_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
  fi
  installed=
  if apt-get install -y -qq --no-install-recommends nginx >/dev/null 2>&1 \
     || { apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx >/dev/null; }; then
    installed=1
  fi
  if [ -n "$made_policy" ]; then rm -f "$policy"; fi
  if [ -n "$installed" ] && have_nginx; then
    exit 0
  fi
fi

cat >&2 <<MSG
warning: nginx is missing, so the scale-out test (tests/e2e/test_scaleout.py) will be skipped.
  Install it with:  sudo apt-get install nginx   (Debian/Ubuntu package name: nginx)
  or point NGINX at an existing nginx binary. The test never starts the system service.
MSG
if [ "${CI:-}" = "true" ]; then
  echo "error: CI=true and no nginx: the scale-out test cannot run" >&2
  exit 1
fi
exit 0
