"""Collate a sweep into two tables: ``python -m sim.runs.collate <sweep_dir>``.

* ``runs.parquet`` — one row per run: the swept parameters as columns (``policy``, ``seed``,
  ``policy.micro_fund.fen_per_unit``, …), ``community``, ``policy``, ``seed``; a parameter some runs
  set and others did not (sweeps appended into one folder) holds, for the others, the value their
  resolved config used (0 fen where no one-cent charity runs), never a gap; the status
  (``done``, ``skipped`` = complete from an earlier attempt, ``failed``) with the error and its cause
  (``exception``, ``signal``, ``exit``, ``time_limit``, ``memory_limit``; see :mod:`sim.runs.isolation`), the config
  hash, the wall time and the final KPIs.
* ``timeseries.parquet`` — long format: ``run``, ``step``, ``indicator``, ``value``.

Load a whole sweep with one call: ``pd.read_parquet("<sweep_dir>/runs.parquet")``.
Both files are written to temporary files and renamed, so a failed collation leaves the old
tables (or none), never half a table.  Each run's files are checked against the sizes and SHA-256
its manifest recorded: a truncated, altered or unreadable run file stops the collation with the
run's folder and the reason (re-run the sweep into the same folder to redo that run), unless
``--skip-corrupt`` is given (the run is then recorded as ``corrupt``, with the reason).

``python -m sim.runs.collate --verify <sweep_dir>`` only checks: every run of the sweep complete and
intact, none failed, none missing (against the job count in ``sweep.json``).  It lists each bad
run with the reason and exits 1 if there is any, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.runs.outputs import (
    COLLATED_TIMESERIES_FILE,
    KPIS_FILE,
    MANIFEST_FILE,
    RUNS_FILE,
    STATUS_FILE,
    SWEEP_FILE,
    TIMESERIES_FILE,
    check_run,
    read_json,
    write_atomic,
)

READ_THREADS = 4  # run folders read at once by collate()
OVERRIDDEN = "__overridden"  # a row's keys set by an override, while the rows are read (not a column)


class CollateError(RuntimeError):
    """A sweep folder that cannot be collated (the message names the file)."""


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CollateError(f"corrupt or unreadable file {path}: {exc}") from None


def _parse_override(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    key = key.lstrip("+~")
    try:
        parsed: object = json.loads(value)
    except ValueError:
        parsed = value
    return key, parsed


def _resolved_value(config: dict, key: str, default: object) -> object:
    """The value of dotted ``key`` in a run's resolved config, or ``default`` if it is not a leaf there."""
    node: object = config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return default if isinstance(node, dict | list) else node


def _job_dirs(sweep_dir: Path) -> list[Path]:
    dirs = {p.parent for p in sweep_dir.glob(f"*/{MANIFEST_FILE}")}
    dirs |= {p.parent for p in sweep_dir.glob(f"*/{STATUS_FILE}")}
    return sorted(dirs)


