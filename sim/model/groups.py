"""Self-organisations as groups of residents: members join, take part, leave; groups form and dissolve.

A self-organisation (居民自组织) lives on its members' time (docs/literature.md [O2]: a garden club
formed by a dozen active residents, later asked inactive members to leave).  Each week, in this order
(all draws from the ``groups`` stream, a fixed number per resident, so policies share them):

1. members take part in their group's mutual-aid activity (chance ``member_activity_prob``): an
   activity that counts for #28 like a volunteer activity;
2. members leave (chance ``self_org_leave_prob``);
3. active residents (≥ 2 activities in 52 weeks) outside any group join a group of their grid
   (chance ``self_org_join_prob``);
4. where a grid has ``self_org_founders`` active residents outside any group, they found one
   (chance ``self_org_emergence_prob`` ÷ (1 + groups already in the grid)² a week: groups compete
   for members, assumption); a station social worker who incubates this week
   (003 孵化培育) helps the grid with most such residents found one if it has at least half as many.

Groups with fewer than ``self_org_min_members`` members dissolve (SocialOrganization.step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.model.organisations import OrgKind, SocialOrganization

if TYPE_CHECKING:  # pragma: no cover
    from sim.model.community_model import CommunityModel

NO_GROUP = -1


@dataclass(frozen=True)
class GroupsWeek:
    """Members' activities this week, groups formed (bottom-up and incubated)."""

    member_activities: int
    formed: int
    incubated: int


def active_outside_groups(model: CommunityModel) -> np.ndarray:
    """Active residents (≥ 2 activities in 52 weeks) who belong to no group (bool per resident)."""
    r = model.residents
    return (r.activities_52 >= 2) & (r.member_of == NO_GROUP)


def found_group(model: CommunityModel, grid: int, candidates: np.ndarray, incubated: bool,
                size: int) -> SocialOrganization:
    """A new self-organisation in ``grid`` whose founders are the first ``size`` of ``candidates``."""
    org = model.add_organisation(OrgKind.SELF_ORGANISATION, incubated=incubated, grid=grid)
    model.residents.member_of[candidates[:size]] = org.unique_id
    org.members = int(min(size, candidates.size))
    return org


def groups_week(model: CommunityModel, incubators: int) -> tuple[GroupsWeek, np.ndarray]:
    """The week of the self-organisations (steps 1–4 above); returns the counts and who took part.

    ``incubators``: station social workers who incubate this week.
    """
    r, b = model.residents, model.cfg.behaviour
    rng = model.streams["groups"]
    n = r.size
    u_member, u_join = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32)
    member = r.member_of != NO_GROUP
    took_part = member & (u_member < b.member_activity_prob)
    r.member_of[member & (1.0 - u_member < b.self_org_leave_prob)] = NO_GROUP  # never the same week as taking part

    groups = [o for o in model.organisations if o.kind is OrgKind.SELF_ORGANISATION]
    free = active_outside_groups(model)
    if groups:
        by_grid: dict[int, list[int]] = {}
        for o in groups:
            by_grid.setdefault(o.grid, []).append(o.unique_id)
        grid_groups = [by_grid.get(g, []) for g in range(r.n_grids)]
        n_choices = np.array([len(ids) for ids in grid_groups])
        joining = np.flatnonzero(free & (u_join < b.self_org_join_prob))
        joining = joining[n_choices[r.grid[joining]] > 0]  # in a grid that has a group
        for i in joining.tolist():
            ids = grid_groups[r.grid[i]]
            r.member_of[i] = ids[min(len(ids) - 1, int(u_join[i] / b.self_org_join_prob * len(ids)))]  # u/p: uniform
        free[joining] = False

    formed = incubated = 0
    free_by_grid = np.bincount(r.grid[free], minlength=r.n_grids)
    groups_by_grid = np.bincount([o.grid for o in groups], minlength=r.n_grids) if groups else np.zeros(r.n_grids)
    p_form = b.self_org_emergence_prob / (1.0 + groups_by_grid) ** 2
    u_form = rng.random(r.n_grids)
    for g in np.flatnonzero((free_by_grid >= b.self_org_founders) & (u_form < p_form)).tolist():
        found_group(model, g, np.flatnonzero(free & (r.grid == g)), incubated=False, size=b.self_org_founders)
        free_by_grid[g] = 0
        formed += 1
    for _ in range(incubators):
        g = int(np.argmax(free_by_grid)) if free_by_grid.size else 0
        if free_by_grid.size == 0 or free_by_grid[g] < max(2, b.self_org_founders // 2):
            break
        found_group(model, g, np.flatnonzero(free & (r.grid == g) & (r.member_of == NO_GROUP)), incubated=True,
                    size=int(free_by_grid[g]))
        free_by_grid[g] = 0
        incubated += 1

    counts = np.bincount(r.member_of + 1)  # members by the group's unique id + 1 (0: in no group)
    for o in model.organisations:
        if o.kind is OrgKind.SELF_ORGANISATION:
            o.members = int(counts[o.unique_id + 1]) if o.unique_id + 1 < counts.size else 0
    return GroupsWeek(member_activities=np.count_nonzero(took_part), formed=formed, incubated=incubated), took_part


def dissolve(model: CommunityModel, org: SocialOrganization) -> None:
    """A dissolved group's members are free again."""
    r = model.residents
    r.member_of[r.member_of == org.unique_id] = NO_GROUP
