"""The figure, the printed table and the report of :mod:`experiments.decompose` (what each lever adds).

Labels come from the glossary (sim/tables/glossary.yaml): the indicators' names, the lever groups (``levers:<group>``
for
the default groups, ``lever:<lever>`` for a group of one lever; a group of one's own is shown by its name) and the
figure's terms (``dec_*``), in English or Chinese.
"""

from __future__ import annotations

import argparse
import io
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from experiments.figures import percent_axis
from experiments.presentation import (
    OKABE_ITO,
    PAPER_DPI,
    FontError,
    axis_unit,
    declutter,
    display_unit,
    figure_width,
    is_fraction,
    kpi_label,
    setup_theme,
    space_cjk_lines,
    term,
    value_scale,
    wrap,
)
from sim.model.indicators import TARGETS_BY_KEY
from sim.runs.outputs import write_atomic
from sim.tables.glossary import COLUMNS, GLOSSARY, label

__all__ = ["DEFAULT_GROUPS", "OTHER", "README_INDICATORS", "FontError", "plot_decomposition", "printed_table",
           "readme_table", "report", "save_figure_atomic", "setup_theme"]

# The default grouping of experiments.decompose (its docstring says why): group → the lever groups of PolicyConfig
# it holds. Here, with the groups' names, so that the command imports its report and not the other way round.
DEFAULT_GROUPS: dict[str, tuple[str, ...]] = {
    "service": ("gov_purchase",),
    "social_work": ("social_work",),
    "projects": ("enterprise", "party_building", "venture"),
    "fund": ("fund", "micro_fund", "charity_sales"),
    "moral_bank": ("moral_bank",),
    "council": ("deliberation",),
    "social_enterprise": ("social_enterprise",),
}
OTHER = "other"  # the group of the bundle's levers that no --group names
COST = "public_cost_run"
TOTAL_COLOUR, INTERACTION_EDGE = "#4d4d4d", "#7a7a7a"


def group_label(group: str, levers: str, lang: str = "en") -> str:
    """A group's display name: the default group's name (when it holds the default levers), the lever's name for a
    group of one lever, the figure's word for ``interaction`` and ``total``, else the group's own name."""
    if group in ("interaction", "total"):
        return term(f"dec_{group}", lang)
    members = tuple(m for m in levers.split(",") if m)
    if (DEFAULT_GROUPS.get(group) == members or group == OTHER) and f"levers:{group}" in GLOSSARY:
        return term(f"levers:{group}", lang)
    if len(members) == 1 and f"lever:{members[0]}" in GLOSSARY:
        return term(f"lever:{members[0]}", lang)
    return group


def _scale(key: str) -> float:
    return 100.0 if is_fraction(key) else 1.0


DIGITS: dict[str, int] = {}  # decimals per indicator, set from the values shown (:func:`set_digits`)


def set_digits(table: pd.DataFrame) -> None:
    """Decimals per indicator, from its largest value: one for percentage points, none from 100 up, one from 10,
    else two; the same for every cell of an indicator."""
    for k, rows in table.groupby("indicator"):
        top = float(np.nanmax(np.abs(rows[["shapley", "main_effect"]].to_numpy(dtype=float)), initial=0.0))
        top *= _scale(k)
        DIGITS[k] = 1 if is_fraction(k) else (0 if top >= 100 else (1 if top >= 10 else 2))


def number(key: str, value: float, sign: bool = True) -> str:
    """A difference as a table cell: percentage points for fractions, else in the indicator's unit."""
    if value is None or not np.isfinite(value):
        return "—"
    v = value * _scale(key)
    digits = DIGITS.get(key, 1 if is_fraction(key) else (0 if abs(v) >= 100 else (1 if abs(v) >= 10 else 2)))
    text = f"{v:{'+' if sign else ''},.{digits}f}"
    return text.replace("-", "−")


def percent(share: float) -> str:
    return f"{share:.0%}".replace("-", "−") if np.isfinite(share) else "—"


def unit_suffix(key: str, lang: str) -> str:
    unit = axis_unit(key, lang, diff=True)
    return f" ({unit})" if unit and lang == "en" else (f"（{unit}）" if unit else "")


# ---------------------------------------------------------------------------------------------
# The figure
# ---------------------------------------------------------------------------------------------

