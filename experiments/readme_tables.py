"""The scenario-result tables of README.md and README.zh-CN.md, generated (issue 24).

``python -m experiments.readme_tables [--out DIR] [--jobs N] [--write-readme] [--check] [--render-only]
[--seeds N] [--replications DIR] [--community NAME] [--policies a,b] [--presets a,b] [KEY=VALUE ...]``

Two tables:

* ``policies``: the default community (configs/config.yaml's ``community``) under every policy preset;
* ``presets``: every other community preset under the baseline and ``five_society``, with the paired
  gain of ``five_society`` over the baseline (same seed) under each preset's two rows.

Each cell is the mean over seeds ± the 95 % t half-width (experiments/stats.py), in the units README
uses: fractions in per cent (gains in percentage points), counts as they are, run totals of a weekly
flow (the public cost) per year.  The columns are the plan targets the model computes
(sim/indicators.py ``TARGETS``, not those ``not_modelled``) and then the other key indicators
(``KEY_INDICATORS``), labelled from the glossary (sim/glossary.py) in English (README.md) or Chinese
(README.zh-CN.md); the policies and communities are the preset files in configs/.

Seeds per community preset: the replication study's recommendation (``recommended`` in
``<--replications>/summary.json``, written by ``python -m experiments.replications``, docs/replications.md);
a preset it does not cover gets the rule's minimum (``experiments.replications.FLOOR``, 10 seeds), and
the tables say so.  ``--seeds N`` sets one count for every preset instead (tests, a quick look).

The runs go through :func:`sim.runner.run_many` into ``<--out>/sweep`` (resumable: a re-run skips the
complete runs).  ``<--out>/readme_tables.csv`` holds every cell (mean, half-width, n) and the tables
are rendered from it, also as ``readme_tables.en.md`` / ``readme_tables.zh.md``.  ``--write-readme``
replaces the text between ``<!-- readme_tables:<table>:start -->`` and ``<!-- readme_tables:<table>:end -->``
in both READMEs (both checked before either is written).  ``--check`` runs nothing: it exits 1, naming
the file and table, when a README's marked region differs from what the saved CSV renders;
``--render-only`` renders the saved CSV again (e.g. after a label changed) without running.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path

import pandas as pd

from experiments import readme_regions as regions
from sim import indicators as sim_indicators
from sim.glossary import COLUMNS, GLOSSARY, PRESETS, label
from sim.indicators import KEY_INDICATORS, TARGETS, TARGETS_BY_KEY, YEAR_WEEKS
from sim.kpi_table import DISTRICT_TARGETS, MISSING, format_value, is_fraction

REPO = Path(__file__).resolve().parent.parent
README = {"en": REPO / "README.md", "zh": REPO / "README.zh-CN.md"}
TABLES = ("policies", "presets")
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


class TablesError(ValueError):
    """Bad arguments, missing inputs or markers (the message says which)."""


# ------------------------------------------------------------------------------------------------
# what the tables hold: presets, indicators, seeds
# ------------------------------------------------------------------------------------------------
def policy_presets() -> list[str]:
    """The policy presets shipped in configs/policy/, in the glossary's order (baseline first), others after."""
    names = [p.name[:-5] for p in files("sim.configs").joinpath("policy").iterdir() if p.name.endswith(".yaml")]
    order = {n: i for i, n in enumerate(PRESETS.get("policy", ()))}
    return sorted(names, key=lambda n: (order.get(n, len(order)), n))


def default_scenario() -> tuple[str, str]:
    """The community and policy of a run with no overrides (configs/config.yaml): the table's defaults."""
    from sim.config import shipped_settings

    s = shipped_settings()
    return s.community.name, s.policy.name


def indicator_columns() -> list[str]:
    """The tables' columns: the plan targets the model computes, the service indicators of the work orders
    (``SERVICE_INDICATORS``, where sim/indicators.py defines them), then the other key indicators."""
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


# ------------------------------------------------------------------------------------------------
# Markdown
# ------------------------------------------------------------------------------------------------
def _number(x: float, decimals: int) -> str:
    text = f"{abs(x):,.{decimals}f}"
    return ("−" if x < 0 and float(text.replace(",", "")) != 0 else "") + text


def format_cell(key: str, mean: float, half_width: float, gain: bool = False, lang: str = "en") -> str:
    """``mean ± half-width`` in README's units: "60.4 ± 0.3 %", gains "+24.0 ± 1.2 pp", "1,537 ± 21", "3.4 ± 0.5"."""
    if mean is None or math.isnan(mean):
        return MISSING
    fraction = is_fraction(key)
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
        raise TablesError(f"indicator {flow or key!r} has no label: add it to sim/glossary.yaml (en and zh)") from None
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
    if table not in TABLES:
        raise TablesError(f"unknown table {table!r}; allowed: {', '.join(TABLES)}")
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
    return {table: render_table(cells, table, lang) for table in TABLES if (cells["table"] == table).any()}


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

    wanted = {community: list(policies)}
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


