"""Checks on fresh seeds (experiments/validation.py): the posterior predictive table and resampling."""

import numpy as np
import pandas as pd
import pytest

from experiments import patterns as pt
from experiments import validation as val


def _pattern(key, role="held_out", observed=None, low=0.0, high=1.0):
    return pt.Pattern(key, "d", "s", pt.Scenario(), pt.final(key), low=low, high=high, observed=observed, role=role)


def test_predictive_table_says_where_runs_fall_against_the_range_and_the_observation():
    inside = _pattern("a", observed=0.5)
    tail = _pattern("b", observed=0.9, low=0.8, high=1.0)
    fitted = _pattern("c", role="plausibility")
    stats = pd.DataFrame({"a": np.linspace(0.3, 0.7, 101), "b": np.linspace(0.5, 0.85, 101),
                          "c": [np.nan] * 101})
    table = val.predictive_table(stats, [inside, tail, fitted], "urban_traditional").set_index("pattern")
    assert table.loc["a", "passes"] and table.loc["a", "share_in_range"] == 1.0
    assert table.loc["a", "share_at_or_below_observed"] == pytest.approx(0.5, abs=0.01)
    assert table.loc["a", "predictive_median"] == pytest.approx(0.5)
    # most runs below the range: the median misses, and the observation lies above every run
    assert not table.loc["b", "passes"] and table.loc["b", "share_at_or_below_observed"] == 1.0
    assert table.loc["b", "share_in_range"] == pytest.approx(15 / 101, abs=0.01)
    # nothing measurable: no pass, no numbers made up
    assert table.loc["c", "runs"] == 0 and not table.loc["c", "passes"] and np.isnan(table.loc["c", "share_in_range"])
    assert val.summary_line(table.reset_index()) == "fitted 0 of 1, held-out 1 of 2 pass"


def test_resampling_follows_the_weights_and_is_seeded():
    post = pd.DataFrame({"x": [1.0, 2.0, 3.0], "weight": [0.0, 0.2, 0.8]})
    draws = val.resample(post, ["x"], 1000, seed=4)
    assert set(draws["x"]) <= {2.0, 3.0} and 0.75 < (draws["x"] == 3.0).mean() < 0.85
    assert draws.equals(val.resample(post, ["x"], 1000, seed=4))


def test_the_checks_seeds_are_never_the_fits():
    assert val.FRESH_SEED > 100 and val.PREDICTIVE_SEED > val.FRESH_SEED + 100
