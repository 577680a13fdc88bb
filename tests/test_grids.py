"""The community by grid (sim/model/grids.py): the grids' counts are the model's, so they add up to the weekly table."""

import numpy as np
import pytest

from sim.model.community_model import CommunityModel
from sim.model.grids import GRID_COLUMNS, grid_week, organisations_week, units_week
from sim.settings.config import GROUPS, settings_for


def _model(*overrides: str) -> CommunityModel:
    m = CommunityModel(settings_for(*overrides, "steps=40"))
    m.warm_up()
    return m


@pytest.mark.parametrize("community,policy", [("urban_traditional", "five_society"), ("township", "baseline"),
                                              ("relocation", "micro_fund")])
def test_the_grids_add_up_to_the_weekly_row_every_week(community, policy):
    m = _model(f"community={community}", f"policy={policy}")
    c = m.cfg.community
    for _ in range(40):
        m.step()
        g, row = grid_week(m), m.latest()
        assert list(g.columns) == list(GRID_COLUMNS)
        assert len(g) == m.residents.n_grids and g["grid"].tolist() == list(range(1, len(g) + 1))
        assert g["residents"].sum() == c.residents and g["households"].sum() == c.households
        assert g["demands_raised"].sum() == row["demands_raised"]
        assert g["demands_answered"].sum() == row["demands_responded"]
        assert g["demands_unmet"].sum() == row["demands_unreported"] + row["demands_explained"]
        assert g["demands_waiting"].sum() == row["demand_queue"]
        assert g["volunteering"].sum() == row["volunteer_activities"] + row["casual_activities"]
        assert g["volunteers_registered"].sum() == row["volunteers_registered"]
        assert (g["project_residents"] <= g["residents"]).all()
        assert (g["projects"] <= row["projects_running"]).all()
        assert g["self_orgs"].sum() <= row["social_orgs_self"]
    orgs, units = organisations_week(m), units_week(m)
    assert len(orgs) == row["social_orgs_active"] and orgs["projects"].sum() == row["projects_running"]
    assert len(units) == len(m.enterprises)
    assert units["projects_claimed"].sum() == sum(len(p.claimed_by) for p in m.platform.projects)


def test_a_grid_shows_where_its_residents_live():
    """A demand is counted in the grid of the resident who raised it, not spread over the community."""
    m = _model("community=urban_traditional", "policy=baseline")
    m.step()
    g = grid_week(m)
    week = m.this_week
    who = np.concatenate([week.demands.residents, week.demands.unmet])
    expected = np.bincount(m.residents.grid[who], minlength=m.residents.n_grids)
    assert g["demands_raised"].tolist() == expected.tolist()
    assert g["demands_raised"].nunique() > 1  # the grids differ: a map has something to show


def test_without_demands_no_grid_has_any():
    s = settings_for("community=relocation", "policy=five_society", "steps=10")
    for group in GROUPS:
        setattr(s.behaviour.demand_rates, group, 0.0)
    m = CommunityModel(s)
    m.warm_up()
    for _ in range(5):
        m.step()
    g = grid_week(m)
    assert (g[["demands_raised", "demands_answered", "demands_unmet", "demands_waiting"]] == 0).all().all()


def test_before_the_first_week_only_the_stocks_are_shown():
    m = CommunityModel(settings_for("community=relocation", "policy=baseline", "steps=10"))
    g = grid_week(m)
    assert (g[["demands_raised", "demands_answered", "demands_unmet", "volunteering"]] == 0).all().all()
    assert g["volunteers_registered"].sum() == int(m.residents.volunteer.sum()) > 0
