"""Calibrate the uncertain behavioural parameters to the observed patterns (docs/calibration.md).

``python -m experiments.calibrate [--samples N] [--alpha A] [--generations G] [--seeds R] [--steps W]
[--out DIR] [--write-config]``

Sequential ABC (approximate Bayesian computation) by adaptive population Monte Carlo
(:mod:`experiments.abc_smc`, Lenormand et al. 2013):

1. draw N parameter sets from the prior box :data:`PRIORS` (``scipy.stats.qmc.LatinHypercube``, seeded);
2. run each with R seeds in the calibration scenario (baseline policy, ``--community``, W weeks,
   the other behavioural parameters at the schema defaults) through the sweep machinery
   (:func:`experiments.design.run_design`: parallel, resumable — one folder per generation);
3. compute each *fitted* pattern's statistic (:mod:`experiments.patterns`), average it over the seeds, and the
   distance: the root mean square of the range-normalised deviations;
4. keep the ``alpha`` share nearest; propose the rest anew around them (a Gaussian kernel, importance
   weights), and repeat until few new particles beat the tolerance: the last generation is the posterior;
5. a parameter whose weighted posterior 5–95 % range is below 60 % of its prior range is identified and takes
   its posterior median, and so does one the patterns inform in combination with another (|r| ≥ 0.5): keeping
   its default while its partner moves would leave the ridge the patterns define (the 2026-12-07 calibration:
   register_base at its median with dropout_unrecognised at its default missed both volunteer patterns); the
   others keep their defaults;
6. check on seeds never used in the fit (:mod:`experiments.validation`): the point estimate on every pattern,
   and a posterior predictive check (parameter sets drawn from the posterior × fresh seeds) on the fitted and
   the held-out patterns; the five_society scenario against the Enyang 2025 targets (a yardstick, never fitted).

Outputs in ``--out``: ``samples.parquet`` (every simulated particle: generation, parameters, statistics,
distance, posterior weight), ``posterior.parquet`` (the last generation, weighted), ``generations.csv``,
``posterior.csv``/``.md``, ``check.csv``/``.md``, ``predictive.csv``/``.md``, ``predictive_runs.parquet``,
``yardstick.csv``, ``predictive.png``/``.svg``, ``parameters.png``/``.svg``, ``report.md``/``.html`` (the
calibration), ``validation.md``/``.html`` (the checks), ``summary.json``; with ``--write-config`` also
``configs/behaviour/calibrated.yaml`` and, beside it, ``posterior.csv`` (the weighted posterior sample that
``experiments.bands --posterior`` and the dashboard's parameter replicates draw from).
"""

from __future__ import annotations

import argparse
import json
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
from experiments import validation as val
from experiments.abc_smc import apmc, effective_sample_size, weighted_cov, weighted_quantile
from experiments.calibration_report import config_text, plot_parameters, report_blocks, validation_blocks
from experiments.design import (
    DesignError,
    coerce_design,
    is_integer_param,
    load_timeseries,
    run_design,
    schema_fields,
)
from experiments.report import markdown_table, write_report
from sim.settings.config import community_presets

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
    "behaviour.professional_share": Prior(
        0.05, 0.5, "share of work orders that need a professional organisation (care, counselling, legal aid): no "
        "published share; from a twentieth to half of the orders"),
    "behaviour.intake_orders_per_worker_week": Prior(
        4.0, 20.0, "orders a community or grid worker signs for or answers a week: about one to four a working day"),
}


IDENTIFIED = 0.6  # posterior 5–95 % range below this share of the prior range: the patterns inform the parameter
COMBINED_R = 0.5  # |weighted posterior correlation| with another parameter from which the two are informed together


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
def score(points: pd.DataFrame, pats: list[pt.Pattern]) -> pd.DataFrame:
    """Add ``distance`` (RMS of the range-normalised deviations) and ``within_ranges`` to per-point statistics."""
    out = points.copy()
    out["distance"] = [pt.distance(row, pats) for _, row in out.iterrows()]
    out["within_ranges"] = [pt.all_match(row, pats) for _, row in out.iterrows()]
    return out


