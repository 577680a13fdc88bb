"""Calibrate the uncertain behavioural parameters to the observed patterns (docs/calibration.md).

``python -m experiments.calibrate [--samples N] [--seeds R] [--steps W] [--accept FRACTION] [--out DIR]
[--write-config]``

Rejection ABC (approximate Bayesian computation) over a Latin hypercube:

1. draw N parameter sets from the prior box :data:`PRIORS` (``scipy.stats.qmc.LatinHypercube``, seeded);
2. run each with R seeds in the calibration scenario (baseline policy, ``--community``, W weeks,
   the other behavioural parameters at the schema defaults) through the sweep machinery
   (:func:`experiments.design.run_design`: parallel, resumable);
3. compute each pattern's statistic (:mod:`experiments.patterns`), average it over the seeds, and the
   distance: the root mean square of the range-normalised deviations of the fitted patterns;
4. accept the fraction ``--accept`` of parameter sets with the smallest distance (the ABC
   posterior); the point estimate is the posterior median of each parameter;
5. check the point estimate with more seeds on every pattern (validation patterns included) and
   report the five_society scenario against the Enyang 2025 targets (a yardstick, never fitted).

Outputs in ``--out``: ``samples.parquet`` (every sample: parameters, statistics, distance),
``accepted.parquet``, ``posterior.csv``/``.md``, ``check.csv``/``.md``, ``yardstick.csv``,
``patterns.png``/``.svg`` (simulated vs observed), ``parameters.png``/``.svg`` (prior vs posterior),
``report.md``/``report.html`` (all of it, the HTML self-contained), ``summary.json``; with ``--write-config``
also ``configs/behaviour/calibrated.yaml``.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from experiments import patterns as pt
from experiments.design import (
    DesignError,
    coerce_design,
    is_integer_param,
    load_timeseries,
    run_design,
    schema_fields,
)
from experiments.presentation import save_figure, setup_theme
from experiments.report import Block, Figure, Heading, Paragraph, Table, markdown_table, write_report
from sim.config import community_presets

REPO = Path(__file__).resolve().parent.parent
CONFIG_PATH = REPO / "configs" / "behaviour" / "calibrated.yaml"
DEFAULT_OUT = Path("results") / "calibration"


@dataclass(frozen=True)
class Prior:
    """A uniform prior on [lo, hi] for one behavioural parameter, with the reason for the range."""

    lo: float
    hi: float
    why: str


# The searched parameters: behavioural parameters marked "assumption" in BehaviourConfig (a parameter
# with a published source, e.g. activity_prob since #11, is not fitted) that act
# on the volunteer stock and participation (the observed patterns) or on the demand loop (the plausibility
# bounds). The ranges are narrower than the schema's hard limits [0, 1] etc.: roughly half to twice the
# default.
PRIORS: dict[str, Prior] = {
    "behaviour.register_base": Prior(
        0.0001, 0.0008, "weekly registration chance at civic propensity 1: 0.5–4 %/year"),
    "behaviour.register_influence": Prior(
        0.0, 6.0, "neighbourhood effect: none up to 6× per unit share of volunteers in the grid"),
    "behaviour.dropout_base": Prior(
        0.0002, 0.0020, "weekly drop-out: 1–10 %/year"),
    "behaviour.dropout_unrecognised": Prior(
        0.0, 0.003, "extra weekly drop-out of an unrecognised volunteer: 0–15 %/year (its direction is published, "
        "[V9]; its size is not)"),
    "behaviour.recognition_window_weeks": Prior(
        13, 52, "a quarter to a year without recognition before the extra drop-out"),
    "behaviour.member_activity_prob": Prior(
        0.02, 0.16, "weekly chance a self-organisation member takes part in the group's activity: 1–8 a year"),
    "behaviour.volunteer_hours_per_case": Prior(
        2.0, 6.0, "volunteer hours per simple case"),
    "behaviour.staff_cases_week": Prior(
        1.0, 4.0, "simple cases a community worker (社区工作者) handles per week beside other duties"),
    "behaviour.grid_worker_cases_week": Prior(
        1.5, 4.5, "simple cases a grid worker solves per week"),
}


IDENTIFIED = 0.6  # posterior 5–95 % range below this share of the prior range: the patterns inform the parameter


class CalibrationError(ValueError):
    """Bad arguments (the message says which)."""


# ------------------------------------------------------------------------------------------------
# design and simulation
# ------------------------------------------------------------------------------------------------
def check_priors(priors: dict[str, Prior]) -> None:
    """Each prior is a behavioural parameter marked 'assumption', within its schema limits."""
    fields = schema_fields()
    for key, p in priors.items():
        if key not in fields:
            raise CalibrationError(f"prior {key} is not a parameter")
        m = fields[key].metadata
        if m.get("source") != "assumption":
            raise CalibrationError(f"prior {key} has a source ({m.get('source')}); only assumptions are calibrated")
        if not (m["lo"] <= p.lo < p.hi <= m["hi"]):
            raise CalibrationError(f"prior {key} [{p.lo}, {p.hi}] is outside the schema range [{m['lo']}, {m['hi']}]")


def lhs_design(n: int, seed: int, priors: dict[str, Prior] = PRIORS) -> pd.DataFrame:
    """N parameter sets from a seeded Latin hypercube scaled to the prior box (integers rounded)."""
    keys = list(priors)
    unit = qmc.LatinHypercube(d=len(keys), seed=seed).random(n)
    values = qmc.scale(unit, [priors[k].lo for k in keys], [priors[k].hi for k in keys])
    return coerce_design(pd.DataFrame(values, columns=keys))


def scenario_overrides(scenarios: list[pt.Scenario], community: str, steps: int) -> list[str]:
    """Overrides running every scenario in one sweep (the cross product of their communities and policies)."""
    communities = dict.fromkeys(s.community or community for s in scenarios)
    policies = dict.fromkeys(s.policy for s in scenarios)
    return [f"community={','.join(communities)}", f"policy={','.join(policies)}", f"steps={steps}",
            "behaviour=default"]


def simulate(design: pd.DataFrame, pats: list[pt.Pattern], sweep: Path, seeds: int, steps: int, community: str,
             extra: tuple[pt.Scenario, ...] = (), n_jobs: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the design in every scenario the patterns (and ``extra``) need, in one sweep.

    Returns (runs, statistics): ``runs`` is the collated runs table; ``statistics`` has one row per
    (``design_row``, ``seed``) and one column per pattern, each computed on the run of its scenario.
    """
    scenarios = list(dict.fromkeys([*(p.scenario for p in pats), *extra]))
    labels = ", ".join(s.label(community) for s in scenarios)
    print(f"— {labels}: {len(design)} points × {seeds} seeds → {sweep}", flush=True)
    runs = run_design(design, sweep, seeds, scenario_overrides(scenarios, community, steps), n_jobs=n_jobs)
    indicators = pt.needed_indicators(pats)
    ts = load_timeseries(sweep, runs, indicators) if indicators else pd.DataFrame(columns=["run", "step"])
    columns = []
    for scenario in dict.fromkeys(p.scenario for p in pats):
        group = [p for p in pats if p.scenario == scenario]
        mine = runs[(runs["community"] == (scenario.community or community)) & (runs["policy"] == scenario.policy)]
        stats = pt.statistics_per_run(mine, ts[ts["run"].isin(mine["run"])], group)
        stats = stats.merge(mine[["run", "design_row", "seed"]], on="run").drop(columns="run")
        columns.append(stats.set_index(["design_row", "seed"]))
    return runs, pd.concat(columns, axis=1).reset_index()


