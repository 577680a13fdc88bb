"""Sweeps end to end: joblib and submitit_local launchers, run_many, collation, resume, fault isolation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.runs.collate import CollateError, collate
from sim.runs.runner import run_many
from sim.settings.config import settings_for, with_values

SMALL = ["community=relocation", "steps=13"]


def sweep(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.run([sys.executable, "-m", "sim", "-m", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"sweep failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def joblib_sweep(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    cwd = tmp_path_factory.mktemp("joblib")
    proc = sweep(cwd, "policy=baseline,micro_fund", "seed=range(0,3)", *SMALL, "hydra.sweep.dir=sw")
    return cwd / "sw", proc


def test_joblib_sweep_runs_all_jobs_and_collates(joblib_sweep):
    sweep_dir, proc = joblib_sweep
    assert "sweep finished: 6 done, 0 skipped, 0 failed" in proc.stdout
    assert proc.stdout.count("] done ") == 6  # one progress line per finished job
    assert "[6/6]" in proc.stdout
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    assert len(runs) == 6
    assert set(runs["status"]) == {"done"}
    assert sorted(runs["policy"].unique()) == ["baseline", "micro_fund"]
    assert sorted(runs["seed"].unique()) == [0, 1, 2]
    assert runs["config_hash"].nunique() == 6
    for kpi in ("volunteers_per_10k", "satisfaction_mean", "fund_balance"):
        assert runs[kpi].notna().all(), kpi
    assert runs["response_rate"].isna().all()  # 13 weeks: a rate over the last 52 weeks is not measurable
    ts = pd.read_parquet(sweep_dir / "timeseries.parquet")
    assert list(ts.columns) == ["run", "step", "indicator", "value"]
    assert ts["run"].nunique() == 6
    assert ts["step"].max() == 13
    one = ts[(ts["run"] == 0) & (ts["indicator"] == "fund_balance")]
    assert len(one) == 13


def test_same_seed_gives_common_demands_across_policies(joblib_sweep):
    """Common random numbers: the per-unit donation does not change who raises a demand."""
    sweep_dir, _ = joblib_sweep
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    ts = pd.read_parquet(sweep_dir / "timeseries.parquet")
    raised = ts[ts["indicator"] == "demands_raised"].merge(runs[["run", "policy", "seed"]], on="run")
    wide = raised.pivot_table(index=["seed", "step"], columns="policy", values="value")
    assert (wide["baseline"] == wide["micro_fund"]).all()
    assert wide.groupby("seed")["baseline"].sum().nunique() == 3  # but seeds differ


def test_resume_reruns_only_missing_run(joblib_sweep, tmp_path):
    sweep_dir, _ = joblib_sweep
    work = tmp_path / "copy"
    shutil.copytree(sweep_dir, work / "sw")
    victim = work / "sw" / "community=relocation,policy=micro_fund,seed=1,steps=13"
    shutil.rmtree(victim)
    before = {p.parent.name: p.stat().st_mtime_ns for p in (work / "sw").glob("*/timeseries.parquet")}
    proc = sweep(work, "policy=baseline,micro_fund", "seed=range(0,3)", *SMALL, "hydra.sweep.dir=sw")
    assert "sweep finished: 1 done, 5 skipped, 0 failed" in proc.stdout
    assert (victim / "manifest.json").is_file()
    after = {p.parent.name: p.stat().st_mtime_ns for p in (work / "sw").glob("*/timeseries.parquet")}
    unchanged = [d for d in before if before[d] == after.get(d)]
    assert len(unchanged) == 5
    # the re-run result equals the original one (same seed and config)
    original = pd.read_parquet(sweep_dir / victim.name / "timeseries.parquet")
    pd.testing.assert_frame_equal(original, pd.read_parquet(victim / "timeseries.parquet"))


def test_changed_config_is_not_skipped(joblib_sweep, tmp_path):
    """The skip key is the config hash, not the folder name."""
    sweep_dir, _ = joblib_sweep
    job = "community=relocation,policy=baseline,seed=0,steps=13"
    shutil.copytree(sweep_dir / job, tmp_path / "sw" / job)
    manifest = tmp_path / "sw" / job / "manifest.json"
    data = json.loads(manifest.read_text())
    data["config_hash"] = "0" * 64
    manifest.write_text(json.dumps(data))
    proc = sweep(tmp_path, "policy=baseline", "seed=0", *SMALL, "hydra.sweep.dir=sw")
    assert "1 done, 0 skipped" in proc.stdout


def test_failing_job_is_recorded_and_others_collated(tmp_path):
    # Each value is valid on its own, so the sweep starts; only the combination relocation (1,500
    # residents) × 2,000 households breaks a rule (a household has at least one resident).
    proc = sweep(tmp_path, "community=township,relocation", "community.households=1000,2000", "seed=range(0,2)",
                 "steps=13", "hydra.sweep.dir=sw", check=False)
    assert proc.returncode == 3, proc.stderr  # some jobs failed: the summary is printed, then exit code 3
    assert "sweep finished: 6 done, 0 skipped, 2 failed" in proc.stdout
    assert "community.households=2000 exceeds community.residents=1500" in proc.stdout
    runs = pd.read_parquet(tmp_path / "sw" / "runs.parquet")
    assert len(runs) == 8
    failed = runs[runs["status"] == "failed"]
    assert len(failed) == 2
    assert (failed["community"] == "relocation").all() and (failed["community.households"] == 2000).all()
    assert failed["error"].str.contains("ConfigError").all()
    done = runs[runs["status"] == "done"]
    assert done["satisfaction_mean"].notna().all()
    status = json.loads((tmp_path / "sw" / failed["run_dir"].iloc[0] / "status.json").read_text())
    assert "Traceback" in status["traceback"]
    assert not (tmp_path / "sw" / failed["run_dir"].iloc[0] / "manifest.json").exists()


@pytest.mark.parametrize(("bad", "message"), [
    ("policy.micro_fund.fen_per_unit=1,-1", r"policy.micro_fund.fen_per_unit=-1.0 is out of range: allowed [0, 10000]"),
    ("policy=baseline,no_such_policy", "no_such_policy"),  # the wording is the command line's (sim.runs.cli)
    ("seed=0,-1", "seed=-1 is out of range: allowed [0, 4294967295]"),  # checked without composing
])
def test_bad_swept_value_stops_the_sweep_before_any_job(tmp_path, bad, message):
    seeds = [] if bad.startswith("seed=") else ["seed=range(0,3)"]  # a key is given once
    proc = sweep(tmp_path, *seeds, *SMALL, bad, "hydra.sweep.dir=sw", check=False)
    assert proc.returncode == 2  # the sweep could not start
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "sw").exists()  # nothing half-written


def test_check_value_checks_numbers_alone_and_leaves_the_rest_to_composition():
    from sim.settings.config import ConfigError, check_value

    assert check_value("seed", 3) and check_value("seed", "3") and check_value("community.residents", 2000.0)
    assert check_value("policy.fund.transparency", 0.25)
    assert not check_value("policy", "baseline")            # a config group: composed
    assert not check_value("policy.fund.governance", "x")   # an enum: composed
    assert not check_value("hydra.launcher.n_jobs", 2)
    with pytest.raises(ConfigError, match=r"policy.fund.transparency=1.5 is out of range: allowed \[0, 1\]"):
        check_value("policy.fund.transparency", 1.5)
    with pytest.raises(ConfigError, match="is not an integer"):
        check_value("community.residents", 10.5)


def test_submitit_local_launcher(tmp_path):
    """The cluster code path (submitit) without a scheduler."""
    proc = sweep(tmp_path, "hydra/launcher=submitit_local", "policy=baseline,micro_fund", "seed=0", *SMALL,
                 "hydra.sweep.dir=sw")
    assert "sweep finished: 2 done, 0 skipped, 0 failed" in proc.stdout
    runs = pd.read_parquet(tmp_path / "sw" / "runs.parquet")
    assert sorted(runs["policy"]) == ["baseline", "micro_fund"]
    assert (tmp_path / "sw" / ".submitit").is_dir()


def test_collate_command_and_corrupt_file(joblib_sweep, tmp_path):
    sweep_dir, _ = joblib_sweep
    work = tmp_path / "sw"
    shutil.copytree(sweep_dir, work)
    (work / "runs.parquet").unlink()
    proc = subprocess.run([sys.executable, "-m", "sim.runs.collate", str(work)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "collated 6 runs" in proc.stdout
    runs_before = (work / "runs.parquet").read_bytes()
    bad = work / "community=relocation,policy=baseline,seed=2,steps=13" / "timeseries.parquet"
    bad.write_bytes(b"not a parquet file")
    proc = subprocess.run([sys.executable, "-m", "experiments.collate", str(work)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert f"1 bad run(s) in {work}: {bad.parent.name}: timeseries.parquet has 18 bytes, the manifest recorded" \
        in proc.stderr
    assert (work / "runs.parquet").read_bytes() == runs_before  # nothing half-written
    with pytest.raises(CollateError):
        collate(work)
    runs = collate(work, skip_corrupt=True)
    assert (runs["status"] == "corrupt").sum() == 1


def test_collate_missing_folder(tmp_path):
    for module in ("sim.runs.collate", "experiments.collate"):  # the old command still works
        proc = subprocess.run([sys.executable, "-m", module, str(tmp_path / "nope")], capture_output=True, text=True)
        assert proc.returncode == 1
        assert "no such sweep folder" in proc.stderr


def test_experiment_configs_compose_to_their_job_counts():
    from sim.runs.sweep import count_jobs
    from sim.settings.config import community_presets, compose_config, policy_presets

    five_vs_baseline = len(policy_presets()) * len(community_presets()) * 50  # glob(*): every preset of each group
    for name, jobs in (("one_cent", 675), ("five_society_vs_baseline", five_vs_baseline), ("community_types", 700)):
        cfg = compose_config([f"+experiment={name}"], return_hydra_config=True)
        assert count_jobs(cfg) == jobs, name
        assert cfg.hydra.sweep.dir == f"results/sweeps/{name}"


# ------------------------------------------------------------------------------------------------
# run_many: the same job contract in process
# ------------------------------------------------------------------------------------------------
def _grid(policies=("baseline", "micro_fund"), seeds=range(3)):
    """The runs of the joblib_sweep fixture, built in process: settings, overrides (in the command's order)."""
    settings, overrides = [], []
    for policy in policies:
        base = settings_for(*SMALL, f"policy={policy}")
        for seed in seeds:
            settings.append(with_values(base, {"seed": seed}))
            overrides.append([f"policy={policy}", f"seed={seed}", *SMALL])
    return settings, overrides


def _dirname(overrides: list[str]) -> str:
    """Hydra's job folder name: the sorted overrides."""
    return ",".join(sorted(overrides))


def test_run_many_writes_what_the_hydra_sweep_writes(joblib_sweep, tmp_path, capsys):
    sweep_dir, _ = joblib_sweep
    settings, overrides = _grid()
    runs = run_many(settings, tmp_path / "sw", n_jobs=2, overrides=overrides, names=[_dirname(o) for o in overrides])
    assert "sweep finished: 6 done, 0 skipped, 0 failed" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "sw").iterdir() if p.is_dir()) == \
        sorted(p.name for p in sweep_dir.iterdir() if p.is_dir())  # folders named by their overrides
    for job in (tmp_path / "sw").iterdir():
        if job.is_dir():
            for name in ("timeseries.parquet", "kpis.json"):
                assert (job / name).read_bytes() == (sweep_dir / job.name / name).read_bytes(), (job.name, name)
            ours, theirs = (json.loads((d / "manifest.json").read_text()) for d in (job, sweep_dir / job.name))
            assert ours["config_hash"] == theirs["config_hash"] and ours["overrides"] == theirs["overrides"]
    hydra_runs = pd.read_parquet(sweep_dir / "runs.parquet")
    cols = ["run_dir", "status", "community", "policy", "seed", "steps", "config_hash", "satisfaction_mean"]
    pd.testing.assert_frame_equal(runs[cols], hydra_runs[cols])


