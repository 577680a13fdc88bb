"""The week's record: what one week came to (:class:`Week`) and the weekly table read from it.

:data:`WEEKLY_TABLE` names every column of ``timeseries.parquet`` in order with the reporter that reads it from
the model at the end of a week (meanings and units: sim/tables/glossary.py, docs/ODD.md "Outputs");
:class:`WeeklyRecord` collects it (sim/model/community_model.py calls it at the end of each recorded week).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model.fund import INFLOW_SOURCES, OUTFLOW_USES
from sim.model.groups import GroupsWeek
from sim.model.indicators import callback_satisfaction, completion_rate, response_rate
from sim.model.organisations import OrgKind
from sim.model.platform import Deliberation, DispatchCounts
from sim.model.projects import RoundResult, Sessions
from sim.model.residents import Activities, Donations, NewDemands, Redemptions
from sim.model.sales import SalesWeek

PUBLIC_COSTS = ("fund_grant", "matching", "moral_bank", "venture", "purchase", "social_workers")  # kinds of public cost


@dataclass(frozen=True)
class Week:
    """What one week came to: the results the parties' rules returned, in the order of the week."""

    units_sold: int
    sales: SalesWeek
    demands: NewDemands
    activities: Activities
    groups: GroupsWeek
    sessions: Sessions
    dispatch: DispatchCounts
    donations: Donations
    civic_acts: int
    redemptions: Redemptions
    deliberation: Deliberation
    project_round: RoundResult
    contracts_fen: int      # government purchase contracts paid to organisations (fen)
    volunteers_dropped: int
    volunteers_new: int
    public_cost_fen: dict


def _count_orgs(kind: OrgKind):
    return lambda m: sum(o.kind is kind for o in m.organisations)


def _public_cost(kind: str):
    return lambda m: m.this_week.public_cost_fen[kind] / 100


def _fund_inflow(source: str):
    return lambda m: m.fund.inflow_fen[source] / 100


def _fund_outflow(use: str):
    return lambda m: m.fund.outflow_fen[use] / 100


