"""Work orders as the 12345 hotline and the grid handle them (issue 24), on the small relocation community
(1,500 residents, 2 grids).

Orders have a type (help, complaint, suggestion) and a deadline from its time limit; the community signs for them
(#33); community and grid workers take simple ones first, volunteers assist, organisations take professional
(and leftover simple) ones under contract, the street and departments take structural and overdue ones; orders
that can still be closed on time are served first, earliest deadline first; at the deadline an order nobody took
is extended once (street/department orders) or closed with an explained reply; failing that it stays open,
overdue.  Nothing vanishes: every reported order is open, closed resolved or closed unresolved.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from conftest import make_settings, run_model

from sim.model.community_model import CommunityModel
from sim.model.indicators import compute_kpis
from sim.settings.config import GROUPS


def no_capacity(s, simple_only: bool = True):
    """Nobody can take an order: no community or grid casework, volunteers, groups or organisations (the
    community and grid workers still sign for orders and reply: ``intake_orders_per_worker_week``)."""
    b, c = s.behaviour, s.community
    if simple_only:
        b.structural_share = b.professional_share = 0.0
    c.volunteers_initial_share = 0.0
    b.register_base = b.casual_activity_prob = 0.0
    b.grid_worker_cases_week = 0.0
    b.staff_cases_week = 0.0
    c.self_organisations = c.handicraft_workshops = c.professional_agencies = 0
    s.policy.social_work.incubations_per_worker_year = 0.0
    b.self_org_emergence_prob = 0.0
    return s


def one_week_limits(s):
    """Every order's time limit is one week (5 working days), with no extension."""
    b = s.behaviour
    b.help_limit_days = b.complaint_limit_days = b.suggestion_limit_days = 5
    b.extension_days = 0
    return s


def scale_demand(s, factor: float):
    for g in GROUPS:
        setattr(s.behaviour.demand_rates, g, getattr(s.behaviour.demand_rates, g) * factor)
    return s


def conserved(model: CommunityModel, ts) -> None:
    """Every reported order is, at the end of every week, exactly one of: open, closed resolved, closed
    unresolved (the handler failed, or an explained reply)."""
    opened = ts["demands_reported"] - ts["demands_merged"]
    queue_before = ts["demand_queue"].shift(fill_value=ts["demand_queue"].iloc[0] - opened.iloc[0]
                                            + ts["demands_closed"].iloc[0])
    assert (queue_before + opened - ts["demands_closed"] == ts["demand_queue"]).all(), \
        "an order vanished or was counted twice"
    assert (ts["demands_closed"] == ts["demands_completed"] + ts["demands_closed_unresolved"]).all()
    assert (ts["demands_closed"] == ts["demands_closed_on_time"] + ts["demands_closed_overdue"]).all()
    assert (ts["demands_due"] == ts["demands_closed_on_time"] + ts["demands_newly_overdue"]).all()
    assert (ts["demands_closed_unresolved"] >= ts["demands_explained"]).all()
    assert (ts["demands_overdue"] <= ts["demand_queue"]).all()
    assert model.platform.reported_total == model.platform.closed_total + model.platform.queue_length


def test_simple_orders_are_not_escalated_while_on_time_and_professional_ones_are_when_organisations_are_missing():
    s = no_capacity(make_settings(steps=8))
    s.community.department_cases_per_1000_week = 100  # 150 cases a week: the street could take them all
    model, ts = run_model(s)
    conserved(model, ts)
    assert ts["demands_reported"].sum() > 50
    assert (ts["capacity_volunteers"] == 0).all() and (ts["capacity_organisations"] == 0).all()
    assert (ts["capacity_community_staff"] == 0).all()
    # nobody takes a simple order on time; at its deadline it is closed with an explained reply, never escalated
    assert (ts["demands_escalated"] == 0).all() and (ts["demands_responded"] == 0).all()
    assert ts["demands_explained"].sum() > 0 and (ts["demands_overdue"] == 0).all()
    # professional orders and no organisation: the street and departments take them (街道吹哨、部门报到)
    s = no_capacity(make_settings(steps=8), simple_only=False)
    s.behaviour.structural_share, s.behaviour.professional_share = 0.0, 1.0
    s.community.department_cases_per_1000_week = 100
    model, ts = run_model(s)
    conserved(model, ts)
    assert ts["demands_reported"].sum() > 50
    assert (ts["demands_escalated"] == ts["demands_reported"] - ts["demands_merged"]).all()
    assert (ts["demands_explained"] == 0).all()


