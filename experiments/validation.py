"""Checks of the calibrated model on fresh seeds and held-out patterns (docs/validation.md).

Two checks, both on seeds the calibration never ran (it used seeds 0…R−1; these start at
:data:`FRESH_SEED`):

* **point check** — the calibrated point estimate, ``check_seeds`` replicates, every pattern (fitted and held
  out) and the five_society yardstick against the Enyang targets;
* **posterior predictive check** — ``draws`` parameter sets resampled from the ABC posterior by weight, each
  run with ``ppc_seeds`` fresh seeds in every pattern's scenario: the predictive distribution of each
  pattern's statistic (one value per run: what a new community would show), its 5–95 % interval, the share of
  runs inside the pattern's match range, and where the observed figure falls in it (the share of runs at or
  below it: near 0 or 1, the observation is in a tail the model rarely reaches).

A pattern *passes* when the predictive median lies inside its match range; the share inside says how
robustly. Held-out patterns were not fitted, so a pass is evidence and a miss is a finding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import patterns as pt
from experiments.presentation import (
    WAN,
    bracket,
    declutter,
    page_size,
    save_figure,
    setup_theme,
    term,
    thousands,
    unit_label,
    wrap,
)

FRESH_SEED = 1000       # first seed of the point check; the predictive check's seeds follow it
PREDICTIVE_SEED = 2000  # first seed of the posterior predictive runs
# The shipped posterior sample (written with calibrated.yaml by ``python -m experiments.calibrate --write-config``):
# what experiments.bands --posterior and the dashboard's parameter replicates draw from.
POSTERIOR_SAMPLE = Path(__file__).resolve().parent.parent / "configs" / "behaviour" / "posterior.csv"


class PosteriorError(ValueError):
    """A posterior sample that cannot be used: the message names the file and what is wrong."""


def load_posterior(path: Path, keys: Sequence[str]) -> pd.DataFrame:
    """An ABC posterior sample — a CSV or Parquet file with one column per parameter of ``keys`` and ``weight`` —
    checked: rows present, every key a column, weights non-negative and not all zero."""
    path = Path(path)
    kind = "Parquet" if path.suffix == ".parquet" else "CSV"
    try:
        post = pd.read_parquet(path) if kind == "Parquet" else pd.read_csv(path)
    except FileNotFoundError:
        raise PosteriorError(f"{path}: no such file (python -m experiments.calibrate --write-config writes "
                             f"{POSTERIOR_SAMPLE.name} beside calibrated.yaml)") from None
    except Exception as exc:  # any unreadable file: say which and why
        raise PosteriorError(f"{path}: not a readable {kind} file ({exc.__class__.__name__})") from None
    missing = [c for c in (*keys, "weight") if c not in post.columns]
    weights = pd.to_numeric(post["weight"], errors="coerce") if "weight" in post.columns else pd.Series(dtype=float)
    if missing or post.empty or weights.isna().any() or (weights < 0).any() or not weights.sum() > 0:
        raise PosteriorError(f"{path}: not an ABC posterior (needs rows, the columns {', '.join(keys)} and a "
                             f"non-negative weight; missing: {', '.join(missing) or 'none'})")
    return post


def resample(posterior: pd.DataFrame, keys: list[str], draws: int, seed: int) -> pd.DataFrame:
    """``draws`` parameter sets drawn from the weighted posterior (with replacement, seeded)."""
    rng = np.random.default_rng(seed)
    w = posterior["weight"].to_numpy(float)
    pick = rng.choice(len(posterior), size=draws, p=w / w.sum())
    return posterior.iloc[pick][keys].reset_index(drop=True)


def predictive_table(stats: pd.DataFrame, pats: list[pt.Pattern], community: str) -> pd.DataFrame:
    """Per pattern: predictive 5/50/95 % over runs, share of runs inside the range, where the observation falls."""
    rows = []
    for p in pats:
        v = stats[p.key].dropna().to_numpy(float)
        if not len(v):
            q05 = q50 = q95 = inside = below = float("nan")
        else:
            q05, q50, q95 = np.quantile(v, [0.05, 0.5, 0.95])
            inside = float(np.mean((v >= p.low) & (v <= p.high)))
            below = float(np.mean(v <= p.observed)) if p.observed is not None else float("nan")
        rows.append({"pattern": p.key, "role": p.role, "level": p.level, "scenario": p.scenario.label(community),
                     "runs": len(v), "predictive_q05": q05, "predictive_median": q50, "predictive_q95": q95,
                     "low": p.low, "high": p.high, "observed": p.observed, "share_in_range": inside,
                     "share_at_or_below_observed": below,
                     "passes": bool(len(v)) and p.matches(q50)})
    return pd.DataFrame(rows)


def point_table(stats: pd.DataFrame, pats: list[pt.Pattern], community: str) -> pd.DataFrame:
    """Per pattern: mean and sd over the check seeds of the point estimate, and whether the mean matches."""
    rows = []
    for p in pats:
        v = stats[p.key]
        rows.append({"pattern": p.key, "role": p.role, "level": p.level, "scenario": p.scenario.label(community),
                     "mean": v.mean(), "sd": v.std(ddof=1), "low": p.low, "high": p.high, "observed": p.observed,
                     "match": p.matches(v.mean())})
    return pd.DataFrame(rows)


def summary_line(table: pd.DataFrame) -> str:
    """'fitted 7 of 7, held-out 5 of 7 pass' for a predictive table."""
    parts = []
    for name, mask in (("fitted", table["role"] != "held_out"), ("held-out", table["role"] == "held_out")):
        part = table[mask]
        parts.append(f"{name} {int(part['passes'].sum())} of {len(part)}")
    return ", ".join(parts) + " pass"


def pattern_axis(ax, unit: str, lang: str) -> str:
    """Ticks of a pattern's value axis: per cent for a fraction, thousands separators (never scientific
    notation), money in Chinese in 万元; at most four ticks, so long numbers do not run together.  Returns the
    axis' unit as written."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    if unit == "fraction":
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        return "%"
    money = unit.startswith("yuan") and lang == "zh"
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: thousands(v / WAN if money else v)))
    written = unit_label(unit, lang)
    return written.replace("元", "万元", 1) if money else written


