"""The tables of a comparison: end-of-run values, scenario means, paired differences, replication.

Statistics: :mod:`experiments.stats` (t intervals, Cohen's d_z, the replication rule and its
verdicts).  Every function here is pure: tables in, tables out, no files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from experiments import stats
from experiments.loading import CompareError, Sweep, format_param, sort_key


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
    """Each non-baseline run next to the baseline run with the same seed and other swept values.

    Long table: scenario, kpi, seed, treated, control, diff (sorted by seed).
    """
    match = ["kpi", "seed", *[p for p in sweep.params if p not in sweep.baseline]]
    base = ends[ends["is_baseline"]][[*match, "value"]].rename(columns={"value": "control"})
    treated = ends[~ends["is_baseline"]][[*match, "scenario", "value"]].rename(columns={"value": "treated"})
    try:
        pairs = treated.merge(base, on=match, how="inner", validate="many_to_one")
    except pd.errors.MergeError:
        raise CompareError("the baseline is not unique: several baseline runs share a seed and the other swept "
                           f"values ({', '.join(match[1:])}); name a more specific --baseline") from None
    pairs["diff"] = pairs["treated"] - pairs["control"]
    return pairs.sort_values(["scenario", "kpi", "seed"], ignore_index=True)


def paired_table(pairs: pd.DataFrame, scenarios: list[str], kpis: list[str]) -> pd.DataFrame:
    """Per scenario and KPI: n pairs, means, mean difference, 95 % CI, d_z, verdict, seeds needed."""
    rows = []
    for scenario in [s for s in scenarios if s in set(pairs["scenario"])]:
        for k in kpis:
            p = pairs[(pairs["scenario"] == scenario) & (pairs["kpi"] == k)].dropna(subset=["diff"])
            ci = stats.paired_diff(p["treated"], p["control"])
            rows.append({"scenario": scenario, "kpi": k, "n_pairs": ci.n, "mean_baseline": p["control"].mean(),
                         "mean_scenario": p["treated"].mean(), "mean_diff": ci.mean, "ci_low": ci.low,
                         "ci_high": ci.high, "half_width": ci.half_width, "sd_diff": ci.sd, "d_z": ci.d_z,
                         "verdict": stats.verdict(ci, stats.REL_DIFF)})
    out = pd.DataFrame(rows)
    out["n_needed"] = seeds_needed(out, stats.REL_DIFF)
    return out


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


def heatmap_table(ends: pd.DataFrame, sweep: Sweep, key: str) -> pd.DataFrame:
    """Mean of ``key`` over seeds on the grid of the two swept parameters (rows: first, columns: second)."""
    rows, cols = sweep.params
    data = ends[ends["kpi"] == key]
    table = data.pivot_table(index=rows, columns=cols, values="value", aggfunc="mean")
    table = table.reindex(index=sorted(table.index, key=sort_key), columns=sorted(table.columns, key=sort_key))
    table.index = [format_param(v) for v in table.index]
    table.columns = [format_param(v) for v in table.columns]
    return table


def analyse(sweep: Sweep, kpis: list[str], heatmap: str | None, lang: str) -> Results:
    """Compute every table of the comparison (no files written)."""
    ends = end_values(sweep, list(dict.fromkeys([*kpis, *([heatmap] if heatmap else [])])))
    kpi_ends = ends[ends["kpi"].isin(kpis)]
    summary = scenario_summary(kpi_ends, sweep.scenarios, kpis)
    if sweep.baseline:
        pairs = pair_runs(kpi_ends, sweep)
        diffs = paired_table(pairs, sweep.scenarios, kpis)
        curves = replication_curves(pairs, "diff")
    else:
        pairs, diffs, curves = None, None, replication_curves(kpi_ends, "value")
    return Results(sweep, kpis, lang, ends, summary, diffs, pairs, curves, heatmap)