def test_with_ample_community_staff_every_simple_order_goes_to_them_and_is_signed_in_time():
    s = no_capacity(make_settings(steps=8))
    s.behaviour.staff_cases_week = 40.0  # 5 community workers: 200 cases a week
    model, ts = run_model(s)
    conserved(model, ts)
    assert ts["demands_reported"].sum() > 50
    assert (ts["capacity_community_staff"] == 200).all()
    new = ts["demands_reported"] - ts["demands_merged"]
    assert (ts["demands_to_community_staff"] == new).all()
    assert (ts["simple_to_community_staff"] == new).all()
    assert (ts[["demands_to_volunteers", "demands_to_organisations", "demands_escalated"]] == 0).all().all()
    assert (ts["response_rate"] == 1.0).all()
    assert (ts["demands_closed_overdue"] == 0).all()


def test_simple_orders_go_to_staff_then_volunteers_then_organisations():
    s = scale_demand(one_week_limits(no_capacity(make_settings(policy="gov_purchase", steps=8))), 3)
    s.behaviour.grid_worker_cases_week = 3.0  # relocation: 2 grids -> 6 cases a week
    s.behaviour.intake_orders_per_worker_week = 20.0  # the desk signs and answers them all
    s.community.department_cases_per_1000_week = 100
    lever = s.policy.gov_purchase
    lever.self_governing_share = 0.0
    lever.budget_yuan_per_year = 6 * 52 * lever.cost_per_case_yuan  # an agency paid for 6 cases a week
    model, ts = run_model(s)
    conserved(model, ts)
    ts = ts.iloc[1:]  # the contract is let in week 1's contract round, after its dispatch
    new = ts["demands_reported"] - ts["demands_merged"]
    assert (new > 12).all()  # more than staff and the agency can take
    assert ts["capacity_organisations"].to_numpy() == pytest.approx(6.0)
    assert (ts["demands_to_community_staff"] == 6).all()
    assert (ts["demands_to_organisations"] == 6).all()
    assert (ts["demands_escalated"] == 0).all()  # departments take no simple order on time
    assert (ts["demands_explained"] == new - 12).all()  # the rest: an explained reply at the one-week deadline


@pytest.mark.parametrize("cases_per_week", [0.3, 0.5, 1.25])
def test_fractional_capacity_carries_over_so_cases_accrue_in_proportion(cases_per_week):
    """A capacity of x cases a week handles floor(x × weeks) cases over the weeks, not 0 (no truncation)."""
    s = no_capacity(make_settings(steps=20))
    s.behaviour.grid_worker_cases_week = cases_per_week / 2  # 2 grids
    _, ts = run_model(s)
    assert (ts["demands_reported"] > 2).all()
    handled = ts["demands_to_community_staff"].cumsum().tolist()
    assert handled == [int(cases_per_week * (w + 1) + 1e-9) for w in range(20)]


def test_structural_orders_go_to_departments():
    s = make_settings(steps=8)
    s.behaviour.structural_share, s.behaviour.professional_share = 1.0, 0.0
    s.community.department_cases_per_1000_week = 100
    model, ts = run_model(s)
    conserved(model, ts)
    assert ts["demands_reported"].sum() > 50
    assert (ts["demands_escalated"] == ts["demands_reported"] - ts["demands_merged"]).all()


@pytest.mark.parametrize("days", [5, 10, 15])
def test_an_order_nobody_takes_is_closed_with_an_explained_reply_at_its_deadline(days):
    """With no casework at all, an order reported in week w is closed unresolved with an explained reply in week
    w + ceil(days / 5) − 1 (its time limit), on time: nothing is dropped silently, nothing goes overdue."""
    s = no_capacity(make_settings(steps=10))
    s.community.department_cases_per_1000_week = 0.0
    b = s.behaviour
    b.help_limit_days = b.complaint_limit_days = b.suggestion_limit_days = days
    weeks = math.ceil(days / 5)
    model, ts = run_model(s)
    conserved(model, ts)
    new = (ts["demands_reported"] - ts["demands_merged"]).tolist()
    assert sum(new) > 50
    assert ts["demands_explained"].tolist() == [0] * (weeks - 1) + new[:len(new) - weeks + 1]
    assert (ts["demands_closed_on_time"] == ts["demands_closed"]).all() and (ts["demands_overdue"] == 0).all()
    assert (ts["demands_responded"] == 0).all() and (ts["demands_completed"] == 0).all()
    assert (ts["completion_rate"].dropna() == 0).all()


