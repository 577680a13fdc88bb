"""The community platform (社区"两委"): demand handling, purchase contracts, the council and the project round.

003 "网格发现、社区呼叫、分级响应、部门参与、协同处置": demands reported by residents or found by
grid workers are taken in and dispatched ("中心接件+分类派单").  The community's own workers
(社区工作者 and 网格员) are the first handlers; volunteers assist them (「以社区志愿者为辅助」,
docs/literature.md [P9]); professional demands go to organisations; structural ones are escalated
to the street and departments ("社区呼叫、街道吹哨、部门报到").  Closed demands are called back (回访)
and the residents asked whether they are satisfied (#35).  The platform also lets the government's
service contracts (003 政府购买服务), convenes the residents' council (003 四议) and runs the yearly
project round (sim/model/projects.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from sim.levers import deliberation, gov_purchase, social_work
from sim.model.organisations import OrgKind, weekly_part
from sim.model.projects import NO_ROUND, Project, RoundResult, run_round
from sim.model.residents import DemandKind
from sim.settings.schema import weeks_of

if TYPE_CHECKING:  # pragma: no cover
    from sim.model.community_model import CommunityModel


class Handler:
    """Who handled a work order (and, for the carried fractions of capacity, the intake desk)."""

    VOLUNTEER = 0
    COMMUNITY_STAFF = 1  # the community's own workers: grid workers and the two committees' staff
    ORGANISATION = 2
    DEPARTMENT = 3
    INTAKE = 4           # signing for orders (签收) and explained replies (答复), by the same workers


class OrderType:
    """Work-order types of the 12345 hotline as Sichuan counts them (docs/literature.md [K1][K5])."""

    HELP = 0        # 求助
    COMPLAINT = 1   # 投诉举报
    SUGGESTION = 2  # 建议


@dataclass(frozen=True, eq=False)
class DispatchCounts:
    """One week of work orders: signed for (in time or late), handled (by whom), closed (resolved or unresolved,
    on time or overdue, and why), open past their deadline, called back, and the capacities offered (cases;
    fractions of a case carry over to the next week); whose orders were handled and whose were closed with an
    explained reply (resident indices, for the community map)."""

    signed: int                    # orders signed for (签收) this week
    signed_in_time: int            # … within behaviour.response_limit_weeks
    sign_missed: int               # orders whose signing limit ended this week unsigned
    responded: int                 # orders a handler took this week
    completed: int                 # … and resolved (closed resolved)
    completed_on_time: int         # … by the order's deadline
    explained: int                 # closed unresolved with an explained reply: no handler took it in time
    closed_on_time: int            # closed (resolved or not) by the deadline
    closed_overdue: int            # closed after the deadline
    extended: int                  # orders given their one extension (延期) this week
    overdue: int                   # orders open past their deadline at the end of the week (超期, escalated: 督办)
    newly_overdue: int             # … of them, whose deadline was this week
    to_volunteers: int
    to_community_staff: int
    to_organisations: int
    escalated: int                 # taken by the street and departments
    simple_to_volunteers: int
    simple_to_community_staff: int
    capacity_volunteers: float     # cases volunteers could take this week
    capacity_organisations: float  # cases organisations could take this week
    capacity_community_staff: float
    capacity_intake: float         # orders the community's workers could sign for or answer
    callbacks: int                 # closed orders called back (回访)
    callbacks_satisfied: int
    answered: np.ndarray           # residents whose order a handler took this week (one entry per order)
    unanswered: np.ndarray         # residents whose order was closed with an explained reply

    @property
    def closed(self) -> int:
        return self.responded + self.explained

    @property
    def closed_unresolved(self) -> int:
        return self.closed - self.completed

    @property
    def due(self) -> int:
        """Orders due (应办结) this week: closed on time, or their deadline passed with the order open.  Each order
        is due once, so the on-time and overdue shares of due orders leave out no order that waits."""
        return self.closed_on_time + self.newly_overdue


@dataclass(frozen=True)
class Deliberation:
    """This week's council: who took part and their rating of its decisions (NaN without a meeting)."""

    participants: int
    satisfaction: float


