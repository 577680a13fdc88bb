"""The room (dashboard/room.py): codes, the trainer's run published as a snapshot, bounded and idle rooms dropped, the
participants' link and its QR code drawn offline."""

from __future__ import annotations

import re

import pytest

from dashboard import room as rm


class _Comp:
    """What a room keeps of a comparison: its key, week, scenarios, changes and titles."""

    def __init__(self, week: int = 0) -> None:
        self.key, self.week = ("A", "B"), week
        self.initial, self.scenarios, self.changes, self.titles = {"A": 1}, {"A": 1}, [], {}


def test_a_room_is_opened_published_to_read_and_closed():
    rooms = rm.Rooms()
    code = rooms.open()
    assert rm.valid_code(code) and code in rooms and rooms.get(code) is None  # open, nothing published yet
    comp = _Comp(3)
    first = rooms.publish(code, comp, "completion_rate", "purchase", 8)
    assert (first.comp.week, first.focus, first.scenario, first.smoothing, first.version) == \
        (3, "completion_rate", "purchase", 8, 1)
    assert rooms.publish(code, comp, "completion_rate", "purchase", 8) is first  # nothing new: the same state
    comp.week = 4
    comp.changes.append("B moved")
    assert first.comp.week == 3 and first.comp.changes == []  # a snapshot: the trainer's next steps leave it
    second = rooms.publish(code, comp, "completion_rate", "purchase", 8)
    assert second.version == 2 and rooms.get(code).comp.week == 4
    rooms.close(code)
    assert code not in rooms
    with pytest.raises(rm.RoomError, match=f"room '{code}' is not open on this server"):
        rooms.get(code)
    with pytest.raises(rm.RoomError):
        rooms.publish(code, comp, "completion_rate", "", 8)


def test_rooms_are_bounded_and_idle_rooms_dropped():
    rooms = rm.Rooms(size=3, idle_seconds=100.0)
    codes = [rooms.open(now=float(k)) for k in range(3)]
    assert len(set(codes)) == 3
    rooms.publish(codes[0], _Comp(), "response_rate", "", 8, now=10.0)  # used: the least recently used is codes[1]
    fourth = rooms.open(now=11.0)
    assert codes[1] not in rooms and codes[0] in rooms and codes[2] in rooms and fourth in rooms
    rooms.open(now=200.0)  # 100 s later: the rooms unused since then are gone
    assert codes[0] not in rooms and codes[2] not in rooms and fourth not in rooms


def test_the_participants_link_and_its_qr_code_are_drawn_here():
    link = rm.follow_link("0427", "192.168.1.20", 8501)
    assert link == "http://192.168.1.20:8501/?follow=0427"
    svg = rm.qr_svg(link)
    assert svg.startswith("<?xml") and "<svg" in svg and re.search(r"<path d=\"M", svg)
    assert svg == rm.qr_svg(link) and svg != rm.qr_svg(rm.follow_link("0428", "192.168.1.20", 8501))
    assert not rm.valid_code("12a4") and not rm.valid_code("123") and rm.valid_code("0007")