def per_point(stats: pd.DataFrame, pats: list[pt.Pattern]) -> pd.DataFrame:
    """Each pattern's statistic averaged over the seeds of each design row (``<key>_sd``: between seeds)."""
    keys = [p.key for p in pats]
    grouped = stats.groupby("design_row")[keys]
    return grouped.mean().join(grouped.std(ddof=1).add_suffix("_sd")).reset_index()


# ------------------------------------------------------------------------------------------------
# ABC
# ------------------------------------------------------------------------------------------------
def score(samples: pd.DataFrame, pats: list[pt.Pattern], accept: float) -> pd.DataFrame:
    """Add ``distance``, ``within_ranges`` and ``accepted`` columns.

    The accepted samples are the ``accept`` fraction nearest to the patterns, taking first those
    that meet every range (a sample just outside a bound can have a small distance, since the
    observed patterns count even inside their ranges), then, if too few do, the nearest others.
    """
    out = samples.copy()
    out["distance"] = [pt.distance(row, pats) for _, row in out.iterrows()]
    out["within_ranges"] = [pt.all_match(row, pats) for _, row in out.iterrows()]
    n_accept = max(1, math.ceil(accept * len(out)))
    order = out.sort_values(["within_ranges", "distance"], ascending=[False, True]).index[:n_accept]
    out["accepted"] = out.index.isin(order)
    return out


