"""What resident units (驻区单位) give besides the per-unit donation (003: 双向认领).

Rules: which enterprises make a lump donation (:func:`choose_lump_donors`, when the values come into force); the
lump itself, moral-bank goods (:meth:`sim.model.enterprises.Enterprise.give_lump`), cause marketing
(:meth:`~sim.model.enterprises.Enterprise.sell`), claiming projects with money and employee volunteers
(:func:`sim.model.projects.run_round`, :func:`sim.model.projects.deliver`).
"""

from __future__ import annotations

import math

from sim.levers.base import Lever, lever_params
from sim.settings.params import param


@lever_params
class EnterpriseLever:
    """What resident units (驻区单位) give besides the per-unit donation (003: 双向认领)."""

    lump_yuan_per_year: float = param(0.0, "yuan/(enterprise·year)", 0, 10_000_000,
                                      help="lump donation of each donating enterprise, paid in week 1 of each year",
                                      prior=(0.0, 5000.0))
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


def choose_lump_donors(model, lever: EnterpriseLever) -> None:
    """The enterprises drawn first in the model's set-up order (``model._lump_order``) give lump donations."""
    n_lump = math.floor(lever.lump_donor_share * model.cfg.community.enterprises + 0.5)  # half up
    for rank, e in enumerate(model.enterprises):
        e.lump_donor = bool(model._lump_order[rank] < n_lump)


def sales_factor(model, enterprise) -> float:
    """Cause marketing: sales outside the community × (1 + ``cause_marketing_uplift`` × the enterprise's reputation
    from giving) (assumption, default no uplift)."""
    uplift = model.policy.enterprise.cause_marketing_uplift
    return 1 + uplift * enterprise.reputation if uplift else 1


def give_lump(model) -> int:
    """A lump donor's yearly gifts (week 1 of each year): ``lump_yuan_per_year`` (more where the fund is market-led,
    ``behaviour.market_led_enterprise``), and, where the moral bank runs, ``moral_bank_sponsor_yuan_per_year`` of
    goods for its stock (003: 道德银行).  Returns the fen given."""
    from sim.levers import fund, moral_bank

    lever = model.policy.enterprise
    boost = 1 + model.cfg.behaviour.market_led_enterprise * fund.is_market_led(model)
    fen = 0
    if lever.lump_yuan_per_year > 0:
        fen = round(lever.lump_yuan_per_year * boost * 100)
        model.fund.receive("enterprise_lump", fen)
    if moral_bank.runs(model) and lever.moral_bank_sponsor_yuan_per_year > 0:
        goods = round(lever.moral_bank_sponsor_yuan_per_year * 100)
        model.fund.receive("enterprise_lump", goods, pot="moral_bank")
        fen += goods
    return fen


def claim_fen(model) -> int:
    """What a unit gives to a project it claims (003: 双向认领), in fen."""
    return round(model.policy.enterprise.claim_yuan_per_project * 100)


def lent_hours(model) -> float:
    """Employee volunteer hours a claiming unit lends to its project each week it runs."""
    return model.policy.enterprise.employee_volunteer_hours_week


LEVER = Lever("enterprise", EnterpriseLever, order=20, rules={"policy_start": choose_lump_donors},
              source="003: 三张清单和双向认领")
