"""Scenarios A and B of the workshop page, and the two models stepped together.

The page compares two scenarios of one community run with the same seed (common random numbers,
see sim/model.py).  :func:`scenario` builds a side's settings from the same Hydra configs as the
command line (``community=…``, ``policy=…`` and the levers changed from the preset), and
:class:`Comparison` steps both models week by week.
"""

from __future__ import annotations

import copy
import functools
import threading
from dataclasses import dataclass, field
from enum import Enum
from importlib.resources import files
from typing import Any

import pandas as pd

from dashboard.levers import LEVER_OF, LEVERS, clean_value, get_value, same_value
from sim.config import SimConfig, settings_for, with_values
from sim.glossary import PRESETS, label, preset_label
from sim.model import CommunityModel

SIDES = ("A", "B")
DEFAULT_COMMUNITY = "urban_traditional"
DEFAULT_POLICIES = {"A": "baseline", "B": "five_society"}
DEFAULT_WEEKS = 260
MAX_WEEKS = 520


def policy_presets() -> list[str]:
    """Names of the policy presets in configs/policy/, in the glossary's order (baseline first)."""
    names = {p.name[:-5] for p in files("sim.configs").joinpath("policy").iterdir() if p.name.endswith(".yaml")}
    return [n for n in PRESETS["policy"] if n in names] + sorted(names - set(PRESETS["policy"]))


# ---------------------------------------------------------------------------------------------
# Settings: the same Hydra configs as the command line
# ---------------------------------------------------------------------------------------------
_HYDRA_LOCK = threading.Lock()  # Hydra's global state: one composition at a time (Streamlit runs threads)


@functools.lru_cache(maxsize=128)
def _composed(overrides: tuple[str, ...]) -> SimConfig:
    """Validated settings for command-line overrides, composed once (callers copy before changing them)."""
    with _HYDRA_LOCK:
        return settings_for(*overrides)


def policy_levers(policy: str, community: str = DEFAULT_COMMUNITY) -> dict[str, Any]:
    """The preset's value of every lever of the page (what the widgets show after choosing the preset).

    Policy presets do not depend on the community; ``community`` only lets this share the composition
    (cached) with :func:`scenario`.
    """
    s = _composed((f"community={community}", f"policy={policy}", "progress=false"))
    return {lv.key: get_value(s, lv.key) for lv in LEVERS}


@dataclass
class Scenario:
    """One side (A or B) of the comparison: choices, their command-line overrides and the settings."""

    side: str
    community: str
    policy: str
    seed: int
    steps: int
    levers: dict[str, Any] = field(default_factory=dict)  # every lever's value (preset + adjustments)
    changed: dict[str, Any] = field(default_factory=dict)  # levers that differ from the preset
    overrides: tuple[str, ...] = ()
    settings: SimConfig | None = None

    @property
    def adjusted(self) -> bool:
        return bool(self.changed)

    def name(self, lang: str = "en") -> str:
        text = f"{self.side}: {preset_label('policy', self.policy, lang)}"
        return text + label("adjusted", lang) if self.adjusted else text

    def command(self) -> str:
        """The command line that runs this scenario (python -m sim ...)."""
        shown = [o for o in self.overrides if o != "progress=false"]
        return "python -m sim " + " ".join(shown)


def _override_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, float):
        return repr(value)
    return str(value)


