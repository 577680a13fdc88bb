"""The scenario-result tables of README.md and README.zh-CN.md, generated (issue 24).

``python -m experiments.readme_tables [--out DIR] [--jobs N] [--write-readme] [--check] [--render-only]
[--tables a,b] [--seeds N] [--replications DIR] [--community NAME] [--policies a,b] [--presets a,b]
[--band-presets a,b] [--band-policies a,b] [--band-sets N] [--band-seeds N] [--band-param KEY=LO:HI ...]
[KEY=VALUE ...]``

Three tables (``--tables``: some of them; default all):

* ``policies``: the default community (configs/config.yaml's ``community``) under every policy preset;
* ``presets``: every other community preset under the baseline and ``five_society``, with the paired
  gain of ``five_society`` over the baseline (same seed) under each preset's two rows;
* ``bands``: how sure the gains are: in every community preset (``--band-presets``), the gain of each policy of
  ``--band-policies`` (default ``gov_purchase,five_society``) over the baseline, over ``--band-sets`` parameter
  sets × ``--band-seeds`` seeds with common random numbers, the sets drawn as ``python -m experiments.bands``
  draws them (:func:`experiments.bands.draw_sets`: a Latin hypercube over the calibration's prior ranges and the
  ``--band-param`` ranges, the same sets in every preset): each cell the mean paired difference ± the seed
  interval (95 % t, averaged over the sets) [the band over the sets, 2.5–97.5 %] and the sets in which it has
  the mean's sign (:func:`experiments.stats.band_table`).  Its runs go into ``<--out>/sweep/bands``, its
  numbers into ``<--out>/readme_bands.csv``.

Each cell is the mean over seeds ± the 95 % t half-width (experiments/stats.py), in the units README
uses: fractions in per cent (gains in percentage points), counts as they are, run totals of a weekly
flow (the public cost) per year.  The columns are the plan targets the model computes
(sim/model/indicators.py ``TARGETS``, not those ``not_modelled``) and then the other key indicators
(``KEY_INDICATORS``), labelled from the glossary (sim/tables/glossary.py) in English (README.md) or Chinese
(README.zh-CN.md); the policies and communities are the preset files in configs/.

Seeds per community preset: the replication study's recommendation (``recommended`` in
``<--replications>/summary.json``, written by ``python -m experiments.replications``, docs/replications.md);
a preset it does not cover gets the rule's minimum (``experiments.replications.FLOOR``, 10 seeds), and
the tables say so.  ``--seeds N`` sets one count for every preset instead (tests, a quick look).

The runs go through :func:`sim.runs.runner.run_many` into ``<--out>/sweep`` (resumable: a re-run skips the
complete runs).  ``<--out>/readme_tables.csv`` holds every cell (mean, half-width, n) and the tables
are rendered from it, also as ``readme_tables.en.md`` / ``readme_tables.zh.md``.  ``--write-readme``
replaces the text between ``<!-- readme_tables:<table>:start -->`` and ``<!-- readme_tables:<table>:end -->``
in both READMEs (both checked before either is written).  ``--check`` runs nothing: it exits 1, naming
the file and table, when a README's marked region differs from what the saved CSV renders;
``--render-only`` renders the saved CSV again (e.g. after a label changed) without running.  Both read the
tables of ``--tables`` (each must be saved), else every table saved in ``--out``.  A run of some tables
keeps the saved numbers of the others; the rates among the work orders' service indicators are shown in
per cent like the plan's fractions.

With the READMEs, ``--write-readme`` writes docs/summary.zh-CN.md, a one-page results summary in Chinese rendered
from the same saved tables (:func:`render_summary`), and ``--check`` compares it too.  A run records beside the
tables the version and model fingerprint that computed them (``record.json``), which the summary names.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from experiments import readme_regions as regions
from sim.model import indicators as sim_indicators
from sim.model.indicators import KEY_INDICATORS, TARGETS, TARGETS_BY_KEY, YEAR_WEEKS
from sim.settings.config import policy_presets
from sim.tables.glossary import COLUMNS, GLOSSARY, in_display_order, label, preset_label
from sim.tables.kpi_table import DISTRICT_TARGETS, MISSING, format_value, is_fraction

REPO = Path(__file__).resolve().parent.parent
README = {"en": REPO / "README.md", "zh": REPO / "README.zh-CN.md"}
TABLES = ("policies", "presets", "bands")
CELL_TABLES = ("policies", "presets")  # the tables of readme_tables.csv (mean ± half-width cells)
BANDS = "bands"  # the table of readme_bands.csv: gains over parameter sets × seeds
PREFIX = "readme_tables"  # the regions' markers, <!-- readme_tables:<table>:start -->: experiments/readme_regions.py
TREATMENT = "five_society"  # the policy of the per-preset table, next to the baseline
CSV_FILE = "readme_tables.csv"
DEFAULT_OUT = Path("results") / "readme_tables"
DEFAULT_REPLICATIONS = Path("results") / "replications"
SUMMARY_FILE = "summary.json"
RUN_TOTAL = "_run"  # kpis.json's suffix of a total over the run
CSV_COLUMNS = ["table", "community", "policy", "row", "indicator", "seeds", "n", "mean", "half_width", "steps",
               "warmup_weeks", "seeds_source"]
RESERVED = ("community", "policy", "seed", "district", "hydra")  # set by the command, not by an override
BANDS_FILE = "readme_bands.csv"
BANDS_SWEEP = "bands"  # the bands table's runs: <out>/sweep/bands
BAND_POLICIES = ("gov_purchase", "five_society")
BAND_SETS = 8
BAND_SEEDS = 3
BAND_PARAMS = ("community.satisfaction_initial=0.5:0.9", "behaviour.structural_share=0.04:0.26")
BANDS_COLUMNS = ["table", "community", "policy", "baseline", "indicator", "sets", "seeds", "mean", "seed_half_width",
                 "band_low", "band_high", "sign_share", "same_sign", "dominant", "steps", "warmup_weeks", "params",
                 "command"]


class TablesError(ValueError):
    """Bad arguments, missing inputs or markers (the message says which)."""


# ------------------------------------------------------------------------------------------------
# what the tables hold: presets, indicators, seeds
# ------------------------------------------------------------------------------------------------
def default_scenario() -> tuple[str, str]:
    """The community and policy of a run with no overrides (configs/config.yaml): the table's defaults."""
    from sim.settings.config import shipped_settings

    s = shipped_settings()
    return s.community.name, s.policy.name


