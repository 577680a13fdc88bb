"""Configuration: defaults, presets, policy files, validation messages and the parameter table."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from importlib.resources import files

import pytest
from conftest import COMMUNITIES, POLICIES, REPO, composed, make_settings
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import OmegaConf

from sim.settings.config import (
    CommunityConfig,
    ConfigError,
    PolicyConfig,
    SimConfig,
    check_ranges,
    community_presets,
    compose_config,
    iter_params,
    parameter_table,
    settings_for,
    to_plain_dict,
    to_settings,
    with_values,
)


def _leaves(d: dict, prefix: str = "") -> dict:
    """Flatten a nested dict to {dotted key: value}."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_leaves(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _yaml(group: str, name: str) -> dict:
    text = files("sim.configs").joinpath(group, f"{name}.yaml").read_text(encoding="utf-8")
    return OmegaConf.to_container(OmegaConf.create(text))


# --------------------------------------------------------------------------------------------
# defaults and presets
# --------------------------------------------------------------------------------------------
def test_defaults_validate():
    s = to_settings(composed())
    assert isinstance(s, SimConfig)
    check_ranges(s)  # does not raise
    assert (s.steps, s.seed, s.lang) == (260, 0, "en")
    assert s.community.name == "urban_traditional" and s.community.residents == 12000
    assert s.policy.name == "baseline"
    assert s.district is None
    # the schema defaults themselves validate too
    check_ranges(SimConfig())


def test_preset_lists_match_the_files():
    assert community_presets() == sorted(COMMUNITIES)
    policies = sorted(p.name[:-5] for p in files("sim.configs").joinpath("policy").iterdir()
                      if p.name.endswith(".yaml"))
    assert policies == sorted(POLICIES)


@pytest.mark.parametrize("community", COMMUNITIES)
def test_every_community_preset_composes_and_sets_what_its_file_says(community):
    s = make_settings(community=community)
    assert s.community.name == community
    config = _leaves(dataclasses.asdict(s.community))
    for key, value in _leaves(_yaml("community", community)).items():
        assert config[key] == pytest.approx(value), key
    assert sum(s.community.groups.as_tuple()) == pytest.approx(1.0)
    assert s.community.product_enterprises <= s.community.enterprises


@pytest.mark.parametrize("policy", POLICIES)
def test_policy_files_change_only_their_levers(policy):
    """A policy differs from the baseline exactly where its file sets a non-default value."""
    baseline = _leaves(to_plain_dict(make_settings(policy="baseline"))["policy"])
    composed = _leaves(to_plain_dict(make_settings(policy=policy))["policy"])
    in_file = _leaves(_yaml("policy", policy))
    changed = {k for k in composed if composed[k] != baseline[k]} - {"name", "label_zh"}
    set_to_non_default = {k for k, v in in_file.items() if k not in ("name", "label_zh") and baseline[k] != v}
    assert changed == set_to_non_default
    for key in in_file:
        assert composed[key] == in_file[key], key
    assert composed["name"] == policy


def test_baseline_policy_is_the_schema_default():
    """The baseline file sets nothing; the plain form leaves the levers' schedules out at their defaults."""
    schedule = {"start_week", "end_week", "changes"}
    full = OmegaConf.to_container(OmegaConf.structured(PolicyConfig), enum_to_str=True)
    assert to_plain_dict(make_settings(policy="baseline"))["policy"] == \
        {k: ({n: x for n, x in v.items() if n not in schedule} if isinstance(v, dict) else v) for k, v in full.items()}


def test_micro_fund_sets_one_fen_per_unit_and_nothing_else():
    base, micro = make_settings(policy="baseline"), make_settings(policy="micro_fund")
    assert micro.policy.micro_fund.fen_per_unit == 1
    assert base.policy.micro_fund.fen_per_unit == 0
    micro.policy.micro_fund = base.policy.micro_fund
    micro.policy.name, micro.policy.label_zh = base.policy.name, base.policy.label_zh
    assert micro == base


def test_override_reaches_the_settings():
    s = settings_for("community=township", "policy=micro_fund", "policy.micro_fund.fen_per_unit=2.5", "steps=20",
                     "progress=false", "seed=9")
    assert (s.community.name, s.policy.name, s.policy.micro_fund.fen_per_unit, s.steps, s.seed, s.progress) == \
        ("township", "micro_fund", 2.5, 20, 9, False)


