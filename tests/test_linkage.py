"""Probes of the linkage itself (issue #11): each checks a rule a policy researcher relies on, and each can fail.

Runs are short and on small presets (warm-up 0: the run starts from the preset's initial state) except
where a probe needs every preset or the warm-up itself.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest
from conftest import COMMUNITIES, POLICIES, make_settings, run_model

from sim.levers import PolicyConfig
from sim.model.community_model import CommunityModel
from sim.model.indicators import TARGETS, compute_kpis, kpi_report
from sim.model.organisations import OrgKind
from sim.model.projects import deliver
from sim.model.record import PUBLIC_COSTS
from sim.settings.config import GROUPS, settings_for
from sim.tables.lever_rules import levers


def report(model: CommunityModel, ts) -> dict:
    """kpis.json's content for a run, as sim.runs.runner writes it."""
    return kpi_report(compute_kpis(ts, model), len(ts), model.cfg.behaviour.longest_wait_weeks())


@functools.cache
def baseline_run(community: str):
    """The preset's baseline as a user runs it: the shipped warm-up, then a recorded year (cached: several
    probes read it; they must not change it)."""
    shipped = settings_for("progress=false").warmup_weeks
    assert shipped >= 52, "the shipped warm-up is the steady-state check's; a probe reads the baseline after it"
    return run_model(make_settings(community=community, policy="baseline", steps=52, warmup=shipped))


# --------------------------------------------------------------------------------------------
# #35 is undefined without demands, and falls with the load
# --------------------------------------------------------------------------------------------
def no_demands(s):
    for g in GROUPS:
        setattr(s.behaviour.demand_rates, g, 0.0)
    return s


@pytest.mark.parametrize("policy", POLICIES)
def test_without_demands_callback_satisfaction_is_null_and_not_met(policy):
    model, ts = run_model(no_demands(make_settings(policy=policy, steps=52)))
    assert ts["demands_raised"].sum() == 0 and ts["callbacks"].sum() == 0
    assert ts["callback_satisfaction"].isna().all(), "callback_satisfaction must be NaN in weeks without a callback"
    entry = report(model, ts)["targets"]["callback_satisfaction"]
    assert entry["value"] is None, f"#35 must be null without demands under {policy}, got {entry['value']}"
    assert entry["met"] in (None, False), f"#35 must not be met without demands under {policy}"


def overwhelmed(s, factor: float):
    for g in GROUPS:
        setattr(s.behaviour.demand_rates, g, getattr(s.behaviour.demand_rates, g) * factor)
    return s


@pytest.mark.parametrize("policy", ["baseline", "five_society"])
def test_an_overwhelmed_platform_resolves_fewer_on_time_and_satisfies_fewer(policy):
    normal_model, normal = run_model(make_settings(policy=policy, steps=52, seed=3))
    heavy_model, heavy = run_model(overwhelmed(make_settings(policy=policy, steps=52, seed=3), 20))
    assert heavy["demands_reported"].sum() > 10 * normal["demands_reported"].sum()
    k_normal = report(normal_model, normal)["targets"]
    k_heavy = report(heavy_model, heavy)["targets"]
    for key in ("completion_rate", "callback_satisfaction"):
        assert k_heavy[key]["value"] is not None and k_normal[key]["value"] is not None
        assert k_heavy[key]["value"] < k_normal[key]["value"] - 0.05, \
            f"{key} under {policy}: {k_heavy[key]['value']:.3f} at demand ×20 vs {k_normal[key]['value']:.3f} normal"


# --------------------------------------------------------------------------------------------
# who handles demands
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("community", COMMUNITIES)
def test_community_workers_handle_more_simple_demands_than_volunteers_in_the_baseline(community):
    _model, ts = baseline_run(community)
    staff, volunteers = ts["simple_to_community_staff"].sum(), ts["simple_to_volunteers"].sum()
    assert staff > 0
    assert staff > volunteers, f"{community}: community staff {staff} vs volunteers {volunteers} simple demands"


