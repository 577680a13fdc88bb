"""A sweep's tables for R, Stata and SPSS, with labels, units and a codebook.

``python -m experiments.collate DIR --export csv,dta [--labels en|zh]`` collates the sweep and writes, beside
``runs.parquet``:

* ``runs.csv`` / ``runs.dta`` — one row per run (design, parameters, end-of-run indicators);
* ``panel.csv`` / ``panel.dta`` — the weekly panel: one row per run and week (``run``, ``step``), the run's
  design columns (community, policy, seed, the swept parameters) and every weekly indicator;
* ``codebook.csv`` (UTF-8 with a byte-order mark, for Excel) and ``codebook.md`` — every variable of both files:
  its Stata name, its name and unit in English and Chinese, what it is (design, parameter, indicator, run
  total, bookkeeping), its meaning (the glossary's, or the schema's help and source) and, for a categorical
  variable, its values and their names; generated from sim/tables/glossary.yaml and the schema;
* ``runs_variables.csv`` — the runs file's renaming (Stata name, column, label).

The CSV files keep every column under its own name and every value as stored (UTF-8; R's ``read.csv``,
SPSS).  Stata names a variable with at most 32 letters, digits and underscores, not starting with a digit, so
the ``.dta`` files rename the columns (``policy.micro_fund.fen_per_unit`` → ``policy_micro_fund_fen_per_unit``);
each variable's label is its name and unit in the language of ``--labels`` ("Response rate (share, 0–1)",
"诉求响应率（比例，0–1）"), cut at a word boundary to Stata's 80 characters; community, policy and status are
stored as codes with value labels (the presets' names).  Rates stay fractions (0–1) and money yuan in the data.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from sim.model.indicators import TARGETS_BY_KEY
from sim.runs.outputs import COLLATED_TIMESERIES_FILE, RUNS_FILE, write_atomic
from sim.settings.config import schema_fields
from sim.tables.glossary import GLOSSARY, label, preset_label

FORMATS = ("csv", "dta")
LABEL_LANGS = ("en", "zh")
STATA_NAME_MAX = 32
STATA_LABEL_MAX = 80
STATA_STR_MAX = 2045  # longest fixed-width string Stata 14+ (.dta version 118) stores without strL
VARIABLES_FILE = "runs_variables.csv"
PANEL_STEM = "panel"
CODEBOOK_STEM = "codebook"
DESIGN = ("run", "step", "community", "policy", "seed")
CATEGORICAL = ("community", "policy", "status")  # text columns stored in Stata as codes with value labels
# bookkeeping columns of runs.parquet -> their glossary term
BOOKKEEPING = {"run": "col_run", "run_dir": "col_run_dir", "status": "status", "config_hash": "config_hash",
               "wall_time_s": "col_wall_time", "error": "col_error", "cause": "col_cause"}
RUN_TOTAL_WEEKLY = {"fund_inflow_run": "fund_inflow_total", "fund_outflow_run": "fund_outflow_total"}
RUN_TOTAL_NAMES = {"fund_inflow_run": "fund_in_total_run", "fund_outflow_run": "fund_out_total_run"}  # glossary


def stata_names(columns: list[str]) -> dict[str, str]:
    """A Stata-safe, unique name for each column: letters, digits and ``_``, ≤ 32 characters, no leading digit."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        base = re.sub(r"[^A-Za-z0-9_]", "_", str(col)).strip("_") or "var"
        if base[0].isdigit():
            base = f"v_{base}"
        base = base[:STATA_NAME_MAX]
        name, k = base, 2
        while name.lower() in taken:  # Stata names are case-sensitive, but keep them apart for other tools too
            suffix = f"_{k}"
            name, k = base[:STATA_NAME_MAX - len(suffix)] + suffix, k + 1
        taken.add(name.lower())
        names[col] = name
    return names


# ---------------------------------------------------------------------------------------------
# What a column is: its name, unit, kind and meaning, from the glossary and the schema
# ---------------------------------------------------------------------------------------------

def unit_text(unit: str, lang: str) -> str:
    """A unit in words: a share for fractions, the glossary's ``unit:<unit>`` row, else the unit as written."""
    if unit in ("fraction", "0-1"):
        return label("unit_share", lang)
    if not unit or unit == "-":
        return ""
    return label(f"unit:{unit}", lang) if f"unit:{unit}" in GLOSSARY else unit


