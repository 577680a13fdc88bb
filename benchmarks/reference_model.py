"""A per-agent Mesa implementation of the residents' weekly rules: the reference for the speed benchmark
(``benchmarks/run.py``) and for the statistical-equivalence test (``tests/test_equivalence.py``).

The production model (:class:`sim.model.community_model.CommunityModel`) keeps the residents' numbers in numpy arrays
(:class:`sim.model.residents.Residents`) and applies each weekly resident rule to all residents at once.  Here
the same rules are written the plain Mesa way: every :class:`ReferenceResident` is a ``mesa.Agent``
holding its own state as Python attributes (group, income, civic propensity, trust, satisfaction and its
reference level, moral-bank points, volunteer flag, week last recognised, the weeks of its activities in
the last 52 weeks, its demands and unmet demands since the last project round), applying the rules to
itself with scalar Python code and scalar draws, in a random order each phase.  The formulas, parameters
and probabilities are those of ``sim/model/residents.py``, rule by rule (each method names the production rule
it mirrors), written again from the rules' descriptions, not by calling them: an experience is applied
one step at a time (``x += rate × (1 − x)`` per good outcome, ``x −= rate × x`` per bad one), not in the
closed form; a resident draws a number only when a rule needs it.  Each agent's method returns its
outcome (a demand raised, an activity, a gift …) and the model counts them into the same weekly results
the production rules return.  Random streams differ, so the two implementations agree in distribution,
not run by run.

Everything that is not a per-resident rule is reused unchanged from the base class: construction (the
initial population is the production one, so the same seed gives the same residents), the warm-up and the
levers in force, the enterprises (``CommunityModel.trade``), charity sales and the social enterprise
(``sim.model.sales``), the fund (``CommunityFund``), the project round and its delivery (``sim.model.projects``), the
organisations, self-organisations and their members (``CommunityModel.run_organisations``, ``sim.model.groups``:
membership stays in the array ``member_of``), social workers, the community platform's dispatch, contracts
and council (``Community``), public cost, and the weekly indicator table (``CommunityModel.record_week``).

**How the agents and the shared code meet.**  The agents are the state of record for every resident
variable except self-organisation membership; the model's :class:`~sim.model.residents.Residents` arrays
(``model.residents``) are a mirror that the shared code reads (satisfaction of a project's served residents
at its evaluation, demands since the last round for the needs survey, activities in 52 weeks for groups,
and everything for the weekly table).  The mirror is written from the agents just before a shared step
that reads it and read back just after one that changes it (:meth:`ReferenceModel._mirrored`).  The shared
code calls four resident rules through ``model.residents`` — a project session or the fund's care is an
experience (``experience``, ``receive_needy_support``), a closed demand an outcome (``react_to_outcomes``),
a council meeting an attendance (``attend_council``); in the reference these four names are bound to the
agents' own rules (:meth:`ReferenceModel._bind_resident_rules`), which change the agents and write the
changed residents into the mirror at once, so the shared code sees the same values.  The agents are
``model.people``; a volunteer is a resident whose ``is_volunteer`` flag is set, and ``model.volunteer_of``
maps its index to the resident itself.

Scheduling: a rule that the production model applies to all residents at once sees the state as it was
before the rule (a synchronous update).  Where another resident's action could change what a resident sees
within a rule (the moral bank's stock for redemptions, the grid's volunteers for registration), the week is
split into phases, each a pass over all residents in a random order (:meth:`ReferenceModel.each`:
``AgentSet.shuffle_do``, keeping what each agent returns), with the model-level quantities taken once at
the start of the phase, exactly as the vectorised rule takes them.  The phases follow the week of
:meth:`sim.model.community_model.CommunityModel.step`: 1. ``raise_demand``, 2. ``take_part``, 3. ``reward_session``
(after project delivery), 4. ``donate``, 5. ``civic_act``, 6. ``redeem_points``, 7. ``record_activity``
(after the groups' week), 8. ``drop_out``, 9. ``register``, 10. ``update_attitudes``.

Known, intended differences from the production code (none changes a distribution):

* reported demands join the queue in the order residents act (a random order), not by resident index;
  dispatch treats demands of one week alike whatever their order;
* redemptions are paid one by one in the random order of the phase until one cannot be paid from the
  moral bank's stock, as production pays a random-order prefix;
* a volunteer who dropped out this week does not register again the same week (in production one draw
  serves both choices, so the two never coincide).
"""

