"""Self-organisations' charity sales feed the micro-fund (004, 顺河社区 豌豆手工坊).

Rules: handicraft workshops offer their goods, buyers among the residents pay, a share goes to the fund
(:func:`sim.model.sales.sales_week`).
"""

from __future__ import annotations

from sim.levers.base import Lever, lever_params
from sim.settings.params import Widget, param


@lever_params
class CharitySalesLever:
    """Self-organisations' charity sales feed the micro-fund (004, 顺河社区 豌豆手工坊)."""

    enabled: bool = param(False, "-", help="handicraft workshops sell their products for the fund",
                          source="004: 豌豆手工坊 通过义卖反哺社区微基金",
                          widget=Widget("toggle", "lever_charity_sales", rank=160))
    output_yuan_per_workshop_week: float = param(300.0, "yuan/(workshop·week)", 0, 1_000_000,
                                                 help="value of the goods one workshop can offer a week "
                                                      "(assumption)")
    share_to_fund: float = param(0.7, "fraction", 0, 1, help="share of proceeds given to the fund")


def offer_fen(model, workshops: int) -> int | None:
    """What the workshops offer this week, ``output_yuan_per_workshop_week`` each; None where no sale is held (the
    lever off, or no workshop)."""
    lever = model.policy.charity_sales
    return round(workshops * lever.output_yuan_per_workshop_week * 100) if lever.enabled and workshops else None


def to_fund(model, sales_fen: int) -> int:
    """The fund's part of the proceeds (``share_to_fund``)."""
    return round(sales_fen * model.policy.charity_sales.share_to_fund)


LEVER = Lever("charity_sales", CharitySalesLever, order=60, source="004: 豌豆手工坊 通过义卖反哺社区微基金")
