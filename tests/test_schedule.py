"""Levers that start, stop and change during a run (sim/levers/schedule.py), from the config and the command line."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, make_settings, run_cli, run_model

from sim.levers import LEVERS, money_levers, schedule
from sim.model.community_model import CommunityModel
from sim.runs.outputs import config_hash
from sim.settings.config import ConfigError, settings_for, to_plain_dict


def test_every_lever_has_a_schedule_settable_from_the_command_line():
    s = settings_for("policy=five_society", *(f"policy.{lv.name}.start_week={3 + k}" for k, lv in enumerate(LEVERS)),
                     *(f"policy.{lv.name}.end_week={30 + k}" for k, lv in enumerate(LEVERS)))
    for k, lever in enumerate(LEVERS):
        values = getattr(s.policy, lever.name)
        assert (values.start_week, values.end_week) == (3 + k, 30 + k)
    assert schedule.boundaries(s.policy) == {*(3 + k for k in range(len(LEVERS))),
                                             *(31 + k for k in range(len(LEVERS)))}


def test_a_change_at_a_week_from_the_command_line_and_as_a_mapping():
    a = settings_for("policy=five_society", "+policy.venture.changes.105.budget_yuan_per_year=5000")
    b = settings_for("policy=five_society", "++policy.venture.changes={105: {budget_yuan_per_year: 5000}}")
    assert a.policy.venture.changes == b.policy.venture.changes == {105: {"budget_yuan_per_year": 5000}}
    assert schedule.policy_at(a.policy, 104).venture.budget_yuan_per_year == 100_000
    assert schedule.policy_at(a.policy, 105).venture.budget_yuan_per_year == 5000


@pytest.mark.parametrize(("override", "message"), [
    ("policy.gov_purchase.end_week=0", "policy.gov_purchase.end_week"),
    ("+policy.venture.changes.12.budget=5", "policy.venture.changes.12.budget is not a parameter"),
    ("+policy.venture.changes.12.budget_yuan_per_year=-5", "out of range"),
    ("+policy.venture.changes.0.budget_yuan_per_year=5", "not a recorded week"),
    ("+policy.fund.changes.3.needy_share=0.9", "policy.fund in recorded week 3"),
])
def test_a_schedule_that_cannot_run_is_refused_naming_the_key(override, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        settings_for("policy=five_society", override)


def test_a_district_refuses_schedules():
    with pytest.raises(ConfigError, match=re.escape("policy.venture: start_week, end_week and changes are for one")):
        settings_for("district=small_district", "policy=five_society", "policy.venture.end_week=5")


def test_a_schedule_at_its_defaults_names_no_run_folder_differently():
    plain = settings_for("policy=five_society")
    explicit = settings_for("policy=five_society", "policy.gov_purchase.start_week=1",
                            "policy.gov_purchase.end_week=null")
    assert config_hash(plain) == config_hash(explicit)
    assert "start_week" not in to_plain_dict(plain)["policy"]["gov_purchase"]
    assert config_hash(settings_for("policy=five_society", "policy.gov_purchase.end_week=100")) != config_hash(plain)


def test_outside_its_weeks_a_lever_has_the_baseline_values():
    s = make_settings("policy.gov_purchase.start_week=5", "policy.gov_purchase.end_week=20", policy="five_society")
    for week, budget in ((1, 0.0), (4, 0.0), (5, 200_000.0), (20, 200_000.0), (21, 0.0)):
        assert schedule.policy_at(s.policy, week).gov_purchase.budget_yuan_per_year == budget


def test_withdrawn_money_stops_the_public_cost_and_the_events_say_what_changed():
    withdraw = [f"policy.{key.split('.')[1]}.end_week=13" for key in money_levers()] + \
               ["+policy.social_work.changes.14.extra_social_workers=0"]
    _, ts = run_model(make_settings(*withdraw, policy="five_society", steps=40, warmup=26))
    _, base = run_model(make_settings(policy="baseline", steps=40, warmup=26))
    _, cont = run_model(make_settings(policy="five_society", steps=40, warmup=26))
    events = ts.set_index("step")["lever_events"]
    assert "gov_purchase.budget_yuan_per_year 200000 → 0" in events[14]
    assert "social_work.extra_social_workers 2 → 0" in events[14]
    assert (events.drop(index=14) == "").all()
    after = ts["step"] > 13
    # after the withdrawal the government pays only the station's own social workers, as under the baseline
    np.testing.assert_allclose(ts.loc[after, "public_cost"].to_numpy(), base.loc[after, "public_cost"].to_numpy())
    assert (ts.loc[~after, "public_cost"] == cont.loc[~after, "public_cost"]).all()  # the pilot itself is unchanged
    assert (ts.loc[after, "social_workers"] < cont.loc[after, "social_workers"]).all()  # the extra posts end
    assert "lever_events" not in cont.columns  # a run without a schedule has no events column


def test_the_pilot_weeks_equal_the_unscheduled_run_exactly():
    withdraw = [f"policy.{key.split('.')[1]}.end_week=20" for key in money_levers()]
    _, ts = run_model(make_settings(*withdraw, policy="five_society", steps=30, warmup=26))
    _, cont = run_model(make_settings(policy="five_society", steps=30, warmup=26))
    first = ts[ts["step"] <= 20].drop(columns=["lever_events", "lever_events_count"])
    pd.testing.assert_frame_equal(first, cont[cont["step"] <= 20])


def test_a_lever_that_starts_late_changes_nothing_before_it_starts():
    _, late = run_model(make_settings("policy.gov_purchase.start_week=11", policy="gov_purchase", steps=20, warmup=26))
    _, base = run_model(make_settings(policy="baseline", steps=20, warmup=26))
    cols = [c for c in base.columns if c in late.columns]
    pd.testing.assert_frame_equal(late.loc[late["step"] <= 10, cols], base.loc[base["step"] <= 10, cols])
    assert late.loc[late["step"] >= 11, "public_cost_purchase"].sum() > 0


def test_change_policy_and_the_schedule_are_the_same_path():
    """The dashboard's live change (change_policy before week 11) and a schedule for week 11 give the same run."""
    s = make_settings(policy="baseline", steps=20, warmup=26)
    live = CommunityModel(s)
    live.warm_up()
    for _ in range(10):
        live.step()
    changed = dataclasses.replace(live.policy, venture=dataclasses.replace(live.policy.venture,
                                                                           budget_yuan_per_year=50_000.0))
    live.change_policy(changed)
    for _ in range(10):
        live.step()
    _, planned = run_model(make_settings("+policy.venture.changes.11.budget_yuan_per_year=50000", policy="baseline",
                                         steps=20, warmup=26))
    cols = [c for c in live.timeseries().columns if c in planned.columns]
    pd.testing.assert_frame_equal(live.timeseries()[cols], planned[cols])


