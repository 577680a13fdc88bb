"""A district (区) of many communities in one model.

The communities are ordinary :class:`~sim.model.community_model.CommunityModel` instances, each with its preset
and a seed spawned from the district's seed; all run the same policy.  Two things are shared:

* the government purchase budget (003 政府购买服务): at each contract round the district splits
  it across communities in proportion to the demands each reported in the previous round (the
  residents' numbers in the first round) — "purchase follows need" (assumption);
* the district social-work station (社工站): each district social worker serves
  ``communities_per_worker`` communities, giving each a share of their supervision time, and
  incubates organisations in them (003 孵化培育, 专栏1 #25).

Outputs: ``timeseries.parquet`` (one row per community and week, with ``community_id`` and
``preset``), ``district_timeseries.parquet`` (district totals per week) and ``kpis.json`` with the
district indicators of 003 专栏1 (#22 social-work professionals, #24 organisations per community,
#25 organisations incubated) next to the community ones.
"""

from __future__ import annotations

import copy
import math
import weakref

import numpy as np
import pandas as pd
from mesa import Model

from sim.levers import gov_purchase, social_work
from sim.model.community_model import CommunityModel
from sim.model.district_workers import (
    CAN_FORK,
    MEAN_COLUMNS,
    ROW_COLUMNS,
    SUM_COLUMNS,
    LocalGroup,
    Member,
    WorkerGroup,
    available_cores,
    split,
)
from sim.model.indicators import RATE_PARTS, not_measurable, rate_over
from sim.model.organisations import SocialWorker
from sim.settings.config import SimConfig, load_community_preset

# A community's weekly cost that does not grow with its residents (≈ 1.0 ms of ≈ 100 small numpy calls, its parties'
# Python steps and its record) in residents' worth of the part that does (≈ 116 ns a resident): issue 30's
# profile of this machine.  Used only to give the district's processes about equal work; outputs do not depend on it.
FIXED_COST_RESIDENTS = 8_600


