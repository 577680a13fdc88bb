"""What survives when the money stops: a three-year pilot of the five_society money, then withdrawal.

    python -m experiments.pilot_withdrawal [--community urban_traditional] [--pilot-years 3] [--years 7]
        [--seeds 20] [--sets 8] [--set-seeds 3] [--jobs N] [--out results/pilot_withdrawal] [--lang en|zh]
        [--write-readme] [--render-only] [--check]

Three arms, the same seeds (common random numbers: every arm of a seed shares its warm-up and its draws):

* **never**: the baseline (no linkage);
* **continue**: ``five_society`` for the whole run;
* **withdraw**: ``five_society`` whose public money stops after the pilot: from the first week after
  ``--pilot-years`` every parameter declared as spending public money or paying public staff (``money=True``,
  ``staff=True`` in sim/levers/<lever>.py: the purchase budget, venture philanthropy, the fund's government grant
  and match, the moral bank's government stock, meal aid, the extra station social workers) is set to 0 through
  the levers' schedule (``+policy.<lever>.changes.<week>.<parameter>=0``, sim/levers/schedule.py).  Everything the
  pilot built stays as the model has it: the fund's balance, organisations and their contracts until they end,
  self-organisations, volunteers, the lever settings that cost no public money (a resident-led, transparent fund,
  the council, party convening, enterprises' giving, the one-cent charity).

Readings are yearly (after the documented 208-week warm-up, docs/warmup.md): the fund's balance, organisations
serving, registered volunteers at each year's end; the year's on-time resolution (#34, orders resolved by their
deadline among orders due), projects funded and public cost.  For each year the table gives each arm's mean with
its 95 % seed interval (``--seeds`` seeds at the calibrated values) and the difference withdraw − never with its
paired seed interval and its band over parameter uncertainty (``--sets`` parameter sets drawn from the
calibration's ABC posterior, ``--set-seeds`` seeds each: the 2.5–97.5 % range of the sets' mean differences), and
the share of the pilot's gain that is retained, (withdraw − never) ÷ (continue − never).

Outputs in ``--out``: ``yearly.csv`` (arm, study, set, seed, year, indicator, value), ``summary.csv`` (the table),
``pilot_withdrawal.png``/``.svg`` (yearly means with seed intervals, the withdrawal marked), ``report.md``; the runs
in ``sweep/`` (resumable).  ``--write-readme`` writes the table and the figure's caption between
``<!-- pilot_withdrawal:table:start/end -->`` in README.md and README.zh-CN.md and the figures (en and zh) into
docs/figures/; ``--render-only`` renders the saved ``yearly.csv`` again (and the figures); ``--check`` exits 1 when
a README's table differs from what the shipped docs/pilot_withdrawal/yearly.csv renders.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import readme_regions as regions
from experiments.bands import POSTERIOR, draw_sets, set_values
from experiments.presentation import save_figure, setup_theme, term, unit_label
from experiments.readme_tables import README
from experiments.stats import paired_diff, t_half_width
from sim.levers import lever_parameters
from sim.model.indicators import rate_over
from sim.runs.outputs import write_atomic
from sim.runs.runner import run_many
from sim.settings.config import ConfigError, community_presets, settings_for, with_values
from sim.settings.overrides import check_overrides

ARMS = ("never", "continue", "withdraw")
POLICY = {"never": "baseline", "continue": "five_society", "withdraw": "five_society"}
INDICATORS = ("completion_rate", "social_orgs_serving", "volunteers_registered", "fund_balance", "projects_funded",
              "public_cost")
UNITS = {"fund_balance": "yuan", "public_cost": "yuan/year"}  # of the yearly money readings (glossary unit:…)
STOCKS = ("social_orgs_serving", "volunteers_registered", "fund_balance")  # read at each year's last week
FLOWS = ("projects_funded", "public_cost")                                 # summed over the year
SHIPPED = Path(__file__).resolve().parent.parent / "docs" / "pilot_withdrawal"
FIGURES = Path(__file__).resolve().parent.parent / "docs" / "figures"
PREFIX = "pilot_withdrawal"
WEEKS = 52


class PilotError(ValueError):
    """Bad arguments or inputs (the message names the option and what is allowed)."""


# ------------------------------------------------------------------------------------------------
# the design
# ------------------------------------------------------------------------------------------------
def withdrawal_overrides(pilot_weeks: int) -> list[str]:
    """The schedule that stops the public money after ``pilot_weeks`` recorded weeks: every parameter declared
    ``money`` or ``staff`` set to 0 from week ``pilot_weeks + 1`` (in the levers' order)."""
    week = pilot_weeks + 1
    keys = lever_parameters("money", "staff")
    return [f"+policy.{k.split('.')[1]}.changes.{week}.{k.split('.')[2]}=0" for k in keys]


def arm_settings(arm: str, community: str, steps: int, pilot_weeks: int, extra: list[str]):
    overrides = [f"community={community}", f"policy={POLICY[arm]}", f"steps={steps}", *extra]
    if arm == "withdraw":
        overrides += withdrawal_overrides(pilot_weeks)
    return settings_for(*overrides), overrides


def plan(args: argparse.Namespace) -> tuple[list, list[str], list[list[str]], pd.DataFrame]:
    """Every run: (settings, folder names, overrides, index of arm/study/set/seed by folder name)."""
    steps, pilot = args.years * WEEKS, args.pilot_years * WEEKS
    settings, names, overrides, rows = [], [], [], []
    sets = draw_sets(args.sets, POSTERIOR) if args.sets else pd.DataFrame()
    for arm in ARMS:
        base, base_overrides = arm_settings(arm, args.community, steps, pilot, args.overrides)
        for seed in range(args.seeds):
            settings.append(with_values(base, {"seed": seed}))
            names.append(f"study=seeds,arm={arm},seed={seed}")
            overrides.append([*base_overrides, f"seed={seed}"])
            rows.append((names[-1], arm, "seeds", -1, seed))
        for j, values in sets.iterrows():
            point = set_values(values)
            for seed in range(args.set_seeds):
                settings.append(with_values(base, {**point, "seed": seed}))
                names.append(f"study=sets,set={j:03d},arm={arm},seed={seed}")
                overrides.append([*base_overrides, f"seed={seed}", *(f"{k}={v}" for k, v in point.items())])
                rows.append((names[-1], arm, "sets", int(j), seed))
    index = pd.DataFrame(rows, columns=["run_dir", "arm", "study", "set", "seed"])
    return settings, names, overrides, index


def yearly(timeseries: pd.DataFrame, index: pd.DataFrame) -> pd.DataFrame:
    """Long table arm, study, set, seed, year, indicator, value from the runs' weekly tables (long form)."""
    wide = timeseries.pivot_table(index=["run", "step"], columns="indicator", values="value").reset_index()
    wide["year"] = (wide["step"] - 1) // WEEKS + 1
    out = []
    for (run, year), g in wide.groupby(["run", "year"]):
        if len(g) < WEEKS:
            continue
        last = g.loc[g["step"].idxmax()]
        values = {k: float(last[k]) for k in STOCKS}
        values.update({k: float(g[k].sum()) for k in FLOWS})
        values["completion_rate"] = rate_over(g, "completion_rate")
        out += [(run, year, k, v) for k, v in values.items()]
    table = pd.DataFrame(out, columns=["run_dir", "year", "indicator", "value"])
    table = table.merge(index, on="run_dir")
    return table[["arm", "study", "set", "seed", "year", "indicator", "value"]].sort_values(
        ["study", "arm", "set", "seed", "year", "indicator"]).reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# the table
# ------------------------------------------------------------------------------------------------
def summary(table: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """One row per (indicator, year): each arm's mean and seed half-width, withdraw − never with its paired seed
    interval and band over the parameter sets, and the share of the pilot's gain retained."""
    seeds = table[table["study"] == "seeds"]
    sets = table[table["study"] == "sets"]
    rows = []
    for k in INDICATORS:
        for year in years:
            s = seeds[(seeds["indicator"] == k) & (seeds["year"] == year)].pivot(index="seed", columns="arm",
                                                                                 values="value")
            if s.empty:
                continue
            row = {"indicator": k, "year": year}
            for arm in ARMS:
                v = s[arm].dropna()
                row[f"{arm}_mean"] = float(v.mean())
                row[f"{arm}_hw"] = t_half_width(float(v.std(ddof=1)), len(v)) if len(v) > 1 else math.nan
            d = paired_diff(s["withdraw"], s["never"])
            row.update(diff=d.mean, diff_lo=d.low, diff_hi=d.high)
            gain = row["continue_mean"] - row["never_mean"]
            row["retained"] = (row["withdraw_mean"] - row["never_mean"]) / gain if abs(gain) > 1e-12 else math.nan
            b = sets[(sets["indicator"] == k) & (sets["year"] == year)]
            if not b.empty:
                per_set = b.pivot_table(index="set", columns="arm", values="value", aggfunc="mean")
                diffs = per_set["withdraw"] - per_set["never"]
                row.update(band_lo=float(np.percentile(diffs, 2.5)), band_hi=float(np.percentile(diffs, 97.5)),
                           sets=len(diffs))
            rows.append(row)
    return pd.DataFrame(rows)


def _fmt(k: str, x: float, lang: str) -> str:
    if not np.isfinite(x):
        return "–"
    if k == "completion_rate":
        return f"{100 * x:.1f} %" if lang == "en" else f"{100 * x:.1f}%"
    if k in ("fund_balance", "public_cost"):
        return f"{x:,.0f}" if lang == "en" or abs(x) < 10_000 else f"{x / 10_000:,.1f}万"
    return f"{x:,.1f}"


def _mean_hw(k: str, mean: float, hw: float, lang: str) -> str:
    """``mean ± half-width`` in one unit (in Chinese, money of 10,000 yuan or more in 万元, both numbers)."""
    if lang == "zh" and k in ("fund_balance", "public_cost") and np.isfinite(mean) and abs(mean) >= 10_000:
        return f"{mean / 10_000:,.1f}万 ± {hw / 10_000:,.2f}万" if np.isfinite(hw) else f"{mean / 10_000:,.1f}万"
    return f"{_fmt(k, mean, lang)} ± {_fmt(k, hw, lang)}"


def _fmt_diff(k: str, x: float, lang: str) -> str:
    if not np.isfinite(x):
        return "–"
    shown = round(100 * x, 1) if k == "completion_rate" else round(x, 0 if k in ("fund_balance", "public_cost") else 1)
    if shown == 0:
        return "0 pp" if k == "completion_rate" and lang == "en" else ("0个百分点" if k == "completion_rate" else "0")
    if k == "completion_rate":
        text = f"{100 * x:+.1f}".replace("-", "−")
        return f"{text} pp" if lang == "en" else f"{text}个百分点"
    return ("+" if x >= 0 else "−") + _fmt(k, abs(x), lang)


def markdown(summ: pd.DataFrame, lang: str, command: str, args_text: str) -> str:
    """README's table in ``lang``."""
    head = [term("pw_indicator", lang), term("pw_year", lang), *(term(f"pw_{a}", lang) for a in ARMS),
            term("pw_diff", lang), term("pw_band", lang), term("pw_retained", lang)]
    lines = ["| " + " | ".join(head) + " |", "|---|---:|" + "---:|" * (len(head) - 2)]
    for _, r in summ.iterrows():
        k = r["indicator"]
        cells = [term(k, lang), str(int(r["year"]))]
        cells += [_mean_hw(k, r[f"{a}_mean"], r[f"{a}_hw"], lang) for a in ARMS]
        cells.append(f"{_fmt_diff(k, r['diff'], lang)} [{_fmt_diff(k, r['diff_lo'], lang)}, "
                     f"{_fmt_diff(k, r['diff_hi'], lang)}]")
        cells.append(f"[{_fmt_diff(k, r['band_lo'], lang)}, {_fmt_diff(k, r['band_hi'], lang)}]"
                     if "band_lo" in r and np.isfinite(r.get("band_lo", math.nan)) else "–")
        pct = " %" if lang == "en" else "%"
        cells.append(f"{100 * r['retained']:.0f}{pct}".replace("-", "−") if np.isfinite(r["retained"]) else "–")
        lines.append("| " + " | ".join(cells) + " |")
    note = term("pw_note", lang, command=command, args=args_text)
    return "\n".join(lines) + "\n\n" + note


# ------------------------------------------------------------------------------------------------
# the figure
# ------------------------------------------------------------------------------------------------
def figure(table: pd.DataFrame, pilot_years: int, lang: str):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    setup_theme(lang)
    seeds = table[table["study"] == "seeds"]
    fig, axes = plt.subplots(2, 3, figsize=(11, 6.2), sharex=True)
    colours = dict(zip(ARMS, ("#7f7f7f", "#0072B2", "#D55E00"), strict=True))
    for ax, k in zip(axes.flat, INDICATORS, strict=True):
        for arm in ARMS:
            g = seeds[(seeds["indicator"] == k) & (seeds["arm"] == arm)].groupby("year")["value"]
            mean, sd, n = g.mean(), g.std(ddof=1), g.count()
            hw = np.array([t_half_width(s, c) if c > 1 else 0.0 for s, c in zip(sd, n, strict=True)])
            scale = 100 if k == "completion_rate" else 1
            ax.errorbar(mean.index, scale * mean.values, yerr=scale * hw, marker="o", ms=4, capsize=3,
                        color=colours[arm], label=term(f"pw_{arm}", lang))
        ax.axvline(pilot_years + 0.5, color="black", ls="--", lw=1)
        unit = "%" if k == "completion_rate" else unit_label(UNITS[k], lang) if k in UNITS else ""
        title = term(k, lang) + ((f" ({unit})" if lang == "en" else f"（{unit}）") if unit else "")
        ax.set_title(title, fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if k == "completion_rate":
            ax.set_ylim(top=min(ax.get_ylim()[1], 101))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}"))
    for ax in axes[1]:
        ax.set_xlabel(term("pw_year", lang))
    from matplotlib.lines import Line2D

    handles, labels = axes[0][0].get_legend_handles_labels()
    handles.append(Line2D([], [], color="black", ls="--", lw=1))
    labels.append(term("pw_withdrawn", lang))
    fig.legend(handles, labels, loc="lower center", ncol=4, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


# ------------------------------------------------------------------------------------------------
# the command
# ------------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m experiments.pilot_withdrawal",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--community", default="urban_traditional", help="community preset (default %(default)s)")
    parser.add_argument("--pilot-years", type=int, default=3, help="years the money flows (default 3)")
    parser.add_argument("--years", type=int, default=7, help="recorded years in all (default 7)")
    parser.add_argument("--seeds", type=int, default=20, help="seeds per arm at the calibrated values (default 20)")
    parser.add_argument("--sets", type=int, default=8, help="parameter sets from the calibration's posterior for "
                                                            "the band (default 8; 0: no band)")
    parser.add_argument("--set-seeds", type=int, default=3, help="seeds per arm and parameter set (default 3)")
    parser.add_argument("--jobs", type=int, default=None, help="runs at once (default: all cores)")
    parser.add_argument("--out", type=Path, default=Path("results/pilot_withdrawal"), help="output folder")
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="language of report.md and the figure")
    parser.add_argument("--write-readme", action="store_true",
                        help="write the table into README.md and README.zh-CN.md, yearly.csv into "
                             "docs/pilot_withdrawal/ and the figures into docs/figures/")
    parser.add_argument("--render-only", action="store_true", help="run nothing: render <out>/yearly.csv again")
    parser.add_argument("--check", action="store_true",
                        help="run nothing: exit 1 if README's table differs from docs/pilot_withdrawal/yearly.csv's")
    parser.add_argument("overrides", nargs="*", help="other settings, as for python -m sim (not policy/seed/steps)")
    args = parser.parse_args(argv)
    return args


def validate(args: argparse.Namespace) -> None:
    if args.community not in community_presets():
        raise PilotError(f"--community {args.community!r} is unknown; allowed: {', '.join(community_presets())}")
    if not 1 <= args.pilot_years < args.years:
        raise PilotError(f"--pilot-years {args.pilot_years} --years {args.years}: the pilot needs at least one year "
                         "and at least one year after it (1 ≤ pilot-years < years)")
    if args.years * WEEKS > 5200:
        raise PilotError(f"--years {args.years}: allowed ≤ 100 (steps ≤ 5200 weeks)")
    if args.seeds < 2:
        raise PilotError(f"--seeds {args.seeds}: allowed ≥ 2 (a seed interval needs several seeds)")
    if args.sets < 0 or args.sets == 1:
        raise PilotError(f"--sets {args.sets}: allowed 0 (no band) or ≥ 2")
    if args.set_seeds < 1:
        raise PilotError(f"--set-seeds {args.set_seeds}: allowed ≥ 1")
    if any(o.split("=")[0].lstrip("+~") in ("policy", "seed", "steps", "community") for o in args.overrides):
        raise PilotError("community=, policy=, seed= and steps= are set by the options (--community, --seeds, "
                         "--years), not as overrides")
    try:
        check_overrides([f"community={args.community}", *args.overrides])
        arm_settings("withdraw", args.community, args.years * WEEKS, args.pilot_years * WEEKS, args.overrides)
    except ConfigError as exc:
        raise PilotError(str(exc)) from None


def command_text(args: argparse.Namespace) -> str:
    parts = ["python -m experiments.pilot_withdrawal"]
    defaults = parse_args([])
    for opt in ("community", "pilot_years", "years", "seeds", "sets", "set_seeds"):
        if getattr(args, opt) != getattr(defaults, opt):
            parts.append(f"--{opt.replace('_', '-')} {getattr(args, opt)}")
    return " ".join(parts + [shlex.quote(o) for o in args.overrides] + ["--write-readme"])


def render(table: pd.DataFrame, args: argparse.Namespace, out: Path) -> dict[str, str]:
    """The table in both languages (README's region); the figures in ``out`` (and docs/figures/ with
    --write-readme)."""
    pilot = int(args.pilot_years)
    years = sorted({pilot, pilot + 1, int(table["year"].max())})
    summ = summary(table, years)
    write_atomic(out / "summary.csv", summ.to_csv(index=False))
    n = {s: int(table[table["study"] == s].groupby(["arm", "set", "seed"]).ngroups) for s in ("seeds", "sets")}
    args_text = {"en": f"{n['seeds']} runs at the calibrated values, {n['sets']} over parameter sets",
                 "zh": f"校准值下{n['seeds']}次运行，参数组合下{n['sets']}次运行"}
    texts = {lang: markdown(summ, lang, command_text(args), args_text[lang]) for lang in ("en", "zh")}
    return texts


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        validate(args)
        out = args.out
        if args.check:
            table = pd.read_csv(SHIPPED / "yearly.csv")
            texts = render(table, args, Path(SHIPPED))
            bad = [lang for lang, path in README.items()
                   if regions.region(path.read_text(encoding="utf-8"), "table", str(path), PREFIX, PilotError)
                   != texts[lang].strip("\n")]
            for lang in bad:
                print(f"{README[lang]}: the pilot_withdrawal table differs from what {SHIPPED / 'yearly.csv'} "
                      f"renders: python -m experiments.pilot_withdrawal --render-only --write-readme", file=sys.stderr)
            return 1 if bad else 0
        if args.write_readme:
            regions.check_files(["table"], README, PREFIX, PilotError)
        out.mkdir(parents=True, exist_ok=True)
        if args.render_only:
            source = out / "yearly.csv"
            if not source.exists() and (SHIPPED / "yearly.csv").exists():
                print(f"note: {source} does not exist; rendering the shipped {SHIPPED / 'yearly.csv'}", file=sys.stderr)
                source = SHIPPED / "yearly.csv"
            if not source.exists():
                raise PilotError(f"{source}: no such file (run the study first, without --render-only)")
            table = pd.read_csv(source)
        else:
            settings, names, overrides, index = plan(args)
            print(f"{len(settings)} runs ({len(ARMS)} arms; {args.seeds} seeds; {args.sets} parameter sets × "
                  f"{args.set_seeds} seeds) into {out / 'sweep'}", file=sys.stderr)
            runs = run_many(settings, out / "sweep", args.jobs, names=names, overrides=overrides)
            done = set(runs.loc[runs["status"].isin(("done", "skipped")), "run_dir"])
            missing = sorted(set(names) - done)
            if missing:
                raise PilotError(f"{len(missing)} runs did not finish (e.g. {missing[0]}; see its status.json in "
                                 f"{out / 'sweep'}); run the command again to redo them")
            wanted = ["step", "demands_completed_on_time", "demands_due", *STOCKS, *FLOWS]
            ts = pd.read_parquet(out / "sweep" / "timeseries.parquet", filters=[("indicator", "in", wanted)])
            runs_map = runs[["run", "run_dir"]]
            ts = ts.merge(runs_map, on="run").drop(columns="run").rename(columns={"run_dir": "run"})
            table = yearly(ts, index)
            write_atomic(out / "yearly.csv", table.to_csv(index=False))
        texts = render(table, args, out)
        write_atomic(out / "report.md", f"# {term('pw_title', args.lang)}\n\n![](pilot_withdrawal.png)\n\n"
                                        f"{texts[args.lang]}\n")
        save_figure(figure(table, args.pilot_years, args.lang), out, "pilot_withdrawal")
        if args.write_readme:
            SHIPPED.mkdir(parents=True, exist_ok=True)
            write_atomic(SHIPPED / "yearly.csv", table.to_csv(index=False))
            for lang in ("en", "zh"):
                save_figure(figure(table, args.pilot_years, lang), FIGURES, f"pilot_withdrawal_{lang}")
            files = {}
            for lang, path in README.items():
                text = path.read_text(encoding="utf-8")
                files[path] = regions.replace_region(text, "table", texts[lang], str(path), PREFIX, PilotError)
            regions.write_files(files)
        print(f"wrote {out / 'report.md'}, {out / 'summary.csv'}, {out / 'pilot_withdrawal.png'}", file=sys.stderr)
        return 0
    except PilotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
