"""Community social enterprises reinvest profits in the community (004, 顺河社区 精品游线).

Rules: a social enterprise is founded where the community has an asset for it (:func:`found`, when the values come
into force); it trades and gives a share of its profit to the fund (:func:`sim.model.sales.sales_week`) and its staff
take simple demands (:meth:`sim.model.organisations.SocialOrganization.capacity`).
"""

from __future__ import annotations

from sim.levers.base import Lever, lever_params
from sim.settings.params import Widget, param


@lever_params
class SocialEnterpriseLever:
    """Community social enterprises reinvest profits in the community (004, 顺河社区 精品游线)."""

    enabled: bool = param(False, "-", help="a community social enterprise runs the community's asset "
                                           "(only where the preset has one: community.social_enterprise_asset)",
                          source="004: 社区社会企业通过运营精品游线实现盈利并反哺社区",
                          widget=Widget("toggle", "lever_social_enterprise", rank=170))
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


def found(model, lever: SocialEnterpriseLever) -> None:
    """Found the community's social enterprise, once, if the lever is on and the community has an asset for it."""
    if lever.enabled and model.cfg.community.social_enterprise_asset and not model.has_social_enterprise():
        model.found_social_enterprise()


def service_cases(model) -> float:
    """Simple demands the social enterprise's staff take a week."""
    return model.policy.social_enterprise.service_cases_week


def trade(model, u_revenue: float) -> tuple[int, int, int, int]:
    """The social enterprise's week (004): revenue around ``revenue_yuan_per_week`` (× 0.5–1.5, ``u_revenue``),
    profit at ``margin``, ``reinvest_share`` of it to the fund; returns (revenue, profit, given, jobs) in fen and
    persons."""
    lever = model.policy.social_enterprise
    revenue = round(lever.revenue_yuan_per_week * (0.5 + u_revenue) * 100)
    profit = round(revenue * lever.margin)
    give = round(profit * lever.reinvest_share)
    return revenue, profit, give, lever.jobs


LEVER = Lever("social_enterprise", SocialEnterpriseLever, order=70, rules={"policy_start": found},
              source="004: 社区社会企业通过运营精品游线实现盈利并反哺社区")
