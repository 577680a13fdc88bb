"""The dashboard's speed benchmark runs in CI on a small budget (issue #14, item 5: recorded, not asserted as
timing): it starts the server, drives Chromium through first render, Step and Play, and reports every figure.
What is asserted is what must hold on any machine: the page rendered, each Step moved one week and redrew the
chart, and Play moved the page forward at roughly the asked pace."""

from __future__ import annotations

import math

from system_deps import require

from benchmarks.dashboard_speed import main, measure, report
from dashboard.handout import find_chromium


def test_speed_benchmark_measures_first_render_step_and_play(capsys):
    chromium = find_chromium()
    require(chromium is not None, "Chromium (the Debian package chromium)")
    out = measure(steps=2, play_seconds=4, speeds=[13], chromium=chromium, followers=1)
    assert 0 < out["first_title_s"] <= out["first_charts_s"]
    for key in ("step_to_week_s", "step_to_chart_s"):
        median, worst = out[key]
        assert 0 < median <= worst
    assert out["step_to_week_s"][0] <= out["step_to_chart_s"][0] + 1e-9  # the week shows before the chart is redrawn
    # a room followed by one page: the trainer's Step timed again, and the follower showed each new week after it
    assert out["followers"] == 1 and out["followers_step_to_chart_s"][0] > 0
    assert 0 < out["follower_lag_s"][0] <= out["follower_lag_s"][1]
    play = out["play"][13]
    assert play is not None, "Play did not move the page"
    assert play["weeks_shown"] > 13 and play["redraws_per_s"] > 0
    assert math.isfinite(play["weeks_per_s"]) and 13 / 3 < play["weeks_per_s"] < 13 * 3  # the asked pace, roughly
    text = report(out)
    print(text)  # the figures, in CI's log
    assert "first render" in text and "Play at 13 weeks/s" in text and "Step with 1 followers" in text


def test_speed_benchmark_refuses_bad_arguments(capsys):
    for argv, message in ((["--speeds", "5"], "allowed 1, 2, 4, 8, 13, 26, 52"),
                          (["--speeds", "fast"], "whole numbers"), (["--steps", "0"], "--steps must be"),
                          (["--followers", "-1"], "--followers ≥ 0"),
                          (["--view", "map"], "argument --view: invalid choice: 'map'")):
        try:
            main(argv)
        except SystemExit as exc:
            assert exc.code == 2
        else:
            raise AssertionError(f"{argv} was accepted")
        assert message in capsys.readouterr().err
