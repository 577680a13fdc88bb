"""A per-agent Mesa implementation of the residents' weekly rules: the reference for the speed benchmark
(``benchmarks/run.py``) and for the statistical-equivalence test (``tests/test_equivalence.py``).

The production model (:class:`sim.model.CommunityModel`) keeps the residents' numbers in numpy arrays
(:class:`sim.residents.Residents`) and applies each weekly resident rule to all residents at once.  Here
the same rules are written the plain Mesa way: every :class:`ReferenceResident` is a ``mesa.Agent``
holding its own state as Python attributes (group, income, civic propensity, trust, satisfaction,
moral-bank points, volunteer flag, week last recognised, the weeks of its activities in the last 52
weeks), applying the rules to itself with scalar Python code and scalar draws, in a
random order each phase.  The formulas, parameters and probabilities are those of ``sim/residents.py``,
rule by rule (each method names the production rule it mirrors).  Each agent's method returns its
outcome (a demand raised, an activity, a gift …) and the model counts them into the same weekly results
the production rules return.  Random streams differ, so the two implementations agree in distribution,
not run by run.

Everything that is not a per-resident rule is reused unchanged from the base class: construction
(the initial population is the production one, so the same seed gives the same residents), the
enterprises (``CommunityModel.trade``), the fund (``CommunityFund``), the organisations and social
workers (``CommunityModel.run_organisations``), the community platform's dispatch, contracts and
deliberation (``Community``), and the weekly indicator table (``CommunityModel.record_week``).

**How the agents and the shared code meet (choice (a): a population mirror kept in sync).**  The shared
steps read and write the model's :class:`~sim.residents.Residents` arrays (``model.residents``):
``Community.dispatch`` moves the satisfaction and trust of residents whose demands were closed; the
fund's support lifts the needy residents' satisfaction; ``Community.deliberate`` has residents attend
the council (reading civic propensity and trust, raising attendees' trust) and lifts every resident's
satisfaction after funded projects; the weekly table reads satisfaction, trust, points and the 52-week
activity counts.  The agents are the state of record; the arrays are a mirror, written from the agents
just before a shared step and read back just after it (:meth:`ReferenceModel._population_synced`), and
written in full before each week's indicators.  This keeps the shared code literally the production
code (nothing duplicated there) at the price of a few O(n) copies a week, a few per cent of the
reference's run time.  The agents are ``model.people``; a volunteer is a resident whose
``is_volunteer`` flag is set, and ``model.volunteer_of`` maps its index to the resident itself (it
counts the registered volunteers during the week, before the mirror is written).

Scheduling: a rule that the production model applies to all residents at once sees the state as it was
before the rule (a synchronous update).  Where another resident's action could change what a resident
sees within a rule (the fund's balance for redemptions, the volunteer count for registration), the
week is split into phases, each a pass over all residents in a random order (:meth:`ReferenceModel.each`:
``AgentSet.shuffle_do``, keeping what each agent returns), with the model-level quantities taken once
at the start of the phase, exactly as the vectorised rule takes them:

1. ``raise_demand`` + ``take_part`` (before dispatch), 2. ``donate``, 3. ``redeem_points`` (with the
moral bank), 4. ``drop_out``, 5. ``register`` + ``update_attitudes``.

Known, intended differences from the production code (none changes a distribution):

* reported demands join the queue in the order residents act (a random order), not by resident index;
  dispatch treats demands of one week alike whatever their order;
* a resident draws a random number only when a rule needs it (e.g. the grid-discovery draw only for
  an unreported demand), whereas the vectorised rules draw one number per resident for every draw;
* redemptions are paid one by one in the random order of the phase; as in production, once one
  redemption cannot be paid in full no later one is paid this week.
"""

from __future__ import annotations

import contextlib
from collections import deque

import numpy as np
import pandas as pd
from mesa import Agent
from omegaconf import DictConfig

from sim.config import GROUPS, Governance, SimConfig, to_settings
from sim.model import CommunityModel, Week
from sim.residents import WINDOW, Activities, DemandKind, Donations, NewDemands, Redemptions


