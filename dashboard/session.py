"""Scenarios A and B of the workshop page, and the two models stepped together.

The page compares two scenarios of one community run with the same seed (common random numbers,
see sim/model/community_model.py).  :func:`scenario` builds a side's settings from the same Hydra configs as the
command line (``community=…``, ``policy=…`` and the levers changed from the preset), and
:class:`Comparison` steps both models week by week.  The models are shared by every page showing the
same scenarios (:class:`SharedRun`, a bounded number kept in memory), so thirty participants of a
workshop who follow the trainer cost one run, not thirty.

Week 1 of the page is week 1 of the command line's run: before it, each model runs the warm-up
(``warmup_weeks`` weeks under the baseline levers, not recorded; docs/warmup.md).  The warm-up does not
depend on the policy, so it is run once per community, seed and behaviour (:func:`warmed_model`) and
A and B start from copies of the same warmed state, as two command-line runs with the same seed do.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pandas as pd

from dashboard.levers import LEVER_OF, LEVERS, clean_value, is_community_lever, same_value, value_text
from sim.model.community_model import CommunityModel, warmup_key
from sim.model.grids import CommunityWeek, community_week
from sim.settings.config import SimConfig, get_value, settings_for, with_values
from sim.tables.glossary import label, preset_label

SIDES = ("A", "B")
DEFAULT_COMMUNITY = "urban_traditional"
DEFAULT_POLICIES = {"A": "baseline", "B": "five_society"}
DEFAULT_WEEKS = 260
MAX_WEEKS = 520


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
    """The presets' value of every lever of the page (what the widgets show after choosing the preset).

    A policy lever's value is the policy preset's, whatever the community; a community lever's
    (``community.…``, dashboard.levers.is_community_lever) is the community preset's.
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
    the composed preset pair (cached) with these values set by ``sim.settings.config.with_values`` (range-checked),
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
# The warm-up, run once per community and seed
# ---------------------------------------------------------------------------------------------
WARMED_STATES = 8  # warmed models kept in memory (about 2 MB each for 12,000 residents)
_WARMED: OrderedDict[str, CommunityModel] = OrderedDict()
_WARMED_LOCK = threading.Lock()  # held only to look up and store (a warm-up runs under its own key's lock)
_WARMING: dict[str, threading.Lock] = {}


def warmed_model(settings: SimConfig) -> CommunityModel:
    """A model of ``settings`` that has run its warm-up: its next step is the recorded week 1.

    The warmed state of the community and seed (:func:`sim.model.community_model.warmup_key`) is computed once and kept
    (:data:`WARMED_STATES` of them); each call returns an independent copy given ``settings``
    (:meth:`CommunityModel.warmed_copy`: its policy comes into force at week 1).  The result equals
    ``CommunityModel(settings)`` after ``warm_up()`` (tests/test_dashboard.py checks it).
    """
    if settings.warmup_weeks == 0:  # no warm-up: the run's levers are in force from the first week
        return CommunityModel(copy.deepcopy(settings))
    key = warmup_key(settings)
    with _WARMED_LOCK:  # the lock of this community and seed, so that other warm-ups go on meanwhile
        lock = _WARMING.setdefault(key, threading.Lock())
    with lock:
        with _WARMED_LOCK:
            warmed = _WARMED.get(key)
            if warmed is not None:
                _WARMED.move_to_end(key)
        if warmed is None:
            warmed = CommunityModel(copy.deepcopy(settings))
            warmed.warm_up()
            with _WARMED_LOCK:
                _WARMED[key] = warmed
                while len(_WARMED) > WARMED_STATES:
                    _WARMING.pop(_WARMED.popitem(last=False)[0], None)
        return warmed.warmed_copy(settings)


