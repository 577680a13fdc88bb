"""Configuration: composing, validating and describing the parameters of a run.

The parameters themselves, each with its unit, range, meaning and source, are the dataclasses of
:mod:`sim.settings.schema` (re-exported here: ``from sim.settings.config import SimConfig`` works).  Hydra composes the
YAML files of ``configs/`` onto them (so an unknown key or a wrong type is refused at composition);
:func:`to_settings` turns the composed config into objects whose ``__post_init__`` checks every
range before anything runs; :func:`with_values` sets values on validated settings without
composing again; :func:`parameter_table` documents every parameter (``--help``, docs/ODD.md).
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import functools
import typing
from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim.levers import Governance
from sim.settings.params import coerce_value
from sim.settings.schema import (
    ASSUMPTION,
    GROUPS,
    BehaviourConfig,
    CommunityConfig,
    ConfigError,
    DemandRates,
    DistrictConfig,
    DistrictMember,
    GroupShares,
    PolicyConfig,
    SimConfig,
    check_leaf,
    check_ranges,
    community_presets,
    district_presets,
    format_limit,
    iter_params,
    param,
    policy_presets,
    section,
)

__all__ = [
    "ASSUMPTION",
    "GROUPS",
    "BehaviourConfig",
    "CommunityConfig",
    "ConfigError",
    "DemandRates",
    "DistrictConfig",
    "DistrictMember",
    "Governance",
    "GroupShares",
    "PolicyConfig",
    "SimConfig",
    "check_ranges",
    "check_value",
    "coerce_value",
    "community_presets",
    "compose_config",
    "district_presets",
    "iter_params",
    "load_community_preset",
    "param",
    "parameter_table",
    "policy_presets",
    "register_configs",
    "schema_fields",
    "section",
    "settings_for",
    "shipped_settings",
    "to_plain_dict",
    "to_settings",
    "with_values",
]


def load_community_preset(name: str) -> CommunityConfig:
    """A community preset read straight from configs/community/<name>.yaml, validated."""
    from importlib.resources import files

    if name not in community_presets():
        raise ConfigError(f"unknown community preset {name!r}; choose one of: {', '.join(community_presets())}")
    text = files("sim.configs").joinpath("community", f"{name}.yaml").read_text(encoding="utf-8")
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(CommunityConfig), OmegaConf.create(text)))


@functools.cache
def schema_fields() -> Mapping[str, dataclasses.Field]:
    """Every leaf parameter of the schema: dotted key → dataclass field (unit, lo, hi, … metadata)."""
    return MappingProxyType({key: f for key, f, _value in iter_params(SimConfig)})


def check_value(key: str, value: Any) -> bool:
    """Check one value of a numeric parameter against the schema (type and range), without composing.

    For the sweeper (hydra/sweeper=sim): True when ``key`` is an int or float parameter and
    ``value`` is valid for it; raises ConfigError (naming the key and the allowed range) when it is
    not; False when ``key`` is anything else (a config group, a text or enum parameter, a Hydra
    key), which the caller then checks by composing a config.
    """
    f = schema_fields().get(key)
    if f is None or f.type not in ("int", "float"):
        return False
    check_leaf(key, f, coerce_value(key, f, value))
    return True


def with_values(settings: SimConfig, values: Mapping[str, Any]) -> SimConfig:
    """A validated copy of ``settings`` with the dotted keys of ``values`` set.

    ``with_values(s, {"seed": 3, "policy.fund.transparency": 0.5})``: each value is converted to its
    parameter's type as Hydra would (an integer-valued float for an int, an int for a float, numpy
    scalars to Python ones) and range-checked; then every cross-field rule is checked again.  Raises
    ConfigError naming the key.  The same values given as overrides to :func:`settings_for` give an
    equal config (and the same config hash).
    """
    fields = schema_fields()
    out = copy.deepcopy(settings)
    for key, value in values.items():
        f = fields.get(key)
        if f is None:
            raise ConfigError(f"{key} is not a parameter; see python -m sim --help")
        value = coerce_value(key, f, value)
        check_leaf(key, f, value)
        *path, leaf = key.split(".")
        parent = out
        for part in path:
            parent = getattr(parent, part)
            if parent is None:
                raise ConfigError(f"{key}: these settings have no {part} (choose one first, e.g. {part}=...)")
        setattr(parent, leaf, value)
    _revalidate(out)
    return out


def get_value(settings: SimConfig, key: str) -> Any:
    """A parameter's value by dotted key (the inverse of :func:`with_values`); enums by name."""
    obj: Any = settings
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj.name if isinstance(obj, Enum) else obj


