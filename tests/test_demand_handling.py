"""Demand handling as it is organised (issue #11), on the small relocation community (1,500 residents, 2 grids).

Community workers and grid workers handle simple demands first, volunteers assist, organisations take
professional (and leftover simple) demands, departments take structural and overflow professional ones;
capacities accrue fractionally; unanswered demands close at the deadline; closed demands are called back.
"""

from __future__ import annotations

import pytest
from conftest import run_model

from sim.model import CommunityModel


def no_capacity(s, simple_only: bool = True):
    """Nobody can answer a demand: no community or grid workers, volunteers, groups or organisations."""
    b, c = s.behaviour, s.community
    if simple_only:
        b.structural_share = b.professional_share = 0.0
    c.volunteers_initial_share = 0.0
    b.register_base = b.casual_activity_prob = 0.0
    b.grid_worker_cases_week = 0.0
    c.community_workers = 0
    c.self_organisations = c.handicraft_workshops = c.professional_agencies = 0
    s.policy.social_work.incubations_per_worker_year = 0.0
    b.self_org_emergence_prob = 0.0
    return s


def test_simple_demands_are_never_escalated_and_professional_ones_are_when_organisations_are_full(small_settings):
    s = no_capacity(small_settings(steps=8))
    s.community.department_cases_per_1000_week = 100  # 150 cases a week: the street could take them all
    _model, ts = run_model(s)
    assert ts["demands_reported"].sum() > 50
    assert (ts["capacity_volunteers"] == 0).all() and (ts["capacity_organisations"] == 0).all()
    assert (ts["capacity_community_staff"] == 0).all()
    assert (ts["demands_escalated"] == 0).all() and (ts["demands_responded"] == 0).all()
    # professional demands, no organisation: the street and departments take them (街道吹哨、部门报到)
    s = no_capacity(small_settings(steps=8), simple_only=False)
    s.behaviour.structural_share, s.behaviour.professional_share = 0.0, 1.0
    s.community.department_cases_per_1000_week = 100
    _model, ts = run_model(s)
    assert ts["demands_reported"].sum() > 50
    assert (ts["demands_escalated"] == ts["demands_reported"]).all()
    assert (ts["demands_responded"] == ts["demands_reported"]).all() and (ts["demands_expired"] == 0).all()


def test_with_ample_community_staff_every_simple_demand_goes_to_them_in_time(small_settings):
    s = no_capacity(small_settings(steps=8))
    s.community.community_workers = 100  # 200 cases a week
    _model, ts = run_model(s)
    assert ts["demands_reported"].sum() > 50
    assert (ts["capacity_community_staff"] == 100 * s.behaviour.staff_cases_week).all()
    assert (ts["demands_to_community_staff"] == ts["demands_reported"]).all()
    assert (ts["simple_to_community_staff"] == ts["demands_reported"]).all()
    assert (ts[["demands_to_volunteers", "demands_to_organisations", "demands_escalated"]] == 0).all().all()
    assert (ts["response_rate"] == 1.0).all()


def test_simple_demands_go_to_staff_then_volunteers_then_organisations(small_settings):
    s = no_capacity(small_settings(steps=8))
    s.behaviour.grid_worker_cases_week = 3.0  # relocation: 2 grids -> 6 cases a week
    s.community.professional_agencies = 1     # 2 staff × 3 cases = 6 cases a week while it has a budget
    s.behaviour.response_deadline_weeks = 1   # a demand not answered in its week closes: the queue is the week's
    s.community.department_cases_per_1000_week = 100
    _, ts = run_model(s)
    reported = ts["demands_reported"]
    assert (reported > 12).all()  # more than staff and the agency can take
    assert (ts["capacity_organisations"] == 6).all()
    assert (ts["demands_to_community_staff"] == 6).all()
    assert (ts["demands_to_organisations"] == 6).all()
    assert (ts["demands_escalated"] == 0).all()  # departments take no simple demand
    assert (ts["demands_expired"] == reported - 12).all()
    # with volunteers who can take everything: staff still come first, volunteers take the rest, no organisation
    s.community.volunteers_initial_share, s.behaviour.activity_prob = 0.5, 1.0
    _, ts = run_model(s)
    assert (ts["capacity_volunteers"] > ts["demands_reported"]).all()
    assert (ts["demands_to_community_staff"] == 6).all()
    assert (ts["demands_to_volunteers"] == ts["demands_reported"] - 6).all()
    assert (ts["simple_to_volunteers"] == ts["demands_to_volunteers"]).all()
    assert (ts["demands_to_organisations"] == 0).all()


