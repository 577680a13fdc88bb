"""The charts of a comparison, drawn by seaborn's figure-level functions, one panel per KPI.

* :func:`plot_trajectories` — ``sns.relplot``: weekly mean per scenario with a 95 % t band
  across seeds (``errorbar=`` :func:`experiments.stats.t_interval`);
* :func:`plot_distributions` — ``sns.catplot`` boxes of the end-of-run values, one point per seed;
* :func:`plot_forest` — ``sns.catplot`` point plot of the paired differences vs the baseline, mean
  and 95 % t interval computed from the per-seed differences by the same ``errorbar=``;
* :func:`plot_heatmap` — a KPI's mean over a two-parameter grid;
* :func:`plot_replication` — ``sns.relplot``: CI half-width against the number of seeds.

Every chart tells scenarios apart by colour (seaborn's colour-blind palette) *and* by marker and
line style, so it stays readable in greyscale.  Labels (en or zh), per-cent axes and plan targets
come from :mod:`experiments.presentation`; call its ``setup_theme(lang)`` first.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, PercentFormatter

from experiments.presentation import TARGETS_BY_KEY, distinct_formatter, format_value, is_fraction, kpi_label, term
from experiments.stats import t_interval

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
DASHES = ("", (4, 1.5), (1, 1), (3, 1.25, 1.5, 1.25), (5, 1, 1, 1), (2, 2, 6, 2))  # "" = solid
NCOLS = 3


@dataclass(frozen=True)
class Styles:
    """How each scenario is drawn: colour, marker and dash pattern (distinct in greyscale too), in order."""

    palette: dict[str, tuple]
    markers: dict[str, str]
    dashes: dict[str, object]

    @classmethod
    def of(cls, scenarios: Sequence[str]) -> Styles:
        """A fixed style per scenario, in the given order."""
        colors = sns.color_palette("colorblind", 10)
        return cls({s: colors[i % len(colors)] for i, s in enumerate(scenarios)},
                   {s: MARKERS[i % len(MARKERS)] for i, s in enumerate(scenarios)},
                   {s: DASHES[i % len(DASHES)] for i, s in enumerate(scenarios)})

    @property
    def order(self) -> list[str]:
        return list(self.palette)

    @property
    def light_palette(self) -> dict[str, tuple]:
        """The colours mixed with white (box fills, so the points drawn on top stay visible)."""
        return {s: tuple(c + (1 - c) * 0.6 for c in color) for s, color in self.palette.items()}

    def subset(self, shown: Sequence[str]) -> Styles:
        """The styles of the scenarios in ``shown`` only (each keeps its colour, marker and dashes)."""
        keep = set(shown)
        return Styles(*({s: v for s, v in mapping.items() if s in keep}
                        for mapping in (self.palette, self.markers, self.dashes)))


def _wrap(n: int) -> int:
    return max(1, min(NCOLS, n))


def _percent_axis(ax, key: str, axis: str = "y", diff: bool = False) -> None:
    """Per-cent ticks for a fraction; for a difference of fractions, percentage points (×100, no sign)."""
    if is_fraction(key):
        fmt = FuncFormatter(lambda v, _: f"{100 * v:g}") if diff else PercentFormatter(1.0, decimals=None)
        (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _target_line(ax, key: str, lang: str, orient: str = "h") -> None:
    """The plan target of ``key`` as a dashed black line with its value, if the plan has one."""
    target = TARGETS_BY_KEY.get(key)
    if target is None:
        return
    text = f"{term('target', lang)} {target.op.replace('>=', '≥')} {format_value(key, target.value)}"
    box = {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.0}
    if orient == "h":
        ax.axhline(target.value, color="black", linestyle=(0, (6, 3)), linewidth=1.1, zorder=1)
        note = ax.annotate(text, xy=(0.01, target.value), xycoords=("axes fraction", "data"), xytext=(0, 2),
                           textcoords="offset points", fontsize=8, va="bottom", ha="left", bbox=box, zorder=4)
    else:
        ax.axvline(target.value, color="black", linestyle=(0, (6, 3)), linewidth=1.1, zorder=1)
        note = ax.annotate(text, xy=(target.value, 0.0), xycoords=("data", "axes fraction"), xytext=(-2, 2),
                           textcoords="offset points", fontsize=8, va="bottom", ha="right", rotation=90, bbox=box,
                           zorder=4)
    note.set_in_layout(False)  # a label inside the panel: the layout need not make room for it


def _possible_range(ax, key: str, never_negative: bool) -> None:
    """Keep the view within possible values: ≥ 0 for indicators never negative, ≤ 100 % for fractions
    (a t band of a few seeds can reach beyond them)."""
    bottom, top = ax.get_ylim()
    pad = 0.03 * (top - bottom)
    if never_negative and bottom < -pad:
        bottom = -pad
    if is_fraction(key) and top > 1 + pad:
        top = 1 + pad
    ax.set_ylim(bottom, top)


def _finish(grid: sns.FacetGrid, title: str, styles: Styles | None = None) -> None:
    """Figure title above the panels and, for line charts, one legend of the scenarios below them."""
    fig = grid.figure
    fig.set_layout_engine("constrained")
    fig.suptitle(title, fontweight="bold")
    if styles is not None:
        handles = [Line2D([], [], color=styles.palette[s], marker=styles.markers[s], markeredgecolor="black",
                          markeredgewidth=0.5, linewidth=1.6, dashes=styles.dashes[s] or (None, None))
                   for s in styles.order]
        fig.legend(handles, styles.order, loc="outside lower center", ncol=min(4, len(handles)), frameon=False)


def plot_trajectories(series: pd.DataFrame, kpis: Sequence[str], styles: Styles, lang: str = "en"):
    """KPI over the weeks: mean line and 95 % t band across seeds per scenario, one panel per indicator.

    ``series``: long weekly table with columns scenario, seed, step, indicator, value.
    """
    data = series.assign(indicator=series["indicator"].astype(str))
    data = data[data["indicator"].isin(kpis) & data["scenario"].isin(styles.order)]
    steps = data["step"].nunique()
    grid = sns.relplot(data=data, kind="line", x="step", y="value", col="indicator", col_order=list(kpis),
                       col_wrap=_wrap(len(kpis)), hue="scenario", hue_order=styles.order, palette=styles.palette,
                       style="scenario", style_order=styles.order, markers=styles.markers, dashes=styles.dashes,
                       errorbar=t_interval, err_kws={"alpha": 0.2, "linewidth": 0}, markevery=max(1, steps // 8),
                       markersize=6, markeredgecolor="black", markeredgewidth=0.5, linewidth=1.6,
                       height=3.4, aspect=1.35, legend=False, facet_kws={"sharey": False})
    never_negative = data.groupby("indicator")["value"].min().ge(0)
    for key, ax in grid.axes_dict.items():
        _possible_range(ax, key, bool(never_negative.get(key, False)))
        _target_line(ax, key, lang)
        _percent_axis(ax, key)
        ax.set_title(kpi_label(key, lang))
        ax.set_xlabel(term("step", lang))
        ax.set_ylabel("")
    _finish(grid, term("fig_trajectories", lang), styles)
    return grid.figure


def _points(data: pd.DataFrame, styles: Styles, x: str, **_) -> None:
    """One point per seed over a box, each scenario with its marker (for FacetGrid.map_dataframe)."""
    ax = plt.gca()
    for scenario, marker in styles.markers.items():
        sns.stripplot(data=data[data["scenario"] == scenario], x=x, y="scenario", order=styles.order, ax=ax,
                      marker=marker, color=styles.palette[scenario], edgecolor="black", linewidth=0.5, size=5,
                      jitter=0.15)


def plot_distributions(ends: pd.DataFrame, kpis: Sequence[str], styles: Styles, lang: str = "en"):
    """End-of-run value per scenario: a box (quartiles, whiskers at 1.5 IQR) with every seed's point on it.

    ``ends``: long table with columns scenario, kpi, value (one row per run and KPI).
    """
    data = ends[ends["kpi"].isin(kpis) & ends["scenario"].isin(styles.order)]
    height = 1.1 + 0.42 * len(styles.order)
    with warnings.catch_warnings():  # seaborn 0.13 passes matplotlib ≥ 3.11's deprecated `vert` to boxplot
        warnings.filterwarnings("ignore", "vert: bool was deprecated", matplotlib.MatplotlibDeprecationWarning)
        grid = sns.catplot(data=data, kind="box", x="value", y="scenario", order=styles.order, hue="scenario",
                           hue_order=styles.order, palette=styles.light_palette, legend=False, col="kpi",
                           col_order=list(kpis), col_wrap=_wrap(len(kpis)), sharex=False, showfliers=False,
                           width=0.6, linecolor="black", height=height, aspect=4.6 / height)
    grid.map_dataframe(_points, styles=styles, x="value")
    for key, ax in grid.axes_dict.items():
        _target_line(ax, key, lang, orient="v")
        _percent_axis(ax, key, axis="x")
        ax.locator_params(axis="x", nbins=5)  # room for per-cent labels in a narrow panel
        ax.set_title(kpi_label(key, lang))
        ax.set_xlabel("")
        ax.set_ylabel("")
    _finish(grid, term("fig_distributions", lang))
    return grid.figure


def plot_forest(pairs: pd.DataFrame, kpis: Sequence[str], styles: Styles, lang: str = "en"):
    """Paired differences vs the baseline: point = mean difference, bar = 95 % t interval, one panel per KPI.

    ``pairs``: long table of per-seed differences with columns scenario, kpi, diff.
    """
    shown = styles.subset(pairs["scenario"].unique())
    data = pairs[pairs["kpi"].isin(kpis)].dropna(subset=["diff"])
    height = 1.3 + 0.45 * len(shown.order)
    grid = sns.catplot(data=data, kind="point", x="diff", y="scenario", order=shown.order, hue="scenario",
                       hue_order=shown.order, palette=shown.palette, markers=list(shown.markers.values()),
                       linestyle="none", errorbar=t_interval, capsize=0.25, err_kws={"linewidth": 1.6},
                       markeredgecolor="black", markeredgewidth=0.5, markersize=7, legend=False, col="kpi",
                       col_order=list(kpis), col_wrap=_wrap(len(kpis)), sharex=False, height=height,
                       aspect=4.6 / height)
    for key, ax in grid.axes_dict.items():
        ax.axvline(0, color="black", linewidth=0.9, zorder=1)
        _percent_axis(ax, key, axis="x", diff=True)
        ax.locator_params(axis="x", nbins=5)
        ax.set_title(kpi_label(key, lang))
        ax.set_xlabel(term("diff_vs_baseline", lang) + (f" ({term('pp', lang)})" if is_fraction(key) else ""))
        ax.set_ylabel("")
    _finish(grid, term("fig_differences", lang))
    return grid.figure


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


def plot_replication(curves: pd.DataFrame, kpis: Sequence[str], styles: Styles, lang: str = "en",
                     diffs: bool = True):
    """CI half-width against the number of seeds used, one line per scenario, one panel per KPI.

    ``curves``: columns scenario, kpi, n, half_width — of paired differences (``diffs``) or of means.
    A panel whose half-widths span more than two decades gets a log scale.
    """
    shown = styles.subset(curves["scenario"].unique())
    data = curves[curves["kpi"].isin(kpis)].astype({"n": int, "half_width": float})
    grid = sns.relplot(data=data, kind="line", x="n", y="half_width", col="kpi", col_order=list(kpis),
                       col_wrap=_wrap(len(kpis)), hue="scenario", hue_order=shown.order, palette=shown.palette,
                       style="scenario", style_order=shown.order, markers=shown.markers, dashes=shown.dashes,
                       markeredgecolor="black", markeredgewidth=0.5, linewidth=1.6, errorbar=None, height=3.4,
                       aspect=1.35, legend=False, facet_kws={"sharey": False})
    for key, ax in grid.axes_dict.items():
        hw = data.loc[data["kpi"] == key, "half_width"]
        positive = hw[hw > 0]
        if len(positive) and (hw > 0).all() and positive.max() / positive.min() > 100:
            ax.set_yscale("log")
        else:
            _percent_axis(ax, key, diff=diffs)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(kpi_label(key, lang))
        ax.set_xlabel(term("seeds", lang))
        ax.set_ylabel(term("ci_half_width", lang))
    _finish(grid, term("fig_replication", lang), shown)
    return grid.figure
