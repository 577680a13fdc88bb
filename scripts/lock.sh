#!/usr/bin/env bash
# Regenerate the locked requirements that ./dev.sh installs from: lock/run.txt (running the model) and
# lock/test.txt (running + the test extra). Each pins every package of the dependency closure to the version in
# the environment the test suite passed in ($VENV, default .venv), within pyproject.toml's ranges (which stay the
# source of truth for `pip install .`), with the hashes of the files of every platform (a universal resolution).
#   scripts/lock.sh            # needs uv (pip install uv, or set UV=/path/to/uv) and the registry
# Commit the two files with the change that needed them; tests/test_lock.py checks them against pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
UV=${UV:-$(command -v uv || echo "$VENV/bin/uv")}
if [ ! -x "$UV" ]; then
  echo "error: uv not found (looked on PATH and at $VENV/bin/uv); install it with 'pip install uv' or set UV=" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "error: no environment at $VENV (set VENV= to the one the tests passed in, or run ./dev.sh test first)" >&2
  exit 1
fi
pins=$(mktemp)
trap 'rm -f "$pins"' EXIT
# the tested versions, as constraints (the project itself, installed editable, left out)
"$VENV/bin/python" -m pip freeze --exclude-editable 2>/dev/null | grep -v -i '^five[-_]society[-_]sim' > "$pins"
mkdir -p lock
for extra in run test; do
  args=()
  [ "$extra" = test ] && args=(--extra test)
  "$UV" pip compile pyproject.toml "${args[@]}" --universal --python-version 3.12 --generate-hashes --no-annotate \
    --constraint "$pins" --custom-compile-command "scripts/lock.sh" --quiet -o "lock/$extra.txt"
  echo "wrote lock/$extra.txt ($(grep -c '==' "lock/$extra.txt") packages)"
done