def indicator_columns() -> list[str]:
    """The tables' columns: the plan targets the model computes, the service indicators of the work orders
    (``SERVICE_INDICATORS``, where sim/model/indicators.py defines them), then the other key indicators."""
    keys = [t.key for t in TARGETS if t.status != "not_modelled"]
    keys += [k for k in getattr(sim_indicators, "SERVICE_INDICATORS", {}) if k not in keys]
    return keys + [k for k in KEY_INDICATORS if k not in keys]


def flow_of(key: str) -> str | None:
    """The weekly output column a run total sums (``public_cost_run`` → ``public_cost``), if there is one."""
    stem = key[: -len(RUN_TOTAL)] if key.endswith(RUN_TOTAL) else None
    return stem if stem in COLUMNS and COLUMNS[stem][2].endswith("/week") else None


def seeds_per_preset(communities: Sequence[str], replications: Path, seeds: int | None = None
                     ) -> dict[str, tuple[int, str]]:
    """Seeds for each community and where the number comes from (``option``, ``replications:<file>``, ``floor``).

    ``seeds`` (the ``--seeds`` option) sets every count.  Otherwise the replication study's
    ``summary.json`` (``recommended``: community → seeds) in ``replications``; a community it does not
    name, or no study at all, gets the rule's minimum (experiments.replications.FLOOR).
    """
    if seeds is not None:
        return {c: (seeds, "option") for c in communities}
    from experiments.replications import FLOOR

    path = replications / SUMMARY_FILE
    recommended: dict = {}
    if path.exists():
        try:
            recommended = json.loads(path.read_text(encoding="utf-8")).get("recommended") or {}
        except (OSError, ValueError, AttributeError) as exc:
            raise TablesError(f"{path}: not a replication study's summary ({exc}); "
                              "re-run python -m experiments.replications or pass --seeds N") from None
    out = {}
    for c in communities:
        n = recommended.get(c)
        if n is None:
            out[c] = (FLOOR, f"floor:{path}")
        elif not isinstance(n, int) or n < 2:
            raise TablesError(f"{path}: recommended seeds for {c} is {n!r}, not a whole number ≥ 2")
        else:
            out[c] = (n, f"replications:{path}")
    return out


# ------------------------------------------------------------------------------------------------
# the numbers: a runs table → one row per cell (the CSV)
# ------------------------------------------------------------------------------------------------
def per_run_values(runs: pd.DataFrame, indicators: Sequence[str]) -> pd.DataFrame:
    """``runs`` with each run total of a weekly flow turned into its amount per year (× 52 ÷ the run's weeks)."""
    out = runs.copy()
    for key in indicators:
        if flow_of(key):
            out[key] = out[key].astype(float) * YEAR_WEEKS / out["steps"].astype(float)
    return out


def _cell(table: str, community: str, policy: str, row: str, key: str, values, seeds: int, first: pd.Series,
          source: str) -> dict:
    from experiments.stats import mean_ci

    ci = mean_ci(values)
    return {"table": table, "community": community, "policy": policy, "row": row, "indicator": key,
            "seeds": int(seeds), "n": ci.n, "mean": ci.mean, "half_width": ci.half_width,
            "steps": int(first["steps"]), "warmup_weeks": int(first["warmup_weeks"]), "seeds_source": source}


