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

from sim.config import GROUPS, Governance

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import CommunityModel

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
    kinds: np.ndarray      # its DemandKind
    raised: int            # all demands raised this week
    unreported: int        # raised but neither reported nor found: they stay unmet

    @property
    def reported(self) -> int:
        return int(self.residents.size)


@dataclass(frozen=True)
class Activities:
    """Volunteer activities this week and the hours they give (the volunteers' capacity for simple demands)."""

    activities: int
    hours: float


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


@dataclass(frozen=True)
class Attendance:
    """Residents at this week's council meeting, and their satisfaction with it (NaN when nobody came)."""

    participants: int
    satisfaction: float


NO_MEETING = Attendance(participants=0, satisfaction=np.nan)


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
        # needy households: the poorest share of households (by the income of their lowest-earning member)
        n_needy_hh = round(cfg.needy_share * h)
        first_income = np.full(h, np.inf)
        np.minimum.at(first_income, household, income)
        needy_hh = np.zeros(h, dtype=bool)
        if n_needy_hh:
            needy_hh[np.argsort(first_income, kind="stable")[:n_needy_hh]] = True
        volunteer = np.zeros(n, dtype=bool)
        adults = np.flatnonzero(group != CHILDREN)
        n_vol = min(round(cfg.volunteers_initial_share * n), adults.size)
        if n_vol:
            volunteer[rng.choice(adults, size=n_vol, replace=False, p=civic[adults] / civic[adults].sum())] = True

        self.group = group                                       # int8, index into GROUPS (青老幼工新)
        self.household = household                               # int32
        self.grid = (household * self.n_grids // h).astype(np.int32)  # int32, the grid (网格) of the household
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
        # each resident's weekly demand rate, from their group (004 青老幼工新, rates: assumption)
        self.demand_rate = np.asarray(model.cfg.behaviour.demand_rates.as_tuple(), dtype=float)[group]

    # --- counts -----------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return int(self.group.size)

    @property
    def adults(self) -> int:
        """Residents who are not children (the buyers of the local product)."""
        return int((self.group != CHILDREN).sum())

    @property
    def volunteers(self) -> int:
        """Registered volunteers."""
        return int(np.count_nonzero(self.volunteer))

    @property
    def n_needy(self) -> int:
        return int(self.needy.sum())

    def grid_volunteer_share(self) -> np.ndarray:
        """Share of registered volunteers among each grid's residents (the neighbourhood influence)."""
        vols = np.bincount(self.grid, weights=self.volunteer, minlength=self.n_grids)
        people = np.bincount(self.grid, minlength=self.n_grids)
        return vols / np.maximum(people, 1)

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
        u_raise, u_kind, u_report, u_grid = (rng.random(n) for _ in range(4))
        who = np.flatnonzero(u_raise < self.demand_rate)
        kind = np.where(u_kind[who] < b.structural_share, DemandKind.STRUCTURAL,
                        np.where(u_kind[who] < b.structural_share + b.professional_share,
                                 DemandKind.PROFESSIONAL, DemandKind.SIMPLE)).astype(np.int8)
        p_report = b.report_base + b.report_trust_weight * self.trust[who]
        reported = (u_report[who] < p_report) | (u_grid[who] < b.grid_discovery)
        unmet = who[~reported]
        counts = np.bincount(unmet, minlength=0)
        hit = np.flatnonzero(counts)
        _update_towards(self.satisfaction, hit, 0, counts[hit], b.satisfaction_rate)
        return NewDemands(residents=who[reported], kinds=kind[reported], raised=int(who.size),
                          unreported=int(unmet.size))

    def take_part(self, coverage: float, week: int) -> Activities:
        """Registered volunteers take part in activities (rule: assumption, levers from 003/004).

        weekly chance = activity_prob × (1 + activity_supervised_boost × supervision coverage)
                        × (1 + activity_recognition_boost, if the moral bank gives points).
        An activity lasts ``hours_per_activity`` hours; these hours are the volunteers' capacity to
        answer simple demands this week.  With the moral bank each activity earns points and counts
        as recognition; without it, a volunteer is recognised when a social worker supervises them
        (chance: the supervision ``coverage``).
        """
        b, pol = self.model.cfg.behaviour, self.model.cfg.policy
        rng = self.model.streams["volunteer"]
        u_act, u_rec = rng.random(self.size), rng.random(self.size)
        p = b.activity_prob * (1 + b.activity_supervised_boost * coverage) \
            * (1 + b.activity_recognition_boost * pol.moral_bank.enabled)
        active = self.volunteer & (u_act < p)
        self.record_activities(active, week)
        n_active = int(active.sum())
        if pol.moral_bank.enabled:
            self.points[active] += pol.moral_bank.points_per_activity
            self.last_recognised[active] = week
        else:
            recognised = active & (u_rec < coverage)
            self.last_recognised[recognised] = week
        return Activities(activities=n_active, hours=n_active * b.hours_per_activity)

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
        good = np.bincount(completed, minlength=self.size)
        bad = np.bincount(closed, minlength=self.size) - good
        who = np.flatnonzero(good + bad)
        _update_towards(self.satisfaction, who, good[who], bad[who], b.satisfaction_rate)
        _update_towards(self.trust, who, good[who], bad[who], b.trust_rate)

    def donate(self) -> Donations:
        """Residents give to the fund (003 居民捐赠).  Rule (assumption):

        weekly chance = donate_prob × civic propensity × trust
                        × (1 + fundraising_boost if the fund appeals publicly)
                        × (1 + transparency_giving × transparency)
                        × (1 + resident_led_giving if the fund is resident-led);
        a gift is ``donate_income_share`` of the resident's monthly income.
        """
        b, lever = self.model.cfg.behaviour, self.model.cfg.policy.fund
        u = self.model.streams["donation"].random(self.size)
        boost = (1 + b.fundraising_boost * lever.public_fundraising) \
            * (1 + b.transparency_giving * lever.transparency) \
            * (1 + b.resident_led_giving * (lever.governance is Governance.resident_led))
        p = b.donate_prob * self.civic * self.trust * boost
        givers = np.flatnonzero(u < p)
        fen = np.round(self.income[givers] * b.donate_income_share * 100).astype(np.int64)
        return Donations(donors=int(givers.size), fen=int(fen.sum()))

    def redeem_points(self, fund_balance_fen: int) -> Redemptions:
        """Residents over the threshold redeem moral-bank points for goods (003 道德银行).

        A resident with at least ``redeem_threshold_points`` redeems with chance ``redeem_prob`` a
        week, all points at ``yuan_per_point``.  The fund pays the goods (outflow ``moral_bank``)
        out of its ``fund_balance_fen``; when it cannot pay everyone, the residents paid are those
        first in a random order and the rest keep their points.
        """
        lever = self.model.cfg.policy.moral_bank
        u = self.model.streams["volunteer"].random(self.size)
        if not lever.enabled:
            return Redemptions(redeemed=0, fen=0)
        want = np.flatnonzero((self.points >= lever.redeem_threshold_points)
                              & (u < self.model.cfg.behaviour.redeem_prob))
        if want.size == 0:
            return Redemptions(redeemed=0, fen=0)
        want = self.model.streams["redemption"].permutation(want)
        fen = np.round(self.points[want] * lever.yuan_per_point * 100).astype(np.int64)
        affordable = np.cumsum(fen) <= fund_balance_fen
        self.points[want[affordable]] = 0.0
        return Redemptions(redeemed=int(affordable.sum()), fen=int(fen[affordable].sum()))

    def receive_needy_support(self, support: float) -> None:
        """The fund's support lifts needy residents' satisfaction a little (assumption: a tenth of one
        good demand outcome per full weekly support; ``support`` is the share of it paid, 0 to 1)."""
        if support <= 0:
            return
        rate = self.model.cfg.behaviour.satisfaction_rate
        idx = np.flatnonzero(self.needy)
        self.satisfaction[idx] += rate * 0.1 * support * (1 - self.satisfaction[idx])

    def attend_council(self, meeting: bool) -> Attendance:
        """Residents attend the residents' council (003 四议; 004 爱邻议事日、火塘议事会).

        Each resident attends a ``meeting`` with chance ``deliberation_participation`` × civic
        propensity × trust (one draw per resident every week, meeting or not, for common random
        numbers); attending raises trust by ``deliberation_trust`` towards 1.  Satisfaction with
        the deliberation is the participants' chance of saying they are satisfied, taken as their
        trust after the meeting (assumption).
        """
        b = self.model.cfg.behaviour
        u = self.model.streams["deliberation"].random(self.size)
        if not meeting:
            return NO_MEETING
        idx = np.flatnonzero(u < b.deliberation_participation * self.civic * self.trust)
        self.trust[idx] += b.deliberation_trust * (1 - self.trust[idx])
        return Attendance(participants=int(idx.size),
                          satisfaction=float(self.trust[idx].mean()) if idx.size else np.nan)

    def benefit_from_projects(self, gain: float) -> None:
        """Public projects the fund paid lift every resident's satisfaction by ``gain`` towards 1."""
        self.satisfaction += gain * (1 - self.satisfaction)

    def drop_out(self, week: int) -> int:
        """Volunteers drop out (assumption): a base rate, plus more when unrecognised for
        ``recognition_window_weeks``, plus more when burnt out (over ``burnout_activities`` in 52 weeks).

        Returns the number of volunteers who left.
        """
        b = self.model.cfg.behaviour
        u = self.model.streams["volunteer"].random(self.size)
        unrecognised = (week - self.last_recognised) >= b.recognition_window_weeks
        burnt = self.activities_52 > b.burnout_activities
        p = b.dropout_base + b.dropout_unrecognised * unrecognised + b.dropout_burnout * burnt
        leaving = self.volunteer & (u < p)
        self.volunteer[leaving] = False
        return int(leaving.sum())

    def register_volunteers(self, spare_supervision: float, week: int) -> int:
        """Residents register as volunteers (003 志愿服务; rule: assumption).

        weekly chance = register_base × civic propensity
                        × (1 + register_influence × share of volunteers among the grid's residents)
                        × (1 + register_mobilisation × spare supervision capacity, if social workers mobilise)
                        × (1 + register_moral_bank, if the moral bank runs).
        Children do not register; registering is itself recognised.  Returns the number of new volunteers.
        """
        b, pol = self.model.cfg.behaviour, self.model.cfg.policy
        u = self.model.streams["volunteer"].random(self.size)
        grid_share = self.grid_volunteer_share()
        mobilise = b.register_mobilisation * spare_supervision if pol.social_work.mobilisation else 0.0
        p = b.register_base * self.civic * (1 + b.register_influence * grid_share[self.grid]) \
            * (1 + mobilise) * (1 + b.register_moral_bank * pol.moral_bank.enabled)
        new = ~self.volunteer & (self.group != CHILDREN) & (u < p)
        self.volunteer[new] = True
        self.last_recognised[new] = week
        return int(new.sum())

    def update_attitudes(self, fund_spent: bool) -> None:
        """Weekly trust feedback (assumption).

        Trust drifts towards satisfaction (``trust_drift``); visible fund spending (``fund_spent``)
        raises trust in proportion to the fund's transparency (003: 公开、公平、透明).
        """
        b = self.model.cfg.behaviour
        self.trust += b.trust_drift * (self.satisfaction - self.trust)
        if fund_spent:
            gain = b.fund_visibility_trust * self.model.cfg.policy.fund.transparency
            self.trust += gain * (1.0 - self.trust)
        np.clip(self.trust, 0.0, 1.0, out=self.trust)
