"""The sensitivity analysis's figures (indices, convergence) and its report blocks (experiments.sensitivity).

Nothing here runs the model: :mod:`experiments.sensitivity` computes the indices and calls these.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.presentation import (
    declutter,
    is_fraction,
    kpi_label,
    page_size,
    param_name,
    save_figure,
    setup_theme,
    term,
    thousands,
    wrap,
)
from experiments.report import Block, Figure, Heading, Paragraph, Table
from sim.tables.glossary import preset_label


def plot_indices(indices: pd.DataFrame, method: str, path: Path, contrast: str | None = None,
                 lang: str = "en") -> None:
    """Each indicator's indices (Morris mu* and sigma, or Sobol S1 and ST) with their intervals, a panel per
    indicator titled by its name in ``lang``, parameters by their glossary names."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    setup_theme(lang)
    inds = list(dict.fromkeys(indices["indicator"]))
    ncol = 3
    nrow = math.ceil(len(inds) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=page_size(6.0 * ncol, 0.32 * indices["parameter"].nunique() * nrow
                                                           + 2), squeeze=False)
    for ax, ind in zip(axes.flat, inds, strict=False):
        d = indices[indices["indicator"] == ind]
        if method == "morris":
            d = d.sort_values("mu_star", ascending=False)
            sns.barplot(data=d, y="parameter", x="mu_star", ax=ax, color="#4c72b0", orient="h")
            ax.errorbar(d["mu_star"], np.arange(len(d)), xerr=d["mu_star_conf"], fmt="none", ecolor="black", lw=1)
            ax.plot(d["sigma"], np.arange(len(d)), "o", color="#dd8452", ms=4, label="sigma")
            ax.set_xlabel(term("sens_morris_axis", lang) + effect_axis(ax.xaxis, ind, lang))
        else:
            d = d.sort_values("ST", ascending=False)
            long = d.melt(id_vars="parameter", value_vars=["S1", "ST"], var_name="index")
            long["index"] = long["index"].map({"S1": term("sens_s1", lang), "ST": term("sens_st", lang)})
            sns.barplot(data=long, y="parameter", x="value", hue="index", ax=ax, orient="h",
                        palette={term("sens_s1", lang): "#4c72b0", term("sens_st", lang): "#dd8452"})
            offset = {"S1": -0.2, "ST": 0.2}
            for name in ("S1", "ST"):
                ax.errorbar(d[name], np.arange(len(d)) + offset[name], xerr=d[f"{name}_conf"], fmt="none",
                            ecolor="black", lw=1)
            ax.set_xlabel(term("sens_sobol_axis", lang))
            ax.legend(loc="lower right", fontsize=8, title=None)
        ax.set_title(kpi_label(ind, lang))
        ax.set_ylabel("")
        ax.set_yticks(range(len(d)), [param_name(k, lang) for k in d["parameter"]], fontsize=8)
        if not d[["mu_star"] if method == "morris" else ["S1", "ST"]].abs().to_numpy().any():
            # e.g. the response rate when every order is signed in time: an empty panel would look like a bug
            flat_note(ax, lang, boxed=True)
    for ax in list(axes.flat)[len(inds):]:
        ax.set_visible(False)
    title = term("sens_indices_title", lang, method=method.capitalize())
    if contrast:
        title += term("sens_of_contrast", lang, contrast=contrast_text(contrast, lang))
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.98))  # the title above the panels' own
    declutter(fig)
    save_figure(fig, path.parent, path.name)


def flat_note(ax, lang: str, boxed: bool = False) -> None:
    """Say in a panel that its gain does not vary with any input (every index 0), in ``lang``; ``boxed`` on white
    where bars or grid lines run behind it."""
    ax.text(0.5, 0.5, wrap(term("sens_flat", lang), lang, 36), transform=ax.transAxes, ha="center", va="center",
            color="0.3", **({"bbox": {"facecolor": "white", "edgecolor": "none", "pad": 2}} if boxed else {}))


def effect_axis(axis, indicator: str, lang: str) -> str:
    """Morris effects are in the indicator's own units: a rate's in percentage points (ticks ×100), others with
    thousands separators (200,000, not 200000 or 2e+05); returns what the axis label adds (" (pp)" or "")."""
    from matplotlib.ticker import FuncFormatter

    if is_fraction(indicator):
        axis.set_major_formatter(FuncFormatter(lambda v, _: thousands(100 * v)))
        return f" ({term('pp', lang)})"
    axis.set_major_formatter(FuncFormatter(thousands))
    return ""


def contrast_text(contrast: str, lang: str = "en") -> str:
    """'five_society − baseline' with the policies by their names in ``lang``."""
    return " − ".join(preset_label("policy", p.strip(), lang) for p in contrast.split("−"))


