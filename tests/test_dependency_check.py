"""The offline dependency check (issue 29, item 11): ranges from pyproject.toml, advisories from an OSV export."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "dependency_check.py"
spec = importlib.util.spec_from_file_location("dependency_check", SCRIPT)
dc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dc)


def _advisory(ident: str, name: str, events: list[dict], versions: list[str] = ()) -> dict:
    return {"id": ident, "summary": f"{ident} summary",
            "affected": [{"package": {"ecosystem": "PyPI", "name": name},
                          "ranges": [{"type": "ECOSYSTEM", "events": events}], "versions": list(versions)}]}


def test_advisories_are_matched_by_range_and_by_listed_version(tmp_path):
    installed = {"numpy": "2.1.0", "pandas": "3.0.1", "tqdm": "4.66.0"}
    advisories = [
        _advisory("OSV-A", "NumPy", [{"introduced": "0"}, {"fixed": "2.1.1"}]),            # affected (name case)
        _advisory("OSV-B", "numpy", [{"introduced": "0"}, {"fixed": "2.0.0"}]),            # fixed before
        _advisory("OSV-C", "pandas", [{"introduced": "3.0.0"}, {"last_affected": "3.0.1"}]),  # affected
        _advisory("OSV-D", "pandas", [{"introduced": "3.0.2"}]),                          # not yet
        _advisory("OSV-E", "tqdm", [], versions=["4.66.0"]),                              # listed version
        _advisory("OSV-F", "not-installed", [{"introduced": "0"}]),
    ]
    folder = tmp_path / "osv"
    folder.mkdir()
    for a in advisories:
        (folder / f"{a['id']}.json").write_text(json.dumps(a))
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for a in advisories:
            z.writestr(f"{a['id']}.json", json.dumps(a))
    for db in (folder, archive):
        found = dc.vulnerabilities(db, installed)
        assert [f.split(":")[0] for f in found] == ["OSV-A", "OSV-C", "OSV-E"], found
        assert "numpy 2.1.0; fixed in 2.1.1" in found[0]


def test_the_command_checks_this_environment_and_exits_by_what_it_found(tmp_path):
    ok = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr  # every dependency installed within pyproject.toml's range
    assert "0 problem(s) found against pyproject.toml's ranges" in ok.stderr
    numpy_version = subprocess.run([sys.executable, "-c", "import numpy; print(numpy.__version__)"],
                                   capture_output=True, text=True).stdout.strip()
    db = tmp_path / "one.json"
    db.write_text(json.dumps([_advisory("OSV-X", "numpy", [{"introduced": "0"}], [numpy_version])]))
    found = subprocess.run([sys.executable, str(SCRIPT), "--osv", str(db)], capture_output=True, text=True,
                           timeout=120)
    assert found.returncode == 1 and f"OSV-X: numpy {numpy_version}; no fixed version listed" in found.stdout
    missing = subprocess.run([sys.executable, str(SCRIPT), "--osv", str(tmp_path / "nope.zip")],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "cannot read the vulnerability database" in missing.stderr
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["numpy<1", "surely-not-installed-pkg>=1"]\n')
    problems = dc.range_problems(pyproject)
    assert problems[0].startswith(f"numpy {numpy_version}: outside pyproject.toml's range <1")
    assert problems[1] == "surely-not-installed-pkg: not installed (pyproject.toml asks for >=1)"
