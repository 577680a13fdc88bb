"""Each mechanism of the model in isolation, on the small relocation community (1,500 residents).

Demand handling (dispatch, deadlines, callbacks) is tested in tests/test_demand_handling.py.
"""

from __future__ import annotations

import copy
import math
from fractions import Fraction

import numpy as np
import pytest
from conftest import run_model

from sim.model.community_model import CommunityModel
from sim.model.fund import INFLOW_SOURCES, OUTFLOW_USES, POTS
from sim.model.organisations import OrgKind
from sim.model.residents import Redemptions
from sim.settings.config import GROUPS


def no_fund_income(s):
    """No money ever reaches the fund (so organisations get no services or project income from it)."""
    s.behaviour.donate_prob = 0.0
    s.policy.enterprise.moral_bank_sponsor_yuan_per_year = 0.0
    s.policy.social_work.incubations_per_worker_year = 0.0
    return s


# --------------------------------------------------------------------------------------------
# (a) one-cent charity: per-unit donation
# --------------------------------------------------------------------------------------------
def test_integer_per_unit_donation_is_units_times_fen_every_week(small_settings):
    s = small_settings(policy="micro_fund", steps=10)
    s.policy.micro_fund.fen_per_unit = 3
    model = CommunityModel(s)
    for _ in range(10):
        model.step()
        donors = [e for e in model.enterprises if e.per_unit_donor]
        assert len(donors) == 1 and donors[0].units_sold > 400  # relocation: ~500 units/week
        assert model.fund.inflow_fen["enterprise_per_unit"] == 3 * donors[0].units_sold
        row = model.latest()
        assert row["fund_inflow_enterprise_per_unit"] == pytest.approx(3 * row["enterprise_units_sold"] / 100)


def test_no_per_unit_donation_without_the_lever_or_without_participants(small_settings):
    for fen, share in ((0.0, 1.0), (1.0, 0.0)):
        s = small_settings(policy="micro_fund", steps=5)
        s.policy.micro_fund.fen_per_unit, s.policy.micro_fund.participating_share = fen, share
        model, ts = run_model(s)
        assert (ts["enterprise_units_sold"] > 0).all()
        assert model.fund.total_in_fen["enterprise_per_unit"] == 0
        assert not any(e.per_unit_donor for e in model.enterprises) or fen == 0


@pytest.mark.parametrize("fen", [0.5, 0.3, 0.01, 1.25])
def test_fractional_fen_per_unit_is_carried_so_the_total_is_exact(small_settings, fen):
    """total donated fen == floor(total units × fen), every week, in whole fen."""
    s = small_settings(policy="micro_fund", steps=12)
    s.policy.micro_fund.fen_per_unit = fen
    model = CommunityModel(s)
    seller = next(e for e in model.enterprises if e.per_unit_donor)
    units = 0
    for _ in range(12):
        model.step()
        units += seller.units_sold
        given = model.fund.total_in_fen["enterprise_per_unit"]
        assert isinstance(given, int)
        assert given == math.floor(units * Fraction(str(fen)))
        assert 0 <= seller.fen_carry + 1e-9 < 1
    assert units * fen > 10  # the test moved real money


# --------------------------------------------------------------------------------------------
# (b) organisations: agencies live on income, self-organisations on their members
# --------------------------------------------------------------------------------------------
def one_agency_no_income(s):
    """Relocation's self-organisation (members stay) plus one agency that never earns anything."""
    s = no_fund_income(s)
    s.community.professional_agencies = 1
    s.behaviour.self_org_leave_prob = 0.0
    return s


@pytest.mark.parametrize("fold_weeks", [1, 5])
def test_agency_without_income_folds_after_exactly_org_fold_weeks(small_settings, fold_weeks):
    s = one_agency_no_income(small_settings(steps=fold_weeks + 3))
    s.behaviour.org_fold_weeks = fold_weeks
    model = CommunityModel(s)
    (agency,) = [o for o in model.organisations if o.kind is OrgKind.PROFESSIONAL_AGENCY]
    (group,) = [o for o in model.organisations if o.kind is OrgKind.SELF_ORGANISATION]
    for week in range(1, fold_weeks):
        model.step()
        assert agency in model.organisations, f"folded too early, in week {week}"
        assert agency.weeks_without_income == week
    model.step()  # week fold_weeks
    assert model.organisations == [group]  # the self-organisation lives on its members, not on income
    for _ in range(3):
        model.step()
    ts = model.timeseries()
    assert ts["social_orgs_professional"].tolist() == [1] * (fold_weeks - 1) + [0] * 4
    assert (ts["social_orgs_self"] == 1).all() and ts["orgs_folded_total"].iloc[-1] == 1


