#!/usr/bin/env bash
# System packages some tests need, from Debian: a CJK font for Chinese chart labels (fonts-noto-cjk)
# and Chromium for the dashboard's browser tests. Idempotent: installs only what is missing, so a
# second test run costs nothing.
#
# Needs apt-get and root (or password-less sudo). It waits up to 120 s for another apt or dpkg
# process to release its lock. Without root or apt-get it says what to install by hand and exits 0:
# the tests that need the font or the browser are then skipped with that reason. Under CI
# (CI=true) a package that cannot be installed is an error, and those tests fail instead of skipping.
set -euo pipefail
need=()
# grep reads all of fc-list's output (not -q): with pipefail, fc-list killed by SIGPIPE after an early match would
# count as "no font" and reinstall it on every run
fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || need+=(fonts-noto-cjk)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0

cannot() {  # cannot <reason>: explain, then fail under CI, else let the tests skip what needs these packages
  echo "note: cannot install ${need[*]}: $1." >&2
  echo "  Install them by hand, e.g. as root: apt-get install ${need[*]} (Debian/Ubuntu; on other systems a" >&2
  echo "  Noto Sans CJK font and Chromium at /usr/bin/chromium). Until then the tests that need them are skipped." >&2
  if [ "${CI:-}" = true ]; then echo "error: CI=true: every test must run" >&2; exit 1; fi
  exit 0
}

command -v apt-get >/dev/null 2>&1 || cannot "apt-get not found"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    cannot "not root, and no password-less sudo"
  fi
fi
echo "installing ${need[*]} with apt-get (waiting up to 120 s for the dpkg lock if another apt process holds it)" >&2
export DEBIAN_FRONTEND=noninteractive
LOCK=(-o DPkg::Lock::Timeout=120)
$SUDO apt-get "${LOCK[@]}" update -qq >/dev/null || cannot "apt-get update failed (network, or the lock held > 120 s)"
$SUDO apt-get "${LOCK[@]}" install -y -qq --no-install-recommends "${need[@]}" fontconfig >/dev/null \
  || cannot "apt-get install failed"
fc-cache -f >/dev/null 2>&1 || true
rm -rf "${MPLCONFIGDIR:-$HOME/.config/matplotlib}"/fontlist-*.json "$HOME/.cache/matplotlib"/fontlist-*.json 2>/dev/null || true  # matplotlib re-reads the fonts
