"""Run one scenario, one job of a sweep, or many runs at once.

* :func:`run` is the plain function behind the command line (and what tests call): it validates the
  config, runs the model (a community or a district) and writes the run files (:mod:`sim.runs.outputs`)
  into ``out_dir``, ``manifest.json`` last, so an interrupted or failed run never looks complete.
* :func:`run_job` is the contract of one job of a sweep, shared by ``python -m sim -m`` (Hydra
  multirun) and :func:`run_many`: a job whose folder already holds a complete, intact run of the
  same config (same config hash, every output file as the manifest recorded it) is skipped;
  otherwise the run goes on in a child process of its own (:mod:`sim.runs.isolation`), so that
  whatever ends it (an error, a signal, the out-of-memory killer, a limit of ``sweep.*``) is
  recorded in its ``status.json`` and the worker goes on with the other jobs.  It never raises.
* :func:`run_many` runs a list of validated settings, each into its own folder, under the same
  contract: it waits and records, and the runs go on in job processes forked from it, a few at a
  time, each running job after job until a job ends it (:func:`sim.runs.isolation.run_jobs`); the runs of
  one community and seed under several policies go to one job process, which warms the community once
  for all of them (:class:`WarmedModels`; outputs byte-identical to separate runs); then it
  collates the folder (:mod:`sim.runs.collate`) and returns the runs table.  It holds the folder's lock
  while it runs (one sweep per folder).  The studies (calibration, sensitivity, replications), the
  dashboard's replicates and the benchmarks use it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from sim.model.community_model import CommunityModel, warmup_key
from sim.model.indicators import compute_kpis, kpi_report
from sim.runs.collate import CollateError, collate
from sim.runs.isolation import CAN_FORK, Ended, Job, end_with, run_isolated, run_jobs, run_kept
from sim.runs.outputs import (
    DISTRICT_OUTPUT_FILES,
    DISTRICT_TIMESERIES_FILE,
    KPIS_FILE,
    MANIFEST_FILE,
    OUTPUT_FILES,
    RUNS_FILE,
    STATUS_FILE,
    SWEEP_FILE,
    TIMESERIES_FILE,
    SweepBusy,
    build_manifest,
    config_hash,
    is_complete,
    lock_sweep,
    read_json,
    read_status,
    write_atomic,
    write_plan,
    write_status,
)
from sim.settings.config import SimConfig, to_settings


class WarmedModels:
    """The warmed communities of this process, by :func:`sim.model.community_model.warmup_key` (the last ``size`` of
    them).

    A job process of :func:`run_many` runs job after job; the runs of one community and seed under several
    policies share one warm-up (the warm-up runs under the baseline levers whatever the policy), so the
    process warms it once and gives each run an exact copy (:meth:`CommunityModel.warmed_copy`).
    """

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self._models: dict[str, CommunityModel] = {}
        self.warmed = 0   # warm-ups run
        self.reused = 0   # warm-ups copied

    def model(self, settings: SimConfig) -> CommunityModel:
        """A model of ``settings`` at the end of its warm-up: copied from this process's warm-up of the same
        community and seed if it has one, warmed now (and kept) otherwise."""
        if settings.warmup_weeks == 0:
            return CommunityModel(settings)
        key = warmup_key(settings)
        warmed = self._models.pop(key, None)
        if warmed is None:
            warmed = CommunityModel(settings)
            warmed.warm_up()
            self.warmed += 1
        else:
            self.reused += 1
        self._models[key] = warmed  # the most recent last
        while len(self._models) > self.size:
            del self._models[next(iter(self._models))]
        return warmed.warmed_copy(settings)


WARMED = WarmedModels()  # this process's; used by the runs of run_many (share_warmup=True)


def _simulate(settings: SimConfig, progress: bool, share_warmup: bool = False) -> tuple[dict[str, pd.DataFrame], dict]:
    """Run a community or a district; returns ({file name: table}, kpi report).

    ``share_warmup``: take a community's warmed state from this process's :data:`WARMED` (the outputs are
    the same byte for byte; tests/test_run_many_isolation.py checks it)."""
    if settings.district is None:
        model = WARMED.model(settings) if share_warmup else CommunityModel(settings)
        ts = model.run(progress=progress)
        return {TIMESERIES_FILE: ts}, kpi_report(compute_kpis(ts, model), len(ts),
                                                 settings.behaviour.longest_wait_weeks())
    from sim.model.district import DistrictModel, district_kpis

    model = DistrictModel(settings)
    per_community, district_ts = model.run(progress=progress)
    return {TIMESERIES_FILE: per_community, DISTRICT_TIMESERIES_FILE: district_ts}, district_kpis(district_ts, model)


def run(cfg: DictConfig | SimConfig, out_dir: str | os.PathLike, progress: bool | None = None,
        overrides: list[str] | None = None, share_warmup: bool = False) -> dict:
    """Run one scenario (a community, or a district) and write its outputs into ``out_dir``.

    Returns the KPI report.  ``overrides`` (the overrides that made this run, e.g. in a sweep) are
    recorded in the manifest.  ``share_warmup``: reuse this process's warm-up of the same community and
    seed (:class:`WarmedModels`; what :func:`run_many`'s job processes do).
    """
    start = time.perf_counter()
    settings = to_settings(cfg)
    tables, report = _simulate(settings, settings.progress if progress is None else progress, share_warmup)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(".*.tmp"):  # left by a run that was killed while writing
        stale.unlink(missing_ok=True)
    files = list(OUTPUT_FILES if settings.district is None else DISTRICT_OUTPUT_FILES)
    manifest = build_manifest(settings, list(overrides or []), files)
    (out / MANIFEST_FILE).unlink(missing_ok=True)  # an earlier run's manifest must not vouch for new files
    records = {name: write_atomic(out / name, table) for name, table in tables.items()}
    records[KPIS_FILE] = write_atomic(out / KPIS_FILE, report)
    manifest["outputs"] = records  # size and SHA-256 of each file: a job is complete only if they match
    manifest["wall_time_s"] = round(time.perf_counter() - start, 3)
    write_atomic(out / MANIFEST_FILE, manifest)  # last: its presence means the run is complete
    return report


@dataclass(frozen=True)
class JobOutcome:
    """What became of one job: ``done``, ``skipped`` (complete from an earlier attempt) or ``failed``.

    ``details`` is what its ``status.json`` records of how it ended (cause, signal, peak memory, …).
    """

    name: str
    status: str
    seconds: float
    error: str | None = None
    report: dict | None = None
    details: dict | None = None
    # a job of a sweep launched again after a launcher worker died, whose outcome this sweep had recorded already:
    # "outlived" (its run outlived the worker that waited for it), "earlier" (it had ended before)
    recorded: str | None = None


# Set by the sweep's main process (sim.runs.sweep.SweepCallback) for its jobs: its process id, and an id of this
# attempt at the sweep.  With them, a job's run goes on in a keeper process that outlives the launcher's worker
# (:func:`sim.runs.isolation.run_kept`).
OWNER_ENV = "SIM_SWEEP_OWNER"
ATTEMPT_ENV = "SIM_SWEEP_ATTEMPT"


def run_job(cfg: DictConfig | SimConfig, out_dir: str | os.PathLike, name: str,
            overrides: Sequence[str] = ()) -> JobOutcome:
    """One job of a sweep: skip it if complete, otherwise run it in a child process; never raise.

    The child runs :func:`run` under the limits of the config's ``sweep`` section
    (``job_timeout_s``, ``job_memory_gb``); its end, whatever it is, is recorded in ``status.json``.
    """
    start = time.perf_counter()
    owner, attempt = os.environ.get(OWNER_ENV, ""), os.environ.get(ATTEMPT_ENV) or None
    if CAN_FORK and owner.isdigit() and attempt is not None:
        _end_with_sweep(int(owner))
        return _run_kept_job(cfg, out_dir, name, overrides, start, int(owner), attempt)
    job = _prepare(cfg, out_dir, name, overrides, start)
    if isinstance(job, JobOutcome):
        return job
    return _record(job, run_isolated(run, job.args, job.timeout_s, job.memory_gb))


_WATCHED_OWNER: int | None = None  # the sweep's main process this (worker) process ends with, once watched


def _end_with_sweep(owner: int) -> None:
    """A launcher worker running a job of the sweep whose main process is ``owner`` ends when that process ends
    (loky's idle workers otherwise outlive a main process killed with SIGKILL); nothing for the main process itself."""
    global _WATCHED_OWNER
    if owner not in (os.getpid(), _WATCHED_OWNER):
        _WATCHED_OWNER = owner
        end_with(owner)


def _run_kept_job(cfg: DictConfig | SimConfig, out_dir: str | os.PathLike, name: str, overrides: Sequence[str],
                  start: float, owner: int, attempt: str) -> JobOutcome:
    """A job of a sweep whose run outlives the worker that waits for it: a dead worker costs at most its job.

    The job's folder is locked (``flock`` on the folder itself) while its run goes on, in a keeper process
    (:func:`sim.runs.isolation.run_kept`) that records the outcome itself.  When a launcher's worker dies, loky
    stops every worker of the pool and the sweeper launches the batch again (hydra_plugins/five_society_sim):
    this job, launched again, finds its folder locked by the keeper still running it and waits for it, or
    finds the outcome recorded in this attempt (``status.json``'s ``attempt``) and returns it; only a run whose
    keeper died as well (killed with it) is started again.
    """
    import fcntl

    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        lock = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:  # an unwritable folder, a full disk: recorded as failed where possible
        return _failed(out_dir, name, None, start, exc, overrides)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # the keeper of this job's run, from before its worker died, still runs it
            fcntl.flock(lock, fcntl.LOCK_EX)
        earlier = read_status(out_dir)
        if isinstance(earlier, dict) and earlier.get("attempt") == attempt and earlier.get("status") in (
                "done", "skipped", "failed"):
            return _recorded_outcome(name, earlier, Path(out_dir))
        job = _prepare(cfg, out_dir, name, overrides, start, attempt=attempt)
        if isinstance(job, JobOutcome):
            return job
        try:
            ended = run_kept(lambda: _record(job, run_isolated(run, job.args, job.timeout_s, job.memory_gb)), owner,
                             lambda outcome: _mark_status(out_dir, outlived_worker=True))
        except (OSError, RuntimeError) as exc:  # no process could be forked (out of memory, too many processes)
            return _failed(out_dir, name, job.digest, start, exc, overrides, attempt)
    finally:
        os.close(lock)  # the keeper's copy keeps the folder locked until its run has ended
    if ended.error is None and isinstance(ended.value, JobOutcome):
        return ended.value
    return _record(job, ended)  # the keeper died (or failed) without recording: recorded here


def _recorded_outcome(name: str, status: dict, out_dir: Path) -> JobOutcome:
    """The outcome this attempt at the sweep had recorded for a job launched again after a launcher worker died."""
    report = read_json(out_dir / KPIS_FILE) if status["status"] in ("done", "skipped") else None
    details = {k: v for k, v in status.items() if k not in ("status", "job", "seconds", "error")}
    return JobOutcome(str(status.get("job", name)), status["status"], float(status.get("seconds") or 0.0),
                      error=status.get("error"), report=report, details=details,
                      recorded="outlived" if status.get("outlived_worker") else "earlier")


def _mark_status(out_dir: str | os.PathLike, **marks: Any) -> None:
    """Add ``marks`` to a job's recorded status (nothing if it has none or it cannot be written)."""
    status = read_status(out_dir)
    if isinstance(status, dict):
        with contextlib.suppress(OSError):
            write_atomic(Path(out_dir) / STATUS_FILE, {**status, **marks})


@dataclass(frozen=True)
class _Pending:
    """A job that is to run: its folder, name, config hash, when it was taken up, and what its child gets."""

    out_dir: str | os.PathLike
    name: str
    digest: str
    start: float
    args: tuple
    timeout_s: float | None
    memory_gb: float | None
    group: str | None = None  # runs of one group share a warm-up: run_many gives them to one job process
    attempt: str | None = None  # the sweep attempt it belongs to (recorded in its status.json), if any


def _prepare(cfg: DictConfig | SimConfig, out_dir: str | os.PathLike, name: str, overrides: Sequence[str],
             start: float, share_warmup: bool = False, attempt: str | None = None) -> _Pending | JobOutcome:
    """Check a job's config and whether its folder already holds it: the outcome if it need not run, else the job.

    A config that fails its checks is recorded as failed, a complete run of the same config as skipped.
    ``share_warmup``: the job's run may reuse its job process's warm-up (:class:`WarmedModels`).
    """
    digest = None
    try:
        settings = to_settings(cfg)
        digest = config_hash(settings)
        if is_complete(out_dir, digest):
            seconds = time.perf_counter() - start
            write_status(out_dir, "skipped", name, digest, seconds,
                         details={"overrides": list(overrides), **_attempt(attempt)})
            return JobOutcome(name, "skipped", seconds)
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    except Exception as exc:  # a config that fails its checks, an unwritable folder: record it, go on
        return _failed(out_dir, name, digest, start, exc, overrides, attempt)
    group = warmup_key(settings) if share_warmup and settings.district is None and settings.warmup_weeks else None
    return _Pending(out_dir, name, digest, start, (settings, out_dir, False, list(overrides), share_warmup),
                    settings.sweep.job_timeout_s or None, settings.sweep.job_memory_gb or None, group, attempt)


def _attempt(attempt: str | None) -> dict:
    return {} if attempt is None else {"attempt": attempt}


def _record(job: _Pending, ended: Ended) -> JobOutcome:
    """Record in ``status.json`` how a job's child ended (removing what a dead one left half-written)."""
    try:
        if ended.died:  # its temporary files are orphans; this sweep is their only writer
            for stale in Path(job.out_dir).glob(".*.tmp"):
                stale.unlink(missing_ok=True)
        status = "failed" if ended.error is not None else "done"
        seconds = time.perf_counter() - job.start
        write_status(job.out_dir, status, job.name, job.digest, seconds, ended.error,
                     {"overrides": list(job.args[3]), **(ended.details or {}), **_attempt(job.attempt)})
        return JobOutcome(job.name, status, seconds, error=ended.error, report=ended.value, details=ended.details)
    except Exception as exc:  # an unwritable folder, a full disk
        return _failed(job.out_dir, job.name, job.digest, job.start, exc, job.args[3], job.attempt)


def _failed(out_dir: str | os.PathLike, name: str, digest: str | None, start: float, exc: Exception,
            overrides: Sequence[str] = (), attempt: str | None = None) -> JobOutcome:
    """Record a job that failed before or after its child ran (a bad config, an unwritable folder)."""
    seconds = time.perf_counter() - start
    error = f"{type(exc).__name__}: {exc}"
    details = {"cause": "exception", "traceback": "".join(traceback.format_exception(exc))}
    with contextlib.suppress(OSError):  # nowhere to record it: the summary still names the job
        write_status(out_dir, "failed", name, digest, seconds, error,
                     {"overrides": list(overrides), **details, **_attempt(attempt)})
    return JobOutcome(name, "failed", seconds, error=error, details=details)


def _run_jobs(jobs: Iterable[tuple[SimConfig, Path, str, list[str]]], workers: int) -> Iterator[JobOutcome]:
    """Each job's outcome, as :func:`run_job` would give it, with up to ``workers`` job processes forked from this one.

    Each job process runs job after job (:func:`sim.runs.isolation.run_jobs`); one that a job ends (an
    error, a signal, ``os._exit``, a limit) is replaced for the next job.
    """
    settled: list[JobOutcome] = []  # jobs that needed no child (skipped, or a config that fails its checks)
    pending: dict[str, _Pending] = {}

    def to_run() -> Iterator[Job]:
        for cfg, out_dir, name, overrides in jobs:
            job = _prepare(cfg, out_dir, name, overrides, time.perf_counter(), share_warmup=True)
            if isinstance(job, JobOutcome):
                settled.append(job)
                continue
            pending[name] = job
            yield Job(name, job.args, job.timeout_s, job.memory_gb, job.group)

    for name, ended in run_jobs(run, to_run(), workers):
        yield from settled
        settled.clear()
        yield _record(pending.pop(name), ended)
    yield from settled


def _warmups_together(jobs: list[tuple]) -> list[tuple]:
    """The jobs reordered so that runs sharing a warm-up (:func:`sim.model.community_model.warmup_key`: the same
    community and
    seed under other policies) come one after another, in the order each warm-up first appears."""
    first: dict = {}
    order = []
    for i, job in enumerate(jobs):
        settings = job[0]
        shareable = isinstance(settings, SimConfig) and settings.district is None and settings.warmup_weeks > 0
        order.append((first.setdefault(warmup_key(settings) if shareable else i, i), i))
    return [jobs[i] for _, i in sorted(order)]


def summary_text(counts: Counter | dict, wall: float, folder: str | os.PathLike,
                 failures: Sequence[tuple[str, str]] = ()) -> str:
    """The end-of-sweep summary: done, skipped, failed, wall time, then each failed job with its error."""
    lines = [f"sweep finished: {counts.get('done', 0)} done, {counts.get('skipped', 0)} skipped, "
             f"{counts.get('failed', 0)} failed, wall time {wall:.1f} s  ({folder})"]
    lines += [f"  failed: {job}: {error}" for job, error in sorted(failures)]
    return "\n".join(lines)


def run_many(settings: Sequence[SimConfig], out_dir: str | os.PathLike, n_jobs: int | None = None, *,
             names: Sequence[str] | None = None, overrides: Sequence[Sequence[str]] | None = None,
             progress: bool = True, wait: bool = True) -> pd.DataFrame:
    """Run every one of ``settings`` into ``out_dir/<name>`` in job processes; return the collated runs.

    ``overrides[i]`` lists the ``key=value`` strings that describe run i: they are recorded in its
    manifest and become columns of ``runs.parquet``.  ``names[i]`` is its folder; by default its
    overrides joined by "," (``policy=baseline,seed=3``), or ``run00007`` if it has none.  Each run
    is a job as :func:`run_job` defines it (complete runs of the same config are skipped, failures
    and deaths recorded in its ``status.json``, the others go on; ``sweep.job_timeout_s`` and
    ``sweep.job_memory_gb`` of each run's settings limit it).  ``n_jobs``: runs at once (default:
    all cores), each in a job process forked from this one that runs job after job and is replaced
    when a job ends it; where there is no fork (Windows), joblib's worker processes, each job in
    its worker (1: in this process).  With ``progress`` a progress bar and the summary are shown.
    While it runs it holds the folder's lock: if another sweep holds it, it waits (``wait``) or
    raises :class:`sim.runs.outputs.SweepBusy`.

    Before any run starts it records the study's plan in ``out_dir/sweep.json`` (each run's name and config
    hash, joined to those of earlier studies into the folder), so that ``python -m sim.runs.collate --verify``
    tells a study cut short from a complete one.  Collates the whole of ``out_dir`` (earlier runs in it
    included; failed, damaged and missing runs recorded as such: :func:`sim.runs.collate.collate` with
    ``skip_bad``) and returns the runs table.  It never raises for a run's failure: a run that could not
    be written (a full disk) is a failed row, and if the folder, the plan or the tables cannot be written,
    the table is returned all the same, ``attrs["collate"]["not_written"]`` saying why.
    """
    from tqdm.auto import tqdm

    settings = list(settings)
    overrides = [list(o) for o in overrides] if overrides is not None else [[] for _ in settings]
    if len(overrides) != len(settings):
        raise ValueError(f"{len(overrides)} lists of overrides for {len(settings)} runs")
    names = list(names) if names is not None else [",".join(o) or f"run{i:05d}" for i, o in enumerate(overrides)]
    if len(names) != len(settings) or len(set(names)) != len(names):
        raise ValueError("run_many needs one distinct name per run")
    bad = [n for n in names if not n or "/" in n or os.sep in n or n.startswith(".")]
    if bad:
        raise ValueError(f"run names must be plain folder names: {bad[:3]}")
    out = Path(out_dir)
    start = time.perf_counter()
    try:
        lock = lock_sweep(out, wait=wait)
    except SweepBusy:
        raise
    except OSError as exc:  # no folder, a full disk: no run can start, none is recorded
        return _unrecorded(names, overrides, f"the study folder {out} cannot be written ({exc})", progress, start, out)
    try:
        try:  # the plan first, so that a study cut short is never taken for a complete one (sim.runs.collate)
            write_plan(out, "study", {n: _planned_hash(s) for s, n in zip(settings, names, strict=True)}, len(names))
        except OSError as exc:
            return _unrecorded(names, overrides, f"the study's plan could not be written into {out / SWEEP_FILE} "
                                                 f"({exc}); no run was started", progress, start, out)
        counts: Counter = Counter()
        failures = []
        outcomes_seen: list[JobOutcome] = []
        jobs = _warmups_together([(s, out / n, n, o) for s, n, o in zip(settings, names, overrides, strict=True)])
        workers = n_jobs or os.cpu_count() or 1
        if CAN_FORK:
            outcomes = _run_jobs(jobs, workers)
        else:  # no fork (Windows): joblib's worker processes, each job in its worker (errors isolated, not deaths)
            from joblib import Parallel, delayed

            outcomes = Parallel(n_jobs=workers, return_as="generator_unordered")(delayed(run_job)(*j) for j in jobs)
        with tqdm(total=len(settings), unit="run", disable=not progress, desc=out.name) as bar, \
                contextlib.closing(outcomes):  # leaving early stops the job processes at once
            for outcome in outcomes:
                outcomes_seen.append(outcome)
                counts[outcome.status] += 1
                if outcome.error is not None:
                    failures.append((outcome.name, outcome.error))
                bar.update()
                bar.set_postfix(done=counts["done"], skipped=counts["skipped"], failed=counts["failed"],
                                refresh=False)
        if progress:
            print(summary_text(counts, time.perf_counter() - start, out, failures), flush=True)
        return _collated(out, outcomes_seen, progress)
    finally:
        lock.release()


def _planned_hash(settings: SimConfig) -> str | None:
    """A run's config hash for the plan, or None for settings that fail their checks (the job records why)."""
    try:
        return config_hash(to_settings(settings))
    except Exception:
        return None


def _collated(out: Path, outcomes: list[JobOutcome], warn: bool) -> pd.DataFrame:
    """The study folder collated (failed and damaged runs recorded as such, :func:`sim.runs.collate.collate`'s
    ``skip_bad``); if the tables cannot be written (a full disk), the table all the same, saying so in its
    ``attrs["collate"]["not_written"]``; if the folder cannot be read at all, the outcomes of this call."""
    try:
        return collate(out, skip_bad=True, warn=warn)
    except OSError as exc:
        try:
            runs = collate(out, skip_bad=True, write=False, warn=warn)
        except (OSError, CollateError):
            runs = _outcome_table(outcomes)
        runs.attrs.setdefault("collate", {})["not_written"] = f"{RUNS_FILE} could not be written: {exc}"
        if warn:
            print(f"warning: the runs table could not be written into {out}: {exc}", file=sys.stderr, flush=True)
        return runs
    except CollateError as exc:
        runs = _outcome_table(outcomes)
        runs.attrs["collate"] = {"not_written": str(exc)}
        return runs


def _outcome_table(outcomes: Sequence[JobOutcome]) -> pd.DataFrame:
    """The runs table as far as the outcomes tell it (run folder, status, error): when nothing could be collated."""
    return pd.DataFrame([{"run": i, "run_dir": o.name, "status": o.status, "error": o.error}
                         for i, o in enumerate(outcomes)], columns=["run", "run_dir", "status", "error"])


def _unrecorded(names: Sequence[str], overrides: Sequence[Sequence[str]], error: str, progress: bool, start: float,
                out: Path) -> pd.DataFrame:
    """Every run failed with ``error`` before it could start or be recorded (the folder or its plan cannot be
    written): the table of them, nothing raised."""
    outcomes = [JobOutcome(n, "failed", 0.0, error=f"OSError: {error}") for n in names]
    if progress:
        print(summary_text(Counter(failed=len(names)), time.perf_counter() - start, out,
                           [(o.name, o.error) for o in outcomes]), flush=True)
    runs = _outcome_table(outcomes)
    runs["overrides"] = [list(o) for o in overrides]
    runs.attrs["collate"] = {"not_written": error}
    return runs
