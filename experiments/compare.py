"""Compare the scenarios of a sweep: charts, paired differences vs a baseline, a replication check.

``python -m experiments.compare <sweep_dir> [--baseline policy=baseline] [--lang zh|en] [--pdf]
[--width single|double] [--greyscale] [--kpis k1,k2] [--heatmap KPI] [--over K1,K2] [--out DIR]`` reads
``runs.parquet`` and ``timeseries.parquet`` (collating the sweep first if they are missing) and
writes into ``<sweep_dir>/compare/``:

* ``trajectories``  — each KPI over the weeks, mean and 95 % CI band across seeds per scenario (a run
  total such as ``public_cost_run`` as its weekly column, ``public_cost``);
* ``distributions`` — end-of-run values per scenario (box and points), with the plan target;
* ``differences``   — forest plot of the paired differences vs the baseline (same seed, same values
  of the other swept parameters), mean and 95 % t interval; table ``differences.csv``;
* ``heatmap_<KPI>`` — for a sweep of exactly two parameters: the KPI's mean over the grid;
* ``replication``   — CI half-width against the number of seeds used, with a verdict per comparison;
* ``bands``         — with ``--over KEY[,KEY]`` (swept parameters that are uncertain inputs, not scenarios): for
  each paired difference, the seed interval next to the band over the parameter sets, the share of sets in which
  its sign holds and which of the two widths dominates; table ``bands.csv``;
* ``report.md`` and ``report.html`` (self-contained), ``scenarios.csv``, ``replication.csv``.

A *scenario* is one combination of the swept parameters other than the seed, named in words in the
figures (``--lang``).  Figures are PNG (300 dpi) and SVG (and PDF with ``--pdf``), 175 mm wide, or
85 mm with ``--width single``; ``--greyscale`` draws them in greys for print.  Everything is
written into a temporary folder that replaces the output folder at the end, so a failure leaves the
earlier output (or none), never a partial one.
The parts: loading the sweep (experiments/loading.py), tables (experiments/tables.py, statistics
and the rules for the verdicts in experiments/stats.py), figures (experiments/figures.py, and
experiments/parameter_figures.py for the heatmap and bands), the report's content
(experiments/compare_report.py) rendered by experiments/report.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

from experiments import stats
from experiments.compare_report import key_name, report_blocks
from experiments.figures import (
    GROUP_MAX,
    Styles,
    facet_groups,
    page_parts,
    plot_distributions,
    plot_forest,
    plot_replication,
    plot_trajectories,
    scenario_groups,
)
from experiments.loading import CompareError, load_sweep, resolve_kpis, weekly_indicator
from experiments.parameter_figures import plot_bands, plot_heatmap
from experiments.presentation import (
    GREYS,
    OKABE_ITO,
    PAPER_DPI,
    WIDTHS_MM,
    FontError,
    kpi_label,
    save_figure,
    scenario_names,
    setup_theme,
)
from experiments.report import render, write_report
from experiments.tables import ROLLING_WEEKS, Results, analyse, heatmap_table, rolling_rates
from sim.model.indicators import KEY_INDICATORS
from sim.runs.outputs import write_atomic
from sim.tables.glossary import label

DEFAULT_KPIS = KEY_INDICATORS
DEFAULT_HEATMAP = "satisfaction_mean"
REPORT_MARK = "report.md"  # an output folder holding this file may be replaced by a new comparison


def draw_figures(res: Results, folder: Path, pdf: bool, width: str = "double", greyscale: bool = False) -> None:
    """Draw every chart into ``folder`` and record its caption in ``res.figures``."""
    sw, lang, kpis = res.sweep, res.lang, res.kpis
    names = res.names
    baseline = list(dict.fromkeys(res.ends.loc[res.ends["is_baseline"], "scenario"]))
    # facets by the design factors a scenario is paired on (the community): one panel per value with its own
    # baseline; a policy keeps one style (and one legend entry) across the panels
    factors = [k for k in sw.match if all(k in v for v in sw.settings.values())] if sw.baseline else []
    faceted = bool(factors) and len({tuple(str(v[k]) for k in factors) for v in sw.settings.values()}) > 1
    if faceted:
        series = scenario_names({s: {k: v for k, v in values.items() if k not in factors}
                                 for s, values in sw.settings.items()}, lang)
        styles = Styles.of(sw.scenarios, names, greyscale, series)
        most = len(GREYS if greyscale else OKABE_ITO)  # distinct colours per panel
        groups = facet_groups(sw.settings, styles.order, factors, baseline, lang, most)
        facets = label("cap_facets_by", lang, by=("、" if lang == "zh" else ", ").join(
            key_name(k, lang) for k in factors), max=most)
    else:
        styles = Styles.of(sw.scenarios, names, greyscale)
        groups = scenario_groups(styles, sw.settings, baseline, lang)
        facets = label("cap_facets_baseline" if len(baseline) == 1 else "cap_facets", lang, n=len(groups),
                       max=GROUP_MAX) if len(groups) > 1 else ""

    def save(fig, stem: str, caption: str) -> None:
        save_figure(fig, folder, stem, pdf, dpi=PAPER_DPI)
        res.figures[stem] = caption

    def save_parts(draw, keys: list[str], stem: str, caption: str) -> None:
        """A chart over ``keys`` as one figure, or split by KPI into figures that each fit a page
        (figures.page_parts): ``stem``, ``stem_2``, … each captioned with its part."""
        parts = page_parts(draw, keys)
        for i, (fig, shown) in enumerate(parts, start=1):
            part = "" if len(parts) == 1 else label("cap_part", lang, i=i, n=len(parts), kpis=(
                "、" if lang == "zh" else ", ").join(kpi_label(k, lang) for k in shown))
            save(fig, stem if i == 1 else f"{stem}_{i}", caption + part)

    # a KPI's weekly column: the KPI itself, or the weekly column a run total sums (public_cost_run → public_cost)
    weekly = list(dict.fromkeys(w for k in kpis if (w := weekly_indicator(k, sw.indicators)) is not None))
    if weekly:
        ts, rolled = rolling_rates(sw.ts, weekly)
        save_parts(lambda ks: plot_trajectories(ts, ks, styles, lang, groups, width, sw.warmup_weeks), weekly,
                   "trajectories",
             label("cap_trajectories", lang)
             + (label("cap_rolling", lang, weeks=ROLLING_WEEKS, rates=("、" if lang == "zh" else ", ").join(
                 kpi_label(k, lang) for k in rolled)) if rolled else "")
             + (label("cap_shaded_start", lang, warmup=sw.warmup_weeks) if sw.warmup_weeks else "")
             + (label("cap_lever_events", lang) if (ts["indicator"].astype(str) == "lever_events_count").any()
                and (ts.loc[ts["indicator"].astype(str) == "lever_events_count", "value"] > 0).any() else "")
             + facets)
    rows = groups if faceted else None  # the row charts: scenarios under a heading per community
    save_parts(lambda ks: plot_distributions(res.ends, ks, styles, lang, width, rows), list(kpis), "distributions",
               label("cap_distributions", lang))
    if res.pairs is not None and not res.pairs.empty:
        save_parts(lambda ks: plot_forest(res.pairs, ks, styles, lang, width, rows), list(kpis), "differences",
                   label("cap_differences", lang))
    if res.heatmap:
        table = heatmap_table(res.ends, sw, res.heatmap)
        save(plot_heatmap(table, res.heatmap, sw.params[0], sw.params[1], lang, width, greyscale),
             f"heatmap_{res.heatmap}", label("cap_heatmap", lang, kpi=kpi_label(res.heatmap, lang)))
    if res.bands is not None and not res.bands.empty:
        save(plot_bands(res.band_diffs, res.bands, lang, names), "bands",
             label("cap_bands", lang, n=int(res.bands["sets"].max()), over=", ".join(sw.over)))
    if not res.curves.empty:
        what = label("cap_what_pair" if res.diffs is not None else "rep_what_mean", lang)
        save_parts(lambda ks: plot_replication(res.curves, ks, styles, lang, diffs=res.diffs is not None,
                                               groups=groups, width=width), list(kpis), "replication",
                   label("cap_replication", lang, what=what) + facets)


def with_names(table: pd.DataFrame, names: dict[str, str], column: str = "scenario") -> pd.DataFrame:
    """``table`` with the scenario's display name (``scenario_name``) right after its key."""
    at = list(table.columns).index(column) + 1
    out = table.copy()
    out.insert(at, "scenario_name", out[column].map(names))
    return out