def posterior_summary(samples: pd.DataFrame, priors: dict[str, Prior]) -> pd.DataFrame:
    """Per parameter: previous default, prior range, posterior median and 5–95 % range, the point estimate.

    A parameter is *identified* when its posterior 5–95 % range is narrower than :data:`IDENTIFIED`
    of its prior range; its estimate is then the posterior median. An unidentified parameter keeps
    its previous default: the patterns carry no information on it, and its posterior median would
    differ from the default only by the noise of a few accepted samples.
    """
    fields = schema_fields()
    acc = samples[samples["accepted"]]
    rows = []
    for key, p in priors.items():
        q05, q50, q95 = np.quantile(acc[key], [0.05, 0.5, 0.95])
        spread = (q95 - q05) / (p.hi - p.lo)
        identified = bool(spread < IDENTIFIED)
        default = fields[key].default
        rows.append({"parameter": key, "default": default, "prior_lo": p.lo, "prior_hi": p.hi,
                     "posterior_q05": q05, "posterior_median": q50, "posterior_q95": q95,
                     "posterior_width_share": spread, "identified": identified,
                     "estimate": point_value(key, q50) if identified else default,
                     "unit": fields[key].metadata["unit"]})
    return pd.DataFrame(rows)


def point_value(key: str, value: float) -> float | int:
    """A value for the config file: rounded to 3 significant digits (integers to whole numbers)."""
    if is_integer_param(key):
        return round(value)
    if value == 0:
        return 0.0
    return float(f"{value:.3g}")


