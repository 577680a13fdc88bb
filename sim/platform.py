"""The community platform (社区"两委"): demand dispatch, government purchase contracts, deliberation.

003 "网格发现、社区呼叫、分级响应、部门参与、协同处置": demands reported by residents or found by
grid workers are dispatched ("中心接件+分类派单") to volunteers, the community's own staff,
organisations, or upward to departments ("社区呼叫、街道吹哨、部门报到") when the community's own
capacity runs out.  The platform also lets the government's service contracts (003 政府购买服务)
and convenes the residents' council that decides the fund's public projects (003 四议).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from sim.organisations import OrgKind
from sim.residents import DemandKind

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import CommunityModel


class Handler:
    """Who answered a demand."""

    VOLUNTEER = 0
    COMMUNITY_STAFF = 1  # the community's own workers: grid workers and the two committees' staff
    ORGANISATION = 2
    DEPARTMENT = 3


@dataclass(frozen=True)
class DispatchCounts:
    """One dispatch round: demands answered (by whom), completed and expired, and the capacities offered."""

    responded: int
    completed: int
    expired: int
    to_volunteers: int
    to_community_staff: int
    to_organisations: int
    escalated: int               # to the street and departments
    capacity_volunteers: int     # cases volunteers could take this week
    capacity_organisations: int  # cases organisations could take this week


@dataclass(frozen=True)
class Deliberation:
    """This week's council (or fund committee) decision: who took part, their satisfaction, projects funded."""

    participants: int
    satisfaction: float
    projects_funded: int


