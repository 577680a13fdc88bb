"""Scenario discovery (experiments.discover, issue 26): PRIM recovers a known box; the command on a study folder;
bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from experiments.discover import DiscoverError, choose_step, find_boxes, main, parse_target
from sim.runs.outputs import RUNS_FILE

A, B, C = "behaviour.professional_share", "behaviour.structural_share", "behaviour.staff_success"
KPIS = ["completion_rate", "callback_satisfaction", "volunteers_per_10k"]


def _known_box_cases(n: int = 600, seed: int = 1) -> pd.DataFrame:
    """Uniform inputs; the target holds exactly where A < 0.2 and B < 0.12 (12 % of the cases)."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({A: rng.uniform(0.05, 0.5, n), B: rng.uniform(0.04, 0.26, n), C: rng.uniform(0.8, 0.99, n)})
    return x.assign(of_interest=(x[A] < 0.2) & (x[B] < 0.12))


def test_prim_recovers_a_known_box_and_leaves_the_irrelevant_input_free():
    cases = _known_box_cases()
    [box] = find_boxes(cases, [A, B, C], min_density=0.9)
    lim = box.limits.set_index("parameter")
    assert lim.loc[A, "restricted"] and lim.loc[B, "restricted"] and not lim.loc[C, "restricted"]
    assert lim.loc[A, "high"] == pytest.approx(0.2, abs=0.02) and lim.loc[A, "low"] == pytest.approx(0.05, abs=0.01)
    assert lim.loc[B, "high"] == pytest.approx(0.12, abs=0.015)
    assert box.density >= 0.9 and box.coverage >= 0.85
    # coverage, density and mass as PRIM defines them, recomputed from the cases in the box
    y = cases["of_interest"].to_numpy()
    assert box.coverage == pytest.approx(y[box.inside].sum() / y.sum())
    assert box.density == pytest.approx(y[box.inside].mean())
    assert box.mass == pytest.approx(box.inside.mean())
    assert lim.loc[A, "qp_high"] < 0.01  # the restriction is far from chance


def test_the_chosen_step_is_the_widest_box_dense_enough_else_the_densest():
    t = pd.DataFrame({"id": range(5), "coverage": [1.0, 0.95, 0.9, 0.7, 0.5], "density": [0.3, 0.6, 0.82, 0.9, 0.97],
                      "res_dim": [0, 1, 2, 2, 3]})
    assert choose_step(t, 0.8) == (2, True)
    assert choose_step(t, 0.95) == (4, True)
    assert choose_step(t, 0.99) == (4, False)


def test_targets_are_read_from_the_plan_or_the_command_line():
    plan = parse_target("#34", KPIS, gain=False)
    assert (plan.kpi, plan.op, plan.threshold, plan.plan) == ("completion_rate", ">=", 0.95, True)
    assert parse_target("completion_rate", KPIS, gain=False) == plan
    given = parse_target("completion_rate >= 90%", KPIS, gain=False)
    assert (given.op, given.threshold, given.plan) == (">=", pytest.approx(0.9), False)
    assert parse_target("completion_rate>5pp", KPIS, gain=True).threshold == pytest.approx(0.05)
    assert parse_target("volunteers_per_10k<1200", KPIS, gain=False).threshold == 1200
    for spec, gain, words in [("completion", False, "not a KPI of these runs; allowed: completion_rate"),
                              ("#99", False, "no plan indicator #99; allowed: #5"),
                              ("completion_rate", True, "needs a threshold"),
                              ("volunteers_per_10k>5pp", False, "only for a fraction"),
                              ("completion_rate=>0.9", False, "write KPI")]:
        with pytest.raises(DiscoverError, match=words):
            parse_target(spec, KPIS, gain)


def _study(folder: Path, sets: int = 300, seeds: int = 2) -> Path:
    """A collated study folder: baseline and five_society over ``sets`` parameter sets; five_society's completion
    rate passes 95 % exactly where A < 0.2 and B < 0.12 (plus seed noise well inside the margin)."""
    rng = np.random.default_rng(7)
    sweep = folder / "sweep"
    sweep.mkdir(parents=True)
    rows = []
    for j in range(sets):
        a, b, c = rng.uniform(0.05, 0.5), rng.uniform(0.04, 0.26), rng.uniform(0.8, 0.99)
        good = a < 0.2 and b < 0.12
        for seed in range(seeds):
            for policy in ("baseline", "five_society"):
                rate = 0.85 + (0.12 if good and policy == "five_society" else 0.02 * (policy == "five_society"))
                rows.append({"run": len(rows), "run_dir": f"set={j:03d},policy={policy},seed={seed}",
                             "status": "done", "community": "urban_traditional", "policy": policy, "seed": seed,
                             A: a, B: b, C: c, "completion_rate": rate + rng.normal(0, 0.003),
                             "callback_satisfaction": 0.9, "volunteers_per_10k": 900.0 + seed})
    pd.DataFrame(rows).to_parquet(sweep / RUNS_FILE)
    return folder


def _discover(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.discover", *args], capture_output=True, text=True,
                          cwd=REPO, check=False)


