"""A paper's results table from a sweep: ``python -m experiments.table SWEEP [--lang zh|en]``.

Rows: the scenarios, named as a paper names them (the glossary's Chinese or English names: 易地扶贫搬迁社区，
一分钱公益微基金，一分钱/瓶 = 2 分), each with its mean and, below it, its paired difference from the baseline
of the same community and seed (as :mod:`experiments.compare` pairs them); columns: the indicators, each with
its unit in the header (per cent with differences in percentage points, money in 万元 in Chinese).  A cell is
the mean over seeds with its 95 % t interval (``--stat ci``, the default) or its standard deviation
(``--stat sd``); a difference is the mean paired difference with its 95 % t interval.  The decimals of each
column follow the precision of its intervals (two significant digits of the typical half-width).

Written into ``<SWEEP>/table/`` (or ``--out``): ``table.md`` (Markdown), ``table.tex`` (a LaTeX ``tabular`` with
booktabs rules; Chinese needs ``xeCJK`` or ``ctex``), ``table.csv`` (UTF-8 with a byte-order mark, so Word and
Excel read the Chinese names; paste it into Word and convert text to table).  The Markdown is printed too.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.compare import DEFAULT_KPIS
from experiments.compare_report import _mid, _number, key_name
from experiments.loading import CompareError, load_sweep, resolve_kpis
from experiments.presentation import (
    display_unit,
    is_fraction,
    kpi_label,
    param_value,
    term,
    value_scale,
)
from experiments.report import markdown_table
from experiments.tables import Results, analyse
from sim.runs.outputs import write_atomic
from sim.tables.glossary import label

STATS = ("ci", "sd")


def column_header(key: str, lang: str) -> str:
    """An indicator's name with its units: 'Completion rate (%; difference: pp)', '公共财政成本累计（万元）'."""
    unit = display_unit(key, lang)
    if is_fraction(key):
        unit = label("table_unit_rate", lang)
    if not unit:
        return kpi_label(key, lang)
    return f"{kpi_label(key, lang)}（{unit}）" if lang == "zh" else f"{kpi_label(key, lang)} ({unit})"


def decimals(half_widths: pd.Series, scale: float) -> int:
    """Decimals that show two significant digits of the column's typical (median) half-width, 0 to 3."""
    hw = half_widths.dropna()
    hw = hw[hw > 0] * scale
    if hw.empty:
        return 1 if scale == 100 else 0
    return int(min(3, max(0, 1 - math.floor(math.log10(float(hw.median()))))))


def number(value: float, places: int, sign: bool = False) -> str:
    """A number with thousands separators and ``places`` decimals ("−" for minus; "+" with ``sign``)."""
    if value is None or not np.isfinite(value):
        return "—"
    text = f"{value:+,.{places}f}" if sign else f"{value:,.{places}f}"
    if float(text.replace(",", "")) == 0:
        text = f"{0:.{places}f}"
    return text.replace("-", "−")


def scale_of(key: str, lang: str) -> float:
    """What a cell shows of ``key``'s value: per cent (×100) for rates, 万元 (÷10,000) for money in Chinese."""
    return 100.0 if is_fraction(key) else 1.0 / value_scale(key, lang)


def paper_table(res: Results, stat: str = "ci") -> pd.DataFrame:
    """The table as text cells: a column for the scenario and one per indicator; a row for each scenario's mean
    and, for each scenario paired with a baseline, a row for its difference."""
    lang, kpis = res.lang, res.kpis
    first = term("scenario", lang)
    summary = res.summary.set_index(["scenario", "kpi"])
    diffs = res.diffs.set_index(["scenario", "kpi"]) if res.diffs is not None else None
    places = {}
    for k in kpis:
        hws = [summary.xs(k, level="kpi")["half_width"]]
        if diffs is not None:
            hws.append(diffs.xs(k, level="kpi")["half_width"])
        places[k] = decimals(pd.concat(hws), scale_of(k, lang))
    rows = []
    for s in res.sweep.scenarios:
        row = {first: res.names.get(s, s)}
        for k in kpis:
            r = summary.loc[(s, k)] if (s, k) in summary.index else None
            f, p = scale_of(k, lang), places[k]
            if r is None or r["n"] == 0:
                row[column_header(k, lang)] = "—"
            elif stat == "sd":
                row[column_header(k, lang)] = f"{number(f * r['mean'], p)} ({number(f * r['sd'], p)})"
            else:
                row[column_header(k, lang)] = (f"{number(f * r['mean'], p)} "
                                               f"[{number(f * r['low'], p)}, {number(f * r['high'], p)}]")
        rows.append(row)
        if diffs is not None and s in diffs.index.get_level_values(0):
            drow = {first: term("diff_vs_baseline", lang)}
            for k in kpis:
                d, f, p = diffs.loc[(s, k)], scale_of(k, lang), places[k]
                drow[column_header(k, lang)] = (f"{number(f * d['mean_diff'], p, sign=True)} "
                                                f"[{number(f * d['ci_low'], p)}, {number(f * d['ci_high'], p)}]")
            rows.append(drow)
    return pd.DataFrame(rows)


