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
from hydra.errors import HydraException
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from hydra.utils import get_method
from omegaconf import DictConfig, OmegaConf

from hydra_plugins.five_society_sim._checks import JobCheck, SweepConfigError
from hydra_plugins.five_society_sim._jobs import iter_batches, iter_jobs, job_count, key_values, sweep_jobs  # noqa: F401

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
    # the most jobs a sweep may have, counted before any job is made (a range by arithmetic); None: no limit
    max_jobs: Optional[int] = None  # noqa: UP045
    # keep each job's JobReturn (its config included) until the sweep ends, as the basic sweeper does; false: each
    # batch's are checked and let go (a sweep of 100,000 jobs would otherwise hold 100,000 configs)
    keep_returns: bool = True


ConfigStore.instance().store(group="hydra/sweeper", name="checked", node=CheckedSweeperConf,
                             provider="five-society-sim")


class CheckedSweeper(Sweeper):
    """The basic sweeper's jobs and batches, checked before launch with one composition per group combination."""

    def __init__(self, max_batch_size: int | None = None, params: dict[str, str] | None = None,
                 value_check: str | None = None, start_files: list[str] | None = None,
                 relaunch_on_worker_death: int = 0, max_jobs: int | None = None, keep_returns: bool = True) -> None:
        super().__init__()
        self.relaunch_on_worker_death = relaunch_on_worker_death
        self.max_jobs = max_jobs
        self.keep_returns = keep_returns
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
        try:  # sized before any job is made: a range is counted, not listed
            total = job_count(overrides)
            if self.max_jobs is not None and total > self.max_jobs:
                raise SweepConfigError(f"sweep.max_jobs: the sweep has {total:,} jobs, above the limit of "
                                       f"{self.max_jobs:,} (narrow it, or raise the limit: sweep.max_jobs={total})")
            values = key_values(overrides)  # each key's values; the jobs (their product) are made as they are used
            tic = time.perf_counter()
            check = JobCheck(loader, self.config, get_method(self.value_check) if self.value_check else None)
            check.check(iter_jobs(values))
        except (SweepConfigError, HydraException) as exc:
            self._remove_start_files()
            raise SweepConfigError(f"{exc}; no job was started") from exc
        log.debug("checked %d jobs in %.2f s: %d configs composed, %d value sets applied",
                  total, time.perf_counter() - tic, check.compositions, check.value_sets)

        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        returns = []
        first = 0
        for batch in iter_batches(values, self.max_batch_size):  # one batch at a time
            results = self._launch(batch, first)
            for result in results:
                _ = result.return_value  # raises if the job raised, as with the basic sweeper
            first += len(batch)
            if self.keep_returns:
                returns.append(results)
        return returns

    def _launch(self, batch: list[list[str]], first: int) -> Any:
        """Launch a batch; if a worker process of the launcher dies, launch it again (up to
        ``relaunch_on_worker_death`` times).  joblib/loky then stops every worker of its pool: the app's jobs must
        tell what is already complete or still running (this project's run outlives its worker, and a job
        launched again waits for it: sim.runs.runner.run_job), so the death costs at most the dead worker's job."""
        assert self.launcher is not None
        for attempt in range(self.relaunch_on_worker_death + 1):
            try:
                return self.launcher.launch(batch, initial_job_idx=first)
            except Exception as exc:
                if not _worker_died(exc):
                    raise
                if attempt == self.relaunch_on_worker_death:
                    raise WorkersDied(f"a worker process of the launcher died {attempt + 1} time(s) "
                                      f"({type(exc).__name__}: {exc}); the sweep stopped (relaunch_on_worker_death="
                                      f"{self.relaunch_on_worker_death})") from exc
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


class WorkersDied(HydraException):
    """Workers of the launcher kept dying: the batch was launched ``relaunch_on_worker_death`` times again."""


def _worker_died(exc: BaseException) -> bool:
    """True for the error a launcher raises when one of its worker processes dies (joblib/loky's
    TerminatedWorkerError, concurrent.futures' BrokenProcessPool), whatever module defines it."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"TerminatedWorkerError", "BrokenProcessPool", "BrokenExecutor"})