@pytest.mark.parametrize("cases_per_week", [0.3, 0.5, 1.25])
def test_fractional_capacity_carries_over_so_cases_accrue_in_proportion(small_settings, cases_per_week):
    """A capacity of x cases a week handles floor(x × weeks) cases over the weeks, not 0 (no truncation)."""
    s = no_capacity(small_settings(steps=20))
    s.behaviour.grid_worker_cases_week = cases_per_week / 2  # 2 grids
    _, ts = run_model(s)
    assert (ts["demands_reported"] > 2).all()
    handled = ts["demands_to_community_staff"].cumsum().tolist()
    assert handled == [int(cases_per_week * (w + 1) + 1e-9) for w in range(20)]


def test_structural_demands_always_go_to_departments(small_settings):
    s = small_settings(steps=8)
    s.behaviour.structural_share, s.behaviour.professional_share = 1.0, 0.0
    s.community.department_cases_per_1000_week = 100
    _model, ts = run_model(s)
    assert ts["demands_reported"].sum() > 50
    assert (ts["demands_escalated"] == ts["demands_reported"]).all()


@pytest.mark.parametrize("deadline", [1, 2, 3])
def test_unanswered_demands_are_closed_at_the_response_deadline(small_settings, deadline):
    """With no capacity at all, a demand reported in week w is closed unanswered in week w + deadline − 1."""
    s = no_capacity(small_settings(steps=10))
    s.community.department_cases_per_1000_week = 0.0
    s.behaviour.response_deadline_weeks = deadline
    _model, ts = run_model(s)
    reported, expired = ts["demands_reported"].tolist(), ts["demands_expired"].tolist()
    assert sum(reported) > 50
    assert expired == [0] * (deadline - 1) + reported[:len(reported) - deadline + 1]
    assert (ts["demands_responded"] == 0).all()
    assert ts["demand_queue"].iloc[-1] == sum(reported[len(reported) - deadline + 1:])
    assert (ts["response_rate"].dropna() == 0).all()
    assert ts["response_rate"].isna().sum() == deadline - 1  # nothing answered or closed yet


def test_a_demand_answered_after_the_time_limit_is_answered_but_not_in_time(small_settings):
    """One case a week for a queue of many: demands wait; those waiting longer than the limit count as late."""
    s = no_capacity(small_settings(steps=12))
    s.behaviour.grid_worker_cases_week = 4.0  # 8 cases a week
    s.behaviour.response_limit_weeks, s.behaviour.response_deadline_weeks = 1, 6
    _, ts = run_model(s)
    assert (ts["demands_responded"] == 8).all()
    late = ts["demands_responded"] - ts["demands_responded_in_time"]
    assert late.iloc[0] == 0 and late.iloc[4:].sum() > 0  # the backlog builds, then the oldest are answered late
    closed = ts["demands_responded"] + ts["demands_expired"]
    assert (ts["response_rate"] == ts["demands_responded_in_time"] / closed).all()


def test_every_closed_demand_is_called_back_at_full_share_and_satisfaction_follows_the_outcome(small_settings):
    s = small_settings(steps=20)
    b = s.behaviour
    b.callback_share = 1.0
    b.callback_satisfied_resolved = b.callback_satisfied_late = 1.0
    b.callback_satisfied_unresolved = b.callback_satisfied_unanswered = 0.0
    _, ts = run_model(s)
    closed = ts["demands_responded"] + ts["demands_expired"]
    assert closed.sum() > 50
    assert (ts["callbacks"] == closed).all()
    assert (ts["callbacks_satisfied"] == ts["demands_completed"]).all()  # satisfied exactly when resolved
    # no callback survey: #35 undefined every week
    s.behaviour.callback_share = 0.0
    _, ts = run_model(s)
    assert (ts["callbacks"] == 0).all() and ts["callback_satisfaction"].isna().all()


def test_callbacks_are_a_share_of_closed_demands(small_settings):
    model = CommunityModel(small_settings(steps=52))
    ts = model.run()
    closed = (ts["demands_responded"] + ts["demands_expired"]).sum()
    share = model.cfg.behaviour.callback_share
    assert (ts["callbacks"] <= ts["demands_responded"] + ts["demands_expired"]).all()
    assert ts["callbacks"].sum() == pytest.approx(share * closed, rel=0.1)
    assert (ts["callbacks_satisfied"] <= ts["callbacks"]).all()
