"""Charts for comparing sweep scenarios: one helper per chart kind, labels from sim/glossary.py.

Every chart tells scenarios apart by colour (seaborn's colour-blind palette) *and* by marker and
line style, so it stays readable in greyscale.  Chinese labels (``lang="zh"``) need a CJK font:
:func:`setup_theme` finds one or raises :class:`FontError`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, PercentFormatter

from experiments.presentation import (  # noqa: F401  (re-exported for the chart helpers' users)
    CJK_FONTS,
    DPI,
    TARGETS_BY_KEY,
    FontError,
    distinct_formatter,
    find_cjk_font,
    format_value,
    is_fraction,
    kpi_label,
    label,
    save_figure,
    setup_theme,
    term,
)

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))
_MPL_VERSION = tuple(int(x) for x in matplotlib.__version__.split(".")[:2])


# ---------------------------------------------------------------------------------------------
# Scenario styles, panels, target lines, saving
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Style:
    """How one scenario is drawn: colour, marker and line style (distinct in greyscale too)."""

    color: tuple
    marker: str
    linestyle: object


def style_map(scenarios: Sequence[str]) -> dict[str, Style]:
    """A fixed style per scenario, in the given order."""
    colors = sns.color_palette("colorblind", 10)
    return {s: Style(colors[i % len(colors)], MARKERS[i % len(MARKERS)], LINESTYLES[i % len(LINESTYLES)])
            for i, s in enumerate(scenarios)}


def _lighten(color: tuple, amount: float = 0.6) -> tuple:
    """``color`` mixed with white (an opaque pastel, so points drawn on top stay visible)."""
    return tuple(c + (1 - c) * amount for c in color[:3])


def _panels(n: int, ncols: int = 3, size: tuple[float, float] = (4.6, 3.4), extra_height: float = 0.0):
    """A figure with ``n`` panels in a grid (unused cells hidden); returns (fig, list of axes)."""
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows + extra_height),
                             layout="constrained", squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _percent_axis(ax, key: str, axis: str = "y", diff: bool = False) -> None:
    """Per-cent ticks for a fraction; for a difference of fractions, percentage points (×100, no sign)."""
    if is_fraction(key):
        fmt = FuncFormatter(lambda v, _: f"{100 * v:g}") if diff else PercentFormatter(1.0, decimals=None)
        (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _inner_labels_off(axes) -> None:
    """Scenario names only on the left column of a grid of categorical panels."""
    for ax in axes:
        if not ax.get_subplotspec().is_first_col():
            ax.tick_params(axis="y", labelleft=False)


def _target_line(ax, key: str, lang: str, orient: str = "h") -> None:
    """The plan target of ``key`` as a dashed black line with its value, if the plan has one."""
    target = TARGETS_BY_KEY.get(key)
    if target is None:
        return
    text = f"{term('target', lang)} {target.op.replace('>=', '≥')} {format_value(key, target.value)}"
    box = {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.0}
    if orient == "h":
        ax.axhline(target.value, color="black", linestyle=(0, (6, 3)), linewidth=1.1, zorder=1)
        ax.annotate(text, xy=(0.01, target.value), xycoords=("axes fraction", "data"), xytext=(0, 2),
                    textcoords="offset points", fontsize=8, va="bottom", ha="left", bbox=box, zorder=4)
    else:
        ax.axvline(target.value, color="black", linestyle=(0, (6, 3)), linewidth=1.1, zorder=1)
        ax.annotate(text, xy=(target.value, 0.0), xycoords=("data", "axes fraction"), xytext=(-2, 2),
                    textcoords="offset points", fontsize=8, va="bottom", ha="right", rotation=90, bbox=box,
                    zorder=4)


def _legend(fig, styles: dict[str, Style], lines: bool = True) -> None:
    """One legend for the whole figure, below the panels."""
    handles = [Line2D([], [], color=st.color, marker=st.marker, linestyle=st.linestyle if lines else "none",
                      markeredgecolor="black", markeredgewidth=0.5, linewidth=1.6) for st in styles.values()]
    fig.legend(handles, list(styles), loc="outside lower center", ncol=min(len(styles), 4), frameon=False)


def _title(fig, text: str) -> None:
    fig.suptitle(text, fontweight="bold")


# ---------------------------------------------------------------------------------------------
# Chart kinds
# ---------------------------------------------------------------------------------------------

def plot_trajectories(summary: pd.DataFrame, kpis: Sequence[str], styles: dict[str, Style], lang: str = "en"):
    """KPI over time: mean line and 95 % CI band per scenario, one panel per indicator.

    ``summary``: columns indicator, scenario, step, mean, low, high (see experiments.stats.summarise).
    """
    fig, axes = _panels(len(kpis), extra_height=0.4 + 0.25 * math.ceil(len(styles) / 4))
    for ax, key in zip(axes, kpis, strict=True):
        data = summary[summary["indicator"] == key]
        for i, (scenario, st) in enumerate(styles.items()):
            d = data[data["scenario"] == scenario].dropna(subset=["mean"]).sort_values("step")  # sparse series
            if d.empty:
                continue
            every = max(1, len(d) // 8)  # about 8 markers a line, staggered between scenarios
            ax.fill_between(d["step"], d["low"], d["high"], color=st.color, alpha=0.2, linewidth=0)
            ax.plot(d["step"], d["mean"], color=st.color, linestyle=st.linestyle, marker=st.marker,
                    markevery=(i * every // max(1, len(styles)), every), markersize=5, markeredgecolor="black",
                    markeredgewidth=0.5, linewidth=1.6)
        _target_line(ax, key, lang)
        _percent_axis(ax, key)
        ax.set_title(kpi_label(key, lang))
        ax.set_xlabel(label("step", lang))
        ax.set_ylabel("")
    _title(fig, term("fig_trajectories", lang))
    _legend(fig, styles)
    return fig


def _horizontal_boxes(ax, boxes: list[tuple[int, np.ndarray, tuple]]) -> None:
    """Box plots (quartiles, whiskers at 1.5 IQR, no outlier marks) at the given y positions and fill colours."""
    if not boxes:
        return
    pos, values, colors = zip(*boxes, strict=True)
    horizontal = {"orientation": "horizontal"} if _MPL_VERSION >= (3, 10) else {"vert": False}  # vert: deprecated
    parts = ax.boxplot(list(values), positions=list(pos), widths=0.6, showfliers=False, patch_artist=True,
                       medianprops={"color": "black"}, **horizontal)
    for patch, color in zip(parts["boxes"], colors, strict=True):
        patch.set(facecolor=color, edgecolor="black", linewidth=0.9)


def plot_distributions(ends: pd.DataFrame, kpis: Sequence[str], styles: dict[str, Style], lang: str = "en"):
    """End-of-run value per scenario: a box per scenario with every seed's point on it.

    ``ends``: long table with columns scenario, kpi, value (one row per run and KPI).
    """
    order = list(styles)
    fig, axes = _panels(len(kpis), size=(4.6, 0.9 + 0.42 * len(order)))
    rng = np.random.default_rng(0)  # jitter only; fixed so the charts are reproducible
    for ax, key in zip(axes, kpis, strict=True):
        data = ends[ends["kpi"] == key]
        groups = {s: data.loc[data["scenario"] == s, "value"].dropna().to_numpy() for s in order}
        _horizontal_boxes(ax, [(i, v, _lighten(styles[s].color)) for i, (s, v) in enumerate(groups.items())
                               if len(v)])
        for i, (scenario, v) in enumerate(groups.items()):
            st = styles[scenario]
            ax.scatter(v, i + rng.uniform(-0.15, 0.15, len(v)), marker=st.marker, color=st.color, s=26,
                       edgecolor="black", linewidth=0.5, zorder=3)
        ax.set_yticks(range(len(order)), order)
        ax.set_ylim(len(order) - 0.5, -0.5)
        _target_line(ax, key, lang, orient="v")
        _percent_axis(ax, key, axis="x")
        ax.set_title(kpi_label(key, lang))
        ax.set_xlabel("")
        ax.set_ylabel("")
    _inner_labels_off(axes)
    _title(fig, term("fig_distributions", lang))
    return fig


def plot_forest(diffs: pd.DataFrame, kpis: Sequence[str], styles: dict[str, Style], lang: str = "en"):
    """Paired differences vs the baseline: point = mean difference, bar = 95 % CI, one panel per KPI.

    ``diffs``: columns scenario, kpi, mean_diff, half_width.
    """
    order = [s for s in styles if s in set(diffs["scenario"])]
    fig, axes = _panels(len(kpis), size=(4.6, 1.0 + 0.42 * len(order)))
    for ax, key in zip(axes, kpis, strict=True):
        data = diffs[diffs["kpi"] == key].set_index("scenario")
        for i, scenario in enumerate(order):
            if scenario not in data.index:
                continue
            row, st = data.loc[scenario], styles[scenario]
            xerr = None if math.isnan(row["half_width"]) else row["half_width"]
            ax.errorbar(row["mean_diff"], i, xerr=xerr, fmt=st.marker, color=st.color, markeredgecolor="black",
                        markeredgewidth=0.5, markersize=7, capsize=4, elinewidth=1.6)
        ax.axvline(0, color="black", linewidth=0.9, zorder=1)
        ax.set_yticks(range(len(order)), order)
        ax.set_ylim(len(order) - 0.5, -0.5)
        _percent_axis(ax, key, axis="x", diff=True)
        ax.set_title(kpi_label(key, lang))
        ax.set_xlabel(term("diff_vs_baseline", lang) + (f" ({term('pp', lang)})" if is_fraction(key) else ""))
    _inner_labels_off(axes)
    _title(fig, term("fig_differences", lang))
    return fig


def plot_heatmap(table: pd.DataFrame, key: str, row_name: str, col_name: str, lang: str = "en"):
    """Mean of one KPI over a two-parameter grid, annotated cells (rows × columns of ``table``)."""
    fmt = distinct_formatter(key, table.to_numpy().ravel())
    fig, ax = plt.subplots(figsize=(2.4 + 1.3 * table.shape[1], 1.4 + 0.8 * table.shape[0]), layout="constrained")
    sns.heatmap(table, annot=table.map(fmt), fmt="", cmap="viridis", linewidths=0.5, linecolor="white", ax=ax,
                cbar_kws={"format": FuncFormatter(lambda v, _: fmt(v))})
    ax.set_ylabel(row_name)
    ax.set_xlabel(col_name)
    ax.tick_params(axis="y", rotation=0)
    ax.set_title(f"{kpi_label(key, lang)}: {term('fig_heatmap', lang)}")
    return fig


def plot_replication(curves: pd.DataFrame, kpis: Sequence[str], styles: dict[str, Style], lang: str = "en",
                     diffs: bool = True):
    """CI half-width against the number of seeds used, one line per scenario, one panel per KPI.

    ``curves``: columns scenario, kpi, n, half_width — of paired differences (``diffs``) or of means.
    A panel whose half-widths span more than two decades gets a log scale.
    """
    order = [s for s in styles if s in set(curves["scenario"])]
    shown = {s: styles[s] for s in order}
    fig, axes = _panels(len(kpis), extra_height=0.4 + 0.25 * math.ceil(len(shown) / 4))
    for ax, key in zip(axes, kpis, strict=True):
        data = curves[curves["kpi"] == key]
        for scenario, st in shown.items():
            d = data[data["scenario"] == scenario].sort_values("n")
            ax.plot(d["n"], d["half_width"], color=st.color, linestyle=st.linestyle, marker=st.marker,
                    markeredgecolor="black", markeredgewidth=0.5, linewidth=1.6)
        positive = data["half_width"][data["half_width"] > 0]
        if len(positive) and (data["half_width"] > 0).all() and positive.max() / positive.min() > 100:
            ax.set_yscale("log")
        else:
            _percent_axis(ax, key, diff=diffs)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(kpi_label(key, lang))
        ax.set_xlabel(term("seeds", lang))
        ax.set_ylabel(term("ci_half_width", lang))
    _title(fig, term("fig_replication", lang))
    _legend(fig, shown)
    return fig
