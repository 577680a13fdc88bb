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
10. the week's indicators are recorded (model-level only, by Mesa's ``DataCollector``).

Each step of the week is a rule of one party that returns what it counted (sim/residents.py,
sim/platform.py, sim/organisations.py, sim/fund.py, sim/enterprises.py); :meth:`CommunityModel.step`
passes these results on to the next rule, and the week's row of the table (:data:`WEEKLY_TABLE`) is
read from them and from the stocks at the end of the week.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from mesa import DataCollector, Model

from sim.config import SimConfig
from sim.enterprises import Enterprise
from sim.fund import INFLOW_SOURCES, OUTFLOW_USES, CommunityFund
from sim.indicators import completion_rate, response_rate
from sim.organisations import OrgKind, SocialOrganization, SocialWorker
from sim.platform import Community, Deliberation, DispatchCounts
from sim.residents import Activities, Donations, NewDemands, Redemptions, Residents

# Named random streams, each spawned from the model's seeded generator in this fixed order.  A
# mechanism draws only from its own stream, and most draws have a fixed size (one number per
# resident per week), so two policies run with the same seed see the same demands, the same
# population and the same market noise: common random numbers for paired comparisons.
STREAMS = ("population", "demand", "dispatch", "volunteer", "donation", "market", "orgs", "deliberation",
           "redemption", "projects")  # the last two hold the draws whose number depends on the policy


@dataclass(frozen=True)
class Week:
    """What one week came to: the results the parties' rules returned, in the order of the week."""

    units_sold: int
    demands: NewDemands
    activities: Activities
    dispatch: DispatchCounts
    donations: Donations
    redemptions: Redemptions
    deliberation: Deliberation
    contracts_fen: int      # government purchase contracts paid to organisations (fen)
    volunteers_dropped: int
    volunteers_new: int


def _count_orgs(kind: OrgKind):
    return lambda m: sum(o.kind is kind for o in m.organisations)


def _fund_inflow(source: str):
    return lambda m: m.fund.inflow_fen[source] / 100


def _fund_outflow(use: str):
    return lambda m: m.fund.outflow_fen[use] / 100


# The weekly table, one column per entry in this order (meanings and units: sim/glossary.py, docs/ODD.md
# "Outputs"), collected by Mesa's DataCollector at the end of each week.  ``m.this_week`` holds what the
# week's rules returned (flows); the other columns are stocks at the end of the week.
WEEKLY_TABLE = {
    "step": lambda m: m.week + 1,
    "residents": lambda m: m.residents.size,
    "volunteers_registered": lambda m: m.volunteers_registered,
    "volunteers_per_10k": lambda m: m.volunteers_registered / m.residents.size * 10_000,
    "volunteer_active_share_2plus": lambda m: float((m.residents.activities_52 >= 2).mean()),
    "volunteer_activities": lambda m: m.this_week.activities.activities,
    "volunteer_hours": lambda m: float(m.this_week.activities.hours),
    "volunteers_new": lambda m: m.this_week.volunteers_new,
    "volunteers_dropped": lambda m: m.this_week.volunteers_dropped,
    "social_workers": lambda m: m.social_workers,
    "social_orgs_active": lambda m: len(m.organisations),
    "social_orgs_professional": _count_orgs(OrgKind.PROFESSIONAL_AGENCY),
    "social_orgs_self": _count_orgs(OrgKind.SELF_ORGANISATION),
    "social_enterprises": _count_orgs(OrgKind.SOCIAL_ENTERPRISE),
    "orgs_incubated_total": lambda m: m.orgs_incubated,
    "orgs_folded_total": lambda m: m.orgs_folded,
    "demands_raised": lambda m: m.this_week.demands.raised,
    "demands_reported": lambda m: m.this_week.demands.reported,
    "demands_unreported": lambda m: m.this_week.demands.unreported,
    "demands_responded": lambda m: m.this_week.dispatch.responded,
    "demands_completed": lambda m: m.this_week.dispatch.completed,
    "demands_expired": lambda m: m.this_week.dispatch.expired,
    "demands_to_volunteers": lambda m: m.this_week.dispatch.to_volunteers,
    "demands_to_community_staff": lambda m: m.this_week.dispatch.to_community_staff,
    "demands_to_organisations": lambda m: m.this_week.dispatch.to_organisations,
    "demands_escalated": lambda m: m.this_week.dispatch.escalated,
    "capacity_volunteers": lambda m: m.this_week.dispatch.capacity_volunteers,
    "capacity_organisations": lambda m: m.this_week.dispatch.capacity_organisations,
    "donors": lambda m: m.this_week.donations.donors,
    "redemptions": lambda m: m.this_week.redemptions.redeemed,
    "deliberation_participants": lambda m: m.this_week.deliberation.participants,
    "projects_funded": lambda m: m.this_week.deliberation.projects_funded,
    "demand_queue": lambda m: m.platform.queue_length,
    "response_rate": lambda m: response_rate(m.this_week.dispatch.responded, m.this_week.dispatch.expired),
    "completion_rate": lambda m: completion_rate(m.this_week.dispatch.completed, m.this_week.dispatch.responded),
    "satisfaction_mean": lambda m: float(m.residents.satisfaction.mean()),
    "trust_mean": lambda m: float(m.residents.trust.mean()),
    "deliberation_satisfaction": lambda m: m.this_week.deliberation.satisfaction,
    "moral_bank_points": lambda m: float(m.residents.points.sum()),
    "fund_balance": lambda m: m.fund.balance_fen / 100,
    "fund_inflow_total": lambda m: sum(m.fund.inflow_fen.values()) / 100,
    "fund_outflow_total": lambda m: sum(m.fund.outflow_fen.values()) / 100,
    **{f"fund_inflow_{s}": _fund_inflow(s) for s in INFLOW_SOURCES},
    **{f"fund_outflow_{u}": _fund_outflow(u) for u in OUTFLOW_USES},
    "enterprise_units_sold": lambda m: m.this_week.units_sold,
    "enterprise_participation": lambda m: (sum(e.takes_part for e in m.enterprises) / len(m.enterprises)
                                           if m.enterprises else np.nan),
    # government money this week: grants and matching into the fund, and purchase contracts
    "gov_spending": lambda m: (m.fund.inflow_fen["government"] + m.this_week.contracts_fen) / 100,
}


