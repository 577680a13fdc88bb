"""Check every job of a sweep before any starts, composing each combination of config groups once.

Hydra's basic sweeper composes the full config of every job in the main process before launching
(about 0.1 s a job here: a 1,470-job grid waited over two minutes).  :class:`JobCheck` reaches the
same verdict, job by job, with far fewer compositions:

* Overrides that choose config-group options (``policy=micro_fund``, ``+experiment=one_cent``,
  ``~district``, ``db@backup=pg``) decide what is composed.  Each distinct combination of them
  that occurs in the sweep is composed once, by Hydra's own config loader, as a job would be; a
  missing option, or options that do not go together, stop the sweep there.
* The other overrides set values (``seed=3``, ``policy.micro_fund.fen_per_unit=2``, ``+tag=x``,
  ``~key``).  Each is applied to its combination's composed config the way Hydra applies it, so
  OmegaConf checks it against the structured schema (an unknown key, a float for an integer, a
  name that is not an option of an enum) without composing again.  Interpolations such as
  ``${steps}`` or ``${hydra:runtime.choices.policy}`` are stored, not resolved: they resolve inside
  each job, as with the basic sweeper.  Values on unrelated keys cannot affect each other, so each
  distinct value is applied once per combination; values on overlapping keys (``a={x:1}`` and
  ``a.x=2``, ``+a=1`` and ``a=2``) are applied together, as they occur in the jobs.
* With ``value_check`` (this project: ``sim.settings.config.check_value``), each value set by an override
  is also checked against its allowed range, once per distinct value.

A 7 presets × 7 policies × 30 seeds grid (1,470 jobs) is then 49 compositions (instead of 1,470),
1,470 assignments of a seed into a composed config (well under a millisecond each) and 30 range checks.
A rule that only fails for one combination of *values* (more households than residents) is
left to the job, which is then recorded as failed without stopping the others (sim/runs/sweep.py).

A leading underscore keeps Hydra's plugin scan from executing this helper module a second time
(which would give :class:`SweepConfigError` a second identity that the sweeper does not catch).
"""

import copy
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hydra.core.config_loader import ConfigLoader
from hydra.core.object_type import ObjectType
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from hydra.errors import CompactHydraException, ConfigCompositionException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException


class SweepConfigError(CompactHydraException):
    """A job of the sweep that would fail to compose, or a value out of range (printed without a traceback)."""


def apply_override(cfg: DictConfig, override: Override) -> None:
    """Apply one value override to a composed config, with Hydra's rules for ``key=``, ``+``, ``++`` and ``~``.

    The same rules (and messages) as Hydra's config loader uses when it composes a job, written with
    OmegaConf's public API.
    """
    key, value = override.key_or_group, override.value()
    try:
        if override.is_delete():
            current = OmegaConf.select(cfg, key, throw_on_missing=False)
            if current is None:
                raise ConfigCompositionException(f"Could not delete from config. '{key}' does not exist.")
            if value is not None and value != current:
                raise ConfigCompositionException(
                    f"Could not delete from config. The value of '{key}' is {current} and not {value}.")
            parent_key, _, leaf = key.rpartition(".")
            with open_dict(cfg):
                parent = OmegaConf.select(cfg, parent_key) if parent_key else cfg
                del parent[leaf]
        elif override.is_add():
            if OmegaConf.select(cfg, key, throw_on_missing=False) is not None and not isinstance(value, dict | list):
                raise ConfigCompositionException(
                    f"Could not append to config. An item is already at '{key}'.\n"
                    f"Either remove + prefix: '{override.input_line[1:]}'\n"
                    f"Or add a second + to add or override '{key}': '+{override.input_line}'")
            OmegaConf.update(cfg, key, value, merge=True, force_add=True)
        elif override.is_force_add():
            OmegaConf.update(cfg, key, value, merge=True, force_add=True)
        else:
            try:
                OmegaConf.update(cfg, key, value, merge=True)
            except (ConfigAttributeError, ConfigKeyError) as exc:
                raise ConfigCompositionException(
                    f"Could not override '{key}'.\nTo append to your config use +{override.input_line}") from exc
    except OmegaConfBaseException as exc:
        raise ConfigCompositionException(f"Error merging override {override.input_line}") from exc


