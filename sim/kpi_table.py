"""How indicator values are written, and the command line's KPI table against the plan targets.

:func:`format_value` is the one value formatter of the project: the command line's table (below),
the analysis reports and charts (experiments/, through experiments.presentation) and the workshop
dashboard all write numbers with it.  Labels come from sim/glossary.py, targets from
sim/indicators.py.
"""

from __future__ import annotations

import math

from sim.glossary import COLUMNS, label
from sim.indicators import TARGETS_BY_KEY


def is_fraction(key: str) -> bool:
    """True for indicators measured as a fraction (shown in per cent)."""
    target = TARGETS_BY_KEY.get(key)
    return (key in COLUMNS and COLUMNS[key][2] == "fraction") or (target is not None and target.unit == "fraction")


def is_money(key: str) -> bool:
    """True for amounts of money (yuan)."""
    return key in COLUMNS and COLUMNS[key][2].startswith("yuan")


def format_value(key: str, value: float | None, diff: bool = False, lang: str = "en", *,
                 decimals: int | None = None, yuan: bool = False) -> str:
    """A value as people read it, by what ``key`` measures.

    Missing values are "—"; fractions are written in per cent ("87.6 %"), a difference of two fractions
    (``diff=True``) in percentage points; whole numbers with thousands separators ("2,500"); with
    ``yuan=True``, money as whole yuan ("¥12,346").  ``decimals`` fixes the decimals of per cents and of
    other numbers (tables and the dashboard use 1); without it, per cents keep 3 significant digits and
    other numbers 4 (analysis reports, where values of very different sizes meet).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if is_fraction(key):
        number = f"{100 * value:.3g}" if decimals is None else f"{100 * value:.{decimals}f}"
        return f"{number} {label('pp', lang)}" if diff else f"{number} %"
    if yuan and is_money(key):
        return f"¥{value:,.0f}"
    if float(value).is_integer():
        return f"{int(value):,}"
    if decimals is None:
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return f"{value:,.{decimals}f}"


def format_table(report: dict, lang: str = "en") -> str:
    """A plain-text table of a run's KPI report (``kpis.json``) against the plan targets."""
    rows = [(label("indicator", lang), label("value", lang), label("target", lang), label("met", lang))]
    for key, r in report["targets"].items():
        name = label(key, lang)
        num = f"#{r['enyang_indicator']} " if r["enyang_indicator"] else ""
        tgt = f"{r['op']} {format_value(key, r['target'], decimals=1)}"
        ok = "—" if r["met"] is None else label("yes" if r["met"] else "no", lang)
        rows.append((num + name, format_value(key, r["value"], decimals=1), tgt, ok))
    tot = report["totals"]
    rows.append((label("fund_in_total_run", lang), f"{tot['fund_inflow_run']:,.2f} ¥", "", ""))
    rows.append((label("fund_out_total_run", lang), f"{tot['fund_outflow_run']:,.2f} ¥", "", ""))
    rows.append((label("fund_balance", lang), f"{tot['fund_balance']:,.2f} ¥", "", ""))

    def width(s: str) -> int:  # CJK characters take two columns in a terminal
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    widths = [max(width(r[i]) for r in rows) for i in range(4)]
    lines = []
    for k, r in enumerate(rows):
        cells = [r[0] + " " * (widths[0] - width(r[0]))] + [" " * (widths[i] - width(r[i])) + r[i]
                                                            for i in range(1, 4)]
        lines.append("  ".join(cells))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
