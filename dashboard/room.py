"""The room follows the trainer: a room code, a short link and its QR code, and the trainer's run published for the
participants' phones.

The trainer opens a room (:meth:`Rooms.open`): a code of :data:`CODE_DIGITS` digits, a short link
``http://<this machine>:<port>/?follow=<code>`` and its QR code, drawn here (:func:`qr_svg`, the ``qrcode`` package,
no network).  At the end of each of its page's runs the trainer's page publishes its run (:meth:`Rooms.publish`): a
snapshot of its comparison at its week, which shares the trainer's models (dashboard.session.SharedRun) and is never
stepped, with what its first screen shows (the indicator, the workshop scenario, the smoothing).  A follower's page
(``?follow=<code>``) reads it every :data:`FOLLOW_POLL_SECONDS` and draws it, read-only: it sees the trainer's run,
not a copy of its own, and its views come from the same cache as the trainer's (dashboard.live), so ten phones cost
ten redraws, not ten runs.

Rooms live in this server's memory: :data:`MAX_ROOMS` at most, a room unused for :data:`IDLE_SECONDS` is dropped.
Each room also keeps what its participants do (:meth:`Rooms.activity`: who joined, the poll, the role-play;
dashboard.room_play).
"""

from __future__ import annotations

import copy
import io
import re
import secrets
import threading
import time
from dataclasses import dataclass

from dashboard.room_play import Activity
from dashboard.session import Comparison

CODE_DIGITS = 4
MAX_ROOMS = 20
IDLE_SECONDS = 6 * 3600.0       # a room not published to for this long is dropped (a half-day workshop and more)
FOLLOW_POLL_SECONDS = 1.0       # a follower's page reads the room this often


class RoomError(ValueError):
    """A room code that is not a room of this server (the message names it)."""


@dataclass(frozen=True)
class RoomState:
    """What a room's followers show: the trainer's comparison at its week and its first screen's choices."""

    comp: Comparison
    focus: str          # the key indicator of the large readout and chart
    scenario: str       # the workshop scenario ("" none)
    smoothing: int
    version: int        # grows with each publication that changed something
    updated: float      # time.monotonic() of the last publication


def snapshot(comp: Comparison) -> Comparison:
    """``comp`` as it is now, for readers on other threads: its own week, scenarios, changes and titles (the trainer
    stepping or changing its comparison afterwards leaves the snapshot as it was); the models stay shared."""
    snap = copy.copy(comp)
    snap.initial, snap.scenarios = dict(comp.initial), dict(comp.scenarios)
    snap.changes, snap.titles = list(comp.changes), dict(comp.titles)
    return snap


def valid_code(code: str) -> bool:
    return isinstance(code, str) and len(code) == CODE_DIGITS and code.isdigit()


class Rooms:
    """The open rooms of this server, by code."""

    def __init__(self, size: int = MAX_ROOMS, idle_seconds: float = IDLE_SECONDS) -> None:
        self.size, self.idle_seconds = size, idle_seconds
        self._rooms: dict[str, RoomState | None] = {}
        self._touched: dict[str, float] = {}
        self._activity: dict[str, Activity] = {}
        self._lock = threading.Lock()

    def _drop_idle(self, now: float) -> None:
        for code, last in list(self._touched.items()):
            if now - last > self.idle_seconds:
                self._drop(code)

    def _drop(self, code: str) -> None:
        self._rooms.pop(code, None)
        self._touched.pop(code, None)
        self._activity.pop(code, None)

    def open(self, now: float | None = None) -> str:
        """A new room's code (no run published yet); the least recently used room is dropped beyond ``size``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._drop_idle(now)
            while len(self._rooms) >= self.size:
                self._drop(min(self._touched, key=self._touched.__getitem__))
            while True:
                code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
                if code not in self._rooms:
                    break
            self._rooms[code] = None
            self._touched[code] = now
            self._activity[code] = Activity()
        return code

    def publish(self, code: str, comp: Comparison, focus: str, scenario: str, smoothing: int,
                now: float | None = None) -> RoomState:
        """The trainer's page publishes its run to room ``code`` (RoomError if there is no such room)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if code not in self._rooms:
                raise RoomError(f"room {code!r} is not open on this server")
            old = self._rooms[code]
            same = old is not None and (old.comp.key, old.comp.week, old.comp.titles, old.focus, old.scenario,
                                        old.smoothing) == (comp.key, comp.week, comp.titles, focus, scenario,
                                                           smoothing)
            if same:
                state = old
            else:
                state = RoomState(snapshot(comp), focus, scenario, int(smoothing),
                                  (old.version + 1) if old is not None else 1, now)
                self._rooms[code] = state
            self._touched[code] = now
        return state

    def get(self, code: str) -> RoomState | None:
        """The room's last publication (None before the first); RoomError if the room is not open."""
        with self._lock:
            if code not in self._rooms:
                raise RoomError(f"room {code!r} is not open on this server")
            return self._rooms[code]

    def activity(self, code: str, now: float | None = None) -> Activity:
        """What room ``code``'s participants do (dashboard.room_play.Activity); RoomError if the room is not open.
        Using it keeps the room from being dropped as idle."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if code not in self._rooms:
                raise RoomError(f"room {code!r} is not open on this server")
            self._touched[code] = now
            return self._activity[code]

    def close(self, code: str) -> None:
        with self._lock:
            self._drop(code)

    def __contains__(self, code: str) -> bool:
        with self._lock:
            return code in self._rooms


ROOMS = Rooms()


def follow_link(code: str, address: str, port: int) -> str:
    """The participants' short link to room ``code`` on ``address``:``port``."""
    return f"http://{address}:{int(port)}/?follow={code}"


def qr_svg(text: str) -> str:
    """``text`` as a QR code, an SVG document (drawn here: the qrcode package, no network; medium error
    correction, so a projected code still reads from the back of a room)."""
    import qrcode  # here: only a trainer opening a room needs it
    import qrcode.image.svg

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                         image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(text)
    out = io.BytesIO()
    code.make_image().save(out)
    # only the viewBox: the code scales to the size the page gives it (its width in mm kept it at 3.3 cm)
    return re.sub(r'<svg width="[^"]*" height="[^"]*"', "<svg", out.getvalue().decode("utf-8"), count=1)
