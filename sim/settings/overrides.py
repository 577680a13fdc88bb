"""Checking a command line's overrides against the schema before Hydra composes anything.

Hydra refuses some bad input itself, but with a traceback, an empty run folder or a suggestion that
makes things worse (``polcy=x`` → "use +polcy=x"), and it silently accepts some (a misspelt key added
with ``+``, ``progress=2``, ``community=../policy/baseline``).  :func:`check_overrides` reads each
override with Hydra's own parser and refuses, with one line naming the key:

* a key that is neither a parameter of the schema (:mod:`sim.settings.schema`) nor a config group, at any
  depth and with or without ``+``, suggesting the closest valid keys ("did you mean …?");
* a config-group option that is not one of the shipped files (``community=nope``,
  ``community=../policy/baseline``, ``community=null``); removing a group (``~community``);
* a value of the wrong type (``steps=abc``, ``progress=2``: only true/false), out of its range,
  too large to be a number, ``null``, or an interpolation ``${…}`` that cannot be resolved;
* ``district.*`` keys when no district is chosen; the preset names and labels (``policy.name``,
  ``community.label_zh``, …), which name the outputs and are set only by the preset files;
* a sweep (``a=1,2``) without ``-m``.

``hydra.*`` keys and Hydra's own groups (``hydra/launcher=…``) are left to Hydra.  Rules that
relate several values (more households than residents) are checked when the config is built
(:func:`sim.settings.config.to_settings`).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import difflib
import functools
import math
import re
from collections.abc import Iterable, Sequence
from importlib.resources import files
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, Glob, IntervalSweep, Override, RangeSweep
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.settings.config import (
    ConfigError,
    DistrictMember,
    coerce_value,
    schema_fields,
    shipped_settings,
    to_plain_dict,
)
from sim.settings.schema import check_leaf, shown

GROUPS = ("community", "policy", "behaviour", "district")  # chosen in configs/config.yaml's defaults list
OPTIONAL_GROUPS = ("district",)                             # may be none (null)
ADDED_GROUPS = ("experiment",)                              # chosen with +experiment=NAME
# Names of presets: they label the outputs, so only the preset files set them.
PRESET_NAME_KEYS = tuple(f"{group}.{leaf}" for group in ("community", "policy", "district")
                         for leaf in ("name", "label_zh"))
OVERWRITE_KEY = "overwrite"
MAX_SWEEP_VALUES_CHECKED = 100_000  # a longer range is checked at its ends


@functools.cache
def group_options(group: str) -> tuple[str, ...]:
    """The options of a config group: the names of the YAML files in configs/<group>/."""
    folder = files("sim.configs").joinpath(group)
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml")))


@functools.cache
def _sections() -> frozenset[str]:
    """Every key that holds other keys (``community``, ``community.groups``, ``behaviour.demand_rates``, …)."""
    out = set()
    for key in schema_fields():
        parts = key.split(".")
        out.update(".".join(parts[:k]) for k in range(1, len(parts)))
    return frozenset(out)


def _suggest(key: str, candidates: Iterable[str]) -> str:
    """", did you mean a or b?" for the closest candidates (difflib), or "" when none is close."""
    close = difflib.get_close_matches(key, list(candidates), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def _unknown_key(key: str) -> ConfigError:
    fields, sections = schema_fields(), _sections()
    candidates = dict.fromkeys([*GROUPS, *(f"+{g}" for g in ADDED_GROUPS), *sections, *fields])
    hint = _suggest(key, candidates)
    parent = key.rpartition(".")[0]
    if not hint and parent in sections:
        children = sorted({k[len(parent) + 1:].split(".")[0] for k in fields if k.startswith(parent + ".")})
        hint = f"; {parent} has: {', '.join(children)}"
    elif not hint:
        hint = "; see python -m sim --help"
    return ConfigError(f"{key} is not a parameter or a config group{hint}")


@functools.cache
def _default_choices() -> dict[str, str | None]:
    """configs/config.yaml's option of each config group (``district``: None)."""
    defaults = OmegaConf.load(str(files("sim.configs") / "config.yaml")).get("defaults", [])
    return {group: option for entry in defaults if OmegaConf.is_dict(entry)
            for group, option in entry.items() if group in GROUPS}


