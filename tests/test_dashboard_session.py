"""The dashboard's two runs: A and B built with one seed, stepped together, shared between pages, and started
from one warm-up (dashboard/session.py).

What the page shows of them is tested in tests/test_dashboard.py; the page itself in tests/test_dashboard_e2e.py.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from dashboard import session as se
from sim.model.community_model import CommunityModel, warmup_key

SMALL = "relocation"  # 1,500 residents: quick


def test_a_and_b_are_built_with_the_same_seed():
    comp = se.comparison(SMALL, seed=11, steps=4, a=("baseline", {}), b=("five_society", {}))
    assert comp.seed == 11
    assert {m.cfg.seed for m in comp.run.models.values()} == {11}
    assert comp.scenarios["A"].settings.policy.name == "baseline"
    assert comp.scenarios["B"].settings.policy.name == "five_society"
    a = se.scenario("A", SMALL, "baseline", seed=1, steps=4)
    b = se.scenario("B", SMALL, "baseline", seed=2, steps=4)
    with pytest.raises(ValueError, match="share the seed"):
        se.Comparison(a, b)
    with pytest.raises(ValueError, match="same weeks"):
        se.Comparison(a, se.scenario("B", SMALL, "baseline", seed=1, steps=5))


def test_stepping_advances_both_and_stops_at_the_end():
    comp = se.comparison(SMALL, seed=3, steps=5, a=("baseline", {}), b=("micro_fund", {}))
    assert comp.week == 0 and not comp.done
    assert comp.step() == 1
    assert comp.step(2) == 2
    assert comp.week == 3
    assert [len(comp.timeseries(s)) for s in se.SIDES] == [3, 3]
    assert [m.weeks_recorded for m in comp.run.models.values()] == [3, 3]
    assert [m.week for m in comp.run.models.values()] == [comp.scenarios["A"].settings.warmup_weeks + 3] * 2
    assert comp.step(10) == 2 and comp.done and comp.week == 5
    assert comp.step() == 0
    comp.reset()
    assert comp.week == 0 and [len(comp.timeseries(s)) for s in se.SIDES] == [0, 0]


def test_pages_with_the_same_scenarios_share_one_run_and_see_their_own_week():
    runs = se.SharedRuns(size=2)
    a, b = (se.scenario(side, SMALL, policy, seed=5, steps=8) for side, policy in (("A", "baseline"),
                                                                                    ("B", "micro_fund")))
    ahead, behind = se.Comparison(a, b, runs), se.Comparison(a, b, runs)
    ahead.step(7)
    behind.step(3)
    assert ahead.run is behind.run and len(runs) == 1
    assert len(ahead.timeseries("A")) == 7 and len(behind.timeseries("A")) == 3
    assert ahead.run.week == 7  # stepped once, as far as the furthest page
    # the page that is behind sees exactly what a model of its own, stepped to its week, holds
    for side, sc in ahead.scenarios.items():
        own = CommunityModel(copy.deepcopy(sc.settings))
        own.warm_up()
        for _ in range(3):
            own.step()
        pd.testing.assert_frame_equal(behind.timeseries(side), own.timeseries())
        assert ahead.timeseries(side).iloc[:3].equals(behind.timeseries(side))
    # a page's table is its own copy: changing it leaves the shared run as it was
    mine = behind.timeseries("A")
    mine.loc[0, "fund_balance"] = -1.0
    assert behind.timeseries("A").loc[0, "fund_balance"] != -1.0
    # bounded: a third pair of scenarios drops the least recently used run; it is rebuilt identically
    before = behind.timeseries("B")
    for policy in ("moral_bank", "gov_purchase"):
        se.Comparison(a, se.scenario("B", SMALL, policy, seed=5, steps=8), runs).timeseries("A")
    assert len(runs) == 2 and behind.key not in runs._runs
    pd.testing.assert_frame_equal(behind.timeseries("B"), before)


def test_a_and_b_start_from_one_warm_up_and_equal_runs_of_their_own():
    """The warm-up is run once per community and seed; each side's model is an independent copy of it that
    runs exactly as a model built and warmed up on its own (the command line's run)."""
    settings = {policy: se.scenario("A", SMALL, policy, seed=9, steps=20).settings
                for policy in ("baseline", "five_society")}
    assert settings["baseline"].warmup_weeks > 0
    assert warmup_key(settings["baseline"]) == warmup_key(settings["five_society"])
    more_units = se.scenario("A", SMALL, "baseline", {"community.units_per_week": 4000}, seed=9, steps=20).settings
    assert warmup_key(more_units) != warmup_key(settings["baseline"])
    assert warmup_key(se.scenario("A", SMALL, "baseline", seed=10).settings) != warmup_key(settings["baseline"])
    a, b = se.warmed_model(settings["baseline"]), se.warmed_model(settings["five_society"])
    assert a.week == b.week == settings["baseline"].warmup_weeks and a.weeks_recorded == 0
    assert a.residents is not b.residents and a.fund is not b.fund and a.cfg.policy.name == "baseline"
    np.testing.assert_array_equal(a.residents.satisfaction, b.residents.satisfaction)  # one state, two copies
    for model, s in ((b, settings["five_society"]), (a, settings["baseline"]), (se.warmed_model(more_units),
                                                                                more_units)):
        own = CommunityModel(copy.deepcopy(s))
        own.warm_up()
        for _ in range(20):
            own.step()
            model.step()
        pd.testing.assert_frame_equal(model.timeseries(), own.timeseries())
    assert (b.timeseries()["public_cost_venture"] >= 0).all() and b.timeseries()["public_cost"].sum() > \
        a.timeseries()["public_cost"].sum()
    # the kept warm state was not moved by the copies' 20 weeks: a new copy starts at week 1 again
    again = se.warmed_model(settings["baseline"])
    assert again.weeks_recorded == 0 and again.timeseries().empty
    again.step()
    pd.testing.assert_frame_equal(again.timeseries(), a.timeseries().iloc[:1])


def test_a_lever_moved_during_the_run_comes_into_force_the_next_week_and_the_run_goes_on():
    """Purchase starts at week 6 for B: B's weeks 1–6 are the preset's, from week 7 on they are those of a model
    that ran 6 weeks under the preset and then under the new levers; A is untouched."""
    budget = "policy.gov_purchase.budget_yuan_per_year"
    comp = se.comparison(SMALL, seed=5, steps=14, a=("baseline", {}), b=("baseline", {}))
    comp.step(6)
    before = comp.timeseries("B").copy()
    assert comp.change_levers("B", {budget: 400_000}) is True
    assert comp.week == 6 and [w for w, _, _ in comp.events()] == [6]
    assert "400,000" in comp.events("en")[0][2] and comp.events("zh")[0][2].startswith("B 自第 7 周起")
    comp.step(8)
    b, a = comp.timeseries("B"), comp.timeseries("A")
    pd.testing.assert_frame_equal(b.iloc[:6], before)
    fresh = se.warmed_model(se.scenario("B", SMALL, "baseline", seed=5, steps=14).settings)
    for _ in range(6):
        fresh.step()
    fresh.change_policy(comp.scenarios["B"].settings.policy)
    for _ in range(8):
        fresh.step()
    pd.testing.assert_frame_equal(b, fresh.timeseries())
    assert b["public_cost_purchase"].iloc[6:].sum() > 0 == b["public_cost_purchase"].iloc[:6].sum()
    assert a["public_cost_purchase"].sum() == 0
    # another page with the same starting scenarios but no change runs on its own models
    other = se.comparison(SMALL, seed=5, steps=14, a=("baseline", {}), b=("baseline", {}))
    other.step(14)
    assert other.run is not comp.run and other.timeseries("B")["public_cost_purchase"].sum() == 0
    # nothing moved: no event; a fact about the community cannot move during a run
    assert comp.change_levers("B", {budget: 400_000}) is False and len(comp.events()) == 1
    with pytest.raises(ValueError, match=r"community\.units_per_week"):
        comp.change_levers("B", {"community.units_per_week": 9_000})
    # Reset: week 0, the levers in force now, no events
    comp.reset()
    assert comp.week == 0 and comp.events() == [] and comp.scenarios["B"].levers[budget] == 400_000
    comp.step(3)
    assert comp.timeseries("B")["public_cost_purchase"].sum() > 0


def test_replicates_replay_the_lever_changes_of_the_run():
    from dashboard.replicates import run_replicates

    budget = "policy.gov_purchase.budget_yuan_per_year"
    comp = se.comparison(SMALL, seed=8, steps=10, a=("baseline", {}), b=("baseline", {}))
    comp.step(4)
    comp.change_levers("B", {budget: 300_000})
    comp.step(6)
    reps = run_replicates(comp, 2, ["public_cost_run", "response_rate"])
    assert sorted(reps["seed"].unique()) == [8, 9]
    first = reps[(reps["seed"] == 8) & (reps["scenario"] == "B")].reset_index(drop=True)
    shown = comp.timeseries("B")
    assert np.allclose(first["response_rate"], shown["response_rate"], equal_nan=True)  # seed 8 is the page's run
    b_cost = reps[reps["scenario"] == "B"].groupby("seed")["public_cost_run"].last()
    a_cost = reps[reps["scenario"] == "A"].groupby("seed")["public_cost_run"].last()
    assert (b_cost > a_cost).all()  # every seed bought services from week 5 on
