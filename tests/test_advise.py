"""experiments.advise: lever mixes against the plan targets and their public cost (issue #12, item 5)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, assert_bad_input_refused

from experiments import advise
from sim.model.indicators import TARGETS_BY_KEY


def test_the_pareto_front_keeps_exactly_the_undominated_mixes():
    cost = pd.Series([0, 100, 100, 200, 300, 300])
    benefit = pd.Series([1.0, 2.0, 1.5, 2.0, 3.0, 3.0])
    # 2 is beaten by 1 (same cost, more); 3 by 1 (cheaper, as much); 4 and 5 tie and both stay
    assert advise.pareto_front(cost, benefit).tolist() == [True, True, False, False, True, True]
    assert advise.pareto_front(pd.Series([5.0]), pd.Series([0.0])).tolist() == [True]
    assert advise.pareto_front(pd.Series([1, 2]), pd.Series([0.0, 0.0])).tolist() == [True, False]  # pay more for 0


def test_the_robust_choice_is_the_cheapest_of_the_most_robust():
    table = pd.DataFrame({"cost_per_year": [0, 50, 80, 200], "expected_met": [1.0, 2.5, 2.2, 3.0],
                          "robust_met": [1, 2, 2, 2]})
    assert advise.robust_choice(table) == 1
    assert advise.robust_choice(table.assign(robust_met=[0, 0, 0, 0])) == 0  # nothing robust: spend nothing


def test_lever_mixes_start_with_no_public_money_and_stay_in_their_ranges():
    mixes = advise.lever_mixes(9)
    assert len(mixes) == 9 and (mixes.iloc[0] == 0).all()
    for lever in advise.lever_space():
        assert mixes[lever.key].between(lever.lo, lever.hi).all()
    workers = "policy.social_work.extra_social_workers"
    assert mixes[workers].dtype.kind == "i"
    pd.testing.assert_frame_equal(mixes, advise.lever_mixes(9))  # the same mixes every time
    assert mixes.iloc[1:].drop_duplicates().shape[0] == 8


def test_probabilities_count_runs_meeting_each_target_and_cost_is_per_year():
    response = TARGETS_BY_KEY["response_rate"]
    runs = pd.DataFrame({"mix": [0, 0, 0, 0, 1, 1, 1, 1],
                         "public_cost_run": [0, 0, 0, 0, 100_000, 100_000, 100_000, 100_000],
                         "response_rate": [0.5, 0.5, np.nan, 0.5, 1.0, 1.0, 1.0, 0.9],
                         "volunteers_per_10k": [3000, 3000, 3000, 3000, 100, 100, 100, 100]})
    table = advise.summarise(runs, weeks=104, robust=0.75)
    assert response.value == 1.0
    assert table.loc[0, "cost_per_year"] == 0 and table.loc[1, "cost_per_year"] == pytest.approx(50_000)
    assert table.loc[0, "p_response_rate"] == 0 and table.loc[1, "p_response_rate"] == 0.75  # NaN: not met
    assert table.loc[0, "p_volunteers_per_10k"] == 1 and table.loc[1, "p_volunteers_per_10k"] == 0
    assert table["expected_met"].tolist() == [1.0, 0.75] and table["robust_met"].tolist() == [1, 1]
    assert table["on_front"].tolist() == [True, False]  # mix 1 pays more for fewer targets expected


def test_the_command_advises_resumes_and_refuses_bad_input(tmp_path, capsys):
    out = tmp_path / "advice"
    bad = ((["--mixes", "1"], "--mixes 1: allowed ≥ 2"), (["--robust", "1.5"], "--robust 1.5"),
           (["policy=baseline"], "set by the search"), (["nothing=1"], "nothing"))
    assert_bad_input_refused("experiments.advise", bad, out, capsys)
    cmd = [sys.executable, "-m", "experiments.advise", "--mixes", "3", "--sets", "2", "--seeds", "1", "--jobs", "2",
           "--lang", "zh", "--out", str(out), "community=relocation", "steps=52"]
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    assert first.returncode == 0, first.stderr
    table = pd.read_csv(out / "advice.csv", index_col="mix")
    assert len(table) == 3 and (table["runs"] == 2).all()
    assert table.loc[0, "cost_per_year"] < table.loc[1:, "cost_per_year"].min()  # no public money: wages only
    assert table[[c for c in table.columns if c.startswith("p_")]].stack().between(0, 1).all()
    assert table["on_front"].any() and (out / "advice.png").stat().st_size > 10_000
    assert "稳健选择" in (out / "report.md").read_text()
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)  # resumes: nothing rerun
    assert again.returncode == 0 and "0 done, 6 skipped" in again.stderr + again.stdout
    pd.testing.assert_frame_equal(pd.read_csv(out / "advice.csv", index_col="mix"), table)
