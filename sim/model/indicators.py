"""End-of-run indicators (KPIs) next to the Enyang plan targets (003, 专栏1).

Rates are taken over the last 52 weeks of the run (the plan's final year); stocks at the last week;
the weeks are those after the warm-up (``warmup_weeks``).  Each indicator carries its definition (as an
administration would compute it) and a status: ``modelled``, ``proxy`` (the model's nearest quantity,
its difference stated) or ``not_modelled`` (value and ``met`` null, with the reason).
A run too short for an indicator's definition (a rate or yearly share needs 52 weeks; the response
rate also needs a demand to be able to reach its response deadline) reports it as not measurable:
value and ``met`` null, with the reason, rather than a rate over too few weeks (a 1-week run
would otherwise report every demand answered in time: 100 %, "met").
This module is the one source of the targets, the six key indicators and the rate formulas; it holds
data only (``kpis.json`` carries numbers, no display labels).  How the indicators are written and
labelled is in sim/tables/kpi_table.py and sim/tables/glossary.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Target:
    key: str            # KPI key in kpis.json
    number: int | None  # row of 003 专栏1
    op: str             # ">=" or "=="
    value: float
    unit: str
    note: str = ""
    definition: str = ""    # how the model computes it (as an administration would)
    status: str = "modelled"  # modelled | proxy | not_modelled
    source: str = ""          # how the administrations define it, where the definition is published


STATUSES = ("modelled", "proxy", "not_modelled")

TARGETS = (
    Target("volunteers_per_10k", 15, ">=", 2500, "per 10,000 residents",
           definition="registered volunteers per 10,000 residents at the last week"),
    Target("volunteer_active_share_2plus", 28, ">=", 2 / 3, "fraction",
           "two-thirds of residents volunteer at least twice a year",
           definition="share of residents who volunteered (registered or not), or took part in a self-organisation's "
                      "mutual-aid activity, at least twice in the last 52 weeks; residents who only received a "
                      "project's sessions are recipients, not participants",
           source="003 专栏1 #28: 三分之二以上社区居民志愿服务参与度, 2 次 (participation in volunteer service)"),
    Target("volunteer_coverage", 13, ">=", 1.0, "fraction", "the community has a volunteer team",
           definition="not modelled: the plan's indicator is the share of a district's communities covered by "
                      "a volunteer team and volunteer service; the sources do not define a team, and one "
                      "community cannot be a share of communities", status="not_modelled"),
    Target("social_orgs_serving", 24, ">=", 2, "organisations per community",
           definition="social organisations (agencies and self-organisations) that handled a demand or ran a "
                      "project session in the last 52 weeks; the plan counts organisations per community, "
                      "the model counts those that serve (a registered-but-idle group is not counted)",
           status="proxy"),
    Target("orgs_incubated_total", 25, ">=", 120, "organisations",
           "district target; a single community contributes its share",
           definition="self-organisations formed with a station social worker's help since week 1"),
    Target("response_rate", 33, ">=", 1.0, "fraction",
           definition="work orders signed for (签收, the first response) within behaviour.response_limit_weeks "
                      "among the orders whose signing limit ended in the last 52 weeks",
           source="the hotline's 响应率/及时签收率: orders signed within 1 working day (docs/literature.md [K9][K10])"),
    Target("completion_rate", 34, ">=", 0.95, "fraction",
           definition="work orders closed resolved by their deadline (按时办结, resolved) among the orders due in the "
                      "last 52 weeks (应办结: closed on time, or whose deadline passed with the order open)",
           source="民生诉求响应完成率 (003 专栏1 #34); on time as the Sichuan limits define it (docs/literature.md "
                  "[K5]); resolved as counted by 解决率 ([K20][K22])"),
    Target("callback_satisfaction", 35, ">=", 0.95, "fraction", "satisfaction with demand response",
           definition="share saying satisfied in the callback survey (回访) of behaviour.callback_share of the orders "
                      "closed in the last 52 weeks; undefined when no order was called back",
           source="回访满意率: Sichuan calls back 56 % of closed orders, 91.2 % satisfied (docs/literature.md [K23])"),
    Target("deliberation_satisfaction", 16, ">=", 0.90, "fraction",
           "satisfaction with multi-party deliberation",
           definition="council participants' rating of its decisions in the last 52 weeks (participant-weighted); "
                      "undefined without a council"),
    Target("enterprise_participation", 5, ">=", 1.0, "fraction", "resident units taking part in co-building",
           definition="share of resident units (驻区单位) that claimed or joined a project, or gave money or goods, "
                      "during the year that ends with the last week (the 52 weeks it completes)",
           source="003 专栏1 #5: 驻区单位参与社区共建率 (units taking part in co-building, %)"),
    Target("safety_satisfaction", 29, ">=", 0.95, "fraction", "satisfaction with community safety",
           definition="not modelled: the model has no safety mechanism and no source defines how the linkage "
                      "moves it", status="not_modelled"),
)

TARGETS_BY_KEY: dict[str, Target] = {t.key: t for t in TARGETS}

# The six key indicators, in display order: the dashboard's numbers and charts, compare's default KPIs.
KEY_INDICATORS = ("volunteers_per_10k", "response_rate", "completion_rate", "callback_satisfaction",
                  "social_orgs_serving", "public_cost_run")


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else math.nan


def response_rate(in_time: float, due: float) -> float:
    """#33: orders signed for within the limit among those whose limit ended (signed in time, or missed); NaN if
    none."""
    return _ratio(in_time, due)


# The three service rates as ratios of weekly counts (numerator column, the columns summed into the denominator):
# the one definition that the KPIs, the district, the charts and the dashboard use
RATE_PARTS = {
    "response_rate": ("demands_signed_in_time", ("demands_signed_in_time", "demands_sign_missed")),
    "completion_rate": ("demands_completed_on_time", ("demands_due",)),
    "callback_satisfaction": ("callbacks_satisfied", ("callbacks",)),
}


def rate_over(rows, key: str) -> float:
    """The rate ``key`` of :data:`RATE_PARTS` over ``rows`` (a table or a row of summed counts)."""
    num, den = RATE_PARTS[key]
    return _ratio(float(np.sum(rows[num])), float(sum(np.sum(rows[c]) for c in den)))


def completion_rate(completed: float, due: float) -> float:
    """#34: orders resolved by their deadline among orders due (应办结: closed on time, or their deadline passed
    with the order open); NaN if none was due."""
    return _ratio(completed, due)


# Service indicators of the work orders besides #33–#35, as the hotlines report them (kpis.json "totals")
SERVICE_INDICATORS = {
    "on_time_completion_rate": ("orders closed (resolved, or unresolved with a reply) by their deadline among the "
                                "orders due in the last 52 weeks (按时办结数 ÷ 应办结数)",
                                "按时办结率 (docs/literature.md [K3][K15])"),
    "overdue_rate": ("orders whose deadline passed with the order open, among the orders due in the last 52 weeks "
                     "(1 − the on-time closing rate)",
                     "超期率: Sichuan 2024-07 0.01 %, Chengdu 0.04–1.51 % (docs/literature.md [K15][K24])"),
    "resolution_rate": ("orders closed resolved, on time or late, among the orders closed in the last 52 weeks",
                        "解决率 (docs/literature.md [K20][K22][K25])"),
    "overdue_open_end": ("orders open past their deadline at the last week (超期, escalated: 督办)",
                         "docs/literature.md [K8]"),
}


def callback_satisfaction(satisfied: float, called: float) -> float:
    """#35: residents satisfied among those called back; NaN if nobody was called back."""
    return _ratio(satisfied, called)


