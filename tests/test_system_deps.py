"""Set-up of the system packages some tests need: explain and skip without them, fail under CI."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from conftest import REPO
from system_deps import require

SCRIPT = REPO / "scripts" / "install-test-deps.sh"


def test_missing_package_skips_with_the_reason(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"a CJK font is missing: run scripts/install-test-deps\.sh"):
        require(False, "a CJK font")
    require(True, "a CJK font")  # present: nothing happens


def test_missing_package_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require(False, "Chromium")


def _without_apt(tmp_path) -> dict:
    """An environment whose PATH has the script's tools but no apt-get, and a font list without a CJK font."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("grep", "id", "cat"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    (bin_dir / "fc-list").write_text("#!/bin/sh\necho 'DejaVu Sans'\n")
    (bin_dir / "fc-list").chmod(0o755)
    return {"PATH": str(bin_dir), "HOME": str(tmp_path)}


@pytest.mark.parametrize(("ci", "code"), [("", 0), ("true", 1)])
def test_install_script_without_apt_explains_what_to_install(tmp_path, ci, code):
    env = _without_apt(tmp_path) | ({"CI": ci} if ci else {})
    proc = subprocess.run([shutil.which("bash"), str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == code, proc.stderr
    assert "cannot install fonts-noto-cjk" in proc.stderr and "apt-get not found" in proc.stderr
    assert "apt-get install fonts-noto-cjk" in proc.stderr  # what to install by hand
    assert ("error: CI=true" in proc.stderr) == bool(ci)


def test_dev_script_is_valid_bash():
    for script in ("dev.sh", "scripts/install-test-deps.sh", ".ci/run"):
        proc = subprocess.run(["bash", "-n", str(REPO / script)], capture_output=True, text=True)
        assert proc.returncode == 0, (script, proc.stderr)
