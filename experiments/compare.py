"""Compare the scenarios of a sweep: charts, paired differences vs a baseline, a replication check.

``python -m experiments.compare <sweep_dir> [--baseline policy=baseline] [--lang zh|en] [--pdf]
[--kpis k1,k2] [--heatmap KPI] [--out DIR]`` reads ``runs.parquet`` and ``timeseries.parquet``
(collating the sweep first if they are missing) and writes into ``<sweep_dir>/compare/``:

* ``trajectories``  — each KPI over the weeks, mean and 95 % CI band across seeds per scenario;
* ``distributions`` — end-of-run values per scenario (box and points), with the plan target;
* ``differences``   — forest plot of the paired differences vs the baseline (same seed, same values
  of the other swept parameters), mean and 95 % t interval; table ``differences.csv``;
* ``heatmap_<KPI>`` — for a sweep of exactly two parameters: the KPI's mean over the grid;
* ``replication``   — CI half-width against the number of seeds used, with a verdict per comparison;
* ``report.md`` and ``report.html`` (self-contained), ``scenarios.csv``, ``replication.csv``.

A *scenario* is one combination of the swept parameters other than the seed.  Figures are PNG and
SVG (and PDF with ``--pdf``).  Everything is written into a temporary folder that replaces the
output folder at the end, so a failure leaves the earlier output (or none), never a partial one.
Statistics: experiments/stats.py (rules for the verdicts in its docstring).
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import plotting as pl
from experiments import stats
from experiments.collate import RUNS, TIMESERIES, CollateError, collate

DEFAULT_KPIS = ("volunteers_per_10k", "response_rate", "completion_rate", "satisfaction_mean", "social_orgs_active",
                "fund_balance")
DEFAULT_HEATMAP = "satisfaction_mean"
COMPLETE = ("done", "skipped")
META_COLUMNS = {"run", "run_dir", "status", "error", "community", "policy", "seed", "district", "config_hash",
                "wall_time_s"}
REPORT_MARK = "report.md"  # an output folder holding this file may be replaced by a new comparison
PACKAGES = ("numpy", "pandas", "scipy", "matplotlib", "seaborn", "pyarrow")


class CompareError(RuntimeError):
    """Bad input: the message says what is wrong and what is allowed."""


@dataclass
class Sweep:
    """A collated sweep: complete runs (with a ``scenario`` column), the others, the weekly series."""

    path: Path
    runs: pd.DataFrame
    problems: pd.DataFrame
    ts: pd.DataFrame
    params: list[str]                 # swept parameters other than the seed, in sweep order
    scenarios: list[str]              # scenario labels, baseline(s) first
    kpi_columns: list[str]            # final KPIs in runs.parquet
    indicators: list[str]             # weekly indicators in timeseries.parquet
    baseline: dict = field(default_factory=dict)  # {key: value} of the baseline runs, or {}


# ---------------------------------------------------------------------------------------------
# Loading and validating
# ---------------------------------------------------------------------------------------------

def parse_value(text: str) -> object:
    """An override value as Hydra/collate read it: JSON if it parses (numbers), else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _override_keys(run_dirs: pd.Series) -> list[str]:
    """Keys of the overrides in job folder names (``policy=micro_fund,seed=3``), in first-seen order."""
    keys: dict[str, None] = {}
    for name in run_dirs.dropna():
        for part in str(name).split(","):
            key, eq, _ = part.partition("=")
            if eq and not key.startswith("hydra."):
                keys[key.lstrip("+~")] = None
    return list(keys)


def swept_parameters(runs: pd.DataFrame) -> list[str]:
    """Parameters other than the seed that take more than one value among ``runs``, in column order."""
    candidates = set(_override_keys(runs["run_dir"])) | {"community", "policy", "district"}
    return [c for c in runs.columns
            if c in candidates and c != "seed" and runs[c].astype(str).nunique(dropna=False) > 1]


def short_names(params: list[str]) -> dict[str, str]:
    """Short names for scenario labels: ``policy.micro_fund.fen_per_unit`` → ``fen`` (full key if ambiguous)."""
    short = {p: p.rsplit(".", 1)[-1].split("_per_")[0] for p in params}
    clashes = {s for s in short.values() if list(short.values()).count(s) > 1}
    return {p: (p if s in clashes else s) for p, s in short.items()}


