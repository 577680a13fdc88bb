"""The community platform (社区"两委"): demand handling, purchase contracts, the council and the project round.

003 "网格发现、社区呼叫、分级响应、部门参与、协同处置": demands reported by residents or found by
grid workers are taken in and dispatched ("中心接件+分类派单").  The community's own workers
(社区工作者 and 网格员) are the first handlers; volunteers assist them (「以社区志愿者为辅助」,
docs/literature.md [P9]); professional demands go to organisations; structural ones are escalated
to the street and departments ("社区呼叫、街道吹哨、部门报到").  Closed demands are called back (回访)
and the residents asked whether they are satisfied (#35).  The platform also lets the government's
service contracts (003 政府购买服务), convenes the residents' council (003 四议) and runs the yearly
project round (sim/projects.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from sim.organisations import OrgKind
from sim.projects import NO_ROUND, Project, RoundResult, run_round
from sim.residents import DemandKind

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import CommunityModel


class Handler:
    """Who answered a demand."""

    VOLUNTEER = 0
    COMMUNITY_STAFF = 1  # the community's own workers: grid workers and the two committees' staff
    ORGANISATION = 2
    DEPARTMENT = 3


@dataclass(frozen=True, eq=False)
class DispatchCounts:
    """One dispatch round: demands answered (by whom, in time or late), resolved, expired, called back,
    and the capacities offered (cases; fractions of a case carry over to the next week); who was
    answered and who was left unanswered at the deadline (resident indices, for the community map)."""

    responded: int
    responded_in_time: int
    completed: int
    expired: int
    to_volunteers: int
    to_community_staff: int
    to_organisations: int
    escalated: int                 # to the street and departments
    simple_to_volunteers: int
    simple_to_community_staff: int
    capacity_volunteers: float     # cases volunteers could take this week
    capacity_organisations: float  # cases organisations could take this week
    capacity_community_staff: float
    callbacks: int                 # closed demands called back (回访)
    callbacks_satisfied: int
    answered: np.ndarray           # residents whose demand was answered this week (one entry per demand)
    unanswered: np.ndarray         # residents whose demand was closed unanswered at the deadline

    @property
    def closed(self) -> int:
        return self.responded + self.expired


@dataclass(frozen=True)
class Deliberation:
    """This week's council: who took part and their rating of its decisions (NaN without a meeting)."""

    participants: int
    satisfaction: float


