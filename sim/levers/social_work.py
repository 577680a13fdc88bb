"""Professional social workers (003, 004: 专业社工+志愿服务).

Rules: the policy's extra social workers join the station (:func:`hire`, when the values come into force); social
workers supervise volunteers (:meth:`sim.model.community_model.CommunityModel.supervision_capacity`; the dispatch's
volunteer
capacity, :meth:`sim.model.platform.Community.dispatch`), run registration drives
(:meth:`sim.model.residents.Residents.register_volunteers`) and incubate self-organisations
(:meth:`sim.model.organisations.SocialWorker.incubates`).
"""

from __future__ import annotations

from sim.levers.base import Lever, lever_params
from sim.settings.params import Widget, param


@lever_params
class SocialWorkLever:
    """Professional social workers (003, 004: 专业社工+志愿服务)."""

    extra_social_workers: int = param(0, "persons", 0, 1000,
                                      help="social workers added to the station by the policy", staff=True,
                                      prior=(0, 6),
                                      widget=Widget("number", "lever_social_workers", 0, 20, 1, rank=130))
    volunteers_per_worker: float = param(100.0, "volunteers/worker", 1, 10_000,
                                         help="volunteers one social worker can supervise")
    supervision_gain: float = param(0.5, "fraction", 0, 5,
                                    help="volunteer capacity: cases per hour × (1 + gain × supervision coverage)",
                                    prior=(0.0, 1.5))
    mobilisation: bool = param(False, "-", help="social workers recruit volunteers",
                               widget=Widget("toggle", "lever_mobilisation", rank=140))
    incubations_per_worker_year: float = param(0.3, "organisations/(worker·year)", 0, 50,
                                               help="groups of active residents a station worker helps form "
                                                    "a self-organisation (incubation)",
                                               source="003: 孵化培育社会组织; rate: assumption")


def hire(model, lever: SocialWorkLever) -> None:
    """The station has the extra social workers the values in force pay for: new posts are filled, and posts the
    values no longer pay (the money withdrawn, a smaller number) end, the most recently hired first."""
    extra = [sw for sw in model.station_workers if sw.extra]
    for _ in range(max(0, lever.extra_social_workers - len(extra))):
        model.hire_station_worker(extra=True)
    for sw in extra[lever.extra_social_workers:][::-1]:
        model.end_station_post(sw)


def mobilises(model) -> bool:
    """Social workers run registration drives (003: 志愿者招募)."""
    return model.policy.social_work.mobilisation


def can_supervise(model, workers: float) -> float:
    """Volunteers ``workers`` social workers can supervise (``volunteers_per_worker`` each)."""
    return workers * model.policy.social_work.volunteers_per_worker


def supervised_hours(model, volunteer_hours: float, coverage: float) -> float:
    """Volunteer hours as casework capacity: supervised volunteers do more, hours × (1 + ``supervision_gain`` ×
    coverage) (004: 专业社工+志愿服务)."""
    return volunteer_hours * (1 + model.policy.social_work.supervision_gain * coverage)


def incubation_chance(model) -> float:
    """A station worker's weekly chance of helping a group form a self-organisation."""
    return model.policy.social_work.incubations_per_worker_year / 52.0


LEVER = Lever("social_work", SocialWorkLever, order=80, rules={"policy_start": hire},
              source="003, 004: 专业社工+志愿服务")
