"""Moral bank (道德银行, 003): civic acts earn points that residents redeem for goods.

Rules: government stocks the bank each week (:func:`stock`, 003:208 asks for government support); residents earn
points for volunteer and project activities and civic acts, the bank's recognition raises activity and
registration, and residents redeem points (:class:`sim.model.residents.Residents`: ``take_part``, ``civic_acts``,
``reward_sessions``, ``redeem_points``, ``register_volunteers``); enterprises donate goods
(:meth:`sim.model.enterprises.Enterprise.give_lump`).
"""

from __future__ import annotations

from sim.levers.base import Lever, lever_params
from sim.settings.params import Widget, param


@lever_params
class MoralBankLever:
    """Moral bank (道德银行, 003): civic acts earn points, redeemable for goods."""

    enabled: bool = param(False, "-", help="the moral bank runs", source="003: 道德银行、志愿者积分机制",
                          widget=Widget("toggle", "lever_moral_bank", rank=60))
    points_per_activity: float = param(10.0, "points/activity", 0, 1000,
                                       help="points a resident earns per volunteer or project activity",
                                       prior=(0.0, 20.0),
                                       widget=Widget("slider", "lever_points", 0.0, 50.0, 1.0,
                                                     requires="policy.moral_bank.enabled", rank=70))
    points_per_civic_act: float = param(2.0, "points/act", 0, 1000,
                                        help="points per other civic act (垃圾分类, 邻里互助 …)",
                                        source="003: 道德银行 (文明行为积分); value: assumption")
    government_yuan_per_year: float = param(0.0, "yuan/year", 0, 100_000_000,
                                            help="government money stocking the moral bank, paid weekly",
                                            source="003:208 asks government to support the moral bank", money=True,
                                            widget=Widget("number", "lever_moral_bank_gov", 0, 500_000, 5_000,
                                                          requires="policy.moral_bank.enabled", rank=80))
    yuan_per_point: float = param(0.2, "yuan/point", 0, 100, help="value of a point when redeemed")
    redeem_threshold_points: float = param(100.0, "points", 1, 100_000,
                                           help="points a resident needs before redeeming")


def stock(model, lever: MoralBankLever) -> None:
    """Government money stocks the bank's pot of the fund, a fifty-second of the year's support each week (003:208)."""
    if lever.government_yuan_per_year > 0:
        support = round(lever.government_yuan_per_year * 100 / 52)
        model.fund.receive("government", support, pot="moral_bank")
        model.add_public_cost("moral_bank", support)


def runs(model) -> bool:
    """Whether the moral bank runs this week."""
    return model.policy.moral_bank.enabled


def activity_factor(model) -> float:
    """Recognised volunteers take part more: × (1 + ``behaviour.activity_recognition_boost``) where the bank runs."""
    return 1 + model.cfg.behaviour.activity_recognition_boost * model.policy.moral_bank.enabled


def registration_factor(model) -> float:
    """Residents register more where the bank runs: × (1 + ``behaviour.register_moral_bank``)."""
    return 1 + model.cfg.behaviour.register_moral_bank * model.policy.moral_bank.enabled


def award(model, residents, who, act: str) -> bool:
    """Points for ``who`` (a mask or indices of residents) for a volunteer or project ``activity`` or another
    ``civic`` act, where the bank runs; returns whether it runs (the acts then count as recognised)."""
    lever = model.policy.moral_bank
    if lever.enabled:
        residents.points[who] += lever.points_per_activity if act == "activity" else lever.points_per_civic_act
    return lever.enabled


def redeemers(model, points, u):
    """The residents who ask to redeem this week: at least ``redeem_threshold_points`` and chance
    ``behaviour.redeem_prob`` (``u``: their uniform draws); an empty array where the bank does not run."""
    import numpy as np

    lever = model.policy.moral_bank
    if not lever.enabled:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero((points >= lever.redeem_threshold_points) & (u < model.cfg.behaviour.redeem_prob))


def value_fen(model, points):
    """The goods' value of ``points`` at ``yuan_per_point``, whole fen."""
    import numpy as np

    return np.round(points * model.policy.moral_bank.yuan_per_point * 100).astype(np.int64)


LEVER = Lever("moral_bank", MoralBankLever, order=40, rules={"week_start": stock},
              source="003: 道德银行建设提升计划 (003:208)")
