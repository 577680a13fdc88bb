"""The page's state in Streamlit's session state: where each choice and lever value is kept, how a preset sets
the levers, and select boxes whose choice is language-free.

Shared by the page (``dashboard/app.py``) and the workshop kit's page parts (``dashboard/workshop_page.py``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import streamlit as st

from dashboard.levers import LEVERS, Lever, is_community_lever
from dashboard.session import DEFAULT_COMMUNITY, SIDES, policy_levers

ss = st.session_state
# Play: the page's ticker asks for the next run this long after a run has finished (dashboard/app.py; the load
# benchmark's participants tick as the browser does), or longer when many pages play at once (PlayingPages).
TICK_SECONDS = 0.25
PLAY_REDRAWS_PER_S = 4.0  # what the server gives Play's redraws of other pages than one (a redraw: ~0.1 s of CPU)


class PlayingPages:
    """The pages playing on this server, so that their redraws share it: alone, a page redraws TICK_SECONDS after
    each run; with n pages playing, each waits (n − 1) / PLAY_REDRAWS_PER_S seconds, and clicks still find the
    server free.  Play's pace does not change (each run advances the asked speed times the time since the last).

    Measured with it and 40 shared runs (benchmarks/results.md, 30 participants): page re-runs 0.10–0.19 s median;
    the 15–20 s waits seen before came from shared runs evicted and re-stepped (dashboard.session.SHARED_RUNS),
    not from Play's redraws, and were not measured without it once that was fixed."""

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_s = window_s
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def tick_seconds(self, page: str, now: float | None = None) -> float:
        """``page`` runs Play now: the seconds until it asks for its next run."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._last[page] = now
            for other, last in list(self._last.items()):
                if now - last > self.window_s:  # paused, or left
                    del self._last[other]
            playing = len(self._last)
        return max(TICK_SECONDS, (playing - 1) / PLAY_REDRAWS_PER_S)


PLAYING = PlayingPages()


def widget_key(side: str, lever: Lever) -> str:
    """Where a side's lever value is kept (the value the run is built from)."""
    return f"{side}:{lever.key}"


def preset_counter(side: str, lever: Lever) -> str:
    """Where the number of times a preset set this lever is kept: a policy preset sets every lever of the side,
    a community preset only the community's own levers (dashboard.levers.is_community_lever)."""
    return f"{side}_community_presets" if is_community_lever(lever) else f"{side}_presets"


def lever_widget(side: str, lever: Lever) -> str:
    """The key of the lever's widget: renewed each time a preset sets the lever, so that a value the browser
    still holds from before (a click that came while the page was redrawing) never overwrites the preset's
    values; the other levers' widgets keep their keys (and a value on its way from the browser)."""
    return f"{widget_key(side, lever)}#{ss.get(preset_counter(side, lever), 0)}"


def bump(counter: str) -> None:
    ss[counter] = ss.get(counter, 0) + 1


def kept(key: str, name: str = "value") -> dict:
    """``{name: the value kept under key}`` for a widget drawn from session state, so that its default is that value
    too: a browser that mounts the widget without the value set through session state (a page run cut short by the
    next one, on a loaded machine) shows and sends back the widget's default, and Streamlit's default is the minimum
    or the first option (seen: a reloaded page's "weeks" 3 → 1, and every untouched lever at its minimum, about 1 in
    4 runs of the reload tests beside other work). Empty if nothing is kept yet (the widget's own default)."""
    return {name: ss[key]} if key in ss else {}


def keep(key: str, widget: str) -> None:
    """A lever's widget was changed: keep its value."""
    ss[key] = ss[widget]


def widget_value(lever: Lever, value):
    if lever.widget == "toggle":
        return bool(value)
    if lever.widget == "select":
        return str(value)
    if lever.widget == "number" and isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return float(value)


