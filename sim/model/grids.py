"""The community by grid (网格): what the model holds about each grid in the week just run.

Residents live in households, households in grids (``community.households_per_grid``; 003
"网格发现"), so every demand, volunteer and project session has a place.  :func:`grid_week` counts,
per grid, the week's demands (raised, answered, left unmet, still waiting), the residents who
volunteered, the registered volunteers, the self-organisations based there and the projects that
serve its residents; :func:`organisations_week` and :func:`units_week` list the organisations and
resident units (驻区单位) with their projects.  The workshop's community map draws these tables
(``dashboard``); they are read from the model's state, nothing is drawn for show, so the grids' counts
add up to the week's row of the weekly table (tested).

Nothing here changes the model or draws a random number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.model.organisations import OrgKind

if TYPE_CHECKING:  # pragma: no cover
    from sim.model.community_model import CommunityModel

GRID_COLUMNS = (
    "grid",                   # grid number, 1 = first
    "households",
    "residents",
    "demands_raised",         # demands raised this week by the grid's residents (reported or not)
    "demands_answered",       # demands of the grid's residents answered this week
    "demands_unmet",          # raised and not reported, or closed with an explained reply (no handler), this week
    "demands_waiting",        # reported demands of the grid's residents still in the queue
    "volunteering",           # residents who took part in a volunteer activity this week
    "volunteers_registered",  # registered volunteers living in the grid
    "self_orgs",              # active self-organisations based in the grid
    "projects",               # running projects serving at least one of the grid's residents
    "project_residents",      # the grid's residents served by a running project
)


def _per_grid(model: CommunityModel, residents: np.ndarray) -> np.ndarray:
    """How many of ``residents`` (indices, repeats counted) live in each grid."""
    r = model.residents
    return np.bincount(r.grid[residents], minlength=r.n_grids)


def grid_week(model: CommunityModel) -> pd.DataFrame:
    """One row per grid: the week just run (:data:`GRID_COLUMNS`).  Before the first week, the flows are 0."""
    return grid_table(grid_counts(model))


def grid_table(counts: dict[str, np.ndarray]) -> pd.DataFrame:
    """The table of :func:`grid_counts`."""
    return pd.DataFrame(counts, columns=list(GRID_COLUMNS))


def grid_counts(model: CommunityModel) -> dict[str, np.ndarray]:
    """:func:`grid_week` as a column → array (int64, one entry per grid) dict: cheap enough to keep every week."""
    r, platform = model.residents, model.platform
    zero = np.zeros(r.n_grids, dtype=np.int64)
    week = getattr(model, "this_week", None)
    if week is None:
        raised = answered = unmet = volunteering = zero
    else:
        unreported = _per_grid(model, week.demands.unmet)
        raised = _per_grid(model, week.demands.residents) + unreported
        answered = _per_grid(model, week.dispatch.answered)
        unmet = unreported + _per_grid(model, week.dispatch.unanswered)
        volunteering = np.bincount(r.grid[week.activities.took_part], minlength=r.n_grids)
    h = model.cfg.community.households
    households = np.bincount(np.arange(h) * r.n_grids // h, minlength=r.n_grids)  # as in Residents.__init__
    self_orgs = np.bincount([o.grid for o in model.organisations if o.kind is OrgKind.SELF_ORGANISATION
                             and o.grid >= 0], minlength=r.n_grids)
    projects, served = zero.copy(), zero.copy()
    for project in platform.projects:
        here = _per_grid(model, project.served)
        projects += here > 0
        served += here
    counts = {
        "grid": np.arange(1, r.n_grids + 1), "households": households, "residents": r.grid_people,
        "demands_raised": raised, "demands_answered": answered, "demands_unmet": unmet,
        "demands_waiting": _per_grid(model, platform.q_resident), "volunteering": volunteering,
        "volunteers_registered": np.bincount(r.grid[r.volunteer], minlength=r.n_grids),
        "self_orgs": self_orgs, "projects": projects, "project_residents": served,
    }
    return {c: np.asarray(counts[c], dtype=np.int64) for c in GRID_COLUMNS}


def _grids_served(model: CommunityModel, project) -> str:
    grids = np.flatnonzero(_per_grid(model, project.served)) + 1
    return ", ".join(map(str, grids.tolist()))


ORGANISATION_COLUMNS = ("organisation", "kind", "grid", "members", "cases", "contract", "projects",
                        "project_residents", "project_grids", "claimed_by")
UNIT_COLUMNS = ("unit", "sells_product", "per_unit_donor", "lump_donor", "takes_part", "units_sold",
                "projects_claimed", "project_organisations")


def organisations_week(model: CommunityModel) -> pd.DataFrame:
    """The active organisations: kind, home grid (0 = the whole community), demands handled this week,
    purchase contract running, and their running projects (residents served, grids, claimed by)."""
    return pd.DataFrame(organisation_rows(model), columns=list(ORGANISATION_COLUMNS))


def units_week(model: CommunityModel) -> pd.DataFrame:
    """The resident units (驻区单位): what they do (sell a product, give per unit, give a lump sum), whether they
    took part in co-building in the last 52 weeks (#5), units sold this week and the running projects they claimed."""
    return pd.DataFrame(unit_rows(model), columns=list(UNIT_COLUMNS))


def organisation_rows(model: CommunityModel) -> list[dict]:
    """The rows of :func:`organisations_week`."""
    rows = []
    for org in model.organisations:
        mine = [p for p in model.platform.projects if p.org is org]
        rows.append({
            "organisation": org.unique_id, "kind": org.kind.value, "grid": max(org.grid, -1) + 1,
            "members": org.members, "cases": org.cases, "contract": org.contract_weeks_left > 0,
            "projects": len(mine),
            "project_residents": int(sum(p.served.size for p in mine)),
            "project_grids": "; ".join(_grids_served(model, p) for p in mine),
            "claimed_by": ", ".join(str(u.unique_id) for p in mine for u in p.claimed_by),
        })
    return rows


def unit_rows(model: CommunityModel) -> list[dict]:
    """The rows of :func:`units_week`."""
    rows = []
    for unit in model.enterprises:
        claimed = [p for p in model.platform.projects if unit in p.claimed_by]
        rows.append({
            "unit": unit.unique_id, "sells_product": unit.sells_product, "per_unit_donor": unit.per_unit_donor,
            "lump_donor": unit.lump_donor, "takes_part": unit.takes_part, "units_sold": unit.units_sold,
            "projects_claimed": len(claimed),
            "project_organisations": ", ".join(str(p.org.unique_id) for p in claimed),
        })
    return rows


@dataclass(frozen=True, eq=False)
class CommunityWeek:
    """The community as it stood at the end of one week: grids, organisations, resident units."""

    week: int                       # recorded weeks run (0: the end of the warm-up)
    grids: dict[str, np.ndarray]    # :func:`grid_counts`
    organisations: list[dict]       # :func:`organisation_rows`
    units: list[dict]               # :func:`unit_rows`

    def grid_table(self) -> pd.DataFrame:
        return grid_table(self.grids)

    def organisation_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.organisations, columns=list(ORGANISATION_COLUMNS))

    def unit_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.units, columns=list(UNIT_COLUMNS))


def community_week(model: CommunityModel) -> CommunityWeek:
    """The community at the end of the week just run (about 0.7 ms for 12,000 residents: kept every week by the
    dashboard, so a page behind the shared run still shows its own week)."""
    return CommunityWeek(model.weeks_recorded, grid_counts(model), organisation_rows(model), unit_rows(model))
