"""A district's communities, held in this process or in worker processes: what lets a district use every core.

The communities of a district are independent within a week: each steps on its own residents and streams.  They
meet only through the district (:mod:`sim.model.district`): the purchase budget it allots at each contract round,
the incubations of its social-work station after each week, and its totals.  So a district can hold its
communities in a few *groups*, each stepping its communities for the week while the others do the same: one
group in the district's own process and the others in worker processes forked from it, each answering the
district's requests (step a week with these budgets; found these groups; your weekly tables) over a pipe.

The district's outputs do not depend on how many groups there are: each community draws only from its own
streams, the district draws its station's decisions in its own process, in the same order, and adds the
communities' rows up in community order as before (``tests/test_district_workers.py`` compares 1, 2 and 3
groups byte for byte).  What a group sends each week is one array, a row per community, of the
:data:`ROW_COLUMNS` the district adds up.

Where there is no fork (Windows), every community stays in the district's process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import traceback
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model.community_model import CommunityModel
from sim.model.groups import NO_GROUP, active_outside_groups, found_group
from sim.settings.config import SimConfig

# The columns of a community's weekly row that the district needs: what it adds up (its own SUM_COLUMNS) and the
# residents-weighted means.
SUM_COLUMNS = (
    "residents",
    "volunteers_registered",
    "volunteer_activities",
    "volunteer_hours",
    "volunteers_new",
    "volunteers_dropped",
    "social_workers",
    "social_orgs_active",
    "social_orgs_professional",
    "social_orgs_self",
    "social_enterprises",
    "orgs_incubated_total",
    "orgs_folded_total",
    "demands_raised",
    "demands_reported",
    "demands_unreported",
    "demands_responded",
    "demands_completed",
    "demands_completed_on_time",
    "demands_explained",
    "demands_closed",
    "demands_closed_unresolved",
    "demands_closed_on_time",
    "demands_closed_overdue",
    "demands_overdue",
    "demands_due",
    "demands_newly_overdue",
    "demands_signed",
    "demands_sign_missed",
    "demands_escalated",
    "deliberation_participants",
    "projects_funded",
    "donors",
    "fund_balance",
    "fund_inflow_total",
    "fund_outflow_total",
    "enterprise_units_sold",
    "gov_spending",
    "demands_signed_in_time",
    "callbacks",
    "callbacks_satisfied",
    "social_orgs_serving",
    "projects_running",
    "public_cost",
)
MEAN_COLUMNS = ("volunteer_active_share_2plus", "satisfaction_mean", "trust_mean")
ROW_COLUMNS = SUM_COLUMNS + MEAN_COLUMNS
CAN_FORK = hasattr(os, "fork")


@dataclass(frozen=True)
class Member:
    """One community of the district: its place in the district's order, its settings and its share of the
    district social workers' time."""

    index: int
    settings: SimConfig
    worker_share: float