def summarise(runs: pd.DataFrame, community: str, policies: Sequence[str], presets: Sequence[str],
              indicators: Sequence[str] | None = None, baseline: str = "baseline", treatment: str = TREATMENT,
              sources: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Every cell of both tables from a runs table (one row per run: community, policy, seed, steps,
    warmup_weeks and the indicators): mean, 95 % t half-width and n over seeds; the per-preset table
    also has the paired difference ``treatment − baseline`` (row ``gain``, same seed).  A pure function."""
    indicators = list(indicator_columns() if indicators is None else indicators)
    missing = [k for k in [*indicators, "community", "policy", "seed", "steps", "warmup_weeks"] if k not in runs]
    if missing:
        raise TablesError(f"the runs table has no column {', '.join(missing)}")
    runs = per_run_values(runs, indicators)
    sources = dict(sources or {})
    rows = []

    def group(comm: str, pol: str) -> pd.DataFrame:
        g = runs[(runs["community"] == comm) & (runs["policy"] == pol)].sort_values("seed")
        if g.empty:
            raise TablesError(f"no runs of community={comm} policy={pol}")
        return g

    for pol in policies:
        g = group(community, pol)
        rows += [_cell("policies", community, pol, "value", k, g[k], len(g), g.iloc[0], sources.get(community, ""))
                 for k in indicators]
    for comm in presets:
        both = {}
        for pol in (baseline, treatment):
            g = both[pol] = group(comm, pol)
            rows += [_cell("presets", comm, pol, "value", k, g[k], len(g), g.iloc[0], sources.get(comm, ""))
                     for k in indicators]
        pairs = both[treatment].merge(both[baseline], on="seed", suffixes=("", "_base"))
        for k in indicators:
            diff = pairs[k].astype(float) - pairs[f"{k}_base"].astype(float)
            rows.append(_cell("presets", comm, treatment, "gain", k, diff, len(pairs), pairs.iloc[0],
                              sources.get(comm, "")))
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def summarise_bands(runs: pd.DataFrame, policies: Sequence[str], baseline: str = "baseline",
                    indicators: Sequence[str] | None = None, params: Sequence[str] = (), command: str = ""
                    ) -> pd.DataFrame:
    """The cells of the bands table from a runs table (one row per run: community, policy, set, seed, steps,
    warmup_weeks and the indicators): per community (in the runs' order), policy of ``policies`` and indicator,
    the paired differences from ``baseline`` (same community, set and seed; :func:`experiments.bands.contrasts`)
    summed up by :func:`experiments.stats.band_table`; run totals of a weekly flow per year.  An indicator with
    no difference (e.g. undefined under the baseline) has no row.  A pure function."""
    from experiments.bands import contrasts
    from experiments.stats import band_table

    indicators = list(indicator_columns() if indicators is None else indicators)
    missing = [k for k in [*indicators, "community", "policy", "set", "seed", "steps", "warmup_weeks"]
               if k not in runs]
    if missing:
        raise TablesError(f"the runs table has no column {', '.join(missing)}")
    runs = per_run_values(runs, indicators)
    parts = []
    for comm, g in runs.groupby("community", sort=False):
        for pol in (baseline, *policies):
            if not (g["policy"] == pol).any():
                raise TablesError(f"no runs of community={comm} policy={pol}")
        table = band_table(contrasts(g, [baseline, *policies], indicators))
        first = g.iloc[0]
        parts.append(table.rename(columns={"kpi": "indicator", "mean_diff": "mean"}).assign(
            table=BANDS, community=comm, baseline=baseline,
            same_sign=(table["sign_share"] * table["sets"]).round().astype(int),
            steps=int(first["steps"]), warmup_weeks=int(first["warmup_weeks"]), params=" ".join(params),
            command=command))
    if not parts:
        raise TablesError("no runs for the bands table")
    return pd.concat(parts, ignore_index=True)[BANDS_COLUMNS]


# ------------------------------------------------------------------------------------------------
# Markdown
# ------------------------------------------------------------------------------------------------
def shown_as_fraction(key: str) -> bool:
    """Shown in per cent (gains in percentage points): the fractions of :func:`sim.tables.kpi_table.is_fraction` and the
    rates among the service indicators (sim/model/indicators.py ``SERVICE_INDICATORS``: ratios of order counts)."""
    return is_fraction(key) or (key in getattr(sim_indicators, "SERVICE_INDICATORS", {}) and key.endswith("_rate"))


def _number(x: float, decimals: int) -> str:
    text = f"{abs(x):,.{decimals}f}"
    return ("−" if x < 0 and float(text.replace(",", "")) != 0 else "") + text


def format_cell(key: str, mean: float, half_width: float, gain: bool = False, lang: str = "en") -> str:
    """``mean ± half-width`` in README's units: "60.4 ± 0.3 %", gains "+24.0 ± 1.2 pp", "1,537 ± 21", "3.4 ± 0.5"."""
    if mean is None or math.isnan(mean):
        return MISSING
    fraction = shown_as_fraction(key)
    scale = 100.0 if fraction else 1.0
    m, h = mean * scale, half_width * scale
    decimals = 1 if fraction else (0 if flow_of(key) or abs(m) >= 100 else 1)
    text = _number(m, decimals)
    if gain and float(text.replace(",", "").replace("−", "-")) > 0:
        text = "+" + text
    if not math.isnan(h):
        text += f" ± {_number(h, decimals)}"
    if fraction:
        text += f" {label('pp', lang)}" if gain else " %"
    return text


def column_label(key: str, lang: str = "en") -> str:
    """An indicator's column heading: its glossary label, then the plan's number and target, or its unit."""
    flow = flow_of(key)
    try:
        name = label(flow or key, lang)  # a run total is shown per year: named as its weekly flow, with the unit
    except KeyError:
        raise TablesError(f"indicator {flow or key!r} has no label: add it to sim/tables/glossary.yaml (en and zh)") \
            from None
    target = TARGETS_BY_KEY.get(key)
    parts = []
    if target is not None:
        if target.status == "proxy":
            name = "≈ " + name
        if target.number:
            parts.append(f"#{target.number}")
        parts.append(f"{'≥' if target.op == '>=' else '='} {format_value(key, target.value)}")
        if key in DISTRICT_TARGETS:
            parts.append(label("district_target", lang))
    if flow:
        unit = COLUMNS[flow][2].replace("/week", "/year")
        parts.append(label(f"unit:{unit}", lang) if f"unit:{unit}" in GLOSSARY else unit)
    if not parts:
        return name
    return f"{name}（{'，'.join(parts)}）" if lang == "zh" else f"{name} ({', '.join(parts)})"


def _source_text(source: str, communities: Sequence[str], seeds: int, lang: str) -> str:
    kind, _, path = source.partition(":")
    names = ", ".join(f"`{c}`" for c in communities)
    if kind == "replications":
        return label("readme_seeds_replications", lang, path=path, presets=names)
    if kind == "floor":
        return label("readme_seeds_floor", lang, path=path, presets=names, n=seeds)
    return label("readme_seeds_option", lang, presets=names, n=seeds)


def _joined(values) -> str:
    return ", ".join(str(v) for v in dict.fromkeys(values))


def render_table(cells: pd.DataFrame, table: str, lang: str = "en") -> str:
    """One table as Markdown (with its note) from the cells of :func:`summarise` (or the saved CSV)."""
    if table not in CELL_TABLES:
        raise TablesError(f"unknown table {table!r}; allowed: {', '.join(CELL_TABLES)}")
    t = cells[cells["table"] == table]
    if t.empty:
        raise TablesError(f"no cells of table {table!r}")
    keys = list(dict.fromkeys(t["indicator"]))
    first = label("policy", lang) if table == "policies" else f"{label('community', lang)} / {label('policy', lang)}"
    lines = ["| " + " | ".join([first, label("seeds", lang), *(column_label(k, lang) for k in keys)]) + " |",
             "|---|---:|" + "---:|" * len(keys)]
    gain_names = set()
    for (comm, pol, row), g in t.groupby(["community", "policy", "row"], sort=False):
        by_key = g.set_index("indicator")
        if table == "policies":
            name = f"`{pol}`"
        elif row == "gain":
            baseline = next(p for p in t.loc[(t["community"] == comm) & (t["row"] == "value"), "policy"] if p != pol)
            name = f"`{comm}` / `{pol}` − `{baseline}`"
            gain_names.add((pol, baseline))
        else:
            name = f"`{comm}` / `{pol}`"
        values = [format_cell(k, by_key.at[k, "mean"], by_key.at[k, "half_width"], row == "gain", lang)
                  if k in by_key.index else MISSING for k in keys]
        lines.append("| " + " | ".join([name, str(int(g["seeds"].iloc[0])), *values]) + " |")
    sources = t.drop_duplicates("community").groupby("seeds_source", sort=False)
    seeds_text = "; ".join(_source_text(src, list(g["community"]), int(g["seeds"].max()), lang)
                           for src, g in sources)
    note = label("readme_tables_note", lang, seeds=seeds_text, steps=_joined(t["steps"]),
                 warmup=_joined(t["warmup_weeks"]))
    for pol, baseline in sorted(gain_names):
        note += (" " if lang == "en" else "") + label("readme_gain_note", lang, treatment=pol, baseline=baseline)
    return "\n".join([*lines, "", note])


def render_all(cells: pd.DataFrame, lang: str) -> dict[str, str]:
    """The tables of readme_tables.csv that ``cells`` hold (policies, presets)."""
    return {table: render_table(cells, table, lang) for table in CELL_TABLES if (cells["table"] == table).any()}


def format_band(key: str, mean: float, half_width: float, low: float, high: float, same: int, sets: int,
                lang: str = "en") -> str:
    """A gain with its seed interval, parameter band and sign count in README's units, e.g.
    "+917 ±58 [606, 1,249] 8/8", "+21.0 ±6.9 [0.0, 37.1] pp 7/8" (fractions in percentage points)."""
    if mean is None or math.isnan(mean):
        return MISSING
    fraction = shown_as_fraction(key)
    scale = 100.0 if fraction else 1.0
    m = mean * scale
    decimals = 1 if fraction else (0 if flow_of(key) or abs(m) >= 100 else 1)
    text = _number(m, decimals)
    if float(text.replace(",", "").replace("−", "-")) > 0:
        text = "+" + text
    if not math.isnan(half_width):
        text += f" ±{_number(half_width * scale, decimals)}"
    text += f" [{_number(low * scale, decimals)}, {_number(high * scale, decimals)}]"
    if fraction:
        text += f" {label('pp', lang)}"
    return f"{text} {int(same)}/{int(sets)}"


POSTERIOR_TOKEN = "posterior"  # in the saved params: the sets were drawn from the ABC posterior

def _ranges_text(params: str, lang: str) -> str:
    specs = [p for p in str(params).split() if p]
    posterior = POSTERIOR_TOKEN in specs
    specs = [p for p in specs if p != POSTERIOR_TOKEN]
    if not specs:
        return label("readme_bands_posterior" if posterior else "readme_bands_priors", lang)
    return label("readme_bands_posterior_ranges" if posterior else "readme_bands_ranges", lang,
                 extra=("、" if lang == "zh" else ", ").join(f"`{p}`" for p in specs))


def render_bands(bands: pd.DataFrame, lang: str = "en") -> str:
    """The bands table as Markdown (with its caption) from :func:`summarise_bands` (or readme_bands.csv): rows
    "community / policy − baseline", columns the indicators (in :func:`indicator_columns`'s order) that have a
    difference in some row."""
    t = bands[bands["table"] == BANDS]
    if t.empty:
        raise TablesError(f"no cells of table {BANDS!r}")
    order = {k: i for i, k in enumerate(indicator_columns())}
    keys = sorted(dict.fromkeys(t["indicator"]), key=lambda k: order.get(k, len(order)))
    first = f"{label('community', lang)} / {label('policy', lang)}"
    lines = ["| " + " | ".join([first, *(column_label(k, lang) for k in keys)]) + " |", "|---|" + "---:|" * len(keys)]
    for (comm, pol, base), g in t.groupby(["community", "policy", "baseline"], sort=False):
        by_key = g.set_index("indicator")
        values = []
        for k in keys:
            if k not in by_key.index:
                values.append(MISSING)
                continue
            r = by_key.loc[k]
            values.append(format_band(k, float(r["mean"]), float(r["seed_half_width"]), float(r["band_low"]),
                                      float(r["band_high"]), int(r["same_sign"]), int(r["sets"]), lang))
        lines.append("| " + " | ".join([f"`{comm}` / `{pol}` − `{base}`", *values]) + " |")
    meta = t.iloc[0]
    caption = label("readme_bands_caption", lang, baseline=_joined(t["baseline"]), sets=_joined(t["sets"]),
                    seeds=_joined(t["seeds"]), steps=_joined(t["steps"]), warmup=_joined(t["warmup_weeks"]),
                    ranges=_ranges_text(meta["params"], lang), command=str(meta["command"]))
    return "\n".join([*lines, "", caption])


# ------------------------------------------------------------------------------------------------
# README regions
# ------------------------------------------------------------------------------------------------
def markers(table: str) -> tuple[str, str]:
    return regions.markers(table, PREFIX)


def _span(text: str, table: str, name: str) -> tuple[int, int]:
    """Where the region of ``table`` is in ``text``: (end of the start marker's line, start of the end marker)."""
    return regions.span(text, table, name, PREFIX, TablesError)


def region(text: str, table: str, name: str = "README") -> str:
    """The text between a table's markers (without the newlines next to them)."""
    return regions.region(text, table, name, PREFIX, TablesError)


def replace_region(text: str, table: str, content: str, name: str = "README") -> str:
    """``text`` with the region of ``table`` replaced by ``content``; TablesError if the markers are missing."""
    return regions.replace_region(text, table, content, name, PREFIX, TablesError)


def updated_readmes(rendered: Mapping[str, Mapping[str, str]], paths: Mapping[str, Path]) -> dict[Path, str]:
    """The new text of each README (every region checked before anything is written)."""
    return regions.updated_files(rendered, paths, PREFIX, TablesError)


def stale_regions(rendered: Mapping[str, Mapping[str, str]], paths: Mapping[str, Path]) -> list[str]:
    """"<file>: table <name>" for every README region that differs from the rendered table."""
    return [f"{path}: table {table!r}" for path, table in regions.stale(rendered, paths, PREFIX, TablesError)]


# ------------------------------------------------------------------------------------------------
# running
# ------------------------------------------------------------------------------------------------
def plan(community: str, policies: Sequence[str], presets: Sequence[str], seeds: Mapping[str, tuple[int, str]],
         overrides: Sequence[str], baseline: str = "baseline", treatment: str = TREATMENT):
    """The runs of both tables, each once: (settings, overrides, folder names)."""
    from experiments.design import DesignError, plan_runs

    wanted = {community: list(policies)} if policies else {}
    for comm in presets:
        wanted.setdefault(comm, [])
        wanted[comm] += [p for p in (baseline, treatment) if p not in wanted[comm]]
    settings, run_overrides, names = [], [], []
    for comm, pols in wanted.items():
        try:
            s, o, n, _ = plan_runs(None, range(seeds[comm][0]), [f"community={comm}", f"policy={','.join(pols)}",
                                                                   *overrides])
        except DesignError as exc:
            raise TablesError(str(exc)) from None
        settings += s
        run_overrides += o
        names += n
    return settings, run_overrides, names


def check_labels() -> None:
    """Every column and caption has its labels (en, zh) before anything runs."""
    for lang in README:
        for key in indicator_columns():
            column_label(key, lang)
        for key in ("readme_bands_caption", "readme_bands_ranges", "readme_bands_priors", "readme_bands_posterior",
                    "readme_bands_posterior_ranges"):
            if key not in GLOSSARY:
                raise TablesError(f"no label {key!r}: add it to sim/tables/glossary.yaml (en and zh)")


def run_tables(args: argparse.Namespace, tables: Sequence[str] = CELL_TABLES) -> pd.DataFrame:
    """Run (or resume) the sweep and return the cells of ``tables`` (policies, presets)."""
    from experiments.design import DesignError, check_runs
    from sim.runs.runner import run_many

    check_labels()
    policies = list(args.policies) if "policies" in tables else []
    presets = list(args.presets) if "presets" in tables else []
    communities = list(dict.fromkeys([*([args.community] if policies else []), *presets]))
    seeds = seeds_per_preset(communities, args.replications, args.seeds)
    for comm in communities:
        n, source = seeds[comm]
        print(f"{comm}: {n} seeds ({source})", flush=True)
    settings, run_overrides, names = plan(args.community, policies, presets, seeds, args.overrides, args.baseline)
    print(f"{len(settings)} runs into {args.out / 'sweep'} …", flush=True)
    runs = run_many(settings, args.out / "sweep", args.jobs, names=names, overrides=run_overrides)
    try:
        runs = check_runs(runs[runs["run_dir"].isin(names)], args.out / "sweep")
    except DesignError as exc:
        raise TablesError(str(exc)) from None
    weeks = {n: (s.steps, s.warmup_weeks) for n, s in zip(names, settings, strict=True)}
    runs = runs.assign(steps=runs["run_dir"].map(lambda n: weeks[n][0]),
                       warmup_weeks=runs["run_dir"].map(lambda n: weeks[n][1]))
    return summarise(runs, args.community, policies, presets, baseline=args.baseline,
                     sources={c: s for c, (_, s) in seeds.items()})


def bands_command(args: argparse.Namespace) -> str:
    """The command that makes the bands table again (the caption's): its options spelled out, not left to
    defaults that may change."""
    from sim.settings.config import community_presets

    parts = ["python -m experiments.readme_tables --tables bands"]
    if list(args.band_presets) != community_presets():
        parts.append(f"--band-presets {','.join(args.band_presets)}")
    parts += [f"--band-policies {','.join(args.band_policies)}", f"--band-sets {args.band_sets}",
              f"--band-seeds {args.band_seeds}", *(["--band-posterior"] if args.band_posterior else []),
              *(f"--band-param {p}" for p in args.band_param)]
    if Path(args.out) != DEFAULT_OUT:
        parts.append(f"--out {args.out}")
    return " ".join([*parts, "--write-readme", *args.overrides])


def run_bands(args: argparse.Namespace) -> pd.DataFrame:
    """Run (or resume) the bands table's runs in ``<out>/sweep/bands`` and return its cells: every preset of
    ``--band-presets`` × the baseline and ``--band-policies`` × the parameter sets of
    :func:`experiments.bands.draw_sets` × seeds, each run once."""
    from experiments.bands import complete_runs, draw_sets, plan_set_runs
    from experiments.design import DesignError, check_runs
    from sim.runs.runner import run_many
    from sim.settings.params import ConfigError

    check_labels()
    from experiments.validation import POSTERIOR_SAMPLE

    sets = draw_sets(args.band_sets, POSTERIOR_SAMPLE if args.band_posterior else None, args.band_extra)
    policies = [args.baseline, *args.band_policies]
    settings, names, run_overrides, index = [], [], [], []
    for comm in args.band_presets:
        try:
            s, n, o, i = plan_set_runs(policies, sets, args.band_seeds, args.overrides, scope=(f"community={comm}",))
        except ConfigError as exc:
            raise TablesError(str(exc)) from None
        settings += s
        names += n
        run_overrides += o
        index += i
    sweep = args.out / "sweep" / BANDS_SWEEP
    print(f"bands: {len(args.band_presets)} presets × {len(policies)} policies × {args.band_sets} parameter sets × "
          f"{args.band_seeds} seeds = {len(settings)} runs into {sweep} …", flush=True)
    runs = run_many(settings, sweep, args.jobs, names=names, overrides=run_overrides)
    try:
        check_runs(runs[runs["run_dir"].isin(names)], sweep)
    except DesignError as exc:
        raise TablesError(str(exc)) from None
    runs = complete_runs(runs, index, sweep)
    weeks = {n: (s.steps, s.warmup_weeks, s.community.name) for n, s in zip(names, settings, strict=True)}
    runs = runs.assign(steps=runs["run_dir"].map(lambda n: weeks[n][0]),
                       warmup_weeks=runs["run_dir"].map(lambda n: weeks[n][1]),
                       community=runs["run_dir"].map(lambda n: weeks[n][2]))
    order = {c: i for i, c in enumerate(args.band_presets)}
    runs = runs.sort_values("community", key=lambda c: c.map(order), kind="stable")  # rows in --band-presets order
    indicators = [k for k in indicator_columns() if k in runs.columns]
    params = [*([POSTERIOR_TOKEN] if args.band_posterior else []), *args.band_param]
    return summarise_bands(runs, args.band_policies, args.baseline, indicators, params, bands_command(args))


def read_cells(out: Path) -> pd.DataFrame:
    path = out / CSV_FILE
    if not path.exists():
        raise TablesError(f"no {path}: run python -m experiments.readme_tables --out {out} --tables policies,presets "
                          "first")
    cells = pd.read_csv(path, keep_default_na=False, na_values=[""])
    missing = [c for c in CSV_COLUMNS if c not in cells]
    if missing:
        raise TablesError(f"{path}: not a readme_tables CSV (no column {', '.join(missing)})")
    cells["seeds_source"] = cells["seeds_source"].fillna("").astype(str)
    return cells


def write_cells(cells: pd.DataFrame, out: Path) -> None:
    """The cells of both tables as ``<out>/readme_tables.csv`` (replaced whole)."""
    from sim.runs.outputs import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / CSV_FILE, cells.to_csv(index=False, lineterminator="\n"))


def merged_cells(cells: pd.DataFrame, out: Path) -> pd.DataFrame:
    """``cells`` and, of a saved ``<out>/readme_tables.csv``, the cells of the tables ``cells`` lacks (a run of
    some tables keeps the others)."""
    if not (out / CSV_FILE).exists():
        return cells
    old = read_cells(out)
    kept = old[~old["table"].isin(set(cells["table"]))][CSV_COLUMNS]
    return pd.concat([kept, cells], ignore_index=True) if len(kept) else cells


def read_bands(out: Path) -> pd.DataFrame:
    path = out / BANDS_FILE
    if not path.exists():
        raise TablesError(f"no {path}: run python -m experiments.readme_tables --out {out} --tables bands first")
    bands = pd.read_csv(path, keep_default_na=False, na_values=[""])
    missing = [c for c in BANDS_COLUMNS if c not in bands]
    if missing:
        raise TablesError(f"{path}: not a readme_tables bands CSV (no column {', '.join(missing)})")
    for col in ("params", "command"):
        bands[col] = bands[col].fillna("").astype(str)
    return bands


def write_bands(bands: pd.DataFrame, out: Path) -> None:
    """The cells of the bands table as ``<out>/readme_bands.csv`` (replaced whole)."""
    from sim.runs.outputs import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / BANDS_FILE, bands.to_csv(index=False, lineterminator="\n"))


