"""The workshop dashboard: two scenarios of one community, side by side, week by week.

Start it with ``python -m dashboard.serve`` (offline settings; see dashboard/serve.py), or
``streamlit run dashboard/app.py`` from the repository root.  Everything it computes comes from the
other modules of the package (scenarios and stepping: session; the live view's content: live;
indicators; figures; export; replicates), which call the same model and Hydra configs as the command
line; this file only lays the page out.  Every label comes from sim/glossary.py.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard import export, figures
from dashboard.indicators import shown_value, verdict_text
from dashboard.levers import (
    LEVER_OF,
    LEVERS,
    Lever,
    is_community_lever,
    lever_guide,
    lever_meta,
    lever_options,
    option_label,
    slider_format,
    widget_bounds,
)
from dashboard.live import live_content
from dashboard.replicates import REPLICATE_SEEDS, replicate_summary, run_replicates
from dashboard.session import (
    DEFAULT_COMMUNITY,
    DEFAULT_POLICIES,
    DEFAULT_WEEKS,
    MAX_WEEKS,
    SIDES,
    Comparison,
    comparison,
    policy_levers,
    policy_presets,
)
from sim.config import community_presets
from sim.glossary import label as t
from sim.glossary import preset_label
from sim.indicators import KEY_INDICATORS

LANGS = ("zh", "en")                    # the page opens in Chinese; ?lang=en for English
TICK_SECONDS = 1.0                      # Play: one update a second, advancing `speed` weeks
SPEEDS = (1, 2, 4, 8, 13, 26, 52)       # weeks per second
PLOTLY_CONFIG = {"displayModeBar": False, "displaylogo": False, "responsive": True}
ss = st.session_state


# ---------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------
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


def init_state() -> None:
    if "lang" not in ss:
        lang = st.query_params.get("lang", "zh")
        ss.lang = lang if lang in LANGS else "zh"
    ss.setdefault("community", DEFAULT_COMMUNITY)
    ss.setdefault("seed", 0)
    ss.setdefault("weeks", DEFAULT_WEEKS)
    ss.setdefault("speed", 4)
    ss.setdefault("playing", False)
    for side in SIDES:
        if f"{side}_policy" not in ss:
            ss[f"{side}_policy"] = DEFAULT_POLICIES[side]
            apply_preset(side)


def choices() -> tuple:
    """The current choices of the sidebar (what the two runs are built from)."""
    sides = tuple((ss[f"{side}_policy"], tuple((lv.key, ss[widget_key(side, lv)]) for lv in LEVERS))
                  for side in SIDES)
    return ss.community, int(ss.seed), int(ss.weeks), sides


def changed_live(comp: Comparison, old: tuple, new: tuple) -> bool:
    """Apply a change of a side's policy preset or levers to the running comparison, from the next week on (the
    run goes on, Play keeps playing); False if it needs a restart instead: nothing run yet, another community,
    seed or length, or a lever that is a fact about the community (dashboard.session.Comparison.change_scenario)."""
    if comp.week == 0 or old[:3] != new[:3]:
        return False
    try:
        for side, before, after in zip(SIDES, old[3], new[3], strict=True):
            if before != after:
                comp.change_scenario(side, after[0], dict(after[1]))
    except ValueError:
        return False
    return True


def ensure_comparison() -> Comparison:
    """The two models in session state: built at week 0, changed from the next week on when a lever moves during
    the run, rebuilt at week 0 when the community, seed or length changes."""
    key = choices()
    old = ss.get("comparison_key")
    if old == key and "comparison" in ss:
        return ss.comparison
    if "comparison" in ss and changed_live(ss.comparison, old, key):
        ss.comparison_key = key
        st.toast(t("lever_changed_live", ss.lang, start=ss.comparison.week + 1))
        return ss.comparison
    community, seed, weeks, sides = key
    restarted = "comparison" in ss and ss.comparison.week > 0
    ss.comparison = comparison(community, seed, weeks, *((p, dict(lv)) for p, lv in sides))
    ss.comparison_key = key
    if restarted:
        ss.playing = False
        st.toast(t("restarted", ss.lang))
    return ss.comparison


# ---------------------------------------------------------------------------------------------
# Callbacks of the run controls
# ---------------------------------------------------------------------------------------------
def do_step() -> None:
    ss.comparison.step(1)


def toggle_play() -> None:
    ss.playing = not ss.playing and not ss.comparison.done


def do_reset() -> None:
    ss.playing = False
    ss.comparison.reset()


def stop_playing() -> None:
    ss.playing = False


def choose(key: str, widget: str, options: list[str], then: Callable[..., None] | None, args: tuple) -> None:
    """A select box was changed: keep its choice if it is one of the options, then run ``then(*args)``."""
    value = ss.get(widget)
    if value in options:
        ss[key] = value
        if then is not None:
            then(*args)


def select(text: str, options: list[str], key: str, format_func: Callable[[str], str], lang: str,
           on_change: Callable[..., None] | None = None, args: tuple = (), help: str | None = None,
           widget: str | None = None) -> None:
    """A select box showing its options in ``lang``; the choice itself (an option's name) is kept under ``key``.

    Streamlit knows a select box's choice by the option's *shown text*, so a choice made in Chinese and read
    back after a switch to English (a redraw during Play can carry it) would be a Chinese text, not a
    preset's name. Each language therefore has its own widget (``key@lang``), set from the language-free
    choice before it is drawn; only a change made in a widget, and only to one of its options, changes the
    choice. The language is display only and never reaches the model's settings. ``widget`` names the widget
    (default ``key``; a lever's changes with each preset, see :func:`lever_widget`).
    """
    widget = f"{widget or key}@{lang}"
    ss[widget] = ss[key]
    st.selectbox(text, options, key=widget, format_func=format_func, help=help, on_change=choose,
                 args=(key, widget, list(options), on_change, args))


# ---------------------------------------------------------------------------------------------
# Page parts
# ---------------------------------------------------------------------------------------------
def style() -> None:
    """CJK-capable system fonts (no web fonts) and no English-only input hints."""
    st.markdown(
        "<style>"
        "html, body, .stApp, .stApp *:not([data-testid='stIconMaterial']):not(code):not(pre):not(code *)"
        f"{{font-family: {figures.FONT_STACK};}}"
        "[data-testid='InputInstructions']{display: none;}"
        "[data-testid='stMetricDelta'] div, [data-testid='stMetricLabel'] p{white-space: normal; overflow: visible;}"
        "</style>",
        unsafe_allow_html=True)


def sidebar(lang: str) -> None:
    with st.sidebar:
        st.segmented_control(t("language", lang), list(LANGS), key="lang", required=True,
                             format_func={"zh": "中文", "en": "English"}.get)
        st.header(t("settings", lang))
        select(t("community_preset", lang), community_presets(), "community",
               lambda n: preset_label("community", n, lang), lang, on_change=community_changed)
        st.number_input(t("seed", lang), min_value=0, max_value=2**32 - 1, step=1, key="seed",
                        help=t("seed_help", lang))
        st.number_input(t("weeks", lang), min_value=1, max_value=MAX_WEEKS, step=1, key="weeks",
                        help=t("weeks_help", lang))
        st.subheader(t("levers", lang))
        for side, tab in zip(SIDES, st.tabs([t(f"scenario_{s}", lang) for s in SIDES]), strict=True):
            with tab:
                lever_controls(side, lang)


def lever_controls(side: str, lang: str) -> None:
    select(t("policy_preset", lang), policy_presets(), f"{side}_policy", lambda n: preset_label("policy", n, lang),
           lang, on_change=apply_preset, args=(side,), help=t("policy_preset_help", lang))
    for lever in LEVERS:
        key, widget = widget_key(side, lever), lever_widget(side, lever)
        text, help_text = t(lever.term, lang), t(f"{lever.term}_help", lang)
        disabled = lever.requires is not None and not ss[widget_key(side, LEVER_OF[lever.requires])]
        if lever.widget == "select":
            select(text, lever_options(lever), key, lambda o, lv=lever: option_label(lv, o, lang), lang,
                   help=help_text, widget=widget)
            continue
        if widget not in ss:  # a new widget starts from the kept value
            ss[widget] = ss[key]
        common = {"key": widget, "help": help_text, "on_change": keep, "args": (key, widget)}
        if lever.widget == "toggle":
            st.toggle(text, **common)
        elif lever.widget == "slider":
            lo, hi = widget_bounds(lever)
            st.slider(text, min_value=float(lo), max_value=float(hi), step=float(lever.step),
                      format=slider_format(lever), disabled=disabled, **common)
        else:
            meta = lever_meta(lever.key)
            integer = isinstance(ss[key], int)
            cast = int if integer else float
            st.number_input(text, min_value=cast(meta["lo"]), max_value=cast(meta["hi"]), step=cast(lever.step),
                            format=None if integer else "%.0f", disabled=disabled, **common)


def controls(comp: Comparison, lang: str) -> None:
    c_step, c_play, c_reset, c_speed = st.columns([1, 1, 1, 3], vertical_alignment="bottom")
    c_step.button(t("step_button", lang), key="btn_step", on_click=do_step, disabled=comp.done or ss.playing,
                  help=t("step_help", lang), width="stretch")
    c_play.button(t("pause", lang) if ss.playing else t("play", lang), key="btn_play", on_click=toggle_play,
                  type="primary", disabled=comp.done and not ss.playing, width="stretch")
    c_reset.button(t("reset", lang), key="btn_reset", on_click=do_reset, help=t("reset_help", lang),
                   width="stretch")
    c_speed.select_slider(t("speed", lang), options=SPEEDS, key="speed")


def live_view(lang: str) -> None:
    """Status, indicators, trajectories and fund flows; a fragment, so Play redraws only this part."""
    comp: Comparison = ss.comparison
    if ss.playing:
        comp.step(int(ss.speed))
        if comp.done:
            ss.playing = False
            st.rerun()  # redraw the controls (Play, Step) and stop the timer
    st.progress(comp.week / comp.steps, text=t("week_of", lang, week=comp.week, steps=comp.steps))
    if comp.week == 0:
        st.info(t("not_started", lang))
    elif comp.done:
        st.success(t("finished", lang))
    view = live_content(comp, lang)

    st.subheader(t("key_indicators", lang))
    st.caption(t("kpi_note", lang))
    for side, col in zip(SIDES, st.columns(2), strict=True):
        with col, st.container(key=f"kpis_{side}", border=True):
            st.markdown(f"**{view.names[side]}**")
            cells = st.columns(2)
            for i, row in enumerate(view.kpis[side]):
                color = "gray" if row.met is None else ("green" if row.met else "red")
                with cells[i % 2]:
                    st.metric(t(row.key, lang), shown_value(row.key, row.value, lang),
                              delta=verdict_text(row, lang), delta_color=color, delta_arrow="off")

    st.subheader(t("trajectories", lang))
    events = comp.events(lang)
    if events:  # the lever changes made during the run, marked on every chart by side and week
        st.markdown("\n".join(f"- {text}" for _week, _side, text in events))
    keys = KEY_INDICATORS
    for i in range(0, len(keys), 2):
        for key, col in zip(keys[i:i + 2], st.columns(2), strict=False):
            with col, st.container(key=f"traj_{key}"):
                st.plotly_chart(view.trajectories[key], config=PLOTLY_CONFIG)

    st.subheader(t("linkage", lang))
    st.caption(t("linkage_note", lang))
    charts = list(view.linkage.items())
    for i in range(0, len(charts), 2):
        for (name, fig), col in zip(charts[i:i + 2], st.columns(2), strict=False):
            with col, st.container(key=f"linkage_{name}"):
                st.plotly_chart(fig, config=PLOTLY_CONFIG)

    st.subheader(t("fund_flows", lang))
    st.caption(t("fund_flows_note", lang))
    for kind, col in zip(("in", "out"), st.columns(2), strict=True):
        with col, st.container(key=f"fund_{kind}"):
            st.plotly_chart(view.fund[kind], config=PLOTLY_CONFIG)


def exports(comp: Comparison, lang: str) -> None:
    """Downloads; each file is made when its button is clicked, from the runs as they are then."""
    st.subheader(t("export", lang))
    stem = f"five_society_{comp.scenarios['A'].community}_seed{comp.seed}"
    c_csv, c_ind, c_fund = st.columns(3)
    c_csv.download_button(t("download_csv", lang), data=lambda: export.comparison_csv(comp, lang),
                          file_name=f"{stem}_{lang}.csv", mime="text/csv", on_click="ignore", key="dl_csv",
                          width="stretch")
    c_ind.download_button(t("download_png_indicators", lang),
                          data=lambda: export.indicators_png(comp.timeseries(), comp.names(lang), lang, comp.steps,
                                                             comp.events(lang)),
                          file_name=f"{stem}_indicators_{lang}.png", mime="image/png", on_click="ignore",
                          key="dl_png_indicators", width="stretch")
    c_fund.download_button(t("download_png_fund", lang),
                           data=lambda: export.fund_png(comp.timeseries(), comp.names(lang), lang, comp.steps),
                           file_name=f"{stem}_fund_{lang}.png", mime="image/png", on_click="ignore",
                           key="dl_png_fund", width="stretch")


def replicates_section(comp: Comparison, lang: str) -> None:
    st.subheader(t("replicates", lang))
    st.caption(t("replicates_intro", lang))
    if st.button(t("run_replicates", lang), key="btn_replicates", on_click=stop_playing):
        bar = st.progress(0.0, text=t("replicates_progress", lang, done=0, total=2 * REPLICATE_SEEDS))

        def progress(done: int, total: int) -> None:
            bar.progress(done / total, text=t("replicates_progress", lang, done=done, total=total))

        reps = run_replicates(comp, REPLICATE_SEEDS, on_progress=progress)
        bar.empty()
        ss.replicates = {"key": ss.comparison_key, "reps": reps, "summary": replicate_summary(reps),
                         "names": {lg: comp.names(lg) for lg in LANGS}, "weeks": comp.steps,
                         "seeds": sorted(reps["seed"].unique().tolist()), "community": comp.scenarios["A"].community}
    rep = ss.get("replicates")
    if not rep:
        return
    if rep["key"] != ss.comparison_key:
        st.warning(t("replicates_stale", lang))
    seeds, names = rep["seeds"], rep["names"][lang]
    st.caption(t("replicates_done", lang, n=len(seeds), first=seeds[0], last=seeds[-1], weeks=rep["weeks"]))
    keys = KEY_INDICATORS
    for i in range(0, len(keys), 2):
        for key, col in zip(keys[i:i + 2], st.columns(2), strict=False):
            with col, st.container(key=f"band_{key}"):
                st.plotly_chart(figures.band_figure(rep["summary"], key, names, len(seeds), lang), config=PLOTLY_CONFIG)
    stem = f"five_society_{rep['community']}_replicates"
    c_png, c_csv = st.columns(2)
    c_png.download_button(t("download_png_replicates", lang),
                          data=lambda: export.replicates_png(rep["summary"], names, len(seeds), lang),
                          file_name=f"{stem}_{lang}.png", mime="image/png", on_click="ignore", key="dl_png_reps",
                          width="stretch")
    c_csv.download_button(t("download_csv_replicates", lang),
                          data=lambda: export.replicates_csv(rep["reps"], names, lang),
                          file_name=f"{stem}_{lang}.csv", mime="text/csv", on_click="ignore", key="dl_csv_reps",
                          width="stretch")


def guide(comp: Comparison, lang: str) -> None:
    with st.expander(t("lever_guide", lang)):
        for row in lever_guide(lang):
            st.markdown(f"**{row['label']}** — {row['explanation']}")
            detail = f"{t('config_key', lang)}: `{row['key']}` · {t('allowed_range', lang)}: {row['range']}"
            if lang == "en" and row["help"]:
                detail += f" · {row['help']}"
            if row["source"] and row["source"] != "assumption":
                detail += f" · {t('source', lang)}: {row['source']}"
            st.caption(detail)
    with st.expander(t("cli", lang)):
        st.code("\n".join(sc.command() for sc in comp.scenarios.values()), language="bash")


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------
init_state()
lang = ss.lang
st.set_page_config(page_title=t("app_title", lang), layout="wide")
style()
sidebar(lang)
lang = ss.lang  # the switch may just have changed it
comp = ensure_comparison()
st.title(t("app_title", lang))
st.caption(t("app_intro", lang))
controls(comp, lang)
st.fragment(live_view, run_every=TICK_SECONDS if ss.playing else None)(lang)
exports(comp, lang)
replicates_section(comp, lang)
guide(comp, lang)
