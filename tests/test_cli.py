"""The command line (``python -m sim``) end to end, and the packaging of the config tree.

Each command line runs once, in its own empty folder; they run two at a time (module fixture) since
most of their time is Python start-up and imports.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pandas as pd
import pytest
from conftest import COMMUNITIES, POLICIES, REPO, all_files, run_cli

OUTPUTS = {"timeseries.parquet", "kpis.json", "manifest.json"}

COMMANDS = {
    "run": ["steps=10", "hydra.run.dir=out"],
    "zh_default_dir": ["community=relocation", "steps=3", "lang=zh", "progress=false"],
    "help": ["--help"],
    "bad_fen": ["policy.micro_fund.fen_per_unit=-1"],
    "bad_policy": ["policy=nope"],
    "bad_steps": ["steps=abc"],
    "misspelt_added": ["+polcy=micro_fund"],
    "misspelt_lever": ["policy=micro_fund", "+policy.micro_fund.fen_per_units=5", "steps=2"],
    "rule_across_values": ["community.households=20000", "steps=2", "progress=false"],
}


@dataclass
class Result:
    cwd: Path
    proc: subprocess.CompletedProcess

    @property
    def out(self) -> str:
        return self.proc.stdout

    @property
    def err(self) -> str:
        return self.proc.stderr


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> dict[str, Result]:
    def one(name: str) -> tuple[str, Result]:
        cwd = tmp_path_factory.mktemp(name)
        return name, Result(cwd, run_cli(cwd, *COMMANDS[name]))

    umask = os.umask(0o022)  # inherited by the runs: the folders they make must then be group-readable
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return dict(pool.map(one, COMMANDS))
    finally:
        os.umask(umask)


# --------------------------------------------------------------------------------------------
# a run
# --------------------------------------------------------------------------------------------
def test_run_exits_zero_prints_the_kpi_table_and_writes_three_files(cli):
    r = cli["run"]
    assert r.proc.returncode == 0, r.err
    for text in ("Indicator", "Value", "Target", "Met", "#15 Registered volunteers per 10,000", "Response rate",
                 "#35 Callback satisfaction", "Fund income over the run", "Fund balance", "Public cost over the run",
                 "#29 Satisfaction with community safety"):
        assert text in r.out, text
    assert re.search(r"Response rate\s+(—|[\d.]+ %)\s+>= 100\.0 %\s+(yes|no|—)", r.out)
    assert re.search(r"#29 Satisfaction with community safety\s+—\s+>= 95\.0 %\s+not modelled", r.out)
    out = r.cwd / "out"
    assert {p.name for p in out.iterdir()} == OUTPUTS
    assert all_files(r.cwd) == sorted([out, *(out / n for n in OUTPUTS)])  # no log, .hydra or partial folder
    assert f"outputs: {out}" in r.out


def test_run_outputs_have_the_documented_content(cli):
    out = cli["run"].cwd / "out"
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 10
    assert ts["step"].tolist() == list(range(1, 11))
    assert (ts["residents"] == 12000).all()  # the default community: urban_traditional
    kpis = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assert isinstance(kpis["targets"], dict) and kpis["targets"]
    for key, t in kpis["targets"].items():
        assert {"value", "target", "met"} <= set(t), key
        assert t["met"] in (True, False, None)
    assert kpis["targets"]["response_rate"]["target"] == 1.0
    assert kpis["totals"]["fund_balance"] == pytest.approx(ts["fund_balance"].iloc[-1])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"seed", "config", "config_hash", "versions", "git_commit", "wall_time_s"} <= set(manifest)
    assert manifest["seed"] == 0 and manifest["config"]["steps"] == 10
    assert manifest["config"]["community"]["name"] == "urban_traditional"
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["config_hash"])
    assert manifest["versions"]["mesa"] and manifest["versions"]["hydra-core"]
    assert manifest["wall_time_s"] > 0


def test_lang_zh_prints_chinese_labels(cli):
    r = cli["zh_default_dir"]
    assert r.proc.returncode == 0, r.err
    for text in ("指标", "模拟值", "规划目标", "达标", "诉求响应率", "诉求回访满意率", "社区基金余额",
                 "公共财政成本累计", "未建模"):
        assert text in r.out, text
    assert "Response rate" not in r.out


def test_default_run_dir_is_results_runs_date_time(cli):
    r = cli["zh_default_dir"]
    runs = [p.parent for p in r.cwd.rglob("manifest.json")]
    assert len(runs) == 1
    rel = runs[0].relative_to(r.cwd)
    assert re.fullmatch(r"results/runs/\d{4}-\d{2}-\d{2}/\d{2}-\d{2}-\d{2}", rel.as_posix())
    assert {p.name for p in runs[0].iterdir()} == OUTPUTS
    assert len(pd.read_parquet(runs[0] / "timeseries.parquet")) == 3


# --------------------------------------------------------------------------------------------
# --help
# --------------------------------------------------------------------------------------------
def test_help_lists_groups_and_parameters_with_units(cli):
    r = cli["help"]
    assert r.proc.returncode == 0, r.err
    groups = dict(re.findall(r"^(community|policy): (.*)$", r.out, flags=re.M))
    assert set(COMMUNITIES) <= {g.strip() for g in groups["community"].split(",")}
    assert set(POLICIES) <= {g.strip() for g in groups["policy"].split(",")}
    assert re.search(r"policy\.micro_fund\.fen_per_unit\s+0\.0\s+fen/unit\s+\[0, 10000\]", r.out)
    assert re.search(r"community\.residents\s+12000\s+persons", r.out)
    assert all_files(r.cwd) == []


def test_the_fast_help_says_exactly_what_hydras_own_help_says(tmp_path):
    """python -m sim --help renders the help itself (sim.runs.cli.app_help, seconds sooner); an override of
    hydra.* sends it through Hydra's own rendering, which must give the same text."""
    fast = run_cli(tmp_path, "--help")
    hydra = run_cli(tmp_path, "--help", "hydra.help.app_name=sim")
    assert fast.returncode == hydra.returncode == 0, fast.stderr + hydra.stderr
    assert fast.stdout == hydra.stdout


