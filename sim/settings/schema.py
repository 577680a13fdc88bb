"""The parameter schema: the one source of truth for every parameter.

Each parameter is a dataclass field built with :func:`param`, which records its unit, its
allowed range, a one-line meaning and its source (a seed document of ``shared/seeds`` or
"assumption").  Hydra composes the YAML files of ``configs/`` onto these dataclasses (so an
unknown key or a wrong type is refused at composition), and :func:`sim.settings.config.to_settings` turns
the composed config into objects, whose ``__post_init__`` checks every range before anything runs.

Money is in yuan, except the per-unit donation of the one-cent charity, in fen (1 yuan = 100 fen),
as the source states it (004: "企业每售卖一瓶酒，向社区微基金捐赠1分钱").
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from sim.levers import LEVERS, PolicyConfig, schedule  # the levers are part of the schema (sim/levers/)
from sim.settings.params import (  # noqa: F401  (check_leaf, format_limit and shown are part of the schema's interface)
    ASSUMPTION,
    ConfigError,
    Widget,
    check_leaf,
    format_limit,
    param,
    section,
    shown,
)

GROUPS = ("youth", "elderly", "children", "workers", "new_employment")  # 青老幼工新 (004)


# --------------------------------------------------------------------------------------------
# Community presets (configs/community/*.yaml)
# --------------------------------------------------------------------------------------------
@dataclass
class GroupShares:
    """Share of residents in each group of 青老幼工新 (004); must sum to 1."""

    youth: float = param(0.25, "fraction", 0, 1, help="share of youth (青)")
    elderly: float = param(0.22, "fraction", 0, 1, help="share of elderly (老)")
    children: float = param(0.15, "fraction", 0, 1, help="share of children (幼)")
    workers: float = param(0.30, "fraction", 0, 1, help="share of industrial and office workers (工)")
    new_employment: float = param(0.08, "fraction", 0, 1,
                                  help="share of new-employment workers, e.g. delivery riders (新)")

    def as_tuple(self) -> tuple[float, ...]:
        return tuple(getattr(self, g) for g in GROUPS)


@dataclass
class CommunityConfig:
    """One community: its size, population and the organisations already present."""

    name: str = param("urban_traditional", "-", help="preset name")
    label_zh: str = param("传统城区社区", "-", help="Chinese name of the preset")
    residents: int = param(12000, "persons", 50, 2_000_000,
                           help="residents", source="003: 9,000–12,000 residents per urban community")
    households: int = param(3000, "households", 10, 700_000,
                            help="households", source="003: 2,500–3,000 households")
    households_per_grid: int = param(300, "households/grid", 30, 2000,
                                     help="households served by one grid worker (网格员)",
                                     source="200–500 households per grid (docs/literature.md [D13])")
    groups: GroupShares = section(GroupShares)
    needy_share: float = param(0.03, "fraction", 0, 0.5,
                               help="share of households that are needy (困难群众家庭); "
                                    "the fund supports their members")
    income_median_yuan_month: float = param(3500.0, "yuan/month", 0, 100_000,
                                            help="median personal income")
    income_sigma: float = param(0.5, "log-sd", 0, 3, help="spread of log income")
    civic_mean: float = param(0.30, "0-1", 0.01, 0.99,
                              help="mean civic propensity (Beta distributed, concentration 4)")
    trust_initial: float = param(0.60, "0-1", 0.01, 0.99, help="mean initial trust in community institutions")
    satisfaction_initial: float = param(0.70, "0-1", 0.01, 0.99, help="mean initial satisfaction")
    volunteers_initial_share: float = param(0.10, "fraction", 0, 1,
                                            help="share of residents registered as volunteers at start")
    enterprises: int = param(10, "enterprises", 0, 10_000,
                             help="resident units (驻区单位): enterprises and institutions in the community")
    product_enterprises: int = param(1, "enterprises", 0, 10_000,
                                     help="of these, enterprises selling a bottled product (e.g. liquor)")
    units_per_week: float = param(2000.0, "units/week", 0, 10_000_000,
                                  help="FLAGGED INPUT: units each product enterprise sells outside the community "
                                       "per week (the one-cent volume); no source gives it — vary it over "
                                       "500–50,000 (a small to mid-size distiller's weekly bottles) before drawing "
                                       "a conclusion about the one-cent charity",
                                  source="assumption: no published volume (docs/literature.md §4, §9)",
                                  prior=(500.0, 50_000.0),  # the flagged input's documented range
                                  widget=Widget("number", "lever_units", 0, 100_000, 500, rank=20))
    professional_agencies: int = param(1, "organisations", 0, 1000,
                                       help="professional social-work agencies present at start")
    self_organisations: int = param(2, "organisations", 0, 10_000,
                                    help="resident self-organisations present at start (each with "
                                         "behaviour.self_org_founders members)")
    handicraft_workshops: int = param(0, "organisations", 0, 1000,
                                      help="of these, handicraft workshops with a product to sell "
                                           "(004: 豌豆手工坊); only they hold charity sales")
    social_enterprise_asset: bool = param(False, "-",
                                          help="the community has an asset a social enterprise can run "
                                               "(004 顺河社区: 精品游线); policy.social_enterprise needs it")
    station_social_workers: int = param(1, "persons", 0, 1000,
                                        help="social workers at the community social-work station (社工站)")
    community_workers: int = param(22, "persons", 0, 10_000,
                                   help="community workers (社区工作者) of the two committees, the first "
                                        "handlers of residents' demands",
                                   source="18–25 per 10,000 urban residents (docs/literature.md [D10][D11])")
    department_cases_per_1000_week: float = param(1.0, "cases/(1000 residents·week)", 0, 100,
                                                  help="cases the street/departments take on escalation "
                                                       "(街道吹哨、部门报到) per 1,000 residents per week")

    def __post_init__(self) -> None:
        if self.product_enterprises > self.enterprises:
            raise ConfigError(f"community.product_enterprises={self.product_enterprises} exceeds "
                              f"community.enterprises={self.enterprises}")
        if self.households > self.residents:
            raise ConfigError(f"community.households={self.households} exceeds community.residents="
                              f"{self.residents}: a household has at least one resident")
        if self.handicraft_workshops > self.self_organisations:
            raise ConfigError(f"community.handicraft_workshops={self.handicraft_workshops} exceeds "
                              f"community.self_organisations={self.self_organisations}: a workshop is a "
                              "self-organisation")
        total = sum(self.groups.as_tuple())
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(f"community.groups shares must sum to 1, got {total:.6f}")


# --------------------------------------------------------------------------------------------
# Behavioural parameters (uncertain; the calibration issue searches them)
# --------------------------------------------------------------------------------------------
WORKING_DAYS_PER_WEEK = 5


def weeks_of(working_days: int) -> int:
    """A limit in working days as the model's weekly steps: rounded up (7 working days → 2 weeks)."""
    return math.ceil(working_days / WORKING_DAYS_PER_WEEK)