def run_abc(args: argparse.Namespace, out: Path) -> tuple[pd.DataFrame, list]:
    """APMC over the prior box; every generation's new particles run as one resumable sweep.

    Returns (samples, history): one row per simulated particle in order of simulation (its ``sample`` number
    is the one :func:`experiments.abc_smc.apmc` reports), and the generations."""
    fitted = pt.fitted()
    keys = list(PRIORS)
    records: list[pd.DataFrame] = []

    def simulate_generation(theta: np.ndarray, generation: int) -> np.ndarray:
        design = coerce_design(pd.DataFrame(theta, columns=keys))
        _, stats = simulate(design, fitted, out / "abc" / f"g{generation:02d}", args.seeds, args.steps,
                            args.community, n_jobs=args.jobs)
        points = design.rename_axis("design_row").reset_index().merge(per_point(stats, fitted), on="design_row")
        points = score(points.sort_values("design_row"), fitted)
        points.insert(0, "generation", generation)
        records.append(points)
        return points["distance"].to_numpy(float)

    first = lhs_design(args.samples, args.lhs_seed)
    history = apmc(simulate_generation, keys, [PRIORS[k].lo for k in keys], [PRIORS[k].hi for k in keys],
                   first[keys].to_numpy(float), alpha=args.alpha, p_acc_min=args.p_acc_min,
                   max_generations=args.generations, seed=args.lhs_seed, integer=[is_integer_param(k) for k in keys])
    samples = pd.concat(records, ignore_index=True).drop(columns="design_row")
    samples.insert(0, "sample", np.arange(len(samples)))
    last = history[-1].particles.set_index("sample")["weight"]
    samples["posterior_weight"] = samples["sample"].map(last).fillna(0.0)
    samples["accepted"] = samples["posterior_weight"] > 0
    return samples, history


def generations_table(history: list) -> pd.DataFrame:
    return pd.DataFrame([{"generation": g.index, "tolerance": g.epsilon, "new_particles_simulated": g.simulated,
                          "share_of_new_within_previous_tolerance": g.p_acc,
                          "effective_sample_size": effective_sample_size(g.particles["weight"])}
                         for g in history])


