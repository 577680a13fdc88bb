"""Run a design (a table of parameter points × seeds) with :func:`sim.runs.runner.run_many`.

A design is a DataFrame whose columns are dotted parameter keys (``behaviour.register_base``,
``policy.fund.transparency`` …), one row per parameter point.  :func:`run_design` composes the
scenario overrides once per combination (``community=relocation``, ``policy=baseline,five_society``
…: a comma list multiplies the runs, as on the command line), sets each row's values and each seed
(:func:`sim.settings.config.with_values`), and runs them all in parallel worker processes, each in its own
folder of the sweep folder.  A re-run of the same design into the same folder skips the complete
runs (resume); a failed run does not stop the others.  The collated runs table comes back,
restricted to this design's runs, with a ``design_row`` column and the design's values as columns.
``<sweep dir>/design.parquet`` records the design.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Sequence
from enum import Enum
from pathlib import Path

import numpy as np
import pandas as pd

from sim.runs.outputs import COLLATED_TIMESERIES_FILE, RUNS_FILE, write_atomic
from sim.runs.runner import run_many
from sim.settings.config import SimConfig, schema_fields, settings_for, with_values

DESIGN_FILE = "design.parquet"


class DesignError(RuntimeError):
    """A design that cannot be run, or runs that did not complete (the message says why)."""


def is_integer_param(key: str) -> bool:
    """True when the schema declares ``key`` as an int (sampled values must then be rounded)."""
    f = schema_fields()[key]
    return f.type in ("int", int)


def coerce_design(design: pd.DataFrame) -> pd.DataFrame:
    """Check the columns are schema parameters and round integer parameters to whole numbers."""
    fields = schema_fields()
    unknown = [c for c in design.columns if c not in fields]
    if unknown:
        raise DesignError(f"design columns are not parameters: {', '.join(unknown)}; see python -m sim --help")
    out = design.reset_index(drop=True).copy()
    for col in out.columns:
        if is_integer_param(col):
            out[col] = np.rint(out[col].astype(float)).astype("int64")
        elif fields[col].type in ("float", float):
            out[col] = out[col].astype("float64")
    return out


def write_design(design: pd.DataFrame, sweep_dir: Path) -> Path:
    """Record the design table in the sweep folder; an identical existing table is left untouched (resume)."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    path = sweep_dir / DESIGN_FILE
    if path.exists():
        try:
            if pd.read_parquet(path).equals(design):
                return path
        except Exception:  # unreadable: rewrite it
            pass
    write_atomic(path, design)
    return path


def scenario_combinations(overrides: Iterable[str]) -> list[list[str]]:
    """Every combination of the overrides' values, as Hydra's basic sweeper expands them.

    ``["community=relocation", "policy=baseline,five_society"]`` gives two lists of overrides;
    ``range(0,3)``, ``choice(...)`` and quoted commas follow Hydra's override grammar.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as exc:
        raise DesignError(f"bad override: {exc}") from None
    choices = []
    for o in parsed:
        if o.is_sweep_override():
            key = o.get_key_element()
            choices.append([f"{key}={v}" for v in o.sweep_string_iterator()])
        else:
            choices.append([o.input_line])
    return [list(combo) for combo in itertools.product(*choices)]


def _text(value) -> str:
    """A value as an override writes it (``true``, ``resident_led``, ``0.000412``)."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return value.name
    return repr(value.item() if hasattr(value, "item") else value)


