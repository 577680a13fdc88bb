"""How live the workshop page feels, measured in Chromium driven by Playwright (issue #14, item 5).

    python -m benchmarks.dashboard_speed [--steps 10] [--play-seconds 15] [--speeds 4,13,26] [--followers 10]
                                         [--view trajectories|community] [--out FILE]

* **first render**: from starting ``python -m dashboard.serve`` to the page's title, and to all its charts drawn;
* **Step**: from the click to the new week number on the page, and to the trajectory chart redrawn (median and
  worst of ``--steps`` clicks);

Times are taken in the page: a MutationObserver notes when the title, the charts, the week number or the chart's
line appear or change, and the first animation frame after it (the frame that shows it); a Step's start is its
click event in the page. (Until 2026-12-06 they were taken by Playwright's waits, which poll at growing intervals
of 20–100 ms and so added up to 100 ms to a Step and more to the first render; the two methods side by side are in
benchmarks/results.md.)
* **Step with followers** (``--followers N``): the trainer opens a room (dashboard/room.py) and N follower pages
  (390×844, a phone's screen, in a second Chromium on the same machine) follow it at ``?follow=<code>``; the trainer's
  Step is timed again as above, and each follower's lag: from the trainer's click to the new week on the follower
  (wall-clock times of the two pages);
* **Play**: at each asked speed (weeks per second), the weeks the page actually showed per second and how often
  it redrew (a MutationObserver in the page timestamps every change of the week number), and how often the
  response-rate chart redrew and by how many weeks it advanced each time; with ``--view community`` Play runs with the
  community map's tab open and the same is measured of A's community at work (dashboard/community_view.js: its
  title names the week it draws).

Figures are recorded, not asserted: they depend on the machine and its load (``uptime`` is printed with them).
Needs Chromium (``./dev.sh test`` installs it).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SPEEDS = (1, 2, 4, 8, 13, 26, 52)  # the page's speed choices (dashboard/app.py)
OBSERVER = """() => {
  window.__weeks = [];
  const seen = () => {
    const p = [...document.querySelectorAll('p')].find(e => /^Week \\d+ of \\d+$/.test(e.textContent));
    const m = p && p.textContent.match(/^Week (\\d+) of/);
    if (m) { const w = +m[1]; const last = window.__weeks[window.__weeks.length - 1];
             if (!last || last[1] !== w) window.__weeks.push([performance.now(), w]); }
  };
  new MutationObserver(seen).observe(document.body, {subtree: true, childList: true, characterData: true});
  seen();
  // redraws of an element rebuilt in place (class cls, inside the element within): time and the weeks it draws
  const redraws = (list, cls, within, weeks) => new MutationObserver((records) => {
    for (const r of records) {
      if (r.target.classList && r.target.classList.contains(cls) && r.target.closest(within)) {
        list.push([performance.now(), weeks(r.target)]);
        break;
      }
    }
  }).observe(document.body, {subtree: true, childList: true});
  // the response-rate chart (dashboard/live_chart.js rebuilds its SVG): the weeks its line holds
  window.__charts = [];
  redraws(window.__charts, 'live-chart', '.st-key-traj_response_rate', (e) => {
    const line = e.querySelector('path.line-A');
    return line ? +line.dataset.weeks : 0;
  });
  // A's community at work (dashboard/community_view.js redraws it in place): the week its title names
  window.__cv = [];
  redraws(window.__cv, 'community-view', '.st-key-cv_A', (e) => {
    const title = e.querySelector('.title');
    const m = title && title.textContent.match(/week (\\d+)$/);
    return m ? +m[1] : 0;
  });
}"""


# Installed before the page's own scripts: the wall-clock time (ms since the epoch) of the first animation frame
# after the title, and after all six trajectory charts, appeared. (textContent, not innerText, in the observers:
# innerText makes the browser lay the page out at every change, which slowed the page being measured.)
FIRST_RENDER = """
window.__first = {};
new MutationObserver(() => {
  const f = window.__first;
  const mark = (key) => { f[key] = 0; requestAnimationFrame(() => { f[key] = Date.now(); }); };
  if (f.title === undefined && [...document.querySelectorAll('h1')].some(
        h => h.textContent.includes('Five-society linkage: comparing two scenarios'))) mark('title');
  if (f.charts === undefined && document.querySelectorAll('.live-chart svg.main-svg').length >= 6) mark('charts');
}).observe(document, {subtree: true, childList: true});
"""
# One Step: the click event's time, and the first animation frame after the week number, and after the response-rate
# chart's line, changed (performance.now() ms).
STEP_OBSERVER = """() => {
  const s = window.__step = {};
  const weekText = () => {
    const p = [...document.querySelectorAll('p')].find(e => /^Week \\d+ of \\d+$/.test(e.textContent));
    return p ? p.textContent : '';
  };
  const line = () => { const e = document.querySelector('.st-key-traj_response_rate path.line-A');
                       return e ? e.getAttribute('d') || '' : ''; };
  const week0 = weekText(), line0 = line();
  document.addEventListener('click', () => { if (s.click === undefined) { s.click = performance.now();
                                                                          s.click_wall = Date.now(); } },
                            {capture: true, once: true});
  const mark = (key) => { s[key] = 0; requestAnimationFrame(() => { s[key] = performance.now(); }); };
  const obs = new MutationObserver(() => {
    if (s.week === undefined && weekText() !== week0) mark('week');
    if (s.chart === undefined && line() !== line0) mark('chart');
    if (s.week !== undefined && s.chart !== undefined) obs.disconnect();
  });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true,
                              attributeFilter: ['d']});
}"""


# A follower's page: the wall-clock time (ms since the epoch) of each new week it shows, as [time, week]
FOLLOWER_OBSERVER = """() => {
  window.__follow = [];
  const seen = () => {
    const p = [...document.querySelectorAll('p')].find(e => /^(Week \\d+ of \\d+|第 \\d+ 周)/.test(e.textContent));
    const m = p && p.textContent.match(/(\\d+)/);
    if (m) { const w = +m[1]; const last = window.__follow[window.__follow.length - 1];
             if (!last || last[1] !== w) window.__follow.push([Date.now(), w]); }
  };
  new MutationObserver(seen).observe(document.body, {subtree: true, childList: true, characterData: true});
  seen();
}"""


def _wait_healthy(port: int, server: subprocess.Popen, timeout_s: float = 120.0) -> None:
    """Return once the dashboard answers http://127.0.0.1:PORT/_stcore/health (asked every 20 ms)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:  # not listening yet
            pass
        if server.poll() is not None:
            raise RuntimeError(f"python -m dashboard.serve exited with {server.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the dashboard did not answer within {timeout_s:.0f} s")
        time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _steps(page, steps: int, followers: list | None = None) -> tuple[list[float], list[float], list[float]]:
    """Click Step ``steps`` times: seconds from each click to the new week number and to the chart redrawn, and
    (with ``followers``) from each click to each follower showing the new week."""
    to_week, to_chart, lags = [], [], []
    step = page.get_by_role("button", name="Step", exact=True)
    for _ in range(steps):
        page.evaluate(STEP_OBSERVER)
        step.click()
        page.wait_for_function("window.__step.week > 0 && window.__step.chart > 0", timeout=60_000)
        times = page.evaluate("window.__step")
        to_week.append((times["week"] - times["click"]) / 1000)
        to_chart.append((times["chart"] - times["click"]) / 1000)
        week = page.evaluate("+[...document.querySelectorAll('p')].find(e => /^Week \\d+ of \\d+$/.test(e.textContent))"
                             ".textContent.split(' ')[1]")
        for f in followers or ():
            f.wait_for_function(f"window.__follow.some(w => w[1] === {week})", timeout=60_000)
            shown = f.evaluate(f"window.__follow.find(w => w[1] === {week})[0]")
            lags.append((shown - times["click_wall"]) / 1000)
        page.wait_for_timeout(300)
    return to_week, to_chart, lags