# ------------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------------
def plot_patterns(samples: pd.DataFrame, check: pd.DataFrame, pats: list[pt.Pattern], path: Path) -> None:
    """Simulated pattern statistics (all samples vs accepted, point estimate) against the observed ranges."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    setup_theme()
    long = samples.melt(id_vars=["accepted"], value_vars=[p.key for p in pats], var_name="pattern")
    long["set"] = np.where(long["accepted"], "accepted (posterior)", "all samples (prior)")
    both = pd.concat([long.assign(set="all samples (prior)"), long[long["accepted"]]])
    ncol = min(4, len(pats))
    nrow = math.ceil(len(pats) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.6 * nrow), squeeze=False)
    for ax, p in zip(axes.flat, pats, strict=False):
        data = both[(both["pattern"] == p.key) & both["value"].notna()]
        if data.empty:  # e.g. a rate that a run shorter than its definition cannot measure
            ax.text(0.5, 0.5, "not measurable in these runs", ha="center", va="center", transform=ax.transAxes)
            ax.set_title(f"{p.key}\n({p.role})", fontsize=9)
            continue
        sns.boxplot(data=data, x="set", y="value", hue="set", ax=ax, fliersize=0, width=0.5, legend=False,
                    palette={"all samples (prior)": "#bbbbbb", "accepted (posterior)": "#4c72b0"})
        sns.stripplot(data=data, x="set", y="value", ax=ax, size=2.5, color="black", alpha=0.35)
        ax.axhspan(p.low, p.high, color="#55a868", alpha=0.15, label="match range")
        if p.observed is not None:
            ax.axhline(p.observed, color="#55a868", lw=2, label="observed")
        row = check[check["pattern"] == p.key]
        if len(row):
            ax.plot([1], [row["mean"].iloc[0]], marker="D", color="#c44e52", ms=8, ls="", label="point estimate")
        ax.set_title(f"{p.key}\n({p.role})", fontsize=9)
        ax.set_xlabel("")
        ax.set_ylabel(p.unit)
        ax.tick_params(axis="x", labelsize=8)
        if p.observed is None and p.low <= 0 and samples[p.key].max() < p.high / 3:
            ax.set_ylim(0, samples[p.key].max() * 1.3)  # a bound far above every sample: zoom in
    for ax in list(axes.flat)[len(pats):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, frameon=False)
    fig.suptitle("Calibration: simulated patterns vs observed figures and plan-target bounds")
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    save_figure(fig, path.parent, path.name)


def plot_parameters(samples: pd.DataFrame, summary: pd.DataFrame, path: Path) -> None:
    """Prior (all samples) vs accepted histograms of each parameter; default and estimate marked."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    setup_theme()
    keys = summary["parameter"].tolist()
    ncol = 4
    nrow = math.ceil(len(keys) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.0 * nrow), squeeze=False)
    for ax, (_, row) in zip(axes.flat, summary.iterrows(), strict=False):
        key = row["parameter"]
        bins = np.linspace(row["prior_lo"], row["prior_hi"], 11)
        sns.histplot(samples[key], bins=bins, ax=ax, color="#bbbbbb", stat="density", label="prior samples")
        sns.histplot(samples.loc[samples["accepted"], key], bins=bins, ax=ax, color="#4c72b0", stat="density",
                     alpha=0.6, label="accepted")
        ax.axvline(row["default"], color="black", ls="--", lw=1.2, label="previous default")
        ax.axvline(row["estimate"], color="#c44e52", lw=2, label="calibrated")
        ax.set_title(key.removeprefix("behaviour."), fontsize=9)
        ax.set_xlabel(row["unit"], fontsize=8)
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, frameon=False)
    fig.suptitle("Calibration: prior and ABC posterior of the behavioural parameters")
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    save_figure(fig, path.parent, path.name)