# --------------------------------------------------------------------------------------------
# bad input: non-zero exit, a message naming the key, and no files at all
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "code", "patterns"), [
    ("bad_fen", 2, [r"^error: policy\.micro_fund\.fen_per_unit=-1\.0 is out of range: allowed \[0, 10000\] fen/unit$"]),
    ("bad_policy", 2, [r"^error: policy='nope' is not a policy option; choose one of: "
                       + ", ".join(sorted(POLICIES)) + "$"]),
    ("bad_steps", 2, [r"^error: steps='abc' is not an integer$"]),
    ("misspelt_added", 2, [r"^error: polcy is not a parameter or a config group; did you mean policy\b"]),
    ("misspelt_lever", 2, [r"^error: policy\.micro_fund\.fen_per_units is not a parameter or a config group; "
                           r"did you mean policy\.micro_fund\.fen_per_unit\b"]),
    # found only once the config is built, after Hydra made the run folder: the folder is removed
    ("rule_across_values", 2, [r"^error: community\.households=20000 exceeds community\.residents=12000"]),
])
def test_bad_override_exits_non_zero_names_the_key_and_leaves_no_files(cli, name, code, patterns):
    r = cli[name]
    assert r.proc.returncode == code, (r.out, r.err)
    for pattern in patterns:
        assert re.search(pattern, r.err, flags=re.M), (pattern, r.err)
    assert "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert all_files(r.cwd) == [], f"left behind: {all_files(r.cwd)}"


# --------------------------------------------------------------------------------------------
# a folder that already holds a run; files readable by the group; real UTF-8
# --------------------------------------------------------------------------------------------
def test_a_second_run_into_a_finished_run_is_refused_unless_overwrite(cli):
    r = cli["run"]
    out = r.cwd / "out"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = run_cli(r.cwd, "steps=4", "progress=false", "hydra.run.dir=out")
    assert again.returncode == 2, again.stderr
    assert re.fullmatch(r"error: \S+/out already holds a finished run \(manifest\.json\); choose another folder "
                        r"\(hydra\.run\.dir=\.\.\.\) or add overwrite=true to replace it\n", again.stderr)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # untouched
    replaced = run_cli(r.cwd, "steps=4", "progress=false", "hydra.run.dir=out", "overwrite=true")
    assert replaced.returncode == 0, replaced.stderr
    assert len(pd.read_parquet(out / "timeseries.parquet")) == 4
    assert {p.name for p in out.iterdir()} == OUTPUTS


