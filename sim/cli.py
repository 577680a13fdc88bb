"""Command line: ``python -m sim [group=option ...] [key=value ...]`` (Hydra).

``python -m sim --help`` lists the config groups (community presets, policies) and every
parameter with its unit and range.  Bad values exit with status 2 and a message naming the key
and the allowed range; nothing is written.
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
from sim.indicators import format_table
from sim.runner import run

log = logging.getLogger("sim")

register_configs()
if not OmegaConf.has_resolver("sim_parameter_table"):
    OmegaConf.register_new_resolver("sim_parameter_table", lambda: parameter_table(markdown=False))


def _remove_if_empty(folder: Path) -> None:
    """Remove the run folder Hydra made (and empty parents inside results/) after a failed start."""
    stop = {Path.cwd().resolve()}
    folder = folder.resolve()
    while folder not in stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


@hydra.main(config_path="pkg://sim.configs", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    logging.getLogger("mesa").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    single = hc.mode == RunMode.RUN
    try:
        report = run(cfg, out_dir, progress=bool(cfg.progress) and single)
    except ConfigError as exc:
        _remove_if_empty(out_dir)
        if not single:
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    if single:
        print(format_table(report, lang=cfg.lang))
        print(f"\noutputs: {out_dir}/  (timeseries.parquet, kpis.json, manifest.json)")
    else:
        log.info("done: %s", out_dir)
    return report["targets"]["satisfaction_mean"]["value"]
