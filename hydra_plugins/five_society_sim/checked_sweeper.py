"""Hydra's basic sweeper, checking each distinct override once instead of composing every job.

Before launching a batch, Hydra's :class:`BasicSweeper` composes the full config of every job in
the parent process ("validate_batch_is_legal"): about 80 ms a job here, so a sweep of
30 seeds × 10 scenarios × 7 presets (2,100 jobs) spent ~3 minutes on one core before its first
run, and that serial time capped the speed-up on more cores (Amdahl).

:class:`CheckedSweeper` generates exactly the same jobs (it is a ``BasicSweeper``) but composes
the first job, then the first job with each other distinct value of each swept key substituted:
``1 + Σ (values − 1)`` compositions (48 for the grid above).  An unknown key, a missing config
group option or a wrong type is still found before any job starts.  With ``settings_check`` set
(configs/config.yaml sets ``sim.config.to_settings``), each of these configs is also validated
against the parameter ranges, so ``policy.fund.transparency=0.5,1.5`` stops the sweep with the
key and its allowed range before anything runs.  A rule that only fails for one *combination*
of values (e.g. more product enterprises than enterprises) is caught by that job, which is then
recorded as failed without stopping the others (sim/sweep.py).

Select it with ``hydra/sweeper=checked`` (the default in this project's config).  Hydra loads
plugin modules without registering them in ``sys.modules``, so this module avoids
``from __future__ import annotations`` (dataclasses would look its annotations up there).
"""

import importlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.errors import CompactHydraException

log = logging.getLogger(__name__)


@dataclass
class CheckedSweeperConf:
    _target_: str = "hydra_plugins.five_society_sim.checked_sweeper.CheckedSweeper"
    max_batch_size: Optional[int] = None  # noqa: UP045
    params: Optional[dict[str, str]] = None  # noqa: UP045
    # dotted path of a function called with each checked config (raises on a bad value)
    settings_check: Optional[str] = None  # noqa: UP045


ConfigStore.instance().store(group="hydra/sweeper", name="checked", node=CheckedSweeperConf,
                             provider="five-society-sim")


def representative_jobs(batch: Sequence[Sequence[str]]) -> list[list[str]]:
    """The first job, then the first job with each other distinct override substituted.

    Jobs of a basic sweep list the same keys in the same order (a cartesian product), so the
    override at position ``i`` of any job is a value of key ``i``.
    """
    if not batch:
        return []
    first = list(batch[0])
    jobs, seen = [first], [{o} for o in first]
    for job in batch[1:]:
        if len(job) != len(first):  # not a product: check this job as it is
            jobs.append(list(job))
            continue
        for i, override in enumerate(job):
            if override not in seen[i]:
                seen[i].add(override)
                jobs.append([*first[:i], override, *first[i + 1:]])
    return jobs


class SweepConfigError(CompactHydraException):
    """A swept value that cannot be composed or is out of range (printed without a traceback)."""


class CheckedSweeper(BasicSweeper):
    """A :class:`BasicSweeper` whose pre-launch check composes each distinct override once."""

    def __init__(self, max_batch_size: int | None, params: dict[str, str] | None = None,
                 settings_check: str | None = None) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.settings_check = settings_check

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        assert self.hydra_context is not None and self.config is not None
        check = None
        if self.settings_check:
            module, _, name = self.settings_check.rpartition(".")
            check = getattr(importlib.import_module(module), name)
        tic = time.perf_counter()
        jobs = representative_jobs(batch)
        for overrides in jobs:
            try:
                cfg = self.hydra_context.config_loader.load_sweep_config(master_config=self.config,
                                                                         sweep_overrides=list(overrides))
                if check is not None:
                    check(cfg)
            except Exception as exc:
                self._remove_empty_sweep_dir()
                raise SweepConfigError(f"{exc}\n(sweep job: {' '.join(overrides)}); no job was started") from exc
        log.debug("checked %d configs for a batch of %d jobs in %.2f s", len(jobs), len(batch),
                  time.perf_counter() - tic)

    def _remove_empty_sweep_dir(self) -> None:
        """Take back what was written before the check (multirun.yaml, sweep.json) if no job ran."""
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        if not sweep_dir.is_dir() or any(p.is_dir() for p in sweep_dir.iterdir()):
            return
        for name in ("multirun.yaml", "sweep.json"):
            (sweep_dir / name).unlink(missing_ok=True)
        if not any(sweep_dir.iterdir()):
            sweep_dir.rmdir()
