"""The command line's KPI table: a header naming the run, district-only targets, footnotes, labels."""

from __future__ import annotations

import copy
import re

import pytest
from conftest import make_settings, run_cli

from sim.model.community_model import CommunityModel
from sim.model.indicators import compute_kpis, kpi_report
from sim.tables.kpi_table import DISTRICT_TARGETS, MISSING, format_table, run_header

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def report() -> dict:
    """A short relocation run's report (no council meets under the baseline: deliberation satisfaction is missing)."""
    model = CommunityModel(make_settings(community="relocation", policy="baseline", steps=30))
    return kpi_report(compute_kpis(model.run(), model))


def rows(table: str) -> dict[str, str]:
    """Table lines by their indicator number (#NN)."""
    return {m.group(1): line for line in table.splitlines() if (m := re.match(r"#(\d+) ", line))}


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ["Community: Relocation community", "Policy: One-cent charity micro-fund", "Seed: 7", "Weeks: 30"]),
    ("zh", ["社区：易地扶贫搬迁社区", "政策：一分钱公益微基金", "随机种子：7", "模拟周数：30"]),
])
def test_header_names_community_policy_seed_and_weeks(report, lang, words):
    cfg = make_settings(community="relocation", policy="micro_fund", steps=30, seed=7)
    first = format_table(report, lang, cfg=cfg).splitlines()[0]
    assert first == run_header(cfg, lang)
    for word in words:
        assert word in first


def test_header_of_a_district_names_the_district(report):
    cfg = copy.deepcopy(make_settings(steps=30))
    cfg.district = make_settings("district=small_district", steps=30).district
    assert run_header(cfg, "en").startswith("District: small_district")
    assert run_header(cfg, "zh").startswith("区：小型示范区（6个社区）")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_district_target_is_marked_not_judged_in_a_community_table(report, lang):
    table = format_table(report, lang)
    line = rows(table)["25"]
    assert "district target" in line if lang == "en" else "全区目标" in line
    assert not re.search(r"\s(no|否)$", line)
    assert ("district target:" if lang == "en" else "全区目标：") in table  # and the footnote says why


def test_a_district_report_judges_its_district_targets(report):
    district = copy.deepcopy(report)
    district["totals"]["communities"] = 40
    (key,) = DISTRICT_TARGETS
    district["targets"][key].update(value=150, met=True)
    line = rows(format_table(district, "en"))["25"]
    assert line.rstrip().endswith("yes") and "district target" not in format_table(district, "en")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_footnotes_explain_numbers_and_dashes(report, lang):
    table = format_table(report, lang)
    assert report["targets"]["deliberation_satisfaction"]["value"] is None  # so the table shows a dash
    assert rows(table)["16"].split()[-1] == MISSING
    notes = table.split("\n\n")[-1]
    assert notes.startswith("#NN")
    assert any(line.startswith(f"{MISSING}:") or line.startswith(f"{MISSING}：") for line in notes.splitlines())
    assert "专栏1" in notes and "003" in notes
    if lang == "zh":
        assert all(CJK.search(line) for line in notes.splitlines())


def test_no_dash_note_without_a_dash(report):
    full = copy.deepcopy(report)
    full["targets"]["deliberation_satisfaction"].update(value=0.8, met=False)
    # an indicator the model does not compute is always shown as a dash, "not modelled"
    assert "not modelled" in rows(format_table(full, "en"))["29"] and MISSING in format_table(full, "en")
    full["targets"] = {k: r for k, r in full["targets"].items() if r["status"] != "not_modelled"}
    assert all(r["value"] is not None for r in full["targets"].values())
    table = format_table(full, "en")
    assert MISSING not in table


def test_resident_units_are_enterprises_and_institutions(report):
    assert "#5 Resident enterprises and institutions taking part" in format_table(report, "en")
    assert "#5 驻区单位参与共建比例" in format_table(report, "zh")


@pytest.mark.slow
def test_the_command_line_prints_the_header(tmp_path):
    proc = run_cli(tmp_path, "community=relocation", "policy=micro_fund", "steps=8", "seed=3", "progress=false",
                   "lang=zh", "hydra.run.dir=run")
    assert proc.returncode == 0, proc.stderr
    header = "社区：易地扶贫搬迁社区  ·  政策：一分钱公益微基金  ·  随机种子：3  ·  模拟周数：8"
    assert proc.stdout.splitlines()[0] == header
    assert "全区目标" in proc.stdout


def test_every_glossary_entry_parses_into_its_own_fields():
    """A flow mapping in sim/tables/glossary.yaml whose unquoted text holds ", " splits into a stray key: the Chinese
    cost
    paragraph of compare's report was cut at "…再乘以10" (issue 27, item 3). Every entry has only its fields."""
    from importlib.resources import files

    import yaml

    data = yaml.safe_load(files("sim.tables").joinpath("glossary.yaml").read_text(encoding="utf-8"))
    fields = {"en", "zh", "unit", "meaning"}
    stray = [(section, key, sorted(set(value) - fields)) for section, entries in data.items()
             if section != "preset_en" for key, value in entries.items()
             if isinstance(value, dict) and set(value) - fields]
    assert stray == []


def test_every_glossary_key_and_label_is_text():
    """YAML reads an unquoted yes, no, on or off as a boolean: a key 'yes' became True (a stray duplicate of the
    quoted one); every key and every label must stay text."""
    from sim.tables.glossary import GLOSSARY

    assert [k for k in GLOSSARY if not isinstance(k, str)] == []
    assert all(isinstance(e.en, str) and isinstance(e.zh, str) for e in GLOSSARY.values())