def saved_tables(out: Path) -> list[str]:
    """The tables whose numbers ``<out>`` holds (readme_tables.csv, readme_bands.csv), in :data:`TABLES` order."""
    have = set(read_cells(out)["table"]) if (out / CSV_FILE).exists() else set()
    if (out / BANDS_FILE).exists():
        have.add(BANDS)
    return [t for t in TABLES if t in have]


def render_saved(out: Path, tables: Sequence[str]) -> dict[str, dict[str, str]]:
    """language → table → Markdown of ``tables``, rendered from the CSVs saved in ``out`` (what --check compares)."""
    cells = read_cells(out) if any(t in CELL_TABLES for t in tables) else None
    bands = read_bands(out) if BANDS in tables else None
    rendered: dict[str, dict[str, str]] = {}
    for lang in README:
        rendered[lang] = {t: render_bands(bands, lang) if t == BANDS else render_table(cells, t, lang)
                          for t in TABLES if t in tables}
    return rendered


def write_markdown(rendered: Mapping[str, Mapping[str, str]], out: Path) -> None:
    """The rendered tables as ``<out>/readme_tables.<lang>.md``."""
    from sim.runs.outputs import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    for lang, tables in rendered.items():
        write_atomic(out / f"readme_tables.{lang}.md",
                     "\n\n".join(f"## {table}\n\n{content}" for table, content in tables.items()) + "\n")



