"""The room takes part, on the page: the trainer's poll and role-play controls, and the participants' answers and
decisions on their phones (the rules are in :mod:`dashboard.room_play`).

The trainer's panel shows the number of answers and decisions as they come (a fragment that reads the room every
:data:`dashboard.room.FOLLOW_POLL_SECONDS` while a poll is open or a role-play runs); its buttons rerun the page.
"Run the year" moves scenario B's levers to the room's decisions as the sidebar would (the widgets follow, the change
is marked on every chart and kept in the link), then runs :data:`~dashboard.room_play.YEAR_WEEKS` weeks.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Callable

import streamlit as st

from dashboard.indicators import difference_text, shown_value
from dashboard.levers import LEVER_OF, value_text, widget_bounds
from dashboard.live import live_content
from dashboard.page_state import set_levers, ss
from dashboard.room import FOLLOW_POLL_SECONDS, ROOMS, RoomError
from dashboard.room_play import (
    PARTICIPANT_ID_CHARS,
    POLL_CHOICES,
    ROLE_LEVERS,
    ROLES,
    YEAR_WEEKS,
    PlayError,
    Poll,
    result,
    seed_interval,
    verdict,
)
from dashboard.session import Comparison
from dashboard.workshop import SCENARIOS
from sim.tables.glossary import GLOSSARY
from sim.tables.glossary import label as t

BAR_COLOR = "#4c78a8"
RESULT_PX = 44  # the model's B − A beside the room's predictions (a projector)


def error_text(exc: PlayError, lang: str) -> str:
    """A refusal in the page's language where the glossary has it (what a phone can meet), else its message."""
    key = f"play_err_{exc.kind}"
    return t(key, lang, **exc.fields) if key in GLOSSARY else str(exc)


def poll_focus() -> str:
    """The indicator a poll asks about: the workshop scenario's, else the large chart's."""
    sc = SCENARIOS.get(ss.get("workshop", ""))
    return sc.focus if sc else ss.present_chart


def _question(poll: Poll, steps: int, lang: str) -> str:
    return t("poll_question", lang, weeks=steps, indicator=t(poll.focus, lang))


def distribution_html(poll: Poll, lang: str) -> str:
    """The room's predictions: a bar per answer, its count and share."""
    counts, n = poll.counts(), len(poll.answers)
    colon = "：" if lang == "zh" else ": "
    rows = []
    for choice in POLL_CHOICES:
        share = round(100 * counts[choice] / n) if n else 0
        rows.append(
            f"<div class='poll-row' data-choice='{choice}' style='margin:.2em 0'>"
            f"<div style='font-size:20px'>{html.escape(t(f'poll_choice_{choice}', lang))}{colon}"
            f"<b class='poll-count'>{html.escape(t('poll_share', lang, count=counts[choice], share=share))}"
            f"</b></div><div style='background:#eee;height:16px'><div style='background:{BAR_COLOR};"
            f"width:{share}%;height:16px'></div></div></div>"
        )
    head = t("poll_predictions", lang, n=n)
    return (
        f"<div class='poll-dist'><div style='font-weight:600;font-size:20px'>{html.escape(head)}</div>"
        + "".join(rows)
        + "</div>"
    )


def result_html(poll: Poll, lang: str, phone: bool = False) -> str:
    """What the model gave at the reveal: B − A large, A and B, and the seed interval's answer where there is one
    (without one: how the trainer gets it, said to the trainer or to a phone)."""
    res = poll.result or {}
    key = poll.focus
    parts = [
        f"<div style='font-weight:600;font-size:20px'>{html.escape(t('poll_model', lang, week=res['week']))}</div>",
        f"<div class='poll-diff' style='font-size:{RESULT_PX}px;font-weight:700;line-height:1.15'>"
        f"{html.escape(difference_text(key, res['diff'], lang))}</div>",
        f"<div style='font-size:18px'>{html.escape(t(key, lang))}{'：' if lang == 'zh' else ': '}"
        f"A {html.escape(shown_value(key, res['a'], lang))} · B {html.escape(shown_value(key, res['b'], lang))}"
        "</div>",
    ]
    interval = res.get("interval")
    if interval:
        n, low, high = interval
        note = t(
            "poll_interval",
            lang,
            n=n,
            low=difference_text(key, low, lang),
            high=difference_text(key, high, lang),
            choice=t(f"poll_choice_{verdict(low, high)}", lang),
        )
    else:
        note = t("poll_no_interval_phone" if phone else "poll_no_interval", lang)
    parts.append(
        f"<div class='poll-interval' style='font-size:16px;color:#333;margin-top:.3em'>{html.escape(note)}</div>"
    )
    return "<div class='poll-result'>" + "".join(parts) + "</div>"


