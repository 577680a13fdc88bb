"""How long the warm-up must be: a steady-state check of the model (docs/warmup.md).

``python -m experiments.warmup [--weeks 1040] [--seeds 8] [--tolerance 0.02] [--window 26] [--out DIR]
[--figures DIR] [--jobs N]``

Every community preset runs from its initial state (``warmup_weeks=0``) under ``baseline`` (the
levers of the warm-up) and under ``five_society``, for ``--weeks`` weeks and ``--seeds`` seeds.  For
each indicator the study follows Welch's graphical method (Law, *Simulation Modeling and Analysis*,
ch. 9): average the seeds week by week, smooth with a centred moving average of half-width
``--window`` weeks (53 weeks by default, so the yearly rhythm of lump donations and project rounds
averages out), and take the *long-run level* as the mean of weeks 416–520 (``--reference``).  The
indicator has *settled* at the first week after which its moving average stays within ``--tolerance``
(±2 %) of that level up to the end of the reference window; where the smoothed mean is noisier than
that (small presets, rare callbacks), the band is ± 3 standard errors of the smoothed mean across seeds
instead (control limits, as in Robinson's statistical-process-control approach, docs/literature.md
[W2]), and the table gives the band used.  Rates (completion, callback
satisfaction) are smoothed as ratios of summed counts, so weeks without a closed demand weigh nothing.

An indicator still *drifts* when its level in the last 104 weeks of the run differs from the
long-run level by more than the tolerance: its value at any horizon then depends on the horizon.

The recommended ``warmup_weeks`` is the latest settling week over the presets under ``baseline`` of
the indicators that drift in no preset, rounded up to whole years: the warm-up runs under the baseline
levers, so the baseline's steady state is the one a run should start from, and no warm-up settles an
indicator that keeps drifting.

A second batch measures the horizon dependence of the plan's indicators as a run reports them:
each preset runs ``baseline`` and ``five_society`` after that warm-up, and the KPIs
(sim.model.indicators.compute_kpis) are read after 52, 104, 156, 260 and 520 recorded weeks.

Outputs in ``--out``: ``runs.parquet`` (the weekly columns of the runs from the initial state, reused by
``--reuse``), ``settle.csv`` (settling week and drift per preset, policy and indicator),
``welch.csv`` (the smoothed curves), ``horizon.csv`` (KPIs by horizon), ``tables.md`` (the tables of
docs/warmup.md), ``summary.json``; one figure per indicator in ``--figures`` (``warmup_<indicator>.png``).
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from sim.model.community_model import CommunityModel
from sim.model.indicators import TARGETS_BY_KEY, compute_kpis
from sim.settings.config import SimConfig, community_presets, settings_for

POLICIES = ("baseline", "five_society")
# indicator → (numerator column, denominator column or None for a plain weekly value)
INDICATORS = {
    "satisfaction_mean": ("satisfaction_mean", None),
    "trust_mean": ("trust_mean", None),
    "volunteers_per_10k": ("volunteers_per_10k", None),
    "social_orgs_active": ("social_orgs_active", None),
    "self_org_members": ("self_org_members", None),
    "volunteer_active_share_2plus": ("volunteer_active_share_2plus", None),
    "callback_satisfaction": ("callbacks_satisfied", "callbacks"),
    "completion_rate": ("demands_completed_on_time", "demands_due"),
}
HORIZONS = (52, 104, 156, 260, 520)  # recorded weeks at which the KPIs are read
HORIZON_KPIS = ("volunteers_per_10k", "volunteer_active_share_2plus", "social_orgs_serving", "orgs_incubated_total",
                "response_rate", "completion_rate", "callback_satisfaction", "deliberation_satisfaction",
                "enterprise_participation", "satisfaction_mean", "social_orgs_active")
SIGMAS = 3  # control limits of the smoothed mean: ± 3 standard errors across seeds (Robinson 2005's SPC approach)
TAIL = 104  # weeks at the end of the run whose level tells whether an indicator still drifts


class WarmupError(ValueError):
    """Bad arguments (the message says which)."""


@functools.cache
def _composed(community: str, policy: str) -> SimConfig:
    return settings_for("progress=false", f"community={community}", f"policy={policy}")


def settings(community: str, policy: str, seed: int, steps: int, warmup: int) -> SimConfig:
    s = copy.deepcopy(_composed(community, policy))
    s.seed, s.steps, s.warmup_weeks = seed, steps, warmup
    return s


def _weekly(cfg: SimConfig) -> pd.DataFrame:
    """One run (from the preset's initial state): the columns the study smooths, one row per week."""
    ts = CommunityModel(cfg).run()
    cols = sorted({c for pair in INDICATORS.values() for c in pair if c})
    return ts[["step", *cols]].assign(community=cfg.community.name, policy=cfg.policy.name, seed=cfg.seed)


def _horizon(cfg: SimConfig) -> list[dict]:
    """One run after the warm-up: its KPIs as a run of each horizon would report them."""
    community, policy, seed = cfg.community.name, cfg.policy.name, cfg.seed
    model = CommunityModel(cfg)
    ts = model.run()
    rows = []
    for h in HORIZONS:
        k = compute_kpis(ts.iloc[:h], model)
        rows += [{"community": community, "policy": policy, "seed": seed, "horizon": h, "kpi": key,
                  "value": k[key]} for key in HORIZON_KPIS]
    return rows


def welch(series: np.ndarray, w: int) -> np.ndarray:
    """Welch's moving average along the last axis: centred, half-width ``w``, narrowing near the start
    (NaN for the last ``w`` weeks, which it cannot centre)."""
    x = np.atleast_2d(np.asarray(series, dtype=float))
    m = x.shape[-1]
    out = np.full(x.shape, np.nan)
    csum = np.concatenate((np.zeros((x.shape[0], 1)), np.cumsum(x, axis=-1)), axis=-1)
    for i in range(m - w):
        h = min(i, w)
        out[:, i] = (csum[:, i + h + 1] - csum[:, i - h]) / (2 * h + 1)
    return out if np.ndim(series) > 1 else out[0]


def smoothed(runs: pd.DataFrame, w: int) -> pd.DataFrame:
    """Per community, policy and indicator: the seeds' weekly mean (``mean``), its Welch moving average
    (``welch``; rates as ratios of smoothed sums) and the standard error of that average across seeds (``se``)."""
    rows = []
    for (community, policy), g in runs.groupby(["community", "policy"], sort=False):
        wide = {c: g.pivot(index="seed", columns="step", values=c).sort_index(axis=1)
                for c in {c for pair in INDICATORS.values() for c in pair if c}}
        weeks = wide["satisfaction_mean"].columns.to_numpy()
        for name, (num, den) in INDICATORS.items():
            top = welch(wide[num].to_numpy(float), w)
            if den:
                bottom = welch(wide[den].to_numpy(float), w)
                with np.errstate(invalid="ignore", divide="ignore"):
                    per_seed = top / np.where(bottom > 0, bottom, np.nan)
                    values = top.mean(axis=0) / bottom.mean(axis=0)
                    denominator = wide[den].mean()
                    raw = wide[num].mean().to_numpy(float) / denominator.where(denominator > 0).to_numpy(float)
            else:
                per_seed, values, raw = top, top.mean(axis=0), wide[num].mean().to_numpy(float)
            n = np.maximum(np.sum(~np.isnan(per_seed), axis=0), 1)
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # weeks the moving average cannot reach: all NaN
                se = np.nanstd(per_seed, axis=0, ddof=1) / np.sqrt(n) if per_seed.shape[0] > 1 else np.zeros(len(weeks))
            rows.append(pd.DataFrame({"community": community, "policy": policy, "indicator": name, "week": weeks,
                                      "mean": raw, "welch": values, "se": se}))
    return pd.concat(rows, ignore_index=True)


def level(runs: pd.DataFrame, community: str, policy: str, name: str, start: int, end: int) -> float:
    """The indicator's mean over weeks ``start``–``end`` of the seeds (rates: ratio of sums)."""
    g = runs[(runs["community"] == community) & (runs["policy"] == policy) & runs["step"].between(start, end)]
    num, den = INDICATORS[name]
    return float(g[num].sum() / g[den].sum()) if den else float(g[num].mean())


def settle(curves: pd.DataFrame, runs: pd.DataFrame, tolerance: float, reference: tuple[int, int]) -> pd.DataFrame:
    """Settling week, long-run level and late drift per community, policy and indicator."""
    weeks = int(runs["step"].max())
    rows = []
    for (community, policy, name), g in curves.groupby(["community", "policy", "indicator"], sort=False):
        ref = level(runs, community, policy, name, *reference)
        tail = level(runs, community, policy, name, weeks - TAIL + 1, weeks)
        upto = g[(g["week"] <= reference[1]) & g["welch"].notna()]  # the moving average reaches weeks - w
        noise = float(np.nanmedian(upto["se"])) if upto["se"].notna().any() else 0.0
        band = max(tolerance * abs(ref), SIGMAS * noise)
        outside = upto["week"][~(np.abs(upto["welch"] - ref) <= band)]
        settled = int(outside.max()) + 1 if len(outside) else int(upto["week"].min())
        drift = (tail - ref) / abs(ref) if ref else math.nan
        drifts = abs(tail - ref) > band
        rows.append({"community": community, "policy": policy, "indicator": name, "level": ref,
                     "band": band / abs(ref) if ref else math.nan,
                     "settled_week": settled if settled <= reference[1] else None, "tail_level": tail,
                     "drift": drift, "drifts": bool(drifts)})
    return pd.DataFrame(rows)


def recommend(table: pd.DataFrame) -> int:
    """Whole years covering the latest baseline settling week of the indicators that settle in every preset.

    An indicator that still drifts in some preset is left out: no warm-up length settles it, and waiting
    for it in the other presets would only lengthen every run.
    """
    base = table[table["policy"] == "baseline"]
    drifting = set(base.loc[base["drifts"], "indicator"])
    ok = base[~base["indicator"].isin(drifting)]
    latest = ok["settled_week"].fillna(ok["settled_week"].max()).max() if len(ok) else 52.0
    return int(math.ceil(max(1.0, float(latest)) / 52) * 52)


# ------------------------------------------------------------------------------------------------
# tables and figures
# ------------------------------------------------------------------------------------------------
def _fmt(value: float, name: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if name in ("volunteers_per_10k", "self_org_members"):
        return f"{value:,.0f}"
    if name in ("social_orgs_active", "social_orgs_serving", "orgs_incubated_total"):
        return f"{value:.1f}"
    return f"{value:.3f}"


def _preset_table(table: pd.DataFrame, policy: str, cell) -> str:
    """A markdown table of one policy: a row per preset, a column per indicator, ``cell(row, name)`` in each."""
    t = table[table["policy"] == policy]
    names = list(INDICATORS)
    rows = ["| preset | " + " | ".join(f"`{n}`" for n in names) + " |", "|---|" + "---:|" * len(names)]
    for community, g in t.groupby("community", sort=True):
        cells = [cell(g[g["indicator"] == n].iloc[0], n) for n in names]
        rows.append(f"| {community} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def settle_markdown(table: pd.DataFrame, policy: str, tolerance: float) -> str:
    def cell(r, _name):
        week = "never" if pd.isna(r["settled_week"]) else f"{int(r['settled_week'])}"
        drift = f", drifts {r['drift']:+.0%}" if r["drifts"] else ""
        wide = f" (±{r['band']:.0%})" if r["band"] > tolerance + 1e-9 else ""
        return f"{week}{wide}{drift}"
    return _preset_table(table, policy, cell)


def level_markdown(table: pd.DataFrame, policy: str) -> str:
    return _preset_table(table, policy, lambda r, n: f"{_fmt(r['level'], n)} → {_fmt(r['tail_level'], n)}")


def horizon_markdown(hz: pd.DataFrame) -> str:
    """Per KPI and policy: mean over presets and seeds of the value at each horizon, and the presets' range."""
    rows = ["| KPI | policy | " + " | ".join(f"week {h}" for h in HORIZONS) + " | change 260 → 520 |",
            "|---|---|" + "---:|" * (len(HORIZONS) + 1)]
    means = hz.groupby(["kpi", "policy", "community", "horizon"])["value"].mean().reset_index()
    for kpi in HORIZON_KPIS:
        for policy in POLICIES:
            g = means[(means["kpi"] == kpi) & (means["policy"] == policy)]
            by_h = g.groupby("horizon")["value"]
            cells = []
            for h in HORIZONS:
                v = by_h.get_group(h)
                cells.append(f"{_fmt(v.mean(), kpi)} [{_fmt(v.min(), kpi)}–{_fmt(v.max(), kpi)}]")
            change = g.pivot(index="community", columns="horizon", values="value")
            rel = ((change[520] - change[260]) / change[260].abs().replace(0, np.nan)).median()
            rows.append(f"| `{kpi}` | {policy} | " + " | ".join(cells) + f" | {_fmt_pct(rel)} |")
    return "\n".join(rows)


def _fmt_pct(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:+.1%}"


def figures(curves: pd.DataFrame, table: pd.DataFrame, warmup: int, tolerance: float, folder: Path,
            lang: str = "en") -> list[Path]:
    """One figure per indicator: a panel per preset (named in ``lang``), both policies' smoothed curves, the band
    and the warm-up; Chinese figures are written as ``warmup_<indicator>_zh.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    from experiments.presentation import (
        axis_unit,
        bracket,
        is_fraction,
        kpi_label,
        page_size,
        setup_theme,
        space_cjk_lines,
        term,
        thousands,
        wrap,
    )
    from sim.tables.glossary import preset_label

    setup_theme(lang, paper=True)
    folder.mkdir(parents=True, exist_ok=True)
    names = {p: preset_label("policy", p, lang) for p in POLICIES}
    paths = []
    for name in INDICATORS:
        data = curves[curves["indicator"] == name].dropna(subset=["welch"]).assign(
            policy=lambda t: t["policy"].map(names))
        ncol = 4
        nrow = math.ceil(data["community"].nunique() / ncol)
        page_size(2.2 * 1.35 * ncol, 2.2 * nrow)  # refuses a figure taller than a page
        grid = sns.relplot(data=data, x="week", y="welch", hue="policy", col="community", col_wrap=ncol,
                           kind="line", height=2.2, aspect=1.35,
                           facet_kws={"sharey": False}, hue_order=list(names.values()),
                           palette=["#0072B2", "#D55E00"])
        for community, ax in grid.axes_dict.items():
            raw = curves[(curves["indicator"] == name) & (curves["community"] == community)]
            for policy, colour in zip(POLICIES, ("#0072B2", "#D55E00"), strict=True):
                r = raw[raw["policy"] == policy]
                ax.plot(r["week"], r["mean"], color=colour, alpha=0.18, lw=0.6)
                row = table[(table["community"] == community) & (table["policy"] == policy)
                            & (table["indicator"] == name)].iloc[0]
                if policy == "baseline":
                    ax.axhspan(row["level"] * (1 - row["band"]), row["level"] * (1 + row["band"]), color=colour,
                               alpha=0.12, lw=0)
                    if not pd.isna(row["settled_week"]):
                        ax.axvline(row["settled_week"], color=colour, ls=":", lw=1)
            ax.axvline(warmup, color="black", ls="--", lw=1)
            ax.set_title(wrap(preset_label("community", community, lang), lang, 30), fontsize=9)
            if is_fraction(name):
                ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
            else:
                ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        unit = axis_unit(name, lang)
        named = kpi_label(name, lang) + (bracket(unit, lang) if unit else "")
        grid.set_axis_labels(term("warm_week", lang), wrap(named, lang, 26))
        grid.legend.set_title(None)
        grid.figure.suptitle(wrap(term("warm_title", lang, name=kpi_label(name, lang), tolerance=f"{tolerance:.0%}",
                                       warmup=warmup), lang, 150), fontsize=9, y=1.035, va="bottom")  # grows upwards
        path = folder / f"warmup_{name}{'' if lang == 'en' else '_' + lang}.png"
        space_cjk_lines(grid.figure)
        grid.figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(grid.figure)
        paths.append(path)
    return paths


# ------------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------------
def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m experiments.warmup",
                                 description="Steady-state check that chooses warmup_weeks (docs/warmup.md): every "
                                             "preset from its initial state under baseline and five_society, Welch "
                                             "moving averages, settling week per indicator, KPIs by horizon.")
    ap.add_argument("--weeks", type=int, default=1040, help="weeks per run from the initial state (≥ 520)")
    ap.add_argument("--seeds", type=int, default=8, help="seeds per preset and policy (≥ 5)")
    ap.add_argument("--tolerance", type=float, default=0.02, help="band around the long-run level, relative")
    ap.add_argument("--window", type=int, default=26, help="half-width of Welch's moving average, weeks")
    ap.add_argument("--reference", default="416,520", help="weeks whose mean is the long-run level: START,END")
    ap.add_argument("--communities", default=",".join(community_presets()), help="presets, comma-separated")
    ap.add_argument("--horizon-warmup", type=int, default=None,
                    help="warm-up of the horizon runs (default: the recommended warmup_weeks)")
    ap.add_argument("--out", type=Path, default=Path("results/warmup"), help="folder for the tables")
    ap.add_argument("--figures", type=Path, default=Path("docs/figures"), help="folder for the figures")
    ap.add_argument("--lang", choices=("en", "zh"), default="en",
                    help="language of the figures (zh: warmup_<indicator>_zh.png)")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the runs from the initial state saved in OUT/runs.parquet if they match")
    ap.add_argument("--jobs", type=int, default=-1, help="parallel processes (joblib; -1: all cores)")
    args = ap.parse_args(argv)
    start, _, end = args.reference.partition(",")
    try:
        args.reference = (int(start), int(end))
    except ValueError:
        raise WarmupError(f"--reference {args.reference!r}: expected START,END in weeks") from None
    if args.weeks < 520 or args.seeds < 5:
        raise WarmupError("--weeks must be ≥ 520 and --seeds ≥ 5 (shorter or fewer cannot show a steady state)")
    if not args.window < args.reference[0] < args.reference[1] <= args.weeks:
        raise WarmupError(f"--reference must lie within weeks {args.window + 1}…{args.weeks}")
    if not 0 < args.tolerance < 1:
        raise WarmupError("--tolerance must be between 0 and 1")
    args.communities = [c for c in args.communities.split(",") if c]
    unknown = set(args.communities) - set(community_presets())
    if unknown:
        raise WarmupError(f"unknown presets: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse(argv)
    except WarmupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    cases = [(c, p, s) for c in args.communities for p in POLICIES for s in range(args.seeds)]
    print(f"{len(cases)} runs of {args.weeks} weeks from the initial state …", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    cache = args.out / "runs.parquet"
    runs = pd.read_parquet(cache) if args.reuse and cache.exists() else None
    if runs is not None and {(c, p, s) for c, p, s in runs[["community", "policy", "seed"]].drop_duplicates()
                             .itertuples(index=False)} == set(cases) and int(runs["step"].max()) == args.weeks:
        print(f"reusing {cache}", flush=True)
    else:
        parts = Parallel(n_jobs=args.jobs)(delayed(_weekly)(settings(c, p, s, args.weeks, 0)) for c, p, s in cases)
        runs = pd.concat(parts, ignore_index=True)
        runs.to_parquet(cache, index=False)
    curves = smoothed(runs, args.window)
    table = settle(curves, runs, args.tolerance, args.reference)
    warmup = recommend(table)
    used = warmup if args.horizon_warmup is None else args.horizon_warmup
    print(f"recommended warmup_weeks: {warmup}; {len(cases)} runs of {max(HORIZONS)} weeks after {used} …", flush=True)
    parts = Parallel(n_jobs=args.jobs)(delayed(_horizon)(settings(c, p, s, max(HORIZONS), used)) for c, p, s in cases)
    horizon = pd.DataFrame([row for part in parts for row in part])
    curves.to_csv(args.out / "welch.csv", index=False)
    table.to_csv(args.out / "settle.csv", index=False)
    horizon.to_csv(args.out / "horizon.csv", index=False)
    md = [f"Runs: {len(args.communities)} presets × {len(POLICIES)} policies × {args.seeds} seeds × {args.weeks} "
          f"weeks; Welch half-width {args.window} weeks; long-run level = mean of weeks {args.reference[0]}–"
          f"{args.reference[1]}; tolerance ±{args.tolerance:.0%}; drift = level of the last {TAIL} weeks vs the "
          f"long-run level.", ""]
    for policy in POLICIES:
        md += [f"### Settling week, {policy} (drift shown when it exceeds the tolerance)", "",
               settle_markdown(table, policy, args.tolerance), "",
               f"### Long-run level → level of the last {TAIL} weeks, {policy}", "", level_markdown(table, policy), ""]
    md += [f"Recommended `warmup_weeks`: {warmup}.", "",
           f"### KPIs by horizon after a {used}-week warm-up: mean over presets [preset range]; median change "
           "260 → 520", "", horizon_markdown(horizon), ""]
    (args.out / "tables.md").write_text("\n".join(md), encoding="utf-8")
    paths = figures(curves, table, warmup, args.tolerance, args.figures, args.lang)
    drifting = sorted({f"{r.community}/{r.policy}/{r.indicator}" for r in table.itertuples() if r.drifts})
    summary = {"recommended_warmup_weeks": warmup, "horizon_warmup_weeks": used, "runs": len(cases) * 2,
               "weeks": args.weeks, "seeds": args.seeds, "tolerance": args.tolerance, "window": args.window,
               "reference": list(args.reference), "drifting": drifting,
               "targets": {k: TARGETS_BY_KEY[k].value for k in HORIZON_KPIS if k in TARGETS_BY_KEY},
               "wall_time_s": round(time.perf_counter() - t0, 1)}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(f"recommended warmup_weeks = {warmup}; {len(drifting)} preset/policy/indicator cases still drift; "
          f"tables in {args.out}, figures: {', '.join(map(str, paths))} ({summary['wall_time_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
