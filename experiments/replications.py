"""How many seeds a scenario needs: a variance study of the main indicators (docs/replications.md).

``python -m experiments.replications [--seeds N] [--steps W] [--communities a,b] [--policies a,b]
[--rel 0.1] [--out DIR]``

Every community preset × policy runs with seeds 0…N-1 through the sweep machinery (parallel,
resumable).  For each indicator the study computes, for n = 2…N seeds (the first n):

* the 95 % t-interval half-width of a scenario's mean, and
* the half-width of the mean *paired* difference policy − baseline (same seed: common random
  numbers), the quantity a policy comparison estimates.

The rule: a comparison has enough seeds when the half-width of its paired difference is at most
``rel`` (10 %) of the *typical between-policy difference* δ — the standard deviation of the seven
policies' means for that community and indicator (:func:`policy_spread`).  :func:`seeds_needed`
turns a comparison's 40-seed paired differences into the seeds that rule needs.  Per community ×
indicator the requirement of a typical comparison is the median over the policies; a community's
recommended seeds are the largest of these over its indicators, rounded up to a multiple of 5,
at least 10.  Indicators the policies do not move (δ < 1 % of the level: *flat*) are left out,
and requirements above ``--cap`` (50) are reported as needing more rather than raising the default.

Outputs in ``--out``: ``halfwidth.csv`` (the curves), ``required.csv`` (per comparison), ``required_per_indicator.csv``,
``required.md`` (seeds needed),
``halfwidth.png``/``.svg``, ``summary.json``; the sweep in ``sweep/``.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from experiments.design import DesignError, load_runs, markdown_table, run_design, save_figure
from sim.config import community_presets

INDICATORS = ("volunteers_per_10k", "response_rate", "completion_rate", "satisfaction_mean", "social_orgs_active",
              "fund_balance")
POLICIES = ("baseline", "micro_fund", "moral_bank", "gov_purchase", "charity_sales", "social_enterprise",
            "five_society")
LEVEL = 0.95
REL = 0.10
N_MAX = 1000
FLAT = 0.01   # an indicator is flat when the policies' means spread by less than 1 % of its level
FLOOR = 10    # never fewer seeds than this: the standard deviation itself needs a few seeds to estimate


class ReplicationError(ValueError):
    """Bad arguments or data (the message says which)."""


# ------------------------------------------------------------------------------------------------
# the pure rule
# ------------------------------------------------------------------------------------------------
def half_width(sd: float, n: int, level: float = LEVEL) -> float:
    """Half-width of the two-sided t confidence interval of a mean of n values with standard deviation sd."""
    if n < 2:
        return math.inf
    return float(stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n))


def seeds_needed(diffs: Iterable[float], rel: float = REL, reference: float | None = None, level: float = LEVEL,
                 n_max: int = N_MAX) -> int | None:
    """Seeds needed so the CI of the mean paired difference is within ``rel`` × |reference|.

    ``diffs`` are paired differences (scenario − comparison run of the same seed) from a pilot of
    at least 2 seeds; their standard deviation is taken as known.  ``reference`` is the difference
    worth resolving (default: the mean of ``diffs``).  Returns the smallest n ≥ 2 with
    t(n−1) · sd / √n ≤ rel · |reference|, 2 if the differences do not vary, or None if more than
    ``n_max`` seeds would be needed.
    """
    d = np.asarray([x for x in diffs if x is not None and not np.isnan(x)], dtype=float)
    if d.size < 2:
        raise ReplicationError(f"need at least 2 paired differences, got {d.size}")
    if not rel > 0 or not 0 < level < 1:
        raise ReplicationError(f"rel must be > 0 and level in (0, 1); got rel={rel}, level={level}")
    sd = float(d.std(ddof=1))
    if sd == 0:
        return 2
    target = rel * abs(float(d.mean()) if reference is None else float(reference))
    if target == 0:
        return None
    # t(n−1)·sd/√n decreases in n: start from the normal approximation and step to the exact n.
    n = max(2, math.ceil((stats.norm.ppf(0.5 + level / 2) * sd / target) ** 2))
    while n > 2 and half_width(sd, n - 1, level) <= target:
        n -= 1
    while half_width(sd, n, level) > target:
        n += 1
        if n > n_max:
            return None
    return n if n <= n_max else None


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
                         "half_width": half_width(sd, n, level)})
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


def requirements(diffs: pd.DataFrame, spread: pd.DataFrame, rel: float) -> pd.DataFrame:
    """Seeds needed per community × indicator × policy: half-width of the paired difference ≤ rel · δ."""
    typical = spread.set_index(["community", "indicator"])
    rows = []
    for (comm, ind, pol), g in diffs.groupby(["community", "indicator", "policy"]):
        ref = float(typical.loc[(comm, ind), "typical_diff"])
        n = seeds_needed(g["value"], rel=rel, reference=ref) if ref > 0 else None
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
        need = int(ok["seeds_typical"].max()) if len(ok) else floor
        seeds = max(floor, 5 * math.ceil(need / 5))
        worst = ok.loc[ok["seeds_typical"].idxmax(), "indicator"] if len(ok) else ""
        rows.append({"community": comm, "seeds": seeds, "driven_by": worst,
                     "needs_more": ", ".join(f"{r.indicator} ({_fmt_n(r.seeds_typical)})"
                                             for r in beyond.itertuples()),
                     "flat": ", ".join(g.loc[g["flat"], "indicator"])})
    return pd.DataFrame(rows)


def _fmt_n(n: float) -> str:
    return "> 1000" if np.isinf(n) else f"{n:.0f}"


def plot(diff_curves: pd.DataFrame, spread: pd.DataFrame, rel: float, path: Path) -> None:
    """Half-width of a typical paired difference ÷ δ vs seeds, per indicator and community."""
    import matplotlib
    matplotlib.use("Agg")
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    typical = diff_curves.groupby(["community", "indicator", "n"])["half_width"].median().reset_index()
    d = typical.merge(spread, on=["community", "indicator"])
    d = d[(d["typical_diff"] > 0) & ~d["flat"]].assign(relative=lambda t: t["half_width"] / t["typical_diff"])
    grid = sns.relplot(data=d, x="n", y="relative", hue="community", col="indicator", col_wrap=3, kind="line",
                       height=3.2, aspect=1.3, facet_kws={"sharey": False})
    for ax in grid.axes.flat:
        ax.axhline(rel, color="black", ls="--", lw=1)
        ax.set_yscale("log")
    grid.set_axis_labels("seeds n", "CI half-width ÷ between-policy sd")
    grid.figure.suptitle("Paired policy − baseline differences: 95 % CI half-width (median over policies) "
                         "relative to the typical between-policy difference", y=1.03)
    save_figure(grid.figure, path)


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
    ap.add_argument("--rel", type=float, default=REL, help="half-width ≤ rel × typical between-policy difference")
    ap.add_argument("--cap", type=int, default=50, help="requirements above this many seeds are reported, not used")
    ap.add_argument("--jobs", type=int, default=None, help="parallel jobs (default: all cores)")
    ap.add_argument("--out", type=Path, default=Path("results") / "replications", help="output folder")
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
    if args.seeds < 3 or args.steps < 2 or not args.rel > 0:
        raise ReplicationError("--seeds must be ≥ 3, --steps ≥ 2 and --rel > 0")
    return args


def run(args: argparse.Namespace, argv: list[str]) -> dict:
    start = time.perf_counter()
    out: Path = args.out
    overrides = [f"community={','.join(args.communities)}", f"policy={','.join(args.policies)}", f"steps={args.steps}"]
    n_runs = len(args.communities) * len(args.policies) * args.seeds
    print(f"{len(args.communities)} communities × {len(args.policies)} policies × {args.seeds} seeds = {n_runs} runs",
          flush=True)
    if args.analyse_only:
        runs = load_runs(out / "sweep", None, list(range(args.seeds)))
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
    req = requirements(diffs, spread, args.rel)
    req.to_csv(out / "required.csv", index=False)
    ind = per_indicator(req)
    ind.to_csv(out / "required_per_indicator.csv", index=False)
    rec = recommend(ind, args.cap)
    plot(diff_curves, spread, args.rel, out / "halfwidth")
    table = ind.pivot(index="community", columns="indicator", values="seeds_typical")
    table = table.map(_fmt_n).where(~ind.pivot(index="community", columns="indicator", values="flat"), "flat")
    (out / "required.md").write_text("## Recommended seeds per community\n\n" + markdown_table(rec)
                                     + "\n## Seeds for a typical comparison, per community × indicator\n\n"
                                     + markdown_table(table.reset_index()), encoding="utf-8")
    summary = {
        "runs": n_runs, "seeds": args.seeds, "steps": args.steps, "rel": args.rel, "cap": args.cap,
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