def describe(column: str, lang: str = "en") -> tuple[str, str, str, str]:
    """(name, unit, kind, meaning) of a column of the runs or panel table, in ``lang`` (the meaning in English,
    as the glossary and schema give it)."""
    fields = schema_fields()
    if column in BOOKKEEPING:
        unit = "s" if column == "wall_time_s" else ""
        return label(BOOKKEEPING[column], lang), unit, "bookkeeping", ""
    if column in ("community", "policy", "seed", "step"):
        return label(column, lang), "", "design", GLOSSARY[column].meaning
    if column in fields:
        f = fields[column]
        meta = f.metadata
        words = (meta.get("help") or "").split(" (")[0].split("; ")[0] or column.rsplit(".", 1)[-1].replace("_", " ")
        name = label(f"param:{column}", lang) if f"param:{column}" in GLOSSARY else words
        meaning = "; ".join(x for x in (meta.get("help") or "", f"source: {meta['source']}" if meta.get("source")
                                        else "") if x)
        return name, unit_text(meta["unit"], lang), "parameter", meaning
    weekly = RUN_TOTAL_WEEKLY.get(column, column.removesuffix("_run"))
    base = GLOSSARY.get(weekly) if column.endswith("_run") else None
    entry = GLOSSARY.get(RUN_TOTAL_NAMES.get(column, column))
    if base is not None:  # a run total: the sum of a weekly column over the run's recorded weeks
        name = label(RUN_TOTAL_NAMES.get(column, column), lang) if entry is not None else \
            label(weekly, lang) + ("" if lang == "zh" else " ") + label("run_total", lang)
        return (name, unit_text(base.unit.removesuffix("/week"), lang), "run total",
                f"sum over the run's recorded weeks of: {base.meaning}" if base.meaning else "")
    if entry is not None:
        unit = entry.unit or (TARGETS_BY_KEY[column].unit if column in TARGETS_BY_KEY else "")
        return label(column, lang), unit_text(unit, lang), "indicator", entry.meaning
    if column in TARGETS_BY_KEY:
        t = TARGETS_BY_KEY[column]
        return column, unit_text(t.unit, lang), "indicator", ""
    return column, "", "other", ""


def fit_label(text: str, limit: int = STATA_LABEL_MAX) -> str:
    """``text`` within ``limit`` characters: cut at the last word boundary (a space, or in Chinese a comma or
    bracket) before the limit, with '…'."""
    if len(text) <= limit:
        return text
    head = text[:limit - 1]
    cut = max(head.rfind(" "), *(head.rfind(c) + 1 for c in "，、（("))
    if cut < limit // 2:  # no boundary in the second half: cut where the limit falls
        cut = limit - 1
    return head[:cut].rstrip(" ，、（(") + "…"


def variable_label(column: str, lang: str = "en") -> str:
    """A column's label in Stata: its name and unit in ``lang`` ("Response rate (share, 0–1)"), ≤ 80 characters,
    cut at a word boundary."""
    name, unit, _, _ = describe(column, lang)
    if unit:
        name = f"{name}（{unit}）" if lang == "zh" else f"{name} ({unit})"
    return fit_label(name)


def value_names(column: str, values: pd.Series, lang: str) -> dict[str, str]:
    """Each text value of a categorical column with its name: a preset's name, a status's term, else itself."""
    out = {}
    for v in sorted(values.dropna().astype(str).unique()):
        if column in ("community", "policy") and f"{column}={v}" in GLOSSARY:
            out[v] = preset_label(column, v, lang)
        elif column == "status" and f"status_{v}" in GLOSSARY:
            out[v] = label(f"status_{v}", lang)
        else:
            out[v] = v
    return out


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------

