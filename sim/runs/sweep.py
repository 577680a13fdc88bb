"""Sweeps (Hydra multirun): resumable, fault-isolated jobs, one sweep per folder, a summary, exit codes.

* Each job's folder is ``<sweep dir>/<override_dirname>`` (e.g. ``policy=micro_fund,seed=3``), so
  re-running the same command finds its earlier outputs.  A job whose ``manifest.json`` holds the
  same config hash (resolved config + seed) and whose files still match the sizes and SHA-256 the
  manifest recorded is skipped: a killed sweep re-run finishes the rest, and redoes a run whose
  files were truncated or altered.
* Each job runs in a child process of its own (:func:`sim.runs.runner.run_job`): an error, a signal
  (the out-of-memory killer), ``os._exit`` or a limit (``sweep.job_timeout_s``,
  ``sweep.job_memory_gb``) is recorded in its ``status.json`` with its cause; the worker and the
  other jobs go on, and Hydra's end-of-sweep callback still runs.
* A launcher worker killed from outside costs at most its job: the job's run goes on in a keeper process that
  outlives the worker (and ends with the sweep's main process); loky stops the whole pool, the sweeper launches
  the batch again (configs/hydra/sweeper/sim.yaml), and each job launched again waits for its run still going or
  takes the outcome this attempt recorded (``status.json``'s ``attempt``).  The summary says how many runs
  outlived a dead worker; workers that keep dying stop the sweep with exit 3 (some jobs ran) or 2.
* :class:`SweepCallback` (registered in configs/config.yaml) takes the sweep folder's lock at the
  start (a second sweep into the same folder waits, or with ``sweep.wait=false`` refuses), records
  the sweep's plan in ``sweep.json`` (the number of jobs, counted without listing them, and each job's
  folder name: :func:`sim.runs.outputs.write_plan`, checked by ``python -m sim.runs.collate --verify``); at the end
  it prints a summary (done, skipped, failed, wall time, each failed job), collates the sweep
  (``python -m sim.runs.collate <sweep dir>`` does the same by hand), releases the lock and ends the command
  with one of the exit codes below.

Exit codes of ``python -m sim -m …``:

==  ===========================================================================================
0   every job done (or complete from an earlier attempt) and the sweep collated
2   the sweep could not start: bad input, or another sweep holds the folder and ``sweep.wait=false``
3   the sweep ran, but some jobs failed (or never reported); the summary names them; also a sweep that an
    error stopped after some of its jobs had run (sim.runs.cli)
4   every job done, but the collation failed (``python -m sim.runs.collate <dir>`` says why)
==  ===========================================================================================

The job itself is :func:`sim.runs.runner.run_job`, the same contract :func:`sim.runs.runner.run_many` uses.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from hydra.core.override_parser.types import RangeSweep
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.runs.collate import collate
from sim.runs.exit_codes import EXIT_COLLATION_FAILED, EXIT_JOBS_FAILED, EXIT_NOT_STARTED
from sim.runs.outputs import (
    COLLATED_TIMESERIES_FILE,
    RUNS_FILE,
    STATUS_FILE,
    SWEEP_FILE,
    SweepBusy,
    SweepLock,
    job_folder_name,
    lock_sweep,
    read_json,
    read_status,
    write_plan,
)
from sim.runs.runner import ATTEMPT_ENV, OWNER_ENV, summary_text
from sim.settings.config import ConfigError

MAX_PLANNED_NAMES = 1_000_000  # a larger sweep's plan records its number of jobs only

log = logging.getLogger("sim.runs.sweep")
STARTED: Path | None = None  # the folder of the sweep this process started (its jobs may have run)


def _swept(config: DictConfig) -> list:
    """The parsed overrides that make the sweep's jobs: ``hydra.sweeper.params`` first, then the command line's."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    # unresolved: an interpolation such as ${hydra:runtime.choices.policy} resolves inside each job
    params = OmegaConf.to_container(config.hydra.sweeper, resolve=False).get("params") or {}
    task = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)
    return OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()] + task)


GROUPS = ("community", "policy", "district", "behaviour")  # config groups whose options are the files of configs/


def _group_glob(override) -> list[str] | None:
    """The presets a ``glob(...)`` over a config group matches (``policy=glob(*)``), in Hydra's (sorted) order; None
    for any other override."""
    from hydra.core.override_parser.types import Glob

    from sim.settings.schema import preset_names

    value = override.value()
    if isinstance(value, Glob) and override.key_or_group in GROUPS:
        return value.filter(preset_names(override.key_or_group))
    return None


