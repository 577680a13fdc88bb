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
from experiments.presentation import (
    GROUP_KEYS,
    format_value,
    is_money_key,
    kpi_label,
    money_text,
    param_name,
    param_value,
    term,
)
from experiments.report import Alert, Block, Bullets, Code, Figure, Heading, Paragraph, Table
from experiments.tables import Results
from sim.runs.outputs import MANIFEST_FILE
from sim.tables.glossary import label

PACKAGES = ("numpy", "pandas", "scipy", "matplotlib", "seaborn", "pyarrow", "jinja2")


def _number(text: str) -> object:
    """A value written on the command line as the number it names ('0' → 0.0), else as written."""
    try:
        return float(text)
    except ValueError:
        return text


def _mid(name: str, lang: str) -> str:
    """A term as written inside an English sentence (lower case; Chinese as it is)."""
    return name if lang == "zh" else name[:1].lower() + name[1:]


def key_name(key: str, lang: str) -> str:
    """A parameter's name in words: the glossary's term for the seed and the config groups, else its short name."""
    return term(key, lang) if key in ("seed", *GROUP_KEYS) else param_name(key, lang)


def verdict_text(verdict: str, n_needed: int | None, lang: str, paired: bool = True, *, kpi: str = "",
                 delta: float | None = None, more: int | None = None) -> str:
    """The replication verdict in words: with the seeds needed when more are; for a paired difference
    'difference', 'no difference larger than δ' (δ in the indicator's unit) or 'undecided: N more seeds'."""
    if verdict == stats.DIFFERENCE:
        return label("verdict_difference", lang)
    if verdict == stats.EQUIVALENT:
        return label("verdict_equivalent", lang, delta=_fmt(kpi, delta, diff=True, lang=lang))
    if verdict == stats.UNDECIDED:
        return (label("verdict_undecided", lang, n=int(more)) if more is not None and not pd.isna(more)
                else label("verdict_undecided_cap", lang, cap=stats.N_CAP))
    text = term(verdict if paired or verdict != stats.IDENTICAL else "constant", lang)
    if verdict == stats.MORE:
        text += f" (≈{n_needed})" if not pd.isna(n_needed) else f" (>{stats.N_CAP})"
    return text


def _fmt(key: str, value: float, diff: bool = False, lang: str = "en", **how) -> str:
    """:func:`format_value`, money in Chinese in 万元 (43.58 万元)."""
    if lang == "zh" and is_money_key(key):
        return money_text(value, lang)
    return format_value(key, value, diff, lang, **how)


def _ci_text(key: str, low: float, high: float, lang: str, diff: bool = False) -> str:
    if pd.isna(low) or pd.isna(high):
        return "—"
    return f"[{_fmt(key, low, diff, lang)}, {_fmt(key, high, diff, lang)}]"


def _values(keys, values, **how) -> list[str]:
    return [_fmt(k, v, **how) for k, v in zip(keys, values, strict=True)]


def _intervals(keys, lows, highs, lang: str, diff: bool = False) -> list[str]:
    return [_ci_text(k, lo, hi, lang, diff=diff) for k, lo, hi in zip(keys, lows, highs, strict=True)]


def _named(scenarios: pd.Series, names: dict[str, str] | None) -> pd.Series:
    """Scenario keys as their display names (the keys where ``names`` has none)."""
    return scenarios.map(lambda s: (names or {}).get(s, s))


def differences_for_report(diffs: pd.DataFrame, lang: str, names: dict[str, str] | None = None) -> pd.DataFrame:
    """The paired-difference table with labels in ``lang`` and formatted numbers."""
    kpis = diffs["kpi"]
    return pd.DataFrame({
        term("scenario", lang): _named(diffs["scenario"], names),
        term("indicator", lang): [kpi_label(k, lang) for k in kpis],
        term("n_pairs", lang): diffs["n_pairs"],
        term("mean_baseline", lang): _values(kpis, diffs["mean_baseline"], lang=lang),
        term("mean_scenario", lang): _values(kpis, diffs["mean_scenario"], lang=lang),
        term("mean_diff", lang): _values(kpis, diffs["mean_diff"], diff=True, lang=lang),
        term("ci95", lang): _intervals(kpis, diffs["ci_low"], diffs["ci_high"], lang, diff=True),
        term("d_z", lang): [_fmt("d_z", v) for v in diffs["d_z"]],
        term("delta", lang): [_fmt(k, d, diff=True, lang=lang) for k, d in zip(kpis, diffs["delta"], strict=True)],
        term("verdict", lang): [verdict_text(r.verdict, r.n_needed, lang, kpi=r.kpi, delta=r.delta, more=r.more_seeds)
                                for r in diffs.itertuples()],
    })