class _Choices:
    """The config-group options each job of the command line would use (several in a sweep)."""

    def __init__(self) -> None:
        self.options: dict[str, set[str | None]] = {group: {option} for group, option in _default_choices().items()}

    def add_experiment(self, name: str) -> None:
        """An experiment file can choose options too (``override /community: industrial_park``)."""
        text = files("sim.configs").joinpath("experiment", f"{name}.yaml").read_text(encoding="utf-8")
        for entry in OmegaConf.create(text).get("defaults", []) or []:
            if OmegaConf.is_dict(entry):
                for group, option in entry.items():
                    group = group.removeprefix("override ").strip("/")
                    if group in GROUPS:
                        self.options[group] = {option}


def _values(override: Override, multirun: bool) -> list[Any]:
    """The values an override sets: one, or each value of a sweep."""
    value = override.value()
    if not override.is_sweep_override():
        return [value]
    key = override.key_or_group
    if not multirun:
        raise ConfigError(f"{override.input_line} is a sweep: add -m to run every value "
                          f"(python -m sim -m {override.input_line}), or quote it to use it as text")
    if isinstance(value, ChoiceSweep):
        return list(value.list)
    if isinstance(value, RangeSweep):
        if not value.step:
            raise ConfigError(f"{key}: the range's step is 0 in {override.input_line}; give a step other than 0 "
                              "(range(start, stop, step))")
        n = max(0, math.ceil((value.stop - value.start) / value.step))
        if n > MAX_SWEEP_VALUES_CHECKED:
            return [value.start, value.start + (n - 1) * value.step]
        return list(override.sweep_iterator())
    if isinstance(value, IntervalSweep):
        return [value.start, value.end]
    if isinstance(value, Glob):
        raise ConfigError(f"{key}=glob(…) chooses config-group options; {key} is a parameter")
    raise ConfigError(f"{override.input_line}: this kind of sweep is not supported")


def _check_group(override: Override, choices: _Choices, multirun: bool) -> None:
    """``community=…``, ``policy=…``, ``behaviour=…``, ``district=…`` (or their removal)."""
    group = override.key_or_group
    if override.is_delete():
        if group in OPTIONAL_GROUPS:
            choices.options[group] = {None}
            return
        raise ConfigError(f"~{group}: a {group} cannot be removed; choose one of: {', '.join(group_options(group))}")
    if override.is_add() or override.is_force_add():
        raise ConfigError(f"{override.input_line}: {group} is a config group already in the defaults; "
                          f"choose it without +: {group}={override.get_value_element_as_str()}")
    if isinstance(override.value(), Glob):
        if not multirun:
            raise ConfigError(f"{override.input_line} is a sweep: add -m to run every option")
        choices.options[group] = set(override.value().filter(list(group_options(group))))
        return
    found = set()
    for option in _values(override, multirun):
        if option is None and group in OPTIONAL_GROUPS:
            found.add(None)
            continue
        if not isinstance(option, str) or option not in group_options(group):
            none = ", or null for none" if group in OPTIONAL_GROUPS else ""
            raise ConfigError(f"{group}={shown(option)} is not a {group} option; choose one of: "
                              f"{', '.join(group_options(group))}{none}{_suggest(str(option), group_options(group))}")
        found.add(option)
    choices.options[group] = found


def _check_experiment(override: Override, choices: _Choices) -> None:
    options = group_options("experiment")
    if not (override.is_add() or override.is_force_add()):
        raise ConfigError(f"{override.input_line}: an experiment is added with a +: "
                          f"python -m sim +experiment=NAME ({', '.join(options)})")
    name = override.value()
    if not isinstance(name, str) or name not in options:
        raise ConfigError(f"experiment={shown(name)} is not an experiment; choose one of: "
                          f"{', '.join(options)}{_suggest(str(name), options)}")
    choices.add_experiment(name)


@functools.cache
def _plain_shipped() -> dict:
    return to_plain_dict(shipped_settings())


