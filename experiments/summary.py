"""A one-page results summary in Chinese (docs/summary.zh-CN.md), generated with README's tables.

``python -m experiments.readme_tables --write-readme`` (and ``--render-only --write-readme``) writes it beside
the READMEs from the same saved numbers (readme_tables.csv, readme_bands.csv); ``--check`` fails when it differs.
Every sentence is rendered from those numbers and the glossary's ``summary_*`` terms: the policies of the default
community against the plan targets, five-society linkage's gain in each community type, how many gains keep their
sign over the parameter sets, and how to cite the version that made them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from experiments.presentation import WAN, is_money_key
from experiments.readme_tables import MISSING, TREATMENT, column_label, format_cell
from sim.model.indicators import TARGETS_BY_KEY
from sim.tables.glossary import label, preset_label

NAME = "summary.zh-CN.md"
LANG = "zh"
# the plan's targets the summary shows (003 专栏1 #15, #28, #33–#35) and the public cost
INDICATORS = ("volunteers_per_10k", "volunteer_active_share_2plus", "response_rate", "completion_rate",
              "callback_satisfaction", "public_cost_run")


def _heading(key: str) -> str:
    """README's column heading in Chinese, money per year in 万元."""
    heading = column_label(key, LANG)
    return heading.replace("（元/", "（万元/") if is_money_key(key) else heading


def _cell(key: str, mean: float, half_width: float, gain: bool) -> str:
    """README's cell in Chinese; money in 万元 with two decimals ("51.48 ± 0.03")."""
    if not is_money_key(key) or mean is None or math.isnan(mean):
        return format_cell(key, mean, half_width, gain, LANG)
    text = f"{mean / WAN:,.2f}"
    text = ("+" + text) if gain and mean / WAN >= 0.005 else text
    return text if math.isnan(half_width) else f"{text} ± {half_width / WAN:,.2f}"


def _table(rows: list[tuple[str, pd.DataFrame]], keys: Sequence[str], first: str, gain: bool) -> list[str]:
    lines = ["| " + " | ".join([first, *(_heading(k) for k in keys)]) + " |",
             "|---|" + "---:|" * len(keys)]
    for name, g in rows:
        by_key = g.set_index("indicator")
        cells = [_cell(k, by_key.at[k, "mean"], by_key.at[k, "half_width"], gain)
                 if k in by_key.index else MISSING for k in keys]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return lines


def _meets(mean: float, key: str) -> bool:
    target = TARGETS_BY_KEY[key]
    return mean >= target.value if target.op == ">=" else math.isclose(mean, target.value)


def render(cells: pd.DataFrame, bands: pd.DataFrame | None, version: str | None, fingerprint: str | None) -> str:
    """The summary's Markdown from README's saved cells (and bands, if saved), with the version and model
    fingerprint that computed them (None: not recorded, tables older than the record)."""
    policies = cells[(cells["table"] == "policies") & (cells["row"] == "value")]
    gains = cells[(cells["table"] == "presets") & (cells["row"] == "gain")]
    if policies.empty or gains.empty:
        raise ValueError("the summary needs README's policies and presets tables (readme_tables.csv)")
    community = policies["community"].iloc[0]
    keys = [k for k in INDICATORS if k in set(policies["indicator"])]
    first = policies.iloc[0]
    out = [f"# {label('summary_title', LANG)}", "",
           label("summary_intro", LANG, steps=int(first["steps"]), warmup=int(first["warmup_weeks"]))
           + (label("summary_version", LANG, version=version, fingerprint=fingerprint) if version and fingerprint
              else label("summary_unrecorded", LANG)), "",
           f"## {label('summary_policies', LANG, community=preset_label('community', community, LANG))}", ""]
    rows = [(preset_label("policy", p, LANG), g) for p, g in policies.groupby("policy", sort=False)]
    out += _table(rows, keys, label("policy", LANG), gain=False)
    out.append("")
    for key in (k for k in keys if k in TARGETS_BY_KEY and TARGETS_BY_KEY[k].op == ">="):
        met = [preset_label("policy", p, LANG) for p, g in policies.groupby("policy", sort=False)
               if _meets(float(g.set_index("indicator").at[key, "mean"]), key)]
        out.append("- " + (label("summary_meets", LANG, indicator=_heading(key), policies="、".join(met)) if met
                           else label("summary_meets_none", LANG, indicator=_heading(key))))
    out += ["", f"## {label('summary_gains', LANG, treatment=preset_label('policy', TREATMENT, LANG))}", ""]
    rows = [(preset_label("community", c, LANG), g) for c, g in gains.groupby("community", sort=False)]
    out += _table(rows, keys, label("community", LANG), gain=True)
    seeds = sorted({int(s) for s in cells["seeds"]})
    out += ["", label("summary_cells", LANG, seeds=f"{seeds[0]}–{seeds[-1]}" if len(seeds) > 1 else seeds[0])]
    if bands is not None and not bands.empty:
        same = int((bands["same_sign"] == bands["sets"]).sum())
        out += ["", f"## {label('summary_bands_title', LANG)}", "",
                label("summary_bands", LANG, same=same, n=len(bands), sets=int(bands["sets"].max()),
                      seeds=int(bands["seeds"].max()),
                      dominant=int((bands["dominant"] == "parameters").sum()))]
    out += ["", f"## {label('summary_notes_title', LANG)}", "", label("summary_notes", LANG), ""]
    return "\n".join(out)