def run_tables(args: argparse.Namespace) -> pd.DataFrame:
    """Run (or resume) the sweep and return the cells of both tables."""
    from experiments.design import DesignError, check_runs
    from sim.runner import run_many

    for lang in README:  # every column has its labels before anything runs
        for key in indicator_columns():
            column_label(key, lang)
    communities = list(dict.fromkeys([args.community, *args.presets]))
    seeds = seeds_per_preset(communities, args.replications, args.seeds)
    for comm in communities:
        n, source = seeds[comm]
        print(f"{comm}: {n} seeds ({source})", flush=True)
    settings, run_overrides, names = plan(args.community, args.policies, args.presets, seeds, args.overrides,
                                          args.baseline)
    print(f"{len(settings)} runs into {args.out / 'sweep'} …", flush=True)
    runs = run_many(settings, args.out / "sweep", args.jobs, names=names, overrides=run_overrides)
    try:
        runs = check_runs(runs[runs["run_dir"].isin(names)], args.out / "sweep")
    except DesignError as exc:
        raise TablesError(str(exc)) from None
    weeks = {n: (s.steps, s.warmup_weeks) for n, s in zip(names, settings, strict=True)}
    runs = runs.assign(steps=runs["run_dir"].map(lambda n: weeks[n][0]),
                       warmup_weeks=runs["run_dir"].map(lambda n: weeks[n][1]))
    return summarise(runs, args.community, args.policies, args.presets, baseline=args.baseline,
                     sources={c: s for c, (_, s) in seeds.items()})


def read_cells(out: Path) -> pd.DataFrame:
    path = out / CSV_FILE
    if not path.exists():
        raise TablesError(f"no {path}: run python -m experiments.readme_tables --out {out} first")
    cells = pd.read_csv(path, keep_default_na=False, na_values=[""])
    missing = [c for c in CSV_COLUMNS if c not in cells]
    if missing:
        raise TablesError(f"{path}: not a readme_tables CSV (no column {', '.join(missing)})")
    cells["seeds_source"] = cells["seeds_source"].fillna("").astype(str)
    return cells


def write_cells(cells: pd.DataFrame, out: Path) -> None:
    """The cells of both tables as ``<out>/readme_tables.csv`` (replaced whole)."""
    from sim.outputs import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / CSV_FILE, cells.to_csv(index=False, lineterminator="\n"))


def write_markdown(rendered: Mapping[str, Mapping[str, str]], out: Path) -> None:
    """The rendered tables as ``<out>/readme_tables.<lang>.md``."""
    from sim.outputs import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    for lang, tables in rendered.items():
        write_atomic(out / f"readme_tables.{lang}.md",
                     "\n\n".join(f"## {table}\n\n{content}" for table, content in tables.items()) + "\n")


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
                                 epilog="Example (tests): python -m experiments.readme_tables --seeds 2 "
                                        "--community relocation --presets relocation --out /tmp/rt "
                                        "warmup_weeks=0 steps=60",
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
    ap.add_argument("--write-readme", action="store_true", help="replace the marked tables in both READMEs")
    ap.add_argument("--check", action="store_true",
                    help="run nothing; exit 1 if a README's marked table differs from what <out>/readme_tables.csv "
                         "renders")
    ap.add_argument("--render-only", action="store_true",
                    help="run nothing; render <out>/readme_tables.csv again (with --write-readme: into the READMEs)")
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
    return args


def _preset_names() -> tuple[list[str], list[str]]:
    from sim.config import community_presets

    return community_presets(), policy_presets()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
        if args.check:
            rendered = {lang: render_all(read_cells(args.out), lang) for lang in README}
            stale = stale_regions(rendered, args.readmes)
            if stale:
                print("out of date (README differs from what " + str(args.out / CSV_FILE) + " renders):\n  "
                      + "\n  ".join(stale) + "\nrun python -m experiments.readme_tables --render-only --write-readme "
                      "(or the full command)", file=sys.stderr)
                return 1
            print(f"READMEs match {args.out / CSV_FILE}")
            return 0
        if args.write_readme:  # markers first: a missing one fails before anything runs or is written
            regions.check_files(list(TABLES), args.readmes, PREFIX, TablesError)
        cells = read_cells(args.out) if args.render_only else run_tables(args)
        for lang in README:  # a table that cannot be rendered fails before anything is written
            render_all(cells, lang)
        if not args.render_only:
            write_cells(cells, args.out)
        cells = read_cells(args.out)  # what --check will render: the tables come from the saved CSV
        rendered = {lang: render_all(cells, lang) for lang in README}
        new_readmes = updated_readmes(rendered, args.readmes) if args.write_readme else {}
        write_markdown(rendered, args.out)
    except TablesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from sim.outputs import write_atomic

    for path, text in new_readmes.items():
        write_atomic(path, text)
        print(f"updated {path}")
    print(rendered["en"].get("policies", ""))
    print(f"tables in {args.out}/ ({CSV_FILE}, readme_tables.en.md, readme_tables.zh.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