def test_the_command_finds_the_box_of_a_study_folder_and_writes_both_languages(tmp_path):
    from system_deps import require_cjk_font
    require_cjk_font()
    study, out = _study(tmp_path / "study"), tmp_path / "out"
    done = _discover(str(study), "--target", "#34", "--policy", "five_society", "--out", str(out),
                    "--min-density", "0.9")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["cases"], summary["seeds_per_case"], summary["kpi"]) == (300, [2], "completion_rate")
    truth = pd.read_parquet(study / "sweep" / RUNS_FILE).query("policy == 'five_society' and seed == 0")
    assert summary["of_interest"] == int(((truth[A] < 0.2) & (truth[B] < 0.12)).sum())
    [box] = summary["boxes"]
    assert set(box["limits"]) == {A, B} and box["density"] >= 0.9
    assert box["limits"][A][1] == pytest.approx(0.2, abs=0.04) and box["limits"][B][1] == pytest.approx(0.12, abs=0.03)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Where the target is met" in report and "## 目标在哪些条件下达成" in report
    assert f"`{A}`" in report and "python -m experiments.discover" in report
    for name in ("box.png", "box_zh.png", "trajectory.png", "trajectory_zh.png", "cases.csv", "boxes.csv",
                 "trajectory.csv"):
        assert (out / name).stat().st_size > 0, name
    steps = pd.read_csv(out / "trajectory.csv")
    assert steps["chosen"].sum() == 1 and steps["coverage"].iloc[0] == 1.0  # the peeling starts from every case

    # the gain over the baseline: the same box (the baseline is flat), by the paired difference
    gain = _discover(str(study / "sweep"), "--target", "completion_rate>5pp", "--policy", "five_society",
                     "--gain-over", "baseline", "--out", str(tmp_path / "gain"), "--lang", "en",
                     "--min-density", "0.9")
    assert gain.returncode == 0, gain.stderr
    g = json.loads((tmp_path / "gain" / "summary.json").read_text(encoding="utf-8"))
    assert g["control"] == "baseline" and g["of_interest"] == summary["of_interest"]
    assert set(g["boxes"][0]["limits"]) == {A, B}
    assert not (tmp_path / "gain" / "box_zh.png").exists()


@pytest.mark.parametrize(("args", "words"), [
    (["--target", "completion_rate"], "no runs found"),
])
def test_an_empty_folder_is_refused_and_nothing_is_written(tmp_path, args, words):
    (tmp_path / "empty").mkdir()
    done = _discover(str(tmp_path / "empty"), *args, "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and words in done.stderr
    assert not (tmp_path / "out").exists()


def test_bad_input_names_the_option_and_what_is_allowed(tmp_path, capsys):
    study = _study(tmp_path / "study", sets=30, seeds=1)
    cases = [
        (["--target", "completion"], "allowed: "),
        (["--target", "#34", "--policy", "gov_purchase"], "--policy gov_purchase: no complete run of that policy "
                                                          "here; allowed: baseline, five_society"),
        (["--target", "#34"], "choose one of baseline, five_society"),
        (["--target", "#34", "--policy", "five_society", "--inputs", "behaviour.trust_rate"],
         f"--inputs: behaviour.trust_rate not varied in these runs; allowed: {A}, {B}, {C}"),
        (["--target", "completion_rate>=0.999", "--policy", "five_society"], "holds in 0 of 30 cases"),
        (["--target", "#34", "--policy", "five_society", "--lang", "fr"], "--lang 'fr'"),
        (["--target", "completion_rate>1pp", "--policy", "five_society", "--gain-over", "five_society"],
         "the same as --policy"),
        (["--target", "#34", "--policy", "five_society", "--gain-over", "baseline"], "needs a threshold"),
    ]
    cases.append((["--target", "#34"], "no such folder"))
    for i, (args, words) in enumerate(cases):
        where = study if i < len(cases) - 1 else tmp_path / "nowhere"
        assert main([str(where), *args, "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert words in err, (args, err)
        assert not (tmp_path / "out").exists()


SHIPPED = REPO / "docs" / "discovery"


def test_the_shipped_finding_is_reproduced_from_its_runs_table(tmp_path, capsys):
    """README's finding: docs/discovery/runs.csv (the study's runs) gives the shipped boxes again, and the plan target
    itself (#34, ≥ 95 %) is met in none of the parameter sets."""
    summary = json.loads((SHIPPED / "summary.json").read_text(encoding="utf-8"))
    target = f"{summary['kpi']}{summary['op']}{summary['threshold']}"
    args = [str(SHIPPED), "--target", target, "--policy", summary["policy"], "--lang", "en",
            "--min-density", str(summary["min_density"]), "--max-qp", str(summary["max_qp"])]
    assert main([*args, "--out", str(tmp_path / "again")]) == 0
    again = pd.read_csv(tmp_path / "again" / "boxes.csv")
    pd.testing.assert_frame_equal(again, pd.read_csv(SHIPPED / "boxes.csv"))
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "again" / "cases.csv"), pd.read_csv(SHIPPED / "cases.csv"))
    assert main([str(SHIPPED), "--target", "#34", "--policy", "five_society", "--out", str(tmp_path / "plan")]) == 2
    assert f"holds in 0 of {summary['cases']} cases" in capsys.readouterr().err