def _value_count(override) -> int:
    """How many values an override gives a key, without listing them (a range is counted, not expanded)."""
    if not override.is_sweep_override():
        return 1
    matched = _group_glob(override)
    if matched is not None:
        return len(matched)
    value = override.value()
    if isinstance(value, RangeSweep):
        if value.step == 0:
            raise ConfigError(f"{override.input_line}: a range's step cannot be 0")
        return max(0, math.ceil((value.stop - value.start) / value.step))
    return sum(1 for _ in override.sweep_string_iterator())


def count_jobs(config: DictConfig) -> int:
    """Number of jobs the sweep launches: every combination of the values of each key.

    The keys are those of ``hydra.sweeper.params`` and the command line (a key given twice counts
    once: its last values), as both the basic sweeper and this project's (hydra/sweeper=sim) combine them.
    A ``glob(...)`` over a config group counts the presets it matches (the files of configs/<group>/).  Raises for a
    sweep it cannot count without the config loader (``interval(...)``, a glob over anything else).
    Counts without listing the jobs: a range of a hundred million values is counted at once.
    """
    values: dict[str, int] = {}
    for override in _swept(config):
        values[override.get_key_element()] = _value_count(override)
    return math.prod(values.values())


def job_names(config: DictConfig) -> list[str]:
    """The folder name of each job of the sweep, in the order Hydra numbers them
    (:func:`sim.runs.outputs.job_folder_name` of each job's ``override_dirname``, as Hydra forms it).  Raises where
    :func:`count_jobs` does."""
    from hydra._internal.config_loader_impl import get_overrides_dirname
    from hydra.core.override_parser.overrides_parser import OverridesParser

    per_key: dict[str, list[str]] = {}
    for override in _swept(config):
        key = override.get_key_element()
        matched = _group_glob(override) if override.is_sweep_override() else None
        per_key[key] = ([f"{key}={v}" for v in matched] if matched is not None
                        else [f"{key}={v}" for v in override.sweep_string_iterator()] if override.is_sweep_override()
                        else [f"{key}={override.get_value_element_as_str()}"])
    dirname = OmegaConf.to_container(config.hydra.job.config.override_dirname, resolve=True)
    parser = OverridesParser.create()
    names = []
    for num, job in enumerate(itertools.product(*per_key.values())):
        text = get_overrides_dirname(parser.parse_overrides(list(job)), exclude_keys=dirname["exclude_keys"],
                                     item_sep=dirname["item_sep"], kv_sep=dirname["kv_sep"])
        names.append(job_folder_name(text, num))
    return names


def job_statuses(sweep_dir: Path) -> list[dict]:
    """The recorded status of every job of the sweep that has one (unreadable ones left out)."""
    found = (read_status(f.parent) for f in sorted(sweep_dir.glob(f"*/{STATUS_FILE}")))
    return [st for st in found if st is not None and "status" in st]


def progress_line(sweep_dir: Path, job_name: str, status: str, seconds: float) -> str:
    """``[12/90] done    policy=micro_fund,seed=3  (1.2 s)``: jobs finished so far out of those launched."""
    plan = read_json(sweep_dir / SWEEP_FILE) or {}
    total = plan.get("attempt_jobs", plan.get("jobs")) or "?"  # this sweep's jobs (a folder may hold earlier ones)
    n = len(job_statuses(sweep_dir))
    return f"[{n}/{total}] {status:<7} {job_name}  ({seconds:.1f} s)"


