"""Release metadata and the locked environment (issue 26): codemeta.json in step with CITATION.cff and
pyproject.toml; lock/run.txt and lock/test.txt pin every dependency within pyproject's ranges, with hashes, and
./dev.sh installs from them."""

from __future__ import annotations

import json
import re
import shutil
import tomllib

import pytest
import yaml
from conftest import REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from experiments import metadata

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_codemeta_is_generated_from_citation_and_pyproject(capsys):
    assert metadata.main(["--check"]) == 0, capsys.readouterr().err
    meta = json.loads((REPO / "codemeta.json").read_text(encoding="utf-8"))
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert meta["version"] == PROJECT["version"] == str(cff["version"])
    assert meta["name"] == cff["title"] and meta["identifier"] == PROJECT["name"]
    assert meta["license"].endswith("/" + PROJECT["license"]) and str(cff["license"]) == PROJECT["license"]
    assert meta["softwareRequirements"] == PROJECT["dependencies"]
    assert [a["name"] for a in meta["author"]] == [a["name"] for a in cff["authors"]]


def test_a_version_that_disagrees_is_refused_naming_both_files(tmp_path):
    for name in ("CITATION.cff", "pyproject.toml"):
        shutil.copy(REPO / name, tmp_path / name)
    cff = tmp_path / "CITATION.cff"
    text = cff.read_text(encoding="utf-8")
    cff.write_text(text.replace(f'version: "{PROJECT["version"]}"', 'version: "9.9.9"', 1), encoding="utf-8")
    with pytest.raises(metadata.MetadataError, match=rf"CITATION.cff says 9.9.9, pyproject.toml {PROJECT['version']}"):
        metadata.codemeta(tmp_path)


def pins(path) -> dict[str, tuple[str, int]]:
    """{package: (version, number of hashes)} of a lock file in pip's hash-checking format."""
    text = (REPO / path).read_text(encoding="utf-8")
    out = {}
    for block in re.split(r"\n(?=\S)", text):
        m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)", block)
        if m:
            out[canonicalize_name(m.group(1))] = (m.group(2), block.count("--hash=sha256:"))
    return out


@pytest.mark.parametrize("extra", ["run", "test"])
def test_the_lock_pins_every_dependency_within_its_range_with_hashes(extra):
    locked = pins(f"lock/{extra}.txt")
    assert locked and all(n >= 1 for _, n in locked.values()), "a pin without its hash"
    wanted = [Requirement(r) for r in PROJECT["dependencies"]]
    if extra == "test":
        wanted += [Requirement(r) for r in PROJECT["optional-dependencies"]["test"]]
    for req in wanted:
        name = canonicalize_name(req.name)
        assert name in locked, f"{req} is not in lock/{extra}.txt"
        assert req.specifier.contains(locked[name][0], prereleases=True), f"lock/{extra}.txt: {name} " \
            f"{locked[name][0]} is outside pyproject's {req.specifier}"


def test_the_two_locks_agree_and_running_needs_no_test_tool():
    run, test = pins("lock/run.txt"), pins("lock/test.txt")
    assert {k: v[0] for k, v in run.items()} == {k: test[k][0] for k in run}
    assert "pytest" not in run and "pytest" in test


def test_dev_sh_installs_from_the_lock_with_hashes_unless_told_otherwise():
    script = (REPO / "dev.sh").read_text(encoding="utf-8")
    assert 'local lock="lock/$extra.txt"' in script
    assert '--require-hashes --no-deps -r "$lock"' in script and "UNLOCKED" in script
    assert "lock/run.txt lock/test.txt" in script  # a new lock means a new installation


def test_the_notebook_extra_lets_pandas_write_markdown():
    """DataFrame.to_markdown needs tabulate (issue 27): the notebook extra holds it, in a range pandas accepts."""
    from pandas.compat._optional import VERSIONS

    reqs = {canonicalize_name(r.name): r for r in map(Requirement, PROJECT["optional-dependencies"]["notebook"])}
    assert "tabulate" in reqs
    assert reqs["tabulate"].specifier.contains(VERSIONS["tabulate"]), reqs["tabulate"]
    assert not reqs["tabulate"].specifier.contains("0.8.10")  # older than pandas accepts


def test_the_version_names_the_model_outputs_it_gives():
    """The version changes when the model's outputs do (issue 27): the current version's CHANGELOG section names
    the model fingerprint (experiments.docs.model_fingerprint, a hash of tests/golden/outputs.json), and the
    source and every run's manifest say the same version.  After rewriting the golden outputs, release a new
    version as docs/releasing.md says."""
    import sim
    from experiments.docs import model_fingerprint
    from sim.runs.outputs import versions

    version = PROJECT["version"]
    assert sim.__version__ == version and versions()["sim"] == version
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    found = re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d\d-\d\d - model outputs ([0-9a-f]{{16}})$", changelog,
                      flags=re.M)
    assert found, f"CHANGELOG.md has no section '## [{version}] - <date> - model outputs <fingerprint>'"
    assert found.group(1) == model_fingerprint(), (
        f"the model's outputs changed since version {version} (fingerprint {found.group(1)}, now "
        f"{model_fingerprint()}): release a new version with the new fingerprint (docs/releasing.md)")
    assert "git tag -a v" in (REPO / "docs" / "releasing.md").read_text(encoding="utf-8")
