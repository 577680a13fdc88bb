"""Every catalogue (presets, policies, levers, money levers, priors, the page's levers) comes from one place.

The preset lists are the files of configs/; the levers are the modules of sim/levers/; what a parameter is (money,
staff, its sensitivity prior, its widget) is declared with it.  These tests check that the derived lists agree
with their sources, and that no hand-kept copy of them is left anywhere in the code or the experiment configs.
"""

from __future__ import annotations

import ast
import dataclasses
from importlib.resources import files

import pytest
import yaml
from conftest import COMMUNITIES, POLICIES, REPO

from sim.levers import LEVERS, PolicyConfig, lever_parameters, money_levers
from sim.settings.config import community_presets, district_presets, policy_presets, schema_fields

CODE = ("sim", "experiments", "dashboard", "tests", "scripts", "benchmarks")


def _files(group: str) -> set[str]:
    return {p.name[:-5] for p in files("sim.configs").joinpath(group).iterdir() if p.name.endswith(".yaml")}


def test_preset_lists_are_the_files():
    assert set(policy_presets()) == _files("policy") == set(POLICIES)
    assert set(community_presets()) == _files("community") == set(COMMUNITIES)
    assert set(district_presets()) == _files("district")
    assert policy_presets()[0] == "baseline"


def test_the_policy_is_built_from_the_lever_modules():
    sections = [f.name for f in dataclasses.fields(PolicyConfig) if dataclasses.is_dataclass(f.type)]
    assert sections == [lv.name for lv in LEVERS]
    modules = {p.stem for p in (REPO / "sim" / "levers").glob("*.py")} - {"__init__", "base", "schedule"}
    assert modules == {lv.name for lv in LEVERS}


def test_every_policy_preset_sets_only_known_levers():
    names = {lv.name for lv in LEVERS}
    for name in policy_presets():
        data = yaml.safe_load(files("sim.configs").joinpath("policy", f"{name}.yaml").read_text(encoding="utf-8"))
        assert set(data) - {"name", "label_zh", "defaults"} <= names, name


def test_money_levers_and_the_studies_that_scale_them_agree():
    from experiments import advise, equal_cost

    assert money_levers() == equal_cost.MONEY_LEVERS
    searched = {lever.key for lever in advise.lever_space()}
    assert searched <= {*money_levers(), *lever_parameters("staff")}
    assert "policy.gov_purchase.budget_yuan_per_year" in searched
    for key in money_levers():
        assert schema_fields()[key].metadata["unit"].startswith(("yuan", "fen")), key


def test_the_pages_levers_and_the_sensitivity_ranges_are_declared_with_their_parameters():
    from dashboard.levers import LEVERS as PAGE_LEVERS
    from experiments.sensitivity import RANGES

    declared = {k for k, f in schema_fields().items() if f.metadata.get("widget")}
    assert {lv.key for lv in PAGE_LEVERS} == declared
    priors = {k: f.metadata["prior"] for k, f in schema_fields().items() if f.metadata.get("prior")}
    for key, rng in priors.items():
        assert key in RANGES, key
        lo, hi = rng
        f = schema_fields()[key]
        assert (f.metadata["lo"] is None or lo >= f.metadata["lo"]) and (f.metadata["hi"] is None
                                                                         or hi <= f.metadata["hi"]), key


def _string_sequences(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            values = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(values) == len(node.elts):
                yield node.lineno, values


@pytest.mark.parametrize("folder", CODE)
def test_no_hand_kept_list_of_presets_policies_or_money_levers_in_the_code(folder):
    catalogues = {"policies": set(policy_presets()), "communities": set(community_presets()),
                  "money levers": set(money_levers())}
    found = []
    for path in sorted((REPO / folder).rglob("*.py")):
        for line, values in _string_sequences(ast.parse(path.read_text(encoding="utf-8"))):
            for name, catalogue in catalogues.items():
                # a list naming most of a catalogue is a copy of it (a few names are a deliberate selection)
                if len(set(values) & catalogue) >= max(3, len(catalogue) - 2):
                    found.append(f"{path.relative_to(REPO)}:{line} copies the {name}")
    assert not found, found


def test_no_hand_kept_list_of_presets_in_the_experiment_configs():
    for path in sorted((REPO / "configs" / "experiment").glob("*.yaml")):
        params = (yaml.safe_load(path.read_text(encoding="utf-8")).get("hydra", {}).get("sweeper", {})
                  .get("params", {}))
        for group, catalogue in (("policy", policy_presets()), ("community", community_presets())):
            value = str(params.get(group, ""))
            listed = {v.strip() for v in value.split(",")} & set(catalogue)
            assert len(listed) < max(3, len(catalogue) - 2), f"{path.name}: {group} lists presets; use glob(*)"
