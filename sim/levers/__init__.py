"""The policy levers of the five-society linkage: one module per lever (configs/policy/*.yaml set them).

Each module of this package (``micro_fund.py``, ``moral_bank.py`` …) declares one lever: its parameters (unit,
range, source, sensitivity prior, whether it spends public money, how the workshop page shows it), its schedule
(``start_week``/``end_week``/``changes``, :mod:`sim.levers.schedule`), the rules it runs at the named points of the
week (:data:`sim.levers.base.HOOK_POINTS`), its random streams, columns and kinds of public cost
(:class:`sim.levers.base.Lever`).  This package finds the modules, orders them by ``Lever.order`` and builds the
policy (:class:`PolicyConfig`) from them: a new lever is a new module here, a policy file and its labels
(docs/architecture.md, "Adding a lever").  Every catalogue of levers (money levers, priors, the dashboard's
levers, the ODD's lever table) is derived from the modules.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

from sim.levers.base import HOOK_POINTS, SCHEDULE_FIELDS, Lever, lever_params
from sim.levers.fund import Governance  # the fund's governance: a choice among names, used by the schema's checks
from sim.settings.params import param, section

_NOT_LEVERS = {"base", "schedule"}


def _discover() -> tuple[Lever, ...]:
    """Every module of this package that declares a ``LEVER``, in the levers' order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name in _NOT_LEVERS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        lever = getattr(module, "LEVER", None)
        if not isinstance(lever, Lever):
            raise TypeError(f"sim/levers/{info.name}.py declares no LEVER = Lever(...)")
        if lever.name != info.name:
            raise TypeError(f"sim/levers/{info.name}.py declares lever {lever.name!r}: a lever's module is named "
                            f"after it")
        found.append(lever)
    orders = [lv.order for lv in found]
    if len(set(orders)) != len(orders):
        raise TypeError(f"two levers share an order: {sorted((lv.order, lv.name) for lv in found)}")
    return tuple(sorted(found, key=lambda lv: lv.order))


LEVERS: tuple[Lever, ...] = _discover()
LEVER_OF: dict[str, Lever] = {lv.name: lv for lv in LEVERS}


def _policy_post_init(self) -> None:
    from sim.levers import schedule

    schedule.check(self)


PolicyConfig = dataclasses.make_dataclass(
    "PolicyConfig",
    [("name", "str", param("baseline", "-", help="policy preset name")),
     ("label_zh", "str", param("基线（无联动）", "-", help="Chinese name of the policy")),
     *[(lv.name, lv.params, section(lv.params)) for lv in LEVERS]],
    namespace={"__doc__": "A policy: a set of five-society-linkage levers (one section per module of sim/levers/). "
                          "Files in configs/policy/ set them.",
               "__post_init__": _policy_post_init})
PolicyConfig.__module__ = __name__


def lever_streams() -> tuple[str, ...]:
    """The random streams the levers declare, in the levers' order (spawned after the model's own)."""
    return tuple(s for lv in LEVERS for s in lv.streams)


def lever_cost_kinds() -> tuple[str, ...]:
    """The kinds of public cost the levers add (besides the model's own, :data:`sim.model.record.PUBLIC_COSTS`)."""
    return tuple(k for lv in LEVERS for k in lv.cost_kinds)


def lever_parameters(*flags: str) -> tuple[str, ...]:
    """Dotted keys of the levers' parameters declared with any of ``flags`` (``money``, ``staff``), in the levers'
    order."""
    return tuple(f"policy.{lv.name}.{f.name}" for lv in LEVERS for f in dataclasses.fields(lv.params)
                 if any(f.metadata.get(flag) for flag in flags))


def money_levers() -> tuple[str, ...]:
    """The parameters through which a policy spends public money (declared ``money=True`` in their module)."""
    return lever_parameters("money")


__all__ = ["HOOK_POINTS", "LEVERS", "LEVER_OF", "SCHEDULE_FIELDS", "Governance", "Lever", "PolicyConfig",
           "lever_cost_kinds", "lever_parameters", "lever_params", "lever_streams", "money_levers"]
