"""The content of a comparison's report: scenarios, differences or means, figures, replication, provenance.

Numbers are formatted and labelled in the report's language (:mod:`experiments.presentation`);
the blocks are rendered to Markdown and HTML by :mod:`experiments.report`.
"""

from __future__ import annotations

import json
import time
from importlib import metadata

import pandas as pd

from experiments import stats
from experiments.loading import Sweep
from experiments.presentation import format_value, kpi_label, term
from experiments.report import Alert, Block, Bullets, Code, Figure, Heading, Paragraph, Table
from experiments.tables import Results
from sim.outputs import MANIFEST_FILE

PACKAGES = ("numpy", "pandas", "scipy", "matplotlib", "seaborn", "pyarrow", "jinja2")


def verdict_text(verdict: str, n_needed: int | None, lang: str, paired: bool = True) -> str:
    """The replication verdict in words, with the seeds needed when more are."""
    text = term(verdict if paired or verdict != stats.IDENTICAL else "constant", lang)
    if verdict == stats.MORE:
        text += f" (≈{n_needed})" if not pd.isna(n_needed) else f" (>{stats.N_CAP})"
    return text


def _ci_text(key: str, low: float, high: float, lang: str, diff: bool = False) -> str:
    if pd.isna(low) or pd.isna(high):
        return "—"
    return f"[{format_value(key, low, diff, lang)}, {format_value(key, high, diff, lang)}]"