def plot_convergence(conv: pd.DataFrame, method: str, path: Path, top: int = 5, lang: str = "en") -> None:
    """Index vs sample size for each indicator's ``top`` parameters (by the full-sample index)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    col = "mu_star" if method == "morris" else "ST"
    setup_theme(lang)
    inds = list(dict.fromkeys(conv["indicator"]))
    ncol = 3
    nrow = math.ceil(len(inds) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=page_size(5.5 * ncol, 3.6 * nrow + 0.8), squeeze=False)
    last = conv["size"].max()
    tops = {ind: list(conv[(conv["indicator"] == ind) & (conv["size"] == last)].nlargest(top, col)["parameter"])
            for ind in inds}
    flat = {ind for ind in inds if not conv.loc[conv["indicator"] == ind, col].abs().to_numpy().any()}
    # one colour (and dash) per parameter across all panels, one legend for the figure: a parameter is the same
    # line everywhere, and no legend sits on the data
    shown = list(dict.fromkeys(p for ind in inds if ind not in flat for p in tops[ind]))
    names = {p: wrap(param_name(p, lang), lang, 40) for p in shown}
    colours = dict(zip(shown, sns.color_palette("colorblind", len(shown)), strict=True))
    dashes = {p: (None if i < 10 else (4, 2)) for i, p in enumerate(shown)}  # the palette repeats after ten
    for ax, ind in zip(axes.flat, inds, strict=False):
        ax.set_title(kpi_label(ind, lang))
        ax.set_xlabel(term("sens_trajectories" if method == "morris" else "sens_base_samples", lang))
        ax.set_ylabel("μ*" + effect_axis(ax.yaxis, ind, lang) if method == "morris" else "ST")
        if ind in flat:  # every index 0 at every size: say so rather than draw five lines on top of each other
            flat_note(ax, lang)
            ax.set_yticks([])
            continue
        d = conv[(conv["indicator"] == ind)]
        for param in tops[ind]:
            line = d[d["parameter"] == param].sort_values("size")
            ax.plot(line["size"], line[col], marker="o", ms=3.5, color=colours[param], label=names[param],
                    **({"dashes": dashes[param]} if dashes[param] else {}))
    for ax in list(axes.flat)[len(inds):]:
        ax.set_visible(False)
    handles = [plt.Line2D([], [], color=colours[p], marker="o", ms=3.5, label=names[p],
                          **({"dashes": dashes[p]} if dashes[p] else {})) for p in shown]
    fig.legend(handles=handles, loc="lower center", ncols=min(4, max(1, len(handles))), fontsize=8, frameon=False)
    fig.suptitle(term("sens_convergence_title", lang, index="μ*" if method == "morris" else "ST", top=top))
    rows = math.ceil(len(handles) / 4)
    fig.tight_layout(rect=(0, min(0.3, (0.25 + 0.22 * rows) / fig.get_figheight()), 1, 0.96))
    declutter(fig)
    save_figure(fig, path.parent, path.name)


def indices_blocks(indices: pd.DataFrame, method: str) -> list[Block]:
    """Every index with its interval, one table per indicator (parameters by decreasing mu* or ST)."""
    col = "mu_star" if method == "morris" else "ST"
    blocks: list[Block] = []
    for ind, d in indices.groupby("indicator", sort=False):
        blocks += [Heading(str(ind), 3), Table(d.sort_values(col, ascending=False).drop(columns="indicator"))]
    return blocks


def priors_blocks(rows: list[dict] | None) -> list[Block]:
    if not rows:
        return []
    return [Heading("What is varied: the priors"),
            Paragraph("Each input is drawn from its prior (experiments/priors.py); Morris's grid takes each "
                      "distribution's quantiles, Sobol's sample is transformed to it."),
            Table(pd.DataFrame(rows))]


def report_blocks(summary: dict, indices: pd.DataFrame, rank: pd.DataFrame) -> list[Block]:
    """The whole analysis as one report: set-up, ranking, figures, every index."""
    method, col = summary["method"], "mu_star" if summary["method"] == "morris" else "ST"
    contrast = summary.get("contrast")
    of = (f"{summary['community']} × {summary['policy']}; indicators averaged over the seeds of each point" if not
          contrast else f"{summary['community']}; the contrast {contrast} of each indicator at each point, both "
          "policies run with the same seeds (common random numbers) and averaged over them")
    return [
        Heading(f"{method.capitalize()} sensitivity analysis" + (f" of {contrast}" if contrast else ""), 1),
        Paragraph(f"{summary['points']} parameter points × {summary['seeds']} seeds = {summary['runs']} runs "
                  f"({summary['runs_formula']}), {summary['steps']} weeks, {of}. Command: `{summary['command']}`."),
        *priors_blocks(summary.get("priors")),
        Heading("Ranking"),
        Paragraph(f"Parameters by their {col} averaged over the indicators, each indicator's {col} scaled to its "
                  "largest (1 = the most influential parameter of that indicator)."),
        Table(rank, floatfmt=".2f"),
        Heading("Figures"),
        Figure("indices.png", f"{method.capitalize()} indices of each indicator, with bootstrap 95 % intervals."),
        Figure("convergence.png", f"{col} of each indicator's five most influential parameters as the sample grows."),
        Heading("Indices"),
        *indices_blocks(indices, method),
    ]


def presets_table(results: dict[str, dict]) -> pd.DataFrame:
    """Across communities: each indicator's most influential parameter (Sobol ST, or Morris mu*) per community."""
    rows = []
    for community, summary in results.items():
        folder = Path(summary["out"]) / ("sobol" if summary["method"] == "screen" else "")
        indices = pd.read_csv(folder / "indices.csv")
        col = "mu_star" if "mu_star" in indices else "ST"
        for ind, d in indices.groupby("indicator", sort=False):
            top = d.nlargest(2, col)
            moves = top[col].iloc[0] > 0
            rows.append({"community": community, "indicator": ind,
                         "first": top["parameter"].iloc[0] if moves else "— (does not vary)", col: top[col].iloc[0],
                         "second": top["parameter"].iloc[-1] if moves else ""})
    return pd.DataFrame(rows)
