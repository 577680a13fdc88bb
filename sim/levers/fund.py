"""The community (micro-)fund's governance and spending (003: 大力推进社区基金发展).

Rules: the fund's own (:class:`sim.model.fund.CommunityFund`: matching, the government grant, weekly spending by share);
residents' giving depends on governance, transparency and the appeal (:meth:`sim.model.residents.Residents.donate`),
enterprises' lumps on market-led governance (:meth:`sim.model.enterprises.Enterprise.give_lump`).
"""

from __future__ import annotations

from enum import Enum

from sim.levers.base import Lever, lever_params
from sim.settings.params import ConfigError, Widget, param


class Governance(Enum):
    """Who runs the community fund (003: 政府主导、市场主导、居民主导 types of community fund)."""

    government_led = "government_led"
    market_led = "market_led"
    resident_led = "resident_led"


@lever_params
class FundLever:
    """The community (micro-)fund's governance and spending (003: 大力推进社区基金发展)."""

    governance: Governance = param(Governance.government_led, "-",
                                   help="who runs the fund", source="003: 政府主导/市场主导/居民主导",
                                   choices=tuple(g.name for g in Governance),
                                   widget=Widget("select", "lever_governance", rank=100))
    transparency: float = param(0.3, "0-1", 0, 1,
                                help="how openly income and spending are published (003: 公开、公平、透明)",
                                widget=Widget("slider", "lever_transparency", 0.0, 1.0, 0.05, rank=90))
    public_fundraising: bool = param(False, "-", help="the fund appeals to residents for donations "
                                                      "(effect size: assumption, see behaviour.fundraising_boost)",
                                     widget=Widget("toggle", "lever_fundraising", rank=110))
    government_grant_yuan_per_year: float = param(0.0, "yuan/year", 0, 100_000_000,
                                                  help="government grant to the fund, paid weekly", money=True)
    government_match_ratio: float = param(0.0, "yuan/yuan", 0, 10,
                                          help="government match per yuan of resident donations", money=True,
                                          prior=(0.0, 2.0),
                                          widget=Widget("slider", "lever_match", 0.0, 2.0, 0.1, rank=120))
    spend_share_per_week: float = param(0.04, "fraction/week", 0, 1,
                                        help="share of the balance the fund spends each week", prior=(0.01, 0.10))
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


LEVER = Lever("fund", FundLever, order=30, source="003: 大力推进社区基金发展")
