#!/usr/bin/env bash
# Set up the project (a .venv on Python >= 3.12) and run it.
#   ./dev.sh run [overrides...]   set up what running needs, then run the default scenario (python -m sim ...)
#   ./dev.sh test [pytest args]   set up with the test extra (and, if missing, a CJK font and Chromium), run pytest
#   ./dev.sh dashboard [--port N] [--open]   set up, then serve the workshop dashboard offline
#   ./dev.sh setup                set up what running needs, only
# Set PYTHON=/path/to/python3.12 to choose the interpreter. Quiet on success: pip's output goes to
# .venv/pip.log and is shown only if the installation fails.
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-.venv}

python_ok() { "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

find_python() {
  local c root
  local candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  # 3.12 first (the version the project is tested on), then newer ones
  candidates+=(python3.12 python3.13)
  if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root 2>/dev/null || true)
    for c in "$root"/versions/3.12*/bin/python3 "$root"/versions/3.1[3-9]*/bin/python3; do
      [ -x "$c" ] && candidates+=("$c")
    done
  fi
  for c in "$HOME"/.pyenv/versions/3.12*/bin/python3 /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9] python3; do
    candidates+=("$c")
  done
  for c in "${candidates[@]}"; do
    if command -v "$c" >/dev/null 2>&1 && python_ok "$c"; then command -v "$c"; return 0; fi
    # pyenv shims fail unless PYENV_VERSION names an installed version
    if [[ "$c" == python3.1* ]] && command -v pyenv >/dev/null 2>&1; then
      local v
      v=$(pyenv versions --bare 2>/dev/null | grep -E "^${c#python}(\.|$)" | sort -V | tail -n1 || true)
      if [ -n "$v" ] && [ -x "$(pyenv root)/versions/$v/bin/python3" ] && python_ok "$(pyenv root)/versions/$v/bin/python3"; then
        echo "$(pyenv root)/versions/$v/bin/python3"; return 0
      fi
    fi
  done
  return 1
}

# What the last successful installation holds: "<pyproject hash> <extra>" ("run" or "test").
stamp_ok() {
  local have want_extra=$1
  have=$(cat "$VENV/.installed" 2>/dev/null || true)
  [ "${have%% *}" = "$(sha256sum pyproject.toml | cut -c1-16)" ] || return 1
  # the test extra includes everything running needs
  [ "$want_extra" = run ] || [ "${have#* }" = "$want_extra" ]
}

setup() {
  local extra=$1 py spec=.
  if [ ! -x "$VENV/bin/python" ] || ! python_ok "$VENV/bin/python"; then
    if ! py=$(find_python); then
      echo "error: no Python >= 3.12 found (tried \$PYTHON, python3.12, python3.13, pyenv versions, python3)." >&2
      echo "Install one, e.g. 'pyenv install 3.12' or 'apt-get install python3.12 python3.12-venv'," >&2
      echo "or point PYTHON at it: PYTHON=/path/to/python3.12 ./dev.sh $cmd" >&2
      exit 1
    fi
    echo "setting up $VENV with $py ($("$py" -V 2>&1)); the first installation takes a few minutes" >&2
    rm -rf "$VENV"
    "$py" -m venv "$VENV"
  fi
  stamp_ok "$extra" && return 0
  [ "$extra" = test ] && spec=".[test]"
  echo "installing the package ($spec) into $VENV (log: $VENV/pip.log)" >&2
  # a newer pip if one can be had (an old one still installs the package)
  if ! { "$VENV/bin/python" -m pip install --upgrade pip || true
         "$VENV/bin/python" -m pip install -e "$spec"; } >"$VENV/pip.log" 2>&1; then
    tail -n 30 "$VENV/pip.log" >&2
    echo "error: the installation failed; the full log is $VENV/pip.log" >&2
    exit 1
  fi
  echo "$(sha256sum pyproject.toml | cut -c1-16) $extra" > "$VENV/.installed"
}

cmd=${1:-run}
[ $# -gt 0 ] && shift
case "$cmd" in
  setup) setup run ;;
  run)   setup run; exec "$VENV/bin/python" -m sim "$@" ;;
  test)  echo "./dev.sh test installs, if missing: the package with its test extra into $VENV (pytest, hypothesis," \
              "playwright, ruff, nbclient, ipykernel, statsmodels, hydra-submitit-launcher), and the Debian packages" \
              "fonts-noto-cjk (Chinese charts) and chromium (the dashboard's browser tests) with apt-get (root or sudo)." >&2
         setup test
         bash scripts/install-test-deps.sh
         exec "$VENV/bin/python" -m pytest "$@" ;;
  dashboard) setup run; exec "$VENV/bin/python" -m dashboard.serve "$@" ;;
  *) echo "usage: ./dev.sh run|test|dashboard|setup [args...]" >&2; exit 2 ;;
esac
