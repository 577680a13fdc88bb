"""The docs figures (sensitivity, validation, calibration, warm-up, replications) name everything from the glossary
in both languages (issue 27): no config key, pattern key or raw unit on a panel."""

from __future__ import annotations

import pytest

from experiments import calibrate, patterns, priors, sensitivity, warmup
from experiments.presentation import NO_LINE_START, kpi_label, param_name, unit_label, wrap
from sim.settings.config import schema_fields
from sim.tables.glossary import GLOSSARY, label

LANGS = ("en", "zh")


@pytest.mark.parametrize("lang", LANGS)
def test_every_parameter_the_analyses_vary_has_a_name(lang):
    keys = {*sensitivity.DEFAULT_PARAMS, *priors.CONTRAST_PRIORS, *calibrate.PRIORS}
    missing = sorted(k for k in keys if f"param:{k}" not in GLOSSARY)
    assert missing == [], f"add 'param:<key>' rows to sim/tables/glossary.yaml: {missing}"
    assert all("." not in param_name(k, lang) and "_" not in param_name(k, lang) for k in keys)


@pytest.mark.parametrize("lang", LANGS)
def test_every_pattern_level_and_unit_has_a_name(lang):
    fields = schema_fields()
    for p in patterns.PATTERNS:
        assert "_" not in label(f"pattern:{p.key}", lang), p.key
        assert label(f"level:{p.level}", lang) != f"level:{p.level}"
        assert f"unit:{p.unit}" in GLOSSARY, p.unit
    for key in calibrate.PRIORS:
        assert f"unit:{fields[key].metadata['unit']}" in GLOSSARY, key
    if lang == "zh":
        assert unit_label("yuan/year", lang) == "元/年" and unit_label("1/year", lang) == "每年"


def test_indicators_of_the_figures_have_chinese_names():
    for key in (*sensitivity.INDICATORS, *warmup.INDICATORS):
        assert kpi_label(key, "zh") != key and not kpi_label(key, "zh").isascii(), key


def test_chinese_labels_break_at_spaces_and_never_before_a_closing_mark():
    """The replications figure's zh y label broke mid-word ('置信区间半宽÷政' / '策间标准差'); a title broke before its
    colon ('虚线' / '：判定标准')."""
    assert wrap(label("rep_relative", "zh"), "zh", 20).split("\n") == ["置信区间半宽 ÷", "政策间标准差"]
    for key in ("rep_halfwidth_title", "fig_replication", "cap_replication", "rep_rule"):
        lines = wrap(label(key, "zh"), "zh", 26).split("\n")
        assert "".join(lines).replace(" ", "") == label(key, "zh").replace(" ", "")  # nothing lost
        assert not [line for line in lines[1:] if line[0] in NO_LINE_START], lines
        assert all(len(line) <= 14 for line in lines if "（" not in line), lines


def test_no_glossary_key_is_written_twice_in_its_table():
    """YAML keeps the last of two equal keys in one mapping, silently: a second `play` row once renamed the
    dashboard's Play button (issue 28's role-play). The table is read here with a loader that refuses it."""
    from importlib.resources import files

    import yaml

    class Strict(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
            twice = sorted({k for k in keys if keys.count(k) > 1})
            assert not twice, f"sim/tables/glossary.yaml line {node.start_mark.line + 1}: keys written twice: {twice}"
            return super().construct_mapping(node, deep=deep)

    table = yaml.load(files("sim.tables").joinpath("glossary.yaml").read_text(encoding="utf-8"), Loader=Strict)
    assert sum(len(rows) for rows in table.values()) > 500