def _fmt_param(value: object) -> str:
    return f"{value:g}" if isinstance(value, float | np.floating) else str(value)


def _sort_key(value: object) -> tuple:
    """Numbers in numeric order before strings in alphabetical order."""
    numeric = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    return (0, float(value), "") if numeric else (1, 0.0, str(value))


def _matches(series: pd.Series, value: object) -> pd.Series:
    """Where ``series`` equals ``value`` as written (so 1, 1.0 and "1" match)."""
    return series.map(_fmt_param) == _fmt_param(value)


def load_sweep(path: Path, baseline_spec: str | None) -> Sweep:
    """Read (or first collate) the sweep, label its scenarios and resolve the baseline."""
    if not path.is_dir():
        raise CompareError(f"no such sweep folder: {path}")
    if not (path / RUNS).is_file() or not (path / TIMESERIES).is_file():
        try:
            collate(path)
        except CollateError as exc:
            raise CompareError(str(exc)) from None
    runs = pd.read_parquet(path / RUNS)
    complete = runs[runs["status"].isin(COMPLETE)].copy()
    problems = runs[~runs["status"].isin(COMPLETE)].copy()
    if complete.empty:
        raise CompareError(f"{path / RUNS} holds no complete run (statuses: {sorted(runs['status'].unique())})")
    params = swept_parameters(complete)
    overrides = set(_override_keys(runs["run_dir"]))
    kpi_columns = [c for c in complete.columns if c not in META_COLUMNS and c not in overrides
                   and pd.api.types.is_numeric_dtype(complete[c])]
    baseline = resolve_baseline(complete, params, baseline_spec)
    label_keys = params or ["policy"]
    names = short_names(label_keys)
    complete["scenario"] = [", ".join(f"{names[k]}={_fmt_param(row[k])}" for k in label_keys)
                            for _, row in complete.iterrows()]
    complete["is_baseline"] = _is_baseline(complete, baseline)
    first = complete.drop_duplicates("scenario").to_dict("records")
    order = sorted(first, key=lambda r: (not r["is_baseline"], [_sort_key(r[k]) for k in label_keys]))
    ts = pd.read_parquet(path / TIMESERIES)
    ts = ts[ts["run"].isin(complete["run"])].merge(complete[["run", "scenario", "seed"]], on="run")
    return Sweep(path, complete, problems, ts, params, [r["scenario"] for r in order], kpi_columns,
                 sorted(ts["indicator"].astype(str).unique()), baseline)


def _is_baseline(runs: pd.DataFrame, baseline: dict) -> pd.Series:
    mask = pd.Series(bool(baseline), index=runs.index)
    for key, value in baseline.items():
        mask &= _matches(runs[key], value)
    return mask


def resolve_baseline(runs: pd.DataFrame, params: list[str], spec: str | None) -> dict:
    """``{key: value}`` of the baseline runs from ``KEY=VALUE`` (None: policy=baseline if swept; 'none': {})."""
    if spec is None:
        ok = "policy" in params and _matches(runs["policy"], "baseline").any()
        return {"policy": "baseline"} if ok else {}
    if spec.strip().lower() == "none":
        return {}
    key, eq, text = spec.partition("=")
    key = key.strip()
    if not eq or not key:
        raise CompareError(f"--baseline must be KEY=VALUE (e.g. policy=baseline) or 'none', not {spec!r}")
    if key not in params:
        allowed = ", ".join(params) if params else "none (this sweep varies only the seed)"
        raise CompareError(f"--baseline {spec}: {key!r} is not a swept parameter of this sweep; "
                           f"allowed keys: {allowed}")
    values = sorted(runs[key].dropna().unique(), key=_sort_key)
    value = parse_value(text.strip())
    if not _matches(runs[key], value).any():
        raise CompareError(f"--baseline {spec}: no complete run has {key}={text}; allowed values: "
                           + ", ".join(_fmt_param(v) for v in values))
    return {key: value}


