"""The workshop kit on the page: the scenario choice, its story and "predict first" question, its staged lever
changes, and the setup kept in the URL (the rules are in :mod:`dashboard.workshop`)."""

from __future__ import annotations

import html

import streamlit as st

from dashboard import page_state
from dashboard.handout import find_chromium, handout_html, html_to_pdf
from dashboard.indicators import RUN_TOTALS, shown_value
from dashboard.levers import LEVER_OF, same_value, value_text
from dashboard.page_state import apply_preset, select, set_levers, ss
from dashboard.session import SIDES, Comparison
from dashboard.workshop import (
    RUN_SUMS,
    SCENARIOS,
    BadLink,
    Change,
    Setup,
    Staged,
    from_query,
    next_stage,
    setup_of,
    staged_due,
    to_query,
)
from sim.model.indicators import RATE_PARTS, compute_kpis
from sim.tables.glossary import label as t

PAGE_PARAMS = ("lang", "present", "follow")  # URL parameters of the page's display, not of the setup
PRESENT_STORY_PX = 18  # presentation mode's story card (a projector)


def apply_setup(setup: Setup) -> None:
    """Make ``setup`` the page's choices (the runs restart at week 0 with them)."""
    ss.community, ss.seed, ss.weeks = setup.community, setup.seed, setup.weeks
    for side in SIDES:
        ss[f"{side}_policy"] = setup.policies[side]
        apply_preset(side)
        set_levers(side, setup.levers[side])
    ss.workshop = setup.scenario or ""
    ss.link_changes = list(setup.changes)  # a link's lever changes, replayed at their weeks (stage)
    if setup.scenario:  # presentation mode's large chart: the indicator the scenario is about
        ss.present_chart = SCENARIOS[setup.scenario].focus
    ss.playing = False
    ss.pop("comparison", None)


def init_from_link() -> None:
    """On a page's first run: its setup from the URL (a bad link: the defaults, and a message naming the fault)."""
    params = {k: v for k, v in st.query_params.to_dict().items() if k not in PAGE_PARAMS}
    try:
        setup = from_query(params)
    except BadLink as exc:
        ss.bad_link = exc  # shown in the page's language
        setup = Setup()
    apply_setup(setup)


def after_end(comp: Comparison) -> list[Change]:
    """The levers moved after the run ended (no change of the run: the next run starts from them), one Change per
    side at the last week: the side's policy and the levers that differ from those in force at the end of the run."""
    out = []
    for side in SIDES:
        ran = dict(comp.initial[side].levers)
        policy = comp.initial[side].policy
        for change in (c for c in comp.changes if c.side == side):
            ran.update(change.changed)
            policy = change.policy
        now = comp.scenarios[side]
        moved = {k: v for k, v in now.levers.items() if not same_value(v, ran[k])}
        if moved or now.policy != policy:
            out.append(Change(comp.steps, side, now.policy, moved))
    return out


def current_setup(comp: Comparison) -> Setup:
    """What reopens this run: the scenarios it started from, the lever changes made so far with their weeks, a
    link's changes still to come, and the levers moved after the run ended (:func:`after_end`)."""
    start = comp.initial
    made = [Change(c.week, c.side, c.policy, dict(c.changed)) for c in comp.changes]
    return Setup(community=start["A"].community, seed=comp.seed, weeks=comp.steps,
                 policies={side: start[side].policy for side in SIDES},
                 levers={side: dict(start[side].levers) for side in SIDES}, scenario=ss.get("workshop") or None,
                 changes=made + [c for c in ss.get("link_changes", []) if c.week <= comp.steps] + after_end(comp))


def sync_link(comp: Comparison, lang: str) -> None:
    """Keep the whole setup and the run's lever changes in the address bar, so that a copied link reopens the same
    run (called as soon as a change is made, and again at the end of the page's run)."""
    wanted = {**to_query(current_setup(comp)), "lang": lang}
    if ss.get("present"):
        wanted["present"] = "1"
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def choose_scenario() -> None:
    name = ss.workshop
    if name:
        apply_setup(setup_of(SCENARIOS[name]))


