"""Business that supports charity (商业支持公益, 004 顺河社区): charity sales and the social enterprise.

* Charity sales: only handicraft workshops (a self-organisation with a product, 004 豌豆手工坊) sell,
  and only to residents who buy: each adult buys with chance ``charity_buy_prob`` × civic propensity
  a week, spending ``charity_buy_yuan`` ([G15]); sales are what buyers spend, at most what the
  workshops can offer (``output_yuan_per_workshop_week`` each).  ``share_to_fund`` of the proceeds goes
  to the fund.  So charity-sale income never exceeds buyers' spending.
* The social enterprise exists only where the preset has an asset to run
  (``community.social_enterprise_asset``, 004 精品游线) and the policy sets it up.  It earns revenue
  (±50 % market noise, assumption), employs ``jobs`` residents, takes ``service_cases_week`` simple
  demands (its ``capacity``) and gives ``reinvest_share`` of its profit to the fund.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.levers import charity_sales, social_enterprise
from sim.model.organisations import OrgKind

if TYPE_CHECKING:  # pragma: no cover
    from sim.model.community_model import CommunityModel


@dataclass(frozen=True)
class SalesWeek:
    """This week's charity sales (buyers' spending, proceeds, to the fund) and social-enterprise money (fen)."""

    buyers_spend_fen: int
    charity_sales_fen: int
    charity_to_fund_fen: int
    enterprise_revenue_fen: int
    enterprise_to_fund_fen: int
    jobs: int


def sales_week(model: CommunityModel) -> SalesWeek:
    """Charity sales and the social enterprise's week (draws from the ``market`` stream, a fixed number)."""
    r, b = model.residents, model.cfg.behaviour
    rng = model.streams["market"]
    u_buy = rng.random(r.size, dtype=np.float32)
    u_revenue = rng.random()
    buyers = r.adult & (u_buy < b.charity_buy_prob * r.civic)
    spend = round(np.count_nonzero(buyers) * b.charity_buy_yuan * 100)
    workshops = [o for o in model.organisations if o.workshop]
    sales = to_fund = 0
    offer = charity_sales.offer_fen(model, len(workshops))
    if offer is not None:
        sales = min(spend, offer)
        to_fund = charity_sales.to_fund(model, sales)
        model.fund.receive("charity_sales", to_fund)
        shares = np.full(len(workshops), (sales - to_fund) // len(workshops))
        shares[0] += (sales - to_fund) - int(shares.sum())
        for o, fen in zip(workshops, shares.tolist(), strict=True):
            o.earn(fen)
    revenue = give = jobs = 0
    for se in (o for o in model.organisations if o.kind is OrgKind.SOCIAL_ENTERPRISE):
        revenue, profit, give, jobs = social_enterprise.trade(model, u_revenue)
        model.fund.receive("social_enterprise", give)
        se.earn(profit - give)
    return SalesWeek(buyers_spend_fen=spend, charity_sales_fen=sales, charity_to_fund_fen=to_fund,
                     enterprise_revenue_fen=revenue, enterprise_to_fund_fen=give, jobs=jobs)