def _resolve(key: str, text: str) -> Any:
    """The value of an interpolation ``${…}`` set at ``key``, resolved against the shipped settings."""
    if "${hydra:" in text.replace(" ", ""):
        return None  # the job's own Hydra settings: resolved by Hydra inside the run
    from hydra.core.utils import setup_globals

    setup_globals()  # Hydra's resolvers (now, …), as a run has them
    probe = OmegaConf.create(copy.deepcopy(_plain_shipped()))
    try:
        OmegaConf.update(probe, key, text, force_add=True)
        return OmegaConf.select(probe, key, throw_on_resolution_failure=True)
    except (OmegaConfBaseException, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{key}={text}: the interpolation cannot be resolved ({reason})") from None


def _check_value(key: str, value: Any) -> None:
    """Check one value for the parameter or section ``key`` (type, range, choices); raise ConfigError."""
    if key in PRESET_NAME_KEYS:
        raise ConfigError(f"{key} names the preset in the outputs and is set by its file; "
                          f"choose another preset ({key.split('.')[0]}=…) instead")
    if isinstance(value, str) and "${" in value:
        resolved = _resolve(key, value)
        if resolved is not None:
            try:
                _check_value(key, resolved)
            except ConfigError as exc:
                raise ConfigError(f"{exc} (the value of {value})") from None
        return
    if key in _sections() or key in GROUPS:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}={shown(value)}: {key} is a section; set its keys ({key}.KEY=VALUE)")
        for k, v in value.items():
            sub = f"{key}.{k}"
            if sub not in schema_fields() and sub not in _sections():
                raise _unknown_key(sub)
            _check_value(sub, v)
        return
    f = schema_fields()[key]
    if value is None and f.metadata.get("nullable"):
        return
    if value is None:
        raise ConfigError(f"{key}=null: a value is needed")
    if f.type == "list[DistrictMember]":
        _check_members(key, value)
        return
    if isinstance(value, (dict, list)):
        raise ConfigError(f"{key}={shown(value)} must be a single value, not a {type(value).__name__}")
    check_leaf(key, f, coerce_value(key, f, value))


def _check_members(key: str, value: Any) -> None:
    """``district.communities=[{preset: township, count: 3}, …]``."""
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{key} must be a list like [{{preset: township, count: 3}}]")
    members = {f.name: f for f in dataclasses.fields(DistrictMember)}
    for k, item in enumerate(value):
        if not isinstance(item, dict):
            raise ConfigError(f"{key}[{k}]={shown(item)} must be like {{preset: township, count: 3}}")
        for name, v in item.items():
            if name not in members:
                raise ConfigError(f"{key}[{k}].{name} is not a key of a district member{_suggest(name, members)}")
            if name == "preset" and v not in group_options("community"):
                raise ConfigError(f"{key}[{k}].preset={shown(v)} is not a community preset; choose one of: "
                                  f"{', '.join(group_options('community'))}")
            check_leaf(f"{key}[{k}].{name}", members[name], coerce_value(f"{key}[{k}].{name}", members[name], v))


CHANGE_KEY = re.compile(r"^policy\.(?P<lever>\w+)\.changes(?:\.(?P<week>[^.]+)(?:\.(?P<param>\w+))?)?$")


def _check_change(key: str, lever: str, week: Any, param: str | None, value: Any) -> None:
    """A scheduled change of a lever (sim/levers/schedule.py): ``+policy.<lever>.changes.<week>.<param>=value``,
    or a whole mapping ``++policy.<lever>.changes={week: {param: value}}``."""
    if param is None:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}={shown(value)}: write {key}.<week>.<parameter>=<value> (with a leading +), or "
                              f"'++{key}={{<week>: {{<parameter>: <value>}}}}'")
        for k, v in value.items():
            if week is None:
                _check_change(f"{key}.{k}", lever, k, None, v)
            else:
                _check_change(f"{key}.{k}", lever, week, str(k), v)
        return
    if not ((isinstance(week, int) and not isinstance(week, bool)) or str(week).isdigit()) or int(week) < 1:
        raise ConfigError(f"{key}: week {week!r} is not a recorded week (a whole number ≥ 1)")
    target = f"policy.{lever}.{param}"
    if target not in schema_fields() or param in ("start_week", "end_week", "changes"):
        names = sorted(k.split(".")[2] for k in schema_fields() if k.startswith(f"policy.{lever}.")
                       and k.split(".")[2] not in ("start_week", "end_week", "changes"))
        raise ConfigError(f"{key}: {param} is not a parameter of policy.{lever}; allowed: {', '.join(names)}")
    _check_value(target, value)