@pytest.mark.slow
def test_a_schedule_runs_from_the_command_line(tmp_path):
    r = run_cli(REPO, "community=relocation", "policy=five_society", "steps=6", "warmup_weeks=0",
                "policy.venture.end_week=2", "+policy.gov_purchase.changes.4.budget_yuan_per_year=1000",
                f"hydra.run.dir={tmp_path}")
    assert r.returncode == 0, r.stderr
    ts = pd.read_parquet(tmp_path / "timeseries.parquet")
    assert ts.set_index("step")["lever_events"].to_dict()[4] == "gov_purchase.budget_yuan_per_year 200000 → 1000"
    assert ts.set_index("step")["lever_events"].to_dict()[3] == "venture.budget_yuan_per_year 100000 → 0"


@pytest.mark.parametrize(("override", "message"), [
    ("+policy.venture.changes.4.budget=5", "policy.venture.changes.4.budget: budget is not a parameter of "
                                           "policy.venture; allowed: budget_yuan_per_year"),
    ("+policy.venture.changes.x.budget_yuan_per_year=5", "week 'x' is not a recorded week"),
    ("+policy.venture.changes.4.budget_yuan_per_year=-1", "policy.venture.budget_yuan_per_year=-1"),
    ("+policy.nothing.changes.4.budget_yuan_per_year=1", "policy.nothing.changes.4.budget_yuan_per_year is not a "
                                                         "parameter"),
])
def test_the_command_line_refuses_a_bad_change_naming_the_key(override, message):
    from sim.settings.overrides import check_overrides

    with pytest.raises(ConfigError, match=re.escape(message)):
        check_overrides(["policy=five_society", override])


def test_comparison_trajectories_mark_the_weeks_levers_changed():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from experiments.figures import Styles, plot_trajectories

    rows = [("A", seed, step, "public_cost", 100.0 if step <= 10 else 10.0) for seed in (0, 1) for step in range(1, 21)]
    rows += [("A", seed, step, "lever_events_count", 2.0 if step == 11 else 0.0) for seed in (0, 1)
             for step in range(1, 21)]
    rows += [("B", seed, step, "public_cost", 50.0) for seed in (0, 1) for step in range(1, 21)]
    series = pd.DataFrame(rows, columns=["scenario", "seed", "step", "indicator", "value"])
    fig = plot_trajectories(series, ["public_cost"], Styles.of(["A", "B"]))
    dotted = [line.get_xdata()[0] for ax in fig.axes for line in ax.get_lines() if line.get_linestyle() == ":"]
    plt.close(fig)
    assert dotted == [10.5]  # scenario A's change at the start of week 11; B has none
