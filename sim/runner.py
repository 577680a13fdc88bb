"""Run one scenario and write its outputs atomically.

``run(cfg, out_dir)`` is the plain function behind the command line (and what tests call):
it validates the config, runs the model, and writes ``timeseries.parquet``, ``kpis.json`` and
``manifest.json`` into ``out_dir``.  Files are first written to a temporary folder beside
``out_dir`` and moved in only when all are complete, ``manifest.json`` last, so an interrupted
or failed run leaves no partial output.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from omegaconf import DictConfig

from sim.config import SimConfig, to_plain_dict, to_settings
from sim.indicators import compute_kpis, kpi_report
from sim.model import CommunityModel

OUTPUT_FILES = ("timeseries.parquet", "kpis.json", "manifest.json")
# Keys that change how a run is shown, not what it computes: left out of the config hash.
PRESENTATION_KEYS = ("progress", "lang", "point")  # `point` is hashed through the values it applied
PACKAGES = ("mesa", "numpy", "pandas", "pyarrow", "hydra-core", "omegaconf")


def config_hash(cfg: SimConfig) -> str:
    """SHA-256 of the resolved config (seed included, presentation keys excluded)."""
    data = {k: v for k, v in to_plain_dict(cfg).items() if k not in PRESENTATION_KEYS}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@functools.cache
def _versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for p in ("sim", *PACKAGES):
        try:
            out[p] = metadata.version(p if p != "sim" else "five-society-sim")
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


@functools.cache
def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def simulate(cfg: DictConfig | SimConfig, progress: bool | None = None):
    """Validate and run one community; returns (settings, model, timeseries DataFrame, kpi report)."""
    settings = to_settings(cfg)
    model = CommunityModel(settings)
    ts = model.run(progress=settings.progress if progress is None else progress)
    return settings, model, ts, kpi_report(compute_kpis(ts, model))


def _simulate_any(cfg: DictConfig | SimConfig, progress: bool | None):
    """Run a community or a district; returns (settings, {file name: table}, kpi report)."""
    settings = to_settings(cfg)
    show = settings.progress if progress is None else progress
    if settings.district is None:
        model = CommunityModel(settings)
        ts = model.run(progress=show)
        return settings, {"timeseries.parquet": ts}, kpi_report(compute_kpis(ts, model))
    from sim.district import DistrictModel, district_kpis

    model = DistrictModel(settings)
    per_community, district_ts = model.run(progress=show)
    return settings, {"timeseries.parquet": per_community, "district_timeseries.parquet": district_ts}, \
        district_kpis(district_ts, model)


def run(cfg: DictConfig | SimConfig, out_dir: str | os.PathLike, progress: bool | None = None,
        overrides: list[str] | None = None) -> dict:
    """Run one scenario (a community, or a district) and write its outputs into ``out_dir``.

    Returns the KPI report.  ``overrides`` (the command-line overrides that made this run, e.g. in
    a sweep) are recorded in the manifest.
    """
    start = time.perf_counter()
    settings, tables, report = _simulate_any(cfg, progress)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(".partial-*"):  # left by a run that was killed while writing
        shutil.rmtree(stale, ignore_errors=True)
    files = [*tables, "kpis.json", "manifest.json"]
    manifest = {
        "seed": settings.seed,
        "community": settings.community.name if settings.district is None else None,
        "district": settings.district.name if settings.district is not None else None,
        "policy": settings.policy.name,
        "config_hash": config_hash(settings),
        "overrides": list(overrides or []),
        "config": to_plain_dict(settings),
        "versions": dict(_versions()),
        "git_commit": _git_commit(),
        "files": files,
    }
    tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=out))
    try:
        for name, table in tables.items():
            table.to_parquet(tmp / name, index=False)
        (tmp / "kpis.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        manifest["wall_time_s"] = round(time.perf_counter() - start, 3)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
        for name in files:  # manifest last: its presence means the run is complete
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report
