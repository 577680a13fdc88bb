"""The tables of a comparison: end-of-run values, scenario means, paired differences, replication.

Statistics: :mod:`experiments.stats` (t intervals, Cohen's d_z, the replication rule and its
verdicts).  Every function here is pure: tables in, tables out, no files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from experiments import stats
from experiments.loading import CompareError, Sweep, format_param, parameter_columns, sort_key
from experiments.presentation import is_fraction, is_money_key, scenario_names
from sim.model.indicators import RATE_PARTS


@dataclass
class Results:
    """Everything computed for one comparison, ready to be drawn and reported."""

    sweep: Sweep
    kpis: list[str]
    lang: str
    ends: pd.DataFrame
    summary: pd.DataFrame
    diffs: pd.DataFrame | None
    pairs: pd.DataFrame | None
    curves: pd.DataFrame
    heatmap: str | None
    figures: dict[str, str] = field(default_factory=dict)  # stem -> caption
    cost: pd.DataFrame | None = None  # cost-effectiveness (cost_effectiveness); None without a baseline or costs
    bands: pd.DataFrame | None = None  # seed interval against parameter band (stats.band_table); with --over only
    band_diffs: pd.DataFrame | None = None  # its input: policy (the scenario), set, seed, kpi, diff
    names: dict[str, str] = field(default_factory=dict)  # scenario -> display name in ``lang`` (scenario_names)
    missing: pd.DataFrame | None = None  # scenario runs without a baseline run (missing_baselines)
    commands: list[str] = field(default_factory=list)  # the sweeps that would add those baselines (baseline_commands)


def end_values(sweep: Sweep, kpis: list[str]) -> pd.DataFrame:
    """End-of-run value of each KPI per complete run (runs.parquet, else the last week's value).

    Long table: run, scenario, seed, is_baseline, the swept parameters, kpi, value.
    """
    keys = ["run", "scenario", "seed", "is_baseline", *sweep.params]
    parts = []
    last = sweep.ts.sort_values("step").groupby(["run", "indicator"], observed=True)["value"].last()
    for k in kpis:
        if k in sweep.kpi_columns:
            values = pd.to_numeric(sweep.runs[k], errors="coerce").astype(float).to_numpy()  # null: not measurable
        else:
            values = last.xs(k, level="indicator").reindex(sweep.runs["run"]).to_numpy()
        parts.append(sweep.runs[keys].assign(kpi=k, value=values))
    return pd.concat(parts, ignore_index=True)


def scenario_summary(ends: pd.DataFrame, scenarios: list[str], kpis: list[str]) -> pd.DataFrame:
    """Per scenario and KPI (in the given orders): seeds, mean and 95 % CI, replication verdict for the mean."""
    out = stats.summarise(ends, ["scenario", "kpi"])
    rank = {s: i for i, s in enumerate(scenarios)} | {k: i for i, k in enumerate(kpis)}
    out = out.sort_values(["scenario", "kpi"], key=lambda col: col.map(rank), ignore_index=True)
    rows = [stats.Interval(int(r.n), r.mean, r.sd, r.half_width) for r in out.itertuples()]
    out["verdict"] = [stats.verdict(ci, stats.REL_MEAN) for ci in rows]
    out["n_needed"] = seeds_needed(out, stats.REL_MEAN)
    return out


def pair_runs(ends: pd.DataFrame, sweep: Sweep) -> pd.DataFrame:
    """Each non-baseline run next to the baseline run with the same seed and the same values of the swept
    parameters it is paired on (``sweep.match``: :func:`experiments.loading.pairing_keys`).

    Long table: scenario, kpi, seed, treated, control, diff (sorted by seed).
    """
    match = ["kpi", "seed", *sweep.match]
    base = ends[ends["is_baseline"]][[*match, "value"]].rename(columns={"value": "control"})
    treated = ends[~ends["is_baseline"]][[*match, "scenario", "value"]].rename(columns={"value": "treated"})
    try:
        pairs = treated.merge(base, on=match, how="inner", validate="many_to_one")
    except pd.errors.MergeError:
        raise CompareError("the baseline is not unique: several baseline runs share a seed and the other swept "
                           f"values ({', '.join(match[1:])}); name a more specific --baseline (swept: "
                           f"{', '.join(sweep.params)})") from None
    pairs["diff"] = pairs["treated"] - pairs["control"]
    return pairs.sort_values(["scenario", "kpi", "seed"], ignore_index=True)


def missing_baselines(sweep: Sweep) -> pd.DataFrame:
    """The scenario runs with no baseline run to pair with (same seed and ``sweep.match`` values).

    One row per scenario and combination of the paired-on values: scenario, the ``sweep.match`` columns, seeds
    (sorted list); empty when every run is paired."""
    cols = ["scenario", *sweep.match, "seeds"]
    if not sweep.baseline:
        return pd.DataFrame(columns=cols)
    keys = ["seed", *sweep.match]
    runs = sweep.runs
    base = runs.loc[runs["is_baseline"], keys].drop_duplicates()
    treated = runs.loc[~runs["is_baseline"], ["scenario", *keys]]
    lone = treated.merge(base, on=keys, how="left", indicator=True)
    lone = lone[lone["_merge"] == "left_only"]
    if lone.empty:
        return pd.DataFrame(columns=cols)
    rows = [{"scenario": scenario, **dict(zip(sweep.match, values, strict=True)), "seeds": sorted(g["seed"].tolist())}
            for (scenario, *values), g in lone.groupby(["scenario", *sweep.match], sort=False, dropna=False)]
    return pd.DataFrame(rows, columns=cols)


def seeds_override(seeds: list[int]) -> str:
    """Seeds as a sweep override: ``seed='range(3,5)'`` for a run of consecutive seeds, else ``seed=1,4,9``."""
    seeds = sorted(set(int(s) for s in seeds))
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"'seed=range({seeds[0]},{seeds[-1] + 1})'"
    return "seed=" + ",".join(str(s) for s in seeds)


def baseline_commands(sweep: Sweep, missing: pd.DataFrame) -> list[str]:
    """The sweeps that would give every run in ``missing`` its baseline run, appended into the same folder: the
    baseline, the paired-on values and seeds that lack one, and every parameter all runs share (``steps=52``)."""
    if missing.empty:
        return []
    runs = sweep.runs
    constant = [c for c in parameter_columns(runs) if c not in sweep.params and c != "seed"
                and c not in sweep.baseline and runs[c].notna().all() and runs[c].astype(str).nunique() == 1]
    fixed = [*(f"{k}={v}" for k, v in sweep.baseline.items()), *(f"{c}={override_value(runs[c].iloc[0])}"
                                                                 for c in constant)]
    wanted: dict[tuple, set[int]] = {}
    for row in missing.itertuples(index=False):
        values = tuple(row[1:1 + len(sweep.match)])  # after the scenario, before the seeds
        wanted.setdefault(values, set()).update(row[-1])
    commands = []
    for values, seeds in wanted.items():
        paired = [f"{k}={override_value(v)}" for k, v in zip(sweep.match, values, strict=True)]
        commands.append(" ".join(["python -m sim -m", *fixed, *paired, seeds_override(sorted(seeds)),
                                  f"hydra.sweep.dir={sweep.path}"]))
    return commands


def override_value(value: object) -> str:
    """A parameter value as written in a command-line override (1.0 → 1, True → true)."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    return format_param(value)


# The smallest effect of interest (δ) of a paired difference, per indicator: a difference whose 95 % CI lies
# inside (−δ, δ) is reported as "no difference larger than δ".  Rates and shares: 1 percentage point (the plan's
# targets and Sichuan's hotline figures are stated in whole per cent); registered volunteers: 25 per 10,000
# residents (1 % of the plan's 2,500); organisations serving: half an organisation (less cannot change a
# community's count by one in most seeds); money: 10,000 yuan (1 万元) over the run, the unit in which the
# cost-effectiveness table reports.  Other indicators have none unless given (compare --delta KPI=VALUE).
SMALLEST_EFFECT = {"volunteers_per_10k": 25.0, "social_orgs_serving": 0.5}
RATE_EFFECT = 0.01
MONEY_EFFECT = 10_000.0


def smallest_effect(key: str, given: dict[str, float] | None = None) -> float | None:
    """δ of ``key``: ``given`` (compare --delta), else :data:`SMALLEST_EFFECT`, 1 pp for a rate, 10,000 yuan for
    money, else None."""
    if given and key in given:
        return given[key]
    if key in SMALLEST_EFFECT:
        return SMALLEST_EFFECT[key]
    if is_fraction(key):
        return RATE_EFFECT
    if is_money_key(key):
        return MONEY_EFFECT
    return None


def paired_table(pairs: pd.DataFrame, scenarios: list[str], kpis: list[str],
                 deltas: dict[str, float] | None = None) -> pd.DataFrame:
    """Per scenario and KPI: n pairs, means, mean difference, 95 % CI, d_z, the smallest effect of interest δ, the
    verdict (:func:`stats.paired_verdict`) and, when undecided, the seeds in all (``n_needed``) and the seeds
    more (``more_seeds``) that would settle it."""
    rows = []
    for scenario in [s for s in scenarios if s in set(pairs["scenario"])]:
        for k in kpis:
            p = pairs[(pairs["scenario"] == scenario) & (pairs["kpi"] == k)].dropna(subset=["diff"])
            ci = stats.paired_diff(p["treated"], p["control"])
            delta = smallest_effect(k, deltas)
            verdict = stats.paired_verdict(ci, delta, stats.REL_DIFF)
            more = stats.more_seeds(ci, delta) if verdict == stats.UNDECIDED else None
            rows.append({"scenario": scenario, "kpi": k, "n_pairs": ci.n, "mean_baseline": p["control"].mean(),
                         "mean_scenario": p["treated"].mean(), "mean_diff": ci.mean, "ci_low": ci.low,
                         "ci_high": ci.high, "half_width": ci.half_width, "sd_diff": ci.sd, "d_z": ci.d_z,
                         "delta": delta, "verdict": verdict, "more_seeds": more,
                         "n_needed": None if more is None else ci.n + more})
    cols = ["scenario", "kpi", "n_pairs", "mean_baseline", "mean_scenario", "mean_diff", "ci_low", "ci_high",
            "half_width", "sd_diff", "d_z", "delta", "verdict", "more_seeds", "n_needed"]
    out = pd.DataFrame(rows, columns=cols)
    for column in ("more_seeds", "n_needed"):
        out[column] = out[column].astype("Int64")
    return out


COST_KPI = "public_cost_run"  # the public money a run spends, in yuan (sim/model/indicators.py)
PER_YUAN = 10_000               # effects are reported per this many yuan of extra public money


def cost_effectiveness(pairs: pd.DataFrame, cost_pairs: pd.DataFrame, scenarios: list[str],
                       kpis: list[str]) -> pd.DataFrame:
    """What each scenario buys with its extra public money, per scenario and KPI.

    ``pairs``: the KPIs' paired runs (:func:`pair_runs`); ``cost_pairs``: the same pairing of the runs' public cost
    (``public_cost_run``, yuan over the run). For each pair, the extra cost is the scenario's public cost minus its
    baseline's, and the effect per 10,000 yuan is the pair's difference divided by its extra cost, times 10,000;
    reported: the mean extra cost with its 95 % t interval, the mean difference, and the mean effect per 10,000 yuan
    with its 95 % t interval over the pairs. Where any pair's extra cost is not positive, no public money bought
    that pair's difference, a ratio to it has no meaning, and the effect per 10,000 yuan is left empty for the
    scenario (``n_costed`` counts the pairs with a positive extra cost).
    """
    match = [c for c in cost_pairs.columns if c not in ("kpi", "treated", "control", "diff")]
    cost = cost_pairs[[*match, "diff"]].rename(columns={"diff": "extra_cost"})
    rows = []
    for scenario in [s for s in scenarios if s in set(pairs["scenario"])]:
        for k in [k for k in kpis if k != COST_KPI]:
            p = pairs[(pairs["scenario"] == scenario) & (pairs["kpi"] == k)].dropna(subset=["diff"])
            p = p.merge(cost, on=match, how="inner", validate="one_to_one").dropna(subset=["extra_cost"])
            if p.empty:
                continue
            extra = stats.mean_ci(p["extra_cost"])
            costed = p[p["extra_cost"] > 0]
            ratio = stats.mean_ci(costed["diff"] / costed["extra_cost"] * PER_YUAN) if len(costed) == len(p) \
                else stats.mean_ci([])
            rows.append({"scenario": scenario, "kpi": k, "n_pairs": len(p), "n_costed": len(costed),
                         "extra_cost_yuan": extra.mean, "extra_cost_low": extra.low, "extra_cost_high": extra.high,
                         "mean_diff": p["diff"].mean(), "per_10k_yuan": ratio.mean, "per_10k_low": ratio.low,
                         "per_10k_high": ratio.high})
    cols = ["scenario", "kpi", "n_pairs", "n_costed", "extra_cost_yuan", "extra_cost_low", "extra_cost_high",
            "mean_diff", "per_10k_yuan", "per_10k_low", "per_10k_high"]
    return pd.DataFrame(rows, columns=cols)


def seeds_needed(table: pd.DataFrame, rel: float) -> pd.Series:
    """Seeds needed (nullable integers) where the verdict is 'enough' or 'more'; empty otherwise."""
    sd = table["sd_diff"] if "sd_diff" in table else table["sd"]
    mean = table["mean_diff"] if "mean_diff" in table else table["mean"]
    values = [stats.n_needed(s, m, rel) if v in (stats.ENOUGH, stats.MORE) else None
              for s, m, v in zip(sd, mean, table["verdict"], strict=True)]
    return pd.Series(values, index=table.index, dtype="Int64")


def replication_curves(values: pd.DataFrame, column: str) -> pd.DataFrame:
    """CI half-width using the first n seeds (n = 2..N) per scenario and KPI, from a long table."""
    parts = []
    for (scenario, k), g in values.sort_values("seed").groupby(["scenario", "kpi"], sort=False):
        curve = stats.replication_curve(g[column])
        parts.append(curve.assign(scenario=scenario, kpi=k))
    cols = ["scenario", "kpi", "n", "mean", "sd", "half_width"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


ROLLING_WEEKS = 13  # weekly rates are drawn over a rolling quarter: a week's few orders make them jump


def rolling_rates(ts: pd.DataFrame, keys: list[str], window: int = ROLLING_WEEKS) -> tuple[pd.DataFrame, list[str]]:
    """The weekly table with each rate of ``keys`` that has its weekly counts (sim.model.indicators.RATE_PARTS) replaced
    by the rate over the last ``window`` weeks of each run (numerator and denominator summed; NaN with none due):
    the weekly rate of a community's few orders is noise.  Returns the table and the rates replaced."""
    done = [k for k in keys if k in RATE_PARTS and {RATE_PARTS[k][0], *RATE_PARTS[k][1]} <= set(ts["indicator"])]
    if not done:
        return ts, []
    parts = sorted({c for k in done for c in (RATE_PARTS[k][0], *RATE_PARTS[k][1])})
    wide = (ts[ts["indicator"].isin(parts)].assign(indicator=lambda d: d["indicator"].astype(str))
            .pivot_table(index=["run", "step"], columns="indicator", values="value", observed=True).sort_index())
    sums = wide.groupby(level="run").rolling(window, min_periods=1).sum().droplevel(0)
    meta = ts.drop_duplicates("run").set_index("run")[[c for c in ts.columns
                                                        if c not in ("run", "step", "indicator", "value")]]
    out = []
    for k in done:
        num, den = RATE_PARTS[k]
        d = sums[list(den)].sum(axis=1)
        rate = (sums[num] / d.where(d > 0)).rename("value").reset_index()
        out.append(rate.assign(indicator=k).join(meta, on="run"))
    rest = ts[~ts["indicator"].astype(str).isin(done)].assign(indicator=lambda d: d["indicator"].astype(str))
    return pd.concat([rest, *out], ignore_index=True)[list(ts.columns)], done


def heatmap_table(ends: pd.DataFrame, sweep: Sweep, key: str) -> pd.DataFrame:
    """Mean of ``key`` over seeds on the grid of the two swept parameters (rows: first, columns: second)."""
    rows, cols = sweep.params
    data = ends[ends["kpi"] == key]
    table = data.pivot_table(index=rows, columns=cols, values="value", aggfunc="mean")
    table = table.reindex(index=sorted(table.index, key=sort_key), columns=sorted(table.columns, key=sort_key))
    table.index = [format_param(v) for v in table.index]
    table.columns = [format_param(v) for v in table.columns]
    return table


def analyse(sweep: Sweep, kpis: list[str], heatmap: str | None, lang: str,
            deltas: dict[str, float] | None = None) -> Results:
    """Compute every table of the comparison (no files written)."""
    ends = end_values(sweep, list(dict.fromkeys([*kpis, *([heatmap] if heatmap else [])])))
    kpi_ends = ends[ends["kpi"].isin(kpis)]
    summary = scenario_summary(kpi_ends, sweep.scenarios, kpis)
    cost = None
    if sweep.baseline:
        pairs = pair_runs(kpi_ends, sweep)
        diffs = paired_table(pairs, sweep.scenarios, kpis, deltas)
        curves = replication_curves(pairs, "diff")
        if COST_KPI in sweep.kpi_columns:
            cost_pairs = pair_runs(end_values(sweep, [COST_KPI]), sweep)
            cost = cost_effectiveness(pairs, cost_pairs, sweep.scenarios, kpis)
    else:
        pairs, diffs, curves = None, None, replication_curves(kpi_ends, "value")
    band_diffs = by_parameter_set(pairs, sweep.over) if pairs is not None and sweep.over else None
    bands = stats.band_table(band_diffs) if band_diffs is not None else None
    missing = missing_baselines(sweep)
    return Results(sweep, kpis, lang, ends, summary, diffs, pairs, curves, heatmap, cost=cost, bands=bands,
                   band_diffs=band_diffs, names=scenario_names(sweep.settings, lang), missing=missing,
                   commands=baseline_commands(sweep, missing))


def by_parameter_set(pairs: pd.DataFrame, over: list[str]) -> pd.DataFrame:
    """The paired differences with their parameter set named (the ``over`` values, e.g. "0.3, 500"): the input
    of :func:`stats.band_table` (policy = the scenario)."""
    sets = pairs[over].map(format_param).agg(", ".join, axis=1)
    return pd.DataFrame({"policy": pairs["scenario"], "set": sets, "seed": pairs["seed"], "kpi": pairs["kpi"],
                         "diff": pairs["diff"]})
