"""The page's live trajectory charts: drawn by the browser from plain data (dashboard/live_chart.js).

A Streamlit component (``st.components.v2``) whose element stays on the page between redraws: a Step or a
Play tick sends the chart's new data (:func:`dashboard.figures.trajectory_spec`) and the browser redraws the
SVG in place, instead of plotly rebuilding six charts (benchmarks/results.md, "Dashboard speed in the browser").
Mounted in the app's DOM, not a shadow root, so the page's fonts apply and tests can read the chart's text.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

CSS = """
.live-chart { position: relative; width: 100%; }
.live-chart svg.main-svg { display: block; overflow: visible; }
.live-chart .legend { display: flex; flex-wrap: wrap; gap: 0.2rem 1.2rem; padding: 0 0 0.4rem 0.5rem; color: #333; }
.live-chart .legend .item { display: inline-flex; align-items: center; gap: 0.4rem; }
.live-chart .tip { display: none; position: absolute; pointer-events: none; background: rgba(255,255,255,0.95);
  border: 1px solid #BBB; border-radius: 4px; padding: 0.3rem 0.5rem; line-height: 1.35; white-space: nowrap;
  color: #222; z-index: 5; }
"""

_chart = st.components.v2.component("live_chart", css=CSS, js=Path(__file__).with_name("live_chart.js").read_text(),
                                    isolate_styles=False)


def live_chart(spec: dict, key: str) -> None:
    """Draw (or redraw in place) the chart ``spec`` under the element key ``key``."""
    _chart(data=spec, key=key)
