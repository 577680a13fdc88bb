"""Global sensitivity analysis of the main indicators (docs/sensitivity.md).

``python -m experiments.sensitivity method=morris|sobol|screen [--trajectories N] [--levels L] [--samples N]
[--seeds R] [--steps W] [--contrast CONTROL] [--out DIR] [community=A[,B...]] [policy=...]``

``method=screen`` is the two together: Morris screening, then Sobol on the survivors (the parameters whose mu*
reaches :data:`SURVIVE` of the largest mu* for at least one indicator, at most ``--max-survivors``), each with
its own report in ``morris/`` and ``sobol/`` and a summary in ``screen.md``. With ``--contrast CONTROL`` the
analysed quantity is a policy contrast (``--policy`` − CONTROL, both run with the same seeds at every point)
and the inputs are drawn from the prior distributions of :mod:`experiments.priors` (behavioural, structural
and initial-condition parameters, each with its source). Several communities (``community=a,b``) are
analysed one after another, each in its own folder, with a table across them (``presets.md``).

1. The parameters (:data:`DEFAULT_PARAMS`: policy levers and behavioural parameters) are sampled
   over their ranges: the schema's ``lo``/``hi`` (``sim.settings.config.iter_params``), or the narrower
   documented range of :data:`RANGES` where the hard limit is absurd (budgets up to 10⁹ yuan), a
   source's plausible range (project cost, callback satisfaction, the flagged one-cent volume) and
   the calibration priors for the behavioural parameters it searched.
   Morris: ``--trajectories`` r one-at-a-time trajectories on a ``--levels`` grid, r·(k+1) points.
   Sobol (Saltelli/Jansen, first and total order): ``--samples`` N base points, N·(k+2) points.
2. Each point runs with R seeds through :func:`experiments.design.run_design` (in worker processes,
   parallel, resumable); the indicators are averaged over the seeds of each point.
3. SALib computes the indices with bootstrap confidence intervals — Morris: mu* (mean absolute
   elementary effect, per unit of the parameter's range) and sigma; Sobol: S1 and ST — and again on
   growing subsets of the sample (the convergence check).

Outputs in ``--out``: ``indices.csv``/``.md``, ``ranking.md``, ``indices.png``/``.svg``,
``convergence.csv``, ``convergence.png``/``.svg``, ``report.md``/``report.html`` (all of it, the HTML
self-contained), ``summary.json``, and the sweep in ``sweep/``.
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

from experiments.calibrate import PRIORS
from experiments.design import (
    DesignError,
    run_design,
    schema_fields,
)
from experiments.priors import CONTRAST_PRIORS, Distribution
from experiments.report import Block, Heading, Paragraph, Table, render, write_report
from experiments.sensitivity_report import (
    indices_blocks,
    plot_convergence,
    plot_indices,
    presets_table,
    priors_blocks,
    report_blocks,
)
from sim.model.indicators import KEY_INDICATORS
from sim.settings.config import community_presets

METHODS = ("morris", "sobol", "screen")
SURVIVE = 0.1  # screen: a parameter survives Morris if its mu* is at least this share of the largest, for an indicator
INDICATORS = KEY_INDICATORS  # the six key indicators (sim/model/indicators.py)
KEY_VALUE_ARGS = ("method", "community", "policy")

# Documented ranges where the schema's hard limits are absurd for a sensitivity analysis (budgets up to 10⁹ yuan), where
# a source gives a plausible range (docs/literature.md), or the flagged one-cent volume: each declared with its
# parameter (``prior=`` in sim/levers/<lever>.py and sim/settings/schema.py); the calibration's prior ranges override
# (experiments/calibrate.py, PRIORS).
RANGES: dict[str, tuple[float, float]] = {
    **{key: f.metadata["prior"] for key, f in schema_fields().items() if f.metadata.get("prior")},
    **{k: (p.lo, p.hi) for k, p in PRIORS.items()},
}

# The default parameter set: the five-society levers (their intensities; the policy switches them
# on), the one-cent volume (a flagged input without a source), and the behavioural parameters with the
# largest expected leverage on the indicators: who handles demands, how satisfied residents are called
# back, what projects cost and how units claim them.
DEFAULT_PARAMS: tuple[str, ...] = (
    "policy.micro_fund.fen_per_unit",
    "policy.fund.transparency",
    "policy.fund.government_match_ratio",
    "policy.fund.spend_share_per_week",
    "policy.gov_purchase.budget_yuan_per_year",
    "policy.venture.budget_yuan_per_year",
    "policy.party_building.strength",
    "policy.social_work.extra_social_workers",
    "policy.social_work.supervision_gain",
    "policy.enterprise.lump_yuan_per_year",
    "policy.deliberation.interval_weeks",
    "policy.moral_bank.points_per_activity",
    "community.units_per_week",
    "behaviour.register_base",
    "behaviour.dropout_unrecognised",
    "behaviour.activity_prob",
    "behaviour.staff_cases_week",
    "behaviour.volunteer_hours_per_case",
    "behaviour.grid_worker_cases_week",
    "behaviour.callback_satisfied_resolved",
    "behaviour.project_cost_yuan",
    "behaviour.claim_prob",
    "behaviour.session_satisfaction_rate",
    "behaviour.satisfaction_memory_weeks",
    "behaviour.donate_prob",
    "behaviour.satisfaction_rate",
    "behaviour.org_fold_weeks",
)


class SensitivityError(ValueError):
    """Bad arguments (the message says which and what is allowed)."""


# ------------------------------------------------------------------------------------------------
# the problem and the design
# ------------------------------------------------------------------------------------------------
def param_range(key: str) -> tuple[float, float]:
    """The sampled range of ``key``: the documented range, else the schema's [lo, hi]."""
    fields = schema_fields()
    if key not in fields:
        raise SensitivityError(f"{key} is not a parameter; see python -m sim --help")
    if key in RANGES:
        return RANGES[key]
    m = fields[key].metadata
    if m.get("lo") is None or m.get("hi") is None or fields[key].type in ("bool", bool):
        raise SensitivityError(f"{key} has no numeric range [lo, hi]; give it one in RANGES or drop it")
    return float(m["lo"]), float(m["hi"])


