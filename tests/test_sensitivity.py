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
from experiments.priors import CONTRAST_PRIORS, Distribution
from sim.settings.config import schema_fields

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


@pytest.mark.parametrize("seed", [0, 7])
def test_sobol_bootstrap_intervals_repeat_for_every_seed_including_0(seed):
    """SALib's sobol.analyze ignores a seed of 0 (``if seed:``): the default seed left the bootstrap half-widths
    changing from call to call (docs/sensitivity.md's changed by up to 0.03 between two runs of the same study)."""
    args = argparse.Namespace(samples=64, seed=seed, resamples=100, seeds=1)
    prob = {"num_vars": 3, "names": ["a.x1", "a.x2", "a.x3"], "bounds": [[0, 1]] * 3}
    x = sa.sample("sobol", prob, args)
    y = 4 * x[:, 0] + x[:, 1] ** 2
    first, second = (sa.analyse("sobol", prob, x, y, args) for _ in range(2))
    pd.testing.assert_frame_equal(first, second)
    other = sa.analyse("sobol", prob, x, y, argparse.Namespace(**{**vars(args), "seed": seed + 1}))
    assert not np.allclose(first["ST_conf"], other["ST_conf"])  # the seed is what fixes them


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


def test_priors_are_valid_distributions_with_sources_and_are_sampled_as_given():
    """Every contrast prior names a schema parameter, has a source, and SALib draws it as stated: inside its
    bounds, a triangle's mean at (lo + hi + mode) / 3."""
    fields = schema_fields()
    for key, d in CONTRAST_PRIORS.items():
        assert key in fields and not key.startswith("policy."), key
        assert d.source and d.lo < d.hi
    keys = ["community.satisfaction_initial", "behaviour.professional_share"]
    prob = sa.problem(keys, CONTRAST_PRIORS)
    assert prob["dists"] == ["triang", "unif"]
    x = sa.sample("sobol", prob, argparse.Namespace(samples=1024, seed=0))
    tri, uni = CONTRAST_PRIORS[keys[0]], CONTRAST_PRIORS[keys[1]]
    assert tri.lo <= x[:, 0].min() and x[:, 0].max() <= tri.hi
    assert x[:, 0].mean() == pytest.approx((tri.lo + tri.hi + tri.mode) / 3, abs=0.01)
    assert x[:, 1].mean() == pytest.approx((uni.lo + uni.hi) / 2, abs=0.01)
    with pytest.raises(ValueError, match="mode"):
        Distribution("triangular", 0.0, 1.0, "x")
    with pytest.raises(ValueError, match="kind"):
        Distribution("normal", 0.0, 1.0, "x")


def test_survivors_pass_the_share_of_the_largest_effect_of_some_indicator():
    """A parameter goes on to Sobol when its mu* reaches SURVIVE of the largest of any one indicator (so a
    parameter that matters for one indicator only survives), at most ``most`` of them, and never fewer than two."""
    indices = pd.DataFrame({
        "indicator": ["a"] * 4 + ["b"] * 4,
        "parameter": ["p", "q", "r", "s"] * 2,
        "mu_star": [10.0, 0.5, 2.0, 0.0, 0.0, 0.01, 0.0, 3.0]})
    kept = sa.survivors(indices, most=8)
    assert list(kept.index) == ["p", "s", "r"]  # q: 5 % of a's largest, 0.3 % of b's: screened out
    assert list(sa.survivors(indices, most=2).index) == ["p", "s"]
    flat = indices.assign(mu_star=0.0)
    assert len(sa.survivors(flat, most=8)) == 2  # nothing moves: still two, for a Sobol that can run


def test_screen_runs_morris_then_sobol_on_the_survivors_across_communities(tmp_path):
    """method=screen --contrast baseline over two communities: Morris on all given inputs (drawn from their
    priors), Sobol on the survivors only, a screen.md per community and presets.md across them."""
    params = "behaviour.professional_share,community.units_per_week,behaviour.satisfaction_rate"
    proc = run_sa(tmp_path, "method=screen", "--contrast", "baseline", "--trajectories", "2", "--samples", "4",
                  "--seeds", "1", "--steps", "52", "community=relocation,township", "--params", params,
                  "--resamples", "50", "--max-survivors", "2", "--out", "sa")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = tmp_path / "sa"
    for community in ("relocation", "township"):
        summary = json.loads((out / community / "summary.json").read_text())
        survivors = list(summary["survivors"])
        assert len(survivors) == 2 and set(survivors) <= set(params.split(","))
        sobol = pd.read_csv(out / community / "sobol" / "indices.csv")
        assert set(sobol["parameter"]) == set(survivors)  # Sobol only on the survivors
        morris = pd.read_csv(out / community / "morris" / "indices.csv")
        assert set(morris["parameter"]) == set(params.split(","))
        assert summary["runs"] == 2 * (3 + 1) * 2 + 4 * (2 + 2) * 2  # Morris r(k+1)·2 policies + Sobol N(k+2)·2
        md = (out / community / "screen.md").read_text(encoding="utf-8")
        assert "five_society − baseline" in md and "uniform 0.1–0.5" in md  # the priors, with their sources
        assert "docs/literature.md" in (out / community / "morris" / "report.md").read_text(encoding="utf-8")
    presets = (out / "presets.md").read_text(encoding="utf-8")
    assert "| relocation |" in presets and "| township |" in presets
