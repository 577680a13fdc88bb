"""A sweep's runs table for R, Stata and SPSS: ``runs.csv`` and ``runs.dta`` beside ``runs.parquet``.

``python -m experiments.collate DIR --export csv,dta`` collates the sweep and writes both; from
Python, :func:`export_runs`.  The CSV keeps every column under its own name (UTF-8, readable by
R's ``read.csv`` and by SPSS).  Stata names a variable with at most 32 letters, digits and
underscores, not starting with a digit, so the ``.dta`` file renames the columns
(``policy.micro_fund.fen_per_unit`` → ``policy_micro_fund_fen_per_unit``) and keeps the original
name, or its English label from the glossary, as the variable's label (Stata: ``describe``);
``runs_variables.csv`` lists the renaming (Stata name, column, label) for every variable.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from sim.runs.outputs import RUNS_FILE
from sim.tables.glossary import GLOSSARY

FORMATS = ("csv", "dta")
STATA_NAME_MAX = 32
STATA_LABEL_MAX = 80
STATA_STR_MAX = 2045  # longest fixed-width string Stata 14+ (.dta version 118) stores without strL
VARIABLES_FILE = "runs_variables.csv"


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


def variable_label(column: str) -> str:
    """A column's label in Stata: its glossary name (English) and the column name when renamed, ≤ 80 characters."""
    entry = GLOSSARY.get(column) or GLOSSARY.get(column.removesuffix("_run"))
    text = f"{entry.en} ({column})" if entry is not None else column
    return text[:STATA_LABEL_MAX]


def _for_stata(runs: pd.DataFrame) -> pd.DataFrame:
    """Types Stata stores: booleans as 0/1 integers, mixed or text columns as strings (missing = empty)."""
    out = runs.copy()
    for col in out.columns:
        series = out[col]
        if series.dtype == bool:
            out[col] = series.astype("int8")
        elif series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            numeric = pd.to_numeric(series, errors="coerce")
            if numeric.notna().sum() == series.notna().sum() and series.notna().any() and \
                    not series.dropna().map(lambda v: isinstance(v, str | bool)).any():
                out[col] = numeric.astype("float64")
            else:
                out[col] = series.map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v))
                                      else str(v)[:STATA_STR_MAX]).astype(object)
    return out


def export_runs(sweep_dir: str | Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write ``runs.csv`` and/or ``runs.dta`` (with ``runs_variables.csv``) from ``<sweep_dir>/runs.parquet``.

    Returns the paths written.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown export format {', '.join(unknown)}; allowed: {', '.join(FORMATS)}")
    sweep_dir = Path(sweep_dir)
    runs = pd.read_parquet(sweep_dir / RUNS_FILE)
    written = []
    if "csv" in formats:
        runs.to_csv(sweep_dir / "runs.csv", index=False, encoding="utf-8")
        written.append(sweep_dir / "runs.csv")
    if "dta" in formats:
        names = stata_names(list(runs.columns))
        labels = {names[c]: variable_label(c) for c in runs.columns}
        data = _for_stata(runs).rename(columns=names)
        data.to_stata(sweep_dir / "runs.dta", write_index=False, version=118, variable_labels=labels)
        pd.DataFrame({"stata_name": list(names.values()), "column": list(names),
                      "label": [labels[n] for n in names.values()]}).to_csv(
            sweep_dir / VARIABLES_FILE, index=False, encoding="utf-8")
        written += [sweep_dir / "runs.dta", sweep_dir / VARIABLES_FILE]
    return written


def parse_formats(text: str) -> tuple[str, ...]:
    """``"csv,dta"`` → ``("csv", "dta")``; an unknown format is a ValueError naming the allowed ones."""
    formats = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"--export {text!r}: allowed formats are {', '.join(FORMATS)} (comma-separated)")
    return formats