def differences_for_report(diffs: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The paired-difference table with labels in ``lang`` and formatted numbers."""
    kpis = diffs["kpi"]
    return pd.DataFrame({
        term("scenario", lang): diffs["scenario"],
        term("indicator", lang): [kpi_label(k, lang) for k in kpis],
        term("n_pairs", lang): diffs["n_pairs"],
        term("mean_baseline", lang): [format_value(k, v) for k, v in zip(kpis, diffs["mean_baseline"], strict=True)],
        term("mean_scenario", lang): [format_value(k, v) for k, v in zip(kpis, diffs["mean_scenario"], strict=True)],
        term("mean_diff", lang): [format_value(k, v, diff=True, lang=lang)
                                  for k, v in zip(kpis, diffs["mean_diff"], strict=True)],
        term("ci95", lang): [_ci_text(k, lo, hi, lang, diff=True)
                             for k, lo, hi in zip(kpis, diffs["ci_low"], diffs["ci_high"], strict=True)],
        term("d_z", lang): [format_value("d_z", v) for v in diffs["d_z"]],
        term("verdict", lang): [verdict_text(v, n, lang)
                                for v, n in zip(diffs["verdict"], diffs["n_needed"], strict=True)],
    })


def summary_for_report(summary: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Scenario means with CI and the replication verdict for the mean (used when there is no baseline)."""
    kpis = summary["kpi"]
    return pd.DataFrame({
        term("scenario", lang): summary["scenario"],
        term("indicator", lang): [kpi_label(k, lang) for k in kpis],
        term("seeds", lang): summary["n"],
        term("mean", lang): [format_value(k, v) for k, v in zip(kpis, summary["mean"], strict=True)],
        term("ci95", lang): [_ci_text(k, lo, hi, lang)
                             for k, lo, hi in zip(kpis, summary["low"], summary["high"], strict=True)],
        term("verdict", lang): [verdict_text(v, n, lang, paired=False)
                                for v, n in zip(summary["verdict"], summary["n_needed"], strict=True)],
    })


def provenance(sweep: Sweep) -> tuple[dict, pd.DataFrame]:
    """Git commit and package versions (from one run's manifest.json and this process), and run hashes."""
    first = sweep.runs.iloc[0]["run_dir"]
    try:
        manifest = json.loads((sweep.path / first / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    info = {"manifest": f"{first}/{MANIFEST_FILE}", "git_commit": manifest.get("git_commit") or "unknown",
            "simulation": manifest.get("versions", {}), "compare": {}}
    for p in PACKAGES:
        try:
            info["compare"][p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            info["compare"][p] = None
    hashes = sweep.runs[["scenario", "seed", "status", "config_hash"]].sort_values(["scenario", "seed"])
    return info, hashes


def report_blocks(res: Results) -> list[Block]:
    """The report's content, in order."""
    sw, lang = res.sweep, res.lang
    seeds = res.ends.drop_duplicates("run").groupby("scenario")["seed"].nunique()
    base = set(res.ends.loc[res.ends["is_baseline"], "scenario"])
    blocks: list[Block] = [
        Heading(f"Scenario comparison: {sw.path.name}", 1),
        Paragraph(f"Sweep folder: {sw.path.resolve()}. Generated {time.strftime('%Y-%m-%d %H:%M')} by "
                  f"`python -m experiments.compare`. {len(sw.runs)} complete runs; swept parameters: "
                  f"{', '.join(sw.params) or 'none (seeds only)'}."),
        Heading("Scenarios"),
        Table(pd.DataFrame({term("scenario", lang): sw.scenarios,
                            term("baseline", lang): ["✓" if s in base else "" for s in sw.scenarios],
                            term("seeds", lang): [int(seeds.get(s, 0)) for s in sw.scenarios]})),
    ]
    if not sw.problems.empty:
        blocks += [Heading("Runs excluded (not complete)"),
                   Paragraph("These runs have no KPIs and are left out of every statistic."),
                   Table(sw.problems.reindex(columns=["run_dir", "status", "error"]).fillna(""))]
    return blocks + _difference_blocks(res) + _figure_blocks(res) + _replication_blocks(res) + _provenance_blocks(res)


def _difference_blocks(res: Results) -> list[Block]:
    if res.diffs is None:
        hint = (f" Name a baseline with --baseline KEY=VALUE, e.g. --baseline {res.sweep.params[0]}=<value>."
                if res.sweep.params else "")
        return [Heading("Scenario means"),
                Paragraph("No baseline (the sweep has no policy=baseline runs, or --baseline none was given), so no "
                          "paired differences: means per scenario with 95 % t intervals across seeds." + hint),
                Table(summary_for_report(res.summary, res.lang))]
    spec = ", ".join(f"{k}={v}" for k, v in res.sweep.baseline.items())
    base = set(res.ends.loc[res.ends["is_baseline"], "scenario"])
    unpaired = [s for s in res.sweep.scenarios if s not in base and s not in set(res.diffs["scenario"])]
    blocks: list[Block] = [Heading(f"Paired differences vs the baseline ({spec})")]
    if unpaired:
        blocks.append(Alert("no baseline run with the same seed and other swept values for: "
                            + "; ".join(unpaired) + " (left out of the paired differences)"))
    return [
        *blocks,
        Paragraph("Each run is paired with the baseline run of the same seed and the same values of the other swept "
                  "parameters; difference = scenario − baseline. Mean difference with a 95 % t interval over the "
                  "pairs (n − 1 degrees of freedom) and Cohen's d_z = mean difference / standard deviation of the "
                  "differences (the paired-samples effect size; ±∞ when every pair differs by the same amount). "
                  "Fractions are in per cent (differences in percentage points, pp). No p-values. Full precision: "
                  "differences.csv."),
        Table(differences_for_report(res.diffs, res.lang))]


def _figure_blocks(res: Results) -> list[Block]:
    return [Heading("Figures"), *(Figure(f"{stem}.png", caption) for stem, caption in res.figures.items())]


def _replication_blocks(res: Results) -> list[Block]:
    paired = res.diffs is not None
    table = res.diffs if paired else res.summary
    rel = stats.REL_DIFF if paired else stats.REL_MEAN
    what = "difference" if paired else "scenario mean"
    blocks: list[Block] = [
        Heading("Replication check"),
        Paragraph(f"Rule: a {what} has enough seeds when the half-width of its 95 % CI with all N seeds is at most "
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
        items = [f"{r.scenario} / {kpi_label(r.kpi, res.lang)}: "
                 f"{verdict_text(r.verdict, r.n_needed, res.lang, paired)}" for r in short.itertuples()]
        blocks += [Alert(f"too few seeds for {len(short)} of the {len(table)} {what}s shown; more seeds "
                         "would be needed for:"), Bullets(items)]
    else:
        blocks.append(Paragraph(f"All {len(table)} {what}s have enough seeds (or show no difference)."))
    return blocks


def _provenance_blocks(res: Results) -> list[Block]:
    info, hashes = provenance(res.sweep)
    versions = "\n".join([f"simulation runs ({info['manifest']}):"]
                         + [f"  {k} {v}" for k, v in info["simulation"].items()]
                         + ["comparison:"] + [f"  {k} {v}" for k, v in info["compare"].items()])
    return [Heading("Provenance"),
            Paragraph(f"Git commit (from {info['manifest']}): {info['git_commit']}."),
            Code(versions),
            Paragraph("Config hash of every complete run (SHA-256 of the resolved config and seed, from "
                      "runs.parquet):"),
            Table(hashes)]