def to_settings(cfg: DictConfig | SimConfig) -> SimConfig:
    """Turn a composed Hydra config into validated objects (raises ConfigError on a bad value)."""
    if isinstance(cfg, SimConfig):
        _revalidate(cfg)  # every __post_init__ again (ranges and cross-field rules), no copy
        return cfg
    node = cfg
    if not OmegaConf.is_config(node):
        node = OmegaConf.create(node)
    # Keep only the model's own keys (a composed config also carries `hydra` when read from disk).
    own = {k: v for k, v in node.items() if k != "hydra"}
    _refuse_unknown_keys(OmegaConf.to_container(OmegaConf.create(own), resolve=False), SimConfig)
    merged = OmegaConf.merge(_schema_node(), own)  # merge copies its first argument: the cached node stays as it is
    try:
        obj = OmegaConf.to_object(merged)
    except ConfigError:
        raise
    except Exception as exc:  # OmegaConf wraps errors raised in __post_init__
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ConfigError):
            raise cause from None
        raise
    return obj


@functools.cache
def _schema_node() -> DictConfig:
    """The schema as an OmegaConf node, built once per process (~35 ms a time)."""
    return OmegaConf.structured(SimConfig)


def _refuse_unknown_keys(data: Mapping, cls: type, prefix: str = "") -> None:
    """Raise ConfigError for a key of ``data`` that is not a field of the schema class ``cls`` (at any depth).

    OmegaConf keeps a key added with ``+`` (``+policy.micro_fund.fen_per_units=5``) and then drops it
    silently when it builds the objects; refusing it here means a misspelt lever never runs.
    """
    hints = _section_types(cls)
    for key, value in data.items():
        if key not in hints:
            close = difflib.get_close_matches(str(key), list(hints), n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(prefix + c for c in close)}?" if close else \
                f"; {prefix.rstrip('.') or 'the config'} has: {', '.join(hints)}"
            raise ConfigError(f"{prefix}{key} is not a parameter{hint}")
        section_cls, is_list = hints[key]
        if section_cls is None or value is None:
            continue
        for k, item in enumerate(value if is_list and isinstance(value, list) else [value]):
            if isinstance(item, Mapping):
                _refuse_unknown_keys(item, section_cls, f"{prefix}{key}[{k}]." if is_list else f"{prefix}{key}.")


@functools.cache
def _section_types(cls: type) -> dict[str, tuple[type | None, bool]]:
    """Each field of a schema class → (its section class or None for a plain value, whether it is a list)."""
    out = {}
    for name, tp in typing.get_type_hints(cls).items():
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if typing.get_origin(tp) is list and args and dataclasses.is_dataclass(args[0]):
            out[name] = (args[0], True)
        elif dataclasses.is_dataclass(tp):
            out[name] = (tp, False)
        elif args and dataclasses.is_dataclass(args[0]):  # DistrictConfig | None
            out[name] = (args[0], False)
        else:
            out[name] = (None, False)
    return out


def _revalidate(obj) -> None:
    """Run ``__post_init__`` of every nested dataclass, innermost first (as building it would)."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        for item in value if isinstance(value, list) else (value,):
            if dataclasses.is_dataclass(item):
                _revalidate(item)
    post = getattr(obj, "__post_init__", None)
    if post is not None:
        post()


def to_plain_dict(cfg: SimConfig) -> dict:
    """The config as plain JSON-able data (enums by name), in field order; a field declared ``quiet_default``
    (a lever's schedule, :mod:`sim.levers.schedule`) is left out at its default, so that it names no run folder.

    The same data as ``OmegaConf.to_container(OmegaConf.structured(cfg), enum_to_str=True)`` (a
    test checks this) at a hundredth of the cost: it is hashed and written for every run.
    """
    return _plain(cfg)


def _default(f: dataclasses.Field):
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def _plain(value):
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not (f.metadata.get("quiet_default") and getattr(value, f.name) == _default(f))}
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@functools.cache
def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore; configs/config.yaml builds on it.  Once per process: the store
    outlives a composition, and building the schema's node costs ~50 ms."""
    cs = ConfigStore.instance()
    cs.store(name="sim_schema", node=SimConfig)
    # The group files are typed through sim_schema's fields; no group schemas are stored, so that
    # Hydra lists only real presets as options.


def shipped_settings() -> SimConfig:
    """The settings of a run with no overrides: the schema, then configs/config.yaml's default choices.

    Read directly from the shipped YAML files (no Hydra composition, so ``--help`` can call it while
    Hydra is running); a test checks it equals ``settings_for()``.
    """
    from importlib.resources import files

    root = files("sim.configs")
    groups = {f.name for f in dataclasses.fields(SimConfig)}
    parts = {group: OmegaConf.load(str(root / group / f"{option}.yaml"))
             for group, option in _default_choices().items() if group in groups and option is not None}
    top = OmegaConf.load(str(root / "config.yaml"))
    own = {k: v for k, v in top.items() if k not in ("defaults", "hydra")}
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(SimConfig), parts, own))


