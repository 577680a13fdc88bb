"""Venture philanthropy (公益创投): a government competition that funds community projects.

Rules: in the yearly project round the budget pays the best-ranked projects no one else funds
(:func:`sim.model.projects.run_round`).
"""

from __future__ import annotations

from sim.levers.base import Lever, lever_params
from sim.settings.params import Widget, param


@lever_params
class VentureLever:
    """Venture philanthropy (公益创投): a government competition that funds community projects."""

    budget_yuan_per_year: float = param(0.0, "yuan/year", 0, 100_000_000,
                                        help="government money awarded to projects in the yearly round",
                                        source="公益创投: 1万~10万元 per project (docs/literature.md [P1][P2])",
                                        money=True, prior=(0.0, 200_000.0),
                                        widget=Widget("number", "lever_venture", 0, 1_000_000, 10_000, rank=50))


def round_budget_fen(model) -> int:
    """The competition's money for this project round (the year's budget × the round's length ÷ 52), in fen."""
    return round(model.policy.venture.budget_yuan_per_year * model.cfg.behaviour.project_cycle_weeks / 52 * 100)


LEVER = Lever("venture", VentureLever, order=110, source="公益创投 (docs/literature.md [P1][P2])")
