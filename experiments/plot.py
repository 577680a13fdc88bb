"""Plot one run, or a few side by side: the key indicators over the weeks and where the fund's money went.

``python -m experiments.plot RUN_DIR [RUN_DIR ...] [--lang zh] [--width single|double] [--greyscale]
[--pdf] [--out DIR] [--name STEM]`` reads each run folder written by ``python -m sim``
(``timeseries.parquet`` and ``manifest.json``; for a district, its district totals) and writes
``run.png`` (300 dpi) and ``run.svg`` (and ``run.pdf``) into ``--out`` (default: ``RUN_DIR/figures``
for one run, ``./run_figures`` for several):

* one panel per key indicator (sim.model.indicators.KEY_INDICATORS; a run total such as ``public_cost_run`` as
  its weekly column, ``public_cost``), one line per run, the plan target as a dashed line or, far outside
  the data, an arrow with its value; weeks not yet steady shaded; the response, completion and callback
  satisfaction rates over a rolling 13 weeks (one run's weekly rates jump between 0 and 100 %);
* one panel per run of the fund's money over the run: cumulative income by source stacked above zero,
  cumulative spending by use stacked below it (yuan), and the balance as a line.

Runs are named by what tells them apart (community, policy, changed parameters, seed), in words.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from experiments.figures import (
    PANEL_HEIGHT,
    TITLE_WRAP,
    Styles,
    percent_axis,
    possible_range,
    shade_warmup,
    target_mark,
    unit_label_on,
)
from experiments.loading import warmup_weeks, weekly_indicator
from experiments.presentation import (
    OKABE_ITO,
    PAPER_DPI,
    WIDTHS_MM,
    FontError,
    bracket,
    declutter,
    display_unit,
    figure_width,
    kpi_label,
    param_value,
    save_figure,
    setup_theme,
    term,
    thousands,
    value_scale,
    wrap,
)
from sim.model.fund import INFLOW_SOURCES, OUTFLOW_USES
from sim.model.indicators import KEY_INDICATORS, RATE_PARTS, callback_satisfaction, completion_rate, response_rate
from sim.runs.outputs import DISTRICT_TIMESERIES_FILE, MANIFEST_FILE, TIMESERIES_FILE, read_json
from sim.tables.glossary import COLUMNS, label

MAX_RUNS = 8
COUNT_UNITS = ("organisations", "persons")  # indicators counted in whole units
WINDOW = 13  # weeks: a single run's weekly rates jump between 0 and 100 %; drawn over a rolling quarter
# rates drawn over the rolling window, from their weekly counts (the formulas of sim.model.indicators):
# rate -> (formula, numerator column, the columns summed into the denominator)
RATES = {key: ({"response_rate": response_rate, "completion_rate": completion_rate,
                 "callback_satisfaction": callback_satisfaction}[key], *RATE_PARTS[key]) for key in RATE_PARTS}
USE_COLOURS = ("#4d4d4d", "#7f7f7f", "#a6a6a6", "#cccccc", "#e6e6e6")  # spending: greys, darkest first
SETTINGS = ("community", "policy")


class PlotError(RuntimeError):
    """Bad input: the message says what is wrong."""


def load_run(path: Path) -> tuple[pd.DataFrame, dict]:
    """A run's weekly table (district totals for a district) and its manifest."""
    if not (path / MANIFEST_FILE).is_file():
        raise PlotError(f"{path} is not a finished run folder of `python -m sim` (no {MANIFEST_FILE}); for a sweep "
                        "folder use `python -m experiments.compare`")
    table = path / DISTRICT_TIMESERIES_FILE
    ts = pd.read_parquet(table if table.is_file() else path / TIMESERIES_FILE)
    return ts, read_json(path / MANIFEST_FILE)


def run_names(manifests: list[dict], lang: str) -> list[str]:
    """Each run's name from what differs between the runs (everything for a single run): presets, changed
    parameters, seed."""
    def parts(m: dict) -> list[tuple[str, str]]:
        out = [(k, param_value(k, m[k], lang)) for k in SETTINGS if m.get(k)]
        for o in m.get("overrides") or []:
            key, _, value = o.partition("=")
            if key.startswith(("hydra", "+", "~")) or key in (*SETTINGS, "seed", "steps", "lang", "progress"):
                continue
            try:
                shown = param_value(key, float(value), lang)
            except ValueError:
                shown = f"{key}={value}"
            out.append((key, shown))
        return [*out, ("seed", f"{term('seed', lang)} {m.get('seed')}")]

    all_parts = [parts(m) for m in manifests]
    if len(manifests) > 1:
        common = set.intersection(*(set(p) for p in all_parts))
        all_parts = [[p for p in ps if p not in common] or ps for ps in all_parts]
    sep = "，" if lang == "zh" else ", "
    names = [sep.join(text for _, text in ps) for ps in all_parts]
    return [f"{n} ({i + 1})" if names.count(n) > 1 else n for i, n in enumerate(names)]