def test_self_organisation_lives_on_members_not_income_and_dissolves_below_the_minimum(small_settings):
    s = one_agency_no_income(small_settings(steps=12))
    s.community.professional_agencies = 0
    s.behaviour.org_fold_weeks = 2
    model = CommunityModel(s)
    (group,) = model.organisations
    model.run()
    assert group in model.organisations and group.members >= s.behaviour.self_org_min_members
    assert group.income_fen == 0  # no income in 12 weeks, six times org_fold_weeks
    s.behaviour.self_org_leave_prob = 1.0  # every member leaves in week 1 …
    s.behaviour.self_org_emergence_prob = 0.0
    model = CommunityModel(s)
    model.step()
    assert model.latest()["self_org_members"] == 0 and model.latest()["social_orgs_self"] == 1
    model.step()  # … and the group, below the minimum, dissolves at its next weekly rule
    assert model.organisations == [] and model.latest()["orgs_folded_total"] == 1


def test_agency_with_a_contract_every_week_does_not_fold(small_settings):
    s = one_agency_no_income(small_settings(policy="gov_purchase", steps=20))
    s.behaviour.org_fold_weeks = 2
    model = CommunityModel(s)
    (agency,) = [o for o in model.organisations if o.kind is OrgKind.PROFESSIONAL_AGENCY]
    ts = model.run()
    assert agency in model.organisations and agency.weeks_without_income == 0
    assert (ts["social_orgs_professional"] == 1).all() and ts["orgs_folded_total"].iloc[-1] == 0


def test_one_week_of_income_resets_the_fold_clock(small_settings):
    s = one_agency_no_income(small_settings(steps=10))
    s.policy.gov_purchase.contract_weeks = 1  # a contract round every week, for one week's pay
    s.behaviour.org_fold_weeks = 3
    model = CommunityModel(s)
    (agency,) = [o for o in model.organisations if o.kind is OrgKind.PROFESSIONAL_AGENCY]
    model.step()
    model.step()
    assert agency.weeks_without_income == 2
    model.purchase_budget_yuan_per_year = 52_000.0  # one week's contract
    model.step()
    assert agency.weeks_without_income == 0 and agency.income_fen == 100_000
    model.purchase_budget_yuan_per_year = 0.0
    model.step()
    model.step()
    assert agency in model.organisations and agency.weeks_without_income == 2
    model.step()
    assert agency not in model.organisations


# --------------------------------------------------------------------------------------------
# (d) the fund's ledger
# --------------------------------------------------------------------------------------------
def test_fund_never_pays_more_than_its_balance(small_settings):
    fund = CommunityModel(small_settings(steps=1)).fund
    assert fund.balance_fen == 0
    assert fund.pay("services", 500) == 0
    fund.receive("resident_donations", 1_000)
    assert fund.pay("needy_residents", 300) == 300
    assert fund.pay("services", 5_000) == 700  # only what is left
    assert fund.balance_fen == 0
    assert fund.pay("administration", -50) == 0
    assert fund.total_in_fen["resident_donations"] == 1_000
    assert fund.total_out_fen["needy_residents"] + fund.total_out_fen["services"] == 1_000


def test_earmarked_money_is_part_of_the_balance_and_is_spent_only_on_its_use(small_settings):
    fund = CommunityModel(small_settings(steps=1)).fund
    fund.receive("government", 200)
    fund.receive("resident_units", 800, pot="projects")  # a unit's claim, earmarked for its project
    assert fund.balance_fen == 1_000 and fund.project_pot_fen == 800 and fund.free_fen == 200
    assert fund.pay("services", 5_000) == 200  # free money only: the pot is not touched
    assert fund.pay("projects", 5_000, pot="projects") == 800  # at most the pot
    assert fund.balance_fen == 0 and fund.pot_fen == dict.fromkeys(POTS, 0)
    fund.receive("enterprise_per_unit", 300, pot="care")
    assert fund.earmark("projects", 500) == 0  # nothing free to set aside
    fund.receive("resident_donations", 300)
    assert fund.earmark("projects", 500) == 300 and fund.free_fen == 0
    assert fund.pay("moral_bank", 100, pot="moral_bank") == 0  # an empty pot pays nothing
    assert fund.pay("needy_residents", 1_000, pot="care") == 300
    assert fund.balance_fen == sum(fund.pot_fen.values()) == 300


