"""The community model: one community under one policy, a week per step.

Schedule of one week (docs/ODD.md, "Process overview and scheduling"):

1. enterprises sell (per-unit donations), and in week 1 of each year give lump donations;
2. residents raise demands; they report them or grid workers find them;
3. volunteers take part in activities (their hours are this week's volunteer capacity);
4. the community dispatches the demand queue: volunteers → community staff → organisations →
   departments;
5. residents donate; residents redeem moral-bank points;
6. the fund receives government money and spends on needy residents, services and the project pot;
7. government purchase contracts are let (every ``contract_weeks``); the council deliberates and
   the fund pays the projects it chose;
8. organisations earn their own income, pay costs, fold after a run of weeks without income;
   station social workers incubate organisations;
9. volunteers drop out, residents register; trust drifts;
10. the week's indicators are recorded (model-level only).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from mesa import Model

from sim.agents import (
    INFLOW_SOURCES,
    OUTFLOW_USES,
    Community,
    CommunityFund,
    Enterprise,
    OrgKind,
    Resident,
    SocialOrganization,
    SocialWorker,
    Volunteer,
)
from sim.config import SimConfig
from sim.population import Population

# Named random streams, each spawned from the model's seeded generator in this fixed order.  A
# mechanism draws only from its own stream, and most draws have a fixed size (one number per
# resident per week), so two policies run with the same seed see the same demands, the same
# population and the same market noise: common random numbers for paired comparisons.
STREAMS = ("population", "demand", "dispatch", "volunteer", "donation", "market", "orgs", "deliberation",
           "redemption", "projects")  # the last two hold the draws whose number depends on the policy

COUNT_KEYS = ("demands_raised", "demands_reported", "demands_unreported", "demands_responded",
              "demands_completed", "demands_expired", "demands_to_volunteers", "demands_to_community_staff",
              "demands_to_organisations",
              "demands_escalated", "capacity_volunteers", "capacity_organisations", "volunteer_activities",
              "volunteers_new", "volunteers_dropped", "donors", "redemptions", "deliberation_participants",
              "projects_funded")


class CommunityModel(Model):
    """A community (社区) with its residents and the five parties of the five-society linkage."""

    def __init__(self, cfg: SimConfig) -> None:
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.streams = dict(zip(STREAMS, self.rng.spawn(len(STREAMS)), strict=True))
        self.week = 0
        self.week_stats: dict = {}
        self.gov_spending_fen = 0
        self.orgs_incubated = 0
        self.orgs_folded = 0
        self._dept_carry = 0.0
        self.records: list[dict] = []
        # Set by a district (sim/district.py): the government purchase budget allotted to this
        # community, and the share of district social workers' time it receives.
        self.purchase_budget_yuan_per_year = cfg.policy.gov_purchase.budget_yuan_per_year
        self.district_worker_share = 0.0

        c, pol = cfg.community, cfg.policy
        self.population = Population.create(c, self.streams["population"])
        self.demand_rate_of_resident = self.population.demand_rates(cfg.behaviour.demand_rates)
        self.residents = [Resident(self, i) for i in range(self.population.size)]
        self.volunteer_of: dict[int, Volunteer] = {}
        for i in np.flatnonzero(self.population.volunteer):
            self.volunteer_of[int(i)] = Volunteer(self, self.residents[int(i)])

        self.fund = CommunityFund(self)
        self.community = Community(self)
        self.station_workers = [SocialWorker(self) for _ in range(c.station_social_workers
                                                                  + pol.social_work.extra_social_workers)]
        self.organisations: list[SocialOrganization] = []
        kinds = ([OrgKind.PROFESSIONAL_AGENCY] * c.professional_agencies
                 + [OrgKind.SELF_ORGANISATION] * c.self_organisations
                 + [OrgKind.SOCIAL_ENTERPRISE] * c.social_enterprises)
        if pol.social_enterprise.enabled and c.social_enterprises == 0:
            kinds.append(OrgKind.SOCIAL_ENTERPRISE)  # the policy sets one up (004 顺河社区)
        for kind in kinds:
            self.add_organisation(kind, incubated=False)

        rng = self.streams["population"]
        order = rng.permutation(c.enterprises)  # which enterprises give lump donations
        n_join = math.floor(pol.micro_fund.participating_share * c.product_enterprises + 0.5)  # half up
        n_lump = math.floor(pol.enterprise.lump_donor_share * c.enterprises + 0.5)
        self.enterprises = []
        for rank in range(c.enterprises):
            sells = rank < c.product_enterprises
            self.enterprises.append(Enterprise(self, sells_product=sells, per_unit_donor=sells and rank < n_join,
                                               lump_donor=order[rank] < n_lump))
        self.product_sellers = [e for e in self.enterprises if e.sells_product]
        self.adults = int((self.population.group != 2).sum())

    # ---------------------------------------------------------------------------------------------
    # helpers used by the agents' rules
    # ---------------------------------------------------------------------------------------------
    @property
    def social_workers(self) -> int:
        return len(self.station_workers) + sum(len(o.staff) for o in self.organisations)

    @property
    def volunteers_registered(self) -> int:
        return len(self.volunteer_of)

    def supervision_capacity(self) -> float:
        """Volunteers the community's social workers (and its share of district workers) can supervise."""
        workers = self.social_workers + self.district_worker_share
        return workers * self.cfg.policy.social_work.volunteers_per_worker

    def supervision_coverage(self) -> float:
        """Share of volunteers a social worker can supervise (004 "专业社工+志愿服务")."""
        return float(min(1.0, self.supervision_capacity() / max(1, self.volunteers_registered)))

    def spare_supervision(self) -> float:
        """Share of social workers' supervision capacity still free: room to recruit."""
        capacity = self.supervision_capacity()
        if capacity <= 0:
            return 0.0
        return float(max(0.0, 1.0 - self.volunteers_registered / capacity))

    def employee_volunteer_hours(self) -> float:
        return len(self.enterprises) * self.cfg.policy.enterprise.employee_volunteer_hours_week

    def department_capacity(self) -> int:
        """Cases the street and departments take this week (fractions carried to the next week)."""
        rate = self.cfg.community.department_cases_per_1000_week * self.population.size / 1000
        total = self._dept_carry + rate
        cap = int(np.floor(total))
        self._dept_carry = total - cap
        return cap

    def add_volunteer(self, index: int) -> Volunteer:
        pop = self.population
        pop.volunteer[index] = True
        pop.last_recognised[index] = self.week  # registering is itself recognised
        v = Volunteer(self, self.residents[index])
        self.volunteer_of[index] = v
        return v

    def remove_volunteer(self, index: int) -> None:
        self.population.volunteer[index] = False
        self.volunteer_of.pop(index).remove()

    def add_organisation(self, kind: OrgKind, incubated: bool) -> SocialOrganization:
        b = self.cfg.behaviour
        budget = b.org_seed_budget_yuan if incubated or kind is not OrgKind.PROFESSIONAL_AGENCY \
            else b.org_cost_yuan_week * b.org_fold_weeks  # an agency starts with half a year's costs
        org = SocialOrganization(self, kind, budget, incubated)
        if kind is OrgKind.PROFESSIONAL_AGENCY:
            org.staff = [SocialWorker(self, employer=org) for _ in range(b.org_staff)]
        self.organisations.append(org)
        self.orgs_incubated += int(incubated)
        return org

    def fold_organisation(self, org: SocialOrganization) -> None:
        for sw in org.staff:
            sw.remove()
        org.staff = []
        self.organisations.remove(org)
        org.remove()
        self.orgs_folded += 1

    # ---------------------------------------------------------------------------------------------
    # the week
    # ---------------------------------------------------------------------------------------------
    def step(self) -> None:
        self.week_stats = dict.fromkeys(COUNT_KEYS, 0)
        self.week_stats["deliberation_satisfaction"] = np.nan
        self.week_stats["volunteer_hours"] = 0.0
        self.gov_spending_fen = 0
        self.fund.start_week()
        for org in self.organisations:
            org.start_week()

        # 1. enterprises: residents buy the local product, enterprises sell and give
        local_units = int(self.streams["market"].binomial(self.adults, self.cfg.behaviour.purchase_prob))
        if self.product_sellers:
            split = self.streams["market"].multinomial(local_units, [1 / len(self.product_sellers)]
                                                       * len(self.product_sellers))
        for e in self.enterprises:
            e.sell(int(split[self.product_sellers.index(e)]) if e.sells_product else 0)
            e.give_lump()
        # 2–4. the demand loop
        Resident.raise_demands(self)
        Volunteer.take_part(self)
        self.community.dispatch()
        # 5. giving and points
        Resident.donate(self)
        Resident.redeem_points(self)
        # 6. the fund spends
        self.fund.step()
        # 7–8. contracts, deliberation, organisations, incubation
        self.community.contract_round()
        self.community.deliberate()
        for org in list(self.organisations):
            org.step()
        for sw in self.station_workers:
            sw.step()
        # 9. volunteering and trust
        Volunteer.drop_out(self)
        Resident.register_volunteers(self)
        Resident.update_attitudes(self)
        # 10. record
        self.records.append(self._indicators())
        self.week += 1

    def _indicators(self) -> dict:
        pop, ws, fund = self.population, self.week_stats, self.fund
        n = pop.size
        responded, expired, completed = ws["demands_responded"], ws["demands_expired"], ws["demands_completed"]
        vols = self.volunteers_registered
        orgs = self.organisations
        row = {
            "step": self.week + 1,
            "residents": n,
            "volunteers_registered": vols,
            "volunteers_per_10k": vols / n * 10_000,
            "volunteer_active_share_2plus": float((pop.activities_52 >= 2).mean()),
            "volunteer_activities": ws["volunteer_activities"],
            "volunteer_hours": float(ws["volunteer_hours"]),
            "volunteers_new": ws["volunteers_new"],
            "volunteers_dropped": ws["volunteers_dropped"],
            "social_workers": self.social_workers,
            "social_orgs_active": len(orgs),
            "social_orgs_professional": sum(o.kind is OrgKind.PROFESSIONAL_AGENCY for o in orgs),
            "social_orgs_self": sum(o.kind is OrgKind.SELF_ORGANISATION for o in orgs),
            "social_enterprises": sum(o.kind is OrgKind.SOCIAL_ENTERPRISE for o in orgs),
            "orgs_incubated_total": self.orgs_incubated,
            "orgs_folded_total": self.orgs_folded,
        }
        for k in COUNT_KEYS:
            if k.startswith("demands_") or k.startswith("capacity_") or k in (
                    "donors", "redemptions", "deliberation_participants", "projects_funded"):
                row[k] = ws[k]
        row.update({
            "demand_queue": self.community.queue_length,
            "response_rate": responded / (responded + expired) if responded + expired else np.nan,
            "completion_rate": completed / responded if responded else np.nan,
            "satisfaction_mean": float(pop.satisfaction.mean()),
            "trust_mean": float(pop.trust.mean()),
            "deliberation_satisfaction": ws["deliberation_satisfaction"],
            "moral_bank_points": float(pop.points.sum()),
            "fund_balance": fund.balance_fen / 100,
            "fund_inflow_total": sum(fund.inflow_fen.values()) / 100,
            "fund_outflow_total": sum(fund.outflow_fen.values()) / 100,
        })
        for s in INFLOW_SOURCES:
            row[f"fund_inflow_{s}"] = fund.inflow_fen[s] / 100
        for u in OUTFLOW_USES:
            row[f"fund_outflow_{u}"] = fund.outflow_fen[u] / 100
        row["enterprise_units_sold"] = sum(e.units_sold for e in self.enterprises)
        row["enterprise_participation"] = (sum(e.takes_part for e in self.enterprises) / len(self.enterprises)
                                           if self.enterprises else np.nan)
        row["gov_spending"] = self.gov_spending_fen / 100
        return row

    def run(self, progress: bool = False) -> pd.DataFrame:
        """Run ``cfg.steps`` weeks and return the weekly indicators."""
        steps = range(self.cfg.steps - self.week)  # the remaining weeks
        if progress:
            from tqdm import tqdm
            steps = tqdm(steps, desc=f"{self.cfg.community.name} × {self.cfg.policy.name}", unit="week",
                         leave=False)
        for _ in steps:
            self.step()
        return self.timeseries()

    def timeseries(self) -> pd.DataFrame:
        return pd.DataFrame.from_records(self.records)