def compute_kpis(ts: pd.DataFrame, model=None) -> dict:
    """KPIs from a run's weekly table: rates over the last 52 weeks, stocks at the last week, run totals."""
    last = ts.iloc[-1]
    year = ts.tail(52)
    part = year["deliberation_participants"]
    sat = year["deliberation_satisfaction"]
    held = part > 0
    closed = year["demands_closed"].sum()
    kpis = {
        "volunteers_per_10k": float(last["volunteers_per_10k"]),
        "volunteer_active_share_2plus": float(last["volunteer_active_share_2plus"]),
        "volunteer_coverage": math.nan,
        "social_orgs_serving": int(last["social_orgs_serving"]),
        "orgs_incubated_total": int(last["orgs_incubated_total"]),
        "response_rate": rate_over(year, "response_rate"),
        "completion_rate": rate_over(year, "completion_rate"),
        "callback_satisfaction": rate_over(year, "callback_satisfaction"),
        "deliberation_satisfaction": _ratio(float((sat[held] * part[held]).sum()), float(part[held].sum())),
        "enterprise_participation": float(last["enterprise_participation"]),
        "safety_satisfaction": math.nan,
        "on_time_completion_rate": _ratio(year["demands_closed_on_time"].sum(), year["demands_due"].sum()),
        "overdue_rate": _ratio(year["demands_newly_overdue"].sum(), year["demands_due"].sum()),
        "resolution_rate": _ratio(year["demands_completed"].sum(), closed),
        "overdue_open_end": int(last["demands_overdue"]),
        "satisfaction_mean": float(last["satisfaction_mean"]),
        "trust_mean": float(last["trust_mean"]),
        "social_orgs_active": int(last["social_orgs_active"]),
        "fund_balance": float(last["fund_balance"]),
        "fund_opening_balance": model.opening_balance_fen / 100 if model is not None else math.nan,
        "fund_inflow_run": float(ts["fund_inflow_total"].sum()),
        "fund_outflow_run": float(ts["fund_outflow_total"].sum()),
        "enterprise_units_sold_run": int(ts["enterprise_units_sold"].sum()),
        "gov_spending_run": float(ts["gov_spending"].sum()),
        "public_cost_run": round(float(ts["public_cost"].sum()), 2),
        "projects_funded_run": int(ts["projects_funded"].sum()),
    }
    if model is not None:  # flagged inputs: unsourced values a reader must see next to the results
        kpis["flagged_input_units_per_week"] = float(model.cfg.community.units_per_week)
    for col in ts.columns:
        if (col.startswith("fund_inflow_") and col != "fund_inflow_total") or \
                (col.startswith("fund_outflow_") and col != "fund_outflow_total") or \
                (col.startswith("public_cost_") and col != "public_cost_run"):
            kpis[f"{col}_run"] = round(float(ts[col].sum()), 2)
    return kpis