def resolve_kpis(sweep: Sweep, kpis: list[str], what: str = "--kpis") -> list[str]:
    """Check KPI names against the sweep's final KPIs and weekly indicators."""
    allowed = sorted(set(sweep.kpi_columns) | set(sweep.indicators))
    unknown = [k for k in kpis if k not in allowed]
    if unknown:
        raise CompareError(f"{what}: unknown KPI {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    if not kpis:
        raise CompareError(f"{what}: no KPI given; allowed: {', '.join(allowed)}")
    return kpis


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------

def end_values(sweep: Sweep, kpis: list[str]) -> pd.DataFrame:
    """End-of-run value of each KPI per complete run (runs.parquet, else the last week's value).

    Long table: run, scenario, seed, is_baseline, the swept parameters, kpi, value.
    """
    keys = ["run", "scenario", "seed", "is_baseline", *sweep.params]
    parts = []
    last = sweep.ts.sort_values("step").groupby(["run", "indicator"], observed=True)["value"].last()
    for k in kpis:
        if k in sweep.kpi_columns:
            values = sweep.runs[k].astype(float).to_numpy()
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
    out["n_needed"] = _seeds_needed(out, stats.REL_MEAN)
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


def paired_table(pairs: pd.DataFrame, sweep: Sweep, kpis: list[str]) -> pd.DataFrame:
    """Per scenario and KPI: n pairs, means, mean difference, 95 % CI, d_z, verdict, seeds needed."""
    rows = []
    for scenario in [s for s in sweep.scenarios if s in set(pairs["scenario"])]:
        for k in kpis:
            p = pairs[(pairs["scenario"] == scenario) & (pairs["kpi"] == k)].dropna(subset=["diff"])
            ci = stats.paired_diff(p["treated"], p["control"])
            rows.append({"scenario": scenario, "kpi": k, "n_pairs": ci.n, "mean_baseline": p["control"].mean(),
                         "mean_scenario": p["treated"].mean(), "mean_diff": ci.mean, "ci_low": ci.low,
                         "ci_high": ci.high, "half_width": ci.half_width, "sd_diff": ci.sd, "d_z": ci.d_z,
                         "verdict": stats.verdict(ci, stats.REL_DIFF)})
    out = pd.DataFrame(rows)
    out["n_needed"] = _seeds_needed(out, stats.REL_DIFF)
    return out


def _seeds_needed(table: pd.DataFrame, rel: float) -> pd.Series:
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
    table = table.reindex(index=sorted(table.index, key=_sort_key), columns=sorted(table.columns, key=_sort_key))
    table.index = [_fmt_param(v) for v in table.index]
    table.columns = [_fmt_param(v) for v in table.columns]
    return table


# ---------------------------------------------------------------------------------------------
# Report: a list of blocks rendered to Markdown and to self-contained HTML
# ---------------------------------------------------------------------------------------------

def _md_table(df: pd.DataFrame) -> str:
    cells = [[str(c) for c in df.columns]] + [[str(v) for v in row] for row in df.itertuples(index=False)]
    esc = [[c.replace("|", "\\|").replace("\n", " ") for c in row] for row in cells]
    lines = ["| " + " | ".join(esc[0]) + " |", "|" + "---|" * len(esc[0])]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in esc[1:]])


def _html_table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_markdown(blocks: list[tuple]) -> str:
    """Blocks: ('h1'|'h2'|'p'|'warn', text), ('ul', items), ('table', df), ('img', file, alt), ('code', text)."""
    out = []
    for kind, *rest in blocks:
        if kind in ("h1", "h2"):
            out.append(("# " if kind == "h1" else "## ") + rest[0])
        elif kind == "p":
            out.append(rest[0])
        elif kind == "warn":
            out.append(f"> **Warning:** {rest[0]}")
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in rest[0]))
        elif kind == "table":
            out.append(_md_table(rest[0]))
        elif kind == "img":
            out.append(f"![{rest[0]}]({rest[0]})\n\n*{rest[1]}*")
        elif kind == "code":
            out.append(f"```\n{rest[0]}\n```")
    return "\n\n".join(out) + "\n"


HTML_STYLE = """body{font-family:"Noto Sans CJK SC","Noto Sans",Arial,sans-serif;max-width:1200px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left}th{background:#eee}img{max-width:100%}
.warn{border-left:4px solid #b35900;background:#fff4e5;padding:.5em 1em}pre{background:#f4f4f4;padding:.6em}"""


