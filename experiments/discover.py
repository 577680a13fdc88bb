"""Scenario discovery: under which uncertain conditions does a policy meet a target? (issue 26)

    python -m experiments.discover RUN_DIR --target completion_rate [--policy five_society]
                                   [--gain-over baseline] [--inputs KEY,KEY] [--min-density 0.8] [--boxes 1]
                                   [--out DIR] [--lang en,zh]

``RUN_DIR`` is a study folder whose runs vary uncertain parameters: a bands, advise, decompose or sensitivity
study (its ``sweep/`` folder is found), a Hydra sweep or any folder of runs collated by ``python -m sim.runs.collate``
(``runs.parquet``: one row per run, the swept parameters as columns).  Each *case* is one parameter set: the
outcome is averaged over the set's seeds (``--per-run``: every run is a case).  A case is *of interest* when

* ``--target KPI`` — the policy meets the KPI's plan target (sim/model/indicators.py: ``completion_rate`` ≥ 95 %, also
  written ``#34``);
* ``--target "KPI>=VALUE"`` (or ``>``, ``<=``, ``<``) — the policy's KPI passes that threshold; fractions may be
  written ``0.9`` or ``90%``;
* with ``--gain-over CONTROL``: the paired gain of the policy over ``CONTROL`` (same parameter set and seed)
  passes the threshold, e.g. ``--target "completion_rate>5pp"``.

PRIM (the Patient Rule Induction Method, Friedman & Fisher 1999; its use for scenario discovery, Bryant & Lempert
2010) then peels the box of the uncertain inputs in which the cases of interest are concentrated.  This module uses
the EMA Workbench's implementation (``ema_workbench.analysis.prim``, BSD-3, Kwakkel 2017) and adds what a report
needs: the box chosen on the peeling trajectory (the largest coverage at a density of at least ``--min-density``),
its limits with the quasi-p values of each restriction, and the figures and an English and a Chinese report.

* **coverage**: the share of all cases of interest that lie in the box;
* **density**: the share of the cases in the box that are of interest;
* **mass**: the share of all cases that lie in the box.

Outputs in ``--out`` (default ``results/discover/<policy>_<target>``), written together or not at all:
``cases.csv`` (inputs, outcome, of interest, box), ``runs.csv`` (the runs they come from, with the key indicators:
a folder holding it is itself a RUN_DIR, so a shipped discovery can be re-run without the sweep),
``trajectory.csv`` (every step of the peeling), ``boxes.csv``
(each box's limits), ``summary.json``, ``report.md`` (English and Chinese sections), and the figures
``box.png``/``box_zh.png`` and ``trajectory.png``/``trajectory_zh.png`` (and ``.svg``).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import shlex
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.loading import COMPLETE, kpi_columns, swept_parameters
from experiments.presentation import (
    FontError,
    axis_unit,
    format_value,
    is_fraction,
    kpi_label,
    param_name,
    save_figure,
    setup_theme,
    term,
    wrap,
)
from sim.model.indicators import KEY_INDICATORS, TARGETS, TARGETS_BY_KEY
from sim.runs.collate import CollateError, collate
from sim.runs.outputs import MANIFEST_FILE, RUNS_FILE

OPS = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}
LANGS = ("en", "zh")
NOT_INPUTS = ("policy", "seed")  # swept, but chosen by --policy / paired by seed: not uncertain inputs
MIN_CASES = 10                   # fewer cases than this: no box worth reporting
RUNS_CSV = "runs.csv"            # the runs a discovery used, written beside its report (a folder holding it: a RUN_DIR)
_TARGET = re.compile(r"^\s*(?P<kpi>#?[A-Za-z0-9_]+)\s*(?:(?P<op>>=|<=|>|<)\s*(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)"
                     r"(?:[eE][-+]?\d+)?)\s*(?P<unit>%|pp)?)?\s*$")


class DiscoverError(ValueError):
    """Bad input: the message names the option or file and what is allowed."""


@dataclass(frozen=True)
class Target:
    """What makes a case of interest: ``kpi op threshold`` of the policy's value, or of its gain over ``control``."""

    kpi: str
    op: str
    threshold: float
    plan: bool            # the plan target of sim/model/indicators.py (not a threshold given on the command line)
    control: str | None = None

    def holds(self, values: pd.Series | np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        return np.where(np.isnan(values), False, OPS[self.op](values, self.threshold))

    def text(self, lang: str = "en") -> str:
        """``Completion rate (#34, ≥ 95 %) ≥ 95 %`` or ``gain in … over baseline > 5 pp``."""
        value = format_value(self.kpi, self.threshold) if self.control is None else _diff_value(self.kpi,
                                                                                                 self.threshold)
        op = {">=": "≥", "<=": "≤"}.get(self.op, self.op)
        name = kpi_label(self.kpi, lang)
        if self.control is None:
            return f"{name} {op} {value}"
        return term("disc_gain_text", lang, kpi=name, control=self.control, op=op, value=value)


@dataclass
class Box:
    """One PRIM box at the chosen step of its peeling trajectory."""

    number: int
    step: int
    coverage: float
    density: float
    mass: float
    n: int
    k: int
    limits: pd.DataFrame          # parameter, low, high, range_low, range_high, qp_low, qp_high, restricted
    trajectory: pd.DataFrame      # the whole peeling (and pasting) trajectory
    inside: np.ndarray            # which cases lie in the box
    reached_density: bool = True  # False: the box's density is below --min-density
    dropped: list[str] = field(default_factory=list)  # restrictions dropped as not significant (quasi-p > max_qp)


@dataclass
class Discovery:
    run_dir: Path
    sweep: Path
    target: Target
    policy: str
    inputs: list[str]
    cases: pd.DataFrame           # inputs, outcome, of_interest, seeds, box
    boxes: list[Box]
    per_run: bool
    min_density: float
    command: str
    settings: dict = field(default_factory=dict)
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)  # the runs the cases come from (written as runs.csv)