def collate(sweep_dir: str | os.PathLike, skip_corrupt: bool = False) -> pd.DataFrame:
    """Write runs.parquet and timeseries.parquet for ``sweep_dir``; returns the runs table."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise CollateError(f"no such sweep folder: {sweep_dir}")
    jobs = _job_dirs(sweep_dir)
    if not jobs:
        raise CollateError(f"{sweep_dir} holds no runs (no */{MANIFEST_FILE} or */{STATUS_FILE})")
    rows, series, problems, configs = [], [], [], []
    # the run folders are read by a few threads (reading a Parquet file releases the GIL), in the folders' order
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        results = list(pool.map(_read_or_error, jobs))
    for run_id, (job, (result, exc)) in enumerate(zip(jobs, results, strict=True)):
        if exc is None:
            row, ts, resolved = result
        else:
            if not skip_corrupt:
                raise exc
            problems.append(str(exc))
            row, ts, resolved = {"run_dir": job.name, "status": "corrupt", "error": str(exc)}, None, {}
        row = {"run": run_id, **row}
        rows.append(row)
        configs.append(resolved)
        if ts is not None:
            series.append((run_id, ts))
    fill_effective_values(rows, configs)
    runs = pd.DataFrame(rows)
    first = [c for c in ("run", "run_dir", "status", "community", "policy", "seed") if c in runs.columns]
    runs = runs[first + [c for c in runs.columns if c not in first]]
    write_atomic(sweep_dir / RUNS_FILE, runs)
    write_atomic(sweep_dir / COLLATED_TIMESERIES_FILE, _long_table(series))
    for p in problems:
        print(f"warning: skipped {p}", file=sys.stderr)
    return runs


def _long_table(series: list[tuple[int, pa.Table]]) -> pd.DataFrame:
    """The weekly tables of the runs in long format: run, step, indicator, value (one row per run, indicator, week).

    Rows come run by run, and within a run indicator by indicator in the table's column order, as
    ``DataFrame.melt`` orders them; built from the column arrays directly (a melt per run costs
    more than the rest of the collation).  Only numeric columns are indicators: text columns (a scheduled run's
    ``lever_events``) stay in each run's own ``timeseries.parquet``.
    """
    series = [(run_id, table.select([c for c in table.column_names
                                      if not pa.types.is_string(table.schema.field(c).type)
                                      and not pa.types.is_large_string(table.schema.field(c).type)]))
              for run_id, table in series]
    if not series:
        return pd.DataFrame({"run": pd.Series(dtype="int32"), "step": pd.Series(dtype="int32"),
                             "indicator": pd.Series(dtype="category"), "value": pd.Series(dtype="float64")})
    # the indicator column as category codes from the start (the categories sorted, as pd.Categorical sorts
    # them): building it from millions of repeated strings took a third of the collation
    categories = sorted({c for _, table in series for c in table.column_names if c != "step"})
    code_of = {c: i for i, c in enumerate(categories)}
    runs, steps, codes, values = [], [], [], []
    for run_id, table in series:
        cols = [c for c in table.column_names if c != "step"]
        step = table.column("step").to_numpy()
        runs.append(np.full(len(step) * len(cols), run_id, dtype="int32"))
        steps.append(np.tile(step.astype("int32"), len(cols)))
        codes.append(np.repeat(np.array([code_of[c] for c in cols], dtype=np.int32), len(step)))
        values += [np.asarray(table.column(c).to_numpy(), dtype="float64") for c in cols]
    indicator = pd.Categorical.from_codes(np.concatenate(codes), categories=categories)
    return pd.DataFrame({"run": np.concatenate(runs), "step": np.concatenate(steps), "indicator": indicator,
                         "value": np.concatenate(values) if values else np.empty(0)})


def fill_effective_values(rows: list[dict], configs: list[dict]) -> None:
    """Give every run a value for each parameter any run set by an override: the value its resolved config
    used (e.g. 0 fen per unit of the one-cent lever for a baseline run of a folder into which a one-cent sweep
    was appended).  Runs without a resolved config (failed before their manifest) keep the gap."""
    keys = list(dict.fromkeys(k for row in rows for k in row.get(OVERRIDDEN, ())))
    for row, config in zip(rows, configs, strict=True):
        row.pop(OVERRIDDEN, None)
        for key in keys:
            if key not in row and config:
                value = _resolved_value(config, key, None)
                if value is not None:
                    row[key] = value


def _read_or_error(job: Path) -> tuple[tuple[dict, pa.Table | None, dict] | None, CollateError | None]:
    try:
        return _read_job(job), None
    except CollateError as exc:
        return None, exc


def _read_job(job: Path) -> tuple[dict, pa.Table | None, dict]:
    """The run's row (its overridden keys under OVERRIDDEN), weekly table and resolved config."""
    status = _read_json(job / STATUS_FILE) if (job / STATUS_FILE).exists() else {}
    manifest_path = job / MANIFEST_FILE
    row: dict = {"run_dir": job.name, "status": status.get("status", "done" if manifest_path.exists() else "failed")}
    if "error" in status:
        row["error"] = status["error"]
        row["cause"] = status.get("cause")  # exception, signal, exit, time_limit or memory_limit
    overrides = []
    resolved: dict = {}
    if manifest_path.exists() and row["status"] != "failed":
        manifest = _read_json(manifest_path)
        resolved = manifest.get("config", {})
        overrides = manifest.get("overrides", [])
        row.update(community=manifest["community"], policy=manifest["policy"], seed=manifest["seed"],
                   config_hash=manifest["config_hash"], wall_time_s=manifest.get("wall_time_s"))
    else:
        overrides = [o for o in job.name.split(",") if "=" in o]
    for o in overrides:
        key, value = _parse_override(o)
        if not key.startswith(("hydra.", "sweep.")):  # how the sweep ran, not what a run computed
            # a parameter's column holds the value the run used (an override such as seed=${steps} is
            # only resolved in the job: the manifest's config has the value)
            value = _resolved_value(resolved, key, value)
            row.setdefault(key, value)
            row.setdefault(OVERRIDDEN, []).append(key)
            if key in ("community", "policy", "seed"):
                row[key] = value
    if row["status"] == "failed" or not manifest_path.exists():
        return row, None, resolved
    problem = check_run(job, legacy_ok=True)
    if problem is not None:
        raise CollateError(f"corrupt run {job}: {problem}")
    kpis = _read_json(job / KPIS_FILE)
    for key, item in kpis.get("targets", {}).items():
        row[key] = item.get("value")
    for key, value in kpis.get("totals", {}).items():
        row[key] = value
    try:
        with pq.ParquetFile(job / TIMESERIES_FILE) as file:
            ts = file.read(use_threads=False)  # a small file: threads would cost more than they save
    except Exception as exc:
        raise CollateError(f"corrupt or unreadable file {job / TIMESERIES_FILE}: {exc}") from None
    return row, ts, resolved


