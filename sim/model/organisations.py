"""Social organisations and social workers: the professional and self-organised parties of the linkage.

* :class:`SocialOrganization` — professional agencies (专业社工机构), resident self-organisations
  (居民自组织, handicraft workshops among them) and the community social enterprise (社区社会企业).
* :class:`SocialWorker`       — professional staff (社会工作者) of the community station or of an agency.

Each is a Mesa ``Agent``: they are few and each has its own history (budget, contracts, members,
track record).  Organisations live as they do (issue #11, docs/literature.md §5): an agency lives
on contracts and project money and folds after ``org_fold_weeks`` without income (年度制, 中标不确定,
[P9]); a self-organisation lives on its members' time and dissolves when fewer than
``self_org_min_members`` remain ([O2]); self-organisations also form bottom-up from active residents
(:func:`sim.model.groups.groups_week`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from mesa import Agent

from sim.levers import social_enterprise, social_work

if TYPE_CHECKING:  # pragma: no cover
    from sim.model.community_model import CommunityModel


def weekly_part(fen_left: int, weeks_left: int) -> int:
    """This week's payment of a contract that still owes ``fen_left`` over ``weeks_left`` weeks: an equal part,
    to the fen, so that the last week pays what the whole weeks left over and the contract pays its total exactly
    (¥200,000 a year paid as ``total // weeks`` each week lost 20 fen a year: ¥1,299,998.70 over 6.5 years, shown as
    ¥1,299,999)."""
    return fen_left // weeks_left if weeks_left > 0 else 0


class OrgKind(Enum):
    PROFESSIONAL_AGENCY = "professional_agency"  # 专业社工机构 (registered)
    SELF_ORGANISATION = "self_organisation"      # 居民自组织 / 社区社会组织 (lives on members' time)
    SOCIAL_ENTERPRISE = "social_enterprise"      # 社区社会企业


@dataclass(frozen=True)
class OrganisationWeek:
    """What one organisation's week came to: government contract money received, charity-sale and
    social-enterprise money, and whether it folds."""

    contract_fen: int
    folds: bool


class SocialWorker(Agent):
    """A professional social worker (社工) of the community station or of an agency.

    Surveys needs and designs projects (the project round, sim/model/projects.py), supervises volunteers
    (004 "专业社工+志愿服务"), and, at the station, helps groups of active residents form
    self-organisations (003 孵化培育).
    """

    def __init__(self, model: CommunityModel, employer: SocialOrganization | None = None) -> None:
        super().__init__(model)
        self.employer = employer
        self.extra = False  # added to the station by the policy (social_work.extra_social_workers)

    @property
    def at_station(self) -> bool:
        return self.employer is None

    def incubates(self) -> bool:
        """Whether this worker helps a group form this week (station workers only).

        Chance ``incubations_per_worker_year`` / 52 a week (one draw from the ``orgs`` stream per
        station worker and week); whether a group forms depends on the residents (sim/model/groups.py).
        """
        if not self.at_station:
            return False
        rate = social_work.incubation_chance(self.model)
        return bool(self.model.streams["orgs"].random() < rate)


class SocialOrganization(Agent):
    """A social organisation: budget, staff or members, capacity, contracts and a track record.

    003: organisations are incubated, take on government-purchased services and projects, and are
    evaluated; 004 (顺河社区): a handicraft workshop holds charity sales, a social enterprise
    reinvests its profits.
    """

    def __init__(self, model: CommunityModel, kind: OrgKind, budget_yuan: float, incubated: bool,
                 grid: int = -1, workshop: bool = False) -> None:
        super().__init__(model)
        self.kind = kind
        self.budget_fen = round(budget_yuan * 100)
        self.incubated = incubated
        self.grid = grid                  # a self-organisation's home grid (网格), -1 for the others
        self.workshop = workshop          # a handicraft workshop: has a product for charity sales (004)
        self.members = 0                  # a self-organisation's members (set weekly from the residents)
        self.weeks_without_income = 0
        self.contract_cases_week = 0.0    # government purchase: cases a week the contract pays for
        self.contract_fen_left = 0        # … the contract's money not yet paid (fen)
        self.contract_weeks_left = 0      # … and its weeks to run: paid in equal weekly parts, to the fen
        self.income_fen = 0               # this week
        self.cases = 0                    # this week
        self.cases_completed_period = 0   # since the last contract round (for evaluation)
        self.cases_period = 0
        self.projects_running = 0
        self.track_record = 0.5           # 0–1: evaluated delivery of its last contracts and projects
        self.last_served_week = -10**9    # last week it handled a case or ran a project session
        self.staff: list[SocialWorker] = []
        self.contract_staff: list[SocialWorker] = []  # posts a running purchase contract pays (in ``staff`` too)

    # capacity --------------------------------------------------------------------------------
    def capacity(self) -> float:
        """Cases (professional or simple) this organisation can take this week; fractions count.

        An agency takes work orders only as paid work: the cases its purchase contract pays for (contract ÷
        ``cost_per_case_yuan``, 003 政府购买服务; agencies live on contracts and project money, docs/literature.md
        [P9]); its own staff without a contract run projects, not casework, and an agency without a contract has
        no casework capacity.  The social enterprise takes ``service_cases_week``.  A self-organisation's mutual
        aid is counted with the volunteers (:meth:`mutual_aid_capacity`).
        """
        cases = 0.0
        if self.kind is OrgKind.SOCIAL_ENTERPRISE:
            cases += social_enterprise.service_cases(self.model)
        if self.contract_weeks_left > 0:
            cases += self.contract_cases_week
        return cases

    def mutual_aid_capacity(self) -> float:
        """Simple demands a self-organisation's members help with this week (members × ``member_cases_week``)."""
        if self.kind is not OrgKind.SELF_ORGANISATION:
            return 0.0
        return self.members * self.model.cfg.behaviour.member_cases_week

    def quality(self) -> float:
        """Chance a project session it runs goes well."""
        b = self.model.cfg.behaviour
        return b.self_org_session_success if self.kind is OrgKind.SELF_ORGANISATION else b.org_success

    def project_slots(self) -> int:
        """Projects it can run at once: an agency, one per ``projects_per_worker`` of its staff; a group, one."""
        if self.kind is OrgKind.PROFESSIONAL_AGENCY:
            return int(len(self.staff) * self.model.cfg.behaviour.projects_per_worker)
        if self.kind is OrgKind.SELF_ORGANISATION:
            return 1
        return 0

    def earn(self, fen: int) -> None:
        self.income_fen += int(fen)
        self.budget_fen += int(fen)

    def evaluate(self, score: float) -> None:
        """The evaluation of a finished contract or project (003 "评估") updates the track record."""
        self.track_record = 0.5 * self.track_record + 0.5 * float(score)

    # weekly rule -------------------------------------------------------------------------------
    def step(self) -> OrganisationWeek:
        """Receive this week's contract payment, pay running costs, fold if it can no longer go on.

        An agency folds after ``org_fold_weeks`` weeks without income; a self-organisation when it
        has fewer than ``self_org_min_members`` members; the social enterprise does not fold.
        """
        model, b = self.model, self.model.cfg.behaviour
        contract_fen = 0
        if self.contract_weeks_left > 0:            # government purchase of services (003)
            contract_fen = weekly_part(self.contract_fen_left, self.contract_weeks_left)
            self.contract_fen_left -= contract_fen
            self.earn(contract_fen)
            self.contract_weeks_left -= 1
            if self.contract_weeks_left == 0:
                self.end_contract_posts()
        folds = False
        if self.kind is OrgKind.PROFESSIONAL_AGENCY:
            self.budget_fen = max(0, self.budget_fen - round(b.org_cost_yuan_week * 100))
            self.weeks_without_income = 0 if self.income_fen > 0 else self.weeks_without_income + 1
            folds = self.weeks_without_income >= b.org_fold_weeks and self.projects_running == 0
        elif self.kind is OrgKind.SELF_ORGANISATION:
            folds = self.members < b.self_org_min_members and self.projects_running == 0
        if self.cases:
            self.last_served_week = model.week
        return OrganisationWeek(contract_fen=contract_fen, folds=folds)

    def hire_contract_posts(self, posts: int) -> None:
        """The whole social-work posts a new contract pays: they join the staff while it runs."""
        self.end_contract_posts()
        self.contract_staff = [SocialWorker(self.model, employer=self) for _ in range(posts)]
        self.staff.extend(self.contract_staff)

    def end_contract_posts(self) -> None:
        for sw in self.contract_staff:
            self.staff.remove(sw)
            sw.remove()
        self.contract_staff = []

    def start_week(self) -> None:
        self.income_fen = 0
        self.cases = 0