# ---------------------------------------------------------------------------------------------
# Levers moved during a run
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LeverChange:
    """Levers of one side moved during the run, at ``week``: in force from week ``week + 1`` on.

    A trainer stages "in year 2 the street office starts buying services" by moving the budget at week 52.
    Two runs are the same run only if they saw the same changes at the same weeks (the change is part of
    the shared run's key; ``settings``, the side's settings after the change, is not compared).
    """

    week: int
    side: str
    policy: str                                 # the side's policy preset after the change
    changed: tuple[tuple[str, Any], ...]        # (lever key, new value) of the levers that moved
    settings: SimConfig = field(compare=False, hash=False, repr=False)

    def text(self, lang: str = "en") -> str:
        """E.g. "B from week 53: Government purchase of services (yuan/year) → 400,000"."""
        moved = "; ".join(f"{label(LEVER_OF[k].term, lang)} → {value_text(LEVER_OF[k], v, lang)}"
                          for k, v in self.changed)
        if not moved:
            moved = preset_label("policy", self.policy, lang)
        return label("lever_change", lang, side=self.side, start=self.week + 1, levers=moved)


# ---------------------------------------------------------------------------------------------
# Two models stepped together, shared by every page that shows the same scenarios
# ---------------------------------------------------------------------------------------------
SHARED_RUNS = 40  # pairs of models kept in memory at once (about 15 MB each for 12,000 residents, 260 weeks)


class SharedRun:
    """The two models of one pair of scenarios, run once for every page that shows them.

    A run is fully determined by its settings and seed, so every participant of a workshop who chose the
    same scenarios sees the same weeks: the models are stepped once, as far as the furthest page has
    asked, and each page reads the weeks it has reached (the weekly table up to its own week is exactly
    what a model stepped to that week would hold; tests/test_dashboard.py checks it).
    """

    def __init__(self, scenarios: dict[str, Scenario], changes: tuple[LeverChange, ...] = ()) -> None:
        self.scenarios = scenarios
        self._lock = threading.Lock()
        self.models = {side: warmed_model(sc.settings) for side, sc in scenarios.items()}
        self._due: dict[int, list[LeverChange]] = {}  # week → the lever changes that come into force after it
        for change in changes:
            self._due.setdefault(change.week, []).append(change)
        self._tables: dict[str, tuple[int, pd.DataFrame]] = {}
        # the community (grids, organisations, units) at the end of every week run, for the map
        self._community: dict[str, list[CommunityWeek]] = {side: [community_week(m)] for side, m in self.models.items()}

    @property
    def week(self) -> int:
        """Recorded weeks the models have run (the furthest any page has reached; the warm-up not counted)."""
        return self.models["A"].weeks_recorded

    def timeseries(self, side: str, week: int) -> pd.DataFrame:
        """One side's weekly table from week 1 to ``week``, stepping both models that far if needed."""
        with self._lock:
            while self.week < week:
                for change in self._due.get(self.week, ()):  # a lever moved at this week: in force from the next
                    self.models[change.side].change_policy(change.settings.policy)
                for stepped, model in self.models.items():
                    model.step()
                    self._community[stepped].append(community_week(model))
            run_week, table = self._tables.get(side, (-1, None))
            if run_week != self.week:
                table = self.models[side].timeseries()
                self._tables[side] = (self.week, table)
        return table.iloc[:week]  # pandas copies on write: a page changing its table leaves the run's alone


    def community(self, side: str, week: int) -> CommunityWeek:
        """One side's community at the end of ``week`` (0: before the first week), stepping both models if needed."""
        self.timeseries(side, week)
        return self._community[side][week]


