"""The pilot-withdrawal experiment: its schedule, a small study end to end, README's table, bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments import pilot_withdrawal as pw
from sim.levers import lever_parameters, schedule
from sim.settings.config import settings_for


def test_withdrawal_sets_every_public_money_and_staff_parameter_to_zero_after_the_pilot():
    overrides = pw.withdrawal_overrides(156)
    keys = {*lever_parameters("money"), *lever_parameters("staff")}
    assert len(overrides) == len(keys)
    s = settings_for("policy=five_society", *overrides)
    during, after = schedule.policy_at(s.policy, 156), schedule.policy_at(s.policy, 157)
    for key in keys:
        _, lever, name = key.split(".")
        assert getattr(getattr(after, lever), name) == 0, key
    assert during.gov_purchase.budget_yuan_per_year == 200_000 and during.social_work.extra_social_workers == 2
    # what costs no public money stays as five_society has it
    assert after.fund.governance == during.fund.governance and after.deliberation.enabled


@pytest.mark.slow
def test_a_small_study_end_to_end(tmp_path, capsys):
    out = tmp_path / "pw"
    rc = pw.main(["--community", "relocation", "--seeds", "2", "--sets", "2", "--set-seeds", "1", "--years", "2",
                  "--pilot-years", "1", "--jobs", "1", "--out", str(out), "warmup_weeks=26"])
    assert rc == 0, capsys.readouterr().err
    table = pd.read_csv(out / "yearly.csv")
    assert set(table["arm"]) == set(pw.ARMS) and set(table["year"]) == {1, 2}
    assert len(table[table["study"] == "seeds"]) == 3 * 2 * 2 * len(pw.INDICATORS)
    y = table[(table["study"] == "seeds") & (table["indicator"] == "public_cost")].pivot_table(
        index=["year"], columns="arm", values="value")
    assert y.loc[1, "withdraw"] == pytest.approx(y.loc[1, "continue"])     # the pilot year: as if continued
    assert y.loc[2, "withdraw"] == pytest.approx(y.loc[2, "never"])        # afterwards: the baseline's cost
    summary = pd.read_csv(out / "summary.csv")
    first = summary[(summary["indicator"] == "public_cost") & (summary["year"] == 1)].iloc[0]
    assert first["retained"] == pytest.approx(1.0)
    assert (out / "pilot_withdrawal.png").exists() and "Withdrawn" in (out / "report.md").read_text()


def test_readme_tables_match_the_shipped_study():
    assert pw.main(["--check"]) == 0


@pytest.mark.parametrize(("argv", "message"), [
    (["--community", "nowhere"], "--community 'nowhere' is unknown"),
    (["--pilot-years", "7", "--years", "7"], "1 ≤ pilot-years < years"),
    (["--seeds", "1"], "--seeds 1: allowed ≥ 2"),
    (["--sets", "1"], "--sets 1: allowed 0"),
    (["policy=baseline"], "set by the options"),
    (["behaviour.nope=1"], "behaviour.nope"),
])
def test_bad_input_is_refused_naming_the_option(argv, message, capsys, tmp_path):
    assert pw.main([*argv, "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # nothing half-written
