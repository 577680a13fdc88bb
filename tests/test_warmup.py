"""The steady-state check that chooses warmup_weeks (experiments/warmup.py), on synthetic runs with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.warmup import INDICATORS, main, recommend, settle, smoothed, welch

WEEKS = 600


def test_welch_is_a_centred_average_that_narrows_near_the_start():
    x = np.arange(20, dtype=float)
    w = welch(x, 3)
    assert w[0] == 0.0                      # half-width 0 at the first week
    assert w[1] == pytest.approx(1.0)       # mean of weeks 0–2
    assert w[10] == pytest.approx(10.0)     # a straight line is its own centred average
    assert np.isnan(w[-3:]).all()           # the last w weeks cannot be centred


def _runs(settle_week: int, drift_per_week: float = 0.0, seeds: int = 5) -> pd.DataFrame:
    """Runs whose every indicator rises linearly to 1 by ``settle_week``, then stays (plus a drift)."""
    rng = np.random.default_rng(0)
    week = np.arange(1, WEEKS + 1)
    level = np.minimum(week / settle_week, 1.0) + drift_per_week * np.maximum(week - settle_week, 0)
    frames = []
    for seed in range(seeds):
        noise = rng.normal(0, 0.002, WEEKS)
        data = {c: level + noise for pair in INDICATORS.values() for c in pair if c}
        data.update(callbacks=np.full(WEEKS, 10.0), demands_due=np.full(WEEKS, 10.0),
                    callbacks_satisfied=10 * (level + noise), demands_completed_on_time=10 * (level + noise))
        frames.append(pd.DataFrame({"step": week, **data}).assign(community="x", policy="baseline", seed=seed))
    return pd.concat(frames, ignore_index=True)


def test_an_indicator_that_levels_off_settles_near_that_week_and_does_not_drift():
    runs = _runs(settle_week=120)
    table = settle(smoothed(runs, 26), runs, 0.02, (416, 520))
    assert table["settled_week"].between(100, 140).all(), table[["indicator", "settled_week"]]
    assert not table["drifts"].any()
    assert recommend(table) == 156  # whole years covering week ~120


def test_a_drifting_indicator_is_flagged_and_left_out_of_the_recommendation():
    steady = _runs(settle_week=100)
    drifting = _runs(settle_week=100, drift_per_week=0.002).assign(community="y")
    runs = pd.concat([steady, drifting], ignore_index=True)
    table = settle(smoothed(runs, 26), runs, 0.02, (416, 520))
    assert table.loc[table["community"] == "y", "drifts"].all()
    assert not table.loc[table["community"] == "x", "drifts"].any()
    # every indicator drifts in some preset: nothing left to wait for but the floor of one year
    assert recommend(table) == 52


@pytest.mark.parametrize("args", [["--weeks", "400"], ["--seeds", "3"], ["--reference", "10,700"],
                                  ["--communities", "atlantis"], ["--tolerance", "1.5"]])
def test_bad_arguments_are_refused_before_anything_runs(args, capsys):
    assert main(args) == 2
    assert capsys.readouterr().err.startswith("error: ")