def cost_for_report(cost: pd.DataFrame, lang: str, names: dict[str, str] | None = None) -> pd.DataFrame:
    """The cost-effectiveness table with labels in ``lang`` and formatted numbers."""
    kpis, money = cost["kpi"], ["public_cost"] * len(cost)
    return pd.DataFrame({
        term("scenario", lang): _named(cost["scenario"], names),
        term("indicator", lang): [kpi_label(k, lang) for k in kpis],
        term("n_pairs", lang): cost["n_pairs"],
        term("extra_cost", lang): _values(money, cost["extra_cost_yuan"], yuan=True, lang=lang),
        term("extra_cost_ci", lang): _intervals(money, cost["extra_cost_low"], cost["extra_cost_high"], lang),
        term("mean_diff", lang): _values(kpis, cost["mean_diff"], diff=True, lang=lang),
        term("per_10k_yuan", lang): _values(kpis, cost["per_10k_yuan"], diff=True, lang=lang),
        term("per_10k_ci", lang): _intervals(kpis, cost["per_10k_low"], cost["per_10k_high"], lang, diff=True),
    })


def bands_for_report(bands: pd.DataFrame, lang: str, names: dict[str, str] | None = None) -> pd.DataFrame:
    """Seed interval against parameter band (stats.band_table) with labels in ``lang`` and formatted numbers."""
    kpis = bands["kpi"]
    return pd.DataFrame({
        term("scenario", lang): _named(bands["policy"], names),
        term("indicator", lang): [kpi_label(k, lang) for k in kpis],
        term("mean_diff", lang): _values(kpis, bands["mean_diff"], diff=True, lang=lang),
        term("seed_interval", lang): ["±" + _fmt(k, v, True, lang).lstrip("+")
                                      for k, v in zip(kpis, bands["seed_half_width"], strict=True)],
        term("parameter_band", lang): _intervals(kpis, bands["band_low"], bands["band_high"], lang, diff=True),
        term("sign_share", lang): [f"{v:.0%}" for v in bands["sign_share"]],
        term("dominant", lang): [term(f"dominant_{d}", lang) for d in bands["dominant"]],
    })