def parameter_table(markdown: bool = True) -> str:
    """Every parameter with default, unit, range and source (used by --help and docs/ODD.md).

    The default is what a run with no overrides uses (:func:`shipped_settings`); where that differs
    from the schema's embedded default (a preset's value, or a calibrated behavioural parameter,
    configs/behaviour/calibrated.yaml) the schema default follows in brackets.
    """
    shipped = {key: value for key, _f, value in iter_params(shipped_settings())}
    choice = _default_choices()
    rows, schedule_rows = [], {}
    for key, f, schema_value in iter_params(SimConfig):
        m = f.metadata
        if key.startswith("policy.") and m.get("quiet_default"):  # every lever's schedule: one row per field
            name = key.rsplit(".", 1)[1]
            if name not in schedule_rows:
                lo, hi = m.get("lo"), m.get("hi")
                rng = "" if lo is None and hi is None else f"[{format_limit(lo)}, {format_limit(hi)}]"
                schedule_rows[name] = (f"policy.<lever>.{name}", str(schema_value).replace("None", "null"),
                                       m.get("unit", ""), rng, m.get("help", ""), m.get("source", ""))
            continue
        value = shipped.get(key, schema_value)
        if value is None:  # a group off by default (district): its schema defaults apply when chosen
            value = schema_value
        text = value.name if isinstance(value, Enum) else str(value)
        source = m.get("source", "")
        if value != schema_value:
            text += f" (schema: {schema_value.name if isinstance(schema_value, Enum) else schema_value})"
            group = key.split(".", 1)[0]
            where = f"configs/{group}/{choice.get(group)}.yaml"
            source = (f"calibrated ({where}, docs/calibration.md); prior: {source}" if group == "behaviour"
                      else f"{where}; {source}")
        lo, hi = m.get("lo"), m.get("hi")
        rng = ", ".join(m["choices"]) if m.get("choices") else (
            "" if lo is None and hi is None else f"[{format_limit(lo)}, {format_limit(hi)}]")
        rows.append((key, text, m.get("unit", ""), rng, m.get("help", ""), source))
    rows += schedule_rows.values()
    if markdown:
        out = ["| parameter | default | unit | range | meaning | source |", "|---|---|---|---|---|---|"]
        out += ["| `" + r[0] + "` | " + " | ".join(c.replace("|", "/") for c in r[1:]) + " |" for r in rows]
        return "\n".join(out)
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"  {r[0]:<{width}}  {r[1]:>12} {r[2]:<22} {r[3]:<18} {r[4]}" for r in rows)


def _default_choices() -> dict[str, str]:
    """configs/config.yaml's default option per config group, e.g. {"behaviour": "calibrated"}."""
    return dict(_read_default_choices())


@functools.cache
def _read_default_choices() -> dict[str, str]:
    """The file read once per process (it ships with the package; a composition used to read it 12 times)."""
    from importlib.resources import files

    top = OmegaConf.load(str(files("sim.configs") / "config.yaml"))
    out = {}
    for entry in top.get("defaults", []):
        if isinstance(entry, DictConfig):
            out.update({k: v for k, v in entry.items() if not k.startswith("override ")})
    return out


def compose_config(overrides: list[str] | tuple[str, ...] = (), return_hydra_config: bool = False) -> DictConfig:
    """Compose the Hydra config (configs/config.yaml + overrides) without running the CLI.

    For notebooks, tests, experiments and the dashboard: ``compose_config(["policy=micro_fund"])``.
    The result still needs :func:`to_settings` (which validates ranges).
    """
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    choices = _default_choices()
    groups = {f.name for f in dataclasses.fields(SimConfig) if f.name in choices}
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        option = override.value()
        if override.key_or_group in groups and isinstance(option, str) and ("/" in option or option.startswith(".")):
            # Hydra would read another folder's file (community=../policy/baseline runs a "community" baseline)
            raise ConfigError(f"{override.key_or_group}={option!r} is not a {override.key_or_group} option: "
                              "give a name, not a path (python -m sim --help lists them)")
    register_configs()
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_module("sim.configs", version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=return_hydra_config)


def settings_for(*overrides: str) -> SimConfig:
    """Validated settings for the given overrides, e.g. ``settings_for("community=township", "steps=52")``."""
    return to_settings(compose_config(overrides))