def community_changed() -> None:
    """Another community type: its levers (dashboard.page_state.community_changed); the workshop scenario, whose story
    is about another community, is deselected, and a link's lever changes still to come are dropped."""
    page_state.community_changed()
    ss.workshop = ""
    ss.link_changes = []


def titles(comp: Comparison) -> dict[str, str]:
    """The names the chosen scenario gives its sides (e.g. B of the purchase scenario: 政府购买服务), while the side
    starts from the scenario's policy preset."""
    sc = SCENARIOS.get(ss.get("workshop", ""))
    if sc is None:
        return {}
    return {side: key for side, key in sc.titles.items() if comp.initial[side].policy == sc.policies[side]}


def scenario_select(lang: str) -> None:
    """The sidebar's choice of a ready workshop scenario."""
    ss.setdefault("workshop", "")
    select(t("workshop", lang), ["", *SCENARIOS], "workshop",
           lambda n: SCENARIOS[n].title(lang) if n else t("workshop_none", lang), lang, on_change=choose_scenario,
           help=t("workshop_help", lang))


def stride(comp: Comparison, weeks: int) -> int:
    """Weeks to run now: ``weeks``, but no further than the scenario's next staged change."""
    stops = [w for w in (next_stage(SCENARIOS.get(ss.get("workshop", "")), comp.week),
                         *(c.week for c in ss.get("link_changes", []))) if w is not None and w > comp.week]
    return min([weeks, *(w - comp.week for w in stops)])


def stage(comp: Comparison, choices) -> list[Staged]:
    """Make the scenario's lever changes staged at this week, and a link's changes made at this week (in force from
    the next), as a trainer moving the levers would; ``choices`` gives the page's new choices, kept so they are not
    taken for a restart."""
    due = staged_due(SCENARIOS.get(ss.get("workshop", "")), comp.week)
    for change in due:
        set_levers(change.side, change.levers)
        comp.change_levers(change.side, change.levers)
    replayed = [c for c in ss.get("link_changes", []) if c.week == comp.week]
    for change in replayed:
        ss[f"{change.side}_policy"] = change.policy
        set_levers(change.side, change.levers)
        comp.change_scenario(change.side, change.policy, page_state.lever_values(change.side))
        due.append(Staged(change.week, change.side, change.levers))
    if replayed:
        ss.link_changes = [c for c in ss.link_changes if c.week != comp.week]
    if due:
        ss.comparison_key = choices()
    return due


def _staged_text(change: Staged, lang: str) -> str:
    moved = "; ".join(f"{t(LEVER_OF[k].term, lang)} → {value_text(LEVER_OF[k], v, lang)}"
                      for k, v in change.levers.items())
    return t("lever_change", lang, side=change.side, start=change.week + 1, levers=moved)


def story(comp: Comparison, lang: str, present: bool = False) -> None:
    """The chosen scenario's story, what to watch, the question to answer before Play, and after the run the
    answer the model gives. In presentation mode a compact card: the title, the staged change and what to watch on
    two lines, the story and the question folded away (the answer shown when the run ends)."""
    name = ss.get("workshop", "")
    if not name:
        return
    sc = SCENARIOS[name]
    sep = "、" if lang == "zh" else ", "
    watch = t("ws_watch", lang, indicators=sep.join(t(k, lang) for k in sc.watch))
    staged = [t("ws_staged", lang, change=_staged_text(change, lang)) for change in sc.staged]
    if present:  # the title, the staged change and the story in projector type; the question folded, then the answer
        line = " · ".join([f"<b>{html.escape(sc.title(lang))}</b>", *map(html.escape, staged)])
        with st.container(key="workshop_story"):
            st.markdown(f"<div style='font-size:{PRESENT_STORY_PX}px;line-height:1.4'>{line}<br>"
                        f"{html.escape(sc.story(lang))}</div>", unsafe_allow_html=True)
            with st.expander(t("ws_predict_first", lang), expanded=comp.done):
                _prediction(comp, sc, lang)
                if comp.done:
                    st.success(reveal(comp, sc.watch, lang))
        return
    with st.container(key="workshop_story", border=True):
        st.markdown(f"**{sc.title(lang)}**")
        st.markdown(sc.story(lang))
        for line in staged:
            st.markdown(line)
        st.caption(watch)
        _prediction(comp, sc, lang)
        if comp.done:
            st.success(reveal(comp, sc.watch, lang))


