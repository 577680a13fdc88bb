"""How indicator values are written, and the command line's KPI table against the plan targets.

:func:`format_value` is the one value formatter of the project: the command line's table (below),
the analysis reports and charts (experiments/, through experiments.presentation) and the workshop
dashboard all write numbers with it.  Labels come from sim/tables/glossary.py (sim/tables/glossary.yaml), targets
from sim/model/indicators.py.

The table (:func:`format_table`) opens with a line naming the run (community or district, policy,
seed, weeks) and ends with footnotes for what it abbreviates: ``#NN`` is the indicator's number in
专栏1 of the Enyang plan (003); a target the plan sets for the whole district is marked as such in a
single community's table instead of being judged "no"; "—" is a missing value or nothing to judge.
"""

from __future__ import annotations

import math
import textwrap

from sim.model.indicators import TARGETS_BY_KEY
from sim.tables.glossary import COLUMNS, GLOSSARY, label, preset_label

# Targets 003 专栏1 sets for the whole district, not for each community: #25, 120 social organisations
# incubated in Enyang ("district target; a single community contributes its share", sim/model/indicators.py).
# A single community's table shows its value against them but does not judge it.
DISTRICT_TARGETS = frozenset({"orgs_incubated_total"})
MISSING = "—"


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


def _name(group: str, name: str, lang: str) -> str:
    """A preset's display name, or the name itself if it is not a shipped preset."""
    return preset_label(group, name, lang) if f"{group}={name}" in GLOSSARY else name


def run_header(cfg, lang: str = "en") -> str:
    """One line naming the run: community (or district), policy, seed and weeks, from its config."""
    colon = "：" if lang == "zh" else ": "
    district = cfg.district
    if district is None:
        place = f"{label('community', lang)}{colon}{_name('community', cfg.community.name, lang)}"
    else:
        place = f"{label('district', lang)}{colon}{district.label_zh if lang == 'zh' else district.name}"
    parts = [place, f"{label('policy', lang)}{colon}{_name('policy', cfg.policy.name, lang)}",
             f"{label('seed', lang)}{colon}{cfg.seed}", f"{label('run_weeks', lang)}{colon}{cfg.steps}"]
    return "  ·  ".join(parts)


def format_table(report: dict, lang: str = "en", cfg=None) -> str:
    """A plain-text table of a run's KPI report (``kpis.json``) against the plan targets, with footnotes.

    With the run's config ``cfg`` the table opens with :func:`run_header`.  A community run's
    report judges district targets (:data:`DISTRICT_TARGETS`) not at all: a district report (one with
    a ``communities`` total) judges them.
    """
    single_community = "communities" not in report["totals"]
    rows = [(label("indicator", lang), label("value", lang), label("target", lang), label("met", lang))]
    numbered = district_only = missing = proxy = False
    for key, r in report["targets"].items():
        name = label(key, lang)
        if r.get("status") == "proxy":
            name = "≈ " + name
            proxy = True
        num = f"#{r['enyang_indicator']} " if r["enyang_indicator"] else ""
        numbered |= bool(num)
        tgt = f"{r['op']} {format_value(key, r['target'], decimals=1)}"
        if r.get("status") == "not_modelled":
            ok = label("not_modelled", lang)
        elif single_community and key in DISTRICT_TARGETS:
            ok = label("district_target", lang)
            district_only = True
        else:
            ok = MISSING if r["met"] is None else label("yes" if r["met"] else "no", lang)
        value = format_value(key, r["value"], decimals=1)
        missing |= MISSING in (value, ok)
        rows.append((num + name, value, tgt, ok))
    tot = report["totals"]
    rows.append((label("fund_in_total_run", lang), f"{tot['fund_inflow_run']:,.2f} ¥", "", ""))
    rows.append((label("fund_out_total_run", lang), f"{tot['fund_outflow_run']:,.2f} ¥", "", ""))
    rows.append((label("fund_balance", lang), f"{tot['fund_balance']:,.2f} ¥", "", ""))
    if "fund_opening_balance" in tot and tot["fund_opening_balance"] is not None:
        rows.append((label("fund_opening_balance", lang), f"{tot['fund_opening_balance']:,.2f} ¥", "", ""))
    if "public_cost_run" in tot:
        rows.append((label("public_cost_run", lang), f"{tot['public_cost_run']:,.2f} ¥", "", ""))

    def width(s: str) -> int:  # CJK characters take two columns in a terminal
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    widths = [max(width(r[i]) for r in rows) for i in range(4)]
    lines = [run_header(cfg, lang), ""] if cfg is not None else []
    for k, r in enumerate(rows):
        cells = [r[0] + " " * (widths[0] - width(r[0]))] + [" " * (widths[i] - width(r[i])) + r[i]
                                                            for i in range(1, 4)]
        lines.append("  ".join(cells))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [key for key, shown in (("kpi_note_numbers", numbered), ("kpi_note_district", district_only),
                                    ("kpi_note_missing", missing), ("kpi_note_proxy", proxy),
                                    ("kpi_note_window", True)) if shown]
    # English notes wrapped for a terminal; a Chinese note fits on one line
    footnotes = [label(key, lang) if lang == "zh" else textwrap.fill(label(key, lang), 100, subsequent_indent="  ")
                 for key in notes]
    return "\n".join([*lines, "", *footnotes])