# --------------------------------------------------------------------------------------------
# bad values
# --------------------------------------------------------------------------------------------
def _with(key: str, value, *overrides: str):
    """The composed config with ``key`` set to ``value`` (as the override ``key=value`` would)."""
    cfg = composed(*overrides)
    OmegaConf.update(cfg, key, value, merge=True)
    return cfg


@pytest.mark.parametrize(("key", "value", "message"), [
    ("policy.micro_fund.fen_per_unit", -1,
     r"^policy\.micro_fund\.fen_per_unit=-1(\.0)? is out of range: allowed \[0, 10000\] fen/unit$"),
    ("policy.fund.transparency", 2, r"^policy\.fund\.transparency=2(\.0)? is out of range: allowed \[0, 1\] 0-1$"),
    ("steps", 0, r"^steps=0 is out of range: allowed \[1, 5200\] weeks$"),
    ("community.residents", 3_000_000,
     r"^community\.residents=3000000 is out of range: allowed \[50, 2000000\] persons$"),
    ("lang", "fr", r"^lang='fr' is not allowed; choose one of: en, zh$"),
    ("community.groups.youth", 0.5, r"^community\.groups shares must sum to 1, got 1\.25"),
    ("policy.fund.needy_share", 0.9, r"^policy\.fund\.needy_share \+ services_share \+ projects_share must sum to 1"),
])
def test_bad_value_raises_config_error_naming_key_and_range(key, value, message):
    with pytest.raises(ConfigError, match=message):
        to_settings(_with(key, value))


def test_bad_override_through_hydra_raises_config_error():
    message = r"policy\.micro_fund\.fen_per_unit=-1\.0 is out of range: allowed \[0, 10000\]"
    with pytest.raises(ConfigError, match=message):
        settings_for("policy=micro_fund", "policy.micro_fund.fen_per_unit=-1")


def test_more_product_enterprises_than_enterprises_is_refused():
    with pytest.raises(ConfigError, match=r"community\.product_enterprises=3 exceeds community\.enterprises=2"):
        to_settings(_with("community.product_enterprises", 3, "community=relocation"))


def test_households_cannot_exceed_residents():
    with pytest.raises(ConfigError, match=r"community\.households=2000 exceeds community\.residents=1500"):
        to_settings(_with("community.households", 2000, "community=relocation"))


def test_check_ranges_catches_a_mutated_setting():
    s = make_settings()
    s.policy.micro_fund.fen_per_unit = -1
    with pytest.raises(ConfigError, match=r"policy\.micro_fund\.fen_per_unit=-1"):
        check_ranges(s)
    s.policy.micro_fund.fen_per_unit = float("nan")
    with pytest.raises(ConfigError, match=r"must be a number in \[0, 10000\] fen/unit"):
        check_ranges(s)


def test_to_settings_revalidates_cross_field_rules_of_a_settings_object():
    s = make_settings()
    s.policy.fund.needy_share = 0.9  # needy + services + projects = 1.5
    with pytest.raises(ConfigError, match="must sum to 1"):
        to_settings(s)


def test_with_values_equals_the_same_overrides_composed():
    import numpy as np

    from sim.runs.outputs import config_hash

    base = make_settings(steps=26)
    values = {"seed": np.int64(3), "behaviour.register_base": np.float64(0.000412),
              "behaviour.recognition_window_weeks": 25.0, "policy.fund.transparency": 1,
              "policy.fund.governance": "resident_led", "policy.fund.public_fundraising": True}
    got = with_values(base, values)
    want = settings_for("progress=false", "community=relocation", "policy=baseline", "steps=26", "seed=3",
                        "warmup_weeks=0",
                        "behaviour.register_base=0.000412", "behaviour.recognition_window_weeks=25",
                        "policy.fund.transparency=1", "policy.fund.governance=resident_led",
                        "policy.fund.public_fundraising=true")
    assert got == want and config_hash(got) == config_hash(want)
    assert type(got.behaviour.recognition_window_weeks) is int and type(got.policy.fund.transparency) is float
    assert base.seed == 0 and base.policy.fund.transparency != 1.0  # a copy: the original is untouched


