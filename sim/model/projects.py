"""The project round: 需求调研 → 项目设计 → 三张清单、双向认领 → 资助 → 实施 → 评估.

The core mechanism of the five-society linkage in the sources: 「完善社区需求发现、项目设计、供需衔接、
主体承接等机制」, 「推动社区服务项目化」, 「设计服务项目、优化项目管理」 (003); 「社区发展基金会发布社会工作
牵引项目」 (004); a one-year cycle of 项目征集、立项评估、项目实施、项目总结 (docs/literature.md [P3]).
Every ``project_cycle_weeks`` (52) the round runs, in this order:

1. **Needs survey** (需求调研, by social workers of the station, the agencies and the district): a
   resident is *in need* if they had a demand that went unmet (unreported, unanswered or
   unresolved) or two or more demands in the last cycle; the survey finds each with chance
   ``coverage`` = social workers × ``survey_households_per_worker`` ÷ households (at most 1).  The
   needs list counts those found by group (青老幼工新, 004).
2. **Design**: social workers design up to ``projects_per_worker`` projects each; a project serves
   ``places_per_project`` residents found in need in one group (the group with the most listed needs
   first), for one cycle, at ``project_cost_yuan``.
3. **Ranking**: with the deliberation lever, the residents' council (四议, 003) ranks the projects
   by its participants' votes (each votes for their own group's projects); else the fund committee
   ranks them by listed needs.
4. **Two-way claiming** (双向认领, 003): each resident unit (驻区单位), convened by the party
   organisation (党建引领, lever strength ``s``), claims the best-ranked unclaimed project with chance
   ``s × claim_prob``, giving ``claim_yuan_per_project`` through the fund (earmarked) and, while the
   project runs, its employees' volunteer hours.
5. **Funding**, in rank order: a project is funded when the money for it — its claims, then the
   venture-philanthropy competition (公益创投, government), then the fund's project pot — covers its
   cost; unfunded projects wait for the next round (units' claimed money stays in the pot).
6. **Delivery**: the organisation with the best track record and a free slot runs it (agency or
   self-organisation), with volunteers assisting: this week's active volunteers (and employees lent
   by the units that claimed it) are shared among the running projects, each needing
   ``volunteers_per_project``; its served residents take part in sessions with chance
   ``session_prob`` × (½ + ½ × the share of its volunteers it has) a week (without volunteers the
   staff hold half the sessions: assumption), which go well with the organisation's quality.
   A session moves *that resident's* satisfaction
   and trust (their own experience), counts as a project activity for #28, and earns moral-bank
   points where the bank runs.  A project's effect reaches the residents it serves, no one else.
7. **Evaluation** (评估): when a project ends, its score = share of sessions that went well × its
   served residents' mean satisfaction feeds the organisation's track record, which ranks it in the
   next award (温州: 金奖项目可优先获得下一年度资金支持, docs/literature.md [P4]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.levers import enterprise, party_building, venture
from sim.model.organisations import OrgKind, SocialOrganization
from sim.settings.config import GROUPS

if TYPE_CHECKING:  # pragma: no cover
    from sim.model.community_model import CommunityModel
    from sim.model.enterprises import Enterprise


@dataclass
class Project:
    """A funded community project: who it serves, who runs it, who paid, how it went."""

    group: int                       # index into GROUPS (青老幼工新)
    served: np.ndarray               # resident indices
    org: SocialOrganization
    weeks_left: int
    cost_fen: int
    paid_by: dict[str, int]          # fen by source: resident_units, venture, fund
    claimed_by: list[Enterprise] = field(default_factory=list)
    sessions: int = 0
    good_sessions: int = 0


@dataclass(frozen=True)
class RoundResult:
    """One project round: needs listed, projects designed, claimed and funded, and their money."""

    needs_listed: int
    designed: int
    claimed: int
    funded: int
    venture_fen: int
    council_rating: float  # participants' rating of the ranking decision (NaN without a council)
    participants: int


@dataclass(frozen=True)
class Sessions:
    """This week's project sessions: held, gone well, and residents taking part."""

    sessions: int
    good: int
    projects_running: int
    employee_hours: float
    took_part: np.ndarray  # bool per resident