def _model_result(comp: Comparison, focus: str, lang: str) -> dict:
    """The model's answer at the trainer's week, with the 20 seeds' interval when they were run for these very
    choices and the run has reached its end (the week the replicates' values are of)."""
    rows = {
        side: {row.key: row.value for row in kpis}
        for side, kpis in live_content(comp, lang, int(ss.smoothing)).kpis.items()
    }
    rep = ss.get("replicates")
    interval = None
    if rep and comp.done and rep["key"][0] == ss.get("comparison_key"):
        interval = seed_interval(rep["reps"], focus)
    return result(comp.week, rows["A"].get(focus), rows["B"].get(focus), interval)


def decisions_text(levers: dict, lang: str) -> str:
    sep = "；" if lang == "zh" else "; "
    return sep.join(f"{t(LEVER_OF[k].term, lang)} → {value_text(LEVER_OF[k], v, lang)}" for k, v in levers.items())


# ---------------------------------------------------------------------------------------------
# The trainer's panel
# ---------------------------------------------------------------------------------------------
def trainer_panel(lang: str, run_weeks: Callable[[int], None], choices: Callable[[], tuple]) -> None:
    """Below the run controls while a room is open: the poll and the role-play, counts read live."""
    code = ss.get("room")
    if not code:
        return
    try:
        snap = ROOMS.activity(code).snapshot()
    except RoomError:
        return
    live = (snap["poll"] is not None and not snap["poll"].revealed) or snap["play"] is not None

    @st.fragment(run_every=FOLLOW_POLL_SECONDS if live else None)
    def panel() -> None:
        try:
            act = ROOMS.activity(code)
        except RoomError:
            return
        snap = act.snapshot()
        # side by side; a revealed poll takes the page's width (its result is read from the back of the room)
        # the role-play's table takes two thirds while it runs and no poll is open
        wide = snap["poll"] is not None and snap["poll"].revealed
        playing = snap["play"] is not None and snap["poll"] is None
        c_poll, c_play = (st.container(), st.container()) if wide else st.columns([1, 2] if playing else [1, 1])
        with c_poll, st.container(key="poll_box", border=True):
            _trainer_poll(act, snap, lang)
        with c_play, st.container(key="play_box", border=True):
            _trainer_play(act, snap, lang, run_weeks, choices)

    panel()


def _trainer_poll(act, snap: dict, lang: str) -> None:
    comp: Comparison = ss.comparison
    poll: Poll | None = snap["poll"]
    st.markdown(f"**{t('poll', lang)}**")
    if poll is None:
        st.caption(t("poll_help", lang))
        if st.button(t("poll_open", lang, indicator=t(poll_focus(), lang)), key="btn_poll_open", width="stretch"):
            act.open_poll(poll_focus(), ss.get("workshop", ""))
            st.rerun()
        return
    st.markdown(
        f"<div class='poll-question' style='font-size:20px'>{html.escape(_question(poll, comp.steps, lang))}</div>",
        unsafe_allow_html=True,
    )
    if not poll.revealed:
        st.markdown(
            f"<div class='poll-answered' style='font-size:28px;font-weight:600'>"
            f"{html.escape(t('poll_count', lang, n=len(poll.answers), m=snap['participants']))}</div>",
            unsafe_allow_html=True,
        )
        c_reveal, c_close = st.columns(2)
        if c_reveal.button(t("poll_reveal", lang), key="btn_poll_reveal", type="primary", width="stretch"):
            act.reveal(_model_result(comp, poll.focus, lang))
            st.rerun()
        if c_close.button(t("poll_close", lang), key="btn_poll_close", width="stretch"):
            act.close_poll()
            st.rerun()
        return
    c_dist, c_model = st.columns(2)
    c_dist.markdown(distribution_html(poll, lang), unsafe_allow_html=True)
    c_model.markdown(result_html(poll, lang), unsafe_allow_html=True)
    if st.button(t("poll_close", lang), key="btn_poll_close", width="stretch"):
        act.close_poll()
        st.rerun()


