"""The policy levers of the workshop page: which config parameters it exposes, and how.

A lever is a parameter of the config schema (sim/settings/config.py: unit, range, source); the page adds a
widget, the bounds the widget shows, and a plain-language label and explanation from the glossary
(``lever_…`` and ``lever_…_help`` in sim/tables/glossary.py).  Most levers belong to the policy (``policy.…``);
a few are facts about the community the sources leave open (``community.…``, e.g. how many bottles the
one-cent enterprise sells): they start at the community preset's value and follow it when the community
changes (:func:`is_community_lever`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sim.settings.config import Governance, schema_fields
from sim.tables.glossary import GLOSSARY, label


@dataclass(frozen=True)
class Lever:
    """A policy lever the page exposes: its config key, widget and bounds (within the schema's range)."""

    key: str                  # dotted config key, e.g. "policy.micro_fund.fen_per_unit"
    widget: str               # "slider", "number", "toggle" or "select"
    term: str                 # glossary key of its label; f"{term}_help" is its explanation
    lo: float | None = None   # bounds shown by the widget (a preset value outside them widens them)
    hi: float | None = None
    step: float | None = None
    requires: str | None = None  # key of a toggle this lever only matters with


def _declared() -> tuple[Lever, ...]:
    """The parameters whose declaration carries a ``widget`` (sim/levers/<lever>.py, and the community's flagged
    inputs in sim/settings/schema.py), in the order of their ranks: the page's levers are declared with the
    parameters."""
    rows = [(f.metadata["widget"], key) for key, f in schema_fields().items() if f.metadata.get("widget")]
    return tuple(Lever(key, w.kind, w.term, w.lo, w.hi, w.step, requires=w.requires)
                 for w, key in sorted(rows, key=lambda row: (row[0].rank, row[1])))


LEVERS: tuple[Lever, ...] = _declared()
LEVER_OF: dict[str, Lever] = {lv.key: lv for lv in LEVERS}


def is_community_lever(lever: Lever) -> bool:
    """A lever that is a fact about the community (its preset's value), not part of a policy."""
    return lever.key.startswith("community.")


def lever_meta(key: str) -> dict:
    """The schema's documentation of a parameter: unit, lo, hi, help, source, choices (sim/settings/config.py)."""
    return dict(schema_fields()[key].metadata)


def lever_options(lever: Lever) -> list[str]:
    """Choices of a ``select`` lever (names of the enum)."""
    choices = lever_meta(lever.key).get("choices")
    return list(choices) if choices else [g.name for g in Governance]


def option_label(lever: Lever, option: str, lang: str) -> str:
    """The label of a ``select`` lever's option (e.g. the fund's governance), else the option itself."""
    key = f"governance_{option}"
    return label(key, lang) if key in GLOSSARY else option


def widget_bounds(lever: Lever) -> tuple[float, float]:
    """Bounds of a numeric lever's widget: its own bounds, clipped to the schema's range.

    They are fixed (part of a slider's identity in Streamlit); every policy preset's value lies within
    them (tests/test_dashboard.py checks it)."""
    meta = lever_meta(lever.key)
    lo = lever.lo if lever.lo is not None else meta["lo"]
    hi = lever.hi if lever.hi is not None else meta["hi"]
    if meta["lo"] is not None:
        lo = max(lo, meta["lo"])
    if meta["hi"] is not None:
        hi = min(hi, meta["hi"])
    return lo, hi


def slider_format(lever: Lever) -> str:
    """printf format of a slider: as many decimals as its step has."""
    step = lever.step or 1
    decimals = 0 if float(step).is_integer() else len(f"{step:g}".split(".")[1])
    return f"%.{decimals}f"


def clean_value(lever: Lever, value: Any) -> Any:
    """A widget's value in the parameter's type (sliders return floats with rounding noise)."""
    default = schema_fields()[lever.key].default
    if isinstance(default, bool):
        return bool(value)
    if isinstance(default, Enum):
        return value.name if isinstance(value, Enum) else str(value)
    if isinstance(default, int):
        return round(float(value))
    return round(float(value), 6)


def same_value(a: Any, b: Any) -> bool:
    """Equal, numbers up to rounding noise."""
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def value_text(lever: Lever, value: Any, lang: str = "en") -> str:
    """A lever's value as the page shows it: on/off, the option's name, or the number (thousands separated)."""
    if lever.widget == "toggle":
        return label("on" if value else "off", lang)
    if lever.widget == "select":
        return option_label(lever, str(value), lang)
    return _number(round(float(value), 6))


def _number(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def lever_guide(lang: str = "en") -> list[dict]:
    """Every lever: label, plain-language explanation and the schema's key, unit, range and source."""
    rows = []
    for lv in LEVERS:
        meta = lever_meta(lv.key)
        if meta.get("choices"):
            rng = ", ".join(option_label(lv, c, lang) for c in meta["choices"])
        elif meta.get("lo") is None and meta.get("hi") is None:
            rng = f"{label('on', lang)} / {label('off', lang)}"
        else:  # the lever's label names the unit; the schema's unit is English
            rng = f"[{_number(meta['lo'])}, {_number(meta['hi'])}]" + (f" {meta['unit']}" if lang == "en" else "")
        source = meta.get("source", "")
        if f"source:{lv.key}" in GLOSSARY:  # the schema's source has English in it: the glossary's text in lang
            source = label(f"source:{lv.key}", lang)
        rows.append({"key": lv.key, "label": label(lv.term, lang), "explanation": label(f"{lv.term}_help", lang),
                     "range": rng, "help": meta.get("help", ""), "source": source})
    return rows