def plot_decomposition(table: pd.DataFrame, lang: str = "en", ncols: int = 2):
    """Per indicator, a panel of horizontal bars: each group's Shapley value with its seed interval (95 % t) as error
    bar and its main effect (alone) as an open circle, then the interaction (hatched) and the total gain (dark);
    with parameter sets, the band over the sets as a grey line under each bar. Returns the figure."""
    setup_theme(lang, paper=True)
    kpis = list(dict.fromkeys(table["indicator"]))
    rows_of = table[table["indicator"] == kpis[0]]
    groups = list(rows_of["group"])
    labels = [wrap(term(f"dec_{g}_tick", lang) if kind != "group" else group_label(g, lv, lang), lang, 24)
              for g, lv, kind in zip(rows_of["group"], rows_of["levers"], rows_of["kind"], strict=True)]
    n_group = sum(rows_of["kind"] == "group")
    colours = [OKABE_ITO[1 + i % (len(OKABE_ITO) - 1)] for i in range(n_group)]
    banded = table["band_low"].notna().any()
    nrows = math.ceil(len(kpis) / ncols)
    panel_h = 0.5 + 0.24 * len(groups)
    fig, axes = plt.subplots(nrows, ncols, figsize=(figure_width("double"), 0.5 + panel_h * nrows), squeeze=False,
                             layout="constrained")
    for n, (ax, k) in enumerate(zip(axes.flat, kpis, strict=False)):
        rows = table[table["indicator"] == k].set_index("group").loc[groups]
        y = np.arange(len(groups))
        for i, g in enumerate(groups):
            r = rows.loc[g]
            kind = r["kind"]
            style = ({"color": colours[i]} if kind == "group" else
                     {"color": "white", "edgecolor": INTERACTION_EDGE, "hatch": "////", "linewidth": 0.6}
                     if kind == "interaction" else {"color": TOTAL_COLOUR})
            ax.barh(i, r["shapley"], height=0.62, zorder=2, **style)
            if np.isfinite(r["shapley_half_width"]):
                ax.errorbar(r["shapley"], i, xerr=r["shapley_half_width"], fmt="none", ecolor="black",
                            elinewidth=0.8, capsize=1.8, capthick=0.8, zorder=4)
            if kind == "group" and np.isfinite(r["main_effect"]):
                ax.plot(r["main_effect"], i, "o", markersize=3.2, markerfacecolor="white", markeredgecolor="black",
                        markeredgewidth=0.7, zorder=5)
            if banded and np.isfinite(r["band_low"]):
                ax.plot([r["band_low"], r["band_high"]], [i + 0.4, i + 0.4], color="#8c8c8c", linewidth=1.1,
                        solid_capstyle="butt", zorder=3)
        ax.axvline(0, color="black", linewidth=0.6, zorder=3)
        ax.axhline(n_group - 0.5, color="#bdbdbd", linewidth=0.5, zorder=1)
        ax.set_ylim(len(groups) - 0.45, -0.55)
        ax.set_yticks(y, labels if n % ncols == 0 else [""] * len(groups))
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="y", visible=False)
        ax.set_title(wrap(kpi_label(k, lang), lang, 56), loc="left", fontsize="medium")  # one line at double width
        percent_axis(ax, k, axis="x", diff=True, lang=lang)
        if not is_fraction(k):  # whole numbers with separators (1,500,000, not 1.5e+06); money in 万元 in Chinese
            scale = value_scale(k, lang)
            ax.xaxis.set_major_formatter(FuncFormatter(
                lambda v, _, s=scale: f"{v / s:,.0f}" if abs(v / s) >= 100 else f"{v / s:g}"))
        unit = display_unit(k, lang, diff=True)
        ax.set_xlabel(unit)
        if not np.any(np.abs(rows[["shapley", "main_effect"]].to_numpy(dtype=float)) > 0):
            ax.text(0.5, 0.5, term("identical", lang), transform=ax.transAxes, ha="center", va="center",
                    color="#4d4d4d", zorder=10, bbox={"facecolor": "white", "edgecolor": "none", "pad": 2})
        lo = float(np.nanmin([0, *(rows["shapley"] - rows["shapley_half_width"].fillna(0)), *rows["main_effect"]]))
        hi = float(np.nanmax([0, *(rows["shapley"] + rows["shapley_half_width"].fillna(0)), *rows["main_effect"]]))
        if banded:
            lo, hi = min(lo, float(np.nanmin(rows["band_low"]))), max(hi, float(np.nanmax(rows["band_high"])))
        pad = 0.06 * (hi - lo) if hi > lo else (0.01 if is_fraction(k) else 1.0)  # nothing differs: ±1 pp or 1
        ax.set_xlim(lo - pad, hi + pad)
    for ax in axes.flat[len(kpis):]:
        ax.set_visible(False)
    handles = [Patch(facecolor=colours[0], label=term("dec_shapley", lang)),
               plt.Line2D([], [], color="black", linewidth=0.8, marker="|", markersize=5,
                          label=term("seed_interval", lang)),
               plt.Line2D([], [], linestyle="none", marker="o", markersize=3.2, markerfacecolor="white",
                          markeredgecolor="black", label=term("dec_alone", lang)),
               Patch(facecolor="white", edgecolor=INTERACTION_EDGE, hatch="////", label=term("dec_interaction", lang)),
               Patch(facecolor=TOTAL_COLOUR, label=term("dec_total", lang))]
    if banded:
        handles.append(plt.Line2D([], [], color="#8c8c8c", linewidth=1.1, label=term("parameter_band", lang)))
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
    declutter(fig)
    return fig


