"""A per-agent Mesa implementation of the residents' weekly rules: the reference for the speed benchmark
(``benchmarks/run.py``) and for the statistical-equivalence test (``tests/test_equivalence.py``).

The production model (:class:`sim.model.CommunityModel`) keeps the residents' numbers in numpy arrays
and applies each weekly resident rule to all residents at once.  Here the same rules are written the
plain Mesa way: every :class:`ReferenceResident` is a ``mesa.Agent`` holding its own state as Python
attributes (group, income, civic propensity, trust, satisfaction, moral-bank points, volunteer flag,
week last recognised, the weeks of its activities in the last 52 weeks, hours this week), applying the
rules to itself with scalar Python code and scalar draws, run with ``AgentSet.shuffle_do``.  The
formulas, parameters and probabilities are those of ``sim/agents.py``, rule by rule (each method
names the production rule it mirrors).  Random streams differ, so the two implementations agree in
distribution, not run by run.

Everything that is not a per-resident rule is reused unchanged from the base class: construction
(the initial population is the production one, so the same seed gives the same residents), the
enterprises, the fund (``CommunityFund``), the organisations and social workers, the community
platform's dispatch, contracts and deliberation (``Community``), and the weekly indicator table
(``CommunityModel._indicators``).

**How the agents and the shared code meet (choice (a): a population mirror kept in sync).**  The shared
steps read and write the model's :class:`~sim.population.Population` arrays: ``Community.dispatch``
moves the satisfaction and trust of residents whose demands were closed; ``CommunityFund.step`` lifts
the needy residents' satisfaction; ``Community.deliberate`` reads civic propensity and trust, raises
attendees' trust and every resident's satisfaction after funded projects; ``_indicators`` reads
satisfaction, trust, points and the 52-week activity counts.  The agents are the state of record; the
arrays are a mirror, written from the agents just before a shared step and read back just after it
(:meth:`ReferenceModel._population_synced`), and written in full before each week's indicators.  This
keeps the shared code literally the production code (nothing duplicated there) at the price of a few
O(n) copies a week, a few per cent of the reference's run time.  The production ``Resident`` and
``Volunteer`` agents made by the base constructor are removed; a volunteer here is a resident whose
``is_volunteer`` flag is set, and ``model.volunteer_of`` maps its index to the resident itself.

Scheduling: a rule that the production model applies to all residents at once sees the state as it was
before the rule (a synchronous update).  Where another resident's action could change what a resident
sees within a rule (the fund's balance for redemptions, the volunteer count for registration), the
week is split into phases, each a ``shuffle_do`` over all residents, with the model-level quantities
taken once at the start of the phase, exactly as the vectorised rule takes them:

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

from sim.agents import DemandKind
from sim.config import GROUPS, Governance, SimConfig, to_settings
from sim.model import COUNT_KEYS, CommunityModel
from sim.population import WINDOW


class ReferenceResident(Agent):
    """A resident with its state in plain Python attributes, applying the weekly rules to itself."""

    def __init__(self, model: ReferenceModel, index: int) -> None:
        super().__init__(model)
        pop, b = model.population, model.cfg.behaviour
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
        self.hours_this_week = 0.0
        self.demand_rate = getattr(b.demand_rates, self.group)

    @property
    def activities_52(self) -> int:
        return len(self.activity_weeks)

    # --- phase 1: before dispatch ---------------------------------------------------------------
    def raise_demand_and_take_part(self) -> None:
        self.raise_demand()
        self.take_part()

    def raise_demand(self) -> None:
        """Resident.raise_demands: raise a demand at the group's rate; report it or be found by the grid."""
        model, b = self.model, self.model.cfg.behaviour
        rng = model.streams["demand"]
        if rng.random() >= self.demand_rate:
            return
        u_kind = rng.random()
        if u_kind < b.structural_share:
            kind = DemandKind.STRUCTURAL
        elif u_kind < b.structural_share + b.professional_share:
            kind = DemandKind.PROFESSIONAL
        else:
            kind = DemandKind.SIMPLE
        ws = model.week_stats
        ws["demands_raised"] += 1
        reported = rng.random() < b.report_base + b.report_trust_weight * self.trust \
            or rng.random() < b.grid_discovery
        if reported:
            ws["demands_reported"] += 1
            model.reported_this_week.append((self.index, kind))
        else:
            ws["demands_unreported"] += 1
            # an unmet demand is one bad outcome for satisfaction
            self.satisfaction *= 1.0 - b.satisfaction_rate

    def take_part(self) -> None:
        """Volunteer.take_part: a volunteer takes part in an activity; the 52-week window rolls on."""
        model, b, mb = self.model, self.model.cfg.behaviour, self.model.cfg.policy.moral_bank
        week = model.week
        window = self.activity_weeks
        while window and window[0] <= week - WINDOW:
            window.popleft()
        self.hours_this_week = 0.0
        if not self.is_volunteer:
            return
        rng = model.streams["volunteer"]
        if rng.random() >= model.activity_prob:
            return
        window.append(week)
        self.hours_this_week = b.hours_per_activity
        model.week_stats["volunteer_activities"] += 1
        if mb.enabled:
            self.points += mb.points_per_activity
            self.last_recognised = week
        elif rng.random() < model.coverage:
            self.last_recognised = week

    # --- phase 2 and 3: after dispatch ----------------------------------------------------------
    def donate(self) -> None:
        """Resident.donate: give a share of monthly income with a chance growing with civic propensity and trust."""
        model, b = self.model, self.model.cfg.behaviour
        p = b.donate_prob * self.civic * self.trust * model.giving_boost
        if model.streams["donation"].random() < p:
            model.week_stats["donors"] += 1
            model.donations_fen += round(self.income * b.donate_income_share * 100)

    def redeem_points(self) -> None:
        """Resident.redeem_points: over the threshold, redeem all points for goods paid by the fund."""
        model, lever = self.model, self.model.cfg.policy.moral_bank
        if self.points < lever.redeem_threshold_points:
            return
        if model.streams["volunteer"].random() >= model.cfg.behaviour.redeem_prob:
            return
        fen = round(self.points * lever.yuan_per_point * 100)
        if model.redemptions_open and fen <= model.fund.balance_fen:
            model.fund.pay("moral_bank", fen)
            self.points = 0.0
            model.week_stats["redemptions"] += 1
        else:
            model.redemptions_open = False  # the fund ran short: the rest keep their points this week

    # --- phase 4 and 5: end of the week ---------------------------------------------------------
    def drop_out(self) -> None:
        """Volunteer.drop_out: base rate, more when unrecognised, more when burnt out."""
        if not self.is_volunteer:
            return
        model, b = self.model, self.model.cfg.behaviour
        p = b.dropout_base
        if model.week - self.last_recognised >= b.recognition_window_weeks:
            p += b.dropout_unrecognised
        if self.activities_52 > b.burnout_activities:
            p += b.dropout_burnout
        if model.streams["volunteer"].random() < p:
            model.remove_volunteer(self.index)
            model.week_stats["volunteers_dropped"] += 1

    def register_and_update_attitudes(self) -> None:
        self.register()
        self.update_attitudes()

    def register(self) -> None:
        """Resident.register_volunteers: an adult non-volunteer registers, more so among volunteer neighbours."""
        if self.is_volunteer or self.group == "children":
            return
        model, b = self.model, self.model.cfg.behaviour
        p = b.register_base * self.civic * (1 + b.register_influence * model.grid_volunteer_share[self.grid]) \
            * model.register_boost
        if model.streams["volunteer"].random() < p:
            model.add_volunteer(self.index)
            model.week_stats["volunteers_new"] += 1

    def update_attitudes(self) -> None:
        """Resident.update_attitudes: trust drifts towards satisfaction; visible fund spending raises it."""
        model, b = self.model, self.model.cfg.behaviour
        trust = self.trust + b.trust_drift * (self.satisfaction - self.trust)
        if model.fund.spent_this_week_fen > 0:
            trust += b.fund_visibility_trust * model.cfg.policy.fund.transparency * (1.0 - trust)
        self.trust = min(1.0, max(0.0, trust))