def verify(sweep_dir: str | os.PathLike) -> list[tuple[str, str]]:
    """Every run of the sweep that is not done and intact, as (run folder, reason); empty if all are.

    A run is bad if its job failed (the recorded error), if it has no manifest (it did not finish),
    or if an output file no longer matches the size and SHA-256 its manifest recorded.  Jobs that
    left no folder at all are counted against ``sweep.json``'s number of jobs.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise CollateError(f"no such sweep folder: {sweep_dir}")
    bad = []
    jobs = _job_dirs(sweep_dir)
    for job in jobs:
        status = read_json(job / STATUS_FILE) or {}
        if status.get("status") == "failed":
            bad.append((job.name, f"failed: {status.get('error', 'no error recorded')}"))
            continue
        problem = check_run(job)
        if problem is not None:
            bad.append((job.name, problem))
    launched = (read_json(sweep_dir / SWEEP_FILE) or {}).get("jobs")
    if isinstance(launched, int) and launched > len(jobs):
        bad.append((f"{launched - len(jobs)} job(s)", "no run folder (never started)"))
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.runs.collate",
                                 description="Collate a sweep folder into runs.parquet and timeseries.parquet.")
    ap.add_argument("sweep_dir", help="the sweep's folder (hydra.sweep.dir)")
    ap.add_argument("--skip-corrupt", action="store_true",
                    help="record unreadable runs as 'corrupt' instead of stopping")
    ap.add_argument("--verify", action="store_true",
                    help="only check that every run is done and its files match its manifest; exit 1 naming bad runs")
    args = ap.parse_args(argv)
    try:
        if args.verify:
            return _report_verification(Path(args.sweep_dir))
        runs = collate(args.sweep_dir, skip_corrupt=args.skip_corrupt)
    except CollateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    counts = runs["status"].value_counts().to_dict()
    print(f"collated {len(runs)} runs ({', '.join(f'{v} {k}' for k, v in counts.items())}) into "
          f"{Path(args.sweep_dir) / RUNS_FILE} and {Path(args.sweep_dir) / COLLATED_TIMESERIES_FILE}")
    return 0


def _report_verification(sweep_dir: Path) -> int:
    bad = verify(sweep_dir)
    total = len(_job_dirs(sweep_dir))
    if not bad:
        print(f"verified: all {total} runs in {sweep_dir} are done and match their manifests")
        return 0
    print(f"{len(bad)} bad run(s) in {sweep_dir} ({total} run folders):", file=sys.stderr)
    for name, reason in bad:
        print(f"  {name}: {reason}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