# ------------------------------------------------------------------------------------------------
# the one-page results summary in Chinese (docs/summary.zh-CN.md), written and checked with the READMEs
# ------------------------------------------------------------------------------------------------
# Every sentence is rendered from the saved tables and the glossary's ``summary_*`` terms: the policies of the
# default community against the plan targets, five-society linkage's gain in each community type, how many gains
# keep their sign over the parameter sets, and how to cite the version that made them.
SUMMARY_NAME = "summary.zh-CN.md"
ZH = "zh"  # the summary's language
# the plan's targets the summary shows (003 专栏1 #15, #28, #33–#35) and the public cost
SUMMARY_INDICATORS = ("volunteers_per_10k", "volunteer_active_share_2plus", "response_rate", "completion_rate",
                      "callback_satisfaction", "public_cost_run")


def _summary_heading(key: str) -> str:
    """README's column heading in Chinese, money per year in 万元."""
    from experiments.presentation import is_money_key

    heading = column_label(key, ZH)
    return heading.replace("（元/", "（万元/") if is_money_key(key) else heading


def _summary_cell(key: str, mean: float, half_width: float, gain: bool) -> str:
    """README's cell in Chinese; money in 万元 with two decimals ("51.48 ± 0.03")."""
    from experiments.presentation import WAN, is_money_key

    if not is_money_key(key) or mean is None or math.isnan(mean):
        return format_cell(key, mean, half_width, gain, ZH)
    text = f"{mean / WAN:,.2f}"
    text = ("+" + text) if gain and mean / WAN >= 0.005 else text
    return text if math.isnan(half_width) else f"{text} ± {half_width / WAN:,.2f}"