@pytest.mark.parametrize("community", COMMUNITIES)
def test_purchased_capacity_is_proportional_to_the_money_at_every_scale(community):
    """Purchased capacity = capacity of organisations and community staff (the self-governing bodies' share)
    minus the same run without a budget, from 100 yuan to a million a year: exactly budget ÷ price per case ÷ 52
    a week, so 100 yuan buys a quarter of a case a year and no agency, posts or social workers come with it
    (issue 24, finding 1).  The contract is let in week 1's contract round, so from week 2 on."""
    capacity, workers = {}, {}
    for budget in (0.0, 100.0, 1_000.0, 100_000.0, 1_000_000.0):
        s = make_settings(community=community, policy="gov_purchase", steps=13)
        s.policy.gov_purchase.budget_yuan_per_year = budget
        model, ts = run_model(s)
        capacity[budget] = (ts["capacity_organisations"] + ts["capacity_community_staff"]).to_numpy()[1:]
        workers[budget] = ts["social_workers"].to_numpy()[1:]
        lever = s.policy.gov_purchase
        contracted = sum(o.contract_cases_week for o in model.organisations if o.contract_weeks_left > 0)
        expected = budget * (1 - lever.self_governing_share) / lever.cost_per_case_yuan / 52
        assert contracted == pytest.approx(expected, rel=1e-3, abs=1e-9), "money must buy cases in proportion"
        expected_sg = budget * lever.self_governing_share / lever.cost_per_case_yuan / 52
        assert model.platform.self_governing_cases_week == pytest.approx(expected_sg, rel=1e-3, abs=1e-9)
        # the posts it pays: whole posts of org_cases_per_staff_week cases, no more
        posts = sum(len(o.contract_staff) for o in model.organisations)
        assert posts == int(expected / s.behaviour.org_cases_per_staff_week + 1e-9) or len(
            [o for o in model.organisations if o.contract_weeks_left > 0]) > 1
    for budget in (100.0, 1_000.0, 100_000.0, 1_000_000.0):
        bought = capacity[budget] - capacity[0.0]
        per_week = budget / s.policy.gov_purchase.cost_per_case_yuan / 52
        np.testing.assert_allclose(bought, per_week, rtol=1e-6, atol=1e-9,
                                   err_msg=f"{community}: {budget:,.0f} yuan must buy {per_week:.4f} cases a week")
    # a tiny contract brings no social workers (who would supervise volunteers and run projects)
    np.testing.assert_array_equal(workers[100.0], workers[0.0])
    np.testing.assert_array_equal(workers[1_000.0], workers[0.0])


@pytest.mark.slow
def test_the_gain_in_resolved_orders_is_proportional_to_the_purchase_budget():
    """Below the budget that covers all professional orders (in urban_traditional about 170,000 yuan a year), each
    case bought resolves the same number of orders: at 20,000, 40,000 and 80,000 yuan the gain over no budget
    (paired by seed) is the pooled gain per case × the cases bought, within its 95 % seed interval, and at most
    one resolved order per case (5 seeds, a recorded year after a year's warm-up)."""
    from scipy import stats

    price = make_settings().policy.gov_purchase.cost_per_case_yuan
    resolved = {}
    for budget in (0.0, 20_000.0, 40_000.0, 80_000.0):
        runs = []
        for seed in range(5):
            s = make_settings(community="urban_traditional", policy="gov_purchase", steps=52, seed=seed, warmup=52)
            s.policy.gov_purchase.budget_yuan_per_year = budget
            s.policy.gov_purchase.self_governing_share = 0.0
            _, ts = run_model(s)
            runs.append(ts["demands_completed"].sum())
        resolved[budget] = np.array(runs, dtype=float)
    gains = {b: resolved[b] - resolved[0.0] for b in (20_000.0, 40_000.0, 80_000.0)}
    per_case = sum(g.sum() for g in gains.values()) / sum(b / price * 5 for b in gains)
    assert 0.5 < per_case <= 1.05, per_case  # a bought case resolves an order at most once
    t = stats.t.ppf(0.975, 4)
    for budget, g in gains.items():
        half_width = t * g.std(ddof=1) / np.sqrt(g.size)
        assert abs(g.mean() - per_case * budget / price) <= half_width, (budget, g.mean(), per_case, half_width)


