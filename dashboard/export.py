"""The page's downloads: a CSV of both runs, and PNG charts drawn on the server.

The charts are drawn under the analysis' theme and CJK font (experiments.presentation.themed), so a
Chinese PNG from the page looks like a Chinese chart from ``python -m experiments.compare``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboard.figures import fund_chart, indicators_chart, replicates_chart
from dashboard.levers import LEVER_OF, value_text
from dashboard.session import Comparison
from sim.tables.glossary import GLOSSARY, label, preset_label
from sim.tables.kpi_table import is_fraction

ID_COLUMNS = ("scenario", "community", "policy", "seed")


def _column_name(key: str, lang: str) -> str:
    """A column's name in ``lang``; a rate's says it is in per cent."""
    name = label(key, lang) if key in GLOSSARY else key
    return f"{name} (%)" if is_fraction(key) else name


def in_language(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``table`` as the page shows it: rates in per cent, every column named in ``lang`` (from the glossary)."""
    out = table.copy()
    for key in out.columns:
        if is_fraction(key):
            out[key] = out[key] * 100
    return out.rename(columns={key: _column_name(key, lang) for key in out.columns})


def _csv(table: pd.DataFrame) -> bytes:
    """UTF-8 with a BOM, so that Excel and WPS read Chinese."""
    return table.to_csv(index=False).encode("utf-8-sig")


def levers_in_force(comp: Comparison, side: str, lang: str) -> pd.DataFrame:
    """Side's lever values in force in each week shown (a lever moved during the run counts from the next week)."""
    values = dict(comp.initial[side].levers)
    changes = sorted((c for c in comp.changes if c.side == side), key=lambda c: c.week)
    rows = []
    for week in range(1, comp.week + 1):
        while changes and changes[0].week < week:
            values.update(changes.pop(0).changed)
        rows.append({label(LEVER_OF[k].term, lang): (value_text(LEVER_OF[k], v, lang)
                                                     if LEVER_OF[k].widget in ("toggle", "select") else v)
                     for k, v in values.items()})
    return pd.DataFrame(rows)


def comparison_csv(comp: Comparison, lang: str = "en") -> bytes:
    """CSV of both runs as the page shows them, one row per scenario and week: the scenario's name as shown
    (policy preset, "(adjusted)" if levers differ from it), the lever changes made during the run, the lever
    values in force that week, then every weekly indicator; columns named in ``lang``, rates in per cent."""
    ts = comp.timeseries()
    names = comp.names(lang)
    events = {side: "; ".join(text for _w, s, text in comp.events(lang) if s == side) for side in comp.scenarios}
    frames = []
    for side in comp.scenarios:
        part = ts[ts["scenario"] == side].reset_index(drop=True)
        front = part[list(ID_COLUMNS)].copy()
        front["policy"] = front["policy"].map(lambda p: preset_label("policy", p, lang))
        front["community"] = front["community"].map(lambda c: preset_label("community", c, lang))
        front.insert(1, "scenario_shown", names[side])
        front.insert(2, "lever_changes", events[side])
        levers = levers_in_force(comp, side, lang)
        frames.append(pd.concat([front, levers, part.drop(columns=list(ID_COLUMNS))], axis=1))
    return _csv(in_language(pd.concat(frames, ignore_index=True), lang))


def replicates_csv(reps: pd.DataFrame, names: dict[str, str], lang: str = "en") -> bytes:
    """CSV of the replicates (scenario, seed, week, indicators) with each scenario's name as shown; columns named
    in ``lang``, rates in per cent."""
    table = reps.copy()
    table.insert(1, "scenario_shown", table["scenario"].map(names))
    return _csv(in_language(table, lang))


def _png(draw, lang: str) -> bytes:
    """PNG bytes of the figure ``draw()`` makes under the project's theme in ``lang`` (experiments.presentation,
    imported here: matplotlib is loaded when a PNG is asked for, not when the page starts)."""
    from experiments.presentation import png_bytes, themed

    with themed(lang):
        return png_bytes(draw())


def indicators_png(ts: pd.DataFrame, names: dict[str, str], lang: str = "en", steps: int | None = None,
                   events: Sequence[tuple[int, str, str]] = ()) -> bytes:
    """PNG: the key indicators of A and B over the weeks, with the plan targets and the lever changes."""
    return _png(lambda: indicators_chart(ts, names, lang, steps, events), lang)


def fund_png(ts: pd.DataFrame, names: dict[str, str], lang: str = "en", steps: int | None = None) -> bytes:
    """PNG: cumulative fund income by source and spending by use of A and B."""
    return _png(lambda: fund_chart(ts, names, lang, steps), lang)


def replicates_png(summary: pd.DataFrame, names: dict[str, str], n: int | str, lang: str = "en") -> bytes:
    """PNG: mean and 95 % confidence band of A and B over the seeds."""
    return _png(lambda: replicates_chart(summary, names, n, lang), lang)