def test_run_many_resumes_and_isolates_a_failure(tmp_path, capsys):
    settings, overrides = _grid(policies=("baseline",), seeds=range(2))
    run_many(settings, tmp_path, n_jobs=1, overrides=overrides, progress=False)  # named by the overrides
    assert capsys.readouterr().out == ""  # no progress: silent
    first = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/timeseries.parquet")}
    broken = with_values(settings[0], {"seed": 7})
    broken.community.households = broken.community.residents + 1  # a rule checked again when the job starts
    runs = run_many([*settings, broken], tmp_path, n_jobs=2, names=[*(",".join(o) for o in overrides), "broken"])
    out = capsys.readouterr().out
    assert "sweep finished: 0 done, 2 skipped, 1 failed" in out
    assert "failed: broken: ConfigError: community.households=1501 exceeds" in out
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/timeseries.parquet")} == first  # not re-run
    assert runs.set_index("run_dir")["status"].to_dict() == {
        ",".join(overrides[0]): "skipped", ",".join(overrides[1]): "skipped", "broken": "failed"}
    status = json.loads((tmp_path / "broken" / "status.json").read_text())
    assert "Traceback" in status["traceback"] and not (tmp_path / "broken" / "manifest.json").exists()
    changed = [with_values(settings[0], {"steps": 14})]  # same folder, another config: not skipped
    runs = run_many(changed, tmp_path, n_jobs=1, names=[",".join(overrides[0])], progress=False)
    assert runs.set_index("run_dir").loc[",".join(overrides[0]), "status"] == "done"


