"""Sweeps (Hydra multirun): resumable, fault-isolated jobs, a progress line per job, a summary.

* Each job's folder is ``<sweep dir>/<override_dirname>`` (e.g. ``policy=micro_fund,seed=3``), so
  re-running the same command finds its earlier outputs.  A job whose ``manifest.json`` holds the
  same config hash (resolved config + seed) is skipped: a killed sweep re-run finishes the rest.
* A job that raises is caught and recorded in its ``status.json`` with the error and traceback;
  it does not stop the other jobs, and Hydra's end-of-sweep callback still runs.
* :class:`SweepCallback` (registered in configs/config.yaml) counts the jobs at the start, and at
  the end prints a summary (done, skipped, failed, wall time) and collates the sweep
  (``python -m experiments.collate <sweep dir>`` does the same by hand).
"""

from __future__ import annotations

import json
import logging
import os
import time
import traceback
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger("sim.sweep")

STATUS_FILE = "status.json"
SWEEP_FILE = "sweep.json"


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def count_jobs(config: DictConfig) -> int:
    """Number of jobs the basic sweeper will launch for this config (sweeper params × overrides)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    params = [f"{k}={v}" for k, v in (config.hydra.sweeper.get("params") or {}).items()]
    parsed = OverridesParser.create().parse_overrides(params + list(config.hydra.overrides.task))
    return sum(len(batch) for batch in BasicSweeper.split_arguments(parsed, None))


def finished_jobs(sweep_dir: Path) -> dict[str, int]:
    counts = {"done": 0, "skipped": 0, "failed": 0}
    for f in sweep_dir.glob(f"*/{STATUS_FILE}"):
        try:
            status = json.loads(f.read_text(encoding="utf-8"))["status"]
        except (OSError, ValueError, KeyError):
            continue
        counts[status] = counts.get(status, 0) + 1
    return counts


def progress_line(sweep_dir: Path, job_name: str, status: str, seconds: float) -> str:
    try:
        total = json.loads((sweep_dir / SWEEP_FILE).read_text(encoding="utf-8"))["jobs"]
    except (OSError, ValueError, KeyError):
        total = "?"
    n = sum(finished_jobs(sweep_dir).values())
    return f"[{n}/{total}] {status:<7} {job_name}  ({seconds:.1f} s)"


def record_status(out_dir: Path, status: str, job_name: str, config_hash: str | None,
                  seconds: float, error: BaseException | None = None) -> None:
    data = {"status": status, "job": job_name, "config_hash": config_hash, "seconds": round(seconds, 3)}
    if error is not None:
        data["error"] = f"{type(error).__name__}: {error}"
        data["traceback"] = "".join(traceback.format_exception(error))
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out_dir / STATUS_FILE, data)


def is_complete(out_dir: Path, config_hash: str) -> bool:
    """True when ``out_dir`` holds a complete run of this exact config (manifest written last)."""
    try:
        manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("config_hash") == config_hash and all((out_dir / f).is_file() for f in manifest["files"])


class SweepCallback(Callback):
    """Counts jobs at the start of a multirun; prints a summary and collates at the end."""

    def __init__(self, collate: bool = True) -> None:
        self.collate = collate
        self._start = time.time()

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._start = time.time()
        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        for f in sweep_dir.glob(f"*/{STATUS_FILE}"):  # a new attempt: statuses are rewritten per job
            f.unlink()
        try:
            jobs = count_jobs(config)
        except Exception:  # a sweeper other than the basic one: the count is unknown
            jobs = None
        write_json_atomic(sweep_dir / SWEEP_FILE, {"jobs": jobs, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                                                   "overrides": list(config.hydra.overrides.task)})
        log.info("sweep of %s jobs into %s", jobs if jobs is not None else "?", sweep_dir)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        counts = finished_jobs(sweep_dir)
        wall = time.time() - self._start
        summary = (f"sweep finished: {counts.get('done', 0)} done, {counts.get('skipped', 0)} skipped, "
                   f"{counts.get('failed', 0)} failed, wall time {wall:.1f} s  ({sweep_dir})")
        print(summary, flush=True)
        if counts.get("failed"):
            for f in sorted(sweep_dir.glob(f"*/{STATUS_FILE}")):
                st = json.loads(f.read_text(encoding="utf-8"))
                if st["status"] == "failed":
                    print(f"  failed: {st['job']}: {st.get('error', '')}", flush=True)
        if self.collate:
            from experiments.collate import collate

            try:
                runs = collate(sweep_dir)
                print(f"collated {len(runs)} runs: {sweep_dir / 'runs.parquet'}, {sweep_dir / 'timeseries.parquet'}",
                      flush=True)
            except Exception as exc:  # report; the runs themselves are safe on disk
                print(f"collation failed: {exc}\nrun: python -m experiments.collate {sweep_dir}", flush=True)
