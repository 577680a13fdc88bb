"""Collate a sweep into two tables: ``python -m experiments.collate <sweep_dir>``.

* ``runs.parquet`` — one row per run: the swept parameters as columns (``policy``, ``seed``,
  ``policy.micro_fund.fen_per_unit``, …), ``community``, ``policy``, ``seed``, the status
  (``done``, ``skipped`` = complete from an earlier attempt, ``failed``) with the error, the config
  hash, the wall time and the final KPIs.
* ``timeseries.parquet`` — long format: ``run``, ``step``, ``indicator``, ``value``.

Load a whole sweep with one call: ``pd.read_parquet("<sweep_dir>/runs.parquet")``.
Both files are written to temporary files and renamed, so a failed collation leaves the old
tables (or none), never half a table.  A corrupt run file stops the collation with its name
(re-run the sweep into the same folder to redo that run), unless ``--skip-corrupt`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pandas as pd

from sim.sweep import STATUS_FILE

RUNS = "runs.parquet"
TIMESERIES = "timeseries.parquet"


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


def _job_dirs(sweep_dir: Path) -> list[Path]:
    dirs = {p.parent for p in sweep_dir.glob("*/manifest.json")}
    dirs |= {p.parent for p in sweep_dir.glob(f"*/{STATUS_FILE}")}
    return sorted(dirs)


def collate(sweep_dir: str | os.PathLike, skip_corrupt: bool = False) -> pd.DataFrame:
    """Write runs.parquet and timeseries.parquet for ``sweep_dir``; returns the runs table."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise CollateError(f"no such sweep folder: {sweep_dir}")
    jobs = _job_dirs(sweep_dir)
    if not jobs:
        raise CollateError(f"{sweep_dir} holds no runs (no */manifest.json or */{STATUS_FILE})")
    rows, series, problems = [], [], []
    for run_id, job in enumerate(jobs):
        try:
            row, ts = _read_job(job)
        except CollateError as exc:
            if not skip_corrupt:
                raise
            problems.append(str(exc))
            row, ts = {"run_dir": job.name, "status": "corrupt", "error": str(exc)}, None
        row = {"run": run_id, **row}
        rows.append(row)
        if ts is not None:
            long = ts.melt(id_vars="step", var_name="indicator", value_name="value")
            long.insert(0, "run", run_id)
            series.append(long)
    runs = pd.DataFrame(rows)
    first = [c for c in ("run", "run_dir", "status", "community", "policy", "seed") if c in runs.columns]
    runs = runs[first + [c for c in runs.columns if c not in first]]
    if series:
        tsl = pd.concat(series, ignore_index=True)
        tsl["indicator"] = tsl["indicator"].astype("category")
        tsl["value"] = tsl["value"].astype("float64")
        tsl["step"] = tsl["step"].astype("int32")
        tsl["run"] = tsl["run"].astype("int32")
    else:
        tsl = pd.DataFrame({"run": pd.Series(dtype="int32"), "step": pd.Series(dtype="int32"),
                            "indicator": pd.Series(dtype="category"), "value": pd.Series(dtype="float64")})
    _write_atomic(runs, sweep_dir / RUNS)
    _write_atomic(tsl, sweep_dir / TIMESERIES)
    for p in problems:
        print(f"warning: skipped {p}", file=sys.stderr)
    return runs


def _read_job(job: Path) -> tuple[dict, pd.DataFrame | None]:
    status = _read_json(job / STATUS_FILE) if (job / STATUS_FILE).exists() else {}
    manifest_path = job / "manifest.json"
    row: dict = {"run_dir": job.name, "status": status.get("status", "done" if manifest_path.exists() else "failed")}
    if "error" in status:
        row["error"] = status["error"]
    overrides = []
    if manifest_path.exists() and row["status"] != "failed":
        manifest = _read_json(manifest_path)
        overrides = manifest.get("overrides", [])
        row.update(community=manifest["community"], policy=manifest["policy"], seed=manifest["seed"],
                   config_hash=manifest["config_hash"], wall_time_s=manifest.get("wall_time_s"))
    else:
        overrides = [o for o in job.name.split(",") if "=" in o]
    for o in overrides:
        key, value = _parse_override(o)
        if not key.startswith("hydra."):
            row.setdefault(key, value)
            if key in ("community", "policy", "seed"):
                row[key] = value
    if row["status"] == "failed" or not manifest_path.exists():
        return row, None
    kpis = _read_json(job / "kpis.json")
    for key, item in kpis.get("targets", {}).items():
        row[key] = item.get("value")
    for key, value in kpis.get("totals", {}).items():
        row[key] = value
    try:
        ts = pd.read_parquet(job / "timeseries.parquet")
    except Exception as exc:
        raise CollateError(f"corrupt or unreadable file {job / 'timeseries.parquet'}: {exc}") from None
    return row, ts


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.collate",
                                 description="Collate a sweep folder into runs.parquet and timeseries.parquet.")
    ap.add_argument("sweep_dir", help="the sweep's folder (hydra.sweep.dir)")
    ap.add_argument("--skip-corrupt", action="store_true",
                    help="record unreadable runs as 'corrupt' instead of stopping")
    args = ap.parse_args(argv)
    try:
        runs = collate(args.sweep_dir, skip_corrupt=args.skip_corrupt)
    except CollateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    counts = runs["status"].value_counts().to_dict()
    print(f"collated {len(runs)} runs ({', '.join(f'{v} {k}' for k, v in counts.items())}) into "
          f"{Path(args.sweep_dir) / RUNS} and {Path(args.sweep_dir) / TIMESERIES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
