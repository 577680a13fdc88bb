"""The community micro-fund (社区微基金) and its ledger.

003 "大力推进社区基金发展"; 004 (一分钱公益, 顺河社区).  Money flows in from seven sources and out to
five uses; the names below are the fund's columns in the weekly table (``fund_inflow_<source>``,
``fund_outflow_<use>``) and the keys of its ledger.  Some money is earmarked (a *pot* within the
balance): one-cent money for care of the needy (004: 用于关爱帮扶), moral-bank stock for redemptions,
project money (the project pot and units' claims) for projects; earmarked money is spent only on its use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from sim.levers import fund as fund_lever

if TYPE_CHECKING:  # pragma: no cover
    from sim.model.community_model import CommunityModel

INFLOW_SOURCES = ("enterprise_per_unit", "enterprise_lump", "resident_donations", "charity_sales",
                  "social_enterprise", "government", "resident_units")
POTS = ("care", "moral_bank", "projects")  # earmarks within the balance
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
        self.pot_fen = dict.fromkeys(POTS, 0)  # earmarked parts of the balance
        self.inflow_fen = dict.fromkeys(INFLOW_SOURCES, 0)    # this week
        self.outflow_fen = dict.fromkeys(OUTFLOW_USES, 0)     # this week
        self.total_in_fen = dict.fromkeys(INFLOW_SOURCES, 0)  # whole run
        self.total_out_fen = dict.fromkeys(OUTFLOW_USES, 0)

    def start_week(self) -> None:
        for d in (self.inflow_fen, self.outflow_fen):
            for k in d:
                d[k] = 0

    @property
    def project_pot_fen(self) -> int:
        return self.pot_fen["projects"]

    @property
    def free_fen(self) -> int:
        """The balance not earmarked."""
        return self.balance_fen - sum(self.pot_fen.values())

    def receive(self, source: str, fen: int, pot: str | None = None) -> None:
        """Money in from ``source``; with ``pot``, earmarked for that use."""
        if source not in self.inflow_fen:
            raise KeyError(f"unknown fund inflow source {source!r}; allowed: {', '.join(INFLOW_SOURCES)}")
        fen = int(fen)
        if fen < 0:
            raise ValueError(f"fund inflow {source} must be non-negative, got {fen} fen")
        self.balance_fen += fen
        self.inflow_fen[source] += fen
        self.total_in_fen[source] += fen
        if pot is not None:
            self.pot_fen[pot] += fen

    def receive_donations(self, fen: int) -> None:
        """Residents' gifts, and the government's match of ``government_match_ratio`` yuan per yuan given."""
        self.receive("resident_donations", fen)
        fund_lever.match(self.model, self, fen)

    def pay(self, use: str, fen: int, pot: str | None = None) -> int:
        """Pay up to ``fen`` for ``use``, from the pot ``pot`` or else from the free balance.

        Returns what was paid: never more than the pot holds, or than the free balance.
        """
        if use not in self.outflow_fen:
            raise KeyError(f"unknown fund outflow use {use!r}; allowed: {', '.join(OUTFLOW_USES)}")
        available = self.pot_fen[pot] if pot is not None else self.free_fen
        fen = max(0, min(int(fen), available))
        self.balance_fen -= fen
        if pot is not None:
            self.pot_fen[pot] -= fen
        self.outflow_fen[use] += fen
        self.total_out_fen[use] += fen
        return fen

    def earmark(self, pot: str, fen: int) -> int:
        """Set aside up to ``fen`` of the free balance for ``pot``; returns what was set aside."""
        fen = max(0, min(int(fen), self.free_fen))
        self.pot_fen[pot] += fen
        return fen

    def step(self, needy_residents: int) -> float:
        """Government grant in, then the week's spending by use (003: 困难群众、社区服务、公益项目).

        First the care pot (one-cent money, 004 关爱帮扶) goes to the ``needy_residents`` (at most
        ``needy_support_yuan_week`` each).  Then the fund spends ``spend_share_per_week`` of its free
        balance: ``needy_share`` to the needy (within the same ceiling), ``services_share`` to
        organisations in proportion to the cases they handled, and ``projects_share`` into the
        project pot that the yearly project round awards.  Administration takes ``admin_share`` of
        what was spent, except the care pot's money (it goes whole to care).

        Returns the share of the full weekly support that each needy resident received (0 to 1).
        """
        model, b = self.model, self.model.cfg.behaviour
        fund_lever.grant(model, self)
        ceiling = int(needy_residents * b.needy_support_yuan_week * 100)
        paid_needy = paid_from_care = self.pay("needy_residents", ceiling, pot="care")
        budget = fund_lever.weekly_budget(model, self.free_fen)
        if budget > 0:
            needy = min(fund_lever.share_of(model, budget, "needy"), ceiling - paid_needy)
            paid_needy += self.pay("needy_residents", needy)
            # services bought from organisations, in proportion to cases handled this week
            services = fund_lever.share_of(model, budget, "services")
            orgs = [o for o in model.organisations if o.cases > 0]
            total_cases = sum(o.cases for o in orgs)
            if services > 0 and total_cases > 0:
                paid = 0
                for k, o in enumerate(orgs):
                    share = services - paid if k == len(orgs) - 1 else services * o.cases // total_cases
                    share = self.pay("services", share)
                    o.earn(share)
                    paid += share
            self.earmark("projects", fund_lever.share_of(model, budget, "projects"))
        # the fee is not charged on the care pot: one-cent money goes whole to care (004 用于关爱帮扶)
        spent = sum(self.outflow_fen[u] for u in OUTFLOW_USES if u != "administration") - paid_from_care
        self.pay("administration", fund_lever.admin_fee(model, spent))
        if paid_needy and needy_residents:
            return paid_needy / max(ceiling, 1)
        return 0.0
