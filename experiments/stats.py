"""Small, pure statistics for comparing sweep scenarios across seeds.

Every interval is a two-sided t interval (Student's t on n − 1 degrees of freedom) at ``level``
(0.95 by default).  Differences are *paired*: scenario run minus baseline run of the same seed
(common random numbers make the pairs strongly correlated, so pairing removes most of the seed
noise).  The effect size is Cohen's d for paired samples, ``d_z = mean(diff) / sd(diff)``, the
mean difference in units of the standard deviation of the differences (not of the raw values).

Replication rule (:func:`verdict`, :func:`seeds_needed`; the one rule of the project): a
comparison has *enough seeds* when the CI half-width of its mean paired difference is at most
``REL_DIFF`` = 50 % of the difference to resolve (a difference of that size then has a CI that
excludes 0 with a margin: its nearer end is at least half the effect away from 0).
``experiments.compare`` resolves the difference a sweep shows; ``experiments.replications``
plans the default seeds so that 20 % of the typical between-policy difference is resolved.  A
scenario mean on its own (no baseline to pair with) uses ``REL_MEAN`` = ±10 % of the mean.
:func:`n_needed` gives the number of seeds at which the rule would be met if the standard deviation
stayed as estimated: the smallest n with t(n − 1) · sd / √n ≤ rel · |mean|, i.e.
n ≈ (t · sd / (rel · |mean|))².
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats as _st

LEVEL = 0.95
REL_DIFF = 0.5    # enough seeds for a difference: half-width ≤ 50 % of |mean difference|
REL_MEAN = 0.1    # enough seeds for a scenario mean: half-width ≤ 10 % of |mean|
BAND = (2.5, 97.5)  # percentiles of per-parameter-set means: the parameter band
N_CAP = 1000      # n_needed() answers at most this (None = more than the cap)

ENOUGH, MORE, IDENTICAL, TOO_FEW, NO_DATA = "enough", "more", "identical", "too_few", "no_data"
# verdicts of a paired difference with a smallest effect of interest δ (:func:`paired_verdict`)
DIFFERENCE, EQUIVALENT, UNDECIDED = "difference", "equivalent", "undecided"


@dataclass(frozen=True)
class Interval:
    """Mean with a t confidence interval; ``d_z`` is set for paired differences."""

    n: int
    mean: float
    sd: float
    half_width: float
    d_z: float = math.nan

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


@lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """The p quantile of Student's t with ``df`` degrees of freedom (NaN when df < 1)."""
    return float(_st.t.ppf(p, df)) if df >= 1 else math.nan


def t_half_width(sd: float, n: int, level: float = LEVEL) -> float:
    """Half-width of the t interval of a mean of ``n`` values with standard deviation ``sd``."""
    if n < 2:
        return math.nan
    return t_quantile(0.5 + level / 2, n - 1) * sd / math.sqrt(n)


def _clean(values: Iterable[float]) -> np.ndarray:
    a = np.asarray(values if isinstance(values, np.ndarray | pd.Series) else list(values), dtype=float)
    return a[~np.isnan(a)]


def mean_ci(values: Iterable[float], level: float = LEVEL) -> Interval:
    """Mean of ``values`` (NaNs dropped) with its t interval; half-width NaN for fewer than 2 values."""
    a = _clean(values)
    n = len(a)
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan)
    sd = float(a.std(ddof=1)) if n >= 2 else math.nan
    return Interval(n, float(a.mean()), sd, t_half_width(sd, n, level))


def t_interval(values: Iterable[float], level: float = LEVEL) -> tuple[float, float]:
    """(low, high) of the t interval of the mean of ``values``: the ``errorbar=`` of the seaborn charts."""
    ci = mean_ci(values, level)
    return ci.low, ci.high


def cohens_dz(diffs: Iterable[float]) -> float:
    """Cohen's d for paired samples: mean / sd of the differences (sd with n − 1).

    0 when every difference is 0, ±inf when all differences are equal and non-zero, NaN for n < 2.
    """
    a = _clean(diffs)
    if len(a) < 2:
        return math.nan
    m, sd = float(a.mean()), float(a.std(ddof=1))
    if sd <= 1e-12 * abs(m):  # equal differences up to rounding (200,000 yuan ± 3e-11)
        sd = 0.0
    if sd == 0:
        return 0.0 if m == 0 else math.copysign(math.inf, m)
    return m / sd