NO_ROUND = RoundResult(0, 0, 0, 0, 0, math.nan, 0)


def survey_coverage(model: CommunityModel) -> float:
    """Share of residents in need a needs survey finds (social workers × households each ÷ households)."""
    b = model.cfg.behaviour
    workers = model.social_workers + model.district_worker_share
    return float(min(1.0, workers * b.survey_households_per_worker / max(1, model.cfg.community.households)))


def needs_list(model: CommunityModel) -> np.ndarray:
    """Step 1: the residents found in need by the survey (indices), and reset the cycle's counts."""
    r = model.residents
    u = model.streams["projects_survey"].random(r.size, dtype=np.float32)
    in_need = (r.unmet_cycle > 0) | (r.demands_cycle >= 2)
    found = np.flatnonzero(in_need & (u < survey_coverage(model)))
    r.unmet_cycle[:] = 0
    r.demands_cycle[:] = 0
    return found


def design(model: CommunityModel, found: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Step 2: projects as (group, served residents), the group with most remaining needs first."""
    b = model.cfg.behaviour
    workers = model.social_workers + model.district_worker_share
    capacity = math.floor(workers * b.projects_per_worker * b.project_cycle_weeks / 52 + 1e-9)
    waiting = {g: found[model.residents.group[found] == g] for g in range(len(GROUPS))}
    # residents already served by a running project are not designed for twice
    served_now = model.platform.served_now()
    for g in waiting:
        waiting[g] = waiting[g][~np.isin(waiting[g], served_now)]
    designs = []
    while len(designs) < capacity:
        g = max(waiting, key=lambda k: (waiting[k].size, -k))
        if waiting[g].size == 0:
            break
        designs.append((g, waiting[g][:b.places_per_project]))
        waiting[g] = waiting[g][b.places_per_project:]
    return designs


def rank(model: CommunityModel, designs: list, votes: np.ndarray | None) -> list:
    """Step 3: the council's ranking by votes per group, or the committee's (listed-needs) order."""
    if votes is None:
        return designs
    return sorted(designs, key=lambda d: -votes[d[0]])  # stable: ties keep the committee's order


def pick_org(model: CommunityModel) -> SocialOrganization | None:
    """The organisation with a free slot and the best track record (agencies before groups on ties)."""
    best = None
    for o in model.organisations:
        if o.kind is OrgKind.SOCIAL_ENTERPRISE or o.projects_running >= o.project_slots():
            continue
        key = (o.track_record, o.kind is OrgKind.PROFESSIONAL_AGENCY, -o.unique_id)
        if best is None or key > best[0]:
            best = (key, o)
    return None if best is None else best[1]


def run_round(model: CommunityModel, council: np.ndarray | None) -> RoundResult:
    """Steps 1–5 and the start of delivery.  ``council``: the participants of the round's council
    meeting (resident indices), or None without the deliberation lever."""
    b, fund = model.cfg.behaviour, model.fund
    found = needs_list(model)
    designs = design(model, found)
    votes = None
    if council is not None:
        votes = np.bincount(model.residents.group[council], minlength=len(GROUPS)).astype(float)
    ranked = rank(model, designs, votes)

    # two-way claiming by resident units, convened by the party organisation
    u = model.streams["projects"].random(len(model.enterprises)) if model.enterprises else np.zeros(0)
    claim_p = party_building.claim_chance(model)
    claims: dict[int, list] = {}
    claim_fen = enterprise.claim_fen(model)
    next_unclaimed = 0
    for e, ue in zip(model.enterprises, u, strict=True):
        if next_unclaimed >= len(ranked) or ue >= claim_p:
            continue
        claims.setdefault(next_unclaimed, []).append(e)
        e.claim(claim_fen)
        next_unclaimed += 1

    # funding in rank order: claims (already in the pot), then the competition, then the pot
    cost = round(b.project_cost_yuan * 100)
    venture_left = venture.round_budget_fen(model)
    venture_paid = funded = 0
    funded_groups = set()
    for k, (g, served) in enumerate(ranked):
        org = pick_org(model)
        if org is None:
            break
        claimed = len(claims.get(k, [])) * claim_fen
        from_claims = min(cost, claimed)
        from_venture = min(cost - from_claims, venture_left)
        from_fund = cost - from_claims - from_venture
        if from_fund > fund.pot_fen["projects"] - from_claims:
            continue  # not enough money: waits for the next round
        paid = fund.pay("projects", from_claims + from_fund, pot="projects")
        org.earn(paid + from_venture)
        venture_left -= from_venture
        venture_paid += from_venture
        model.add_public_cost("venture", from_venture)
        org.projects_running += 1
        model.platform.projects.append(Project(
            group=g, served=served, org=org, weeks_left=b.project_cycle_weeks, cost_fen=cost,
            paid_by={"resident_units": from_claims, "venture": from_venture, "fund": from_fund},
            claimed_by=claims.get(k, [])))
        funded += 1
        funded_groups.add(g)

    rating, participants = math.nan, 0
    if council is not None and council.size:
        participants = int(council.size)
        own = np.isin(model.residents.group[council], list(funded_groups))
        rating = float(np.where(own, 1.0, b.procedure_satisfied).mean())
    return RoundResult(needs_listed=int(found.size), designed=len(designs), claimed=len(claims), funded=funded,
                       venture_fen=venture_paid, council_rating=rating, participants=participants)


def deliver(model: CommunityModel, volunteers: float) -> Sessions:
    """Step 6–7: this week's sessions of every running project; projects that end are evaluated.

    ``volunteers``: residents who volunteered this week, shared among the running projects (with the
    employees lent by each project's claimants, counted at ``hours_per_activity`` hours each)."""
    r = model.residents
    took_part = np.zeros(r.size, dtype=bool)
    projects = model.platform.projects
    if not projects:
        return Sessions(0, 0, 0, 0.0, took_part)
    b, rng = model.cfg.behaviour, model.streams["projects"]
    hours_per_unit = enterprise.lent_hours(model)
    sessions = good = 0
    employee_hours = 0.0
    share_of_volunteers = volunteers / len(projects)
    for p in projects:
        helpers = share_of_volunteers + hours_per_unit * len(p.claimed_by) / b.hours_per_activity
        staffed = min(1.0, helpers / b.volunteers_per_project) if b.volunteers_per_project > 0 else 1.0
        p_attend = b.session_prob * (0.5 + 0.5 * staffed)
        u_attend, u_good = rng.random(p.served.size), rng.random(p.served.size)
        attend = p.served[u_attend < p_attend]
        ok = u_good[u_attend < p_attend] < p.org.quality()
        took_part[attend] = True
        r.experience(attend[ok], attend[~ok], b.session_satisfaction_rate)
        p.sessions += attend.size
        p.good_sessions += np.count_nonzero(ok)
        sessions += attend.size
        good += np.count_nonzero(ok)
        employee_hours += hours_per_unit * len(p.claimed_by)
        for e in p.claimed_by:
            e.last_joined_week = model.week
        if attend.size:
            p.org.last_served_week = model.week
        p.weeks_left -= 1
    for p in [p for p in projects if p.weeks_left <= 0]:
        completion = p.good_sessions / max(1.0, p.served.size * b.session_prob * b.project_cycle_weeks)
        p.org.evaluate(min(1.0, completion) * float(r.satisfaction[p.served].mean()))
        p.org.projects_running -= 1
        projects.remove(p)
    return Sessions(sessions, good, len(projects), employee_hours, took_part)