from __future__ import annotations

import contextlib
from collections import deque

import numpy as np
import pandas as pd
from mesa import Agent
from omegaconf import DictConfig

from sim.model.community_model import BASELINE, CommunityModel
from sim.model.projects import deliver
from sim.model.record import PUBLIC_COSTS, Week
from sim.model.residents import (
    NO_MEETING,
    WINDOW,
    Activities,
    Attendance,
    DemandKind,
    Donations,
    NewDemands,
    Redemptions,
)
from sim.model.sales import sales_week
from sim.settings.config import GROUPS, Governance, SimConfig, to_settings

# the resident variables the agents hold, each mirrored into the array of the same name in model.residents
MIRRORED = ("satisfaction", "trust", "points", "volunteer", "last_recognised", "activities_52", "demands_cycle",
            "unmet_cycle")


def towards(x: float, good: int, bad: int, rate: float) -> float:
    """``x`` after ``good`` good outcomes (each ``x += rate × (1 − x)``) then ``bad`` bad ones (``x −= rate × x``)."""
    for _ in range(good):
        x += rate * (1.0 - x)
    for _ in range(bad):
        x -= rate * x
    return x


class ReferenceResident(Agent):
    """A resident with its state in plain Python attributes, applying the weekly rules to itself."""

    def __init__(self, model: ReferenceModel, index: int) -> None:
        super().__init__(model)
        pop, b = model.residents, model.cfg.behaviour
        self.index = index                                  # position in the population mirror and the queue
        self.group = GROUPS[int(pop.group[index])]          # 青老幼工新
        self.adult = self.group != "children"
        self.grid = int(pop.grid[index])
        self.income = float(pop.income[index])              # yuan per month
        self.civic = float(pop.civic[index])                # civic propensity 0–1
        self.trust = float(pop.trust[index])                # 0–1
        self.satisfaction = float(pop.satisfaction[index])  # 0–1
        self.satisfaction_reference = float(pop.satisfaction_reference[index])  # level without recent experiences
        self.needy = bool(pop.needy[index])
        self.points = float(pop.points[index])              # moral-bank points
        self.is_volunteer = bool(pop.volunteer[index])
        self.last_recognised = int(pop.last_recognised[index])
        self.activity_weeks: deque[int] = deque()           # weeks with an activity, last 52 weeks
        self.demands_cycle = 0                              # demands raised since the last project round
        self.unmet_cycle = 0                                # … of them unmet
        self.dropped_this_week = False
        self.active = False                                 # took part in a volunteer activity this week
        self.demand_rate = getattr(b.demand_rates, self.group)

    @property
    def activities_52(self) -> int:
        return len(self.activity_weeks)

    @property
    def volunteer(self) -> bool:  # the mirror's name for the flag
        return self.is_volunteer

    # --- experiences (the production rules Residents.experience / react_to_outcomes) --------------
    def experience(self, good: int, bad: int, rate: float, trust_rate: float | None = None) -> None:
        """Good and bad experiences move satisfaction (and trust, by ``trust_rate``, default ``rate``)."""
        self.satisfaction = towards(self.satisfaction, good, bad, rate)
        self.trust = towards(self.trust, good, bad, rate if trust_rate is None else trust_rate)

    # --- phase 1 and 2: before dispatch -----------------------------------------------------------
    def raise_demand(self) -> tuple[int, int, int, bool] | None:
        """Residents.raise_demands: raise a demand at the group's rate; report it or be found by the grid.

        Returns None without a demand, else who raised it, its kind, its work-order type and whether it reached
        the community.
        """
        b, rng = self.model.cfg.behaviour, self.model.streams["demand"]
        if rng.random() >= self.demand_rate:
            return None
        u_kind = rng.random()
        if u_kind < b.structural_share:
            kind = DemandKind.STRUCTURAL
        elif u_kind < b.structural_share + b.professional_share:
            kind = DemandKind.PROFESSIONAL
        else:
            kind = DemandKind.SIMPLE
        u_type = rng.random()
        order_type = 1 if u_type < b.complaint_share else 2 if u_type < b.complaint_share + b.suggestion_share else 0
        reported = rng.random() < b.report_base + b.report_trust_weight * self.trust \
            or rng.random() < b.grid_discovery
        self.demands_cycle += 1
        if not reported:  # an unmet demand: one bad outcome for satisfaction (nobody was asked: trust stays)
            self.unmet_cycle += 1
            self.satisfaction = towards(self.satisfaction, 0, 1, b.satisfaction_rate)
        return self.index, kind, order_type, reported

    def take_part(self) -> str | None:
        """Residents.take_part: a volunteer, or an unregistered adult, takes part in a volunteer activity.

        Returns "volunteer", "casual" or None.
        """
        model, b, mb = self.model, self.model.cfg.behaviour, self.model.policy.moral_bank
        rng = model.streams["volunteer"]
        self.active = False
        if self.is_volunteer:
            if rng.random() >= model.activity_prob * self.civic:
                return None
            self.active = True
            if mb.enabled:
                self.points += mb.points_per_activity
                self.last_recognised = model.week
            elif rng.random() < model.coverage:  # supervised by a social worker: recognised
                self.last_recognised = model.week
            return "volunteer"
        if self.adult and rng.random() < b.casual_activity_prob * self.civic:
            self.active = True
            if mb.enabled:
                self.points += mb.points_per_activity
            return "casual"
        return None

    def reward_session(self) -> None:
        """Residents.reward_sessions: a project session earns points like an activity, where the bank runs."""
        if self.index in self.model.session_attendees:
            self.points += self.model.policy.moral_bank.points_per_activity

    # --- phases 4–6: giving and points ------------------------------------------------------------
    def donate(self) -> int | None:
        """Residents.donate: give a share of monthly income with a chance growing with civic propensity and trust.

        Returns the gift in fen, or None when the resident does not give.
        """
        model, b = self.model, self.model.cfg.behaviour
        if model.streams["donation"].random() < b.donate_prob * self.civic * self.trust * model.giving_boost:
            return round(self.income * b.donate_income_share * 100)
        return None

    def civic_act(self) -> bool:
        """Residents.civic_acts: an adult does a civic act (垃圾分类, 邻里互助 …); points where the bank runs."""
        model = self.model
        if not self.adult or model.streams["volunteer"].random() >= model.cfg.behaviour.civic_act_prob * self.civic:
            return False
        if model.policy.moral_bank.enabled:
            self.points += model.policy.moral_bank.points_per_civic_act
        return True

    def redeem_points(self) -> int | None:
        """Residents.redeem_points: over the threshold, redeem all points for goods from the moral bank's stock.

        Returns the fen paid, or None when nothing was redeemed.
        """
        model, lever = self.model, self.model.policy.moral_bank
        if self.points < lever.redeem_threshold_points:
            return None
        if model.streams["volunteer"].random() >= model.cfg.behaviour.redeem_prob:
            return None
        fen = round(self.points * lever.yuan_per_point * 100)
        if model.redemptions_open and fen <= model.moral_bank_left_fen:
            model.moral_bank_left_fen -= fen
            self.points = 0.0
            return fen
        model.redemptions_open = False  # the stock ran short: the rest keep their points this week
        return None

    # --- phases 7–10: end of the week -------------------------------------------------------------
    def record_activity(self) -> None:
        """Residents.record_activities: the 52-week window of weeks with an activity rolls on."""
        week, window = self.model.week, self.activity_weeks
        while window and window[0] <= week - WINDOW:
            window.popleft()
        if self.index in self.model.took_part:
            window.append(week)

    def drop_out(self) -> bool:
        """Residents.drop_out: base rate, more when unrecognised, more when burnt out.  Returns whether it left."""
        self.dropped_this_week = False
        if not self.is_volunteer:
            return False
        model, b = self.model, self.model.cfg.behaviour
        p = b.dropout_base
        if model.week - self.last_recognised >= b.recognition_window_weeks:
            p += b.dropout_unrecognised
        if self.activities_52 > b.burnout_activities:
            p += b.dropout_burnout
        if model.streams["volunteer"].random() < p:
            model.remove_volunteer(self.index)
            self.dropped_this_week = True
            return True
        return False

    def register(self) -> bool:
        """Residents.register_volunteers: an adult registers, more so among volunteer neighbours, more with the
        moral bank; a registration drive by social workers reaches residents whatever their civic propensity."""
        if self.is_volunteer or not self.adult or self.dropped_this_week:
            return False
        model, b, pol = self.model, self.model.cfg.behaviour, self.model.policy
        p = b.register_base * self.civic * (1 + b.register_influence * model.grid_volunteer_share[self.grid]) \
            * (1 + b.register_moral_bank * pol.moral_bank.enabled)
        if pol.social_work.mobilisation:
            p += b.register_base * b.register_mobilisation * model.coverage
        if model.streams["volunteer"].random() < p:
            model.add_volunteer(self.index)
            return True
        return False

    def update_attitudes(self) -> None:
        """Residents.update_attitudes: satisfaction returns towards its reference; trust drifts towards it."""
        b = self.model.cfg.behaviour
        self.satisfaction += (self.satisfaction_reference - self.satisfaction) / b.satisfaction_memory_weeks
        self.trust = min(1.0, max(0.0, self.trust + b.trust_drift * (self.satisfaction - self.trust)))


