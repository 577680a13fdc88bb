"""How many seeds a scenario needs: a variance study of the main indicators (docs/replications.md).

``python -m experiments.replications [--seeds N] [--steps W] [--communities a,b] [--policies a,b]
[--detect 0.2] [--out DIR]``

Every community preset × policy runs with seeds 0…N-1 through the sweep machinery (parallel,
resumable).  For each indicator the study computes, for n = 2…N seeds (the first n):

* the 95 % t-interval half-width of a scenario's mean, and
* the half-width of the mean *paired* difference policy − baseline (same seed: common random
  numbers), the quantity a policy comparison estimates.

The rule is the project's one rule (experiments/stats.py, also used by experiments.compare): a
comparison has enough seeds when the 95 % CI half-width of its mean paired difference is at most
50 % of the difference to resolve.  For planning, the difference to resolve is ``detect`` (20 %)
of the *typical between-policy difference* δ — the standard deviation of the seven policies'
means for that community and indicator (:func:`policy_spread`) — so the half-width must be at
most 10 % of δ.  Per community × indicator the requirement of a typical comparison is the median
over the policies; a community's recommended seeds are the largest of these over its indicators,
rounded up to a multiple of 5, at least 10.  Indicators the policies do not move (δ < 1 % of the
level: *flat*) are left out, and requirements above ``--cap`` (50) are reported as needing more
rather than raising the default.

Outputs in ``--out``: ``halfwidth.csv`` (the curves), ``required.csv`` (per comparison), ``required_per_indicator.csv``,
``required.md`` (seeds needed),
``halfwidth.png``/``.svg``, ``report.md``/``report.html`` (all of it, the HTML self-contained), ``summary.json``;
the sweep in ``sweep/``.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.design import DesignError, load_runs, run_design
from experiments.presentation import declutter, kpi_label, page_size, save_figure, setup_theme, term, thousands, wrap
from experiments.report import Figure, Heading, Paragraph, Table, render, write_report
from experiments.stats import LEVEL, REL_DIFF, seeds_needed, t_half_width
from sim.model.indicators import KEY_INDICATORS
from sim.settings.config import community_presets, policy_presets
from sim.tables.glossary import in_display_order, preset_label

INDICATORS = KEY_INDICATORS  # the six key indicators (sim/model/indicators.py)
POLICIES = tuple(in_display_order("policy", policy_presets()))  # every policy preset of configs/policy/
DETECT = 0.2  # the difference to resolve, as a share of the typical between-policy difference δ
FLAT = 0.01   # an indicator is flat when the policies' means spread by less than 1 % of its level
FLOOR = 10    # never fewer seeds than this: the standard deviation itself needs a few seeds to estimate


class ReplicationError(ValueError):
    """Bad arguments or data (the message says which)."""


# ------------------------------------------------------------------------------------------------
# the study
# ------------------------------------------------------------------------------------------------
def curves(values: pd.DataFrame, by: list[str], level: float = LEVEL) -> pd.DataFrame:
    """Half-width and mean using the first n seeds (n = 2…N), per group of ``by`` (column ``value``)."""
    rows = []
    for key, g in values.sort_values("seed").groupby(by, sort=False):
        v = g["value"].to_numpy(dtype=float)
        v = v[~np.isnan(v)]
        for n in range(2, len(v) + 1):
            sd = float(v[:n].std(ddof=1))
            rows.append({**dict(zip(by, key, strict=True)), "n": n, "mean": float(v[:n].mean()), "sd": sd,
                         "half_width": t_half_width(sd, n, level)})
    return pd.DataFrame(rows)


def paired(runs: pd.DataFrame, indicators: tuple[str, ...]) -> pd.DataFrame:
    """Long table of paired differences policy − baseline: community, policy, indicator, seed, value."""
    long = runs.melt(id_vars=["community", "policy", "seed"], value_vars=list(indicators), var_name="indicator")
    base = long[long["policy"] == "baseline"].drop(columns="policy")
    other = long[long["policy"] != "baseline"]
    merged = other.merge(base, on=["community", "indicator", "seed"], suffixes=("", "_baseline"))
    return merged.assign(value=merged["value"] - merged["value_baseline"]).drop(columns="value_baseline")


def policy_spread(values: pd.DataFrame) -> pd.DataFrame:
    """The typical between-policy difference δ per community × indicator, and whether the indicator is flat.

    δ is the standard deviation of the policies' means (over all seeds): how far apart the policies
    typically are. An indicator is *flat* in a community when δ is below :data:`FLAT` of its mean
    there: the policies do not move it, so it cannot say how many seeds a comparison needs.
    """
    means = values.groupby(["community", "indicator", "policy"])["value"].mean()
    spread = means.groupby(["community", "indicator"]).std(ddof=1).rename("typical_diff")
    level = values.groupby(["community", "indicator"])["value"].mean().abs()
    out = spread.to_frame()
    out["flat"] = spread < FLAT * level
    return out.reset_index()


def requirements(diffs: pd.DataFrame, spread: pd.DataFrame, detect: float = DETECT) -> pd.DataFrame:
    """Seeds needed per community × indicator × policy: half-width of the paired difference
    ≤ REL_DIFF (50 %) × ``detect`` · δ (the project's rule, with ``detect`` · δ as the difference to resolve)."""
    typical = spread.set_index(["community", "indicator"])
    rows = []
    for (comm, ind, pol), g in diffs.groupby(["community", "indicator", "policy"]):
        ref = float(typical.loc[(comm, ind), "typical_diff"])
        n = seeds_needed(g["value"], reference=detect * ref, rel=REL_DIFF) if ref > 0 else None
        rows.append({"community": comm, "indicator": ind, "policy": pol, "mean_diff": float(g["value"].mean()),
                     "sd_diff": float(g["value"].std(ddof=1)), "typical_diff": ref,
                     "flat": bool(typical.loc[(comm, ind), "flat"]), "seeds_needed": n})
    return pd.DataFrame(rows)


def per_indicator(req: pd.DataFrame) -> pd.DataFrame:
    """Per community × indicator: seeds for a typical comparison (median over policies) and the worst one.

    A requirement beyond ``n_max`` (None) counts as infinite.
    """
    n = req.assign(n=req["seeds_needed"].astype(float).fillna(np.inf))
    g = n.groupby(["community", "indicator"])
    return pd.DataFrame({"seeds_typical": g["n"].median(), "seeds_worst": g["n"].max(),
                         "typical_diff": g["typical_diff"].first(), "flat": g["flat"].first()}).reset_index()


def recommend(ind: pd.DataFrame, cap: int, floor: int = FLOOR) -> pd.DataFrame:
    """Per community: the largest typical requirement over its non-flat indicators that is at most ``cap``,
    rounded up to a multiple of 5 and at least ``floor``; the indicators needing more are listed."""
    rows = []
    for comm, g in ind.groupby("community"):
        used = g[~g["flat"]]
        ok = used[used["seeds_typical"] <= cap]
        beyond = used[used["seeds_typical"] > cap]
        # the median of an even number of requirements can be a half (15.5): round it up, not down
        need = math.ceil(ok["seeds_typical"].max()) if len(ok) else floor
        seeds = max(floor, 5 * math.ceil(need / 5))
        worst = ok.loc[ok["seeds_typical"].idxmax(), "indicator"] if len(ok) else ""
        rows.append({"community": comm, "seeds": seeds, "driven_by": worst,
                     "needs_more": ", ".join(f"{r.indicator} ({_fmt_n(r.seeds_typical)})"
                                             for r in beyond.itertuples()),
                     "flat": ", ".join(g.loc[g["flat"], "indicator"])})
    return pd.DataFrame(rows)


def _fmt_n(n: float) -> str:
    return "> 1000" if np.isinf(n) else f"{n:.0f}"


# colour-blind-safe colours no two of which are near each other (seaborn's colorblind palette without its second
# orange, second pink and yellow, with black): up to seven lines in one panel
DISTINCT = ("#0173B2", "#DE8F05", "#029E73", "#CC78BC", "#949494", "#56B4E9", "#000000")


def plot(diff_curves: pd.DataFrame, spread: pd.DataFrame, detect: float, path: Path, lang: str = "en") -> None:
    """:func:`halfwidth_figure` saved as ``path``.png/.svg."""
    fig = halfwidth_figure(diff_curves, spread, detect, lang)
    save_figure(fig, path.parent, path.name)


def halfwidth_figure(diff_curves: pd.DataFrame, spread: pd.DataFrame, detect: float, lang: str = "en"):
    """Half-width of a typical paired difference ÷ δ vs seeds, per indicator and community (named in ``lang``);
    the y label on two lines, shorter than a panel (at full length it ran into the next row's)."""
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter

    setup_theme(lang, paper=True)
    typical = diff_curves.groupby(["community", "indicator", "n"])["half_width"].median().reset_index()
    d = typical.merge(spread, on=["community", "indicator"])
    d = d[(d["typical_diff"] > 0) & ~d["flat"]].assign(relative=lambda t: t["half_width"] / t["typical_diff"])
    d["community"] = [preset_label("community", c, lang) for c in d["community"]]
    ncol = 3
    nrow = math.ceil(d["indicator"].nunique() / ncol)
    page_size(2.4 * 1.3 * ncol, 2.4 * nrow + 0.8)  # refuses a figure taller than a page
    # seven communities: colours far apart for colour-blind readers, and a dash pattern each besides
    grid = sns.relplot(data=d, x="n", y="relative", hue="community", style="community", col="indicator",
                       col_wrap=ncol, kind="line", height=2.4, aspect=1.3, facet_kws={"sharey": False},
                       palette=DISTINCT[:d["community"].nunique()])
    # a difference that does not vary between seeds (e.g. a public cost the levers fix) has half-width 0 at any n:
    # its panel stays linear, since a log axis cannot show 0
    varies = d.groupby("indicator")["relative"].max() > 0
    for indicator, ax in grid.axes_dict.items():
        ax.axhline(REL_DIFF * detect, color="black", ls="--", lw=1)
        if not varies.get(indicator, False):
            ax.text(0.5, 0.5, wrap(term("rep_fixed", lang), lang, 34), transform=ax.transAxes, ha="center",
                    va="center", fontsize=9, color="0.3")
        else:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(thousands))
            ax.set_ylim(bottom=max(ax.get_ylim()[0], 1e-3))  # a single exact zero need not stretch it to 1e-15
        ax.set_title(wrap(kpi_label(indicator, lang), lang, 36))
    grid.set_axis_labels(term("rep_seeds_n", lang), wrap(term("rep_relative", lang), lang, 20))
    grid.legend.set_title(term("community", lang))
    grid.figure.suptitle(wrap(term("rep_halfwidth_title", lang), lang, 110), y=0.99)
    grid.tight_layout()
    grid.figure.subplots_adjust(top=1 - 0.75 / grid.figure.get_figheight())  # 0.75 in for the two-line title
    declutter(grid.figure)
    return grid.figure


