"""The policy levers of the five-society linkage: one dataclass per lever (configs/policy/*.yaml set them).

A policy (:class:`PolicyConfig`) is a set of levers; each lever's parameters carry unit, range, meaning and
source (:func:`sim.params.param`).  Which rules of the model read each lever is listed in docs/ODD.md
("Where each lever's rules live"), generated from the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sim.params import ConfigError, param, section


class Governance(Enum):
    """Who runs the community fund (003: 政府主导、市场主导、居民主导 types of community fund)."""

    government_led = "government_led"
    market_led = "market_led"
    resident_led = "resident_led"


# --------------------------------------------------------------------------------------------
# Policy levers (configs/policy/*.yaml)
# --------------------------------------------------------------------------------------------
@dataclass
class MicroFundLever:
    """One-cent charity (一分钱公益, 004): a fixed donation per unit sold to the micro-fund."""

    fen_per_unit: float = param(0.0, "fen/unit", 0, 10_000,
                                help="donation per unit sold, in fen (1 fen = 0.01 yuan)",
                                source="004: 每售卖一瓶酒，向社区微基金捐赠1分钱")
    participating_share: float = param(1.0, "fraction", 0, 1,
                                       help="share of product enterprises that join the scheme")


@dataclass
class EnterpriseLever:
    """What resident units (驻区单位) give besides the per-unit donation (003: 双向认领)."""

    lump_yuan_per_year: float = param(0.0, "yuan/(enterprise·year)", 0, 10_000_000,
                                      help="lump donation of each donating enterprise, paid in week 1 of each year")
    lump_donor_share: float = param(0.0, "fraction", 0, 1,
                                    help="share of enterprises that make a lump donation")
    moral_bank_sponsor_yuan_per_year: float = param(0.0, "yuan/(enterprise·year)", 0, 10_000_000,
                                                    help="goods each donating enterprise gives to stock the moral "
                                                         "bank (a donation, 003: 道德银行)")
    employee_volunteer_hours_week: float = param(0.0, "hours/(enterprise·week)", 0, 1000,
                                                 help="employee volunteer hours a unit lends to each project it "
                                                      "claims, while the project runs (003: 双向认领)")
    claim_yuan_per_project: float = param(5000.0, "yuan/project", 0, 10_000_000,
                                          help="money a resident unit gives to a project it claims "
                                               "(003: 三张清单和双向认领; amount: assumption)")
    cause_marketing_uplift: float = param(0.0, "fraction", 0, 2,
                                          help="sales increase at full reputation from giving (assumption, default 0)")


@dataclass
class FundLever:
    """The community (micro-)fund's governance and spending (003: 大力推进社区基金发展)."""

    governance: Governance = param(Governance.government_led, "-",
                                   help="who runs the fund", source="003: 政府主导/市场主导/居民主导",
                                   choices=tuple(g.name for g in Governance))
    transparency: float = param(0.3, "0-1", 0, 1,
                                help="how openly income and spending are published (003: 公开、公平、透明)")
    public_fundraising: bool = param(False, "-", help="the fund appeals to residents for donations "
                                                      "(effect size: assumption, see behaviour.fundraising_boost)")
    government_grant_yuan_per_year: float = param(0.0, "yuan/year", 0, 100_000_000,
                                                  help="government grant to the fund, paid weekly")
    government_match_ratio: float = param(0.0, "yuan/yuan", 0, 10,
                                          help="government match per yuan of resident donations")
    spend_share_per_week: float = param(0.04, "fraction/week", 0, 1,
                                        help="share of the balance the fund spends each week")
    needy_share: float = param(0.4, "fraction", 0, 1, help="share of spending on needy residents")
    services_share: float = param(0.3, "fraction", 0, 1,
                                  help="share of spending on services bought from organisations")
    projects_share: float = param(0.3, "fraction", 0, 1,
                                  help="share of spending put into the project pot (the fund committee's "
                                       "awards in the yearly project round)")
    admin_share: float = param(0.05, "fraction", 0, 0.5,
                               help="share of each week's spending kept for administration")

    def __post_init__(self) -> None:
        total = self.needy_share + self.services_share + self.projects_share
        if abs(total - 1.0) > 1e-6:
            raise ConfigError("policy.fund.needy_share + services_share + projects_share must sum to 1, "
                              f"got {total:.6f}")


@dataclass
class MoralBankLever:
    """Moral bank (道德银行, 003): civic acts earn points, redeemable for goods."""

    enabled: bool = param(False, "-", help="the moral bank runs", source="003: 道德银行、志愿者积分机制")
    points_per_activity: float = param(10.0, "points/activity", 0, 1000,
                                       help="points a resident earns per volunteer or project activity")
    points_per_civic_act: float = param(2.0, "points/act", 0, 1000,
                                        help="points per other civic act (垃圾分类, 邻里互助 …)",
                                        source="003: 道德银行 (文明行为积分); value: assumption")
    government_yuan_per_year: float = param(0.0, "yuan/year", 0, 100_000_000,
                                            help="government money stocking the moral bank, paid weekly",
                                            source="003:208 asks government to support the moral bank")
    yuan_per_point: float = param(0.2, "yuan/point", 0, 100, help="value of a point when redeemed")
    redeem_threshold_points: float = param(100.0, "points", 1, 100_000,
                                           help="points a resident needs before redeeming")


