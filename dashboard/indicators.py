"""The key indicators of a run so far against the Enyang plan targets, and the fund's cumulative flows.

Indicators are computed as the command line's ``kpis.json`` computes them (sim/model/indicators.py: rates
over the last 52 weeks, stocks at the current week, run totals such as the public cost summed over the
weeks so far); values are written by the project's one formatter (sim/tables/kpi_table.py) and labelled from
the glossary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from sim.model.fund import INFLOW_SOURCES, OUTFLOW_USES
from sim.model.indicators import KEY_INDICATORS, RATE_PARTS, TARGETS_BY_KEY, Target, compute_kpis, met
from sim.tables.glossary import COLUMNS, GLOSSARY, label
from sim.tables.kpi_table import format_value, is_fraction, is_money

# Key indicators that are run totals (kpis.json "totals"), and the weekly column they sum.
RUN_TOTALS = {"public_cost_run": "public_cost"}
YEAR = 52  # weeks


@dataclass(frozen=True)
class KpiRow:
    """One indicator of one run: its value so far, the plan target and whether it is met.

    A run total (e.g. the public cost) has no target; ``per_year`` is its average over a year of the weeks
    run so far (total ÷ weeks × 52), so that runs of different lengths can be compared."""

    key: str
    value: float | None
    target: Target | None
    met: bool | None
    per_year: float | None = None


def key_indicators(ts: pd.DataFrame, keys: Sequence[str] = KEY_INDICATORS) -> list[KpiRow]:
    """Key indicators of one run so far (as the CLI's kpis.json computes them), with targets and met/not met."""
    kpis = compute_kpis(ts) if len(ts) else {}
    rows = []
    for key in keys:
        value = kpis.get(key)
        if isinstance(value, float) and math.isnan(value):
            value = None
        target = TARGETS_BY_KEY.get(key)
        per_year = value / len(ts) * YEAR if key in RUN_TOTALS and value is not None else None
        rows.append(KpiRow(key, value, target, met(target, value) if target and value is not None else None,
                           per_year))
    return rows


def weekly_column(key: str) -> str:
    """The weekly column an indicator is read from (a run total: the column it sums)."""
    return RUN_TOTALS.get(key, key)


def series(ts: pd.DataFrame, key: str) -> pd.Series:
    """An indicator week by week: its column, or for a run total the running sum of its weekly column."""
    if key in RUN_TOTALS:
        return ts[RUN_TOTALS[key]].cumsum()
    return ts[key]


# The weekly rates and what they are the ratio of (sim/model/indicators.py): smoothed as the ratio of rolling sums, so
# that a smoothed rate is the rate over the window (a quiet week weighs less than a busy one).
# (RATE_PARTS: the one definition, in sim/model/indicators.py)
SMOOTHING_WEEKS = (4, 13)  # the window the page lets a trainer choose (weeks), default DEFAULT_SMOOTHING
DEFAULT_SMOOTHING = 8


def smoothed(ts: pd.DataFrame, key: str, weeks: int) -> pd.Series | None:
    """A weekly rate over the last ``weeks`` weeks at each week (Σ numerator ÷ Σ denominator; the first weeks
    use the weeks there are), or None if ``key`` is not a weekly rate."""
    if key not in RATE_PARTS or weeks <= 1:
        return None
    num, dens = RATE_PARTS[key]
    top = ts[num].rolling(weeks, min_periods=1).sum()
    bottom = sum(ts[d].rolling(weeks, min_periods=1).sum() for d in dens)
    return (top / bottom.where(bottom > 0)).astype(float)


def shown_value(key: str, value: float | None, lang: str = "en", decimals: int = 1, total: bool = False) -> str:
    """A value as the page shows it: fractions in per cent, money in whole yuan, counts (sim.tables.kpi_table).

    Money summed over the run (RUN_TOTALS, or ``total``) is shown from ¥10,000 to the nearest ¥10 (from ¥100,000 to
    the nearest ¥100): a room compares sums of money, and fen or yuan in a six-figure total only slow it down
    (the model pays a purchase budget to the fen: ¥200,000 a year is ¥1,000,000 over five years)."""
    column = weekly_column(key)
    total = total or key in RUN_TOTALS
    if total and value is not None and value == value and is_money(column) and abs(value) >= 10_000:
        value = float(round(value, -2 if abs(value) >= 100_000 else -1))
    return format_value(column, value, lang=lang, decimals=decimals, yuan=True)


def target_text(key: str, lang: str = "en") -> str:
    """'Target ≥ 2,500' (or 'no plan target')."""
    t = TARGETS_BY_KEY.get(key)
    if t is None:
        return label("no_target", lang)
    op = {">=": "≥", "==": "="}.get(t.op, t.op)
    return f"{label('target', lang)} {op} {shown_value(key, t.value, lang, decimals=0)}"


def verdict_text(row: KpiRow, lang: str = "en") -> str:
    """'✓ met · Target ≥ 95.0 %', '✗ not met · …', the target alone when there is no value or target, or a run
    total's yearly average ('¥80,000 a year · no plan target')."""
    if row.per_year is not None:
        amount = shown_value(row.key, row.per_year, lang)
        return f"{label('per_year', lang, amount=amount)} · {target_text(row.key, lang)}"
    if row.met is None:
        return target_text(row.key, lang)
    mark = f"✓ {label('met_yes', lang)}" if row.met else f"✗ {label('met_no', lang)}"
    return f"{mark} · {target_text(row.key, lang)}"


def axis_unit(key: str, lang: str = "en") -> str:
    """The unit of an indicator's axis, in ``lang``."""
    key = weekly_column(key)
    if is_fraction(key):
        return label("percent", lang)
    if is_money(key):
        return label("yuan", lang)
    if key == "volunteers_per_10k":
        return label("unit_per_10k", lang)
    if key.startswith("social_orgs"):
        return label("unit_orgs", lang)
    unit = COLUMNS[key][2] if key in COLUMNS else ""
    return label(f"unit:{unit}", lang) if f"unit:{unit}" in GLOSSARY else unit


def opening_balance(ts: pd.DataFrame) -> float:
    """The fund's balance when the record started (at the start of week 1, after the warm-up), in yuan.

    Read from the first week's row: its closing balance less that week's income plus its spending."""
    if not len(ts):
        return 0.0
    first = ts.iloc[0]
    return round(float(first["fund_balance"] - first["fund_inflow_total"] + first["fund_outflow_total"]), 2)


def fund_totals(ts: pd.DataFrame) -> tuple[dict[str, float], dict[str, float], float]:
    """Cumulative inflows by source and outflows by use (yuan) of the weeks shown, and the balance at the last
    week; with the balance at week 1 (:func:`opening_balance`), opening + Σ inflows = Σ outflows + balance."""
    inflows = {s: float(ts[f"fund_inflow_{s}"].sum()) if len(ts) else 0.0 for s in INFLOW_SOURCES}
    outflows = {u: float(ts[f"fund_outflow_{u}"].sum()) if len(ts) else 0.0 for u in OUTFLOW_USES}
    balance = float(ts["fund_balance"].iloc[-1]) if len(ts) else 0.0
    return inflows, outflows, balance


def difference_text(key: str, diff: float | None, lang: str, total: bool = False) -> str:
    """B − A with its sign: percentage points for rates, whole yuan for money (a run total, or ``total``, rounded as
    :func:`shown_value` rounds it), one decimal otherwise; no sign where the difference shows as zero."""
    if diff is None or diff != diff:
        return "—"
    text = shown_value(key, abs(diff), lang, total=total) if total or key in RUN_TOTALS else \
        format_value(weekly_column(key), abs(diff), diff=True, lang=lang, decimals=1, yuan=True)
    if not any(ch in "123456789" for ch in text):  # no difference as shown: no sign ("0.0 pp", not "±0.0 pp")
        return text
    return ("+" if diff > 0 else "−") + text
