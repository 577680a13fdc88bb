"""The community model: one community under one policy, a week per step.

Schedule of one week (docs/ODD.md, "Process overview and scheduling"):

1. enterprises sell (per-unit donations, earmarked for care), and in week 1 of each year give lump
   donations and moral-bank goods; workshops hold charity sales; the social enterprise trades;
2. residents raise demands; they report them or grid workers find them;
3. residents take part: registered volunteers and unregistered residents in volunteer activities,
   members in their self-organisation's mutual aid, served residents in project sessions;
4. the community dispatches the demand queue: community workers and grid workers first, volunteers
   assisting, organisations for professional demands, departments for structural ones; closed
   demands are called back (回访);
5. residents donate, do civic acts (moral-bank points) and redeem points;
6. the fund receives government money and spends on needy residents (care), services and the project pot;
7. government purchase contracts are let (every ``contract_weeks``); the council meets; every
   ``project_cycle_weeks`` the project round runs (needs survey → design → claiming → funding);
8. organisations receive contracts, pay costs and fold; self-organisations gain and lose members,
   form and dissolve;
9. volunteers drop out, residents register; trust drifts towards each resident's own satisfaction;
10. public cost is counted; the week's indicators are recorded (:class:`sim.model.record.WeeklyRecord`).

Before week 1 the model runs ``warmup_weeks`` weeks under the baseline levers, not recorded
(docs/warmup.md): readings start from the status quo's steady state, and every policy starts from the
same state (common random numbers).  Each step of the week is a rule of one party that returns what
it counted (sim/model/residents.py, sim/model/platform.py, sim/model/projects.py, sim/model/groups.py,
sim/model/organisations.py,
sim/model/fund.py, sim/model/enterprises.py, sim/model/sales.py); :meth:`CommunityModel.step` passes these results on,
and the week's row of the table (:data:`sim.model.record.WEEKLY_TABLE`) is read from them and from the stocks at
the end of the week.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
from mesa import Model

from sim.levers import LEVERS, gov_purchase, lever_cost_kinds, lever_streams, schedule, social_work
from sim.model.enterprises import Enterprise
from sim.model.fund import CommunityFund
from sim.model.groups import GroupsWeek, dissolve, found_group, groups_week
from sim.model.organisations import OrgKind, SocialOrganization, SocialWorker
from sim.model.platform import Community
from sim.model.projects import deliver
from sim.model.record import PUBLIC_COSTS, Week, WeeklyRecord, weekly_table
from sim.model.residents import Residents
from sim.model.sales import sales_week
from sim.settings.config import PolicyConfig, SimConfig, to_plain_dict

# Named random streams, each spawned from the model's seeded generator in this fixed order.  A
# mechanism draws only from its own stream, and most draws have a fixed size (one number per
# resident per week), so two policies run with the same seed see the same demands, the same
# population and the same market noise: common random numbers for paired comparisons.
STREAMS = ("population", "demand", "dispatch", "volunteer", "donation", "market", "groups", "deliberation",
           "projects_survey", "orgs", "redemption", "projects")  # the last three: draws whose number depends on
# the policy (incubations, redemptions, project sessions).  The levers' own streams (sim/levers/) are spawned
# after these, so a new lever changes no draw of the others.

COST_KINDS = PUBLIC_COSTS + lever_cost_kinds()  # the kinds of public cost: the model's own, then the levers'
BASELINE = PolicyConfig()  # the levers of the warm-up: the status quo (configs/policy/baseline.yaml)


def warmup_key(settings: SimConfig) -> str:
    """What a community's warm-up depends on: the community, the residents' behaviour, the seed, the warm-up's length.

    Not the policy (the warm-up runs under the baseline levers, :data:`BASELINE`) nor the weeks to record;
    a lever of the community itself (e.g. ``community.units_per_week``) does change it.  Runs with the same
    key share their warm-up exactly (:meth:`CommunityModel.warmed_copy`).
    """
    plain = to_plain_dict(settings)
    return repr((settings.seed, settings.warmup_weeks, plain["community"], plain["behaviour"]))


class CommunityModel(Model):
    """A community (社区) with its residents and the five parties of the five-society linkage."""

    def __init__(self, cfg: SimConfig) -> None:
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        names = STREAMS + lever_streams()
        self.streams = dict(zip(names, self.rng.spawn(len(names)), strict=True))
        self.week = 0                       # weeks run, warm-up included
        self.warmup_weeks = cfg.warmup_weeks
        # the levers in force: the baseline's during the warm-up, then the run's as scheduled (sim/levers/schedule.py)
        self.policy = BASELINE if self.warmup_weeks > 0 else schedule.policy_at(cfg.policy, 1)
        self.record_started = False         # the run's levers are in force and the record has started
        self.schedule_weeks = schedule.boundaries(cfg.policy)  # recorded weeks at whose start levers change
        self.lever_results: dict[str, dict[str, object]] = {lv.name: {} for lv in LEVERS}  # what their rules returned
        self.lever_state: dict[str, dict] = {}  # what a lever's rules keep from week to week (by lever name)
        self.events: list[str] = []         # lever changes that came into force this week
        self.orgs_incubated = 0
        self.orgs_folded = 0
        self.opening_balance_fen = 0        # the fund's balance when the record starts (after the warm-up)
        self._wage_carry_fen = 0.0          # fraction of a fen of social workers' wages owed
        self.this_week: Week | None = None  # the results of the week being recorded
        self.public_cost_fen = dict.fromkeys(COST_KINDS, 0)  # this week
        self.record = WeeklyRecord(weekly_table(cfg.policy))
        # Set by a district (sim/model/district.py): the government purchase budget allotted to this
        # community, and the share of district social workers' time it receives.
        self.purchase_budget_yuan_per_year = gov_purchase.budget_of(schedule.policy_at(cfg.policy, 1))
        self.district_worker_share = 0.0

        c, b = cfg.community, cfg.behaviour
        self.residents = Residents(self)
        self.fund = CommunityFund(self)
        self.platform = Community(self)
        self.station_workers = [SocialWorker(self) for _ in range(c.station_social_workers)]
        self.organisations: list[SocialOrganization] = []
        for _ in range(c.professional_agencies):
            self.add_organisation(OrgKind.PROFESSIONAL_AGENCY, incubated=False)
        rng = self.streams["population"]
        r = self.residents
        adults = r.adult
        for k in range(c.self_organisations):  # the preset's groups, each with its founders in one grid
            grid = k % r.n_grids
            pool = np.flatnonzero(adults & (r.grid == grid) & (r.member_of < 0))
            size = min(b.self_org_founders, pool.size)
            founders = rng.choice(pool, size=size, replace=False, p=r.civic[pool] / r.civic[pool].sum()) \
                if size else pool
            org = found_group(self, grid, founders, incubated=False, size=size)
            org.workshop = k < c.handicraft_workshops
        order = rng.permutation(c.enterprises)  # which enterprises give lump donations
        self.enterprises = []
        for rank in range(c.enterprises):
            self.enterprises.append(Enterprise(self, sells_product=rank < c.product_enterprises,
                                               per_unit_donor=False, lump_donor=False))
        self._lump_order = order
        self.product_sellers = [e for e in self.enterprises if e.sells_product]
        self.adults = self.residents.adults
        self.start_policy(self.policy)

    # ---------------------------------------------------------------------------------------------
    # the levers' rules
    # ---------------------------------------------------------------------------------------------
    def run_levers(self, point: str) -> None:
        """Run the levers' rules at a named point of the week (sim/levers/base.py, HOOK_POINTS), in the levers'
        order, each with its values in force; a rule's result is kept for the lever's columns."""
        for lever in LEVERS:
            rule = lever.rules.get(point)
            if rule is not None:
                self.lever_results[lever.name][point] = rule(self, getattr(self.policy, lever.name))

    # ---------------------------------------------------------------------------------------------
    # the policy in force
    # ---------------------------------------------------------------------------------------------
    @property
    def policy_week(self) -> int:
        """Weeks since the policy came into force (negative during the warm-up)."""
        return self.week - self.warmup_weeks

    def start_policy(self, policy: PolicyConfig | None = None) -> None:
        """Put the levers of ``policy`` (default: the run's) in force from this week on.

        When the run's levers come into force after the warm-up, the record starts: the counts of
        organisations incubated and folded restart at 0 and the fund's opening balance is noted.

        Which enterprises join the one-cent scheme and give lump donations follows the levers; a
        social enterprise is set up if the policy asks for one and the community has an asset for it
        (004 顺河社区 精品游线).
        """
        self.policy = policy or schedule.policy_at(self.cfg.policy, 1)
        if self.week == self.warmup_weeks:  # week 1: the record starts
            self.orgs_incubated = self.orgs_folded = 0
            self.opening_balance_fen = self.fund.balance_fen
            self.record_started = True
        self.run_levers("policy_start")

    def change_policy(self, policy: PolicyConfig) -> None:
        """Put other levers in force from the next week on, during a recorded run (the dashboard's live levers:
        "in year 2 the street office starts buying services").

        As :meth:`start_policy`, and the purchase budget becomes the new levers' own (for a single community: a
        district allots its communities' budgets itself).  Extra station posts follow the new values (posts no
        longer paid end, sim/levers/social_work.py); what else the earlier levers set up stays: a social enterprise
        already founded, the projects and contracts of the current round.  Scheduled lever changes
        (sim/levers/schedule.py) come into force through this method too.  A change of the purchase levers ends the
        running contracts and lets new ones for the rest of the contract period (:meth:`Community.renew_contracts`).
        """
        if self.week < self.warmup_weeks:
            raise ValueError(f"change_policy during the warm-up (week {self.week} of {self.warmup_weeks})")
        purchase_changed = gov_purchase.changed(self.policy, policy)
        self.events += schedule.events(self.policy, policy)
        self.purchase_budget_yuan_per_year = gov_purchase.budget_of(policy)
        self.start_policy(policy)
        if purchase_changed:
            self.platform.renew_contracts()

    def purchase_budget(self) -> float:
        """The government purchase budget (yuan/year) in force: none under the warm-up's baseline."""
        return self.purchase_budget_yuan_per_year if self.record_started else 0.0

    def add_public_cost(self, kind: str, fen: int) -> None:
        self.public_cost_fen[kind] += int(fen)

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
        return social_work.can_supervise(self, workers)

    def supervision_coverage(self) -> float:
        """Share of volunteers a social worker can supervise (004 "专业社工+志愿服务")."""
        return float(min(1.0, self.supervision_capacity() / max(1, self.volunteers_registered)))

    def department_capacity(self) -> float:
        """Cases the street and departments take this week (fractions carry over in the platform)."""
        return self.cfg.community.department_cases_per_1000_week * self.residents.size / 1000

    def has_social_enterprise(self) -> bool:
        return any(o.kind is OrgKind.SOCIAL_ENTERPRISE for o in self.organisations)

    def found_social_enterprise(self) -> SocialOrganization:
        """The community's social enterprise (sim/levers/social_enterprise.py)."""
        return self.add_organisation(OrgKind.SOCIAL_ENTERPRISE, incubated=False)

    def hire_station_worker(self, extra: bool = False) -> SocialWorker:
        """A social worker joins the station; ``extra``: a post the policy pays (sim/levers/social_work.py)."""
        sw = SocialWorker(self)
        sw.extra = extra
        self.station_workers.append(sw)
        return sw

    def end_station_post(self, sw: SocialWorker) -> None:
        """A station post ends (its money withdrawn): the worker leaves."""
        self.station_workers.remove(sw)
        sw.remove()

    def add_organisation(self, kind: OrgKind, incubated: bool, grid: int = -1,
                         for_contract: bool = False) -> SocialOrganization:
        """A new organisation.  An agency present from the start has ``org_staff`` workers and half a year's
        costs; one that ``for_contract`` comes to take a purchase contract brings neither: its posts are those
        the contract pays (:meth:`Community.let_contracts`)."""
        b = self.cfg.behaviour
        agency = kind is OrgKind.PROFESSIONAL_AGENCY
        budget = b.org_seed_budget_yuan + b.org_cost_yuan_week * b.org_fold_weeks \
            if agency and not for_contract else 0.0  # an agency starts with half a year's costs
        org = SocialOrganization(self, kind, budget, incubated, grid=grid)
        if agency and not for_contract:
            org.staff = [SocialWorker(self, employer=org) for _ in range(b.org_staff)]
        self.organisations.append(org)
        self.orgs_incubated += int(incubated)
        return org

    def fold_organisation(self, org: SocialOrganization) -> None:
        for sw in org.staff:
            sw.remove()
        org.staff, org.contract_staff = [], []
        dissolve(self, org)
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

    def run_organisations(self, incubators: int) -> tuple[GroupsWeek, np.ndarray, int]:
        """Organisations receive contracts, pay costs and fold; self-organisations' members come and go.

        Returns the groups' week, who took part in a group activity, and the contract money paid (fen).
        """
        contracts_fen = 0
        for org in list(self.organisations):
            week = org.step()
            contracts_fen += week.contract_fen
            if week.folds:
                self.fold_organisation(org)
        groups, took_part = groups_week(self, incubators)
        contracts_fen += self.platform.pay_self_governing()
        self.add_public_cost("purchase", contracts_fen)
        return groups, took_part, contracts_fen

    def pay_social_workers(self) -> None:
        """Station social workers (and the community's share of district ones) are paid by government."""
        workers = len(self.station_workers) + self.district_worker_share
        owed = workers * self.cfg.behaviour.social_worker_wage_yuan_per_year * 100 / 52 + self._wage_carry_fen
        fen = math.floor(owed + 1e-9)
        self._wage_carry_fen = owed - fen  # a fraction of a fen is paid with next week's wages
        self.add_public_cost("social_workers", fen)

    def step(self) -> None:
        if self.week == self.warmup_weeks and not self.record_started:
            self.start_policy()
        elif self.record_started and self.policy_week + 1 in self.schedule_weeks:  # a scheduled change of levers
            self.change_policy(schedule.policy_at(self.cfg.policy, self.policy_week + 1))
        residents, fund, platform = self.residents, self.fund, self.platform
        fund.start_week()
        self.public_cost_fen = dict.fromkeys(COST_KINDS, 0)
        for org in self.organisations:
            org.start_week()
        self.run_levers("week_start")  # e.g. government stocks the moral bank (003:208)

        # 1. enterprises, workshops and the social enterprise
        units_sold = self.trade()
        sales = sales_week(self)
        # 2–3. demands, and who takes part in activities
        demands = residents.raise_demands()
        platform.receive_demands(demands.residents, demands.kinds, self.week, demands.types)
        coverage = self.supervision_coverage()
        activities = residents.take_part(coverage, self.week)
        sessions = deliver(self, activities.activities + activities.casual)
        residents.reward_sessions(sessions.took_part)
        # 4. dispatch: community workers first, volunteers (and employees lent to projects) assist
        mutual_aid = sum(o.mutual_aid_capacity() for o in self.organisations)
        dispatch = platform.dispatch(activities.hours + sessions.employee_hours, mutual_aid, coverage)
        # 5. giving and points
        donations = residents.donate()
        fund.receive_donations(donations.fen)
        civic_acts = residents.civic_acts()
        redemptions = residents.redeem_points(fund.pot_fen["moral_bank"])
        fund.pay("moral_bank", redemptions.fen, pot="moral_bank")
        # 6. the fund spends
        residents.receive_needy_support(fund.step(residents.n_needy))
        self.run_levers("after_fund")
        # 7. contracts, council, project round
        platform.contract_round()
        deliberation, project_round = platform.deliberate()
        # 8. organisations and groups
        incubators = sum(sw.incubates() for sw in self.station_workers)
        groups, group_activity, contracts_fen = self.run_organisations(incubators)
        self.orgs_incubated += groups.incubated
        # #28 counts volunteering, mutual aid and group activities (三分之二以上社区居民志愿服务参与度, 003 专栏1): the
        # residents a project session serves are its recipients, not participants
        residents.record_activities(activities.took_part | group_activity, self.week)
        # 9. volunteering and trust
        dropped, new = residents.turnover(coverage, self.week)
        residents.update_attitudes()
        self.run_levers("week_end")
        # 10. cost and record
        self.pay_social_workers()
        week = Week(
            units_sold=units_sold, sales=sales, demands=demands, activities=activities, groups=groups,
            sessions=sessions, dispatch=dispatch, donations=donations, civic_acts=civic_acts,
            redemptions=redemptions, deliberation=deliberation, project_round=project_round,
            contracts_fen=contracts_fen, volunteers_dropped=dropped, volunteers_new=new,
            public_cost_fen=dict(self.public_cost_fen))
        self.end_week(week)

    def end_week(self, week: Week) -> None:
        """Close the week: count it, and add its row to the table unless it is a warm-up week."""
        self.week += 1
        if self.week > self.warmup_weeks:
            self.record_week(week)
        else:
            self.this_week = week
        self.events = []

    def warm_up(self) -> None:
        """Run the warm-up weeks (not recorded) that are still to run."""
        while self.week < self.warmup_weeks:
            self.step()

    def warmed_copy(self, settings: SimConfig) -> CommunityModel:
        """An independent copy of this warmed model that will record a run of ``settings``.

        ``self`` must have run exactly its warm-up, and ``settings`` must have the same warm-up
        (:func:`warmup_key`): the copy then equals ``CommunityModel(settings)`` after :meth:`warm_up`, byte
        for byte (the random streams are copied in their state), and its levers come into force at its
        next step.  Policy sweeps use it to warm a community and seed once for all their policies
        (:func:`sim.runs.runner.run_many`, the dashboard); the shared warm-up is also what makes the policies'
        contrast paired (common random numbers up to week 0).
        """
        if self.week != self.warmup_weeks or self.warmup_weeks == 0:
            raise ValueError(f"warmed_copy needs a model at the end of its warm-up (week {self.week} of "
                             f"{self.warmup_weeks} warm-up weeks)")
        if warmup_key(settings) != warmup_key(self.cfg):
            raise ValueError("warmed_copy: the settings have another warm-up (community, behaviour, seed or "
                             "warmup_weeks differ)")
        model = copy.deepcopy(self)
        model.cfg = copy.deepcopy(settings)
        model.purchase_budget_yuan_per_year = gov_purchase.budget_of(schedule.policy_at(settings.policy, 1))
        model.schedule_weeks = schedule.boundaries(settings.policy)
        model.record = WeeklyRecord(weekly_table(settings.policy))
        return model

    @property
    def weeks_recorded(self) -> int:
        return max(0, self.week - self.warmup_weeks)

    def record_week(self, week: Week) -> None:
        """Add the week's row to the table (:data:`WEEKLY_TABLE`) from its results and the stocks at its end."""
        self.this_week = week
        self.record.collect(self)

    def latest(self) -> dict:
        """The latest week's row of the table, as a dict."""
        return self.record.latest()

    def run(self, progress: bool = False) -> pd.DataFrame:
        """Run the warm-up and ``cfg.steps`` recorded weeks; return the weekly indicators."""
        steps = range(self.warmup_weeks + self.cfg.steps - self.week)  # the remaining weeks, warm-up included
        if progress:
            from tqdm import tqdm
            steps = tqdm(steps, desc=f"{self.cfg.community.name} × {self.cfg.policy.name}", unit="week",
                         leave=False)
        for _ in steps:
            self.step()
        return self.timeseries()

    def timeseries(self) -> pd.DataFrame:
        """The weekly table so far: one row per recorded week, one column per indicator."""
        return self.record.dataframe()