def plot_predictive(stats: pd.DataFrame, point: pd.DataFrame, pats: list[pt.Pattern], path: Path,
                    lang: str = "en") -> None:
    """:func:`predictive_figure` saved as ``path``.png/.svg."""
    save_figure(predictive_figure(stats, point, pats, lang), path.parent, path.name)


def predictive_figure(stats: pd.DataFrame, point: pd.DataFrame, pats: list[pt.Pattern], lang: str = "en"):
    """Each pattern's posterior predictive distribution (runs on fresh seeds) against its observed figure and
    match range; the calibrated point estimate's mean marked; fitted and held-out patterns titled apart; every
    word from the glossary in ``lang``."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    setup_theme(lang)
    ncol = min(4, len(pats))
    nrow = math.ceil(len(pats) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=page_size(4.0 * ncol, 3.2 * nrow), squeeze=False)
    for ax, p in zip(axes.flat, pats, strict=False):
        v = stats[p.key].dropna()
        zoom = p.observed is None and p.low <= 0 and len(v) and v.max() < p.high / 3  # a bound far above every run
        ax.axvspan(p.low, p.high, color="#55a868", alpha=0.15, label=term("val_match_range", lang))
        if len(v):
            # bins a sixtieth of the axis wide: a narrow predictive stays visible beside a wide match range
            ends = [p.low, p.high, v.min(), v.max(), *([p.observed] if p.observed is not None else [])]
            if zoom:
                ends = [0.0, v.max() * 1.3]
            bins = np.linspace(min(ends), max(ends), 61)
            sns.histplot(v, ax=ax, bins=bins, stat="probability", color="#4c72b0" if p.fitted else "#dd8452",
                         label=term("val_predictive_fitted" if p.fitted else "val_predictive_held_out", lang))
        if p.observed is not None:
            ax.axvline(p.observed, color="#55a868", lw=2, label=term("val_observed", lang))
        row = point[point["pattern"] == p.key]
        if len(row) and not np.isnan(row["mean"].iloc[0]):
            ax.axvline(row["mean"].iloc[0], color="#c44e52", ls="--", lw=1.5, label=term("val_point", lang))
        if zoom:
            ax.set_xlim(0, v.max() * 1.3)
        role = term("val_fitted" if p.fitted else "val_held_out", lang)
        note = ("，" if lang == "zh" else ", ").join((role, term(f"level:{p.level}", lang)))
        ax.set_title(f"{wrap(term(f'pattern:{p.key}', lang), lang, 40)}\n{bracket(note, lang).strip()}", fontsize=9)
        ax.set_xlabel(pattern_axis(ax, p.unit, lang), fontsize=8)
        ax.set_ylabel(term("val_share_runs", lang), fontsize=8)
    for ax in list(axes.flat)[len(pats):]:
        ax.set_visible(False)
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=4, frameon=False)
    fig.suptitle(term("val_title", lang))
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    declutter(fig)
    return fig