# ---------------------------------------------------------------------------------------------
# Reading the runs
# ---------------------------------------------------------------------------------------------

def _has_runs(folder: Path) -> bool:
    return folder.is_dir() and any((p / MANIFEST_FILE).is_file() for p in folder.iterdir() if p.is_dir())


def find_sweep(run_dir: Path) -> Path:
    """The folder of ``run_dir`` that holds the runs: itself or its ``sweep/`` (collated first if needed)."""
    if not run_dir.is_dir():
        raise DiscoverError(f"RUN_DIR {run_dir}: no such folder")
    for folder in (run_dir, run_dir / "sweep"):
        if (folder / RUNS_FILE).is_file() or (folder / RUNS_CSV).is_file():
            return folder
    for folder in (run_dir, run_dir / "sweep"):
        if _has_runs(folder):
            try:
                collate(folder)
            except CollateError as exc:
                raise DiscoverError(f"RUN_DIR {run_dir}: {exc}") from None
            return folder
    nested = sorted(str(p.parent.parent.relative_to(run_dir)) for p in run_dir.glob("*/sweep/" + RUNS_FILE))
    hint = f"; the studies inside it: {', '.join(nested)} (pass one of them)" if nested else ""
    raise DiscoverError(f"RUN_DIR {run_dir}: no runs found (neither {RUNS_FILE}, {RUNS_CSV} nor run folders with "
                        f"{MANIFEST_FILE}, in it or in its sweep/){hint}")


def load_runs(sweep: Path) -> pd.DataFrame:
    """The complete runs of ``sweep``: its collated ``runs.parquet``, else the ``runs.csv`` of an earlier discovery."""
    if (sweep / RUNS_FILE).is_file():
        runs = pd.read_parquet(sweep / RUNS_FILE)
    else:
        runs = pd.read_csv(sweep / RUNS_CSV)
        if "status" not in runs.columns:
            raise DiscoverError(f"{sweep / RUNS_CSV}: no column 'status' (not a table of runs)")
    complete = runs[runs["status"].isin(COMPLETE)].copy()
    if complete.empty:
        raise DiscoverError(f"{sweep / RUNS_FILE}: no complete run (statuses: "
                            f"{', '.join(sorted(map(str, runs['status'].unique())))})")
    return complete


def parse_target(spec: str, kpis: list[str], gain: bool) -> Target:
    """``KPI``, ``#N`` (a plan indicator's number) or ``KPI OP VALUE[%|pp]``, checked against the runs' KPIs."""
    m = _TARGET.match(spec)
    if m is None:
        raise DiscoverError(f"--target {spec!r}: write KPI (its plan target), #N (plan indicator N) or "
                            "KPI>=VALUE (also >, <=, <; fractions as 0.9 or 90%), e.g. completion_rate>=0.95")
    name = m["kpi"]
    if name.startswith("#"):
        numbered = {str(t.number): t.key for t in TARGETS if t.number is not None}
        if name[1:] not in numbered:
            raise DiscoverError(f"--target {spec!r}: no plan indicator {name}; allowed: "
                                + ", ".join(f"#{n} ({k})" for n, k in sorted(numbered.items(), key=lambda i: int(i[0])))
                                )
        name = numbered[name[1:]]
    if name not in kpis:
        raise DiscoverError(f"--target {spec!r}: {name!r} is not a KPI of these runs; allowed: {', '.join(kpis)}")
    if m["op"] is None:
        if gain:
            raise DiscoverError(f"--target {spec!r}: a gain (--gain-over) needs a threshold, e.g. {name}>0.05 "
                                f"or {name}>5pp")
        plan = TARGETS_BY_KEY.get(name)
        if plan is None or plan.op not in OPS:
            raise DiscoverError(f"--target {spec!r}: {name} has no plan target; give a threshold, e.g. {name}>=0.9")
        return Target(name, plan.op, float(plan.value), True)
    value = float(m["value"])
    if m["unit"]:
        if not is_fraction(name):
            raise DiscoverError(f"--target {spec!r}: {m['unit']} only for a fraction (a rate or share); {name} is "
                                f"in {axis_unit(name) or 'its own unit'}")
        value /= 100
    return Target(name, m["op"], value, False)