def apply_preset(side: str) -> None:
    """Set side's lever widgets to its policy preset's values (on choosing a preset)."""
    preset = policy_levers(ss[f"{side}_policy"], ss.get("community", DEFAULT_COMMUNITY))
    for lever, value in zip(LEVERS, preset.values(), strict=True):
        ss[widget_key(side, lever)] = widget_value(lever, value)
    bump(f"{side}_presets")
    bump(f"{side}_community_presets")


def community_changed() -> None:
    """A new community: the levers that are facts about the community (e.g. bottles sold a week) take the new
    community preset's values on both sides; the policy levers keep theirs."""
    for side in SIDES:
        preset = policy_levers(ss[f"{side}_policy"], ss.community)
        for lever in LEVERS:
            if is_community_lever(lever):
                ss[widget_key(side, lever)] = widget_value(lever, preset[lever.key])
        bump(f"{side}_community_presets")



def choose(key: str, widget: str, options: list[str], then: Callable[..., None] | None, args: tuple) -> None:
    """A select box was changed: keep its choice if it is one of the options and a new one, then run
    ``then(*args)`` (a callback that fires with the choice already made changes nothing: it would, e.g., set
    a side's levers back to its preset)."""
    if ss.get("select_widgets", {}).get(key) != widget:  # a widget from an earlier drawing: see select()
        return
    value = ss.get(widget)
    if value in options and value != ss.get(key):
        ss[key] = value
        if then is not None:
            then(*args)


def new_language() -> None:
    """The language switch was used: every select box is drawn as a new widget (see :func:`select`)."""
    bump("language_switches")


def select(text: str, options: list[str], key: str, format_func: Callable[[str], str], lang: str,
           on_change: Callable[..., None] | None = None, args: tuple = (), help: str | None = None,
           widget: str | None = None) -> None:
    """A select box showing its options in ``lang``; the choice itself (an option's name) is kept under ``key``.

    Streamlit knows a select box's choice by the option's *shown text*, so a choice made in Chinese and read
    back after a switch to English (a redraw during Play can carry it) would be a Chinese text, not a
    preset's name. Each language therefore has its own widget, set from the language-free choice before it
    is drawn; only a change made in a widget, to one of its options and to another choice, changes the
    choice. The widget is a new one after every use of the language switch (``key@lang.n``): back in a
    language, the browser could otherwise send the old widget's value from before the switch, which Streamlit
    takes for a change (seen in the random-click test: every select box's callback fired at once and a side's
    levers went back to its preset). The language is display only and never reaches the model's settings.
    Two guards against values on their way from an earlier drawing: a change reported by a widget that is no longer
    the one drawn for ``key`` is ignored (Streamlit keeps an old widget and its callback until a page run ends
    uninterrupted, which during Play can take many runs; seen firing in every random-click run); and the widget is
    set from the choice only when the two differ, because a value set by the page is pushed to the browser and
    replaces what the browser holds, so setting it on every run could undo a choice made while that run was drawn.
    ``widget`` names the widget (default ``key``; a lever's changes with each preset, see :func:`lever_widget`).
    """
    widget = f"{widget or key}@{lang}.{ss.get('language_switches', 0)}"
    ss.setdefault("select_widgets", {})[key] = widget
    if ss.get(widget) != ss[key]:
        ss[widget] = ss[key]
    index = options.index(ss[key]) if ss[key] in options else 0  # the choice also as the default (see kept)
    st.selectbox(text, options, key=widget, index=index, format_func=format_func, help=help, on_change=choose,
                 args=(key, widget, list(options), on_change, args))


def set_levers(side: str, levers: dict) -> None:
    """Set some of side's lever values (a link, a workshop scenario, a staged change); their widgets are renewed
    so that they show the new values."""
    for lever in LEVERS:
        if lever.key in levers:
            ss[widget_key(side, lever)] = widget_value(lever, levers[lever.key])
    bump(f"{side}_presets")
    bump(f"{side}_community_presets")


def lever_values(side: str) -> dict:
    """Side's lever values as kept (what its run is built from)."""
    return {lever.key: ss[widget_key(side, lever)] for lever in LEVERS}
