"""The community on screen: a map of its grids (网格) and a list of its organisations and resident units.

Drawn from :class:`sim.model.grids.CommunityWeek`, what the model holds at the page's week: each tile is one
grid of households, with this week's demands raised, answered and left unmet, the residents who
volunteered, the self-organisations based there and the projects serving its residents; the colour is
the share of this week's demands left unmet (grey when none were raised: no demand, no verdict).
Grids are numbered as the model numbers households; the tiles are laid out in rows, not to a street
plan the model does not have.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from dashboard.figures import FONT_STACK, LARGE_FONT, _figure, _layout
from sim.model.grids import GRID_COLUMNS, CommunityWeek
from sim.tables.glossary import label

NO_DEMAND_COLOR = "#E6E6E6"  # tiles of grids without demands this week
UNMET_SCALE = [[0.0, "#F7FBF7"], [0.25, "#FDD49E"], [0.5, "#FC8D59"], [1.0, "#B30000"]]  # 0 → 100 % unmet


def tile_shape(n_grids: int) -> tuple[int, int]:
    """(rows, columns) of the map: a block of tiles at least as wide as tall (few enough columns for the tiles'
    text at half the page's width), no empty row."""
    cols = max(1, min(n_grids, math.ceil(math.sqrt(n_grids * 1.4))))
    return math.ceil(n_grids / cols), cols


def unmet_share(grids: dict[str, np.ndarray]) -> np.ndarray:
    """Unmet ÷ raised this week, per grid; NaN where no demand was raised (no demand, no verdict)."""
    raised = grids["demands_raised"].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(raised > 0, grids["demands_unmet"] / raised, np.nan)


def _tile_text(grids: dict[str, np.ndarray], g: int, lang: str, large: bool) -> str:
    """What a tile shows, short enough for a tile of a half-width map at 1366 px: the grid, its unmet demands of
    those raised this week and (except in projector type) its residents volunteering; the hover has every count."""
    head = label("map_grid", lang, n=int(grids["grid"][g]))
    unmet = label("map_tile_unmet", lang, unmet=grids["demands_unmet"][g], raised=grids["demands_raised"][g])
    if large:
        return f"<b>{head}</b><br>{unmet}"
    people = label("map_tile_volunteering", lang, volunteering=grids["volunteering"][g])
    return f"<b>{head}</b><br>{unmet}<br>{people}"


def _hover_text(grids: dict[str, np.ndarray], g: int, lang: str) -> str:
    lines = [f"<b>{label('map_grid', lang, n=int(grids['grid'][g]))}</b>"]
    lines += [f"{label('grid_' + c, lang)}: {int(grids[c][g]):,}" for c in GRID_COLUMNS if c != "grid"]
    return "<br>".join(lines)


def map_figure(community: CommunityWeek, title: str, lang: str = "en", large: bool = False) -> Any:
    """The grids of one side as coloured tiles (plotly heatmap), each labelled with its counts."""
    grids = community.grids
    n = grids["grid"].size
    rows, cols = tile_shape(n)
    z = np.full((rows, cols), np.nan)
    text = np.full((rows, cols), "", dtype=object)
    hover = np.full((rows, cols), "", dtype=object)
    share = unmet_share(grids)
    for g in range(n):
        r, c = divmod(g, cols)
        z[r, c] = share[g]
        text[r, c] = _tile_text(grids, g, lang, large)
        hover[r, c] = _hover_text(grids, g, lang)
    font = LARGE_FONT if large else 12
    data = [{
        "type": "heatmap", "z": z.tolist(), "text": text.tolist(), "texttemplate": "%{text}",
        "textfont": {"size": font, "family": FONT_STACK}, "hovertext": hover.tolist(), "hoverinfo": "text",
        "zmin": 0, "zmax": 1, "colorscale": UNMET_SCALE, "xgap": 4, "ygap": 4,
        "colorbar": {"title": {"text": label("map_unmet_share", lang)}, "tickformat": ".0%", "thickness": 12},
    }]
    layout = _layout(f"{title} · {label('map_week', lang, week=community.week)}",
                     height=max(260, (150 if large else 110) * rows + 80),
                     plot_bgcolor=NO_DEMAND_COLOR)
    layout["xaxis"] = {"visible": False, "range": [-0.5, cols - 0.5]}
    layout["yaxis"] = {"visible": False, "autorange": "reversed", "range": [-0.5, rows - 0.5]}
    if large:
        layout["font"]["size"], layout["title"]["font"]["size"] = LARGE_FONT, LARGE_FONT + 4
    return _figure(data, layout)


def _yes_no(value: bool, lang: str) -> str:
    return label("yes" if value else "no", lang)


def organisation_table(community: CommunityWeek, lang: str = "en") -> pd.DataFrame:
    """The organisations, their projects and the units that claimed them, columns in ``lang``."""
    df = community.organisation_table()
    df["kind"] = [label(f"org_{k}", lang) for k in df["kind"]]
    df["grid"] = [label("whole_community", lang) if g == 0 else label("map_grid", lang, n=g) for g in df["grid"]]
    df["contract"] = [_yes_no(v, lang) for v in df["contract"]]
    return df.rename(columns={c: label(f"col_{c}", lang) for c in df.columns})


def unit_table(community: CommunityWeek, lang: str = "en") -> pd.DataFrame:
    """The resident units, what they do and the projects they claimed, columns in ``lang``."""
    df = community.unit_table()
    roles = []
    for row in df.itertuples():
        parts = [label(k, lang) for k, v in (("role_seller", row.sells_product), ("role_per_unit", row.per_unit_donor),
                                            ("role_lump", row.lump_donor)) if v]
        roles.append("; ".join(parts) or label("role_none", lang))
    out = pd.DataFrame({"unit": df["unit"], "role": roles, "takes_part": [_yes_no(v, lang) for v in df["takes_part"]],
                        "units_sold": df["units_sold"], "projects_claimed": df["projects_claimed"],
                        "project_organisations": df["project_organisations"]})
    return out.rename(columns={c: label(f"col_{c}", lang) for c in out.columns})
