"""What a lever is: its parameters, its schedule, and what it adds to the model (rules, streams, columns, costs).

A lever is one module of this package (``sim/levers/<name>.py``) that defines its parameter dataclass (decorated
with :func:`lever_params`, which adds the schedule of :mod:`sim.levers.schedule`) and a :class:`Lever` named
``LEVER``.  The package finds the modules itself (:mod:`sim.levers`): adding a lever is adding a module, a policy
file in ``configs/policy/`` and its labels in ``sim/tables/glossary.yaml`` (docs/architecture.md, "Adding a lever").

The weekly schedule (sim/model/community_model.py) calls the levers' rules at named points, :data:`HOOK_POINTS`, in
the order of
the levers (``Lever.order``); a rule is ``rule(model, lever_values)`` with the values in force this week, and may
return a number the lever's columns read back (``model.lever_results[<lever name>][<point>]``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.settings.params import param

# The named points of the week at which a lever's rules run (sim/model/community_model.py, CommunityModel.step):
HOOK_POINTS = (
    "policy_start",   # the lever's values come into force (week 1, and at every scheduled change)
    "week_start",     # before anyone acts: government money stocking pots
    "after_fund",     # after the fund has spent on needy residents, services and the project pot
    "week_end",       # after volunteering turnover and attitudes, before wages and the record
)


@dataclass(frozen=True)
class Lever:
    """A policy lever: the section ``policy.<name>`` of the config and what it adds to the model.

    ``columns`` name the weekly table's columns the lever adds (each read by ``reporter(model)``; labels and
    units in the glossary): they appear only in runs that use the lever (:meth:`used_by`).  ``cost_kinds`` are
    kinds of public cost it pays (``model.add_public_cost(kind, fen)``), each with a ``public_cost_<kind>``
    column in the runs that use it.  ``streams`` are random streams of its own, spawned after the model's
    (so that a new lever changes no existing run's draws).
    """

    name: str
    params: type
    order: int
    rules: Mapping[str, Callable[[Any, Any], Any]] = field(default_factory=dict)
    streams: tuple[str, ...] = ()
    columns: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    cost_kinds: tuple[str, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.rules) - set(HOOK_POINTS)
        if unknown:
            raise ValueError(f"lever {self.name}: unknown hook point(s) {sorted(unknown)}; allowed: {HOOK_POINTS}")

    @property
    def baseline(self):
        """The lever's values under the baseline policy (its schema defaults: configs/policy/baseline.yaml)."""
        return self.params()

    def used_by(self, policy) -> bool:
        """Whether a policy uses the lever: its values differ from the baseline's, or change on a schedule."""
        values = getattr(policy, self.name)
        return _levers_only(values) != _levers_only(self.baseline) or bool(values.changes)


def _levers_only(values) -> dict:
    return {f.name: getattr(values, f.name) for f in dataclasses.fields(values) if f.name not in SCHEDULE_FIELDS}


SCHEDULE_FIELDS = ("start_week", "end_week", "changes")
SETTING = "a scenario's setting (sim/levers/schedule.py)"  # the schedule's source: not a fact, a choice


def lever_params(cls: type) -> type:
    """Add the schedule to a lever's parameter dataclass: ``start_week``, ``end_week`` and ``changes``.

    ``policy.<lever>.start_week=53`` (default 1) and ``end_week=156`` (default null: to the end of the run) are
    recorded weeks; outside them the lever has its baseline values.  ``changes`` sets values from a recorded
    week on.  On the command line a change is a new key, so Hydra wants a ``+``:
    ``+policy.gov_purchase.changes.105.budget_yuan_per_year=100000`` (or the whole mapping,
    ``'++policy.gov_purchase.changes={105: {budget_yuan_per_year: 100000}}'``); in a policy file, a mapping
    ``changes: {105: {budget_yuan_per_year: 100000}}``.
    """
    base = dataclass(cls)
    schedule = [
        ("start_week", "int", param(1, "week", 1, 100_000, quiet_default=True, source=SETTING,
                                    help="first recorded week the lever is in force (before it: the baseline's "
                                         "values)")),
        ("end_week", "int | None", param(None, "week", 1, 100_000, nullable=True, quiet_default=True, source=SETTING,
                                         help="last recorded week the lever is in force (after it: the "
                                              "baseline's values); null: to the end of the run")),
        ("changes", dict[Any, dict[str, Any]], param({}, "-", quiet_default=True, source=SETTING,
                                                       help="values that change at a recorded week: "
                                                            "{week: {parameter: value}}")),
    ]

    made = dataclasses.make_dataclass(cls.__name__, schedule, bases=(base,), namespace={"__doc__": cls.__doc__})
    made.__module__ = cls.__module__
    made.__qualname__ = cls.__qualname__
    return made
