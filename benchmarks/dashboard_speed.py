"""How live the workshop page feels, measured in Chromium driven by Playwright (issue #14, item 5).

    python -m benchmarks.dashboard_speed [--steps 10] [--play-seconds 15] [--speeds 4,13,26] [--out FILE]

* **first render**: from starting ``python -m dashboard.serve`` to the page's title, and to all its charts drawn;
* **Step**: from the click to the new week number on the page, and to the trajectory chart redrawn (median and
  worst of ``--steps`` clicks);
* **Play**: at each asked speed (weeks per second), the weeks the page actually showed per second and how often
  it redrew (a MutationObserver in the page timestamps every change of the week number), and how often the
  response-rate chart redrew and by how many weeks it advanced each time.

Figures are recorded, not asserted: they depend on the machine and its load (``uptime`` is printed with them).
Needs Chromium (``./dev.sh test`` installs it).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WEEK = re.compile(r"Week (\d+) of (\d+)")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SPEEDS = (1, 2, 4, 8, 13, 26, 52)  # the page's speed choices (dashboard/app.py)
OBSERVER = """() => {
  window.__weeks = [];
  const seen = () => {
    const p = [...document.querySelectorAll('p')].find(e => /^Week \\d+ of \\d+$/.test(e.innerText));
    const m = p && p.innerText.match(/^Week (\\d+) of/);
    if (m) { const w = +m[1]; const last = window.__weeks[window.__weeks.length - 1];
             if (!last || last[1] !== w) window.__weeks.push([performance.now(), w]); }
  };
  new MutationObserver(seen).observe(document.body, {subtree: true, childList: true, characterData: true});
  seen();
  // the response-rate chart's redraws (dashboard/live_chart.js rebuilds its SVG): time and weeks drawn
  window.__charts = [];
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.target.classList && r.target.classList.contains('live-chart')
          && r.target.closest('.st-key-traj_response_rate')) {
        const line = r.target.querySelector('path.line-A');
        window.__charts.push([performance.now(), line ? +line.dataset.weeks : 0]);
        break;
      }
    }
  }).observe(document.body, {subtree: true, childList: true});
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _week(page) -> int:
    text = page.get_by_text(WEEK).first.inner_text()
    return int(WEEK.search(text).group(1))


def _trace(page) -> str:
    """The response-rate chart's first line ("" at week 0, when there is no line yet)."""
    return page.evaluate("() => { const e = document.querySelector("
                         "'.st-key-traj_response_rate path.line-A');"
                         " return e ? e.getAttribute('d') || '' : ''; }")


def measure(steps: int, play_seconds: float, speeds: list[int], chromium: str) -> dict:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    port = _free_port()
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "dashboard.serve", "--port", str(port)], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out: dict = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            deadline = time.monotonic() + 120
            while True:  # the server accepts connections after its warm-up
                try:
                    page.goto(f"http://127.0.0.1:{port}/?lang=en", timeout=5_000)
                    break
                except Exception:  # not up yet
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            page.get_by_role("heading", name="Five-society linkage: comparing two scenarios").wait_for(timeout=120_000)
            out["first_title_s"] = time.monotonic() - started
            page.wait_for_function("document.querySelectorAll('.live-chart svg.main-svg').length >= 6",
                                   timeout=120_000)
            out["first_charts_s"] = time.monotonic() - started

            to_week, to_chart = [], []
            step = page.get_by_role("button", name="Step", exact=True)
            for _ in range(steps):
                week, trace = _week(page), _trace(page)
                t0 = time.monotonic()
                step.click()
                page.get_by_text(f"Week {week + 1} of").wait_for(timeout=60_000)
                to_week.append(time.monotonic() - t0)
                page.wait_for_function("prev => { const e = document.querySelector("
                                       "'.st-key-traj_response_rate path.line-A');"
                                       " return e && e.getAttribute('d') !== prev; }", arg=trace, timeout=60_000)
                to_chart.append(time.monotonic() - t0)
                page.wait_for_timeout(300)
            out["step_to_week_s"] = (statistics.median(to_week), max(to_week))
            out["step_to_chart_s"] = (statistics.median(to_chart), max(to_chart))

            out["play"] = {}
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
                weeks, charts = page.evaluate("[window.__weeks, window.__charts]")
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
    for speed, p in out["play"].items():
        if p is None:
            lines.append(f"Play at {speed} weeks/s: the page did not move")
            continue
        lines.append(f"Play at {speed} weeks/s: showed {p['weeks_per_s']:.1f} weeks/s, {p['redraws_per_s']:.2f} "
                     f"page redraws/s (median gap {p['median_gap_s']:.2f} s, worst {p['max_gap_s']:.2f} s); chart "
                     f"{p['chart_redraws_per_s']:.1f} redraws/s, advancing {p['chart_weeks_per_redraw'][0]:.0f} "
                     f"week(s) a redraw (most {p['chart_weeks_per_redraw'][1]:.0f})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboard_speed", description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="Step clicks to time (default 10)")
    parser.add_argument("--play-seconds", type=float, default=15.0, help="seconds of Play per speed (default 15)")
    parser.add_argument("--speeds", default="4,13,26", help=f"asked speeds, weeks/s (of {SPEEDS}; default 4,13,26)")
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    try:
        speeds = [int(s) for s in args.speeds.split(",")]
    except ValueError:
        parser.error(f"--speeds {args.speeds!r}: whole numbers separated by commas, of {SPEEDS}")
    bad = [s for s in speeds if s not in SPEEDS]
    if bad:
        parser.error(f"--speeds {bad}: allowed {', '.join(map(str, SPEEDS))}")
    if args.steps < 1 or args.play_seconds <= 0:
        parser.error("--steps must be ≥ 1 and --play-seconds > 0")
    from dashboard.handout import find_chromium

    chromium = find_chromium()
    if chromium is None:
        print("error: no Chromium found (set $CHROMIUM or install chromium: ./dev.sh test does)", file=sys.stderr)
        return 1
    text = report(measure(args.steps, args.play_seconds, speeds, chromium))
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
