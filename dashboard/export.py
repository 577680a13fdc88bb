"""The page's downloads: a CSV of both runs, and PNG charts drawn on the server.

The charts are drawn under the analysis' theme and CJK font (experiments.presentation.themed), so a
Chinese PNG from the page looks like a Chinese chart from ``python -m experiments.compare``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboard.figures import fund_chart, indicators_chart, replicates_chart
from experiments.presentation import png_bytes, themed


def comparison_csv(ts: pd.DataFrame) -> bytes:
    """CSV of both runs (one row per scenario and week); UTF-8 with a BOM so that Excel/WPS read Chinese."""
    return ts.to_csv(index=False).encode("utf-8-sig")


def indicators_png(ts: pd.DataFrame, names: dict[str, str], lang: str = "en", steps: int | None = None,
                   events: Sequence[tuple[int, str, str]] = ()) -> bytes:
    """PNG: the key indicators of A and B over the weeks, with the plan targets and the lever changes."""
    with themed(lang):
        return png_bytes(indicators_chart(ts, names, lang, steps, events))


def fund_png(ts: pd.DataFrame, names: dict[str, str], lang: str = "en", steps: int | None = None) -> bytes:
    """PNG: cumulative fund income by source and spending by use of A and B."""
    with themed(lang):
        return png_bytes(fund_chart(ts, names, lang, steps))


def replicates_png(summary: pd.DataFrame, names: dict[str, str], n: int, lang: str = "en") -> bytes:
    """PNG: mean and 95 % confidence band of A and B over the seeds."""
    with themed(lang):
        return png_bytes(replicates_chart(summary, names, n, lang))
