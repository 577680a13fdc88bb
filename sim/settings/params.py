"""How a parameter is declared: a dataclass field that carries its unit, range, meaning and source.

Every parameter of the schema (:mod:`sim.settings.schema`, the levers in :mod:`sim.levers`) is built with
:func:`param`; a nested group of parameters with :func:`section`.  A lever's parameter may say more:
``prior`` (the range a sensitivity study varies it over, :func:`sim.levers.sensitivity_ranges`),
``money`` (it spends public money: the equal-cost and advice studies scale it, :func:`sim.levers.money_levers`)
and ``widget`` (how the workshop page shows it, :func:`sim.levers.dashboard_levers`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

ASSUMPTION = "assumption"


class ConfigError(ValueError):
    """A configuration value outside its allowed range (the message names the key)."""


@dataclass(frozen=True)
class Widget:
    """How the workshop page shows a parameter: a ``slider``, ``number``, ``toggle`` or ``select``, the bounds the
    widget offers (within the schema's range), and the glossary term of its label (``term`` and ``term_help``)."""

    kind: str
    term: str
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    requires: str | None = None  # dotted key of a toggle this parameter only matters with
    rank: int = 0                # place on the page (levers sorted by rank)


def param(default: Any, unit: str, lo: float | None = None, hi: float | None = None, *,
          help: str, source: str = ASSUMPTION, choices: tuple[str, ...] | None = None,
          prior: tuple[float, float] | None = None, money: bool = False, widget: Widget | None = None,
          staff: bool = False, nullable: bool = False, quiet_default: bool = False):
    """A config field with its documentation: unit, allowed range [lo, hi], meaning, source.

    ``nullable``: ``null`` is allowed besides the range; ``quiet_default``: at its default the field is left out of
    the config's plain form (:func:`sim.settings.config.to_plain_dict`, which run folders are named by), so adding
    such a
    field to the schema does not rename existing runs.
    """
    meta = {"unit": unit, "lo": lo, "hi": hi, "help": help, "source": source, "choices": choices,
            "prior": prior, "money": money, "staff": staff, "widget": widget, "nullable": nullable,
            "quiet_default": quiet_default}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


def section(cls):
    """A nested config section (a dataclass field whose default is the section's defaults)."""
    return field(default_factory=cls)


# --------------------------------------------------------------------------------------------
# Checking one value against its declaration (the schema, the levers' schedules and the command line use these)
# --------------------------------------------------------------------------------------------
def format_limit(x: float | None) -> str:
    """A range limit as printed in messages and tables: ``10000``, ``0.5``, ``∞`` for none."""
    if x is None:
        return "∞"
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def shown(value: Any, width: int = 40) -> str:
    """``repr(value)`` for a message, shortened to ``width`` characters (a 400-digit number stays one line)."""
    text = "null" if value is None else str(value).lower() if isinstance(value, bool) else repr(value)
    return text if len(text) <= width else f"{text[:width - 12]}…({len(text)} characters)"


def check_leaf(key: str, f: dataclasses.Field, value: Any) -> None:
    """Raise ConfigError if ``value`` is not allowed for parameter ``key`` (its choices or its range)."""
    lo, hi, choices = f.metadata.get("lo"), f.metadata.get("hi"), f.metadata.get("choices")
    unit = f.metadata.get("unit", "").strip("-")  # "-": no unit
    if choices and not isinstance(value, Enum) and value not in choices:
        raise ConfigError(f"{key}={shown(value)} is not allowed; choose one of: {', '.join(choices)}")
    if (lo is None and hi is None) or (value is None and f.metadata.get("nullable")):
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (isinstance(value, float) and math.isnan(value)):
        raise ConfigError(f"{key}={shown(value)} must be a number in [{format_limit(lo)}, {format_limit(hi)}] {unit}"
                          .rstrip())
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(f"{key}={shown(value)} is out of range: allowed [{format_limit(lo)}, {format_limit(hi)}] "
                          f"{unit}".rstrip())


def coerce_value(key: str, f: dataclasses.Field, value: Any) -> Any:
    """``value`` as the type of parameter ``key`` (as OmegaConf would store it), or ConfigError.

    Stricter than OmegaConf where it would silently guess: a yes/no parameter takes only true or
    false (not ``2`` or ``"yes"``), a number must fit a float, a whole number must be whole.
    """
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # a numpy scalar, e.g. from a design table
    kind = f.type
    if isinstance(kind, str) and kind.endswith(" | None"):  # a nullable parameter (a lever's end_week)
        if value is None or (isinstance(value, str) and value.strip().lower() in ("null", "none", "")):
            return None
        kind = kind.removesuffix(" | None")
    if kind in ("int", "float") and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
        raise ConfigError(f"{key}={shown(value)} is not a{'n integer' if kind == 'int' else ' number'}")
    if kind in ("int", "float") and isinstance(value, str):  # OmegaConf converts numeric text
        try:
            value = int(value) if kind == "int" else float(value)
        except ValueError:
            raise ConfigError(f"{key}={shown(value)} is not a{'n integer' if kind == 'int' else ' number'}") \
                from None
    if kind == "float" and isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            raise ConfigError(f"{key}={shown(value)} is too large a number") from None
    if kind == "int" and isinstance(value, float):
        if not value.is_integer():
            raise ConfigError(f"{key}={shown(value)} is not an integer")
        return int(value)
    if kind == "bool" and not isinstance(value, bool):
        raise ConfigError(f"{key}={shown(value)} must be true or false")
    if kind == "str" and not isinstance(value, str):
        raise ConfigError(f"{key}={shown(value)} must be text")
    enum = type(f.default) if isinstance(f.default, Enum) else None  # a choice among names (the fund's governance)
    if enum is not None:
        try:
            return value if isinstance(value, enum) else enum[value]
        except (KeyError, TypeError):
            raise ConfigError(f"{key}={shown(value)} is not allowed; choose one of: "
                              f"{', '.join(f.metadata['choices'])}") from None
    if kind not in ("int", "float", "bool", "str"):
        raise ConfigError(f"{key} is not a single value; set it through a config file")
    return value