def save_figure_atomic(fig, folder: Path, stem: str) -> list[Path]:
    """Save ``fig`` as PNG (300 dpi) and SVG through :func:`sim.runs.outputs.write_atomic` (no half-written file);
    closes it."""
    space_cjk_lines(fig)
    paths = []
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=PAPER_DPI)
        write_atomic(folder / f"{stem}.{ext}", buf.getvalue())
        paths.append(folder / f"{stem}.{ext}")
    plt.close(fig)
    return paths


# ---------------------------------------------------------------------------------------------
# Tables and words
# ---------------------------------------------------------------------------------------------

def wide(table: pd.DataFrame, lang: str = "en", labels: bool = True) -> pd.DataFrame:
    """Groups × indicators: each Shapley value ± its seed half-width [band], and the cost per year."""
    set_digits(table)
    kpis = list(dict.fromkeys(table["indicator"]))
    first = table[table["indicator"] == kpis[0]]
    out = pd.DataFrame(index=[group_label(g, lv, lang) if labels else g
                              for g, lv in zip(first["group"], first["levers"], strict=True)])
    for k in kpis:
        rows = table[table["indicator"] == k]
        cells = []
        for r in rows.itertuples():
            cell = f"{number(k, r.shapley)} ±{number(k, r.shapley_half_width, sign=False)}"
            if np.isfinite(r.band_low):
                cell += f" [{number(k, r.band_low, sign=False)}, {number(k, r.band_high, sign=False)}]"
            cells.append(cell)
        out[(kpi_label(k, lang) + unit_suffix(k, lang)) if labels else k] = cells
    out[term("dec_cost", lang) if labels else "cost_per_year"] = [
        f"{c:+,.0f}".replace("-", "−") if np.isfinite(c) else "—" for c in first["cost_per_year"]]
    return out


def printed_table(table: pd.DataFrame) -> str:
    """The command line's table: groups × indicators (keys), Shapley ± seed half-width, cost per year."""
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.max_colwidth", 40):
        return wide(table, "en", labels=False).to_string()


# ---------------------------------------------------------------------------------------------
# README's table (python -m experiments.decompose --write-readme)
# ---------------------------------------------------------------------------------------------

# The columns of README's table: the indicators most readers look at (plan numbers #34, #35, #33, #15, #28, #24,
# #5), then the extra public cost per year.
README_INDICATORS = ("completion_rate", "callback_satisfaction", "response_rate", "volunteers_per_10k",
                     "volunteer_active_share_2plus", "social_orgs_serving", "enterprise_participation")
# What README's caption names, saved with decomposition.csv (one value per file)
README_META = ("community", "bundle", "control", "steps", "warmup_weeks", "command")


def _readme_digits(key: str, values) -> int:
    """Decimals of one column: one for percentage points, none from 100 up, one from 10, else two."""
    top = float(np.nanmax(np.abs(np.asarray(values, dtype=float)), initial=0.0)) * _scale(key)
    return 1 if is_fraction(key) else (0 if top >= 100 else (1 if top >= 10 else 2))


def _readme_number(value: float, scale: float, digits: int, sign: bool) -> str:
    if value is None or not np.isfinite(value):
        return "—"
    text = f"{value * scale:{'+' if sign else ''},.{digits}f}"
    if float(text.replace(",", "")) == 0:  # no "−0.0" or "+0.0": a zero has no sign
        text = text.lstrip("+-")
    return text.replace("-", "−")


