"""The fund's books balance to the fen, every week, for random policies, communities and lever values.

The identity: balance = Σ inflows by source − Σ outflows by use, every week, in whole fen; the earmarked
pots (``fund.pot_fen``) are parts of the balance, never negative and together never above it.
"""

from __future__ import annotations

import pytest
from conftest import POLICIES, SMALL_COMMUNITIES, make_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.community_model import CommunityModel
from sim.model.fund import INFLOW_SOURCES, OUTFLOW_USES, POTS
from sim.settings.config import Governance, check_ranges

fraction = st.floats(0, 1, allow_nan=False)


@st.composite
def configurations(draw):
    s = make_settings(community=draw(st.sampled_from(SMALL_COMMUNITIES)), policy=draw(st.sampled_from(POLICIES)),
                      steps=draw(st.integers(1, 30)), seed=draw(st.integers(0, 2**32 - 1)))
    p = s.policy
    p.micro_fund.fen_per_unit = draw(st.one_of(st.sampled_from([0.0, 0.5, 1.0, 3.0]), st.floats(0, 100)))
    p.micro_fund.participating_share = draw(fraction)
    p.fund.transparency = draw(fraction)
    p.fund.spend_share_per_week = draw(st.one_of(st.sampled_from([0.0, 1.0]), fraction))
    p.fund.admin_share = draw(st.floats(0, 0.5))
    a, b = sorted((draw(fraction), draw(fraction)))
    p.fund.needy_share, p.fund.services_share, p.fund.projects_share = a, b - a, 1.0 - b
    p.fund.government_grant_yuan_per_year = draw(st.one_of(st.just(0.0), st.floats(0, 1e6)))
    p.fund.government_match_ratio = draw(st.floats(0, 10))
    p.fund.governance = draw(st.sampled_from(list(Governance)))
    p.fund.public_fundraising = draw(st.booleans())
    p.charity_sales.enabled = draw(st.booleans())
    p.charity_sales.share_to_fund = draw(fraction)
    p.social_enterprise.enabled = draw(st.booleans())
    p.moral_bank.enabled = draw(st.booleans())
    p.moral_bank.points_per_activity = draw(st.floats(0, 200))
    p.moral_bank.yuan_per_point = draw(st.floats(0, 5))
    p.moral_bank.points_per_civic_act = draw(st.floats(0, 50))
    p.moral_bank.government_yuan_per_year = draw(st.one_of(st.just(0.0), st.floats(0, 1e6)))
    p.enterprise.lump_yuan_per_year = draw(st.floats(0, 1e5))
    p.enterprise.lump_donor_share = draw(fraction)
    p.enterprise.moral_bank_sponsor_yuan_per_year = draw(st.floats(0, 1e4))
    p.enterprise.claim_yuan_per_project = draw(st.one_of(st.just(0.0), st.floats(0, 1e5)))
    p.enterprise.employee_volunteer_hours_week = draw(st.floats(0, 40))
    p.party_building.strength = draw(fraction)
    p.venture.budget_yuan_per_year = draw(st.one_of(st.just(0.0), st.floats(0, 1e6)))
    p.charity_sales.output_yuan_per_workshop_week = draw(st.floats(0, 5_000))
    p.gov_purchase.budget_yuan_per_year = draw(st.one_of(st.just(0.0), st.floats(0, 1e6)))
    p.gov_purchase.contract_weeks = draw(st.integers(1, 60))
    p.deliberation.enabled = draw(st.booleans())
    s.behaviour.redeem_prob = draw(fraction)
    s.behaviour.project_cost_yuan = draw(st.floats(1, 10_000))
    s.behaviour.project_cycle_weeks = draw(st.sampled_from([4, 13, 52]))  # rounds within a short run
    check_ranges(s)
    return s


def to_fen(yuan: float) -> int:
    return round(yuan * 100)


@settings(deadline=None, max_examples=25, database=None)
@given(configurations())
def test_fund_balance_is_previous_plus_inflows_minus_outflows_to_the_fen(s):
    model = CommunityModel(s)
    fund = model.fund
    previous = 0
    for _ in range(s.steps):
        model.step()
        row = model.latest()
        # the model's integer ledger
        inflow, outflow = sum(fund.inflow_fen.values()), sum(fund.outflow_fen.values())
        assert all(isinstance(v, int) and v >= 0 for v in (*fund.inflow_fen.values(), *fund.outflow_fen.values()))
        assert fund.balance_fen == previous + inflow - outflow
        assert fund.balance_fen >= 0
        # earmarked pots (care, moral bank, projects) are parts of the balance: never negative, never above it
        assert all(fund.pot_fen[p] >= 0 for p in POTS), fund.pot_fen
        assert sum(fund.pot_fen.values()) <= fund.balance_fen
        # the published yuan columns, rounded to the fen
        in_cols = [to_fen(row[f"fund_inflow_{k}"]) for k in INFLOW_SOURCES]
        out_cols = [to_fen(row[f"fund_outflow_{k}"]) for k in OUTFLOW_USES]
        assert sum(in_cols) == to_fen(row["fund_inflow_total"]) == inflow
        assert sum(out_cols) == to_fen(row["fund_outflow_total"]) == outflow
        assert to_fen(row["fund_balance"]) == to_fen(previous / 100) + sum(in_cols) - sum(out_cols)
        assert row["fund_balance"] >= 0
        previous = fund.balance_fen
    assert sum(fund.total_in_fen.values()) - sum(fund.total_out_fen.values()) == fund.balance_fen
    ts = model.timeseries()
    assert to_fen(ts["fund_inflow_total"].sum() - ts["fund_outflow_total"].sum()) == fund.balance_fen
    for k in INFLOW_SOURCES:
        assert to_fen(ts[f"fund_inflow_{k}"].sum()) == fund.total_in_fen[k]
    for k in OUTFLOW_USES:
        assert to_fen(ts[f"fund_outflow_{k}"].sum()) == fund.total_out_fen[k]


@pytest.mark.parametrize("policy", POLICIES)
def test_every_policy_balances_over_a_year(policy):
    model = CommunityModel(make_settings(community="tourism_village", policy=policy, steps=52, seed=1))
    ts = model.run()
    assert (ts["fund_balance"] >= 0).all()
    flows = (ts["fund_inflow_total"] - ts["fund_outflow_total"]).cumsum()
    assert (flows.round(2) == ts["fund_balance"].round(2)).all()
