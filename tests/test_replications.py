"""Replications: the seeds-needed rule, and a tiny variance study end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from experiments.replications import main as replications_main
from experiments.replications import paired, per_indicator, policy_spread, recommend, requirements
from experiments.stats import seeds_needed
from experiments.stats import t_half_width as half_width


def test_seeds_needed_is_the_smallest_n_meeting_the_rule():
    diffs = np.random.default_rng(0).normal(1.0, 1.0, 25)
    sd = diffs.std(ddof=1)
    n = seeds_needed(diffs, rel=0.5, reference=1.0)
    assert half_width(sd, n) <= 0.5 < half_width(sd, n - 1)
    # tighter precision needs more seeds, roughly 1/rel²
    assert seeds_needed(diffs, rel=0.25, reference=1.0) > 3 * n


def test_one_rule_for_compare_and_replications():
    """compare's verdict and the planning rule are the same function of the same differences."""
    from experiments import stats

    diffs = np.random.default_rng(1).normal(1.0, 1.0, 40)
    n = seeds_needed(diffs)  # resolve the observed difference, as experiments.compare does
    assert stats.n_needed(diffs.std(ddof=1), diffs.mean()) == n < 40
    assert half_width(diffs.std(ddof=1), n) <= stats.REL_DIFF * abs(diffs.mean())
    assert stats.verdict(stats.mean_ci(diffs)) == stats.ENOUGH  # 40 ≥ n: compare says enough
    # planning: resolving 20 % of a typical difference δ = the mean needs 1/0.2² = 25 × more seeds
    assert seeds_needed(diffs, reference=0.2 * diffs.mean()) > 20 * n


def test_seeds_needed_edge_cases():
    assert seeds_needed([2.0, 2.0, 2.0]) == 2                       # no variation: the minimum
    assert seeds_needed([0.1, -0.1, 0.05], reference=0.0) is None  # nothing to resolve
    assert seeds_needed([1.0, 2.0, 3.0], rel=1e-4) is None          # beyond n_max
    assert seeds_needed([1.0, 2.0, np.nan, 3.0], rel=0.5) == seeds_needed([1.0, 2.0, 3.0], rel=0.5)
    with pytest.raises(ValueError, match="at least 2"):
        seeds_needed([1.0])


def test_requirements_use_the_typical_between_policy_difference():
    rows = []
    for seed in range(10):
        noise = 0.1 * np.sin(seed)
        rows += [{"community": "c", "policy": "baseline", "seed": seed, "k": 1.0, "flat": 5.0},
                 {"community": "c", "policy": "a", "seed": seed, "k": 2.0 + noise, "flat": 5.0 + noise / 100},
                 {"community": "c", "policy": "b", "seed": seed, "k": 1.5 + noise, "flat": 5.0}]
    runs = pd.DataFrame(rows)
    long = runs.melt(id_vars=["community", "policy", "seed"], value_vars=["k", "flat"], var_name="indicator")
    spread = policy_spread(long).set_index("indicator")
    assert spread.loc["k", "typical_diff"] == pytest.approx(0.5, abs=0.02)  # sd of the means ≈ 1, 1.5, 2
    assert not spread.loc["k", "flat"] and spread.loc["flat", "flat"]
    req = requirements(paired(runs, ("k", "flat")), spread.reset_index(), detect=0.2)  # half-width ≤ 0.5·0.2·δ
    k = req[req["indicator"] == "k"].set_index("policy")
    sd = k.loc["a", "sd_diff"]
    n = int(k.loc["a", "seeds_needed"])
    assert half_width(sd, n) <= 0.05 < half_width(sd, n - 1)
    per = per_indicator(req).set_index("indicator")
    rec = recommend(per.reset_index(), cap=50)
    assert rec.loc[0, "seeds"] >= 10 and rec.loc[0, "seeds"] % 5 == 0
    assert rec.loc[0, "flat"] == "flat"


def test_tiny_study_end_to_end(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.run([sys.executable, "-m", "experiments.replications", "--communities", "relocation",
                           "--policies", "baseline,five_society", "--seeds", "3", "--steps", "26", "--out", "rep"],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = tmp_path / "rep"
    for name in ("halfwidth.csv", "required.csv", "required.md", "halfwidth.png", "halfwidth.svg", "summary.json"):
        assert (out / name).is_file(), name
    curves = pd.read_csv(out / "halfwidth.csv")
    assert set(curves["kind"]) == {"mean", "paired_difference"}
    assert sorted(curves["n"].unique()) == [2, 3]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs"] == 6 and "relocation" in summary["recommended"]


def test_bad_policies_are_refused(tmp_path, capsys):
    assert replications_main(["--policies", "micro_fund", "--out", str(tmp_path / "rep")]) != 0
    assert "baseline" in capsys.readouterr().err
    assert not (tmp_path / "rep").exists()


def test_a_half_seed_requirement_rounds_up_to_the_next_multiple_of_five():
    """The typical requirement is a median: 15.5 (two policies needing 15 and 16) needs 20 seeds, not 15."""
    per = pd.DataFrame({"community": ["c", "c"], "indicator": ["k", "m"], "seeds_typical": [15.5, 3.0],
                        "seeds_worst": [16, 3], "typical_diff": [1.0, 1.0], "flat": [False, False]})
    assert recommend(per, cap=50).loc[0, "seeds"] == 20
