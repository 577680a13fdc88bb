"""The charts of the workshop page (plotly) and of its PNG exports (matplotlib/seaborn), all text in ``lang``.

Scenario A is blue with a solid line, B orange with a dashed one (seaborn's colour-blind palette),
so the two stay apart in greyscale too.  The plan targets are dotted lines.  Besides the key indicators,
the page shows the linkage at work: who answered residents' demands (community and grid workers,
volunteers, organisations, departments), the public cost by kind, and the project round (projects
running, sessions), A and B on one scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dashboard.indicators import axis_unit, fund_totals, opening_balance, series, smoothed, target_text
from dashboard.session import SIDES
from sim.model.fund import INFLOW_SOURCES, OUTFLOW_USES
from sim.model.indicators import KEY_INDICATORS, TARGETS_BY_KEY
from sim.model.record import PUBLIC_COSTS
from sim.tables.glossary import label, preset_label
from sim.tables.kpi_table import is_fraction

if TYPE_CHECKING:  # matplotlib is imported where a PNG is drawn: the page's start-up does not pay for it (0.3 s)
    from matplotlib.figure import Figure

# Scenario colours (seaborn's colour-blind palette: blue, orange) and line styles, distinct in greyscale.
COLORS = {"A": "#0173B2", "B": "#DE8F05"}
PLOTLY_DASH = {"A": "solid", "B": "dash"}
MPL_LINESTYLE = {"A": "-", "B": "--"}
# The page's font list: Streamlit's bundled Latin font, then the system's CJK fonts (no web fonts).
FONT_STACK = ('"Source Sans", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
              'sans-serif')


# ---------------------------------------------------------------------------------------------
# Plotly figures for the page
# ---------------------------------------------------------------------------------------------
# A small white template: plotly's own ("plotly_white") takes most of the time of building a figure.
_TEMPLATE = {"layout": {
    "plot_bgcolor": "white", "paper_bgcolor": "white", "colorway": [COLORS["A"], COLORS["B"]],
    "xaxis": {"gridcolor": "#EBEBEB", "zeroline": False, "linecolor": "#BBBBBB", "ticks": "outside",
              "tickcolor": "#BBBBBB", "automargin": True},
    "yaxis": {"gridcolor": "#EBEBEB", "zeroline": False, "automargin": True},
}}


def _figure(data: list[dict] | None, layout: dict):
    """A plotly figure from plain data and layout, built without plotly's per-property validation (four times
    faster; the page builds eight figures a redraw).  tests/test_dashboard.py checks that every figure of the
    page equals its validated rebuild."""
    import plotly.graph_objects as go

    return go.Figure(data=data, layout=layout, _validate=False)


def _layout(title: str, height: int = 340, **extra: Any) -> dict:
    return {"template": _TEMPLATE, "title": {"text": title, "font": {"size": 15}}, "height": height,
            "font": {"family": FONT_STACK, "size": 13}, "margin": {"l": 10, "r": 10, "t": 48, "b": 20},
            "legend": {"orientation": "h", "yanchor": "top", "y": -0.28, "x": 0},
            "hoverlabel": {"font": {"family": FONT_STACK}}, **extra}


def _axes(key: str, lang: str) -> dict:
    """x (weeks) and y (the indicator, with its unit) axes, and the plan target as a dotted line."""
    out: dict[str, Any] = {
        "xaxis": {"title": {"text": label("step", lang)}},
        "yaxis": {"title": {"text": axis_unit(key, lang)}, "tickformat": ".0%" if is_fraction(key) else ",",
                  "rangemode": "normal" if is_fraction(key) else "tozero"},
    }
    t = TARGETS_BY_KEY.get(key)
    if t is not None:
        out["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": t.value,
                          "y1": t.value, "line": {"dash": "dot", "color": "#333333", "width": 1}}]
        out["annotations"] = [{"text": target_text(key, lang), "xref": "paper", "x": 0, "xanchor": "left",
                               "yref": "y", "y": t.value, "yanchor": "bottom", "showarrow": False,
                               "font": {"size": 11}}]
    return out


def _hover(key: str, title: str, name: str, lang: str) -> str:
    fmt = "%{y:.1%}" if is_fraction(key) else "%{y:,.1f}"
    return f"{label('step', lang)} %{{x}}<br>{title}: {fmt}<extra>{name}</extra>"


Events = Sequence[tuple[int, str, str]]  # lever changes: (week after which in force, side, text)


def _event_marks(layout: dict, events: Events) -> dict:
    """``layout`` with a vertical line at each lever change (between its week and the next, in the side's colour)
    marked above the plot with the side and the first week it is in force ("B ▸ 53"); the whole change is the
    mark's hover text (the page lists the changes in full above the charts)."""
    if not events:
        return layout
    shapes, notes = list(layout.get("shapes", [])), list(layout.get("annotations", []))
    for week, side, text in events:
        x = week + 0.5
        color = COLORS.get(side, "#333333")
        shapes.append({"type": "line", "xref": "x", "x0": x, "x1": x, "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"color": color, "width": 1.5, "dash": "dashdot"}})
        notes.append({"text": f"{side} ▸ {week + 1}", "hovertext": text, "xref": "x", "x": x, "xanchor": "center",
                      "yref": "paper", "y": 1, "yanchor": "bottom", "showarrow": False,
                      "font": {"size": 12, "color": color}})
    return {**layout, "shapes": shapes, "annotations": notes}


def _trajectory_lines(ts: pd.DataFrame, key: str, names: dict[str, str], lang: str,
                      smoothing: int) -> list[tuple[str, str, list, list, list | None, str | None]]:
    """Per side: (side, name, weeks, values, week-by-week values, their name). A weekly rate is its value over the
    last ``smoothing`` weeks (dashboard.indicators.smoothed), named so, with the week-by-week line beside it;
    another indicator is its values alone (the last two None)."""
    out = []
    for side in SIDES:
        d = ts[ts["scenario"] == side] if len(ts) else ts
        name = names.get(side, side)
        smooth = smoothed(d, key, smoothing) if len(d) else None
        x, raw = (d["step"].tolist(), series(d, key).tolist()) if len(d) else ([], [])
        if smooth is None:
            out.append((side, name, x, raw, None, None))
        else:
            out.append((side, f"{name} · {label('smoothed_weeks', lang, weeks=smoothing)}", x, smooth.tolist(), raw,
                        f"{name} · {label('weekly', lang)}"))
    return out


def trajectory_figure(ts: pd.DataFrame, key: str, names: dict[str, str], lang: str = "en", events: Events = (),
                      smoothing: int = 0, large: bool = False):
    """One indicator over the weeks, A and B on the same axes, with the plan target (dotted) and the lever
    changes made during the run (``events``, dash-dot lines).  A weekly rate is drawn over the last ``smoothing``
    weeks (dashboard.indicators.smoothed) with the week-by-week line faint behind it.  ``large``: projector type."""
    title = label(key, lang)
    data = []
    for side, name, x, y, raw, raw_name in _trajectory_lines(ts, key, names, lang, smoothing):
        if raw is not None:
            data.append({"type": "scatter", "mode": "lines", "name": raw_name, "x": x, "y": raw, "showlegend": False,
                         "opacity": 0.25, "line": {"color": COLORS[side], "width": 1}, "hoverinfo": "skip"})
        line = {"color": COLORS[side], "dash": PLOTLY_DASH[side], "width": 2.6 if large else 2.2}
        data.append({"type": "scatter", "mode": "lines", "name": name, "x": x, "y": y, "line": line,
                     "hovertemplate": _hover(key, title, name, lang)})
    layout = _event_marks(_layout(title, **_axes(key, lang)), events)
    return _figure(data, _large(layout) if large else layout)


def _plain(values) -> list:
    """Numbers for the browser: a missing value (NaN) becomes null, a gap in the line."""
    return [None if v != v else float(v) for v in values]


def trajectory_spec(ts: pd.DataFrame, key: str, names: dict[str, str], lang: str = "en", events: Events = (),
                    smoothing: int = 0, large: bool = False) -> dict:
    """The trajectory chart of :func:`trajectory_figure` as plain data for the page's live chart
    (dashboard/live_chart.js draws it in the browser, no plotly): the same title, axes, plan target, lever
    changes and lines (a weekly rate over the last ``smoothing`` weeks, the week-by-week line faint)."""
    lines = [{"side": side, "color": COLORS[side], "dash": PLOTLY_DASH[side], "name": name, "x": x, "y": _plain(y),
              "raw": None if raw is None else _plain(raw)}
             for side, name, x, y, raw, _raw_name in _trajectory_lines(ts, key, names, lang, smoothing)]
    t = TARGETS_BY_KEY.get(key)
    return {"key": key, "title": label(key, lang), "x_title": label("step", lang), "y_title": axis_unit(key, lang),
            "percent": bool(is_fraction(key)), "from_zero": not is_fraction(key),
            "target": None if t is None else {"value": float(t.value), "text": target_text(key, lang)},
            "events": [{"x": week + 0.5, "text": f"{side} ▸ {week + 1}", "hover": text,
                        "color": COLORS.get(side, "#333333")} for week, side, text in events],
            "lines": lines, "large": bool(large), "font": FONT_STACK,
            "font_size": LARGE_FONT if large else 13, "height": 470 if large else 340}


LARGE_FONT = 18  # px: chart text on a projector (presentation mode)


def _large(layout: dict) -> dict:
    """``layout`` in projector type: every text at least LARGE_FONT px."""
    out = {**layout, "font": {**layout.get("font", {}), "size": LARGE_FONT}, "height": 470,
           "title": {**layout.get("title", {}), "font": {"size": LARGE_FONT + 4}}}
    if layout.get("annotations"):
        out["annotations"] = [{**a, "font": {**a.get("font", {}), "size": LARGE_FONT}} for a in layout["annotations"]]
    for axis in ("xaxis", "yaxis"):
        ax = dict(layout.get(axis, {}))
        ax["tickfont"] = {"size": LARGE_FONT}
        if "title" in ax:
            ax["title"] = {**ax["title"], "font": {"size": LARGE_FONT}}
        out[axis] = ax
    out["legend"] = {**layout.get("legend", {}), "font": {"size": LARGE_FONT}}
    return out


def difference_figure(ts: pd.DataFrame, key: str, lang: str = "en", events: Events = (), smoothing: int = 0,
                      large: bool = False):
    """B − A of one indicator week by week (the same seed: the difference the levers make), a weekly rate over
    the last ``smoothing`` weeks, with a zero line."""
    title = label("difference_title", lang, indicator=label(key, lang))
    sides = {side: ts[ts["scenario"] == side].reset_index(drop=True) if len(ts) else ts for side in SIDES}
    values = {}
    for side, d in sides.items():
        smooth = smoothed(d, key, smoothing) if len(d) else None
        values[side] = smooth if smooth is not None else (series(d, key) if len(d) else pd.Series(dtype=float))
    diff = (values["B"] - values["A"]).tolist() if len(sides["A"]) else []
    x = sides["A"]["step"].tolist() if len(sides["A"]) else []
    axes = _axes(key, lang)
    axes.pop("shapes", None)
    axes.pop("annotations", None)
    axes["yaxis"] = {**axes["yaxis"], "rangemode": "normal", **({"tickformat": ".1%"} if is_fraction(key) else {})}
    layout = {**_layout(title, **axes), "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y",
                                                    "y0": 0, "y1": 0, "line": {"color": "#333333", "width": 1}}]}
    data = [{"type": "scatter", "mode": "lines", "name": "B − A", "x": x, "y": diff, "fill": "tozeroy",
             "line": {"color": "#CC78BC", "width": 2.4}, "fillcolor": "rgba(204,120,188,0.2)",
             "hovertemplate": _hover(key, title, "B − A", lang)}]
    layout = _event_marks(layout, events)
    return _figure(data, _large(layout) if large else layout)


FUND_IN_COLORS = ["#949494", "#0173B2", "#56B4E9", "#029E73", "#CC78BC", "#CA9161", "#FBAFE4", "#ECE133",
                  "#D55E00"]
FUND_OUT_COLORS = ["#D55E00", "#DE8F05", "#CC78BC", "#029E73", "#56B4E9", "#CA9161", "#FBAFE4", "#0173B2",
                   "#949494"]


def fund_flow_parts(ts: pd.DataFrame, lang: str = "en") -> tuple[dict, dict, float]:
    """The fund's money over the weeks shown, per side: income (the balance at week 1, then each source) and
    spending (each use, then the balance kept), label → side → yuan, sources and uses with no money left out;
    and the longest side's total.  For each side, balance at week 1 + Σ income = Σ spending + balance kept."""
    income: dict[str, dict[str, float]] = {}
    spending: dict[str, dict[str, float]] = {}
    total = 0.0
    for side in SIDES:
        d = ts[ts["scenario"] == side] if len(ts) else ts
        inflows, outflows, balance = fund_totals(d)
        opening = opening_balance(d)
        total = max(total, opening + sum(inflows.values()))
        for parts, amounts in ((income, {"opening_balance_node": opening, **inflows}),
                               (spending, {**outflows, "balance_node": balance})):
            for key, value in amounts.items():
                parts.setdefault(key, dict.fromkeys(SIDES, 0.0))[side] = value
    keep = {k: v for k, v in income.items() if any(v.values())}, {k: v for k, v in spending.items() if any(v.values())}
    return ({label(k, lang): v for k, v in keep[0].items()}, {label(k, lang): v for k, v in keep[1].items()}, total)


def fund_flow_figures(ts: pd.DataFrame, names: dict[str, str], lang: str = "en") -> dict[str, Any]:
    """The fund's income by source and spending by use over the weeks shown, A and B as stacked bars on one scale
    (both charts share their axis: a yuan is as long in A as in B, and in income as in spending)."""
    income, spending, total = fund_flow_parts(ts, lang)
    out = {}
    for kind, parts, colors in (("in", income, FUND_IN_COLORS), ("out", spending, FUND_OUT_COLORS)):
        out[kind] = _bars(label("inflows" if kind == "in" else "outflows", lang), parts, names, label("yuan", lang),
                          colors, prefix="¥", x_max=total * 1.03 if total > 0 else None,
                          note=None if total > 0 else label("no_money", lang),
                          entries=max(len(income), len(spending)))
    return out


LEGEND_ROW_PX = 24  # the height of one more legend entry below a bar chart (one entry a row at half width)


def _bars(title: str, parts: dict[str, dict[str, float]], names: dict[str, str], unit: str, colors: list[str],
          prefix: str = "", x_max: float | None = None, note: str | None = None, entries: int | None = None):
    """Horizontal stacked bars, one per scenario (A above B), on one scale: ``parts`` = label → side → value.

    The unit is in the hover text (and ``prefix``, e.g. ¥, on the ticks): an axis title would collide with the
    legend below the chart. ``entries``: legend entries to make room for (default: this chart's; charts shown
    side by side pass the larger count, so that they keep one height)."""
    ys = [names.get(side, side) for side in SIDES]
    data = []
    for (text, values), color in zip(parts.items(), colors, strict=False):
        data.append({"type": "bar", "orientation": "h", "name": text, "y": ys,
                     "x": [values[side] for side in SIDES], "marker": {"color": color},
                     "hovertemplate": f"%{{y}}<br>{text}: {prefix}%{{x:,.0f}} {unit}<extra></extra>"})
    xaxis = {"tickformat": ",", "tickprefix": prefix, "rangemode": "tozero"}
    if x_max:
        xaxis["range"] = [0, x_max]
    # a taller chart for a longer legend: the legend, below the axis, takes its room from the plot area, and with
    # the fund's seven sources on a half-width chart the bars were squeezed until the legend hid the axis' ticks
    height = 300 + LEGEND_ROW_PX * max(0, (entries or len(parts)) - 4)
    layout = _layout(title, height=height, barmode="stack", xaxis=xaxis, yaxis={"autorange": "reversed"})
    if note:
        layout["annotations"] = [{"text": note, "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper",
                                  "yref": "paper"}]
    layout["legend"] = {**layout["legend"], "y": -0.35, "traceorder": "normal"}
    return _figure(data, layout)


HANDLERS = {"handler_community_staff": "demands_to_community_staff", "handler_volunteers": "demands_to_volunteers",
            "handler_organisations": "demands_to_organisations", "handler_departments": "demands_escalated"}
HANDLER_COLORS = ["#029E73", "#56B4E9", "#CC78BC", "#949494"]
COST_COLORS = ["#029E73", "#56B4E9", "#CC78BC", "#CA9161", "#D55E00", "#949494"]
LINKAGE_ENTRIES = max(len(HANDLERS), len(PUBLIC_COSTS))  # the two bar charts side by side keep one height


def handlers_figure(ts: pd.DataFrame, names: dict[str, str], lang: str = "en"):
    """Who answered the residents' demands in the last 52 weeks (community and grid workers first, volunteers
    assisting, organisations for professional demands, departments for structural ones), A and B."""
    by_side = {side: ts[ts["scenario"] == side].tail(52) if len(ts) else ts for side in SIDES}
    parts = {label(term, lang): {side: float(d[col].sum()) if len(d) else 0.0 for side, d in by_side.items()}
             for term, col in HANDLERS.items()}
    return _bars(label("handlers_title", lang), parts, names, label("unit:demands", lang), HANDLER_COLORS,
                 entries=LINKAGE_ENTRIES)


def cost_figure(ts: pd.DataFrame, names: dict[str, str], lang: str = "en"):
    """Public cost by kind (fund grant, matching, moral bank, venture philanthropy, purchase, social workers'
    wages) summed over the weeks so far, A and B."""
    by_side = {side: ts[ts["scenario"] == side] if len(ts) else ts for side in SIDES}
    parts = {label(f"cost_{kind}", lang): {side: float(d[f"public_cost_{kind}"].sum()) if len(d) else 0.0
                                           for side, d in by_side.items()} for kind in PUBLIC_COSTS}
    return _bars(label("cost_title", lang), parts, names, label("yuan", lang), COST_COLORS, prefix="¥",
                 entries=LINKAGE_ENTRIES)


# Where volunteers and residents act, from the model's weekly columns (glossary key of the bar -> column)
VOLUNTEER_ACTS = {"volunteer_activities": "volunteer_activities", "casual_activities": "casual_activities",
                  "member_activities": "member_activities", "project_sessions": "project_sessions",
                  "act_answered": "demands_to_volunteers"}
VOLUNTEER_COLORS = ["#56B4E9", "#0173B2", "#029E73", "#CC78BC", "#949494"]


def volunteers_figure(ts: pd.DataFrame, names: dict[str, str], lang: str = "en"):
    """Where volunteers and residents act in the last 52 weeks, A and B: registered volunteers' activities,
    unregistered residents' activities, self-organisations' mutual aid, project sessions, and the demands the
    work-order system passed to volunteers (often none: the demands chart's volunteer bar is then empty)."""
    by_side = {side: ts[ts["scenario"] == side].tail(52) if len(ts) else ts for side in SIDES}
    parts = {label(term, lang): {side: float(d[col].sum()) if len(d) else 0.0 for side, d in by_side.items()}
             for term, col in VOLUNTEER_ACTS.items()}
    return _bars(label("volunteers_title", lang), parts, names, label("unit:times", lang), VOLUNTEER_COLORS,
                 entries=LINKAGE_ENTRIES)


def linkage_figures(ts: pd.DataFrame, names: dict[str, str], lang: str = "en", events: Events = ()) -> dict[str, Any]:
    """The linkage at work: demand handlers, where volunteers act, public cost by kind, projects running and project
    sessions."""
    return {"handlers": handlers_figure(ts, names, lang), "volunteers": volunteers_figure(ts, names, lang),
            "cost": cost_figure(ts, names, lang),
            "projects_running": trajectory_figure(ts, "projects_running", names, lang, events),
            "project_sessions": trajectory_figure(ts, "project_sessions", names, lang, events)}


def band_figure(summary: pd.DataFrame, key: str, names: dict[str, str], n: int | str, lang: str = "en"):
    """Replicates of one indicator: mean line and 95 % confidence band per scenario."""
    rows = summary[summary["indicator"] == key]
    title = label(key, lang)
    data = []
    for side in SIDES:
        d = rows[rows["scenario"] == side].sort_values("step")
        name = names.get(side, side)
        r, g, b = (int(COLORS[side][i:i + 2], 16) for i in (1, 3, 5))
        data.append({"type": "scatter", "x": d["step"].tolist() + d["step"].tolist()[::-1],
                     "y": d["high"].tolist() + d["low"].tolist()[::-1], "fill": "toself",
                     "fillcolor": f"rgba({r},{g},{b},0.2)", "line": {"width": 0}, "hoverinfo": "skip",
                     "name": f"{name} · {label('band', lang)}", "legendgroup": side})
        data.append({"type": "scatter", "mode": "lines", "x": d["step"].tolist(), "y": d["mean"].tolist(),
                     "name": f"{name} · {label('mean', lang)}", "legendgroup": side,
                     "line": {"color": COLORS[side], "dash": PLOTLY_DASH[side], "width": 2.2},
                     "hovertemplate": _hover(key, title, f"{name} · {label('mean', lang)}", lang)})
    layout = _layout(label("band_title", lang, indicator=title, n=n), height=360, **_axes(key, lang))
    layout["legend"] = {**layout["legend"], "y": -0.3}
    return _figure(data, layout)


# ---------------------------------------------------------------------------------------------
# Matplotlib figures for the PNG exports (drawn under experiments.presentation's theme, see export.py)
# ---------------------------------------------------------------------------------------------
def _value_axis(ax, key: str, lang: str) -> None:
    """Title, axis labels, per-cent or thousands ticks and the plan target of one indicator's panel."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

    if is_fraction(key):
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    else:  # counts, yuan and people per 10,000: whole-number ticks (never "0, 0, 1, 2, 2" for 0, 0.5, …, 2)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    t = TARGETS_BY_KEY.get(key)
    if t is not None:
        ax.axhline(t.value, color="black", linestyle=(0, (4, 3)), linewidth=1.0, zorder=1)
        ax.annotate(target_text(key, lang), xy=(0.01, t.value), xycoords=("axes fraction", "data"),
                    fontsize=8, va="bottom", ha="left")
    ax.set_title(label(key, lang))
    ax.set_xlabel(label("step", lang))
    ax.set_ylabel(axis_unit(key, lang))


def _scenario_legend(fig: Figure, names: dict[str, str]) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=COLORS[s], linestyle=MPL_LINESTYLE[s], linewidth=2) for s in SIDES]
    fig.legend(handles, [names.get(s, s) for s in SIDES], loc="outside lower center", ncol=2, frameon=False)


def _subtitle(ts: pd.DataFrame, steps: int | None, lang: str) -> str:
    """'<community> · Seed 7 · Week 6 of 10' of a comparison's table."""
    if not len(ts):
        return label("week_of", lang, week=0, steps=steps or 0)
    week = int(ts["step"].max())
    community = preset_label("community", str(ts["community"].iloc[0]), lang)
    return (f"{community} · {label('seed', lang)} {int(ts['seed'].iloc[0])} · "
            f"{label('week_of', lang, week=week, steps=steps or week)}")


def indicators_chart(ts: pd.DataFrame, names: dict[str, str], lang: str = "en", steps: int | None = None,
                     events: Events = ()) -> Figure:
    """The key indicators of A and B over the weeks, one panel each, with the plan targets and the lever changes
    (``events``: dash-dot lines, listed under the title).  Weeks are whole: the ticks are integers."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(13, 7.6), layout="constrained")
    for ax, key in zip(fig.subplots(2, 3).flat, KEY_INDICATORS, strict=True):
        for side in SIDES:
            d = ts[ts["scenario"] == side]
            ax.plot(d["step"], series(d, key), color=COLORS[side], linestyle=MPL_LINESTYLE[side], linewidth=1.6)
        for week, side, _text in events:
            ax.axvline(week + 0.5, color=COLORS.get(side, "#333333"), linestyle="-.", linewidth=1.2)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _value_axis(ax, key, lang)
    _scenario_legend(fig, names)
    title = f"{label('trajectories', lang)}\n{_subtitle(ts, steps, lang)}"
    if events:
        title += "\n" + "; ".join(text for _w, _s, text in events)
    fig.suptitle(title, fontweight="bold")
    return fig


def fund_chart(ts: pd.DataFrame, names: dict[str, str], lang: str = "en", steps: int | None = None) -> Figure:
    """Fund income by source (after the balance at week 1) and spending by use (and the balance kept) over the
    weeks shown, A and B as stacked bars."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(13, 5.2), layout="constrained")
    ax_in, ax_out = fig.subplots(1, 2, sharex=True)
    amounts = {}
    for s in SIDES:
        d = ts[ts["scenario"] == s]
        inflows, outflows, balance = fund_totals(d)
        amounts[s] = {"opening_balance_node": opening_balance(d), **inflows, **outflows, "balance_node": balance}
    ylabels = [names.get(s, s) for s in SIDES]
    grey = ("opening_balance_node", "balance_node")
    import seaborn as sns  # here, not at the top: the page's start-up does not pay for seaborn

    for ax, keys, title in (
            (ax_in, ("opening_balance_node", *INFLOW_SOURCES), label("inflows", lang)),
            (ax_out, (*OUTFLOW_USES, "balance_node"), label("outflows", lang))):
        palette = sns.color_palette("colorblind", len(keys))
        left = np.zeros(len(SIDES))
        for i, k in enumerate(keys):
            vals = np.array([amounts[s][k] for s in SIDES])
            if not vals.any():
                continue
            ax.barh(ylabels, vals, left=left, color=palette[i] if k not in grey else "#BBBBBB",
                    label=label(k, lang), edgecolor="white")
            left += vals
        ax.set_title(title)
        ax.set_xlabel(label("yuan", lang))
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
    fig.suptitle(f"{label('fund_flows', lang)}\n{_subtitle(ts, steps, lang)}", fontweight="bold")
    return fig


def replicates_chart(summary: pd.DataFrame, names: dict[str, str], n: int | str, lang: str = "en") -> Figure:
    """Mean and 95 % confidence band of A and B over the seeds, one panel per key indicator."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(13, 7.6), layout="constrained")
    for ax, key in zip(fig.subplots(2, 3).flat, KEY_INDICATORS, strict=True):
        data = summary[summary["indicator"] == key]
        for side in SIDES:
            d = data[data["scenario"] == side].sort_values("step")
            ax.fill_between(d["step"], d["low"], d["high"], color=COLORS[side], alpha=0.2, linewidth=0)
            ax.plot(d["step"], d["mean"], color=COLORS[side], linestyle=MPL_LINESTYLE[side], linewidth=1.6)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _value_axis(ax, key, lang)
    _scenario_legend(fig, names)
    fig.suptitle(label("band_title", lang, indicator=label("trajectories", lang), n=n), fontweight="bold")
    return fig
