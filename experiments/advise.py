"""Which lever mix meets the Enyang targets at the least public cost, and how sure are we (issue #12, item 5).

    python -m experiments.advise [--mixes 16] [--sets 4] [--seeds 2] [--robust 0.8] [--jobs N] [--out DIR]
                                 [--lang en|zh] [overrides ...]      e.g. community=relocation

Starting from the ``five_society`` preset (every lever on), the public-money levers and the extra social workers
(:func:`lever_space`) are varied over ``--mixes`` lever mixes: the no-public-money mix (all of them at zero)
first, then a seeded Latin hypercube over the ranges. Every mix runs under the same ``--sets`` parameter sets
(drawn from the calibration's prior ranges, as :mod:`experiments.bands` does) and the same ``--seeds`` seeds,
through :func:`sim.runs.runner.run_many`. For each mix:

* its mean **public cost** per year (the run's public cost over its years);
* for each plan target of a single community (003 专栏1, sim/model/indicators.py), the **probability it is met**: the
  share of (parameter set, seed) runs in which it is;
* the **targets expected to be met** (the sum of those probabilities) and the **robust count**: targets met with
  probability ≥ ``--robust``;
* whether it is on the **Pareto front** of cost against targets expected to be met (:func:`pareto_front`: no other
  mix costs no more and meets more, or meets as many for less).

The **robust choice** (:func:`robust_choice`) is the cheapest mix with the highest robust count. Outputs in
``--out`` (default ``results/advice``): ``mixes.csv`` (lever values), ``advice.csv`` (one row per mix),
``parameter_sets.csv``, ``advice.png``/``.svg`` (cost against targets expected, the front and the choice marked),
``report.md`` in the language asked, and the runs in ``sweep/`` (resumable). The search ranges are assumptions:
zero to twice the ``five_society`` preset's value (docs/advice.md).
"""

from __future__ import annotations

import argparse
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from experiments.bands import parameter_sets
from experiments.calibrate import PRIORS
from experiments.loading import COMPLETE
from experiments.presentation import kpi_label, save_figure, setup_theme, term
from sim.levers import lever_parameters
from sim.model.indicators import TARGETS, met
from sim.runs.outputs import write_atomic
from sim.runs.runner import run_many
from sim.settings.config import get_value, settings_for, with_values
from sim.settings.overrides import check_overrides
from sim.settings.params import ConfigError
from sim.tables.kpi_table import DISTRICT_TARGETS

BASE_POLICY = "five_society"
MIX_SEED = 5  # the lever design's own seed: the same mixes on every run of the command
WEEKS_PER_YEAR = 52


@dataclass(frozen=True)
class Lever:
    key: str
    lo: float
    hi: float
    integer: bool = False


@functools.cache
def lever_space() -> tuple[Lever, ...]:
    """The levers searched, and their ranges: every lever parameter that spends public money or adds public staff
    (declared ``money=True`` or ``staff=True`` in sim/levers/<lever>.py), in the levers' order, from zero to twice
    the five_society preset's value (assumption; the preset's values are themselves assumptions or figures of
    003/004, see docs/ODD.md's parameter table).  A parameter the preset leaves at zero (e.g. the fund's government
    grant) has no range and is not searched."""
    base = settings_for(f"policy={BASE_POLICY}")
    space = []
    for key in lever_parameters("money", "staff"):
        value = get_value(base, key)
        if value > 0:
            space.append(Lever(key, 0, 2 * value, integer=isinstance(value, int)))
    return tuple(space)


class AdviceError(ValueError):
    """Bad input: the message names the option and what is allowed."""


def lever_mixes(n: int, space: tuple[Lever, ...] | None = None) -> pd.DataFrame:
    """``n`` lever mixes: the no-public-money mix (every lever at its lower bound), then a Latin hypercube."""
    space = lever_space() if space is None else space
    unit = np.vstack([np.zeros(len(space)), qmc.LatinHypercube(d=len(space), seed=MIX_SEED).random(n - 1)])
    lo, hi = np.array([v.lo for v in space]), np.array([v.hi for v in space])
    mixes = pd.DataFrame(lo + unit * (hi - lo), columns=[v.key for v in space])
    for v in space:
        mixes[v.key] = mixes[v.key].round().astype(int) if v.integer else mixes[v.key].round(2)
    mixes.index.name = "mix"
    return mixes


def pareto_front(cost: pd.Series, benefit: pd.Series) -> pd.Series:
    """True where no other point costs no more and gives more, or gives as much for less (cost down, benefit up)."""
    c, b = cost.to_numpy(float), benefit.to_numpy(float)
    dominated = ((c[None, :] <= c[:, None]) & (b[None, :] >= b[:, None])
                 & ((c[None, :] < c[:, None]) | (b[None, :] > b[:, None]))).any(axis=1)
    return pd.Series(~dominated, index=cost.index)