def test_fund_refuses_negative_inflows_and_unknown_sources_or_uses(small_settings):
    fund = CommunityModel(small_settings(steps=1)).fund
    with pytest.raises(ValueError, match="non-negative"):
        fund.receive("government", -1)
    with pytest.raises(KeyError, match="unknown fund inflow source 'lottery'"):
        fund.receive("lottery", 100)
    with pytest.raises(KeyError, match="unknown fund outflow use 'bonus'"):
        fund.pay("bonus", 100)
    assert fund.balance_fen == 0
    assert set(fund.inflow_fen) == set(INFLOW_SOURCES) and set(fund.outflow_fen) == set(OUTFLOW_USES)


def test_fund_with_random_payments_never_goes_negative(small_settings):
    fund = CommunityModel(small_settings(steps=1)).fund
    rng = np.random.default_rng(0)
    for _ in range(500):
        if rng.random() < 0.4:
            fund.receive(str(rng.choice(INFLOW_SOURCES)), int(rng.integers(0, 10_000)))
        else:
            fund.pay(str(rng.choice(OUTFLOW_USES)), int(rng.integers(-100, 20_000)))
        assert fund.balance_fen >= 0
        assert fund.balance_fen == sum(fund.total_in_fen.values()) - sum(fund.total_out_fen.values())


def test_government_match_is_the_ratio_of_resident_donations(small_settings):
    s = small_settings(steps=26)
    s.policy.fund.government_match_ratio = 0.5
    s.policy.fund.public_fundraising = True
    model = CommunityModel(s)
    for _ in range(26):
        model.step()
        donations = model.fund.inflow_fen["resident_donations"]
        assert model.fund.inflow_fen["government"] == round(donations * 0.5)
        assert model.latest()["gov_spending"] == pytest.approx(round(donations * 0.5) / 100)
    assert model.fund.total_in_fen["resident_donations"] > 0


# --------------------------------------------------------------------------------------------
# (e) moral bank
# --------------------------------------------------------------------------------------------
def earned_points(ts, lever) -> float:
    """Points earned: volunteer, casual and project activities, and other civic acts (003 文明行为)."""
    activities = (ts["volunteer_activities"] + ts["casual_activities"] + ts["project_sessions"]).sum()
    return activities * lever.points_per_activity + ts["civic_acts"].sum() * lever.points_per_civic_act


def test_moral_bank_gives_points_for_every_civic_act(small_settings):
    s = small_settings(policy="moral_bank", steps=20)
    s.behaviour.redeem_prob = 0.0  # nobody redeems: points only accumulate
    model, ts = run_model(s)
    lever = s.policy.moral_bank
    assert ts["volunteer_activities"].sum() > 0 and ts["casual_activities"].sum() > 0
    assert ts["civic_acts"].sum() > ts["volunteer_activities"].sum()  # not only volunteering earns points
    assert ts["moral_bank_points"].iloc[-1] == pytest.approx(earned_points(ts, lever))
    assert model.residents.points.sum() == pytest.approx(earned_points(ts, lever))
    assert model.fund.total_out_fen["moral_bank"] == 0


def test_moral_bank_redemptions_are_paid_from_its_government_stocked_pot(small_settings):
    s = small_settings(policy="moral_bank", steps=20)
    mb = s.policy.moral_bank
    mb.points_per_activity, mb.points_per_civic_act, mb.redeem_threshold_points, mb.yuan_per_point = 50, 50, 100, 0.2
    mb.government_yuan_per_year = 5_200_000  # 100,000 yuan a week: the pot can always pay (003:208)
    s.behaviour.redeem_prob = 0.5
    model, ts = run_model(s)
    redeemed = earned_points(ts, mb) - ts["moral_bank_points"].iloc[-1]
    assert ts["redemptions"].sum() > 20
    assert model.fund.total_out_fen["moral_bank"] == round(redeemed * 0.2 * 100)
    assert ts["fund_outflow_moral_bank"].sum() == pytest.approx(redeemed * 0.2)
    # every redeemer had at least the threshold: 100 points = 20 yuan
    assert (ts["fund_outflow_moral_bank"] >= 20 * ts["redemptions"]).all()
    assert (ts["public_cost_moral_bank"] == 100_000).all()
    assert ts["fund_inflow_government"].sum() == pytest.approx(20 * 100_000)


