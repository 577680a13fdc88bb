"""Observed patterns and plausibility bounds the model is checked against (docs/patterns.md).

A :class:`Pattern` names one figure from the sources (``shared/seeds``, quoted in docs/sources.md),
the scenario it is compared in, the statistic computed from a run (its weekly series and final
KPIs), the range of simulated values that counts as a match, and the *level* the figure comes from
(one community, a city, a province, the nation, or a plan target).  Three roles, two of them fitted:

* ``calibration`` — an *observation* (Jianyang, 002). Enters the calibration distance (fitted).
* ``plausibility`` — a bound read from a *plan target* (Enyang 专栏1, 003): targets for 2025 are
  not observations, so they only say the status quo (the baseline) has not yet reached them. A
  value inside the bound adds nothing to the distance; outside, it counts like a miss (fitted).
* ``held_out`` — an observation or published range checked on the calibrated model (posterior predictive
  check, fresh seeds) but never used to fit it: the seeds' organisation figures, and published national and
  provincial figures on volunteer hours, 12345 hotlines and community funds (docs/validation.md).

Statistics are per run; a sample's value is the mean over its seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model.indicators import TARGETS, met

YEAR = 52
ROLES = ("calibration", "plausibility", "held_out")
FITTED_ROLES = ("calibration", "plausibility")
LEVELS = ("community", "city", "province", "nation", "plan")


@dataclass(frozen=True)
class Scenario:
    """Where a pattern is compared: a policy preset, and a community preset (None = the calibration's)."""

    policy: str = "baseline"
    community: str | None = None

    def label(self, default_community: str) -> str:
        return f"{self.community or default_community} × {self.policy}"


@dataclass(frozen=True)
class Pattern:
    """One observed figure or bound, the model statistic that corresponds to it, and its match range."""

    key: str
    description: str
    source: str
    scenario: Scenario
    statistic: Callable[[pd.DataFrame, Mapping], float]  # (weekly series of one run, its KPIs) → value
    low: float
    high: float
    observed: float | None = None      # the point figure, if the source gives one
    role: str = "calibration"
    indicators: tuple[str, ...] = ()   # weekly indicators the statistic reads
    unit: str = ""
    level: str = "city"                # where the figure was measured: one of LEVELS

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"pattern {self.key}: role {self.role!r} is not one of {', '.join(ROLES)}")
        if self.level not in LEVELS:
            raise ValueError(f"pattern {self.key}: level {self.level!r} is not one of {', '.join(LEVELS)}")
        if not self.low < self.high:
            raise ValueError(f"pattern {self.key}: low {self.low} must be below high {self.high}")
        if self.observed is not None and not self.low <= self.observed <= self.high:
            raise ValueError(f"pattern {self.key}: observed {self.observed} outside [{self.low}, {self.high}]")

    @property
    def fitted(self) -> bool:
        return self.role in FITTED_ROLES

    def deviation(self, value: float) -> float:
        """Signed, range-normalised miss: ±1 at the range's edges, 0 at the observed value.

        Without an observed value (a bound), 0 anywhere inside the range, and outside it the excess
        in units of the range's width.  NaN stays NaN.
        """
        if value is None or np.isnan(value):
            return float("nan")
        if self.observed is not None:
            edge = self.low if value < self.observed else self.high
            return float((value - self.observed) / abs(edge - self.observed))
        width = self.high - self.low
        if value < self.low:
            return float((value - self.low) / width)
        if value > self.high:
            return float((value - self.high) / width)
        return 0.0

    def matches(self, value: float) -> bool:
        return bool(self.low <= value <= self.high)


# ------------------------------------------------------------------------------------------------
# statistics of one run
# ------------------------------------------------------------------------------------------------
def last_year(ts: pd.DataFrame) -> pd.DataFrame:
    """The final 52 weeks (the whole run if it is shorter)."""
    return ts.tail(YEAR)


def _window_years(ts: pd.DataFrame) -> float:
    return len(last_year(ts)) / YEAR


