"""The charts of a comparison, drawn for print at a journal's column width, one panel per KPI.

* :func:`plot_trajectories` — weekly mean per scenario with a 95 % t band across seeds;
* :func:`plot_distributions` — boxes of the end-of-run values, one point per seed;
* :func:`plot_forest` — the paired differences vs the baseline, mean and 95 % t interval;
* :func:`plot_replication` — CI half-width against the number of seeds.

The charts over parameters (a grid's heatmap, the bands over parameter sets) are in
experiments/parameter_figures.py.

Every chart names scenarios in words (:func:`experiments.presentation.scenario_label`), gives each value
axis and colour bar its unit, and tells scenarios apart by colour (Okabe–Ito's colour-blind-safe palette,
or greys with ``greyscale``) *and* by marker and line style.  Beyond :data:`GROUP_MAX` scenarios the line
charts are faceted: one column per group of scenarios (by the value of a swept parameter, else in order),
so that no panel holds more than a handful of bands.  A plan target far outside the data is written as
an arrow at the panel's edge instead of stretching the axis.  The first weeks of a run, before the
demand queue is in steady state, are shaded.  Figures are 85 mm ('single') or 175 mm ('double') wide;
call ``experiments.presentation.setup_theme(lang, paper=True)`` first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from experiments import stats
from experiments.presentation import (
    PAGE_HEIGHT_MM,
    TARGETS_BY_KEY,
    FigureTooTall,
    declutter,
    display_unit,
    figure_size,
    figure_width,
    format_value,
    is_fraction,
    kpi_label,
    param_value,
    scenario_colours,
    term,
    thousands,
    value_scale,
    wrap,
)

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
DASHES = ("", (4, 1.5), (1, 1), (3, 1.25, 1.5, 1.25), (5, 1, 1, 1), (2, 2, 6, 2))  # "" = solid
GROUP_MAX = 5                          # at most this many scenarios share a line-chart panel
COLUMNS = {"single": 2, "double": 3}   # panels per row when each panel is one KPI
WRAP_MAX = {"single": 3, "double": 4}  # … and at most this many when a page is too short for COLUMNS
GROUP_COLUMNS = {"single": 3, "double": 5}  # panels of groups of scenarios side by side (more wrap into rows)
PANEL_HEIGHT = {"single": 1.35, "double": 1.7}  # inches, line charts
MAX_HEIGHT_MM = PAGE_HEIGHT_MM - 10    # panels are fitted to a page's text block less a caption
MIN_PANEL_HEIGHT = 0.75                # inches: line panels are not squeezed below this to fit the page
NAME_WRAP = {"single": 22, "double": 30}   # characters per line of a scenario's name on a y axis
TITLE_WRAP = {"single": 18, "double": 30}  # characters per line of a panel's title
NEAR = 0.15                            # a target within this share of the data's span is drawn on the axis


@dataclass(frozen=True)
class Styles:
    """How each scenario is drawn and named: colour, marker, dash pattern (distinct in greyscale too), in order."""

    palette: dict[str, str]
    markers: dict[str, str]
    dashes: dict[str, object]
    names: dict[str, str] = field(default_factory=dict)  # scenario -> display name (default: the scenario)
    legend: dict[str, str] = field(default_factory=dict)  # scenario -> its name in a legend (default: its name)

    @classmethod
    def of(cls, scenarios: Sequence[str], names: dict[str, str] | None = None, greyscale: bool = False,
           series: dict[str, str] | None = None) -> Styles:
        """A fixed style per scenario, in the given order.  Colours (8), markers (10) and dashes (6) repeat at
        different lengths, so no two of up to 120 scenarios share all three, nor colour and marker below 40.

        ``series``: scenario -> the name of its series across facets (e.g. the policy, without the community the
        panels are faceted by): scenarios of one series share one style and one legend entry."""
        keys = list(dict.fromkeys((series or {}).get(s, s) for s in scenarios))
        colours = scenario_colours(len(keys), greyscale)
        index = {k: i for i, k in enumerate(keys)}
        at = {s: index[(series or {}).get(s, s)] for s in scenarios}
        names = {s: (names or {}).get(s, s) for s in scenarios}
        return cls({s: colours[at[s]] for s in scenarios}, {s: MARKERS[at[s] % len(MARKERS)] for s in scenarios},
                   {s: DASHES[at[s] % len(DASHES)] for s in scenarios}, names,
                   {s: (series or {}).get(s, names[s]) for s in scenarios})

    @property
    def order(self) -> list[str]:
        return list(self.palette)

    def name(self, scenario: str) -> str:
        return self.names.get(scenario, scenario)

    def light(self, scenario: str) -> tuple:
        """The colour mixed with white (box fills, so the points drawn on top stay visible)."""
        return tuple(c + (1 - c) * 0.65 for c in matplotlib.colors.to_rgb(self.palette[scenario]))

    def subset(self, shown: Sequence[str]) -> Styles:
        """The styles of the scenarios in ``shown`` only (each keeps its colour, marker and dashes)."""
        keep = set(shown)
        return Styles(*({s: v for s, v in mapping.items() if s in keep}
                        for mapping in (self.palette, self.markers, self.dashes, self.names, self.legend)))

    def legend_name(self, scenario: str) -> str:
        return self.legend.get(scenario, self.name(scenario))

    def handle(self, scenario: str) -> Line2D:
        return Line2D([], [], color=self.palette[scenario], marker=self.markers[scenario], markeredgecolor="black",
                      markeredgewidth=0.4, dashes=self.dashes[scenario] or (None, None))


def facet_groups(settings: dict[str, dict[str, object]], order: Sequence[str], keys: Sequence[str],
                 baseline: Sequence[str] = (), lang: str = "en", most: int = GROUP_MAX) -> list[tuple[str, list[str]]]:
    """Scenarios in panels by the values of the design factors ``keys`` (e.g. the community): one panel per
    value, titled by it, its own baseline first; a panel with more than ``most`` scenarios (the palette's
    distinct colours) split in order ("易地扶贫搬迁社区 (1/2)")."""
    groups: dict[tuple, list[str]] = {}
    for s in order:
        groups.setdefault(tuple(str(settings[s].get(k)) for k in keys), []).append(s)
    out = []
    for members in groups.values():
        title = ("，" if lang == "zh" else ", ").join(param_value(k, settings[members[0]][k], lang) for k in keys)
        base = [s for s in members if s in baseline]
        rest = [s for s in members if s not in baseline]
        size = max(1, most - len(base))
        chunks = [rest[i:i + size] for i in range(0, len(rest), size)] or [[]]
        for i, chunk in enumerate(chunks):
            out.append((title + (f" ({i + 1}/{len(chunks)})" if len(chunks) > 1 else ""), base + chunk))
    return out


def scenario_groups(styles: Styles, settings: dict[str, dict[str, object]], baseline: Sequence[str] = (),
                    lang: str = "en") -> list[tuple[str, list[str]]]:
    """Scenarios split into panels of at most :data:`GROUP_MAX` (title, scenarios): one group if they fit;
    else by the value of the swept parameter that splits them into groups that fit (the fewest groups), else
    in order.  A single baseline scenario is repeated in every group as the reference."""
    order = styles.order
    if len(order) <= GROUP_MAX:
        return [("", order)]
    base = [s for s in baseline if s in order]
    ref = base if len(base) == 1 else []
    rest = [s for s in order if s not in ref]
    keys = list(next(iter(settings.values()), {})) if settings else []
    best = None
    for key in keys:
        values: dict[str, list[str]] = {}
        for s in rest:
            values.setdefault(str(settings[s][key]), []).append(s)
        if len(values) > 1 and max(len(v) for v in values.values()) + len(ref) <= GROUP_MAX \
                and (best is None or len(values) < len(best[1])):
            best = (key, values)
    if best is not None:
        key, values = best
        return [(param_value(key, settings[members[0]][key], lang), ref + members) for members in values.values()]
    size = GROUP_MAX - len(ref)
    chunks = [rest[i:i + size] for i in range(0, len(rest), size)]
    first = len(ref)
    titles = []
    for chunk in chunks:
        titles.append(f"{term('scenario', lang)} {first + 1}–{first + len(chunk)}")
        first += len(chunk)
    return [(t, ref + c) for t, c in zip(titles, chunks, strict=True)]


# ---------------------------------------------------------------------------------------------
# Axis helpers
# ---------------------------------------------------------------------------------------------

FLAT_REL = 1e-3      # a value axis spanning less than this share of its values' size is widened to it
FLAT_RATE = 0.002    # … and a rate's axis to at least 0.2 percentage points


def percent_axis(ax, key: str, axis: str = "y", diff: bool = False, lang: str = "en") -> None:
    """Per-cent ticks for a fraction; for a difference of fractions, percentage points (×100, no sign); other
    values with thousands separators, never in scientific notation, money in Chinese in 万元
    (:func:`experiments.presentation.value_scale`; label the axis with ``display_unit``).  A flat series is not
    drawn on an axis of rounding noise (1,153.84 … 1,153.85): the view is widened (:func:`widen_flat`)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    widen_flat(ax, key, axis)
    if is_fraction(key):
        fmt = FuncFormatter(lambda v, _: thousands(100 * v)) if diff else PercentFormatter(1.0, decimals=None)
        target.set_major_formatter(fmt)
    elif target.get_scale() == "linear":
        scale = value_scale(key, lang)
        target.set_major_formatter(FuncFormatter(lambda v, _: thousands(v / scale)))


