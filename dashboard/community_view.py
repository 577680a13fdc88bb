"""The community at work on screen: one side's grids at the page's week, drawn by the browser and redrawn in place
each week (dashboard/community_view.js), so that Play shows the community acting.

Everything drawn is the model's own weekly state (sim.model.grids.CommunityWeek and the week's row of the weekly
table): per grid the demands its residents raised this week (answered, waiting, left unmet), the residents who
volunteered, the running projects and the share of its residents they serve; for the side, who answered the week's
demands (community staff, volunteers, organisations, departments: dashboard.figures.HANDLERS) and the money into and
out of the community fund this week.  Nothing is drawn for show.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.community_map import tile_shape
from dashboard.figures import FONT_STACK, HANDLER_COLORS, HANDLERS, LARGE_FONT
from dashboard.indicators import shown_value
from sim.model.grids import CommunityWeek
from sim.tables.glossary import label

MAX_DOTS = 60  # dots a tile shows at most: above, one dot stands for several demands (the legend says how many)
DOT_COLORS = {"answered": "#1B7F3B", "waiting": "#E69F00", "unmet": "#C0392B"}
CSS = """
.community-view { font-family: inherit; color: #222; }
.community-view .title { font-weight: 600; margin: 0 0 .2rem 0; }
.community-view .legend, .community-view .handlers, .community-view .fund { display: flex; flex-wrap: wrap;
  gap: .2rem 1rem; align-items: center; margin: .3rem 0; }
.community-view .item { display: inline-flex; align-items: center; gap: .35rem; }
.community-view .swatch { width: .9em; height: .9em; display: inline-block; border-radius: 2px; }
.community-view .swatch.round { border-radius: 50%; }
.community-view .head { color: #555; }
.community-view .fund .in { color: #1B7F3B; font-weight: 600; }
.community-view .fund .out { color: #C0392B; font-weight: 600; }
.community-view svg.tiles { display: block; overflow: visible; }
.community-view g.dots { animation: cv-in .35s ease-out both; }
.community-view.compact .title { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.community-view.compact .handlers { display: grid; grid-template-columns: auto auto; justify-content: start;
  gap: .1rem 1rem; }
.community-view.compact .handlers .head { grid-column: 1 / -1; }
@keyframes cv-in { from { opacity: 0; } to { opacity: 1; } }
"""

_view = st.components.v2.component("community_view", css=CSS,
                                   js=Path(__file__).with_name("community_view.js").read_text(), isolate_styles=False)


def view_spec(community: CommunityWeek, week_row: pd.Series | None, title: str, lang: str,
              large: bool = False) -> dict:
    """The drawing's data: the grids' counts at ``community``'s week and, from ``week_row`` (the weekly table's row of
    that week; None before the first week), who answered and the fund's money in and out.  ``large``: presentation
    mode's first screen, in projector type and compact (tiles without their counts, which go to one line under the
    tiles: residents volunteering this week and the week's projects running, the weekly table's column)."""
    g = community.grids
    n = int(g["grid"].size)
    rows = [{"grid": int(g["grid"][i]), "residents": int(g["residents"][i]), "raised": int(g["demands_raised"][i]),
             "answered": int(g["demands_answered"][i]), "waiting": int(g["demands_waiting"][i]),
             "unmet": int(g["demands_unmet"][i]), "volunteering": int(g["volunteering"][i]),
             "projects": int(g["projects"][i]), "project_residents": int(g["project_residents"][i])} for i in range(n)]
    most = max([r["answered"] + r["waiting"] + r["unmet"] for r in rows] + [1])
    per = max(1, math.ceil(most / MAX_DOTS))
    for r in rows:
        r["label"] = label("map_grid", lang, n=r["grid"])
        r["volunteers"] = label("cv_tile_volunteering", lang, n=r["volunteering"])
        r["projects_text"] = label("cv_tile_projects", lang, n=r["projects"])
    value = (lambda col: 0.0) if week_row is None else (lambda col: float(week_row.get(col, 0.0) or 0.0))
    handlers = [{"label": label(term, lang), "value": f"{value(col):,.0f}", "color": color}
                for (term, col), color in zip(HANDLERS.items(), HANDLER_COLORS, strict=True)]
    scale = label("cv_dot_scale_one", lang) if per == 1 else label("cv_dot_scale", lang, n=per)
    legend = [{"label": label(f"cv_dot_{kind}", lang, scale=scale), "color": color}
              for kind, color in DOT_COLORS.items()]
    legend.append({"label": label("cv_glow", lang), "color": "#F6C343"})
    font = LARGE_FONT if large else 13
    return {"title": f"{title} · {label('map_week', lang, week=community.week)}", "grids": rows,
            "cols": tile_shape(n)[1], "per_dot": per, "legend": legend,
            "handlers_title": label("cv_handlers", lang), "handlers": handlers,
            "fund_title": label("cv_fund", lang),
            "fund_in": shown_value("fund_inflow_total", value("fund_inflow_total"), lang),
            "fund_out": shown_value("fund_outflow_total", value("fund_outflow_total"), lang),
            "font": FONT_STACK, "font_size": font, "compact": large,
            "totals": label("cv_totals", lang, volunteering=int(g["volunteering"].sum()),
                            projects=int(value("projects_running")))}


def community_view(spec: dict, key: str) -> None:
    """Draw (or redraw in place) the community view ``spec`` under the element key ``key``."""
    _view(data=spec, key=key)