def _check_value_override(override: Override, multirun: bool) -> str:
    """A parameter (or section) set by ``key=value``, ``+key=value`` or ``++key=value``; returns the key."""
    key = override.key_or_group
    change = CHANGE_KEY.match(key)
    if change and f"policy.{change['lever']}" in _sections():
        if override.is_delete():
            raise ConfigError(f"~{key}: a scheduled change cannot be removed here; leave it out of the command")
        for value in _values(override, multirun):
            if change["week"] is None:
                _check_change(key, change["lever"], None, None, value)
            else:
                _check_change(key, change["lever"], change["week"], change["param"], value)
        return key
    known = key in schema_fields() or key in _sections()
    if not known:
        raise _unknown_key(key)
    if override.is_delete():
        raise ConfigError(f"~{key}: parameters cannot be removed; set a value instead ({key}=…)")
    if override.is_add():
        raise ConfigError(f"{override.input_line}: {key} already exists; set it without +: "
                          f"{override.input_line.lstrip('+')}")
    if key == OVERWRITE_KEY and multirun:
        raise ConfigError("overwrite applies to a single run; a sweep re-runs only the jobs that are not complete")
    for value in _values(override, multirun):
        _check_value(key, value)
    return key


def check_overrides(overrides: Sequence[str], multirun: bool = False) -> None:
    """Refuse (ConfigError, one line naming the key) any override a run of this project cannot use.

    ``overrides`` are the command line's ``key=value`` arguments (no flags); ``multirun`` is true for
    ``-m`` (then ``a=1,2`` sweeps are allowed and each value is checked).
    """
    parser = OverridesParser.create()
    parsed: list[Override] = []
    given: dict[str, str] = {}
    for text in overrides:
        key = text.partition("=")[0].lstrip("+~") or text
        shown_text = text if len(text) <= 80 else f"{text[:60]}… ({len(text)} characters)"
        try:
            parsed.append(parser.parse_override(text))
        except HydraException as exc:  # Hydra's parser reports a syntax error as this
            reason = str(exc).splitlines()[0]
            raise ConfigError(f"{key}: cannot read {shown_text!r} ({reason}); quote values with spaces or "
                              "special characters") from None
        except (ValueError, RecursionError) as exc:  # e.g. a number of 10,000 digits
            reason = str(exc).split(";")[0]
            raise ConfigError(f"{key}: cannot read {shown_text!r} ({reason})") from None
        element = parsed[-1].key_or_group + (f"@{parsed[-1].package}" if parsed[-1].package else "")
        if element in given:  # Hydra would silently keep the last one
            raise ConfigError(f"{element} is given twice ({given[element]!r} and {shown_text!r}); give it once"
                              + (" (several values: a sweep, key=a,b with -m)" if not multirun else ""))
        given[element] = shown_text
    choices = _Choices()
    district_keys: list[str] = []
    for override in parsed:
        key = override.key_or_group
        if key == "hydra" or key.startswith(("hydra.", "hydra/")):
            _check_hydra_override(override)
            continue  # Hydra's own settings: Hydra checks them
        if override.package is not None:
            raise ConfigError(f"{override.input_line}: choosing a package with @ is not supported here")
        if "/" in key:
            raise ConfigError(f"{key} is not a config group{_suggest(key, (*GROUPS, *ADDED_GROUPS))}")
        if key in ADDED_GROUPS:
            _check_experiment(override, choices)
        elif key in GROUPS and not isinstance(override.value(), dict):
            _check_group(override, choices, multirun)
        else:
            checked = _check_value_override(override, multirun)
            if checked == "district" or checked.startswith("district."):
                district_keys.append(checked)
    if district_keys and None in choices.options.get("district", {None}):
        raise ConfigError(f"{district_keys[0]}: no district is chosen; add district=NAME "
                          f"({', '.join(group_options('district'))})")
    if multirun:
        check_sweep_size(parsed, choices)


# --------------------------------------------------------------------------------------------
# Hydra's own settings and groups, and the size of a sweep
# --------------------------------------------------------------------------------------------
FOLDER_KEYS = ("hydra.run.dir", "hydra.sweep.dir")


