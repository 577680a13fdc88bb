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
    axis_unit,
    declutter,
    distinct_formatter,
    figure_width,
    is_fraction,
    kpi_label,
    param_name,
    param_unit,
    term,
    wrap,
)


def plot_heatmap(table: pd.DataFrame, key: str, row_name: str, col_name: str, lang: str = "en",
                 width: str = "double", greyscale: bool = False):
    """Mean of one KPI over a two-parameter grid, annotated cells (rows × columns of ``table``); the axes name
    the parameters with their units, the colour bar the KPI's unit.  Viridis (perceptually uniform, readable
    by colour-blind readers and in greyscale), or greys with ``greyscale``."""
    fmt = distinct_formatter(key, table.to_numpy().ravel())
    ncols, nrows = table.shape[1], table.shape[0]
    fig, ax = plt.subplots(figsize=(figure_width(width), 1.2 + 0.36 * nrows), layout="constrained")
    values = table.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="Greys" if greyscale else "viridis", aspect="auto")
    for i in range(nrows):
        for j in range(ncols):
            if np.isfinite(values[i, j]):
                dark = (image.norm(values[i, j]) > 0.45) if greyscale else (image.norm(values[i, j]) < 0.55)
                ax.text(j, i, fmt(values[i, j]), ha="center", va="center", fontsize="x-small",
                        color="white" if dark else "black")
    ax.set_xticks(range(ncols), list(table.columns))
    ax.set_yticks(range(nrows), list(table.index))
    ax.grid(False)
    unit = axis_unit(key, lang)
    bar = fig.colorbar(image, ax=ax, format=FuncFormatter(lambda v, _: fmt(v)), shrink=0.9)
    bar.set_label(wrap(kpi_label(key, lang), lang, 28) + (f" ({unit})" if unit else ""))
    for name, setter in ((row_name, ax.set_ylabel), (col_name, ax.set_xlabel)):
        u = param_unit(name, lang)
        setter(wrap(param_name(name, lang) + (f" ({u})" if u else ""), lang, 30))
    declutter(fig)
    return fig


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
        percent_axis(ax, k, axis="x", diff=True)  # differences of rates in percentage points
        if is_fraction(k):
            ax.set_xlabel(term("pp", lang), fontsize=8)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