def problem(keys: list[str], priors: dict[str, Distribution] | None = None) -> dict:
    """The SALib problem: names and bounds; with ``priors``, each listed key drawn from its distribution (the
    others uniform over :func:`param_range`)."""
    if len(keys) < 2:
        raise SensitivityError("give at least two parameters")
    if len(set(keys)) != len(keys):
        raise SensitivityError("a parameter is listed twice")
    prob = {"num_vars": len(keys), "names": list(keys), "bounds": [list(param_range(k)) for k in keys]}
    if priors:
        drawn = [priors[k].salib() if k in priors else (prob["bounds"][i], "unif") for i, k in enumerate(keys)]
        prob["bounds"], prob["dists"] = [list(b) for b, _ in drawn], [d for _, d in drawn]
    return prob


def sample(method: str, prob: dict, args: argparse.Namespace) -> np.ndarray:
    """The SALib sample (unrounded; integer parameters are rounded when the design is written)."""
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(prob, args.trajectories, num_levels=args.levels, seed=args.seed)
    from SALib.sample import sobol

    return sobol.sample(prob, args.samples, calc_second_order=False, seed=args.seed)


def n_points(method: str, k: int, args: argparse.Namespace) -> int:
    """Parameter points of the design: r·(k+1) for Morris, N·(k+2) for Sobol (first and total order)."""
    return args.trajectories * (k + 1) if method == "morris" else args.samples * (k + 2)


# ------------------------------------------------------------------------------------------------
# analysis
# ------------------------------------------------------------------------------------------------
def analyse(method: str, prob: dict, x: np.ndarray, y: np.ndarray, args: argparse.Namespace,
            resamples: int | None = None) -> pd.DataFrame:
    """Indices of one indicator: one row per parameter (with bootstrap confidence half-widths)."""
    resamples = args.resamples if resamples is None else resamples
    if np.ptp(y) == 0:  # the indicator does not move at all: no effect, no variance to decompose
        zeros = np.zeros(prob["num_vars"])
        if method == "morris":
            return pd.DataFrame({"parameter": prob["names"], "mu_star": zeros, "mu_star_conf": zeros, "sigma": zeros,
                                 "mu": zeros})
        return pd.DataFrame({"parameter": prob["names"], "S1": zeros, "S1_conf": zeros, "ST": zeros,
                             "ST_conf": zeros})
    if method == "morris":
        from SALib.analyze import morris

        res = morris.analyze(prob, x, y, num_resamples=resamples, num_levels=args.levels, seed=args.seed)
        return pd.DataFrame({"parameter": prob["names"], "mu_star": res["mu_star"],
                             "mu_star_conf": res["mu_star_conf"], "sigma": res["sigma"], "mu": res["mu"]})
    from SALib.analyze import sobol

    # a Generator, not the int: SALib's sobol.analyze tests ``if seed:``, so seed 0 (the default) left its bootstrap
    # unseeded and the half-widths changed from run to run (by up to 0.03); default_rng(default_rng(s)) is the
    # stream of default_rng(s), so other seeds give what they gave before
    res = sobol.analyze(prob, y, calc_second_order=False, num_resamples=resamples,
                        seed=np.random.default_rng(args.seed))
    return pd.DataFrame({"parameter": prob["names"], "S1": res["S1"], "S1_conf": res["S1_conf"],
                         "ST": res["ST"], "ST_conf": res["ST_conf"]})


