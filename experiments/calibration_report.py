"""The calibration's report, its validation report, the prior-vs-posterior figure and calibrated.yaml's text.

Written by :mod:`experiments.calibrate` from its tables; nothing here runs the model.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from experiments import validation as val
from experiments.design import is_integer_param
from experiments.presentation import (
    declutter,
    page_size,
    param_name,
    save_figure,
    setup_theme,
    term,
    thousands,
    unit_label,
    wrap,
)
from experiments.report import Block, Figure, Heading, Paragraph, Table


def identifiability_text(row: pd.Series, lang: str = "en") -> str:
    """A parameter's identifiability (as experiments.calibrate.posterior_summary decided it) in words in ``lang``:
    identified, in combination with its partner (r), or not identified."""
    if row["identified"]:
        return term("cal_identified", lang)
    if str(row["identifiability"]).startswith("in combination"):
        return term("cal_combined", lang, partner=param_name(row["partner"], lang), r=f"{row['partner_r']:+.2f}")
    return term("cal_not_identified", lang)


def plot_parameters(samples: pd.DataFrame, summary: pd.DataFrame, path: Path, lang: str = "en") -> None:
    """First generation (the prior sample) vs the weighted posterior of each parameter; default and estimate;
    parameters, units and identifiability named in ``lang`` (sim/tables/glossary.yaml)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    setup_theme(lang)
    keys = summary["parameter"].tolist()
    prior = samples[samples["generation"] == 0]
    post = samples[samples["accepted"]]
    ncol = 4
    nrow = math.ceil(len(keys) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=page_size(4.2 * ncol, 3.0 * nrow), squeeze=False)
    for ax, (_, row) in zip(axes.flat, summary.iterrows(), strict=False):
        key = row["parameter"]
        bins = np.linspace(row["prior_lo"], row["prior_hi"], 13)
        sns.histplot(prior[key], bins=bins, ax=ax, color="#bbbbbb", stat="density", label=term("cal_prior", lang))
        ax.hist(post[key], bins=bins, weights=post["posterior_weight"], density=True, color="#4c72b0", alpha=0.6,
                label=term("cal_posterior", lang))
        ax.axvline(row["default"], color="black", ls="--", lw=1.2, label=term("cal_default", lang))
        ax.axvline(row["estimate"], color="#c44e52", lw=2, label=term("cal_estimate", lang))
        ax.set_title(f"{wrap(param_name(key, lang), lang, 36)}\n{identifiability_text(row, lang)}", fontsize=8)
        ax.set_xlabel(unit_label(row["unit"], lang), fontsize=8)
        ax.set_ylabel(term("cal_density", lang), fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.xaxis.set_major_formatter(FuncFormatter(thousands))
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, frameon=False)
    fig.suptitle(term("cal_title", lang))
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    declutter(fig)
    save_figure(fig, path.parent, path.name)


def config_text(summary: pd.DataFrame, info: dict) -> str:
    """calibrated.yaml: the point estimate with its provenance as comments."""
    lines = [
        "# Calibrated behavioural parameters (the shipped default: configs/config.yaml has `behaviour: calibrated`).",
        "# Written by experiments/calibrate.py — do not edit by hand; re-run the command below. Method and",
        "# results: docs/calibration.md, docs/validation.md; patterns: docs/patterns.md, experiments/patterns.py.",
        f"# date: {info['date']}",
        f"# method: ABC by adaptive population Monte Carlo (APMC, Lenormand et al. 2013; experiments/abc_smc.py): "
        f"{info['samples']} particles, alpha {info['alpha']},",
        f"#   first generation a Latin hypercube over the prior box (seed {info['lhs_seed']}); "
        f"{info['generations']} generations, {info['simulated']} particles simulated, stopped at a share of "
        f"{info['last_p_acc']:.3f} new particles within the tolerance (min {info['p_acc_min']});",
        "#   distance = RMS of the range-normalised deviations of the fitted patterns; posterior = the last "
        f"generation's {info['n_accepted']} weighted particles (effective size {info['ess']:.0f});",
        "#   point estimate = weighted posterior median (3 significant digits) of the parameters the patterns identify",
        f"#   (posterior 5–95 % range < {info['identified_share']:.0%} of the prior range) or inform in combination "
        "(|r| >= 0.5 with another); the others keep their defaults.",
        f"# scenario: community={info['community']}, policy=baseline, steps={info['steps']}, "
        f"seeds 0–{info['seeds'] - 1} per particle, other behaviour at the schema defaults.",
        "# patterns fitted: " + ", ".join(info["fitted"]),
        "# patterns held out (never fitted): " + ", ".join(info["held_out"]),
        f"# checked on fresh seeds: point estimate × {info['check_seeds']} seeds from {val.FRESH_SEED}; posterior "
        f"predictive {info['ppc_draws']} draws × {info['ppc_seeds']} seeds of their own from {val.PREDICTIVE_SEED}: "
        f"{info['predictive_summary']}",
        f"# posterior sample: posterior.csv beside this file ({info['n_accepted']} weighted particles; drawn from by "
        "experiments.bands --posterior and the dashboard's parameter replicates)",
        f"# command: {info['command']}",
        "# Parameters not listed here keep their schema defaults (sim/settings/config.py, BehaviourConfig).",
    ]
    for _, r in summary.iterrows():
        key = r["parameter"].removeprefix("behaviour.")
        note = (f"prior [{r['prior_lo']:g}, {r['prior_hi']:g}]; posterior 5–95 % [{r['posterior_q05']:.3g}, "
                f"{r['posterior_q95']:.3g}]; previous default {r['default']:g}")
        if r["identified"] or r["estimate"] != r["default"]:  # identified, or informed in combination
            value = int(r["estimate"]) if is_integer_param(r["parameter"]) else float(r["estimate"])
            how = "" if r["identified"] else f"{r['identifiability']}: its posterior median; "
            lines.append(f"{key}: {value!r}  # {how}{note}")
        else:
            lines.append(f"# {key}: {r['identifiability']}, default kept ({note})")
    return "\n".join(lines) + "\n"


