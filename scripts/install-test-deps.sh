#!/usr/bin/env bash
# System packages the test suite needs (none beyond Python yet). Idempotent; installs only what
# is missing, so repeated test runs cost nothing.
set -euo pipefail
exit 0
