"""How a parameter is declared: a dataclass field that carries its unit, range, meaning and source.

Every parameter of the schema (:mod:`sim.schema`, the levers in :mod:`sim.levers`) is built with
:func:`param`; a nested group of parameters with :func:`section`.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

ASSUMPTION = "assumption"


class ConfigError(ValueError):
    """A configuration value outside its allowed range (the message names the key)."""


def param(default: Any, unit: str, lo: float | None = None, hi: float | None = None, *,
          help: str, source: str = ASSUMPTION, choices: tuple[str, ...] | None = None):
    """A config field with its documentation: unit, allowed range [lo, hi], meaning, source."""
    meta = {"unit": unit, "lo": lo, "hi": hi, "help": help, "source": source, "choices": choices}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


def section(cls):
    """A nested config section (a dataclass field whose default is the section's defaults)."""
    return field(default_factory=cls)