def widen_flat(ax, key: str, axis: str = "y") -> None:
    """Widen a value axis whose span is below :data:`FLAT_REL` of its values' size (at least :data:`FLAT_RATE`
    for a rate, 1 around 0) to that, centred: a constant series then reads as a line, not as a block of ticks."""
    get, put = (ax.get_ylim, ax.set_ylim) if axis == "y" else (ax.get_xlim, ax.set_xlim)
    low, high = get()
    if (ax.yaxis if axis == "y" else ax.xaxis).get_scale() != "linear":
        return
    centre = (low + high) / 2
    least = FLAT_RATE if is_fraction(key) else (FLAT_REL * abs(centre) or 1.0)
    if high - low < least:
        put(centre - least / 2, centre + least / 2)


def possible_range(ax, key: str, never_negative: bool, axis: str = "y") -> None:
    """Keep the view within possible values: ≥ 0 for indicators never negative, ≤ 100 % for fractions."""
    get, put = (ax.get_ylim, ax.set_ylim) if axis == "y" else (ax.get_xlim, ax.set_xlim)
    low, high = get()
    pad = 0.03 * (high - low)
    if never_negative and low < -pad:
        low = -pad
    if is_fraction(key) and high > 1 + pad:
        high = 1 + pad
    put(low, high)


