"""The key indicators of a run so far against the Enyang plan targets, and the fund's cumulative flows.

Indicators are computed as the command line's ``kpis.json`` computes them (sim/indicators.py: rates
over the last 52 weeks, stocks at the current week); values are written by the project's one
formatter (sim/kpi_table.py) and labelled from the glossary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from sim.fund import INFLOW_SOURCES, OUTFLOW_USES
from sim.glossary import COLUMNS, label
from sim.indicators import KEY_INDICATORS, TARGETS_BY_KEY, Target, compute_kpis, met
from sim.kpi_table import format_value, is_fraction, is_money


@dataclass(frozen=True)
class KpiRow:
    """One indicator of one run: its value so far, the plan target and whether it is met."""

    key: str
    value: float | None
    target: Target | None
    met: bool | None


def key_indicators(ts: pd.DataFrame, keys: Sequence[str] = KEY_INDICATORS) -> list[KpiRow]:
    """Key indicators of one run so far (as the CLI's kpis.json computes them), with targets and met/not met."""
    kpis = compute_kpis(ts) if len(ts) else {}
    rows = []
    for key in keys:
        value = kpis.get(key)
        if isinstance(value, float) and math.isnan(value):
            value = None
        target = TARGETS_BY_KEY.get(key)
        rows.append(KpiRow(key, value, target, met(target, value) if target and value is not None else None))
    return rows


def shown_value(key: str, value: float | None, lang: str = "en", decimals: int = 1) -> str:
    """A value as the page shows it: fractions in per cent, money in whole yuan, counts (sim.kpi_table)."""
    return format_value(key, value, lang=lang, decimals=decimals, yuan=True)


def target_text(key: str, lang: str = "en") -> str:
    """'Target ≥ 2,500' (or 'no plan target')."""
    t = TARGETS_BY_KEY.get(key)
    if t is None:
        return label("no_target", lang)
    op = {">=": "≥", "==": "="}.get(t.op, t.op)
    return f"{label('target', lang)} {op} {shown_value(key, t.value, lang, decimals=0)}"


def verdict_text(row: KpiRow, lang: str = "en") -> str:
    """'✓ met · Target ≥ 95.0 %', '✗ not met · …', or the target alone when there is no value or target."""
    if row.met is None:
        return target_text(row.key, lang)
    mark = f"✓ {label('met_yes', lang)}" if row.met else f"✗ {label('met_no', lang)}"
    return f"{mark} · {target_text(row.key, lang)}"


def axis_unit(key: str, lang: str = "en") -> str:
    """The unit of an indicator's axis, in ``lang``."""
    if is_fraction(key):
        return label("percent", lang)
    if is_money(key):
        return label("yuan", lang)
    if key == "volunteers_per_10k":
        return label("unit_per_10k", lang)
    if key.startswith("social_orgs"):
        return label("unit_orgs", lang)
    return COLUMNS[key][2] if key in COLUMNS else ""


def fund_totals(ts: pd.DataFrame) -> tuple[dict[str, float], dict[str, float], float]:
    """Cumulative inflows by source and outflows by use (yuan), and the balance at the last week."""
    inflows = {s: float(ts[f"fund_inflow_{s}"].sum()) if len(ts) else 0.0 for s in INFLOW_SOURCES}
    outflows = {u: float(ts[f"fund_outflow_{u}"].sum()) if len(ts) else 0.0 for u in OUTFLOW_USES}
    balance = float(ts["fund_balance"].iloc[-1]) if len(ts) else 0.0
    return inflows, outflows, balance