class DistrictModel(Model):
    """Many communities sharing a purchase budget and a district social-work station."""

    def __init__(self, cfg: SimConfig) -> None:
        super().__init__(rng=cfg.seed)
        if cfg.district is None:
            raise ValueError("DistrictModel needs cfg.district (e.g. district=enyang_like)")
        self.cfg = cfg
        d = cfg.district
        presets = [m.preset for m in d.communities for _ in range(m.count)]
        seeds = np.random.SeedSequence(cfg.seed).spawn(len(presets))
        self.presets = presets
        n = len(presets)
        # the district social-work station
        self.station_workers = [SocialWorker(self) for _ in range(d.station_social_workers)]
        self.served_by: list[list[int]] = []  # communities each district worker serves
        for k in range(d.station_social_workers):
            self.served_by.append([(k * d.communities_per_worker + j) % n for j in range(min(d.communities_per_worker,
                                                                                             n))])
        share = np.zeros(n)
        for served in self.served_by:
            share[served] += 1.0 / len(served)
        cache: dict = {}
        members = []
        for k, (preset, ss) in enumerate(zip(presets, seeds, strict=True)):
            c_cfg = copy.copy(cfg)
            c_cfg.community = cache.setdefault(preset, load_community_preset(preset))
            c_cfg.district = None
            c_cfg.seed = int(ss.generate_state(1)[0])
            members.append(Member(k, c_cfg, float(share[k])))
        self.groups = self._groups(members, cfg.processes)
        weakref.finalize(self, _close_groups, list(self.groups))  # a district dropped without run(): its workers stop
        self._group_of = np.zeros(n, dtype=np.int64)  # which group holds each community
        for k, group in enumerate(self.groups):
            self._group_of[group.indices] = k
        self.sizes = np.zeros(n)
        for group, sizes in zip(self.groups, self._ask_all("sizes", lambda k: ()), strict=True):
            self.sizes[group.indices] = sizes
        per_community = gov_purchase.budget_of(cfg.policy)
        self.purchase_budget = d.purchase_budget_yuan_per_year if d.purchase_budget_yuan_per_year >= 0 \
            else per_community * n
        self._budgets: np.ndarray | None = None  # allotted at this week's contract round, sent with the step
        self._reported_since_round = np.zeros(n)
        self.incubated_by_district = 0
        self.week = 0                        # weeks run, warm-up included
        self.records: list[dict] = []

    @staticmethod
    def _groups(members: list[Member], processes: int) -> list[LocalGroup | WorkerGroup]:
        """The communities in ``processes`` groups (0: one per core), the first in this process, the others each in
        a worker process (:mod:`sim.model.district_workers`); one group where there is no fork."""
        wanted = processes or available_cores()
        count = min(wanted, len(members)) if CAN_FORK else 1
        weights = [m.settings.community.residents + FIXED_COST_RESIDENTS for m in members]
        parts = split(weights, count)
        groups: list[LocalGroup | WorkerGroup] = []
        try:
            for part in parts[1:]:  # the workers first: they build their communities while this process builds its own
                groups.append(WorkerGroup([members[i] for i in part]))
            groups.insert(0, LocalGroup([members[i] for i in parts[0]]))
            for group in groups:
                group.answer()  # raises if a worker could not build its communities
        except BaseException:
            _close_groups(groups)
            raise
        return groups

    @property
    def communities(self) -> list[CommunityModel]:
        """The communities, in district order, when this process holds them all (``processes=1``)."""
        if len(self.groups) != 1:
            raise AttributeError("the communities are held in worker processes (processes > 1); "
                                 "run with processes=1 to reach them")
        return self.groups[0].communities

    def close(self) -> None:
        """Stop the worker processes (after :meth:`run`, or when a run is abandoned)."""
        _close_groups(self.groups)

    @property
    def policy(self):
        """The district's levers, in force for the whole run (a district has no schedule: sim/levers/schedule.py)."""
        return self.cfg.policy

    def allocate_purchase_budget(self) -> None:
        """At each contract round, split the shared budget by last round's reported demands (sent to the
        communities with this week's step)."""
        weeks = gov_purchase.period(self)
        if self.recorded_weeks % weeks != 0:
            return
        need = self._reported_since_round
        if need.sum() <= 0:
            need = self.sizes
        self._budgets = self.purchase_budget * need / need.sum()
        self._reported_since_round = np.zeros(len(self.presets))

    def incubate(self) -> list[int]:
        """Each district worker incubates at the policy's rate, in one of the communities it serves (drawn here, in
        the district's order, so the draws are the same however the communities are held); returns the communities
        to incubate in, in order (:func:`sim.model.district_workers.incubate_in`)."""
        rate = social_work.incubation_chance(self)
        rng = self.rng
        targets = []
        for served in self.served_by:
            if rng.random() < rate:
                targets.append(served[int(rng.integers(len(served)))])
        return targets

    def _ask_all(self, request: str, args_of) -> list:
        """Ask every group (the workers first, so they work while this process does its own part), with the
        arguments ``args_of(k)`` for group ``k``; their answers in the groups' order."""
        for k in [*range(1, len(self.groups)), 0]:
            self.groups[k].ask(request, *args_of(k))
        return [group.answer() for group in self.groups]

    @property
    def recorded_weeks(self) -> int:
        """Recorded weeks run (negative during the warm-up)."""
        return self.week - self.cfg.warmup_weeks

    def step(self) -> None:
        """One week of every community (a warm-up week, not recorded, while the communities warm up)."""
        warming = self.week < self.cfg.warmup_weeks
        if not warming:
            self.allocate_purchase_budget()
        budgets, self._budgets = self._budgets, None
        answers = self._ask_all("step", lambda k: (
            None if budgets is None else budgets[self.groups[k].indices].tolist(),))
        self.week += 1
        if warming:
            return
        rows = np.empty((len(self.presets), len(ROW_COLUMNS)))
        for group, part in zip(self.groups, answers, strict=True):
            rows[group.indices] = part
        targets = self.incubate()
        if targets:
            asked: list[list[int]] = [[] for _ in self.groups]
            for t in targets:  # in order, to the group holding the community
                asked[self._group_of[t]].append(t)
            founded = self._ask_all("incubate", lambda k: (asked[k],))
            self.incubated_by_district += sum(founded)
        self._reported_since_round += rows[:, ROW_COLUMNS.index("demands_reported")]
        self.records.append(self._district_row(rows))

    def _district_row(self, rows: np.ndarray) -> dict:
        """District totals of the communities' rows of this week (a row per community, :data:`ROW_COLUMNS`), added
        up in community order."""
        column = {col: rows[:, j].tolist() for j, col in enumerate(ROW_COLUMNS)}
        out = {"step": self.recorded_weeks, "communities": len(rows)}
        for col in SUM_COLUMNS:
            out[col] = float(sum(column[col]))
        out["social_workers"] += len(self.station_workers)
        n = out["residents"]
        residents = column["residents"]
        out["volunteers_per_10k"] = out["volunteers_registered"] / n * 10_000
        for col in MEAN_COLUMNS:  # weighted by residents
            out[col] = sum(v * w for v, w in zip(column[col], residents, strict=True)) / n
        for key in RATE_PARTS:
            out[key] = rate_over(out, key)
        out["orgs_per_community"] = out["social_orgs_active"] / len(rows)
        return out

    def run(self, progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Run the warm-up and ``cfg.steps`` recorded district weeks; the communities' weekly tables and the
        district's.  The worker processes stop when it returns or fails."""
        weeks = range(self.cfg.warmup_weeks + self.cfg.steps - self.week)  # the remaining weeks, warm-up included
        try:
            if progress:
                from tqdm import tqdm
                weeks = tqdm(weeks, desc=f"{self.cfg.district.name} × {self.cfg.policy.name} "
                                         f"({len(self.presets)} communities, {len(self.groups)} processes)",
                             unit="week", leave=False)
            for _ in weeks:
                self.step()
            return self.community_timeseries(), pd.DataFrame.from_records(self.records)
        finally:
            self.close()

    def community_timeseries(self) -> pd.DataFrame:
        """One row per community and recorded week, in district order."""
        frames: list[pd.DataFrame | None] = [None] * len(self.presets)
        for group, tables in zip(self.groups, self._ask_all("timeseries", lambda k: ()), strict=True):
            for k, df in zip(group.indices, tables, strict=True):
                df.insert(0, "preset", self.presets[k])
                df.insert(0, "community_id", k)
                frames[k] = df
        return pd.concat(frames, ignore_index=True)


def _close_groups(groups: list) -> None:
    for group in groups:
        group.close()


DISTRICT_TARGETS = (
    # key, Enyang 专栏1 number, target, unit, note
    ("orgs_incubated_total", 25, 120, "organisations", "social organisations incubated in the district"),
    ("orgs_per_community", 24, 2, "organisations per community", "average social organisations per community"),
    ("social_workers", 22, 1000, "persons", "social-work professionals (0.1万人)"),
    ("volunteers_per_10k", 15, 2500, "per 10,000 residents", "registered volunteers per 10,000 people"),
    ("response_rate", 33, 1.0, "fraction", "last 52 weeks"),
    ("completion_rate", 34, 0.95, "fraction", "last 52 weeks"),
    ("callback_satisfaction", 35, 0.95, "fraction", "callback survey of closed demands, last 52 weeks"),
)


def _none_if_nan(x: float) -> float | None:
    return None if math.isnan(x) else x


def district_kpis(district_ts: pd.DataFrame, model: DistrictModel) -> dict:
    """District indicators against the Enyang targets, plus totals."""
    last, year = district_ts.iloc[-1], district_ts.tail(52)
    values = {
        "orgs_incubated_total": int(last["orgs_incubated_total"]),  # includes the station's incubations
        "orgs_per_community": float(last["orgs_per_community"]),
        "social_workers": int(last["social_workers"]),
        "volunteers_per_10k": float(last["volunteers_per_10k"]),
        **{key: _none_if_nan(rate_over(year, key)) for key in RATE_PARTS},
    }
    # a run too short for a rate's definition reports it as not measurable (as a community's KPIs do)
    unmeasured = not_measurable(len(district_ts), model.cfg.behaviour.longest_wait_weeks())
    targets = {}
    for key, number, target, unit, note in DISTRICT_TARGETS:
        v = values[key]
        targets[key] = {"value": v, "target": target, "op": ">=", "unit": unit, "enyang_indicator": number,
                        "met": None if v is None else bool(v >= target - 1e-12), "note": note}
        if key in unmeasured:
            targets[key].update(value=None, met=None, reason=unmeasured[key])
    totals = {
        "communities": len(model.presets),
        "residents": int(last["residents"]),
        "purchase_budget_yuan_per_year": model.purchase_budget,
        "orgs_incubated_by_district_station": model.incubated_by_district,
        "fund_balance": float(last["fund_balance"]),
        "fund_inflow_run": float(district_ts["fund_inflow_total"].sum()),
        "fund_outflow_run": float(district_ts["fund_outflow_total"].sum()),
        "gov_spending_run": float(district_ts["gov_spending"].sum()),
        "public_cost_run": round(float(district_ts["public_cost"].sum()), 2),
        "satisfaction_mean": float(last["satisfaction_mean"]),
    }
    return {"targets": targets, "totals": totals}
