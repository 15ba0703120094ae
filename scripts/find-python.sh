#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter: $PYTHON if set, else pyenv's 3.10, else python3.10 on PATH.
# Rasa Open Source 3.6 supports Python 3.8-3.10 only, so nothing else is accepted.
set -euo pipefail

is_python310() {
  [ -n "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null
}

if [ -n "${PYTHON:-}" ]; then
  if is_python310 "$PYTHON"; then echo "$PYTHON"; exit 0; fi
  echo "error: PYTHON=$PYTHON is not a Python 3.10 interpreter (Rasa 3.6 needs Python 3.10)." >&2
  exit 1
fi

candidates=()
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for dir in "$root"/versions/3.10.*; do
    [ -x "$dir/bin/python3.10" ] && candidates+=("$dir/bin/python3.10")
  done
fi
for name in python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
  found=$(command -v "$name" 2>/dev/null || true)
  [ -n "$found" ] && candidates+=("$found")
done

for candidate in "${candidates[@]+"${candidates[@]}"}"; do
  if is_python310 "$candidate"; then echo "$candidate"; exit 0; fi
done

cat >&2 <<'MSG'
error: no Python 3.10 interpreter found. Rasa Open Source 3.6 runs on Python 3.10 at most.
Install one, then run the command again:
  - with pyenv:   pyenv install 3.10
  - on Debian/Ubuntu: apt-get install python3.10 python3.10-venv  (deadsnakes PPA on Ubuntu)
  - on macOS:     brew install python@3.10
or point the set-up at an existing interpreter:  make run PYTHON=/path/to/python3.10
MSG
exit 1