@pytest.mark.parametrize(("values", "message"), [
    ({"seed": -1}, r"seed=-1 is out of range: allowed \[0, 4294967295\]"),
    ({"policy.fund.transparency": 1.5}, r"policy\.fund\.transparency=1\.5 is out of range"),
    ({"community.residents": 10.5}, r"community\.residents=10\.5 is not an integer"),
    ({"community.households": 2000}, r"community\.households=2000 exceeds community\.residents=1500"),
    ({"policy.fund.governance": "nobody"}, "choose one of: government_led, market_led, resident_led"),
    ({"policy.moral_bank.enabled": "yes"}, "must be true or false"),
    ({"no.such.key": 1}, "no.such.key is not a parameter"),
    ({"district.station_social_workers": 3}, "these settings have no district"),
])
def test_with_values_refuses_bad_values_naming_the_key(values, message):
    with pytest.raises(ConfigError, match=message):
        with_values(make_settings(), values)


def test_seed_range_is_printed_exactly():
    with pytest.raises(ConfigError, match=r"allowed \[0, 4294967295\]"):
        settings_for("seed=4294967296")


def test_wrong_type_is_refused_by_hydra_naming_the_key():
    with pytest.raises(ConfigCompositionException) as info:
        compose_config(["steps=abc"])
    text = f"{info.value} {info.value.__cause__}"
    assert "steps" in text and "abc" in text


def test_unknown_key_is_refused_by_hydra():
    with pytest.raises(ConfigCompositionException, match=r"community\.nope"):
        compose_config(["community.nope=1"])


def test_unknown_policy_lists_the_available_options():
    with pytest.raises(MissingConfigException) as info:
        settings_for("policy=nope")
    text = str(info.value)
    assert "policy/nope" in text
    assert "Available options in 'policy'" in text
    for policy in POLICIES:
        assert policy in text


def test_unknown_community_lists_the_available_options():
    with pytest.raises(MissingConfigException) as info:
        settings_for("community=nope")
    for community in COMMUNITIES:
        assert community in str(info.value)


# --------------------------------------------------------------------------------------------
# the parameter table
# --------------------------------------------------------------------------------------------
def _schema_leaves(cls, prefix: str = "") -> list[str]:
    """Every leaf parameter of the schema, found by walking the dataclass types (not iter_params)."""
    keys = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if typing.get_origin(tp) in (typing.Union, types.UnionType):  # DistrictConfig | None
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
        if dataclasses.is_dataclass(tp):
            keys += _schema_leaves(tp, f"{prefix}{f.name}.")
        else:
            keys.append(f"{prefix}{f.name}")
    return keys


def test_parameter_table_has_a_row_with_unit_for_every_leaf_parameter():
    rows = {}
    for line in parameter_table(markdown=True).splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        key = cells[0].strip("`")
        assert key not in rows, f"duplicate row {key}"
        rows[key] = cells
    leaves = _schema_leaves(SimConfig)
    assert len(leaves) > 100
    schedule = ("start_week", "end_week", "changes")  # every lever's schedule: one row each, policy.<lever>.…
    assert set(rows) == {k for k in leaves if not (k.startswith("policy.") and k.rsplit(".", 1)[1] in schedule)} \
        | {f"policy.<lever>.{name}" for name in schedule}
    for key, (_key, _default, unit, _rng, meaning, source) in rows.items():
        assert unit, f"{key} has no unit"
        assert meaning, f"{key} has no meaning"
        assert source, f"{key} has no source"
    assert rows["policy.micro_fund.fen_per_unit"][2:4] == ["fen/unit", "[0, 10000]"]
    assert rows["community.residents"][1:3] == ["12000", "persons"]
    assert rows["policy.fund.governance"][3] == "government_led, market_led, resident_led"