def volunteer_inflow_ratio(ts: pd.DataFrame, kpis: Mapping) -> float:
    """New registrations in the final year ÷ registered volunteers at the end (per year)."""
    stock = float(ts["volunteers_registered"].iloc[-1])
    new = float(last_year(ts)["volunteers_new"].sum()) / _window_years(ts)
    return new / stock if stock else float("nan")


def volunteer_net_growth(ts: pd.DataFrame, kpis: Mapping) -> float:
    """Net change of the registered stock over the final year ÷ the stock at the end (per year)."""
    stock = float(ts["volunteers_registered"].iloc[-1])
    year = last_year(ts)
    net = float(year["volunteers_new"].sum() - year["volunteers_dropped"].sum()) / _window_years(ts)
    return net / stock if stock else float("nan")


def self_org_inflow_ratio(ts: pd.DataFrame, kpis: Mapping) -> float:
    """Self-organisations formed per year (bottom-up or incubated) ÷ mean stock of self-organisations, over the
    whole run.

    Jianyang's "新增备案" counts every newly registered group, whoever helped it form, so both ways a group
    forms count.  The whole run rather than the final year: a single community forms about one organisation
    every few years, so a one-year count is mostly noise.
    """
    years = len(ts) / YEAR
    stock = float(ts["social_orgs_self"].mean())
    return float(ts["self_orgs_formed"].sum()) / years / stock if stock else float("nan")


def hours_per_registered_volunteer(ts: pd.DataFrame, kpis: Mapping) -> float:
    """Registered volunteers' activity hours in the final year ÷ registered volunteers at the end (per year).

    ``volunteer_hours`` also counts unregistered residents' activities, which no registry records: the
    registered volunteers' part is their share of the activities."""
    year = last_year(ts)
    acts = float(year["volunteer_activities"].sum())
    total = acts + float(year["casual_activities"].sum())
    stock = float(ts["volunteers_registered"].iloc[-1])
    if not stock or not total:
        return float("nan")
    return float(year["volunteer_hours"].sum()) * acts / total / _window_years(ts) / stock


def yearly_sum(indicator: str) -> Callable[[pd.DataFrame, Mapping], float]:
    """The statistic 'sum of the weekly ``indicator`` over the final year' (per year)."""
    def stat(ts: pd.DataFrame, kpis: Mapping) -> float:
        return float(last_year(ts)[indicator].sum()) / _window_years(ts)
    stat.__name__ = f"yearly_{indicator}"
    stat.__doc__ = f"{indicator} summed over the final 52 weeks"
    return stat


def enterprise_share_of_private_giving(ts: pd.DataFrame, kpis: Mapping) -> float:
    """Enterprises' and resident units' money ÷ all private money the fund received in the final year.

    Private money: everything but the government's (match and grants); charity sales and social-enterprise
    income count as private, on the residents' side."""
    year = last_year(ts)
    firms = sum(float(year[f"fund_inflow_{s}"].sum()) for s in FIRM_SOURCES)
    private = sum(float(year[c].sum()) for c in PRIVATE_GIVING)
    return firms / private if private else float("nan")


def final(indicator: str) -> Callable[[pd.DataFrame, Mapping], float]:
    """The statistic 'final KPI value of ``indicator``' (as in kpis.json / runs.parquet)."""
    def stat(ts: pd.DataFrame, kpis: Mapping) -> float:
        value = kpis.get(indicator)
        return float("nan") if value is None else float(value)
    stat.__name__ = f"final_{indicator}"
    stat.__doc__ = f"final KPI {indicator} (rates over the last 52 weeks, stocks at the last week)"
    return stat


def final_stock(indicator: str) -> Callable[[pd.DataFrame, Mapping], float]:
    """The statistic 'value of the weekly ``indicator`` in the last week'."""
    def stat(ts: pd.DataFrame, kpis: Mapping) -> float:
        return float(ts[indicator].iloc[-1])
    stat.__name__ = f"last_{indicator}"
    stat.__doc__ = f"{indicator} in the last week"
    return stat