def choose_policy(runs: pd.DataFrame, policy: str | None, control: str | None) -> str:
    policies = sorted(map(str, runs["policy"].unique()))
    if policy is None:
        candidates = [p for p in policies if p != control]
        if len(candidates) != 1:
            raise DiscoverError(f"--policy: these runs hold several policies; choose one of {', '.join(policies)}")
        policy = candidates[0]
    for name, option in ((policy, "--policy"), (control, "--gain-over")):
        if name is not None and name not in policies:
            raise DiscoverError(f"{option} {name}: no complete run of that policy here; allowed: {', '.join(policies)}")
    if control == policy:
        raise DiscoverError(f"--gain-over {control}: the same as --policy; choose another: "
                            + ", ".join(p for p in policies if p != policy))
    return policy


def choose_inputs(runs: pd.DataFrame, wanted: list[str] | None) -> list[str]:
    """The uncertain inputs: the swept parameters other than the policy and the seed (or ``--inputs``)."""
    swept = [p for p in swept_parameters(runs) if p not in NOT_INPUTS]
    if not swept:
        raise DiscoverError("these runs vary no parameter other than the policy and the seed: nothing to discover "
                            "(run a study over uncertain parameters, e.g. python -m experiments.bands)")
    if not wanted:
        return swept
    unknown = [w for w in wanted if w not in swept]
    if unknown:
        raise DiscoverError(f"--inputs: {', '.join(unknown)} not varied in these runs; allowed: {', '.join(swept)}")
    return list(dict.fromkeys(wanted))


def build_cases(runs: pd.DataFrame, target: Target, policy: str, inputs: list[str], per_run: bool,
                all_inputs: list[str]) -> pd.DataFrame:
    """One row per case: the inputs, the outcome (the policy's KPI, or its paired gain), its seeds, of interest.

    Runs are paired (for a gain) and grouped into parameter sets by every swept input, also those left out of
    ``--inputs``."""
    treated = runs[runs["policy"].astype(str) == policy]
    keys = [*all_inputs, "seed"]
    if target.control is not None:
        control = runs[runs["policy"].astype(str) == target.control]
        both = treated[[*keys, target.kpi]].merge(control[[*keys, target.kpi]], on=keys, suffixes=("", "_control"))
        if both.empty:
            raise DiscoverError(f"--gain-over {target.control}: no run of {policy} has a run of {target.control} "
                                "with the same parameters and seed to pair with")
        both["outcome"] = both[target.kpi].astype(float) - both[f"{target.kpi}_control"].astype(float)
    else:
        both = treated[[*keys, target.kpi]].copy()
        both["outcome"] = both[target.kpi].astype(float)
    if both["outcome"].isna().all():
        raise DiscoverError(f"--target {target.kpi}: no run of {policy} has a value (not measurable in these runs)")
    both = both.dropna(subset=["outcome"])
    if per_run:
        cases = both[[*all_inputs, "seed", "outcome"]].assign(seeds=1)
    else:
        cases = (both.groupby(all_inputs, dropna=False, sort=True)
                 .agg(outcome=("outcome", "mean"), seeds=("seed", "nunique")).reset_index())
    cases["of_interest"] = target.holds(cases["outcome"])
    return cases.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# PRIM (EMA Workbench)
# ---------------------------------------------------------------------------------------------

