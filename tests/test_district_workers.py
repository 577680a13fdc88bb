"""A district's communities in worker processes (sim/model/district_workers.py): the same outputs for any number of
processes, errors and deaths of a worker reported, nothing left running."""

from __future__ import annotations

import os
import signal

import numpy as np
import pandas as pd
import pytest

from sim.model.district import DistrictModel, district_kpis
from sim.model.district_workers import split
from sim.runs.outputs import config_hash
from sim.settings.config import settings_for

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="worker processes need fork")

# gov_purchase: the shared budget is allotted by need at each contract round (every 13 weeks here); five_society:
# the station incubates, so the district's draws and the communities' groups meet across processes
CASES = {
    "five_society": [
        "policy=five_society",
        "steps=30",
        "warmup_weeks=8",
        "policy.social_work.incubations_per_worker_year=26",
    ],
    "gov_purchase": ["policy=gov_purchase", "steps=30", "warmup_weeks=8", "policy.gov_purchase.contract_weeks=13"],
}


def _run(processes: int, overrides: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, dict, int]:
    model = DistrictModel(
        settings_for("district=small_district", "progress=false", f"processes={processes}", *overrides)
    )
    per_community, totals = model.run()
    return per_community, totals, district_kpis(totals, model), model.incubated_by_district


@pytest.mark.parametrize("case", sorted(CASES))
def test_outputs_are_the_same_for_any_number_of_processes(case):
    one = _run(1, CASES[case])
    assert one[0]["demands_reported"].sum() > 0
    if case == "five_society":
        assert one[3] > 0, "the station incubated nothing: the case does not test the incubations across processes"
    for processes in (2, 3):
        other = _run(processes, CASES[case])
        pd.testing.assert_frame_equal(one[0], other[0], check_exact=True)
        pd.testing.assert_frame_equal(one[1], other[1], check_exact=True)
        assert one[2] == other[2] and one[3] == other[3]


def test_processes_is_not_part_of_the_config_hash():
    a, b = (settings_for("district=small_district", f"processes={p}") for p in (1, 4))
    assert config_hash(a) == config_hash(b)


def test_split_balances_the_weight_and_keeps_every_community_once():
    weights = [12_000, 1_500, 1_500, 3_600, 12_000, 800, 5_000]
    parts = split(weights, 3)
    assert sorted(i for p in parts for i in p) == list(range(len(weights)))
    loads = [sum(weights[i] for i in p) for p in parts]
    assert max(loads) - min(loads) <= max(weights)
    assert split([1.0, 1.0], 5) == [[0], [1]]  # never an empty group


def test_a_worker_killed_mid_run_is_reported_and_the_others_stop():
    model = DistrictModel(
        settings_for("district=small_district", "progress=false", "processes=2", "steps=20", "warmup_weeks=2")
    )
    worker = model.groups[1]
    model.step()
    os.kill(worker.process.pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match=r"worker process for communities .* ended without answering.*-9"):
        model.run()
    assert not any(g.process.is_alive() for g in model.groups[1:])


def test_an_error_in_a_worker_names_it_and_the_cause(monkeypatch):
    from sim.model import district_workers

    def broken(self, budgets):
        raise ValueError("a broken week")

    monkeypatch.setattr(district_workers.LocalGroup, "do_step", broken)  # the worker is forked after this
    model = DistrictModel(
        settings_for("district=small_district", "progress=false", "processes=2", "steps=4", "warmup_weeks=0")
    )
    with pytest.raises((RuntimeError, ValueError), match="a broken week"):
        model.run()
    assert not any(g.process.is_alive() for g in model.groups[1:])


def test_district_rows_add_up_the_communities_in_order():
    per_community, totals, _, _ = _run(2, CASES["gov_purchase"])
    last = per_community[per_community["step"] == per_community["step"].max()]
    np.testing.assert_array_equal(per_community["community_id"].unique(), np.arange(6))
    assert totals["step"].tolist() == list(range(1, 31))
    assert totals.iloc[-1]["fund_balance"] == float(sum(last["fund_balance"].tolist()))


def test_the_weekly_record_packs_weeks_into_arrays_and_gives_the_table_pandas_would():
    from sim.model.record import WeeklyRecord

    class Week:
        n = 0

    values = {  # what each column returns in week n, of the kinds the model's reporters return
        "count": lambda n: n * 3,
        "numpy_count": lambda n: np.int64(n),
        "money": lambda n: n / 7,
        "int_then_nan": lambda n: float("nan") if n % 60 == 59 else n,
        "text": lambda n: "" if n % 5 else f"week {n}",
        "flag": lambda n: n % 2 == 0,
        "small": lambda n: np.float32(n) / 3,
    }
    record = WeeklyRecord({k: (lambda m, f=f: f(m.n)) for k, f in values.items()})
    lists: dict[str, list] = {k: [] for k in values}
    week = Week()
    for n in range(3 * WeeklyRecord.PACK_WEEKS + 5):
        week.n = n
        record.collect(week)
        for k, f in values.items():
            lists[k].append(f(n))
        if n in (0, WeeklyRecord.PACK_WEEKS - 1, WeeklyRecord.PACK_WEEKS, 2 * WeeklyRecord.PACK_WEEKS + 3):
            expected = pd.DataFrame(lists)
            pd.testing.assert_frame_equal(record.dataframe(), expected, check_exact=True)
            assert record.latest().keys() == values.keys()
            assert record.latest()["count"] == n * 3
    assert any(isinstance(p, np.ndarray) for p in record._packed["count"])  # packed, not kept as lists
    assert not any(isinstance(p, np.ndarray) for p in record._packed["text"])


def test_a_district_dropped_without_running_stops_its_workers():
    import gc

    model = DistrictModel(settings_for("district=small_district", "progress=false", "processes=2", "steps=2"))
    process = model.groups[1].process
    assert process.is_alive()
    del model
    gc.collect()
    process.join(timeout=10)
    assert not process.is_alive()
