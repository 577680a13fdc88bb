"""The charts over model parameters rather than over scenarios' weeks.

* :func:`plot_heatmap` — a KPI's mean over a two-parameter grid (a sweep of two parameters, compare);
* :func:`plot_bands` — each policy's difference from the baseline over parameter sets drawn from their
  ranges: the parameter band beside the seed interval (experiments/bands.py, compare).

Like experiments/figures.py, every axis and colour bar names its parameter or KPI with its unit, in the
language asked for; call ``experiments.presentation.setup_theme(lang, paper=True)`` first.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from experiments.figures import percent_axis
from experiments.presentation import (
    GROUP_KEYS,
    axis_unit,
    bracket,
    declutter,
    display_unit,
    distinct_formatter,
    figure_width,
    is_fraction,
    kpi_label,
    param_name,
    param_unit,
    term,
    wrap,
)
from sim.tables.glossary import GLOSSARY, preset_label


def plot_heatmap(table: pd.DataFrame, key: str, row_name: str, col_name: str, lang: str = "en",
                 width: str = "double", greyscale: bool = False):
    """Mean of one KPI over a two-parameter grid, annotated cells (rows × columns of ``table``); the axes name
    the parameters with their units, the colour bar the KPI's unit.  Viridis (perceptually uniform, readable
    by colour-blind readers and in greyscale), or greys with ``greyscale``."""
    fmt = distinct_formatter(key, table.to_numpy().ravel())
    ncols, nrows = table.shape[1], table.shape[0]
    fig, ax = plt.subplots(figsize=(figure_width(width), 1.2 + 0.36 * nrows), layout="constrained")
    values = table.to_numpy(dtype=float)
    low, high = colour_limits(values, key)
    image = ax.imshow(values, cmap="Greys" if greyscale else "viridis", aspect="auto", vmin=low, vmax=high)
    for i in range(nrows):
        for j in range(ncols):
            if np.isfinite(values[i, j]):
                dark = (image.norm(values[i, j]) > 0.45) if greyscale else (image.norm(values[i, j]) < 0.55)
                ax.text(j, i, fmt(values[i, j]), ha="center", va="center", fontsize="x-small",
                        color="white" if dark else "black")
    ax.set_xticks(range(ncols), [tick_name(col_name, v, lang) for v in table.columns])
    ax.set_yticks(range(nrows), [tick_name(row_name, v, lang) for v in table.index])
    ax.grid(False)
    unit = axis_unit(key, lang)
    bar = fig.colorbar(image, ax=ax, format=FuncFormatter(lambda v, _: fmt(v)), shrink=0.9)
    bar.set_label(wrap(kpi_label(key, lang) + (bracket(unit, lang) if unit else ""), lang, 28))
    for name, setter in ((row_name, ax.set_ylabel), (col_name, ax.set_xlabel)):
        u = "" if name in GROUP_KEYS else param_unit(name, lang)
        setter(wrap((term(name, lang) if name in GROUP_KEYS else param_name(name, lang)) + (bracket(u, lang) if u
                                                                                             else ""), lang, 30))
    declutter(fig)
    return fig


MIN_COLOUR_SPAN = {"fraction": 0.05, "relative": 0.1}  # 5 percentage points; else 10 % of the largest |value|


def colour_limits(values: np.ndarray, key: str) -> tuple[float, float]:
    """The colour scale's ends: the data's range, widened about its centre to at least 5 percentage points for a
    rate (else 10 % of the largest value's size), so that a 0.3 pp spread is not drawn from white to black."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    least = MIN_COLOUR_SPAN["fraction"] if is_fraction(key) else MIN_COLOUR_SPAN["relative"] * float(
        np.abs(finite).max()) or 1.0
    if high - low < least:
        centre = (low + high) / 2
        low, high = centre - least / 2, centre + least / 2
        if is_fraction(key):  # keep a rate's scale within 0–100 %
            low, high = (0.0, least) if low < 0 else ((1 - least, 1.0) if high > 1 else (low, high))
    return low, high


def tick_name(key: str, value: object, lang: str) -> str:
    """A grid value as a tick label: a preset by its name (社区 ``relocation`` → 易地扶贫搬迁社区), else as written."""
    if key in GROUP_KEYS and f"{key}={value}" in GLOSSARY:
        return wrap(preset_label(key, str(value), lang), lang, 16)
    return str(value)


def plot_bands(diffs: pd.DataFrame, table: pd.DataFrame, lang: str = "en", names: dict | None = None):
    """Per indicator: each parameter set's mean difference (dots), the parameter band (bar) and the seed
    interval around the overall mean (thick line). ``diffs`` and ``table`` as for :func:`stats.band_table`
    (its input and its result); ``names``: the policies' names as shown (default: as in the table); returns the
    figure."""
    kpis = list(dict.fromkeys(table["kpi"]))
    policies = list(dict.fromkeys(table["policy"]))
    fig, axes = plt.subplots(len(kpis), 1, figsize=(6.5, 0.8 + (0.55 + 0.35 * len(policies)) * len(kpis)),
                             squeeze=False)
    for ax, k in zip(axes[:, 0], kpis, strict=True):
        for y, policy in enumerate(policies):
            row = table[(table["kpi"] == k) & (table["policy"] == policy)].iloc[0]
            means = diffs[(diffs["kpi"] == k) & (diffs["policy"] == policy)].groupby("set")["diff"].mean()
            ax.plot([row.band_low, row.band_high], [y, y], color="#9ecae1", linewidth=9, solid_capstyle="butt",
                    label=term("parameter_band", lang) if y == 0 else None)
            ax.scatter(means, np.full(means.size, y), s=12, color="#3182bd", zorder=3,
                       label=term("per_set_mean", lang) if y == 0 else None)
            ax.plot([row.mean_diff - row.seed_half_width, row.mean_diff + row.seed_half_width], [y, y],
                    color="black", linewidth=2.5, zorder=4, label=term("seed_interval", lang) if y == 0 else None)
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set_ylim(-0.7, len(policies) - 0.3)
        ax.set_yticks(range(len(policies)), [(names or {}).get(p, p) for p in policies])
        ax.set_title(kpi_label(k, lang), fontsize=9, loc="left")
        percent_axis(ax, k, axis="x", diff=True, lang=lang)  # rates in percentage points, money in zh in 万元
        ax.set_xlabel(display_unit(k, lang, diff=True), fontsize=8)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