class Community(Agent):
    """The community platform (社区"两委"): demand dispatch, contracts and deliberation.

    It keeps the queue of reported demands, oldest first: who raised each, its kind and the week
    it was reported.
    """

    def __init__(self, model: CommunityModel) -> None:
        super().__init__(model)
        self.q_resident = np.zeros(0, dtype=np.int64)
        self.q_kind = np.zeros(0, dtype=np.int8)
        self.q_week = np.zeros(0, dtype=np.int64)

    @property
    def queue_length(self) -> int:
        return int(self.q_resident.size)

    def receive_demands(self, residents: np.ndarray, kinds: np.ndarray, week: int) -> None:
        self.q_resident = np.concatenate([self.q_resident, residents.astype(np.int64)])
        self.q_kind = np.concatenate([self.q_kind, kinds.astype(np.int8)])
        self.q_week = np.concatenate([self.q_week, np.full(residents.size, week, dtype=np.int64)])

    # --- demand → dispatch → response → completion ----------------------------------------------
    def dispatch(self, volunteer_hours: float, coverage: float) -> DispatchCounts:
        """Dispatch the queue oldest first, within this week's capacities ("中心接件+分类派单", 003).

        * simple demands go to volunteers (capacity: this week's ``volunteer_hours`` ÷ hours per
          case, raised by social-worker supervision of ``coverage`` of the volunteers), then to the
          community's own staff (grid workers), then to organisations, then to departments;
        * professional demands go to organisations, then to departments;
        * structural demands go to the street and departments ("街道吹哨、部门报到");
        * a demand not answered in ``response_deadline_weeks`` dispatch rounds (the week it was
          reported counts as the first) is closed as unanswered (003 targets: response 100 %,
          completion ≥ 95 %).
        An answered demand is completed with the handler's success chance.  Each outcome moves the
        resident's satisfaction and trust (:meth:`Residents.react_to_outcomes`).
        """
        model, b = self.model, self.model.cfg.behaviour
        rng = model.streams["dispatch"]
        n = self.q_resident.size
        u_done = rng.random(n)
        handler = np.full(n, -1, dtype=np.int8)

        capacity = {
            Handler.VOLUNTEER: int(volunteer_hours * (1 + model.cfg.policy.social_work.supervision_gain * coverage)
                                   / b.volunteer_hours_per_case),
            Handler.COMMUNITY_STAFF: int(model.residents.n_grids * b.grid_worker_cases_week),
        }
        orgs = list(model.organisations)
        order = rng.permutation(len(orgs))
        org_caps = np.array([orgs[i].capacity() for i in order], dtype=np.int64)
        capacity[Handler.ORGANISATION] = int(org_caps.sum())
        capacity[Handler.DEPARTMENT] = model.department_capacity()
        simple = self.q_kind == DemandKind.SIMPLE
        can_take = {  # which kinds each handler may take, in the order they are asked
            Handler.VOLUNTEER: simple,
            Handler.COMMUNITY_STAFF: simple,
            Handler.ORGANISATION: self.q_kind != DemandKind.STRUCTURAL,
            Handler.DEPARTMENT: None,  # any kind
        }
        for h, eligible in can_take.items():
            free = handler < 0
            waiting = np.flatnonzero(free if eligible is None else free & eligible)  # the queue is oldest first
            handler[waiting[:capacity[h]]] = h
        to_org = np.flatnonzero(handler == Handler.ORGANISATION)

        # which organisation took which case: fill capacities in a random order of organisations
        per_org, left = [], int(to_org.size)
        for cap in org_caps.tolist():
            per_org.append(min(cap, left))
            left -= per_org[-1]
        org_of_case = np.repeat(order, per_org)

        vol_success = b.volunteer_success + (b.supervised_success - b.volunteer_success) * coverage
        success = np.array([0.0, vol_success, b.staff_success, b.org_success, b.department_success])[handler + 1]
        answered = handler >= 0
        completed = u_done < success          # success is 0 for unanswered demands
        expired = ~answered & ((model.week - self.q_week + 1) >= b.response_deadline_weeks)
        closed = answered | expired
        # organisation records: cases this week (paid by the fund) and completions (contract evaluation)
        if orgs:
            done_by_org = np.bincount(org_of_case, weights=completed[to_org], minlength=len(orgs))
            for i, k in zip(order.tolist(), per_org, strict=True):
                orgs[i].cases += k
                orgs[i].cases_period += k
                orgs[i].cases_completed_period += int(done_by_org[i])

        # feedback on residents: completed demands are good outcomes, failed or unanswered ones bad
        model.residents.react_to_outcomes(self.q_resident[completed], self.q_resident[closed])

        by_handler = np.bincount(handler + 1, minlength=5)
        keep = ~closed
        self.q_resident, self.q_kind, self.q_week = self.q_resident[keep], self.q_kind[keep], self.q_week[keep]
        return DispatchCounts(
            responded=int(n - by_handler[0]),
            completed=int(completed.sum()),
            expired=int(expired.sum()),
            to_volunteers=int(by_handler[1 + Handler.VOLUNTEER]),
            to_community_staff=int(by_handler[1 + Handler.COMMUNITY_STAFF]),
            to_organisations=int(by_handler[1 + Handler.ORGANISATION]),
            escalated=int(by_handler[1 + Handler.DEPARTMENT]),
            capacity_volunteers=capacity[Handler.VOLUNTEER],
            capacity_organisations=capacity[Handler.ORGANISATION],
        )

    # --- government purchase of services ---------------------------------------------------------
    def contract_round(self) -> None:
        """Every ``contract_weeks``: the purchase budget is contracted to organisations (003 政府购买服务).

        Professional agencies and self-organisations are eligible; each gets a share weighted by its
        staff and its completion record in the last period (the evaluation, 003 "评估"), assumption.
        If there is budget but no agency, one sets up in the community to bid (assumption).
        """
        model, lever = self.model, self.model.cfg.policy.gov_purchase
        budget = model.purchase_budget_yuan_per_year
        if budget <= 0 or model.week % lever.contract_weeks != 0:
            return
        if not any(o.kind is OrgKind.PROFESSIONAL_AGENCY for o in model.organisations):
            model.add_organisation(OrgKind.PROFESSIONAL_AGENCY, incubated=False)
        eligible = [o for o in model.organisations if o.kind is not OrgKind.SOCIAL_ENTERPRISE]
        weights = []
        for o in eligible:
            staff = len(o.staff) if o.kind is OrgKind.PROFESSIONAL_AGENCY else model.cfg.behaviour.self_org_staff
            record = o.cases_completed_period / o.cases_period if o.cases_period else 1.0
            weights.append(max(staff, 0.1) * (0.5 + 0.5 * record))
            o.cases_period = o.cases_completed_period = 0
        total_fen = round(budget * lever.contract_weeks / 52 * 100)
        weights = np.asarray(weights, dtype=float)
        shares = np.floor(total_fen * weights / weights.sum()).astype(np.int64)
        for o, fen in zip(eligible, shares, strict=True):
            o.contract_fen_week = int(fen // lever.contract_weeks)
            o.contract_weeks_left = lever.contract_weeks

    # --- deliberation ---------------------------------------------------------------------------
    def deliberate(self) -> Deliberation:
        """The residents' council chooses which public projects the fund pays for.

        With the deliberation lever (003 四议; 004 爱邻议事日、火塘议事会) the council meets every
        ``interval_weeks`` and residents attend (:meth:`Residents.attend_council`).  Without it the
        fund committee decides every 13 weeks with no resident input.  Each project costs
        ``project_cost_yuan``, is carried out by an organisation (its income) and lifts every
        resident's satisfaction; a project the residents chose counts fully, one decided for them
        half (assumption).
        """
        model, b, lever = self.model, self.model.cfg.behaviour, self.model.cfg.policy.deliberation
        interval = lever.interval_weeks if lever.enabled else 13
        decides = (model.week + 1) % interval == 0
        attendance = model.residents.attend_council(decides and lever.enabled)
        if not decides:
            return Deliberation(participants=0, satisfaction=np.nan, projects_funded=0)
        weight = 1.0 if lever.enabled else 0.5
        fund = model.fund
        cost = round(b.project_cost_yuan * 100)
        orgs = [o for o in model.organisations if o.kind is not OrgKind.SOCIAL_ENTERPRISE]
        rng = model.streams["projects"]
        n_projects = 0
        while fund.project_pot_fen >= cost and orgs:
            paid = fund.spend_project(cost)
            orgs[int(rng.integers(len(orgs)))].earn(paid)
            n_projects += 1
        if n_projects:
            model.residents.benefit_from_projects(1 - (1 - b.project_satisfaction * weight) ** n_projects)
        return Deliberation(participants=attendance.participants, satisfaction=attendance.satisfaction,
                            projects_funded=n_projects)