class SweepCallback(Callback):
    """Locks the sweep folder and counts jobs at the start of a multirun; summary, collation, exit code at the end."""

    def __init__(self, collate: bool = True) -> None:
        self.collate = collate
        self._start = time.time()
        self._lock: SweepLock | None = None

    def __getstate__(self) -> dict:
        """Launchers send the callbacks to their workers: the lock stays with the process that holds it."""
        return {**self.__dict__, "_lock": None}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            self._lock = lock_sweep(sweep_dir, wait=bool(OmegaConf.select(config, "sweep.wait", default=True)))
        except SweepBusy as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            sys.exit(EXIT_NOT_STARTED)
        except OSError as exc:  # an unwritable or full results folder
            print(f"error: cannot write into the sweep folder {sweep_dir}: {exc.strerror or exc}", file=sys.stderr,
                  flush=True)
            sys.exit(EXIT_NOT_STARTED)
        self._start = time.time()
        for f in sweep_dir.glob(f"*/{STATUS_FILE}"):  # a new attempt: statuses are rewritten per job
            f.unlink()
        try:
            jobs = count_jobs(config)
        except Exception:  # a sweep that needs the config loader to count (glob): the count is unknown
            jobs = None
        names = None
        # a sweep above its limit (refused by the sweeper next, before any job) is not listed either
        limit = min(MAX_PLANNED_NAMES, int(OmegaConf.select(config, "sweep.max_jobs", default=MAX_PLANNED_NAMES)))
        if jobs is not None and jobs <= limit:
            try:
                names = job_names(config)
            except Exception:  # a sweeper or folder naming other than this project's: the count alone
                names = None
        task = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)  # interpolations resolve in jobs
        attempt = uuid.uuid4().hex
        # the plan, before any job starts: sim.runs.collate checks the folder against it (jobs never started, strays)
        write_plan(sweep_dir, "sweep", None if names is None else dict.fromkeys(names), jobs, overrides=task,
                   attempt=attempt)
        # the jobs' runs outlive the launcher's workers and end with this process (sim.runs.runner.run_job); the
        # launcher's worker processes, started after this, inherit these
        os.environ[OWNER_ENV], os.environ[ATTEMPT_ENV] = str(os.getpid()), attempt
        global STARTED
        STARTED = sweep_dir
        log.info("sweep of %s jobs into %s", jobs if jobs is not None else "?", sweep_dir)

    def on_job_end(self, config: DictConfig, job_return: Any = None, **kwargs: Any) -> None:
        """In the launcher's worker, after the job: its return keeps the job's status, overrides and return value,
        and lets its two configs go (about 50 kB of the 50.3 kB sent back; the sweeper reads only the return value).
        A result sent back to joblib over loky's pipe in one write of at most PIPE_BUF bytes (4,096, with
        ``hydra.launcher.batch_size: 1``) cannot be cut by a worker killed in the middle of sending it: a cut message
        left loky's result reader waiting for the rest forever, and the sweep hung (1 time in 8 under load)."""
        if job_return is not None:
            job_return.cfg = job_return.hydra_cfg = None

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        for name in (OWNER_ENV, ATTEMPT_ENV):
            os.environ.pop(name, None)
        try:
            code = self._finish(sweep_dir)
        finally:
            if self._lock is not None:
                self._lock.release()
        if code:
            sys.exit(code)

    def _finish(self, sweep_dir: Path) -> int:
        """Print the summary and collate; return the command's exit code."""
        statuses = job_statuses(sweep_dir)
        counts = Counter(st["status"] for st in statuses)
        failures = [(st["job"], st.get("error", "")) for st in statuses if st["status"] == "failed"]
        plan = read_json(sweep_dir / SWEEP_FILE) or {}
        jobs = plan.get("attempt_jobs", plan.get("jobs"))  # this sweep's own (statuses are rewritten per attempt)
        silent = jobs - len(statuses) if isinstance(jobs, int) and jobs > len(statuses) else 0
        if silent:  # e.g. a cluster job that never started: not done, so not a success
            counts["failed"] += silent
            failures.append((f"{silent} job(s)", "never reported a status"))
        print(summary_text(counts, time.time() - self._start, sweep_dir, failures), flush=True)
        outlived = sum(1 for st in statuses if st.get("outlived_worker"))
        if outlived:
            print(f"  {outlived} job(s) were running when a worker of the launcher died: each finished in its own "
                  "process and was not started again", flush=True)
        collated = True
        if self.collate:
            try:
                # failed jobs are named in the summary and the exit code: recorded as such in the table
                # (sim.runs.collate's skip_bad, written into it); without them, any bad run stops the collation
                runs = collate(sweep_dir, skip_bad=bool(failures), warn=False)
                left_out = len(runs.attrs.get("collate", {}).get("left_out", []))
                print(f"collated {len(runs)} runs: {sweep_dir / RUNS_FILE}, {sweep_dir / COLLATED_TIMESERIES_FILE}"
                      + (f" ({left_out} failed or missing recorded as such, skip_bad)" if left_out else ""),
                      flush=True)
            except Exception as exc:  # report; the runs themselves are safe on disk
                collated = False
                print(f"collation failed: {exc}\nrun: python -m sim.runs.collate --verify {sweep_dir}", flush=True)
        if failures:
            return EXIT_JOBS_FAILED
        return 0 if collated else EXIT_COLLATION_FAILED
