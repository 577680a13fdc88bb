"""The residents: the people the five-society linkage serves, the pool of volunteers and donors.

Residents are many (12,000 in an urban community) and alike in their rules, so they are held the
way mesa-frames and Starsim hold a population: one :class:`Residents` object with an array per
attribute (entry ``i`` of every array is resident ``i``), whose methods are the weekly resident
rules, each applied to everyone at once.  A rule returns what it counted this week (a small
frozen record such as :class:`NewDemands`) to the model, which builds the weekly table from them;
only these methods change the residents' arrays.

Each rule says in its docstring what a sociologist would say, and where it comes from: a seed
document (000–004 in ``shared/seeds``) or "assumption".  Every random draw comes from one of the
model's named streams (``model.streams``), and most rules draw one number per resident per week
whatever the policy, so two policies run with the same seed see the same residents and demands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.levers import fund as fund_lever
from sim.levers import moral_bank, social_work
from sim.settings.config import GROUPS

if TYPE_CHECKING:  # pragma: no cover
    from sim.model.community_model import CommunityModel

WINDOW = 52  # weeks in the volunteer-activity window ("at least … times per year", 003 专栏1 #28)
CHILDREN = GROUPS.index("children")


class DemandKind:
    """Kinds of resident demand, by who can solve them."""

    SIMPLE = 0        # a volunteer can help (errands, visits, small repairs)
    PROFESSIONAL = 1  # needs a professional organisation (care, counselling, legal aid)
    STRUCTURAL = 2    # only the street or a department can solve it (escalated: 街道吹哨、部门报到)


# ----------------------------------------------------------------------------------------------
# What the weekly rules return
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class NewDemands:
    """This week's new demands: those that reached the community (by report or grid worker) and the rest."""

    residents: np.ndarray  # who raised each demand that reached the community, by resident index
    kinds: np.ndarray      # its DemandKind (who can solve it)
    types: np.ndarray      # its work-order type (sim.model.platform.OrderType: help, complaint, suggestion)
    raised: int            # all demands raised this week
    unmet: np.ndarray      # who raised a demand that was neither reported nor found (it stays unmet)

    @property
    def reported(self) -> int:
        return int(self.residents.size)

    @property
    def unreported(self) -> int:
        return int(self.unmet.size)


@dataclass(frozen=True, eq=False)
class Activities:
    """Volunteer activities this week (registered volunteers and unregistered residents) and the hours
    they give (the volunteers' capacity for simple demands)."""

    activities: int          # by registered volunteers
    casual: int              # by residents who are not registered
    hours: float
    took_part: np.ndarray    # bool per resident


@dataclass(frozen=True)
class Donations:
    """Residents who gave to the fund this week, and what they gave (fen)."""

    donors: int
    fen: int


@dataclass(frozen=True)
class Redemptions:
    """Residents paid for their moral-bank points this week, and what the fund owes them (fen)."""

    redeemed: int
    fen: int


@dataclass(frozen=True, eq=False)
class Attendance:
    """Residents at this week's council meeting (indices; empty when there was none)."""

    who: np.ndarray
    met: bool

    @property
    def participants(self) -> int:
        return int(self.who.size)


NO_MEETING = Attendance(who=np.zeros(0, dtype=np.int64), met=False)


def _update_towards(x: np.ndarray, idx: np.ndarray, good: np.ndarray | int, bad: np.ndarray | int,
                   rate: float) -> None:
    """Move x[idx] towards 1 once per good outcome and towards 0 once per bad one.

    Closed form of applying ``x += rate * (1 - x)`` ``good`` times, then ``x -= rate * x`` ``bad``
    times, so a resident with several outcomes in one week is updated exactly.
    """
    v = x[idx]
    v = 1.0 - (1.0 - v) * (1.0 - rate) ** good
    v = v * (1.0 - rate) ** bad
    x[idx] = v