def _readme_cell(mean: float, half_width: float, low: float, high: float, scale: float, digits: int) -> str:
    """"+24.0 ± 1.2 [9.7, 40.0]": the Shapley value ± its seed half-width, then the parameter band if any."""
    if mean is None or not np.isfinite(mean):
        return "—"
    cell = _readme_number(mean, scale, digits, sign=True)
    if half_width is not None and np.isfinite(half_width):
        cell += f" ± {_readme_number(half_width, scale, digits, sign=False)}"
    if low is not None and np.isfinite(low) and np.isfinite(high):
        lo, hi = (_readme_number(v, scale, digits, sign=False) for v in (low, high))
        cell += f" [{lo}, {hi}]"
    return cell


def readme_column(key: str, lang: str = "en") -> str:
    """A column heading of README's table: the indicator's label, its number in the plan and the unit of a gain
    (pp for rates; the unit is left out where the label already says it)."""
    name = kpi_label(key, lang)
    target = TARGETS_BY_KEY.get(key)
    parts = [f"#{target.number}"] if target is not None and target.number else []
    if is_fraction(key):
        unit = label("pp", lang)
    elif COLUMNS.get(key, ("", "", ""))[2] == "per 10,000 residents":
        unit = label("dec_readme_per_10k", lang)
    else:
        unit = axis_unit(key, lang, diff=True)
    if unit and unit.lower() not in name.lower():
        parts.append(unit)
    if not parts:
        return name
    return f"{name}（{'，'.join(parts)}）" if lang == "zh" else f"{name} ({', '.join(parts)})"


def readme_row_label(group: str, levers: str, kind: str, lang: str = "en") -> str:
    """A row of README's table: the group's glossary label (a group of one's own: its levers' labels), then the
    interaction and the total."""
    if kind != "group":
        return term(f"dec_{kind}", lang)
    name = group_label(group, levers, lang)
    members = [m for m in levers.split(",") if m]
    if name == group and members and all(f"lever:{m}" in GLOSSARY for m in members):
        name = ("、" if lang == "zh" else " + ").join(term(f"lever:{m}", lang) for m in members)
    return name


def _place_label(place: str, lang: str) -> str:
    for group in ("community", "district"):
        if f"{group}={place}" in GLOSSARY:
            return label(f"{group}={place}", lang)
    return place


def readme_table(table: pd.DataFrame, lang: str = "en") -> str:
    """README's table of what each lever adds, in ``lang``: rows = the lever groups, the interaction and the total;
    columns = :data:`README_INDICATORS` and the extra public cost per year; each cell the Shapley value (mean over
    seeds) ± its seed half-width and, with parameter sets, [its band]; then a one-line caption (community, seeds,
    sets, the command that made it). ``table``: decomposition.csv with its README columns (:data:`README_META`)."""
    missing = [c for c in (*README_META, "cost_band_low", "cost_band_high") if c not in table]
    if missing:
        raise ValueError(f"no column {', '.join(missing)}: written before README tables existed; run the command "
                         "again (it resumes: only the tables are computed again)")
    absent = [k for k in README_INDICATORS if not (table["indicator"] == k).any()]
    if absent:
        raise ValueError(f"no rows of {', '.join(absent)}")
    table = table.assign(levers=table["levers"].fillna("").astype(str))
    first = table[table["indicator"] == README_INDICATORS[0]]
    groups = list(first["group"])
    head = [term("dec_group", lang), *(readme_column(k, lang) for k in README_INDICATORS),
            label("dec_readme_cost", lang)]
    columns = []
    for k in README_INDICATORS:
        rows = table[table["indicator"] == k].set_index("group").reindex(groups)
        digits = _readme_digits(k, rows["shapley"])
        columns.append([_readme_cell(r.shapley, r.shapley_half_width, r.band_low, r.band_high, _scale(k), digits)
                        for r in rows.itertuples()])
    columns.append([_readme_cell(r.cost_per_year, r.cost_half_width, r.cost_band_low, r.cost_band_high, 1.0, 0)
                    for r in first.itertuples()])
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for i, r in enumerate(first.itertuples()):
        name = readme_row_label(r.group, r.levers, r.kind, lang)
        lines.append("| " + " | ".join([name, *(col[i] for col in columns)]) + " |")
    meta = first.iloc[0]
    banded = table["band_low"].notna().any()
    sets = int(table["sets"].max()) if banded else 0
    if lang == "zh":
        names = {"bundle": label(f"policy={meta['bundle']}", lang) if f"policy={meta['bundle']}" in GLOSSARY
                 else meta["bundle"],
                 "control": label(f"policy={meta['control']}", lang) if f"policy={meta['control']}" in GLOSSARY
                 else meta["control"],
                 "place": _place_label(str(meta["community"]), lang)}
    else:
        names = {"bundle": f"`{meta['bundle']}`", "control": f"`{meta['control']}`", "place": f"`{meta['community']}`"}
    caption = label("dec_readme_caption", lang, **names, seeds=int(table["seeds"].max()),
                    band=label("dec_readme_band", lang, sets=sets) if banded else label("dec_readme_no_sets", lang),
                    steps=int(meta["steps"]), warmup=int(meta["warmup_weeks"]), command=str(meta["command"]))
    return "\n".join([*lines, "", caption])


