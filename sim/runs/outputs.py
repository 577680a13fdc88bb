"""The run files: their names, the manifest, the job status, the sweep lock, and the one way to write a file safely.

Every run writes into its own folder ``timeseries.parquet`` (``district_timeseries.parquet`` too
for a district), ``kpis.json`` and, last, ``manifest.json`` (seed, full config, config hash,
package versions, git commit, wall time, and the size and SHA-256 of every output file).  A run
of a sweep also writes ``status.json`` (done, skipped or failed, with the error and its cause).
A sweep folder holds one such folder per run, ``sweep.json`` (its plan, written before any job starts:
how many jobs, and each job's name and, where known, its config hash: :func:`write_plan`), the
lock file ``.sweep.lock`` and, once collated (:mod:`sim.runs.collate`), ``runs.parquet`` and a long
``timeseries.parquet``.

* A run counts as complete only if its manifest names the same config (hash) and every output
  file still has the size and SHA-256 the manifest recorded (:func:`check_run`): a truncated or
  altered file makes the run incomplete, so a re-run of the sweep redoes it.
* Every file is written through :func:`write_atomic`: to a temporary file beside it, then renamed,
  so a reader never sees half a file.
* One sweep at a time writes into a sweep folder (:func:`lock_sweep`, an advisory file lock); only
  the holder removes temporary files that a killed run left behind.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from sim.runs.isolation import FORK_LOCK
from sim.settings.config import SimConfig, to_plain_dict

TIMESERIES_FILE = "timeseries.parquet"
DISTRICT_TIMESERIES_FILE = "district_timeseries.parquet"
KPIS_FILE = "kpis.json"
MANIFEST_FILE = "manifest.json"
STATUS_FILE = "status.json"
SWEEP_FILE = "sweep.json"
LOCK_FILE = ".sweep.lock"                # held by the one sweep writing into a sweep folder
RUNS_FILE = "runs.parquet"                # a sweep's collated runs: one row per run
COLLATED_TIMESERIES_FILE = "timeseries.parquet"  # a sweep's collated series: run, step, indicator, value
OUTPUT_FILES = (TIMESERIES_FILE, KPIS_FILE, MANIFEST_FILE)  # what a community's run writes, manifest last
DISTRICT_OUTPUT_FILES = (TIMESERIES_FILE, DISTRICT_TIMESERIES_FILE, KPIS_FILE, MANIFEST_FILE)  # a district's run

# Keys that change how a run is shown or scheduled, not what it computes: left out of the config hash.
UNHASHED_KEYS = ("progress", "lang", "overwrite", "processes", "sweep")  # they change no output
LOCK_POLL_S = 0.05  # how often a sweep waiting for a busy folder tries its lock again
PACKAGES = ("mesa", "numpy", "pandas", "pyarrow", "hydra-core", "omegaconf")


def write_atomic(path: str | os.PathLike, data: Any) -> dict:
    """Write ``data`` to ``path`` through a temporary file and a rename; return the file's record.

    ``bytes`` are written as they are, ``str`` as UTF-8 text, a DataFrame as Parquet (without its
    index), anything else as indented JSON (UTF-8, non-ASCII kept, a final newline).  The record,
    ``{"bytes": size, "sha256": hex digest}``, is what a manifest keeps of each output file.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        elif isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        elif isinstance(data, pd.DataFrame):
            data.to_parquet(tmp, index=False)
        else:
            tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        record = file_record(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return record


def file_record(path: str | os.PathLike) -> dict:
    """A file's size in bytes and SHA-256, as the manifest records each output file."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}


def read_json(path: str | os.PathLike) -> dict | None:
    """A JSON file's content, or None when it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------------------------------------
# the manifest
# ------------------------------------------------------------------------------------------------
def config_hash(settings: SimConfig) -> str:
    """SHA-256 of the resolved config (seed included; display and sweep keys left out): the skip key of a sweep."""
    return _hash(to_plain_dict(settings))


def _hash(plain_config: dict) -> str:
    data = {k: v for k, v in plain_config.items() if k not in UNHASHED_KEYS}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def config_hash_of_plain(plain_config: dict) -> str:
    """The config hash of a resolved config as a manifest records it (``manifest["config"]``)."""
    return _hash(plain_config)


@functools.cache
def versions() -> dict:
    """Python's and the main packages' versions (looked up once per process)."""
    import sim

    # the model's own version from the running source (an editable install's metadata keeps the version it was
    # installed with); the packages' from their metadata
    out = {"python": sys.version.split()[0], "sim": sim.__version__}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


@functools.cache
def git_commit() -> str | None:
    """The source tree's git commit, if it is a git checkout (looked up once per process)."""
    here = Path(__file__).resolve().parent
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def build_manifest(settings: SimConfig, overrides: list[str], files: list[str]) -> dict:
    """A run's manifest, without its wall time and output records (added when the outputs are written)."""
    plain = to_plain_dict(settings)
    return {
        "seed": settings.seed,
        "community": settings.community.name if settings.district is None else None,
        "district": settings.district.name if settings.district is not None else None,
        "policy": settings.policy.name,
        "config_hash": _hash(plain),
        "overrides": list(overrides),
        "config": plain,
        "versions": dict(versions()),
        "git_commit": git_commit(),
        "files": files,
    }


def read_manifest(out_dir: str | os.PathLike) -> dict | None:
    """The manifest of the run in ``out_dir``, or None when there is none (or it is unreadable)."""
    return read_json(Path(out_dir) / MANIFEST_FILE)


def check_run(out_dir: str | os.PathLike, digest: str | None = None, legacy_ok: bool = False) -> str | None:
    """Why ``out_dir`` does not hold a complete run (of the config with hash ``digest``, if given); None if it does.

    Complete means: a readable manifest (written last), the same config hash, a config in it that gives that
    hash (not edited since), and every output file the manifest lists with the size and SHA-256 it recorded.  A
    manifest without these records (written before they existed) cannot vouch for its files: the run counts as
    incomplete, unless
    ``legacy_ok`` (collating an old sweep), when its files need only be present.
    """
    out = Path(out_dir)
    if not (out / MANIFEST_FILE).exists():
        return "no manifest (the run did not finish)"
    manifest = read_manifest(out)
    if not isinstance(manifest, dict):
        return f"{MANIFEST_FILE} is unreadable"
    if digest is not None and manifest.get("config_hash") != digest:
        return "the manifest is of another config (config hash differs)"
    config = manifest.get("config")
    if isinstance(config, dict):  # (a manifest without its config is an old one: see below)
        try:
            consistent = _hash(config) == manifest.get("config_hash")
        except (TypeError, ValueError):
            consistent = False
        if not consistent:  # the config was edited after the run, its hash left as it was
            return f"{MANIFEST_FILE}'s config does not give its config hash (edited after the run)"
    records = manifest.get("outputs")
    if not isinstance(records, dict) or not records:
        missing = [f for f in manifest.get("files", []) if not (out / f).is_file()]
        if legacy_ok and not missing:
            return None
        return f"{missing[0]} is missing" if missing else \
            f"{MANIFEST_FILE} records no sizes and checksums of the output files (written by an older version)"
    for name, expected in records.items():
        path = out / name
        if not path.is_file():
            return f"{name} is missing"
        size = path.stat().st_size
        if size != expected.get("bytes"):
            return f"{name} has {size} bytes, the manifest recorded {expected.get('bytes')}"
        if file_record(path)["sha256"] != expected.get("sha256"):
            return f"{name} differs from the SHA-256 the manifest recorded"
    return None


def is_complete(out_dir: str | os.PathLike, digest: str) -> bool:
    """True when ``out_dir`` holds a complete, intact run of the config with hash ``digest`` (:func:`check_run`)."""
    return check_run(out_dir, digest) is None


# ------------------------------------------------------------------------------------------------
# a job's status
# ------------------------------------------------------------------------------------------------
def write_status(out_dir: str | os.PathLike, status: str, job: str, digest: str | None, seconds: float,
                 error: str | None = None, details: dict | None = None) -> None:
    """Record a job's outcome: ``done``, ``skipped`` or ``failed``, with the error and ``details``.

    ``details`` holds what is known of how the job ended: its ``cause`` (``exception``, ``signal``,
    ``exit``, ``time_limit``, ``memory_limit``), the ``signal`` number and name, the ``exit_code``,
    the job's ``peak_memory_mb`` and, for an exception, its ``traceback``.
    """
    data = {"status": status, "job": job, "config_hash": digest, "seconds": round(seconds, 3)}
    if error is not None:
        data["error"] = error
    data.update(details or {})
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    write_atomic(Path(out_dir) / STATUS_FILE, data)


def read_status(out_dir: str | os.PathLike) -> dict | None:
    """A job's recorded status, or None when it has none (or it is unreadable)."""
    return read_json(Path(out_dir) / STATUS_FILE)


# ------------------------------------------------------------------------------------------------
# a sweep's plan
# ------------------------------------------------------------------------------------------------
MAX_FOLDER_NAME_BYTES = 200  # file systems allow 255 bytes a name; a longer job name is shortened with a hash


def job_folder_name(dirname: str, num: int) -> str:
    """A sweep job's folder name: its overrides (``policy=micro_fund,seed=3``), or ``job<num>`` if it has none.

    A name longer than :data:`MAX_FOLDER_NAME_BYTES` bytes (a grid over several long keys) is cut there and
    ends with ``~`` and 12 hex digits of its SHA-256, so that every job of the sweep still has a folder of its
    own; its manifest and ``status.json`` keep the whole list of overrides.
    """
    name = dirname or f"job{num}"
    raw = name.encode("utf-8")
    if len(raw) <= MAX_FOLDER_NAME_BYTES:
        return name
    digest = hashlib.sha256(raw).hexdigest()[:12]
    head = raw[:MAX_FOLDER_NAME_BYTES - len(digest) - 1].decode("utf-8", errors="ignore")
    return f"{head}~{digest}"


BLOCKED_SUFFIX = "~blocked"  # the folder a job records its failure in when a file stands where its folder goes


def job_folder(dirname: str, num: int, sweep_dir: str | os.PathLike | None = None) -> str:
    """The folder of a sweep's job under ``sweep_dir``: :func:`job_folder_name`, or, if something other than a
    folder already stands there (a file), that name with :data:`BLOCKED_SUFFIX`, where the job records that it
    could not run (``sim.runs.cli``), so that one job's obstacle fails that job and not the sweep."""
    name = job_folder_name(dirname, num)
    if sweep_dir is not None:
        target = Path(sweep_dir) / name
        if os.path.lexists(target) and not target.is_dir():
            return name + BLOCKED_SUFFIX
    return name

def write_plan(sweep_dir: str | os.PathLike, kind: str, runs: dict[str, str | None] | None, jobs: int | None,
               **extra: Any) -> dict:
    """Record a sweep's or a study's plan in ``sweep.json`` before any of its jobs starts; return it.

    ``kind``: ``sweep`` (``python -m sim -m``) or ``study`` (:func:`sim.runs.runner.run_many`); ``runs``: each
    job's folder name and its config hash (None where it is not known before the job runs), or None when
    the names are not known (then only the number of ``jobs`` is checked).  The runs of a sweep or study join
    those of earlier ones into the same folder (sweeps appended into one folder are collated and compared
    together: a one-cent sweep added to a policy sweep); a plan without names replaces the last.
    """
    path = Path(sweep_dir) / SWEEP_FILE
    attempt = len(runs) if runs is not None else jobs  # this sweep's or study's own jobs (its summary counts them)
    if runs is not None:
        earlier = read_json(path)
        if isinstance(earlier, dict) and isinstance(earlier.get("runs"), dict):
            runs = {**earlier["runs"], **runs}
    plan = {"kind": kind, "jobs": len(runs) if runs is not None else jobs, "attempt_jobs": attempt,
            "started": time.strftime("%Y-%m-%d %H:%M:%S"), **extra}
    if runs is not None:
        plan["runs"] = runs
    write_atomic(path, plan)
    return plan


# ------------------------------------------------------------------------------------------------
# one sweep per folder
# ------------------------------------------------------------------------------------------------
class SweepBusy(RuntimeError):
    """Another sweep is writing into the folder, and this one was asked not to wait."""


class SweepLock:
    """A sweep folder's file lock, held: :meth:`release` lets it go (never while this process forks a job)."""

    def __init__(self, lock: FileLock) -> None:
        self._lock = lock

    @property
    def is_locked(self) -> bool:
        return self._lock.is_locked

    def release(self) -> None:
        with FORK_LOCK:
            self._lock.release()


def lock_sweep(sweep_dir: str | os.PathLike, wait: bool = True) -> SweepLock:
    """Take the sweep folder's lock (``.sweep.lock``) and clear what killed runs left; return the held lock.

    If another sweep holds it: with ``wait`` say so on stderr and wait until it finishes, otherwise
    raise :class:`SweepBusy`.  Once held, removes the temporary files (``.*.tmp``) that killed runs
    left in the folder and its run folders: only the holder may, since another sweep's temporary
    files are in use while it runs.  Release with ``.release()`` (the lock is also released when the
    process ends, however it ends).  Each attempt to take it, and its release, happen under
    :data:`sim.runs.isolation.FORK_LOCK`, so that another thread of this process may fork job processes meanwhile.
    """
    folder = Path(sweep_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with FORK_LOCK:
        lock = FileLock(folder / LOCK_FILE)
    said = False
    while True:
        try:
            with FORK_LOCK:
                lock.acquire(timeout=0)
            break
        except Timeout:
            message = f"another sweep is writing into {folder}"
            if not wait:
                raise SweepBusy(f"{message}; not started (not asked to wait: sweep.wait=false)") from None
            if not said:
                print(f"{message}; waiting for it to finish", file=sys.stderr, flush=True)
                said = True
            time.sleep(LOCK_POLL_S)
    for stale in (*folder.glob(".*.tmp"), *folder.glob("*/.*.tmp")):
        stale.unlink(missing_ok=True)
    return SweepLock(lock)
