"""Replicates: scenarios A and B over the same 20 seeds, and 95 % confidence bands of their means.

One run can be lucky or unlucky; the page runs A and B for 20 consecutive seeds starting at its own
(the same seeds for both, so the pairs share their random numbers) through ``sim.runs.runner.run_many``:
worker processes, each run written as a run folder like any sweep job, in a cache folder per
comparison, so running the same replicates again reads them back instead of running them.

With parameter uncertainty (:func:`parameter_draws`), the 20 runs of a side are 5 parameter sets drawn
from the calibration's posterior (``configs/behaviour/posterior.csv``) × 4 seeds, the same for A and B;
:func:`parameter_bands` then gives each difference B − A at the last week its seed interval, its band over
the parameter sets and the share of sets in which its sign holds (experiments.stats.band_table).
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
from sim.model.indicators import KEY_INDICATORS
from sim.runs.outputs import TIMESERIES_FILE
from sim.runs.runner import run_many
from sim.settings.config import with_values
from sim.tables.kpi_table import is_fraction

REPLICATE_SEEDS = 20
PARAMETER_SETS = 5   # with parameter uncertainty: 5 posterior draws × 4 seeds = the same 20 runs a side
DRAW_SEED = 0        # the posterior draws are the same on every page and every run
CACHE_ENV = "FIVE_SOCIETY_DASHBOARD_CACHE"        # a folder of your choice for the replicates' runs
CACHE_LIMIT_ENV = "FIVE_SOCIETY_DASHBOARD_CACHE_MB"  # how much they may take on disk
CACHE_LIMIT_MB = 500.0


class CacheError(RuntimeError):
    """The replicates' cache folder cannot be used safely (another account's, or open to others)."""


def cache_root() -> Path:
    """The replicates' cache folder: ``$FIVE_SOCIETY_DASHBOARD_CACHE``, else ``$XDG_CACHE_HOME`` or ``~/.cache``
    + ``five_society_dashboard``; made with permissions 0700 (only this account), and refused if it belongs to
    another account (on a shared host, no one else can prepare or read it).  Where there is no home folder, a
    folder of this account's own under the system's temporary folder (``five_society_dashboard-<uid>``)."""
    if os.environ.get(CACHE_ENV):
        root = Path(os.environ[CACHE_ENV])
    else:
        base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache" if Path.home().is_dir() else None)
        uid = os.getuid() if hasattr(os, "getuid") else 0
        root = Path(base) / "five_society_dashboard" if base else \
            Path(tempfile.gettempdir()) / f"five_society_dashboard-{uid}"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    if hasattr(os, "getuid"):
        info = root.lstat()
        if root.is_symlink() or info.st_uid != os.getuid():
            raise CacheError(f"the replicates' cache folder {root} belongs to another account (or is a link); "
                             f"choose one with {CACHE_ENV}=FOLDER")
        if info.st_mode & 0o077:
            os.chmod(root, 0o700)  # ours, but open to others: close it
    return root


def cache_limit_bytes() -> int:
    """How much the replicates' cache may take (``$FIVE_SOCIETY_DASHBOARD_CACHE_MB``, default 500 MB)."""
    try:
        mb = float(os.environ.get(CACHE_LIMIT_ENV, CACHE_LIMIT_MB))
    except ValueError:
        mb = CACHE_LIMIT_MB
    return int(max(0.0, mb) * 1e6)


