"""A sweeper that launches exactly the basic sweeper's jobs, after checking all of them cheaply.

``hydra/sweeper=checked`` (any Hydra app) or this project's ``hydra/sweeper=sim``
(configs/hydra/sweeper/sim.yaml: this sweeper with ``sim.settings.config.check_value`` as its range check).

* **The same jobs.**  The job lists, their order, the batches cut by ``max_batch_size``, the
  ``hydra.sweeper.params`` of a config (placed before the command line's overrides) and the
  sweep folder's ``multirun.yaml`` are those of ``hydra/sweeper=basic`` (_jobs.py; tests/test_sweeper.py
  runs both on a table of override syntaxes).
* **A cheaper check before launch.**  The basic sweeper composes every job's config in the main
  process first (~0.1 s a job: a 1,470-job grid waited over two minutes).  This one composes each
  distinct combination of config-group choices once and applies the swept values to it (_checks.py):
  the same refusals (a missing option, an unknown key, a float for an integer), found before any
  job starts, in every batch, plus a range check of each value.  A refused sweep leaves no sweep
  folder behind (it removes ``start_files``, the files callbacks wrote when the multirun started).

Built on Hydra's public plugin interface (``hydra.plugins.sweeper.Sweeper``).  Hydra's plugin scan
executes this module before registering it in ``sys.modules``, so it avoids
``from __future__ import annotations`` (the dataclass below would look its annotations up there).
"""

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from hydra.utils import get_method
from omegaconf import DictConfig, OmegaConf

from hydra_plugins.five_society_sim._checks import JobCheck, SweepConfigError
from hydra_plugins.five_society_sim._jobs import sweep_jobs

log = logging.getLogger(__name__)


@dataclass
class CheckedSweeperConf:
    _target_: str = "hydra_plugins.five_society_sim.checked_sweeper.CheckedSweeper"
    max_batch_size: Optional[int] = None  # noqa: UP045  (OmegaConf reads Optional, not `int | None`)
    params: Optional[dict[str, str]] = None  # noqa: UP045
    # dotted path of a function (key, value) that raises on a value out of its allowed range
    value_check: Optional[str] = None  # noqa: UP045
    # files that callbacks write into the sweep folder when a multirun starts; removed (with the
    # folder, if that leaves it empty) when the sweep is refused before any job
    start_files: list[str] = field(default_factory=list)
    # times a batch is launched again when one of the launcher's worker processes dies (joblib's
    # TerminatedWorkerError, a broken process pool): 0 = the sweep stops, as with the basic sweeper.  Only for
    # an app whose jobs skip what is already complete (this project's: configs/hydra/sweeper/sim.yaml)
    relaunch_on_worker_death: int = 0


ConfigStore.instance().store(group="hydra/sweeper", name="checked", node=CheckedSweeperConf,
                             provider="five-society-sim")


class CheckedSweeper(Sweeper):
    """The basic sweeper's jobs and batches, checked before launch with one composition per group combination."""

    def __init__(self, max_batch_size: int | None = None, params: dict[str, str] | None = None,
                 value_check: str | None = None, start_files: list[str] | None = None,
                 relaunch_on_worker_death: int = 0) -> None:
        super().__init__()
        self.relaunch_on_worker_death = relaunch_on_worker_death
        self.max_batch_size = max_batch_size
        self.params = dict(params or {})
        self.value_check = value_check
        self.start_files = list(start_files or [])
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(hydra_context=hydra_context,
                                                                task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        assert self.hydra_context is not None and self.config is not None and self.launcher is not None
        loader = self.hydra_context.config_loader
        params = [f"{key}={value}" for key, value in self.params.items()]
        overrides = OverridesParser.create(config_loader=loader).parse_overrides([*params, *arguments])
        batches = sweep_jobs(overrides, self.max_batch_size)

        tic = time.perf_counter()
        check = JobCheck(loader, self.config, get_method(self.value_check) if self.value_check else None)
        try:
            check.check([job for batch in batches for job in batch])
        except SweepConfigError as exc:
            self._remove_start_files()
            raise SweepConfigError(f"{exc}; no job was started") from exc
        log.debug("checked %d jobs in %.2f s: %d configs composed, %d value sets applied",
                  sum(map(len, batches)), time.perf_counter() - tic, check.compositions, check.value_sets)

        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        returns = []
        first = 0
        for batch in batches:
            results = self._launch(batch, first)
            for result in results:
                _ = result.return_value  # raises if the job raised, as with the basic sweeper
            first += len(batch)
            returns.append(results)
        return returns

    def _launch(self, batch: list[list[str]], first: int) -> Any:
        """Launch a batch; if a worker process of the launcher dies, launch it again (up to
        ``relaunch_on_worker_death`` times): jobs that completed are skipped by the app, so the death costs the
        job the worker was running (and those the launcher stopped with it)."""
        assert self.launcher is not None
        for attempt in range(self.relaunch_on_worker_death + 1):
            try:
                return self.launcher.launch(batch, initial_job_idx=first)
            except Exception as exc:
                if attempt == self.relaunch_on_worker_death or not _worker_died(exc):
                    raise
                log.warning("a worker process of the launcher died (%s); launching the %d jobs of the batch again "
                            "(complete ones are skipped), attempt %d of %d", type(exc).__name__, len(batch),
                            attempt + 2, self.relaunch_on_worker_death + 1)
        raise AssertionError("unreachable")

    def _remove_start_files(self) -> None:
        assert self.config is not None
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        for name in self.start_files:
            (sweep_dir / name).unlink(missing_ok=True)
        if sweep_dir.is_dir() and not any(sweep_dir.iterdir()):
            sweep_dir.rmdir()


def _worker_died(exc: BaseException) -> bool:
    """True for the error a launcher raises when one of its worker processes dies (joblib/loky's
    TerminatedWorkerError, concurrent.futures' BrokenProcessPool), whatever module defines it."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"TerminatedWorkerError", "BrokenProcessPool", "BrokenExecutor"})
