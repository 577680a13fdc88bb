"""Sweeps are sized before anything is built, and made batch by batch (issue 29, item 5): a huge range is refused at
once in constant memory, by the command line's check and by the sweeper itself; an allowed sweep's jobs are never all
held at once (hydra_plugins/five_society_sim: job_count, iter_batches, a streaming JobCheck)."""

from __future__ import annotations

import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from hydra_plugins.five_society_sim._jobs import iter_batches, job_count, key_values, sweep_jobs
from hydra_plugins.five_society_sim.checked_sweeper import CheckedSweeper, SweepConfigError
from sim.settings.config import ConfigError
from sim.settings.overrides import check_overrides

HUGE = "seed=range(0,100000000)"
REPO = Path(__file__).resolve().parent.parent


def _parsed(*overrides: str):
    return OverridesParser.create().parse_overrides(list(overrides))


def _measured(call) -> tuple[object, float, int]:
    """(what ``call()`` returned or raised, its seconds, its peak of Python memory allocated in bytes)."""
    tracemalloc.start()
    tic = time.perf_counter()
    try:
        result = call()
    except Exception as exc:  # the refusal is the result
        result = exc
    seconds = time.perf_counter() - tic
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, seconds, peak


def test_a_huge_range_is_counted_by_arithmetic_in_constant_memory():
    count, seconds, peak = _measured(lambda: job_count(_parsed(HUGE, "policy=baseline,micro_fund")))
    assert count == 200_000_000
    assert seconds < 2.0 and peak < 1_000_000, (seconds, peak)
    assert job_count(_parsed("seed=range(10,0,-3)")) == len(sweep_jobs(_parsed("seed=range(10,0,-3)"), None)[0]) == 4
    with pytest.raises(Exception, match="step cannot be 0"):
        job_count(_parsed("seed=range(0,5,0)"))


def test_the_command_line_refuses_a_huge_sweep_at_once_naming_the_limit():
    refused, seconds, peak = _measured(lambda: check_overrides([HUGE], multirun=True))
    assert isinstance(refused, ConfigError) and "sweep.max_jobs" in str(refused) and "100,000,000 jobs" in str(refused)
    assert seconds < 2.0 and peak < 5_000_000, (seconds, peak)


class _Loader:
    """A config loader for plain values only: no config groups, every job composes to the same small config."""

    def __init__(self) -> None:
        self.compositions = 0

    def get_group_options(self, *args, **kwargs) -> list[str]:
        return []

    def load_sweep_config(self, master_config, sweep_overrides):
        self.compositions += 1
        return OmegaConf.create({"seed": 0, "x": 0})


class _Launcher:
    """Records each batch it is given and how much memory Python held then."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.held: list[int] = []

    def launch(self, batch, initial_job_idx):
        assert initial_job_idx == sum(self.sizes)
        self.sizes.append(len(batch))
        self.held.append(tracemalloc.get_traced_memory()[0])
        return [SimpleNamespace(return_value=None) for _ in batch]


def _sweeper(tmp_path: Path, **options) -> tuple[CheckedSweeper, _Launcher]:
    sweeper = CheckedSweeper(**options)
    sweeper.hydra_context = SimpleNamespace(config_loader=_Loader())
    sweeper.config = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path / "sw")}, "overrides": {"hydra": []},
                                                 "job": {"config_name": "config"}}})
    sweeper.launcher = _Launcher()
    return sweeper, sweeper.launcher


def test_the_sweeper_refuses_above_its_limit_before_making_any_job(tmp_path):
    sweeper, launcher = _sweeper(tmp_path, max_jobs=100_000)
    refused, seconds, peak = _measured(lambda: sweeper.sweep([HUGE]))
    assert isinstance(refused, SweepConfigError) and "100,000,000 jobs, above the limit of 100,000" in str(refused)
    assert seconds < 2.0 and peak < 1_000_000, (seconds, peak)
    assert launcher.sizes == [] and sweeper.hydra_context.config_loader.compositions == 0
    assert not (tmp_path / "sw").exists()


def test_an_allowed_sweep_is_checked_and_launched_one_batch_at_a_time(tmp_path):
    overrides = ["seed=range(0,120)", "x=range(0,120)"]  # 14,400 jobs
    full, _, full_peak = _measured(lambda: sweep_jobs(_parsed(*overrides), None))
    assert len(full[0]) == 14_400
    del full
    sweeper, launcher = _sweeper(tmp_path, max_jobs=100_000, max_batch_size=240, keep_returns=False)
    returns, _, peak = _measured(lambda: sweeper.sweep(overrides))
    assert returns == [] and launcher.sizes == [240] * 60
    assert sweeper.hydra_context.config_loader.compositions == 1  # checked once, every job
    # never more than a batch or so of jobs held: far below the list of every job (and steady from batch to batch)
    assert peak < full_peak / 3, (peak, full_peak)  # what stays is per value (parsed once), not per job
    assert max(launcher.held) - min(launcher.held) < full_peak / 10, launcher.held
    values = key_values(_parsed(*overrides))
    batches = iter_batches(values, 240)
    assert next(batches)[0] == ["seed=0", "x=0"] and next(batches)[0] == ["seed=2", "x=0"]  # made as asked


@pytest.mark.slow
def test_python_m_sim_refuses_a_hundred_million_jobs_at_once(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    hwm = tmp_path / "peak"
    # the command's own peak memory, read from /proc/self/status (VmHWM) as it exits: getrusage's ru_maxrss of a child
    # keeps the peak of the test process it was forked from (738 MB late in a fresh-clone CI run), exec or not
    run = ("import atexit, runpy, sys; from pathlib import Path; "
           f"atexit.register(lambda: Path({str(hwm)!r}).write_text(next(l for l in open('/proc/self/status') "
           "if l.startswith('VmHWM')).split()[1])); "
           f"sys.argv = ['sim', '-m', {HUGE!r}]; runpy.run_module('sim', run_name='__main__', alter_sys=True)")
    tic = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", run], cwd=work, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    seconds = time.monotonic() - tic
    stderr = proc.stderr
    peak_mb = int(hwm.read_text()) / 1024
    assert proc.returncode == 2 and "sweep.max_jobs" in stderr and "Traceback" not in stderr, stderr
    assert list(work.iterdir()) == []
    assert seconds < 30 and peak_mb < 600, (seconds, peak_mb)  # the imports; the issue saw 1.9 GB after 90 s