@dataclass
class DemandRates:
    """Weekly probability that a resident of each group raises a service demand."""

    youth: float = param(0.004, "1/week", 0, 1, help="youth")
    elderly: float = param(0.025, "1/week", 0, 1, help="elderly")
    children: float = param(0.008, "1/week", 0, 1, help="children (raised by their guardians)")
    workers: float = param(0.008, "1/week", 0, 1, help="workers")
    new_employment: float = param(0.015, "1/week", 0, 1, help="new-employment workers")

    def as_tuple(self) -> tuple[float, ...]:
        return tuple(getattr(self, g) for g in GROUPS)


@dataclass
class BehaviourConfig:
    """How residents, volunteers, workers and organisations behave. All are assumptions unless sourced
    (docs/literature.md gives the published support and the ranges behind the defaults)."""

    # --- residents' demands (民生诉求) and their handling ---------------------------------------------
    demand_rates: DemandRates = section(DemandRates)
    professional_share: float = param(0.30, "fraction", 0, 1,
                                      help="share of demands that need a professional organisation")
    structural_share: float = param(0.10, "fraction", 0, 1,
                                    help="share of demands only departments can solve (escalated)")
    report_base: float = param(0.35, "probability", 0, 1, help="chance a resident reports a demand at zero trust")
    report_trust_weight: float = param(0.45, "probability", 0, 1,
                                       help="extra chance of reporting at full trust")
    grid_discovery: float = param(0.30, "probability", 0, 1,
                                  help="chance a grid worker finds an unreported demand (网格发现, 003)")
    complaint_share: float = param(0.60, "fraction", 0, 1,
                                   help="share of work orders that are complaints (投诉举报); the rest are requests "
                                        "for help (求助) and suggestions (建议)",
                                   source="Sichuan 12345, 2024-07: 投诉举报 33.3 %, 求助 19.5 %, 建议 2.2 % of "
                                          "all contacts, i.e. 0.60 / 0.36 / 0.04 of the work orders "
                                          "(docs/literature.md [K1])")
    suggestion_share: float = param(0.04, "fraction", 0, 1, help="share of work orders that are suggestions (建议)",
                                    source="Sichuan 12345, 2024-07 (docs/literature.md [K1])")
    help_limit_days: int = param(7, "working days", 1, 260,
                                 help="time limit for closing a request for help (求助)",
                                 source="四川省12345热线管理办法 (2025): 求助、建议类7个工作日 "
                                        "(docs/literature.md [K5])")
    complaint_limit_days: int = param(15, "working days", 1, 260,
                                      help="time limit for closing a complaint (投诉举报)",
                                      source="四川省12345热线管理办法 (2025): 投诉举报类15个工作日 "
                                             "(docs/literature.md [K5])")
    suggestion_limit_days: int = param(7, "working days", 1, 260,
                                       help="time limit for closing a suggestion (建议)",
                                       source="四川省12345热线管理办法 (2025): 求助、建议类7个工作日 "
                                              "(docs/literature.md [K5])")
    extension_days: int = param(10, "working days", 0, 260,
                                help="one approved extension (延期) of an order that needs the street or departments "
                                     "and is not handled by its deadline",
                                source="complex cases 按规定延期, approved before expiry "
                                       "(docs/literature.md [K5][K8]); its length: assumption")
    response_limit_weeks: int = param(1, "weeks", 1, 52,
                                      help="time limit for signing for an order (签收, first response): signed within "
                                           "it counts for #33; the week it was reported counts as the first",
                                      source="签收 within 1 working day (docs/literature.md [K9][K10])")
    intake_orders_per_worker_week: float = param(10.0, "orders/(worker·week)", 0, 1000,
                                                 help="orders a community or grid worker can sign for (签收) or close "
                                                      "with an explained reply (答复) a week, besides casework "
                                                      "(assumption: two a working day)")
    staff_cases_week: float = param(2.0, "cases/(community worker·week)", 0, 100,
                                    help="demands a community worker (社区工作者) handles a week besides other duties")
    grid_worker_cases_week: float = param(3.0, "cases/(grid worker·week)", 0, 100,
                                          help="simple cases a grid worker solves per week besides reporting")
    volunteer_hours_per_case: float = param(4.0, "hours/case", 0.1, 1000,
                                            help="volunteer hours an unguided volunteer needs per case")
    staff_success: float = param(0.92, "probability", 0, 1,
                                 help="chance community staff resolve a simple case they take",
                                 source="published resolution rates 80–97 % (docs/literature.md [K20][K22][K25]); "
                                        "the value: assumption within them")
    org_cases_per_staff_week: float = param(3.0, "cases/(worker·week)", 0, 100,
                                            help="cases one agency social worker handles per week")
    volunteer_success: float = param(0.85, "probability", 0, 1,
                                     help="chance a volunteer resolves a simple case without guidance")
    supervised_success: float = param(0.97, "probability", 0, 1,
                                      help="chance a volunteer guided by social or community workers resolves one")
    org_success: float = param(0.95, "probability", 0, 1, help="chance an organisation resolves a case")
    department_success: float = param(0.90, "probability", 0, 1,
                                      help="chance an escalated case is resolved")
    callback_share: float = param(0.56, "fraction", 0, 1,
                                  help="share of closed demands called back (回访) and asked about satisfaction",
                                  source="Sichuan 12345, 2023-09: 56 % of closed orders called back "
                                         "(docs/literature.md [K23]); 12328: 44.25 % ([D6])")
    callback_satisfied_resolved: float = param(0.95, "probability", 0, 1,
                                               prior=(0.90, 0.99),
                                               help="chance a resident whose demand was resolved in time says "
                                                    "satisfied",
                                               source="回访满意率 94–97 % (docs/literature.md [D1][D6])")
    callback_satisfied_late: float = param(0.80, "probability", 0, 1,
                                           help="… resolved after the time limit (assumption)")
    callback_satisfied_unresolved: float = param(0.50, "probability", 0, 1,
                                                 help="… answered but not resolved",
                                                 source="repeat complaints 75.86 % (docs/literature.md [D4]); "
                                                        "lower: assumption")
    callback_satisfied_explained: float = param(0.15, "probability", 0, 1,
                                                help="… closed unresolved with an explained reply because no handler "
                                                     "took it by its deadline (assumption)")
    # --- volunteering and other civic acts -------------------------------------------------------------
    register_base: float = param(0.0004, "1/week", 0, 1,
                                 help="weekly chance a resident of civic propensity 1 registers as volunteer")
    register_influence: float = param(3.0, "multiplier", 0, 100,
                                      help="extra registration per unit share of volunteers in the grid")
    register_mobilisation: float = param(2.0, "multiplier", 0, 100,
                                         help="extra registration when social workers mobilise, "
                                              "× their spare supervision capacity")
    register_moral_bank: float = param(0.5, "multiplier", 0, 100,
                                       help="extra registration when the moral bank runs")
    activity_prob: float = param(0.06, "1/week", 0, 1,
                                 prior=(0.04, 0.16),
                                 help="weekly chance a registered volunteer of civic propensity 1 takes part in "
                                      "an activity",
                                 source="宁波 2022: 1.33 participations per registered volunteer a year "
                                        "(docs/literature.md [V4])")
    casual_activity_prob: float = param(0.004, "1/week", 0, 1,
                                        help="weekly chance an unregistered adult of civic propensity 1 takes part",
                                        source="≈ 25 % of volunteers are not registered (docs/literature.md [V3])")
    activity_supervised_boost: float = param(0.5, "multiplier", 0, 10,
                                             help="extra activity under social-worker organisation")
    activity_recognition_boost: float = param(0.5, "multiplier", 0, 10,
                                              help="extra activity when activities earn moral-bank points")
    hours_per_activity: float = param(3.0, "hours", 0.1, 100, help="hours of one volunteer activity",
                                      source="3.1 h per participation (docs/literature.md [V4])")
    dropout_base: float = param(0.001, "1/week", 0, 1,
                                help="weekly chance a volunteer leaves the register (registrations are sticky: "
                                     "docs/literature.md [V3])")
    dropout_unrecognised: float = param(0.0015, "1/week", 0, 1,
                                        prior=(0.0, 0.003),
                                        help="extra drop-out when unrecognised for the recognition window (the "
                                             "direction is published: recognition predicts retention, "
                                             "docs/literature.md [V9]; the size is not)")
    recognition_window_weeks: int = param(26, "weeks", 1, 520,
                                          help="weeks without recognition before the extra drop-out applies")
    burnout_activities: int = param(30, "activities/52 weeks", 1, 520,
                                    help="activities in the last 52 weeks above which burn-out sets in")
    dropout_burnout: float = param(0.02, "1/week", 0, 1, help="extra drop-out of a burnt-out volunteer",
                                   source="burn-out predicts quitting (docs/literature.md [V10])")
    civic_act_prob: float = param(0.05, "1/week", 0, 1,
                                  help="weekly chance an adult of civic propensity 1 does a recorded civic act "
                                       "(垃圾分类, 邻里互助 …) that the moral bank rewards")
    redeem_prob: float = param(0.25, "1/week", 0, 1,
                               help="weekly chance a resident over the threshold redeems points")
    # --- giving ----------------------------------------------------------------------------------------
    donate_prob: float = param(0.002, "1/week", 0, 1,
                               prior=(0.0005, 0.005),
                               help="weekly chance a resident of civic propensity and trust 1 donates")
    donate_income_share: float = param(0.01, "fraction", 0, 1, help="a donation as share of monthly income")
    fundraising_boost: float = param(0.5, "multiplier", 0, 100,
                                     help="extra giving when the fund appeals publicly (no source: assumption)")
    transparency_giving: float = param(0.3, "multiplier", 0, 10,
                                       help="extra giving per unit of fund transparency",
                                       source="disclosure raises giving modestly (docs/literature.md [G8][G9])")
    resident_led_giving: float = param(0.5, "multiplier", 0, 10,
                                       help="extra giving when the fund is resident-led")
    market_led_enterprise: float = param(0.5, "multiplier", 0, 10,
                                         help="extra enterprise giving when the fund is market-led")
    purchase_prob: float = param(0.05, "1/week", 0, 1,
                                 help="weekly chance an adult resident buys one unit of the local product")
    charity_buy_prob: float = param(0.01, "1/week", 0, 1,
                                    help="weekly chance an adult of civic propensity 1 buys at a charity sale")
    charity_buy_yuan: float = param(46.0, "yuan/purchase", 0, 100_000,
                                    help="what a charity-sale buyer spends",
                                    source="≈ 46 yuan per item at a charity fair (docs/literature.md [G15])")
    # --- satisfaction and trust (from one's own experiences) ---------------------------------------------
    satisfaction_rate: float = param(0.30, "fraction", 0, 1,
                                     prior=(0.1, 0.5),
                                     help="how far one demand outcome moves the resident's satisfaction")
    trust_rate: float = param(0.10, "fraction", 0, 1,
                              help="how far one demand outcome moves the resident's trust")
    trust_drift: float = param(0.01, "1/week", 0, 1,
                               help="weekly pull of a resident's trust towards their own satisfaction")
    satisfaction_memory_weeks: float = param(52.0, "weeks", 1, 10_000,
                                             prior=(13.0, 156.0),
                                             help="how long experiences are remembered: each week satisfaction "
                                                  "moves 1/this of the way back towards the resident's reference "
                                                  "level (the preset's initial draw; assumption)",
                                             source="expectancy-disconfirmation: satisfaction is experience "
                                                    "relative to expectation (docs/literature.md [T1]–[T4])")
    session_satisfaction_rate: float = param(0.10, "fraction", 0, 1,
                                             prior=(0.02, 0.3),
                                             help="how far one project session moves a served resident's "
                                                  "satisfaction and trust")
    deliberation_participation: float = param(0.15, "probability", 0, 1,
                                              help="chance a resident of civic propensity 1 attends a council")
    deliberation_trust: float = param(0.05, "fraction", 0, 1,
                                      help="trust gain of a council participant",
                                      source="participation raises community trust (docs/literature.md [T9])")
    procedure_satisfied: float = param(0.60, "probability", 0, 1,
                                       help="chance a participant rates the council's decision satisfied when "
                                            "their own group's need was not funded (outcome weighs more: "
                                            "docs/literature.md [T5]; value: assumption)")
    needy_support_yuan_week: float = param(50.0, "yuan/(person·week)", 0, 100_000,
                                           help="most the fund pays one needy resident per week (关爱帮扶)")
    # --- organisations ------------------------------------------------------------------------------
    org_staff: int = param(2, "persons", 0, 1000, help="social workers employed by a professional agency")
    org_cost_yuan_week: float = param(1500.0, "yuan/week", 0, 1_000_000,
                                      help="running cost of a professional agency")
    org_fold_weeks: int = param(26, "weeks", 1, 520,
                                prior=(13, 52), help="weeks without income after which an agency folds")
    org_seed_budget_yuan: float = param(2000.0, "yuan", 0, 10_000_000,
                                        help="budget an agency setting up to bid starts with, besides half a "
                                             "year's costs")
    self_org_founders: int = param(10, "persons", 2, 1000,
                                   help="active residents of one grid, outside any group, it takes to found a "
                                        "self-organisation",
                                   source="园艺会: 组成时只有十几个成员 (docs/literature.md [O2])")
    self_org_emergence_prob: float = param(0.01, "1/week", 0, 1,
                                           help="weekly chance such a group of active residents founds one in a "
                                                "grid without a group; with k groups, this ÷ (1 + k)² (groups "
                                                "compete for members: assumption)")
    self_org_min_members: int = param(5, "persons", 1, 1000,
                                      help="members below which a self-organisation dissolves")
    self_org_join_prob: float = param(0.02, "1/week", 0, 1,
                                      help="weekly chance an active resident outside any group joins one of "
                                           "their grid's self-organisations")
    self_org_leave_prob: float = param(0.005, "1/week", 0, 1,
                                       help="weekly chance a member leaves (≈ 23 %/year)")
    member_activity_prob: float = param(0.08, "1/week", 0, 1,
                                        help="weekly chance a member takes part in the group's mutual-aid activity")
    member_cases_week: float = param(0.05, "cases/(member·week)", 0, 100,
                                     help="simple demands a self-organisation's member helps with a week")
    # --- the project round (需求调研 → 项目设计 → 双向认领 → 资助 → 实施 → 评估) ------------------------
    project_cycle_weeks: int = param(52, "weeks", 4, 520,
                                     help="weeks between project rounds (a project runs one cycle)",
                                     source="公益创投: 实施周期为一年 (docs/literature.md [P3])")
    survey_households_per_worker: float = param(300.0, "households/(worker·round)", 0, 100_000,
                                                help="households one social worker surveys in a needs survey",
                                                source="up to ¼ of households sampled (docs/literature.md [P15]); "
                                                       "value: assumption")
    projects_per_worker: float = param(2.0, "projects/(worker·round)", 0, 100,
                                       help="projects one social worker can design and supervise in a round")
    places_per_project: int = param(40, "persons", 1, 100_000,
                                    help="residents a project serves")
    project_cost_yuan: float = param(25000.0, "yuan", 1, 10_000_000, prior=(10_000.0, 100_000.0),
                                     help="cost of one project for a round",
                                     source="公益创投 1万~10万元 per project (docs/literature.md [P1][P2])")
    session_prob: float = param(0.5, "1/week", 0, 1,
                                help="weekly chance a served resident takes part in a project session")
    volunteers_per_project: float = param(4.0, "volunteers/(project·week)", 0, 1000,
                                          help="volunteers a project needs a week to hold all its sessions; with "
                                               "none, the organisation's staff hold half of them (assumption)",
                                          source="volunteers assist under social workers: 「以社区志愿者为辅助」 "
                                                 "(docs/literature.md [P9]); numbers: assumption")
    self_org_session_success: float = param(0.80, "probability", 0, 1,
                                            help="chance a session run by a self-organisation goes well")
    claim_prob: float = param(0.5, "probability", 0, 1,
                              prior=(0.1, 0.9),
                              help="chance a resident unit claims a listed project in a round, at full "
                                   "party-building strength")
    social_worker_wage_yuan_per_year: float = param(60000.0, "yuan/(worker·year)", 0, 10_000_000,
                                                    help="what government pays per station social worker",
                                                    source="每个站资助15万元用于聘请3名社工 ≈ 50,000 "
                                                           "(docs/literature.md [O7]); 60,000: 2020s wages")

    def __post_init__(self) -> None:
        for a, b in (("professional_share", "structural_share"), ("complaint_share", "suggestion_share")):
            total = getattr(self, a) + getattr(self, b)
            if total > 1 + 1e-9:
                raise ConfigError(f"behaviour.{a} + behaviour.{b} = {total:g} exceeds 1: they are shares of the "
                                  "same work orders")

    def time_limit_weeks(self) -> tuple[int, int, int]:
        """The time limits of help, complaint and suggestion orders in weeks: working days ÷ 5, rounded up (a week
        is the model's step; the week an order is reported counts as the first)."""
        return tuple(weeks_of(d) for d in (self.help_limit_days, self.complaint_limit_days,
                                           self.suggestion_limit_days))

    def longest_wait_weeks(self) -> int:
        """The longest an order can stay open on time: the longest time limit and the extension."""
        return max(self.time_limit_weeks()) + weeks_of(self.extension_days)