# --------------------------------------------------------------------------------------------
# business that supports charity
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("community", COMMUNITIES)
def test_charity_sales_never_exceed_buyers_spending_and_need_a_workshop(community):
    s = make_settings(community=community, policy="charity_sales", steps=13)
    s.policy.charity_sales.output_yuan_per_workshop_week = 1_000_000  # supply is no limit: buyers are
    _model, ts = run_model(s)
    assert (ts["charity_sales_income"] <= ts["charity_buyers_spend"] + 1e-9).all()
    if s.community.handicraft_workshops == 0:
        assert (ts["charity_sales_income"] == 0).all() and (ts["fund_inflow_charity_sales"] == 0).all()
    else:
        assert ts["charity_sales_income"].sum() > 0
        assert (ts["charity_sales_income"] == ts["charity_buyers_spend"]).all()


@pytest.mark.parametrize("community", COMMUNITIES)
def test_the_social_enterprise_exists_only_where_the_preset_has_its_asset(community):
    s = make_settings(community=community, policy="social_enterprise", steps=3)
    _model, ts = run_model(s)
    if s.community.social_enterprise_asset:
        assert (ts["social_enterprises"] == 1).all() and (ts["social_enterprise_revenue"] > 0).all()
        assert (ts["social_enterprise_jobs"] == s.policy.social_enterprise.jobs).all()
    else:
        assert (ts["social_enterprises"] == 0).all() and (ts["social_enterprise_revenue"] == 0).all()
        assert (ts["fund_inflow_social_enterprise"] == 0).all()


@pytest.mark.parametrize("community", ["relocation", "industrial_park"])
@pytest.mark.parametrize("fen", [1, 0.5])
def test_one_cent_inflow_is_units_times_fen_exactly(community, fen):
    s = make_settings(community=community, policy="micro_fund", steps=13)
    s.policy.micro_fund.fen_per_unit, s.policy.micro_fund.participating_share = fen, 1.0
    model = CommunityModel(s)
    donors = [e for e in model.enterprises if e.per_unit_donor]
    assert donors and all(e.per_unit_donor for e in model.enterprises if e.sells_product)
    units = given = 0
    for _ in range(s.steps):
        model.step()
        week_units = sum(e.units_sold for e in donors)
        week_fen = model.fund.inflow_fen["enterprise_per_unit"]
        assert model.latest()["enterprise_units_sold"] == week_units
        if float(fen).is_integer():
            assert week_fen == week_units * fen
        else:  # each donor carries its fraction of a fen to the next week
            assert abs(week_fen - week_units * fen) < len(donors)
        units, given = units + week_units, given + week_fen
    assert units > 100
    # each donor owes less than a fen, carried to next week: what was given plus what is owed is exact
    assert all(0 <= e.fen_carry < 1 for e in donors)
    assert given + sum(e.fen_carry for e in donors) == pytest.approx(units * fen, abs=1e-6)
    if len(donors) == 1:
        assert given == math.floor(units * fen)