class ReferenceResident(Agent):
    """A resident with its state in plain Python attributes, applying the weekly rules to itself."""

    def __init__(self, model: ReferenceModel, index: int) -> None:
        super().__init__(model)
        pop, b = model.residents, model.cfg.behaviour
        self.index = index                                  # position in the population mirror and the queue
        self.group = GROUPS[int(pop.group[index])]          # 青老幼工新
        self.household = int(pop.household[index])
        self.grid = int(pop.grid[index])
        self.income = float(pop.income[index])              # yuan per month
        self.civic = float(pop.civic[index])                # civic propensity 0–1
        self.trust = float(pop.trust[index])                # 0–1
        self.satisfaction = float(pop.satisfaction[index])  # 0–1
        self.needy = bool(pop.needy[index])
        self.points = float(pop.points[index])              # moral-bank points
        self.is_volunteer = bool(pop.volunteer[index])
        self.last_recognised = int(pop.last_recognised[index])
        self.activity_weeks: deque[int] = deque()           # weeks with an activity, last 52 weeks
        self.demand_rate = getattr(b.demand_rates, self.group)

    @property
    def activities_52(self) -> int:
        return len(self.activity_weeks)

    # --- phase 1: before dispatch ---------------------------------------------------------------
    def raise_demand_and_take_part(self) -> tuple[tuple[int, int, bool] | None, bool]:
        return self.raise_demand(), self.take_part()

    def raise_demand(self) -> tuple[int, int, bool] | None:
        """Residents.raise_demands: raise a demand at the group's rate; report it or be found by the grid.

        Returns None without a demand, else who raised it, its kind and whether it reached the community.
        """
        model, b = self.model, self.model.cfg.behaviour
        rng = model.streams["demand"]
        if rng.random() >= self.demand_rate:
            return None
        u_kind = rng.random()
        if u_kind < b.structural_share:
            kind = DemandKind.STRUCTURAL
        elif u_kind < b.structural_share + b.professional_share:
            kind = DemandKind.PROFESSIONAL
        else:
            kind = DemandKind.SIMPLE
        reported = rng.random() < b.report_base + b.report_trust_weight * self.trust \
            or rng.random() < b.grid_discovery
        if not reported:
            # an unmet demand is one bad outcome for satisfaction
            self.satisfaction *= 1.0 - b.satisfaction_rate
        return self.index, kind, reported

    def take_part(self) -> bool:
        """Residents.take_part: a volunteer takes part in an activity; the 52-week window rolls on."""
        model, mb = self.model, self.model.cfg.policy.moral_bank
        week = model.week
        window = self.activity_weeks
        while window and window[0] <= week - WINDOW:
            window.popleft()
        if not self.is_volunteer:
            return False
        rng = model.streams["volunteer"]
        if rng.random() >= model.activity_prob:
            return False
        window.append(week)
        if mb.enabled:
            self.points += mb.points_per_activity
            self.last_recognised = week
        elif rng.random() < model.coverage:
            self.last_recognised = week
        return True

    # --- phase 2 and 3: after dispatch ----------------------------------------------------------
    def donate(self) -> int | None:
        """Residents.donate: give a share of monthly income with a chance growing with civic propensity and trust.

        Returns the gift in fen, or None when the resident does not give.
        """
        model, b = self.model, self.model.cfg.behaviour
        p = b.donate_prob * self.civic * self.trust * model.giving_boost
        if model.streams["donation"].random() < p:
            return round(self.income * b.donate_income_share * 100)
        return None

    def redeem_points(self) -> int | None:
        """Residents.redeem_points: over the threshold, redeem all points for goods paid by the fund.

        Returns the fen paid, or None when nothing was redeemed.
        """
        model, lever = self.model, self.model.cfg.policy.moral_bank
        if self.points < lever.redeem_threshold_points:
            return None
        if model.streams["volunteer"].random() >= model.cfg.behaviour.redeem_prob:
            return None
        fen = round(self.points * lever.yuan_per_point * 100)
        if model.redemptions_open and fen <= model.fund.balance_fen:
            model.fund.pay("moral_bank", fen)
            self.points = 0.0
            return fen
        model.redemptions_open = False  # the fund ran short: the rest keep their points this week
        return None

    # --- phase 4 and 5: end of the week ---------------------------------------------------------
    def drop_out(self) -> bool:
        """Residents.drop_out: base rate, more when unrecognised, more when burnt out.  Returns whether it left."""
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
            return True
        return False

    def register_and_update_attitudes(self) -> bool:
        registered = self.register()
        self.update_attitudes()
        return registered

    def register(self) -> bool:
        """Residents.register_volunteers: an adult non-volunteer registers, more so among volunteer neighbours."""
        if self.is_volunteer or self.group == "children":
            return False
        model, b = self.model, self.model.cfg.behaviour
        p = b.register_base * self.civic * (1 + b.register_influence * model.grid_volunteer_share[self.grid]) \
            * model.register_boost
        if model.streams["volunteer"].random() < p:
            model.add_volunteer(self.index)
            return True
        return False

    def update_attitudes(self) -> None:
        """Residents.update_attitudes: trust drifts towards satisfaction; visible fund spending raises it."""
        model, b = self.model, self.model.cfg.behaviour
        trust = self.trust + b.trust_drift * (self.satisfaction - self.trust)
        if model.fund.spent_this_week_fen > 0:
            trust += b.fund_visibility_trust * model.cfg.policy.fund.transparency * (1.0 - trust)
        self.trust = min(1.0, max(0.0, trust))