@functools.cache
def hydra_group_options(group: str) -> tuple[str, ...]:
    """The options of Hydra's config group ``hydra/<group>``: Hydra's own files, its installed plugins' and
    this project's (configs/hydra/<group>/)."""
    from hydra.core.config_store import ConfigStore
    from hydra.core.plugins import Plugins

    Plugins.instance()  # plugins register their options (joblib, submitit, this project's sweeper) on discovery
    names: set[str] = set()
    with contextlib.suppress(OSError, KeyError, ValueError):  # a group the config store does not hold
        names |= {n.removesuffix(".yaml") for n in ConfigStore.instance().list(f"hydra/{group}")}
    for root in (files("hydra.conf").joinpath("hydra", group), files("sim.configs").joinpath("hydra", group)):
        if root.is_dir():
            names |= {p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml")}
    return tuple(sorted(names))


def _check_hydra_override(override: Override) -> None:
    """``hydra/<group>=option`` only names an option of that group; the output folders are not empty; the
    sweeper's parameters are not set on the command line (they are the sweep's keys: ``seed=0,1`` with -m)."""
    key = override.key_or_group
    if key.startswith("hydra/"):
        group = key.removeprefix("hydra/")
        options = hydra_group_options(group)
        if not options:
            raise ConfigError(f"{key} is not one of Hydra's config groups; see python -m sim --hydra-help")
        values = list(override.value().list) if isinstance(override.value(), ChoiceSweep) else [override.value()]
        for value in values:
            if not isinstance(value, str) or value not in options:
                raise ConfigError(f"{key}={shown(value)} is not a {key} option; choose one of: {', '.join(options)}"
                                  f"{_suggest(str(value), options)}")
        return
    if key in FOLDER_KEYS and not override.is_delete():
        value = override.value()
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ConfigError(f"{key} is empty: give a folder ({key}=results/mine); the run's files would "
                              "otherwise land in the working folder")
    if key == "hydra.sweeper.params" or key.startswith("hydra.sweeper.params."):
        raise ConfigError(f"{key} cannot be set on the command line: sweep the keys themselves (python -m sim -m "
                          "seed=0,1 policy=baseline,micro_fund) or in an experiment file (configs/experiment/)")


def _value_count(override: Override, choices: _Choices | None = None) -> int:
    """How many values an override gives its key in a sweep, counted without listing them."""
    if not override.is_sweep_override():
        return 1
    value = override.value()
    if isinstance(value, RangeSweep):
        if not value.step:
            raise ConfigError(f"{override.key_or_group}: the range's step is 0 in {override.input_line}; "
                              "give a step other than 0 (range(start, stop, step))")
        return max(0, math.ceil((value.stop - value.start) / value.step))
    if isinstance(value, ChoiceSweep):
        return len(value.list)
    if isinstance(value, Glob):
        group = override.key_or_group
        options = group_options(group) if group in GROUPS else ()
        return len(value.filter(list(options)))
    return 1  # an interval: refused by the sweeper itself


def _experiment_params(parsed: Sequence[Override]) -> list[Override]:
    """The swept keys an experiment file adds (``hydra.sweeper.params``), parsed, placed before the command line's."""
    out: list[Override] = []
    parser = OverridesParser.create()
    for override in parsed:
        if override.key_or_group in ADDED_GROUPS and isinstance(override.value(), str):
            text = files("sim.configs").joinpath("experiment", f"{override.value()}.yaml").read_text(encoding="utf-8")
            params = OmegaConf.select(OmegaConf.create(text), "hydra.sweeper.params") or {}
            out += [parser.parse_override(f"{k}={v}") for k, v in params.items()]
    return out


def max_jobs(parsed: Sequence[Override]) -> int:
    """``sweep.max_jobs`` as the command line sets it, or its default (:mod:`sim.settings.schema`)."""
    for override in parsed:
        if override.key_or_group == "sweep.max_jobs" and not override.is_sweep_override():
            return int(override.value())
    return int(schema_fields()["sweep.max_jobs"].default)


def check_sweep_size(parsed: Sequence[Override], choices: _Choices | None = None) -> int:
    """The number of jobs of a sweep (``-m``), counted before anything is built; refuse an empty sweep (naming the
    key that has no values) and one above ``sweep.max_jobs`` (default 100,000)."""
    counts: dict[str, tuple[int, str]] = {}
    for override in [*_experiment_params(parsed), *parsed]:
        if override.key_or_group in ADDED_GROUPS:
            continue
        counts[override.get_key_element()] = (_value_count(override, choices), override.input_line)
    for n, line in counts.values():
        if n == 0:
            raise ConfigError(f"{line.partition('=')[0]}: {line} gives no values, so the sweep has no jobs; "
                              "nothing was started")
    total = math.prod(n for n, _ in counts.values())
    limit = max_jobs(parsed)
    if total > limit:
        raise ConfigError(f"sweep.max_jobs: the sweep has {total:,} jobs, above the limit of {limit:,}; nothing "
                          f"was started (narrow it, or raise the limit: sweep.max_jobs={total})")
    return total