# --------------------------------------------------------------------------------------------
# no KPI met by construction
# --------------------------------------------------------------------------------------------
# Each lever's switches and their zero/off values: the baseline must hold every one of them.
OFF = {
    "micro_fund": {"fen_per_unit": 0.0},
    "enterprise": {"lump_yuan_per_year": 0.0, "lump_donor_share": 0.0, "moral_bank_sponsor_yuan_per_year": 0.0,
                   "employee_volunteer_hours_week": 0.0, "cause_marketing_uplift": 0.0},
    "fund": {"public_fundraising": False, "government_grant_yuan_per_year": 0.0, "government_match_ratio": 0.0},
    "moral_bank": {"enabled": False, "government_yuan_per_year": 0.0},
    "gov_purchase": {"budget_yuan_per_year": 0.0},
    "charity_sales": {"enabled": False},
    "social_enterprise": {"enabled": False},
    "social_work": {"extra_social_workers": 0, "mobilisation": False},
    "deliberation": {"enabled": False},
    "party_building": {"strength": 0.0},
    "venture": {"budget_yuan_per_year": 0.0},
    "meal_aid": {"budget_yuan_per_year": 0.0},
}


def test_every_lever_is_at_its_off_value_in_the_baseline():
    assert set(OFF) == set(levers()), "a lever was added or removed: say what its off value is"
    for community in COMMUNITIES:
        policy = make_settings(community=community, policy="baseline").policy
        for lever, switches in OFF.items():
            for name, off in switches.items():
                assert getattr(getattr(policy, lever), name) == off, f"{community}: baseline policy.{lever}.{name}"
    assert dataclasses.asdict(make_settings(policy="baseline").policy) == dataclasses.asdict(PolicyConfig())


@pytest.mark.parametrize("community", COMMUNITIES)
def test_no_indicator_is_met_by_construction_in_the_baseline(community):
    model, ts = baseline_run(community)
    targets = report(model, ts)["targets"]
    assert {t.status for t in TARGETS} <= {"modelled", "proxy", "not_modelled"}
    for key in ("enterprise_participation", "volunteer_active_share_2plus"):
        assert targets[key]["met"] is False, f"{community}: {key} = {targets[key]['value']} met in the baseline"
    assert targets["enterprise_participation"]["value"] == 0.0  # no unit gives or claims without a lever
    assert targets["deliberation_satisfaction"]["value"] is None and targets["deliberation_satisfaction"]["met"] is None
    for t in TARGETS:
        if t.status == "not_modelled":
            assert targets[t.key]["value"] is None and targets[t.key]["met"] is None


def test_a_tiny_lever_value_does_not_meet_enterprise_participation():
    s = make_settings(policy="baseline", steps=52)
    s.policy.enterprise.employee_volunteer_hours_week = 0.01  # no party building: nobody convenes the units
    model, ts = run_model(s)
    entry = report(model, ts)["targets"]["enterprise_participation"]
    assert entry["value"] == 0.0 and entry["met"] is False


# --------------------------------------------------------------------------------------------
# satisfaction comes from service
# --------------------------------------------------------------------------------------------
def no_service(s):
    """Every service capacity removed: no community or grid workers, agencies, departments, volunteers,
    mutual aid, social-enterprise services or purchased cases."""
    c, b, p = s.community, s.behaviour, s.policy
    c.community_workers = c.professional_agencies = 0
    c.department_cases_per_1000_week = 0.0
    c.volunteers_initial_share = 0.0
    b.grid_worker_cases_week = b.register_base = b.casual_activity_prob = b.member_cases_week = 0.0
    b.org_cases_per_staff_week = 0.0
    p.enterprise.employee_volunteer_hours_week = 0.0
    p.social_enterprise.service_cases_week = 0.0
    p.gov_purchase.budget_yuan_per_year = 0.0
    return s


def test_without_any_service_satisfaction_falls_below_the_working_baseline():
    working_model, working = run_model(make_settings(policy="baseline", steps=104, seed=5))
    k_working = report(working_model, working)
    for policy in ("baseline", "five_society"):
        model, ts = run_model(no_service(make_settings(policy=policy, steps=104, seed=5)))
        assert ts["demands_responded"].sum() == 0, f"{policy}: some capacity was left"
        k = report(model, ts)
        sat, sat_working = k["totals"]["satisfaction_mean"], k_working["totals"]["satisfaction_mean"]
        assert sat < sat_working, f"{policy} without service: satisfaction {sat:.3f} vs working {sat_working:.3f}"
        callback = k["targets"]["callback_satisfaction"]["value"]
        callback_working = k_working["targets"]["callback_satisfaction"]["value"]
        assert callback < callback_working, f"{policy} without service: #35 {callback:.3f} vs {callback_working:.3f}"