def outputs_per_point(runs: pd.DataFrame, n: int, indicators: tuple[str, ...]) -> pd.DataFrame:
    """Indicators averaged over the seeds of each point (rows 0…n-1 in design order)."""
    means = runs.groupby("design_row")[list(indicators)].mean().reindex(range(n))
    missing = means.index[means.isna().all(axis=1)].tolist()
    if missing:
        raise DesignError(f"no runs for design rows {missing[:10]}")
    return means


def contrast_per_point(runs: pd.DataFrame, n: int, indicators: tuple[str, ...], treated: str,
                       control: str) -> pd.DataFrame:
    """The policy contrast at each point: ``treated − control``, each averaged over the same seeds (common random
    numbers: the two policies of a point run with the same seeds, so this is also the mean paired difference)."""
    means = runs.groupby(["design_row", "policy"])[list(indicators)].mean()
    have = set(means.index.get_level_values("policy"))
    if not {treated, control} <= have:
        raise DesignError(f"runs of policy {treated!r} and {control!r} needed, found {sorted(have)}")
    diff = (means.xs(treated, level="policy") - means.xs(control, level="policy")).reindex(range(n))
    missing = diff.index[diff.isna().all(axis=1)].tolist()
    if missing:
        raise DesignError(f"no pair of runs for design rows {missing[:10]}")
    return diff