def _related(a: str, b: str) -> bool:
    """Two keys that can affect each other: the same key, or one inside the other."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _leaf_keys(key: str, value: Any) -> list[str]:
    """The dotted keys of the plain values an override sets (``a={x:1,y:{z:2}}`` → ``a.x``, ``a.y.z``)."""
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaf_keys(f"{key}.{k}", v)]
    if isinstance(value, list):
        return []
    return [key]


def _parent(cfg: DictConfig, key: str) -> tuple[Any, str]:
    """(the container holding ``key``, the last part of ``key``); the container is None if absent."""
    parent_key, _, leaf = key.rpartition(".")
    if not parent_key:
        return cfg, leaf
    parent = OmegaConf.select(cfg, parent_key, throw_on_missing=False, throw_on_resolution_failure=False)
    return parent, leaf


def _message(exc: BaseException, job: Sequence[str]) -> str:
    text = str(exc)
    cause = exc.__cause__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}\n{cause}"
    return f"{text}\n(sweep job: {' '.join(job)})"


class JobCheck:
    """Checks the jobs of a sweep against the configs they would compose; counts the work it did.

    ``config_loader`` and ``master_config`` are the sweeper's (the multirun's config, with its Hydra
    overrides); ``value_check(key, value)`` raises on a value out of its range.  After
    :meth:`check`, ``compositions`` is the number of configs composed and ``value_sets`` the number
    of override sets applied to them.
    """

    def __init__(self, config_loader: ConfigLoader, master_config: DictConfig,
                 value_check: Callable[[str, Any], Any] | None = None) -> None:
        self.config_loader = config_loader
        self.master_config = master_config
        self.value_check = value_check
        self.compositions = 0
        self.value_sets = 0
        self._parser = OverridesParser.create()
        self._parsed: dict[str, Override] = {}
        self._groups: dict[str, set[str]] = {}
        self._checked: set[tuple[str, type, Any]] = set()

    def check(self, jobs: Iterable[Sequence[str]]) -> None:
        """Raise :class:`SweepConfigError`, naming a job, if any job would not compose or has a value out of range.

        ``jobs`` is read once, job by job (a generator does: the sweep's jobs are never all held at once).  What
        is kept is one composed config per combination of group choices and the distinct value sets seen.
        """
        composed: dict[tuple[str, ...], tuple[DictConfig, DictConfig]] = {}  # groups → (as composed, plain values set)
        seen: set[tuple[tuple[str, ...], int, tuple[str, ...]]] = set()
        components: dict[tuple[str, ...], dict[str, int]] = {}
        for job in jobs:
            # a search path override can bring in new config groups: then every override of the job is composed
            everything_composes = any(self._parse(o).key_or_group == "hydra.searchpath" for o in job)
            groups = tuple(o for o in job if everything_composes or self._chooses_group(self._parse(o)))
            if groups not in composed:
                try:
                    cfg = self.config_loader.load_sweep_config(master_config=self.master_config,
                                                               sweep_overrides=list(groups))
                except Exception as exc:
                    raise SweepConfigError(_message(exc, job)) from exc
                self.compositions += 1
                composed[groups] = (cfg, copy.deepcopy(cfg))
            pristine, working = composed[groups]
            values = [o for o in job if o not in groups]
            keys = tuple(dict.fromkeys(self._parse(o).key_or_group for o in values))
            component = components.get(keys)
            if component is None:
                component = components[keys] = _components(keys)
            grouped: dict[int, list[str]] = {}
            for o in values:
                grouped.setdefault(component[self._parse(o).key_or_group], []).append(o)
            for c, overrides in grouped.items():
                key = (groups, c, tuple(overrides))
                if key in seen:
                    continue
                seen.add(key)
                self._apply_set(pristine, working, overrides, job)

    def _apply_set(self, pristine: DictConfig, working: DictConfig, overrides: Sequence[str],
                   job: Sequence[str]) -> None:
        """Apply one set of related value overrides.  A set that only changes plain values leaves the config's shape
        as it was: it is applied to ``working`` (a copy that only such sets change, one after another); any other
        (adding, deleting or merging) gets a fresh copy of the config as composed."""
        plain = all(self._changes_a_value(pristine, self._parse(o)) for o in overrides)
        target = working if plain else copy.deepcopy(pristine)
        self.value_sets += 1
        for o in overrides:
            parsed = self._parse(o)
            try:
                apply_override(target, parsed)
                self._check_range(target, parsed)
            except Exception as exc:
                raise SweepConfigError(_message(exc, job)) from exc

    def _parse(self, override: str) -> Override:
        parsed = self._parsed.get(override)
        if parsed is None:
            parsed = self._parsed[override] = self._parser.parse_override(override)
        return parsed

    def _chooses_group(self, override: Override) -> bool:
        """True for an override that chooses a config-group option (Hydra's rule: a group key, not a dict value)."""
        if override.package is not None:
            return True  # group@package=option (composition reports it if the group does not exist)
        if isinstance(override.value(), dict):
            return False
        parent, _, name = override.key_or_group.rpartition("/")
        if parent not in self._groups:
            self._groups[parent] = set(self.config_loader.get_group_options(
                parent, results_filter=ObjectType.GROUP, config_name=self.master_config.hydra.job.config_name,
                overrides=OmegaConf.to_container(self.master_config.hydra.overrides.hydra, resolve=False)))
        return name in self._groups[parent]

    @staticmethod
    def _changes_a_value(cfg: DictConfig, override: Override) -> bool:
        """True for ``key=value`` setting an existing plain (non-container, non-interpolation) value to a plain one."""
        if override.type is not OverrideType.CHANGE or isinstance(override.value(), dict | list):
            return False
        parent, leaf = _parent(cfg, override.key_or_group)
        if not OmegaConf.is_dict(parent) or leaf not in parent or OmegaConf.is_interpolation(parent, leaf):
            return False
        return not OmegaConf.is_config(parent[leaf])

    def _check_range(self, cfg: DictConfig, override: Override) -> None:
        """``value_check`` on each plain value the override set (interpolations resolve later, in the job)."""
        if self.value_check is None or override.is_delete():
            return
        for key in _leaf_keys(override.key_or_group, override.value()):
            parent, leaf = _parent(cfg, key)
            if not OmegaConf.is_dict(parent) or leaf not in parent or OmegaConf.is_interpolation(parent, leaf):
                continue
            value = parent[leaf]
            if OmegaConf.is_config(value):
                continue
            seen = (key, type(value), value)
            if seen not in self._checked:
                self.value_check(key, value)
                self._checked.add(seen)


def _components(keys: Sequence[str]) -> dict[str, int]:
    """Number the groups of related keys (``a``, ``a.x`` and ``+a`` together; ``b`` apart)."""
    component = {key: i for i, key in enumerate(keys)}
    for i, a in enumerate(keys):
        for b in keys[:i]:
            if _related(a, b) and component[a] != component[b]:
                old, new = component[a], component[b]
                component = {k: new if v == old else v for k, v in component.items()}
    return component