class Community(Agent):
    """The community platform (社区"两委"): work orders, contracts, council and project round.

    It keeps the open work orders (who raised each, who can solve it, its type, the week it was reported, its
    deadline week, the week it was signed for, whether it was extended), the fractions of a case each
    handler's capacity carries to the next week, and the running projects.  Every reported order is, at the
    end of every week, exactly one of: open (here), closed resolved, closed unresolved (with its reason: the
    handler failed, or an explained reply); ``reported_total`` and ``closed_total`` count them.
    """

    QUEUE = ("q_resident", "q_kind", "q_type", "q_week", "q_deadline", "q_signed", "q_extended")  # one entry per order

    def __init__(self, model: CommunityModel) -> None:
        super().__init__(model)
        self.q_resident = np.zeros(0, dtype=np.int64)
        self.q_kind = np.zeros(0, dtype=np.int8)
        self.q_type = np.zeros(0, dtype=np.int8)
        self.q_week = np.zeros(0, dtype=np.int64)
        self.q_deadline = np.zeros(0, dtype=np.int64)   # the last week it may be closed on time
        self.q_signed = np.zeros(0, dtype=np.int64)     # the week it was signed for, -1 while unsigned
        self.q_extended = np.zeros(0, dtype=bool)
        self.open_of = np.zeros(0, dtype=bool)  # residents with an open order (sized at the first orders)
        self.merged_week = 0                    # demands merged into open orders this week
        self.carry = [0.0] * 5              # fractional capacity carried over, by handler
        self.reported_total = 0
        self.closed_total = 0
        self.projects: list[Project] = []
        # a purchase contract with the community's self-governing bodies (居委会、居民小组)
        self.self_governing_fen_left = 0  # a purchase contract's money for the self-governing bodies not yet paid
        self.self_governing_cases_week = 0.0
        self.self_governing_weeks_left = 0

    @property
    def queue_length(self) -> int:
        return int(self.q_resident.size)

    def overdue_now(self) -> int:
        """Orders open past their deadline at the end of the week (超期)."""
        return int(np.count_nonzero(self.q_deadline < self.model.week))

    def served_now(self) -> np.ndarray:
        """Residents served by a running project."""
        if not self.projects:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([p.served for p in self.projects])

    def receive_demands(self, residents: np.ndarray, kinds: np.ndarray, week: int,
                        types: np.ndarray | None = None) -> int:
        """New work orders: their deadline is the time limit of their type (``behaviour.*_limit_days``).

        A demand of a resident whose earlier order is still open is merged into it (重复诉求合并, an urging of the
        open order: docs/literature.md [K18]), not opened again.  Returns the demands merged."""
        types = np.zeros(residents.size, dtype=np.int8) if types is None else types.astype(np.int8)
        if self.open_of.size < self.model.residents.size:
            self.open_of = np.zeros(self.model.residents.size, dtype=bool)
        new = ~self.open_of[residents]
        merged = self.merged_week = int(residents.size - np.count_nonzero(new))
        if merged:
            residents, kinds, types = residents[new], kinds[new], types[new]
        self.open_of[residents] = True
        limits = np.asarray(self.model.cfg.behaviour.time_limit_weeks(), dtype=np.int64)
        self.q_resident = np.concatenate([self.q_resident, residents.astype(np.int64)])
        self.q_kind = np.concatenate([self.q_kind, kinds.astype(np.int8)])
        self.q_type = np.concatenate([self.q_type, types])
        self.q_week = np.concatenate([self.q_week, np.full(residents.size, week, dtype=np.int64)])
        self.q_deadline = np.concatenate([self.q_deadline, week + limits[types] - 1])
        self.q_signed = np.concatenate([self.q_signed, np.full(residents.size, -1, dtype=np.int64)])
        self.q_extended = np.concatenate([self.q_extended, np.zeros(residents.size, dtype=bool)])
        self.reported_total += int(residents.size)
        return merged

    def _whole_cases(self, handler: int, capacity: float) -> int:
        """This week's whole cases of ``handler``; the fraction left carries to next week (so money buys
        capacity in proportion to its amount, not in steps of whole cases)."""
        total = self.carry[handler] + capacity
        cases = math.floor(total + 1e-9)
        self.carry[handler] = total - cases
        return cases

    # --- work order → sign → dispatch → close → callback ------------------------------------------
    def dispatch(self, volunteer_hours: float, mutual_aid: float, coverage: float) -> DispatchCounts:
        """One week of the work orders, as the 12345 hotline and the grid handle them ("中心接件+分类派单", 003;
        docs/literature.md [K5]–[K10], [K31]).

        1. **Sign for** (签收): the community's workers sign for unsigned orders, oldest first, within their
           intake capacity (community and grid workers × ``intake_orders_per_worker_week``), shared between signing
           and the replies of step 3 in proportion to the orders waiting for each (assumption); signed within
           ``response_limit_weeks`` counts for #33 ([K9][K10]).
        2. **Handle** the orders that can still be closed on time first, earliest deadline first (ties: oldest
           first; [K8]: units are pressed by the deadline), then the overdue ones, longest overdue first:
           simple orders go to the community's own workers (``staff_cases_week``, ``grid_worker_cases_week``),
           then volunteers, who assist (capacity: ``volunteer_hours`` ÷ hours per case, raised by social-worker
           guidance of ``coverage`` of them, plus self-organisations' ``mutual_aid``), then organisations;
           professional orders go to organisations (by purchase contract), then departments; structural ones and
           every order past its deadline (督办) to the street and departments ("街道吹哨、部门报到").  A handled
           order is closed: resolved with the handler's success chance, else unresolved (the handler failed).
        3. **At the deadline**, an order no handler took: one that needs the street or departments gets one
           extension (延期) of ``extension_days`` ([K5][K8]); any other is closed unresolved with an explained
           reply (答复: 已解释; signed or not) if the intake desk has capacity for it (those due this week first,
           then the overdue, longest overdue first);
           otherwise it stays open, past its deadline (超期), escalated to the street and departments, and its
           resident grows less satisfied every week it waits ([K26]).
        Each closed order moves the resident's satisfaction and trust (:meth:`Residents.react_to_outcomes`); a
        ``callback_share`` of closed orders is called back (回访, [K23]) and the resident says satisfied with a
        chance that depends on the outcome (resolved by the deadline, resolved late, unresolved, explained).
        """
        model, b = self.model, self.model.cfg.behaviour
        rng = model.streams["dispatch"]
        week = model.week
        n = self.q_resident.size
        u_done, u_call, u_sat = rng.random(n), rng.random(n), rng.random(n)

        c = model.cfg.community
        workers = c.community_workers + model.residents.n_grids
        intake_capacity = workers * b.intake_orders_per_worker_week
        intake = self._whole_cases(Handler.INTAKE, intake_capacity)
        # 1. sign for the orders still within their signing limit, oldest first (the queue is in the order
        #    reported): timely signing is what units are scored on ([K10]); late ones are signed at the end
        sign_end = self.q_week + b.response_limit_weeks - 1          # the last week to sign in time
        signing = np.flatnonzero((self.q_signed < 0) & (sign_end >= week))[:intake]
        intake -= signing.size
        self.q_signed[signing] = week
        signed_in_time = signing.size
        sign_missed = np.count_nonzero((self.q_signed < 0) & (sign_end == week))  # its limit ends unsigned
        signed = self.q_signed >= 0

        # 2. handle signed orders
        staff_capacity = c.community_workers * b.staff_cases_week + model.residents.n_grids * b.grid_worker_cases_week
        if self.self_governing_weeks_left > 0:  # bought from the self-governing bodies, handled with the staff
            staff_capacity += self.self_governing_cases_week
        volunteer_capacity = social_work.supervised_hours(model, volunteer_hours, coverage) \
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
        # orders that can still be closed on time first, earliest deadline first; then the overdue ones, longest
        # overdue first (among equals, the oldest first: np.lexsort is stable)
        overdue_now = self.q_deadline < week
        urgency = np.lexsort((self.q_deadline, overdue_now))
        kind = self.q_kind[urgency]
        past_deadline = overdue_now[urgency]
        simple, structural = kind == DemandKind.SIMPLE, kind == DemandKind.STRUCTURAL
        can_take = (  # which orders each handler may take, in the order they are asked
            (Handler.COMMUNITY_STAFF, simple),
            (Handler.VOLUNTEER, simple),
            (Handler.ORGANISATION, ~structural),
            (Handler.DEPARTMENT, ~simple | past_deadline),   # 督办: overdue orders of any kind
        )
        handler_sorted = np.full(n, -1, dtype=np.int8)
        waiting_signed = signed[urgency]
        for h, eligible in can_take:
            if capacity[h] > 0:
                waiting = np.flatnonzero((handler_sorted < 0) & eligible & waiting_signed)
                handler_sorted[waiting[:capacity[h]]] = h
        handler = np.empty(n, dtype=np.int8)
        handler[urgency] = handler_sorted

        vol_success = b.volunteer_success + (b.supervised_success - b.volunteer_success) * coverage
        success = np.array([0.0, vol_success, b.staff_success, b.org_success, b.department_success])[handler + 1]
        answered = handler >= 0
        completed = u_done < success          # success is 0 for orders nobody took

        # 3. at the deadline: one extension for orders that need the street or departments, else an explained reply
        due = ~answered & (self.q_deadline <= week)
        extend = due & ~self.q_extended & (self.q_kind == DemandKind.STRUCTURAL) & (b.extension_days > 0)
        self.q_deadline[extend] += weeks_of(b.extension_days)
        self.q_extended |= extend
        to_explain = np.flatnonzero(due & ~extend)
        to_explain = to_explain[np.lexsort((self.q_deadline[to_explain], overdue_now[to_explain]))][:intake]
        intake -= to_explain.size
        explained = np.zeros(n, dtype=bool)
        explained[to_explain] = True
        # … and with what is left, sign for the late ones, oldest first (they can be handled from next week)
        late = np.flatnonzero((self.q_signed < 0) & ~explained)[:intake]
        self.q_signed[late] = week

        closed = answered | explained
        on_time = closed & (self.q_deadline >= week)
        if orgs:
            self._count_org_cases(orgs, order, org_caps, org_capacity, np.flatnonzero(handler == Handler.ORGANISATION),
                                  completed)

        # callback survey (回访) of a share of the closed orders
        p_sat = np.where(completed, np.where(on_time, b.callback_satisfied_resolved, b.callback_satisfied_late),
                         np.where(answered, b.callback_satisfied_unresolved, b.callback_satisfied_explained))
        called = closed & (u_call < b.callback_share)
        satisfied = called & (u_sat < p_sat)

        model.residents.react_to_outcomes(self.q_resident[completed], self.q_resident[closed])

        by_handler = np.bincount(handler + 1, minlength=5)
        keep, queued = ~closed, self.q_resident
        self.open_of[queued[closed]] = False
        for name in self.QUEUE:
            setattr(self, name, getattr(self, name)[keep])
        overdue = self.q_deadline < week + 1    # open past the deadline at the end of the week
        newly_overdue = np.count_nonzero(self.q_deadline == week)
        model.residents.react_to_waiting(self.q_resident[overdue])
        n_closed = np.count_nonzero(closed)
        self.closed_total += n_closed
        return DispatchCounts(
            signed=int(signing.size + late.size),
            signed_in_time=int(signed_in_time),
            sign_missed=int(sign_missed),
            responded=int(n - by_handler[0]),
            completed=np.count_nonzero(completed),
            completed_on_time=np.count_nonzero(completed & on_time),
            explained=int(to_explain.size),
            closed_on_time=np.count_nonzero(on_time),
            closed_overdue=n_closed - np.count_nonzero(on_time),
            extended=np.count_nonzero(extend),
            overdue=np.count_nonzero(overdue),
            newly_overdue=int(newly_overdue),
            to_volunteers=int(by_handler[1 + Handler.VOLUNTEER]),
            to_community_staff=int(by_handler[1 + Handler.COMMUNITY_STAFF]),
            to_organisations=int(by_handler[1 + Handler.ORGANISATION]),
            escalated=int(by_handler[1 + Handler.DEPARTMENT]),
            simple_to_volunteers=int(by_handler[1 + Handler.VOLUNTEER]),  # they take simple orders only
            simple_to_community_staff=int(by_handler[1 + Handler.COMMUNITY_STAFF]),
            capacity_volunteers=float(volunteer_capacity),
            capacity_organisations=org_capacity,
            capacity_community_staff=float(staff_capacity),
            capacity_intake=float(intake_capacity),
            callbacks=np.count_nonzero(called),
            callbacks_satisfied=np.count_nonzero(satisfied),
            answered=queued[answered],
            unanswered=queued[explained],
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
        fen ÷ ``cost_per_case_yuan`` cases, fractions included, and the whole social-work posts that pays
        (cases a week ÷ ``org_cases_per_staff_week``); nothing else.  If there is budget but no agency, an agency
        from outside takes the contract with no staff or money of its own (assumption).  Returns the contracts
        let (0 or more).
        """
        if gov_purchase.weeks_to_next_contract(self.model) != gov_purchase.period(self.model):
            return 0
        return self.let_contracts(gov_purchase.period(self.model))

    def renew_contracts(self) -> int:
        """The purchase levers changed between two contract dates (the dashboard's live levers): the running
        contracts end, and contracts for the weeks left to the next date are let at once from the new budget
        (assumption: a budget approved mid-year is tendered at once).  Returns the contracts let."""
        left = gov_purchase.weeks_to_next_contract(self.model)
        if left == gov_purchase.period(self.model):  # a contract date: this week's contract round lets them
            return 0
        for org in self.model.organisations:
            org.contract_weeks_left = 0
            org.end_contract_posts()
        self.self_governing_weeks_left = 0
        return self.let_contracts(left)

    def let_contracts(self, weeks: int) -> int:
        """Let purchase contracts of ``weeks`` weeks from the budget in force (see :meth:`contract_round`)."""
        model, b = self.model, self.model.cfg.behaviour
        budget = model.purchase_budget()
        if budget <= 0:
            return 0
        total_fen = round(budget * weeks / 52 * 100)
        to_self_governing = gov_purchase.self_governing_fen(model, total_fen)
        self.self_governing_fen_left = to_self_governing
        self.self_governing_cases_week = gov_purchase.cases_bought(model, to_self_governing, weeks)
        self.self_governing_weeks_left = weeks if to_self_governing else 0
        total_fen -= to_self_governing
        if total_fen <= 0:
            return int(to_self_governing > 0)
        agencies = [o for o in model.organisations if o.kind is OrgKind.PROFESSIONAL_AGENCY]
        if not agencies:  # an agency from outside takes the contract: no staff or money but what it pays
            agencies = [model.add_organisation(OrgKind.PROFESSIONAL_AGENCY, incubated=False, for_contract=True)]
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
            o.contract_fen_left = fen
            o.contract_cases_week = gov_purchase.cases_bought(model, fen, weeks)
            o.contract_weeks_left = weeks
            # the whole posts this money pays (a post handles org_cases_per_staff_week cases): they supervise
            # volunteers and run projects like any agency worker; fractions of a post are bought as casework only
            o.hire_contract_posts(math.floor(o.contract_cases_week / b.org_cases_per_staff_week + 1e-9)
                                  if b.org_cases_per_staff_week > 0 else 0)
        return len(agencies) + int(to_self_governing > 0)

    def pay_self_governing(self) -> int:
        """This week's payment of a purchase contract with the self-governing bodies (fen)."""
        if self.self_governing_weeks_left <= 0:
            return 0
        fen = weekly_part(self.self_governing_fen_left, self.self_governing_weeks_left)
        self.self_governing_fen_left -= fen
        self.self_governing_weeks_left -= 1
        return fen

    # --- the council and the project round ------------------------------------------------------
    def deliberate(self) -> tuple[Deliberation, RoundResult]:
        """The council meets; in a round week the project round runs (sim/model/projects.py).

        With the deliberation lever (003 四议; 004 爱邻议事日、火塘议事会) the council meets every
        ``interval_weeks`` and in the round week, and residents attend (:meth:`Residents.attend_council`).
        Participants rate its decisions (#16): in the round, the ranking of projects; at other
        meetings, the review of the running projects.  A participant whose own group's need got a
        project rates it satisfied; the others with chance ``procedure_satisfied`` (outcome weighs
        more than procedure, [T5]).  Without the lever there is no council: the fund committee ranks
        the projects and #16 is undefined.
        """
        model, b = self.model, self.model.cfg.behaviour
        round_week = (model.week + 1) % b.project_cycle_weeks == 0
        meets = deliberation.council_meets(model, round_week)
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
