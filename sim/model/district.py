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

import numpy as np
import pandas as pd
from mesa import Model

from sim.levers import gov_purchase, social_work
from sim.model.community_model import CommunityModel
from sim.model.groups import NO_GROUP, active_outside_groups, found_group
from sim.model.indicators import RATE_PARTS, not_measurable, rate_over
from sim.model.organisations import SocialWorker
from sim.settings.config import SimConfig, load_community_preset

SUM_COLUMNS = ("residents", "volunteers_registered", "volunteer_activities", "volunteer_hours", "volunteers_new",
               "volunteers_dropped", "social_workers", "social_orgs_active", "social_orgs_professional",
               "social_orgs_self", "social_enterprises", "orgs_incubated_total", "orgs_folded_total",
               "demands_raised", "demands_reported", "demands_unreported", "demands_responded", "demands_completed",
               "demands_completed_on_time", "demands_explained", "demands_closed", "demands_closed_unresolved",
               "demands_closed_on_time", "demands_closed_overdue", "demands_overdue", "demands_due",
               "demands_newly_overdue", "demands_signed",
               "demands_sign_missed", "demands_escalated", "deliberation_participants", "projects_funded", "donors",
               "fund_balance", "fund_inflow_total", "fund_outflow_total", "enterprise_units_sold", "gov_spending",
               "demands_signed_in_time", "callbacks", "callbacks_satisfied", "social_orgs_serving",
               "projects_running", "public_cost")


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
        self.communities: list[CommunityModel] = []
        self.presets = presets
        cache: dict = {}
        for preset, ss in zip(presets, seeds, strict=True):
            c_cfg = copy.copy(cfg)
            c_cfg.community = cache.setdefault(preset, load_community_preset(preset))
            c_cfg.district = None
            c_cfg.seed = int(ss.generate_state(1)[0])
            self.communities.append(CommunityModel(c_cfg))
        # the district social-work station
        self.station_workers = [SocialWorker(self) for _ in range(d.station_social_workers)]
        n = len(self.communities)
        self.served_by: list[list[int]] = []  # communities each district worker serves
        for k in range(d.station_social_workers):
            self.served_by.append([(k * d.communities_per_worker + j) % n for j in range(min(d.communities_per_worker,
                                                                                             n))])
        share = np.zeros(n)
        for served in self.served_by:
            share[served] += 1.0 / len(served)
        for c, s in zip(self.communities, share, strict=True):
            c.district_worker_share = float(s)
        per_community = gov_purchase.budget_of(cfg.policy)
        self.purchase_budget = d.purchase_budget_yuan_per_year if d.purchase_budget_yuan_per_year >= 0 \
            else per_community * n
        self._reported_since_round = np.zeros(n)
        self.incubated_by_district = 0
        self.week = 0
        self.records: list[dict] = []

    @property
    def policy(self):
        """The district's levers, in force for the whole run (a district has no schedule: sim/levers/schedule.py)."""
        return self.cfg.policy

    def allocate_purchase_budget(self) -> None:
        """At each contract round, split the shared budget by last round's reported demands."""
        weeks = gov_purchase.period(self)
        if self.week % weeks != 0:
            return
        need = self._reported_since_round
        if need.sum() <= 0:
            need = np.array([c.residents.size for c in self.communities], dtype=float)
        shares = self.purchase_budget * need / need.sum()
        for c, budget in zip(self.communities, shares, strict=True):
            c.purchase_budget_yuan_per_year = float(budget)
        self._reported_since_round = np.zeros(len(self.communities))

    def incubate(self) -> None:
        """Each district worker incubates at the policy's rate, in one of the communities it serves: it helps
        the grid with most active residents outside any group found one, if it has at least half the
        founders a group needs (as a station worker does, sim/model/groups.py)."""
        rate = social_work.incubation_chance(self)
        rng = self.rng
        for served in self.served_by:
            if rng.random() < rate:
                target = self.communities[served[int(rng.integers(len(served)))]]
                r = target.residents
                free = active_outside_groups(target)
                by_grid = np.bincount(r.grid[free], minlength=r.n_grids)
                g = int(np.argmax(by_grid))
                if by_grid[g] >= max(2, target.cfg.behaviour.self_org_founders // 2):
                    members = np.flatnonzero(free & (r.grid == g) & (r.member_of == NO_GROUP))
                    found_group(target, g, members, incubated=True, size=members.size)
                    self.incubated_by_district += 1

    def step(self) -> None:
        if self.week == 0:  # the communities' warm-up weeks (not recorded) come first
            for c in self.communities:
                c.warm_up()
        self.allocate_purchase_budget()
        for c in self.communities:
            c.step()
        self.incubate()
        rows = [c.latest() for c in self.communities]
        self._reported_since_round += [r["demands_reported"] for r in rows]
        self.records.append(self._district_row(rows))
        self.week += 1

    def _district_row(self, rows: list[dict]) -> dict:
        """District totals of the communities' rows of this week."""
        out = {"step": self.week + 1, "communities": len(rows)}
        for col in SUM_COLUMNS:
            out[col] = float(sum(r[col] for r in rows))
        out["social_workers"] += len(self.station_workers)
        n = out["residents"]
        out["volunteers_per_10k"] = out["volunteers_registered"] / n * 10_000
        out["volunteer_active_share_2plus"] = sum(r["volunteer_active_share_2plus"] * r["residents"] for r in rows) / n
        out["satisfaction_mean"] = sum(r["satisfaction_mean"] * r["residents"] for r in rows) / n
        out["trust_mean"] = sum(r["trust_mean"] * r["residents"] for r in rows) / n
        for key in RATE_PARTS:
            out[key] = rate_over(out, key)
        out["orgs_per_community"] = out["social_orgs_active"] / len(rows)
        return out

    def run(self, progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Run ``cfg.steps`` recorded district weeks (each community warms up first, not recorded)."""
        steps = range(self.cfg.steps - self.week)  # the remaining weeks
        if progress:
            from tqdm import tqdm
            steps = tqdm(steps, desc=f"{self.cfg.district.name} × {self.cfg.policy.name}", unit="week", leave=False)
        for _ in steps:
            self.step()
        return self.community_timeseries(), pd.DataFrame.from_records(self.records)

    def community_timeseries(self) -> pd.DataFrame:
        frames = []
        for k, (c, preset) in enumerate(zip(self.communities, self.presets, strict=True)):
            df = c.timeseries()
            df.insert(0, "preset", preset)
            df.insert(0, "community_id", k)
            frames.append(df)
        return pd.concat(frames, ignore_index=True)


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
        "communities": len(model.communities),
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