class _Building:
    """A shared run being built by one page: the others asking for it wait for the result (or its error)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._run: SharedRun | None = None
        self._error: BaseException | None = None

    def done(self, run: SharedRun) -> None:
        self._run = run
        self._event.set()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._event.set()

    def wait(self) -> SharedRun:
        self._event.wait()
        if self._error is not None:
            raise RuntimeError(f"the shared run could not be built: {self._error}") from self._error
        assert self._run is not None
        return self._run


class SharedRuns:
    """The shared runs in memory, the most recently used first; the oldest is dropped beyond ``size``.

    A page keeps only its scenarios and its week, never the run itself, so memory stays bounded however
    many participants connect; a dropped run is rebuilt (identically) when a page needs it again.
    """

    def __init__(self, size: int = SHARED_RUNS) -> None:
        self.size = size
        self._runs: OrderedDict[tuple, SharedRun] = OrderedDict()
        self._lock = threading.Lock()  # held only to look up and store: never while a run is built
        self._building: dict[tuple, _Building] = {}

    def get(self, key: tuple, scenarios: dict[str, Scenario], changes: tuple[LeverChange, ...] = ()) -> SharedRun:
        """The shared run of ``key``, built (warm-up included) by the first page that asks for it.

        A new run is built outside the global lock: pages showing other runs go on meanwhile, and pages asking
        for the same new run wait for that one build (not for a build of their own)."""
        with self._lock:
            run = self._runs.get(key)
            if run is not None:
                self._runs.move_to_end(key)
                return run
            building = self._building.get(key)
            owner = building is None
            if owner:
                building = self._building[key] = _Building()
        if not owner:
            return building.wait()
        try:
            run = SharedRun(scenarios, changes)
        except BaseException as exc:
            with self._lock:
                del self._building[key]
            building.fail(exc)
            raise
        with self._lock:
            self._runs[key] = run
            self._runs.move_to_end(key)
            while len(self._runs) > self.size:
                self._runs.popitem(last=False)
            del self._building[key]
        building.done(run)
        return run

    def __len__(self) -> int:
        return len(self._runs)

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()


RUNS = SharedRuns()


class Comparison:
    """Scenarios A and B of the same community and seed, at the week this page has reached.

    The models themselves are shared between pages (:class:`SharedRun`): stepping moves this page's
    week, and the weekly tables are read from the shared run up to that week.  Levers moved during the
    run (:meth:`change_levers`) come into force from the next week on; the run goes on.
    """

    def __init__(self, a: Scenario, b: Scenario, runs: SharedRuns | None = None) -> None:
        if a.settings is None or b.settings is None:
            raise ValueError("both scenarios need settings")
        if a.settings.seed != b.settings.seed:
            raise ValueError(f"A and B must share the seed (A: {a.settings.seed}, B: {b.settings.seed})")
        if a.settings.steps != b.settings.steps:
            raise ValueError(f"A and B must run the same weeks (A: {a.settings.steps}, B: {b.settings.steps})")
        if a.community != b.community:
            raise ValueError(f"A and B must be the same community (A: {a.community}, B: {b.community})")
        self.initial = {"A": a, "B": b}     # the scenarios the run started from
        self.scenarios = dict(self.initial)  # the scenarios in force now (after the lever changes)
        self.changes: list[LeverChange] = []
        self.runs = RUNS if runs is None else runs
        self.week = 0  # weeks run so far on this page (the same for both)
        self.titles: dict[str, str] = {}  # side -> glossary key of its name where a workshop scenario names it

    @property
    def key(self) -> tuple:
        """What identifies the run: the starting scenarios and the lever changes (changes when any choice does)."""
        return tuple(sc.overrides for sc in self.initial.values()), tuple(self.changes)

    @property
    def run(self) -> SharedRun:
        """The shared models of these scenarios."""
        return self.runs.get(self.key, self.initial, tuple(self.changes))

    def change_scenario(self, side: str, policy: str, levers: dict[str, Any]) -> bool:
        """Side's policy preset and lever values become ``policy`` and ``levers``; returns whether anything changed.

        At week 0 the side simply starts from them.  During the run the change comes into force from the next
        week on and the run goes on (a :class:`LeverChange`); a lever that is a fact about the community
        (e.g. bottles sold a week) cannot change during a run: ValueError names it (restart instead).
        """
        if side not in self.scenarios:
            raise ValueError(f"unknown side {side!r}; sides: {', '.join(SIDES)}")
        now = self.scenarios[side]
        new = scenario(side, now.community, policy, levers, now.seed, now.steps)
        moved = {k: v for k, v in new.levers.items() if not same_value(v, now.levers[k])}
        if not moved and policy == now.policy:
            return False
        if self.week == 0:
            self.initial[side] = self.scenarios[side] = new
            return True
        fixed = [k for k in moved if is_community_lever(LEVER_OF[k])]
        if fixed:
            raise ValueError(f"{', '.join(fixed)} describe the community and cannot change during a run; reset first")
        if self.done:  # after the last week: no change of this run, the levers of the next (Reset starts from them)
            self.scenarios[side] = new
            return True
        self.changes.append(LeverChange(self.week, side, policy, tuple(moved.items()), new.settings))
        self.scenarios[side] = new
        return True

    def change_levers(self, side: str, levers: dict[str, Any]) -> bool:
        """Move some of side's levers (its policy preset stays); see :meth:`change_scenario`."""
        now = self.scenarios[side]
        return self.change_scenario(side, now.policy, {**now.levers, **levers})

    def with_seed(self, seed: int, runs: SharedRuns | None = None) -> Comparison:
        """The same comparison with another seed, at week 0: the same starting scenarios and the same lever
        changes at the same weeks (what the replicates run)."""
        def reseeded(scs: dict[str, Scenario]) -> dict[str, Scenario]:
            return {s: scenario(s, sc.community, sc.policy, sc.levers, seed, sc.steps) for s, sc in scs.items()}

        comp = Comparison(*reseeded(self.initial).values(), runs=runs)
        comp.changes = list(self.changes)  # a change carries levers only: the seed is the run's
        comp.scenarios = reseeded(self.scenarios)
        return comp

    def events(self, lang: str = "en") -> list[tuple[int, str, str]]:
        """The lever changes as (week, side, text in ``lang``), for the event lines of the charts."""
        return [(c.week, c.side, c.text(lang)) for c in self.changes]

    def reset(self) -> None:
        """Back to week 0, starting from the levers in force now (the changes are forgotten)."""
        self.initial = dict(self.scenarios)
        self.changes = []
        self.week = 0

    @property
    def seed(self) -> int:
        return self.scenarios["A"].seed

    @property
    def steps(self) -> int:
        return self.scenarios["A"].settings.steps

    @property
    def done(self) -> bool:
        return self.week >= self.steps

    def step(self, n: int = 1) -> int:
        """Advance both runs by ``n`` weeks (fewer at the end of the run); returns the weeks advanced."""
        n = max(0, min(int(n), self.steps - self.week))
        self.week += n
        return n

    def community(self, side: str) -> CommunityWeek:
        """One side's community (grids, organisations, resident units) at this page's week."""
        return self.run.community(side, self.week)

    def timeseries(self, side: str | None = None) -> pd.DataFrame:
        """Weekly indicators of one side, or of both with a ``scenario`` column (A, B) first."""
        week, run = self.week, self.run
        if side is not None:
            return run.timeseries(side, week)
        frames = []
        for s, sc in self.scenarios.items():
            ts = run.timeseries(s, week)
            ts.insert(0, "scenario", s)
            ts.insert(1, "community", sc.community)
            ts.insert(2, "policy", sc.policy)
            ts.insert(3, "seed", sc.seed)
            frames.append(ts)
        return pd.concat(frames, ignore_index=True)

    def names(self, lang: str = "en") -> dict[str, str]:
        return {s: f"{s}: {label(self.titles[s], lang)}" if s in self.titles else sc.name(lang)
                for s, sc in self.scenarios.items()}


def comparison(community: str = DEFAULT_COMMUNITY, seed: int = 0, steps: int = DEFAULT_WEEKS,
               a: tuple[str, dict] = (DEFAULT_POLICIES["A"], {}),
               b: tuple[str, dict] = (DEFAULT_POLICIES["B"], {})) -> Comparison:
    """A comparison of two (policy preset, lever values) choices in ``community`` with the same seed."""
    return Comparison(scenario("A", community, a[0], a[1], seed, steps),
                      scenario("B", community, b[0], b[1], seed, steps))