def robust_choice(table: pd.DataFrame) -> int:
    """The mix with the most targets met with the asked probability, the cheapest among those."""
    best = table[table["robust_met"] == table["robust_met"].max()]
    return int(best.sort_values(["cost_per_year", "expected_met"], ascending=[True, False]).index[0])


def targets(columns) -> list:
    """The plan targets a single community's runs can be judged on (district-wide targets left out)."""
    return [t for t in TARGETS if t.key in columns and t.key not in DISTRICT_TARGETS]


def summarise(runs: pd.DataFrame, weeks: int, robust: float) -> pd.DataFrame:
    """One row per mix: cost per year, P(met) per target, targets expected to be met, robust count, front."""
    judged = targets(runs.columns)
    rows = []
    for mix, g in runs.groupby("mix"):
        row = {"mix": mix, "runs": len(g), "cost_per_year": float(g["public_cost_run"].mean()) * WEEKS_PER_YEAR / weeks}
        for t in judged:
            verdicts = [met(t, v) for v in g[t.key]]
            row[f"p_{t.key}"] = float(np.mean([bool(v) for v in verdicts]))  # unmeasurable counts as not met
        rows.append(row)
    table = pd.DataFrame(rows).set_index("mix")
    p_cols = [f"p_{t.key}" for t in judged]
    table["expected_met"] = table[p_cols].sum(axis=1)
    table["robust_met"] = (table[p_cols] >= robust - 1e-12).sum(axis=1)
    table["on_front"] = pareto_front(table["cost_per_year"], table["expected_met"])
    return table


def plot(table: pd.DataFrame, choice: int, robust: float, lang: str, folder: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.2), layout="constrained")
    rest, front = table[~table["on_front"]], table[table["on_front"]].sort_values("cost_per_year")
    ax.scatter(rest["cost_per_year"], rest["expected_met"], color="#949494", label=term("advice_mix", lang))
    ax.plot(front["cost_per_year"], front["expected_met"], "o-", color="#0173B2", label=term("advice_front", lang))
    chosen = table.loc[choice]
    ax.scatter([chosen["cost_per_year"]], [chosen["expected_met"]], s=220, facecolors="none", edgecolors="#D55E00",
               linewidths=2.5, label=f"{term('advice_choice', lang)}: {choice}", zorder=5)
    for mix, r in table[table["on_front"]].iterrows():  # the others are in the report's table
        ax.annotate(str(mix), (r["cost_per_year"], r["expected_met"]), textcoords="offset points", xytext=(5, 4),
                    fontsize=8)
    ax.set_xlabel(term("advice_cost", lang))
    ax.set_ylabel(term("advice_expected", lang))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    # the whole scale, 0 to every judged target, in whole targets (an expectation may fall between two ticks)
    judged = sum(c.startswith("p_") for c in table.columns)
    ax.set_ylim(-0.15, judged + 0.15)
    ax.yaxis.set_major_locator(plt.MultipleLocator(1))
    fig.legend(loc="outside lower center", ncols=3, frameon=False)  # below the axes: never over a point
    save_figure(fig, folder, "advice")  # closes it


def report(table: pd.DataFrame, mixes: pd.DataFrame, choice: int, args: argparse.Namespace, n_runs: int) -> str:
    lang, p = args.lang, f"{args.robust:.0%}"
    judged = [c.removeprefix("p_") for c in table.columns if c.startswith("p_")]
    head = [term("advice_mix", lang), term("advice_cost", lang), term("advice_expected", lang),
            term("advice_robust", lang, p=p),
            *(term("advice_p_met", lang, indicator=kpi_label(k, lang)) for k in judged)]
    rows = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for mix, r in table.sort_values("cost_per_year").iterrows():
        name = f"**{mix}**" if mix == choice else (f"{mix} ★" if r["on_front"] else str(mix))
        rows.append(f"| {name} | {r['cost_per_year']:,.0f} | {r['expected_met']:.2f} | {int(r['robust_met'])} | "
                    + " | ".join(f"{r['p_' + k]:.0%}" for k in judged) + " |")
    levers = "\n".join(f"- `{v.key}` = {int(mixes.loc[choice, v.key]) if v.integer else mixes.loc[choice, v.key]:,}"
                       for v in lever_space())
    heads = {"en": ("Lever mixes against the plan targets and their public cost",
                    f"{len(mixes)} lever mixes (from `{BASE_POLICY}`) × {args.sets} parameter sets × {args.seeds} "
                    f"seeds = {n_runs} runs ({' '.join(args.overrides) or 'default community'}). ★: on the Pareto "
                    f"front; **bold**: the robust choice, the cheapest mix with the most targets met with "
                    f"probability ≥ {p}. Its levers:"),
             "zh": ("各杠杆组合的达标情况与公共财政成本",
                    f"{len(mixes)} 个杠杆组合（以 `{BASE_POLICY}` 为起点）× {args.sets} 组参数 × "
                    f"{args.seeds} 个随机种子 = {n_runs} 次运行（{' '.join(args.overrides) or '默认社区'}）。"
                    f"★：帕累托前沿；**粗体**：稳健选择，即达标概率≥{p}的指标最多的组合中最省钱的一个。"
                    f"其杠杆取值：")}
    title, intro = heads[lang]
    return "\n".join([f"# {title}", "", intro, "", levers, "", *rows, "", "![](advice.png)", ""])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m experiments.advise", description=__doc__.split("\n\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixes", type=int, default=16, help="lever mixes, the no-public-money mix first (default 16)")
    parser.add_argument("--sets", type=int, default=4, help="parameter sets from the priors (default 4)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per set (default 2)")
    parser.add_argument("--robust", type=float, default=0.8, help="probability a target must be met with (0.8)")
    parser.add_argument("--jobs", type=int, default=None, help="runs at once (default: all cores)")
    parser.add_argument("--out", type=Path, default=Path("results/advice"))
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. community=relocation steps=260")
    return parser.parse_args(argv)


