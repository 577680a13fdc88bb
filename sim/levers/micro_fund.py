"""One-cent charity (一分钱公益, 004): enterprises give a fixed donation per unit sold to the micro-fund.

Rules: which product enterprises join the scheme (:func:`join`, when the values come into force); what a joining
enterprise gives per unit sold is its sale rule (:meth:`sim.model.enterprises.Enterprise.sell`), earmarked for care of
needy residents (004: 用于贴心关爱帮扶).
"""

from __future__ import annotations

import math

from sim.levers.base import Lever, lever_params
from sim.settings.params import Widget, param


@lever_params
class MicroFundLever:
    """One-cent charity (一分钱公益, 004): a fixed donation per unit sold to the micro-fund."""

    fen_per_unit: float = param(0.0, "fen/unit", 0, 10_000,
                                help="donation per unit sold, in fen (1 fen = 0.01 yuan)",
                                source="004: 每售卖一瓶酒，向社区微基金捐赠1分钱",
                                prior=(0.0, 5.0),  # the source: 1 fen
                                widget=Widget("slider", "lever_fen", 0.0, 10.0, 0.5, rank=10))
    participating_share: float = param(1.0, "fraction", 0, 1,
                                       help="share of product enterprises that join the scheme")


def join(model, lever: MicroFundLever) -> None:
    """The first ``participating_share`` of the product enterprises (rounded half up) give per unit sold."""
    c = model.cfg.community
    n_join = math.floor(lever.participating_share * c.product_enterprises + 0.5)  # half up
    for rank, e in enumerate(model.enterprises):
        e.per_unit_donor = e.sells_product and rank < n_join


def give_per_unit(model, enterprise) -> int:
    """A joining enterprise gives ``fen_per_unit`` fen for each unit it sold this week, whole fen (a fraction of a fen
    carried to the next week), into the fund's care pot (004: 用于贴心关爱帮扶); returns the fen given."""
    lever = model.policy.micro_fund
    if not (enterprise.per_unit_donor and lever.fen_per_unit > 0):
        return 0
    owed = enterprise.units_sold * lever.fen_per_unit + enterprise.fen_carry
    give_fen = math.floor(owed + 1e-9)
    enterprise.fen_carry = max(0.0, owed - give_fen)
    model.fund.receive("enterprise_per_unit", give_fen, pot="care")
    return give_fen


LEVER = Lever("micro_fund", MicroFundLever, order=10, rules={"policy_start": join},
              source="004: 企业每售卖一瓶酒，向社区微基金捐赠1分钱，用于贴心关爱帮扶")
