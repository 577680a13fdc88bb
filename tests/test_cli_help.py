"""``python -m sim --help`` imports no heavy module and says what Hydra's help says (issue 27).

The time it takes is measured in benchmarks/cli_help.py (results in benchmarks/results.md), not bounded here.
"""

from __future__ import annotations

from benchmarks.cli_help import HEAVY, heavy_modules, help_imports
from sim.runs.cli import app_help
from sim.settings.config import community_presets, district_presets, policy_presets


def test_help_imports_neither_pandas_nor_the_model():
    modules, text = help_imports()
    assert "sim.runs.cli" in modules and "hydra" in modules
    assert heavy_modules(modules) == [], f"python -m sim --help imported {heavy_modules(modules)} (of {HEAVY})"
    assert not any(m.startswith(("sim.model", "sim.runs.runner", "sim.runs.sweep")) for m in modules)
    assert text == app_help() + "\n"


def test_help_lists_every_preset_and_parameter():
    text = app_help()
    for group, names in (("community", community_presets()), ("policy", policy_presets()),
                         ("district", district_presets())):
        assert f"{group}: {', '.join(sorted(names))}\n" in text
    assert "== Parameters (key, default, unit, allowed range, meaning) ==" in text
    assert "policy.micro_fund.fen_per_unit" in text and "Examples:" in text
    assert "$APP_CONFIG_GROUPS" not in text and "${" not in text


def test_heavy_modules_are_found_by_package():
    assert heavy_modules({"pandas.core.api": 0.1, "hydra": 0.2, "numpy": 0.1}) == ["numpy", "pandas"]