def validate(args: argparse.Namespace) -> None:
    if args.mixes < 2:
        raise AdviceError(f"--mixes {args.mixes}: allowed ≥ 2 (the no-public-money mix and at least one other)")
    if args.sets < 1 or args.seeds < 1:
        raise AdviceError(f"--sets {args.sets} --seeds {args.seeds}: allowed ≥ 1 each")
    if not 0 < args.robust <= 1:
        raise AdviceError(f"--robust {args.robust}: allowed a probability in (0, 1]")
    if any(o.split("=")[0].lstrip("+~") in ("policy", "seed") or o.lstrip("+~").startswith("policy.")
           for o in args.overrides):
        raise AdviceError("policy=, policy.* and seed= are set by the search, not as overrides")
    try:
        check_overrides([*args.overrides, f"policy={BASE_POLICY}"])
    except ConfigError as exc:
        raise AdviceError(str(exc)) from None


def run(args: argparse.Namespace) -> tuple[pd.DataFrame, int]:
    validate(args)
    mixes, sets = lever_mixes(args.mixes), parameter_sets(args.sets, PRIORS)
    base = settings_for(*args.overrides, f"policy={BASE_POLICY}")
    settings, names, overrides, index = [], [], [], []
    for m, levers in mixes.iterrows():
        lever_values = {v.key: int(levers[v.key]) if v.integer else float(levers[v.key]) for v in lever_space()}
        for j, values in sets.iterrows():
            point = {k: (int(v) if isinstance(v, np.integer) else float(v)) for k, v in values.items()}
            for seed in range(args.seeds):
                settings.append(with_values(base, {**lever_values, **point, "seed": seed}))
                names.append(f"mix={m:03d},set={j:03d},seed={seed}")
                overrides.append([f"seed={seed}", *(f"{k}={v}" for k, v in {**lever_values, **point}.items())])
                index.append((names[-1], m, j))
    runs = run_many(settings, args.out / "sweep", args.jobs, names=names, overrides=overrides)
    runs = runs.merge(pd.DataFrame(index, columns=["run_dir", "mix", "set"]), on="run_dir", how="inner")
    failed = runs[~runs["status"].isin(COMPLETE)]
    if len(failed):
        print(f"note: {len(failed)} runs did not finish and are left out (see their status.json in "
              f"{args.out / 'sweep'})", file=sys.stderr)
    runs = runs[runs["status"].isin(COMPLETE)]
    if runs.empty:
        raise AdviceError(f"no complete run in {args.out / 'sweep'}: every run failed (see its status.json)")
    table = summarise(runs, base.steps, args.robust)
    choice = robust_choice(table)
    setup_theme(args.lang)
    write_atomic(args.out / "mixes.csv", mixes.to_csv())
    write_atomic(args.out / "parameter_sets.csv", sets.to_csv())
    write_atomic(args.out / "advice.csv", table.to_csv())
    plot(table, choice, args.robust, args.lang, args.out)
    write_atomic(args.out / "report.md", report(table, mixes, choice, args, len(settings)))
    return table, choice


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        table, choice = run(args)
    except AdviceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table[["cost_per_year", "expected_met", "robust_met", "on_front"]].to_string())
    print(f"robust choice: mix {choice}; wrote {args.out}/report.md, advice.csv, advice.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