def summary_for_report(summary: pd.DataFrame, lang: str, names: dict[str, str] | None = None) -> pd.DataFrame:
    """Scenario means with CI and the replication verdict for the mean (used when there is no baseline)."""
    kpis = summary["kpi"]
    return pd.DataFrame({
        term("scenario", lang): _named(summary["scenario"], names),
        term("indicator", lang): [kpi_label(k, lang) for k in kpis],
        term("seeds", lang): summary["n"],
        term("mean", lang): [_fmt(k, v, lang=lang) for k, v in zip(kpis, summary["mean"], strict=True)],
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
        Heading(label("rep_title", lang, name=sw.path.name), 1),
        Paragraph(label("rep_intro", lang, folder=sw.path.resolve(), time=time.strftime("%Y-%m-%d %H:%M"),
                       n=len(sw.runs), params=("、" if lang == "zh" else ", ").join(
                           f"{key_name(p, lang)} (`{p}`)" for p in sw.params) or label("rep_no_params", lang))),
        Heading(label("rep_scenarios", lang)),
        Table(pd.DataFrame({term("scenario", lang): [res.names.get(s, s) for s in sw.scenarios],
                            term("baseline", lang): ["✓" if s in base else "" for s in sw.scenarios],
                            term("seeds", lang): [int(seeds.get(s, 0)) for s in sw.scenarios],
                            term("scenario_key", lang): [f"`{s}`" for s in sw.scenarios]})),
    ]
    if not sw.problems.empty:
        blocks += [Heading(label("rep_excluded", lang)), Paragraph(label("rep_excluded_text", lang)),
                   Table(sw.problems.reindex(columns=["run_dir", "status", "error"]).fillna(""))]
    return blocks + _difference_blocks(res) + _figure_blocks(res) + _replication_blocks(res) + _provenance_blocks(res)


def _difference_blocks(res: Results) -> list[Block]:
    lang = res.lang
    if res.diffs is None:
        hint = label("rep_baseline_hint", lang, example=f"{res.sweep.params[0]}=<value>") if res.sweep.params else ""
        return [Heading(label("rep_means", lang)), Paragraph(label("rep_means_text", lang) + hint),
                Table(summary_for_report(res.summary, lang, res.names))]
    spec = ("，" if lang == "zh" else ", ").join(param_value(k, _number(v), lang)
                                                for k, v in res.sweep.baseline.items())
    keys = ("、" if lang == "zh" else ", ").join(_mid(key_name(k, lang), lang) for k in ["seed", *res.sweep.match])
    blocks: list[Block] = [Heading(label("rep_differences", lang, spec=spec))]
    if res.missing is not None and not res.missing.empty:
        seed = _mid(term("seed", lang), lang)
        lone = [f"{res.names.get(r.scenario, r.scenario)} ({seed} {', '.join(str(int(s)) for s in r.seeds)})"
                for r in res.missing.itertuples()]
        blocks += [Alert(label("rep_unpaired", lang, scenarios="; ".join(lone),
                               keys=keys)),
                   Paragraph(label("rep_unpaired_fix", lang)), Code("\n".join(res.commands))]
    blocks += [Paragraph(label("rep_differences_text", lang, keys=keys)),
               Table(differences_for_report(res.diffs, lang, res.names))]
    if res.bands is not None and not res.bands.empty:
        blocks += [Heading(label("rep_bands", lang)),
                   Paragraph(label("rep_bands_text", lang, over=", ".join(f"`{k}`" for k in res.sweep.over),
                                   sets=int(res.bands["sets"].max()), seeds=int(res.bands["seeds"].max()))),
                   Table(bands_for_report(res.bands, lang, res.names))]
        wider = int((res.bands["dominant"] == "parameters").sum())
        blocks.append(Paragraph(label("rep_bands_verdict" if wider else "rep_bands_verdict_none", lang, n=wider,
                                      total=len(res.bands))))
    if res.cost is not None and not res.cost.empty:
        blocks += [Heading(label("rep_cost", lang)), Paragraph(label("rep_cost_text", lang)),
                   Table(cost_for_report(res.cost, lang, res.names))]
    return blocks


def _figure_blocks(res: Results) -> list[Block]:
    return [Heading(label("rep_figures", res.lang)),
            *(Figure(f"{stem}.png", caption) for stem, caption in res.figures.items())]


def _replication_blocks(res: Results) -> list[Block]:
    paired, lang = res.diffs is not None, res.lang
    table = res.diffs if paired else res.summary
    rel = stats.REL_DIFF if paired else stats.REL_MEAN
    what, whats = ("rep_what_diff", "rep_what_diffs") if paired else ("rep_what_mean", "rep_what_means")
    rule = (label("rep_rule", lang, what=label(what, lang), rel=f"{rel:.0%}",
                 margin=label("rep_rule_margin", lang) if paired else "")
            + label("rep_rule_needed", lang, rel=f"{rel:g}", cap=stats.N_CAP)
            + (label("rep_rule_identical", lang) + label("rep_rule_equivalence", lang) if paired else "")
            + label("rep_rule_curve", lang) + (label("rep_rule_defaults", lang) if paired else ""))
    blocks: list[Block] = [Heading(label("rep_replication", lang)), Paragraph(rule)]
    short = table[table["verdict"].isin([stats.MORE, stats.TOO_FEW, stats.UNDECIDED])]
    if paired and len(short):
        items = [f"{res.names.get(r.scenario, r.scenario)} / {kpi_label(r.kpi, lang)}: "
                 + verdict_text(r.verdict, r.n_needed, lang, kpi=r.kpi, delta=r.delta, more=r.more_seeds)
                 for r in short.itertuples()]
        blocks += [Alert(label("rep_undecided", lang, n=len(short), total=len(table))), Bullets(items)]
    elif paired:
        blocks.append(Paragraph(label("rep_all_decided", lang, total=len(table))))
    elif len(short):
        items = [f"{res.names.get(r.scenario, r.scenario)} / {kpi_label(r.kpi, lang)}: "
                 f"{verdict_text(r.verdict, r.n_needed, lang, paired)}" for r in short.itertuples()]
        blocks += [Alert(label("rep_too_few", lang, n=len(short), total=len(table), what=label(whats, lang))),
                   Bullets(items)]
    else:
        blocks.append(Paragraph(label("rep_all_enough", lang, total=len(table), what=label(whats, lang))))
    return blocks


def _provenance_blocks(res: Results) -> list[Block]:
    info, hashes = provenance(res.sweep)
    lang = res.lang
    versions = "\n".join([label("rep_versions_sim", lang, manifest=info["manifest"])]
                         + [f"  {k} {v}" for k, v in info["simulation"].items()]
                         + [label("rep_versions_compare", lang)] + [f"  {k} {v}" for k, v in info["compare"].items()])
    return [Heading(label("rep_provenance", lang)),
            Paragraph(label("rep_commit", lang, manifest=info["manifest"], commit=info["git_commit"])),
            Code(versions),
            Paragraph(label("rep_hashes", lang)),
            Table(hashes.rename(columns={c: term(c, lang) for c in hashes.columns}))]
