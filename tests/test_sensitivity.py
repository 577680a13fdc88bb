"""Sensitivity analysis: a tiny Morris run end to end (and its resume), Sobol on a known function, bad input."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import sensitivity as sa
from sim.config import schema_fields

PARAMS = "behaviour.register_base,behaviour.activity_prob,policy.fund.transparency"
TINY = ["method=morris", "--trajectories", "2", "--seeds", "1", "--steps", "52", "community=relocation",
        "--params", PARAMS, "--resamples", "50"]  # 52 weeks after the warm-up: every key indicator measurable


def run_sa(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run([sys.executable, "-m", "experiments.sensitivity", *args], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def morris_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    cwd = tmp_path_factory.mktemp("morris")
    proc = run_sa(cwd, *TINY, "--out", "sa")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return cwd / "sa", proc


def test_morris_writes_tables_figures_and_finite_indices(morris_run):
    out, proc = morris_run
    for name in ("indices.csv", "indices.md", "ranking.md", "indices.png", "indices.svg", "convergence.csv",
                 "convergence.png", "convergence.svg", "summary.json", "sweep/design.parquet", "sweep/runs.parquet"):
        assert (out / name).is_file(), name
    indices = pd.read_csv(out / "indices.csv")
    assert set(indices["parameter"]) == set(PARAMS.split(","))
    assert set(indices["indicator"]) == set(sa.INDICATORS)
    assert np.isfinite(indices[["mu_star", "mu_star_conf", "sigma"]].to_numpy()).all()
    # register_base moves the volunteer stock; transparency cannot (it acts on giving and trust)
    vol = indices[indices["indicator"] == "volunteers_per_10k"].set_index("parameter")["mu_star"]
    assert vol["behaviour.register_base"] > vol["policy.fund.transparency"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["points"] == 2 * (3 + 1) and summary["runs"] == 8
    conv = pd.read_csv(out / "convergence.csv")
    assert sorted(conv["size"].unique()) == [2]
    assert "sweep finished: 8 done, 0 skipped, 0 failed" in proc.stdout  # run_many's summary


def test_morris_rerun_skips_completed_jobs(morris_run):
    out, _ = morris_run
    proc = run_sa(out.parent, *TINY, "--out", "sa")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "sweep finished: 0 done, 8 skipped, 0 failed" in proc.stdout
    assert json.loads((out / "summary.json").read_text())["jobs_skipped"] == 8


@pytest.mark.parametrize("args, message", [
    (["method=fast"], "morris, sobol"),
    (["method=morris", "colour=red"], "method=..."),
    (["method=sobol", "--samples", "48"], "power of 2"),
    (["method=morris", "--params", "policy.fund.transparency,not.a.key"], "not.a.key"),
])
def test_bad_input_fails_without_outputs(tmp_path, capsys, args, message):
    assert sa.main([*args, "--out", str(tmp_path / "sa")]) != 0
    assert message in capsys.readouterr().err
    assert not (tmp_path / "sa").exists()


def test_ranges_come_from_the_schema_or_the_documented_table():
    assert sa.param_range("policy.fund.transparency") == (0.0, 1.0)             # schema lo/hi
    assert sa.param_range("policy.gov_purchase.budget_yuan_per_year") == (0.0, 400_000.0)  # not 10⁹
    with pytest.raises(sa.SensitivityError, match="no numeric range"):
        sa.param_range("policy.moral_bank.enabled")
    assert sa.param_range("community.units_per_week") == (500.0, 50_000.0)  # the flagged input's documented range
    fields = schema_fields()
    for key in {*sa.DEFAULT_PARAMS, *sa.RANGES}:
        lo, hi = sa.param_range(key)
        limits = fields[key].metadata
        assert limits["lo"] <= lo < hi <= limits["hi"], f"{key}: [{lo}, {hi}] outside the schema's limits"


def test_default_parameters_include_the_new_mechanisms():
    """The #11 mechanisms (who handles demands, callbacks, projects, party building) are in the default set,
    and no parameter removed from the model is."""
    new = {"behaviour.staff_cases_week", "behaviour.callback_satisfied_resolved", "behaviour.project_cost_yuan",
           "behaviour.session_satisfaction_rate", "behaviour.satisfaction_memory_weeks", "behaviour.claim_prob",
           "policy.party_building.strength", "community.units_per_week"}
    assert new <= set(sa.DEFAULT_PARAMS)
    assert set(sa.DEFAULT_PARAMS) <= set(schema_fields())
    assert len(set(sa.DEFAULT_PARAMS)) == len(sa.DEFAULT_PARAMS)


def test_sobol_indices_of_a_known_function():
    """y = 4·x1 + x2 (+ nothing from x3) on [0, 1]³: ST(x1) ≫ ST(x2) > ST(x3) ≈ 0, S1 ≈ ST (additive)."""
    args = argparse.Namespace(samples=256, seed=0, resamples=100, seeds=1)
    prob = {"num_vars": 3, "names": ["a.x1", "a.x2", "a.x3"], "bounds": [[0, 1]] * 3}
    x = sa.sample("sobol", prob, args)
    assert len(x) == sa.n_points("sobol", 3, args) == 256 * 5
    y = pd.DataFrame({"y": 4 * x[:, 0] + x[:, 1]})
    res = sa.analyse("sobol", prob, x, y["y"].to_numpy(), args).set_index("parameter")
    assert res.loc["a.x1", "ST"] == pytest.approx(16 / 17, abs=0.05)
    assert res.loc["a.x2", "ST"] == pytest.approx(1 / 17, abs=0.03)
    assert abs(res.loc["a.x3", "ST"]) < 0.01
    conv = sa.convergence("sobol", prob, x, y, args)
    assert sorted(conv["size"].unique()) == [2, 4, 8, 16, 32, 64, 128, 256]


def test_a_contrast_is_analysed_from_pairs_run_with_the_same_seeds(tmp_path):
    """--contrast baseline: at every point both policies run with the same seeds, and the indices are of
    five_society − baseline (read back from the runs: the analysed value is the difference of the pair)."""
    params = "behaviour.register_base,behaviour.activity_prob"
    proc = run_sa(tmp_path, "method=morris", "--trajectories", "2", "--seeds", "1", "--steps", "52",
                  "community=relocation", "--params", params, "--resamples", "50", "--contrast", "baseline",
                  "--out", "sa")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = tmp_path / "sa"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["contrast"] == "five_society − baseline" and summary["runs"] == 2 * (2 + 1) * 2
    runs = pd.read_parquet(out / "sweep" / "runs.parquet")
    assert sorted(runs["policy"].unique()) == ["baseline", "five_society"]
    design = pd.read_parquet(out / "sweep" / "design.parquet")
    runs["design_row"] = runs["run_dir"].str.extract(r"design_row=(\d+)", expand=False).astype(int)
    rows = sa.contrast_per_point(runs, len(design), sa.INDICATORS, "five_society", "baseline")
    pair = runs[runs["design_row"] == 0].set_index("policy")["volunteers_per_10k"]
    assert rows.loc[0, "volunteers_per_10k"] == pytest.approx(pair["five_society"] - pair["baseline"])
    assert (rows["public_cost_run"] > 0).all()  # five_society always costs more public money than baseline
    indices = pd.read_csv(out / "indices.csv")
    assert set(indices["parameter"]) == set(params.split(",")) and np.isfinite(indices["mu_star"]).all()
    assert "of five_society − baseline" in (out / "report.md").read_text(encoding="utf-8")


def test_a_contrast_refuses_levers_that_would_change_the_control_too(tmp_path, capsys):
    assert sa.main(["method=morris", "--contrast", "baseline", "--params", "policy.fund.transparency",
                    "--out", str(tmp_path / "sa")]) == 2
    assert "would be set in both policies" in capsys.readouterr().err and not (tmp_path / "sa").exists()
    assert sa.main(["method=morris", "--contrast", "five_society", "--out", str(tmp_path / "sa")]) == 2
