"""Each mechanism of the model in isolation, on the small relocation community (1,500 residents)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from conftest import run_model

from sim.config import GROUPS
from sim.fund import INFLOW_SOURCES, OUTFLOW_USES
from sim.model import CommunityModel
from sim.organisations import OrgKind
from sim.residents import Redemptions


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
# (b) organisations fold after a run of weeks without income
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fold_weeks", [1, 5])
def test_organisation_without_income_folds_after_exactly_org_fold_weeks(small_settings, fold_weeks):
    s = no_fund_income(small_settings(steps=fold_weeks + 3))
    s.community.professional_agencies = 1  # relocation has one self-organisation; add an agency
    s.behaviour.org_fold_weeks = fold_weeks
    model = CommunityModel(s)
    assert sorted(o.kind.name for o in model.organisations) == ["PROFESSIONAL_AGENCY", "SELF_ORGANISATION"]
    for week in range(1, fold_weeks):
        model.step()
        assert len(model.organisations) == 2, f"folded too early, in week {week}"
        assert all(o.weeks_without_income == week for o in model.organisations)
    model.step()  # week fold_weeks
    assert model.organisations == []
    for _ in range(3):
        model.step()
    ts = model.timeseries()
    assert ts["social_orgs_active"].tolist() == [2] * (fold_weeks - 1) + [0] * 4
    assert ts["orgs_folded_total"].iloc[-1] == 2


def test_organisation_with_income_every_week_does_not_fold(small_settings):
    s = no_fund_income(small_settings(policy="charity_sales", steps=20))
    s.behaviour.org_fold_weeks = 2
    model = CommunityModel(s)
    (org,) = model.organisations
    ts = model.run()
    assert org in model.organisations and org.kind is OrgKind.SELF_ORGANISATION
    assert org.weeks_without_income == 0
    assert (ts["social_orgs_active"] == 1).all() and ts["orgs_folded_total"].iloc[-1] == 0


def test_one_week_of_income_resets_the_fold_clock(small_settings):
    s = no_fund_income(small_settings(steps=10))
    s.policy.fund.spend_share_per_week = 0.0  # the fund pays no organisation
    s.behaviour.org_fold_weeks = 3
    model = CommunityModel(s)
    (org,) = model.organisations
    model.step()
    model.step()
    assert org.weeks_without_income == 2
    model.cfg.policy.charity_sales.enabled = True  # one week of charity-sale proceeds
    model.step()
    assert org.weeks_without_income == 0
    model.cfg.policy.charity_sales.enabled = False
    model.step()
    model.step()
    assert org in model.organisations and org.weeks_without_income == 2
    model.step()
    assert org not in model.organisations


# --------------------------------------------------------------------------------------------
# (c) dispatch: escalation and the response deadline
# --------------------------------------------------------------------------------------------
def only_simple_demands_and_no_capacity(s):
    b = s.behaviour
    b.structural_share = b.professional_share = 0.0  # every demand a volunteer could answer
    s.community.volunteers_initial_share = 0.0
    b.register_base = 0.0
    b.grid_worker_cases_week = 0.0
    s.community.self_organisations = s.community.professional_agencies = s.community.social_enterprises = 0
    s.policy.social_work.incubations_per_worker_year = 0.0
    return s


def test_simple_demands_are_escalated_when_volunteers_staff_and_organisations_have_no_capacity(small_settings):
    s = only_simple_demands_and_no_capacity(small_settings(steps=8))
    s.community.department_cases_per_1000_week = 100  # 150 cases a week: the street takes them all
    _model, ts = run_model(s)
    assert ts["demands_reported"].sum() > 50
    assert (ts["capacity_volunteers"] == 0).all() and (ts["capacity_organisations"] == 0).all()
    assert (ts["demands_escalated"] == ts["demands_reported"]).all()
    assert (ts["demands_responded"] == ts["demands_reported"]).all()
    assert (ts[["demands_to_volunteers", "demands_to_community_staff", "demands_to_organisations"]] == 0).all().all()
    assert (ts["demands_expired"] == 0).all()


def test_with_ample_volunteer_capacity_nothing_is_escalated(small_settings):
    s = only_simple_demands_and_no_capacity(small_settings(steps=8))
    s.community.volunteers_initial_share = 0.5
    s.behaviour.activity_prob = 1.0
    s.community.department_cases_per_1000_week = 100
    _model, ts = run_model(s)
    assert (ts["capacity_volunteers"] > ts["demands_reported"]).all()
    assert ts["demands_reported"].sum() > 50
    assert (ts["demands_escalated"] == 0).all()
    assert (ts["demands_to_volunteers"] == ts["demands_reported"]).all()
    assert (ts["response_rate"] == 1.0).all()


def test_simple_demands_go_to_volunteers_then_staff_then_organisations_then_departments(small_settings):
    s = only_simple_demands_and_no_capacity(small_settings(steps=8))
    s.behaviour.grid_worker_cases_week = 3.0  # relocation: 400 households, 2 grids -> 6 cases a week
    s.community.self_organisations = 1        # capacity int(0.5 workers x 3 cases) = 1 case a week
    s.community.department_cases_per_1000_week = 100
    _, ts = run_model(s)
    reported = ts["demands_reported"]
    assert (reported > 7).all()  # more than staff and organisation can take
    staff = reported.clip(upper=6)
    assert (ts["demands_to_community_staff"] == staff).all()
    assert (ts["demands_to_organisations"] == (reported - staff).clip(upper=1)).all()
    assert (ts["demands_escalated"] == reported - staff - (reported - staff).clip(upper=1)).all()
    # with volunteers who can take everything, community staff are not asked at all
    s.community.volunteers_initial_share, s.behaviour.activity_prob = 0.5, 1.0
    _, ts = run_model(s)
    assert (ts["demands_to_volunteers"] == ts["demands_reported"]).all()
    assert (ts["demands_to_community_staff"] == 0).all() and (ts["demands_to_organisations"] == 0).all()


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
    s = only_simple_demands_and_no_capacity(small_settings(steps=10))
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


def test_fund_project_pot_is_part_of_the_balance_and_shrinks_with_it(small_settings):
    fund = CommunityModel(small_settings(steps=1)).fund
    fund.receive("government", 1_000)
    fund.project_pot_fen = 800
    assert fund.spend_project(5_000) == 800  # at most the pot
    assert fund.balance_fen == 200 and fund.project_pot_fen == 0
    fund.project_pot_fen = 200
    fund.pay("moral_bank", 150)
    assert fund.project_pot_fen <= fund.balance_fen == 50


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
def test_moral_bank_gives_points_for_every_activity(small_settings):
    s = small_settings(policy="moral_bank", steps=20)
    s.behaviour.redeem_prob = 0.0  # nobody redeems: points only accumulate
    model, ts = run_model(s)
    pop = model.residents
    assert pop.points.sum() > 0
    np.testing.assert_array_equal(pop.points, pop.activities_52 * s.policy.moral_bank.points_per_activity)
    assert ts["moral_bank_points"].iloc[-1] == ts["volunteer_activities"].sum() * 10
    assert model.fund.total_out_fen["moral_bank"] == 0


def test_moral_bank_redemptions_are_paid_by_the_fund(small_settings):
    s = small_settings(policy="moral_bank", steps=20)
    mb = s.policy.moral_bank
    mb.points_per_activity, mb.redeem_threshold_points, mb.yuan_per_point = 50, 100, 0.2
    s.behaviour.redeem_prob = 0.5
    s.policy.fund.government_grant_yuan_per_year = 500_000  # the fund can always pay
    model, ts = run_model(s)
    earned = ts["volunteer_activities"].sum() * 50
    redeemed = earned - ts["moral_bank_points"].iloc[-1]
    assert ts["redemptions"].sum() > 20
    assert model.fund.total_out_fen["moral_bank"] == round(redeemed * 0.2 * 100)
    assert ts["fund_outflow_moral_bank"].sum() == pytest.approx(redeemed * 0.2)
    # every redeemer had at least the threshold: 100 points = 20 yuan
    assert (ts["fund_outflow_moral_bank"] >= 20 * ts["redemptions"]).all()


def test_moral_bank_with_an_empty_fund_pays_nothing_and_points_stay(small_settings):
    s = no_fund_income(small_settings(policy="moral_bank", steps=20))
    s.policy.moral_bank.points_per_activity = 100
    s.behaviour.redeem_prob = 1.0
    model, ts = run_model(s)
    assert model.fund.balance_fen == 0
    assert (ts["redemptions"] == 0).all() and model.fund.total_out_fen["moral_bank"] == 0
    assert ts["moral_bank_points"].iloc[-1] == ts["volunteer_activities"].sum() * 100 > 0


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
def test_government_purchase_contracts_pay_organisations_and_count_as_government_spending(small_settings):
    s = small_settings(policy="gov_purchase", steps=52)
    s.policy.gov_purchase.budget_yuan_per_year = 52_000
    s.policy.social_work.incubations_per_worker_year = 0.0  # no new, uncontracted organisations
    model = CommunityModel(s)
    assert not any(o.kind is OrgKind.PROFESSIONAL_AGENCY for o in model.organisations)
    model.step()
    # relocation has no agency: one sets up to bid, and both organisations get a contract
    assert sorted(o.kind.name for o in model.organisations) == ["PROFESSIONAL_AGENCY", "SELF_ORGANISATION"]
    for _ in range(51):
        contracted = [o for o in model.organisations if o.contract_weeks_left > 0 or o.contract_fen_week > 0]
        assert len(contracted) == 2
        assert all(o.contract_fen_week > 0 for o in contracted)
        model.step()
        assert all(o.income_fen >= o.contract_fen_week for o in contracted)
        assert model.latest()["gov_spending"] == pytest.approx(sum(o.contract_fen_week for o in contracted) / 100)
        assert model.fund.inflow_fen["government"] == 0
    ts = model.timeseries()
    total = ts["gov_spending"].sum()
    assert 52_000 - 2 <= total <= 52_000  # the year's budget, less rounding to whole fen per week
    # the contracted cases add capacity: the agency's payment buys cases at cost_per_case_yuan
    agency = next(o for o in model.organisations if o.kind is OrgKind.PROFESSIONAL_AGENCY)
    assert agency.capacity() >= int(agency.contract_fen_week / 100 / s.policy.gov_purchase.cost_per_case_yuan)


def test_no_purchase_budget_means_no_contracts_and_no_government_spending(small_settings):
    model, ts = run_model(small_settings(policy="baseline", steps=26))
    assert (ts["gov_spending"] == 0).all()
    assert all(o.contract_fen_week == 0 for o in model.organisations)
    assert (ts["social_orgs_professional"] == 0).all()


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


def test_mobilisation_needs_spare_supervision_capacity(small_settings):
    """With no spare supervision (150 volunteers, one worker for 100), mobilising recruits nobody extra."""
    runs = []
    for on in (False, True):
        s = small_settings(steps=13, seed=11)
        s.policy.social_work.mobilisation = on
        runs.append(run_model(s)[1])
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
    _model, ts = run_model(s)
    assert (ts["deliberation_participants"] == 0).all()
    assert ts["deliberation_satisfaction"].isna().all()
    # the fund committee still decides projects, every 13 weeks
    assert (ts.loc[ts["step"] % 13 != 0, "projects_funded"] == 0).all()
    assert ts["projects_funded"].sum() > 0


def test_deliberation_raises_participants_trust(small_settings):
    with_council = small_settings(policy="five_society", steps=4)
    without = small_settings(policy="five_society", steps=4)
    without.policy.deliberation.enabled = False
    a, b = run_model(with_council)[1], run_model(without)[1]
    assert a["trust_mean"].iloc[-1] > b["trust_mean"].iloc[-1]


# --------------------------------------------------------------------------------------------
# other inflows
# --------------------------------------------------------------------------------------------
def test_charity_sales_give_the_fund_a_share_of_proceeds(small_settings):
    s = small_settings(policy="charity_sales", steps=13)
    s.policy.social_work.incubations_per_worker_year = 0.0
    _model, ts = run_model(s)
    n_self = ts["social_orgs_self"]
    assert (n_self == 1).all()
    per_org = ts["fund_inflow_charity_sales"] / n_self  # proceeds 60 yuan ±50 %, 70 % to the fund
    assert per_org.between(0.7 * 30 - 0.01, 0.7 * 90 + 0.01).all()
    assert per_org.std() > 0
    off = run_model(small_settings(policy="baseline", steps=13))[1]
    assert (off["fund_inflow_charity_sales"] == 0).all()


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
    before = res.volunteer.copy()
    dropped = res.drop_out(model.week)
    assert dropped == int((before & ~res.volunteer).sum()) > 0 and not (res.volunteer & ~before).any()
    before = res.volunteer.copy()
    new = res.register_volunteers(model.spare_supervision(), model.week)
    joined = res.volunteer & ~before
    assert new == int(joined.sum()) > 0 and (res.last_recognised[joined] == model.week).all()
    assert not res.volunteer[res.group == GROUPS.index("children")].any()
    assert model.volunteers_registered == int(res.volunteer.sum())
