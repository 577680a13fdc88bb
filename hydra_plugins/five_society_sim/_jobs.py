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
from collections.abc import Sequence

from hydra.core.override_parser.types import Override
from hydra.errors import HydraException


def sweep_jobs(overrides: Sequence[Override], max_batch_size: int | None) -> list[list[list[str]]]:
    """Batches of jobs (each job a list of ``key=value`` strings) for parsed command-line overrides.

    A sweep of discrete values (``a=1,2``, ``choice(...)``, ``range(...)``, ``glob(...)``) gives one
    job per value; interval sweeps (``interval(0,1)``) are refused, as the basic sweeper refuses
    them.  ``max_batch_size=None`` puts every job in one batch.
    """
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
    jobs = [list(job) for job in itertools.product(*values.values())]
    if max_batch_size is None:
        return [jobs]
    if max_batch_size <= 0:
        raise HydraException(f"hydra.sweeper.max_batch_size must be a positive number of jobs, got {max_batch_size}")
    return [jobs[start:start + max_batch_size] for start in range(0, len(jobs), max_batch_size)]