def scenario(side: str, community: str, policy: str, levers: dict[str, Any] | None = None, seed: int = 0,
             steps: int = DEFAULT_WEEKS) -> Scenario:
    """Settings of one side: ``community=…``, ``policy=…``, the levers that differ from the preset, seed, steps.

    ``overrides`` are the equivalent command-line overrides.  To keep the page quick, the settings are
    the composed preset pair (cached) with these values set by ``sim.config.with_values`` (range-checked),
    which gives the same settings as ``settings_for(*overrides)`` (tests/test_dashboard.py checks it).
    """
    preset = policy_levers(policy, community)
    values = dict(preset)
    changed: dict[str, Any] = {}
    for key, value in (levers or {}).items():
        if key not in LEVER_OF:
            raise KeyError(f"{key!r} is not a lever of the dashboard; levers: {', '.join(LEVER_OF)}")
        value = clean_value(LEVER_OF[key], value)
        values[key] = value
        if not same_value(value, preset[key]):
            changed[key] = value
    overrides = (f"community={community}", f"policy={policy}",
                 *(f"{k}={_override_value(v)}" for k, v in changed.items()),
                 f"seed={int(seed)}", f"steps={int(steps)}", "progress=false")
    settings = with_values(_composed((f"community={community}", f"policy={policy}", "progress=false")),
                           {**changed, "seed": int(seed), "steps": int(steps)})
    return Scenario(side, community, policy, int(seed), int(steps), values, changed, overrides, settings)


# ---------------------------------------------------------------------------------------------
# Two models stepped together
# ---------------------------------------------------------------------------------------------
class Comparison:
    """Scenarios A and B of the same community and seed, stepped together week by week.

    A lock guards the models: the page steps them in one thread while a download may read them in another.
    """

    def __init__(self, a: Scenario, b: Scenario) -> None:
        if a.settings is None or b.settings is None:
            raise ValueError("both scenarios need settings")
        if a.settings.seed != b.settings.seed:
            raise ValueError(f"A and B must share the seed (A: {a.settings.seed}, B: {b.settings.seed})")
        if a.settings.steps != b.settings.steps:
            raise ValueError(f"A and B must run the same weeks (A: {a.settings.steps}, B: {b.settings.steps})")
        if a.community != b.community:
            raise ValueError(f"A and B must be the same community (A: {a.community}, B: {b.community})")
        self.scenarios = {"A": a, "B": b}
        self._lock = threading.RLock()
        self.reset()

    @property
    def key(self) -> tuple:
        """What identifies the comparison's settings (changes when any choice changes)."""
        return tuple(sc.overrides for sc in self.scenarios.values())

    def reset(self) -> None:
        with self._lock:
            self.models = {side: CommunityModel(copy.deepcopy(sc.settings)) for side, sc in self.scenarios.items()}

    @property
    def seed(self) -> int:
        return self.scenarios["A"].seed

    @property
    def steps(self) -> int:
        return self.scenarios["A"].settings.steps

    @property
    def week(self) -> int:
        """Weeks run so far (the same for both)."""
        return self.models["A"].week

    @property
    def done(self) -> bool:
        return self.week >= self.steps

    def step(self, n: int = 1) -> int:
        """Advance both models by ``n`` weeks (fewer at the end of the run); returns the weeks run."""
        with self._lock:
            n = max(0, min(int(n), self.steps - self.week))
            for _ in range(n):
                for model in self.models.values():
                    model.step()
            return n

    def timeseries(self, side: str | None = None) -> pd.DataFrame:
        """Weekly indicators of one side, or of both with a ``scenario`` column (A, B) first."""
        with self._lock:
            if side is not None:
                return self.models[side].timeseries()
            frames = []
            for s, model in self.models.items():
                ts = model.timeseries()
                sc = self.scenarios[s]
                ts.insert(0, "scenario", s)
                ts.insert(1, "community", sc.community)
                ts.insert(2, "policy", sc.policy)
                ts.insert(3, "seed", sc.seed)
                frames.append(ts)
            return pd.concat(frames, ignore_index=True)

    def names(self, lang: str = "en") -> dict[str, str]:
        return {s: sc.name(lang) for s, sc in self.scenarios.items()}


def comparison(community: str = DEFAULT_COMMUNITY, seed: int = 0, steps: int = DEFAULT_WEEKS,
               a: tuple[str, dict] = (DEFAULT_POLICIES["A"], {}),
               b: tuple[str, dict] = (DEFAULT_POLICIES["B"], {})) -> Comparison:
    """A comparison of two (policy preset, lever values) choices in ``community`` with the same seed."""
    return Comparison(scenario("A", community, a[0], a[1], seed, steps),
                      scenario("B", community, b[0], b[1], seed, steps))
