"""The jobs of a sweep, listed exactly as Hydra's basic sweeper lists them.

``python -m sim -m policy=baseline,micro_fund seed='range(0,3)'`` gives six jobs, each a list of
``key=value`` overrides: the cartesian product of every key's values, keys in the order they were
first given (a key given twice keeps its first place and its last values), values in the order
written.  ``hydra.sweeper.max_batch_size`` cuts that list into batches launched one after another.

Built on Hydra's public override parser only (``hydra.core.override_parser``), so that this
project's sweeper (checked_sweeper.py) launches the same jobs as ``hydra/sweeper=basic`` without
subclassing its private class.  (A leading underscore keeps Hydra's plugin scan from executing this
helper module a second time, which would give its classes a second identity.)
"""

import itertools
import math
from collections.abc import Iterator, Sequence

from hydra.core.override_parser.types import Override, RangeSweep
from hydra.errors import HydraException


def job_count(overrides: Sequence[Override]) -> int:
    """The number of jobs the overrides make, counted without listing them: the product of each key's number of
    values (a key given twice counts once, with its last values); a ``range(...)`` is counted arithmetically, so
    ``seed=range(0,100000000)`` is counted at once, in constant memory."""
    counts: dict[str, int] = {}
    for override in overrides:
        counts[override.get_key_element()] = _value_count(override)
    return math.prod(counts.values())


def _value_count(override: Override) -> int:
    if not override.is_sweep_override():
        return 1
    if not override.is_discrete_sweep():
        assert override.value_type is not None
        raise HydraException(f"the sweeper does not support sweep type : {override.value_type.name}")
    value = override.value()
    if isinstance(value, RangeSweep) and not value.step:
        raise HydraException(f"{override.input_line}: a range's step cannot be 0")
    if isinstance(value, RangeSweep) and all(
            isinstance(v, int) for v in (value.start, value.stop, value.step)):
        return max(0, -((value.start - value.stop) // value.step))  # ceil((stop - start) / step), exactly
    return sum(1 for _ in override.sweep_string_iterator())  # a choice, a glob, a range of floats: their values


def key_values(overrides: Sequence[Override]) -> dict[str, list[str]]:
    """Each key's ``key=value`` strings, keys in the order first given (a key given twice keeps its first place and
    its last values).  Holds the values of each key, not the jobs (their product): check :func:`job_count` first."""
    values: dict[str, list[str]] = {}
    for override in overrides:
        key = override.get_key_element()
        if override.is_sweep_override():
            if not override.is_discrete_sweep():
                assert override.value_type is not None
                raise HydraException(f"the sweeper does not support sweep type : {override.value_type.name}")
            values[key] = [f"{key}={value}" for value in override.sweep_string_iterator()]
        else:
            values[key] = [f"{key}={override.get_value_element_as_str()}"]
    return values


def iter_jobs(values: dict[str, list[str]]) -> Iterator[list[str]]:
    """The jobs, one at a time, in the basic sweeper's order: the cartesian product of the keys' values."""
    for job in itertools.product(*values.values()):
        yield list(job)


def iter_batches(values: dict[str, list[str]], max_batch_size: int | None) -> Iterator[list[list[str]]]:
    """The jobs in batches of at most ``max_batch_size`` (None: one batch), made one batch at a time."""
    if max_batch_size is not None and max_batch_size <= 0:
        raise HydraException(f"hydra.sweeper.max_batch_size must be a positive number of jobs, got {max_batch_size}")
    jobs = iter_jobs(values)
    first = True
    while batch := list(itertools.islice(jobs, max_batch_size)):
        first = False
        yield batch
    if first and max_batch_size is None:  # no job at all: one empty batch, as the basic sweeper gives
        yield []


def sweep_jobs(overrides: Sequence[Override], max_batch_size: int | None) -> list[list[list[str]]]:
    """Batches of jobs (each job a list of ``key=value`` strings) for parsed command-line overrides.

    A sweep of discrete values (``a=1,2``, ``choice(...)``, ``range(...)``, ``glob(...)``) gives one
    job per value; interval sweeps (``interval(0,1)``) are refused, as the basic sweeper refuses
    them.  ``max_batch_size=None`` puts every job in one batch.  Lists every job: the sweeper itself
    counts them first (:func:`job_count`) and makes them batch by batch (:func:`iter_batches`).
    """
    if max_batch_size is not None and max_batch_size <= 0:
        raise HydraException(f"hydra.sweeper.max_batch_size must be a positive number of jobs, got {max_batch_size}")
    return list(iter_batches(key_values(overrides), max_batch_size))
