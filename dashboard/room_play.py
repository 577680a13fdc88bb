"""The room takes part: a predict-and-reveal poll and a role-play of the five societies, kept on the server.

Each open room (dashboard.room.Rooms) has one :class:`Activity`: the participants who joined it (at most
:data:`MAX_PARTICIPANTS`, each named by the random id its phone's link carries), its poll and its role-play.

* **Poll.** The trainer opens a poll on the indicator the room watches (a workshop scenario's focus, or the large
  chart's): "at the end of the run, will B's <indicator> be higher than, about the same as, or lower than A's?"
  (:data:`POLL_CHOICES`).  A participant answers once; a later answer replaces the earlier one.  Until the trainer
  reveals, the room sees only how many have answered; the reveal shows the distribution beside the model's B − A.
* **Role-play** (as NetLogo's HubNet does for a classroom).  Each participant, or table, takes one of the five
  societies (:data:`ROLES`) and each simulated year decides the values of its levers (:data:`ROLE_LEVERS`: levers the
  page already has, dashboard.levers; no lever belongs to two roles).  The trainer runs the year: the decisions are
  taken (:meth:`Activity.take_decisions`) and enter scenario B through its levers at that week, as a lever moved on
  the page would (dashboard.session.Comparison.change_levers: in force from the next week, marked on every chart);
  a role that did not decide keeps its values.  A stays as it started: the room's community against the same
  community left alone.

Every refusal is a :class:`PlayError`: its message names what was wrong and what is allowed, and :meth:`PlayError.json`
gives it as a JSON object (``{"error": kind, "message": …, "allowed": […]}``).  Nothing here imports Streamlit
(dashboard.room_play_page draws it).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from dashboard.levers import LEVER_OF
from dashboard.workshop import BadLink, lever_value

MAX_PARTICIPANTS = 30  # a room of a half-day workshop; the 31st phone can watch, not take part
POLL_CHOICES = ("higher", "same", "lower")  # B's indicator against A's (glossary: poll_choice_<choice>)
YEAR_WEEKS = 52  # a simulated year: the weeks the trainer's "run the year" runs
PARTICIPANT_ID_CHARS = (8, 64)  # a participant id's length (its phone's link draws 16 hex digits)

# The five societies and the levers each decides with (glossary: role_<role>, role_<role>_help)
ROLES = ("committee", "organisation", "social_worker", "volunteers", "charity")
ROLE_LEVERS: dict[str, tuple[str, ...]] = {
    # 社区两委: convening resident units to claim the lists' projects, and the residents' council
    "committee": ("policy.party_building.strength", "policy.deliberation.enabled"),
    # 社会组织: the service contract it claims from the street office, and the venture-philanthropy projects
    "organisation": ("policy.gov_purchase.budget_yuan_per_year", "policy.venture.budget_yuan_per_year"),
    # 社会工作者: how many social workers the station adds, and whether they recruit volunteers
    "social_worker": ("policy.social_work.extra_social_workers", "policy.social_work.mobilisation"),
    # 社区志愿者: volunteering recorded in the moral bank, and the handicraft groups' charity sales
    "volunteers": ("policy.moral_bank.enabled", "policy.charity_sales.enabled"),
    # 社会慈善资源 / 驻区单位: the enterprise's fen a bottle, and the fund's public fundraising
    "charity": ("policy.micro_fund.fen_per_unit", "policy.fund.public_fundraising"),
}


class PlayError(ValueError):
    """A refused participant's or trainer's action; ``kind`` is its glossary key (``play_err_<kind>``)."""

    def __init__(self, kind: str, message: str, allowed: tuple | list = (), **fields: Any) -> None:
        self.kind, self.allowed, self.fields = kind, [str(a) for a in allowed], fields
        super().__init__(message + (f" (allowed: {', '.join(self.allowed)})" if self.allowed else ""))

    def json(self) -> str:
        """The refusal as a JSON object: the kind, the message, the allowed values."""
        return json.dumps({"error": self.kind, "message": str(self), "allowed": self.allowed}, ensure_ascii=False)


@dataclass
class Poll:
    """One poll: on ``focus`` (a key indicator) of scenario ``scenario`` ("" none), answers by participant."""

    focus: str
    scenario: str
    number: int  # 1 for the room's first poll
    answers: dict[str, str] = field(default_factory=dict)
    revealed: bool = False
    result: dict[str, Any] | None = None  # what the model gave, set by the reveal (:meth:`Activity.reveal`)

    def counts(self) -> dict[str, int]:
        return {c: sum(1 for a in self.answers.values() if a == c) for c in POLL_CHOICES}


@dataclass
class RolePlay:
    """The role-play: roles by participant, this year's decisions by role, and the decisions taken so far."""

    year: int = 1  # the year being decided
    roles: dict[str, str] = field(default_factory=dict)  # participant -> role
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)  # role -> lever -> value (this year)
    history: list[tuple[int, int, dict[str, dict[str, Any]]]] = field(default_factory=list)  # (year, week, decisions)

    def members(self, role: str) -> int:
        return sum(1 for r in self.roles.values() if r == role)