def target_mark(ax, key: str, lang: str, axis: str = "y") -> None:
    """The plan target of ``key``: a dashed line with its value when it is on (or near) the axis; when it lies
    far outside the data, an arrow and its value inside the panel's edge, the axis left to the data."""
    target = TARGETS_BY_KEY.get(key)
    if target is None:
        return
    text = f"{term('target', lang)} {target.op.replace('>=', '≥')} {format_value(key, target.value)}"
    get, put = (ax.get_ylim, ax.set_ylim) if axis == "y" else (ax.get_xlim, ax.set_xlim)
    low, high = get()
    span = high - low or 1.0
    box = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 0.8}
    if low - NEAR * span <= target.value <= high + NEAR * span:
        put(min(low, target.value - 0.02 * span), max(high, target.value + 0.02 * span))
        line = ax.axhline if axis == "y" else ax.axvline
        line(target.value, color="black", linestyle=(0, (5, 2.5)), linewidth=0.9, zorder=1.5)
        low, high = get()
        if axis == "y":
            upper = (target.value - low) / (high - low) > 0.8
            ax.annotate(text, (1, target.value), xycoords=("axes fraction", "data"), xytext=(-2, -2 if upper else 2),
                        textcoords="offset points", ha="right", va="top" if upper else "bottom",
                        fontsize="x-small", bbox=box, zorder=3)
        else:
            ax.annotate(text, (target.value, 1), xycoords=("data", "axes fraction"), xytext=(-2, -2),
                        textcoords="offset points", ha="right", va="top", fontsize="x-small", bbox=box, zorder=3)
        return
    above = target.value > high
    if axis == "y":
        arrow = "↑" if above else "↓"
        ax.text(0.98, 0.97 if above else 0.03, f"{arrow} {text}", transform=ax.transAxes, ha="right",
                va="top" if above else "bottom", fontsize="x-small", bbox=box, zorder=3)
    else:
        ax.text(0.98 if above else 0.02, 0.98, f"{text} →" if above else f"← {text}", transform=ax.transAxes,
                ha="right" if above else "left", va="top", fontsize="x-small", bbox=box, zorder=3)


