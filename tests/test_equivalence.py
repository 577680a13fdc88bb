"""The vectorised model and the per-agent Mesa reference (benchmarks/reference_model.py) agree in distribution.

Both implementations run ``N_SEEDS`` seeds of a small relocation community (600 residents, 160 households,
52 weeks from the preset's initial state, ``warmup=0``) under the baseline and the five-society policy, with
a project round every 13 weeks (``behaviour.project_cycle_weeks=13``) so that projects are designed,
funded and delivered within the year.  Each run is summed up by the indicators of the new rules
(:func:`kpis`): demands raised and reported, orders handled, resolved and closed with an explained reply, the
response (#33) and
completion (#34) rates, callbacks and callback satisfaction (#35), registered volunteers, volunteer,
casual and member activities, residents active twice or more (#28), general satisfaction and trust,
donors, civic acts, council participants, needs listed, project sessions, moral-bank points and
redemptions, the fund's balance and self-organisation members.

**Criterion.**  The random streams of the two implementations differ, so agreement is statistical.  The
seeds of the two samples are disjoint (the same seed would give both the same initial population, making
the samples dependent), so the samples are independent and for each indicator the Welch interval of the
difference of the means is exact.  ``COMPARISONS`` = 50 comparisons are made (25 indicators × 2 policies); each
uses the two-sided quantile for a family-wise error of 5 % (Bonferroni, α = 0.05 / 50, t ≈ 3.5),
so a correct reference fails the whole family by chance at most 5 % of the time.  Two requirements:

1. *no detectable difference*: for every indicator, |mean(reference) − mean(production)| is within the
   half-width of that interval;
2. *equivalence within a tolerance* for the indicators a policy reader compares (``TOLERANCE``): the whole
   interval of the difference lies within ±0.10 for the three rates (#33, #34, #35: shares 0–1) and
   ±0.02 for mean satisfaction and mean trust (0–1), so a pass is a demonstrated agreement, not merely a
   noisy sample.  These bounds are about twice what 25 seeds of this community can show (the widest
   observed interval: ±0.05 for callback satisfaction, ±0.006 for satisfaction; measured on
   2026-11-23), so a correct reference fails them with chance well under 1 %.

The power check shows the same criterion separates baseline from five_society in both implementations,
with the same sign of effect.  Errors planted in the reference's rules (measured 2026-11-23, five_society)
show what the comparison catches: an unmet demand that also lowers trust (trust −0.008), unreported demands
that leave satisfaction unchanged (+0.013), civic acts that ignore civic propensity (×4); and what it
cannot see, effects smaller than the intervals: children taking part casually (+3 activities a year), a
satisfaction memory 1.5 × longer.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest
from conftest import make_settings
from scipy import stats

import sim.model.residents
from benchmarks.reference_model import ReferenceModel, ReferenceResident, run_reference, towards
from sim.model.community_model import CommunityModel

RESIDENTS, HOUSEHOLDS, STEPS = 600, 160, 52
OVERRIDES = (f"community.residents={RESIDENTS}", f"community.households={HOUSEHOLDS}",
             "behaviour.project_cycle_weeks=13")
POLICIES = ("baseline", "five_society")
N_SEEDS = 25
SEEDS = {"production": range(N_SEEDS), "reference": range(10_000, 10_000 + N_SEEDS)}  # disjoint: independent
KPIS = ("demands_raised", "demands_reported", "demands_responded", "demands_completed", "demands_explained",
        "response_rate", "completion_rate", "callbacks", "callback_satisfaction", "volunteers_registered",
        "volunteer_activities", "casual_activities", "member_activities", "volunteer_active_share_2plus",
        "satisfaction_mean", "trust_mean", "donors", "civic_acts", "deliberation_participants", "needs_listed",
        "project_sessions", "moral_bank_points", "redemptions", "fund_balance", "self_org_members")
TOLERANCE = {"response_rate": 0.10, "completion_rate": 0.10, "callback_satisfaction": 0.10,
             "satisfaction_mean": 0.02, "trust_mean": 0.02}
# indicators five_society moves strongly in this community: the power check requires the criterion to see them
POLICY_SENSITIVE = ("completion_rate", "callback_satisfaction", "volunteers_registered",
                    "volunteer_activities", "satisfaction_mean", "trust_mean", "donors", "project_sessions",
                    "deliberation_participants")
FAMILY_ALPHA = 0.05
COMPARISONS = len(KPIS) * len(POLICIES)
# the weekly resident rules of the vectorised model: the reference must run without any of them
RESIDENT_RULES = ("raise_demands", "take_part", "civic_acts", "reward_sessions", "experience", "react_to_outcomes",
                  "donate", "redeem_points", "receive_needy_support", "attend_council", "turnover", "drop_out",
                  "register_volunteers", "update_attitudes", "record_activities", "grid_volunteer_share")


def kpis(ts: pd.DataFrame) -> dict[str, float]:
    """The compared indicators of one run: flows summed over the run (rates pooled over it), stocks at the end."""
    total = ts.sum(numeric_only=True)
    last = ts.iloc[-1]
    flows = ("demands_raised", "demands_reported", "demands_responded", "demands_completed",
             "demands_explained", "callbacks", "volunteer_activities", "casual_activities", "member_activities",
             "donors", "civic_acts", "deliberation_participants", "needs_listed", "project_sessions", "redemptions")
    stocks = ("volunteers_registered", "volunteer_active_share_2plus", "satisfaction_mean", "trust_mean",
              "moral_bank_points", "fund_balance", "self_org_members")
    return {
        **{k: float(total[k]) for k in flows},
        **{k: float(last[k]) for k in stocks},
        "response_rate": total["demands_signed_in_time"] / (total["demands_signed_in_time"]
                                                            + total["demands_sign_missed"]),
        "completion_rate": total["demands_completed_on_time"] / total["demands_due"],
        "callback_satisfaction": total["callbacks_satisfied"] / total["callbacks"],
    }


def settings(policy: str, seed: int, steps: int = STEPS, warmup: int = 0):
    return make_settings(*OVERRIDES, policy=policy, steps=steps, seed=seed, warmup=warmup)


@functools.cache
def sample(impl: str, policy: str) -> pd.DataFrame:
    """One row of KPIs per seed (cached: the runs are shared by the tests of this module)."""
    model = CommunityModel if impl == "production" else ReferenceModel
    return pd.DataFrame([kpis(model(settings(policy, seed)).run()) for seed in SEEDS[impl]])


def welch(a: pd.Series, b: pd.Series) -> tuple[float, float]:
    """mean(b) − mean(a) and the half-width of the family-wise (Bonferroni) Welch interval of the difference."""
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    diff = b.mean() - a.mean()
    if va + vb == 0:
        return diff, 0.0
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = stats.t.ppf(1 - FAMILY_ALPHA / (2 * COMPARISONS), dof)
    return diff, t * math.sqrt(va + vb)


# ------------------------------------------------------------------------------------------------
def test_stepwise_experience_equals_the_closed_form():
    """The reference applies outcomes one at a time; production uses the closed form: the same numbers."""
    x = np.array([0.0, 0.3, 0.55, 0.9, 1.0])
    for good, bad, rate in ((0, 0, 0.1), (1, 0, 0.1), (0, 2, 0.05), (3, 2, 0.2), (5, 7, 0.03)):
        closed = x.copy()
        sim.model.residents._update_towards(closed, np.arange(x.size), good, bad, rate)
        np.testing.assert_allclose([towards(v, good, bad, rate) for v in x], closed, rtol=1e-12, atol=1e-15)


def test_the_reference_runs_none_of_the_vectorised_resident_rules(monkeypatch):
    """Every resident rule of sim/model/residents.py is disabled: the reference still runs (its rules are its own)."""
    def disabled(*args, **kwargs):
        raise AssertionError("the reference called a vectorised resident rule")

    s = settings("five_society", 0, steps=14)
    ref = ReferenceModel(s)  # the initial population is drawn by production code, before the rules are disabled
    for rule in RESIDENT_RULES:
        monkeypatch.setattr(sim.model.residents.Residents, rule, disabled)
    monkeypatch.setattr(sim.model.residents, "_update_towards", disabled)
    ts = ref.run()
    assert len(ts) == 14 and ts["project_sessions"].sum() > 0 and ts["callbacks"].sum() > 0
    assert ts["moral_bank_points"].iloc[-1] > 0 and ts["deliberation_participants"].sum() > 0
    with pytest.raises(AssertionError, match="vectorised resident rule"):
        CommunityModel(s).step()


def test_the_reference_writes_the_same_table_and_keeps_its_mirror():
    s = settings("five_society", 0, steps=6)
    assert (s.community.name, s.community.residents, s.community.households) == ("relocation", RESIDENTS, HOUSEHOLDS)
    assert s.policy.name == "five_society" and s.behaviour.project_cycle_weeks == 13
    ref, prod = ReferenceModel(s), CommunityModel(s)
    # the same seed gives the same initial residents, now held as plain attributes of per-agent Mesa agents
    residents = list(ref.agents_by_type[ReferenceResident])
    assert len(residents) == RESIDENTS and len(ref.volunteer_of) == prod.volunteers_registered
    assert [r.trust for r in ref.people] == prod.residents.trust.tolist()
    assert [r.is_volunteer for r in ref.people] == prod.residents.volunteer.tolist()
    a, b = prod.run(), ref.run()
    assert list(a.columns) == list(b.columns) and len(a) == len(b) == 6
    # after a week the arrays the weekly table reads are an exact mirror of the agents
    pop = ref.residents
    assert [r.satisfaction for r in ref.people] == pop.satisfaction.tolist()
    assert [r.trust for r in ref.people] == pop.trust.tolist()
    assert [r.activities_52 for r in ref.people] == pop.activities_52.tolist()
    assert [r.points for r in ref.people] == pop.points.tolist()
    assert sum(r.is_volunteer for r in ref.people) == b["volunteers_registered"].iloc[-1] == pop.volunteers
    pd.testing.assert_frame_equal(b, run_reference(s))  # the reference is reproducible from its seed


def test_the_reference_warms_up_under_the_baseline_levers():
    s = settings("five_society", 0, steps=3, warmup=4)
    ref = ReferenceModel(s)
    ts = ref.run()
    assert ts["step"].tolist() == [1, 2, 3] and ref.week == 7 and ref.policy is s.policy
    assert ts["public_cost_venture"].sum() >= 0 and ref.policy_week == 3


@pytest.mark.parametrize("policy", POLICIES)
def test_kpi_means_agree(policy):
    prod, ref = sample("production", policy), sample("reference", policy)
    rows, bad = [], []
    for k in KPIS:
        diff, half = welch(prod[k], ref[k])
        tol = TOLERANCE.get(k, math.inf)
        rows.append(f"{k:28s} production {prod[k].mean():12.4f}  reference {ref[k].mean():12.4f}  "
                    f"diff {diff:10.4f}  allowed ±{half:9.4f}  tolerance ±{tol:.2f}")
        if abs(diff) > half:
            bad.append(f"{k}: difference detected")
        elif abs(diff) + half > tol:
            bad.append(f"{k}: interval of the difference not within ±{tol}")
    assert not bad, f"{policy}: {bad}\n" + "\n".join(rows)


@pytest.mark.parametrize("impl", ["production", "reference"])
def test_the_comparison_has_power(impl):
    """The same criterion tells baseline from five_society, in both implementations, with the same sign."""
    base, five = sample(impl, "baseline"), sample(impl, "five_society")
    for k in POLICY_SENSITIVE:
        diff, half = welch(base[k], five[k])
        assert abs(diff) > half, f"{impl}: {k} does not separate the policies ({diff:.4g} within ±{half:.4g})"
    effect = {k: np.sign(five[k].mean() - base[k].mean()) for k in POLICY_SENSITIVE}
    other = "reference" if impl == "production" else "production"
    assert effect == {k: np.sign(sample(other, "five_society")[k].mean() - sample(other, "baseline")[k].mean())
                      for k in POLICY_SENSITIVE}