def plan_runs(design: pd.DataFrame | None, seeds: Sequence[int], overrides: Iterable[str] = ()
              ) -> tuple[list[SimConfig], list[list[str]], list[str], list[int | None]]:
    """The runs of a design: (settings, overrides, folder name, design row) of each.

    A run's folder is named like a Hydra sweep job's, by its sorted overrides, with the design row
    in place of the row's values (``community=relocation,design_row=3,policy=baseline,seed=0``).
    A design column ``seed`` shifts that row's seeds: it runs with ``seed + s`` for each ``s`` in ``seeds``
    (so that rows can have seeds of their own, e.g. posterior predictive draws).
    """
    rows: list[tuple[int | None, dict]] = [(None, {})] if design is None else \
        [(i, {k: v.item() if hasattr(v, "item") else v for k, v in r.items()})
         for i, r in enumerate(design.to_dict("records"))]
    settings, run_overrides, names, design_rows = [], [], [], []
    for combo in scenario_combinations(overrides):
        try:
            base = settings_for(*combo)
        except Exception as exc:  # a composition or range error: name the combination
            raise DesignError(f"{' '.join(combo)}: {exc}") from None
        for i, values in rows:
            shift = int(values.get("seed", 0))
            values = {k: v for k, v in values.items() if k != "seed"}
            for seed in (shift + s for s in seeds):
                try:
                    settings.append(with_values(base, {**values, "seed": seed}))
                except ValueError as exc:
                    raise DesignError(f"design row {i} with {' '.join(combo)}: {exc}") from None
                tag = [] if i is None else [f"design_row={i}"]
                run_overrides.append([*combo, *(f"{k}={_text(v)}" for k, v in values.items()), f"seed={seed}"])
                names.append(",".join(sorted([*combo, *tag, f"seed={seed}"])))
                design_rows.append(i)
    return settings, run_overrides, names, design_rows


def run_design(design: pd.DataFrame | None, sweep_dir: str | os.PathLike, seeds: int | Sequence[int],
               overrides: Iterable[str] = (), n_jobs: int | None = None, quiet: bool = False) -> pd.DataFrame:
    """Run every row of ``design`` with every seed (:func:`sim.runs.runner.run_many`); return its runs table.

    ``seeds`` is a count (seeds 0…R-1) or a list.  ``overrides`` are scenario overrides, e.g.
    ``["community=township", "policy=baseline", "steps=156"]``; a comma list such as
    ``policy=baseline,five_society`` multiplies the runs.  ``design=None`` runs the overrides alone.
    Raises :class:`DesignError` if any run failed (re-run to retry only those).
    """
    sweep_dir = Path(sweep_dir)
    seeds = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seeds:
        raise DesignError("no seeds: give at least one")
    if design is not None:
        design = coerce_design(design)
        if design.empty:
            raise DesignError("the design has no rows")
    settings, run_overrides, names, design_rows = plan_runs(design, seeds, overrides)
    if design is not None:
        write_design(design, sweep_dir)
    runs = run_many(settings, sweep_dir, n_jobs, names=names, overrides=run_overrides, progress=not quiet)
    runs = check_runs(runs[runs["run_dir"].isin(names)], sweep_dir)
    if design is not None:
        runs.insert(1, "design_row", runs["run_dir"].map(dict(zip(names, design_rows, strict=True))).astype("int64"))
    return runs.reset_index(drop=True)


def check_runs(runs: pd.DataFrame, sweep_dir: Path) -> pd.DataFrame:
    """``runs`` itself, or DesignError naming the first failed runs."""
    failed = runs[~runs["status"].isin(["done", "skipped"])]
    if len(failed):
        errors = "; ".join(f"{r['run_dir']}: {r.get('error', '?')}" for _, r in failed.head(5).iterrows())
        raise DesignError(f"{len(failed)} of {len(runs)} runs failed in {sweep_dir} ({errors}); "
                          "re-run the same command to retry only those")
    return runs


def load_runs(sweep_dir: Path, seeds: Sequence[int]) -> pd.DataFrame:
    """The collated runs of an earlier sweep folder with these seeds (raises DesignError if any failed)."""
    path = sweep_dir / RUNS_FILE
    if not path.exists():
        raise DesignError(f"no {path}: run the study first")
    runs = pd.read_parquet(path)
    return check_runs(runs[runs["seed"].isin(seeds)], sweep_dir).reset_index(drop=True)


def load_timeseries(sweep_dir: str | os.PathLike, runs: pd.DataFrame, indicators: Iterable[str]) -> pd.DataFrame:
    """Weekly series of ``indicators`` for ``runs``: one row per (run, step), one column per indicator."""
    indicators = list(indicators)
    ts = pd.read_parquet(Path(sweep_dir) / COLLATED_TIMESERIES_FILE,
                         filters=[("indicator", "in", indicators), ("run", "in", runs["run"].tolist())])
    ts["indicator"] = ts["indicator"].astype(str)
    return ts.pivot_table(index=["run", "step"], columns="indicator", values="value", observed=True).reset_index()
