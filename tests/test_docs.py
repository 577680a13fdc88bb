"""The generated documentation: where each policy lever's rules live, kept in sync with the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.tables.docs import DOCUMENTS, render
from sim.tables.lever_rules import direct_reads, lever_rules, lever_table, levers, own_rules


def test_every_lever_has_a_rule_of_its_own_or_is_read_by_one():
    rules, own = lever_rules(), own_rules()
    assert set(rules) == set(levers()) == set(own)
    assert len(rules) >= 9
    idle = [lever for lever, funcs in rules.items() if not funcs and not own[lever]]
    assert not idle, f"levers that no rule reads (dead configuration): {idle}"


def test_no_rule_of_the_model_reads_a_lever_itself():
    """Everything a lever does is in its module: the model's rules call it, they do not read policy.<lever>."""
    assert direct_reads() == []


def test_the_index_points_at_the_rules_a_sociologist_would_look_for():
    rules = lever_rules()
    assert "residents.Residents.donate" in rules["fund"]            # transparency, public appeals
    assert "platform.Community.deliberate" in rules["deliberation"]
    assert "platform.Community.contract_round" in rules["gov_purchase"]
    assert any(r.startswith("enterprises.Enterprise.") for r in rules["micro_fund"])
    assert "residents.Residents.take_part" in rules["moral_bank"]
    assert "district.DistrictModel.incubate" in rules["social_work"]


def test_the_finder_sees_calls_through_aliases_and_ignores_other_modules(tmp_path: Path):
    (tmp_path / "rules.py").write_text(
        "from sim.levers import fund as fund_lever, moral_bank\n"
        "class A:\n"
        "    def uses_alias(self, model):\n"
        "        return fund_lever.giving_factor(model)\n"
        "    def uses_module(self, model):\n"
        "        return moral_bank.runs(model)\n"
        "    def unrelated(self, model):\n"
        "        return model.cfg.behaviour.donate_prob\n"
        "    def reads_itself(self, model):\n"
        "        return model.policy.venture.budget_yuan_per_year\n")
    rules = lever_rules(tmp_path)
    assert rules["fund"] == ["rules.A.uses_alias"]
    assert rules["moral_bank"] == ["rules.A.uses_module"]
    assert all(not v for k, v in rules.items() if k not in ("moral_bank", "fund"))
    assert direct_reads(tmp_path) == ["rules.A.reads_itself: policy.venture"]


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