class Community(Agent):
    """The community platform (社区"两委"): demand dispatch, contracts, council and project round.

    It keeps the queue of reported demands, oldest first (who raised each, its kind, the week it was
    reported), the fractions of a case each handler's capacity carries to the next week, and the
    running projects.
    """

    def __init__(self, model: CommunityModel) -> None:
        super().__init__(model)
        self.q_resident = np.zeros(0, dtype=np.int64)
        self.q_kind = np.zeros(0, dtype=np.int8)
        self.q_week = np.zeros(0, dtype=np.int64)
        self.carry = [0.0] * 4              # fractional capacity carried over, by handler
        self.projects: list[Project] = []
        # a purchase contract with the community's self-governing bodies (居委会、居民小组)
        self.self_governing_fen_week = 0
        self.self_governing_cases_week = 0.0
        self.self_governing_weeks_left = 0

    @property
    def queue_length(self) -> int:
        return int(self.q_resident.size)

    def served_now(self) -> np.ndarray:
        """Residents served by a running project."""
        if not self.projects:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([p.served for p in self.projects])

    def receive_demands(self, residents: np.ndarray, kinds: np.ndarray, week: int) -> None:
        self.q_resident = np.concatenate([self.q_resident, residents.astype(np.int64)])
        self.q_kind = np.concatenate([self.q_kind, kinds.astype(np.int8)])
        self.q_week = np.concatenate([self.q_week, np.full(residents.size, week, dtype=np.int64)])

    def _whole_cases(self, handler: int, capacity: float) -> int:
        """This week's whole cases of ``handler``; the fraction left carries to next week (so money buys
        capacity in proportion to its amount, not in steps of whole cases)."""
        total = self.carry[handler] + capacity
        cases = math.floor(total + 1e-9)
        self.carry[handler] = total - cases
        return cases

    # --- demand → dispatch → response → completion → callback -------------------------------------
    def dispatch(self, volunteer_hours: float, mutual_aid: float, coverage: float) -> DispatchCounts:
        """Dispatch the queue oldest first, within this week's capacities ("中心接件+分类派单", 003).

        * simple demands go to the community's own workers first (community workers ×
          ``staff_cases_week`` + grid workers × ``grid_worker_cases_week``), then to volunteers, who
          assist (capacity: ``volunteer_hours`` ÷ hours per case, raised by social-worker guidance of
          ``coverage`` of them, plus self-organisations' ``mutual_aid``), then to organisations;
        * professional demands go to organisations (agencies' staff, contracts, the social
          enterprise), then to departments;
        * structural demands go to the street and departments ("街道吹哨、部门报到");
        * a demand answered within ``response_limit_weeks`` (the week it was reported counts as the
          first) is answered in time (#33); one not answered within ``response_deadline_weeks`` is
          closed unanswered.
        An answered demand is resolved with the handler's success chance.  Each outcome moves the
        resident's satisfaction and trust (:meth:`Residents.react_to_outcomes`); a ``callback_share``
        of closed demands is called back and the resident says satisfied with a chance that depends
        on the outcome (resolved in time, resolved late, unresolved, unanswered; [D1][D4][D6]).
        """
        model, b = self.model, self.model.cfg.behaviour
        rng = model.streams["dispatch"]
        n = self.q_resident.size
        u_done, u_call, u_sat = rng.random(n), rng.random(n), rng.random(n)
        handler = np.full(n, -1, dtype=np.int8)

        c = model.cfg.community
        staff_capacity = c.community_workers * b.staff_cases_week + model.residents.n_grids * b.grid_worker_cases_week
        if self.self_governing_weeks_left > 0:  # bought from the self-governing bodies, handled with the staff
            staff_capacity += self.self_governing_cases_week
        volunteer_capacity = volunteer_hours * (1 + model.policy.social_work.supervision_gain * coverage) \
            / b.volunteer_hours_per_case + mutual_aid
        caps = [(o, o.capacity()) for o in model.organisations]
        orgs = [o for o, cap in caps if cap > 0]
        order = rng.permutation(len(orgs))
        org_caps = np.array([cap for _, cap in caps if cap > 0], dtype=float)[order]
        org_capacity = float(org_caps.sum())
        capacity = {
            Handler.COMMUNITY_STAFF: self._whole_cases(Handler.COMMUNITY_STAFF, staff_capacity),
            Handler.VOLUNTEER: self._whole_cases(Handler.VOLUNTEER, volunteer_capacity),
            Handler.ORGANISATION: self._whole_cases(Handler.ORGANISATION, org_capacity),
            Handler.DEPARTMENT: self._whole_cases(Handler.DEPARTMENT, model.department_capacity()),
        }
        simple = self.q_kind == DemandKind.SIMPLE
        structural = self.q_kind == DemandKind.STRUCTURAL
        can_take = (  # which kinds each handler may take, in the order they are asked
            (Handler.COMMUNITY_STAFF, simple),
            (Handler.VOLUNTEER, simple),
            (Handler.ORGANISATION, ~structural),
            (Handler.DEPARTMENT, ~simple),
        )
        for h, eligible in can_take:
            if capacity[h] > 0:
                waiting = np.flatnonzero((handler < 0) & eligible)  # the queue is oldest first
                handler[waiting[:capacity[h]]] = h

        vol_success = b.volunteer_success + (b.supervised_success - b.volunteer_success) * coverage
        success = np.array([0.0, vol_success, b.staff_success, b.org_success, b.department_success])[handler + 1]
        answered = handler >= 0
        waited = model.week - self.q_week + 1
        in_time = answered & (waited <= b.response_limit_weeks)
        completed = u_done < success          # success is 0 for unanswered demands
        expired = ~answered & (waited >= b.response_deadline_weeks)
        closed = answered | expired
        if orgs:
            self._count_org_cases(orgs, order, org_caps, org_capacity, np.flatnonzero(handler == Handler.ORGANISATION),
                                  completed)

        # callback survey (回访) of a share of the closed demands
        p_sat = np.where(completed, np.where(in_time, b.callback_satisfied_resolved, b.callback_satisfied_late),
                         np.where(answered, b.callback_satisfied_unresolved, b.callback_satisfied_unanswered))
        called = closed & (u_call < b.callback_share)
        satisfied = called & (u_sat < p_sat)

        model.residents.react_to_outcomes(self.q_resident[completed], self.q_resident[closed])

        by_handler = np.bincount(handler + 1, minlength=5)
        keep, queued = ~closed, self.q_resident
        self.q_resident, self.q_kind, self.q_week = self.q_resident[keep], self.q_kind[keep], self.q_week[keep]
        return DispatchCounts(
            responded=int(n - by_handler[0]),
            responded_in_time=np.count_nonzero(in_time),
            completed=np.count_nonzero(completed),
            expired=np.count_nonzero(expired),
            to_volunteers=int(by_handler[1 + Handler.VOLUNTEER]),
            to_community_staff=int(by_handler[1 + Handler.COMMUNITY_STAFF]),
            to_organisations=int(by_handler[1 + Handler.ORGANISATION]),
            escalated=int(by_handler[1 + Handler.DEPARTMENT]),
            simple_to_volunteers=int(by_handler[1 + Handler.VOLUNTEER]),  # they take simple demands only
            simple_to_community_staff=int(by_handler[1 + Handler.COMMUNITY_STAFF]),
            capacity_volunteers=float(volunteer_capacity),
            capacity_organisations=org_capacity,
            capacity_community_staff=float(staff_capacity),
            callbacks=np.count_nonzero(called),
            callbacks_satisfied=np.count_nonzero(satisfied),
            answered=queued[answered],
            unanswered=queued[expired],
        )

    @staticmethod
    def _count_org_cases(orgs: list, order: np.ndarray, org_caps: np.ndarray, org_capacity: float,
                         to_org: np.ndarray, completed: np.ndarray) -> None:
        """Which organisation took which of the cases ``to_org`` (queue positions): whole-case shares of their
        capacities ``org_caps`` (in all ``org_capacity``), filled in the random ``order``; each counts its cases and
        those completed."""
        per_org, left = [], int(to_org.size)
        shares = np.floor(org_caps / org_capacity * to_org.size + 1e-9).astype(int) if org_capacity else org_caps
        for k, share in enumerate(shares.tolist()):
            take = left if k == len(shares) - 1 else min(int(share), left)
            per_org.append(take)
            left -= take
        org_of_case = np.repeat(order, per_org)
        done_by_org = np.bincount(org_of_case, weights=completed[to_org], minlength=len(orgs))
        for i, k in zip(order.tolist(), per_org, strict=True):
            orgs[i].cases += k
            orgs[i].cases_period += k
            orgs[i].cases_completed_period += int(done_by_org[i])

    # --- government purchase of services ---------------------------------------------------------
    def contract_round(self) -> int:
        """Every ``contract_weeks``: the purchase budget buys case capacity by contract.

        003 政府购买服务 from 社会组织 and 社区自治组织, yearly contracts ([P9]).  A share
        ``self_governing_share`` goes to the community's self-governing bodies (居委会、居民小组): simple
        cases handled with the community workers.  The rest goes to professional agencies (registered
        organisations; informal self-organisations are not eligible, [O2]); each gets a share weighted by its
        staff and its track record (the evaluation of its last contract, 003 "评估", assumption).
        Capacity is bought in proportion to the money: a contract of ``fen`` a period buys
        fen ÷ ``cost_per_case_yuan`` cases, fractions included.  If there is budget but no agency,
        one sets up in the community to bid (assumption).  Returns the contracts let (0 or more).
        """
        lever = self.model.policy.gov_purchase
        if self.model.policy_week % lever.contract_weeks != 0:
            return 0
        return self.let_contracts(lever.contract_weeks)

    def renew_contracts(self) -> int:
        """The purchase levers changed between two contract dates (the dashboard's live levers): the running
        contracts end, and contracts for the weeks left to the next date are let at once from the new budget
        (assumption: a budget approved mid-year is tendered at once).  Returns the contracts let."""
        lever = self.model.policy.gov_purchase
        left = lever.contract_weeks - self.model.policy_week % lever.contract_weeks
        if left == lever.contract_weeks:  # a contract date: this week's contract round lets them
            return 0
        for org in self.model.organisations:
            org.contract_weeks_left = 0
        self.self_governing_weeks_left = 0
        return self.let_contracts(left)

    def let_contracts(self, weeks: int) -> int:
        """Let purchase contracts of ``weeks`` weeks from the budget in force (see :meth:`contract_round`)."""
        model, lever = self.model, self.model.policy.gov_purchase
        budget = model.purchase_budget()
        if budget <= 0:
            return 0
        total_fen = round(budget * weeks / 52 * 100)
        to_self_governing = int(total_fen * lever.self_governing_share)
        self.self_governing_fen_week = to_self_governing // weeks
        self.self_governing_cases_week = to_self_governing / 100 / lever.cost_per_case_yuan / weeks
        self.self_governing_weeks_left = weeks if to_self_governing else 0
        total_fen -= to_self_governing
        if total_fen <= 0:
            return int(to_self_governing > 0)
        agencies = [o for o in model.organisations if o.kind is OrgKind.PROFESSIONAL_AGENCY]
        if not agencies:
            agencies = [model.add_organisation(OrgKind.PROFESSIONAL_AGENCY, incubated=False)]
        weights = []
        for o in agencies:
            if o.cases_period:
                o.evaluate(o.cases_completed_period / o.cases_period)
            weights.append(max(len(o.staff), 0.1) * (0.5 + 0.5 * o.track_record))
            o.cases_period = o.cases_completed_period = 0
        weights = np.asarray(weights, dtype=float) / sum(weights)
        paid = 0
        for k, (o, w) in enumerate(zip(agencies, weights, strict=True)):
            fen = total_fen - paid if k == len(agencies) - 1 else int(total_fen * w)
            paid += fen
            o.contract_fen_week = fen // weeks
            o.contract_cases_week = fen / 100 / lever.cost_per_case_yuan / weeks
            o.contract_weeks_left = weeks
        return len(agencies) + int(to_self_governing > 0)

    def pay_self_governing(self) -> int:
        """This week's payment of a purchase contract with the self-governing bodies (fen)."""
        if self.self_governing_weeks_left <= 0:
            return 0
        self.self_governing_weeks_left -= 1
        return self.self_governing_fen_week

    # --- the council and the project round ------------------------------------------------------
    def deliberate(self) -> tuple[Deliberation, RoundResult]:
        """The council meets; in a round week the project round runs (sim/projects.py).

        With the deliberation lever (003 四议; 004 爱邻议事日、火塘议事会) the council meets every
        ``interval_weeks`` and in the round week, and residents attend (:meth:`Residents.attend_council`).
        Participants rate its decisions (#16): in the round, the ranking of projects; at other
        meetings, the review of the running projects.  A participant whose own group's need got a
        project rates it satisfied; the others with chance ``procedure_satisfied`` (outcome weighs
        more than procedure, [T5]).  Without the lever there is no council: the fund committee ranks
        the projects and #16 is undefined.
        """
        model, b, lever = self.model, self.model.cfg.behaviour, self.model.policy.deliberation
        round_week = (model.week + 1) % b.project_cycle_weeks == 0
        meets = lever.enabled and (round_week or (model.week + 1) % lever.interval_weeks == 0)
        attendance = model.residents.attend_council(meets)
        result = NO_ROUND
        if round_week:
            result = run_round(model, attendance.who if meets else None)
        if not meets:
            return Deliberation(participants=0, satisfaction=math.nan), result
        if round_week:
            return Deliberation(participants=result.participants, satisfaction=result.council_rating), result
        groups_served = {p.group for p in self.projects}
        own = np.isin(model.residents.group[attendance.who], list(groups_served))
        rating = float(np.where(own, 1.0, b.procedure_satisfied).mean()) if attendance.who.size else math.nan
        return Deliberation(participants=attendance.participants, satisfaction=rating), result
