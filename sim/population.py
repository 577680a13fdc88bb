"""The residents' numeric state, held in numpy arrays owned by the model.

A :class:`~sim.agents.Resident` agent reads and writes its own entry of these arrays, and the
weekly resident rules in :mod:`sim.agents` act on whole arrays at once: the same rule for every
resident, written once, costing microseconds instead of a Python call per resident.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import GROUPS, CommunityConfig, DemandRates

WINDOW = 52  # weeks in the volunteer-activity window ("at least … times per year", 003 专栏1 #28)


@dataclass
class Population:
    group: np.ndarray            # int8, index into GROUPS (青老幼工新)
    household: np.ndarray        # int32
    grid: np.ndarray             # int32, the grid (网格) the household belongs to
    income: np.ndarray           # float64, yuan per month
    civic: np.ndarray            # float64, civic propensity 0–1
    trust: np.ndarray            # float64, trust in community institutions 0–1
    satisfaction: np.ndarray     # float64, chance of answering "satisfied" 0–1
    needy: np.ndarray            # bool, member of a needy household (困难群众)
    points: np.ndarray           # float64, moral-bank points (道德银行积分)
    volunteer: np.ndarray        # bool, registered volunteer
    last_recognised: np.ndarray  # int64, week the volunteer was last recognised
    hours_this_week: np.ndarray  # float64, volunteer hours this week
    activity_ring: np.ndarray    # uint8 (WINDOW, n): activities per week, last 52 weeks
    activities_52: np.ndarray    # int16, activities in the last 52 weeks
    n_grids: int

    @property
    def size(self) -> int:
        return int(self.group.size)

    @classmethod
    def create(cls, cfg: CommunityConfig, rng: np.random.Generator) -> Population:
        """Draw the initial population of a community (distributions: assumption, sizes: config)."""
        n, h = cfg.residents, cfg.households
        # every household has at least one member; the others are spread at random
        household = np.concatenate([np.arange(h), rng.integers(0, h, n - h)]).astype(np.int32)
        household.sort()
        n_grids = max(1, int(np.ceil(h / cfg.households_per_grid)))
        grid = (household * n_grids // h).astype(np.int32)
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
        adults = np.flatnonzero(group != GROUPS.index("children"))
        n_vol = min(round(cfg.volunteers_initial_share * n), adults.size)
        if n_vol:
            volunteer[rng.choice(adults, size=n_vol, replace=False, p=civic[adults] / civic[adults].sum())] = True
        return cls(group=group, household=household, grid=grid, income=income, civic=civic, trust=trust,
                   satisfaction=satisfaction, needy=needy_hh[household], points=np.zeros(n),
                   volunteer=volunteer, last_recognised=np.zeros(n, dtype=np.int64),
                   hours_this_week=np.zeros(n), activity_ring=np.zeros((WINDOW, n), dtype=np.uint8),
                   activities_52=np.zeros(n, dtype=np.int16), n_grids=n_grids)

    def demand_rates(self, rates: DemandRates) -> np.ndarray:
        """Each resident's weekly demand rate, from their group."""
        return np.asarray(rates.as_tuple(), dtype=float)[self.group]

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