def note(res: Results, stat: str) -> str:
    """The table's note: what a cell is, the seeds, what a difference is against."""
    seeds = res.ends.drop_duplicates("run").groupby("scenario")["seed"].nunique()
    n = f"{int(seeds.min())}" if seeds.min() == seeds.max() else f"{int(seeds.min())}–{int(seeds.max())}"
    text = label("table_note_ci" if stat == "ci" else "table_note_sd", res.lang, n=n)
    if res.diffs is not None:
        sep = "，" if res.lang == "zh" else ", "
        base = sep.join(param_value(k, _number(v), res.lang) for k, v in res.sweep.baseline.items())
        keys = ("、" if res.lang == "zh" else ", ").join(_mid(key_name(k, res.lang), res.lang)
                                                         for k in ["seed", *res.sweep.match])
        text += label("table_note_diff", res.lang, baseline=base, keys=keys)
    return text


LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "−": "$-$",
                 "—": "---"}


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIAL.get(c, c) for c in str(text))


def to_latex(table: pd.DataFrame, caption_note: str, lang: str) -> str:
    """A booktabs ``tabular``: the scenario column left-aligned, the others right-aligned; a difference row
    indented under its scenario; the note below the bottom rule."""
    cols = list(table.columns)
    diff_row = term("diff_vs_baseline", lang)
    lines = ["% needs \\usepackage{booktabs} (and, for Chinese, xeCJK or ctex)",
             "\\begin{tabular}{l" + "r" * (len(cols) - 1) + "}", "\\toprule",
             " & ".join(latex_escape(c) for c in cols) + " \\\\", "\\midrule"]
    for _, row in table.iterrows():
        cells = [latex_escape(row[c]) for c in cols]
        if row[cols[0]] == diff_row:
            cells[0] = "\\quad " + cells[0]
        lines.append(" & ".join(cells) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}",
              f"\\par\\smallskip\\footnotesize {latex_escape(caption_note)}", ""]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> tuple[pd.DataFrame, str, Path]:
    """Validate, compute the table, write the three files; returns the table, its note and the folder."""
    if args.stat not in STATS:
        raise CompareError(f"--stat {args.stat}: allowed: {', '.join(STATS)}")
    sweep = load_sweep(Path(args.sweep_dir), args.baseline, [])
    wanted = [k.strip() for k in args.kpis.split(",") if k.strip()] if args.kpis is not None else \
        [k for k in DEFAULT_KPIS if k in sweep.kpi_columns or k in sweep.indicators]
    kpis = resolve_kpis(sweep, list(dict.fromkeys(wanted)))
    res = analyse(sweep, kpis, None, args.lang)
    table = paper_table(res, args.stat)
    text_note = note(res, args.stat)
    md = markdown_table(table) + "\n" + text_note + "\n"
    tex = to_latex(table, text_note, args.lang)
    csv = table.to_csv(index=False) + "\n" + text_note + "\n"
    out = Path(args.out) if args.out else Path(args.sweep_dir) / "table"
    if out.exists() and not out.is_dir():
        raise CompareError(f"--out {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "table.md", md)
    write_atomic(out / "table.tex", tex)
    write_atomic(out / "table.csv", "\ufeff".encode() + csv.encode("utf-8"))
    return table, md, out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m experiments.table", description=__doc__.split("\n\n")[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="example:\n  python -m experiments.table results/sweeps/paper --lang zh")
    ap.add_argument("sweep_dir", help="the sweep's folder (collated first if runs.parquet is missing)")
    ap.add_argument("--lang", choices=("en", "zh"), default="en", help="language of names, headers and units")
    ap.add_argument("--baseline", metavar="KEY=VALUE",
                    help="the runs the differences are against (default: policy=baseline if swept; 'none': no "
                         "differences)")
    ap.add_argument("--kpis", metavar="K1,K2,...", help=f"indicators, in order (default: {', '.join(DEFAULT_KPIS)})")
    ap.add_argument("--stat", default="ci", help="the spread shown with each mean: ci (95 %% t interval, default) "
                                                  "or sd (standard deviation over seeds)")
    ap.add_argument("--out", metavar="DIR", help="output folder (default: <sweep_dir>/table)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        _, md, out = run(args)
    except CompareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(md)
    print(f"wrote {out / 'table.md'}, {out / 'table.tex'}, {out / 'table.csv'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
