"""The workshop kit on the page: the scenario choice, its story and "predict first" question, its staged lever
changes, and the setup kept in the URL (the rules are in :mod:`dashboard.workshop`)."""

from __future__ import annotations

import streamlit as st

from dashboard.handout import find_chromium, handout_html, html_to_pdf
from dashboard.indicators import shown_value
from dashboard.levers import LEVER_OF, value_text
from dashboard.page_state import apply_preset, lever_values, select, set_levers, ss
from dashboard.session import SIDES, Comparison
from dashboard.workshop import SCENARIOS, BadLink, Setup, Staged, from_query, next_stage, setup_of, staged_due, to_query
from sim.model.indicators import compute_kpis
from sim.tables.glossary import label as t

PAGE_PARAMS = ("lang", "present")  # URL parameters of the page's display, not of the setup


def apply_setup(setup: Setup) -> None:
    """Make ``setup`` the page's choices (the runs restart at week 0 with them)."""
    ss.community, ss.seed, ss.weeks = setup.community, setup.seed, setup.weeks
    for side in SIDES:
        ss[f"{side}_policy"] = setup.policies[side]
        apply_preset(side)
        set_levers(side, setup.levers[side])
    ss.workshop = setup.scenario or ""
    ss.playing = False
    ss.pop("comparison", None)


def init_from_link() -> None:
    """On a page's first run: its setup from the URL (a bad link: the defaults, and a message naming the fault)."""
    params = {k: v for k, v in st.query_params.to_dict().items() if k not in PAGE_PARAMS}
    try:
        setup = from_query(params)
    except BadLink as exc:
        ss.bad_link = str(exc)
        setup = Setup()
    apply_setup(setup)


def current_setup() -> Setup:
    return Setup(community=ss.community, seed=int(ss.seed), weeks=int(ss.weeks),
                 policies={side: ss[f"{side}_policy"] for side in SIDES},
                 levers={side: lever_values(side) for side in SIDES}, scenario=ss.get("workshop") or None)


def sync_link(lang: str) -> None:
    """Keep the whole setup in the address bar, so that a copied link reopens the same page."""
    wanted = {**to_query(current_setup()), "lang": lang}
    if ss.get("present"):
        wanted["present"] = "1"
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def choose_scenario() -> None:
    name = ss.workshop
    if name:
        apply_setup(setup_of(SCENARIOS[name]))


def scenario_select(lang: str) -> None:
    """The sidebar's choice of a ready workshop scenario."""
    ss.setdefault("workshop", "")
    select(t("workshop", lang), ["", *SCENARIOS], "workshop",
           lambda n: SCENARIOS[n].title(lang) if n else t("workshop_none", lang), lang, on_change=choose_scenario,
           help=t("workshop_help", lang))


def stride(comp: Comparison, weeks: int) -> int:
    """Weeks to run now: ``weeks``, but no further than the scenario's next staged change."""
    stage = next_stage(SCENARIOS.get(ss.get("workshop", "")), comp.week)
    return weeks if stage is None or stage == comp.week else min(weeks, stage - comp.week)


def stage(comp: Comparison, choices) -> list[Staged]:
    """Make the scenario's lever changes staged at this week (in force from the next), as a trainer moving the
    levers would; ``choices`` gives the page's new choices, kept so they are not taken for a restart."""
    due = staged_due(SCENARIOS.get(ss.get("workshop", "")), comp.week)
    for change in due:
        set_levers(change.side, change.levers)
        comp.change_levers(change.side, change.levers)
    if due:
        ss.comparison_key = choices()
    return due


def _staged_text(change: Staged, lang: str) -> str:
    moved = "; ".join(f"{t(LEVER_OF[k].term, lang)} → {value_text(LEVER_OF[k], v, lang)}"
                      for k, v in change.levers.items())
    return t("lever_change", lang, side=change.side, start=change.week + 1, levers=moved)


def story(comp: Comparison, lang: str) -> None:
    """The chosen scenario's story, what to watch, the question to answer before Play, and after the run the
    answer the model gives."""
    name = ss.get("workshop", "")
    if not name:
        return
    sc = SCENARIOS[name]
    with st.container(key="workshop_story", border=True):
        st.markdown(f"**{sc.title(lang)}**")
        st.markdown(sc.story(lang))
        for change in sc.staged:
            st.markdown(t("ws_staged", lang, change=_staged_text(change, lang)))
        st.caption(t("ws_watch", lang, indicators="、".join(t(k, lang) for k in sc.watch) if lang == "zh"
                     else ", ".join(t(k, lang) for k in sc.watch)))
        st.markdown(f"**{t('ws_predict_first', lang)}** {sc.question(lang)}")
        answers = sc.answers(lang)
        ss.setdefault(f"prediction_{name}", None)
        key = f"prediction_{name}@{lang}.{ss.get('language_switches', 0)}"  # kept as its number, shown in the language
        ss[key] = ss[f"prediction_{name}"]
        st.radio(t("ws_your_prediction", lang), list(range(len(answers))), format_func=answers.__getitem__,
                 key=key, index=None, on_change=_keep_prediction, args=(name, key), disabled=comp.week > 0)
        if comp.done:
            st.success(reveal(comp, sc.watch, lang))


def _keep_prediction(name: str, key: str) -> None:
    ss[f"prediction_{name}"] = ss[key]


def reveal(comp: Comparison, keys: tuple[str, ...], lang: str) -> str:
    """The watched indicators of A and B over the last 52 weeks, as the model gives them."""
    kpis = {side: compute_kpis(comp.timeseries(side)) for side in SIDES}
    parts = [f"{t(k, lang)} A {shown_value(k, kpis['A'].get(k), lang)} · B {shown_value(k, kpis['B'].get(k), lang)}"
             for k in keys]
    return t("ws_reveal", lang, weeks=comp.week, results="；".join(parts) if lang == "zh" else "; ".join(parts))


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