# ------------------------------------------------------------------------------------------------
# check of the point estimate, and the config file
# ------------------------------------------------------------------------------------------------
def check_point(estimate: dict, out: Path, seeds: int, steps: int, community: str,
                n_jobs: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the point estimate on every pattern, and five_society for the yardstick; return both tables."""
    pats = list(pt.PATTERNS)
    five = pt.Scenario("five_society")
    runs, stats = simulate(pd.DataFrame([estimate]), pats, out / "check", seeds, steps, community,
                           extra=(five,), n_jobs=n_jobs)
    rows = []
    for p in pats:
        v = stats[p.key]
        rows.append({"pattern": p.key, "role": p.role, "scenario": p.scenario.label(community),
                     "mean": v.mean(), "sd": v.std(ddof=1), "low": p.low, "high": p.high, "observed": p.observed,
                     "match": p.matches(v.mean())})
    mine = runs[(runs["community"] == community) & (runs["policy"] == five.policy)]
    # an indicator that is not modelled (or not measurable) is null in every run: a column of None
    kpis = mine.reindex(columns=[t.key for t in pt.TARGETS]).apply(pd.to_numeric, errors="coerce").mean().to_dict()
    return pd.DataFrame(rows), pt.yardstick(kpis)


def config_text(summary: pd.DataFrame, info: dict) -> str:
    """calibrated.yaml: the point estimate with its provenance as comments."""
    lines = [
        "# Calibrated behavioural parameters (the shipped default: configs/config.yaml has `behaviour: calibrated`).",
        "# Written by experiments/calibrate.py — do not edit by hand; re-run the command below. Method and",
        "# results: docs/calibration.md; the patterns: docs/patterns.md and experiments/patterns.py.",
        f"# date: {info['date']}",
        "# method: rejection ABC over a Latin hypercube (scipy.stats.qmc.LatinHypercube, seed "
        f"{info['lhs_seed']}); distance = RMS of range-normalised pattern deviations;",
        f"#   accepted the {info['accept']:.0%} nearest of {info['samples']} samples, those meeting every range first "
        f"({info['n_accepted']} sets; {info['n_within']} of all samples met every range);",
        "#   point estimate = posterior median (3 significant digits) of the parameters the patterns identify",
        f"#   (posterior 5–95 % range < {IDENTIFIED:.0%} of the prior range); the others keep their defaults.",
        f"# scenario: community={info['community']}, policy=baseline, steps={info['steps']}, "
        f"seeds 0–{info['seeds'] - 1} per sample, other behaviour at the schema defaults.",
        "# patterns fitted: " + ", ".join(info["fitted"]),
        "# patterns checked only: " + ", ".join(info["validation"]),
        f"# command: {info['command']}",
        "# Parameters not listed here keep their schema defaults (sim/config.py, BehaviourConfig).",
    ]
    for _, r in summary.iterrows():
        key = r["parameter"].removeprefix("behaviour.")
        note = (f"prior [{r['prior_lo']:g}, {r['prior_hi']:g}]; posterior 5–95 % [{r['posterior_q05']:.3g}, "
                f"{r['posterior_q95']:.3g}]; previous default {r['default']:g}")
        if r["identified"]:
            lines.append(f"{key}: {point_value(r['parameter'], r['estimate'])!r}  # {note}")
        else:
            lines.append(f"# {key}: not identified by the patterns, default kept ({note})")
    return "\n".join(lines) + "\n"


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# ------------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m experiments.calibrate", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--samples", type=int, default=200, help="Latin-hypercube parameter sets")
    ap.add_argument("--seeds", type=int, default=3, help="seeds per parameter set")
    ap.add_argument("--steps", type=int, default=156, help="weeks per run (patterns use the final 52)")
    ap.add_argument("--accept", type=float, default=0.1, help="fraction of samples accepted (nearest first)")
    ap.add_argument("--community", default="urban_traditional", help="community preset of the calibration")
    ap.add_argument("--lhs-seed", type=int, default=0, help="seed of the Latin hypercube")
    ap.add_argument("--check-seeds", type=int, default=10, help="seeds for the check of the point estimate")
    ap.add_argument("--jobs", type=int, default=None, help="parallel jobs (default: all cores)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (re-run to resume)")
    ap.add_argument("--write-config", action="store_true", help="write the point estimate to --config-path")
    ap.add_argument("--config-path", type=Path, default=CONFIG_PATH, help="where --write-config writes")
    args = ap.parse_args(argv)
    validate(args)
    return args


def validate(args: argparse.Namespace) -> None:
    if args.samples < 2:
        raise CalibrationError(f"--samples={args.samples}: need at least 2")
    if args.seeds < 1 or args.check_seeds < 2:
        raise CalibrationError("--seeds must be ≥ 1 and --check-seeds ≥ 2")
    if args.steps < 2:
        raise CalibrationError(f"--steps={args.steps}: need at least 2 weeks")
    if not 0 < args.accept <= 1:
        raise CalibrationError(f"--accept={args.accept}: must be in (0, 1]")
    if args.community not in community_presets():
        raise CalibrationError(f"--community={args.community!r}: choose one of {', '.join(community_presets())}")
    if args.jobs is not None and args.jobs < 1:
        raise CalibrationError(f"--jobs={args.jobs}: must be ≥ 1")
    check_priors(PRIORS)


def calibrate(args: argparse.Namespace, argv: list[str]) -> dict:
    """The whole calibration; returns the summary (also written to summary.json)."""
    start = time.perf_counter()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    fitted = pt.fitted()
    design = lhs_design(args.samples, args.lhs_seed)
    _, stats = simulate(design, fitted, out / "abc", args.seeds, args.steps, args.community, n_jobs=args.jobs)
    samples = design.rename_axis("design_row").reset_index().merge(per_point(stats, fitted), on="design_row")
    samples = score(samples, fitted, args.accept)
    samples.to_parquet(out / "samples.parquet", index=False)
    samples[samples["accepted"]].sort_values("distance").to_parquet(out / "accepted.parquet", index=False)
    summary = posterior_summary(samples, PRIORS)
    summary.to_csv(out / "posterior.csv", index=False)
    (out / "posterior.md").write_text(markdown_table(summary), encoding="utf-8")
    abc_minutes = (time.perf_counter() - start) / 60

    estimate = {k: point_value(k, v) for k, v in zip(summary["parameter"], summary["estimate"], strict=True)}
    check, yard = check_point(estimate, out, args.check_seeds, args.steps, args.community, args.jobs)
    check.to_csv(out / "check.csv", index=False)
    (out / "check.md").write_text(markdown_table(check), encoding="utf-8")
    yard.to_csv(out / "yardstick.csv", index=False)
    plot_patterns(samples, check, fitted, out / "patterns")
    plot_parameters(samples, summary, out / "parameters")

    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "lhs_seed": args.lhs_seed,
        "samples": args.samples, "seeds": args.seeds, "steps": args.steps, "accept": args.accept,
        "community": args.community, "n_accepted": int(samples["accepted"].sum()),
        "n_within": int(samples["within_ranges"].sum()),
        "n_accepted_within": int((samples["accepted"] & samples["within_ranges"]).sum()),
        "fitted": [p.key for p in fitted], "validation": [p.key for p in pt.patterns(("validation",))],
        "command": "python -m experiments.calibrate " + shlex.join(argv),
        "estimate": estimate, "check_all_match": bool(check["match"].all()),
        "abc_minutes": round(abc_minutes, 2), "total_minutes": round((time.perf_counter() - start) / 60, 2),
    }
    (out / "summary.json").write_text(json.dumps(info, indent=2, ensure_ascii=False, default=str) + "\n",
                                      encoding="utf-8")
    write_report(report_blocks(info, summary, check, yard), out, "Calibration")
    if args.write_config:
        write_text_atomic(args.config_path, config_text(summary, info))
        info["config_written"] = str(args.config_path)
    return info


def report_blocks(info: dict, posterior: pd.DataFrame, check: pd.DataFrame, yard: pd.DataFrame) -> list[Block]:
    """The calibration as one report: set-up, posterior, check of the point estimate, yardstick, figures."""
    return [
        Heading("Calibration: rejection ABC of the behavioural parameters", 1),
        Paragraph(f"{info['samples']} Latin-hypercube samples (seed {info['lhs_seed']}) × {info['seeds']} seeds in "
                  f"{info['community']} × baseline, {info['steps']} weeks; accepted the {info['accept']:.0%} nearest "
                  f"to the patterns ({info['n_accepted']} samples; {info['n_within']} samples met every range, "
                  f"{info['n_accepted_within']} of the accepted did). Command: `{info['command']}`."),
        Heading("Posterior"),
        Paragraph(f"A parameter is identified when its posterior 5–95 % range is below {IDENTIFIED:.0%} of its prior "
                  "range; its estimate is then the posterior median, else it keeps its default."),
        Table(posterior),
        Heading("Check of the point estimate"),
        Paragraph("Every pattern (validation patterns included) on the point estimate, mean over the check seeds."),
        Table(check),
        Heading("Five-society linkage against the Enyang 2025 targets"),
        Paragraph("A yardstick, never fitted: the plan's targets are goals, not observations."),
        Table(yard),
        Heading("Figures"),
        Figure("patterns.png", "Simulated pattern statistics (all samples, accepted, point estimate) against the "
                               "observed figures and their match ranges."),
        Figure("parameters.png", "Prior and ABC posterior of each searched parameter; previous default and "
                                 "calibrated value."),
    ]


def report(info: dict, out: Path) -> None:
    print(f"\naccepted {info['n_accepted']} of {info['samples']} samples "
          f"({info['n_within']} samples met every range; {info['n_accepted_within']} of the accepted did)")
    print((out / "posterior.md").read_text(encoding="utf-8"))
    print((out / "check.md").read_text(encoding="utf-8"))
    print(f"ABC {info['abc_minutes']:.1f} min, total {info['total_minutes']:.1f} min; outputs in {out}/")
    if "config_written" in info:
        print(f"wrote {info['config_written']}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
        info = calibrate(args, argv)
    except (CalibrationError, DesignError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report(info, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