def _markdown(df: pd.DataFrame, first: str) -> list[str]:
    head = "| " + " | ".join([first, *df.columns]) + " |"
    rule = "|---|" + "---:|" * len(df.columns)
    return [head, rule, *("| " + " | ".join([str(i), *map(str, r)]) + " |" for i, r in zip(df.index, df.values,
                                                                                         strict=True))]


WORDS = {
    "en": {"none": "{kpi}: no gain beyond seed noise ({total} ±{hw}).",
           "head": "{kpi}: {total} in all (±{hw})",
           "carrier": "{name} ({value}, {share})",
           "carries": "{first} carries {most} of it",
           "then": ", then ", "most": "most", "the largest part": "the largest part",
           "unclear": "no group's part is clear of seed noise",
           "lowers": "{names} lower{s} it",
           "noise": "the other groups' parts are within seed noise",
           "alone": "alone, {name} would add {value}",
           "synergy": "the interaction is {value}: the levers reinforce each other",
           "overlap": "the interaction is {value}: the levers overlap (together less than the sum alone)",
           "additive": "the interaction ({value}) is within seed noise: about additive",
           "cost_more": "the interaction is {value}: together they cost more than the sum alone",
           "cost_less": "the interaction is {value}: together they cost less than the sum alone",
           "cost": "Extra public cost: {total} yuan a year, of which {parts}.",
           "costpart": "{name} {value}", "join": ", ", "clause": "; ", "end": "."},
    "zh": {"none": "{kpi}：总增益（{total}，±{hw}）未超出随机种子噪声。",
           "head": "{kpi}：总增益 {total}（±{hw}）",
           "carrier": "{name}（{value}，占{share}）",
           "carries": "{most}来自{first}",
           "then": "，其次是", "most": "主要", "the largest part": "最大部分",
           "unclear": "没有哪个杠杆组的贡献超出随机种子噪声",
           "lowers": "{names}使其降低",
           "noise": "其他杠杆组的贡献在随机种子噪声之内",
           "alone": "{name}单独实施时增益为 {value}",
           "synergy": "交互作用为 {value}：各杠杆相互加强",
           "overlap": "交互作用为 {value}：各杠杆作用重叠（合起来小于单独之和）",
           "additive": "交互作用（{value}）在随机种子噪声之内：大体可加",
           "cost_more": "交互作用为 {value}：合起来的成本高于各自单独之和",
           "cost_less": "交互作用为 {value}：合起来的成本低于各自单独之和",
           "cost": "额外公共财政成本：每年 {total} 元，其中{parts}。",
           "costpart": "{name} {value} 元", "join": "，", "clause": "；", "end": "。"},
}