def test_run_many_names_runs_by_their_overrides_and_refuses_clashes(tmp_path):
    s = settings_for(*SMALL)
    with pytest.raises(ValueError, match="distinct name"):
        run_many([s, s], tmp_path, names=["a", "a"])
    with pytest.raises(ValueError, match="plain folder names"):
        run_many([s], tmp_path, names=["../escape"])
    runs = run_many([s], tmp_path, n_jobs=1, progress=False)
    assert list(runs["run_dir"]) == ["run00000"]


def test_run_design_plans_runs_like_a_sweep():
    from experiments.design import DesignError, plan_runs, scenario_combinations

    assert scenario_combinations(["community=relocation", "policy=baseline,five_society", "steps=13"]) == [
        ["community=relocation", "policy=baseline", "steps=13"], ["community=relocation", "policy=five_society",
                                                                   "steps=13"]]
    assert len(scenario_combinations(["seed=range(0,3)", "policy='a,b'"])) == 3  # quoted commas: one value
    design = pd.DataFrame({"behaviour.register_base": [0.0004, 0.0008], "behaviour.recognition_window_weeks": [20, 30]})
    settings, overrides, names, rows = plan_runs(design, [0, 1], ["community=relocation", "policy=baseline,micro_fund"])
    assert len(settings) == 8 and rows == [0, 0, 1, 1] * 2
    assert names[3] == "community=relocation,design_row=1,policy=baseline,seed=1"
    assert overrides[3] == ["community=relocation", "policy=baseline", "behaviour.register_base=0.0008",
                            "behaviour.recognition_window_weeks=30", "seed=1"]
    assert settings[3] == settings_for("community=relocation", "policy=baseline", *overrides[3][2:])
    with pytest.raises(DesignError, match=r"community\.households=2000 exceeds"):
        plan_runs(None, [0], ["community=relocation", "community.households=1000,2000"])