def test_moral_bank_with_an_empty_pot_pays_nothing_even_from_a_full_fund(small_settings):
    s = no_fund_income(small_settings(policy="moral_bank", steps=20))
    s.policy.moral_bank.points_per_activity = 100
    s.policy.moral_bank.government_yuan_per_year = 0.0  # nobody stocks the moral bank …
    s.policy.fund.government_grant_yuan_per_year = 500_000  # … though the fund's free balance is large
    s.behaviour.redeem_prob = 1.0
    model, ts = run_model(s)
    assert model.fund.balance_fen > 0 and model.fund.pot_fen["moral_bank"] == 0
    assert (ts["redemptions"] == 0).all() and model.fund.total_out_fen["moral_bank"] == 0
    assert earned_points(ts, s.policy.moral_bank) > 0
    assert ts["moral_bank_points"].iloc[-1] == pytest.approx(earned_points(ts, s.policy.moral_bank))


def test_without_the_moral_bank_there_are_no_points(small_settings):
    s = small_settings(policy="baseline", steps=20)
    s.policy.moral_bank.points_per_activity = 100
    model, ts = run_model(s)
    assert ts["volunteer_activities"].sum() > 0
    assert model.residents.points.sum() == 0
    assert (ts["moral_bank_points"] == 0).all() and (ts["redemptions"] == 0).all()
    assert ts["fund_outflow_moral_bank"].sum() == 0


# --------------------------------------------------------------------------------------------
# (f) government purchase of services
# --------------------------------------------------------------------------------------------
def test_government_purchase_contracts_pay_agencies_and_count_as_government_spending(small_settings):
    s = small_settings(policy="gov_purchase", steps=52)
    s.policy.gov_purchase.budget_yuan_per_year = 52_000
    s.policy.gov_purchase.self_governing_share = 0.0  # all to agencies (the share: test_linkage)
    s.policy.social_work.incubations_per_worker_year = 0.0  # no new, uncontracted organisations
    model = CommunityModel(s)
    assert not any(o.kind is OrgKind.PROFESSIONAL_AGENCY for o in model.organisations)
    model.step()
    # relocation has no agency: one from outside takes the contract, with no staff or money of its own; only it
    # (a registered organisation) gets the contract, not the informal self-organisation
    (agency,) = [o for o in model.organisations if o.kind is OrgKind.PROFESSIONAL_AGENCY]
    assert all(o.contract_fen_left == 0 for o in model.organisations if o is not agency)
    assert model.latest()["public_cost_purchase"] == 1_000  # 52,000 yuan a year = 1,000 yuan a week
    assert agency.contract_fen_left == 51 * 100_000  # the rest of a year's contract
    # capacity bought in proportion to the money, fractions included: 1,000 yuan ÷ 400 yuan per case
    assert agency.contract_cases_week == pytest.approx(52_000 / s.policy.gov_purchase.cost_per_case_yuan / 52)
    assert agency.staff == []  # 2.5 cases a week pay no whole post (3 cases a week)
    for _ in range(51):
        model.step()
        assert agency.income_fen >= 100_000
        assert model.latest()["gov_spending"] == 1_000
        assert model.latest()["public_cost_purchase"] == 1_000
        assert model.fund.inflow_fen["government"] == 0
    ts = model.timeseries()
    assert ts["gov_spending"].sum() == pytest.approx(52_000)
    assert ts["capacity_organisations"].iloc[1:].tolist() == pytest.approx([2.5] * 51)  # the contract's cases only


def test_no_purchase_budget_means_no_contracts_and_no_government_spending(small_settings):
    model, ts = run_model(small_settings(policy="baseline", steps=26))
    assert (ts["gov_spending"] == 0).all()
    assert all(o.contract_fen_left == 0 for o in model.organisations)
    assert (ts["social_orgs_professional"] == 0).all()


