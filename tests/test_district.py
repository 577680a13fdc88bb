"""The district model: many communities, a shared purchase budget and a district station."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from sim.model.district import DistrictModel
from sim.settings.config import ConfigError, settings_for


def district(*overrides: str) -> DistrictModel:
    # in this process (processes=1), so that the tests can reach the communities
    return DistrictModel(settings_for("district=small_district", "progress=false", "processes=1", *overrides))


def test_communities_follow_the_preset_mix_with_distinct_seeds():
    m = district("steps=4")
    assert m.presets == ["relocation"] * 3 + ["tourism_village"] * 2 + ["township"]
    assert len({c.cfg.seed for c in m.communities}) == 6
    assert [c.residents.size for c in m.communities] == [1500] * 3 + [1800] * 2 + [3600]
    # every community receives a share of the district social workers' time, summing to the station
    shares = [c.district_worker_share for c in m.communities]
    assert sum(shares) == pytest.approx(m.cfg.district.station_social_workers)


def test_shared_purchase_budget_is_split_by_need_and_conserved():
    m = district("policy=gov_purchase", "steps=60", "policy.gov_purchase.contract_weeks=26")
    assert m.purchase_budget == pytest.approx(200_000 * 6)  # -1 means per-community budget × communities
    for _ in range(m.cfg.warmup_weeks + 1):  # the warm-up weeks, then the first recorded week
        m.step()
    first = np.array([c.purchase_budget_yuan_per_year for c in m.communities])
    sizes = np.array([c.residents.size for c in m.communities])
    assert first.sum() == pytest.approx(m.purchase_budget)
    np.testing.assert_allclose(first / first.sum(), sizes / sizes.sum())  # first round: by residents
    for _ in range(26):
        m.step()
    second = np.array([c.purchase_budget_yuan_per_year for c in m.communities])
    assert second.sum() == pytest.approx(m.purchase_budget)
    reported = np.array([c.timeseries()["demands_reported"].iloc[0:26].sum() for c in m.communities])
    np.testing.assert_allclose(second / second.sum(), reported / reported.sum())


def test_district_totals_add_up_and_station_counts():
    m = district("policy=five_society", "steps=20")
    per_community, totals = m.run()
    assert len(per_community) == 6 * 20 and len(totals) == 20
    week = per_community[per_community["step"] == 20]
    last = totals.iloc[-1]
    for col in ("residents", "volunteers_registered", "social_orgs_active", "demands_raised", "fund_balance"):
        assert last[col] == pytest.approx(week[col].sum()), col
    assert last["social_workers"] == week["social_workers"].sum() + 3
    assert last["orgs_per_community"] == pytest.approx(week["social_orgs_active"].mean())
    for col in ("demands_signed_in_time", "demands_due", "callbacks", "callbacks_satisfied", "public_cost"):
        assert last[col] == pytest.approx(week[col].sum()), col
    # the district's rates are ratios of its totals (every closed demand weighs the same), not means of rates
    assert last["callbacks"] > 0
    assert last["callback_satisfaction"] == pytest.approx(last["callbacks_satisfied"] / last["callbacks"])
    assert last["completion_rate"] == pytest.approx(week["demands_completed_on_time"].sum() / week["demands_due"].sum())
    # the district station's social workers are paid through the communities' shares of their time
    wage = m.cfg.behaviour.social_worker_wage_yuan_per_year
    shares = sum(c.district_worker_share for c in m.communities)
    assert shares == pytest.approx(3)
    assert per_community["public_cost_social_workers"].sum() == pytest.approx(
        (sum(len(c.station_workers) for c in m.communities) + 3) * wage * 20 / 52, abs=1.0)


def test_district_is_deterministic():
    a = district("steps=8").run()[1]
    b = district("steps=8").run()[1]
    assert a.equals(b)


def test_unknown_preset_in_district_is_refused():
    with pytest.raises(ConfigError, match=r"district.communities\[0\].preset='nope'.*choose one of"):
        settings_for("district=small_district", "district.communities=[{preset: nope, count: 2}]")


def test_district_cli(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim", "district=small_district", "steps=6", "hydra.run.dir=out"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "#25" in proc.stdout and "#22" in proc.stdout
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {"timeseries.parquet", "district_timeseries.parquet", "kpis.json",
                                               "manifest.json"}
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["targets"]["orgs_incubated_total"]["target"] == 120
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["district"] == "small_district"


def test_short_district_run_reports_rates_as_not_measurable():
    from sim.model.district import district_kpis

    model = district("steps=8")
    _, district_ts = model.run()
    targets = district_kpis(district_ts, model)["targets"]
    for key in ("response_rate", "completion_rate"):
        assert targets[key]["value"] is None and targets[key]["met"] is None
        assert "needs at least 52 weeks" in targets[key]["reason"]
    assert targets["volunteers_per_10k"]["value"] is not None  # a stock is read at the last week
    assert "reason" not in targets["volunteers_per_10k"]
