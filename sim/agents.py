"""The agents of the five-society linkage and their rules.

Five parties (五社, 003 "推动'五社联动'主体功能完善") plus the residents they serve:

* :class:`Resident`           — the people served; the pool of volunteers and donors.
* :class:`Volunteer`          — a registered resident (社区志愿者).
* :class:`SocialWorker`       — professional staff (社会工作者) of the station or of an agency.
* :class:`SocialOrganization` — professional agencies, resident self-organisations, social enterprises.
* :class:`Enterprise`         — a resident unit (驻区单位) selling a product; may give to the fund.
* :class:`CommunityFund`      — the community micro-fund (社区微基金), with its ledger.
* :class:`Community`          — the platform (社区"两委"): demand dispatch, contracts, deliberation.

Residents are many (12,000 in an urban community), so their numbers live in numpy arrays owned by
the model (:class:`~sim.population.Population`); a ``Resident`` agent's attributes are views into
those arrays, and the weekly resident rules are class methods that act on all residents at once.
Each rule says in its docstring what a sociologist would say, and where it comes from: a seed
document (000–004 in ``shared/seeds``) or "assumption".  Every random draw comes from one of the
model's named streams (``model.streams``), all spawned from the model's seeded generator.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from sim.config import GROUPS, Governance

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import CommunityModel


class DemandKind:
    """Kinds of resident demand, by who can solve them."""

    SIMPLE = 0        # a volunteer can help (errands, visits, small repairs)
    PROFESSIONAL = 1  # needs a professional organisation (care, counselling, legal aid)
    STRUCTURAL = 2    # only the street or a department can solve it (escalated: 街道吹哨、部门报到)


class Handler:
    """Who answered a demand."""

    VOLUNTEER = 0
    COMMUNITY_STAFF = 1  # the community's own workers: grid workers and the two committees' staff
    ORGANISATION = 2
    DEPARTMENT = 3


def _update_towards(x: np.ndarray, idx: np.ndarray, good: np.ndarray, bad: np.ndarray,
                    rate: float) -> None:
    """Move x[idx] towards 1 once per good outcome and towards 0 once per bad one.

    Closed form of applying ``x += rate * (1 - x)`` ``good`` times, then ``x -= rate * x`` ``bad``
    times, so a resident with several outcomes in one week is updated exactly.
    """
    v = x[idx]
    v = 1.0 - (1.0 - v) * (1.0 - rate) ** good
    v = v * (1.0 - rate) ** bad
    x[idx] = v


# ==============================================================================================
# Residents
# ==============================================================================================
class Resident(Agent):
    """A resident of one group of 青老幼工新 (004).  Attributes are views into the model's arrays."""

    def __init__(self, model: CommunityModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    # --- attributes (views into model.population) -------------------------------------------
    @property
    def group(self) -> str:
        return GROUPS[self.model.population.group[self.index]]

    @property
    def income(self) -> float:
        """Monthly income, yuan."""
        return float(self.model.population.income[self.index])

    @property
    def civic_propensity(self) -> float:
        return float(self.model.population.civic[self.index])

    @property
    def trust(self) -> float:
        return float(self.model.population.trust[self.index])

    @trust.setter
    def trust(self, value: float) -> None:
        self.model.population.trust[self.index] = value

    @property
    def satisfaction(self) -> float:
        return float(self.model.population.satisfaction[self.index])

    @satisfaction.setter
    def satisfaction(self, value: float) -> None:
        self.model.population.satisfaction[self.index] = value

    @property
    def moral_bank_points(self) -> float:
        return float(self.model.population.points[self.index])

    @property
    def is_volunteer(self) -> bool:
        return bool(self.model.population.volunteer[self.index])

    @property
    def needy(self) -> bool:
        return bool(self.model.population.needy[self.index])

    # --- weekly rules, applied to all residents at once ----------------------------------------
    @classmethod
    def raise_demands(cls, model: CommunityModel) -> None:
        """Residents raise service demands at group-specific weekly rates (004 青老幼工新, rates: assumption).

        A resident reports a demand with a chance that grows with trust in the community
        (assumption); a grid worker discovers an unreported one with chance ``grid_discovery``
        (003 "网格发现、社区呼叫").  Reported demands join the community's queue; the rest stay unmet.
        """
        pop, b, rng = model.population, model.cfg.behaviour, model.streams["demand"]
        n = pop.size
        u_raise, u_kind, u_report, u_grid = (rng.random(n) for _ in range(4))
        raised = u_raise < model.demand_rate_of_resident
        who = np.flatnonzero(raised)
        kind = np.where(u_kind[who] < b.structural_share, DemandKind.STRUCTURAL,
                        np.where(u_kind[who] < b.structural_share + b.professional_share,
                                 DemandKind.PROFESSIONAL, DemandKind.SIMPLE)).astype(np.int8)
        p_report = b.report_base + b.report_trust_weight * pop.trust[who]
        reported = (u_report[who] < p_report) | (u_grid[who] < b.grid_discovery)
        model.week_stats["demands_raised"] = int(who.size)
        model.week_stats["demands_reported"] = int(reported.sum())
        unmet = who[~reported]
        model.week_stats["demands_unreported"] = int(unmet.size)
        # An unmet demand lowers the resident's satisfaction (not trust: nobody was asked).
        counts = np.bincount(unmet, minlength=0)
        hit = np.flatnonzero(counts)
        _update_towards(pop.satisfaction, hit, 0, counts[hit], b.satisfaction_rate)
        model.community.receive_demands(who[reported], kind[reported], model.week)

    @classmethod
    def donate(cls, model: CommunityModel) -> None:
        """Residents give to the fund (003 居民捐赠).  Rule (assumption):

        weekly chance = donate_prob × civic propensity × trust
                        × (1 + fundraising_boost if the fund appeals publicly)
                        × (1 + transparency_giving × transparency)
                        × (1 + resident_led_giving if the fund is resident-led);
        a gift is ``donate_income_share`` of the resident's monthly income.
        """
        pop, b, fund = model.population, model.cfg.behaviour, model.fund
        lever = model.cfg.policy.fund
        u = model.streams["donation"].random(pop.size)
        boost = (1 + b.fundraising_boost * lever.public_fundraising) \
            * (1 + b.transparency_giving * lever.transparency) \
            * (1 + b.resident_led_giving * (lever.governance is Governance.resident_led))
        p = b.donate_prob * pop.civic * pop.trust * boost
        givers = np.flatnonzero(u < p)
        fen = np.round(pop.income[givers] * b.donate_income_share * 100).astype(np.int64)
        total = int(fen.sum())
        fund.receive("resident_donations", total)
        model.week_stats["donors"] = int(givers.size)
        if lever.government_match_ratio > 0 and total > 0:
            fund.receive("government", round(total * lever.government_match_ratio))

    @classmethod
    def redeem_points(cls, model: CommunityModel) -> None:
        """Residents over the threshold redeem moral-bank points for goods (003 道德银行).

        The fund pays the goods (outflow ``moral_bank``); when the fund cannot pay in full, the
        residents paid are those first in a random order and the rest keep their points.
        """
        lever = model.cfg.policy.moral_bank
        pop = model.population
        u = model.streams["volunteer"].random(pop.size)
        if not lever.enabled:
            return
        want = np.flatnonzero((pop.points >= lever.redeem_threshold_points) & (u < model.cfg.behaviour.redeem_prob))
        if want.size == 0:
            return
        want = model.streams["redemption"].permutation(want)
        fen = np.round(pop.points[want] * lever.yuan_per_point * 100).astype(np.int64)
        affordable = np.cumsum(fen) <= model.fund.balance_fen
        paid = want[affordable]
        model.fund.pay("moral_bank", int(fen[affordable].sum()))
        pop.points[paid] = 0.0
        model.week_stats["redemptions"] = int(paid.size)

    @classmethod
    def register_volunteers(cls, model: CommunityModel) -> None:
        """Residents register as volunteers (003 志愿服务; rule: assumption).

        weekly chance = register_base × civic propensity
                        × (1 + register_influence × share of volunteers among the grid's residents)
                        × (1 + register_mobilisation × spare supervision capacity, if social workers mobilise)
                        × (1 + register_moral_bank, if the moral bank runs).
        Children do not register.
        """
        pop, b, pol = model.population, model.cfg.behaviour, model.cfg.policy
        u = model.streams["volunteer"].random(pop.size)
        grid_share = pop.grid_volunteer_share()
        mobilise = b.register_mobilisation * model.spare_supervision() if pol.social_work.mobilisation else 0.0
        p = b.register_base * pop.civic * (1 + b.register_influence * grid_share[pop.grid]) \
            * (1 + mobilise) * (1 + b.register_moral_bank * pol.moral_bank.enabled)
        eligible = ~pop.volunteer & (pop.group != GROUPS.index("children"))
        new = np.flatnonzero(eligible & (u < p))
        for i in new:
            model.add_volunteer(int(i))
        model.week_stats["volunteers_new"] = int(new.size)

    @classmethod
    def update_attitudes(cls, model: CommunityModel) -> None:
        """Weekly trust feedback (assumption).

        Trust drifts towards satisfaction (``trust_drift``); visible fund spending raises trust in
        proportion to the fund's transparency (003: 公开、公平、透明).
        """
        pop, b = model.population, model.cfg.behaviour
        pop.trust += b.trust_drift * (pop.satisfaction - pop.trust)
        if model.fund.spent_this_week_fen > 0:
            gain = b.fund_visibility_trust * model.cfg.policy.fund.transparency
            pop.trust += gain * (1.0 - pop.trust)
        np.clip(pop.trust, 0.0, 1.0, out=pop.trust)


# ==============================================================================================
# Volunteers
# ==============================================================================================
class Volunteer(Agent):
    """A registered volunteer (社区志愿者), linked to its :class:`Resident`."""

    def __init__(self, model: CommunityModel, resident: Resident) -> None:
        super().__init__(model)
        self.resident = resident

    @property
    def weekly_hours(self) -> float:
        """Hours volunteered this week."""
        pop = self.model.population
        return float(pop.hours_this_week[self.resident.index])

    @property
    def activities_last_52_weeks(self) -> int:
        return int(self.model.population.activities_52[self.resident.index])

    @classmethod
    def take_part(cls, model: CommunityModel) -> None:
        """Registered volunteers take part in activities (rule: assumption, levers from 003/004).

        weekly chance = activity_prob × (1 + activity_supervised_boost × supervision coverage)
                        × (1 + activity_recognition_boost, if the moral bank gives points).
        An activity lasts ``hours_per_activity`` hours; these hours are the volunteers' capacity to
        answer simple demands this week.  With the moral bank each activity earns points and counts
        as recognition; without it, a volunteer is recognised when a social worker supervises them.
        """
        pop, b, pol = model.population, model.cfg.behaviour, model.cfg.policy
        rng = model.streams["volunteer"]
        u_act, u_rec = rng.random(pop.size), rng.random(pop.size)
        coverage = model.supervision_coverage()
        p = b.activity_prob * (1 + b.activity_supervised_boost * coverage) \
            * (1 + b.activity_recognition_boost * pol.moral_bank.enabled)
        active = pop.volunteer & (u_act < p)
        pop.record_activities(active, model.week)
        pop.hours_this_week[:] = np.where(active, b.hours_per_activity, 0.0)
        n_active = int(active.sum())
        if pol.moral_bank.enabled:
            pop.points[active] += pol.moral_bank.points_per_activity
            pop.last_recognised[active] = model.week
        else:
            recognised = active & (u_rec < coverage)
            pop.last_recognised[recognised] = model.week
        model.week_stats["volunteer_activities"] = n_active
        model.week_stats["volunteer_hours"] = n_active * b.hours_per_activity

    @classmethod
    def drop_out(cls, model: CommunityModel) -> None:
        """Volunteers drop out (assumption): a base rate, plus more when unrecognised for
        ``recognition_window_weeks``, plus more when burnt out (over ``burnout_activities`` in 52 weeks)."""
        pop, b = model.population, model.cfg.behaviour
        u = model.streams["volunteer"].random(pop.size)
        unrecognised = (model.week - pop.last_recognised) >= b.recognition_window_weeks
        burnt = pop.activities_52 > b.burnout_activities
        p = b.dropout_base + b.dropout_unrecognised * unrecognised + b.dropout_burnout * burnt
        leaving = np.flatnonzero(pop.volunteer & (u < p))
        for i in leaving:
            model.remove_volunteer(int(i))
        model.week_stats["volunteers_dropped"] = int(leaving.size)


# ==============================================================================================
# Social workers
# ==============================================================================================
class SocialWorker(Agent):
    """A professional social worker (社工) of the community station or of an agency.

    Supervises volunteers (raising what they achieve, 004 "专业社工+志愿服务"), and, at the
    station, incubates new resident self-organisations (003 孵化培育).
    """

    def __init__(self, model: CommunityModel, employer: SocialOrganization | None = None) -> None:
        super().__init__(model)
        self.employer = employer

    @property
    def at_station(self) -> bool:
        return self.employer is None

    def step(self) -> None:
        """A station worker incubates a new self-organisation at ``incubations_per_worker_year``/52 a week."""
        if not self.at_station:
            return
        rate = self.model.cfg.policy.social_work.incubations_per_worker_year / 52.0
        if self.model.streams["orgs"].random() < rate:
            self.model.add_organisation(OrgKind.SELF_ORGANISATION, incubated=True)


# ==============================================================================================
# Social organisations
# ==============================================================================================
class OrgKind(Enum):
    PROFESSIONAL_AGENCY = "professional_agency"  # 专业社工机构
    SELF_ORGANISATION = "self_organisation"      # 居民自组织 / 社区社会组织
    SOCIAL_ENTERPRISE = "social_enterprise"      # 社区社会企业


class SocialOrganization(Agent):
    """A social organisation: budget, staff and capacity; folds after a run of weeks without income.

    003: organisations are incubated and take on government-purchased service projects;
    004 (顺河社区): self-organisations hold charity sales, a social enterprise reinvests its profits.
    """

    def __init__(self, model: CommunityModel, kind: OrgKind, budget_yuan: float, incubated: bool) -> None:
        super().__init__(model)
        self.kind = kind
        self.budget_fen = round(budget_yuan * 100)
        self.incubated = incubated
        self.weeks_without_income = 0
        self.contract_fen_week = 0      # government purchase: payment per week while under contract
        self.contract_weeks_left = 0
        self.income_fen = 0             # this week
        self.cases = 0                  # this week
        self.cases_completed_period = 0  # since the last contract round (for evaluation)
        self.cases_period = 0
        self.staff: list[SocialWorker] = []

    # capacity --------------------------------------------------------------------------------
    def capacity(self) -> int:
        """Cases this organisation can take this week.

        A professional agency's staff handle ``org_cases_per_staff_week`` each while it can pay
        them (budget or income); a self-organisation's members give ``self_org_staff`` worker
        equivalents; a government contract adds the cases it pays for (contract ÷ cost per case).
        """
        b = self.model.cfg.behaviour
        if self.kind is OrgKind.PROFESSIONAL_AGENCY:
            staff = len(self.staff) if (self.budget_fen > 0 or self.contract_weeks_left > 0) else 0
        elif self.kind is OrgKind.SELF_ORGANISATION:
            staff = b.self_org_staff
        else:
            staff = 0.0
        cases = staff * b.org_cases_per_staff_week
        if self.contract_weeks_left > 0:
            cases += self.contract_fen_week / 100.0 / self.model.cfg.policy.gov_purchase.cost_per_case_yuan
        return int(cases)

    def earn(self, fen: int) -> None:
        self.income_fen += int(fen)
        self.budget_fen += int(fen)

    # weekly rule -------------------------------------------------------------------------------
    def step(self) -> None:
        """Earn this week's own income, pay running costs, and fold after ``org_fold_weeks`` without income."""
        model, b, pol = self.model, self.model.cfg.behaviour, self.model.cfg.policy
        rng = model.streams["orgs"]
        u_sales = rng.random()
        if self.contract_weeks_left > 0:            # government purchase of services (003)
            self.earn(self.contract_fen_week)
            model.gov_spending_fen += self.contract_fen_week
            self.contract_weeks_left -= 1
        if self.kind is OrgKind.SELF_ORGANISATION and pol.charity_sales.enabled:
            # Charity sales (004 豌豆手工坊 "通过义卖反哺社区微基金"): proceeds vary ±50 % (assumption).
            proceeds = round(pol.charity_sales.sales_yuan_per_org_week * (0.5 + u_sales) * 100)
            to_fund = round(proceeds * pol.charity_sales.share_to_fund)
            model.fund.receive("charity_sales", to_fund)
            self.earn(proceeds - to_fund)
        if self.kind is OrgKind.SOCIAL_ENTERPRISE:
            # Revenue from paid services (004 精品游线); a share of profit goes back to the fund.
            revenue = round(pol.social_enterprise.revenue_yuan_per_week * (0.5 + u_sales) * 100)
            profit = round(revenue * pol.social_enterprise.margin)
            give = round(profit * pol.social_enterprise.reinvest_share) if pol.social_enterprise.enabled else 0
            model.fund.receive("social_enterprise", give)
            self.earn(revenue - give)
            self.budget_fen -= revenue - profit     # operating costs of the enterprise
        cost = {OrgKind.PROFESSIONAL_AGENCY: b.org_cost_yuan_week,
                OrgKind.SELF_ORGANISATION: b.self_org_cost_yuan_week}.get(self.kind, 0.0)
        self.budget_fen = max(0, self.budget_fen - round(cost * 100))
        self.weeks_without_income = 0 if self.income_fen > 0 else self.weeks_without_income + 1
        if self.weeks_without_income >= b.org_fold_weeks:
            model.fold_organisation(self)

    def start_week(self) -> None:
        self.income_fen = 0
        self.cases = 0


# ==============================================================================================
# Enterprises
# ==============================================================================================
class Enterprise(Agent):
    """A resident unit (驻区单位).  Product enterprises sell bottles to residents and outside.

    Levers (003 三张清单和双向认领; 004 一分钱公益): a fixed donation per unit sold, a yearly lump
    donation, goods for the moral bank, employee volunteers.  A cause-marketing uplift (assumption,
    default 0) lets the reputation earned by giving raise sales.
    """

    REPUTATION_SCALE_FEN = 1_000_000  # 10,000 yuan of giving in a year ≈ 63 % reputation (assumption)

    def __init__(self, model: CommunityModel, sells_product: bool, per_unit_donor: bool,
                 lump_donor: bool) -> None:
        super().__init__(model)
        self.sells_product = sells_product
        self.per_unit_donor = per_unit_donor
        self.lump_donor = lump_donor
        self.units_sold = 0                       # this week
        self.given_52 = [0] * 52                  # fen given per week, last 52 weeks (ring)
        self.given_total_52 = 0                   # their sum
        self.fen_carry = 0.0                      # fraction of a fen owed (for fractional fen/unit)

    @property
    def reputation(self) -> float:
        """0–1: grows with what the enterprise gave in the last 52 weeks."""
        return 1.0 - math.exp(-self.given_total_52 / self.REPUTATION_SCALE_FEN)

    @property
    def takes_part(self) -> bool:
        """Took part in co-building (gave money, goods or volunteers) in the last 52 weeks."""
        return self.given_total_52 > 0 or self.model.cfg.policy.enterprise.employee_volunteer_hours_week > 0

    def _record_giving(self, fen: int, new_week: bool) -> None:
        slot = self.model.week % 52
        if new_week:
            self.given_total_52 -= self.given_52[slot]
            self.given_52[slot] = 0
        self.given_52[slot] += fen
        self.given_total_52 += fen

    def sell(self, units_to_residents: int) -> None:
        """Sell this week's units; a one-cent donor gives ``fen_per_unit`` fen for each unit (004)."""
        model, pol = self.model, self.model.cfg.policy
        outside = 0
        if self.sells_product:
            uplift = pol.enterprise.cause_marketing_uplift
            mean = model.cfg.community.units_per_week * (1 + uplift * self.reputation if uplift else 1)
            outside = int(model.streams["market"].poisson(mean))
        self.units_sold = outside + units_to_residents
        give_fen = 0
        if self.per_unit_donor and pol.micro_fund.fen_per_unit > 0:
            owed = self.units_sold * pol.micro_fund.fen_per_unit + self.fen_carry
            give_fen = math.floor(owed + 1e-9)
            self.fen_carry = max(0.0, owed - give_fen)
            model.fund.receive("enterprise_per_unit", give_fen)
        self._record_giving(give_fen, new_week=True)

    def give_lump(self) -> None:
        """Week 1 of each year: the lump donation and the moral-bank goods (assumption: paid yearly)."""
        model, lever = self.model, self.model.cfg.policy.enterprise
        if model.week % 52 != 0:
            return
        boost = 1 + model.cfg.behaviour.market_led_enterprise * (
            model.cfg.policy.fund.governance is Governance.market_led)
        fen = 0
        if self.lump_donor and lever.lump_yuan_per_year > 0:
            fen += round(lever.lump_yuan_per_year * boost * 100)
        if model.cfg.policy.moral_bank.enabled and lever.moral_bank_sponsor_yuan_per_year > 0:
            fen += round(lever.moral_bank_sponsor_yuan_per_year * 100)
        if fen:
            model.fund.receive("enterprise_lump", fen)
            self._record_giving(fen, new_week=False)


# ==============================================================================================
# The community fund
# ==============================================================================================
INFLOW_SOURCES = ("enterprise_per_unit", "enterprise_lump", "resident_donations", "charity_sales",
                  "social_enterprise", "government")
OUTFLOW_USES = ("needy_residents", "services", "projects", "moral_bank", "administration")


class CommunityFund(Agent):
    """The community micro-fund (社区微基金, 003 "大力推进社区基金发展"; 004).

    Money is kept in whole fen (integers) so that every week
    ``balance = previous balance + Σ inflows − Σ outflows`` holds exactly, and the balance never
    goes negative: a payment larger than the balance pays only the balance.
    """

    def __init__(self, model: CommunityModel) -> None:
        super().__init__(model)
        self.balance_fen = 0
        self.project_pot_fen = 0          # earmarked for projects, part of the balance
        self.inflow_fen = dict.fromkeys(INFLOW_SOURCES, 0)    # this week
        self.outflow_fen = dict.fromkeys(OUTFLOW_USES, 0)     # this week
        self.total_in_fen = dict.fromkeys(INFLOW_SOURCES, 0)  # whole run
        self.total_out_fen = dict.fromkeys(OUTFLOW_USES, 0)
        self.spent_this_week_fen = 0

    def start_week(self) -> None:
        for d in (self.inflow_fen, self.outflow_fen):
            for k in d:
                d[k] = 0
        self.spent_this_week_fen = 0

    def receive(self, source: str, fen: int) -> None:
        if source not in self.inflow_fen:
            raise KeyError(f"unknown fund inflow source {source!r}; allowed: {', '.join(INFLOW_SOURCES)}")
        fen = int(fen)
        if fen < 0:
            raise ValueError(f"fund inflow {source} must be non-negative, got {fen} fen")
        self.balance_fen += fen
        self.inflow_fen[source] += fen
        self.total_in_fen[source] += fen

    def pay(self, use: str, fen: int) -> int:
        """Pay up to ``fen`` for ``use``; returns what was paid (never more than the balance)."""
        if use not in self.outflow_fen:
            raise KeyError(f"unknown fund outflow use {use!r}; allowed: {', '.join(OUTFLOW_USES)}")
        fen = max(0, min(int(fen), self.balance_fen))
        self.balance_fen -= fen
        self.project_pot_fen = min(self.project_pot_fen, self.balance_fen)
        self.outflow_fen[use] += fen
        self.total_out_fen[use] += fen
        if use != "administration":
            self.spent_this_week_fen += fen
        return fen

    def spend_project(self, fen: int) -> int:
        """Pay a project from the project pot."""
        fen = min(int(fen), self.project_pot_fen)
        self.project_pot_fen -= fen
        return self.pay("projects", fen)

    def step(self) -> None:
        """Government grant in, then the week's spending by use (003: 困难群众、社区服务、公益项目).

        Each week the fund spends ``spend_share_per_week`` of its balance: ``needy_share`` to needy
        residents (at most ``needy_support_yuan_week`` each), ``services_share`` to organisations in
        proportion to the cases they handled, and ``projects_share`` into the project pot that the
        residents' council (or the fund committee) spends.  Administration takes ``admin_share`` of
        what was spent.
        """
        model, lever, b = self.model, self.model.cfg.policy.fund, self.model.cfg.behaviour
        if lever.government_grant_yuan_per_year > 0:
            grant = round(lever.government_grant_yuan_per_year * 100 / 52)
            self.receive("government", grant)
        model.gov_spending_fen += self.inflow_fen["government"]
        free = self.balance_fen - self.project_pot_fen
        budget = int(free * lever.spend_share_per_week)
        if budget <= 0:
            return
        # needy residents
        pop = model.population
        n_needy = int(pop.needy.sum())
        needy = min(int(budget * lever.needy_share), int(n_needy * b.needy_support_yuan_week * 100))
        paid_needy = self.pay("needy_residents", needy)
        if paid_needy and n_needy:
            # Support lifts needy residents' satisfaction a little (assumption: a tenth of one good
            # demand outcome per full weekly support).
            share = paid_needy / (n_needy * max(b.needy_support_yuan_week, 1e-9) * 100)
            idx = np.flatnonzero(pop.needy)
            pop.satisfaction[idx] += b.satisfaction_rate * 0.1 * share * (1 - pop.satisfaction[idx])
        # services bought from organisations, in proportion to cases handled this week
        services = int(budget * lever.services_share)
        orgs = [o for o in model.organisations if o.cases > 0]
        total_cases = sum(o.cases for o in orgs)
        if services > 0 and total_cases > 0:
            paid = 0
            for k, o in enumerate(orgs):
                share = services - paid if k == len(orgs) - 1 else services * o.cases // total_cases
                share = self.pay("services", share)
                o.earn(share)
                paid += share
        # projects: earmarked, spent by deliberation
        self.project_pot_fen += min(int(budget * lever.projects_share), self.balance_fen - self.project_pot_fen)
        spent = sum(self.outflow_fen[u] for u in OUTFLOW_USES if u != "administration")
        self.pay("administration", round(spent * lever.admin_share))


# ==============================================================================================
# The community platform
# ==============================================================================================
class Community(Agent):
    """The community platform (社区"两委"): demand dispatch, contracts and deliberation.

    003 "网格发现、社区呼叫、分级响应、部门参与、协同处置": demands reported by residents or found by
    grid workers are dispatched ("中心接件+分类派单") to volunteers, organisations, or upward to
    departments ("社区呼叫、街道吹哨、部门报到") when the community's own capacity runs out.
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
    def dispatch(self) -> None:
        """Dispatch the queue oldest first, within this week's capacities ("中心接件+分类派单", 003).

        * simple demands go to volunteers (capacity: volunteer hours ÷ hours per case, raised by
          social-worker supervision), then to the community's own staff (grid workers), then to
          organisations, then to departments;
        * professional demands go to organisations, then to departments;
        * structural demands go to the street and departments ("街道吹哨、部门报到");
        * a demand not answered in ``response_deadline_weeks`` dispatch rounds (the week it was
          reported counts as the first) is closed as unanswered (003 targets: response 100 %,
          completion ≥ 95 %).
        An answered demand is completed with the handler's success chance.  Each outcome moves the
        resident's satisfaction and trust (assumption).
        """
        model, b = self.model, self.model.cfg.behaviour
        rng = model.streams["dispatch"]
        n = self.q_resident.size
        u_done = rng.random(n)
        handler = np.full(n, -1, dtype=np.int8)

        coverage = model.supervision_coverage()
        hours = model.week_stats["volunteer_hours"] + model.employee_volunteer_hours()
        capacity = {
            Handler.VOLUNTEER: int(hours * (1 + model.cfg.policy.social_work.supervision_gain * coverage)
                                   / b.volunteer_hours_per_case),
            Handler.COMMUNITY_STAFF: int(model.population.n_grids * b.grid_worker_cases_week),
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
        if closed.any():
            pop = model.population
            good = np.bincount(self.q_resident[completed], minlength=pop.size)
            bad = np.bincount(self.q_resident[closed], minlength=pop.size) - good
            who = np.flatnonzero(good + bad)
            _update_towards(pop.satisfaction, who, good[who], bad[who], b.satisfaction_rate)
            _update_towards(pop.trust, who, good[who], bad[who], b.trust_rate)

        by_handler = np.bincount(handler + 1, minlength=5)
        ws = model.week_stats
        ws["demands_responded"] = int(n - by_handler[0])
        ws["demands_completed"] = int(completed.sum())
        ws["demands_expired"] = int(expired.sum())
        ws["demands_to_volunteers"] = int(by_handler[1 + Handler.VOLUNTEER])
        ws["demands_to_community_staff"] = int(by_handler[1 + Handler.COMMUNITY_STAFF])
        ws["demands_to_organisations"] = int(by_handler[1 + Handler.ORGANISATION])
        ws["demands_escalated"] = int(by_handler[1 + Handler.DEPARTMENT])
        ws["capacity_volunteers"] = capacity[Handler.VOLUNTEER]
        ws["capacity_organisations"] = capacity[Handler.ORGANISATION]
        keep = ~closed
        self.q_resident, self.q_kind, self.q_week = self.q_resident[keep], self.q_kind[keep], self.q_week[keep]

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
    def deliberate(self) -> None:
        """The residents' council chooses which public projects the fund pays for.

        With the deliberation lever (003 四议; 004 爱邻议事日、火塘议事会) the council meets every
        ``interval_weeks``: residents attend with chance ``deliberation_participation`` × civic
        propensity × trust; attending raises trust.  Without it the fund committee decides every
        13 weeks with no resident input.  Each project costs ``project_cost_yuan``, is carried out
        by an organisation (its income) and lifts every resident's satisfaction; a project the
        residents chose counts fully, one decided for them half (assumption).
        """
        model, b, lever = self.model, self.model.cfg.behaviour, self.model.cfg.policy.deliberation
        pop = model.population
        u = model.streams["deliberation"].random(pop.size)
        interval = lever.interval_weeks if lever.enabled else 13
        if (model.week + 1) % interval != 0:
            return
        weight = 1.0
        if lever.enabled:
            attend = u < b.deliberation_participation * pop.civic * pop.trust
            idx = np.flatnonzero(attend)
            pop.trust[idx] += b.deliberation_trust * (1 - pop.trust[idx])
            model.week_stats["deliberation_participants"] = int(idx.size)
            # Satisfaction with deliberation: participants' chance of saying they are satisfied,
            # taken as their trust after the meeting (assumption).
            model.week_stats["deliberation_satisfaction"] = float(pop.trust[idx].mean()) if idx.size else np.nan
        else:
            weight = 0.5
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
            gain = 1 - (1 - b.project_satisfaction * weight) ** n_projects
            pop.satisfaction += gain * (1 - pop.satisfaction)
        model.week_stats["projects_funded"] = n_projects