def render_html(blocks: list[tuple], folder: Path, title: str) -> str:
    """Self-contained HTML: figures embedded as base64 PNG from ``folder``, inline CSS, no scripts."""
    out = []
    for kind, *rest in blocks:
        if kind in ("h1", "h2"):
            out.append(f"<{kind}>{html.escape(rest[0])}</{kind}>")
        elif kind == "p":
            out.append("<p>" + re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(rest[0])) + "</p>")
        elif kind == "warn":
            out.append(f'<p class="warn"><strong>Warning:</strong> {html.escape(rest[0])}</p>')
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in rest[0]) + "</ul>")
        elif kind == "table":
            out.append(_html_table(rest[0]))
        elif kind == "img":
            data = base64.b64encode((folder / rest[0]).read_bytes()).decode("ascii")
            out.append(f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(rest[1])}">'
                       f"<figcaption>{html.escape(rest[1])}</figcaption></figure>")
        elif kind == "code":
            out.append(f"<pre>{html.escape(rest[0])}</pre>")
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{HTML_STYLE}</style></head><body>\n" + "\n".join(out) + "\n</body></html>\n")


def _verdict_text(verdict: str, n_needed: int | None, lang: str, paired: bool = True) -> str:
    text = pl.term(verdict if paired or verdict != stats.IDENTICAL else "constant", lang)
    if verdict == stats.MORE:
        text += f" (≈{n_needed})" if not pd.isna(n_needed) else f" (>{stats.N_CAP})"
    return text


def _ci_text(key: str, low: float, high: float, lang: str, diff: bool = False) -> str:
    if pd.isna(low) or pd.isna(high):
        return "—"
    return f"[{pl.format_value(key, low, diff, lang)}, {pl.format_value(key, high, diff, lang)}]"