def all_indices(method: str, prob: dict, x: np.ndarray, y: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    frames = []
    for ind in y.columns:
        values = y[ind].to_numpy(dtype=float)
        if np.isnan(values).any():  # e.g. no demand answered in a run: fill with the mean, say so
            print(f"warning: {ind}: {int(np.isnan(values).sum())} points without a value, set to the mean")
            values = np.where(np.isnan(values), np.nanmean(values), values)
        frames.append(analyse(method, prob, x, values, args).assign(indicator=ind))
    return pd.concat(frames, ignore_index=True)


def convergence(method: str, prob: dict, x: np.ndarray, y: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    """The main index (mu* or ST) recomputed on growing prefixes of the sample."""
    k = prob["num_vars"]
    block = k + 1 if method == "morris" else k + 2
    total = len(x) // block
    if method == "morris":
        sizes = list(range(2, total + 1))
    else:
        sizes = sorted({2 ** i for i in range(1, int(math.log2(total)) + 1)} | {total})
    frames = []
    for size in sizes:
        rows = size * block
        for ind in y.columns:
            values = y[ind].to_numpy(dtype=float)[:rows]
            values = np.where(np.isnan(values), np.nanmean(values), values)
            res = analyse(method, prob, x[:rows], values, args, resamples=100)
            frames.append(res.assign(indicator=ind, size=size, runs=rows * args.seeds))
    return pd.concat(frames, ignore_index=True)


def ranking(indices: pd.DataFrame, method: str) -> pd.DataFrame:
    """Parameters ranked by their index averaged over indicators (each indicator scaled to its maximum)."""
    col = "mu_star" if method == "morris" else "ST"
    scaled = indices.assign(scaled=indices.groupby("indicator")[col].transform(lambda v: v / v.max() if v.max() else v))
    wide = scaled.pivot_table(index="parameter", columns="indicator", values="scaled")
    wide.insert(0, "mean_scaled", wide.mean(axis=1))
    return wide.sort_values("mean_scaled", ascending=False).reset_index()


# ------------------------------------------------------------------------------------------------
# the priors table (figures and report: experiments/sensitivity_report.py)
# ------------------------------------------------------------------------------------------------
def priors_table(keys: list[str], priors: dict[str, Distribution]) -> pd.DataFrame:
    """Each varied parameter's prior and its source (uniform over its range where it has no prior)."""
    rows = []
    for k in keys:
        d = priors.get(k)
        lo, hi = param_range(k) if d is None else (d.lo, d.hi)
        rows.append({"parameter": k, "distribution": d.describe() if d else f"uniform {lo:g}–{hi:g}",
                     "source": d.source if d else "the range of RANGES or the schema"})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------------
def split_key_values(argv: list[str]) -> list[str]:
    """Turn ``method=morris``-style arguments into ``--method morris``; refuse unknown keys."""
    out = []
    for a in argv:
        if not a.startswith("-") and "=" in a:
            key, _, value = a.partition("=")
            if key not in KEY_VALUE_ARGS:
                raise SensitivityError(f"unknown argument {a!r}; key=value arguments: "
                                       f"{', '.join(k + '=...' for k in KEY_VALUE_ARGS)}")
            out += [f"--{key}", value]
        else:
            out.append(a)
    return out


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # raise instead of exiting, so main() reports it like the others
        raise SensitivityError(message)


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = _Parser(prog="python -m experiments.sensitivity", description=__doc__.split("\n\n")[0],
                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--method", required=True, help="morris, sobol or screen (Morris, then Sobol on the survivors; "
                                                     "also as method=...)")
    ap.add_argument("--trajectories", type=int, default=10, help="Morris: trajectories r")
    ap.add_argument("--levels", type=int, default=4, help="Morris: grid levels")
    ap.add_argument("--samples", type=int, default=64, help="Sobol: base samples N (a power of 2)")
    ap.add_argument("--max-survivors", type=int, default=8, help="screen: at most this many parameters go on to Sobol")
    ap.add_argument("--seeds", type=int, default=2, help="seeds per parameter point (averaged)")
    ap.add_argument("--steps", type=int, default=156, help="weeks per run")
    ap.add_argument("--community", default="urban_traditional",
                    help="community preset, or several separated by commas (each analysed in its own folder)")
    ap.add_argument("--policy", default="five_society", help="policy preset (the levers switched on)")
    ap.add_argument("--contrast", default=None, metavar="CONTROL",
                    help="analyse the policy contrast --policy − CONTROL (both run at every point with the same "
                         "seeds) instead of the levels of --policy, e.g. --contrast baseline")
    ap.add_argument("--params", default=None, help="comma-separated parameter keys (default: the levers and "
                    "behavioural parameters of DEFAULT_PARAMS; with --contrast, the inputs of experiments.priors)")
    ap.add_argument("--indicators", default=",".join(INDICATORS), help="comma-separated KPI columns")
    ap.add_argument("--seed", type=int, default=0, help="seed of the sample and the bootstrap")
    ap.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples for the confidence intervals")
    ap.add_argument("--jobs", type=int, default=None, help="parallel jobs (default: all cores)")
    ap.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the figures")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default results/sensitivity/<method>)")
    args = ap.parse_args(split_key_values(argv))
    validate(args)
    return args


def validate(args: argparse.Namespace) -> None:
    if args.method not in METHODS:
        raise SensitivityError(f"unknown method {args.method!r}; choose one of: {', '.join(METHODS)}")
    if args.method in ("morris", "screen") and (args.trajectories < 2 or args.levels < 2 or args.levels % 2):
        raise SensitivityError("Morris needs --trajectories ≥ 2 and an even --levels ≥ 2")
    if args.method in ("sobol", "screen") and (args.samples < 2 or args.samples & (args.samples - 1)):
        raise SensitivityError(f"--samples={args.samples}: Sobol needs a power of 2 (e.g. 64)")
    if args.method == "screen" and args.max_survivors < 2:
        raise SensitivityError(f"--max-survivors={args.max_survivors}: at least 2 (Sobol needs two parameters)")
    if args.seeds < 1 or args.steps < 2:
        raise SensitivityError("--seeds must be ≥ 1 and --steps ≥ 2")
    args.communities = [c.strip() for c in str(args.community).split(",") if c.strip()]
    unknown = [c for c in args.communities if c not in community_presets()]
    if unknown or not args.communities:
        raise SensitivityError(f"community={args.community!r}: choose one or more of {', '.join(community_presets())}")
    args.community = args.communities[0]
    if args.params is None:
        args.params = ",".join(DEFAULT_PARAMS if args.contrast is None else CONTRAST_PRIORS)
    args.params = [p.strip() for p in args.params.split(",") if p.strip()]
    if args.contrast is not None:  # a point's parameters apply to both policies: a lever would change the control too
        levers = [p for p in args.params if p.startswith("policy.")]
        if levers:
            raise SensitivityError(f"--contrast: {', '.join(levers)} would be set in both policies; vary behaviour "
                                   "and community parameters for a contrast (the policies set the levers)")
    args.priors = CONTRAST_PRIORS if args.contrast is not None else None
    args.indicators = tuple(i.strip() for i in args.indicators.split(",") if i.strip())
    problem(args.params, args.priors)  # checks the keys and their ranges
    if args.contrast is not None and args.contrast == args.policy:
        raise SensitivityError(f"--contrast {args.contrast}: choose a control other than --policy {args.policy}")
    args.out = args.out or Path("results") / "sensitivity" / (
        args.method if args.contrast is None else f"{args.method}_{args.policy}-{args.contrast}")


def run(args: argparse.Namespace, argv: list[str]) -> dict:
    """The whole analysis; returns the summary (also written to summary.json)."""
    start = time.perf_counter()
    prob = problem(args.params, args.priors)
    x = sample(args.method, prob, args)
    design = pd.DataFrame(x, columns=prob["names"])
    policies = [args.policy] if args.contrast is None else [args.policy, args.contrast]
    n_runs = len(design) * args.seeds * len(policies)
    what = args.policy if args.contrast is None else f"{args.policy} − {args.contrast}"
    print(f"{args.method}: {len(design)} points × {args.seeds} seeds × {len(policies)} policies = {n_runs} runs "
          f"({args.community} × {what}, {args.steps} weeks)", flush=True)
    overrides = [f"community={args.community}", f"policy={','.join(policies)}", f"steps={args.steps}"]
    runs = run_design(design, args.out / "sweep", args.seeds, overrides, n_jobs=args.jobs)
    sim_minutes = (time.perf_counter() - start) / 60
    missing = [i for i in args.indicators if i not in runs.columns]
    if missing:
        raise DesignError(f"indicators not in runs.parquet: {', '.join(missing)}")
    if args.contrast is None:
        y = outputs_per_point(runs, len(design), args.indicators)
    else:
        y = contrast_per_point(runs, len(design), args.indicators, args.policy, args.contrast)
    indices = all_indices(args.method, prob, x, y, args)
    conv = convergence(args.method, prob, x, y, args)
    rank = ranking(indices, args.method)
    indices.to_csv(args.out / "indices.csv", index=False)
    (args.out / "indices.md").write_text(render(indices_blocks(indices, args.method)), encoding="utf-8")
    (args.out / "ranking.md").write_text(render([Table(rank, floatfmt=".2f")]), encoding="utf-8")
    conv.to_csv(args.out / "convergence.csv", index=False)
    plot_indices(indices, args.method, args.out / "indices", None if args.contrast is None else what, args.lang)
    plot_convergence(conv, args.method, args.out / "convergence", lang=args.lang)
    summary = {
        "method": args.method, "parameters": prob["names"], "k": prob["num_vars"], "points": len(design),
        "seeds": args.seeds, "runs": n_runs, "steps": args.steps, "community": args.community,
        "policy": args.policy, "contrast": None if args.contrast is None else what,
        "runs_formula": ("r·(k+1)·seeds" if args.method == "morris" else "N·(k+2)·seeds")
                        + ("" if args.contrast is None else "·2"),
        "simulation_minutes": round(sim_minutes, 2), "total_minutes": round((time.perf_counter() - start) / 60, 2),
        "command": "python -m experiments.sensitivity " + shlex.join(argv),
        "jobs_skipped": int((runs["status"] == "skipped").sum()),
        "priors": priors_table(prob["names"], args.priors).to_dict("records") if args.priors else None,
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    title = f"{args.method.capitalize()} sensitivity analysis" + ("" if args.contrast is None else f" of {what}")
    write_report(report_blocks(summary, indices, rank), args.out, title)
    return summary


def survivors(indices: pd.DataFrame, most: int) -> pd.Series:
    """The parameters that go on from Morris to Sobol: those whose mu* is at least SURVIVE of the largest mu* of
    some indicator, ranked by that share (their largest over the indicators), the ``most`` first; at least the
    two highest even if fewer pass. Returns each survivor's share."""
    top = indices.groupby("indicator")["mu_star"].transform("max")
    share = (indices["mu_star"] / top.where(top > 0)).fillna(0.0)
    best = share.groupby(indices["parameter"]).max().sort_values(ascending=False, kind="stable")
    keep = best[best >= SURVIVE].iloc[:most]
    return keep if len(keep) >= 2 else best.iloc[:2]


def screen(args: argparse.Namespace, argv: list[str]) -> dict:
    """Morris over every parameter, then Sobol on the survivors; both reports and ``screen.md``."""
    morris_args = argparse.Namespace(**{**vars(args), "method": "morris", "out": args.out / "morris"})
    morris = run(morris_args, argv)
    morris_indices = pd.read_csv(morris_args.out / "indices.csv")
    kept = survivors(morris_indices, args.max_survivors)
    passed = survivors(morris_indices, len(args.params))  # every parameter over the threshold, before the cap
    print(f"screen: {len(kept)} of {len(args.params)} parameters go on to Sobol: {', '.join(kept.index)}", flush=True)
    sobol_args = argparse.Namespace(**{**vars(args), "method": "sobol", "out": args.out / "sobol",
                                       "params": list(kept.index)})
    sobol = run(sobol_args, argv)
    indices = pd.read_csv(sobol_args.out / "indices.csv")
    best = indices.loc[indices.groupby("indicator", sort=False)["ST"].idxmax()].copy()
    best.loc[best["ST"] <= 0, "parameter"] = "— (the indicator does not vary)"
    what = morris["contrast"] or morris["policy"]
    blocks: list[Block] = [
        Heading(f"Screening, then variance decomposition: {what} in {args.community}", 1),
        Paragraph(f"Morris over {morris['k']} parameters ({morris['runs']} runs), then Sobol on the {len(kept)} "
                  f"survivors ({sobol['runs']} runs), {args.steps} weeks, {args.seeds} seeds a point; "
                  f"{morris['total_minutes'] + sobol['total_minutes']:.1f} min. A parameter survives when its mu* "
                  f"is at least {SURVIVE:.0%} of the largest mu* of some indicator (at most {args.max_survivors})."),
        Heading("Survivors"),
        Paragraph("Every parameter over the threshold, by its largest mu* share; the first "
                  f"{args.max_survivors} go on to Sobol."),
        Table(pd.DataFrame({"parameter": passed.index, "largest mu* share": passed.to_numpy(),
                            "to Sobol": ["yes" if k in kept.index else "no (cap)" for k in passed.index]}),
              floatfmt=".2f"),
        Heading("The largest total-order index of each indicator"),
        Table(best[["indicator", "parameter", "ST", "ST_conf", "S1", "S1_conf"]], floatfmt=".3f"),
        Paragraph("Reports: [morris/report.md](morris/report.md), [sobol/report.md](sobol/report.md)."),
        *priors_blocks(morris.get("priors")),
    ]
    (args.out / "screen.md").write_text(render(blocks), encoding="utf-8")
    summary = {"method": "screen", "community": args.community, "contrast": morris["contrast"],
               "survivors": kept.round(4).to_dict(), "morris": morris, "sobol": sobol,
               "runs": morris["runs"] + sobol["runs"], "jobs_skipped": morris["jobs_skipped"] + sobol["jobs_skipped"],
               "total_minutes": round(morris["total_minutes"] + sobol["total_minutes"], 2),
               "top": best[["indicator", "parameter", "ST", "ST_conf"]].to_dict("records")}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    results: dict[str, dict] = {}
    try:
        args = parse_args(argv)
        for community in args.communities:
            one = argparse.Namespace(**{**vars(args), "community": community,
                                        "out": args.out / community if len(args.communities) > 1 else args.out})
            summary = screen(one, argv) if args.method == "screen" else run(one, argv)
            results[community] = {**summary, "out": str(one.out)}
            report = one.out / ("screen.md" if args.method == "screen" else "ranking.md")
            print(report.read_text(encoding="utf-8"))
            print(f"{summary['runs']} runs ({summary['jobs_skipped']} reused), {summary['total_minutes']:.1f} min; "
                  f"outputs in {one.out}/")
    except (SensitivityError, DesignError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if len(results) > 1:
        table = presets_table(results)
        (args.out / "presets.md").write_text(render([
            Heading("The most influential parameters, community by community", 1),
            Paragraph("For each community and indicator: the parameter with the largest index (Sobol ST after "
                      "screening, else Morris mu*) and the runner-up."),
            Table(table, floatfmt=".3f")]), encoding="utf-8")
        print(f"across communities: {args.out / 'presets.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