def shade_warmup(ax, weeks: int) -> None:
    """Shade the first ``weeks`` recorded weeks, not yet steady (the part of the response deadline that the
    model's warm-up did not cover: see experiments.loading.warmup_weeks)."""
    if weeks > 0:
        ax.axvspan(0.5, weeks + 0.5, color="0.86", linewidth=0, zorder=0)


def _legend_entries(styles: Styles, order: Sequence[str], lang: str, warmup: int) -> tuple[list, list[str]]:
    first = {}
    for s in order:  # one entry per series (scenarios of one series across facets share it)
        first.setdefault(styles.legend_name(s), s)
    handles = [styles.handle(s) for s in first.values()]
    names = [wrap(n, lang, 40) for n in first]
    if warmup:
        handles.append(matplotlib.patches.Patch(color="0.86", linewidth=0))
        names.append(wrap(term("warmup", lang, weeks=warmup), lang, 40))
    return handles, names


def _legend_columns(names: list[str], lang: str, width: str) -> int:
    longest = max(len(line) * (2 if lang == "zh" else 1) for n in names for line in n.split("\n"))
    return max(1, min(len(names), int(figure_width(width) * 72 / (longest * 4.2 + 30))))


def legend_height(styles: Styles, order: Sequence[str], lang: str, width: str, warmup: int = 0) -> float:
    """Inches taken by :func:`legend_below`'s legend (the figure is made that much taller)."""
    _, names = _legend_entries(styles, order, lang, warmup)
    ncol = _legend_columns(names, lang, width)
    rows = [max(n.count("\n") + 1 for n in names[i:i + ncol]) for i in range(0, len(names), ncol)]
    return 0.15 + 0.135 * sum(rows)


def legend_below(fig, styles: Styles, order: Sequence[str], lang: str, width: str, warmup: int = 0) -> None:
    """One legend of the scenarios below the panels (and of the warm-up shading), in as many columns as fit."""
    handles, names = _legend_entries(styles, order, lang, warmup)
    fig.legend(handles, names, loc="outside lower center", ncol=_legend_columns(names, lang, width), frameon=False)


def _grid(n_panels: int, width: str, height: float, ncols: int | None = None, extra: float = 0.0, **kw):
    """A constrained-layout figure of ``n_panels`` axes at the journal ``width`` (``extra`` inches taller for a
    legend); spare axes removed."""
    ncols = ncols or min(COLUMNS[width], n_panels)
    # too tall for a page: the panels wrap into one more column (at most WRAP_MAX[width]) before giving up
    while 0.45 + extra + height * math.ceil(n_panels / ncols) > PAGE_HEIGHT_MM / 25.4 \
            and ncols < min(WRAP_MAX[width], n_panels):
        ncols += 1
    nrows = math.ceil(n_panels / ncols)
    size = figure_size(width, 0.45 + extra + height * nrows, f"{n_panels} panels in {nrows} rows")
    fig, axes = plt.subplots(nrows, ncols, figsize=size, layout="constrained", squeeze=False, **kw)
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        ax.remove()
    return fig, flat[:n_panels]


