"""A workshop's load on one dashboard server: many participants' sessions at once, on loopback only.

``python -m benchmarks.load --sessions 30`` starts ``python -m dashboard.serve`` on a free port of
127.0.0.1 and drives it with ``--sessions`` simulated participants through Streamlit's own websocket
protocol (``/_stcore/stream``, the protobuf messages the browser sends and receives), as a browser
would: each opens the page, then, after a few seconds' thought, does one of the things a participant
does in a workshop — Step, change a lever, switch the language, Play for a few seconds (the page's
timed redraws, as the browser asks for them) and Pause, Reset — for ``--duration`` seconds. The
sessions' actions are drawn from a seeded random generator, so a run is repeatable.

Measured: the time of each page re-run (from the message that asks for it to the end of the
script run), the health probe (``/_stcore/health`` asked every second with a 5 s timeout), and the
server's memory (resident set size) before, at its peak during, and after the sessions disconnect.
Every element the server sends is checked for an exception (a red error box on the page).

tests/test_dashboard_load.py runs a smaller load in CI; the 30-session figures are in
benchmarks/results.md ("Dashboard under a workshop's load").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import websockets
from streamlit.components.v2.bidi_component.main import _make_trigger_id  # the id the browser sends
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from dashboard.page_state import TICK_SECONDS

HOST = "127.0.0.1"
THINK_SECONDS = (2.0, 6.0)       # a participant's pause between two actions (uniform)
PLAY_SECONDS = (3.0, 8.0)        # how long a participant lets Play run
HEALTH_EVERY = 1.0               # seconds between two health probes
HEALTH_TIMEOUT = 5.0
RERUN_TIMEOUT = 120.0            # a re-run that takes longer counts as failed
# What a participant does next, with weights (Step and levers most often).
ACTIONS = {"step": 4, "lever": 3, "language": 1, "play": 2, "reset": 1}
# Levers a participant moves (widget key without the side, and the values tried).
LEVER_VALUES = {
    "policy.micro_fund.fen_per_unit": [0.0, 1.0, 2.0, 5.0, 10.0],
    "policy.fund.transparency": [0.2, 0.5, 0.8, 1.0],
    "policy.social_work.extra_social_workers": [0, 1, 2, 4],
    "policy.party_building.strength": [0.0, 0.4, 0.8, 1.0],
    "policy.venture.budget_yuan_per_year": [0.0, 50_000.0, 200_000.0],
}
SLIDERS = {"policy.micro_fund.fen_per_unit", "policy.fund.transparency", "policy.party_building.strength"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for p in procs:
        with suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total / 2**20


def health_ok(url: str, timeout: float = HEALTH_TIMEOUT) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


@contextmanager
def dashboard_server(port: int | None = None, startup_timeout: float = 90.0):
    """``python -m dashboard.serve`` on a free loopback port; yields (url, pid); stopped on exit."""
    port = port or free_port()
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryDirectory() as work, open(Path(work) / "server.log", "w+") as log:
        proc = subprocess.Popen([sys.executable, "-m", "dashboard.serve", "--port", str(port), "--host", HOST],
                                cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://{HOST}:{port}"
        try:
            deadline = time.monotonic() + startup_timeout
            while not health_ok(url, timeout=2):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"the dashboard did not start at {url}:\n{log.read()}")
                time.sleep(0.3)
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ---------------------------------------------------------------------------------------------
# One participant: a Streamlit session driven through the websocket protocol
# ---------------------------------------------------------------------------------------------
@dataclass
class Rerun:
    kind: str           # "page" (a re-run asked by a click) or "redraw" (a re-run asked by Play's ticker)
    action: str
    seconds: float


@dataclass
class SessionLog:
    reruns: list[Rerun] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    empty_pages: int = 0


class Participant:
    """One browser session: keeps the page's widget states and asks for re-runs as the browser does."""

    def __init__(self, url: str, rng: random.Random, lang: str) -> None:
        self.ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.rng = rng
        self.query = f"lang={lang}"
        self.widgets: dict[str, str] = {}          # user key -> widget id
        self.states: dict[str, WidgetState] = {}   # widget id -> last value sent
        self.ticker = ""                           # Play's ticker component on the page (its id), if playing
        self.tick_s = TICK_SECONDS                 # and the wait it asks for before the next run
        self.ticks = 0
        self.playing = False
        self.log = SessionLog()
        self.ws = None

    async def rerun(self, action: str, triggers: dict[str, WidgetState] | None = None, what: str = "page") -> None:
        """Ask for a re-run with the current widget states (and a button's or the ticker's trigger); wait for its
        end.  ``what``: "redraw" for Play's timed re-runs."""
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query
        self.ticker = ""  # seen again if the page still plays
        for wid, state in {**self.states, **(triggers or {})}.items():
            s = rerun.widget_states.widgets.add()
            s.CopyFrom(state)
            s.id = wid
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        elements = 0
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await asyncio.wait_for(self.ws.recv(), RERUN_TIMEOUT))
            kind = fwd.WhichOneof("type")
            if kind == "delta":
                elements += self._read_delta(fwd.delta)
            elif kind == "script_finished":
                status = fwd.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    self.log.failures.append(f"{action}: script error")
                break
        seconds = time.perf_counter() - start
        self.log.reruns.append(Rerun(what, action, seconds))
        if elements == 0:
            self.log.empty_pages += 1

    def _read_delta(self, delta) -> int:
        if delta.WhichOneof("type") != "new_element":
            return 0
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind == "exception":
            self.log.exceptions.append(f"{el.exception.type}: {el.exception.message}")
            return 1
        if kind == "alert" and el.alert.format == el.alert.ERROR:
            self.log.exceptions.append(el.alert.body)
        if kind == "bidi_component" and el.bidi_component.id.endswith("play_ticker"):
            self.ticker = el.bidi_component.id
            data = json.loads(el.bidi_component.json or "{}")  # {"ms": the wait the page asks for, "tick": n}
            self.tick_s = data.get("ms", TICK_SECONDS * 1000) / 1000
        widget = getattr(el, kind, None)
        wid = getattr(widget, "id", "") if widget is not None else ""
        if wid and "-" in wid:
            self.widgets[wid.rsplit("-", 1)[-1] if "$$ID" in wid else wid] = wid
        return 1

    def widget_id(self, key: str) -> str:
        for user_key, wid in self.widgets.items():  # a lever's widget key carries a suffix: "<key>#<n>"
            if user_key == key or user_key.startswith(f"{key}#"):
                return wid
        raise KeyError(f"no widget with key {key!r} on the page")

    # actions ------------------------------------------------------------------------------
    async def click(self, key: str, action: str) -> None:
        await self.rerun(action, {self.widget_id(key): WidgetState(trigger_value=True)})

    async def set_value(self, key: str, state: WidgetState, action: str) -> None:
        self.states[self.widget_id(key)] = state
        await self.rerun(action)

    async def play(self) -> None:
        await self.click("btn_play", "play")
        end = time.monotonic() + self.rng.uniform(*PLAY_SECONDS)
        while time.monotonic() < end and self.ticker:
            # as the page's ticker does in the browser: the wait it was given after a run, then its trigger
            await asyncio.sleep(self.tick_s)
            self.ticks += 1
            tick = WidgetState(json_trigger_value=json.dumps([{"event": "tick", "value": self.ticks}]))
            await self.rerun("redraw", {_make_trigger_id(self.ticker, "events"): tick}, what="redraw")
        await self.click("btn_play", "pause")

    async def act(self) -> None:
        action = self.rng.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
        if action == "step":
            await self.click("btn_step", "step")
        elif action == "reset":
            await self.click("btn_reset", "reset")
        elif action == "play":
            await self.play()
        elif action == "language":
            self.query = "lang=en" if self.query == "lang=zh" else "lang=zh"
            await self.set_value("lang", WidgetState(string_array_value={"data": [self.query[-2:]]}), "language")
        else:
            key, values = self.rng.choice(list(LEVER_VALUES.items()))
            value = self.rng.choice(values)
            state = WidgetState(int_value=value) if isinstance(value, int) else WidgetState(double_value=value)
            if key in SLIDERS:
                state = WidgetState(double_array_value={"data": [float(value)]})
            await self.set_value(f"B:{key}", state, "lever")

    async def run(self, until: float) -> SessionLog:
        try:
            async with websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                          open_timeout=60, ping_interval=None) as ws:
                self.ws = ws
                await self.rerun("open")
                while time.monotonic() < until:
                    await asyncio.sleep(self.rng.uniform(*THINK_SECONDS))
                    if time.monotonic() >= until:
                        break
                    await self.act()
        except (TimeoutError, OSError, websockets.WebSocketException, KeyError) as exc:
            self.log.failures.append(f"{type(exc).__name__}: {exc}")
        return self.log


