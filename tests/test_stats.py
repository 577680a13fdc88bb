"""experiments/stats.py against hand-computed values (and scipy's paired t interval)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from experiments import stats

approx = pytest.approx


@pytest.mark.parametrize(("df", "q"), [(1, 12.7062), (2, 4.3027), (3, 3.1824), (9, 2.2622), (29, 2.0452),
                                       (10**6, 1.9600)])
def test_t_quantile_matches_tables(df, q):
    assert stats.t_quantile(0.975, df) == approx(q, abs=1e-4)


def test_t_quantile_needs_one_degree_of_freedom():
    assert math.isnan(stats.t_quantile(0.975, 0))


def test_paired_diff_of_one_to_four():
    """diffs 1, 2, 3, 4: mean 2.5, sd √(5/3) = 1.2910, t(0.975, 3) = 3.1824, half-width 2.0543, d_z 1.9365."""
    ci = stats.paired_diff([3, 5, 7, 9], [2, 3, 4, 5])
    assert ci.n == 4
    assert ci.mean == approx(2.5)
    assert ci.sd == approx(1.2910, abs=1e-4)
    assert ci.half_width == approx(2.0543, abs=1e-4)
    assert (ci.low, ci.high) == (approx(0.4457, abs=1e-4), approx(4.5543, abs=1e-4))
    assert ci.d_z == approx(1.9365, abs=1e-4)


def test_paired_diff_agrees_with_scipy_paired_t_interval():
    rng = np.random.default_rng(1)
    control = rng.normal(10, 2, 12)
    treated = control + rng.normal(0.8, 0.5, 12)
    ci = stats.paired_diff(treated, control)
    ref = scipy_stats.ttest_rel(treated, control).confidence_interval(0.95)
    assert (ci.low, ci.high) == (approx(ref.low), approx(ref.high))


def test_paired_diff_drops_pairs_with_a_missing_value():
    ci = stats.paired_diff([1.0, math.nan, 3.0], [0.0, 0.0, 0.0])  # diffs 1, 3
    assert ci.n == 2
    assert ci.mean == approx(2.0)
    assert ci.sd == approx(math.sqrt(2))
    assert ci.half_width == approx(12.7062, abs=1e-4)  # t(0.975, 1) · √2 / √2


def test_paired_diff_rejects_unequal_lengths():
    with pytest.raises(ValueError, match="differ in length"):
        stats.paired_diff([1, 2], [1, 2, 3])


def test_mean_ci_of_two_four_six():
    ci = stats.mean_ci([2, 4, 6])  # sd 2, half-width 4.3027 · 2 / √3 = 4.9683
    assert (ci.n, ci.mean, ci.sd) == (3, approx(4.0), approx(2.0))
    assert ci.half_width == approx(4.9683, abs=1e-4)
    assert math.isnan(ci.d_z)


def test_mean_ci_of_one_or_no_value():
    one = stats.mean_ci([5.0])
    assert (one.n, one.mean) == (1, 5.0) and math.isnan(one.half_width)
    none = stats.mean_ci([math.nan])
    assert none.n == 0 and math.isnan(none.mean)


def test_cohens_dz_edge_cases():
    assert stats.cohens_dz([0, 0, 0]) == 0.0
    assert stats.cohens_dz([2, 2, 2]) == math.inf
    assert stats.cohens_dz([-2, -2]) == -math.inf
    assert math.isnan(stats.cohens_dz([1.0]))
    assert stats.cohens_dz([1, 2, 3, 4]) == approx(2.5 / math.sqrt(5 / 3))


def test_replication_curve_uses_the_first_n_values():
    curve = stats.replication_curve([1, 2, 3, 4])
    assert curve["n"].tolist() == [2, 3, 4]
    assert curve["mean"].tolist() == approx([1.5, 2.0, 2.5])
    # n=2: 12.7062 · 0.7071 / √2 = 6.3531; n=3: 4.3027 · 1 / √3 = 2.4841; n=4: 2.0543
    assert curve["half_width"].tolist() == approx([6.3531, 2.4841, 2.0543], abs=1e-4)


def test_replication_curve_of_a_single_value_is_empty():
    assert stats.replication_curve([1.0]).empty


def test_n_needed_for_one_to_four():
    """sd 1.2910, goal 0.5 · 2.5 = 1.25: n=6 gives 2.5706 · 1.2910 / √6 = 1.3548, n=7 gives 1.1940 → 7."""
    assert stats.t_half_width(1.2910, 6) == approx(1.3548, abs=1e-4)
    assert stats.t_half_width(1.2910, 7) == approx(1.1940, abs=1e-4)
    assert stats.n_needed(math.sqrt(5 / 3), 2.5) == 7
    # n ≈ (t · sd / (0.5 · |mean|))² with t at n − 1 = 6 degrees of freedom: 6.39 → 7
    assert math.ceil((2.4469 * 1.2910 / 1.25) ** 2) == 7


def test_n_needed_edge_cases():
    assert stats.n_needed(0.0, 3.0) == 2                   # no spread: any two seeds do
    assert stats.n_needed(1.0, 0.0) is None                # no effect to resolve
    assert stats.n_needed(10.0, 0.01) is None              # more than the cap
    assert stats.n_needed(math.nan, 1.0) is None
    assert stats.n_needed(2.0, 100.0, rel=stats.REL_MEAN) == 3   # 4.3027 · 2 / √3 = 4.97 ≤ 10; n=2 gives 17.97


def test_verdicts():
    assert stats.verdict(stats.paired_diff([1, 2, 3, 4], [0, 0, 0, 0])) == stats.MORE       # half-width 2.05 > 1.25
    assert stats.verdict(stats.paired_diff([10, 11, 12, 13], [0, 0, 0, 0])) == stats.ENOUGH  # 2.05 ≤ 5.75
    assert stats.verdict(stats.paired_diff([1, 1, 1], [1, 1, 1])) == stats.IDENTICAL
    assert stats.verdict(stats.paired_diff([1.0], [0.0])) == stats.TOO_FEW
    assert stats.verdict(stats.Interval(0, math.nan, math.nan, math.nan)) == stats.NO_DATA
    assert stats.verdict(stats.mean_ci([100, 102, 98]), stats.REL_MEAN) == stats.ENOUGH           # 4.97 ≤ 10


def test_summarise_groups_with_t_intervals():
    df = pd.DataFrame({"g": ["a"] * 4 + ["b"], "value": [1, 2, 3, 4, 5]})
    out = stats.summarise(df, ["g"]).set_index("g")
    assert out.loc["a", "n"] == 4
    assert out.loc["a", "half_width"] == approx(2.0543, abs=1e-4)
    assert out.loc["a", "low"] == approx(0.4457, abs=1e-4)
    assert out.loc["b", "n"] == 1 and math.isnan(out.loc["b", "half_width"])


def test_t_interval_for_seaborn_errorbars():
    low, high = stats.t_interval([2, 4, 6])  # mean 4, half-width 4.9683 (see test_mean_ci_of_two_four_six)
    assert (low, high) == (approx(-0.9683, abs=1e-4), approx(8.9683, abs=1e-4))
    assert all(math.isnan(v) for v in stats.t_interval([3.0]))


def test_a_precise_null_is_no_difference_larger_than_delta_not_a_call_for_seeds():
    # issue 27: five_society's response-rate change of +0.003 pp, CI [−0.056, 0.062] pp, over 20 seeds
    precise_null = stats.Interval(20, 0.00003, 0.00126, 0.00059)
    assert stats.verdict(precise_null) == stats.MORE  # the rule alone asks for more seeds (> 1000)...
    assert stats.paired_verdict(precise_null, 0.01) == stats.EQUIVALENT  # ...but it lies inside ±1 pp
    assert stats.paired_verdict(precise_null, None) == stats.UNDECIDED  # no δ: no equivalence to claim
    assert stats.paired_verdict(precise_null, 0.0005) == stats.UNDECIDED  # its CI reaches beyond a tighter δ
    resolved = stats.Interval(10, 0.05, 0.02, 0.0143)
    assert stats.paired_verdict(resolved, 0.01) == stats.DIFFERENCE
    assert stats.paired_verdict(stats.Interval(5, 0.0, 0.0, 0.0), 0.01) == stats.IDENTICAL
    assert stats.paired_verdict(stats.Interval(1, 0.2, math.nan, math.nan), 0.01) == stats.TOO_FEW


def test_more_seeds_settles_an_undecided_difference_either_way():
    sd = 0.02
    near_zero = stats.Interval(3, 0.001, sd, stats.t_half_width(sd, 3))  # |mean| well inside δ = 1 pp
    more = stats.more_seeds(near_zero, 0.01)
    n = near_zero.n + more
    assert abs(near_zero.mean) + stats.t_half_width(sd, n) < 0.01  # with that many seeds, inside (−δ, δ)
    assert abs(near_zero.mean) + stats.t_half_width(sd, n - 1) >= 0.01  # and not one fewer
    assert stats.n_needed(sd, 0.001) is None or stats.n_needed(sd, 0.001) > n  # sooner than resolving it
    large = stats.Interval(3, 0.05, 0.05, stats.t_half_width(0.05, 3))  # beyond δ: only resolving it settles it
    assert stats.more_seeds(large, 0.01) == stats.n_needed(0.05, 0.05) - 3
    assert stats.seeds_for_equivalence(0.05, 0.05, 0.01) is None
    assert stats.more_seeds(stats.Interval(3, 1e-9, 5.0, 20.0), 1e-6) is None  # neither within 1,000 seeds
