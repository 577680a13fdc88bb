"""The workshop dashboard: two scenarios of one community, side by side, week by week.

Start it with ``python -m dashboard.serve`` (offline settings; see dashboard/serve.py), or
``streamlit run dashboard/app.py`` from the repository root.  Everything it computes comes from the
other modules of the package (scenarios and stepping: session; the live view's content: live;
indicators; figures; export; replicates), which call the same model and Hydra configs as the command
line; this file only lays the page out.  Every label comes from sim/tables/glossary.py.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

import streamlit as st

from dashboard import export, figures, projector, room_page, room_play_page
from dashboard import replicates as rp
from dashboard import workshop_page as wp
from dashboard.community_view import community_view
from dashboard.handout import kpi_table_html
from dashboard.indicators import DEFAULT_SMOOTHING, SMOOTHING_WEEKS, difference_text, shown_value, verdict_text
from dashboard.levers import (
    LEVER_OF,
    LEVERS,
    lever_guide,
    lever_meta,
    lever_options,
    option_label,
    slider_format,
    widget_bounds,
)
from dashboard.live import live_content
from dashboard.live_chart import live_chart
from dashboard.page_state import (
    PLAYING,
    TICK_SECONDS,
    apply_preset,
    keep,
    kept,
    lever_widget,
    new_language,
    select,
    ss,
    widget_key,
)
from dashboard.session import (
    MAX_WEEKS,
    SIDES,
    Comparison,
    comparison,
)
from sim.model.indicators import KEY_INDICATORS
from sim.settings.config import community_presets, policy_presets
from sim.tables.glossary import in_display_order, preset_label
from sim.tables.glossary import label as t

LANGS = ("zh", "en")                    # the page opens in Chinese; ?lang=en for English
CATCH_UP_SECONDS = 3.0                  # Play never runs more than this many seconds' worth of weeks at once
# The Play ticker: mounted at the end of a run while playing, it asks for the next run TICK_SECONDS later; a new run
# (the next tick, or a click) replaces it, and Pause unmounts it, which cancels the pending tick.
ticker = st.components.v2.component("play_ticker", js="""
export default function (component) {
  const { data, setTriggerValue } = component;
  const pending = setTimeout(() => setTriggerValue("tick", data.tick), data.ms);
  return () => clearTimeout(pending);
}
""")
SPEEDS = (1, 2, 4, 8, 13, 26, 52)       # weeks per second
PRESENT_CHART_HEIGHT = 400  # px: presentation mode's chart, within a 1366×768 screen under the story and controls
# what presentation mode shows beside the B − A readout (glossary key of its name); the community at work first
PRESENT_PANELS = {"community": "cv_title", "chart": "present_panel_chart"}
PLOTLY_CONFIG = {"displayModeBar": False, "displaylogo": False, "responsive": True}


def init_state() -> None:
    if "lang" not in ss:
        lang = st.query_params.get("lang", "zh")
        ss.lang = lang if lang in LANGS else "zh"
    if "community" not in ss:  # the page's first run: the setup the link describes (or the defaults)
        wp.init_from_link()
    ss.setdefault("speed", 4)
    ss.setdefault("playing", False)
    ss.setdefault("smoothing", DEFAULT_SMOOTHING)
    if "follow" not in ss:  # a participant's page following the trainer's room (?follow=CODE): read-only
        ss.follow = st.query_params.get("follow", "")
    if "present" not in ss:
        ss.present = st.query_params.get("present", "0") in ("1", "true")
    ss.setdefault("present_chart", KEY_INDICATORS[1])
    ss.setdefault("present_panel", next(iter(PRESENT_PANELS)))
    ss.setdefault("difference_chart", KEY_INDICATORS[1])


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
    """The two models in session state, their sides named as the workshop scenario names them (wp.titles)."""
    comp = _comparison()
    comp.titles = {**wp.titles(comp), **room_play_page.titles()}
    return comp


def _comparison() -> Comparison:
    """The two models: built at week 0, changed from the next week on when a lever moves during the run (after the
    last week: kept for the next run, not a change of this one), rebuilt at week 0 when the community, seed or length
    changes."""
    key = choices()
    old = ss.get("comparison_key")
    if old == key and "comparison" in ss:
        return ss.comparison
    if "comparison" in ss and changed_live(ss.comparison, old, key):
        ss.comparison_key = key
        comp = ss.comparison
        st.toast(t("lever_after_end", ss.lang) if comp.done else t("lever_changed_live", ss.lang, start=comp.week + 1))
        return comp
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
def advance(weeks: int) -> None:
    """Run ``weeks`` weeks (up to a workshop scenario's staged change, which is then made)."""
    comp = ss.comparison
    comp.step(wp.stride(comp, weeks))
    for change in wp.stage(comp, choices):  # at the end: a link's levers moved after the run, for the next run
        st.toast(t("lever_after_end", ss.lang) if comp.done
                 else t("lever_changed_live", ss.lang, start=change.week + 1))


def do_step() -> None:
    advance(1)


def toggle_play() -> None:
    ss.playing = not ss.playing and not ss.comparison.done
    ss.play_clock = time.monotonic() - TICK_SECONDS  # the first run of Play advances one tick's weeks


def play_weeks() -> int:
    """Weeks Play runs now: the asked speed (weeks per second) times the time since its last run, so that Play
    keeps the asked pace however long a run and its redraw take (at least one week a run)."""
    now = time.monotonic()
    elapsed = now - ss.get("play_clock", now - TICK_SECONDS)
    ss.play_clock = now
    speed = int(ss.speed)
    return max(1, min(round(speed * elapsed), round(speed * CATCH_UP_SECONDS)))


def do_reset() -> None:
    ss.playing = False
    ss.link_changes = []  # a link's changes still to come: forgotten, as the changes made (Reset's rule)
    if ss.get("workshop") and wp.SCENARIOS[ss.workshop].staged:  # the scenario from its start, its stages to come
        wp.apply_setup(replace(wp.setup_of(wp.SCENARIOS[ss.workshop]), seed=int(ss.seed)))
    else:
        ss.comparison.reset()


def stop_playing() -> None:
    ss.playing = False


# ---------------------------------------------------------------------------------------------
# Page parts
# ---------------------------------------------------------------------------------------------
def style(present: bool = False) -> None:
    """CJK-capable system fonts (no web fonts) and no English-only input hints; in presentation mode no sidebar
    and large type."""
    if present:  # the sidebar starts folded (set_page_config below); its button in the header opens it
        st.markdown("<style>[data-testid='stMainBlockContainer']{padding-top: 2rem; max-width: 100%;}"
                    # the sidebar opened (to move a lever): smaller type, the targets wrap: the table keeps its column
                    ".stApp:has([data-testid='stSidebar'][data-collapsed='false']) .st-key-present_kpis table"
                    "{font-size: 14px !important;}"
                    ".stApp:has([data-testid='stSidebar'][data-collapsed='false']) .st-key-present_kpis td:last-child"
                    "{white-space: normal !important;}"
                    ".st-key-present_kpis{max-width: 72rem;}"  # the table below the first screen: not stretched
                    "</style>", unsafe_allow_html=True)
    st.markdown(
        "<style>"
        "html, body, .stApp, .stApp *:not([data-testid='stIconMaterial']):not(code):not(pre):not(code *)"
        f"{{font-family: {figures.FONT_STACK};}}"
        "[data-testid='InputInstructions']{display: none;}"
        "[data-testid='stMetricDelta'] div, [data-testid='stMetricLabel'] p{white-space: normal; overflow: visible;}"
        "</style>",
        unsafe_allow_html=True)


def language_switch(lang: str) -> None:
    st.segmented_control(t("language", lang), list(LANGS), key="lang", required=True, on_change=new_language,
                         **kept("lang", "default"),
                         format_func={"zh": "中文", "en": "English"}.get)


def sidebar(lang: str) -> None:
    with st.sidebar:
        language_switch(lang)
        room_page.room_controls(lang)
        wp.scenario_select(lang)
        st.header(t("settings", lang))
        select(t("community_preset", lang), community_presets(), "community",
               lambda n: preset_label("community", n, lang), lang, on_change=wp.community_changed)
        st.number_input(t("seed", lang), min_value=0, max_value=2**32 - 1, step=1, key="seed", **kept("seed"),
                        help=t("seed_help", lang))
        st.number_input(t("weeks", lang), min_value=1, max_value=MAX_WEEKS, step=1, key="weeks", **kept("weeks"),
                        help=t("weeks_help", lang))
        st.select_slider(t("smoothing", lang), options=list(range(SMOOTHING_WEEKS[0], SMOOTHING_WEEKS[1] + 1)),
                         key="smoothing", **kept("smoothing"), help=t("smoothing_help", lang))
        st.subheader(t("levers", lang))
        for side, tab in zip(SIDES, st.tabs([t(f"scenario_{s}", lang) for s in SIDES]), strict=True):
            with tab:
                lever_controls(side, lang)


def lever_controls(side: str, lang: str) -> None:
    select(t("policy_preset", lang), in_display_order("policy", policy_presets()), f"{side}_policy",
           lambda n: preset_label("policy", n, lang),
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
        # the kept value also as the widget's default (page_state.kept; seen without: fund transparency 0.3 → 0
        # and units per week 2,000 → 0 on both sides of a reloaded page)
        common = {"key": widget, **kept(key), "help": help_text, "on_change": keep, "args": (key, widget)}
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
    c_step, c_play, c_reset, c_speed, c_present = st.columns([1, 1, 1, 2.2, 1.3], vertical_alignment="bottom")
    c_step.button(t("step_button", lang), key="btn_step", on_click=do_step, disabled=comp.done or ss.playing,
                  help=t("step_help", lang), width="stretch")
    c_play.button(t("pause", lang) if ss.playing else t("play", lang), key="btn_play", on_click=toggle_play,
                  type="primary", disabled=comp.done and not ss.playing, width="stretch")
    c_reset.button(t("reset", lang), key="btn_reset", on_click=do_reset, help=t("reset_help", lang),
                   width="stretch")
    c_speed.select_slider(t("speed", lang), options=SPEEDS, key="speed", **kept("speed"))
    c_present.toggle(t("presentation", lang), key="present", **kept("present"), help=t("presentation_help", lang))


def live_view(lang: str) -> None:
    """Status, indicators, trajectories and fund flows; while playing, each run of the page first advances
    ``speed`` weeks."""
    comp: Comparison = ss.comparison
    if ss.playing:
        advance(play_weeks())
        if comp.done:
            ss.playing = False
            st.rerun()  # redraw the controls (Play, Step)
    st.progress(comp.week / comp.steps, text=t("week_of", lang, week=comp.week, steps=comp.steps))
    if comp.week == 0:
        st.info(t("not_started", lang))
    elif comp.done:
        st.success(t("finished", lang))
    present = bool(ss.present)
    view = live_content(comp, lang, int(ss.smoothing), present)

    if present:  # the first screen: B − A of the indicator the room watches, large, beside its chart
        sc = wp.SCENARIOS.get(ss.get("workshop", ""))
        c_read, c_chart = st.columns([4, 7])
        with c_read, st.container(key="present_readout"):
            st.markdown(projector.readout_html(comp, view.kpis, ss.present_chart, sc.watch if sc else (), lang),
                        unsafe_allow_html=True)
            select(t("presentation_chart", lang), list(KEY_INDICATORS), "present_chart", lambda k: t(k, lang), lang)
            st.segmented_control(t("present_panel", lang), PRESENT_PANELS, key="present_panel", required=True,
                                 **kept("present_panel", "default"),
                                 format_func=lambda p: t(PRESENT_PANELS[p], lang))
        with c_chart:
            if ss.present_panel == "community":  # the community at work, A and B side by side, at this week
                with st.container(key="present_cv"):
                    for side, col in zip(SIDES, st.columns(2), strict=True):
                        with col, st.container(key=f"present_cv_{side}"):
                            community_view(view.community_views[side], key=f"present_cv_{side}_live")
            else:
                with st.container(key="present_chart_box"):
                    live_chart({**view.trajectories[ss.present_chart], "height": PRESENT_CHART_HEIGHT},
                               key="present_chart_live")
        with st.container(key="present_kpis"):  # the key numbers of A and B against the targets: the next screen
            st.markdown(kpi_table_html(view.names, view.kpis, lang), unsafe_allow_html=True)
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

    st.subheader(t("difference", lang))
    st.caption(t("difference_note", lang))
    cells = st.columns(3)
    rows = {side: {row.key: row.value for row in view.kpis[side]} for side in SIDES}
    for i, key in enumerate(KEY_INDICATORS):
        a, b = rows["A"].get(key), rows["B"].get(key)
        diff = None if a is None or b is None or a != a or b != b else b - a
        with cells[i % 3], st.container(key=f"diff_{key}"):
            st.metric(t(key, lang), difference_text(key, diff, lang))
    sections(comp, view, lang)


# The parts of the live view below the key numbers, one tab each (glossary key of the tab's label -> what it draws).
# Only the open tab is drawn: each redraw of the page costs the browser about 0.03–0.05 s per chart on this machine
# (benchmarks/results.md), and all twenty charts at once made a Step take 0.9 s.
SECTIONS = ("tab_trajectories", "tab_difference", "tab_map", "tab_linkage", "tab_fund")


def sections(comp: Comparison, view, lang: str) -> None:
    """The tabs of the live view; the open one is kept by name (language-free) and drawn, the others are not."""
    ss.setdefault("section", SECTIONS[0])
    labels = [t(name, lang) for name in SECTIONS]
    key = f"section@{lang}.{ss.get('language_switches', 0)}"  # a new widget per language, as select boxes
    tabs = st.tabs(labels, key=key, default=t(ss.section, lang), on_change=_keep_section, args=(key, labels))
    draw = {"tab_trajectories": lambda: trajectories(comp, view, lang),
            "tab_difference": lambda: difference(view, lang), "tab_map": lambda: map_section(view, lang),
            "tab_linkage": lambda: linkage(view, lang), "tab_fund": lambda: fund(view, lang)}
    for name, tab in zip(SECTIONS, tabs, strict=True):
        if tab.open:
            with tab:
                draw[name]()


def _keep_section(key: str, labels: list[str]) -> None:
    if ss.get(key) in labels:
        ss.section = SECTIONS[labels.index(ss[key])]


def difference(view, lang: str) -> None:
    with st.container(key="diffchart"):  # one chart, the indicator chosen
        select(t("difference_chart", lang), list(KEY_INDICATORS), "difference_chart", lambda k: t(k, lang), lang)
        st.plotly_chart(view.differences[ss.difference_chart], config=PLOTLY_CONFIG)


def trajectories(comp: Comparison, view, lang: str) -> None:
    st.subheader(t("trajectories", lang))
    events = comp.events(lang)
    if events:  # the lever changes made during the run, marked on every chart by side and week
        st.markdown("\n".join(f"- {text}" for _week, _side, text in events))
    keys = KEY_INDICATORS
    for i in range(0, len(keys), 2):
        for key, col in zip(keys[i:i + 2], st.columns(2), strict=False):
            with col, st.container(key=f"traj_{key}"):
                live_chart(view.trajectories[key], key=f"traj_{key}_live")


def map_section(view, lang: str) -> None:
    st.subheader(t("cv_title", lang))
    st.caption(t("cv_note", lang))
    for side, col in zip(SIDES, st.columns(2), strict=True):
        with col, st.container(key=f"cv_{side}"):
            community_view(view.community_views[side], key=f"cv_{side}_live")
    st.subheader(t("community_map", lang))
    st.caption(t("community_map_note", lang))
    for side, col in zip(SIDES, st.columns(2), strict=True):
        with col, st.container(key=f"map_{side}"):
            st.plotly_chart(view.maps[side], config=PLOTLY_CONFIG)
            with st.expander(t("actors_title", lang)):
                st.dataframe(view.organisations[side], hide_index=True)
                st.dataframe(view.units[side], hide_index=True)


def linkage(view, lang: str) -> None:
    st.subheader(t("linkage", lang))
    st.caption(t("linkage_note", lang) + " " + t("volunteers_note", lang))
    charts = list(view.linkage.items())
    for i in range(0, len(charts), 2):
        for (name, fig), col in zip(charts[i:i + 2], st.columns(2), strict=False):
            with col, st.container(key=f"linkage_{name}"):
                st.plotly_chart(fig, config=PLOTLY_CONFIG)


def fund(view, lang: str) -> None:
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
    wp.handout_buttons(comp, lang, stem)


def replicates_section(comp: Comparison, lang: str) -> None:
    st.subheader(t("replicates", lang))
    st.caption(t("replicates_intro", lang))
    with_sets = st.checkbox(t("replicates_parameters", lang), key="chk_param_reps", disabled=bool(comp.changes),
                            help=t("replicates_parameters_moved" if comp.changes else "replicates_parameters_help",
                                   lang)) and not comp.changes
    if st.button(t("run_replicates", lang), key="btn_replicates", on_click=stop_playing):
        from experiments.validation import PosteriorError  # here: not needed for the first page

        bar = st.progress(0.0, text=t("replicates_progress", lang, done=0, total=2 * rp.REPLICATE_SEEDS))

        def progress(done: int, total: int) -> None:
            bar.progress(done / total, text=t("replicates_progress", lang, done=done, total=total))

        try:
            reps = rp.run_replicates(comp, rp.REPLICATE_SEEDS, on_progress=progress,
                                     parameters=rp.parameter_draws() if with_sets else None)
        except PosteriorError as exc:
            st.error(str(exc))
            return
        finally:
            bar.empty()
        ss.replicates = {"key": (ss.comparison_key, with_sets), "reps": reps, "summary": rp.replicate_summary(reps),
                         "names": {lg: comp.names(lg) for lg in LANGS}, "weeks": comp.steps,
                         "community": comp.scenarios["A"].community}
    rep = ss.get("replicates")
    if not rep:
        return
    if rep["key"] != (ss.comparison_key, with_sets):
        st.warning(t("replicates_stale", lang))
    names, runs = rep["names"][lang], rp.runs_label(rep["reps"])
    st.caption(rp.caption(rep["reps"], rep["weeks"], lang))
    if "parameter_set" in rep["reps"]:
        with st.container(key="param_bands"):
            st.markdown(f"**{t('replicates_bands', lang)}**")
            st.table(rp.band_rows(rp.parameter_bands(rep["reps"]), lang).set_index(t("indicator", lang)))
            st.caption(t("band_note", lang))
    keys = KEY_INDICATORS
    for i in range(0, len(keys), 2):
        for key, col in zip(keys[i:i + 2], st.columns(2), strict=False):
            with col, st.container(key=f"band_{key}"):
                st.plotly_chart(figures.band_figure(rep["summary"], key, names, runs, lang), config=PLOTLY_CONFIG)
    stem = f"five_society_{rep['community']}_replicates"
    c_png, c_csv = st.columns(2)
    c_png.download_button(t("download_png_replicates", lang),
                          data=lambda: export.replicates_png(rep["summary"], names, runs, lang),
                          file_name=f"{stem}_{lang}.png", mime="image/png", on_click="ignore", key="dl_png_reps",
                          width="stretch")
    c_csv.download_button(t("download_csv_replicates", lang),
                          data=lambda: export.replicates_csv(rep["reps"], names, lang),
                          file_name=f"{stem}_{lang}.csv", mime="text/csv", on_click="ignore", key="dl_csv_reps",
                          width="stretch")


def guide(comp: Comparison, lang: str) -> None:
    with st.expander(t("lever_guide", lang)):  # one text, not two elements a lever: each run sends the page whole
        entries = []
        for row in lever_guide(lang):
            detail = f"{t('config_key', lang)}: `{row['key']}` · {t('allowed_range', lang)}: {row['range']}"
            if lang == "en" and row["help"]:
                detail += f" · {row['help']}"
            if row["source"] and row["source"] != "assumption":
                detail += f" · {t('source', lang)}: {row['source']}"
            entries.append(f"**{row['label']}** — {row['explanation']}  \n:gray[{detail}]")
        st.markdown("\n\n".join(entries))
    with st.expander(t("cli", lang)):
        # one line of inline code per command, not st.code: st.code's syntax highlighter is 1.5 MB of script,
        # loaded and compiled before the page's first screen shows its numbers (0.15 s of the first render here)
        st.markdown("  \n".join(f"`{sc.command()}`" for sc in comp.scenarios.values()))


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------
init_state()
lang = ss.lang
st.set_page_config(page_title=t("app_title", lang), layout="wide",
                   initial_sidebar_state="collapsed" if ss.present or ss.follow else "auto")
style(bool(ss.present))
if ss.follow:  # a participant's phone: the trainer's run, read-only (dashboard/room_page.py)
    with st.sidebar:
        language_switch(lang)
    room_page.follow_page(ss.follow, lang)
    st.stop()
comp = ensure_comparison()
# the address bar at once (a change's callbacks have run): a reload while the page redraws keeps the change
wp.sync_link(comp, lang)
room_page.publish(comp)  # the room's followers see a change at once, Play's weeks at the end of the run
sidebar(lang)
if not ss.present:
    st.title(t("app_title", lang))
    st.caption(t("app_intro", lang))
if ss.get("bad_link"):
    st.warning(t("bad_link", lang, reason=ss.bad_link.text(lang)))
controls(comp, lang)
if not ss.present:
    room_play_page.trainer_panel(lang, advance, choices)  # a room's poll and role-play, under the run controls
wp.story(comp, lang, bool(ss.present))
live_view(lang)
if ss.present:  # the projector's first screen is the story, the indicator and its chart: the room's panel below them
    room_play_page.trainer_panel(lang, advance, choices)
exports(comp, lang)
replicates_section(comp, lang)
guide(comp, lang)
wp.sync_link(ss.comparison, lang)  # and the changes this run made (a staged or replayed change, Play's weeks)
room_page.publish(ss.comparison)
if ss.playing:
    # Play: the browser asks for the next run of the whole page a tick after this one has finished (the ticker
    # below). Not a fragment with run_every: a fragment-only rerun can drop the state of a widget outside it that
    # changed meanwhile (a lever moved during Play came back; streamlit issues 10805, 14064). Nor st.rerun() at the
    # end of the script: a run that ends in a rerun never finishes, so the page never drops the charts it replaced
    # (each new figure is a new element): measured, the page grew by 2,600 nodes a second and clicks waited 18 s.
    ss.tick = ss.get("tick", 0) + 1
    ss.setdefault("page_id", uuid.uuid4().hex)
    ticker(data={"ms": round(PLAYING.tick_seconds(ss.page_id) * 1000), "tick": ss.tick}, key="play_ticker", height=0,
           on_tick_change=lambda: None)