def paired_diff(treated: Iterable[float], control: Iterable[float], level: float = LEVEL) -> Interval:
    """Mean of treated − control (pairs with a NaN on either side dropped), its t CI and d_z."""
    t, c = np.asarray(treated, dtype=float), np.asarray(control, dtype=float)
    if t.shape != c.shape:
        raise ValueError(f"paired samples differ in length: {t.shape} vs {c.shape}")
    d = t - c
    d = d[~np.isnan(d)]
    ci = mean_ci(d, level)
    return Interval(ci.n, ci.mean, ci.sd, ci.half_width, cohens_dz(d))


def replication_curve(values: Iterable[float], level: float = LEVEL) -> pd.DataFrame:
    """CI of the mean using the first n values, for n = 2..N: columns n, mean, sd, half_width.

    Pass the values (or paired differences) in seed order.
    """
    a = _clean(values)
    rows = [mean_ci(a[:n], level) for n in range(2, len(a) + 1)]
    return pd.DataFrame({"n": [r.n for r in rows], "mean": [r.mean for r in rows],
                         "sd": [r.sd for r in rows], "half_width": [r.half_width for r in rows]})


def n_needed(sd: float, mean: float, rel: float = REL_DIFF, level: float = LEVEL, cap: int = N_CAP) -> int | None:
    """Seeds needed for a half-width ≤ rel·|mean| if the sd stays as estimated; None if more than ``cap``.

    The smallest n ≥ 2 with t(n − 1)·sd/√n ≤ rel·|mean|  (n ≈ (t·sd / (rel·|mean|))²).
    """
    if math.isnan(sd) or math.isnan(mean):
        return None
    goal = rel * abs(mean)
    if sd == 0:
        return 2
    if goal == 0:
        return None
    n = np.arange(2, cap + 1)
    ok = np.flatnonzero(_st.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n) <= goal)
    return int(n[ok[0]]) if len(ok) else None


def seeds_needed(diffs: Iterable[float], reference: float | None = None, rel: float = REL_DIFF,
                 level: float = LEVEL, cap: int = N_CAP) -> int | None:
    """Seeds a comparison needs, from a pilot's paired differences: the one rule of this project.

    The smallest n with t(n − 1)·sd/√n ≤ rel·|reference|, the pilot's sd taken as known.
    ``reference`` is the difference to resolve: by default the pilot's own mean difference (what
    ``experiments.compare`` checks); ``experiments.replications`` plans with 20 % of the typical
    between-policy difference.  2 if the differences do not vary, None if more than ``cap``.
    """
    d = _clean(diffs)
    if len(d) < 2:
        raise ValueError(f"need at least 2 paired differences, got {len(d)}")
    if not rel > 0 or not 0 < level < 1:
        raise ValueError(f"rel must be > 0 and level in (0, 1); got rel={rel}, level={level}")
    ref = float(d.mean()) if reference is None else float(reference)
    return n_needed(float(d.std(ddof=1)), ref, rel, level, cap)


def verdict(ci: Interval, rel: float = REL_DIFF) -> str:
    """The replication verdict of one comparison (see the module docstring).

    ``enough``: half-width ≤ rel·|mean|; ``more``: not yet; ``identical``: every value (difference)
    is exactly 0, so no number of seeds would show a difference; ``too_few``: fewer than 2 values;
    ``no_data``: no values at all.
    """
    if ci.n == 0:
        return NO_DATA
    if ci.n < 2:
        return TOO_FEW
    if ci.mean == 0 and ci.sd == 0:
        return IDENTICAL
    return ENOUGH if ci.half_width <= rel * abs(ci.mean) else MORE


def paired_verdict(ci: Interval, delta: float | None, rel: float = REL_DIFF) -> str:
    """The verdict on a paired difference, given the smallest effect of interest ``delta`` (None: none set).

    ``difference``: the replication rule is met (half-width ≤ rel·|mean|, so the CI excludes 0 with a margin);
    ``equivalent``: the whole CI lies inside (−δ, δ): no difference larger than δ, a finding, not a call for
    seeds; ``identical``: every pair differs by exactly 0; ``undecided``: neither yet (:func:`more_seeds` says how
    many more seeds would settle it if the sd stayed as estimated); ``too_few``/``no_data`` as for :func:`verdict`.
    """
    base = verdict(ci, rel)
    if base in (NO_DATA, TOO_FEW, IDENTICAL):
        return base
    if base == ENOUGH:
        return DIFFERENCE
    if delta is not None and delta > 0 and abs(ci.mean) + ci.half_width < delta:
        return EQUIVALENT
    return UNDECIDED