def _prim_module():
    """ema_workbench.analysis.prim, imported quietly (the package warns about optional parallel back-ends)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim


def choose_step(trajectory: pd.DataFrame, min_density: float) -> tuple[int, bool]:
    """The step with the largest coverage among those of density ≥ ``min_density`` (ties: fewer restricted
    inputs, then the earlier step); if none reaches it, the densest step (then the largest coverage)."""
    t = trajectory.reset_index(drop=True)
    ok = t[t["density"] >= min_density - 1e-12]
    if not ok.empty:
        best = ok.sort_values(["coverage", "res_dim", "id"], ascending=[False, True, True]).index[0]
        return int(best), True
    best = t.sort_values(["density", "coverage", "id"], ascending=[False, False, True]).index[0]
    return int(best), False


def _limits(prim, box, step: int, inputs: list[str]) -> pd.DataFrame:
    lims, init = box.box_lims[step], prim.box_init
    qp = box.p_values[step]
    rows = []
    for p in inputs:
        lo, hi, rlo, rhi = lims[p][0], lims[p][1], init[p][0], init[p][1]
        if isinstance(lo, set | frozenset):  # a categorical input: the allowed categories
            restricted = lims[p][0] != init[p][0]
            lo = hi = ", ".join(sorted(map(str, lims[p][0])))
            rlo = rhi = ", ".join(sorted(map(str, init[p][0])))
        else:
            lo, hi, rlo, rhi = float(lo), float(hi), float(rlo), float(rhi)
            restricted = lo > rlo or hi < rhi
        q = [v if v is not None and v >= 0 else math.nan for v in qp.get(p, [math.nan, math.nan])]
        rows.append({"parameter": p, "low": lo, "high": hi, "range_low": rlo, "range_high": rhi,
                     "qp_low": q[0], "qp_high": q[1], "restricted": bool(restricted)})
    limits = pd.DataFrame(rows)
    # the restricted inputs first, the most narrowed first
    width = [(r.high - r.low) / (r.range_high - r.range_low) if isinstance(r.low, float) and r.range_high > r.range_low
             else 0.5 for r in limits.itertuples()]
    limits["share_of_range"] = width
    return limits.sort_values(["restricted", "share_of_range"], ascending=[False, True]).reset_index(drop=True)


def find_boxes(cases: pd.DataFrame, inputs: list[str], n_boxes: int = 1, min_density: float = 0.8,
               mass_min: float = 0.05, peel_alpha: float = 0.05, paste_alpha: float = 0.05,
               max_qp: float = 0.05) -> list[Box]:
    """Up to ``n_boxes`` PRIM boxes for ``cases.of_interest`` over ``inputs`` (each box from the cases the earlier
    ones leave), each at the step :func:`choose_step` picks, then without the restrictions that are not
    significant: one at a time, the one of the largest quasi-p above ``max_qp`` is dropped (EMA Workbench's
    ``drop_restriction``, a new step of the trajectory), until every restriction left has a quasi-p of at most
    ``max_qp`` (the last restriction is kept; ``max_qp`` 1 drops none)."""
    prim_mod = _prim_module()
    x = cases[inputs].copy()
    for p in inputs:
        if pd.api.types.is_bool_dtype(x[p]) or not pd.api.types.is_numeric_dtype(x[p]):
            x[p] = x[p].astype(str)
        else:  # whole numbers too: ema_workbench 3.0 cannot paste an integer input under pandas 3 (48.5 into int64)
            x[p] = x[p].astype(np.float64)
    y = cases["of_interest"].to_numpy(dtype=bool)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="ema_workbench")  # pandas deprecations inside the package
        return _find_boxes(prim_mod, x, y, inputs, n_boxes, min_density, mass_min, peel_alpha, paste_alpha, max_qp)


def _quasi_p(box, step: int, restricted) -> dict[str, float]:
    """The quasi-p value of each restricted input at ``step``: the smallest of its restricted sides'."""
    qp = box.p_values[step]
    return {p: min([v for v in qp.get(p, []) if v is not None and v >= 0] or [math.nan]) for p in restricted}


def _find_boxes(prim_mod, x, y, inputs, n_boxes, min_density, mass_min, peel_alpha, paste_alpha,
                max_qp) -> list[Box]:
    from ema_workbench.analysis import scenario_discovery_util as sdutil

    prim = prim_mod.Prim(x, y, peel_alpha=peel_alpha, paste_alpha=paste_alpha, mass_min=mass_min)
    boxes: list[Box] = []
    for number in range(1, n_boxes + 1):
        remaining = prim.yi_remaining if number > 1 else np.arange(len(y))
        if number > 1 and (len(remaining) == 0 or not y[remaining].any()):
            break
        box = prim.find_box()
        if box is None:
            break
        trajectory = box.peeling_trajectory.reset_index(drop=True)
        step, reached = choose_step(trajectory, min_density)
        box.select(step)
        dropped = []
        while True:
            restricted = list(sdutil._determine_restricted_dims(box.box_lims[step], prim.box_init))
            qps = {p: q for p, q in _quasi_p(box, step, restricted).items() if not math.isnan(q)}
            worst = max(qps, key=qps.get) if qps else None
            if len(restricted) <= 1 or worst is None or qps[worst] <= max_qp:
                break
            box.drop_restriction(worst, step)
            dropped.append(worst)
            step = len(box.peeling_trajectory) - 1
        trajectory = box.peeling_trajectory.reset_index(drop=True)
        inside = np.zeros(len(y), dtype=bool)
        inside[np.asarray(box.yi)] = True
        row = trajectory.loc[step]
        reached = bool(row["density"] >= min_density - 1e-12)  # dropping restrictions may have lowered it
        boxes.append(Box(number, step, float(row["coverage"]), float(row["density"]), float(row["mass"]),
                         int(row["n"]), int(row["k"]), _limits(prim, box, step, inputs), trajectory, inside, reached,
                         dropped))
    return boxes


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------

