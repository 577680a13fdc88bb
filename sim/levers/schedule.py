"""Levers that start, stop and change during a run: the values in force in each recorded week.

Each lever has ``start_week``, ``end_week`` and ``changes`` (:func:`sim.levers.base.lever_params`).  In recorded
week ``w`` a lever has its baseline values if ``w < start_week`` or ``w > end_week``; otherwise its configured
values with every change of a week ``≤ w`` applied, in week order.  "Fund five_society for a three-year pilot,
then withdraw the money"::

    python -m sim policy=five_society policy.gov_purchase.end_week=156 policy.venture.end_week=156 ...

(``experiments.pilot_withdrawal`` sets every money lever's ``end_week`` for you).  The model applies the values
in force at the start of each week at which they change (:func:`boundaries`), through
:meth:`sim.model.community_model.CommunityModel.change_policy`, the same path the dashboard's live levers take, and
the weekly
table records what changed (column ``lever_events``, only in runs with a schedule).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sim.levers.base import SCHEDULE_FIELDS
from sim.settings.params import ConfigError, check_leaf, coerce_value


def _sections(policy) -> list[str]:
    """The lever sections of a policy (one per lever module, sim/levers/), in the levers' order."""
    return [f.name for f in dataclasses.fields(policy) if dataclasses.is_dataclass(f.type)]


def is_scheduled(values) -> bool:
    """Whether one lever's values follow a schedule (anything but the whole run at fixed values)."""
    return values.start_week != 1 or values.end_week is not None or bool(values.changes)


def boundaries(policy) -> frozenset[int]:
    """The recorded weeks (after week 1) at the start of which some lever's values change."""
    return frozenset(w for name in _sections(policy) if is_scheduled(getattr(policy, name))
                     for w in boundaries_of(getattr(policy, name)) if w > 1)


def values_at(name: str, values, week: int):
    """One lever's values (``policy.<name>``) in force in recorded week ``week``."""
    if not is_scheduled(values):
        return values
    if week < values.start_week or (values.end_week is not None and week > values.end_week):
        return dataclasses.replace(type(values)(), start_week=values.start_week, end_week=values.end_week,
                                   changes=values.changes)  # the baseline's values: the schema's defaults
    changed: dict[str, Any] = {}
    for w in sorted(values.changes):
        if w <= week:
            changed.update(values.changes[w])
    return dataclasses.replace(values, **_coerced(name, values, changed)) if changed else values


def policy_at(policy, week: int):
    """The policy in force in recorded week ``week``: ``policy`` itself when nothing is scheduled."""
    sections = {name: values_at(name, getattr(policy, name), week) for name in _sections(policy)}
    if all(sections[name] is getattr(policy, name) for name in sections):
        return policy
    return dataclasses.replace(policy, **sections)


def events(before, after) -> list[str]:
    """What changed from one policy in force to the next: ``"gov_purchase.budget_yuan_per_year 200000 → 0"``."""
    out = []
    for name in _sections(after):
        a, b = getattr(before, name), getattr(after, name)
        for f in dataclasses.fields(b):
            if f.name in SCHEDULE_FIELDS:
                continue
            x, y = getattr(a, f.name), getattr(b, f.name)
            if x != y:
                out.append(f"{name}.{f.name} {_shown(x)} → {_shown(y)}")
    return out


def _shown(value) -> str:
    if hasattr(value, "name"):
        return value.name
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _coerced(lever: str, values, changed: dict[str, Any]) -> dict[str, Any]:
    fields = {f.name: f for f in dataclasses.fields(values)}
    return {name: coerce_value(f"policy.{lever}.{name}", fields[name], value) for name, value in changed.items()}


def check(policy) -> None:
    """Refuse a schedule that cannot run, naming the key: weeks out of order, a change of an unknown parameter or to a
    value outside its range, values that break the lever's own rules (e.g. the fund's shares must sum to 1)."""
    for lever in _sections(policy):
        values = getattr(policy, lever)
        key = f"policy.{lever}"
        values.changes = {_week(key, w): dict(changed) if isinstance(changed, dict) else changed
                          for w, changed in values.changes.items()}  # a week from the command line is text
        if values.end_week is not None and values.end_week < values.start_week:
            raise ConfigError(f"{key}.end_week={values.end_week} is before {key}.start_week={values.start_week}")
        fields = {f.name: f for f in dataclasses.fields(values) if f.name not in SCHEDULE_FIELDS}
        for week, changed in values.changes.items():
            if week < 1:
                raise ConfigError(f"{key}.changes: week {week!r} is not a recorded week (a whole number ≥ 1)")
            if not isinstance(changed, dict) or not changed:
                raise ConfigError(f"{key}.changes.{week} must map parameters to values, e.g. "
                                  f"'{key}.changes={{{week}: {{{next(iter(fields))}: ...}}}}'")
            for name, value in changed.items():
                if name not in fields:
                    raise ConfigError(f"{key}.changes.{week}.{name} is not a parameter of policy.{lever}; "
                                      f"allowed: {', '.join(fields)}")
                check_leaf(f"{key}.changes.{week}.{name}", fields[name], _coerced(lever, values, {name: value})[name])
        for week in sorted({1, *boundaries_of(values)}):
            try:
                values_at(lever, values, week)
            except ConfigError as exc:
                raise ConfigError(f"{key} in recorded week {week}: {exc}") from None


def _week(key: str, week) -> int:
    """A week key of ``changes`` as an int (``+policy.x.changes.105.y=…`` gives the text "105")."""
    if isinstance(week, str) and week.strip().isdigit():
        return int(week)
    if isinstance(week, bool) or not isinstance(week, int) or week < 1:
        raise ConfigError(f"{key}.changes: week {week!r} is not a recorded week (a whole number ≥ 1)")
    return week


def boundaries_of(values) -> set[int]:
    """One lever's weeks at which its values may change: its start, the week after its end, its changes."""
    weeks = {values.start_week, *values.changes}
    if values.end_week is not None:
        weeks.add(values.end_week + 1)
    return weeks