def test_orders_past_their_deadline_stay_open_overdue_and_escalate_to_the_street():
    """When the desk cannot reply in time (no intake left) and nobody in the community can take an order, it stays
    open past its deadline (超期), counts as overdue and goes to the street and departments (督办), which take it
    even though it is a simple one; its resident grows less satisfied each week it waits."""
    s = one_week_limits(no_capacity(make_settings(steps=16)))
    s.behaviour.intake_orders_per_worker_week = 1.0  # 7 workers: 7 signatures or replies a week, fewer than orders
    s.community.department_cases_per_1000_week = 0.0
    model, ts = run_model(s)
    conserved(model, ts)
    assert ts["demands_overdue"].iloc[-1] > 0 and ts["demands_newly_overdue"].sum() > 0
    assert ts["demands_escalated"].sum() == 0
    assert compute_kpis(ts, model)["overdue_rate"] > 0.3
    waited_sat = ts["satisfaction_mean"].iloc[-1]
    # the street and departments with capacity take the overdue (simple) orders
    s = one_week_limits(no_capacity(make_settings(steps=16)))
    s.behaviour.intake_orders_per_worker_week = 1.0
    s.community.department_cases_per_1000_week = 3.0  # 4.5 cases a week
    model, ts = run_model(s)
    conserved(model, ts)
    assert ts["demands_escalated"].sum() > 0 and ts["demands_closed_overdue"].sum() > 0
    assert (ts["demands_escalated"].iloc[:1] == 0).all()  # none is overdue in the first week
    # with plenty of intake the same orders are answered on time and nobody waits overdue
    s = one_week_limits(no_capacity(make_settings(steps=16)))
    s.community.department_cases_per_1000_week = 0.0
    model, ts = run_model(s)
    conserved(model, ts)
    assert (ts["demands_overdue"] == 0).all()
    assert ts["satisfaction_mean"].iloc[-1] > waited_sat


def test_signing_late_counts_against_the_response_rate():
    s = no_capacity(make_settings(steps=12))
    s.behaviour.intake_orders_per_worker_week = 0.5  # 3.5 signatures a week for about 10 new orders
    _, ts = run_model(s)
    assert (ts["demands_signed_in_time"] <= 4).all() and ts["demands_sign_missed"].sum() > 0
    due = ts["demands_signed_in_time"] + ts["demands_sign_missed"]
    assert (ts["response_rate"].dropna() == (ts["demands_signed_in_time"] / due).dropna()).all()
    assert 0 < compute_kpis(ts)["response_rate"] < 0.6


def test_every_closed_order_is_called_back_at_full_share_and_satisfaction_follows_the_outcome():
    s = make_settings(steps=20)
    b = s.behaviour
    b.callback_share = 1.0
    b.callback_satisfied_resolved = b.callback_satisfied_late = 1.0
    b.callback_satisfied_unresolved = b.callback_satisfied_explained = 0.0
    _, ts = run_model(s)
    assert ts["demands_closed"].sum() > 50
    assert (ts["callbacks"] == ts["demands_closed"]).all()
    assert (ts["callbacks_satisfied"] == ts["demands_completed"]).all()  # satisfied exactly when resolved
    s.behaviour.callback_share = 0.0
    _, ts = run_model(s)
    assert (ts["callbacks"] == 0).all() and ts["callback_satisfaction"].isna().all()


def test_callbacks_are_a_share_of_closed_orders():
    model = CommunityModel(make_settings(steps=52))
    ts = model.run()
    share = model.cfg.behaviour.callback_share
    assert (ts["callbacks"] <= ts["demands_closed"]).all()
    assert ts["callbacks"].sum() == pytest.approx(share * ts["demands_closed"].sum(), rel=0.1)
    assert (ts["callbacks_satisfied"] <= ts["callbacks"]).all()


def test_a_residents_repeat_demand_is_merged_into_the_open_order():
    """重复诉求合并: a resident has at most one open order; a demand raised while it is open is merged into it."""
    s = one_week_limits(no_capacity(make_settings(steps=12)))
    s.behaviour.intake_orders_per_worker_week = 0.0  # nothing is signed or answered: every order stays open
    scale_demand(s, 10)
    model, ts = run_model(s)
    conserved(model, ts)
    assert ts["demands_merged"].sum() > 0
    assert np.unique(model.platform.q_resident).size == model.platform.queue_length
    assert model.platform.queue_length <= model.residents.size


