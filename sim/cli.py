"""Command line: ``python -m sim [group=option ...] [key=value ...]`` (Hydra).

``python -m sim --help`` lists the config groups (community presets, policies) and every
parameter with its unit and range.  Bad values exit with status 2 and a message naming the key
and the allowed range; nothing is written.  ``python -m sim -m ...`` runs a sweep (Hydra
multirun, joblib launcher by default): see :mod:`sim.sweep`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.config import ConfigError, parameter_table, register_configs
from sim.kpi_table import format_table
from sim.outputs import DISTRICT_OUTPUT_FILES, OUTPUT_FILES
from sim.runner import run, run_job
from sim.sweep import progress_line

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
    files = ", ".join(OUTPUT_FILES) if cfg.get("district") is None else \
        ", ".join(DISTRICT_OUTPUT_FILES).replace(",", " (per community),", 1)
    print(f"\noutputs: {out_dir}/  ({files})")
    return report["targets"]["satisfaction_mean"]["value"]


def _sweep_job(cfg: DictConfig, out_dir: Path, hc) -> float | None:
    """One job of a sweep (:func:`sim.runner.run_job`: skip if complete, record a failure, never raise)."""
    name = hc.job.override_dirname or f"job{hc.job.num}"
    outcome = run_job(cfg, out_dir, name, list(hc.overrides.task))
    line = progress_line(Path(hc.sweep.dir), name, outcome.status, outcome.seconds)
    print(line + (f": {outcome.error.split(': ', 1)[-1]}" if outcome.error else ""), flush=True)
    return outcome.report["targets"]["satisfaction_mean"]["value"] if outcome.report else None


@hydra.main(config_path="pkg://sim.configs", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    if hc.mode == RunMode.RUN:
        return _single_run(cfg, out_dir)
    return _sweep_job(cfg, out_dir, hc)