# ---------------------------------------------------------------------------------------------
# The load
# ---------------------------------------------------------------------------------------------
@dataclass
class LoadResult:
    sessions: int
    duration_s: float
    page_reruns: list[float]
    redraws: list[float]
    by_action: dict[str, list[float]]
    health_answered: int
    health_asked: int
    health_worst_s: float
    rss_before_mb: float
    rss_peak_mb: float
    rss_after_mb: float
    exceptions: list[str]
    failures: list[str]
    empty_pages: int

    @staticmethod
    def _q(values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1] if len(values) > 1 \
            else values[0]

    def summary(self) -> dict[str, float]:
        return {"sessions": self.sessions, "page re-runs": len(self.page_reruns),
                "re-run median s": statistics.median(self.page_reruns) if self.page_reruns else float("nan"),
                "re-run p95 s": self._q(self.page_reruns, 0.95),
                "redraws": len(self.redraws),
                "redraw median s": statistics.median(self.redraws) if self.redraws else float("nan"),
                "redraw p95 s": self._q(self.redraws, 0.95),
                "health answered": self.health_answered, "health asked": self.health_asked,
                "health worst s": self.health_worst_s,
                "RSS before MB": self.rss_before_mb, "RSS peak MB": self.rss_peak_mb,
                "RSS after MB": self.rss_after_mb, "exceptions": len(self.exceptions),
                "failures": len(self.failures), "empty pages": self.empty_pages}