@pytest.mark.parametrize("policy", ["baseline", "five_society", "gov_purchase"])
def test_no_order_vanishes_over_a_run_with_the_shipped_warm_up(policy):
    s = make_settings(policy=policy, steps=52, warmup=52)
    model, ts = run_model(s)
    conserved(model, ts)


# --------------------------------------------------------------------------------------------
# probes at the edges (issue 24, "Done when")
# --------------------------------------------------------------------------------------------
def test_with_capacity_far_above_demand_each_of_33_to_35_can_reach_its_target():
    """Some conceivable configuration meets #33 (100 %), #34 (≥ 95 %) and #35 (≥ 95 %): ample casework,
    resolution and callback chances at the top of the published ranges (docs/literature.md [K21][K22])."""
    s = make_settings(steps=52, seed=1)
    b = s.behaviour
    b.staff_cases_week = 50.0
    b.professional_share = b.structural_share = 0.0
    b.staff_success = b.volunteer_success = b.supervised_success = 0.99
    b.callback_satisfied_resolved = 0.98
    model, ts = run_model(s)
    k = compute_kpis(ts, model)
    assert k["response_rate"] == 1.0
    assert k["completion_rate"] >= 0.95
    assert k["callback_satisfaction"] >= 0.95


def test_at_twenty_times_the_demand_the_response_rate_degrades_smoothly_not_to_zero():
    """#33 falls with the load in proportion to what the desk can sign, never to 0 while it can sign anything
    (a city whose calls tripled still answered just under 60 %, docs/literature.md [K27])."""
    rates = []
    for factor in (1, 2, 5, 10, 20):
        s = scale_demand(make_settings(steps=52, seed=2), factor)
        s.behaviour.intake_orders_per_worker_week = 3.0  # 21 signatures a week: the load passes it at ×2
        model, ts = run_model(s)
        conserved(model, ts)
        rates.append(compute_kpis(ts, model)["response_rate"])
    assert rates[0] > 0.95
    assert all(a >= b - 0.02 for a, b in itertools.pairwise(rates)), rates  # falls with the load
    assert 0.05 < rates[-1] < rates[0] - 0.2, rates                                  # … smoothly, not to 0


def test_at_twenty_times_the_demand_the_share_resolved_on_time_and_satisfaction_fall():
    """With the shipped parameters: the more demand, the fewer orders resolved by their deadline (#34, over the
    orders due) and the lower the callback and general satisfaction (issue 24, finding 4)."""
    kpis = []
    for factor in (1, 5, 20):
        model, ts = run_model(scale_demand(make_settings(steps=52, seed=5), factor))
        conserved(model, ts)
        kpis.append(compute_kpis(ts, model))
    for key in ("completion_rate", "satisfaction_mean"):
        values = [k[key] for k in kpis]
        assert values[0] > values[1] > values[2] > 0, (key, values)
    # the callback covers closed orders only (as the hotlines' 回访 does): it falls, but not monotonically, since
    # under overload the orders still closed are more often resolved (late) than answered with an explanation
    callback = [k["callback_satisfaction"] for k in kpis]
    assert max(callback[1:]) < callback[0] - 0.05, callback


def test_when_service_collapses_satisfaction_falls():
    """No casework and no replies: every order goes overdue, so #34 and the on-time closing rate are 0 (orders
    due and not closed count against them), callback satisfaction is undefined (nothing is closed to call back)
    and general satisfaction falls well below a run where orders are handled."""
    s = no_capacity(make_settings(steps=52, seed=4), simple_only=False)
    s.behaviour.intake_orders_per_worker_week = 0.0
    s.community.department_cases_per_1000_week = 0.0
    model, ts = run_model(s)
    conserved(model, ts)
    collapsed = compute_kpis(ts, model)
    normal_model, normal_ts = run_model(make_settings(steps=52, seed=4))
    normal = compute_kpis(normal_ts, normal_model)
    assert math.isnan(collapsed["callback_satisfaction"])
    assert collapsed["completion_rate"] == 0.0 and collapsed["on_time_completion_rate"] == 0.0
    assert collapsed["overdue_rate"] == 1.0 and collapsed["response_rate"] == 0.0
    assert collapsed["satisfaction_mean"] < normal["satisfaction_mean"] - 0.15