def _line_panels(kpis: Sequence[str], groups: list[tuple[str, list[str]]], width: str, lang: str, extra: float):
    """Axes for line charts: one per KPI (wrapped) with one group; else a row of panels per KPI, a panel per
    group (the groups of one KPI share its y axis; x tick labels on the last row only)."""
    if len(groups) == 1:
        rows = math.ceil(len(kpis) / min(COLUMNS[width], len(kpis)))
        fit = (MAX_HEIGHT_MM / 25.4 - 0.45 - extra) / rows
        fig, axes = _grid(len(kpis), width, max(MIN_PANEL_HEIGHT, min(PANEL_HEIGHT[width], fit)), extra=extra,
                          sharex=True)
        return fig, {(k, 0): ax for k, ax in zip(kpis, axes, strict=True)}
    # one block per KPI (its name above), a panel per group (the group's name above each panel), the groups
    # wrapped into rows of GROUP_COLUMNS[width] (13 groups side by side at 85 mm collapsed to slivers); the panels
    # lower than PANEL_HEIGHT where the figure would not fit the page (MAX_HEIGHT_MM)
    cols, rows = group_grid(len(groups), width)
    fit = ((MAX_HEIGHT_MM / 25.4 - 0.6 - extra) / len(kpis) - 0.15) / rows - 0.2
    panel = max(MIN_PANEL_HEIGHT, min(PANEL_HEIGHT[width], fit))
    fig = plt.figure(figsize=figure_size(width, 0.6 + extra + (0.15 + rows * (panel + 0.2)) * len(kpis),
                                         f"{len(kpis)} indicators × {len(groups)} groups"), layout="constrained")
    blocks = fig.subfigures(len(kpis), 1, squeeze=False)[:, 0]
    panels = {}
    for i, (key, block) in enumerate(zip(kpis, blocks, strict=True)):
        block.suptitle(wrap(kpi_label(key, lang), lang, 2 * TITLE_WRAP[width]), fontsize="medium",
                       fontweight="bold")
        axes = list(block.subplots(rows, cols, sharey=True, squeeze=False).ravel())
        for ax in axes[len(groups):]:
            ax.remove()
        for j, ((title, _), ax) in enumerate(zip(groups, axes, strict=False)):  # same x limits set by the caller
            ax.set_title(wrap(title, lang, min(24, int(figure_width(width) * 72 / cols / 5.2))), fontsize="small")
            ax.tick_params(labelbottom=i == len(kpis) - 1 and j + cols >= len(groups))
            panels[(key, j)] = ax
    return fig, panels


def group_grid(n_groups: int, width: str) -> tuple[int, int]:
    """(columns, rows) of one KPI's panels of ``n_groups`` groups at ``width``."""
    cols = min(n_groups, GROUP_COLUMNS[width])
    return cols, math.ceil(n_groups / cols)


def _bottom(kpis: Sequence[str], key: str, groups: list, width: str, j: int = 0) -> bool:
    """Whether the panel of ``key`` (and group ``j``) is the lowest of its column (it carries the x label)."""
    if len(groups) > 1:
        return key == kpis[-1] and j + group_grid(len(groups), width)[0] >= len(groups)
    return list(kpis).index(key) + min(COLUMNS[width], len(kpis)) >= len(kpis)


def _label_panel(ax, key: str, lang: str, grouped: bool, first_col: bool, width: str, diff: bool = False,
                 unit: str | None = None) -> None:
    """KPI name and unit: the panel's title and y label, or (KPIs in rows, named above) the first column's
    y label."""
    unit = display_unit(key, lang, diff) if unit is None else unit
    if not grouped:
        ax.set_title(wrap(kpi_label(key, lang), lang, TITLE_WRAP[width]))
        unit_label_on(ax, wrap(unit, lang, 28), lang)
    elif first_col:
        unit_label_on(ax, wrap(unit, lang, 22), lang)


def unit_label_on(ax, text: str, lang: str) -> None:
    """The y axis' unit: a short Chinese unit (个, %, 万元) written upright, not turned on its side."""
    if lang == "zh" and "\n" not in text and 0 < len(text) <= 3:
        ax.set_ylabel(text, rotation=0, ha="right", va="center")
    else:
        ax.set_ylabel(text)


def page_parts(draw, kpis: Sequence[str]) -> list[tuple[object, list[str]]]:
    """``draw(kpis)`` as one figure, or — when it would be taller than a page (:class:`FigureTooTall`) — as
    several, the KPIs halved until each part fits: [(figure, its KPIs), …] in order.  A single KPI that still
    does not fit raises :class:`FigureTooTall` (too many scenarios for the width: the message says so)."""
    try:
        return [(draw(list(kpis)), list(kpis))]
    except FigureTooTall:
        if len(kpis) < 2:
            raise
    half = math.ceil(len(kpis) / 2)
    return page_parts(draw, kpis[:half]) + page_parts(draw, kpis[half:])