def sentence(rows: pd.DataFrame, k: str, lang: str) -> str:
    """Which group carries which gain, for one indicator (rows: its rows of decomposition.csv): the groups whose
    Shapley value is clear of seed noise (its 95 % interval excludes 0) and hold ≥ 10 % of the gain, largest first
    (at most three), those that lower it, the largest one's main effect and the interaction."""
    w = WORDS[lang]
    total = rows[rows["kind"] == "total"].iloc[0]
    inter = rows[rows["kind"] == "interaction"].iloc[0]
    groups = rows[rows["kind"] == "group"]
    name = f"**{kpi_label(k, lang)}**"
    unit = " pp" if is_fraction(k) and lang == "en" else (" 个百分点" if is_fraction(k) else "")
    hw = total["shapley_half_width"]
    if not np.isfinite(total["shapley"]) or abs(total["shapley"]) <= (hw if np.isfinite(hw) else 0):
        return w["none"].format(kpi=name, total=number(k, total["shapley"]) + unit, hw=number(k, hw, sign=False))
    sign = np.sign(total["shapley"])
    half = groups["shapley_half_width"].fillna(0)
    sure = groups[(groups["shapley"].abs() > half)]  # the seed interval excludes 0
    ahead = sure[sure["shapley"] * sign > 0].sort_values("shapley", key=lambda v: -v * sign)
    against = sure[(sure["shapley"] * sign < 0) & (sure["share_of_gain"].abs() >= 0.05)]  # ≥ 5 % of the gain
    shown = ahead[ahead["share_of_gain"].abs() >= 0.1].head(3)
    if shown.empty:
        shown = ahead.head(1)
    parts = [w["carrier"].format(name=group_label(r.group, r.levers, lang), value=number(k, r.shapley) + unit,
                                 share=percent(r.share_of_gain)) for r in shown.itertuples()]
    clauses = [w["head"].format(kpi=name, total=number(k, total["shapley"]) + unit, hw=number(k, hw, sign=False))]
    if parts:
        major = shown.iloc[0]["share_of_gain"] >= 0.5
        clauses.append(w["carries"].format(first=parts[0], most=w["most" if major else "the largest part"])
                       + (w["then"] + w["join"].join(parts[1:]) if len(parts) > 1 else ""))
    else:
        clauses.append(w["unclear"])
    if len(against):
        names = w["join"].join(w["carrier"].format(name=group_label(r.group, r.levers, lang),
                                                   value=number(k, r.shapley) + unit, share=percent(r.share_of_gain))
                               for r in against.itertuples())
        clauses.append(w["lowers"].format(names=names, s="s" if len(against) == 1 else ""))
    if parts and len(sure) < len(groups):
        clauses.append(w["noise"])
    if len(ahead):
        top = ahead.iloc[0]
        clauses.append(w["alone"].format(name=group_label(top.group, top.levers, lang),
                                         value=number(k, top.main_effect) + unit))
    ihw = inter["shapley_half_width"] if np.isfinite(inter["shapley_half_width"]) else 0.0
    kind = "additive" if abs(inter["shapley"]) <= ihw else ("synergy" if inter["shapley"] * sign > 0 else "overlap")
    if k == COST and kind != "additive":  # a cost: together dearer or cheaper than the parts
        kind = "cost_more" if inter["shapley"] > 0 else "cost_less"
    clauses.append(w[kind].format(value=number(k, inter["shapley"]) + unit))
    return w["clause"].join(clauses) + w["end"]


def cost_sentence(table: pd.DataFrame, lang: str) -> str:
    w = WORDS[lang]
    first = table[table["indicator"] == table["indicator"].iloc[0]]
    total = first[first["kind"] == "total"].iloc[0]["cost_per_year"]
    groups = first[(first["kind"] == "group") & (first["cost_per_year"].abs() >= max(100.0, 0.01 * abs(total)))]
    groups = groups.sort_values("cost_per_year", ascending=False)
    parts = [w["costpart"].format(name=group_label(r.group, r.levers, lang), value=f"{r.cost_per_year:,.0f}")
             for r in groups.itertuples()]
    return w["cost"].format(total=f"{total:,.0f}", parts=w["join"].join(parts) if parts else "—")


