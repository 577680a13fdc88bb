"""Residents' deliberation (003 四议; 004 爱邻议事日、火塘议事会) decides fund projects.

Rules: the council meets every ``interval_weeks`` and in the project round ranks the listed projects
(:meth:`sim.model.platform.Community.deliberate`, :func:`sim.model.projects.run_round`).
"""

from __future__ import annotations

from sim.levers.base import Lever, lever_params
from sim.settings.params import Widget, param


@lever_params
class DeliberationLever:
    """Residents' deliberation (003 四议; 004 爱邻议事日、火塘议事会) decides fund projects."""

    enabled: bool = param(False, "-", help="residents' council meets; in the project round it ranks the "
                                           "listed projects the fund committee pays for",
                          widget=Widget("toggle", "lever_deliberation", rank=150))
    interval_weeks: int = param(4, "weeks", 1, 52, help="weeks between council meetings", prior=(1, 13))


def council_meets(model, round_week: bool) -> bool:
    """The residents' council meets this week: where it exists, every ``interval_weeks`` and in the round week."""
    lever = model.policy.deliberation
    return lever.enabled and (round_week or (model.week + 1) % lever.interval_weeks == 0)


LEVER = Lever("deliberation", DeliberationLever, order=90, source="003: 四议; 004: 爱邻议事日、火塘议事会")