class CommunityModel(Model):
    """A community (社区) with its residents and the five parties of the five-society linkage."""

    def __init__(self, cfg: SimConfig) -> None:
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.streams = dict(zip(STREAMS, self.rng.spawn(len(STREAMS)), strict=True))
        self.week = 0
        self.orgs_incubated = 0
        self.orgs_folded = 0
        self._dept_carry = 0.0
        self.this_week: Week | None = None  # the results of the week being recorded
        self.datacollector = DataCollector(model_reporters=WEEKLY_TABLE)
        # Set by a district (sim/district.py): the government purchase budget allotted to this
        # community, and the share of district social workers' time it receives.
        self.purchase_budget_yuan_per_year = cfg.policy.gov_purchase.budget_yuan_per_year
        self.district_worker_share = 0.0

        c, pol = cfg.community, cfg.policy
        self.residents = Residents(self)
        self.fund = CommunityFund(self)
        self.platform = Community(self)
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
        self.adults = self.residents.adults

    # ---------------------------------------------------------------------------------------------
    # helpers used by the parties' rules
    # ---------------------------------------------------------------------------------------------
    @property
    def social_workers(self) -> int:
        return len(self.station_workers) + sum(len(o.staff) for o in self.organisations)

    @property
    def volunteers_registered(self) -> int:
        return self.residents.volunteers

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
        rate = self.cfg.community.department_cases_per_1000_week * self.residents.size / 1000
        total = self._dept_carry + rate
        cap = int(np.floor(total))
        self._dept_carry = total - cap
        return cap

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
    def trade(self) -> int:
        """Residents buy the local product, enterprises sell and give (per unit, and yearly lumps).

        Each adult buys a unit with chance ``purchase_prob`` a week; the units are split evenly at
        random among the product enterprises.  Returns the units sold, to residents and outside.
        """
        market = self.streams["market"]
        local_units = int(market.binomial(self.adults, self.cfg.behaviour.purchase_prob))
        sellers = self.product_sellers
        split = market.multinomial(local_units, [1 / len(sellers)] * len(sellers)) if sellers else []
        units = 0
        for e in self.enterprises:
            units += e.sell(int(split[sellers.index(e)]) if e.sells_product else 0)
            e.give_lump()
        return units

    def run_organisations(self) -> int:
        """Organisations earn, pay their costs and fold; station social workers incubate new ones.

        Returns the government contract money paid to organisations this week (fen).
        """
        contracts_fen = 0
        for org in list(self.organisations):
            week = org.step()
            contracts_fen += week.contract_fen
            if week.folds:
                self.fold_organisation(org)
        for sw in self.station_workers:
            if sw.incubates():
                self.add_organisation(OrgKind.SELF_ORGANISATION, incubated=True)
        return contracts_fen

    def step(self) -> None:
        residents, fund, platform = self.residents, self.fund, self.platform
        fund.start_week()
        for org in self.organisations:
            org.start_week()

        # 1. enterprises: residents buy the local product, enterprises sell and give
        units_sold = self.trade()
        # 2–4. the demand loop
        demands = residents.raise_demands()
        platform.receive_demands(demands.residents, demands.kinds, self.week)
        coverage = self.supervision_coverage()
        activities = residents.take_part(coverage, self.week)
        dispatch = platform.dispatch(activities.hours + self.employee_volunteer_hours(), coverage)
        # 5. giving and points
        donations = residents.donate()
        fund.receive_donations(donations.fen)
        redemptions = residents.redeem_points(fund.balance_fen)
        fund.pay("moral_bank", redemptions.fen)
        # 6. the fund spends
        residents.receive_needy_support(fund.step(residents.n_needy))
        # 7–8. contracts, deliberation, organisations, incubation
        platform.contract_round()
        deliberation = platform.deliberate()
        contracts_fen = self.run_organisations()
        # 9. volunteering and trust
        dropped = residents.drop_out(self.week)
        new = residents.register_volunteers(self.spare_supervision(), self.week)
        residents.update_attitudes(fund.spent_this_week_fen > 0)
        # 10. record
        self.record_week(Week(
            units_sold=units_sold, demands=demands, activities=activities, dispatch=dispatch, donations=donations,
            redemptions=redemptions, deliberation=deliberation, contracts_fen=contracts_fen,
            volunteers_dropped=dropped, volunteers_new=new))
        self.week += 1

    def record_week(self, week: Week) -> None:
        """Add the week's row to the table (:data:`WEEKLY_TABLE`) from its results and the stocks at its end."""
        self.this_week = week
        self.datacollector.collect(self)

    def latest(self) -> dict:
        """The latest week's row of the table, as a dict."""
        return {column: values[-1] for column, values in self.datacollector.model_vars.items()}

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
        """The weekly table so far: one row per week, one column per indicator."""
        return self.datacollector.get_model_vars_dataframe()
