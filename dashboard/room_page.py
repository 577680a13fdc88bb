"""The room on the page: the trainer's room controls (code, short link, QR code) and the followers' read-only page
(the rules are in :mod:`dashboard.room`)."""

from __future__ import annotations

import base64
import html

import streamlit as st

from dashboard import projector
from dashboard.handout import kpi_table_html
from dashboard.live import live_content
from dashboard.live_chart import live_chart
from dashboard.page_state import ss
from dashboard.room import FOLLOW_POLL_SECONDS, ROOMS, RoomError, follow_link, qr_svg, valid_code
from dashboard.room_play_page import participant_panel
from dashboard.session import Comparison
from dashboard.workshop import SCENARIOS
from sim.tables.glossary import label as t

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
QR_PX = {"sidebar": 220, "large": 520}  # the QR code in the sidebar, and shown to the room (a projector)


def _address() -> tuple[str, int, bool]:
    """(address, port) the participants' phones reach this server at, and whether it listens only on this computer."""
    listen = str(st.get_option("server.address") or "")
    address = str(st.get_option("browser.serverAddress") or "localhost")
    port = int(st.get_option("browser.serverPort") or st.get_option("server.port"))
    return address, port, listen in LOOPBACK or (not listen and address in LOOPBACK)


def _qr_img(link: str, px: int, key: str) -> None:
    data = base64.b64encode(qr_svg(link).encode("utf-8")).decode("ascii")
    with st.container(key=key):
        st.markdown(f"<img src='data:image/svg+xml;base64,{data}' alt='{html.escape(link)}' style='display:block;"
                    f"margin:0 auto;width:{px}px;max-width:100%;height:auto;background:white'>", unsafe_allow_html=True)


def open_room() -> None:
    ss.room = ROOMS.open()


def close_room() -> None:
    ROOMS.close(ss.pop("room", ""))


@st.dialog(" ", width="large")
def _show_qr(link: str, code: str, lang: str) -> None:
    st.markdown(f"<div style='font-size:28px;text-align:center'>{html.escape(t('room_scan', lang))}</div>",
                unsafe_allow_html=True)
    _qr_img(link, QR_PX["large"], "room_qr_large")
    st.markdown(f"<div style='font-size:30px;text-align:center;font-weight:600'>{html.escape(link)}</div>"
                f"<div style='font-size:24px;text-align:center'>{html.escape(t('room_code', lang, code=code))}</div>",
                unsafe_allow_html=True)


def room_controls(lang: str) -> None:
    """The sidebar's room: open one, then its QR code, short link and code for the participants' phones."""
    code = ss.get("room")
    if code and code not in ROOMS:  # dropped (idle, or the server's limit): the trainer opens a new one
        ss.pop("room")
        code = None
    with st.expander(t("room", lang), expanded=bool(code)), st.container(key="room_box"):
        if not code:
            st.caption(t("room_help", lang))
            st.button(t("room_open", lang), key="btn_room_open", on_click=open_room, width="stretch")
            return
        address, port, loopback = _address()
        link = follow_link(code, address, port)
        if loopback:
            st.warning(t("room_loopback", lang))
        _qr_img(link, QR_PX["sidebar"], "room_qr")
        st.markdown(f"`{link}`  \n{t('room_code', lang, code=code)}")
        if st.button(t("room_show_qr", lang), key="btn_room_qr", width="stretch"):
            _show_qr(link, code, lang)
        st.button(t("room_close", lang), key="btn_room_close", on_click=close_room, width="stretch")


def publish(comp: Comparison) -> None:
    """The trainer's page, at the end of each run: its run for the room's followers (when a room is open)."""
    code = ss.get("room")
    if not code:
        return
    try:
        ROOMS.publish(code, comp, ss.present_chart, ss.get("workshop", ""), int(ss.smoothing))
    except RoomError:
        ss.pop("room")


def follow_page(code: str, lang: str) -> None:
    """A participant's page: the trainer's run in room ``code``, read every FOLLOW_POLL_SECONDS, read-only."""
    st.markdown("<style>.st-key-follow_readout .present-diff{font-size: clamp(36px, 11vw, 72px) !important;}"
                ".st-key-follow_readout .present-head{font-size: 20px !important;}</style>", unsafe_allow_html=True)
    st.subheader(t("follow_title", lang, code=code))
    if not valid_code(code):
        st.error(t("follow_bad_code", lang, code=code))
        return
    participant_panel(code, lang)  # the poll and the role-play: this phone's answers and decisions

    @st.fragment(run_every=FOLLOW_POLL_SECONDS)
    def live() -> None:
        try:
            state = ROOMS.get(code)
        except RoomError:
            st.warning(t("follow_unknown", lang, code=code))
            return
        if state is None:
            st.info(t("follow_waiting", lang))
            return
        comp = state.comp
        st.progress(comp.week / comp.steps, text=t("week_of", lang, week=comp.week, steps=comp.steps))
        sc = SCENARIOS.get(state.scenario)
        if sc is not None:
            with st.container(key="follow_story"):
                st.markdown(f"**{sc.title(lang)}**")
                st.caption(sc.story(lang))
        view = live_content(comp, lang, state.smoothing)
        with st.container(key="follow_readout"):
            st.markdown(projector.readout_html(comp, view.kpis, state.focus, sc.watch if sc else (), lang),
                        unsafe_allow_html=True)
        with st.container(key="follow_chart"):
            live_chart(view.trajectories[state.focus], key="follow_chart_live")
        with st.container(key="follow_kpis"):
            st.markdown(kpi_table_html(view.names, view.kpis, lang, size="1rem"), unsafe_allow_html=True)
        st.caption(t("follow_note", lang))

    live()