HEADS = {
    "en": ("What each lever adds: {bundle} over {control}",
           "The gain of `{bundle}` over `{control}` in `{place}`, split among {k} groups of levers by Shapley values "
           "(each group's marginal gain averaged over every order of adding the groups; they sum to the total gain "
           "exactly, seed by seed). {scenarios} subsets × {seeds} seeds{sets} = {runs} runs, the same seeds for "
           "every subset (common random numbers). ± is the 95 % t half-width over seeds{band}. Fractions in "
           "percentage points; indicators at week {weeks}; public cost over the run. Full precision: "
           "`decomposition.csv`; per seed: `per_seed.csv`; how to read it: docs/decomposition.md.",
           "Groups", "Which group carries which gain", "Shapley values", "Figure",
           "Each panel: one indicator; bars: each group's Shapley value (mean over seeds) with its seed interval; "
           "open circle: the group alone (main effect); hatched: the interaction (total gain − sum of the main "
           "effects); dark: all levers together (the total gain, = the sum of the bars above it){bandcap}.",
           "All values", "Group", "Shapley", "share", "alone", "loss without it"),
    "zh": ("各杠杆的贡献：{bundle} 相对 {control}",
           "`{place}` 中 `{bundle}` 相对 `{control}` 的增益，按沙普利值（Shapley value）分解到 {k} 个杠杆组"
           "（各组按所有加入顺序的边际增益平均；各随机种子上，各组之和恰等于总增益）。"
           "{scenarios} 个子集 × {seeds} 个随机种子{sets} = {runs} 次运行，各子集使用相同的随机种子（共同随机数）。"
           "± 为各随机种子的95% t半宽{band}。比例以百分点表示；指标取第 {weeks} 周；公共财政成本为全程累计。"
           "完整精度见 `decomposition.csv`，逐种子数值见 `per_seed.csv`，解读方法见 docs/decomposition.md。",
           "杠杆组", "哪个杠杆组带来了哪项增益", "沙普利值", "图",
           "每个面板为一项指标；条形：各杠杆组的沙普利值（各随机种子均值）及随机种子区间；空心圆：该组单独实施（主效应）；"
           "斜线条：交互作用（总增益 − 各组主效应之和）；深色条：全部杠杆（总增益，等于上方各条之和）{bandcap}。",
           "全部数值", "杠杆组", "沙普利值", "占比", "单独实施", "去掉后的损失"),
}


def report(table: pd.DataFrame, design, args: argparse.Namespace, n_runs: int) -> str:
    """report.md in ``args.lang``: what was run, the groups, the words, the Shapley table, the figure, all values."""
    lang = args.lang
    set_digits(table)
    (title, intro, h_groups, h_words, h_table, h_fig, caption, h_all, c_group, c_shap, c_share, c_alone,
     c_drop) = HEADS[lang]
    sets = "" if design.sets is None else (f" × {len(design.sets)} parameter sets" if lang == "en"
                                           else f" × {len(design.sets)} 组参数")
    band = "" if design.sets is None else ("; [band] = 2.5–97.5 % of the parameter sets' means" if lang == "en"
                                           else "；[区间] 为各参数组均值的2.5–97.5%")
    bandcap = "" if design.sets is None else ("; grey line: the band over the parameter sets (2.5–97.5 %)"
                                              if lang == "en" else "；灰线：各参数组的2.5–97.5%区间")
    place = design.control.community.name if design.control.district is None else design.control.district.name
    fmt = {"bundle": args.bundle, "control": args.control, "place": place, "k": design.k,
           "scenarios": 1 << design.k, "seeds": args.seeds, "sets": sets, "runs": f"{n_runs:,}", "band": band,
           "weeks": design.control.steps}
    lines = [f"# {title.format(**fmt)}", "", intro.format(**fmt), "", f"## {h_groups}", ""]
    for g, levers in design.groups.items():
        names = ("、" if lang == "zh" else ", ").join(term(f"lever:{lv}", lang) + f" (`{lv}`)" for lv in levers)
        lines.append(f"* **{group_label(g, ','.join(levers), lang)}** (`{g}`): {names}")
    lines += ["", f"## {h_words}", ""]
    for k in dict.fromkeys(table["indicator"]):
        lines.append(f"* {sentence(table[table['indicator'] == k], k, lang)}")
    lines += [f"* {cost_sentence(table, lang)}", "", f"## {h_table}", "",
              *_markdown(wide(table, lang), c_group), "", f"## {h_fig}", "", "![](decomposition.png)", "",
              caption.format(bandcap=bandcap), "", f"## {h_all}", ""]
    rows = [f"| {term('indicator', lang)} | {c_group} | {c_shap} | ± | {c_share} | {c_alone} | {c_drop} |",
            "|---|---|---:|---:|---:|---:|---:|"]
    for r in table.itertuples():
        share = percent(r.share_of_gain) if r.kind == "group" else ""
        rows.append(f"| {kpi_label(r.indicator, lang)}{unit_suffix(r.indicator, lang)} | "
                    f"{group_label(r.group, r.levers, lang)} | {number(r.indicator, r.shapley)} | "
                    f"{number(r.indicator, r.shapley_half_width, sign=False)} | {share} | "
                    f"{number(r.indicator, r.main_effect)} | {number(r.indicator, r.drop)} |")
    return "\n".join([*lines, *rows, ""])