def test_project_sessions_change_only_their_served_residents_satisfaction():
    s = make_settings(policy="five_society", steps=40, seed=2)
    s.behaviour.project_cost_yuan = 100.0  # cheap projects: the first round funds some
    s.behaviour.project_cycle_weeks = 13
    model = CommunityModel(s)
    while not model.platform.projects and model.week < 40:
        model.step()
    assert model.platform.projects, "no project ran within 40 weeks"
    served = model.platform.served_now()
    satisfaction, trust = model.residents.satisfaction.copy(), model.residents.trust.copy()
    sessions = deliver(model, volunteers=4.0)
    others = np.ones(model.residents.size, dtype=bool)
    others[served] = False
    np.testing.assert_array_equal(model.residents.satisfaction[others], satisfaction[others])
    np.testing.assert_array_equal(model.residents.trust[others], trust[others])
    assert sessions.sessions > 0 and not sessions.took_part[others].any()
    moved = model.residents.satisfaction != satisfaction
    assert moved.any() and not moved[others].any()


# --------------------------------------------------------------------------------------------
# warm-up and public cost
# --------------------------------------------------------------------------------------------
def test_the_warm_up_is_not_recorded_and_every_policy_starts_from_the_same_state():
    models = {p: CommunityModel(make_settings(policy=p, steps=10, seed=4, warmup=52))
              for p in ("baseline", "five_society")}
    for m in models.values():
        m.warm_up()
        assert m.week == 52 and m.weeks_recorded == 0
    a, b = models["baseline"], models["five_society"]
    for name in ("satisfaction", "trust", "volunteer", "points", "member_of", "activities_52"):
        np.testing.assert_array_equal(getattr(a.residents, name), getattr(b.residents, name), err_msg=name)
    assert a.fund.balance_fen == b.fund.balance_fen and len(a.organisations) == len(b.organisations)
    for policy, m in models.items():
        ts = m.run()
        assert len(ts) == 10 and ts["step"].tolist() == list(range(1, 11)), policy
        assert m.opening_balance_fen == a.opening_balance_fen
        kpis = compute_kpis(ts, m)
        assert kpis["fund_opening_balance"] == a.opening_balance_fen / 100
        assert kpis["fund_inflow_run"] == pytest.approx(ts["fund_inflow_total"].sum())
        assert kpis["enterprise_units_sold_run"] == ts["enterprise_units_sold"].sum()
        # the warm-up's money is in the fund's books but not in the run's totals
        assert 0 < kpis["fund_inflow_run"] * 100 < sum(m.fund.total_in_fen.values())
        assert kpis["orgs_incubated_total"] == ts["orgs_incubated_total"].iloc[-1]
    assert (models["five_society"].timeseries()["public_cost"] > a.timeseries()["public_cost"]).all()


@pytest.mark.parametrize("policy", ["baseline", "five_society"])
def test_public_cost_is_the_sum_of_its_kinds_and_the_baseline_pays_only_wages(policy):
    s = make_settings(community="tourism_village", policy=policy, steps=52, seed=6)
    model, ts = run_model(s)
    kinds = ts[[f"public_cost_{k}" for k in PUBLIC_COSTS]]
    np.testing.assert_allclose(ts["public_cost"], kinds.sum(axis=1), atol=0.005)
    totals = report(model, ts)["totals"]
    assert totals["public_cost_run"] == pytest.approx(ts["public_cost"].sum(), abs=0.01)
    wages = s.behaviour.social_worker_wage_yuan_per_year
    workers = len(model.station_workers)
    assert ts["public_cost_social_workers"].sum() == pytest.approx(workers * wages, abs=0.01)
    if policy == "baseline":
        others = [k for k in PUBLIC_COSTS if k != "social_workers"]
        assert (ts[[f"public_cost_{k}" for k in others]] == 0).all().all()
        assert (ts["public_cost"] == ts["public_cost_social_workers"]).all() and ts["public_cost"].sum() > 0
    else:
        assert totals["public_cost_run"] > ts["public_cost_social_workers"].sum()
        assert ts["public_cost_purchase"].sum() > 0