def write_tables(res: Results, folder: Path) -> None:
    """CSV tables beside the figures (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese names)."""
    def csv(table: pd.DataFrame, name: str) -> None:
        table.to_csv(folder / name, index=False, encoding="utf-8-sig")
    csv(with_names(res.summary, res.names), "scenarios.csv")
    if res.diffs is not None:
        csv(with_names(res.diffs, res.names), "differences.csv")
    if res.cost is not None:
        csv(with_names(res.cost, res.names), "cost_effectiveness.csv")
    if res.bands is not None:
        res.bands.rename(columns={"policy": "scenario"}).to_csv(folder / "bands.csv", index=False)
    res.curves.to_csv(folder / "replication.csv", index=False)


def parse_deltas(specs: list[str], kpis: list[str]) -> dict[str, float]:
    """``--delta KPI=VALUE`` options as {KPI: δ}; a KPI not compared or a value not a positive number is an error."""
    out = {}
    for spec in specs:
        key, eq, text = spec.partition("=")
        key = key.strip()
        if not eq or key not in kpis:
            raise CompareError(f"--delta {spec}: write KPI=VALUE with a KPI compared here; allowed KPIs: "
                               + ", ".join(kpis))
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not value > 0 or value == float("inf"):
            raise CompareError(f"--delta {spec}: the value must be a positive number in the KPI's own units")
        out[key] = value
    return out


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
    tmp.chmod(out.parent.stat().st_mode & 0o777)  # mkdtemp makes 0700; give it its parent's (umask) permissions
    shutil.move(str(tmp), str(out))
    shutil.rmtree(old, ignore_errors=True)