# ------------------------------------------------------------------------------------------------
# the patterns
# ------------------------------------------------------------------------------------------------
JIANYANG_NEW, JIANYANG_TOTAL = 6942, 131940          # 002: 今年新增志愿者6942人 … 全市志愿者总数131940人
JIANYANG_NEW_ORGS, JIANYANG_SELF_ORGS = 200, 1357    # 002: 登记备案社区自组织1357个,新增备案社区社会组织200余支
SICHUAN_CALLED, SICHUAN_UNSATISFIED = 737_702, 64_735    # H1: 回访737,702件,群众评价不满意64,735件 (2023-09)
HUBEI_YUAN, HUBEI_FUNDS, HUBEI_YEARS = 906_227_000, 21_100, 5.0  # H7: 90622.7万元, 近2.11万支, 2018-09 to 2023-08
BASELINE = Scenario("baseline")
VOL = ("volunteers_registered", "volunteers_new", "volunteers_dropped")
HOURS = ("volunteer_hours", "volunteer_activities", "casual_activities", "volunteers_registered")
FIRM_SOURCES = ("enterprise_per_unit", "enterprise_lump", "resident_units")
PRIVATE_GIVING = tuple(f"fund_inflow_{s}" for s in (*FIRM_SOURCES, "resident_donations", "charity_sales",
                                                     "social_enterprise"))