async def _probe(url: str, pid: int, stop: asyncio.Event, out: dict) -> None:
    """Ask the health probe every second (in a thread, like an outside monitor) and sample memory."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        start = time.perf_counter()
        ok = await loop.run_in_executor(None, health_ok, url)
        took = time.perf_counter() - start
        out["asked"] += 1
        out["answered"] += ok
        out["worst"] = max(out["worst"], took)
        out["peak"] = max(out["peak"], rss_mb(pid))
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, HEALTH_EVERY - took))


async def _load(url: str, pid: int, sessions: int, duration: float, seed: int, ramp: float) -> tuple[list, dict]:
    probe = {"asked": 0, "answered": 0, "worst": 0.0, "peak": 0.0}
    stop = asyncio.Event()
    prober = asyncio.create_task(_probe(url, pid, stop, probe))
    until = time.monotonic() + duration
    rng = random.Random(seed)

    async def participant(i: int) -> SessionLog:
        await asyncio.sleep(ramp * i / max(1, sessions))  # participants arrive over `ramp` seconds
        return await Participant(url, random.Random(rng.random() + i), "zh" if i % 3 else "en").run(until)

    logs = await asyncio.gather(*(participant(i) for i in range(sessions)))
    stop.set()
    await prober
    return logs, probe


def run_load(sessions: int = 30, duration: float = 60.0, seed: int = 0, ramp: float = 10.0,
             settle: float = 20.0) -> LoadResult:
    """Start a server, drive ``sessions`` participants for ``duration`` seconds, measure (see the module doc)."""
    with dashboard_server() as (url, pid):
        health_ok(url)
        before = rss_mb(pid)
        start = time.monotonic()
        logs, probe = asyncio.run(_load(url, pid, sessions, duration, seed, ramp))
        elapsed = time.monotonic() - start
        time.sleep(settle)  # sessions closed: the server frees their state
        after = rss_mb(pid)
    reruns = [r for log in logs for r in log.reruns]
    return LoadResult(
        sessions=sessions, duration_s=elapsed,
        page_reruns=[r.seconds for r in reruns if r.kind == "page"],
        by_action={a: [r.seconds for r in reruns if r.action == a] for a in sorted({r.action for r in reruns})},
        redraws=[r.seconds for r in reruns if r.kind == "redraw"],
        health_answered=probe["answered"], health_asked=probe["asked"], health_worst_s=probe["worst"],
        rss_before_mb=before, rss_peak_mb=max(probe["peak"], before), rss_after_mb=after,
        exceptions=[e for log in logs for e in log.exceptions], failures=[f for log in logs for f in log.failures],
        empty_pages=sum(log.empty_pages for log in logs))


RESULTS = Path(__file__).resolve().with_name("results.md")
BEGIN, END = "<!-- BEGIN dashboard-load -->", "<!-- END dashboard-load -->"


def section(result: LoadResult, seed: int) -> str:
    """The markdown section of benchmarks/results.md for one load run."""
    s = result.summary()
    rows = [f"| {action} | {len(times)} | {statistics.median(times):.2f} | {LoadResult._q(times, 0.95):.2f} |"
            for action, times in result.by_action.items()]
    cpu = f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end"
    return "\n".join([
        BEGIN,
        "## Dashboard under a workshop's load",
        "",
        f"`python -m benchmarks.load --sessions {result.sessions} --seed {seed} --write`: {result.sessions} "
        f"participants' sessions on one `python -m dashboard.serve` (127.0.0.1, Streamlit's websocket protocol), "
        f"arriving over 10 s, each acting every 2–6 s (Step, levers, language, Play 3–8 s then Pause, Reset) for "
        f"{result.duration_s:.0f} s; this machine: {cpu}.",
        "",
        "| measure | value | target |",
        "|---|---:|---|",
        f"| page re-runs: median | {s['re-run median s']:.2f} s | ≤ 2 s |",
        f"| page re-runs: 95th percentile | {s['re-run p95 s']:.2f} s | |",
        f"| Play's timed redraws: median / 95th percentile | {s['redraw median s']:.2f} s / "
        f"{s['redraw p95 s']:.2f} s | |",
        f"| health probe answered (every 1 s, 5 s timeout) | {s['health answered']} of {s['health asked']} "
        f"(slowest {s['health worst s']:.2f} s) | always |",
        f"| server memory (RSS) before / peak / after the sessions left | {s['RSS before MB']:.0f} / "
        f"{s['RSS peak MB']:.0f} / {s['RSS after MB']:.0f} MB | bounded |",
        f"| exceptions shown / failed sessions / empty pages | {s['exceptions']} / {s['failures']} / "
        f"{s['empty pages']} | 0 |",
        "",
        "| action | re-runs | median s | 95th percentile s |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        "The models are shared by every session showing the same scenarios (`dashboard.session.SharedRun`, a "
        "bounded number in memory), the live view's indicators and charts by scenarios, week and language "
        "(`dashboard.live`, bounded too); a session keeps only its choices and its week. Before these "
        "changes the same load measured 8.0 s median and 39.2 s 95th percentile per page re-run, 383 MB peak. The "
        "server now builds the opening view before it listens (`dashboard.live.warm_up`; without it the 30 "
        "arrivals took 14 s median to open the page), hence its memory before the first session.",
        "",
        "Play's re-runs are asked as the page's ticker asks for them in the browser: its trigger, after the wait the "
        "page gives it (`dashboard.page_state.PlayingPages`: 0.25 s for one page playing; with n playing, at "
        "least (n − 1) ÷ 4 s each, so that the pages playing share four redraws a second). When this benchmark first "
        "sent the ticker's re-runs (2026-12-05; before, it still asked for the timed fragment Play had used, and Play "
        "ran nothing), the page re-runs took 0.45 s median and 15–20 s at the 95th percentile, with stalls of 30 s "
        "for every session at once: 12 shared runs were kept (`SHARED_RUNS`), the participants' scenarios evicted "
        "each other, and each evicted run was stepped again from week 0 to its week, which Play had moved on. "
        "With 40 kept and Play's redraws shared: the figures above.",
        "",
        "Since issue 29 a new pair of runs (its warm-up) is built outside `SharedRuns`' lock, once for all the "
        "pages that ask for it while it is built, so other pages go on meanwhile: a lever change, which builds a new "
        "run, took 0.44 s median and 6.33 s at the 95th percentile before (one run, load average 1.1) and 0.33 s "
        "and 3.66 s after (2026-12-07, one run, load average 2.5 from other work on the machine).",
        END,
    ])


def write_section(text: str, path: Path = RESULTS) -> None:
    """Put the section into benchmarks/results.md, replacing an earlier one."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + text + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of activity")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="write the figures into benchmarks/results.md")
    args = parser.parse_args(argv)
    result = run_load(args.sessions, args.duration, args.seed)
    for key, value in result.summary().items():
        print(f"{key:>18}: {value:.2f}" if isinstance(value, float) else f"{key:>18}: {value}")
    for action, times in result.by_action.items():
        print(f"{action:>18}: n={len(times)} median {statistics.median(times):.2f} s, max {max(times):.2f} s")
    for text in sorted(set(result.exceptions + result.failures))[:10]:
        print("  !", text)
    if args.write:
        write_section(section(result, args.seed))
        print(f"wrote its section of {RESULTS}")


if __name__ == "__main__":
    main()