def _prediction(comp: Comparison, sc, lang: str) -> None:
    name = sc.name
    st.markdown(f"**{t('ws_predict_first', lang)}** {sc.question(lang)}")
    answers = sc.answers(lang)
    ss.setdefault(f"prediction_{name}", None)
    key = f"prediction_{name}@{lang}.{ss.get('language_switches', 0)}"  # kept as its number, shown in the language
    ss[key] = ss[f"prediction_{name}"]
    st.radio(t("ws_your_prediction", lang), list(range(len(answers))), format_func=answers.__getitem__,
             key=key, index=None, on_change=_keep_prediction, args=(name, key), disabled=comp.week > 0)


def _keep_prediction(name: str, key: str) -> None:
    ss[f"prediction_{name}"] = ss[key]


def reveal_parts(comp: Comparison, keys: tuple[str, ...], lang: str) -> list[str]:
    """The watched quantities of A and B as the model gives them, each with its period: rates over the last 52
    weeks, run totals (the public cost, RUN_SUMS such as the one-cent income) over weeks 1 to now, stocks now."""
    tables = {side: comp.timeseries(side) for side in SIDES}
    kpis = {side: compute_kpis(tables[side]) for side in SIDES}
    parts = []
    for k in keys:
        if k in RUN_SUMS:
            col = RUN_SUMS[k]
            values = {side: float(tables[side][col].sum()) for side in SIDES}
            shown = {side: shown_value(col, v, lang, total=True) for side, v in values.items()}
        else:
            shown = {side: shown_value(k, kpis[side].get(k), lang) for side in SIDES}
        if k in RUN_SUMS or k in RUN_TOTALS:
            period = t("ws_run_total", lang, weeks=comp.week)
        elif k in RATE_PARTS:
            period = t("ws_last_weeks", lang, weeks=min(52, comp.week))
        else:
            period = None
        name = t(k, lang) + (("（" + period + "）" if lang == "zh" else f" ({period})") if period else "")
        parts.append(f"{name} A {shown['A']} · B {shown['B']}")
    return parts


def reveal(comp: Comparison, keys: tuple[str, ...], lang: str) -> str:
    """The watched quantities of A and B after the run (:func:`reveal_parts`), in one line."""
    parts = reveal_parts(comp, keys, lang)
    return t("ws_reveal_head", lang, weeks=comp.week, results="；".join(parts) if lang == "zh" else "; ".join(parts))


def _handout_page(comp: Comparison, lang: str, name: str, answer: int | None) -> str:
    if not name:
        return handout_html(comp, lang)
    sc = SCENARIOS[name]
    return handout_html(comp, lang, sc.title(lang), sc.story(lang), sc.question(lang),
                        None if answer is None else sc.answers(lang)[answer])


def handout_buttons(comp: Comparison, lang: str, stem: str) -> None:
    """The one-page handout, as PDF (printed by Chromium) or, where there is no Chromium, as HTML to print.

    A download's file is made when its button is clicked, outside the page's run, where the session's state cannot
    be read: the scenario and the room's prediction are taken now, as the page shows them."""
    name = ss.get("workshop", "")
    answer = ss.get(f"prediction_{name}") if name else None
    c_pdf, c_html, _ = st.columns(3)
    if find_chromium():
        c_pdf.download_button(t("download_handout", lang),
                              data=lambda: html_to_pdf(_handout_page(comp, lang, name, answer)),
                              file_name=f"{stem}_handout_{lang}.pdf", mime="application/pdf", on_click="ignore",
                              key="dl_handout", width="stretch", help=t("handout_help", lang))
    c_html.download_button(t("download_handout_html", lang),
                           data=lambda: _handout_page(comp, lang, name, answer).encode("utf-8"),
                           file_name=f"{stem}_handout_{lang}.html", mime="text/html", on_click="ignore",
                           key="dl_handout_html", width="stretch", help=t("handout_help", lang))
