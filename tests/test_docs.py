"""The generated documentation: where each policy lever's rules live, kept in sync with the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.tables.docs import DOCUMENTS, render
from sim.tables.lever_rules import lever_rules, lever_table, levers, own_rules


def test_every_lever_has_a_rule_of_its_own_or_is_read_by_one():
    rules, own = lever_rules(), own_rules()
    assert set(rules) == set(levers()) == set(own)
    assert len(rules) >= 9
    idle = [lever for lever, funcs in rules.items() if not funcs and not own[lever]]
    assert not idle, f"levers that no rule reads (dead configuration): {idle}"


def test_the_index_points_at_the_rules_a_sociologist_would_look_for():
    rules = lever_rules()
    assert "residents.Residents.donate" in rules["fund"]            # transparency, public appeals
    assert "platform.Community.deliberate" in rules["deliberation"]
    assert "platform.Community.contract_round" in rules["gov_purchase"]
    assert any(r.startswith("enterprises.Enterprise.") for r in rules["micro_fund"])


def test_the_finder_sees_aliases_and_ignores_other_sections(tmp_path: Path):
    (tmp_path / "rules.py").write_text(
        "class A:\n"
        "    def uses_alias(self, model):\n"
        "        pol = model.cfg.policy\n"
        "        return pol.moral_bank.enabled\n"
        "    def uses_path(self, model):\n"
        "        return model.cfg.policy.fund.transparency\n"
        "    def unrelated(self, model):\n"
        "        return model.cfg.behaviour.donate_prob\n")
    rules = lever_rules(tmp_path)
    assert rules["moral_bank"] == ["rules.A.uses_alias"]
    assert rules["fund"] == ["rules.A.uses_path"]
    assert all(not v for k, v in rules.items() if k not in ("moral_bank", "fund"))


def test_lever_table_lists_each_lever_once_with_its_parameters():
    table = lever_table().splitlines()
    body = table[2:]
    assert len(body) == len(levers())
    micro = next(r for r in body if r.startswith("| `policy.micro_fund`"))
    assert "fen_per_unit" in micro


@pytest.mark.parametrize("path", list(DOCUMENTS), ids=lambda p: p.name)
def test_generated_blocks_are_up_to_date(path: Path):
    text = path.read_text(encoding="utf-8")
    assert render(text, DOCUMENTS[path], path) == text, f"{path} is out of date: run python -m sim.tables.docs"
