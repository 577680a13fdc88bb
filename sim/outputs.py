"""The run files: their names, the manifest, the job status, and the one way to write a file safely.

Every run writes into its own folder ``timeseries.parquet`` (``district_timeseries.parquet`` too
for a district), ``kpis.json`` and, last, ``manifest.json`` (seed, full config, config hash,
package versions, git commit, wall time).  A run of a sweep also writes ``status.json`` (done,
skipped or failed, with the error and traceback of a failure).  A sweep folder holds one such
folder per run, ``sweep.json`` (how many jobs were launched) and, once collated
(:mod:`sim.collate`), ``runs.parquet`` and a long ``timeseries.parquet``.

Every file is written through :func:`write_atomic`: to a temporary file beside it, then renamed,
so a reader never sees half a file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import sys
import traceback
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import SimConfig, to_plain_dict

TIMESERIES_FILE = "timeseries.parquet"
DISTRICT_TIMESERIES_FILE = "district_timeseries.parquet"
KPIS_FILE = "kpis.json"
MANIFEST_FILE = "manifest.json"
STATUS_FILE = "status.json"
SWEEP_FILE = "sweep.json"
RUNS_FILE = "runs.parquet"                # a sweep's collated runs: one row per run
COLLATED_TIMESERIES_FILE = "timeseries.parquet"  # a sweep's collated series: run, step, indicator, value
OUTPUT_FILES = (TIMESERIES_FILE, KPIS_FILE, MANIFEST_FILE)  # what a community's run writes, manifest last
DISTRICT_OUTPUT_FILES = (TIMESERIES_FILE, DISTRICT_TIMESERIES_FILE, KPIS_FILE, MANIFEST_FILE)  # a district's run

# Keys that change how a run is shown, not what it computes: left out of the config hash.
PRESENTATION_KEYS = ("progress", "lang")
PACKAGES = ("mesa", "numpy", "pandas", "pyarrow", "hydra-core", "omegaconf")


def write_atomic(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    ``bytes`` are written as they are, ``str`` as UTF-8 text, a DataFrame as Parquet (without its
    index), anything else as indented JSON (UTF-8, non-ASCII kept, a final newline).
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
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
    """SHA-256 of the resolved config (seed included, presentation keys left out): the skip key of a sweep."""
    return _hash(to_plain_dict(settings))


def _hash(plain_config: dict) -> str:
    data = {k: v for k, v in plain_config.items() if k not in PRESENTATION_KEYS}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@functools.cache
def versions() -> dict:
    """Python's and the main packages' versions (looked up once per process)."""
    out = {"python": sys.version.split()[0]}
    for p in ("sim", *PACKAGES):
        try:
            out[p] = metadata.version(p if p != "sim" else "five-society-sim")
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
    """A run's manifest, without its wall time (added when the outputs are written)."""
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


def is_complete(out_dir: str | os.PathLike, digest: str) -> bool:
    """True when ``out_dir`` holds a complete run of the config with hash ``digest`` (manifest written last)."""
    manifest = read_manifest(out_dir)
    if manifest is None:
        return False
    return manifest.get("config_hash") == digest and all((Path(out_dir) / f).is_file() for f in manifest["files"])


# ------------------------------------------------------------------------------------------------
# a job's status
# ------------------------------------------------------------------------------------------------
def write_status(out_dir: str | os.PathLike, status: str, job: str, digest: str | None, seconds: float,
                 error: BaseException | None = None) -> None:
    """Record a job's outcome (``done``, ``skipped`` or ``failed``, with the error and traceback)."""
    data = {"status": status, "job": job, "config_hash": digest, "seconds": round(seconds, 3)}
    if error is not None:
        data["error"] = f"{type(error).__name__}: {error}"
        data["traceback"] = "".join(traceback.format_exception(error))
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    write_atomic(Path(out_dir) / STATUS_FILE, data)


def read_status(out_dir: str | os.PathLike) -> dict | None:
    """A job's recorded status, or None when it has none (or it is unreadable)."""
    return read_json(Path(out_dir) / STATUS_FILE)