def test_every_organisation_kind_counts_in_the_capacity_it_offers():
    """The social enterprise's service cases count in capacity_organisations (it delivers, not only profits)."""
    s = make_settings(community="tourism_village", policy="social_enterprise", steps=3)
    model, ts = run_model(s)
    (se,) = [o for o in model.organisations if o.kind is OrgKind.SOCIAL_ENTERPRISE]
    others = sum(o.capacity() for o in model.organisations if o is not se)
    offered = others + s.policy.social_enterprise.service_cases_week
    assert offered >= 2 and ts["capacity_organisations"].iloc[-1] == pytest.approx(offered)


def test_volunteers_assisting_a_project_let_it_hold_more_sessions():
    """Volunteers assist delivery: with a full complement a project holds twice the sessions it holds without."""
    s = make_settings(policy="five_society", steps=40, seed=2)
    s.behaviour.project_cost_yuan = 100.0
    s.behaviour.project_cycle_weeks = 13
    s.behaviour.session_prob = 0.8
    model = CommunityModel(s)
    while not model.platform.projects and model.week < 40:
        model.step()
    assert model.platform.projects, "no project ran within 40 weeks"
    for p in model.platform.projects:
        p.claimed_by = []  # no employees lent: only the week's volunteers help
    served = sum(p.served.size for p in model.platform.projects)
    want = s.behaviour.volunteers_per_project * len(model.platform.projects)
    without = sum(deliver(model, volunteers=0.0).sessions for _ in range(5))
    full = sum(deliver(model, volunteers=want).sessions for _ in range(5))
    # expected sessions: served × 0.8 × ½ without volunteers, × 1 with all of them (5 weeks each)
    assert without == pytest.approx(served * 5 * 0.4, rel=0.25)
    assert full == pytest.approx(served * 5 * 0.8, rel=0.25)
    assert full > 1.5 * without


def test_purchase_from_self_governing_bodies_adds_to_the_community_staffs_capacity():
    """003 buys services from 社区自治组织 too: their share is paid weekly, counted as public cost, and buys
    simple-case capacity handled with the community workers, in proportion to the money."""
    s = make_settings(policy="gov_purchase", steps=13)
    lever = s.policy.gov_purchase
    lever.budget_yuan_per_year, lever.self_governing_share = 52_000, 0.5
    model, ts = run_model(s)
    own = s.community.community_workers * s.behaviour.staff_cases_week \
        + model.residents.n_grids * s.behaviour.grid_worker_cases_week
    bought = 26_000 / lever.cost_per_case_yuan / 52
    assert ts["capacity_community_staff"].iloc[1:].to_numpy() == pytest.approx(own + bought)
    agencies = [o for o in model.organisations if o.kind is OrgKind.PROFESSIONAL_AGENCY]
    assert sum(o.contract_fen_left for o in agencies) == 39 * 50_000  # the other half, 500 yuan a week, 39 weeks left
    assert ts["public_cost_purchase"].to_numpy() == pytest.approx(1_000.0)  # both halves, every week
    s0 = make_settings(policy="gov_purchase", steps=13)
    s0.policy.gov_purchase.budget_yuan_per_year, s0.policy.gov_purchase.self_governing_share = 52_000, 0.0
    _, ts0 = run_model(s0)
    assert ts0["capacity_community_staff"].to_numpy() == pytest.approx(own)
