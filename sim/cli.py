"""Command line: ``python -m sim [group=option ...] [key=value ...]`` (Hydra).

``python -m sim --help`` lists the config groups (community presets, policies) and every
parameter with its unit and range.  Bad values exit with status 2 and a message naming the key
and the allowed range; nothing is written.  ``python -m sim -m ...`` runs a sweep (Hydra
multirun, joblib launcher by default): see :mod:`sim.sweep`.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.config import ConfigError, parameter_table, register_configs, to_settings
from sim.indicators import format_table
from sim.runner import config_hash, run
from sim.sweep import is_complete, progress_line, record_status

log = logging.getLogger("sim")

register_configs()
if not OmegaConf.has_resolver("sim_parameter_table"):
    OmegaConf.register_new_resolver("sim_parameter_table", lambda: parameter_table(markdown=False))
if not OmegaConf.has_resolver("sim_job_dir"):
    # a sweep job's folder: its overrides (policy=micro_fund,seed=3), or its number if it has none
    OmegaConf.register_new_resolver("sim_job_dir", lambda dirname, num: dirname or f"job{num}")


def _remove_if_empty(folder: Path) -> None:
    """Remove the run folder Hydra made (and its empty parents) after a failed start."""
    stop = Path.cwd().resolve()
    folder = folder.resolve()
    while folder != stop and stop in folder.parents and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _single_run(cfg: DictConfig, out_dir: Path) -> float | None:
    try:
        report = run(cfg, out_dir, progress=bool(cfg.progress))
    except ConfigError as exc:
        _remove_if_empty(out_dir)
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(format_table(report, lang=cfg.lang))
    files = "timeseries.parquet, kpis.json, manifest.json" if cfg.get("district") is None else \
        "timeseries.parquet (per community), district_timeseries.parquet, kpis.json, manifest.json"
    print(f"\noutputs: {out_dir}/  ({files})")
    return report["targets"]["satisfaction_mean"]["value"]


def _sweep_job(cfg: DictConfig, out_dir: Path, hc) -> float | None:
    """One job of a sweep: skip if already complete, never raise (the error is recorded)."""
    start = time.perf_counter()
    name = hc.job.override_dirname or f"job{hc.job.num}"
    sweep_dir = Path(hc.sweep.dir)
    digest = None
    try:
        settings = to_settings(cfg)
        digest = config_hash(settings)
        if is_complete(out_dir, digest):
            status, value = "skipped", None
        else:
            report = run(settings, out_dir, progress=False, overrides=list(hc.overrides.task))
            status, value = "done", report["targets"]["satisfaction_mean"]["value"]
        record_status(out_dir, status, name, digest, time.perf_counter() - start)
    except Exception as exc:  # fault isolation: record, report, let the other jobs go on
        record_status(out_dir, "failed", name, digest, time.perf_counter() - start, exc)
        print(progress_line(sweep_dir, name, "failed", time.perf_counter() - start) + f": {exc}", flush=True)
        return None
    print(progress_line(sweep_dir, name, status, time.perf_counter() - start), flush=True)
    return value


@hydra.main(config_path="pkg://sim.configs", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    if hc.mode == RunMode.RUN:
        return _single_run(cfg, out_dir)
    return _sweep_job(cfg, out_dir, hc)