def _open_room(page) -> str:
    """Open a room on the trainer's page (the sidebar's room); its participants' link."""
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Room: participants follow on their phones", exact=True).click()
    sidebar.get_by_role("button", name="Open a room").click()
    qr = page.locator(".st-key-room_qr img")
    qr.wait_for(timeout=60_000)
    return qr.get_attribute("alt")


def measure(steps: int, play_seconds: float, speeds: list[int], chromium: str, followers: int = 0,
            view: str = "trajectories") -> dict:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    port = _free_port()
    started = time.time()
    server = subprocess.Popen([sys.executable, "-m", "dashboard.serve", "--port", str(port)], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out: dict = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.add_init_script(FIRST_RENDER)
            # open the page once the server answers its health probe, as `python -m dashboard.serve --open` does
            # (asking the browser every 50 ms instead loads Chromium's error page each time, which competes with
            # the starting server for the two cores)
            _wait_healthy(port, server)
            page.goto(f"http://127.0.0.1:{port}/?lang=en", timeout=60_000)
            page.wait_for_function("window.__first.title > 0 && window.__first.charts > 0", timeout=120_000)
            first = page.evaluate("window.__first")
            out["first_title_s"] = first["title"] / 1000 - started
            out["first_charts_s"] = first["charts"] / 1000 - started

            to_week, to_chart, _ = _steps(page, steps)
            out["step_to_week_s"] = (statistics.median(to_week), max(to_week))
            out["step_to_chart_s"] = (statistics.median(to_chart), max(to_chart))
            if followers:
                link = _open_room(page)
                phones = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                pages = []
                for _ in range(followers):
                    f = phones.new_page(viewport={"width": 390, "height": 844})
                    f.goto(link.replace(link.split("/?")[0], f"http://127.0.0.1:{port}") + "&lang=en",
                           timeout=60_000)
                    f.get_by_text("Following room").wait_for(timeout=120_000)
                    f.evaluate(FOLLOWER_OBSERVER)
                    pages.append(f)
                page.wait_for_timeout(3_000)  # every follower polling
                to_week, to_chart, lags = _steps(page, steps, pages)
                out["followers"] = followers
                out["followers_step_to_week_s"] = (statistics.median(to_week), max(to_week))
                out["followers_step_to_chart_s"] = (statistics.median(to_chart), max(to_chart))
                out["follower_lag_s"] = (statistics.median(lags), max(lags))
                phones.close()

            out["play"], out["view"] = {}, view
            if view == "community":  # Play with the community at work on screen (the community map's tab)
                page.get_by_role("tab", name="Community map", exact=True).click()
                page.locator(".st-key-cv_A .community-view").wait_for(timeout=60_000)
            slider = page.get_by_role("slider", name="Speed (weeks per second)")
            for speed in speeds:
                page.get_by_role("button", name="Reset", exact=True).click()
                page.get_by_text("Week 0 of").wait_for(timeout=60_000)
                slider.focus()
                slider.press("Home")
                for _ in range(SPEEDS.index(speed)):
                    slider.press("ArrowRight")
                page.wait_for_timeout(1_500)
                page.evaluate(OBSERVER)
                page.get_by_role("button", name="Play", exact=True).click()
                page.wait_for_timeout(play_seconds * 1000)
                weeks, charts = page.evaluate("[window.__weeks, window.__cv]" if view == "community"
                                              else "[window.__weeks, window.__charts]")
                pause = page.get_by_role("button", name="Pause", exact=True)
                if pause.count():  # (at a high speed the run may have reached its last week and stopped)
                    with contextlib.suppress(PlaywrightTimeout):  # it reached its last week meanwhile and stopped
                        pause.click(timeout=5_000)
                page.wait_for_timeout(1_000)
                moving = [w for w in weeks if w[1] > 0]
                if len(moving) < 2:
                    out["play"][speed] = None
                    continue
                span = (moving[-1][0] - moving[0][0]) / 1000
                gaps = [(b[0] - a[0]) / 1000 for a, b in itertools.pairwise(moving)]
                out["play"][speed] = {"weeks_per_s": (moving[-1][1] - moving[0][1]) / span if span else float("nan"),
                                      "redraws_per_s": (len(moving) - 1) / span if span else float("nan"),
                                      "median_gap_s": statistics.median(gaps), "max_gap_s": max(gaps),
                                      "weeks_shown": moving[-1][1], **_chart_rate(charts)}
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out


def _chart_rate(charts: list) -> dict:
    """The chart's redraws a second while it moved, and the weeks it advanced by at a redraw (median, most)."""
    moving = [c for c in charts if c[1] > 0]
    moving = [b for a, b in itertools.pairwise(moving) if b[1] != a[1]] if len(moving) > 1 else []
    if len(moving) < 2:
        return {"chart_redraws_per_s": float("nan"), "chart_weeks_per_redraw": (float("nan"), float("nan"))}
    span = (moving[-1][0] - moving[0][0]) / 1000
    steps = [b[1] - a[1] for a, b in itertools.pairwise(moving)]
    return {"chart_redraws_per_s": (len(moving) - 1) / span if span else float("nan"),
            "chart_weeks_per_redraw": (statistics.median(steps), max(steps))}


def report(out: dict) -> str:
    load = os.getloadavg()
    lines = [f"load average before: {load[0]:.2f} (1 min), {os.cpu_count()} cores",
             f"first render: title {out['first_title_s']:.1f} s, all charts {out['first_charts_s']:.1f} s after start",
             "Step: to the week number {:.2f} s median ({:.2f} worst); to the chart {:.2f} s median ({:.2f} worst)"
             .format(*out["step_to_week_s"], *out["step_to_chart_s"])]
    if out.get("followers"):
        lines.append("Step with {} followers: to the week number {:.2f} s median ({:.2f} worst); to the chart {:.2f} s "
                     "median ({:.2f} worst); the followers show the new week {:.2f} s after the click, median "
                     "({:.2f} worst)".format(out["followers"], *out["followers_step_to_week_s"],
                                             *out["followers_step_to_chart_s"], *out["follower_lag_s"]))
    drawn = "A's community at work" if out.get("view") == "community" else "chart"
    for speed, p in out["play"].items():
        if p is None:
            lines.append(f"Play at {speed} weeks/s: the page did not move")
            continue
        lines.append(f"Play at {speed} weeks/s: showed {p['weeks_per_s']:.1f} weeks/s, {p['redraws_per_s']:.2f} "
                     f"page redraws/s (median gap {p['median_gap_s']:.2f} s, worst {p['max_gap_s']:.2f} s); {drawn} "
                     f"{p['chart_redraws_per_s']:.1f} redraws/s, advancing {p['chart_weeks_per_redraw'][0]:.0f} "
                     f"week(s) a redraw (most {p['chart_weeks_per_redraw'][1]:.0f})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboard_speed", description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="Step clicks to time (default 10)")
    parser.add_argument("--play-seconds", type=float, default=15.0, help="seconds of Play per speed (default 15)")
    parser.add_argument("--speeds", default="4,13,26", help=f"asked speeds, weeks/s (of {SPEEDS}; default 4,13,26)")
    parser.add_argument("--followers", type=int, default=0,
                        help="then open a room and time Step again with this many follower pages (default 0)")
    parser.add_argument("--view", choices=("trajectories", "community"), default="trajectories",
                        help="what is on screen during Play: the trajectories' tab, or the community map's tab with "
                             "the community at work (default trajectories)")
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    try:
        speeds = [int(s) for s in args.speeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--speeds {args.speeds!r}: whole numbers separated by commas, of {SPEEDS}")
    bad = [s for s in speeds if s not in SPEEDS]
    if bad:
        parser.error(f"--speeds {bad}: allowed {', '.join(map(str, SPEEDS))}")
    if args.steps < 1 or args.play_seconds <= 0 or args.followers < 0:
        parser.error("--steps must be ≥ 1, --play-seconds > 0 and --followers ≥ 0")
    from dashboard.handout import find_chromium

    chromium = find_chromium()
    if chromium is None:
        print("error: no Chromium found (set $CHROMIUM or install chromium: ./dev.sh test does)", file=sys.stderr)
        return 1
    text = report(measure(args.steps, args.play_seconds, speeds, chromium, args.followers, args.view))
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