@pytest.mark.parametrize("budget", [100, 7_777.77, 200_000, 1_000_000])
@pytest.mark.parametrize("share", [0.0, 0.3])
def test_purchase_contracts_pay_their_whole_budget_to_the_fen(small_settings, budget, share):
    """A year's budget that 13-week contracts cannot pay in equal whole fen is paid all the same, to the fen: the
    weekly part is what is left ÷ the weeks left (¥200,000 a year paid as total // weeks each week came to
    ¥199,999.80; the dashboard showed ¥1,099,999 for 5.5 years)."""
    s = small_settings(policy="gov_purchase", steps=52)
    s.policy.gov_purchase.budget_yuan_per_year = budget
    s.policy.gov_purchase.self_governing_share = share
    _, ts = run_model(s)
    assert round(ts["public_cost_purchase"].sum() * 100) == round(budget * 100)
    # equal parts, to the fen: each payee's weekly part differs by at most a fen (two payees with a share)
    assert ts["public_cost_purchase"].max() - ts["public_cost_purchase"].min() <= (0.02 if share else 0.01) + 1e-9


# --------------------------------------------------------------------------------------------
# (g) volunteer mobilisation and deliberation
# --------------------------------------------------------------------------------------------
@pytest.fixture
def mobilised(small_settings):
    """Settings with room to recruit (five extra station workers), mobilisation on or off."""
    def make(on: bool, steps: int):
        s = small_settings(steps=steps, seed=11)
        s.policy.social_work.extra_social_workers = 5  # spare supervision capacity to recruit into
        s.behaviour.register_base = 0.004               # enough registrations to see the effect
        s.policy.social_work.mobilisation = on
        return s
    return make


def test_mobilisation_raises_volunteer_registration_with_common_random_numbers(mobilised):
    off, on = CommunityModel(mobilised(False, 1)), CommunityModel(mobilised(True, 1))
    np.testing.assert_array_equal(off.residents.volunteer, on.residents.volunteer)  # the same population
    off.step()
    on.step()
    # same draws, higher chance: everyone who registered without mobilisation registered with it
    assert (off.residents.volunteer <= on.residents.volunteer).all()
    assert on.latest()["volunteers_new"] > off.latest()["volunteers_new"]
    ts_off, ts_on = run_model(mobilised(False, 26))[1], run_model(mobilised(True, 26))[1]
    assert ts_on["volunteers_new"].sum() > 1.2 * ts_off["volunteers_new"].sum()
    assert ts_on["volunteers_registered"].iloc[-1] > ts_off["volunteers_registered"].iloc[-1]


def test_mobilisation_works_through_social_workers_and_recruits_nobody_without_them(small_settings):
    """A registration drive reaches residents in proportion to the supervision coverage: none without a worker.

    With workers, it raises the chance of registering whatever the resident's civic propensity, so the
    less civic register too (the registered-but-inactive pattern, docs/literature.md [V3])."""
    runs = []
    for on in (False, True):
        s = small_settings(steps=13, seed=11)
        s.community.station_social_workers = s.community.professional_agencies = 0
        s.behaviour.register_base = 0.004  # enough registrations to see an effect, if there were one
        s.policy.social_work.mobilisation = on
        runs.append(run_model(s)[1])
    assert (runs[0]["social_workers"] == 0).all()
    assert runs[0]["volunteers_new"].sum() > 0
    assert runs[0]["volunteers_new"].tolist() == runs[1]["volunteers_new"].tolist()


def test_deliberation_meets_every_interval_with_participants_and_satisfaction(small_settings):
    s = small_settings(policy="five_society", steps=26)
    s.policy.deliberation.interval_weeks = 4
    _model, ts = run_model(s)
    meeting = ts["step"] % 4 == 0
    assert (ts.loc[meeting, "deliberation_participants"] > 0).all()
    assert (ts.loc[~meeting, "deliberation_participants"] == 0).all()
    sat = ts["deliberation_satisfaction"]
    assert sat[meeting].between(0, 1).all() and sat[meeting].notna().all()
    assert sat[~meeting].isna().all()


def test_no_deliberation_means_no_participants_and_no_deliberation_satisfaction(small_settings):
    s = small_settings(policy="five_society", steps=26)
    s.policy.deliberation.enabled = False
    s.behaviour.project_cost_yuan = 50.0  # cheap projects: the pot can pay some within 26 weeks
    s.behaviour.project_cycle_weeks = 13
    _model, ts = run_model(s)
    assert (ts["deliberation_participants"] == 0).all()
    assert ts["deliberation_satisfaction"].isna().all()
    # the fund committee still ranks and funds projects, in the round week of every 13-week cycle
    round_week = ts["step"] % 13 == 0
    assert (ts.loc[~round_week, ["projects_funded", "projects_designed", "needs_listed"]] == 0).all().all()
    assert (ts.loc[round_week, "projects_funded"] > 0).all()
    assert (ts.loc[round_week, "projects_funded"] <= ts.loc[round_week, "projects_designed"]).all()