def incubate_in(community: CommunityModel) -> bool:
    """A district social worker helps the grid of ``community`` with most active residents outside any group found
    a self-organisation, if it has at least half the founders a group needs (as a station worker does,
    sim/model/groups.py).  Returns whether a group was founded."""
    r = community.residents
    free = active_outside_groups(community)
    by_grid = np.bincount(r.grid[free], minlength=r.n_grids)
    g = int(np.argmax(by_grid))
    if by_grid[g] < max(2, community.cfg.behaviour.self_org_founders // 2):
        return False
    members = np.flatnonzero(free & (r.grid == g) & (r.member_of == NO_GROUP))
    found_group(community, g, members, incubated=True, size=members.size)
    return True


class LocalGroup:
    """Communities held in this process.  A request is answered when it is asked (:meth:`ask`), its answer
    kept for :meth:`answer`; the methods named ``do_*`` are the requests."""

    def __init__(self, members: list[Member]) -> None:
        self.indices = [m.index for m in members]
        self.communities: list[CommunityModel] = []
        for m in members:
            c = CommunityModel(m.settings)
            c.district_worker_share = m.worker_share
            self.communities.append(c)
        self._answer: object = None

    # -- the requests -------------------------------------------------------------------------------------
    def do_sizes(self) -> list[int]:
        return [c.residents.size for c in self.communities]

    def do_step(self, budgets: list[float] | None) -> np.ndarray | None:
        """Step every community one week (with this round's purchase budgets, in the group's order, if given);
        the week's rows (:data:`ROW_COLUMNS`) once the record has started, else None (a warm-up week)."""
        if budgets is not None:
            for c, budget in zip(self.communities, budgets, strict=True):
                c.purchase_budget_yuan_per_year = float(budget)
        for c in self.communities:
            c.step()
        if not self.communities or not self.communities[0].record_started:
            return None
        rows = np.empty((len(self.communities), len(ROW_COLUMNS)))
        for i, c in enumerate(self.communities):
            row = c.latest()
            rows[i] = [row[col] for col in ROW_COLUMNS]  # ints and floats: float64 holds them exactly
        return rows

    def do_incubate(self, targets: list[int]) -> int:
        """Incubate in each of ``targets`` (district indices of this group's communities), in order; returns the
        groups founded."""
        where = {index: k for k, index in enumerate(self.indices)}
        return sum(incubate_in(self.communities[where[t]]) for t in targets)

    def do_timeseries(self) -> list[pd.DataFrame]:
        return [c.timeseries() for c in self.communities]

    # -- asking and answering -------------------------------------------------------------------------------
    def ask(self, request: str, *args) -> None:
        self._answer = getattr(self, f"do_{request}")(*args)

    def answer(self):
        return self._answer

    def close(self) -> None:
        pass


def _serve(conn, members: list[Member]) -> None:
    """A worker process: build its communities, then answer the district's requests until it says stop."""
    try:
        group = LocalGroup(members)
        conn.send(("ok", None))
    except BaseException as exc:
        conn.send(("error", (exc, traceback.format_exc())))
        return
    while True:
        try:
            request, args = conn.recv()
        except EOFError:  # the district is gone
            return
        if request == "stop":
            return
        try:
            conn.send(("ok", getattr(group, f"do_{request}")(*args)))
        except BaseException as exc:
            conn.send(("error", (exc, traceback.format_exc())))
            return


class WorkerGroup:
    """Communities held in a worker process forked from this one; the same requests as :class:`LocalGroup`."""

    def __init__(self, members: list[Member]) -> None:
        self.indices = [m.index for m in members]
        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_serve,
            args=(child, members),
            daemon=True,
            name=f"district communities {self.indices[0]}–{self.indices[-1]}",
        )
        with warnings.catch_warnings():
            # "this process is multi-threaded": the other threads are numpy's and Arrow's pools, which re-initialise
            # after a fork, or a server's, which the worker does not use (as sim/runs/isolation.py's job processes)
            warnings.simplefilter("ignore", DeprecationWarning)
            self.process.start()
        child.close()
        self._waiting = True  # for the answer to building the communities

    def ask(self, request: str, *args) -> None:
        self.answer()  # the previous request's, if not taken
        try:
            self._conn.send((request, args))
        except OSError:  # BrokenPipeError: the worker is gone
            raise self._died() from None
        self._waiting = True

    def _died(self) -> RuntimeError:
        self.process.join(timeout=5)
        return RuntimeError(
            f"the district's worker process for communities {self.indices[0]}–{self.indices[-1]} "
            f"ended without answering (exit code {self.process.exitcode}: a negative code is the "
            "signal that ended it, e.g. -9 for the out-of-memory killer)"
        )

    def answer(self):
        if not self._waiting:
            return None
        self._waiting = False
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError):
            raise self._died() from None
        if status == "error":
            exc, text = value
            raise RuntimeError(
                f"in the district's worker process for communities {self.indices[0]}–"
                f"{self.indices[-1]}: {exc!r}\n{text}"
            ) from exc
        return value

    def close(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send(("stop", ()))
            self.process.join(timeout=5)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self._conn.close()


def split(weights: list[float], groups: int) -> list[list[int]]:
    """Indices 0…n−1 into ``groups`` groups of about equal total weight (largest first to the lightest group),
    each in increasing order."""
    loads = [0.0] * groups
    parts: list[list[int]] = [[] for _ in range(groups)]
    for i in sorted(range(len(weights)), key=lambda i: -weights[i]):
        g = loads.index(min(loads))
        parts[g].append(i)
        loads[g] += weights[i]
    return [sorted(p) for p in parts if p]


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