# --------------------------------------------------------------------------------------------
# A district of communities (configs/district/*.yaml)
# --------------------------------------------------------------------------------------------
@dataclass
class DistrictMember:
    """``count`` communities of the community preset ``preset`` (a file of configs/community/)."""

    preset: str = param("urban_traditional", "-", help="community preset")
    count: int = param(1, "communities", 1, 10_000, help="how many communities of this preset")


@dataclass
class DistrictConfig:
    """A district (区): communities of mixed presets sharing a purchase budget and a social-work station."""

    name: str = param("district", "-", help="district preset name")
    label_zh: str = param("区", "-", help="Chinese name of the district preset")
    communities: list[DistrictMember] = field(default_factory=list, metadata={
        "unit": "-", "lo": None, "hi": None, "help": "the district's communities by preset", "source": ASSUMPTION,
        "choices": None})
    purchase_budget_yuan_per_year: float = param(-1.0, "yuan/year", -1, 100_000_000_000,
                                                 help="shared government purchase budget; -1 = the policy's "
                                                      "per-community budget × number of communities")
    station_social_workers: int = param(40, "persons", 0, 100_000,
                                        help="social workers of the district social-work station (社工站)",
                                        source="003: 社工站; 专栏1 #22 社会工作专业人才 0.1万人 (district)")
    communities_per_worker: int = param(2, "communities/worker", 1, 1000,
                                        help="communities each district social worker serves")

    def __post_init__(self) -> None:
        if not self.communities:
            raise ConfigError("district.communities is empty: list presets with counts, "
                              "e.g. [{preset: urban_traditional, count: 10}]")
        known = community_presets()
        for k, m in enumerate(self.communities):
            if m.preset not in known:
                raise ConfigError(f"district.communities[{k}].preset={m.preset!r} is not a community preset; "
                                  f"choose one of: {', '.join(known)}")