def differences_for_report(diffs: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The paired-difference table with labels in ``lang`` and formatted numbers."""
    t = lambda key: pl.term(key, lang)  # noqa: E731
    return pd.DataFrame({
        t("scenario"): diffs["scenario"],
        t("indicator"): [pl.kpi_label(k, lang) for k in diffs["kpi"]],
        t("n_pairs"): diffs["n_pairs"],
        t("mean_baseline"): [pl.format_value(k, v) for k, v in zip(diffs["kpi"], diffs["mean_baseline"], strict=True)],
        t("mean_scenario"): [pl.format_value(k, v) for k, v in zip(diffs["kpi"], diffs["mean_scenario"], strict=True)],
        t("mean_diff"): [pl.format_value(k, v, diff=True, lang=lang)
                         for k, v in zip(diffs["kpi"], diffs["mean_diff"], strict=True)],
        t("ci95"): [_ci_text(k, lo, hi, lang, diff=True)
                    for k, lo, hi in zip(diffs["kpi"], diffs["ci_low"], diffs["ci_high"], strict=True)],
        t("d_z"): [pl.format_value("d_z", v) for v in diffs["d_z"]],
        t("verdict"): [_verdict_text(v, n, lang) for v, n in zip(diffs["verdict"], diffs["n_needed"], strict=True)],
    })


def summary_for_report(summary: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Scenario means with CI and the replication verdict for the mean (used when there is no baseline)."""
    t = lambda key: pl.term(key, lang)  # noqa: E731
    return pd.DataFrame({
        t("scenario"): summary["scenario"],
        t("indicator"): [pl.kpi_label(k, lang) for k in summary["kpi"]],
        t("seeds"): summary["n"],
        t("mean"): [pl.format_value(k, v) for k, v in zip(summary["kpi"], summary["mean"], strict=True)],
        t("ci95"): [_ci_text(k, lo, hi, lang)
                    for k, lo, hi in zip(summary["kpi"], summary["low"], summary["high"], strict=True)],
        t("verdict"): [_verdict_text(v, n, lang, paired=False)
                       for v, n in zip(summary["verdict"], summary["n_needed"], strict=True)],
    })


def provenance(sweep: Sweep) -> tuple[dict, pd.DataFrame]:
    """Git commit and package versions (from one run's manifest.json and this process), and run hashes."""
    first = sweep.runs.iloc[0]["run_dir"]
    try:
        manifest = json.loads((sweep.path / first / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    info = {"manifest": f"{first}/manifest.json", "git_commit": manifest.get("git_commit") or "unknown",
            "simulation": manifest.get("versions", {}), "compare": {}}
    for p in PACKAGES:
        try:
            info["compare"][p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            info["compare"][p] = None
    hashes = sweep.runs[["scenario", "seed", "status", "config_hash"]].sort_values(["scenario", "seed"])
    return info, hashes


@dataclass
class Results:
    """Everything computed for one comparison, ready to be drawn and reported."""

    sweep: Sweep
    kpis: list[str]
    lang: str
    ends: pd.DataFrame
    summary: pd.DataFrame
    diffs: pd.DataFrame | None
    curves: pd.DataFrame
    heatmap: str | None
    figures: dict[str, str] = field(default_factory=dict)  # stem -> caption


def report_blocks(res: Results) -> list[tuple]:
    """The report's content, in order."""
    sw, lang = res.sweep, res.lang
    seeds = res.ends.drop_duplicates("run").groupby("scenario")["seed"].nunique()
    blocks: list[tuple] = [
        ("h1", f"Scenario comparison: {sw.path.name}"),
        ("p", f"Sweep folder: {sw.path.resolve()}. Generated {time.strftime('%Y-%m-%d %H:%M')} by "
              f"`python -m experiments.compare`. {len(sw.runs)} complete runs; swept parameters: "
              f"{', '.join(sw.params) or 'none (seeds only)'}."),
        ("h2", "Scenarios"),
        ("table", pd.DataFrame({pl.term("scenario", lang): sw.scenarios,
                                pl.term("baseline", lang): ["✓" if s in set(res.ends.loc[res.ends["is_baseline"],
                                                                                         "scenario"]) else ""
                                                            for s in sw.scenarios],
                                pl.term("seeds", lang): [int(seeds.get(s, 0)) for s in sw.scenarios]})),
    ]
    if not sw.problems.empty:
        blocks += [("h2", "Runs excluded (not complete)"),
                   ("p", "These runs have no KPIs and are left out of every statistic."),
                   ("table", sw.problems.reindex(columns=["run_dir", "status", "error"]).fillna(""))]
    blocks += _difference_blocks(res) + _figure_blocks(res) + _replication_blocks(res) + _provenance_blocks(res)
    return blocks


def _difference_blocks(res: Results) -> list[tuple]:
    if res.diffs is None:
        hint = (f" Name a baseline with --baseline KEY=VALUE, e.g. --baseline {res.sweep.params[0]}=<value>."
                if res.sweep.params else "")
        return [("h2", "Scenario means"),
                ("p", "No baseline (the sweep has no policy=baseline runs, or --baseline none was given), so no "
                      "paired differences: means per scenario with 95 % t intervals across seeds." + hint),
                ("table", summary_for_report(res.summary, res.lang))]
    spec = ", ".join(f"{k}={_fmt_param(v)}" for k, v in res.sweep.baseline.items())
    base = set(res.ends.loc[res.ends["is_baseline"], "scenario"])
    unpaired = [s for s in res.sweep.scenarios if s not in base and s not in set(res.diffs["scenario"])]
    blocks: list[tuple] = [("h2", f"Paired differences vs the baseline ({spec})")]
    if unpaired:
        blocks.append(("warn", "no baseline run with the same seed and other swept values for: "
                               + "; ".join(unpaired) + " (left out of the paired differences)"))
    return [
        *blocks,
        ("p", "Each run is paired with the baseline run of the same seed and the same values of the other swept "
              "parameters; difference = scenario − baseline. Mean difference with a 95 % t interval over the "
              "pairs (n − 1 degrees of freedom) and Cohen's d_z = mean difference / standard deviation of the "
              "differences (the paired-samples effect size; ±∞ when every pair differs by the same amount). "
              "Fractions are in per cent (differences in percentage points, pp). No p-values. Full precision: "
              "differences.csv."),
        ("table", differences_for_report(res.diffs, res.lang))]


def _figure_blocks(res: Results) -> list[tuple]:
    blocks: list[tuple] = [("h2", "Figures")]
    for stem, caption in res.figures.items():
        blocks += [("img", f"{stem}.png", caption)]
    return blocks


def _replication_blocks(res: Results) -> list[tuple]:
    paired = res.diffs is not None
    table = res.diffs if paired else res.summary
    rel = stats.REL_DIFF if paired else stats.REL_MEAN
    what = "difference" if paired else "scenario mean"
    blocks: list[tuple] = [
        ("h2", "Replication check"),
        ("p", f"Rule: a {what} has enough seeds when the half-width of its 95 % CI with all N seeds is at most "
              f"{rel:.0%} of its absolute value" + (" (the CI then excludes 0 with a margin)" if paired else "")
              + ". Otherwise the seeds needed are estimated as the smallest n with t(0.975, n − 1) · sd / √n ≤ "
              f"{rel:g} · |mean| (n ≈ (t · sd / ({rel:g} · |mean|))², sd as estimated now; capped at "
              f"{stats.N_CAP})."
              + (" 'no difference in any pair' means every paired difference is exactly 0 (common random "
                 "numbers: the scenario did not touch that KPI)." if paired else "")
              + " The figure 'replication' shows how the half-width shrinks as seeds are added (first n seeds, "
                "n = 2..N)."
              + (" The same rule, with 20 % of the typical between-policy difference as the difference to "
                 "resolve, sets the documented default seeds per community preset (docs/replications.md)."
                 if paired else "")),
    ]
    short = table[table["verdict"].isin([stats.MORE, stats.TOO_FEW])]
    if len(short):
        items = [f"{r.scenario} / {pl.kpi_label(r.kpi, res.lang)}: "
                 f"{_verdict_text(r.verdict, r.n_needed, res.lang, paired)}" for r in short.itertuples()]
        blocks += [("warn", f"too few seeds for {len(short)} of the {len(table)} {what}s shown; more seeds "
                            "would be needed for:"), ("ul", items)]
    else:
        blocks += [("p", f"All {len(table)} {what}s have enough seeds (or show no difference).")]
    return blocks


def _provenance_blocks(res: Results) -> list[tuple]:
    info, hashes = provenance(res.sweep)
    versions = "\n".join([f"simulation runs ({info['manifest']}):"]
                         + [f"  {k} {v}" for k, v in info["simulation"].items()]
                         + ["comparison:"] + [f"  {k} {v}" for k, v in info["compare"].items()])
    return [("h2", "Provenance"),
            ("p", f"Git commit (from {info['manifest']}): {info['git_commit']}."),
            ("code", versions),
            ("p", "Config hash of every complete run (SHA-256 of the resolved config and seed, from runs.parquet):"),
            ("table", hashes)]


# ---------------------------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------------------------

def analyse(sweep: Sweep, kpis: list[str], heatmap: str | None, lang: str) -> Results:
    """Compute every table of the comparison (no files written)."""
    ends = end_values(sweep, list(dict.fromkeys([*kpis, *([heatmap] if heatmap else [])])))
    kpi_ends = ends[ends["kpi"].isin(kpis)]
    summary = scenario_summary(kpi_ends, sweep.scenarios, kpis)
    if sweep.baseline:
        pairs = pair_runs(kpi_ends, sweep)
        diffs = paired_table(pairs, sweep, kpis)
        curves = replication_curves(pairs, "diff")
    else:
        diffs, curves = None, replication_curves(kpi_ends, "value")
    return Results(sweep, kpis, lang, ends, summary, diffs, curves, heatmap)


def clip_bands(summary: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """Clip CI bands to possible values: at 0 for indicators never negative, at 1 for fractions."""
    out = summary.copy()
    never_negative = series.groupby("indicator", observed=True)["value"].min().ge(0)
    lower = out["indicator"].map(lambda k: 0.0 if never_negative.get(k, False) else -np.inf)
    upper = out["indicator"].map(lambda k: 1.0 if pl.is_fraction(k) else np.inf)
    out["low"] = out["low"].clip(lower=lower, upper=upper)
    out["high"] = out["high"].clip(lower=lower, upper=upper)
    return out


def draw_figures(res: Results, folder: Path, pdf: bool) -> None:
    """Draw every chart into ``folder`` and record its caption in ``res.figures``."""
    sw, lang, kpis = res.sweep, res.lang, res.kpis
    styles = pl.style_map(sw.scenarios)
    weekly = [k for k in kpis if k in sw.indicators]
    if weekly:
        series = sw.ts[sw.ts["indicator"].isin(weekly)]
        summary = stats.summarise(series, ["indicator", "scenario", "step"])
        summary["indicator"] = summary["indicator"].astype(str)
        summary = clip_bands(summary, series)
        pl.save_figure(pl.plot_trajectories(summary, weekly, styles, lang), folder, "trajectories", pdf)
        res.figures["trajectories"] = ("Weekly values: mean and 95 % t band across seeds per scenario (bands "
                                       "clipped to possible values: ≥ 0, rates ≤ 100 %); dashed black line = "
                                       "plan target. Rates are weekly here; the end-of-run KPIs take rates over "
                                       "the last 52 weeks.")
    pl.save_figure(pl.plot_distributions(res.ends[res.ends["kpi"].isin(kpis)], kpis, styles, lang), folder,
                   "distributions", pdf)
    res.figures["distributions"] = "End-of-run KPIs per scenario: box (quartiles) and one point per seed."
    if res.diffs is not None:
        pl.save_figure(pl.plot_forest(res.diffs, kpis, styles, lang), folder, "differences", pdf)
        res.figures["differences"] = "Paired differences vs the baseline: mean and 95 % t interval; line at 0."
    if res.heatmap:
        table = heatmap_table(res.ends, sw, res.heatmap)
        fig = pl.plot_heatmap(table, res.heatmap, sw.params[0], sw.params[1], lang)
        pl.save_figure(fig, folder, f"heatmap_{res.heatmap}", pdf)
        res.figures[f"heatmap_{res.heatmap}"] = f"Mean of {res.heatmap} over seeds for each parameter pair."
    if not res.curves.empty:
        fig = pl.plot_replication(res.curves, kpis, styles, lang, diffs=res.diffs is not None)
        pl.save_figure(fig, folder, "replication", pdf)
        res.figures["replication"] = ("95 % CI half-width of the " + ("paired difference" if res.diffs is not None
                                                                        else "scenario mean")
                                      + " using the first n seeds.")


def write_tables(res: Results, folder: Path) -> None:
    """CSV tables beside the figures."""
    res.summary.to_csv(folder / "scenarios.csv", index=False)
    if res.diffs is not None:
        res.diffs.to_csv(folder / "differences.csv", index=False)
    res.curves.to_csv(folder / "replication.csv", index=False)


def write_report(res: Results, folder: Path) -> None:
    blocks = report_blocks(res)
    (folder / "report.md").write_text(render_markdown(blocks), encoding="utf-8")
    (folder / "report.html").write_text(render_html(blocks, folder, f"Scenario comparison: {res.sweep.path.name}"),
                                        encoding="utf-8")


def check_out_dir(out: Path) -> None:
    """Refuse to replace a folder that is not an earlier comparison output."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / REPORT_MARK).exists())):
        raise CompareError(f"--out {out} exists and is not an earlier comparison output (no {REPORT_MARK}); "
                           "choose a new or empty folder")


def publish(tmp: Path, out: Path) -> None:
    """Move the finished temporary folder into place, replacing an earlier output."""
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    shutil.move(str(tmp), str(out))
    shutil.rmtree(old, ignore_errors=True)


def run(args: argparse.Namespace) -> tuple[Results, Path]:
    """Validate all input, then write every output into a temporary folder and move it into place.

    Returns the results and the output folder.
    """
    sweep = load_sweep(Path(args.sweep_dir), args.baseline)
    wanted = [k.strip() for k in args.kpis.split(",") if k.strip()] if args.kpis is not None else \
        [k for k in DEFAULT_KPIS if k in sweep.kpi_columns or k in sweep.indicators]
    kpis = resolve_kpis(sweep, list(dict.fromkeys(wanted)))
    heatmap = resolve_kpis(sweep, [args.heatmap or DEFAULT_HEATMAP], "--heatmap")[0]
    if len(sweep.params) != 2:
        if args.heatmap:
            print(f"note: no heatmap: it needs exactly two swept parameters besides the seed; this sweep has "
                  f"{len(sweep.params)} ({', '.join(sweep.params) or 'none'})", file=sys.stderr)
        heatmap = None
    out = Path(args.out) if args.out else Path(args.sweep_dir) / "compare"
    check_out_dir(out)
    try:
        pl.setup_theme(args.lang)
    except pl.FontError as exc:
        raise CompareError(str(exc)) from None
    res = analyse(sweep, kpis, heatmap, args.lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        draw_figures(res, tmp, args.pdf)
        write_tables(res, tmp)
        write_report(res, tmp)
        publish(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if out.resolve() == (Path(args.sweep_dir) / "compare").resolve():
        link_report(out, Path(args.sweep_dir))
    return res, out


def link_report(out: Path, sweep_dir: Path) -> None:
    """Put report.md (its figures linked into compare/) and report.html in the sweep folder itself."""
    md = re.sub(r"!\[([^\]]*)\]\(([^/:)]+)\)", r"![\1](compare/\2)", (out / "report.md").read_text(encoding="utf-8"))
    for name, text in (("report.md", md), ("report.html", (out / "report.html").read_text(encoding="utf-8"))):
        tmp = sweep_dir / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, sweep_dir / name)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m experiments.compare",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Compare the scenarios of a sweep (a Hydra multirun folder):\n"
                    "  KPI trajectories with 95 % CI bands across seeds, end-of-run distributions against the plan\n"
                    "  targets, paired differences vs a baseline (same seed) with 95 % t intervals and Cohen's d_z,\n"
                    "  a heatmap for two-parameter sweeps, and a replication check (are there enough seeds?).\n"
                    "Writes figures (PNG, SVG, optionally PDF), CSV tables, report.md and a self-contained\n"
                    "report.html into <sweep_dir>/compare/ (the reports also in <sweep_dir> itself).",
        epilog="examples:\n"
               "  python -m experiments.compare results/sweeps/five_society_vs_baseline\n"
               "  python -m experiments.compare sw --lang zh --pdf --kpis satisfaction_mean,fund_balance\n"
               "  python -m experiments.compare results/sweeps/one_cent --baseline "
               "policy.micro_fund.fen_per_unit=0 --heatmap fund_balance\n"
               "A scenario is one combination of the swept parameters other than the seed.")
    ap.add_argument("sweep_dir", help="the sweep's folder (hydra.sweep.dir); collated first if runs.parquet is missing")
    ap.add_argument("--baseline", metavar="KEY=VALUE",
                    help="the runs to compare against, a swept parameter and one of its values (default: "
                         "policy=baseline if the sweep has it, else no paired differences; 'none' to switch off)")
    ap.add_argument("--lang", choices=("en", "zh"), default="en",
                    help="language of chart and table labels (zh needs a CJK font, e.g. fonts-noto-cjk)")
    ap.add_argument("--pdf", action="store_true", help="also save every figure as PDF")
    ap.add_argument("--kpis", metavar="K1,K2,...",
                    help="KPIs to show, comma-separated: final KPIs of runs.parquet or weekly indicators "
                         f"(default: {', '.join(DEFAULT_KPIS)})")
    ap.add_argument("--heatmap", metavar="KPI",
                    help=f"KPI of the heatmap drawn for a two-parameter sweep (default: {DEFAULT_HEATMAP})")
    ap.add_argument("--out", metavar="DIR", help="output folder (default: <sweep_dir>/compare); replaced if it "
                                                 "holds an earlier comparison")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        res, out = run(args)
    except CompareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = res.diffs if res.diffs is not None else res.summary
    short = int(table["verdict"].isin([stats.MORE, stats.TOO_FEW]).sum())
    n = len(res.sweep.scenarios)
    print(f"compared {n} scenario{'' if n == 1 else 's'} ({len(res.sweep.runs)} complete runs, "
          f"{len(res.sweep.problems)} excluded) → {out / 'report.html'}")
    if short:
        print(f"warning: too few seeds for {short} of {len(table)} comparisons (see the replication check in the "
              "report)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
