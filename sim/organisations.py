"""Social organisations and social workers: the professional and self-organised parties of the linkage.

* :class:`SocialOrganization` — professional agencies (专业社工机构), resident self-organisations
  (居民自组织) and community social enterprises (社区社会企业): budget, staff, capacity, income.
* :class:`SocialWorker`       — professional staff (社会工作者) of the community station or of an agency.

Each is a Mesa ``Agent``: they are few and each has its own history (budget, contracts, cases).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from mesa import Agent

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import CommunityModel


class OrgKind(Enum):
    PROFESSIONAL_AGENCY = "professional_agency"  # 专业社工机构
    SELF_ORGANISATION = "self_organisation"      # 居民自组织 / 社区社会组织
    SOCIAL_ENTERPRISE = "social_enterprise"      # 社区社会企业


@dataclass(frozen=True)
class OrganisationWeek:
    """What one organisation's week came to: the government contract money it received, and whether it folds."""

    contract_fen: int
    folds: bool


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

    def incubates(self) -> bool:
        """Whether this worker incubates a new self-organisation this week.

        A station worker does so with chance ``incubations_per_worker_year`` / 52 a week; an agency's
        worker does not (one draw from the ``orgs`` stream per station worker and week).
        """
        if not self.at_station:
            return False
        rate = self.model.cfg.policy.social_work.incubations_per_worker_year / 52.0
        return bool(self.model.streams["orgs"].random() < rate)


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
    def step(self) -> OrganisationWeek:
        """Earn this week's own income, pay running costs, and fold after ``org_fold_weeks`` without income.

        Returns the government contract payment received this week (government spending) and
        whether the organisation folds (the model then removes it).
        """
        model, b, pol = self.model, self.model.cfg.behaviour, self.model.cfg.policy
        rng = model.streams["orgs"]
        u_sales = rng.random()
        contract_fen = 0
        if self.contract_weeks_left > 0:            # government purchase of services (003)
            contract_fen = self.contract_fen_week
            self.earn(contract_fen)
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
        return OrganisationWeek(contract_fen=contract_fen, folds=self.weeks_without_income >= b.org_fold_weeks)

    def start_week(self) -> None:
        self.income_fen = 0
        self.cases = 0