def test_deliberation_raises_participants_trust(small_settings):
    with_council = small_settings(policy="five_society", steps=4)
    without = small_settings(policy="five_society", steps=4)
    without.policy.deliberation.enabled = False
    a, b = run_model(with_council)[1], run_model(without)[1]
    assert a["trust_mean"].iloc[-1] > b["trust_mean"].iloc[-1]


# --------------------------------------------------------------------------------------------
# other inflows
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("output_yuan", [300.0, 5.0])
def test_charity_sales_are_bounded_by_buyers_and_output_and_give_the_fund_its_share(small_settings, output_yuan):
    """organised_urban has one handicraft workshop (004 豌豆手工坊): sales = min(buyers' spending, its output)."""
    s = small_settings(community="organised_urban", policy="charity_sales", steps=13)
    s.policy.charity_sales.output_yuan_per_workshop_week = output_yuan
    model = CommunityModel(s)
    (workshop,) = [o for o in model.organisations if o.workshop]
    assert s.community.handicraft_workshops == 1
    for _ in range(13):
        model.step()
        row = model.latest()
        offer = 1 * output_yuan * 100
        sales = round(row["charity_sales_income"] * 100)
        assert sales == min(round(row["charity_buyers_spend"] * 100), offer)
        assert round(row["fund_inflow_charity_sales"] * 100) == round(sales * s.policy.charity_sales.share_to_fund)
        assert workshop.income_fen >= sales - round(sales * s.policy.charity_sales.share_to_fund)
    ts = model.timeseries()
    assert ts["charity_buyers_spend"].sum() > 0
    if output_yuan == 5.0:
        assert (ts["charity_sales_income"] == 5.0).all()  # output binds
    off = run_model(small_settings(community="organised_urban", policy="baseline", steps=13))[1]
    assert (off["fund_inflow_charity_sales"] == 0).all() and (off["charity_sales_income"] == 0).all()


# --------------------------------------------------------------------------------------------
# (h) the residents' rules return what they counted
# --------------------------------------------------------------------------------------------
def test_demands_raised_are_reported_or_unmet_and_unmet_ones_lower_satisfaction(small_settings):
    s = small_settings(steps=1)
    s.behaviour.report_base = s.behaviour.report_trust_weight = s.behaviour.grid_discovery = 0.0  # nobody reports
    res = CommunityModel(s).residents
    before = res.satisfaction.copy()
    demands = res.raise_demands()
    assert demands.raised > 5 and demands.unreported == demands.raised and demands.reported == 0
    assert int((res.satisfaction < before).sum()) == demands.raised  # one demand at most per resident and week
    s.behaviour.report_base = 1.0  # everybody reports
    res = CommunityModel(s).residents
    demands = res.raise_demands()
    assert demands.unreported == 0 and demands.reported == demands.raised == np.unique(demands.residents).size
    assert set(demands.kinds.tolist()) <= {0, 1, 2}


def test_everyone_gives_at_full_propensity_and_nobody_without_trust(small_settings):
    s = small_settings(steps=1)
    s.behaviour.donate_prob = 1.0
    s.behaviour.fundraising_boost = s.behaviour.transparency_giving = s.behaviour.resident_led_giving = 0.0
    res = CommunityModel(s).residents
    res.civic[:], res.trust[:] = 1.0, 1.0
    giving = res.donate()
    assert giving.donors == res.size
    assert giving.fen == int(np.round(res.income * s.behaviour.donate_income_share * 100).sum()) > 0
    res.trust[:] = 0.0
    assert (res.donate().donors, res.donate().fen) == (0, 0)


def test_redemptions_are_paid_in_full_until_the_fund_runs_short(small_settings):
    s = small_settings(policy="moral_bank", steps=1)
    s.behaviour.redeem_prob = 1.0
    s.policy.moral_bank.redeem_threshold_points, s.policy.moral_bank.yuan_per_point = 100, 0.1  # 10 yuan each
    res = CommunityModel(s).residents
    res.points[:10] = 100.0
    assert res.redeem_points(fund_balance_fen=3_500) == Redemptions(redeemed=3, fen=3_000)
    assert (res.points[:10] == 0).sum() == 3 and res.points.sum() == 700  # the others keep their points
    assert res.redeem_points(fund_balance_fen=0) == Redemptions(redeemed=0, fen=0)


