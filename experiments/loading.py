"""Load a collated sweep for comparison: its runs, scenarios, baseline and KPIs.

A sweep is read from the two tables ``sim.runs.collate`` writes (``runs.parquet``: one row per run
with the swept parameters as columns; ``timeseries.parquet``: long weekly series), collating the
sweep folder first if they are missing.  A *scenario* is one combination of the swept parameters
other than the seed; the *baseline* is the set of runs the others are paired with (same seed,
same values of the other swept parameters).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.model.indicators import TARGETS_BY_KEY
from sim.runs.collate import CollateError, collate
from sim.runs.outputs import COLLATED_TIMESERIES_FILE, MANIFEST_FILE, RUNS_FILE
from sim.settings.config import schema_fields
from sim.settings.schema import weeks_of

COMPLETE = ("done", "skipped")
# Run totals (``<column>_run`` in kpis.json) whose weekly column is not simply the name without ``_run``.
RUN_TOTAL_COLUMNS = {"fund_inflow_run": "fund_inflow_total", "fund_outflow_run": "fund_outflow_total"}
# Config groups chosen by name (community=relocation): columns of runs.parquet that are parameters
# although they are not leaves of the schema.
GROUPS = ("community", "policy", "district", "behaviour")


class CompareError(RuntimeError):
    """Bad input: the message says what is wrong and what is allowed."""


@dataclass
class Sweep:
    """A collated sweep: complete runs (with a ``scenario`` column), the others, the weekly series."""

    path: Path
    runs: pd.DataFrame
    problems: pd.DataFrame
    ts: pd.DataFrame
    params: list[str]                 # swept parameters other than the seed, in column order
    scenarios: list[str]              # scenario labels, baseline(s) first
    kpi_columns: list[str]            # final KPIs in runs.parquet
    indicators: list[str]             # weekly indicators in timeseries.parquet
    baseline: dict[str, str] = field(default_factory=dict)  # {key: value as written} of the baseline runs
    settings: dict[str, dict[str, object]] = field(default_factory=dict)  # scenario -> {swept key: value}
    warmup_weeks: int = 0             # first recorded weeks not yet steady, shaded in weekly charts (warmup_weeks())
    over: list[str] = field(default_factory=list)  # swept parameters that are uncertainty, not scenarios (--over)
    match: list[str] = field(default_factory=list)  # swept parameters a run shares with its baseline run (pairing_keys)


def parameter_columns(runs: pd.DataFrame) -> list[str]:
    """Columns of runs.parquet that are model parameters (schema keys or config groups), in column order."""
    known = set(schema_fields()) | set(GROUPS)
    return [c for c in runs.columns if c in known]


def swept_parameters(runs: pd.DataFrame) -> list[str]:
    """Parameters other than the seed that take more than one value among ``runs``, in column order."""
    return [c for c in parameter_columns(runs)
            if c != "seed" and runs[c].astype(str).nunique(dropna=False) > 1]


def kpi_columns(runs: pd.DataFrame) -> list[str]:
    """Numeric columns of runs.parquet that are final KPIs (not parameters, not bookkeeping).

    A plan indicator that no run could measure (too short a run, or not modelled: null in every
    kpis.json) is a KPI column too, without values: its end-of-run value must not be taken from the
    weekly column of the same name (one week's rate is not the indicator)."""
    bookkeeping = {"run", "wall_time_s"}
    params = set(parameter_columns(runs))
    return [c for c in runs.columns if c not in params and c not in bookkeeping
            and ((pd.api.types.is_numeric_dtype(runs[c]) and not pd.api.types.is_bool_dtype(runs[c]))
                 or (c in TARGETS_BY_KEY and runs[c].isna().all()))]


def short_names(params: list[str]) -> dict[str, str]:
    """Short names for scenario labels: ``policy.micro_fund.fen_per_unit`` → ``fen`` (full key if ambiguous)."""
    short = {p: p.rsplit(".", 1)[-1].split("_per_")[0] for p in params}
    clashes = {s for s in short.values() if list(short.values()).count(s) > 1}
    return {p: (p if s in clashes else s) for p, s in short.items()}


def format_param(value: object) -> str:
    """A parameter value as written in a scenario label or an override (1.0 → 1)."""
    return f"{value:g}" if isinstance(value, float | np.floating) else str(value)


def sort_key(value: object) -> tuple:
    """Numbers in numeric order before strings in alphabetical order."""
    numeric = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    return (0, float(value), "") if numeric else (1, 0.0, str(value))


def matches(series: pd.Series, text: str) -> pd.Series:
    """Where a parameter column equals the value written as ``text`` (1, 1.0 and "1" match; True and "true")."""
    def same(value: object) -> bool:
        if format_param(value) == text:
            return True
        if isinstance(value, bool | np.bool_):  # written true/false on the command line
            return str(value).lower() == text.lower()
        try:
            return not isinstance(value, bool | str) and float(value) == float(text)
        except (TypeError, ValueError):
            return False
    return series.map(same).astype(bool)


def load_sweep(path: Path, baseline_spec: str | None, over: list[str] | None = None) -> Sweep:
    """Read (or first collate) the sweep, label its scenarios and resolve the baseline.

    ``over``: swept parameters whose values are draws of an uncertain parameter (parameter sets), not scenarios:
    a scenario is then one combination of the *other* swept parameters, drawn over those sets and the seeds."""
    if not path.is_dir():
        raise CompareError(f"no such sweep folder: {path}")
    if not (path / RUNS_FILE).is_file() or not (path / COLLATED_TIMESERIES_FILE).is_file():
        try:  # failed, damaged or missing runs are kept as rows with their reason: the report lists them as excluded
            collate(path, skip_bad=True, warn=False)
        except CollateError as exc:
            raise CompareError(str(exc)) from None
    runs = pd.read_parquet(path / RUNS_FILE)
    leaves = [c for c in parameter_columns(runs) if c not in GROUPS]  # a group (district) may be null by design
    if runs.loc[runs["status"].isin(COMPLETE), leaves].isna().any().any():
        # collated before a gap was filled with the run's effective value (sim.runs.collate.fill_effective_values)
        try:
            runs = collate(path)
        except CollateError as exc:
            raise CompareError(str(exc)) from None
    complete = runs[runs["status"].isin(COMPLETE)].copy()
    problems = runs[~runs["status"].isin(COMPLETE)].copy()
    if complete.empty:
        raise CompareError(f"{path / RUNS_FILE} holds no complete run (statuses: {sorted(runs['status'].unique())})")
    params = swept_parameters(complete)
    baseline = resolve_baseline(complete, params, baseline_spec)
    over = resolve_over(params, baseline, over or [])
    label_keys = [p for p in params if p not in over] or ["policy"]
    names = short_names(label_keys)
    complete["scenario"] = [", ".join(f"{names[k]}={format_param(row[k])}" for k in label_keys)
                            for _, row in complete.iterrows()]
    complete["is_baseline"] = is_baseline(complete, baseline)
    first = complete.drop_duplicates("scenario").to_dict("records")
    order = sorted(first, key=lambda r: (not r["is_baseline"], [sort_key(r[k]) for k in label_keys]))
    ts = pd.read_parquet(path / COLLATED_TIMESERIES_FILE)
    ts = ts[ts["run"].isin(complete["run"])].merge(complete[["run", "scenario", "seed"]], on="run")
    settings = {r["scenario"]: {k: r[k] for k in label_keys} for r in order}
    return Sweep(path, complete, problems, ts, params, [r["scenario"] for r in order], kpi_columns(complete),
                 sorted(ts["indicator"].astype(str).unique()), baseline, settings,
                 warmup_weeks(path / str(complete["run_dir"].iloc[0])), over,
                 pairing_keys(complete, params, baseline, over))


def is_lever(key: str) -> bool:
    """Whether a parameter is part of what a policy is: the policy preset or one of its levers (``policy.*``)."""
    return key == "policy" or key.startswith("policy.")


def pairing_keys(runs: pd.DataFrame, params: list[str], baseline: dict[str, str], over: list[str]) -> list[str]:
    """The swept parameters (besides the seed) on which a scenario's run is paired with its baseline run.

    Every swept parameter other than the baseline's own key, except, against a policy baseline
    (``policy=baseline`` or a lever), a lever the baseline runs hold at one value: that value is part of the
    baseline policy (0 fen where no one-cent charity runs), and the lever's other values are part of the
    scenarios' policies.  So sweeps appended into one folder (policies × communities, then
    ``policy=micro_fund policy.micro_fund.fen_per_unit=1,2,5``) pair every scenario with the baseline of the same
    community and seed; a lever the baseline runs vary too (a full grid) is matched like any other parameter."""
    if not baseline:
        return [p for p in params if p not in over] + [p for p in over]
    base = runs[is_baseline(runs, baseline)]
    policy_baseline = any(is_lever(k) for k in baseline)
    return [p for p in params if p not in baseline
            and (p in over or not (policy_baseline and is_lever(p)) or base[p].astype(str).nunique() > 1)]


WAIT_KEYS = ("help_limit_days", "complaint_limit_days", "suggestion_limit_days", "extension_days")


def warmup_weeks(run_dir: Path) -> int:
    """The recorded weeks at the start of a run that are not yet steady, shaded in weekly charts.

    A run that starts from the preset's initial state starts with no open work orders, so in its first weeks
    (the longest time limit and its extension, ``BehaviourConfig.longest_wait_weeks``) no order can yet be
    closed late or past its limit.  The model's own warm-up (``warmup_weeks``, run before week 1 and not
    recorded) fills the queue first: only the part of that wait the warm-up does not cover is shaded, usually none.

    Read from the run's manifest.json (its resolved config), else the schema's defaults."""
    fields = schema_fields()
    days = {k: fields[f"behaviour.{k}"].default for k in WAIT_KEYS}
    model_warmup = int(fields["warmup_weeks"].default)
    try:
        config = json.loads((run_dir / MANIFEST_FILE).read_text(encoding="utf-8"))["config"]
        days = {k: int(config["behaviour"].get(k, v)) for k, v in days.items()}
        model_warmup = int(config.get("warmup_weeks", model_warmup))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    longest = max(weeks_of(days[k]) for k in WAIT_KEYS[:3]) + weeks_of(days["extension_days"])
    return max(0, longest - model_warmup)


def weekly_indicator(kpi: str, indicators: list[str]) -> str | None:
    """The weekly column that shows ``kpi`` over the weeks: itself, or for a run total (``<column>_run`` in
    kpis.json's totals, e.g. ``public_cost_run``) the weekly column it sums (``public_cost``); None if the
    weekly table has neither."""
    if kpi in indicators:
        return kpi
    column = RUN_TOTAL_COLUMNS.get(kpi, kpi.removesuffix("_run"))
    return column if column != kpi and column in indicators else None


def is_baseline(runs: pd.DataFrame, baseline: dict[str, str]) -> pd.Series:
    """Which runs are baseline runs (none when there is no baseline)."""
    mask = pd.Series(bool(baseline), index=runs.index)
    for key, text in baseline.items():
        mask &= matches(runs[key], text)
    return mask


def resolve_baseline(runs: pd.DataFrame, params: list[str], spec: str | None) -> dict[str, str]:
    """``{key: value}`` of the baseline runs from ``KEY=VALUE`` (None: policy=baseline if swept; 'none': {})."""
    if spec is None:
        ok = "policy" in params and matches(runs["policy"], "baseline").any()
        return {"policy": "baseline"} if ok else {}
    if spec.strip().lower() == "none":
        return {}
    key, eq, text = spec.partition("=")
    key, text = key.strip(), text.strip()
    if not eq or not key:
        raise CompareError(f"--baseline must be KEY=VALUE (e.g. policy=baseline) or 'none', not {spec!r}")
    if key not in params:
        allowed = ", ".join(params) if params else "none (this sweep varies only the seed)"
        raise CompareError(f"--baseline {spec}: {key!r} is not a swept parameter of this sweep; "
                           f"allowed keys: {allowed}")
    if not matches(runs[key], text).any():
        values = sorted(runs[key].dropna().unique(), key=sort_key)
        raise CompareError(f"--baseline {spec}: no complete run has {key}={text}; allowed values: "
                           + ", ".join(format_param(v) for v in values))
    return {key: text}


def resolve_over(params: list[str], baseline: dict[str, str], over: list[str]) -> list[str]:
    """Check ``--over`` keys: swept parameters of the sweep, not the baseline's key, at least one left for scenarios."""
    for key in over:
        if key not in params:
            allowed = ", ".join(params) if params else "none (this sweep varies only the seed)"
            raise CompareError(f"--over {key}: not a swept parameter of this sweep; allowed keys: {allowed}")
        if key in baseline:
            raise CompareError(f"--over {key}: it names the baseline (--baseline {key}=...); the parameter sets must "
                               "be shared by the baseline and the scenarios")
    if over and not baseline:
        raise CompareError("--over needs a baseline (--baseline KEY=VALUE): the parameter band is of paired "
                           "differences")
    return list(dict.fromkeys(over))


def resolve_kpis(sweep: Sweep, kpis: list[str], what: str = "--kpis") -> list[str]:
    """Check KPI names against the sweep's final KPIs and weekly indicators."""
    allowed = sorted(set(sweep.kpi_columns) | set(sweep.indicators))
    unknown = [k for k in kpis if k not in allowed]
    if unknown:
        raise CompareError(f"{what}: unknown KPI {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    if not kpis:
        raise CompareError(f"{what}: no KPI given; allowed: {', '.join(allowed)}")
    return kpis