# ------------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------------
def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m experiments.replications", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--seeds", type=int, default=40, help="seeds per scenario (the curves run n = 2…seeds)")
    ap.add_argument("--steps", type=int, default=260, help="weeks per run")
    ap.add_argument("--communities", default=",".join(community_presets()), help="community presets")
    ap.add_argument("--policies", default=",".join(POLICIES), help="policies (must include baseline)")
    ap.add_argument("--indicators", default=",".join(INDICATORS), help="KPI columns")
    ap.add_argument("--detect", type=float, default=DETECT,
                    help="difference to resolve, as a share of the typical between-policy difference δ "
                         f"(rule: CI half-width ≤ {REL_DIFF:.0%} of it)")
    ap.add_argument("--cap", type=int, default=50, help="requirements above this many seeds are reported, not used")
    ap.add_argument("--jobs", type=int, default=None, help="parallel jobs (default: all cores)")
    ap.add_argument("--out", type=Path, default=Path("results") / "replications", help="output folder")
    ap.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the figure")
    ap.add_argument("--analyse-only", action="store_true",
                    help="re-analyse the collated runs of an earlier study in --out without running the sweep")
    args = ap.parse_args(argv)
    args.communities = [c.strip() for c in args.communities.split(",") if c.strip()]
    args.policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    args.indicators = tuple(i.strip() for i in args.indicators.split(",") if i.strip())
    unknown = [c for c in args.communities if c not in community_presets()]
    if unknown:
        raise ReplicationError(f"unknown community preset {unknown}; choose from {', '.join(community_presets())}")
    if "baseline" not in args.policies or len(args.policies) < 2:
        raise ReplicationError("--policies must include baseline and at least one other policy")
    if args.seeds < 3 or args.steps < 2 or not args.detect > 0:
        raise ReplicationError(f"--seeds must be ≥ 3, --steps ≥ 2 and --detect > 0; got --seeds {args.seeds}, "
                               f"--steps {args.steps}, --detect {args.detect}")
    return args