# ---------------------------------------------------------------------------------------------
# The charts
# ---------------------------------------------------------------------------------------------

def plot_trajectories(series: pd.DataFrame, kpis: Sequence[str], styles: Styles, lang: str = "en",
                      groups: list[tuple[str, list[str]]] | None = None, width: str = "double", warmup: int = 0):
    """KPI over the weeks: mean line and 95 % t band across seeds per scenario (one panel per KPI, or KPIs in
    rows × groups of scenarios in columns); the first ``warmup`` weeks shaded.

    ``series``: long weekly table with columns scenario, seed, step, indicator, value.
    """
    data = series.assign(indicator=series["indicator"].astype(str))
    changes = data[(data["indicator"] == "lever_events_count") & (data["value"] > 0)]  # scheduled lever changes
    event_weeks = {s: sorted(set(g["step"].astype(int))) for s, g in changes.groupby("scenario")}
    data = data[data["indicator"].isin(kpis) & data["scenario"].isin(styles.order)]
    summary = stats.summarise(data, ["indicator", "scenario", "step"])
    groups = groups or [("", styles.order)]
    fig, panels = _line_panels(kpis, groups, width, lang, legend_height(styles, styles.order, lang, width, warmup))
    never_negative = data.groupby("indicator")["value"].min().ge(0)
    steps = int(data["step"].max()) if len(data) else 1
    for (key, j), ax in panels.items():
        shade_warmup(ax, warmup)
        for s in groups[j][1]:
            g = summary[(summary["indicator"] == key) & (summary["scenario"] == s)].sort_values("step")
            colour = styles.palette[s]
            ax.fill_between(g["step"], g["low"], g["high"], color=colour, alpha=0.16, linewidth=0)
            ax.plot(g["step"], g["mean"], color=colour, marker=styles.markers[s], dashes=styles.dashes[s] or
                    (None, None), markevery=max(1, steps // 6), markeredgecolor="black", markeredgewidth=0.4)
            for week in event_weeks.get(s, ()):  # levers changed on schedule (sim/levers/schedule.py)
                ax.axvline(week - 0.5, color=colour, ls=":", lw=1.0)
        ax.set_xlim(0.5, steps + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    for (key, j), ax in panels.items():
        if j == 0:
            possible_range(ax, key, bool(never_negative.get(key, False)))
            target_mark(ax, key, lang)
        percent_axis(ax, key, lang=lang)
        _label_panel(ax, key, lang, len(groups) > 1, j % group_grid(len(groups), width)[0] == 0, width)
        ax.set_xlabel(term("step", lang) if _bottom(kpis, key, groups, width, j) else "")
    legend_below(fig, styles, styles.order, lang, width, warmup)
    declutter(fig)
    return fig


def _points(ax, values: np.ndarray, y: float, styles: Styles, scenario: str, rng: np.random.Generator) -> None:
    ax.scatter(values, y + rng.uniform(-0.15, 0.15, len(values)), s=9, marker=styles.markers[scenario],
               color=styles.palette[scenario], edgecolor="black", linewidth=0.3, zorder=3)




Row = tuple[str, str]  # ("scenario", key) or ("head", a facet's title)


def row_layout(order: Sequence[str], groups: list[tuple[str, list[str]]] | None = None) -> list[Row]:
    """The rows of a chart with a row per scenario: in ``order``; with facet ``groups``, each group's title as a
    heading row above its scenarios (which are then named by their series alone)."""
    if not groups or len(groups) < 2:
        return [("scenario", s) for s in order]
    rows: list[Row] = []
    for title, members in groups:
        shown = [s for s in members if s in order]
        if shown:
            rows += [("head", title), *(("scenario", s) for s in shown)]
    return rows


def _row_name(row: Row, styles: Styles, grouped: bool) -> str:
    kind, value = row
    return value if kind == "head" else (styles.legend_name(value) if grouped else styles.name(value))


def _row_panels(kpis: Sequence[str], rows: Sequence[Row], styles: Styles, lang: str, width: str):
    """One panel per KPI, a row per scenario (shared y: scenario names on the first column only), each row
    as tall as its name's lines need."""
    grouped = any(kind == "head" for kind, _ in rows)
    lines = max(wrap(_row_name(r, styles, grouped), lang, NAME_WRAP[width]).count("\n") + 1 for r in rows)
    # each row as tall as its name's lines and a gap; the gaps shrink (not the lines) to fit the page if they can
    panels = math.ceil(len(kpis) / min(COLUMNS[width], len(kpis)))
    fit = (MAX_HEIGHT_MM / 25.4 - 0.45) / panels - 0.45
    row = max(0.115 * lines + 0.015, min(0.06 + 0.115 * lines, fit / len(rows)))
    return _grid(len(kpis), width, 0.45 + row * len(rows), sharey=True)


def _scenario_axis(ax, rows: Sequence[Row], styles: Styles, lang: str, width: str) -> None:
    grouped = any(kind == "head" for kind, _ in rows)
    ticks = ax.set_yticks(range(len(rows)), [wrap(_row_name(r, styles, grouped), lang, NAME_WRAP[width])
                                             for r in rows])
    for (kind, _), tick in zip(rows, ticks, strict=False):
        if kind == "head":
            tick.label1.set_fontweight("bold")
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    for i, (kind, _) in enumerate(rows):
        if kind == "head" and i:
            ax.axhline(i - 0.5, color="0.75", linewidth=0.5, zorder=0)


def _no_value(ax, key: str, lang: str, width: str) -> None:
    """A KPI panel without data: its title and why it is empty."""
    ax.text(0.5, 0.5, wrap(term("no_value_in_runs", lang), lang, TITLE_WRAP[width]), ha="center", va="center",
            transform=ax.transAxes, fontsize="small", color="0.3")
    ax.set_xticks([])
    ax.set_title(wrap(kpi_label(key, lang), lang, TITLE_WRAP[width]))


def plot_distributions(ends: pd.DataFrame, kpis: Sequence[str], styles: Styles, lang: str = "en",
                       width: str = "double", groups: list[tuple[str, list[str]]] | None = None):
    """End-of-run value per scenario: a box (quartiles, whiskers at 1.5 IQR) with every seed's point on it;
    with facet ``groups`` (e.g. by community), the scenarios under a heading per group.

    ``ends``: long table with columns scenario, kpi, value (one row per run and KPI).
    """
    rows = row_layout(styles.order, groups)
    at = [i for i, (kind, _) in enumerate(rows) if kind == "scenario"]
    order = [rows[i][1] for i in at]
    fig, axes = _row_panels(kpis, rows, styles, lang, width)
    rng = np.random.default_rng(0)  # jitter only: the same picture every time
    for key, ax in zip(kpis, axes, strict=True):
        d = ends[ends["kpi"] == key]
        values = [d.loc[d["scenario"] == s, "value"].dropna().to_numpy(dtype=float) for s in order]
        boxes = ax.boxplot(values, positions=at, orientation="horizontal", widths=0.6,
                           showfliers=False, patch_artist=True, medianprops={"color": "black", "linewidth": 0.9},
                           whiskerprops={"linewidth": 0.7}, capprops={"linewidth": 0.7},
                           boxprops={"linewidth": 0.7})
        for patch, s in zip(boxes["boxes"], order, strict=True):
            patch.set_facecolor(styles.light(s))
        for i, s, v in zip(at, order, values, strict=True):
            _points(ax, v, i, styles, s, rng)
        _scenario_axis(ax, rows, styles, lang, width)
        if not any(len(v) for v in values):  # e.g. a yearly rate in runs shorter than a year: not measurable
            _no_value(ax, key, lang, width)
            continue
        possible_range(ax, key, bool(d["value"].min() >= 0) if len(d) else False, axis="x")
        target_mark(ax, key, lang, axis="x")
        percent_axis(ax, key, axis="x", lang=lang)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.set_title(wrap(kpi_label(key, lang), lang, TITLE_WRAP[width]))
        ax.set_xlabel(display_unit(key, lang))
    declutter(fig)
    return fig


def plot_forest(pairs: pd.DataFrame, kpis: Sequence[str], styles: Styles, lang: str = "en", width: str = "double",
                groups: list[tuple[str, list[str]]] | None = None):
    """Paired differences vs the baseline: point = mean difference, bar = 95 % t interval, one panel per KPI;
    with facet ``groups``, the scenarios under a heading per group.

    ``pairs``: long table of per-seed differences with columns scenario, kpi, diff.
    """
    shown = styles.subset(pairs["scenario"].unique())
    rows = row_layout(shown.order, groups)
    at = [i for i, (kind, _) in enumerate(rows) if kind == "scenario"]
    order = [rows[i][1] for i in at]
    data = pairs[pairs["kpi"].isin(kpis)].dropna(subset=["diff"])
    summary = stats.summarise(data, ["kpi", "scenario"], value="diff").set_index(["kpi", "scenario"])
    fig, axes = _row_panels(kpis, rows, shown, lang, width)
    for key, ax in zip(kpis, axes, strict=True):
        _scenario_axis(ax, rows, shown, lang, width)
        if key not in summary.index.get_level_values("kpi"):  # no run measured it
            _no_value(ax, key, lang, width)
            continue
        ax.axvline(0, color="black", linewidth=0.8, zorder=1)
        for i, s in zip(at, order, strict=True):
            if (key, s) not in summary.index:
                continue
            r = summary.loc[(key, s)]
            low, high = (r["low"], r["high"]) if np.isfinite(r["half_width"]) else (r["mean"], r["mean"])
            ax.errorbar([r["mean"]], [i], xerr=[[r["mean"] - low], [high - r["mean"]]], color=shown.palette[s],
                        marker=shown.markers[s], markeredgecolor="black", markeredgewidth=0.4, capsize=2.5,
                        elinewidth=1.2, linestyle="none", zorder=3)
        percent_axis(ax, key, axis="x", diff=True, lang=lang)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.set_title(wrap(kpi_label(key, lang), lang, TITLE_WRAP[width]))
        ax.set_xlabel(display_unit(key, lang, diff=True))
    declutter(fig)
    return fig


def plot_replication(curves: pd.DataFrame, kpis: Sequence[str], styles: Styles, lang: str = "en",
                     diffs: bool = True, groups: list[tuple[str, list[str]]] | None = None, width: str = "double"):
    """CI half-width against the number of seeds used, one line per scenario, one panel per KPI (KPIs in rows ×
    groups of scenarios in columns beyond GROUP_MAX scenarios).

    ``curves``: columns scenario, kpi, n, half_width — of paired differences (``diffs``) or of means.
    A KPI whose half-widths span more than two decades gets a log scale.
    """
    shown = styles.subset(curves["scenario"].unique())
    data = curves[curves["kpi"].isin(kpis)].astype({"n": int, "half_width": float})
    groups = [(t, [s for s in members if s in shown.palette]) for t, members in (groups or [("", shown.order)])]
    groups = [g for g in groups if g[1]]
    fig, panels = _line_panels(kpis, groups, width, lang, legend_height(shown, shown.order, lang, width))
    for (key, j), ax in panels.items():
        d = data[data["kpi"] == key]
        for s in groups[j][1]:
            g = d[d["scenario"] == s].sort_values("n")
            ax.plot(g["n"], g["half_width"], color=shown.palette[s], marker=shown.markers[s],
                    dashes=shown.dashes[s] or (None, None), markeredgecolor="black", markeredgewidth=0.4)
        hw = d["half_width"]
        positive = hw[hw > 0]
        if len(positive) and (hw > 0).all() and positive.max() / positive.min() > 100:
            ax.set_yscale("log")
        else:
            percent_axis(ax, key, diff=diffs, lang=lang)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        unit = display_unit(key, lang, diff=diffs)
        first_col = j % group_grid(len(groups), width)[0] == 0
        _label_panel(ax, key, lang, len(groups) > 1, first_col, width, unit=f"{term('ci_half_width', lang)}"
                     + (f" ({unit})" if unit else "") if len(groups) == 1 else unit)
        ax.set_xlabel(term("seeds", lang) if _bottom(kpis, key, groups, width, j) else "")
    legend_below(fig, shown, shown.order, lang, width)
    declutter(fig)
    return fig
