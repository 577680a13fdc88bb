"""Run a design (a table of parameter points × seeds) through the sweep machinery.

A design is a DataFrame whose columns are dotted parameter keys (``behaviour.register_base``,
``policy.fund.transparency`` …), one row per parameter point.  :func:`run_design` writes it to
``<sweep dir>/design.parquet`` and runs::

    python -m sim -m point.file=<sweep dir>/design.parquet 'point.row=range(0,N)' 'seed=range(0,R)' \\
        <overrides> hydra.sweep.dir=<sweep dir>

as a subprocess: Hydra's joblib launcher runs the jobs in parallel, each in its own folder; a
re-run of the same design into the same folder skips the complete jobs (resume); a failed job does
not stop the others.  The sweep's collated ``runs.parquet`` (one row per run) comes back, restricted
to this design's rows and seeds, with the design's parameter values joined on ``point.row``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import schema_fields

DESIGN_FILE = "design.parquet"
# Keys left out of a job's folder name.  `point.file` is an absolute path: with its slashes in the
# folder name each job would land in nested folders that the collation cannot find.
DIRNAME_EXCLUDE = ("experiment", "progress", "lang", "hydra.sweep.dir", "hydra.launcher.n_jobs", "point.file")
# Hydra prints one "#k : overrides" line per job at launch; the per-job progress lines are enough.
_LAUNCH_LINE = re.compile(r"\]\[HYDRA\]\s+#\d+ : ")
BATCH = 100


class DesignError(RuntimeError):
    """A design that cannot be run, or a sweep that did not complete (the message says why)."""


def is_integer_param(key: str) -> bool:
    """True when the schema declares ``key`` as an int (sampled values must then be rounded)."""
    f = schema_fields()[key]
    return f.type in ("int", int)


def coerce_design(design: pd.DataFrame) -> pd.DataFrame:
    """Check the columns are schema parameters and round integer parameters to whole numbers."""
    fields = schema_fields()
    unknown = [c for c in design.columns if c not in fields or c.startswith("point.")]
    if unknown:
        raise DesignError(f"design columns are not parameters: {', '.join(unknown)}; see python -m sim --help")
    out = design.reset_index(drop=True).copy()
    for col in out.columns:
        if is_integer_param(col):
            out[col] = np.rint(out[col].astype(float)).astype("int64")
        elif fields[col].type in ("float", float):
            out[col] = out[col].astype("float64")
    return out


def sweep_command(sweep_dir: Path, n_points: int | None, seeds: Sequence[int], overrides: Iterable[str] = (),
                  n_jobs: int | None = None) -> list[str]:
    """The ``python -m sim -m ...`` command that runs the design in ``sweep_dir`` (``n_points=None``: no design).

    Before launching a batch, the sweeper (hydra/sweeper=sim) composes and range-checks the
    config of each distinct parameter point once in the main process (~0.1 s a point, serially);
    batches of :data:`BATCH` jobs make the per-job progress lines start early instead of after the
    whole design has been checked.
    """
    cmd = [sys.executable, "-m", "sim", "-m"]
    if n_points is not None:
        cmd += [f"point.file={(sweep_dir / DESIGN_FILE).resolve()}", f"point.row=range(0,{n_points})"]
    cmd += [_seed_override(seeds), *overrides, f"hydra.sweep.dir={sweep_dir.resolve()}",
            f"hydra.job.config.override_dirname.exclude_keys=[{','.join(DIRNAME_EXCLUDE)}]",
            f"hydra.sweeper.max_batch_size={BATCH}"]
    if n_jobs is not None:
        cmd.append(f"hydra.launcher.n_jobs={n_jobs}")
    return cmd


def _seed_override(seeds: Sequence[int]) -> str:
    seeds = list(seeds)
    if not seeds:
        raise DesignError("no seeds: give at least one")
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"seed=range({seeds[0]},{seeds[0] + len(seeds)})"
    return "seed=" + ",".join(str(s) for s in seeds)


def on_disk(design: pd.DataFrame) -> pd.DataFrame:
    """The design as written to design.parquet: integer parameters as text.

    ``sim.config._apply_point`` reads a row with ``table.iloc[row]``, which turns the integers of a
    table that also has float columns into floats (25 → 25.0), and OmegaConf refuses 25.0 for an int
    field. OmegaConf does convert the text "25" to the integer 25, so integers travel as text.
    """
    out = design.copy()
    for col in out.columns:
        if is_integer_param(col):
            out[col] = out[col].astype(str)
    return out


def write_design(design: pd.DataFrame, sweep_dir: Path) -> Path:
    """Write the design table atomically; an identical existing table is left untouched (resume)."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    path = sweep_dir / DESIGN_FILE
    design = on_disk(design)
    if path.exists():
        try:
            if pd.read_parquet(path).equals(design):
                return path
        except Exception:  # unreadable: rewrite it
            pass
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    design.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def run_sweep(cmd: list[str], quiet: bool = False) -> None:
    """Run the sweep command, echoing its per-job progress lines; raise DesignError on failure."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, bufsize=1)
    tail: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        tail = [*tail[-40:], line.rstrip()]
        if not quiet and not _LAUNCH_LINE.search(line):
            print(line.rstrip(), flush=True)
    if proc.wait() != 0:
        raise DesignError(f"sweep exited with status {proc.returncode}:\n" + "\n".join(tail[-20:]))


def run_design(design: pd.DataFrame | None, sweep_dir: str | os.PathLike, seeds: int | Sequence[int],
               overrides: Iterable[str] = (), n_jobs: int | None = None, quiet: bool = False) -> pd.DataFrame:
    """Run every row of ``design`` with every seed through ``python -m sim -m``; return the runs table.

    ``seeds`` is a count (seeds 0…R-1) or a list.  ``overrides`` are further Hydra overrides,
    e.g. ``["community=township", "policy=baseline", "steps=156"]``; a comma list such as
    ``policy=baseline,five_society`` multiplies the jobs.  ``design=None`` runs the overrides alone.
    Raises :class:`DesignError` if the sweep fails or any job failed (re-run to retry only those).
    """
    sweep_dir = Path(sweep_dir)
    seeds = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    n_points = None
    if design is not None:
        design = coerce_design(design)
        if design.empty:
            raise DesignError("the design has no rows")
        write_design(design, sweep_dir)
        n_points = len(design)
    else:
        sweep_dir.mkdir(parents=True, exist_ok=True)
    run_sweep(sweep_command(sweep_dir, n_points, seeds, overrides, n_jobs), quiet=quiet)
    return load_runs(sweep_dir, design, seeds)


def load_runs(sweep_dir: Path, design: pd.DataFrame | None, seeds: Sequence[int]) -> pd.DataFrame:
    """The collated runs of this design (stale jobs of other designs in the folder are left out)."""
    path = sweep_dir / "runs.parquet"
    if not path.exists():
        raise DesignError(f"the sweep wrote no {path}; see its output above")
    runs = pd.read_parquet(path)
    runs = runs[runs["seed"].isin(seeds)]
    if design is not None:
        runs = runs[runs["point.row"].between(0, len(design) - 1)]
    failed = runs[runs["status"] != "done"]
    failed = failed[failed["status"] != "skipped"]
    if len(failed):
        errors = "; ".join(f"{r['run_dir']}: {r.get('error', '?')}" for _, r in failed.head(5).iterrows())
        raise DesignError(f"{len(failed)} of {len(runs)} runs failed in {sweep_dir} ({errors}); "
                          "re-run the same command to retry only those")
    if design is not None:
        runs = runs.drop(columns=[c for c in design.columns if c in runs.columns])
        runs = runs.merge(design.rename_axis("point.row").reset_index(), on="point.row", how="left")
    return runs.reset_index(drop=True)


def load_timeseries(sweep_dir: str | os.PathLike, runs: pd.DataFrame, indicators: Iterable[str]) -> pd.DataFrame:
    """Weekly series of ``indicators`` for ``runs``: one row per (run, step), one column per indicator."""
    indicators = list(indicators)
    ts = pd.read_parquet(Path(sweep_dir) / "timeseries.parquet",
                         filters=[("indicator", "in", indicators), ("run", "in", runs["run"].tolist())])
    ts["indicator"] = ts["indicator"].astype(str)
    return ts.pivot_table(index=["run", "step"], columns="indicator", values="value", observed=True).reset_index()


# ------------------------------------------------------------------------------------------------
# small shared helpers for the reports
# ------------------------------------------------------------------------------------------------
def markdown_table(df: pd.DataFrame, floatfmt: str = ".4g") -> str:
    """A DataFrame as a GitHub markdown table (no tabulate dependency)."""
    def cell(v) -> str:
        if isinstance(v, float | np.floating):
            return "" if np.isnan(v) else format(v, floatfmt)
        return "" if v is None else str(v).replace("|", "/")
    head = "| " + " | ".join(str(c) for c in df.columns) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body]) + "\n"


def save_figure(fig, path: Path) -> None:
    """Save a matplotlib figure as ``path``.png and ``path``.svg, then close it."""
    import matplotlib.pyplot as plt

    for ext in (".png", ".svg"):
        fig.savefig(Path(path).with_suffix(ext), dpi=130)
    plt.close(fig)