@dataclass
class GovPurchaseLever:
    """Government purchase of services (政府购买服务, 003) from social organisations."""

    budget_yuan_per_year: float = param(0.0, "yuan/year", 0, 1_000_000_000,
                                        help="yearly budget for service contracts", source="003: 政府购买服务")
    contract_weeks: int = param(52, "weeks", 1, 520, help="length of a contract",
                                source="yearly contracts: 项目购买一般采取年度制 (docs/literature.md [P9])")
    cost_per_case_yuan: float = param(400.0, "yuan/case", 1, 100_000,
                                      help="what a contracted organisation is paid per case of capacity; its "
                                           "posts are paid by the same money (a post handles "
                                           "behaviour.org_cases_per_staff_week cases)",
                                      source="a purchased social-work post costs ≈ 62,000 yuan a year (national "
                                             "2021: 24.9亿 for 4万 social workers, docs/literature.md [K32]; "
                                             "Shenzhen 6万, [K33]) ÷ (3 cases a week × 52) ≈ 400")
    self_governing_share: float = param(0.0, "fraction", 0, 1,
                                        help="share of the budget contracted to the community's self-governing "
                                             "bodies (居委会、居民小组) for simple-case services, handled with the "
                                             "community workers; the rest goes to registered agencies "
                                             "(share: assumption)",
                                        source="003: 政府购买服务 from 社会组织 and 社区自治组织")


@dataclass
class CharitySalesLever:
    """Self-organisations' charity sales feed the micro-fund (004, 顺河社区 豌豆手工坊)."""

    enabled: bool = param(False, "-", help="handicraft workshops sell their products for the fund",
                          source="004: 豌豆手工坊 通过义卖反哺社区微基金")
    output_yuan_per_workshop_week: float = param(300.0, "yuan/(workshop·week)", 0, 1_000_000,
                                                 help="value of the goods one workshop can offer a week "
                                                      "(assumption)")
    share_to_fund: float = param(0.7, "fraction", 0, 1, help="share of proceeds given to the fund")


@dataclass
class SocialEnterpriseLever:
    """Community social enterprises reinvest profits in the community (004, 顺河社区 精品游线)."""

    enabled: bool = param(False, "-", help="a community social enterprise runs the community's asset "
                                           "(only where the preset has one: community.social_enterprise_asset)",
                          source="004: 社区社会企业通过运营精品游线实现盈利并反哺社区")
    revenue_yuan_per_week: float = param(300.0, "yuan/week", 0, 10_000_000,
                                         help="revenue of the social enterprise",
                                         source="成都 十八匠: 收益近3万元 over ≈ 2 years (docs/literature.md [O3])")
    jobs: int = param(3, "persons", 0, 1000, help="residents the social enterprise employs (assumption)",
                      source="成都 社区社会企业: residents employed (docs/literature.md [O3])")
    service_cases_week: float = param(2.0, "cases/week", 0, 1000,
                                      help="simple demands of residents the enterprise's staff take a week "
                                           "(assumption)")
    margin: float = param(0.2, "fraction", 0, 1, help="profit as a share of revenue")
    reinvest_share: float = param(0.5, "fraction", 0, 1, help="share of profit given to the fund")


@dataclass
class SocialWorkLever:
    """Professional social workers (003, 004: 专业社工+志愿服务)."""

    extra_social_workers: int = param(0, "persons", 0, 1000,
                                      help="social workers added to the station by the policy")
    volunteers_per_worker: float = param(100.0, "volunteers/worker", 1, 10_000,
                                         help="volunteers one social worker can supervise")
    supervision_gain: float = param(0.5, "fraction", 0, 5,
                                    help="volunteer capacity: cases per hour × (1 + gain × supervision coverage)")
    mobilisation: bool = param(False, "-", help="social workers recruit volunteers")
    incubations_per_worker_year: float = param(0.3, "organisations/(worker·year)", 0, 50,
                                               help="groups of active residents a station worker helps form "
                                                    "a self-organisation (incubation)",
                                               source="003: 孵化培育社会组织; rate: assumption")


@dataclass
class DeliberationLever:
    """Residents' deliberation (003 四议; 004 爱邻议事日、火塘议事会) decides fund projects."""

    enabled: bool = param(False, "-", help="residents' council meets; in the project round it ranks the "
                                           "listed projects the fund committee pays for")
    interval_weeks: int = param(4, "weeks", 1, 52, help="weeks between council meetings")


@dataclass
class PartyBuildingLever:
    """Party-led convening (党建引领): the community party organisation calls resident units to claim projects."""

    strength: float = param(0.0, "0-1", 0, 1,
                            help="how strongly the party organisation convenes resident units (双报到); "
                                 "a unit claims a listed project with chance strength × behaviour.claim_prob",
                            source="003: 党建引领, 三张清单和双向认领; 双报到 (docs/literature.md [V18])")


@dataclass
class VentureLever:
    """Venture philanthropy (公益创投): a government competition that funds community projects."""

    budget_yuan_per_year: float = param(0.0, "yuan/year", 0, 100_000_000,
                                        help="government money awarded to projects in the yearly round",
                                        source="公益创投: 1万~10万元 per project (docs/literature.md [P1][P2])")


@dataclass
class PolicyConfig:
    """A policy: a set of five-society-linkage levers. Files in configs/policy/ set them."""

    name: str = param("baseline", "-", help="policy preset name")
    label_zh: str = param("基线（无联动）", "-", help="Chinese name of the policy")
    micro_fund: MicroFundLever = section(MicroFundLever)
    enterprise: EnterpriseLever = section(EnterpriseLever)
    fund: FundLever = section(FundLever)
    moral_bank: MoralBankLever = section(MoralBankLever)
    gov_purchase: GovPurchaseLever = section(GovPurchaseLever)
    charity_sales: CharitySalesLever = section(CharitySalesLever)
    social_enterprise: SocialEnterpriseLever = section(SocialEnterpriseLever)
    social_work: SocialWorkLever = section(SocialWorkLever)
    deliberation: DeliberationLever = section(DeliberationLever)
    party_building: PartyBuildingLever = section(PartyBuildingLever)
    venture: VentureLever = section(VentureLever)