def test_volunteers_who_drop_out_and_register_are_the_counts_returned(small_settings):
    s = small_settings(steps=20)
    s.behaviour.register_base, s.behaviour.dropout_base = 0.01, 0.05
    model, _ = run_model(s)
    res = model.residents
    u = np.random.default_rng(1).random(res.size, dtype=np.float32)
    before = res.volunteer.copy()
    dropped = res.drop_out(model.week, u)
    assert dropped == int((before & ~res.volunteer).sum()) > 0 and not (res.volunteer & ~before).any()
    before = res.volunteer.copy()
    new = res.register_volunteers(model.supervision_coverage(), model.week, 1.0 - u)
    joined = res.volunteer & ~before
    assert new == int(joined.sum()) > 0 and (res.last_recognised[joined] == model.week).all()
    assert not res.volunteer[res.group == GROUPS.index("children")].any()
    assert model.volunteers_registered == int(res.volunteer.sum())
    # the weekly turnover: one draw serves both, so nobody leaves and re-registers in the same week
    res.register_volunteers(0.0, model.week, np.zeros(res.size, dtype=np.float32))  # register every adult
    before = res.volunteer.copy()
    dropped, new = res.turnover(model.supervision_coverage(), model.week)
    assert dropped == int((before & ~res.volunteer).sum()) > 0 and new == int((~before & res.volunteer).sum()) == 0


# --------------------------------------------------------------------------------------------
# #5 and #28 as the plan defines them (issue 24, findings 7 and 8)
# --------------------------------------------------------------------------------------------
def test_units_that_give_once_a_year_take_part_in_every_week_of_that_year(small_settings):
    """#5 (驻区单位参与社区共建率) is the share of units that took part during the year: a unit that gives its yearly
    lump in the year's first week counts in every week of the year, the last included (a window one week short
    read 12.5 % at week 260 of industrial_park × five_society while 31–38 % took part in every other week)."""
    s = small_settings(policy="baseline", steps=104, community="industrial_park")
    s.policy.enterprise.lump_yuan_per_year = 1000.0
    s.policy.enterprise.lump_donor_share = 1.0
    model, ts = run_model(s)
    assert (ts["enterprise_participation"] == 1.0).all(), ts["enterprise_participation"].tolist()
    # a unit that stops giving drops out of #5 after its year, not before: give only in the first year
    s = small_settings(policy="baseline", steps=104, community="industrial_park")
    s.policy.enterprise.lump_yuan_per_year = 1000.0
    s.policy.enterprise.lump_donor_share = 1.0
    model = CommunityModel(s)
    for _ in range(52):
        model.step()
    stopped = copy.deepcopy(s.policy)
    stopped.enterprise.lump_donor_share = 0.0
    model.change_policy(stopped)
    ts = model.run()
    assert (ts["enterprise_participation"].iloc[:52] == 1.0).all()
    assert (ts["enterprise_participation"].iloc[52:] == 0.0).all()


def test_residents_served_by_project_sessions_are_not_counted_as_participants(small_settings):
    """#28 (三分之二以上社区居民志愿服务参与度) counts residents who volunteer or take part in mutual aid, not the
    recipients of a project's sessions: with no volunteering at all, sessions are held and #28 stays 0."""
    s = small_settings(policy="five_society", steps=104)
    b, c = s.behaviour, s.community
    c.volunteers_initial_share = 0.0
    b.register_base = b.casual_activity_prob = 0.0
    b.self_org_emergence_prob = b.self_org_join_prob = b.member_activity_prob = 0.0
    b.project_cycle_weeks = 13
    s.policy.social_work.mobilisation = False
    s.policy.social_work.incubations_per_worker_year = 0.0
    s.policy.moral_bank.enabled = False
    s.policy.enterprise.employee_volunteer_hours_week = 0.0
    _, ts = run_model(s)
    assert ts["project_sessions"].sum() > 0, "the probe needs sessions"
    assert (ts["volunteer_activities"] == 0).all() and (ts["casual_activities"] == 0).all()
    assert (ts["volunteer_active_share_2plus"] == 0).all()
