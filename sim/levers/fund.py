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


def is_market_led(model) -> bool:
    return model.policy.fund.governance is Governance.market_led


def giving_factor(model) -> float:
    """Residents give more to a fund that appeals publicly, publishes openly and is run by residents:
    (1 + fundraising_boost if it appeals) × (1 + transparency_giving × transparency)
    × (1 + resident_led_giving if resident-led) (behaviour.*; sizes: assumption)."""
    b, lever = model.cfg.behaviour, model.policy.fund
    return (1 + b.fundraising_boost * lever.public_fundraising) \
        * (1 + b.transparency_giving * lever.transparency) \
        * (1 + b.resident_led_giving * (lever.governance is Governance.resident_led))


def match(model, fund, donations_fen: int) -> None:
    """The government matches residents' gifts, ``government_match_ratio`` yuan per yuan (public cost)."""
    ratio = model.policy.fund.government_match_ratio
    if ratio > 0 and donations_fen > 0:
        matched = round(donations_fen * ratio)
        fund.receive("government", matched)
        model.add_public_cost("matching", matched)


def grant(model, fund) -> None:
    """The government's grant to the fund, a fifty-second of the year's each week (public cost)."""
    lever = model.policy.fund
    if lever.government_grant_yuan_per_year > 0:
        fen = round(lever.government_grant_yuan_per_year * 100 / 52)
        fund.receive("government", fen)
        model.add_public_cost("fund_grant", fen)


def weekly_budget(model, free_fen: int) -> int:
    """What the fund spends this week from its free balance: ``spend_share_per_week`` of it (whole fen)."""
    return int(free_fen * model.policy.fund.spend_share_per_week)


def share_of(model, budget_fen: int, use: str) -> int:
    """The part of the week's budget for ``use`` (``needy``, ``services`` or ``projects``: ``<use>_share``)."""
    return int(budget_fen * getattr(model.policy.fund, f"{use}_share"))


def admin_fee(model, spent_fen: int) -> int:
    """Administration: ``admin_share`` of what was spent (whole fen)."""
    return round(spent_fen * model.policy.fund.admin_share)


LEVER = Lever("fund", FundLever, order=30, source="003: 大力推进社区基金发展")
