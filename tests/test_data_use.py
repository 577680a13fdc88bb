"""The data-use table (docs/data_use.md, RAT-RS style; issue 26): generated from the parameters' sources and the
patterns, up to date, and every source it names is described."""

from __future__ import annotations

import pytest

from experiments import data_use
from experiments.patterns import FITTED_ROLES, PATTERNS
from sim.settings.config import SimConfig
from sim.settings.params import ASSUMPTION
from sim.settings.schema import iter_params


def test_the_shipped_table_is_what_the_code_generates(capsys):
    assert data_use.main(["--check"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize(("text", "tags"), [
    ("003: 政府购买服务", ["003"]),
    ("003:208 asks government", ["003"]),
    ("in 2003 and 1,003 cases", []),
    ("expectancy-disconfirmation (docs/literature.md [T1]–[T4])", ["T1", "T2", "T3", "T4"]),
    ("[K3] 大英县; [K9][K10] 签收", ["K3", "K9", "K10"]),
    ("assumption: half to twice the default", []),
])
def test_tags_are_read_from_source_texts(text, tags):
    assert data_use.tags_in(text) == tags


def test_every_source_is_described_and_every_use_is_listed():
    sources, untagged = data_use.collect()
    assert not [t for t, s in sources.items() if not s.title], "a tag with no entry in docs/sources.md or literature.md"
    spec = {item for s in sources.values() for item in s.uses.get("specification", [])} | set(
        untagged.get("specification", []))
    sourced = {f"`{k}`" for k, f, _ in iter_params(SimConfig) if f.metadata.get("source", ASSUMPTION) != ASSUMPTION}
    assert spec == sourced and len(sourced) > 30
    for p in PATTERNS:
        use = "calibration" if p.role in FITTED_ROLES else "validation"
        cited = [t for t, s in sources.items() if f"`{p.key}` ({p.role})" in s.uses.get(use, [])]
        other = "validation" if use == "calibration" else "calibration"
        assert cited, p.key
        assert not [t for t, s in sources.items() if any(i.startswith(f"`{p.key}`") for i in s.uses.get(other, []))]
    table = data_use.DOC.read_text(encoding="utf-8")
    assert "(not listed)" not in table
    assert "| 002 | Jianyang city" in table and "`volunteer_inflow_ratio` (calibration)" in table