def _participant(pid: str) -> str:
    lo, hi = PARTICIPANT_ID_CHARS
    if not (isinstance(pid, str) and lo <= len(pid) <= hi and pid.isalnum()):
        raise PlayError("participant", f"participant id {pid!r} is not {lo}–{hi} letters or digits")
    return pid


class Activity:
    """What a room's participants do: who joined, the poll, the role-play (thread-safe: pages run on threads)."""

    def __init__(self, max_participants: int = MAX_PARTICIPANTS) -> None:
        self.max_participants = max_participants
        self._lock = threading.Lock()
        self.participants: list[str] = []  # in the order they joined
        self.poll: Poll | None = None
        self.polls = 0
        self.play: RolePlay | None = None

    # -- participants --------------------------------------------------------------------------
    def join(self, pid: str) -> int:
        """Participant ``pid`` joins (again: nothing changes); returns their number (1 for the first).
        Beyond ``max_participants``: PlayError "full"."""
        pid = _participant(pid)
        with self._lock:
            if pid not in self.participants:
                if len(self.participants) >= self.max_participants:
                    raise PlayError(
                        "full",
                        f"the room is full: {self.max_participants} participants have joined",
                        max=self.max_participants,
                    )
                self.participants.append(pid)
            return self.participants.index(pid) + 1

    def _member(self, pid: str) -> str:
        if _participant(pid) not in self.participants:
            raise PlayError("not_joined", f"participant {pid!r} has not joined this room")
        return pid

    # -- the poll ------------------------------------------------------------------------------
    def open_poll(self, focus: str, scenario: str = "") -> Poll:
        """A new poll on ``focus`` (the answers of an earlier poll are dropped)."""
        from sim.model.indicators import KEY_INDICATORS

        if focus not in KEY_INDICATORS:
            raise PlayError("focus", f"{focus!r} is not a key indicator", KEY_INDICATORS)
        with self._lock:
            self.polls += 1
            self.poll = Poll(focus, scenario, self.polls)
            return self.poll

    def answer(self, pid: str, choice: str) -> None:
        """Participant ``pid``'s answer to the open poll (a later answer replaces the earlier one)."""
        with self._lock:
            self._member(pid)
            if self.poll is None or self.poll.revealed:
                raise PlayError("no_poll", "no poll is open in this room")
            if choice not in POLL_CHOICES:
                raise PlayError("choice", f"{choice!r} is not an answer of the poll", POLL_CHOICES, value=choice)
            self.poll.answers[pid] = choice

    def reveal(self, result: dict[str, Any]) -> Poll:
        """The poll's answers shown (no more answers taken) beside ``result``, what the model gave (the trainer's week,
        A's and B's values of the poll's indicator, and the seed interval of B − A where there is one: :func:`result`),
        which every phone of the room then shows in its own language."""
        with self._lock:
            if self.poll is None:
                raise PlayError("no_poll", "no poll is open in this room")
            self.poll.revealed, self.poll.result = True, dict(result)
            return self.poll

    def close_poll(self) -> None:
        with self._lock:
            self.poll = None

    # -- the role-play -------------------------------------------------------------------------
    def start_play(self, year: int = 1) -> RolePlay:
        """Start the role-play at ``year`` (a running one keeps its roles and decisions)."""
        with self._lock:
            if self.play is None:
                self.play = RolePlay(year=int(year))
            return self.play

    def stop_play(self) -> None:
        with self._lock:
            self.play = None

    def _playing(self) -> RolePlay:
        if self.play is None:
            raise PlayError("no_play", "no role-play is running in this room")
        return self.play

    def take_role(self, pid: str, role: str) -> None:
        """Participant ``pid`` plays ``role`` (several may share one: a table)."""
        with self._lock:
            self._member(pid)
            play = self._playing()
            if role not in ROLES:
                raise PlayError("role", f"{role!r} is not a role", ROLES, value=role)
            play.roles[pid] = role

    def decide(self, pid: str, levers: dict[str, Any]) -> dict[str, Any]:
        """Participant ``pid``'s decision for this year: values of their role's levers (a later decision of the role,
        by anyone playing it, replaces the earlier one, lever by lever). Returns the role's decision."""
        with self._lock:
            self._member(pid)
            play = self._playing()
            role = play.roles.get(pid)
            if role is None:
                raise PlayError("no_role", f"participant {pid!r} has no role yet", ROLES)
            allowed = ROLE_LEVERS[role]
            clean: dict[str, Any] = {}
            for key, value in levers.items():
                if key not in allowed:
                    raise PlayError("lever", f"{key!r} is not a lever of the role {role}", allowed, value=key)
                try:
                    clean[key] = lever_value(key, str(value))
                except BadLink as exc:
                    raise PlayError("value", str(exc), value=value) from None
            if not clean:
                raise PlayError("empty", "a decision needs at least one lever", allowed)
            play.decisions[role] = {**play.decisions.get(role, {}), **clean}
            return dict(play.decisions[role])

    def take_decisions(self, week: int) -> dict[str, Any]:
        """The trainer runs the year at ``week``: this year's decisions, merged into lever values for scenario B (a
        role without a decision: none of its levers), recorded, and cleared for the next year."""
        with self._lock:
            play = self._playing()
            taken = {role: dict(play.decisions[role]) for role in ROLES if role in play.decisions}
            play.history.append((play.year, int(week), taken))
            play.decisions = {}
            play.year += 1
        return {k: v for role in taken.values() for k, v in role.items()}

    def snapshot(self) -> dict[str, Any]:
        """What the pages show, copied under the lock: participants, the poll, the role-play."""
        with self._lock:
            poll, play = self.poll, self.play
            return {
                "participants": len(self.participants),
                "poll": None
                if poll is None
                else Poll(poll.focus, poll.scenario, poll.number, dict(poll.answers), poll.revealed, poll.result),
                "play": None
                if play is None
                else RolePlay(
                    play.year, dict(play.roles), {r: dict(d) for r, d in play.decisions.items()}, list(play.history)
                ),
            }


