#!/usr/bin/env bash
# System packages the test suite needs, from Debian: a CJK font for Chinese chart labels
# (fonts-noto-cjk) and Chromium for the dashboard's browser tests. Idempotent: installs only what
# is missing, so a second test run costs nothing. Needs root (CI and these machines run as root)
# or sudo.
set -euo pipefail
need=()
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "error: missing ${need[*]}; install them as root: apt-get install ${need[*]}" >&2; exit 1
  fi
fi
echo "installing ${need[*]} (Debian packages)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" fontconfig >/dev/null
fc-cache -f >/dev/null 2>&1 || true
rm -rf "${MPLCONFIGDIR:-$HOME/.config/matplotlib}"/fontlist-*.json "$HOME/.cache/matplotlib"/fontlist-*.json 2>/dev/null || true  # matplotlib re-reads the fonts
