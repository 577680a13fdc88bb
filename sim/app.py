"""The workshop dashboard: two scenarios of one community, side by side, week by week.

Start it with ``python -m sim.serve`` (offline settings; see sim/serve.py).  Everything it computes
comes from sim/dashboard.py, which calls the same model and Hydra configs as the command line; this
file only lays the page out.  Labels come from sim/dashboard.UI_TERMS and sim/glossary.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# `streamlit run sim/app.py` puts sim/ first on sys.path, where sim/config.py etc. would shadow
# top-level modules of the same name; import the package from the repository root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
if str(_HERE.parent) not in sys.path:
    sys.path.insert(0, str(_HERE.parent))

import streamlit as st  # noqa: E402

from sim import dashboard as db  # noqa: E402
from sim.config import community_presets  # noqa: E402

TICK_SECONDS = 1.0                      # Play: one update a second, advancing `speed` weeks
SPEEDS = (1, 2, 4, 8, 13, 26, 52)       # weeks per second
PLOTLY_CONFIG = {"displayModeBar": False, "displaylogo": False, "responsive": True}
ss = st.session_state


# ---------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------
def widget_key(side: str, lever: db.Lever) -> str:
    return f"{side}:{lever.key}"


def widget_value(lever: db.Lever, value):
    if lever.widget == "toggle":
        return bool(value)
    if lever.widget == "select":
        return str(value)
    if lever.widget == "number" and isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return float(value)


def apply_preset(side: str) -> None:
    """Set side's lever widgets to its policy preset's values (on choosing a preset)."""
    preset = db.policy_levers(ss[f"{side}_policy"], ss.get("community", db.DEFAULT_COMMUNITY))
    for lever, value in zip(db.LEVERS, preset.values(), strict=True):
        ss[widget_key(side, lever)] = widget_value(lever, value)


def init_state() -> None:
    if "lang" not in ss:
        lang = st.query_params.get("lang", "zh")
        ss.lang = lang if lang in db.LANGS else "zh"
    ss.setdefault("community", db.DEFAULT_COMMUNITY)
    ss.setdefault("seed", 0)
    ss.setdefault("weeks", db.DEFAULT_WEEKS)
    ss.setdefault("speed", 4)
    ss.setdefault("playing", False)
    for side in db.SIDES:
        if f"{side}_policy" not in ss:
            ss[f"{side}_policy"] = db.DEFAULT_POLICIES[side]
            apply_preset(side)


def choices() -> tuple:
    """The current choices of the sidebar (what the two runs are built from)."""
    sides = tuple((ss[f"{side}_policy"], tuple((lv.key, ss[widget_key(side, lv)]) for lv in db.LEVERS))
                  for side in db.SIDES)
    return ss.community, int(ss.seed), int(ss.weeks), sides


def ensure_comparison() -> db.Comparison:
    """The two models in session state, rebuilt at week 0 whenever a choice changes."""
    key = choices()
    if ss.get("comparison_key") != key or "comparison" not in ss:
        community, seed, weeks, sides = key
        restarted = "comparison" in ss
        ss.comparison = db.comparison(community, seed, weeks, *((p, dict(lv)) for p, lv in sides))
        ss.comparison_key = key
        ss.playing = False
        if restarted:
            st.toast(db.tr("restarted", ss.lang))
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


def select_keys() -> list[str]:
    """Keys of the select boxes, whose shown option text depends on the language."""
    return ["community", *(f"{s}_policy" for s in db.SIDES),
            *(widget_key(s, lv) for s in db.SIDES for lv in db.LEVERS if lv.widget == "select")]


def on_language_change() -> None:
    """Streamlit keeps a select box's option *text*; set each value again so the new language's text is shown."""
    for key in select_keys():
        if key in ss:
            ss[key] = ss[key]


# ---------------------------------------------------------------------------------------------
# Page parts
# ---------------------------------------------------------------------------------------------
def style() -> None:
    """CJK-capable system fonts (no web fonts) and no English-only input hints."""
    st.markdown(
        "<style>"
        "html, body, .stApp, .stApp *:not([data-testid='stIconMaterial']):not(code):not(pre):not(code *)"
        f"{{font-family: {db.FONT_STACK};}}"
        "[data-testid='InputInstructions']{display: none;}"
        "[data-testid='stMetricDelta'] div, [data-testid='stMetricLabel'] p{white-space: normal; overflow: visible;}"
        "</style>",
        unsafe_allow_html=True)


def sidebar(lang: str) -> None:
    t = db.tr
    with st.sidebar:
        st.segmented_control(t("language", lang), list(db.LANGS), key="lang", required=True,
                             format_func={"zh": "中文", "en": "English"}.get, on_change=on_language_change)
        st.header(t("settings", lang))
        st.selectbox(t("community_preset", lang), community_presets(), key="community",
                     format_func=lambda n: db.preset_label("community", n, lang))
        st.number_input(t("seed", lang), min_value=0, max_value=2**32 - 1, step=1, key="seed",
                        help=t("seed_help", lang))
        st.number_input(t("weeks", lang), min_value=1, max_value=db.MAX_WEEKS, step=1, key="weeks",
                        help=t("weeks_help", lang))
        st.subheader(t("levers", lang))
        for side, tab in zip(db.SIDES, st.tabs([t(f"scenario_{s}", lang) for s in db.SIDES]), strict=True):
            with tab:
                lever_controls(side, lang)


def lever_controls(side: str, lang: str) -> None:
    t = db.tr
    st.selectbox(t("policy_preset", lang), db.policy_presets(), key=f"{side}_policy",
                 format_func=lambda n: db.preset_label("policy", n, lang), on_change=apply_preset, args=(side,),
                 help=t("policy_preset_help", lang))
    for lever in db.LEVERS:
        key = widget_key(side, lever)
        text, help_text = t(lever.term, lang), t(f"{lever.term}_help", lang)
        disabled = lever.requires is not None and not ss[widget_key(side, db.LEVER_OF[lever.requires])]
        if lever.widget == "toggle":
            st.toggle(text, key=key, help=help_text)
        elif lever.widget == "select":
            st.selectbox(text, db.lever_options(lever), key=key, help=help_text,
                         format_func=lambda o, lv=lever: db.option_label(lv, o, lang))
        elif lever.widget == "slider":
            lo, hi = db.widget_bounds(lever)
            st.slider(text, min_value=float(lo), max_value=float(hi), step=float(lever.step), key=key,
                      format=db.slider_format(lever), help=help_text, disabled=disabled)
        else:
            meta = db.lever_meta(lever.key)
            integer = isinstance(ss[key], int)
            cast = int if integer else float
            st.number_input(text, min_value=cast(meta["lo"]), max_value=cast(meta["hi"]), step=cast(lever.step),
                            format=None if integer else "%.0f", key=key, help=help_text, disabled=disabled)


def controls(comp: db.Comparison, lang: str) -> None:
    t = db.tr
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
    comp: db.Comparison = ss.comparison
    t = db.tr
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
    names = comp.names(lang)
    series = {side: comp.timeseries(side) for side in db.SIDES}

    st.subheader(t("key_indicators", lang))
    st.caption(t("kpi_note", lang))
    for side, col in zip(db.SIDES, st.columns(2), strict=True):
        with col, st.container(key=f"kpis_{side}", border=True):
            st.markdown(f"**{names[side]}**")
            cells = st.columns(2)
            for i, row in enumerate(db.key_indicators(series[side])):
                color = "gray" if row.met is None else ("green" if row.met else "red")
                with cells[i % 2]:
                    st.metric(t(row.key, lang), db.format_value(row.key, row.value, lang),
                              delta=db.verdict_text(row, lang), delta_color=color, delta_arrow="off")

    st.subheader(t("trajectories", lang))
    ts = comp.timeseries()
    keys = db.KEY_INDICATORS
    for i in range(0, len(keys), 2):
        for key, col in zip(keys[i:i + 2], st.columns(2), strict=False):
            with col, st.container(key=f"traj_{key}"):
                st.plotly_chart(db.trajectory_figure(ts, key, names, lang), config=PLOTLY_CONFIG)

    st.subheader(t("fund_flows", lang))
    for side, col in zip(db.SIDES, st.columns(2), strict=True):
        with col, st.container(key=f"sankey_{side}"):
            st.plotly_chart(db.sankey_figure(series[side], names[side], lang), config=PLOTLY_CONFIG)


def exports(comp: db.Comparison, lang: str) -> None:
    """Downloads; each file is made when its button is clicked, from the runs as they are then."""
    t = db.tr
    st.subheader(t("export", lang))
    stem = f"five_society_{comp.scenarios['A'].community}_seed{comp.seed}"
    c_csv, c_ind, c_fund = st.columns(3)
    c_csv.download_button(t("download_csv", lang), data=lambda: db.comparison_csv(comp.timeseries()),
                          file_name=f"{stem}.csv", mime="text/csv", on_click="ignore", key="dl_csv",
                          width="stretch")
    c_ind.download_button(t("download_png_indicators", lang),
                          data=lambda: db.indicators_png(comp.timeseries(), comp.names(lang), lang, comp.steps),
                          file_name=f"{stem}_indicators_{lang}.png", mime="image/png", on_click="ignore",
                          key="dl_png_indicators", width="stretch")
    c_fund.download_button(t("download_png_fund", lang),
                           data=lambda: db.fund_png(comp.timeseries(), comp.names(lang), lang, comp.steps),
                           file_name=f"{stem}_fund_{lang}.png", mime="image/png", on_click="ignore",
                           key="dl_png_fund", width="stretch")


def replicates(comp: db.Comparison, lang: str) -> None:
    t = db.tr
    st.subheader(t("replicates", lang))
    st.caption(t("replicates_intro", lang))
    if st.button(t("run_replicates", lang), key="btn_replicates", on_click=stop_playing):
        bar = st.progress(0.0, text=t("replicates_progress", lang, done=0, total=2 * db.REPLICATE_SEEDS))

        def progress(done: int, total: int) -> None:
            bar.progress(done / total, text=t("replicates_progress", lang, done=done, total=total))

        reps = db.run_replicates(comp, db.REPLICATE_SEEDS, on_progress=progress)
        bar.empty()
        ss.replicates = {"key": ss.comparison_key, "reps": reps, "summary": db.replicate_summary(reps),
                         "names": {lg: comp.names(lg) for lg in db.LANGS}, "weeks": comp.steps,
                         "seeds": sorted(reps["seed"].unique().tolist()), "community": comp.scenarios["A"].community}
    rep = ss.get("replicates")
    if not rep:
        return
    if rep["key"] != ss.comparison_key:
        st.warning(t("replicates_stale", lang))
    seeds, names = rep["seeds"], rep["names"][lang]
    st.caption(t("replicates_done", lang, n=len(seeds), first=seeds[0], last=seeds[-1], weeks=rep["weeks"]))
    keys = db.KEY_INDICATORS
    for i in range(0, len(keys), 2):
        for key, col in zip(keys[i:i + 2], st.columns(2), strict=False):
            with col, st.container(key=f"band_{key}"):
                st.plotly_chart(db.band_figure(rep["summary"], key, names, len(seeds), lang), config=PLOTLY_CONFIG)
    stem = f"five_society_{rep['community']}_replicates"
    c_png, c_csv = st.columns(2)
    c_png.download_button(t("download_png_replicates", lang),
                          data=lambda: db.replicates_png(rep["summary"], names, len(seeds), lang),
                          file_name=f"{stem}_{lang}.png", mime="image/png", on_click="ignore", key="dl_png_reps",
                          width="stretch")
    c_csv.download_button(t("download_csv_replicates", lang), data=lambda: db.comparison_csv(rep["reps"]),
                          file_name=f"{stem}.csv", mime="text/csv", on_click="ignore", key="dl_csv_reps",
                          width="stretch")


def guide(comp: db.Comparison, lang: str) -> None:
    t = db.tr
    with st.expander(t("lever_guide", lang)):
        for row in db.lever_guide(lang):
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
st.set_page_config(page_title=db.tr("app_title", lang), layout="wide")
style()
sidebar(lang)
lang = ss.lang  # the switch may just have changed it
comp = ensure_comparison()
st.title(db.tr("app_title", lang))
st.caption(db.tr("app_intro", lang))
controls(comp, lang)
st.fragment(live_view, run_every=TICK_SECONDS if ss.playing else None)(lang)
exports(comp, lang)
replicates(comp, lang)
guide(comp, lang)
