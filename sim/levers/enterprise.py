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


LEVER = Lever("enterprise", EnterpriseLever, order=20, rules={"policy_start": choose_lump_donors},
              source="003: 三张清单和双向认领")