def prune_cache(root: Path, limit: int, keep: Path | None = None) -> list[Path]:
    """Remove the least recently used comparisons' folders until the cache takes at most ``limit`` bytes
    (``keep``, the folder in use, stays); return the removed folders."""
    import shutil

    folders = []
    for folder in (p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        folders.append((folder.stat().st_mtime, folder, size))
    total = sum(size for _, _, size in folders)
    removed = []
    for _, folder, size in sorted(folders, key=lambda item: item[0]):
        if total <= limit:
            break
        if keep is not None and folder.resolve() == keep.resolve():
            continue
        shutil.rmtree(folder, ignore_errors=True)
        total -= size
        removed.append(folder)
    return removed


def parameter_draws(n_sets: int = PARAMETER_SETS) -> pd.DataFrame:
    """``n_sets`` sets of the calibrated parameters drawn by weight from the shipped posterior sample (seeded).

    Raises experiments.validation.PosteriorError (naming the file) if the sample is missing or broken."""
    from experiments.calibrate import PRIORS  # here: the calibration's imports are not needed for a first page
    from experiments.validation import POSTERIOR_SAMPLE, load_posterior, resample

    keys = list(PRIORS)
    return resample(load_posterior(POSTERIOR_SAMPLE, keys), keys, n_sets, DRAW_SEED)


def replicate_seeds(seed: int, n: int = REPLICATE_SEEDS) -> list[int]:
    """``n`` consecutive seeds starting at the page's seed (within the schema's range)."""
    top = 2**32 - 1
    start = min(int(seed), top - n + 1)
    return list(range(start, start + n))


def cache_folder(comp: Comparison, parameters: pd.DataFrame | None = None) -> Path:
    """The folder of a comparison's replicate runs: one per set of choices (both sides' overrides) and
    parameter draws."""
    extra = "" if parameters is None else parameters.to_csv(index=False)
    digest = hashlib.sha256((repr(comp.key) + extra).encode()).hexdigest()[:16]
    return cache_root() / digest


def run_replicates(comp: Comparison, n_seeds: int = REPLICATE_SEEDS, columns: Sequence[str] = KEY_INDICATORS,
                   n_jobs: int | None = None, on_progress: Callable[[int, int], None] | None = None,
                   folder: Path | None = None, parameters: pd.DataFrame | None = None) -> pd.DataFrame:
    """Run A and B for ``n_seeds`` seeds (the same seeds for both) in worker processes (``n_jobs``, default
    all cores; 1: in this process), into ``folder`` (default :func:`cache_folder`).

    With ``parameters`` (one row per parameter set, e.g. :func:`parameter_draws`), the ``n_seeds`` runs of a side
    are each set × ``n_seeds // len(parameters)`` seeds, the same seeds in every set and for both sides; the table
    then has a ``parameter_set`` column. Not possible once levers moved during the run (ValueError).

    Returns a long table: scenario, seed, step and one column per indicator of ``columns`` (a run total, such
    as the public cost, as its running sum: dashboard.indicators.series).  The runs
    go in batches, one A-B pair per two workers, each batch into its own subfolder;
    ``on_progress(done, total)`` is called after each batch.  A failed run raises RuntimeError with its error.
    """
    cached = folder is None
    folder = cache_folder(comp, parameters) if folder is None else Path(folder)
    if cached:
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)  # used now: the last to be pruned
        prune_cache(folder.parent, cache_limit_bytes(), keep=folder)
    workers = n_jobs or os.cpu_count() or 1
    if parameters is None:
        seeds = replicate_seeds(comp.seed, n_seeds)
        pairs: list[tuple[int | None, int]] = [(None, seed) for seed in seeds]
    else:
        if comp.changes:
            raise ValueError("parameter sets need a run whose levers did not move: reset first")
        from experiments.design import coerce_design  # here: not needed for a first page

        points = coerce_design(parameters).to_dict("records")  # schema parameters, integers whole, Python numbers
        per_set = max(1, n_seeds // len(parameters))
        seeds = replicate_seeds(comp.seed, per_set)
        pairs = [(j, seed) for j in range(len(points)) for seed in seeds]
    total = 2 * len(pairs)
    if comp.changes:  # levers moved during the run: each seed replays them, in this process
        return _replayed(comp, seeds, columns, on_progress)
    per_batch = max(1, workers // 2)  # replicates per batch: one A-B pair per two workers
    frames = []
    for i in range(0, len(pairs), per_batch):
        batch = [(side, j, seed) for j, seed in pairs[i:i + per_batch] for side in comp.scenarios]
        # each batch in its own folder, so that run_many collates only its own runs
        out_dir = folder / (f"seeds={batch[0][2]}-{batch[-1][2]}" if parameters is None
                            else f"runs={i}-{i + len(batch) // 2 - 1}")
        names = [f"{side},seed={seed}" if j is None else f"{side},set={j},seed={seed}" for side, j, seed in batch]
        values = [{"seed": seed, **({} if j is None else points[j])} for _side, j, seed in batch]
        settings = [with_values(comp.scenarios[side].settings, v) for (side, _j, _s), v in zip(batch, values,
                                                                                              strict=True)]
        table = run_many(settings, out_dir, n_jobs=workers, names=names,
                         overrides=[[f"{k}={x}" for k, x in v.items()] for v in values], progress=False)
        failed = table[~table["status"].isin(["done", "skipped"])]
        if len(failed):
            raise RuntimeError(f"replicate {failed['run_dir'].iloc[0]} failed: {failed['error'].iloc[0]}")
        for (side, j, seed), name in zip(batch, names, strict=True):
            weekly = pd.read_parquet(out_dir / name / TIMESERIES_FILE,
                                     columns=["step", *dict.fromkeys(weekly_column(c) for c in columns)])
            ts = pd.DataFrame({"step": weekly["step"], **{c: series(weekly, c) for c in columns}})
            ts.insert(0, "scenario", side)
            ts.insert(1, "seed", seed)
            if j is not None:
                ts.insert(1, "parameter_set", j)
            frames.append(ts)
        if on_progress is not None:
            on_progress(min(total, 2 * (i + per_batch)), total)
    out = pd.concat(frames, ignore_index=True)
    keys = ["scenario", "seed", "step"] if parameters is None else ["scenario", "parameter_set", "seed", "step"]
    return out.sort_values(keys, ignore_index=True)


def parameter_bands(reps: pd.DataFrame, columns: Sequence[str] = KEY_INDICATORS) -> pd.DataFrame:
    """Per indicator, B − A at the last week, paired by parameter set and seed: mean difference, seed interval,
    band over the sets, share of sets with its sign, which width dominates (experiments.stats.band_table)."""
    from experiments.stats import band_table

    last = reps[reps["step"] == reps["step"].max()]
    a = last[last["scenario"] == "A"].set_index(["parameter_set", "seed"])
    b = last[last["scenario"] == "B"].set_index(["parameter_set", "seed"])
    both = a.index.intersection(b.index)
    parts = [(b.loc[both, c].astype(float) - a.loc[both, c].astype(float)).rename("diff").reset_index()
             .rename(columns={"parameter_set": "set"}).assign(policy="B", kpi=c)
             for c in columns if c in reps.columns]
    return band_table(pd.concat(parts, ignore_index=True)[["policy", "set", "seed", "kpi", "diff"]])


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


def band_reading(row) -> str:
    """What a row of :func:`parameter_bands` lets a room say (a glossary key): a mean difference within its seed
    interval is not distinguishable from seed noise, whatever share of sets has its sign (no difference at all: said
    so); beyond it, B is higher (lower) than A only if every set's mean and the band over the sets keep that sign."""
    if row.mean_diff == 0 and row.seed_half_width == 0 and row.band_low == row.band_high == 0:
        return "band_reading_none"
    if abs(row.mean_diff) <= row.seed_half_width:
        return "band_reading_noise"
    if row.sign_share < 1.0 or row.band_low <= 0.0 <= row.band_high:
        return "band_reading_parameters"
    return "band_reading_higher" if row.mean_diff > 0 else "band_reading_lower"


def band_rows(bands: pd.DataFrame, lang: str) -> pd.DataFrame:
    """:func:`parameter_bands` as the page shows it: labels in ``lang``, rates as percentage points, and first what
    each difference lets a room say (:func:`band_reading`); the sign's share of sets only beyond seed noise."""
    from experiments.presentation import term
    from sim.tables.glossary import label

    def shown(value: float, kpi: str, signed: bool = True) -> str:
        # rounded first, so that a difference of -0.0004 reads 0.0, not -0.0
        if is_fraction(kpi):
            pp = round(value * 100, 1) + 0.0
            text = label("difference_pp", lang, value=f"{pp:+.1f}" if signed and pp else f"{pp:.1f}")
        else:
            whole = round(value) + 0
            text = f"{whole:+,}" if signed and whole else f"{whole:,}"
        return text.replace("-", "−")  # the minus sign, as the page's other differences

    rows = []
    for r in bands.itertuples():
        reading = band_reading(r)
        sign = label("band_sign_within_noise", lang) if reading in ("band_reading_noise", "band_reading_none") \
            else f"{round(r.sign_share * r.sets)}/{r.sets}"
        rows.append({label("indicator", lang): label(r.kpi, lang), label("band_reading", lang): label(reading, lang),
                     term("mean_diff", lang): shown(r.mean_diff, r.kpi),
                     term("seed_interval", lang): "±" + shown(r.seed_half_width, r.kpi, signed=False),
                     term("sign_share", lang): sign,
                     term("parameter_band", lang): f"[{shown(r.band_low, r.kpi)}, {shown(r.band_high, r.kpi)}]",
                     term("dominant", lang): term("dominant_" + r.dominant, lang)})
    return pd.DataFrame(rows)


def runs_per_side(reps: pd.DataFrame) -> int:
    """How many runs each side of a replicate table has (seeds, or parameter sets × seeds)."""
    keys = [c for c in ("parameter_set", "seed") if c in reps.columns]
    return len(reps[reps["scenario"] == reps["scenario"].iloc[0]][keys].drop_duplicates())


def runs_label(reps: pd.DataFrame) -> str:
    """What the charts' titles say the band is over: '20' (seeds) or '5 × 4' (parameter sets × seeds)."""
    if "parameter_set" not in reps.columns:
        return str(runs_per_side(reps))
    return f"{reps['parameter_set'].nunique()} × {reps['seed'].nunique()}"


def caption(reps: pd.DataFrame, weeks: int, lang: str) -> str:
    """'20 seeds (7–26), 260 weeks each.' or '5 parameter sets × 4 seeds (…)' in ``lang``."""
    from sim.tables.glossary import label

    seeds = sorted(reps["seed"].unique().tolist())
    if "parameter_set" in reps.columns:
        return label("replicates_done_sets", lang, sets=reps["parameter_set"].nunique(), n=len(seeds),
                     first=seeds[0], last=seeds[-1], weeks=weeks)
    return label("replicates_done", lang, n=len(seeds), first=seeds[0], last=seeds[-1], weeks=weeks)