def posterior_summary(posterior: pd.DataFrame, priors: dict[str, Prior]) -> pd.DataFrame:
    """Per parameter: previous default, prior range, weighted posterior median and 5–95 % range, identifiability,
    the point estimate.

    A parameter is *identified* when its posterior 5–95 % range is narrower than :data:`IDENTIFIED` of its prior
    range; its estimate is then the posterior median. Otherwise the patterns may still inform it *in
    combination*: ``partner`` names the parameter its posterior is most correlated with (weighted correlation
    ``partner_r``; |r| ≥ 0.5 is a combination), and its estimate is its posterior median too, so that the pair
    stays on the ridge the patterns define. An unidentified parameter keeps its previous default: its posterior
    median would differ from the default only by the noise of a few particles.
    """
    fields = schema_fields()
    keys = list(priors)
    w = posterior["weight"].to_numpy(float)
    x = posterior[keys].to_numpy(float)
    cov = weighted_cov(x, w)
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(np.where(sd > 0, sd, np.nan), np.where(sd > 0, sd, np.nan))
    rows = []
    for i, (key, p) in enumerate(priors.items()):
        q05, q50, q95 = weighted_quantile(x[:, i], w, [0.05, 0.5, 0.95])
        spread = (q95 - q05) / (p.hi - p.lo)
        identified = bool(spread < IDENTIFIED)
        others = np.where(np.arange(len(keys)) == i, 0.0, np.nan_to_num(corr[i]))
        j = int(np.argmax(np.abs(others)))
        r = float(others[j])
        combined = not identified and abs(r) >= COMBINED_R
        if identified:
            status = "identified"
        elif combined:
            status = f"in combination with {keys[j].removeprefix('behaviour.')} (r = {r:+.2f})"
        else:
            status = "not identified"
        default = fields[key].default
        rows.append({"parameter": key, "default": default, "prior_lo": p.lo, "prior_hi": p.hi,
                     "posterior_q05": q05, "posterior_median": q50, "posterior_q95": q95,
                     "posterior_width_share": spread, "partner": keys[j], "partner_r": r,
                     "identifiability": status, "identified": identified,
                     "estimate": point_value(key, q50) if identified or combined else default,
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
# ------------------------------------------------------------------------------------------------
# checks on fresh seeds, and the config file
# ------------------------------------------------------------------------------------------------
def check_point(estimate: dict, out: Path, seeds: int, steps: int, community: str,
                n_jobs: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the point estimate on every pattern with fresh seeds, and five_society for the yardstick."""
    pats = list(pt.PATTERNS)
    five = pt.Scenario("five_society")
    fresh = list(range(val.FRESH_SEED, val.FRESH_SEED + seeds))
    runs, stats = simulate(pd.DataFrame([estimate]), pats, out / "check", fresh, steps, community,
                           extra=(five,), n_jobs=n_jobs)
    mine = runs[(runs["community"] == community) & (runs["policy"] == five.policy)]
    # an indicator that is not modelled (or not measurable) is null in every run: a column of None
    kpis = mine.reindex(columns=[t.key for t in pt.TARGETS]).apply(pd.to_numeric, errors="coerce").mean().to_dict()
    return val.point_table(stats, pats, community), pt.yardstick(kpis)


def predictive_check(posterior: pd.DataFrame, out: Path, args: argparse.Namespace) -> pd.DataFrame:
    """Posterior predictive runs: ``--ppc-draws`` sets from the posterior, each with ``--ppc-seeds`` fresh seeds of
    its own (from :data:`experiments.validation.PREDICTIVE_SEED` on: no two draws share a seed, so the predictive
    spread holds the seed noise as well as the parameters'), every pattern; one row per run (``design_row``,
    ``seed``) and one column per pattern."""
    draws = val.resample(posterior, list(PRIORS), args.ppc_draws, args.lhs_seed)
    draws["seed"] = val.PREDICTIVE_SEED + args.ppc_seeds * np.arange(len(draws))
    _, stats = simulate(coerce_design(draws), list(pt.PATTERNS), out / "predictive", args.ppc_seeds, args.steps,
                        args.community, n_jobs=args.jobs)
    return stats


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
    ap.add_argument("--samples", type=int, default=200, help="particles per generation (the first: a Latin hypercube)")
    ap.add_argument("--alpha", type=float, default=0.5, help="share of particles kept in each generation")
    ap.add_argument("--generations", type=int, default=8, help="at most this many generations")
    ap.add_argument("--p-acc-min", type=float, default=0.05,
                    help="stop once at most this share of a generation's new particles beat the tolerance")
    ap.add_argument("--seeds", type=int, default=3, help="seeds per particle (seeds 0…R−1)")
    ap.add_argument("--steps", type=int, default=156, help="weeks per run (patterns use the final 52)")
    ap.add_argument("--community", default="urban_traditional", help="community preset of the calibration")
    ap.add_argument("--lhs-seed", type=int, default=0, help="seed of the Latin hypercube and of the APMC kernel")
    ap.add_argument("--check-seeds", type=int, default=10,
                    help=f"fresh seeds (from {val.FRESH_SEED}) for the check of the point estimate")
    ap.add_argument("--ppc-draws", type=int, default=40, help="posterior draws of the posterior predictive check")
    ap.add_argument("--ppc-seeds", type=int, default=2,
                    help=f"fresh seeds (from {val.PREDICTIVE_SEED}) per posterior draw")
    ap.add_argument("--jobs", type=int, default=None, help="parallel jobs (default: all cores)")
    ap.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the figures")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (re-run to resume)")
    ap.add_argument("--write-config", action="store_true", help="write the point estimate to --config-path")
    ap.add_argument("--config-path", type=Path, default=CONFIG_PATH, help="where --write-config writes")
    args = ap.parse_args(argv)
    validate(args)
    return args


def validate(args: argparse.Namespace) -> None:
    if args.samples < 4:
        raise CalibrationError(f"--samples={args.samples}: need at least 4")
    if not 0 < args.alpha < 1 or int(args.alpha * args.samples) < 2 or int(args.alpha * args.samples) >= args.samples:
        raise CalibrationError(f"--alpha={args.alpha}: must be in (0, 1) and keep at least 2 and fewer than all of "
                               f"--samples={args.samples}")
    if args.generations < 1:
        raise CalibrationError(f"--generations={args.generations}: need at least 1")
    if not 0 <= args.p_acc_min < 1:
        raise CalibrationError(f"--p-acc-min={args.p_acc_min}: must be in [0, 1)")
    if args.seeds < 1 or args.check_seeds < 2 or args.ppc_draws < 1 or args.ppc_seeds < 1:
        raise CalibrationError("--seeds, --ppc-draws and --ppc-seeds must be ≥ 1 and --check-seeds ≥ 2")
    if args.seeds > val.FRESH_SEED:
        raise CalibrationError(f"--seeds={args.seeds}: the checks' fresh seeds start at {val.FRESH_SEED}")
    if args.check_seeds > val.PREDICTIVE_SEED - val.FRESH_SEED:
        raise CalibrationError(f"--check-seeds={args.check_seeds}: at most {val.PREDICTIVE_SEED - val.FRESH_SEED} "
                               f"(the posterior predictive seeds start at {val.PREDICTIVE_SEED})")
    if args.steps < 2:
        raise CalibrationError(f"--steps={args.steps}: need at least 2 weeks")
    if args.community not in community_presets():
        raise CalibrationError(f"--community={args.community!r}: choose one of {', '.join(community_presets())}")
    if args.jobs is not None and args.jobs < 1:
        raise CalibrationError(f"--jobs={args.jobs}: must be ≥ 1")
    check_priors(PRIORS)


def calibrate(args: argparse.Namespace, argv: list[str]) -> dict:
    """The whole calibration and its checks; returns the summary (also written to summary.json)."""
    start = time.perf_counter()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    samples, history = run_abc(args, out)
    samples.to_parquet(out / "samples.parquet", index=False)
    posterior = samples[samples["accepted"]].rename(columns={"posterior_weight": "weight"})
    posterior.sort_values("distance").to_parquet(out / "posterior.parquet", index=False)
    generations = generations_table(history)
    generations.to_csv(out / "generations.csv", index=False)
    summary = posterior_summary(posterior, PRIORS)
    summary.to_csv(out / "posterior.csv", index=False)
    (out / "posterior.md").write_text(markdown_table(summary), encoding="utf-8")
    abc_minutes = (time.perf_counter() - start) / 60

    estimate = {k: point_value(k, v) for k, v in zip(summary["parameter"], summary["estimate"], strict=True)}
    check, yard = check_point(estimate, out, args.check_seeds, args.steps, args.community, args.jobs)
    check.to_csv(out / "check.csv", index=False)
    (out / "check.md").write_text(markdown_table(check), encoding="utf-8")
    yard.to_csv(out / "yardstick.csv", index=False)
    runs = predictive_check(posterior, out, args)
    runs.to_parquet(out / "predictive_runs.parquet", index=False)
    predictive = val.predictive_table(runs, list(pt.PATTERNS), args.community)
    predictive.to_csv(out / "predictive.csv", index=False)
    (out / "predictive.md").write_text(markdown_table(predictive), encoding="utf-8")
    val.plot_predictive(runs, check, list(pt.PATTERNS), out / "predictive", args.lang)
    plot_parameters(samples, summary, out / "parameters", args.lang)

    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "lhs_seed": args.lhs_seed,
        "identified_share": IDENTIFIED,
        "samples": args.samples, "alpha": args.alpha, "p_acc_min": args.p_acc_min,
        "generations": len(history), "simulated": len(samples), "runs_abc": len(samples) * args.seeds,
        "last_p_acc": history[-1].p_acc, "tolerance": history[-1].epsilon,
        "ess": effective_sample_size(posterior["weight"]), "seeds": args.seeds, "steps": args.steps,
        "community": args.community, "n_accepted": len(posterior),
        "n_within": int(samples["within_ranges"].sum()), "n_accepted_within": int(posterior["within_ranges"].sum()),
        "fitted": [p.key for p in pt.fitted()], "held_out": [p.key for p in pt.held_out()],
        "check_seeds": args.check_seeds, "ppc_draws": args.ppc_draws, "ppc_seeds": args.ppc_seeds,
        "predictive_summary": val.summary_line(predictive),
        "command": "python -m experiments.calibrate " + shlex.join(argv),
        "estimate": estimate, "check_all_match": bool(check["match"].all()),
        "abc_minutes": round(abc_minutes, 2), "total_minutes": round((time.perf_counter() - start) / 60, 2),
    }
    (out / "summary.json").write_text(json.dumps(info, indent=2, ensure_ascii=False, default=str) + "\n",
                                      encoding="utf-8")
    write_report(report_blocks(info, generations, summary), out, "Calibration")
    write_report(validation_blocks(info, check, predictive, yard), out, "Validation", stem="validation")
    if args.write_config:
        sample = posterior[[*PRIORS, "distance", "weight"]].sort_values("distance")
        write_text_atomic(args.config_path.with_name(val.POSTERIOR_SAMPLE.name), sample.to_csv(index=False))
        write_text_atomic(args.config_path, config_text(summary, info))
        info["config_written"] = f"{args.config_path} and {val.POSTERIOR_SAMPLE.name} beside it"
    return info


def report(info: dict, out: Path) -> None:
    print(f"\n{info['generations']} generations, {info['simulated']} particles; posterior {info['n_accepted']} "
          f"particles (effective size {info['ess']:.0f})")
    print((out / "posterior.md").read_text(encoding="utf-8"))
    print((out / "predictive.md").read_text(encoding="utf-8"))
    print(f"posterior predictive: {info['predictive_summary']}")
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
