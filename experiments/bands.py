"""Seed noise against parameter uncertainty for a policy contrast (issue #12, item 2, in part).

    python -m experiments.bands [--policies baseline,five_society] [--sets 16] [--seeds 4] [--jobs N]
                                [--posterior [FILE]] [--out DIR] [--lang en|zh] [overrides ...]
                                                                                e.g. community=relocation

A seed-only confidence interval says how sure we are of a policy's effect *for one set of the model's uncertain
parameters*. This command draws ``--sets`` parameter sets from the calibration's prior ranges
(:data:`experiments.calibrate.PRIORS`, each range with its source; a Latin hypercube, seeded, the same sets for
every policy) — or, with ``--posterior``, resampled by weight from the calibration's ABC posterior
(``configs/behaviour/posterior.csv``, shipped with the calibrated values: what the patterns leave of that
uncertainty) — runs every policy under
every set with the same ``--seeds`` seeds (common random numbers) through
:func:`sim.runs.runner.run_many`, and reports for each key indicator the paired difference of each policy against the
first (the control):

* the mean difference over all sets and seeds;
* the **seed interval**: the 95 % t half-width of the mean over seeds, averaged over the sets (the width a
  seed-only comparison would report);
* the **parameter band**: the 2.5–97.5 % range over the sets of each set's mean difference;
* the **share of sets in which its sign holds** (the sign of the overall mean);
* which of the two widths **dominates** (the band's half-width against the seed half-width; neither when equal,
  e.g. both zero).

Outputs in ``--out`` (default ``results/bands``): ``bands.csv``, ``differences.csv`` (one row per set, seed and
indicator), ``parameter_sets.csv``, ``bands.png``/``.svg``, ``report.md``, and the runs in ``sweep/`` (resumable:
run the same command again to finish an interrupted one).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from experiments import stats
from experiments.calibrate import PRIORS, Prior
from experiments.compare_report import bands_for_report
from experiments.design import coerce_design
from experiments.loading import COMPLETE
from experiments.parameter_figures import plot_bands
from experiments.presentation import save_figure, setup_theme, term
from experiments.report import markdown_table
from experiments.validation import POSTERIOR_SAMPLE, PosteriorError, load_posterior, resample
from sim.model.indicators import KEY_INDICATORS
from sim.runs.outputs import write_atomic
from sim.runs.runner import run_many
from sim.settings.config import check_value, schema_fields, settings_for, with_values
from sim.settings.overrides import check_overrides
from sim.settings.params import ConfigError
from sim.tables.glossary import GLOSSARY, preset_label

SAMPLE_SEED = 12  # the Latin hypercube's own seed: the same parameter sets on every run of the command
POSTERIOR = POSTERIOR_SAMPLE  # the shipped sample; a run's results/calibration/posterior.parquet works too


class BandsError(ValueError):
    """Bad input: the message names the option and what is allowed."""


def parameter_sets(n: int, priors: dict = PRIORS) -> pd.DataFrame:
    """``n`` parameter sets spread over the prior ranges (Latin hypercube); integer parameters rounded."""
    keys = list(priors)
    unit = qmc.LatinHypercube(d=len(keys), seed=SAMPLE_SEED).random(n)
    lo = np.array([priors[k].lo for k in keys])
    hi = np.array([priors[k].hi for k in keys])
    values = coerce_design(pd.DataFrame(lo + unit * (hi - lo), columns=keys))  # integer parameters rounded
    values.index.name = "set"
    return values


def posterior_sets(n: int, path: Path, extra: dict[str, Prior]) -> pd.DataFrame:
    """``n`` sets of the calibrated parameters resampled by weight from an ABC posterior file (seeded); the
    ``extra`` parameters (``--param``) spread over their ranges as without a posterior."""
    try:
        post = load_posterior(path, list(PRIORS))
    except PosteriorError as exc:
        raise BandsError(f"--posterior {exc}") from None
    sets = coerce_design(resample(post, list(PRIORS), n, SAMPLE_SEED))
    if extra:
        sets = sets.join(parameter_sets(n, extra))
    sets.index.name = "set"
    return sets


def draw_sets(n: int, posterior: Path | None = None, extra: dict[str, Prior] | None = None) -> pd.DataFrame:
    """The ``n`` parameter sets of a study over parameter uncertainty (bands, decompose): a Latin hypercube over
    the calibration's prior ranges and the ``extra`` ranges (``--param``), or, with ``posterior``, the calibrated
    parameters resampled from that ABC posterior file and only the ``extra`` parameters not among them spread over
    their ranges."""
    extra = extra or {}
    if posterior is not None:
        return posterior_sets(n, posterior, {k: v for k, v in extra.items() if k not in PRIORS})
    return parameter_sets(n, {**PRIORS, **extra})


def set_values(values: pd.Series) -> dict[str, int | float]:
    """One parameter set (a row of :func:`draw_sets`) as plain Python values for
    :func:`sim.settings.config.with_values`."""
    return {k: (int(v) if isinstance(v, np.integer) else float(v)) for k, v in values.items()}


def contrasts(runs: pd.DataFrame, policies: list[str], kpis: list[str]) -> pd.DataFrame:
    """Long table of paired differences: policy, set, seed, kpi, diff (policy − control, same set and seed)."""
    control, parts = policies[0], []
    base = runs[runs["policy"] == control].set_index(["set", "seed"])
    for policy in policies[1:]:
        treated = runs[runs["policy"] == policy].set_index(["set", "seed"])
        both = treated.index.intersection(base.index)
        for k in kpis:
            diff = treated.loc[both, k].astype(float) - base.loc[both, k].astype(float)
            parts.append(diff.rename("diff").reset_index().assign(policy=policy, kpi=k))
    cols = ["policy", "set", "seed", "kpi", "diff"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def policy_names(policies: list[str], lang: str) -> dict[str, str]:
    """Each policy preset's display name (the glossary's; the name itself for a preset it does not know)."""
    return {p: preset_label("policy", p, lang) if f"policy={p}" in GLOSSARY else p for p in policies}


def report(table: pd.DataFrame, args: argparse.Namespace, n_runs: int, lang: str) -> str:
    """The report: the policies by name, rates' differences in percentage points, money (in Chinese, 万元) and
    counts as :mod:`experiments.compare_report` writes them."""
    names = policy_names(args.policy_list, lang)
    shown = bands_for_report(table, lang, names)
    shown.columns = [term("policy", lang), *shown.columns[1:]]
    rows = [markdown_table(shown)]
    post = args.posterior is not None
    source = {"en": f"resampled from the ABC posterior ({args.posterior})" if post else "from the calibration's prior "
                    "ranges",
              "zh": f"从校准的ABC后验（{args.posterior}）按权重重抽样" if post else "从校准先验范围抽取"}
    heads = {"en": ("Seed noise and parameter uncertainty", f"{args.sets} parameter sets {source['en']} "
                    f"× {args.seeds} seeds × {len(args.policy_list)} policies = {n_runs} runs; "
                    f"differences against {names[args.policy_list[0]]}, paired by set and seed."),
             "zh": ("随机种子噪声与参数不确定性",
                    f"{source['zh']} {args.sets} 组参数 × {args.seeds} 个随机种子 × "
                    f"{len(args.policy_list)} 个政策 = {n_runs} 次运行；"
                    f"与{names[args.policy_list[0]]}按参数组和种子配对比较。")}
    title, intro = heads[lang]
    return "\n".join([f"# {title}", "", intro, "", *rows, "", "![](bands.png)", ""])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m experiments.bands", description=__doc__.split("\n\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policies", default="baseline,five_society", help="control first (default: %(default)s)")
    parser.add_argument("--sets", type=int, default=16, help="parameter sets (default 16)")
    parser.add_argument("--seeds", type=int, default=4, help="seeds per set and policy (default 4)")
    parser.add_argument("--jobs", type=int, default=None, help="runs at once (default: all cores)")
    parser.add_argument("--out", type=Path, default=Path("results/bands"), help="output folder")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=LO:HI",
                        help="also vary this parameter uniformly over [LO, HI] (repeatable), e.g. "
                             "behaviour.professional_share=0.3:0.9")
    parser.add_argument("--posterior", type=Path, nargs="?", const=POSTERIOR, default=None, metavar="FILE",
                        help="draw the calibrated parameters from this ABC posterior instead of their prior ranges "
                             f"(default file: {POSTERIOR})")
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    parser.add_argument("overrides", nargs="*", help="community and other settings, as for python -m sim")
    args = parser.parse_args(argv)
    args.policy_list = [p.strip() for p in args.policies.split(",") if p.strip()]
    return args


def extra_priors(specs: list[str]) -> dict[str, Prior]:
    """``KEY=LO:HI`` options as uniform priors (checked against the schema: the key, LO < HI, both in range)."""
    fields, out = schema_fields(), {}
    for spec in specs:
        key, _, rng = spec.partition("=")
        lo_text, _, hi_text = rng.partition(":")
        if key not in fields:
            raise BandsError(f"--param {spec!r}: {key!r} is not a parameter (see python -m sim --help)")
        try:
            lo, hi = float(lo_text), float(hi_text)
        except ValueError:
            raise BandsError(f"--param {spec!r}: write KEY=LO:HI with two numbers, e.g. {key}=0.3:0.9") from None
        if not lo < hi:
            raise BandsError(f"--param {spec!r}: LO must be below HI")
        for value in (lo, hi):
            try:
                numeric = check_value(key, round(value) if fields[key].type == "int" else value)
            except ConfigError as exc:
                raise BandsError(f"--param {spec!r}: {exc}") from None
            if not numeric:
                raise BandsError(f"--param {spec!r}: {key} is not a numeric parameter")
        out[key] = Prior(lo, hi, "given with --param")
    return out


def validate(args: argparse.Namespace) -> None:
    if len(args.policy_list) < 2 or len(set(args.policy_list)) != len(args.policy_list):
        raise BandsError(f"--policies {args.policies!r}: two or more different policies, the control first")
    if args.sets < 2:
        raise BandsError(f"--sets {args.sets}: allowed ≥ 2 (a band needs several parameter sets)")
    if args.seeds < 2:
        raise BandsError(f"--seeds {args.seeds}: allowed ≥ 2 (a seed interval needs several seeds)")
    if any(o.split("=")[0].lstrip("+~") in ("policy", "seed") for o in args.overrides):
        raise BandsError("policy= and seed= are set by --policies and --seeds, not as overrides")
    try:
        for policy in args.policy_list:  # each policy's runs, as they will be composed (a key given once each)
            check_overrides([*args.overrides, f"policy={policy}"])
    except ConfigError as exc:
        raise BandsError(str(exc)) from None
    args.extra = extra_priors(args.param)
    args.priors = {**PRIORS, **args.extra}


def plan_set_runs(policies: list[str], sets: pd.DataFrame, seeds: int, overrides: list[str] | tuple[str, ...] = (),
                  scope: tuple[str, ...] = ()) -> tuple[list, list[str], list[list[str]], list[tuple[str, int]]]:
    """The runs of every policy under every parameter set (a row of :func:`draw_sets`) and seed ``0..seeds-1``:
    (settings, folder names, the overrides that describe each run, (folder name, set) pairs).  ``scope``: extra
    ``key=value`` settings of every run that also name its folder and come first in its overrides (e.g.
    ``community=relocation``, for several studies in one sweep folder); ``overrides``: settings of every run that
    name nothing.  Raises :class:`sim.settings.params.ConfigError` for a bad setting."""
    settings, names, run_overrides, index = [], [], [], []
    prefix = "".join(f"{s}," for s in scope)
    for policy in policies:
        base = settings_for(*overrides, *scope, f"policy={policy}")
        for j, values in sets.iterrows():
            for seed in range(seeds):
                point = set_values(values)
                settings.append(with_values(base, {**point, "seed": seed}))
                names.append(f"{prefix}set={j:03d},policy={policy},seed={seed}")
                run_overrides.append([*scope, f"policy={policy}", f"seed={seed}",
                                      *(f"{k}={v}" for k, v in point.items())])
                index.append((names[-1], j))
    return settings, names, run_overrides, index


def complete_runs(runs: pd.DataFrame, index: list[tuple[str, int]], sweep: Path) -> pd.DataFrame:
    """The complete runs of ``index`` (the (folder name, set) pairs of :func:`plan_set_runs`) among the collated
    ``runs``, with their ``set``; a note on stderr counts those left out."""
    runs = runs.merge(pd.DataFrame(index, columns=["run_dir", "set"]), on="run_dir", how="inner")
    failed = runs[~runs["status"].isin(COMPLETE)]
    if len(failed):
        print(f"note: {len(failed)} runs did not finish and are left out (see their status.json in "
              f"{sweep})", file=sys.stderr)
    return runs[runs["status"].isin(COMPLETE)]  # "skipped": complete from an earlier call


def run(args: argparse.Namespace) -> pd.DataFrame:
    validate(args)
    sets = draw_sets(args.sets, args.posterior, args.extra)
    settings, names, overrides, index = plan_set_runs(args.policy_list, sets, args.seeds, args.overrides)
    runs = run_many(settings, args.out / "sweep", args.jobs, names=names, overrides=overrides)
    runs = complete_runs(runs, index, args.out / "sweep")
    kpis = [k for k in KEY_INDICATORS if k in runs.columns]
    diffs = contrasts(runs, args.policy_list, kpis)
    table = stats.band_table(diffs)
    if table.empty:
        raise BandsError(f"no complete pair of runs in {args.out / 'sweep'}: every run failed (see its status.json)")
    setup_theme(args.lang)
    write_atomic(args.out / "parameter_sets.csv", sets.to_csv())
    write_atomic(args.out / "differences.csv", diffs.to_csv(index=False))
    write_atomic(args.out / "bands.csv", table.to_csv(index=False))
    save_figure(plot_bands(diffs, table, args.lang, policy_names(args.policy_list, args.lang)), args.out, "bands")
    write_atomic(args.out / "report.md", report(table, args, len(settings), args.lang))
    return table


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        table = run(args)
    except BandsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.to_string(index=False))
    print(f"wrote {args.out}/report.md, bands.csv, bands.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
