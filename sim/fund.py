"""The community micro-fund (社区微基金) and its ledger.

003 "大力推进社区基金发展"; 004 (一分钱公益, 顺河社区).  Money flows in from six sources and out to
five uses; the names below are the fund's columns in the weekly table (``fund_inflow_<source>``,
``fund_outflow_<use>``) and the keys of its ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import CommunityModel

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

    def receive_donations(self, fen: int) -> None:
        """Residents' gifts, and the government's match of ``government_match_ratio`` yuan per yuan given."""
        self.receive("resident_donations", fen)
        ratio = self.model.cfg.policy.fund.government_match_ratio
        if ratio > 0 and fen > 0:
            self.receive("government", round(fen * ratio))

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

    def step(self, needy_residents: int) -> float:
        """Government grant in, then the week's spending by use (003: 困难群众、社区服务、公益项目).

        Each week the fund spends ``spend_share_per_week`` of its balance: ``needy_share`` to the
        ``needy_residents`` (at most ``needy_support_yuan_week`` each), ``services_share`` to
        organisations in proportion to the cases they handled, and ``projects_share`` into the
        project pot that the residents' council (or the fund committee) spends.  Administration
        takes ``admin_share`` of what was spent.

        Returns the share of the full weekly support that each needy resident received (0 to 1).
        """
        model, lever, b = self.model, self.model.cfg.policy.fund, self.model.cfg.behaviour
        if lever.government_grant_yuan_per_year > 0:
            grant = round(lever.government_grant_yuan_per_year * 100 / 52)
            self.receive("government", grant)
        free = self.balance_fen - self.project_pot_fen
        budget = int(free * lever.spend_share_per_week)
        if budget <= 0:
            return 0.0
        # needy residents
        needy = min(int(budget * lever.needy_share), int(needy_residents * b.needy_support_yuan_week * 100))
        paid_needy = self.pay("needy_residents", needy)
        support = 0.0
        if paid_needy and needy_residents:
            support = paid_needy / (needy_residents * max(b.needy_support_yuan_week, 1e-9) * 100)
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
        return support
