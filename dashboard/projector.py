"""Presentation mode's first screen: the B − A readout of the indicator the room watches, in projector type.

What the scenario is about (a workshop scenario's ``focus``, or the indicator chosen for the large chart) as one large
signed difference with A's and B's values and the period they cover, and under it the other quantities the scenario
watches (dashboard.workshop.Scenario.watch), each B − A.  The values are the page's key indicators at its week (rates
over the last 52 weeks, run totals over weeks 1 to now) and, for a watched run sum such as the one-cent income, the
sum of its weekly column; every word comes from the glossary.
"""

from __future__ import annotations

import html

from dashboard.indicators import RUN_TOTALS, difference_text, shown_value
from dashboard.session import SIDES, Comparison
from dashboard.workshop import RUN_SUMS
from sim.model.indicators import RATE_PARTS
from sim.tables.glossary import label as t

# projector type (px): read from the back of a room (the chart's text is figures.LARGE_FONT)
HEADLINE_PX = 26
READOUT_PX = "clamp(56px, 5.2vw, 104px)"  # the B − A number: 71 px on a 1366 px screen, 100 px on 1920
VALUES_PX = 24
WATCH_PX = 21


def _period(key: str, week: int, lang: str) -> str:
    if key in RUN_SUMS or key in RUN_TOTALS:
        return t("ws_run_total", lang, weeks=week)
    if key in RATE_PARTS:
        return t("ws_last_weeks", lang, weeks=min(52, week))
    return ""


def values(comp: Comparison, kpis: dict, key: str, lang: str) -> tuple[str, str, str]:
    """(B − A, A, B) of ``key`` as the page shows them: a key indicator from ``kpis`` (side -> KpiRows), a run sum
    (RUN_SUMS) from the weekly tables; "—" before the first week."""
    if key in RUN_SUMS:
        col = RUN_SUMS[key]
        if comp.week == 0:
            return "—", "—", "—"
        sums = {side: float(comp.timeseries(side)[col].sum()) for side in SIDES}
        shown = {side: shown_value(col, sums[side], lang, total=True) for side in SIDES}
        return difference_text(col, sums["B"] - sums["A"], lang, total=True), shown["A"], shown["B"]
    rows = {side: {row.key: row.value for row in kpis[side]} for side in SIDES}
    a, b = rows["A"].get(key), rows["B"].get(key)
    diff = None if a is None or b is None or a != a or b != b else b - a
    return difference_text(key, diff, lang), shown_value(key, a, lang), shown_value(key, b, lang)


def readout_html(comp: Comparison, kpis: dict, focus: str, watch: tuple[str, ...], lang: str) -> str:
    """The readout: ``focus``'s B − A large, A and B under it, then each other key of ``watch``."""
    diff, a, b = values(comp, kpis, focus, lang)
    period = _period(focus, comp.week, lang)
    head = t("difference_title", lang, indicator=t(focus, lang))
    parts = [f"<div class='present-head' style='font-size:{HEADLINE_PX}px;font-weight:600;line-height:1.25'>"
             f"{html.escape(head)}</div>",
             f"<div class='present-diff' style='font-size:{READOUT_PX};font-weight:700;line-height:1.1;"
             f"margin:.15em 0 .1em 0;white-space:nowrap'>{html.escape(diff)}</div>",
             f"<div class='present-values' style='font-size:{VALUES_PX}px;line-height:1.35'>"
             f"A {html.escape(a)} · B {html.escape(b)}"
             + (f"<span style='color:#555'> · {html.escape(period)}</span>" if period and comp.week else "")
             + "</div>"]
    others = [k for k in watch if k != focus]
    if others:
        items = []
        for key in others:
            d, _a, _b = values(comp, kpis, key, lang)
            items.append(f"<li>{html.escape(t(key, lang))}：<b>{html.escape(d)}</b></li>" if lang == "zh" else
                         f"<li>{html.escape(t(key, lang))}: <b>{html.escape(d)}</b></li>")
        parts.append(f"<ul class='present-watch' style='font-size:{WATCH_PX}px;line-height:1.4;margin:.6em 0 0 0;"
                     f"padding-left:1.1em'>{''.join(items)}</ul>")
    return "".join(parts)