# The weekly table, one column per entry in this order (meanings and units: sim/tables/glossary.py, docs/ODD.md
# "Outputs"), collected by :class:`WeeklyRecord` at the end of each week.  ``m.this_week`` holds what the
# week's rules returned (flows); the other columns are stocks at the end of the week.
WEEKLY_TABLE = {
    "step": lambda m: m.week - m.warmup_weeks,
    "residents": lambda m: m.residents.size,
    "volunteers_registered": lambda m: m.volunteers_registered,
    "volunteers_per_10k": lambda m: m.volunteers_registered / m.residents.size * 10_000,
    "volunteer_active_share_2plus": lambda m: float((m.residents.activities_52 >= 2).mean()),
    "volunteer_activities": lambda m: m.this_week.activities.activities,
    "casual_activities": lambda m: m.this_week.activities.casual,
    "member_activities": lambda m: m.this_week.groups.member_activities,
    "self_org_members": lambda m: np.count_nonzero(m.residents.member_of >= 0),
    "volunteer_hours": lambda m: float(m.this_week.activities.hours),
    "volunteers_new": lambda m: m.this_week.volunteers_new,
    "volunteers_dropped": lambda m: m.this_week.volunteers_dropped,
    "social_workers": lambda m: m.social_workers,
    "social_orgs_active": lambda m: len(m.organisations),
    "social_orgs_professional": _count_orgs(OrgKind.PROFESSIONAL_AGENCY),
    "social_orgs_self": _count_orgs(OrgKind.SELF_ORGANISATION),
    "social_enterprises": _count_orgs(OrgKind.SOCIAL_ENTERPRISE),
    # in the 52 weeks just completed (read after the week count moved on: weeks week − 52 … week − 1)
    "social_orgs_serving": lambda m: sum(m.week - o.last_served_week <= 52 for o in m.organisations
                                         if o.kind is not OrgKind.SOCIAL_ENTERPRISE),
    "self_orgs_formed": lambda m: m.this_week.groups.formed,
    "orgs_incubated_total": lambda m: m.orgs_incubated,
    "orgs_folded_total": lambda m: m.orgs_folded,
    "demands_raised": lambda m: m.this_week.demands.raised,
    "demands_reported": lambda m: m.this_week.demands.reported,
    "demands_unreported": lambda m: m.this_week.demands.unreported,
    "demands_merged": lambda m: m.platform.merged_week,
    "demands_signed": lambda m: m.this_week.dispatch.signed,
    "demands_signed_in_time": lambda m: m.this_week.dispatch.signed_in_time,
    "demands_sign_missed": lambda m: m.this_week.dispatch.sign_missed,
    "demands_responded": lambda m: m.this_week.dispatch.responded,
    "demands_completed": lambda m: m.this_week.dispatch.completed,
    "demands_completed_on_time": lambda m: m.this_week.dispatch.completed_on_time,
    "demands_explained": lambda m: m.this_week.dispatch.explained,
    "demands_closed": lambda m: m.this_week.dispatch.closed,
    "demands_closed_unresolved": lambda m: m.this_week.dispatch.closed_unresolved,
    "demands_closed_on_time": lambda m: m.this_week.dispatch.closed_on_time,
    "demands_closed_overdue": lambda m: m.this_week.dispatch.closed_overdue,
    "demands_extended": lambda m: m.this_week.dispatch.extended,
    "demands_overdue": lambda m: m.this_week.dispatch.overdue,
    "demands_newly_overdue": lambda m: m.this_week.dispatch.newly_overdue,
    "demands_due": lambda m: m.this_week.dispatch.due,
    "demands_to_volunteers": lambda m: m.this_week.dispatch.to_volunteers,
    "demands_to_community_staff": lambda m: m.this_week.dispatch.to_community_staff,
    "demands_to_organisations": lambda m: m.this_week.dispatch.to_organisations,
    "demands_escalated": lambda m: m.this_week.dispatch.escalated,
    "simple_to_volunteers": lambda m: m.this_week.dispatch.simple_to_volunteers,
    "simple_to_community_staff": lambda m: m.this_week.dispatch.simple_to_community_staff,
    "capacity_volunteers": lambda m: m.this_week.dispatch.capacity_volunteers,
    "capacity_organisations": lambda m: m.this_week.dispatch.capacity_organisations,
    "capacity_community_staff": lambda m: m.this_week.dispatch.capacity_community_staff,
    "capacity_intake": lambda m: m.this_week.dispatch.capacity_intake,
    "callbacks": lambda m: m.this_week.dispatch.callbacks,
    "callbacks_satisfied": lambda m: m.this_week.dispatch.callbacks_satisfied,
    "donors": lambda m: m.this_week.donations.donors,
    "redemptions": lambda m: m.this_week.redemptions.redeemed,
    "deliberation_participants": lambda m: m.this_week.deliberation.participants,
    "needs_listed": lambda m: m.this_week.project_round.needs_listed,
    "projects_designed": lambda m: m.this_week.project_round.designed,
    "projects_claimed": lambda m: m.this_week.project_round.claimed,
    "projects_funded": lambda m: m.this_week.project_round.funded,
    "projects_running": lambda m: m.this_week.sessions.projects_running,
    "project_sessions": lambda m: m.this_week.sessions.sessions,
    "project_sessions_good": lambda m: m.this_week.sessions.good,
    "units_taking_part": lambda m: sum(e.takes_part for e in m.enterprises),
    "demand_queue": lambda m: m.platform.queue_length,
    "response_rate": lambda m: response_rate(m.this_week.dispatch.signed_in_time,
                                             m.this_week.dispatch.signed_in_time + m.this_week.dispatch.sign_missed),
    "completion_rate": lambda m: completion_rate(m.this_week.dispatch.completed_on_time, m.this_week.dispatch.due),
    "callback_satisfaction": lambda m: callback_satisfaction(m.this_week.dispatch.callbacks_satisfied,
                                                             m.this_week.dispatch.callbacks),
    "satisfaction_mean": lambda m: float(m.residents.satisfaction.mean()),
    "trust_mean": lambda m: float(m.residents.trust.mean()),
    "deliberation_satisfaction": lambda m: m.this_week.deliberation.satisfaction,
    "moral_bank_points": lambda m: float(m.residents.points.sum()),
    "civic_acts": lambda m: m.this_week.civic_acts,
    "fund_balance": lambda m: m.fund.balance_fen / 100,
    "fund_inflow_total": lambda m: sum(m.fund.inflow_fen.values()) / 100,
    "fund_outflow_total": lambda m: sum(m.fund.outflow_fen.values()) / 100,
    **{f"fund_inflow_{s}": _fund_inflow(s) for s in INFLOW_SOURCES},
    **{f"fund_outflow_{u}": _fund_outflow(u) for u in OUTFLOW_USES},
    "enterprise_units_sold": lambda m: m.this_week.units_sold,
    "charity_buyers_spend": lambda m: m.this_week.sales.buyers_spend_fen / 100,
    "charity_sales_income": lambda m: m.this_week.sales.charity_sales_fen / 100,
    "social_enterprise_revenue": lambda m: m.this_week.sales.enterprise_revenue_fen / 100,
    "social_enterprise_jobs": lambda m: m.this_week.sales.jobs,
    "enterprise_participation": lambda m: (sum(e.takes_part for e in m.enterprises) / len(m.enterprises)
                                           if m.enterprises else np.nan),
    # government money this week: grants, matching and moral-bank support into the fund, and purchase contracts
    "gov_spending": lambda m: (m.fund.inflow_fen["government"] + m.this_week.contracts_fen) / 100,
    # public cost this week (yuan): all of the above, venture-philanthropy awards and social workers' wages
    "public_cost": lambda m: sum(m.this_week.public_cost_fen.values()) / 100,
    **{f"public_cost_{k}": _public_cost(k) for k in PUBLIC_COSTS},
}