def _param_value(key: str, value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def plot_box(d: Discovery, box: Box, lang: str):
    """Left: each input's range (grey) and the box's limits on it (colour), restricted inputs first, with the
    limits' values and quasi-p.  Right: the cases on the two most narrowed inputs (or the most narrowed one
    against the outcome), those of interest in colour, the box drawn on them."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    limits = box.limits
    shown = limits[limits["restricted"]] if limits["restricted"].any() else limits.head(1)
    numeric = [r for r in shown.itertuples() if isinstance(r.low, float)]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11.5, max(3.6, 0.55 * len(shown) + 2.2)),
                                  gridspec_kw={"width_ratios": [1.1, 1]})
    for i, r in enumerate(shown.itertuples()):
        y = len(shown) - 1 - i
        ax.barh(y, 1, left=0, color="#dddddd", height=0.5)
        if isinstance(r.low, float) and r.range_high > r.range_low:
            lo = (r.low - r.range_low) / (r.range_high - r.range_low)
            hi = (r.high - r.range_low) / (r.range_high - r.range_low)
            ax.barh(y, hi - lo, left=lo, color="#0072B2", height=0.5)
            ax.text(lo, y + 0.3, _param_value(r.parameter, r.low), ha="center", va="bottom", fontsize=8)
            ax.text(hi, y + 0.3, _param_value(r.parameter, r.high), ha="center", va="bottom", fontsize=8)
        else:
            ax.text(0.5, y, str(r.low), ha="center", va="center", fontsize=8)
    ticks = []
    for r in shown.itertuples():
        qps = [q for q in (r.qp_low, r.qp_high) if not math.isnan(q)]
        qp = f"\n(qp {max(qps):.1g})" if qps else ""
        ticks.append(wrap(param_name(r.parameter, lang), lang, 24) + qp)
    ax.set_yticks(range(len(shown) - 1, -1, -1), ticks, fontsize=8)
    ax.set_ylim(-0.6, len(shown) - 0.1)
    ax.set_xlim(-0.08, 1.08)
    ax.set_xticks([0, 0.5, 1], [term("disc_range_low", lang), "", term("disc_range_high", lang)])
    ax.set_title(wrap(term("disc_box_title", lang, n=box.number, coverage=f"{box.coverage:.0%}",
                           density=f"{box.density:.0%}", mass=f"{box.mass:.0%}"), lang, 60))
    cases = d.cases
    colours = np.where(cases["of_interest"], "#D55E00", "#7a7a7a")
    meets, fails = term("disc_meets", lang), term("disc_fails", lang)
    if len(numeric) >= 2:
        a, b = numeric[0], numeric[1]
        for flag, name, colour, marker in ((False, fails, "#7a7a7a", "o"), (True, meets, "#D55E00", "^")):
            sel = cases["of_interest"] == flag
            ax2.scatter(cases.loc[sel, a.parameter], cases.loc[sel, b.parameter], s=22, c=colour, marker=marker,
                        alpha=0.8, label=name, edgecolors="none")
        ax2.add_patch(Rectangle((a.low, b.low), a.high - a.low, b.high - b.low, fill=False, lw=1.6,
                                edgecolor="#0072B2", label=term("disc_box", lang)))
        ax2.set_xlabel(wrap(param_name(a.parameter, lang), lang, 40))
        ax2.set_ylabel(wrap(param_name(b.parameter, lang), lang, 30))
    else:
        a = numeric[0] if numeric else None
        xcol = a.parameter if a is not None else d.inputs[0]
        ax2.scatter(cases[xcol], _shown_outcome(d, cases["outcome"]), s=22, c=colours, edgecolors="none")
        ax2.axhline(_shown_outcome(d, d.target.threshold), color="black", ls="--", lw=1,
                    label=d.target.text(lang))
        if a is not None:
            ax2.axvspan(a.low, a.high, color="#0072B2", alpha=0.12, label=term("disc_box", lang))
        ax2.set_xlabel(wrap(param_name(xcol, lang), lang, 40))
        ax2.set_ylabel(wrap(_outcome_label(d, lang), lang, 30))
    ax2.legend(fontsize=8, loc="best")
    ax2.set_title(wrap(d.target.text(lang), lang, 56), fontsize=10)
    fig.tight_layout()
    return fig


def _shown_outcome(d: Discovery, values):
    return np.asarray(values, dtype=float) * (100 if is_fraction(d.target.kpi) else 1)


def _outcome_label(d: Discovery, lang: str) -> str:
    unit = axis_unit(d.target.kpi, lang, diff=d.target.control is not None)
    name = kpi_label(d.target.kpi, lang)
    if d.target.control is not None:
        name = term("disc_gain_axis", lang, kpi=name, control=d.target.control)
    return f"{name} ({unit})" if unit else name


def plot_trajectory(d: Discovery, lang: str):
    """Each box's peeling trajectory: coverage against density, coloured by the number of restricted inputs, the
    chosen step ringed."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    t = pd.concat([b.trajectory.assign(box=b.number) for b in d.boxes], ignore_index=True)
    sc = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=24,
                    vmin=0, vmax=max(1, int(t["res_dim"].max())))
    for b in d.boxes:
        ax.plot(b.trajectory["coverage"], b.trajectory["density"], color="#999999", lw=0.6, zorder=0)
        ax.scatter([b.coverage], [b.density], s=140, facecolors="none", edgecolors="#D55E00", lw=1.8,
                   label=term("disc_chosen", lang, n=b.number))
    ax.axhline(d.min_density, color="black", ls=":", lw=1, label=term("disc_min_density", lang,
                                                                      value=f"{d.min_density:.0%}"))
    bar = fig.colorbar(sc, ax=ax)
    bar.set_label(term("disc_res_dim", lang))
    ax.set_xlabel(term("disc_coverage", lang))
    ax.set_ylabel(term("disc_density", lang))
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(0, 1.03)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(wrap(term("disc_trajectory_title", lang), lang, 60))
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def _diff_value(kpi: str, value: float) -> str:
    if is_fraction(kpi):
        return f"{100 * value:+.1f} pp".replace("+", "+" if value else "")
    return f"{value:+,.4g}"


