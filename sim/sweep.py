"""Sweeps (Hydra multirun): resumable, fault-isolated jobs, a progress line per job, a summary.

* Each job's folder is ``<sweep dir>/<override_dirname>`` (e.g. ``policy=micro_fund,seed=3``), so
  re-running the same command finds its earlier outputs.  A job whose ``manifest.json`` holds the
  same config hash (resolved config + seed) is skipped: a killed sweep re-run finishes the rest.
* A job that raises is caught and recorded in its ``status.json`` with the error and traceback;
  it does not stop the other jobs, and Hydra's end-of-sweep callback still runs.
* :class:`SweepCallback` (registered in configs/config.yaml) counts the jobs at the start, and at
  the end prints a summary (done, skipped, failed, wall time) and collates the sweep
  (``python -m sim.collate <sweep dir>`` does the same by hand).

The job itself is :func:`sim.runner.run_job`, the same contract :func:`sim.runner.run_many` uses.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.collate import collate
from sim.outputs import (
    COLLATED_TIMESERIES_FILE,
    RUNS_FILE,
    STATUS_FILE,
    SWEEP_FILE,
    read_json,
    read_status,
    write_atomic,
)
from sim.runner import summary_text

log = logging.getLogger("sim.sweep")


def count_jobs(config: DictConfig) -> int:
    """Number of jobs the sweep launches: every combination of the values of each key.

    The keys are those of ``hydra.sweeper.params`` and the command line (a key given twice counts
    once), as both the basic sweeper and this project's (hydra/sweeper=sim) combine them.  Raises
    for a sweep it cannot count without the config loader (``glob(...)``, ``interval(...)``).
    """
    import math

    from hydra.core.override_parser.overrides_parser import OverridesParser

    # unresolved: an interpolation such as ${hydra:runtime.choices.policy} resolves inside each job
    params = OmegaConf.to_container(config.hydra.sweeper, resolve=False).get("params") or {}
    task = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)
    values: dict[str, int] = {}
    for override in OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()] + task):
        values[override.get_key_element()] = (len(list(override.sweep_string_iterator()))
                                              if override.is_sweep_override() else 1)
    return math.prod(values.values())


def job_statuses(sweep_dir: Path) -> list[dict]:
    """The recorded status of every job of the sweep that has one (unreadable ones left out)."""
    found = (read_status(f.parent) for f in sorted(sweep_dir.glob(f"*/{STATUS_FILE}")))
    return [st for st in found if st is not None and "status" in st]


def progress_line(sweep_dir: Path, job_name: str, status: str, seconds: float) -> str:
    """``[12/90] done    policy=micro_fund,seed=3  (1.2 s)``: jobs finished so far out of those launched."""
    total = (read_json(sweep_dir / SWEEP_FILE) or {}).get("jobs") or "?"
    n = len(job_statuses(sweep_dir))
    return f"[{n}/{total}] {status:<7} {job_name}  ({seconds:.1f} s)"


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
        task = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)  # interpolations resolve in jobs
        write_atomic(sweep_dir / SWEEP_FILE, {"jobs": jobs, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                                              "overrides": task})
        log.info("sweep of %s jobs into %s", jobs if jobs is not None else "?", sweep_dir)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        statuses = job_statuses(sweep_dir)
        counts = Counter(st["status"] for st in statuses)
        failures = [(st["job"], st.get("error", "")) for st in statuses if st["status"] == "failed"]
        print(summary_text(counts, time.time() - self._start, sweep_dir, failures), flush=True)
        if self.collate:
            try:
                runs = collate(sweep_dir)
                print(f"collated {len(runs)} runs: {sweep_dir / RUNS_FILE}, {sweep_dir / COLLATED_TIMESERIES_FILE}",
                      flush=True)
            except Exception as exc:  # report; the runs themselves are safe on disk
                print(f"collation failed: {exc}\nrun: python -m sim.collate {sweep_dir}", flush=True)