def _preset_files(group: str) -> dict[str, str]:
    """name → text of the presets shipped in configs/<group>/ (the one source of the preset lists)."""
    from importlib.resources import files

    return {p.name[:-5]: p.read_text(encoding="utf-8") for p in files("sim.configs").joinpath(group).iterdir()
            if p.name.endswith(".yaml")}


def preset_names(group: str) -> list[str]:
    """Names of the presets of a config group (``community``, ``policy``, ``district``, ``behaviour``), sorted."""
    return sorted(_preset_files(group))


def community_presets() -> list[str]:
    """Names of the community presets shipped in configs/community/."""
    return sorted(_preset_files("community"))


def district_presets() -> list[str]:
    """Names of the district presets shipped in configs/district/."""
    return sorted(_preset_files("district"))


def policy_presets() -> list[str]:
    """Names of the policy presets shipped in configs/policy/: the baseline (every comparison's control) first, then
    by name.  Pages and tables show them in the glossary's order (:func:`sim.tables.glossary.in_display_order`)."""
    return sorted(_preset_files("policy"), key=lambda n: (n != "baseline", n))


# --------------------------------------------------------------------------------------------
# How a sweep runs its jobs (not what a run computes: left out of the config hash)
# --------------------------------------------------------------------------------------------
@dataclass
class SweepConfig:
    """Limits and locking of a sweep's jobs (``python -m sim -m``, ``sim.runs.runner.run_many``); 0 = no limit."""

    job_memory_gb: float = param(0.0, "GB", 0, 1024,
                                 help="resident memory a job may use (read every 0.05 s); a job that exceeds it "
                                      "is stopped and recorded as failed with the limit as its cause; 0 = no limit")
    job_timeout_s: float = param(0.0, "s", 0, 604_800,
                                 help="wall time a job may take before it is stopped and recorded as failed; "
                                      "0 = no limit")
    wait: bool = param(True, "-", help="if another sweep is writing into the same folder: wait for it (true) "
                                       "or refuse to start (false)")
    max_jobs: int = param(100_000, "jobs", 1, 10**12,
                          help="a sweep of more jobs is refused before anything is built (raise it if you mean it)")


