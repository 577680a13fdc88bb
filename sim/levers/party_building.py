"""Party-led convening (党建引领): the community party organisation calls resident units to claim projects.

Rules: in the project round a unit claims a listed project with chance ``strength × behaviour.claim_prob``
(:func:`sim.model.projects.run_round`).
"""

from __future__ import annotations

from sim.levers.base import Lever, lever_params
from sim.settings.params import Widget, param


@lever_params
class PartyBuildingLever:
    """Party-led convening (党建引领): the community party organisation calls resident units to claim projects."""

    strength: float = param(0.0, "0-1", 0, 1,
                            help="how strongly the party organisation convenes resident units (双报到); "
                                 "a unit claims a listed project with chance strength × behaviour.claim_prob",
                            source="003: 党建引领, 三张清单和双向认领; 双报到 (docs/literature.md [V18])",
                            widget=Widget("slider", "lever_party", 0.0, 1.0, 0.05, rank=40))


def claim_chance(model) -> float:
    """A resident unit's chance of claiming a listed project: ``strength`` × ``behaviour.claim_prob``."""
    return model.policy.party_building.strength * model.cfg.behaviour.claim_prob


LEVER = Lever("party_building", PartyBuildingLever, order=100, source="003: 党建引领, 三张清单和双向认领")
