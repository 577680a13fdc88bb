"""The policy levers of the workshop page: which config parameters it exposes, and how.

A lever is a parameter of the config schema (sim/config.py: unit, range, source); the page adds a
widget, the bounds the widget shows, and a plain-language label and explanation from the glossary
(``lever_…`` and ``lever_…_help`` in sim/glossary.py).  Most levers belong to the policy (``policy.…``);
a few are facts about the community the sources leave open (``community.…``, e.g. how many bottles the
one-cent enterprise sells): they start at the community preset's value and follow it when the community
changes (:func:`is_community_lever`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sim.config import Governance, schema_fields
from sim.glossary import GLOSSARY, label


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


LEVERS: tuple[Lever, ...] = (
    Lever("policy.micro_fund.fen_per_unit", "slider", "lever_fen", 0.0, 10.0, 0.5),
    Lever("community.units_per_week", "number", "lever_units", 0, 100_000, 500),
    Lever("policy.gov_purchase.budget_yuan_per_year", "number", "lever_gov_budget", 0, 2_000_000, 10_000),
    Lever("policy.party_building.strength", "slider", "lever_party", 0.0, 1.0, 0.05),
    Lever("policy.venture.budget_yuan_per_year", "number", "lever_venture", 0, 1_000_000, 10_000),
    Lever("policy.moral_bank.enabled", "toggle", "lever_moral_bank"),
    Lever("policy.moral_bank.points_per_activity", "slider", "lever_points", 0.0, 50.0, 1.0,
          requires="policy.moral_bank.enabled"),
    Lever("policy.moral_bank.government_yuan_per_year", "number", "lever_moral_bank_gov", 0, 500_000, 5_000,
          requires="policy.moral_bank.enabled"),
    Lever("policy.fund.transparency", "slider", "lever_transparency", 0.0, 1.0, 0.05),
    Lever("policy.fund.governance", "select", "lever_governance"),
    Lever("policy.fund.public_fundraising", "toggle", "lever_fundraising"),
    Lever("policy.fund.government_match_ratio", "slider", "lever_match", 0.0, 2.0, 0.1),
    Lever("policy.social_work.extra_social_workers", "number", "lever_social_workers", 0, 20, 1),
    Lever("policy.social_work.mobilisation", "toggle", "lever_mobilisation"),
    Lever("policy.deliberation.enabled", "toggle", "lever_deliberation"),
    Lever("policy.charity_sales.enabled", "toggle", "lever_charity_sales"),
    Lever("policy.social_enterprise.enabled", "toggle", "lever_social_enterprise"),
)
LEVER_OF: dict[str, Lever] = {lv.key: lv for lv in LEVERS}


def is_community_lever(lever: Lever) -> bool:
    """A lever that is a fact about the community (its preset's value), not part of a policy."""
    return lever.key.startswith("community.")


def lever_meta(key: str) -> dict:
    """The schema's documentation of a parameter: unit, lo, hi, help, source, choices (sim/config.py)."""
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
        rows.append({"key": lv.key, "label": label(lv.term, lang), "explanation": label(f"{lv.term}_help", lang),
                     "range": rng, "help": meta.get("help", ""), "source": meta.get("source", "")})
    return rows