def test_run_folders_follow_the_umask(cli):
    """Folders made for a run are group-readable under umask 022 (nothing of ours makes 0700 folders)."""
    r = cli["zh_default_dir"]
    made = [p for p in all_files(r.cwd) if p.is_dir()]
    assert len(made) == 4  # results, runs, <date>, <time>
    for folder in made:
        assert folder.stat().st_mode & 0o777 == 0o755, (folder, oct(folder.stat().st_mode))
    for f in all_files(r.cwd):
        if f.is_file():
            assert f.stat().st_mode & 0o044 == 0o044, (f, oct(f.stat().st_mode))


def test_json_files_are_real_utf8(cli):
    r = cli["zh_default_dir"]
    (run_dir,) = {p.parent for p in r.cwd.rglob("manifest.json")}
    manifest = (run_dir / "manifest.json").read_text(encoding="utf-8")
    assert "易地扶贫搬迁社区" in manifest  # the relocation preset's Chinese name, as text
    for name in ("manifest.json", "kpis.json"):
        text = (run_dir / name).read_text(encoding="utf-8")
        assert not re.search(r"\\u[0-9a-fA-F]{4}", text), f"{name} holds \\u escapes"
        json.loads(text)


# --------------------------------------------------------------------------------------------
# packaging: the config tree ships inside the package
# --------------------------------------------------------------------------------------------
def test_configs_are_package_resources():
    root = files("sim.configs")
    assert root.joinpath("config.yaml").is_file()
    assert root.joinpath("hydra", "help", "sim_help.yaml").is_file()
    for group, names in (("community", COMMUNITIES), ("policy", POLICIES)):
        found = {p.name for p in root.joinpath(group).iterdir() if p.name.endswith(".yaml")}
        assert found == {f"{n}.yaml" for n in names}, group


def _copy_sources(dest: Path) -> Path:
    """The repository's sources without virtualenv, VCS, build products or results (so nothing is written
    into the working tree by the build)."""
    ignore = shutil.ignore_patterns(".venv", ".git", "results", "build", "dist", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".ruff_cache", ".hypothesis")
    return Path(shutil.copytree(REPO, dest, ignore=ignore))


def test_wheel_ships_the_configs_and_works_when_installed(tmp_path):
    src = _copy_sources(tmp_path / "src")
    wheels = tmp_path / "wheels"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(src)]
    if importlib.util.find_spec("setuptools") is not None:  # else pip builds in an isolated environment
        cmd.insert(4, "--no-build-isolation")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = wheels.glob("five_society_sim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"sim/configs/config.yaml", "sim/configs/hydra/help/sim_help.yaml",
                "sim/configs/hydra/job_logging/sim.yaml",
                *(f"sim/configs/community/{c}.yaml" for c in COMMUNITIES),
                *(f"sim/configs/policy/{p}.yaml" for p in POLICIES)}
    assert expected <= names, sorted(expected - names)
    assert "sim/settings/config.py" in names and "sim/configs/__init__.py" in names

    # "install" the pure-Python wheel by unpacking it, and compose a config from the installed copy
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("HYDRA_FULL_ERROR", None)
    code = ("import sim, sim.configs; from sim.settings.config import settings_for; "
            "s = settings_for('community=relocation', 'policy=micro_fund'); "
            "print(sim.__file__); print(list(sim.configs.__path__)[0]); "
            "print(s.community.residents, s.policy.micro_fund.fen_per_unit)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    module, configs, values = proc.stdout.splitlines()[-3:]
    assert Path(module).is_relative_to(site) and Path(configs).is_relative_to(site)
    assert values == "1500 1.0"