def report_blocks(info: dict, generations: pd.DataFrame, posterior: pd.DataFrame) -> list[Block]:
    """The calibration as one report: set-up, generations, posterior and identifiability, figure."""
    return [
        Heading("Calibration: ABC by adaptive population Monte Carlo", 1),
        Paragraph(f"{info['samples']} particles a generation (the first a Latin hypercube, seed {info['lhs_seed']}), "
                  f"alpha {info['alpha']}, {info['seeds']} seeds each in {info['community']} × baseline, "
                  f"{info['steps']} weeks: {info['generations']} generations, {info['simulated']} particles "
                  f"({info['runs_abc']} runs), final tolerance {info['tolerance']:.3g}; the posterior is "
                  f"{info['n_accepted']} weighted particles (effective size {info['ess']:.0f}), "
                  f"{info['n_accepted_within']} of them within every fitted range. Command: `{info['command']}`."),
        Heading("Generations"),
        Table(generations),
        Heading("Posterior and identifiability"),
        Paragraph(f"A parameter is identified when its weighted posterior 5–95 % range is below "
                  f"{info['identified_share']:.0%} of "
                  "its prior range; its estimate is then the posterior median, else it keeps its default. `partner` "
                  "is the parameter its posterior is most correlated with; |r| ≥ 0.5 means the patterns pin a "
                  "combination of the two rather than either."),
        Table(posterior),
        Figure("parameters.png", "Prior (first generation) and weighted ABC posterior of each searched parameter; "
                                 "previous default and calibrated value."),
    ]


def validation_blocks(info: dict, check: pd.DataFrame, predictive: pd.DataFrame, yard: pd.DataFrame) -> list[Block]:
    """The checks: posterior predictive on fresh seeds, point estimate on fresh seeds, yardstick."""
    return [
        Heading("Validation: fitted and held-out patterns on fresh seeds", 1),
        Paragraph(f"Posterior predictive check: {info['ppc_draws']} parameter sets drawn from the posterior by weight, "
                  f"each run with {info['ppc_seeds']} seeds of its own (from {val.PREDICTIVE_SEED} on; the fit used "
                  f"seeds 0–{info['seeds'] - 1}); one value per run. A pattern passes when the predictive median lies "
                  f"in its match range: {info['predictive_summary']}."),
        Table(predictive),
        Figure("predictive.png", "Posterior predictive distribution of each pattern (fresh seeds) against its "
                                 "observed figure and match range; the point estimate's mean dashed."),
        Heading("Point estimate on fresh seeds"),
        Paragraph(f"The calibrated point estimate, {info['check_seeds']} seeds from {val.FRESH_SEED}, mean over the "
                  "seeds."),
        Table(check),
        Heading("Five-society linkage against the Enyang 2025 targets"),
        Paragraph("A yardstick, never fitted: the plan's targets are goals, not observations."),
        Table(yard),
    ]