def test_every_numeric_parameter_has_a_range_containing_its_default():
    for key, f, value in iter_params(SimConfig()):
        lo, hi = f.metadata["lo"], f.metadata["hi"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        assert lo is not None or hi is not None, f"{key} has no range"
        assert (lo is None or lo <= value) and (hi is None or value <= hi), key


def test_plain_text_table_is_what_help_prints():
    text = parameter_table(markdown=False)
    line = next(x for x in text.splitlines() if x.strip().startswith("policy.micro_fund.fen_per_unit"))
    assert re.search(r"0\.0\s+fen/unit\s+\[0, 10000\]", line)


def test_community_config_defaults_validate():
    CommunityConfig()  # does not raise


ODD = REPO / "docs" / "ODD.md"


@pytest.mark.skipif(not ODD.exists(), reason="docs/ODD.md does not exist (README says it holds the generated tables)")
def test_generated_tables_of_odd_md_are_up_to_date():
    from sim.tables.docs import render

    text = ODD.read_text(encoding="utf-8")
    assert render(text) == text, "docs/ODD.md is out of date: run python -m sim.tables.docs"


def test_shipped_settings_are_what_a_run_without_overrides_uses():
    from sim.settings.config import shipped_settings

    assert to_plain_dict(shipped_settings()) == to_plain_dict(settings_for())


def test_parameter_table_shows_the_calibrated_values_a_run_uses():
    """--help and docs/ODD.md show the shipped (calibrated) default, and the schema's in brackets."""
    shipped = settings_for()
    rows = {line.split("|")[1].strip().strip("`"): line for line in parameter_table(markdown=True).splitlines()[2:]}
    calibrated = rows["behaviour.register_base"]
    assert f"| {shipped.behaviour.register_base} (schema: 0.0004) |" in calibrated
    assert "calibrated (configs/behaviour/calibrated.yaml" in calibrated
    assert "(schema:" not in rows["behaviour.register_influence"]  # not calibrated: the schema default


# --------------------------------------------------------------------------------------------
# keys and values that Hydra or OmegaConf would take silently
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("override", "message"), [
    ("+policy.micro_fund.fen_per_units=5",
     r"^policy\.micro_fund\.fen_per_units is not a parameter; did you mean policy\.micro_fund\.fen_per_unit\?$"),
    ("+community.foo=1", r"^community\.foo is not a parameter; community has: name, label_zh, residents, "),
    ("+policy._target_=os.system", r"^policy\._target_ is not a parameter; policy has: "),
    ("+polcy=micro_fund", r"^polcy is not a parameter; did you mean policy\?$"),
])
def test_a_key_added_with_plus_that_is_not_in_the_schema_is_refused(override, message):
    """OmegaConf would keep the key and then drop it when building the settings: the run would ignore it."""
    with pytest.raises(ConfigError, match=message):
        settings_for(override)


def test_unknown_keys_are_refused_inside_district_members():
    plain = to_plain_dict(make_settings())  # e.g. a config read back from a manifest: untyped
    plain["district"] = {"name": "d", "communities": [{"preset": "township", "count": 1, "cuont": 2}]}
    with pytest.raises(ConfigError, match=r"^district\.communities\[0\]\.cuont is not a parameter; did you mean "
                                          r"district\.communities\[0\]\.count\?$"):
        to_settings(OmegaConf.create(plain))


@pytest.mark.parametrize(("values", "message"), [
    ({"policy.moral_bank.enabled": 2}, r"^policy\.moral_bank\.enabled=2 must be true or false$"),
    ({"policy.moral_bank.enabled": 1}, r"^policy\.moral_bank\.enabled=1 must be true or false$"),
    ({"steps": True}, r"^steps=true is not an integer$"),
    ({"policy.micro_fund.fen_per_unit": 10 ** 400}, r"^policy\.micro_fund\.fen_per_unit=\d{28}…\(401 characters\) "
                                                     r"is too large a number$"),
    ({"seed": 10 ** 400}, r"^seed=\d{28}…\(401 characters\) is out of range: allowed \[0, 4294967295\]$"),
    ({"policy.fund.governance": 3}, r"^policy\.fund\.governance=3 is not allowed; choose one of: "),
])
def test_values_that_omegaconf_would_guess_are_refused(values, message):
    with pytest.raises(ConfigError, match=message):
        with_values(make_settings(), values)


def test_overwrite_is_a_yes_no_setting_outside_the_config_hash():
    from sim.runs.outputs import config_hash

    s = make_settings()
    assert s.overwrite is False
    assert config_hash(with_values(s, {"overwrite": True})) == config_hash(s)


@pytest.mark.parametrize("override", ["community=../policy/baseline", "policy=../community/township",
                                      "behaviour=./default", "district=../district/small_district"])
def test_a_config_group_option_is_a_name_not_a_path(override):
    """Hydra would read a file of another group: a policy file run as a community named "baseline"."""
    with pytest.raises(ConfigError, match=r"is not a \w+ option: give a name, not a path"):
        settings_for(override)