class ReferenceModel(CommunityModel):
    """:class:`~sim.model.CommunityModel` with the resident rules run agent by agent (see the module docstring)."""

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
        self.redemptions_open = True
        self.grid_volunteer_share: list[float] = []
        self.register_boost = 1.0
        lever, b = cfg.policy.fund, cfg.behaviour
        self.giving_boost = (1 + b.fundraising_boost * lever.public_fundraising) \
            * (1 + b.transparency_giving * lever.transparency) \
            * (1 + b.resident_led_giving * (lever.governance is Governance.resident_led))

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

    # --- the population mirror ----------------------------------------------------------------------
    def _write_attitudes(self) -> None:
        pop = self.residents
        pop.satisfaction[:] = [r.satisfaction for r in self.people]
        pop.trust[:] = [r.trust for r in self.people]

    def _read_attitudes(self) -> None:
        pop = self.residents
        for r, s, t in zip(self.people, pop.satisfaction.tolist(), pop.trust.tolist(), strict=True):
            r.satisfaction = s
            r.trust = t

    @contextlib.contextmanager
    def _population_synced(self):
        """Around shared (production) code that reads and changes satisfaction and trust in the arrays."""
        self._write_attitudes()
        yield
        self._read_attitudes()

    def _write_all(self) -> None:
        """Mirror every resident variable into the arrays (for the indicators)."""
        self._write_attitudes()
        pop, rs = self.residents, self.people
        pop.points[:] = [r.points for r in rs]
        pop.volunteer[:] = [r.is_volunteer for r in rs]
        pop.last_recognised[:] = [r.last_recognised for r in rs]
        pop.activities_52[:] = [r.activities_52 for r in rs]

    # --- the week (the schedule of CommunityModel.step) -------------------------------------------
    def step(self) -> None:
        b, pol = self.cfg.behaviour, self.cfg.policy
        self.fund.start_week()
        for org in self.organisations:
            org.start_week()

        # 1. enterprises (shared code)
        units_sold = self.trade()

        # 2–3. residents raise demands, volunteers take part
        self.coverage = self.supervision_coverage()
        self.activity_prob = b.activity_prob * (1 + b.activity_supervised_boost * self.coverage) \
            * (1 + b.activity_recognition_boost * pol.moral_bank.enabled)
        outcomes = self.each("raise_demand_and_take_part")
        raised = [demand for demand, _ in outcomes if demand is not None]
        reported = [(i, kind) for i, kind, ok in raised if ok]
        demands = NewDemands(residents=np.array([i for i, _ in reported], dtype=np.int64),
                             kinds=np.array([k for _, k in reported], dtype=np.int8),
                             raised=len(raised), unreported=len(raised) - len(reported))
        self.platform.receive_demands(demands.residents, demands.kinds, self.week)
        n_active = sum(active for _, active in outcomes)
        activities = Activities(activities=n_active, hours=n_active * b.hours_per_activity)

        # 4. dispatch (shared code)
        with self._population_synced():
            dispatch = self.platform.dispatch(activities.hours + self.employee_volunteer_hours(), self.coverage)

        # 5. giving and points
        gifts = [fen for fen in self.each("donate") if fen is not None]
        donations = Donations(donors=len(gifts), fen=sum(gifts))
        self.fund.receive_donations(donations.fen)
        redemptions = Redemptions(redeemed=0, fen=0)
        if pol.moral_bank.enabled:
            self.redemptions_open = True
            paid = [fen for fen in self.each("redeem_points") if fen is not None]
            redemptions = Redemptions(redeemed=len(paid), fen=sum(paid))

        # 6–8. the fund, contracts, deliberation, organisations, incubation (shared code)
        with self._population_synced():
            self.residents.receive_needy_support(self.fund.step(self.residents.n_needy))
            self.platform.contract_round()
            deliberation = self.platform.deliberate()
            contracts_fen = self.run_organisations()

        # 9. volunteers drop out; residents register (seeing the grid after drop-outs); trust drifts
        dropped = sum(self.each("drop_out"))
        vols = [0] * self.residents.n_grids
        for r in self.people:
            vols[r.grid] += r.is_volunteer
        self.grid_volunteer_share = [v / max(n, 1) for v, n in zip(vols, self.people_per_grid, strict=True)]
        mobilise = b.register_mobilisation * self.spare_supervision() if pol.social_work.mobilisation else 0.0
        self.register_boost = (1 + mobilise) * (1 + b.register_moral_bank * pol.moral_bank.enabled)
        new = sum(self.each("register_and_update_attitudes"))

        # 10. record (shared code)
        self._write_all()
        self.record_week(Week(
            units_sold=units_sold, demands=demands, activities=activities, dispatch=dispatch, donations=donations,
            redemptions=redemptions, deliberation=deliberation, contracts_fen=contracts_fen,
            volunteers_dropped=dropped, volunteers_new=new))
        self.week += 1


def run_reference(settings: SimConfig | DictConfig, progress: bool = False) -> pd.DataFrame:
    """Run the per-agent reference for ``settings.steps`` weeks; the weekly indicators, as CommunityModel.run."""
    return ReferenceModel(to_settings(settings)).run(progress=progress)