def _summary_table(rows: list[tuple[str, pd.DataFrame]], keys: Sequence[str], first: str, gain: bool) -> list[str]:
    lines = ["| " + " | ".join([first, *(_summary_heading(k) for k in keys)]) + " |",
             "|---|" + "---:|" * len(keys)]
    for name, g in rows:
        by_key = g.set_index("indicator")
        cells = [_summary_cell(k, by_key.at[k, "mean"], by_key.at[k, "half_width"], gain)
                 if k in by_key.index else MISSING for k in keys]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return lines


def _meets_target(mean: float, key: str) -> bool:
    target = TARGETS_BY_KEY[key]
    return mean >= target.value if target.op == ">=" else math.isclose(mean, target.value)


def render_summary(cells: pd.DataFrame, bands: pd.DataFrame | None, version: str | None,
                   fingerprint: str | None) -> str:
    """The summary's Markdown from README's saved cells (and bands, if saved), with the version and model
    fingerprint that computed them (None: not recorded, tables older than the record)."""
    policies = cells[(cells["table"] == "policies") & (cells["row"] == "value")]
    gains = cells[(cells["table"] == "presets") & (cells["row"] == "gain")]
    if policies.empty or gains.empty:
        raise ValueError("the summary needs README's policies and presets tables (readme_tables.csv)")
    community = policies["community"].iloc[0]
    keys = [k for k in SUMMARY_INDICATORS if k in set(policies["indicator"])]
    first = policies.iloc[0]
    out = [f"# {label('summary_title', ZH)}", "",
           label("summary_intro", ZH, steps=int(first["steps"]), warmup=int(first["warmup_weeks"]))
           + (label("summary_version", ZH, version=version, fingerprint=fingerprint) if version and fingerprint
              else label("summary_unrecorded", ZH)), "",
           f"## {label('summary_policies', ZH, community=preset_label('community', community, ZH))}", ""]
    rows = [(preset_label("policy", p, ZH), g) for p, g in policies.groupby("policy", sort=False)]
    out += _summary_table(rows, keys, label("policy", ZH), gain=False)
    out.append("")
    for key in (k for k in keys if k in TARGETS_BY_KEY and TARGETS_BY_KEY[k].op == ">="):
        met = [preset_label("policy", p, ZH) for p, g in policies.groupby("policy", sort=False)
               if _meets_target(float(g.set_index("indicator").at[key, "mean"]), key)]
        out.append("- " + (label("summary_meets", ZH, indicator=_summary_heading(key), policies="、".join(met)) if met
                           else label("summary_meets_none", ZH, indicator=_summary_heading(key))))
    out += ["", f"## {label('summary_gains', ZH, treatment=preset_label('policy', TREATMENT, ZH))}", ""]
    rows = [(preset_label("community", c, ZH), g) for c, g in gains.groupby("community", sort=False)]
    out += _summary_table(rows, keys, label("community", ZH), gain=True)
    seeds = sorted({int(s) for s in cells["seeds"]})
    out += ["", label("summary_cells", ZH, seeds=f"{seeds[0]}–{seeds[-1]}" if len(seeds) > 1 else seeds[0])]
    if bands is not None and not bands.empty:
        same = int((bands["same_sign"] == bands["sets"]).sum())
        out += ["", f"## {label('summary_bands_title', ZH)}", "",
                label("summary_bands", ZH, same=same, n=len(bands), sets=int(bands["sets"].max()),
                      seeds=int(bands["seeds"].max()),
                      dominant=int((bands["dominant"] == "parameters").sum()))]
    out += ["", f"## {label('summary_notes_title', ZH)}", "", label("summary_notes", ZH), ""]
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------------
def _names(option: str, text: str, allowed: Sequence[str]) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise TablesError(f"{option}: give at least one name; allowed: {', '.join(allowed)}")
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise TablesError(f"{option}: unknown {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    return list(dict.fromkeys(names))


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    communities, policies = _preset_names()
    default_community, baseline = default_scenario()
    ap = argparse.ArgumentParser(prog="python -m experiments.readme_tables", description=__doc__.split("\n\n")[0],
                                 epilog="Examples (tests): python -m experiments.readme_tables --seeds 2 "
                                        "--community relocation --presets relocation --tables policies,presets "
                                        "--out /tmp/rt warmup_weeks=0 steps=60; python -m experiments.readme_tables "
                                        "--tables bands --band-presets relocation --band-sets 2 --band-seeds 2 "
                                        "--out /tmp/rt warmup_weeks=0 steps=60",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                    help="settings of every run, e.g. steps=156 warmup_weeks=0 (not community, policy or seed)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help=f"output folder, the sweep in <out>/sweep (default: {DEFAULT_OUT})")
    ap.add_argument("--jobs", type=int, default=None, help="runs at once (default: all cores)")
    ap.add_argument("--seeds", type=int, default=None,
                    help="seeds for every preset (default: the replication study's recommendation per preset)")
    ap.add_argument("--replications", type=Path, default=DEFAULT_REPLICATIONS,
                    help=f"the replication study's output folder: its {SUMMARY_FILE} gives the seeds "
                         f"(default: {DEFAULT_REPLICATIONS})")
    ap.add_argument("--community", default=default_community,
                    help=f"the community of the policy table (default: {default_community})")
    ap.add_argument("--policies", default=",".join(policies),
                    help="the policies of the policy table, comma-separated (default: every policy preset)")
    ap.add_argument("--presets", default=None,
                    help="the communities of the per-preset table, comma-separated "
                         "(default: every preset but --community)")
    ap.add_argument("--tables", default=None,
                    help=f"the tables to make, comma-separated, of {', '.join(TABLES)} (default: all; with --check or "
                         "--render-only: every table whose CSV is saved in --out)")
    ap.add_argument("--band-presets", default=None,
                    help="bands table: the community presets, comma-separated (default: every preset)")
    ap.add_argument("--band-policies", default=",".join(BAND_POLICIES),
                    help="bands table: the policies whose gains over the baseline it shows (default: %(default)s)")
    ap.add_argument("--band-sets", type=int, default=BAND_SETS,
                    help="bands table: parameter sets, as python -m experiments.bands --sets (default: %(default)s)")
    ap.add_argument("--band-seeds", type=int, default=BAND_SEEDS,
                    help="bands table: seeds per set, preset and policy (default: %(default)s)")
    ap.add_argument("--band-param", action="append", default=None, metavar="KEY=LO:HI",
                    help="bands table: also vary this parameter uniformly over [LO, HI], as python -m "
                         "experiments.bands --param (repeatable; replaces the defaults: "
                         f"{' '.join(BAND_PARAMS)})")
    ap.add_argument("--band-posterior", action="store_true",
                    help="bands table: draw the calibrated parameters from the ABC posterior shipped with them "
                         "(configs/behaviour/posterior.csv, as python -m experiments.bands --posterior) instead of "
                         "spreading them over their prior ranges")
    ap.add_argument("--write-readme", action="store_true", help="replace the marked tables in both READMEs")
    ap.add_argument("--check", action="store_true",
                    help="run nothing; exit 1 if a README's marked table differs from what <out>/readme_tables.csv "
                         f"(policies, presets) or <out>/{BANDS_FILE} (bands) renders")
    ap.add_argument("--render-only", action="store_true",
                    help=f"run nothing; render <out>/readme_tables.csv and <out>/{BANDS_FILE} again (with "
                         "--write-readme: into the READMEs)")
    ap.add_argument("--readme", type=Path, default=README["en"],
                    help="the English README (default: README.md of the repository)")
    ap.add_argument("--readme-zh", type=Path, default=README["zh"],
                    help="the Chinese README (default: README.zh-CN.md of the repository)")
    args = ap.parse_args(list(argv))
    args.baseline = baseline
    if args.check and (args.render_only or args.write_readme):
        raise TablesError("--check only reads: do not combine it with --render-only or --write-readme")
    if args.jobs is not None and args.jobs < 1:
        raise TablesError(f"--jobs must be ≥ 1; got {args.jobs}")
    if args.seeds is not None and args.seeds < 2:
        raise TablesError(f"--seeds must be ≥ 2 (an interval needs two seeds); got {args.seeds}")
    if args.community not in communities:
        raise TablesError(f"--community: unknown {args.community}; allowed: {', '.join(communities)}")
    args.policies = _names("--policies", args.policies, policies)
    if baseline not in args.policies:
        raise TablesError(f"--policies must include {baseline} (the gains are over it); got {','.join(args.policies)}")
    if TREATMENT not in policies:
        raise TablesError(f"no policy preset {TREATMENT} in configs/policy/ (the per-preset table needs it)")
    args.presets = _names("--presets", args.presets, communities) if args.presets is not None else \
        [c for c in communities if c != args.community]
    for o in args.overrides:
        key = o.split("=", 1)[0].lstrip("+~")
        if "=" not in o or key.split(".", 1)[0] in RESERVED:
            raise TablesError(f"override {o!r}: give KEY=VALUE settings of the runs (not {', '.join(RESERVED)}: "
                              "the command sets those)")
    args.readmes = {"en": args.readme, "zh": args.readme_zh}
    args.tables = _names("--tables", args.tables, TABLES) if args.tables is not None else None
    args.band_presets = _names("--band-presets", args.band_presets, communities) if args.band_presets is not None \
        else list(communities)
    args.band_policies = _names("--band-policies", args.band_policies, policies)
    if baseline in args.band_policies:
        raise TablesError(f"--band-policies: the gains are over {baseline}; name the other policies only")
    if args.band_sets < 2:
        raise TablesError(f"--band-sets must be ≥ 2 (a band needs several parameter sets); got {args.band_sets}")
    if args.band_seeds < 2:
        raise TablesError(f"--band-seeds must be ≥ 2 (a seed interval needs two seeds); got {args.band_seeds}")
    args.band_param = list(BAND_PARAMS if args.band_param is None else args.band_param)
    from experiments.bands import BandsError, extra_priors

    try:
        args.band_extra = extra_priors(args.band_param)
    except BandsError as exc:
        raise TablesError(str(exc).replace("--param", "--band-param", 1)) from None
    return args


def _preset_names() -> tuple[list[str], list[str]]:
    from sim.settings.config import community_presets

    return community_presets(), in_display_order("policy", policy_presets())


def _saved_selection(args: argparse.Namespace) -> list[str]:
    """The tables --check and --render-only read: those of --tables, else every table saved in --out (a note
    names the tables not saved, which are then not checked)."""
    if args.tables is not None:
        return args.tables
    tables = saved_tables(args.out)
    if not tables:
        raise TablesError(f"no {args.out / CSV_FILE} or {args.out / BANDS_FILE}: run python -m "
                          f"experiments.readme_tables --out {args.out} first")
    absent = [t for t in TABLES if t not in tables]
    if absent:
        print(f"note: no saved numbers of table {', '.join(absent)} in {args.out}: not read (make it with "
              f"--tables {','.join(absent)})", file=sys.stderr)
    return tables


def summary_path(args: argparse.Namespace) -> Path:
    """docs/summary.zh-CN.md beside the READMEs (written with them: render_summary)."""
    return args.readmes["zh"].parent / "docs" / SUMMARY_NAME


RECORD_FILE = "record.json"  # the version and model fingerprint that computed the saved tables


def write_record(out: Path) -> None:
    """Record beside the saved tables the version and model fingerprint (experiments.docs) that computed them."""
    import sim
    from experiments.docs import model_fingerprint
    from sim.runs.outputs import write_atomic

    write_atomic(out / RECORD_FILE, {"version": sim.__version__, "model_outputs": model_fingerprint()})


def read_record(out: Path) -> dict:
    """What :func:`write_record` recorded; empty for tables computed before the record was kept."""
    path = out / RECORD_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def summary_text(out: Path) -> str | None:
    """The Chinese one-page summary rendered from the tables saved in ``out`` and the version and model fingerprint
    that computed them; None unless both scenario tables (policies, presets) are saved."""
    saved = saved_tables(out)
    if not all(t in saved for t in CELL_TABLES):
        return None
    record = read_record(out)
    return render_summary(read_cells(out), read_bands(out) if BANDS in saved else None, record.get("version"),
                  record.get("model_outputs"))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
        if args.check:
            rendered = render_saved(args.out, _saved_selection(args))
            stale = stale_regions(rendered, args.readmes)
            summary, path = summary_text(args.out), summary_path(args)
            if summary is not None and path.parent.is_dir() and (
                    not path.is_file() or path.read_text(encoding="utf-8") != summary):
                stale.append(f"{path} (the one-page summary)")
            if stale:
                print(f"out of date (README differs from what {args.out / CSV_FILE} or {args.out / BANDS_FILE} "
                      "renders):\n  " + "\n  ".join(stale) + "\nrun python -m experiments.readme_tables "
                      "--render-only --write-readme (or the full command)", file=sys.stderr)
                return 1
            print(f"READMEs match the tables saved in {args.out}: {', '.join(rendered['en'])}")
            return 0
        tables = _saved_selection(args) if args.render_only else (args.tables or list(TABLES))
        if args.write_readme:  # markers first: a missing one fails before anything runs or is written
            regions.check_files(tables, args.readmes, PREFIX, TablesError)
        if not args.render_only:
            cell_tables = [t for t in tables if t in CELL_TABLES]
            cells = merged_cells(run_tables(args, cell_tables), args.out) if cell_tables else None
            bands = run_bands(args) if BANDS in tables else None
            for lang in README:  # a table that cannot be rendered fails before anything is written
                if cells is not None:
                    render_all(cells, lang)
                if bands is not None:
                    render_bands(bands, lang)
            if cells is not None:
                write_cells(cells, args.out)
            if bands is not None:
                write_bands(bands, args.out)
            write_record(args.out)
        # what --check will render: the tables come from the saved CSVs; the Markdown files hold every saved table
        rendered = render_saved(args.out, tables)
        everything = render_saved(args.out, saved_tables(args.out))
        new_readmes = updated_readmes(rendered, args.readmes) if args.write_readme else {}
        summary = summary_text(args.out) if args.write_readme else None
        if summary is not None:
            new_readmes[summary_path(args)] = summary
        write_markdown(everything, args.out)
    except TablesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from sim.runs.outputs import write_atomic

    for path, text in new_readmes.items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)  # the summary goes to docs/ beside the READMEs
        write_atomic(path, text)
        print(f"updated {path}")
    print(rendered["en"].get("policies") or next(iter(rendered["en"].values()), ""))
    print(f"tables in {args.out}/ ({', '.join(f for f in (CSV_FILE, BANDS_FILE) if (args.out / f).exists())}, "
          "readme_tables.en.md, readme_tables.zh.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
