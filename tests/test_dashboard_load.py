"""The dashboard under a (small) workshop's load: eight participants on one ``python -m dashboard.serve``.

The same load as ``python -m benchmarks.load`` (30 participants, figures in benchmarks/results.md), smaller
and shorter: each participant, through Streamlit's websocket protocol on 127.0.0.1, opens the page and
then steps, moves levers, switches the language, plays and pauses, resets, for 20 seconds.  Asserted: the
health probe answered every time, no page showed an exception or came back empty, every session ran to
the end.  The re-run times are printed (recorded, not asserted: they depend on the machine's load).
"""

from __future__ import annotations

import statistics

from benchmarks.load import run_load

SESSIONS = 8


def test_eight_sessions_at_once_keep_the_server_answering():
    result = run_load(sessions=SESSIONS, duration=20.0, seed=1, ramp=3.0, settle=1.0)
    print({k: round(v, 2) if isinstance(v, float) else v for k, v in result.summary().items()})
    assert not result.failures, result.failures[:5]
    assert not result.exceptions, result.exceptions[:5]
    assert result.empty_pages == 0
    assert result.health_asked >= 15 and result.health_answered == result.health_asked
    assert len(result.by_action["open"]) == SESSIONS
    actions = {a for a in result.by_action if a != "open"}
    assert len(result.page_reruns) > 2 * SESSIONS and {"step", "lever"} <= actions, result.by_action.keys()
    assert statistics.median(result.page_reruns) > 0
    assert result.rss_peak_mb >= result.rss_before_mb > 0