def limits_table(box: Box, lang: str) -> list[str]:
    heads = [term(k, lang) for k in ("disc_parameter", "disc_box_range", "disc_full_range", "disc_qp")]
    rows = ["| " + " | ".join(heads) + " |", "|---|---|---|---:|"]
    for r in box.limits.itertuples():
        if not r.restricted:
            continue
        if isinstance(r.low, float):
            inside = f"{_param_value(r.parameter, r.low)} – {_param_value(r.parameter, r.high)}"
            full = f"{_param_value(r.parameter, r.range_low)} – {_param_value(r.parameter, r.range_high)}"
        else:
            inside, full = str(r.low), str(r.range_low)
        qps = [q for q in (r.qp_low, r.qp_high) if not math.isnan(q)]
        qp = f"{max(qps):.2g}" if qps else "—"
        rows.append(f"| `{r.parameter}` ({param_name(r.parameter, lang)}) | {inside} | {full} | {qp} |")
    if len(rows) == 2:
        rows.append(f"| {term('disc_unrestricted', lang)} | | | |")
    return rows


def report_section(d: Discovery, lang: str) -> str:
    c = d.cases
    n, k = len(c), int(c["of_interest"].sum())
    seeds = sorted(set(c["seeds"]))
    what = {"en": "runs" if d.per_run else "parameter sets", "zh": "次运行" if d.per_run else "组参数"}[lang]
    of = d.target.text(lang)
    en = lang == "en"
    out = [f"## {term('disc_heading', lang)}", ""]
    if en:
        out += [f"Which conditions make `{d.policy}` reach: **{of}**? Study: `{d.run_dir}` ({len(c)} {what}, "
                f"{'/'.join(map(str, seeds))} seed(s) each{'' if d.per_run else ', the outcome averaged over them'}). "
                f"The target holds in **{k} of {n}** ({k / n:.0%}). Uncertain inputs ({len(d.inputs)}): "
                + ", ".join(f"`{p}`" for p in d.inputs) + ".", "",
                "PRIM (EMA Workbench) peels the input box; the box chosen is the step of the peeling trajectory with "
                f"the largest coverage at a density of at least {d.min_density:.0%}. Coverage: the share of the "
                "cases where the target holds that lie in the box; density: the share of the cases in the box "
                "where it holds; mass: the share of all cases in the box; qp: the quasi-p value of each restriction "
                f"(a one-sided binomial test, Bryant & Lempert 2010); restrictions with a quasi-p above "
                f"{d.settings['max_qp']:g} are dropped, one at a time.", ""]
    else:
        out += [f"在哪些条件下 `{d.policy}` 能达到：**{of}**？研究文件夹：`{d.run_dir}`（{len(c)} {what}，每组 "
                f"{'/'.join(map(str, seeds))} 个随机种子{'' if d.per_run else '，结果取其均值'}）。"
                f"目标在 **{n} 个中的 {k} 个**（{k / n:.0%}）中达成。不确定输入（{len(d.inputs)} 个）："
                + "、".join(f"`{p}`" for p in d.inputs) + "。", "",
                "PRIM（EMA Workbench）逐步剥离输入空间；所选的盒子是剥离轨迹上密度不低于 "
                f"{d.min_density:.0%} 的各步中覆盖率最大的一步。覆盖率：达成目标的情形中落在盒子内的比例；"
                "密度：盒子内的情形中达成目标的比例；质量：落在盒子内的情形占全部情形的比例；qp：各项限制的准p值"
                f"（单侧二项检验，Bryant & Lempert 2010）；准p值高于 {d.settings['max_qp']:g} 的限制逐个去掉。", ""]
    for b in d.boxes:
        stats = term("disc_box_stats", lang, n=b.number, coverage=f"{b.coverage:.0%}", density=f"{b.density:.0%}",
                     mass=f"{b.mass:.0%}", inside=b.n, k=b.k, res=int(b.limits["restricted"].sum()), step=b.step)
        out += [f"### {stats}", ""]
        if not b.reached_density:
            out += [term("disc_not_reached", lang, value=f"{d.min_density:.0%}"), ""]
        if b.dropped:
            out += [term("disc_dropped", lang, qp=f"{d.settings['max_qp']:g}",
                         names=", ".join(f"`{p}`" for p in b.dropped)), ""]
        out += [*limits_table(b, lang), ""]
    suffix = "" if en else "_zh"
    out += [f"![{term('disc_box', lang)}](box{suffix}.png)", "",
            f"![{term('disc_trajectory_title', lang)}](trajectory{suffix}.png)", "",
            term("disc_files", lang), "", f"`{d.command}`", ""]
    return "\n".join(out)