def _target(key: str) -> float:
    return next(t.value for t in TARGETS if t.key == key)


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        key="volunteer_inflow_ratio",
        description="new volunteers in a year as a share of registered volunteers (Jianyang: 6,942 / 131,940)",
        source="002: 今年新增志愿者6942人 … 截至目前,全市志愿者总数131940人",
        scenario=BASELINE, statistic=volunteer_inflow_ratio, indicators=VOL, unit="1/year",
        observed=JIANYANG_NEW / JIANYANG_TOTAL, low=0.035, high=0.075),
    Pattern(
        key="volunteer_net_growth",
        description="net yearly change of the registered stock: not shrinking (002 壮大志愿服务队伍), "
                    "and at most the yearly inflow (≈ 5.3 %)",
        source="002: 壮大志愿服务队伍 … 今年新增志愿者6942人 … 全市志愿者总数131940人",
        scenario=BASELINE, statistic=volunteer_net_growth, indicators=VOL, unit="1/year",
        low=-0.01, high=0.06),
    Pattern(
        key="volunteers_per_10k_below_target",
        description="the baseline has not reached the plan's ≥ 2,500 registered volunteers per 10,000",
        source="003 专栏1 #15 (target for 2025, not an observation)",
        scenario=BASELINE, statistic=final("volunteers_per_10k"), unit="per 10,000",
        low=0.0, high=_target("volunteers_per_10k"), role="plausibility", level="plan"),
    Pattern(
        key="active_share_below_target",
        description="the baseline has not reached the plan's two-thirds of residents volunteering ≥ 2 times a year",
        source="003 专栏1 #28 (target for 2025, not an observation)",
        scenario=BASELINE, statistic=final("volunteer_active_share_2plus"), unit="fraction",
        low=0.0, high=_target("volunteer_active_share_2plus"), role="plausibility", level="plan"),
    Pattern(
        key="hotline_response_rate",
        description="work orders signed for (签收) within their limit, as hotlines report their timely response "
                    "(Daying county, Sichuan: 97 % answered on time; units are scored on timely signing)",
        source="[K3] 大英县 2017-03: 按时答复率97%; [K9][K10] 1个工作日内签收, 及时签收率 scored",
        scenario=BASELINE, statistic=final("response_rate"), unit="fraction",
        observed=0.97, low=0.90, high=1.0, level="city"),
    Pattern(
        key="hotline_overdue_rate",
        description="orders whose deadline passed with the order open, among the orders due "
                    "(Sichuan 2024-07: 0.01 %; Chengdu 2018-03: 0.04 % of district orders, 1.51 % of departments')",
        source="[K24] 四川 2024-07: 超期率0.01%; [K15] 成都 2018-03: 区(市)县 超期率0.04%, 市级部门1.51%",
        scenario=BASELINE, statistic=final("overdue_rate"), unit="fraction",
        observed=0.0001, low=0.0, high=0.0151, level="province"),
    Pattern(
        key="completion_rate_below_target",
        description="the baseline does not already resolve ≥ 95 % of closed demands (and resolves at least half)",
        source="003 专栏1 #34 (target ≥ 95 % for 2025, not an observation); lower bound: judgement",
        scenario=BASELINE, statistic=final("completion_rate"), unit="fraction",
        low=0.5, high=_target("completion_rate"), role="plausibility", level="plan"),
    Pattern(
        key="callback_satisfaction_below_target",
        description="the baseline's callback survey (回访) does not already find ≥ 95 % satisfied "
                    "(and finds at least half satisfied)",
        source="003 专栏1 #35 (target ≥ 95 % for 2025, not an observation); lower bound: judgement",
        scenario=BASELINE, statistic=final("callback_satisfaction"), unit="fraction",
        low=0.5, high=_target("callback_satisfaction"), role="plausibility", level="plan"),
    Pattern(
        key="self_org_inflow_ratio",
        description="self-organisations formed per year (bottom-up or incubated) as a share of the stock "
                    "(Jianyang: 200+ / 1,357)",
        source="002: 登记备案社区自组织1357个,新增备案社区社会组织200余支",
        scenario=BASELINE, statistic=self_org_inflow_ratio,
        indicators=("social_orgs_self", "self_orgs_formed"), unit="1/year",
        observed=JIANYANG_NEW_ORGS / JIANYANG_SELF_ORGS, low=0.07, high=0.30, role="held_out"),
    Pattern(
        key="organised_urban_self_orgs_persist",
        description="an organisation-led community like Shunhe keeps its 38 self-organisation teams "
                    "under five-society linkage (30–60 at the end)",
        source="004: 培育壮大38支社区社会组织队伍 (顺河社区)",
        scenario=Scenario("five_society", "organised_urban"), statistic=final_stock("social_orgs_self"),
        indicators=("social_orgs_self",), unit="organisations",
        observed=38.0, low=30.0, high=60.0, role="held_out", level="community"),
    # ---- published figures beyond the seeds (docs/literature.md §10), never fitted ----
    Pattern(
        key="hours_per_registered_volunteer",
        description="hours of volunteering a year per registered volunteer lie within the published figures: "
                    "2.5 (Shaoxing platform, cumulative) to 14 (national registry 2017, Chongqing 2020)",
        source="[V1][V2] 人均志愿服务时间11.93小时 (2016), 13.85小时 (2017); [V6] 8.1亿小时 / 6720万人 (2017-12); "
               "[V7] 绍兴 170万小时 / 69万人; [H5] 重庆 8700多万小时 / 620万人 (2020)",
        scenario=BASELINE, statistic=hours_per_registered_volunteer, indicators=HOURS, unit="hours/year",
        low=2.5, high=14.0, role="held_out", level="nation"),
    Pattern(
        key="hotline_callback_satisfaction",
        description="residents satisfied among those called back (回访) after a closed demand, as Sichuan's "
                    "12345 hotlines report (91.2 % in Sept 2023; Chengdu 80.9 % in March 2018)",
        source="[H1] 四川省 2023-09: 回访737,702件,群众评价不满意64,735件,不满意率8.78%; [H3] 成都 2018-03: "
               "群众评价满意率80.85%; [D1] 北京 满意率94.1%; [H6] 江阴 纪委抽查 240/246",
        scenario=BASELINE, statistic=final("callback_satisfaction"), unit="fraction",
        observed=1 - SICHUAN_UNSATISFIED / SICHUAN_CALLED, low=0.80, high=0.976, level="province"),
    Pattern(
        key="hotline_resolution_rate",
        description="orders resolved among orders closed, as hotlines report their resolution rate (解决率: Chengdu "
                    "2020 > 90 %; Beijing 94.3 %, 97 % in 2024; Fengcheng 90 %; Gaohang 80 % checked on the ground)",
        source="[H2] 成都 2020: 诉求解决率和满意率高于90%; [D1] 北京 解决率94.3%; [K22] 北京 2024 97%; [K20] 丰城 90%; "
               "[K25] 高行 80%",
        scenario=BASELINE, statistic=final("resolution_rate"), unit="fraction",
        observed=0.90, low=0.80, high=0.97, role="held_out", level="city"),
    Pattern(
        key="community_fund_income",
        description="a community fund raises a few thousand to about a hundred thousand yuan a year "
                    "(Hubei 幸福家园 funds ≈ 8,600 yuan/year each; Chengdu: ≥ 3,000 yuan to start, "
                    "≈ 105,000 yuan per fund raised in all)",
        source="[H7] 湖北: 社区公益基金近2.11万支 … 累计筹集善款90622.7万元 (2018-09 to 2023-08); [H8] 成都: "
               "社区需筹集不低于3000元的启动资金; [H9] 成都 社区发展基金会募集款物达4704万元 … "
               "专项基金239支,社区基金210支",
        scenario=BASELINE, statistic=yearly_sum("fund_inflow_total"), indicators=("fund_inflow_total",),
        unit="yuan/year", observed=HUBEI_YUAN / HUBEI_FUNDS / HUBEI_YEARS, low=3000.0, high=105_000.0,
        role="held_out", level="province"),
    Pattern(
        key="enterprise_share_of_private_giving",
        description="enterprises and resident units give most of the private money once they are engaged "
                    "(nationally 58–77 % of giving; one Kunming community fund 76 %)",
        source="[G2] 企业捐赠…占捐赠总额的58.4%; [G3] 企业捐赠的占比高达76.6%; [H10] 昆明官渡: 爱心企业捐赠1.6万余元,"
               "…居民自筹募捐5000余元",
        scenario=Scenario("five_society"), statistic=enterprise_share_of_private_giving,
        indicators=PRIVATE_GIVING, unit="fraction", observed=16_000 / 21_000, low=0.55, high=0.80,
        role="held_out", level="nation"),
)