def lever_roles() -> dict[str, str]:
    """lever key -> the role that decides it (checks that every role's lever is a lever of the page, and no lever
    belongs to two roles)."""
    out: dict[str, str] = {}
    for role, keys in ROLE_LEVERS.items():
        for key in keys:
            if key not in LEVER_OF:
                raise KeyError(
                    f"ROLE_LEVERS[{role!r}]: {key!r} is not a lever of the page; levers: {', '.join(LEVER_OF)}"
                )
            if key in out:
                raise KeyError(f"{key!r} belongs to the roles {out[key]} and {role}")
            out[key] = role
    return out


def verdict(low: float, high: float) -> str:
    """The poll's answer a seed interval [low, high] of B − A supports: higher above 0, lower below, else the same."""
    if low > 0:
        return "higher"
    if high < 0:
        return "lower"
    return "same"


def result(week: int, a: float | None, b: float | None, interval: tuple[int, float, float] | None = None) -> dict:
    """What a reveal shows of the model: at ``week``, A's and B's values, B − A, and (n seeds, low, high) of B − A."""
    diff = None if a is None or b is None or a != a or b != b else b - a
    return {"week": int(week), "a": a, "b": b, "diff": diff, "interval": interval}


def seed_interval(reps, key: str) -> tuple[int, float, float] | None:
    """B − A of ``key`` at the replicates' last week, paired by run (seed, and parameter set where there are sets):
    (runs, low, high) of its 95 % t interval (experiments.stats.paired_diff); None without at least two runs."""
    from experiments.stats import paired_diff  # here: scipy, not needed before a reveal

    if reps is None or key not in reps.columns:
        return None
    last = reps[reps["step"] == reps["step"].max()]
    by = [c for c in ("parameter_set", "seed") if c in last.columns]
    a = last[last["scenario"] == "A"].set_index(by)[key]
    b = last[last["scenario"] == "B"].set_index(by)[key]
    both = a.index.intersection(b.index)
    if len(both) < 2:
        return None
    ci = paired_diff(b.loc[both].astype(float), a.loc[both].astype(float))
    return ci.n, ci.mean - ci.half_width, ci.mean + ci.half_width
