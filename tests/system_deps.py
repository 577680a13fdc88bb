"""System packages some tests need (a CJK font, Chromium): skip without them, except under CI.

``scripts/install-test-deps.sh`` (run by ``./dev.sh test``) installs them where it can (root and
apt-get). Where it cannot, the tests that need them are skipped with the reason and what to
install, so that everything else still runs; under CI (``CI=true``) the same tests fail instead, so
that CI never passes with them left out.
"""

from __future__ import annotations

import os

import pytest

HOW = "run scripts/install-test-deps.sh as root, or install fonts-noto-cjk and chromium (Debian packages)"


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(present: bool, what: str) -> None:
    """Skip (or under CI, fail) the calling test unless ``present``; ``what`` names the missing package."""
    if present:
        return
    message = f"{what} is missing: {HOW}"
    if under_ci():
        pytest.fail(f"{message} (CI=true: tests needing it must run)")
    pytest.skip(message)


def require_cjk_font() -> None:
    """A CJK font for Chinese chart labels (experiments.presentation.find_cjk_font)."""
    from experiments.presentation import find_cjk_font

    require(find_cjk_font() is not None, "a CJK font (fonts-noto-cjk)")