def report(d: Discovery, langs: tuple[str, ...]) -> str:
    return "\n".join([f"# {term('disc_title', langs[0])}", "", *(report_section(d, lang) for lang in langs)])


def trajectory_table(d: Discovery) -> pd.DataFrame:
    parts = []
    for b in d.boxes:
        t = b.trajectory[["id", "coverage", "density", "mass", "res_dim", "n", "k"]].copy()
        t.insert(0, "box", b.number)
        t["chosen"] = t["id"] == b.step
        parts.append(t.rename(columns={"id": "step"}))
    return pd.concat(parts, ignore_index=True)


def boxes_table(d: Discovery) -> pd.DataFrame:
    return pd.concat([b.limits.assign(box=b.number, coverage=b.coverage, density=b.density, mass=b.mass)
                      for b in d.boxes], ignore_index=True)[
        ["box", "parameter", "restricted", "low", "high", "range_low", "range_high", "share_of_range", "qp_low",
         "qp_high", "coverage", "density", "mass"]]


def summary(d: Discovery) -> dict:
    c = d.cases
    return {"run_dir": str(d.run_dir), "sweep": str(d.sweep), "policy": d.policy, "control": d.target.control,
            "kpi": d.target.kpi, "op": d.target.op, "threshold": d.target.threshold, "plan_target": d.target.plan,
            "target": d.target.text("en"), "cases": len(c), "of_interest": int(c["of_interest"].sum()),
            "per_run": d.per_run, "seeds_per_case": sorted(int(s) for s in set(c["seeds"])), "inputs": d.inputs,
            "min_density": d.min_density, "command": d.command, **d.settings,
            "boxes": [{"box": b.number, "step": b.step, "coverage": b.coverage, "density": b.density,
                       "mass": b.mass, "cases_in_box": b.n, "of_interest_in_box": b.k,
                       "reached_min_density": b.reached_density, "dropped_as_not_significant": b.dropped,
                       "limits": {r.parameter: [r.low, r.high] for r in b.limits.itertuples() if r.restricted}}
                      for b in d.boxes]}