def event_weeks(ts: pd.DataFrame) -> list[int]:
    """The weeks at whose start scheduled lever changes came into force (a run's ``lever_events`` column)."""
    if "lever_events" not in ts.columns:
        return []
    return [int(w) for w in ts.loc[ts["lever_events"].fillna("").astype(str) != "", "step"]]


def series(ts: pd.DataFrame, key: str) -> pd.Series:
    """The weekly values drawn for ``key``: a rate over the last :data:`WINDOW` weeks, else the column."""
    if key in RATES and all(c in ts.columns for c in (RATES[key][1], *RATES[key][2])):
        rate, num, closed = RATES[key]
        a = ts[num].rolling(WINDOW, min_periods=1).sum()
        b = ts[list(closed)].sum(axis=1).rolling(WINDOW, min_periods=1).sum()
        return pd.Series([rate(x, y) for x, y in zip(a, b, strict=True)], index=ts.index)
    return ts[key]


def plot_runs(runs: list[tuple[pd.DataFrame, dict]], lang: str = "en", width: str = "double",
              greyscale: bool = False, kpis: tuple[str, ...] = KEY_INDICATORS, warmup: int = 0):
    """The figure: key indicators (one panel each, a line per run) above the fund's flows (a panel per run)."""
    names = run_names([m for _, m in runs], lang)
    styles = Styles.of(names, greyscale=greyscale)
    # a KPI's weekly column: the KPI itself, or the weekly column a run total sums (public_cost_run → public_cost)
    weekly = [weekly_indicator(k, list(set.intersection(*(set(ts.columns) for ts, _ in runs)))) for k in kpis]
    shown = list(dict.fromkeys(k for k in weekly if k is not None))
    ncols = 3 if width == "double" else 2
    kpi_rows = -(-len(shown) // ncols)
    fund_rows = -(-len(runs) // ncols)
    legend_rows = -(-len(runs) // (1 if width == "single" else 2)) + 1
    fund_entries = len(INFLOW_SOURCES) + len(OUTFLOW_USES) + 1  # every source, every use and the balance
    fund_legend_rows = -(-fund_entries // (1 if width == "single" else 2))
    top_h = PANEL_HEIGHT[width] * kpi_rows + 0.16 * legend_rows + 0.3
    bottom_h = PANEL_HEIGHT[width] * 1.3 * fund_rows + 0.14 * fund_legend_rows + 0.3
    fig = plt.figure(figsize=(figure_width(width), top_h + bottom_h), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[top_h, bottom_h])
    kpi_axes = top.subplots(kpi_rows, ncols, squeeze=False, sharex=True).ravel()
    for ax in kpi_axes[len(shown):]:
        ax.remove()
    steps = max(int(ts["step"].max()) for ts, _ in runs)
    for key, ax in zip(shown, kpi_axes, strict=False):
        shade_warmup(ax, warmup)
        for (ts, _), name in zip(runs, names, strict=True):
            ax.plot(ts["step"], series(ts, key), color=styles.palette[name], marker=styles.markers[name],
                    dashes=styles.dashes[name] or (None, None), markevery=max(1, steps // 6),
                    markeredgecolor="black", markeredgewidth=0.4)
        for (ts, _), name in zip(runs, names, strict=True):  # scheduled lever changes (sim/levers/schedule.py)
            for week in event_weeks(ts):
                ax.axvline(week - 0.5, color=styles.palette[name], ls=":", lw=1.0)
        ax.set_xlim(0.5, steps + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        possible_range(ax, key, all(ts[key].min() >= 0 for ts, _ in runs))
        target_mark(ax, key, lang)
        percent_axis(ax, key, lang=lang)
        if COLUMNS.get(key, ("", "", ""))[2] in COUNT_UNITS:  # a single run's counts are whole numbers
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(wrap(kpi_label(key, lang), lang, TITLE_WRAP[width]))
        unit_label_on(ax, display_unit(key, lang) + (bracket(term('window_weeks', lang, weeks=WINDOW), lang)
                                                     if key in RATES else ""), lang)
        ax.set_xlabel(term("step", lang) if shown.index(key) + ncols >= len(shown) else "")
    _fund_panels(bottom, runs, names, ncols, lang, greyscale, width)
    handles = [styles.handle(n) for n in names]
    labels = [wrap(n, lang, 40) for n in names]
    if warmup:
        handles.append(Patch(color="0.86", linewidth=0))
        labels.append(wrap(term("warmup", lang, weeks=warmup), lang, 40))
    events = any(len(event_weeks(ts)) for ts, _ in runs)
    if events:
        handles.append(Line2D([], [], color="0.3", ls=":", lw=1.0))
        labels.append(wrap(term("lever_events_mark", lang), lang, 40))
    if len(runs) > 1 or warmup or events:
        top.legend(handles, labels, loc="outside lower center", ncol=1 if width == "single" else 2, frameon=False)
    if len(runs) == 1:
        fig.suptitle(wrap(names[0], lang, 90))
    declutter(fig)
    return fig


def _fund_panels(sub, runs, names: list[str], ncols: int, lang: str, greyscale: bool, width: str) -> None:
    """Per run: cumulative income by source (stacked above 0) and spending by use (below 0), balance line."""
    ncols = min(ncols, len(runs))
    axes = sub.subplots(-(-len(runs) // ncols), ncols, squeeze=False, sharey=True).ravel()
    for ax in axes[len(runs):]:
        ax.remove()
    source_colours = (["#000000", "#2b2b2b", "#555555", "#808080", "#aaaaaa", "#cfcfcf", "#ebebeb"] if greyscale
                      else list(OKABE_ITO[1:8]))  # one per source of income (sim.model.fund.INFLOW_SOURCES)
    layers = [(f"fund_inflow_{s}", c, 1) for s, c in zip(INFLOW_SOURCES, source_colours, strict=True)]
    layers += [(f"fund_outflow_{u}", c, -1) for u, c in zip(OUTFLOW_USES, USE_COLOURS, strict=True)]
    used: dict[str, Patch] = {}
    for i, (ax, (ts, _), name) in enumerate(zip(axes, runs, names, strict=False)):
        title = name if len(runs) > 1 else term("run_fund_flows", lang)
        steps = ts["step"].to_numpy()
        below = {1: np.zeros(len(ts)), -1: np.zeros(len(ts))}
        for column, colour, sign in layers:
            if column not in ts.columns or not ts[column].any():
                continue
            cum = sign * ts[column].cumsum().to_numpy()
            ax.fill_between(steps, below[sign], below[sign] + cum, color=colour, linewidth=0,
                            hatch="///" if sign < 0 and greyscale else None)
            below[sign] = below[sign] + cum
            used.setdefault(column, Patch(facecolor=colour, label=label(column, lang)))
        if "fund_balance" in ts.columns:
            ax.plot(steps, ts["fund_balance"], color="black", linewidth=1.2)
            used.setdefault("fund_balance", matplotlib.lines.Line2D([], [], color="black", linewidth=1.2,
                                                                   label=kpi_label("fund_balance", lang)))
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xlim(steps.min() - 0.5, steps.max() + 0.5)
        scale = value_scale("fund_inflow_run", lang)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _, scale=scale: thousands(v / scale)))
        ax.set_title(wrap(title, lang, 40 if width == "double" or ncols == 1 else 22))
        if i % ncols == 0:
            ax.set_ylabel(wrap(term("fund_cumulative", lang) + bracket(display_unit("fund_inflow_run", lang), lang),
                               lang, 44))
        ax.set_xlabel(term("step", lang))
    order = [c for c, _, _ in layers] + ["fund_balance"]
    handles = [used[c] for c in order if c in used]
    sub.legend(handles, [wrap(h.get_label(), lang, 40) for h in handles], loc="outside lower center",
               ncol=1 if width == "single" else 2, frameon=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m experiments.plot",
        description="Plot one run of `python -m sim` (or up to 8 side by side): the key indicators over the weeks "
                    "against the plan targets, and the fund's cumulative income by source and spending by use.",
        epilog="examples:\n  python -m experiments.plot results/my_run\n"
               "  python -m experiments.plot results/a results/b --lang zh --width single --pdf",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run folders (hydra.run.dir of python -m sim)")
    ap.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the labels")
    ap.add_argument("--width", choices=tuple(WIDTHS_MM), default="double",
                    help="a journal's single column (85 mm) or the full page (double, 175 mm; default)")
    ap.add_argument("--greyscale", action="store_true", help="greys instead of the colour-blind-safe palette")
    ap.add_argument("--pdf", action="store_true", help="also save a PDF")
    ap.add_argument("--out", metavar="DIR", help="output folder (default: RUN_DIR/figures for one run, "
                                                 "./run_figures for several)")
    ap.add_argument("--name", default="run", help="file name of the figure, without extension (default: run)")
    ap.add_argument("--dpi", type=int, default=PAPER_DPI, help=f"resolution of the PNG (default: {PAPER_DPI})")
    args = ap.parse_args(argv)
    paths = [Path(p) for p in args.run_dirs]
    try:
        if len(paths) > MAX_RUNS:
            raise PlotError(f"at most {MAX_RUNS} runs in one figure, not {len(paths)}; for a sweep use "
                            "`python -m experiments.compare`")
        runs = [load_run(p) for p in paths]
        setup_theme(args.lang, paper=True)
    except (PlotError, FontError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else (paths[0] / "figures" if len(paths) == 1 else Path("run_figures"))
    out.mkdir(parents=True, exist_ok=True)
    fig = plot_runs(runs, args.lang, args.width, args.greyscale, warmup=warmup_weeks(paths[0]))
    saved = save_figure(fig, out, args.name, args.pdf, dpi=args.dpi)
    print("wrote " + ", ".join(str(p) for p in saved))
    return 0


if __name__ == "__main__":
    sys.exit(main())