def run(args: argparse.Namespace) -> tuple[Results, Path]:
    """Validate all input, then write every output into a temporary folder and move it into place.

    Returns the results and the output folder.
    """
    over = [k.strip() for k in (args.over or "").split(",") if k.strip()]
    sweep = load_sweep(Path(args.sweep_dir), args.baseline, over)
    wanted = [k.strip() for k in args.kpis.split(",") if k.strip()] if args.kpis is not None else \
        [k for k in DEFAULT_KPIS if k in sweep.kpi_columns or k in sweep.indicators]
    kpis = resolve_kpis(sweep, list(dict.fromkeys(wanted)))
    heatmap = resolve_kpis(sweep, [args.heatmap or DEFAULT_HEATMAP], "--heatmap")[0]
    if len(sweep.params) != 2 or sweep.over:
        if args.heatmap and sweep.over:
            print("note: no heatmap with --over (its grid would mix scenarios and parameter sets)", file=sys.stderr)
        elif args.heatmap:
            print(f"note: no heatmap: it needs exactly two swept parameters besides the seed; this sweep has "
                  f"{len(sweep.params)} ({', '.join(sweep.params) or 'none'})", file=sys.stderr)
        heatmap = None
    out = Path(args.out) if args.out else Path(args.sweep_dir) / "compare"
    check_out_dir(out)
    try:
        setup_theme(args.lang, paper=True)
    except FontError as exc:
        raise CompareError(str(exc)) from None
    res = analyse(sweep, kpis, heatmap, args.lang, parse_deltas(args.delta, kpis))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    title = label("rep_title", args.lang, name=sweep.path.name)
    try:
        draw_figures(res, tmp, args.pdf, args.width, args.greyscale)
        write_tables(res, tmp)
        blocks = report_blocks(res)
        _, html_path = write_report(blocks, tmp, title, lang=res.lang)
        html = html_path.read_text(encoding="utf-8")
        publish(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if out.resolve() == (Path(args.sweep_dir) / "compare").resolve():
        # the reports in the sweep folder itself too, the Markdown one linking its figures in compare/
        write_atomic(Path(args.sweep_dir) / "report.md", render(blocks, "md", title=title, lang=res.lang,
                                                                figure_prefix=f"{out.name}/"))
        write_atomic(Path(args.sweep_dir) / "report.html", html)
    return res, out


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
    ap.add_argument("--pdf", action="store_true", help="also save every figure as PDF (fonts embedded)")
    ap.add_argument("--width", choices=tuple(WIDTHS_MM), default="double",
                    help="figure width: a journal's single column (85 mm) or the full page (double, 175 mm; default)")
    ap.add_argument("--greyscale", action="store_true",
                    help="draw scenarios in greys (told apart by markers and dash patterns) for print in black and "
                         "white (default: Okabe-Ito's colour-blind-safe palette)")
    ap.add_argument("--kpis", metavar="K1,K2,...",
                    help="KPIs to show, comma-separated: final KPIs of runs.parquet or weekly indicators "
                         f"(default: {', '.join(DEFAULT_KPIS)})")
    ap.add_argument("--heatmap", metavar="KPI",
                    help=f"KPI of the heatmap drawn for a two-parameter sweep (default: {DEFAULT_HEATMAP})")
    ap.add_argument("--over", metavar="K1,K2,...",
                    help="swept parameters that are uncertain inputs, not scenarios (e.g. a sample of "
                         "behaviour.professional_share values): each scenario is drawn over their value sets x the "
                         "seeds, and each paired difference is reported with its seed interval, its band over the "
                         "sets, the share of sets in which its sign holds and which width dominates (needs a "
                         "baseline)")
    ap.add_argument("--delta", metavar="KPI=VALUE", action="append", default=[],
                    help="the smallest effect of interest of a KPI, in its own units (a rate as a fraction: 0.02 = 2 "
                         "percentage points), repeatable; a difference whose 95 %% CI lies inside (−δ, δ) is 'no "
                         "difference larger than δ' (defaults: 1 pp for rates, 25 per 10,000 for volunteers, 0.5 "
                         "organisations, 10,000 yuan for money)")
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
    short = int(table["verdict"].isin([stats.MORE, stats.TOO_FEW, stats.UNDECIDED]).sum())
    if res.commands:
        lone = res.missing
        print(f"warning: {sum(len(s) for s in lone['seeds'])} runs of {lone['scenario'].nunique()} scenarios have no "
              f"baseline run with the same seed and {', '.join(res.sweep.match) or 'values'} (left out of the paired "
              "differences); to pair them, add the baseline runs to the same folder and compare again:\n  "
              + "\n  ".join(res.commands), file=sys.stderr)
    n = len(res.sweep.scenarios)
    print(f"compared {n} scenario{'' if n == 1 else 's'} ({len(res.sweep.runs)} complete runs, "
          f"{len(res.sweep.problems)} excluded) → {out / 'report.html'}")
    if res.bands is not None:
        wider = res.bands["dominant"].value_counts()
        print(f"parameter sets ({', '.join(res.sweep.over)}): the band is wider than the seed interval in "
              f"{int(wider.get('parameters', 0))} of {len(res.bands)} differences (bands.csv)")
    if short:
        what = "undecided (neither a difference nor none larger than δ)" if res.diffs is not None else \
            "too few seeds"
        print(f"warning: {what} for {short} of {len(table)} comparisons (see the replication check in the report)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