def panel_table(sweep_dir: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """The weekly panel: one row per run and week, the run's design columns, then every weekly indicator."""
    ts = pd.read_parquet(sweep_dir / COLLATED_TIMESERIES_FILE)
    # pivot, not pivot_table: an indicator no week measured stays a column; no run x week that did not run
    wide = ts.assign(indicator=ts["indicator"].astype(str)).pivot(
        index=["run", "step"], columns="indicator", values="value").sort_index().reset_index()
    wide.columns.name = None
    params = [c for c in runs.columns if c in schema_fields() and c not in DESIGN]
    design = runs[[c for c in ("run", "community", "policy", "seed", *params) if c in runs.columns]]
    out = design.merge(wide, on="run", how="inner")
    first = [c for c in ("run", "step", "community", "policy", "seed", *params) if c in out.columns]
    return out[first + [c for c in out.columns if c not in first]]


def _for_stata(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Types Stata stores: booleans as 0/1 integers, community/policy/status as codes with value labels (their
    names in ``lang``), other text or mixed columns as strings (missing = empty)."""
    out = table.copy()
    for col in out.columns:
        series = out[col]
        if series.dtype == bool:
            out[col] = series.astype("int8")
        elif col in CATEGORICAL and (series.dtype == object or isinstance(series.dtype, pd.StringDtype)):
            names = value_names(col, series, lang)
            out[col] = pd.Categorical(series.astype(str).map(names).where(series.notna()),
                                      categories=list(dict.fromkeys(names.values())))
        elif series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            numeric = pd.to_numeric(series, errors="coerce")
            if numeric.notna().sum() == series.notna().sum() and series.notna().any() and \
                    not series.dropna().map(lambda v: isinstance(v, str | bool)).any():
                out[col] = numeric.astype("float64")
            else:
                out[col] = series.map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v))
                                      else str(v)[:STATA_STR_MAX]).astype(object)
    return out


def _write_dta(table: pd.DataFrame, path: Path, lang: str) -> dict[str, str]:
    """``table`` as a Stata 14+ file with variable and value labels; returns {column: Stata name}."""
    names = stata_names(list(table.columns))
    labels = {names[c]: variable_label(c, lang) for c in table.columns}
    data = _for_stata(table, lang).rename(columns=names)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        data.to_stata(tmp, write_index=False, version=118, variable_labels=labels)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return names


def codebook(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per variable of each exported table: file, column, Stata name, name and unit in English and
    Chinese, kind, meaning, and a categorical variable's values with their names."""
    rows = []
    for file, table in tables.items():
        names = stata_names(list(table.columns))
        for col in table.columns:
            en, unit_en, kind, meaning = describe(col, "en")
            if file.startswith("runs") and kind == "indicator" and meaning:
                meaning = f"at the end of the run (a rate over its last 52 weeks, a stock at its last week); " \
                          f"each week: {meaning}"
            zh, unit_zh, _, _ = describe(col, "zh")
            values = ""
            if col in CATEGORICAL and col in table:
                en_names, zh_names = value_names(col, table[col], "en"), value_names(col, table[col], "zh")
                values = "; ".join(f"{v} = {en_names[v]} / {zh_names[v]}" for v in en_names)
            rows.append({"file": file, "column": col, "stata_name": names[col], "label_en": en, "unit_en": unit_en,
                         "label_zh": zh, "unit_zh": unit_zh, "kind": kind, "meaning": meaning, "values": values})
    return pd.DataFrame(rows)


def codebook_markdown(book: pd.DataFrame, sweep_dir: Path) -> str:
    """The codebook as Markdown: a section per file, a table of its variables."""
    out = [f"# Codebook / 变量说明：{sweep_dir.name}", "",
           "Generated by `python -m experiments.collate --export` from sim/tables/glossary.yaml and the schema. "
           "Rates are fractions (0–1), money in yuan, in the data; the Stata labels give each variable's name and "
           "unit. / "
           "由 `python -m experiments.collate --export` 根据 sim/tables/glossary.yaml 与参数表生成。"
           "数据中比率为0–1的比例，金额单位为元；Stata 变量标签给出名称与单位。", ""]
    for file, rows in book.groupby("file", sort=False):
        out += [f"## {file}", "", "| column | Stata | English | 中文 | kind | meaning | values |",
                "|---|---|---|---|---|---|---|"]
        for r in rows.itertuples():
            en = f"{r.label_en} ({r.unit_en})" if r.unit_en else r.label_en
            zh = f"{r.label_zh}（{r.unit_zh}）" if r.unit_zh else r.label_zh
            cells = [f"`{r.column}`", f"`{r.stata_name}`", en, zh, r.kind, r.meaning, r.values]
            out.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
        out.append("")
    return "\n".join(out)


def export_runs(sweep_dir: str | Path, formats: tuple[str, ...] = FORMATS, lang: str = "en") -> list[Path]:
    """Write the runs table and the weekly panel as ``csv`` and/or ``dta`` (labels in ``lang``), the codebook and
    ``runs_variables.csv`` from ``<sweep_dir>/runs.parquet`` and ``timeseries.parquet``.  Returns the paths."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown export format {', '.join(unknown)}; allowed: {', '.join(FORMATS)}")
    if lang not in LABEL_LANGS:
        raise ValueError(f"unknown label language {lang!r}; allowed: {', '.join(LABEL_LANGS)}")
    sweep_dir = Path(sweep_dir)
    runs = pd.read_parquet(sweep_dir / RUNS_FILE)
    panel = panel_table(sweep_dir, runs) if (sweep_dir / COLLATED_TIMESERIES_FILE).is_file() else None
    tables = {"runs": runs, **({PANEL_STEM: panel} if panel is not None else {})}
    written = []
    for stem, table in tables.items():
        if "csv" in formats:
            write_atomic(sweep_dir / f"{stem}.csv", table.to_csv(index=False))
            written.append(sweep_dir / f"{stem}.csv")
        if "dta" in formats:
            names = _write_dta(table, sweep_dir / f"{stem}.dta", lang)
            written.append(sweep_dir / f"{stem}.dta")
            if stem == "runs":
                write_atomic(sweep_dir / VARIABLES_FILE, pd.DataFrame({
                    "stata_name": list(names.values()), "column": list(names),
                    "label": [variable_label(c, lang) for c in names]}).to_csv(index=False))
                written.append(sweep_dir / VARIABLES_FILE)
    book = codebook({f"{stem}.{'dta' if 'dta' in formats else 'csv'}": t for stem, t in tables.items()})
    write_atomic(sweep_dir / f"{CODEBOOK_STEM}.csv", "\ufeff".encode() + book.to_csv(index=False).encode("utf-8"))
    write_atomic(sweep_dir / f"{CODEBOOK_STEM}.md", codebook_markdown(book, sweep_dir))
    return [*written, sweep_dir / f"{CODEBOOK_STEM}.csv", sweep_dir / f"{CODEBOOK_STEM}.md"]


def parse_formats(text: str) -> tuple[str, ...]:
    """``"csv,dta"`` → ``("csv", "dta")``; an unknown format is a ValueError naming the allowed ones."""
    formats = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"--export {text!r}: allowed formats are {', '.join(FORMATS)} (comma-separated)")
    return formats
