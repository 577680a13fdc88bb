"""Replicates: scenarios A and B over the same 20 seeds, and 95 % confidence bands of their means.

One run can be lucky or unlucky; the page runs A and B for 20 consecutive seeds starting at its own
(the same seeds for both, so the pairs share their random numbers) through ``sim.runner.run_many``:
worker processes, each run written as a run folder like any sweep job, in a cache folder per
comparison, so running the same replicates again reads them back instead of running them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from dashboard.indicators import series, weekly_column
from dashboard.session import Comparison, SharedRuns
from sim.config import with_values
from sim.indicators import KEY_INDICATORS
from sim.kpi_table import is_fraction
from sim.outputs import TIMESERIES_FILE
from sim.runner import run_many

REPLICATE_SEEDS = 20
CACHE = Path(tempfile.gettempdir()) / "five_society_dashboard"


def replicate_seeds(seed: int, n: int = REPLICATE_SEEDS) -> list[int]:
    """``n`` consecutive seeds starting at the page's seed (within the schema's range)."""
    top = 2**32 - 1
    start = min(int(seed), top - n + 1)
    return list(range(start, start + n))


def cache_folder(comp: Comparison) -> Path:
    """The folder of a comparison's replicate runs: one per set of choices (both sides' overrides)."""
    digest = hashlib.sha256(repr(comp.key).encode()).hexdigest()[:16]
    return CACHE / digest


def run_replicates(comp: Comparison, n_seeds: int = REPLICATE_SEEDS, columns: Sequence[str] = KEY_INDICATORS,
                   n_jobs: int | None = None, on_progress: Callable[[int, int], None] | None = None,
                   folder: Path | None = None) -> pd.DataFrame:
    """Run A and B for ``n_seeds`` seeds (the same seeds for both) in worker processes (``n_jobs``, default
    all cores; 1: in this process), into ``folder`` (default :func:`cache_folder`).

    Returns a long table: scenario, seed, step and one column per indicator of ``columns`` (a run total, such
    as the public cost, as its running sum: dashboard.indicators.series).  The seeds
    run in batches, one A-B pair per two workers, each batch into its own subfolder;
    ``on_progress(done, total)`` is called after each batch.  A failed run raises RuntimeError with its error.
    """
    folder = cache_folder(comp) if folder is None else Path(folder)
    workers = n_jobs or os.cpu_count() or 1
    seeds = replicate_seeds(comp.seed, n_seeds)
    total = 2 * len(seeds)
    if comp.changes:  # levers moved during the run: each seed replays them, in this process
        return _replayed(comp, seeds, columns, on_progress)
    per_batch = max(1, workers // 2)  # seeds per batch: one A-B pair per two workers
    frames = []
    for i in range(0, len(seeds), per_batch):
        batch = [(side, seed) for seed in seeds[i:i + per_batch] for side in comp.scenarios]
        # each batch in its own folder, so that run_many collates only its own runs
        out_dir = folder / f"seeds={batch[0][1]}-{batch[-1][1]}"
        names = [f"{side},seed={seed}" for side, seed in batch]
        table = run_many([with_values(comp.scenarios[side].settings, {"seed": seed}) for side, seed in batch],
                         out_dir, n_jobs=workers, names=names, overrides=[[f"seed={seed}"] for _s, seed in batch],
                         progress=False)
        failed = table[table["status"] == "failed"]
        if len(failed):
            raise RuntimeError(f"replicate {failed['run_dir'].iloc[0]} failed: {failed['error'].iloc[0]}")
        for (side, seed), name in zip(batch, names, strict=True):
            weekly = pd.read_parquet(out_dir / name / TIMESERIES_FILE,
                                     columns=["step", *dict.fromkeys(weekly_column(c) for c in columns)])
            ts = pd.DataFrame({"step": weekly["step"], **{c: series(weekly, c) for c in columns}})
            ts.insert(0, "scenario", side)
            ts.insert(1, "seed", seed)
            frames.append(ts)
        if on_progress is not None:
            on_progress(min(total, 2 * (i + per_batch)), total)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["scenario", "seed", "step"], ignore_index=True)


def _replayed(comp: Comparison, seeds: list[int], columns: Sequence[str],
              on_progress: Callable[[int, int], None] | None) -> pd.DataFrame:
    """The replicates of a comparison whose levers moved during the run: each seed runs A and B from the starting
    scenarios with the same changes at the same weeks (dashboard.session.Comparison.with_seed)."""
    frames = []
    for i, seed in enumerate(seeds):
        rep = comp.with_seed(seed, SharedRuns(size=1))
        rep.step(rep.steps)
        for side in rep.scenarios:
            weekly = rep.timeseries(side)
            ts = pd.DataFrame({"step": weekly["step"], **{c: series(weekly, c) for c in columns}})
            ts.insert(0, "scenario", side)
            ts.insert(1, "seed", seed)
            frames.append(ts)
        if on_progress is not None:
            on_progress(2 * (i + 1), 2 * len(seeds))
    return pd.concat(frames, ignore_index=True).sort_values(["scenario", "seed", "step"], ignore_index=True)


def replicate_summary(reps: pd.DataFrame, columns: Sequence[str] = KEY_INDICATORS) -> pd.DataFrame:
    """Per indicator, scenario and week: n, mean, sd and the 95 % t confidence interval (low, high) of the mean
    (experiments.stats.summarise), rates' intervals clipped to [0, 1]."""
    from experiments.stats import summarise  # here: scipy.stats takes 0.5 s to import, the page's first run need not

    present = [c for c in columns if c in reps.columns]
    long = reps.melt(id_vars=["scenario", "seed", "step"], value_vars=present, var_name="indicator")
    out = summarise(long, by=["indicator", "scenario", "step"])
    # A rate's band is shown within [0, 1]: the t interval of a bounded value can overshoot.
    rate = out["indicator"].map(is_fraction).astype(bool)
    out.loc[rate, "low"] = out.loc[rate, "low"].clip(lower=0.0)
    out.loc[rate, "high"] = out.loc[rate, "high"].clip(upper=1.0)
    return out