def run(args: argparse.Namespace, argv: list[str]) -> dict:
    start = time.perf_counter()
    out: Path = args.out
    overrides = [f"community={','.join(args.communities)}", f"policy={','.join(args.policies)}", f"steps={args.steps}"]
    n_runs = len(args.communities) * len(args.policies) * args.seeds
    print(f"{len(args.communities)} communities × {len(args.policies)} policies × {args.seeds} seeds = {n_runs} runs",
          flush=True)
    if args.analyse_only:
        runs = load_runs(out / "sweep", list(range(args.seeds)))
    else:
        runs = run_design(None, out / "sweep", args.seeds, overrides, n_jobs=args.jobs)
    runs = runs[runs["community"].isin(args.communities) & runs["policy"].isin(args.policies)]
    missing = [i for i in args.indicators if i not in runs.columns]
    if missing:
        raise DesignError(f"indicators not in runs.parquet: {', '.join(missing)}")
    sim_minutes = (time.perf_counter() - start) / 60

    long = runs.melt(id_vars=["community", "policy", "seed"], value_vars=list(args.indicators), var_name="indicator")
    mean_curves = curves(long, ["community", "policy", "indicator"]).assign(kind="mean")
    diffs = paired(runs, args.indicators)
    diff_curves = curves(diffs, ["community", "policy", "indicator"]).assign(kind="paired_difference")
    pd.concat([mean_curves, diff_curves]).to_csv(out / "halfwidth.csv", index=False)
    spread = policy_spread(long)
    req = requirements(diffs, spread, args.detect)
    req.to_csv(out / "required.csv", index=False)
    ind = per_indicator(req)
    ind.to_csv(out / "required_per_indicator.csv", index=False)
    rec = recommend(ind, args.cap)
    plot(diff_curves, spread, args.detect, out / "halfwidth", args.lang)
    table = ind.pivot(index="community", columns="indicator", values="seeds_typical")
    table = table.map(_fmt_n).where(~ind.pivot(index="community", columns="indicator", values="flat"), "flat")
    tables = [Heading("Recommended seeds per community"), Table(rec),
              Heading("Seeds for a typical comparison, per community × indicator"), Table(table.reset_index())]
    (out / "required.md").write_text(render(tables), encoding="utf-8")
    rule = (f"Rule: a comparison has enough seeds when the 95 % CI half-width of its mean paired difference "
            f"(policy − baseline, same seed) is at most {REL_DIFF:.0%} of {args.detect:g} × δ, δ being the typical "
            f"between-policy difference (the standard deviation of the policies' means) of the community and "
            f"indicator. Requirements above {args.cap} seeds are listed, not used; 'flat': the policies do not move "
            "the indicator. Details: docs/replications.md.")
    write_report([Heading("Replications: seeds per community preset", 1),
                  Paragraph(f"{n_runs} runs ({len(args.communities)} communities × {len(args.policies)} policies × "
                            f"{args.seeds} seeds, {args.steps} weeks)."), Paragraph(rule), *tables,
                  Heading("Figures"),
                  Figure("halfwidth.png", "95 % CI half-width of the paired differences (median over policies) "
                                          "relative to δ, against the number of seeds; dashed line: the rule.")],
                 out, "Replications")
    summary = {
        "runs": n_runs, "seeds": args.seeds, "steps": args.steps, "detect": args.detect, "rel": REL_DIFF,
        "rule": f"95 % CI half-width of the mean paired difference ≤ {REL_DIFF:.0%} of {args.detect:g} × δ",
        "cap": args.cap,
        "recommended": {r.community: r.seeds for r in rec.itertuples()},
        "overall": int(rec["seeds"].max()) if rec["seeds"].notna().any() else None,
        "simulation_minutes": round(sim_minutes, 2), "total_minutes": round((time.perf_counter() - start) / 60, 2),
        "command": "python -m experiments.replications " + shlex.join(argv), "analyse_only": args.analyse_only,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
        summary = run(args, argv)
    except (ReplicationError, DesignError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print((args.out / "required.md").read_text(encoding="utf-8"))
    print(f"recommended seeds: {summary['recommended']} (overall {summary['overall']}); "
          f"{summary['total_minutes']:.1f} min; outputs in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