# --------------------------------------------------------------------------------------------
# The whole run
# --------------------------------------------------------------------------------------------
@dataclass
class SimConfig:
    """One run: a community under a policy, for `steps` weeks, from `seed`."""

    steps: int = param(260, "weeks", 1, 5200, help="weeks to simulate (260 = one five-year plan)")
    warmup_weeks: int = param(208, "weeks", 0, 5200,
                              help="weeks run before week 1 under the baseline levers and not recorded, so that "
                                   "readings start from the status quo's steady state (docs/warmup.md)")
    seed: int = param(0, "-", 0, 2**32 - 1, help="random seed")
    progress: bool = param(True, "-", help="show a progress bar")
    lang: str = param("en", "-", help="language of the printed KPI table", choices=("en", "zh"))
    overwrite: bool = param(False, "-", help="replace a finished run already in the run folder (python -m sim; "
                                             "without it such a run is refused)")
    processes: int = param(0, "processes", 0, 1024,
                           help="processes a district's communities run in (0: one per core); a district's outputs "
                                "are the same for any number, and a single community ignores it")
    community: CommunityConfig = section(CommunityConfig)
    policy: PolicyConfig = section(PolicyConfig)
    behaviour: BehaviourConfig = section(BehaviourConfig)
    sweep: SweepConfig = section(SweepConfig)
    district: DistrictConfig | None = field(default=None, metadata={
        "unit": "-", "lo": None, "hi": None, "help": "a district of many communities (district=enyang_like); "
        "none = one community", "source": ASSUMPTION, "choices": None})

    def __post_init__(self) -> None:
        check_ranges(self)
        if self.district is not None:
            for lever in LEVERS:
                if schedule.is_scheduled(getattr(self.policy, lever.name)):
                    raise ConfigError(f"policy.{lever.name}: start_week, end_week and changes are for one community; "
                                      f"a district (district={self.district.name}) runs its policy for the whole run")


# --------------------------------------------------------------------------------------------
# Validation and conversion
# --------------------------------------------------------------------------------------------
def iter_params(obj_or_cls, prefix: str = ""):
    """Yield (dotted key, dataclass field, value or default) for every leaf parameter."""
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        if isinstance(obj_or_cls, type):
            value = f.default_factory() if f.default is dataclasses.MISSING else f.default
            if f.name == "district":  # documented with its own fields
                yield from iter_params(DistrictConfig, key + ".")
                continue
        else:
            value = getattr(obj_or_cls, f.name)
        if isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
            for k, item in enumerate(value):
                yield from iter_params(item, f"{key}[{k}].")
            continue
        if dataclasses.is_dataclass(value):
            yield from iter_params(value if not isinstance(obj_or_cls, type) else type(value), key + ".")
        else:
            yield key, f, value


def check_ranges(cfg: SimConfig) -> None:
    """Raise ConfigError naming the first key whose value is outside its allowed range."""
    for key, f, value in iter_params(cfg):
        check_leaf(key, f, value)