def seeds_for_equivalence(sd: float, mean: float, delta: float, level: float = LEVEL, cap: int = N_CAP) -> int | None:
    """The smallest n ≥ 2 with |mean| + t(n − 1)·sd/√n < δ (the CI inside (−δ, δ)), sd and mean as estimated;
    None if |mean| ≥ δ or more than ``cap``."""
    if math.isnan(sd) or math.isnan(mean) or abs(mean) >= delta:
        return None
    if sd == 0:
        return 2
    n = np.arange(2, cap + 1)
    ok = np.flatnonzero(abs(mean) + _st.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n) < delta)
    return int(n[ok[0]]) if len(ok) else None


def more_seeds(ci: Interval, delta: float | None, rel: float = REL_DIFF, level: float = LEVEL,
               cap: int = N_CAP) -> int | None:
    """For an ``undecided`` difference: how many seeds beyond the ``ci.n`` used would settle it, as a difference
    (:func:`n_needed`) or as no difference larger than δ (:func:`seeds_for_equivalence`), whichever comes first
    if the sd and mean stayed as estimated; None if neither within ``cap`` seeds."""
    options = [n_needed(ci.sd, ci.mean, rel, level, cap)]
    if delta is not None and delta > 0:
        options.append(seeds_for_equivalence(ci.sd, ci.mean, delta, level, cap))
    found = [n for n in options if n is not None]
    return max(1, min(found) - ci.n) if found else None


def summarise(df: pd.DataFrame, by: list[str], value: str = "value", level: float = LEVEL) -> pd.DataFrame:
    """Per group of ``by``: n, mean, sd, half_width, low, high of ``value`` (t interval, NaNs dropped)."""
    g = df.groupby(by, observed=True, sort=False)[value]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    n = out["n"].to_numpy(dtype=float)
    q = _st.t.ppf(0.5 + level / 2, np.where(n >= 2, n - 1, np.nan))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["half_width"] = q * out["sd"].to_numpy(dtype=float) / np.sqrt(n)
    out["low"] = out["mean"] - out["half_width"]
    out["high"] = out["mean"] + out["half_width"]
    return out


def band_table(diffs: pd.DataFrame) -> pd.DataFrame:
    """Seed noise against parameter uncertainty for paired differences.

    ``diffs``: long table policy, set, seed, kpi, diff (a policy's difference from its control under the same
    parameter set and seed). Per policy and indicator: the mean difference over all sets and seeds; the seed
    half-width (the 95 % t half-width over seeds within a set, averaged over the sets: what a seed-only comparison
    would report); the parameter band (the BAND percentiles of the per-set means); the share of sets whose mean
    has the overall mean's sign; and which of the two half-widths dominates ("parameters", "seeds" or "neither").
    """
    rows = []
    for (policy, k), g in diffs.dropna(subset=["diff"]).groupby(["policy", "kpi"], sort=False):
        per_set = g.groupby("set")["diff"]
        means = per_set.mean()
        seed_hw = float(np.nanmean([mean_ci(v).half_width for _, v in per_set]))
        mean = float(g["diff"].mean())
        low, high = np.percentile(means, BAND)
        sign = np.sign(mean)
        share = float((np.sign(means) == sign).mean()) if sign != 0 else float((means == 0).mean())
        band_hw = (high - low) / 2
        dominant = "parameters" if band_hw > seed_hw else ("seeds" if seed_hw > band_hw else "neither")
        rows.append({"policy": policy, "kpi": k, "sets": int(means.size), "seeds": int(per_set.size().max()),
                     "mean_diff": mean, "seed_half_width": seed_hw, "band_low": float(low), "band_high": float(high),
                     "sign_share": share, "dominant": dominant})
    cols = ["policy", "kpi", "sets", "seeds", "mean_diff", "seed_half_width", "band_low", "band_high", "sign_share",
            "dominant"]
    return pd.DataFrame(rows, columns=cols)
