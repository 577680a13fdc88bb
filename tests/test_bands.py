"""Seed noise against parameter uncertainty (experiments.bands, issue #12 item 2 in part)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, assert_bad_input_refused

from experiments import stats
from experiments.bands import contrasts, parameter_sets
from experiments.calibrate import PRIORS, Prior
from experiments.stats import band_table


def _diffs(per_set: dict[int, list[float]], kpi: str = "response_rate") -> pd.DataFrame:
    rows = [{"policy": "five_society", "set": j, "seed": i, "kpi": kpi, "diff": d}
            for j, ds in per_set.items() for i, d in enumerate(ds)]
    return pd.DataFrame(rows)


def test_the_band_spreads_over_parameter_sets_and_the_seed_interval_over_seeds():
    per_set = {0: [0.9, 1.0, 1.1, 1.0], 1: [2.9, 3.0, 3.1, 3.0], 2: [-1.1, -1.0, -0.9, -1.0]}
    row = band_table(_diffs(per_set)).iloc[0]
    assert row["mean_diff"] == pytest.approx(1.0) and (row["sets"], row["seeds"]) == (3, 4)
    assert (row["band_low"], row["band_high"]) == pytest.approx(tuple(np.percentile([1.0, 3.0, -1.0], (2.5, 97.5))))
    assert row["seed_half_width"] == pytest.approx(stats.mean_ci(per_set[0]).half_width)  # the same in every set
    assert row["sign_share"] == pytest.approx(2 / 3)  # one set of three turns the sign
    assert row["dominant"] == "parameters"


def test_seed_noise_dominates_when_the_sets_agree_and_neither_when_nothing_varies():
    noisy = band_table(_diffs({0: [0.0, 2.0, -1.0, 3.0], 1: [0.1, 2.1, -0.9, 3.1]})).iloc[0]
    assert noisy["dominant"] == "seeds" and noisy["sign_share"] == 1.0
    flat = band_table(_diffs({0: [1.0, 1.0], 1: [1.0, 1.0]}, kpi="social_orgs_serving")).iloc[0]
    assert flat["dominant"] == "neither" and flat["seed_half_width"] == 0


def test_runs_are_paired_by_parameter_set_and_seed():
    runs = pd.DataFrame({"policy": ["baseline"] * 4 + ["five_society"] * 4, "set": [0, 0, 1, 1] * 2,
                         "seed": [0, 1] * 4, "response_rate": [0.5, 0.6, 0.7, 0.8, 0.55, 0.7, 0.7, 0.9]})
    d = contrasts(runs, ["baseline", "five_society"], ["response_rate"]).sort_values(["set", "seed"])
    assert d["diff"].round(6).tolist() == [0.05, 0.1, 0.0, 0.1]


def test_parameter_sets_cover_the_prior_ranges_the_same_way_every_time():
    sets = parameter_sets(10)
    assert sets.equals(parameter_sets(10)) and list(sets.columns) == list(PRIORS)
    for key, prior in PRIORS.items():
        assert sets[key].between(prior.lo, prior.hi).all()
    window = sets["behaviour.recognition_window_weeks"]
    assert window.dtype.kind == "i"  # an integer parameter stays whole
    base = sets["behaviour.register_base"]  # a Latin hypercube: one set in each tenth of the range
    strata = np.floor((base - PRIORS["behaviour.register_base"].lo)
                      / (PRIORS["behaviour.register_base"].hi - PRIORS["behaviour.register_base"].lo) * 10)
    assert sorted(strata.astype(int)) == list(range(10))


def test_the_command_runs_resumes_and_refuses_bad_input(tmp_path, capsys):
    out = tmp_path / "bands"
    bad = ((["--policies", "baseline"], "two or more different policies"),
           (["--param", "behaviour.structural_share=0.5:2"], "out of range"),
           (["--param", "nothing=1:2"], "'nothing' is not a parameter"),
           (["--sets", "1"], "--sets 1: allowed ≥ 2"), (["seed=3"], "set by --policies and --seeds"))
    assert_bad_input_refused("experiments.bands", bad, out, capsys)
    cmd = [sys.executable, "-m", "experiments.bands", "--sets", "3", "--seeds", "2", "--jobs", "2", "--out", str(out),
           "--param", "behaviour.structural_share=0.1:0.5", "community=relocation", "steps=52", "warmup_weeks=26"]
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    assert first.returncode == 0, first.stderr
    table = pd.read_csv(out / "bands.csv")
    assert len(table) == 6 and (table["sets"] == 3).all() and (table["seeds"] == 2).all()
    assert (table["band_low"] <= table["band_high"]).all() and table["sign_share"].between(0, 1).all()
    assert (out / "bands.png").stat().st_size > 10_000 and "Seed noise" in (out / "report.md").read_text()
    sets = pd.read_csv(out / "parameter_sets.csv")
    assert sets["behaviour.structural_share"].between(0.1, 0.5).all() and len(sets) == 3
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)  # resumes: nothing rerun
    assert again.returncode == 0 and "0 done, 12 skipped" in again.stderr + again.stdout
    pd.testing.assert_frame_equal(pd.read_csv(out / "bands.csv"), table)
    # in Chinese (the runs reused): policies by name, rates in 个百分点, money in 万元, no raw fractions or 1e+06
    zh = subprocess.run([*cmd, "--lang", "zh"], capture_output=True, text=True, cwd=REPO, check=False)
    assert zh.returncode == 0, zh.stderr
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "五社联动（全部杠杆）" in md and "five_society" not in md and "基线（无联动）" in md
    assert "个百分点" in md and "万元" in md and "e+0" not in md


def _posterior(path, weights):
    """A small ABC posterior file: each particle at a distinct point of the prior box."""
    rows = []
    for i, w in enumerate(weights):
        point = {k: p.lo + (p.hi - p.lo) * (i + 1) / (len(weights) + 1) for k, p in PRIORS.items()}
        rows.append({**point, "distance": 0.1 * i, "weight": w})
    pd.DataFrame(rows).to_parquet(path)
    return path


def test_sets_from_the_posterior_follow_its_weights_and_bad_files_are_refused(tmp_path):
    from experiments.bands import BandsError, posterior_sets

    one = posterior_sets(12, _posterior(tmp_path / "p.parquet", [0.0, 1.0, 0.0]), {})
    middle = {k: p.lo + (p.hi - p.lo) * 2 / 4 for k, p in PRIORS.items()}
    assert len(one) == 12 and list(one.columns) == list(PRIORS)
    assert one["behaviour.register_base"].eq(middle["behaviour.register_base"]).all()  # all weight on particle 2
    assert one["behaviour.recognition_window_weeks"].dtype.kind == "i"
    both = posterior_sets(400, _posterior(tmp_path / "q.parquet", [0.25, 0.75, 0.0]), {})
    share = both["behaviour.register_base"].eq(middle["behaviour.register_base"]).mean()
    assert 0.65 < share < 0.85  # drawn in proportion to the weights
    extra = posterior_sets(5, tmp_path / "q.parquet", {"behaviour.structural_share": Prior(0.1, 0.5, "test")})
    assert extra["behaviour.structural_share"].between(0.1, 0.5).all()
    (tmp_path / "bad.parquet").write_text("not parquet")
    for path, message in ((tmp_path / "none.parquet", "no such file"), (tmp_path / "bad.parquet", "not a readable"),
                          (_posterior(tmp_path / "z.parquet", [0.0, 0.0]), "not an ABC posterior")):
        with pytest.raises(BandsError, match=message) as err:
            posterior_sets(3, path, {})
        assert str(path) in str(err.value)