class Residents:
    """All residents of one community, one array per attribute; the methods are their weekly rules."""

    def __init__(self, model: CommunityModel) -> None:
        """Draw the initial population of the community (distributions: assumption, sizes: config).

        Residents live in households (every household has at least one member; the others are
        spread at random), households in grids of ``households_per_grid`` (网格).  Each resident
        belongs to one group of 青老幼工新 (004), earns a log-normal monthly income, and has a civic
        propensity, trust and satisfaction drawn from beta distributions around the preset's means.
        The poorest ``needy_share`` of households are needy (困难群众); ``volunteers_initial_share``
        of residents, adults chosen in proportion to civic propensity, start as volunteers.
        """
        self.model = model
        cfg, rng = model.cfg.community, model.streams["population"]
        n, h = cfg.residents, cfg.households
        household = np.concatenate([np.arange(h), rng.integers(0, h, n - h)]).astype(np.int32)
        household.sort()
        self.n_grids = max(1, int(np.ceil(h / cfg.households_per_grid)))
        shares = np.asarray(cfg.groups.as_tuple(), dtype=float)
        group = rng.choice(len(GROUPS), size=n, p=shares / shares.sum()).astype(np.int8)
        income = cfg.income_median_yuan_month * np.exp(cfg.income_sigma * rng.standard_normal(n))
        conc = 4.0
        civic = rng.beta(cfg.civic_mean * conc, (1 - cfg.civic_mean) * conc, n)
        trust = rng.beta(cfg.trust_initial * 8, (1 - cfg.trust_initial) * 8, n)
        satisfaction = rng.beta(cfg.satisfaction_initial * 8, (1 - cfg.satisfaction_initial) * 8, n)
        self.satisfaction_reference = satisfaction.copy()          # float64, level without recent experiences
        # needy households: the poorest share of households (by the income of their lowest-earning member)
        n_needy_hh = round(cfg.needy_share * h)
        first_income = np.full(h, np.inf)
        np.minimum.at(first_income, household, income)
        needy_hh = np.zeros(h, dtype=bool)
        if n_needy_hh:
            needy_hh[np.argsort(first_income, kind="stable")[:n_needy_hh]] = True
        volunteer = np.zeros(n, dtype=bool)
        adult = group != CHILDREN
        adults = np.flatnonzero(adult)
        n_vol = min(round(cfg.volunteers_initial_share * n), adults.size)
        if n_vol:
            volunteer[rng.choice(adults, size=n_vol, replace=False, p=civic[adults] / civic[adults].sum())] = True

        self.group = group                                       # int8, index into GROUPS (青老幼工新)
        self.adult = adult                                       # bool, not a child (groups do not change)
        self.household = household                               # int32
        self.grid = (household * self.n_grids // h).astype(np.int32)  # int32, the grid (网格) of the household
        self.grid_people = np.bincount(self.grid, minlength=self.n_grids)  # residents of each grid
        self.income = income                                     # float64, yuan per month
        self.civic = civic                                       # float64, civic propensity 0–1
        self.trust = trust                                       # float64, trust in community institutions 0–1
        self.satisfaction = satisfaction                         # float64, chance of answering "satisfied" 0–1
        self.needy = needy_hh[household]                         # bool, member of a needy household
        self.points = np.zeros(n)                                # float64, moral-bank points (道德银行积分)
        self.volunteer = volunteer                               # bool, registered volunteer
        self.last_recognised = np.zeros(n, dtype=np.int64)       # week the volunteer was last recognised
        self.activity_ring = np.zeros((WINDOW, n), dtype=np.uint8)  # activities per week, last 52 weeks
        self.activities_52 = np.zeros(n, dtype=np.int16)         # activities in the last 52 weeks
        self.member_of = np.full(n, -1, dtype=np.int64)          # unique id of the self-organisation joined, -1 none
        self.demands_cycle = np.zeros(n, dtype=np.int16)         # demands raised since the last project round
        self.unmet_cycle = np.zeros(n, dtype=np.int16)           # … of them unmet (unreported, unanswered, unresolved)
        # each resident's weekly demand rate, from their group (004 青老幼工新, rates: assumption)
        self.demand_rate = np.asarray(model.cfg.behaviour.demand_rates.as_tuple(), dtype=float)[group]

    # --- counts -----------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return int(self.group.size)

    @property
    def adults(self) -> int:
        """Residents who are not children (the buyers of the local product)."""
        return np.count_nonzero(self.adult)

    @property
    def volunteers(self) -> int:
        """Registered volunteers."""
        return int(np.count_nonzero(self.volunteer))

    def members_of(self, group: str) -> np.ndarray:
        """Indices of the residents in ``group`` of 青老幼工新 (sim.settings.schema.GROUPS: youth, elderly, children,
        workers, new_employment)."""
        return np.flatnonzero(self.group == GROUPS.index(group))

    @property
    def n_needy(self) -> int:
        return np.count_nonzero(self.needy)

    def grid_volunteer_share(self) -> np.ndarray:
        """Share of registered volunteers among each grid's residents (the neighbourhood influence)."""
        vols = np.bincount(self.grid[self.volunteer], minlength=self.n_grids)
        return vols / np.maximum(self.grid_people, 1)

    def record_activities(self, active: np.ndarray, week: int) -> None:
        """Roll the 52-week activity window forward by one week."""
        slot = week % WINDOW
        self.activities_52 -= self.activity_ring[slot]
        self.activity_ring[slot] = active
        self.activities_52 += active.astype(np.int16)

    # --- weekly rules -----------------------------------------------------------------------------
    def raise_demands(self) -> NewDemands:
        """Residents raise service demands at group-specific weekly rates (004 青老幼工新, rates: assumption).

        A demand is structural with chance ``structural_share``, professional with chance
        ``professional_share``, simple otherwise.  A resident reports it with chance
        ``report_base + report_trust_weight × trust`` (assumption); a grid worker discovers an
        unreported one with chance ``grid_discovery`` (003 "网格发现、社区呼叫").  The rest stay
        unmet, and each lowers its resident's satisfaction (not trust: nobody was asked).
        """
        b, rng = self.model.cfg.behaviour, self.model.streams["demand"]
        n = self.size
        who = np.flatnonzero(rng.random(n, dtype=np.float32) < self.demand_rate)
        # the raisers are the same under every policy (their rates are), so these draws are too
        u_kind, u_report, u_grid, u_type = (rng.random(who.size, dtype=np.float32) for _ in range(4))
        kind = np.where(u_kind < b.structural_share, DemandKind.STRUCTURAL,
                        np.where(u_kind < b.structural_share + b.professional_share,
                                 DemandKind.PROFESSIONAL, DemandKind.SIMPLE)).astype(np.int8)
        # its work-order type, independent of who can solve it (assumption); shares from [K1]
        order_type = np.where(u_type < b.complaint_share, 1, np.where(u_type < b.complaint_share + b.suggestion_share,
                                                                      2, 0)).astype(np.int8)
        p_report = b.report_base + b.report_trust_weight * self.trust[who]
        reported = (u_report < p_report) | (u_grid < b.grid_discovery)
        unmet = who[~reported]
        self.demands_cycle[who] += 1  # one demand at most per resident a week
        self.unmet_cycle[unmet] += 1
        _update_towards(self.satisfaction, unmet, 0, 1, b.satisfaction_rate)
        return NewDemands(residents=who[reported], kinds=kind[reported], types=order_type[reported],
                          raised=int(who.size), unmet=unmet)

    def take_part(self, coverage: float, week: int) -> Activities:
        """Residents take part in volunteer activities (rule: assumption in form, rates from [V3][V4]).

        A registered volunteer's weekly chance = activity_prob × civic propensity
                        × (1 + activity_supervised_boost × supervision coverage)
                        × (1 + activity_recognition_boost, if the moral bank gives points);
        an unregistered adult's = casual_activity_prob × civic propensity (a quarter of China's
        volunteers are not registered, [V3]), so registration drives that enrol the less civic add
        inactive registrants.  An activity lasts ``hours_per_activity`` hours; these hours are the
        volunteers' capacity to help with simple demands this week.  With the moral bank each
        activity earns points and counts as recognition; without it, a volunteer is recognised when
        a social worker supervises them (chance: the supervision ``coverage``).
        """
        b = self.model.cfg.behaviour
        rng = self.model.streams["volunteer"]
        u_act = rng.random(self.size, dtype=np.float32)
        p = b.activity_prob * self.civic * (1 + b.activity_supervised_boost * coverage) \
            * moral_bank.activity_factor(self.model)
        active = self.volunteer & (u_act < p)
        casual = ~self.volunteer & self.adult & (u_act < b.casual_activity_prob * self.civic)
        if moral_bank.award(self.model, self, active | casual, "activity"):
            self.last_recognised[active] = week
        else:
            recognised = active & (u_act < p * coverage)  # given u < p, u / p is uniform: a fresh chance
            self.last_recognised[recognised] = week
        n_active, n_casual = np.count_nonzero(active), np.count_nonzero(casual)
        return Activities(activities=n_active, casual=n_casual, hours=(n_active + n_casual) * b.hours_per_activity,
                          took_part=active | casual)

    def civic_acts(self) -> int:
        """Other civic acts the moral bank rewards (003 道德银行: 垃圾分类, 邻里互助 …; rate: assumption).

        An adult does one with chance ``civic_act_prob`` × civic propensity a week (drawn whatever the
        policy); where the moral bank runs each earns ``points_per_civic_act``.  Returns the acts.
        """
        b = self.model.cfg.behaviour
        u = self.model.streams["volunteer"].random(self.size, dtype=np.float32)
        acts = self.adult & (u < b.civic_act_prob * self.civic)
        moral_bank.award(self.model, self, acts, "civic")
        return np.count_nonzero(acts)

    def reward_sessions(self, took_part: np.ndarray) -> None:
        """Project sessions earn moral-bank points like volunteer activities, where the bank runs."""
        moral_bank.award(self.model, self, took_part, "activity")

    def experience(self, good: np.ndarray, bad: np.ndarray, rate: float) -> None:
        """One good or bad experience each for residents ``good`` and ``bad`` (a project session, care):
        satisfaction and trust move by ``rate`` towards 1 or 0 — their own experience, no one else's
        (expectancy-disconfirmation, docs/literature.md [T1]–[T4]; size: assumption)."""
        for idx, g, bd in ((good, 1, 0), (bad, 0, 1)):
            if idx.size:
                _update_towards(self.satisfaction, idx, g, bd, rate)
                _update_towards(self.trust, idx, g, bd, rate)

    def react_to_outcomes(self, completed: np.ndarray, closed: np.ndarray) -> None:
        """Residents whose demands were closed this week revise satisfaction and trust (assumption).

        ``completed`` and ``closed`` list, by resident index, the demands completed and all demands
        closed (completed, failed or expired unanswered).  A completed demand is a good outcome, a
        failed or unanswered one a bad outcome; each moves satisfaction by ``satisfaction_rate``
        and trust by ``trust_rate`` towards 1 or 0.
        """
        if closed.size == 0:
            return
        b = self.model.cfg.behaviour
        outcomes = np.bincount(closed, minlength=self.size)
        who = np.flatnonzero(outcomes)  # residents with a closed demand
        good = np.bincount(completed, minlength=self.size)[who]
        bad = outcomes[who] - good
        self.unmet_cycle[who] += bad.astype(np.int16)
        _update_towards(self.satisfaction, who, good, bad, b.satisfaction_rate)
        _update_towards(self.trust, who, good, bad, b.trust_rate)

    def react_to_waiting(self, waiting: np.ndarray) -> None:
        """Residents whose order is open past its deadline (超期) grow less satisfied, each week they wait, as with
        an unmet demand (rule: assumption; longer waits lower satisfaction, docs/literature.md [K26])."""
        if waiting.size:
            _update_towards(self.satisfaction, np.unique(waiting), 0, 1, self.model.cfg.behaviour.satisfaction_rate)

    def donate(self) -> Donations:
        """Residents give to the fund (003 居民捐赠).  Rule (assumption):

        weekly chance = donate_prob × civic propensity × trust
                        × (1 + fundraising_boost if the fund appeals publicly)
                        × (1 + transparency_giving × transparency)
                        × (1 + resident_led_giving if the fund is resident-led);
        a gift is ``donate_income_share`` of the resident's monthly income.
        """
        b = self.model.cfg.behaviour
        u = self.model.streams["donation"].random(self.size, dtype=np.float32)
        p = b.donate_prob * self.civic * self.trust * fund_lever.giving_factor(self.model)
        givers = np.flatnonzero(u < p)
        fen = np.round(self.income[givers] * b.donate_income_share * 100).astype(np.int64)
        return Donations(donors=int(givers.size), fen=int(fen.sum()))

    def redeem_points(self, fund_balance_fen: int) -> Redemptions:
        """Residents over the threshold redeem moral-bank points for goods (003 道德银行).

        A resident with at least ``redeem_threshold_points`` redeems with chance ``redeem_prob`` a
        week, all points at ``yuan_per_point``.  The fund pays the goods (outflow ``moral_bank``)
        out of the moral bank's stock ``fund_balance_fen`` (government support and donated goods,
        earmarked); when it cannot pay everyone, the residents paid are those first in a random
        order and the rest keep their points.
        """
        u = self.model.streams["volunteer"].random(self.size, dtype=np.float32)
        want = moral_bank.redeemers(self.model, self.points, u)
        if want.size == 0:
            return Redemptions(redeemed=0, fen=0)
        want = self.model.streams["redemption"].permutation(want)
        fen = moral_bank.value_fen(self.model, self.points[want])
        affordable = np.cumsum(fen) <= fund_balance_fen
        self.points[want[affordable]] = 0.0
        return Redemptions(redeemed=np.count_nonzero(affordable), fen=int(fen[affordable].sum()))

    def receive_needy_support(self, support: float) -> None:
        """The fund's care (关爱帮扶) reaches the needy: a good experience of size
        ``session_satisfaction_rate`` × ``support`` for each needy resident (``support``: the share of the
        full weekly support paid, 0 to 1; assumption)."""
        if support <= 0:
            return
        idx = np.flatnonzero(self.needy)
        self.experience(idx, idx[:0], self.model.cfg.behaviour.session_satisfaction_rate * support)

    def attend_council(self, meeting: bool) -> Attendance:
        """Residents attend the residents' council (003 四议; 004 爱邻议事日、火塘议事会).

        Each resident attends a ``meeting`` with chance ``deliberation_participation`` × civic
        propensity × trust (one draw per resident every week, meeting or not, for common random
        numbers); taking part raises trust by ``deliberation_trust`` towards 1 ([T9]).  How the
        participants rate the decision is the platform's (sim/model/platform.py).
        """
        b = self.model.cfg.behaviour
        u = self.model.streams["deliberation"].random(self.size, dtype=np.float32)
        if not meeting:
            return NO_MEETING
        idx = np.flatnonzero(u < b.deliberation_participation * self.civic * self.trust)
        self.trust[idx] += b.deliberation_trust * (1 - self.trust[idx])
        return Attendance(who=idx, met=True)

    def turnover(self, coverage: float, week: int) -> tuple[int, int]:
        """Volunteers drop out, then residents register (one draw per resident serves both: a volunteer
        leaves when ``u`` is below their drop-out chance, a resident registers when ``1 − u`` is below
        theirs, so the two never coincide).  Returns (dropped, new)."""
        u = self.model.streams["volunteer"].random(self.size, dtype=np.float32)
        return self.drop_out(week, u), self.register_volunteers(coverage, week, 1.0 - u)

    def drop_out(self, week: int, u: np.ndarray) -> int:
        """Volunteers drop out (assumption): a base rate, plus more when unrecognised for
        ``recognition_window_weeks``, plus more when burnt out (over ``burnout_activities`` in 52 weeks).

        Returns the number of volunteers who left.
        """
        b = self.model.cfg.behaviour
        unrecognised = self.last_recognised <= week - b.recognition_window_weeks
        burnt = self.activities_52 > b.burnout_activities
        p = b.dropout_base + b.dropout_unrecognised * unrecognised + b.dropout_burnout * burnt
        leaving = self.volunteer & (u < p)
        self.volunteer[leaving] = False
        return np.count_nonzero(leaving)

    def register_volunteers(self, coverage: float, week: int, u: np.ndarray) -> int:
        """Residents register as volunteers (003 志愿服务; rule: assumption).

        weekly chance = register_base × civic propensity
                        × (1 + register_influence × share of volunteers among the grid's residents)
                        × (1 + register_moral_bank, if the moral bank runs)
                      + register_base × register_mobilisation × supervision coverage, if social workers
                        mobilise (a registration drive: 「在行政安排下注册」, whatever the resident's civic
                        propensity, so it adds registrants who seldom take part, docs/literature.md [V3]).
        Children do not register; registering is itself recognised.  Returns the number of new volunteers.
        """
        b = self.model.cfg.behaviour
        grid_share = self.grid_volunteer_share()
        p = b.register_base * self.civic * (1 + b.register_influence * grid_share[self.grid]) \
            * moral_bank.registration_factor(self.model)
        if social_work.mobilises(self.model):  # a registration drive reaches residents whatever their civic propensity
            p = p + b.register_base * b.register_mobilisation * coverage
        new = ~self.volunteer & self.adult & (u < p)
        self.volunteer[new] = True
        self.last_recognised[new] = week
        return np.count_nonzero(new)

    def update_attitudes(self) -> None:
        """Weekly memory and trust feedback (assumption).

        Experiences fade: satisfaction moves 1/``satisfaction_memory_weeks`` of the way back towards
        the resident's reference level (expectation, [T1]–[T4]); trust drifts towards the resident's
        own satisfaction (``trust_drift``).  Nothing else moves them: no fund visibility, no one else's
        service.
        """
        b = self.model.cfg.behaviour
        self.satisfaction += (self.satisfaction_reference - self.satisfaction) / b.satisfaction_memory_weeks
        self.trust += b.trust_drift * (self.satisfaction - self.trust)
        np.clip(self.trust, 0.0, 1.0, out=self.trust)
