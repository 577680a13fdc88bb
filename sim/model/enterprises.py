"""Enterprises: the resident units (驻区单位) and the one-cent charity (一分钱公益).

An :class:`Enterprise` is a Mesa ``Agent``: there are few (1 to 120 per community), and each has
its own giving history, which builds its reputation.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from mesa import Agent

from sim.levers import enterprise, micro_fund

if TYPE_CHECKING:  # pragma: no cover
    from sim.model.community_model import CommunityModel


class Enterprise(Agent):
    """A resident unit (驻区单位).  Product enterprises sell bottles to residents and outside.

    Levers (003 三张清单和双向认领; 004 一分钱公益): a fixed donation per unit sold (earmarked for care,
    004 用于关爱帮扶), a yearly lump donation, goods for the moral bank, and claiming listed projects
    with money and employee volunteers when the party organisation convenes the units (党建引领, the
    project round in sim/model/projects.py).  A cause-marketing uplift (assumption, default 0) lets the
    reputation earned by giving raise sales.
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
        self.last_joined_week = -10**9            # last week it claimed or joined a project, or gave

    @property
    def reputation(self) -> float:
        """0–1: grows with what the enterprise gave in the last 52 weeks."""
        return 1.0 - math.exp(-self.given_total_52 / self.REPUTATION_SCALE_FEN)

    @property
    def takes_part(self) -> bool:
        """Took part in co-building during the year that ends with the week just completed: claimed or joined a
        project, or gave (#5, 驻区单位参与社区共建率: the share of units that took part in the year).

        Read at the end of a week, when the week count has moved on: the year is weeks ``week − 52`` … ``week − 1``,
        so a unit that gives once a year, in the year's first week, counts in every week of that year (a window
        one week short read the yearly givers' absence at the year's last week: issue 24, finding 7)."""
        return self.model.week - self.last_joined_week <= 52

    def _record_giving(self, fen: int, new_week: bool) -> None:
        slot = self.model.week % 52
        if new_week:
            self.given_total_52 -= self.given_52[slot]
            self.given_52[slot] = 0
        self.given_52[slot] += fen
        self.given_total_52 += fen
        if fen > 0:
            self.last_joined_week = self.model.week

    def sell(self, units_to_residents: int) -> int:
        """Sell this week's units; a one-cent donor gives ``fen_per_unit`` fen for each unit (004).

        Units go to residents (``units_to_residents``, from the local market) and outside the
        community (a Poisson number around ``units_per_week``, raised by reputation when cause
        marketing works).  Returns the units sold this week.
        """
        model = self.model
        outside = 0
        if self.sells_product:
            mean = model.cfg.community.units_per_week * enterprise.sales_factor(model, self)
            outside = int(model.streams["market"].poisson(mean))
        self.units_sold = outside + units_to_residents
        give_fen = micro_fund.give_per_unit(model, self)
        self._record_giving(give_fen, new_week=True)
        return self.units_sold

    def give_lump(self) -> None:
        """Week 1 of each year: the lump donation and the moral-bank goods (assumption: paid yearly)."""
        model = self.model
        if model.policy_week % 52 != 0 or not self.lump_donor:
            return
        fen = enterprise.give_lump(model)
        if fen:
            self._record_giving(fen, new_week=False)

    def claim(self, fen: int) -> None:
        """Claim a listed project (双向认领): its money goes to the fund, earmarked for that project."""
        self.model.fund.receive("resident_units", fen, pot="projects")
        self._record_giving(fen, new_week=False)
        self.last_joined_week = self.model.week
