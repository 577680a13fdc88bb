"""Shared fixtures: validated settings for small, short runs, composed once and copied per test."""

from __future__ import annotations

import copy
import functools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis.configuration import set_hypothesis_home_dir
from omegaconf import DictConfig

from sim.model.community_model import CommunityModel
from sim.settings.config import SimConfig, community_presets, compose_config, policy_presets, settings_for

REPO = Path(__file__).resolve().parent.parent
# Hypothesis caches into ./.hypothesis by default; keep the working tree clean.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "five-society-sim-hypothesis")
POLICIES = tuple(policy_presets())        # configs/policy/: the one source of the preset lists
COMMUNITIES = tuple(community_presets())  # configs/community/
SMALL_COMMUNITIES = ("relocation", "tourism_village")  # 1,500 and 1,800 residents


@functools.cache
def _composed(overrides: tuple[str, ...]) -> SimConfig:
    """Hydra composition costs ~0.3 s, so each distinct set of overrides is composed once per session."""
    return settings_for("progress=false", *overrides)


@functools.cache
def _composed_cfg(overrides: tuple[str, ...]) -> DictConfig:
    return compose_config(overrides)


def composed(*overrides: str) -> DictConfig:
    """The composed (not yet validated) Hydra config, cached; a deep copy that a test may change."""
    return copy.deepcopy(_composed_cfg(tuple(overrides)))


def make_settings(*overrides: str, community: str = "relocation", policy: str = "baseline", steps: int = 26,
                  seed: int = 0, warmup: int = 0) -> SimConfig:
    """A fresh, validated SimConfig (a deep copy, so a test may mutate it freely).

    Without extra overrides the community and the policy are composed separately and combined: the
    two groups are independent in configs/config.yaml, so this equals
    ``settings_for(f"community={community}", f"policy={policy}")`` (test_presets checks it) while
    composing each preset once instead of each of the 49 pairs.  ``warmup`` weeks (default 0: the
    run starts from the preset's initial state, so stocks follow flows from zero) replace the
    shipped ``warmup_weeks``; tests of the warm-up pass it.
    """
    if overrides:
        s = copy.deepcopy(_composed((f"community={community}", f"policy={policy}", *overrides)))
    else:
        s = copy.deepcopy(_composed((f"community={community}",)))
        s.policy = copy.deepcopy(_composed((f"policy={policy}",)).policy)
    s.steps = steps
    s.seed = seed
    s.warmup_weeks = warmup
    return s


@pytest.fixture
def small_settings():
    """Factory: ``small_settings("policy.fund.transparency=0.5", policy="micro_fund", steps=13)``."""
    return make_settings


def run_model(settings: SimConfig) -> tuple[CommunityModel, pd.DataFrame]:
    model = CommunityModel(settings)
    return model, model.run()


def run_cli(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m sim ARGS`` in ``cwd``, without HYDRA_FULL_ERROR (so errors are Hydra's short ones)."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=timeout)


def refused(module: str, argv: list[str], capsys) -> tuple[int, str]:
    """``python -m <module> <argv>`` as its ``main(argv)`` in this process (no interpreter start, ~2–3 s each): the
    exit code (argparse's SystemExit included) and what it wrote to stderr."""
    import importlib

    capsys.readouterr()
    try:
        code = importlib.import_module(module).main(list(argv))
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def assert_bad_input_refused(module: str, cases, out: Path, capsys) -> None:
    """Each ``(args, message)`` of ``cases`` given to ``python -m <module> ... --out out`` exits 2 saying ``message``
    and writes nothing: the first through the command line, the others in this process (:func:`refused`)."""
    for i, (args, message) in enumerate(cases):
        argv = [*args, "--out", str(out)]
        if i == 0:
            done = subprocess.run([sys.executable, "-m", module, *argv], capture_output=True, text=True, cwd=REPO,
                                  check=False)
            code, err = done.returncode, done.stderr
        else:
            code, err = refused(module, argv, capsys)
        assert code == 2 and message in err, (args, err)
        assert not out.exists(), args


def all_files(folder: Path) -> list[Path]:
    """Every file and folder below ``folder``, recursively."""
    return sorted(folder.rglob("*"))


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One ``python -m dashboard.serve`` for every browser test of the session (tests/browser_support.py)."""
    from browser_support import serve_dashboard

    yield from serve_dashboard(tmp_path_factory)


# ---------------------------------------------------------------------------------------------
# The fast tier: ``pytest -m "not slow"`` before each commit; CI runs everything (./dev.sh test)
# ---------------------------------------------------------------------------------------------
# Test modules that run subprocesses, studies, browsers or many full runs; a test elsewhere that does is marked
# ``@pytest.mark.slow`` where it is defined.  README ("Development") gives the fast tier's count and time.
SLOW_MODULES = {
    "test_abc_smc", "test_advise", "test_archive", "test_bad_input", "test_bands", "test_benchmark_results",
    "test_calibration", "test_cli", "test_compare", "test_dashboard_e2e", "test_dashboard_load",
    "test_dashboard_speed", "test_decompose", "test_discover", "test_district", "test_equal_cost",
    "test_equivalence", "test_examples", "test_figures", "test_handout", "test_readme_tables", "test_replications",
    "test_report_language", "test_robustness", "test_run_many_isolation", "test_sensitivity", "test_sweep",
    "test_sweeper", "test_system_deps", "test_validation", "test_warmup", "test_workshop_room_e2e",
    "test_sweep_setup", "test_study_plans", "test_dashboard_room", "test_docs_artefacts", "test_paper_path",
    "test_grids", "test_district_workers", "test_page_height", "test_room_play_e2e",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.stem in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