def patterns(roles: tuple[str, ...] = ROLES) -> list[Pattern]:
    """The patterns with one of ``roles``."""
    return [p for p in PATTERNS if p.role in roles]


def fitted() -> list[Pattern]:
    """The patterns that enter the calibration distance (observations and plausibility bounds)."""
    return patterns(FITTED_ROLES)


def held_out() -> list[Pattern]:
    """The patterns checked on the calibrated model but never fitted."""
    return patterns(("held_out",))


def needed_indicators(pats: list[Pattern]) -> list[str]:
    return sorted({i for p in pats for i in p.indicators})


# ------------------------------------------------------------------------------------------------
# evaluation over runs
# ------------------------------------------------------------------------------------------------
def statistics_per_run(runs: pd.DataFrame, ts_wide: pd.DataFrame, pats: list[Pattern]) -> pd.DataFrame:
    """One row per run (the ``run`` column of runs.parquet), one column per pattern's statistic."""
    by_run = dict(tuple(ts_wide.groupby("run"))) if len(ts_wide) else {}
    rows = []
    for _, run in runs.iterrows():
        ts = by_run.get(run["run"], pd.DataFrame()).sort_values("step") if by_run else pd.DataFrame()
        kpis = run.to_dict()
        row = {"run": run["run"]}
        for p in pats:
            row[p.key] = p.statistic(ts, kpis)
        rows.append(row)
    return pd.DataFrame(rows)


def distance(values: Mapping[str, float], pats: list[Pattern]) -> float:
    """Root mean square of the range-normalised deviations (NaN counts as a miss of 2 ranges)."""
    devs = np.array([p.deviation(values[p.key]) for p in pats], dtype=float)
    devs = np.where(np.isnan(devs), 2.0, devs)
    return float(np.sqrt(np.mean(devs ** 2)))


def all_match(values: Mapping[str, float], pats: list[Pattern]) -> bool:
    return all(p.matches(values[p.key]) for p in pats if not np.isnan(values[p.key]))


def yardstick(kpis: Mapping[str, float]) -> pd.DataFrame:
    """KPIs (e.g. of five_society) against the Enyang 2025 targets — a comparison, never a fit.

    An indicator the model does not compute (status ``not_modelled``) has no value and is never met."""
    rows = []
    for t in TARGETS:
        v = kpis.get(t.key)
        v = float("nan") if v is None or t.status == "not_modelled" else float(v)
        rows.append({"indicator": t.key, "enyang_row": t.number, "status": t.status, "value": v,
                     "target": f"{t.op} {t.value:g}", "met": met(t, v)})
    return pd.DataFrame(rows)
