"""The model-library archive (python -m experiments.archive, issue 26): it holds code, ODD, TRACE, the data-use
table, licence, metadata, locked requirements and RUN.md with a command for every README figure and table, and
the default scenario runs from it unpacked in a fresh folder."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from conftest import REPO
from test_trace import dangling

from experiments import archive


def test_every_readme_figure_and_table_has_commands_that_exist():
    outputs = archive.readme_outputs((REPO / "README.md").read_text(encoding="utf-8"))
    figures = [o.name for o in outputs if o.kind == "figure"]
    tables = [o.name for o in outputs if o.kind == "table"]
    assert set(figures) == set(archive.README_FIGURES) and all((REPO / f).is_file() for f in figures)
    assert {"readme_tables:policies", "readme_tables:presets", "readme_tables:bands"} <= set(tables)
    for o in outputs:
        assert o.commands, o.name
        for command in o.commands:
            if command.startswith("python -m "):
                module = command.split()[2]
                assert importlib.util.find_spec(module) is not None, command


def test_a_figure_without_commands_is_refused():
    with pytest.raises(archive.ArchiveError, match=r"README shows docs/figures/new.png.*README_FIGURES"):
        archive.readme_outputs("![a new figure](docs/figures/new.png)")
    with pytest.raises(archive.ArchiveError, match="table x names no command"):
        archive.readme_outputs("<!-- x:start -->\n| a |\n<!-- x:end -->")


def test_links_of_the_top_documents_point_into_code_docs():
    text = ("[ODD](ODD.md#4-design-concepts) [cal](calibration.md) [fig](figures/a.png) [r](../README.md) "
            "[w](https://x.org)")
    assert archive.rewrite_links(text) == ("[ODD](ODD.md#4-design-concepts) [cal](../code/docs/calibration.md) "
                                          "[fig](../code/docs/figures/a.png) [r](../code/README.md) [w](https://x.org)")


def test_a_dirty_tree_is_refused_unless_allowed(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "commit_info", lambda root: ("abc", 0, True))
    with pytest.raises(archive.ArchiveError, match="uncommitted changes"):
        archive.build(tmp_path)
    assert not list(tmp_path.iterdir())


def installed_layout(code: Path, site: Path) -> Path:
    """The archive's packages laid out as ``pip install .`` lays them out (pyproject's ``package-dir``: the
    top-level configs/ is the package sim.configs), without building: a copy of each mapped package with its
    mapped sub-packages linked in.  The rest is imported from ``code`` itself (second on the path)."""
    mapping = tomllib.loads((code / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-dir"]
    for package, folder in mapping.items():
        target = site.joinpath(*package.split("."))
        if package == folder:
            shutil.copytree(code / folder, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.symlink_to((code / folder).resolve(), target_is_directory=True)
    return site


def test_the_archive_unpacks_and_runs_the_default_scenario(tmp_path):
    path = archive.build(tmp_path / "dist", allow_dirty=True)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        zf.extractall(tmp_path / "unpacked")
    top = tmp_path / "unpacked" / path.stem
    for name in ("RUN.md", "LICENSE", "CITATION.cff", "codemeta.json", "docs/ODD.md", "docs/TRACE.md",
                 "docs/data_use.md", "code/pyproject.toml", "code/dev.sh", "code/lock/run.txt", "code/lock/test.txt",
                 "code/sim/model/community_model.py", "code/configs/config.yaml", "code/docs/ODD.md"):
        assert f"{path.stem}/{name}" in names, name
    stray = [n for n in names if ("/results/" in n and not n.endswith("results/README.md")) or "__pycache__" in n
             or "/.venv/" in n or "/dist/" in n]
    assert stray == []  # run outputs, caches and environments stay out
    assert modes[f"{path.stem}/code/dev.sh"] & 0o111  # still executable
    run_md = (top / "RUN.md").read_text(encoding="utf-8")
    assert "./dev.sh run" in run_md and "./dev.sh test" in run_md and "--require-hashes" in run_md
    for figure in archive.README_FIGURES:
        assert f"Figure `{figure}`" in run_md
    assert json.loads((top / "codemeta.json").read_text(encoding="utf-8"))["version"] == \
        json.loads((REPO / "codemeta.json").read_text(encoding="utf-8"))["version"]
    for doc in ("ODD.md", "TRACE.md", "data_use.md"):
        bad = [d for d in dangling((top / "docs" / doc).read_text(encoding="utf-8"), top / "docs")
               if d.startswith(("link", "anchor"))]
        assert bad == [], doc

    code = top / "code"
    site = installed_layout(code, tmp_path / "site")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": f"{site}{os.pathsep}{code}"}
    where = subprocess.run([sys.executable, "-c", "from importlib.resources import files; import sim, experiments; "
                            "print(sim.__file__); print(files('sim.configs')); print(experiments.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    sim_file, configs, experiments_file = where.stdout.split()
    assert sim_file.startswith(str(site)) and experiments_file.startswith(str(code))  # the archived code ...
    assert Path(configs).resolve() == (code / "configs").resolve()                   # ... and its configs
    run = subprocess.run([sys.executable, "-m", "sim", "steps=3", "progress=false",
                          f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    kpis = json.loads((tmp_path / "run" / "kpis.json").read_text(encoding="utf-8"))
    assert kpis["targets"]["volunteers_per_10k"]["value"] > 0
    check = subprocess.run([sys.executable, "-m", "experiments.metadata", "--check"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
