"""Hydra's basic sweeper, checking each distinct override once instead of composing every job.

Before launching a batch, Hydra's :class:`BasicSweeper` composes the full config of every job in
the parent process ("validate_batch_is_legal"): about 80 ms a job here, so a sweep of
30 seeds × 10 scenarios × 7 presets (2,100 jobs) spent ~3 minutes on one core before its first
run, and that serial time capped the speed-up on more cores (Amdahl).

:class:`CheckedSweeper` generates exactly the same jobs (it is a ``BasicSweeper``) but composes
the first job, then the first job with each other distinct value of each swept key substituted.
With ``value_check`` set (configs/config.yaml sets ``sim.config.check_value``), a value of a
numeric parameter (a seed, a rate) is checked against the schema's type and range on its own,
without composing.  The grid above then needs 1 + 9 + 6 = 16 compositions and 29 value checks
(under a second) instead of 2,100 compositions.  An unknown key, a missing config group option,
a wrong type or, with ``settings_check`` (``sim.config.to_settings``), a value out of its range
still stops the sweep before any job starts, with the key and its allowed range.  A rule that
only fails for one *combination* of values (e.g. more households than residents) is caught by
that job, which is then recorded as failed without stopping the others (sim/sweep.py).

Select it with ``hydra/sweeper=checked``; this project's default, ``hydra/sweeper=sim``
(configs/hydra/sweeper/sim.yaml), is this sweeper with both checks set.  Hydra loads
plugin modules without registering them in ``sys.modules``, so this module avoids
``from __future__ import annotations`` (dataclasses would look its annotations up there).
"""

import importlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import OverrideType
from hydra.errors import CompactHydraException

log = logging.getLogger(__name__)


def _function(dotted: str | None) -> Callable | None:
    if not dotted:
        return None
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@dataclass
class CheckedSweeperConf:
    _target_: str = "hydra_plugins.five_society_sim.checked_sweeper.CheckedSweeper"
    max_batch_size: Optional[int] = None  # noqa: UP045
    params: Optional[dict[str, str]] = None  # noqa: UP045
    # dotted path of a function called with each checked config (raises on a bad value)
    settings_check: Optional[str] = None  # noqa: UP045
    # dotted path of a function (key, value) -> bool that checks one swept value on its own (raises
    # on a bad value) and returns True when no composition is needed for it (e.g. a seed)
    value_check: Optional[str] = None  # noqa: UP045


ConfigStore.instance().store(group="hydra/sweeper", name="checked", node=CheckedSweeperConf,
                             provider="five-society-sim")


def representative_jobs(batch: Sequence[Sequence[str]],
                        checked_alone: Callable[[str], bool] = lambda override: False) -> list[list[str]]:
    """The first job, then the first job with each other distinct override substituted.

    Jobs of a basic sweep list the same keys in the same order (a cartesian product), so the
    override at position ``i`` of any job is a value of key ``i``.  An override for which
    ``checked_alone`` returns True (it checked the value by itself) needs no composition.
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
                if not checked_alone(override):
                    jobs.append([*first[:i], override, *first[i + 1:]])
    return jobs


class SweepConfigError(CompactHydraException):
    """A swept value that cannot be composed or is out of range (printed without a traceback)."""


class CheckedSweeper(BasicSweeper):
    """A :class:`BasicSweeper` whose pre-launch check composes each distinct override once."""

    def __init__(self, max_batch_size: int | None, params: dict[str, str] | None = None,
                 settings_check: str | None = None, value_check: str | None = None) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.settings_check = settings_check
        self.value_check = value_check

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        assert self.hydra_context is not None and self.config is not None
        check, value_check = _function(self.settings_check), _function(self.value_check)
        tic = time.perf_counter()
        jobs = representative_jobs(batch, self._checked_alone(value_check))
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

    def _checked_alone(self, value_check: Callable | None) -> Callable[[str], bool]:
        """override → True when ``value_check`` validated it on its own (a plain key=value)."""
        if value_check is None:
            return lambda override: False
        parser = OverridesParser.create()

        def checked(override: str) -> bool:
            parsed = parser.parse_override(override)
            if parsed.type is not OverrideType.CHANGE or parsed.package is not None \
                    or parsed.is_sweep_override():
                return False
            try:
                return bool(value_check(parsed.key_or_group, parsed.value()))
            except Exception as exc:
                self._remove_empty_sweep_dir()
                raise SweepConfigError(f"{exc}\n(sweep value: {override}); no job was started") from exc

        return checked

    def _remove_empty_sweep_dir(self) -> None:
        """Take back what was written before the check (multirun.yaml, sweep.json) if no job ran."""
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        if not sweep_dir.is_dir() or any(p.is_dir() for p in sweep_dir.iterdir()):
            return
        for name in ("multirun.yaml", "sweep.json"):
            (sweep_dir / name).unlink(missing_ok=True)
        if not any(sweep_dir.iterdir()):
            sweep_dir.rmdir()