class ReferenceModel(CommunityModel):
    """:class:`~sim.model.community_model.CommunityModel` with the resident rules run agent by agent (see the module
    docstring)."""

    def __init__(self, cfg: SimConfig) -> None:
        super().__init__(cfg)
        self.people = [ReferenceResident(self, i) for i in range(self.residents.size)]
        self.volunteer_of = {r.index: r for r in self.people if r.is_volunteer}
        self.people_per_grid = [0] * self.residents.n_grids
        for r in self.people:
            self.people_per_grid[r.grid] += 1
        # per-week, model-level quantities the residents read (set at the start of each phase)
        self.activity_prob = 0.0
        self.coverage = 0.0
        self.giving_boost = 1.0
        self.redemptions_open = True
        self.moral_bank_left_fen = 0
        self.session_attendees: set[int] = set()
        self.took_part: set[int] = set()
        self.grid_volunteer_share: list[float] = []
        self._bind_resident_rules()

    def each(self, method: str) -> list:
        """Every resident applies ``method`` once, in a random order: what each returned.

        This is ``AgentSet.shuffle_do`` keeping the results: the residents' agent set shuffled with the
        model's ``random``, as ``shuffle_do`` shuffles it.
        """
        agents = list(self.agents_by_type[ReferenceResident])
        self.random.shuffle(agents)
        return [getattr(agent, method)() for agent in agents]

    # --- volunteers: a flag on the resident -------------------------------------------------------
    @property
    def volunteers_registered(self) -> int:
        return len(self.volunteer_of)

    def add_volunteer(self, index: int) -> ReferenceResident:
        r = self.people[index]
        r.is_volunteer = True
        r.last_recognised = self.week  # registering is itself recognised
        self.volunteer_of[index] = r
        return r

    def remove_volunteer(self, index: int) -> None:
        self.people[index].is_volunteer = False
        del self.volunteer_of[index]

    # --- the resident rules the shared code calls, bound to the agents -------------------------------
    def _bind_resident_rules(self) -> None:
        """Route the resident rules that shared code calls through ``model.residents`` to the agents."""
        pop, b = self.residents, self.cfg.behaviour

        def write_back(indices) -> None:
            for i in indices:
                pop.satisfaction[i], pop.trust[i] = self.people[i].satisfaction, self.people[i].trust

        def experience(good: np.ndarray, bad: np.ndarray, rate: float) -> None:
            for idx, g, bd in ((good, 1, 0), (bad, 0, 1)):
                for i in idx.tolist():
                    self.people[i].experience(g, bd, rate)
                write_back(idx.tolist())

        def react_to_outcomes(completed: np.ndarray, closed: np.ndarray) -> None:
            good: dict[int, int] = {}
            for i in completed.tolist():
                good[i] = good.get(i, 0) + 1
            closed_of: dict[int, int] = {}
            for i in closed.tolist():
                closed_of[i] = closed_of.get(i, 0) + 1
            for i, n_closed in closed_of.items():
                r, n_good = self.people[i], good.get(i, 0)
                r.unmet_cycle += n_closed - n_good
                r.experience(n_good, n_closed - n_good, b.satisfaction_rate, b.trust_rate)
            write_back(closed_of)

        def react_to_waiting(waiting: np.ndarray) -> None:
            who = sorted(set(waiting.tolist()))
            for i in who:  # satisfaction only, as an unmet demand
                self.people[i].satisfaction = towards(self.people[i].satisfaction, 0, 1, b.satisfaction_rate)
            write_back(who)

        def receive_needy_support(support: float) -> None:
            if support > 0:
                needy = [r.index for r in self.people if r.needy]
                for i in needy:
                    self.people[i].experience(1, 0, b.session_satisfaction_rate * support)
                write_back(needy)

        def attend_council(meeting: bool) -> Attendance:
            if not meeting:
                return NO_MEETING
            rng = self.streams["deliberation"]
            who = [r.index for r in self.people if rng.random() < b.deliberation_participation * r.civic * r.trust]
            for i in who:
                r = self.people[i]
                r.trust += b.deliberation_trust * (1 - r.trust)
            write_back(who)
            return Attendance(who=np.array(sorted(who), dtype=np.int64), met=True)

        pop.experience, pop.react_to_outcomes, pop.react_to_waiting = experience, react_to_outcomes, react_to_waiting
        pop.receive_needy_support, pop.attend_council = receive_needy_support, attend_council

    # --- the population mirror ----------------------------------------------------------------------
    def _write(self, names: tuple[str, ...]) -> None:
        pop = self.residents
        for name in names:
            getattr(pop, name)[:] = [getattr(r, name) for r in self.people]

    def _read(self, names: tuple[str, ...]) -> None:
        pop = self.residents
        for name in names:
            for r, v in zip(self.people, getattr(pop, name).tolist(), strict=True):
                setattr(r, name, v)

    @contextlib.contextmanager
    def _mirrored(self, write: tuple[str, ...], read: tuple[str, ...] = ()):
        """Around shared (production) code: the mirror of ``write`` is current; ``read`` is taken back after."""
        self._write(write)
        yield
        self._read(read)

    # --- the week (the schedule of CommunityModel.step) -------------------------------------------
    def step(self) -> None:
        if self.week == self.warmup_weeks and self.policy is BASELINE and self.warmup_weeks > 0:
            self.start_policy()
        b, pol, fund, platform = self.cfg.behaviour, self.policy, self.fund, self.platform
        fund.start_week()
        self.public_cost_fen = dict.fromkeys(PUBLIC_COSTS, 0)
        for org in self.organisations:
            org.start_week()
        if pol.moral_bank.government_yuan_per_year > 0:
            support = round(pol.moral_bank.government_yuan_per_year * 100 / 52)
            fund.receive("government", support, pot="moral_bank")
            self.add_public_cost("moral_bank", support)

        # 1. enterprises, workshops and the social enterprise (shared code)
        units_sold = self.trade()
        sales = sales_week(self)

        # 2–3. residents raise demands and take part; project sessions (shared code)
        raised = [demand for demand in self.each("raise_demand") if demand is not None]
        reported = [(i, kind, t) for i, kind, t, ok in raised if ok]
        demands = NewDemands(residents=np.array([i for i, _, _ in reported], dtype=np.int64),
                             kinds=np.array([k for _, k, _ in reported], dtype=np.int8),
                             types=np.array([t for _, _, t in reported], dtype=np.int8),
                             raised=len(raised),
                             unmet=np.array([i for i, _, _, ok in raised if not ok], dtype=np.int64))
        platform.receive_demands(demands.residents, demands.kinds, self.week, demands.types)
        self.coverage = coverage = self.supervision_coverage()
        self.activity_prob = b.activity_prob * (1 + b.activity_supervised_boost * coverage) \
            * (1 + b.activity_recognition_boost * pol.moral_bank.enabled)
        roles = self.each("take_part")
        n_active, n_casual = roles.count("volunteer"), roles.count("casual")
        activities = Activities(activities=n_active, casual=n_casual,
                                hours=(n_active + n_casual) * b.hours_per_activity,
                                took_part=np.array([r.active for r in self.people], dtype=bool))
        with self._mirrored(write=("satisfaction", "trust")):
            sessions = deliver(self, n_active + n_casual)
        self.session_attendees = set(np.flatnonzero(sessions.took_part).tolist())
        if pol.moral_bank.enabled:
            self.each("reward_session")

        # 4. dispatch (shared code; closed demands reach the agents through react_to_outcomes)
        mutual_aid = sum(o.mutual_aid_capacity() for o in self.organisations)
        dispatch = platform.dispatch(activities.hours + sessions.employee_hours, mutual_aid, coverage)

        # 5. giving, civic acts and points
        lever = pol.fund
        self.giving_boost = (1 + b.fundraising_boost * lever.public_fundraising) \
            * (1 + b.transparency_giving * lever.transparency) \
            * (1 + b.resident_led_giving * (lever.governance is Governance.resident_led))
        gifts = [fen for fen in self.each("donate") if fen is not None]
        donations = Donations(donors=len(gifts), fen=sum(gifts))
        fund.receive_donations(donations.fen)
        civic_acts = sum(self.each("civic_act"))
        redemptions = Redemptions(redeemed=0, fen=0)
        if pol.moral_bank.enabled:
            self.redemptions_open, self.moral_bank_left_fen = True, fund.pot_fen["moral_bank"]
            paid = [fen for fen in self.each("redeem_points") if fen is not None]
            redemptions = Redemptions(redeemed=len(paid), fen=sum(paid))
        fund.pay("moral_bank", redemptions.fen, pot="moral_bank")

        # 6–8. the fund, contracts, council and project round, organisations and groups (shared code)
        cycle = ("demands_cycle", "unmet_cycle")  # the needs survey reads and resets them
        with self._mirrored(write=(*cycle, "activities_52"), read=cycle):
            self.residents.receive_needy_support(fund.step(self.residents.n_needy))
            platform.contract_round()
            deliberation, project_round = platform.deliberate()
            incubators = sum(sw.incubates() for sw in self.station_workers)
            groups, group_activity, contracts_fen = self.run_organisations(incubators)
        self.orgs_incubated += groups.incubated

        # 9. the activity window, volunteering and trust
        took_part = activities.took_part | group_activity  # recipients of sessions are not participants (#28)
        self.took_part = set(np.flatnonzero(took_part).tolist())
        self.each("record_activity")
        dropped = sum(self.each("drop_out"))
        vols = [0] * self.residents.n_grids
        for r in self.volunteer_of.values():
            vols[r.grid] += 1
        self.grid_volunteer_share = [v / max(n, 1) for v, n in zip(vols, self.people_per_grid, strict=True)]
        new = sum(self.each("register"))
        self.each("update_attitudes")

        # 10. cost and record (shared code)
        self.pay_social_workers()
        self._write(MIRRORED)
        week = Week(
            units_sold=units_sold, sales=sales, demands=demands, activities=activities, groups=groups,
            sessions=sessions, dispatch=dispatch, donations=donations, civic_acts=civic_acts,
            redemptions=redemptions, deliberation=deliberation, project_round=project_round,
            contracts_fen=contracts_fen, volunteers_dropped=dropped, volunteers_new=new,
            public_cost_fen=dict(self.public_cost_fen))
        self.end_week(week)


def run_reference(settings: SimConfig | DictConfig, progress: bool = False) -> pd.DataFrame:
    """Run the per-agent reference: warm-up and ``settings.steps`` weeks; the weekly indicators, as
    CommunityModel.run."""
    return ReferenceModel(to_settings(settings)).run(progress=progress)
