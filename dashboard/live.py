"""What the page's live view shows for a comparison at a week: indicators against the targets and the charts.

The content depends only on the scenarios, the week and the language, so it is built once and shared
by every page that shows the same (a workshop's participants usually follow the trainer's setup):
a bounded cache, most recently used kept.  A tab's charts are built when a page first opens it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import cached_property
from typing import Any

import pandas as pd

from dashboard import community_map, figures
from dashboard.indicators import DEFAULT_SMOOTHING, KpiRow, key_indicators
from dashboard.session import SIDES, Comparison, comparison
from sim.model.indicators import KEY_INDICATORS

CACHED_VIEWS = 96  # views kept (each about 0.3 MB: twelve charts of up to 520 weeks)


class LiveContent:
    """Names, key indicators and charts of both sides at one week, in one language.

    The key numbers and the trajectories (the open tab when a page starts) are built at once; the other tabs'
    charts and tables when first asked for (a page draws only its open tab), from the week's tables and
    community snapshots taken here, so a view built at week 5 shows week 5 whenever it is drawn."""

    def __init__(self, comp: Comparison, lang: str, smoothing: int = DEFAULT_SMOOTHING, large: bool = False) -> None:
        self.lang, self.smoothing, self.large = lang, smoothing, large
        self.names: dict[str, str] = comp.names(lang)
        self._ts = comp.timeseries()
        self._events = comp.events(lang)
        self._community = {side: comp.community(side) for side in SIDES}
        self.kpis: dict[str, list[KpiRow]] = {side: key_indicators(comp.timeseries(side)) for side in SIDES}
        # indicator -> the live chart's data, A and B (dashboard.live_chart draws it)
        self.trajectories: dict[str, dict] = {
            key: figures.trajectory_spec(self._ts, key, self.names, lang, self._events, smoothing, large)
            for key in KEY_INDICATORS}

    @cached_property
    def differences(self) -> dict[str, Any]:
        """Indicator -> plotly figure of B − A."""
        return {key: figures.difference_figure(self._ts, key, self.lang, self._events, self.smoothing, self.large)
                for key in KEY_INDICATORS}

    @cached_property
    def linkage(self) -> dict[str, Any]:
        """Demand handlers, public cost by kind, projects running, sessions (A and B)."""
        return figures.linkage_figures(self._ts, self.names, self.lang, self._events)

    @cached_property
    def fund(self) -> dict[str, Any]:
        """"in", "out" -> plotly figure of the fund's income and spending (A and B)."""
        return figures.fund_flow_figures(self._ts, self.names, self.lang)

    @cached_property
    def maps(self) -> dict[str, Any]:
        """Side -> plotly map of the community's grids at this week."""
        return {side: community_map.map_figure(self._community[side], self.names[side], self.lang, self.large)
                for side in SIDES}

    @cached_property
    def community_views(self) -> dict[str, dict]:
        """Side -> the community at work at this week (dashboard.community_view): its grids, who answered, the fund."""
        from dashboard.community_view import view_spec

        out = {}
        for side in SIDES:
            rows = self._ts[self._ts["scenario"] == side]
            row = rows.iloc[-1] if len(rows) else None
            out[side] = view_spec(self._community[side], row, self.names[side], self.lang, self.large)
        return out

    @cached_property
    def organisations(self) -> dict[str, pd.DataFrame]:
        """Side -> the organisations and their projects (columns in the language)."""
        return {side: community_map.organisation_table(self._community[side], self.lang) for side in SIDES}

    @cached_property
    def units(self) -> dict[str, pd.DataFrame]:
        """Side -> the resident units and the projects they claimed."""
        return {side: community_map.unit_table(self._community[side], self.lang) for side in SIDES}


def build(comp: Comparison, lang: str, smoothing: int = DEFAULT_SMOOTHING, large: bool = False) -> LiveContent:
    """The live view's content, computed from the comparison's weekly tables (weekly rates over the last
    ``smoothing`` weeks; ``large``: projector type on the charts)."""
    return LiveContent(comp, lang, smoothing, large)


class ViewCache:
    """Built views by (scenarios, week, language), the most recently used kept up to ``size``."""

    def __init__(self, size: int = CACHED_VIEWS) -> None:
        self.size = size
        self._views: OrderedDict[tuple, LiveContent] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, comp: Comparison, lang: str, smoothing: int = DEFAULT_SMOOTHING, large: bool = False) -> LiveContent:
        key = (comp.key, tuple(sorted(comp.titles.items())), comp.week, lang, smoothing, large)
        with self._lock:
            view = self._views.get(key)
            if view is not None:
                self._views.move_to_end(key)
                return view
        view = build(comp, lang, smoothing, large)  # outside the lock: pages showing other weeks need not wait
        with self._lock:
            self._views[key] = view
            while len(self._views) > self.size:
                self._views.popitem(last=False)
        return view

    def __len__(self) -> int:
        return len(self._views)


VIEWS = ViewCache()


def live_content(comp: Comparison, lang: str, smoothing: int = DEFAULT_SMOOTHING, large: bool = False) -> LiveContent:
    """The live view of ``comp`` at its week in ``lang`` (shared between pages; see the module doc)."""
    return VIEWS.get(comp, lang, smoothing, large)


def warm_up(langs: tuple[str, ...] = ("zh", "en")) -> None:
    """Build the page's opening view (default community and policies, week 0) in each language.

    Called by ``python -m dashboard.serve`` before it accepts connections, so that the participants who open
    the page together at the start of a workshop are not all waiting for the first one's imports and config
    composition (measured: 14 s median to the first page for 30 arrivals in 10 s without it).
    """
    comp = comparison()
    for lang in langs:
        live_content(comp, lang)
