"""What the page's live view shows for a comparison at a week: indicators against the targets and the charts.

The content depends only on the scenarios, the week and the language, so it is built once and shared
by every page that shows the same (a workshop's participants usually follow the trainer's setup):
a bounded cache, most recently used kept.  Building the six trajectory charts, the four charts of the
linkage at work and the two fund diagrams is most of the cost of redrawing the page.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dashboard import community_map, figures
from dashboard.indicators import DEFAULT_SMOOTHING, KpiRow, key_indicators
from dashboard.session import SIDES, Comparison, comparison
from sim.indicators import KEY_INDICATORS

CACHED_VIEWS = 96  # views kept (each about 0.3 MB: twelve charts of up to 520 weeks)


@dataclass(frozen=True)
class LiveContent:
    """Names, key indicators and charts of both sides at one week, in one language."""

    names: dict[str, str]
    kpis: dict[str, list[KpiRow]]
    trajectories: dict[str, Any]   # indicator -> plotly figure (A and B)
    differences: dict[str, Any]    # indicator -> plotly figure of B − A
    linkage: dict[str, Any]        # demand handlers, public cost by kind, projects running, sessions (A and B)
    fund: dict[str, Any]           # "in", "out" -> plotly figure of the fund's income and spending (A and B)
    maps: dict[str, Any]           # side -> plotly map of the community's grids at this week
    organisations: dict[str, pd.DataFrame]  # side -> the organisations and their projects (columns in the language)
    units: dict[str, pd.DataFrame]          # side -> the resident units and the projects they claimed


def build(comp: Comparison, lang: str, smoothing: int = DEFAULT_SMOOTHING, large: bool = False) -> LiveContent:
    """The live view's content, computed from the comparison's weekly tables (weekly rates over the last
    ``smoothing`` weeks; ``large``: projector type on the charts)."""
    names = comp.names(lang)
    series = {side: comp.timeseries(side) for side in SIDES}
    ts = comp.timeseries()
    events = comp.events(lang)
    community = {side: comp.community(side) for side in SIDES}
    return LiveContent(
        names=names,
        kpis={side: key_indicators(series[side]) for side in SIDES},
        trajectories={key: figures.trajectory_figure(ts, key, names, lang, events, smoothing, large)
                      for key in KEY_INDICATORS},
        differences={key: figures.difference_figure(ts, key, lang, events, smoothing, large) for key in KEY_INDICATORS},
        linkage=figures.linkage_figures(ts, names, lang, events),
        fund=figures.fund_flow_figures(ts, names, lang),
        maps={side: community_map.map_figure(community[side], names[side], lang, large) for side in SIDES},
        organisations={side: community_map.organisation_table(community[side], lang) for side in SIDES},
        units={side: community_map.unit_table(community[side], lang) for side in SIDES})


class ViewCache:
    """Built views by (scenarios, week, language), the most recently used kept up to ``size``."""

    def __init__(self, size: int = CACHED_VIEWS) -> None:
        self.size = size
        self._views: OrderedDict[tuple, LiveContent] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, comp: Comparison, lang: str, smoothing: int = DEFAULT_SMOOTHING, large: bool = False) -> LiveContent:
        key = (comp.key, comp.week, lang, smoothing, large)
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
