"""The room takes part (dashboard/room_play.py): the bounds of a room's participants, the poll's one answer each and
its refusals, the role-play's roles, decisions through the page's levers, and the year's decisions taken once."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dashboard import room as rm
from dashboard import room_play as rp
from dashboard.levers import LEVER_OF, widget_bounds

IDS = [f"phone{k:04d}" for k in range(rp.MAX_PARTICIPANTS + 1)]


def test_a_room_takes_at_most_thirty_participants_and_a_reload_is_the_same_one():
    act = rp.Activity()
    numbers = [act.join(pid) for pid in IDS[: rp.MAX_PARTICIPANTS]]
    assert numbers == list(range(1, rp.MAX_PARTICIPANTS + 1))
    assert act.join(IDS[4]) == 5  # joining again: the same participant, no new place taken
    with pytest.raises(rp.PlayError, match="the room is full: 30 participants have joined") as full:
        act.join(IDS[-1])
    assert json.loads(full.value.json())["error"] == "full" and act.snapshot()["participants"] == rp.MAX_PARTICIPANTS
    for bad in ("short", "not-letters!", "x" * 65, ""):
        with pytest.raises(rp.PlayError, match="participant id"):
            act.join(bad)


def test_the_poll_keeps_one_answer_per_participant_and_refuses_clearly():
    act = rp.Activity()
    for pid in IDS[:4]:
        act.join(pid)
    with pytest.raises(rp.PlayError, match="no poll is open in this room") as none:
        act.answer(IDS[0], "higher")
    assert json.loads(none.value.json()) == {
        "error": "no_poll",
        "message": "no poll is open in this room",
        "allowed": [],
    }
    with pytest.raises(rp.PlayError, match="'share_volunteers' is not a key indicator"):
        act.open_poll("share_volunteers")
    act.open_poll("completion_rate", "purchase")
    act.answer(IDS[0], "higher")
    act.answer(IDS[1], "lower")
    act.answer(IDS[0], "same")  # a later answer replaces the earlier one
    with pytest.raises(rp.PlayError) as unknown:
        act.answer(IDS[2], "much higher")
    err = json.loads(unknown.value.json())
    assert err["error"] == "choice" and err["allowed"] == ["higher", "same", "lower"]
    assert err["message"] == "'much higher' is not an answer of the poll (allowed: higher, same, lower)"
    with pytest.raises(rp.PlayError, match="has not joined this room"):
        act.answer(IDS[9], "higher")
    poll = act.snapshot()["poll"]
    assert poll.counts() == {"higher": 0, "same": 1, "lower": 1} and not poll.revealed
    act.reveal(rp.result(12, 0.5, 0.6, (20, 0.02, 0.18)))
    with pytest.raises(rp.PlayError, match="no poll is open"):  # revealed: no more answers
        act.answer(IDS[3], "higher")
    shown = act.snapshot()["poll"]
    assert shown.revealed and shown.result["diff"] == pytest.approx(0.1) and shown.result["interval"][0] == 20
    act.open_poll("response_rate")  # the next poll starts empty
    assert act.snapshot()["poll"].answers == {} and act.snapshot()["poll"].number == 2
    act.close_poll()
    assert act.snapshot()["poll"] is None


def test_roles_decide_only_their_own_levers_within_the_pages_bounds():
    assert set(rp.lever_roles()) <= set(LEVER_OF) and set(rp.ROLE_LEVERS) == set(rp.ROLES)
    act = rp.Activity()
    for pid in IDS[:6]:
        act.join(pid)
    with pytest.raises(rp.PlayError, match="no role-play is running"):
        act.take_role(IDS[0], "committee")
    act.start_play()
    with pytest.raises(rp.PlayError, match=r"'mayor' is not a role \(allowed: committee, organisation"):
        act.take_role(IDS[0], "mayor")
    with pytest.raises(rp.PlayError, match="has no role yet"):
        act.decide(IDS[0], {"policy.deliberation.enabled": True})
    for pid, role in zip(IDS, [*rp.ROLES, "social_worker"], strict=False):
        act.take_role(pid, role)
    budget = "policy.gov_purchase.budget_yuan_per_year"
    with pytest.raises(rp.PlayError) as other:  # the committee cannot set the organisation's contract
        act.decide(IDS[0], {budget: 100_000})
    assert json.loads(other.value.json())["allowed"] == list(rp.ROLE_LEVERS["committee"])
    hi = widget_bounds(LEVER_OF[budget])[1]
    with pytest.raises(rp.PlayError, match="out of range"):
        act.decide(IDS[1], {budget: hi + 1})
    with pytest.raises(rp.PlayError, match="needs at least one lever"):
        act.decide(IDS[1], {})
    assert act.decide(IDS[1], {budget: 200_000}) == {budget: 200_000}
    workers = "policy.social_work.extra_social_workers"
    act.decide(IDS[2], {workers: 2, "policy.social_work.mobilisation": True})
    assert act.decide(IDS[5], {workers: 3}) == {workers: 3, "policy.social_work.mobilisation": True}  # same table


def test_the_years_decisions_are_taken_once_and_a_role_without_one_moves_nothing():
    act = rp.Activity()
    act.join(IDS[0])
    act.join(IDS[1])
    act.start_play(year=1)
    act.take_role(IDS[0], "charity")
    act.take_role(IDS[1], "volunteers")
    act.decide(IDS[0], {"policy.micro_fund.fen_per_unit": 2})
    assert act.take_decisions(0) == {"policy.micro_fund.fen_per_unit": 2.0}
    play = act.snapshot()["play"]
    assert (
        play.year == 2
        and play.decisions == {}
        and play.history == [(1, 0, {"charity": {"policy.micro_fund.fen_per_unit": 2.0}})]
    )
    assert act.take_decisions(52) == {}  # nobody decided in year 2: no lever moves
    act.stop_play()
    with pytest.raises(rp.PlayError, match="no role-play"):
        act.take_decisions(104)


def test_a_rooms_activity_goes_with_the_room():
    rooms = rm.Rooms(size=2)
    code = rooms.open(now=0.0)
    rooms.activity(code).join(IDS[0])
    assert rooms.activity(code).snapshot()["participants"] == 1
    rooms.close(code)
    with pytest.raises(rm.RoomError, match="is not open"):
        rooms.activity(code)


def test_the_seed_interval_of_a_reveal_and_the_answer_it_supports():
    reps = pd.DataFrame(
        {
            "scenario": ["A"] * 3 + ["B"] * 3,
            "seed": [1, 2, 3] * 2,
            "step": [10] * 6,
            "completion_rate": [0.50, 0.52, 0.48, 0.60, 0.63, 0.58],
        }
    )
    n, low, high = rp.seed_interval(reps, "completion_rate")
    assert n == 3 and low < 0.1 < high and low > 0
    assert rp.verdict(low, high) == "higher" and rp.verdict(-0.2, -0.1) == "lower" and rp.verdict(-0.1, 0.1) == "same"
    assert rp.seed_interval(reps, "response_rate") is None and rp.seed_interval(None, "completion_rate") is None


def test_forty_phones_acting_at_once_leave_thirty_participants_each_counted_once():
    """Forty phones arrive together (threads, as the server's sessions are), each joining, answering the poll and, in
    the role-play, taking a role and deciding: exactly 30 join (the other 10 are refused as "full", nothing of theirs
    recorded), every participant's last answer counted once, each role's decision one of its members' values."""
    import threading

    act = rp.Activity()
    act.open_poll("response_rate")
    act.start_play()
    ids = [f"phone{k:04d}" for k in range(40)]
    refused: list[str] = []
    barrier = threading.Barrier(len(ids))

    def phone(k: int, pid: str) -> None:
        barrier.wait()
        try:
            act.join(pid)
        except rp.PlayError as exc:
            refused.append(exc.kind)
            return
        for choice in (rp.POLL_CHOICES[k % 3], rp.POLL_CHOICES[(k + 1) % 3]):  # changes its mind once
            act.answer(pid, choice)
        role = rp.ROLES[k % len(rp.ROLES)]
        act.take_role(pid, role)
        if role == "social_worker":
            act.decide(pid, {"policy.social_work.extra_social_workers": k % 4})

    threads = [threading.Thread(target=phone, args=(k, pid)) for k, pid in enumerate(ids)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    snap = act.snapshot()
    assert snap["participants"] == rp.MAX_PARTICIPANTS and refused == ["full"] * (len(ids) - rp.MAX_PARTICIPANTS)
    joined = set(snap["poll"].answers)
    assert len(joined) == rp.MAX_PARTICIPANTS and set(snap["play"].roles) == joined
    assert all(snap["poll"].answers[pid] == rp.POLL_CHOICES[(int(pid[5:]) + 1) % 3] for pid in joined)
    assert sum(snap["poll"].counts().values()) == rp.MAX_PARTICIPANTS
    workers = {int(pid[5:]) % 4 for pid in joined if rp.ROLES[int(pid[5:]) % len(rp.ROLES)] == "social_worker"}
    assert snap["play"].decisions["social_worker"]["policy.social_work.extra_social_workers"] in workers