class ReferenceModel(CommunityModel):
    """:class:`~sim.model.CommunityModel` with the resident rules run agent by agent (see the module docstring)."""

    def __init__(self, cfg: SimConfig) -> None:
        super().__init__(cfg)
        # Replace the production resident and volunteer agents (views into the arrays) by plain agents.
        for v in self.volunteer_of.values():
            v.remove()
        for r in self.residents:
            r.remove()
        self.residents = [ReferenceResident(self, i) for i in range(self.population.size)]
        self.volunteer_of = {r.index: r for r in self.residents if r.is_volunteer}
        self.people_per_grid = [0] * self.population.n_grids
        for r in self.residents:
            self.people_per_grid[r.grid] += 1
        # per-week, model-level quantities the residents read (set at the start of each phase)
        self.reported_this_week: list[tuple[int, int]] = []
        self.activity_prob = 0.0
        self.coverage = 0.0
        self.donations_fen = 0
        self.redemptions_open = True
        self.grid_volunteer_share: list[float] = []
        self.register_boost = 1.0
        lever, b = cfg.policy.fund, cfg.behaviour
        self.giving_boost = (1 + b.fundraising_boost * lever.public_fundraising) \
            * (1 + b.transparency_giving * lever.transparency) \
            * (1 + b.resident_led_giving * (lever.governance is Governance.resident_led))

    # --- volunteers: a flag on the resident -------------------------------------------------------
    def add_volunteer(self, index: int) -> ReferenceResident:
        r = self.residents[index]
        r.is_volunteer = True
        r.last_recognised = self.week  # registering is itself recognised
        self.volunteer_of[index] = r
        return r

    def remove_volunteer(self, index: int) -> None:
        self.residents[index].is_volunteer = False
        del self.volunteer_of[index]

    # --- the population mirror ----------------------------------------------------------------------
    def _write_attitudes(self) -> None:
        pop = self.population
        pop.satisfaction[:] = [r.satisfaction for r in self.residents]
        pop.trust[:] = [r.trust for r in self.residents]

    def _read_attitudes(self) -> None:
        pop = self.population
        for r, s, t in zip(self.residents, pop.satisfaction.tolist(), pop.trust.tolist(), strict=True):
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
        pop, rs = self.population, self.residents
        pop.points[:] = [r.points for r in rs]
        pop.volunteer[:] = [r.is_volunteer for r in rs]
        pop.last_recognised[:] = [r.last_recognised for r in rs]
        pop.hours_this_week[:] = [r.hours_this_week for r in rs]
        pop.activities_52[:] = [r.activities_52 for r in rs]

    # --- the week (the schedule of CommunityModel.step) -------------------------------------------
    def step(self) -> None:
        b, pol = self.cfg.behaviour, self.cfg.policy
        residents = self.agents_by_type[ReferenceResident]
        self.week_stats = dict.fromkeys(COUNT_KEYS, 0)
        self.week_stats["deliberation_satisfaction"] = np.nan
        self.week_stats["volunteer_hours"] = 0.0
        self.gov_spending_fen = 0
        self.fund.start_week()
        for org in self.organisations:
            org.start_week()

        # 1. enterprises (shared code, as in CommunityModel.step)
        local_units = int(self.streams["market"].binomial(self.adults, b.purchase_prob))
        if self.product_sellers:
            split = self.streams["market"].multinomial(local_units, [1 / len(self.product_sellers)]
                                                       * len(self.product_sellers))
        for e in self.enterprises:
            e.sell(int(split[self.product_sellers.index(e)]) if e.sells_product else 0)
            e.give_lump()

        # 2–3. residents raise demands, volunteers take part
        self.reported_this_week = []
        self.coverage = self.supervision_coverage()
        self.activity_prob = b.activity_prob * (1 + b.activity_supervised_boost * self.coverage) \
            * (1 + b.activity_recognition_boost * pol.moral_bank.enabled)
        residents.shuffle_do("raise_demand_and_take_part")
        who = np.array([i for i, _ in self.reported_this_week], dtype=np.int64)
        kinds = np.array([k for _, k in self.reported_this_week], dtype=np.int8)
        self.community.receive_demands(who, kinds, self.week)
        self.week_stats["volunteer_hours"] = self.week_stats["volunteer_activities"] * b.hours_per_activity

        # 4. dispatch (shared code)
        with self._population_synced():
            self.community.dispatch()

        # 5. giving and points
        self.donations_fen = 0
        residents.shuffle_do("donate")
        self.fund.receive("resident_donations", self.donations_fen)
        if pol.fund.government_match_ratio > 0 and self.donations_fen > 0:
            self.fund.receive("government", round(self.donations_fen * pol.fund.government_match_ratio))
        if pol.moral_bank.enabled:
            self.redemptions_open = True
            residents.shuffle_do("redeem_points")

        # 6–8. the fund, contracts, deliberation, organisations, incubation (shared code)
        with self._population_synced():
            self.fund.step()
            self.community.contract_round()
            self.community.deliberate()
            for org in list(self.organisations):
                org.step()
            for sw in self.station_workers:
                sw.step()

        # 9. volunteers drop out; residents register (seeing the grid after drop-outs); trust drifts
        residents.shuffle_do("drop_out")
        vols = [0] * self.population.n_grids
        for r in self.residents:
            vols[r.grid] += r.is_volunteer
        self.grid_volunteer_share = [v / max(n, 1) for v, n in zip(vols, self.people_per_grid, strict=True)]
        mobilise = b.register_mobilisation * self.spare_supervision() if pol.social_work.mobilisation else 0.0
        self.register_boost = (1 + mobilise) * (1 + b.register_moral_bank * pol.moral_bank.enabled)
        residents.shuffle_do("register_and_update_attitudes")

        # 10. record (shared code)
        self._write_all()
        self.records.append(self._indicators())
        self.week += 1


def run_reference(settings: SimConfig | DictConfig, progress: bool = False) -> pd.DataFrame:
    """Run the per-agent reference for ``settings.steps`` weeks; the weekly indicators, as CommunityModel.run."""
    return ReferenceModel(to_settings(settings)).run(progress=progress)