YEAR_WEEKS = 52  # the window of the rates and yearly shares (the plan's final year)
YEARLY = ("volunteer_active_share_2plus", "response_rate", "completion_rate", "callback_satisfaction",
          "deliberation_satisfaction", "enterprise_participation", "social_orgs_serving")


def weeks_needed(deadline_weeks: int) -> dict[str, int]:
    """The weeks a run needs for each indicator whose definition spans time (the others are stocks).

    Rates and yearly shares read a 52-week window; the service rates count orders closed by their deadline,
    which can take the longest time limit and its extension (``BehaviourConfig.longest_wait_weeks``).
    """
    needs = dict.fromkeys(YEARLY, YEAR_WEEKS)
    for key in ("response_rate", "completion_rate", "callback_satisfaction"):
        needs[key] = max(YEAR_WEEKS, deadline_weeks)
    return needs


def not_measurable(weeks: int, deadline_weeks: int) -> dict[str, str]:
    """The indicators a run of ``weeks`` weeks cannot measure, each with the reason."""
    return {key: f"not measurable: needs at least {need} weeks (its definition spans them); the run has {weeks}"
            for key, need in weeks_needed(deadline_weeks).items() if weeks < need}


def met(target: Target, value: float) -> bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if target.op == ">=":
        return bool(value >= target.value - 1e-12)
    return bool(np.isclose(value, target.value))


def kpi_report(kpis: dict, weeks: int | None = None, deadline_weeks: int | None = None) -> dict:
    """The kpis.json content: each KPI with its target, plus run totals (data only: labels are in the glossary).

    Given the run's length (``weeks``) and the longest wait (``BehaviourConfig.longest_wait_weeks``), an indicator the
    run is too short to measure (:func:`not_measurable`) gets value and ``met`` null and a ``reason``.
    """
    unmeasured = not_measurable(weeks, deadline_weeks or 0) if weeks is not None else {}
    targets = {}
    for t in TARGETS:
        v = kpis[t.key]
        targets[t.key] = {
            "value": None if isinstance(v, float) and math.isnan(v) else v,
            "target": t.value, "op": t.op, "unit": t.unit, "enyang_indicator": t.number,
            "met": met(t, v), "note": t.note, "definition": t.definition, "status": t.status,
        }
        if t.source:
            targets[t.key]["source"] = t.source
        if t.status == "not_modelled":
            targets[t.key].update(value=None, met=None, reason="not modelled")
        elif t.key in unmeasured:
            targets[t.key].update(value=None, met=None, reason=unmeasured[t.key])
    others = {k: (None if isinstance(v, float) and math.isnan(v) else v)
              for k, v in kpis.items() if k not in targets}
    return {"targets": targets, "totals": others}