def weekly_table(policy) -> dict:
    """The columns of a run of ``policy``: :data:`WEEKLY_TABLE`, then what its levers add where it uses them (the
    columns and kinds of public cost a lever module declares, sim/levers/), and ``lever_events`` (the lever changes
    that came into force in the week, "" in the others) when its levers follow a schedule."""
    from sim.levers import LEVERS, schedule

    table = dict(WEEKLY_TABLE)
    for lever in LEVERS:
        if lever.used_by(policy):
            table.update(lever.columns)
            table.update({f"public_cost_{k}": _public_cost(k) for k in lever.cost_kinds})
    if any(schedule.is_scheduled(getattr(policy, lv.name)) for lv in LEVERS):
        table["lever_events"] = lambda m: "; ".join(m.events)
        table["lever_events_count"] = lambda m: len(m.events)  # the same as a number: collated, charts mark the weeks
    return table


class WeeklyRecord:
    """The weekly table: a value per column of the run's table (:func:`weekly_table`) each recorded week.

    It does what Mesa's ``DataCollector`` does for model reporters, without its copy of every value:
    with the #11 model the ``DataCollector`` took 17 % of a run (0.15 of 0.89 s, relocation, profiled),
    above the 5 % that issue #10 allowed it, so the record is kept here.

    The values of the last weeks are kept in lists, and every :data:`PACK_WEEKS` weeks a column of numbers is
    packed into a numpy array: 8 bytes a value instead of a Python number and its list entry (~32), which is what a
    district of thousands of communities keeps (issue 30: 3.2 kB a community-week before).  The table is the same:
    arrays of one kind join as pandas would have read the lists (ints and floats make floats).
    """

    PACK_WEEKS = 52

    def __init__(self, table: dict) -> None:
        self.table = table
        self.columns: dict[str, list] = {column: [] for column in table}  # the weeks not yet packed
        self._packed: dict[str, list] = {column: [] for column in table}  # earlier weeks: arrays (or lists: text)
        self._unpacked_weeks = 0

    def collect(self, model) -> None:
        for column, reporter in self.table.items():
            self.columns[column].append(reporter(model))
        self._unpacked_weeks += 1
        if self._unpacked_weeks >= self.PACK_WEEKS:
            self._pack()

    def _pack(self) -> None:
        for column, values in self.columns.items():
            array = np.asarray(values)
            self._packed[column].append(array if array.dtype.kind in "iuf" else values)
            self.columns[column] = []
        self._unpacked_weeks = 0

    def latest(self) -> dict:
        """The last recorded row (IndexError before the first recorded week)."""
        if self._unpacked_weeks:
            return {column: values[-1] for column, values in self.columns.items()}
        return {column: parts[-1][-1] for column, parts in self._packed.items()}

    def values(self, column: str) -> np.ndarray | list:
        """A column's values, every recorded week."""
        parts = [*self._packed[column], self.columns[column]]
        if len(parts) == 1:
            return parts[0]
        arrays = [np.asarray(p) for p in parts]
        if all(a.dtype.kind in "iuf" or a.size == 0 for a in arrays):
            return np.concatenate([a for a in arrays if a.size]) if any(a.size for a in arrays) else []
        return [v for p in parts for v in (p.tolist() if isinstance(p, np.ndarray) else p)]

    def dataframe(self) -> pd.DataFrame:
        return pd.DataFrame({column: self.values(column) for column in self.table})