def _roles_html(play, lang: str, decisions: dict | None = None) -> str:
    """The roles, how many play each, and their decisions (this year's, or ``decisions``: a year already run)."""
    decisions = play.decisions if decisions is None else decisions
    head = "".join(
        f"<th style='text-align:left;padding:2px 8px'>{html.escape(t(k, lang))}</th>"
        for k in ("play_col_role", "play_col_members", "play_col_decision")
    )
    rows = []
    for role in ROLES:
        decided = decisions.get(role)
        text = decisions_text(decided, lang) if decided else t("play_not_decided", lang)
        rows.append(
            f"<tr data-role='{role}'><td style='padding:2px 8px'>{html.escape(t(f'role_{role}', lang))}</td>"
            f"<td style='padding:2px 8px'>{play.members(role)}</td>"
            f"<td class='play-decision' style='padding:2px 8px'>{html.escape(text)}</td></tr>"
        )
    return (
        f"<table class='play-roles' style='font-size:16px;border-collapse:collapse'><tr>{head}</tr>"
        f"{''.join(rows)}</table>"
    )


def _trainer_play(act, snap: dict, lang: str, run_weeks, choices) -> None:
    comp: Comparison = ss.comparison
    play = snap["play"]
    st.markdown(f"**{t('roleplay', lang)}**")
    if play is None:
        st.caption(t("play_help", lang))
        if st.button(t("play_start", lang), key="btn_play_start", width="stretch"):
            act.start_play(comp.week // YEAR_WEEKS + 1)
            st.rerun()
        return
    st.caption(t("play_side_note", lang))
    last = ss.get("play_last")
    if last:
        st.success(t("play_ran", lang, **last))
    if comp.done:  # the debrief: the decisions of the last year run
        st.info(t("play_ended", lang))
        shown = play.history[-1][2] if play.history else {}
    else:
        start, end = comp.week + 1, min(comp.week + YEAR_WEEKS, comp.steps)
        st.markdown(t("play_year", lang, year=play.year, start=start, end=end))
        shown = None
    st.markdown(_roles_html(play, lang, shown), unsafe_allow_html=True)
    decided = len(play.decisions)
    c_run, c_stop = st.columns([2, 1])
    if not comp.done:
        every = decided == len(ROLES)
        text = t("play_run", lang, year=play.year) if every else t("play_run_force", lang, year=play.year, n=decided)
        tip = None if every else t("play_run_force_help", lang)
        if c_run.button(text, key="btn_play_run", type="primary" if every else "secondary", width="stretch", help=tip):
            run_year(act, play.year, run_weeks, choices)
            st.rerun()
    if c_stop.button(t("play_stop", lang), key="btn_play_stop", width="stretch"):
        act.stop_play()
        ss.pop("play_last", None)
        st.rerun()


def run_year(act, year: int, run_weeks: Callable[[int], None], choices: Callable[[], tuple]) -> None:
    """The room's decisions for ``year`` move B's levers at this week (as the sidebar would), then the year runs."""
    comp: Comparison = ss.comparison
    ss.playing = False
    levers = act.take_decisions(comp.week)
    if levers:
        set_levers("B", levers)
        comp.change_levers("B", levers)
        ss.comparison_key = choices()  # the page's choices now: not taken for a restart
    start, target = comp.week + 1, min(comp.week + YEAR_WEEKS, comp.steps)
    while comp.week < target:
        run_weeks(target - comp.week)
    ss.play_last = {"year": year, "start": start, "end": comp.week}


# ---------------------------------------------------------------------------------------------
# The participant's phone
# ---------------------------------------------------------------------------------------------
def participant_id() -> str:
    """This phone's id in the room, kept in its link (``me=``) so that a reload is the same participant."""
    pid = st.query_params.get("me", "")
    lo, hi = PARTICIPANT_ID_CHARS
    if not (lo <= len(pid) <= hi and pid.isalnum()):
        pid = secrets.token_hex(8)
        st.query_params["me"] = pid
    return pid


def participant_panel(code: str, lang: str) -> None:
    """The phone's part: join the room, answer the poll, take a role and send its yearly decision."""
    pid = participant_id()
    try:
        number = ROOMS.activity(code).join(pid)
    except RoomError:
        return  # the follow view says the room is not open
    except PlayError as exc:
        st.warning(error_text(exc, lang))
        return
    st.caption(t("participant_you", lang, n=number))

    @st.fragment(run_every=FOLLOW_POLL_SECONDS)
    def panel() -> None:
        try:
            act = ROOMS.activity(code)
            state = ROOMS.get(code)
        except RoomError:
            return
        snap = act.snapshot()
        if snap["poll"] is not None:
            with st.container(key="phone_poll", border=True):
                _phone_poll(act, snap["poll"], pid, state, lang)
        if snap["play"] is not None and state is not None:
            with st.container(key="phone_play", border=True):
                _phone_play(act, snap["play"], pid, state.comp, lang)

    panel()


def _answer(act, pid: str, choice: str) -> None:
    try:
        act.answer(pid, choice)
    except PlayError as exc:
        ss.phone_error = exc


def _phone_poll(act, poll: Poll, pid: str, state, lang: str) -> None:
    steps = state.comp.steps if state is not None else 0
    st.markdown(f"**{t('poll', lang)}**  \n{_question(poll, steps, lang)}")
    if poll.revealed:
        st.markdown(distribution_html(poll, lang), unsafe_allow_html=True)
        st.markdown(result_html(poll, lang, phone=True), unsafe_allow_html=True)
        return
    for choice in POLL_CHOICES:
        st.button(
            t(f"poll_choice_{choice}", lang),
            key=f"btn_poll_{poll.number}_{choice}",
            width="stretch",
            type="primary" if poll.answers.get(pid) == choice else "secondary",
            on_click=_answer,
            args=(act, pid, choice),
        )
    err = ss.pop("phone_error", None)
    if err is not None:
        st.error(error_text(err, lang))
    mine = poll.answers.get(pid)
    if mine:
        st.success(t("poll_your_answer", lang, choice=t(f"poll_choice_{mine}", lang)))


def _take_role(act, pid: str, key: str) -> None:
    try:
        act.take_role(pid, ss[key])
    except PlayError as exc:
        ss.phone_error = exc


def _phone_play(act, play, pid: str, comp: Comparison, lang: str) -> None:
    st.markdown(f"**{t('roleplay', lang)}**")
    role = play.roles.get(pid)
    key = f"role_pick@{lang}"
    ss[key] = role
    st.radio(
        t("play_take", lang),
        list(ROLES),
        format_func=lambda r: t(f"role_{r}", lang),
        key=key,
        on_change=_take_role,
        args=(act, pid, key),
    )
    err = ss.pop("phone_error", None)
    if err is not None:
        st.error(error_text(err, lang))
    if role is None:
        return
    if comp.done:
        st.info(t("play_ended", lang))
        return
    st.markdown(t("play_your_role", lang, role=t(f"role_{role}", lang)))
    st.caption(t(f"role_{role}_help", lang))
    sent = play.decisions.get(role)
    now = {k: (sent or {}).get(k, comp.scenarios["B"].levers[k]) for k in ROLE_LEVERS[role]}
    with st.form(key=f"decide_{play.year}_{role}", border=False):
        values = {k: _lever_input(k, now[k], f"dec_{play.year}_{role}_{k}", lang) for k in ROLE_LEVERS[role]}
        if st.form_submit_button(t("play_send", lang, year=play.year), type="primary", width="stretch"):
            try:
                sent = act.decide(pid, values)
            except PlayError as exc:
                st.error(error_text(exc, lang))
    if sent:
        st.success(t("play_sent", lang, year=play.year, levers=decisions_text(sent, lang)))


def _lever_input(key: str, value, widget: str, lang: str):
    """A decision's widget for lever ``key``, starting from ``value`` (the lever in force, or the role's decision)."""
    lever = LEVER_OF[key]
    text, help_text = t(lever.term, lang), t(f"{lever.term}_help", lang)
    if lever.widget == "toggle":
        return st.toggle(text, value=bool(value), key=widget, help=help_text)
    lo, hi = widget_bounds(lever)
    if lever.widget == "slider":
        return st.slider(
            text,
            min_value=float(lo),
            max_value=float(hi),
            step=float(lever.step),
            value=float(value),
            key=widget,
            help=help_text,
        )
    return st.number_input(
        text, min_value=int(lo), max_value=int(hi), step=int(lever.step), value=int(value), key=widget, help=help_text
    )


def titles() -> dict[str, str]:
    """While the room's role-play runs, B is named for it (side -> glossary key, as a workshop scenario names its
    sides: dashboard.workshop_page.titles)."""
    code = ss.get("room")
    try:
        running = bool(code) and ROOMS.activity(code).play is not None
    except RoomError:
        running = False
    return {"B": "play_B"} if running else {}