def write(d: Discovery, out: Path, langs: tuple[str, ...]) -> None:
    """Every output into a temporary folder beside ``out``, then moved into place: all of them or none."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        d.cases.to_csv(tmp / "cases.csv", index=False)
        d.runs.to_csv(tmp / RUNS_CSV, index=False)
        trajectory_table(d).to_csv(tmp / "trajectory.csv", index=False)
        boxes_table(d).to_csv(tmp / "boxes.csv", index=False)
        (tmp / "summary.json").write_text(json.dumps(summary(d), indent=2, ensure_ascii=False, default=str) + "\n",
                                          encoding="utf-8")
        (tmp / "report.md").write_text(report(d, langs), encoding="utf-8")
        for lang in langs:
            suffix = "" if lang == "en" else f"_{lang}"
            setup_theme(lang)
            save_figure(plot_box(d, d.boxes[0], lang), tmp, f"box{suffix}")
            save_figure(plot_trajectory(d, lang), tmp, f"trajectory{suffix}")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m experiments.discover", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a study folder (or its sweep/)")
    parser.add_argument("--target", required=True,
                        help="KPI (its plan target), #N, or KPI>=VALUE (>, <=, <; 0.9 or 90%% for fractions)")
    parser.add_argument("--policy", default=None, help="the policy whose runs are judged (default: the only one "
                                                       "besides --gain-over)")
    parser.add_argument("--gain-over", default=None, metavar="CONTROL",
                        help="judge the paired gain of --policy over this policy (same parameters and seed)")
    parser.add_argument("--inputs", default=None, help="comma-separated uncertain inputs (default: every swept "
                                                       "parameter other than the policy and the seed)")
    parser.add_argument("--per-run", action="store_true", help="every run is a case (default: each parameter set, "
                                                               "the outcome averaged over its seeds)")
    parser.add_argument("--min-density", type=float, default=0.8, help="the chosen box's least density "
                                                                       "(default %(default)s)")
    parser.add_argument("--max-qp", type=float, default=0.05,
                        help="drop the box's restrictions whose quasi-p exceeds this (default %(default)s; 1: keeps "
                             "all)")
    parser.add_argument("--boxes", type=int, default=1, help="boxes to find, one after another (default 1)")
    parser.add_argument("--mass-min", type=float, default=0.05, help="PRIM's least box mass (default 0.05)")
    parser.add_argument("--peel-alpha", type=float, default=0.05, help="PRIM's peeling share (default 0.05)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default results/discover/<policy>_"
                                                               "<target>)")
    parser.add_argument("--lang", default="en,zh", help="report languages, comma-separated (default en,zh)")
    return parser.parse_args(argv)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def discover(args: argparse.Namespace, command: str) -> tuple[Discovery, Path, tuple[str, ...]]:
    langs = tuple(dict.fromkeys(x.strip() for x in args.lang.split(",") if x.strip()))
    bad = [x for x in langs if x not in LANGS]
    if bad or not langs:
        raise DiscoverError(f"--lang {args.lang!r}: allowed en, zh or en,zh")
    if not 0 < args.min_density <= 1:
        raise DiscoverError(f"--min-density {args.min_density}: allowed 0 < value ≤ 1")
    if not 0 < args.mass_min < 1 or not 0 < args.peel_alpha < 1:
        raise DiscoverError("--mass-min and --peel-alpha: allowed 0 < value < 1")
    if not 0 < args.max_qp <= 1:
        raise DiscoverError(f"--max-qp {args.max_qp}: allowed 0 < value ≤ 1")
    if args.boxes < 1:
        raise DiscoverError(f"--boxes {args.boxes}: allowed ≥ 1")
    if "zh" in langs:
        try:
            setup_theme("zh")
        except FontError as exc:
            raise DiscoverError(f"--lang zh: {exc}") from None
    sweep = find_sweep(args.run_dir)
    runs = load_runs(sweep)
    target = parse_target(args.target, [k for k in kpi_columns(runs) if k not in NOT_INPUTS],
                          gain=args.gain_over is not None)
    if args.gain_over is not None:
        target = Target(target.kpi, target.op, target.threshold, target.plan, args.gain_over)
    policy = choose_policy(runs, args.policy, args.gain_over)
    all_inputs = choose_inputs(runs, None)
    inputs = choose_inputs(runs, [s.strip() for s in args.inputs.split(",") if s.strip()] if args.inputs else None)
    cases = build_cases(runs, target, policy, inputs, args.per_run, all_inputs)
    n, k = len(cases), int(cases["of_interest"].sum())
    if n < MIN_CASES:
        raise DiscoverError(f"{sweep}: only {n} cases ({'runs' if args.per_run else 'parameter sets'}) of {policy}; "
                            f"PRIM needs at least {MIN_CASES}")
    if k in (0, n):
        values = cases["outcome"]
        raise DiscoverError(f"--target {args.target!r}: {target.text()} holds in {k} of {n} cases (outcome "
                            f"{values.min():.4g} to {values.max():.4g}): no box to find; choose a threshold inside "
                            "that range")
    boxes = find_boxes(cases, inputs, args.boxes, args.min_density, args.mass_min, args.peel_alpha,
                       max_qp=args.max_qp)
    cases = cases.copy()
    cases["box"] = 0
    for b in reversed(boxes):
        cases.loc[b.inside, "box"] = b.number
    used = runs  # every policy's complete runs: the shipped table also answers another --policy or --gain-over
    kpis = [k for k in dict.fromkeys([target.kpi, *KEY_INDICATORS]) if k in used.columns]
    columns = [c for c in ("run_dir", "status", "community", "policy", "seed") if c in used.columns]
    used = used[list(dict.fromkeys([*columns, *all_inputs, *kpis]))].reset_index(drop=True)
    d = Discovery(args.run_dir, sweep, target, policy, inputs, cases, boxes, args.per_run, args.min_density, command,
                  {"mass_min": args.mass_min, "peel_alpha": args.peel_alpha, "max_qp": args.max_qp}, used)
    out = args.out or Path("results/discover") / _slug(f"{policy}_{'gain_' if target.control else ''}{args.target}")
    return d, out, langs


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    command = "python -m experiments.discover " + " ".join(shlex.quote(a) for a in argv)
    try:
        d, out, langs = discover(args, command)
        write(d, out, langs)
    except DiscoverError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{d.target.text()}: {int(d.cases['of_interest'].sum())} of {len(d.cases)} cases")
    for b in d.boxes:
        print(f"box {b.number}: coverage {b.coverage:.0%}, density {b.density:.0%}, mass {b.mass:.0%}")
        for r in b.limits.itertuples():
            if r.restricted:
                print(f"  {r.parameter}: {r.low} – {r.high}  (of {r.range_low} – {r.range_high})")
    print(f"wrote {out}/report.md, boxes.csv, trajectory.csv, cases.csv, box.png, trajectory.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
